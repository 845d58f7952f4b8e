"""What the built book should contain, page by page, and the site served on localhost.

Pure Python, no browser: the list of pages in ``_toc.yml`` (:func:`toc_pages`), where a
notebook page's Colab link must point (:func:`expected_colab_url`), the chapter numbers
(:func:`chapter_numbers`), and the rules for a page's text (:func:`content_problems`:
no path of the build machine, every cross-reference and citation resolved, the licence
line, numbered chapters, figures and ``{numref}`` references). :class:`BookServer` serves the
built site on a free localhost port. ``tools/browser_check.py`` opens each page in
Chromium and applies these rules to what it reads there; the tests of
``tests/book/test_pages_in_browser.py`` apply them to hand-made page content too.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
TOC_FILE = REPO_ROOT / "_toc.yml"
CONFIG_FILE = REPO_ROOT / "_config.yml"
DEFAULT_HTML_DIR = REPO_ROOT / "_build" / "html"

# Source suffixes a _toc.yml entry (given without extension) can resolve to.
SOURCE_SUFFIXES = (".ipynb", ".md", ".rst")

BIB_FILE = REPO_ROOT / "references.bib"
# Text of the footer licence line that every page must show (see _config.yml).
LICENCE_MARKERS = ("Creative Commons Attribution 4.0", "CC BY 4.0", "MIT licence")
# An absolute path of a POSIX or Windows machine in page text. The look-behind keeps
# URLs ("https://host/work/...") and fractions ("8/255") out.
_MACHINE_PATH = re.compile(
    r"(?<![\w.~:/-])/(?:tmp|work|root|home|Users|var|opt|usr|mnt|srv|etc|private)/[^\s]*"
    r"|(?<![\w])[A-Za-z]:\\[^\s]+"
)


def html_dir() -> Path:
    """The built site to check: ``$ADVLIB_BOOK_HTML`` or ``_build/html``."""
    env = os.environ.get("ADVLIB_BOOK_HTML")
    if env:
        path = Path(env)
        return path if path.is_absolute() else (REPO_ROOT / path)
    return DEFAULT_HTML_DIR


# --------------------------------------------------------------------------------------
# What the book should contain


@dataclass(frozen=True)
class BookPage:
    docname: str  # e.g. "book/intro", as in _toc.yml (no extension)
    source: Path  # the source file, relative to the repository root

    @property
    def html_path(self) -> str:
        return f"{self.docname}.html"

    @property
    def is_notebook(self) -> bool:
        return self.source.suffix == ".ipynb"

    @property
    def screenshot_name(self) -> str:
        name = self.docname
        if name.startswith("book/"):
            name = name[len("book/") :]
        return name.replace("/", "__") + ".png"


def _toc_docnames(node) -> list[str]:
    """Every ``root``/``file`` entry of a _toc.yml tree, in reading order."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("root", "file") and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_toc_docnames(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_toc_docnames(item))
    return found


def _resolve_source(entry: str) -> tuple[str, Path]:
    entry = entry.strip().lstrip("/")
    path = Path(entry)
    if path.suffix in SOURCE_SUFFIXES:
        return path.with_suffix("").as_posix(), path
    for suffix in SOURCE_SUFFIXES:
        candidate = path.with_name(path.name + suffix)
        if (REPO_ROOT / candidate).exists():
            return entry, candidate
    # Missing source: keep the page so that its check fails with a clear message.
    return entry, path.with_name(path.name + ".md")


def toc_pages(toc_file: Path = TOC_FILE) -> list[BookPage]:
    """The pages listed in ``_toc.yml``, root first, without duplicates."""
    if not toc_file.exists():
        return []
    toc = yaml.safe_load(toc_file.read_text(encoding="utf-8")) or {}
    pages: list[BookPage] = []
    seen: set[str] = set()
    for entry in _toc_docnames(toc):
        docname, source = _resolve_source(entry)
        if docname not in seen:
            seen.add(docname)
            pages.append(BookPage(docname, source))
    return pages


def expected_colab_url(page: BookPage, config_file: Path = CONFIG_FILE) -> str:
    """Where the Colab button of a notebook page must point, from ``_config.yml``."""
    config = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
    repo_url = str(config["repository"]["url"]).rstrip("/")
    if repo_url.endswith(".git"):
        repo_url = repo_url[: -len(".git")]
    branch = config["repository"].get("branch") or "master"
    colab = str(config["launch_buttons"]["colab_url"]).rstrip("/")
    org_repo = urllib.parse.urlparse(repo_url).path.strip("/")
    return f"{colab}/github/{org_repo}/blob/{branch}/{page.source.as_posix()}"


def machine_paths(text: str) -> list[str]:
    """Absolute paths of a machine (``/tmp/...``, ``/work/...``, ``C:\\...``) found in ``text``."""
    found = [match.group(0) for match in _MACHINE_PATH.finditer(text)]
    # "/tmp/" and "/work/" anywhere are always wrong on a page, even inside a longer token.
    for marker in ("/tmp/", "/work/"):
        if marker in text and not any(marker in path for path in found):
            start = text.index(marker)
            found.append(text[max(0, start - 20) : start + 40].strip())
    return found


def bib_keys(bib_file: Path = BIB_FILE) -> list[str]:
    """The citation keys of ``references.bib`` (empty when there is none)."""
    if not bib_file.exists():
        return []
    return re.findall(r"@\w+\s*\{\s*([^,\s]+)\s*,", bib_file.read_text(encoding="utf-8"))


def unresolved_citations(text: str, keys: list[str]) -> list[str]:
    """Bibliography keys that appear as words in page text: a ``{cite}`` left unresolved."""
    return [key for key in keys if re.search(rf"(?<![\w-]){re.escape(key)}(?![\w-])", text)]


def chapter_numbers(toc_file: Path = TOC_FILE) -> dict[str, int]:
    """``{docname: number}`` for the chapters of the numbered parts of ``_toc.yml``.

    Numbering runs on across numbered parts (Jupyter Book's multi-toc numbering); the
    root page and the chapters of unnumbered parts have no number.
    """
    if not toc_file.exists():
        return {}
    toc = yaml.safe_load(toc_file.read_text(encoding="utf-8")) or {}
    groups = toc.get("parts") or [dict(toc.get("options") or {}, chapters=toc.get("chapters", []))]
    numbers: dict[str, int] = {}
    count = 0
    for group in groups:
        if not group.get("numbered"):
            continue
        for chapter in group.get("chapters", []):
            if "file" in chapter:
                count += 1
                numbers[_resolve_source(chapter["file"])[0]] = count
    return numbers


def content_problems(page: BookPage, content: dict, keys: list[str] | None = None,
                     numbers: dict[str, int] | None = None) -> list[str]:
    """Problems in the content ``browser_check`` read from ``page`` (pure: testable without a browser)."""
    keys = bib_keys() if keys is None else keys
    numbers = chapter_numbers() if numbers is None else numbers
    problems = [f"machine path in the page text: {path!r}" for path in machine_paths(content["body"])]
    problems += [f"unresolved cross-reference: {text!r}" for text in content["unresolved"]]
    problems += [f"unresolved citation key in the text: {key!r}" for key in unresolved_citations(content["article"], keys)]
    if not all(marker in content["body"] for marker in LICENCE_MARKERS):
        problems.append(f"the licence line ({' / '.join(LICENCE_MARKERS)}) is not on the page")
    expected = numbers.get(page.docname)
    if expected is not None and (content["number"] or "").rstrip(". ") != str(expected):
        problems.append(f"chapter number in the title is {content['number']!r}, expected {expected}")
    for caption in content["captions"]:
        if not (caption["number"] or "").startswith("Fig."):
            problems.append(f"figure caption without a number: {caption['text']!r}")
    for reference in content["numrefs"]:
        if not re.match(r"(Fig\.|Eq\.|Table|Listing) ?\d", reference):
            problems.append(f"{{numref}} without a number: {reference!r}")
    return problems


# --------------------------------------------------------------------------------------
# Serving the site


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature from the base class
        pass


class BookServer:
    """Serve a folder on a free port of 127.0.0.1 from a background thread."""

    def __init__(self, root: Path):
        handler = functools.partial(_QuietHandler, directory=str(root))
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        host, port = self._httpd.server_address[:2]
        self.base_url = f"http://{host}:{port}/"

    def __enter__(self) -> "BookServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)

    def url(self, path: str) -> str:
        return urllib.parse.urljoin(self.base_url, path)

    def is_internal(self, url: str) -> bool:
        return url.startswith(self.base_url)


def http_status(url: str) -> int:
    """Status of a HEAD request (GET if HEAD is refused), following redirects."""
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            if method == "HEAD" and error.code in (405, 501):
                continue
            return error.code
    return 0

"""Load every page of the built book in headless Chromium and check what a reader sees.

Used by ``tests/test_book_browser.py``; it also runs on its own::

    .venv/bin/python tests/browser_check.py [--html _build/html] [--screenshots DIR]

For each page listed in ``_toc.yml`` it checks that

* the page's title (its ``<h1>``) is rendered and not empty;
* every ``<img>`` has loaded (``naturalWidth > 0``);
* for a page built from a notebook, the Colab launch link points at that notebook
  (``…/blob/<branch>/book/<chapter>.ipynb`` in the repository named in ``_config.yml``);
* no same-origin link (``<a href>``, ``#`` fragments ignored) and no same-origin
  resource the page requested answers with an HTTP error such as 404;
* nothing of the build machine is in the page text: no absolute path such as
  ``/tmp/...``, ``/work/...``, ``/root/...`` or ``C:\\...`` (:func:`machine_paths`);
* every cross-reference resolved: Sphinx leaves an unresolved ``{term}``, ``{numref}``,
  ``{doc}`` or ``{ref}`` as a ``span.xref`` outside any link, and an unresolved
  ``{cite}`` as a ``span.bibtex-citation`` without a link ("[]"); a bibliography key
  in the text (keys from ``references.bib``) also counts as an unresolved citation;
* the licence line of the footer (``html.extra_footer`` in ``_config.yml``) is on the
  page (:data:`LICENCE_MARKERS`);
* a chapter of a numbered part of ``_toc.yml`` carries its number in its title
  (``<span class="section-number">``), and every figure caption and ``{numref}`` on the
  page is numbered ("Fig. 3.2");

and it saves a full-page screenshot to ``artifacts/screenshots/<page>.png``.

The site is served by Python's ``http.server`` on a free localhost port. Requests to
other hosts are blocked, so the check gives the same answer offline and online.
Chromium is Debian's ``/usr/bin/chromium`` driven through the ``playwright`` package
(Playwright's own browser download is not used).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import re
import sys
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
SCREENSHOT_DIR = REPO_ROOT / "artifacts" / "screenshots"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Source suffixes a _toc.yml entry (given without extension) can resolve to.
SOURCE_SUFFIXES = (".ipynb", ".md", ".rst")

PAGE_TIMEOUT_MS = 60_000
IMAGE_TIMEOUT_MS = 20_000

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


# --------------------------------------------------------------------------------------
# The browser


def launch_browser(playwright):
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )


_TITLE_JS = """
() => {
  const h1 = document.querySelector('article h1') || document.querySelector('main h1')
             || document.querySelector('h1');
  if (!h1) return null;
  const copy = h1.cloneNode(true);
  copy.querySelectorAll('.headerlink').forEach(a => a.remove());
  const box = h1.getBoundingClientRect();
  const style = getComputedStyle(h1);
  return {text: copy.textContent.trim(), width: box.width, height: box.height,
          visible: style.visibility !== 'hidden' && style.display !== 'none'};
}
"""

# Load lazy images too, then wait until each image has loaded or failed.
_IMAGES_JS = """
async (timeoutMs) => {
  const images = Array.from(document.images);
  images.forEach(img => { img.loading = 'eager'; });
  await Promise.all(images.map(img => img.complete ? null : new Promise(done => {
    img.addEventListener('load', done, {once: true});
    img.addEventListener('error', done, {once: true});
    setTimeout(done, timeoutMs);
  })));
  return images.map(img => ({src: img.currentSrc || img.src || img.outerHTML.slice(0, 120),
                             naturalWidth: img.naturalWidth}));
}
"""

# What the text, reference and numbering checks read from the page.
_CONTENT_JS = """
() => {
  const article = document.querySelector('article') || document.querySelector('main') || document.body;
  const h1 = article.querySelector('h1');
  const number = h1 ? h1.querySelector('.section-number') : null;
  // An unresolved {term}/{numref}/{doc} stays a span.xref outside any link; an unresolved
  // {cite} is a span.bibtex-citation without a link (sphinxcontrib-bibtex renders "[]").
  const unresolved = Array.from(document.querySelectorAll('.xref'))
      .filter(x => !x.closest('a'))
      .map(x => x.textContent.trim().slice(0, 60))
      .concat(Array.from(document.querySelectorAll('.bibtex-citation'))
      .filter(c => !c.querySelector('a') && !c.closest('a'))
      .map(c => 'citation ' + (c.textContent.trim() || '[]')));
  const captions = Array.from(article.querySelectorAll('figure figcaption, div.figure p.caption'))
      .map(c => {
        const n = c.querySelector('.caption-number');
        return {number: n ? n.textContent.trim() : null, text: c.textContent.trim().slice(0, 60)};
      });
  const numrefs = Array.from(article.querySelectorAll('.std-numref'))
      .map(r => r.textContent.trim().slice(0, 60));
  return {body: document.body.innerText, article: article.innerText,
          number: number ? number.textContent.trim() : null,
          unresolved, captions, numrefs};
}
"""

_LINKS_JS = """
() => Array.from(document.querySelectorAll('a[href]'))
           .map(a => ({href: a.href, text: a.textContent.trim().slice(0, 60)}))
"""


def check_page(
    browser,
    server: BookServer,
    page: BookPage,
    site_root: Path,
    screenshot_dir: Path = SCREENSHOT_DIR,
    link_status: dict[str, int] | None = None,
) -> list[str]:
    """Open one page and return a list of problems (empty when all is well)."""
    problems: list[str] = []
    if link_status is None:
        link_status = {}

    if not (REPO_ROOT / page.source).exists():
        problems.append(f"source {page.source} listed in _toc.yml does not exist")
    if not (site_root / page.html_path).exists():
        return problems + [
            f"{page.html_path} is missing from {site_root}; rebuild the book (make book)"
        ]

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    blocked: list[str] = []
    failed_resources: list[str] = []

    def route(route_obj):
        url = route_obj.request.url
        if server.is_internal(url) or url.startswith(("data:", "blob:", "about:")):
            route_obj.continue_()
        else:
            blocked.append(url)
            route_obj.abort()

    def on_response(response):
        if server.is_internal(response.url) and response.status >= 400:
            failed_resources.append(f"{response.status} {response.url}")

    tab.route("**/*", route)
    tab.on("response", on_response)
    try:
        url = server.url(page.html_path)
        response = tab.goto(url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
        if response is None or response.status != 200:
            status = None if response is None else response.status
            return problems + [f"{url} answered {status}"]

        # 1. The title.
        title = tab.evaluate(_TITLE_JS)
        if title is None:
            problems.append("no <h1> title on the page")
        elif not title["text"]:
            problems.append("the <h1> title is empty")
        elif not (title["visible"] and title["width"] > 0 and title["height"] > 0):
            problems.append(f"the <h1> title {title['text']!r} is not rendered")

        # 2. The images.
        for image in tab.evaluate(_IMAGES_JS, IMAGE_TIMEOUT_MS):
            if not image["naturalWidth"]:
                problems.append(f"image did not load: {image['src']}")

        links = tab.evaluate(_LINKS_JS)

        # 3. The Colab launch link of a notebook page.
        if page.is_notebook:
            expected = expected_colab_url(page)
            colab = sorted({l["href"] for l in links if "colab.research.google.com" in l["href"]})
            if not colab:
                problems.append(f"no Colab launch link (expected {expected})")
            for href in colab:
                if href != expected:
                    problems.append(f"Colab link {href} should be {expected}")

        # 4. Internal links.
        for link in links:
            target = urllib.parse.urldefrag(link["href"])[0]
            if not server.is_internal(target):
                continue
            if target not in link_status:
                link_status[target] = http_status(target)
            status = link_status[target]
            if status >= 400 or status == 0:
                problems.append(f"broken internal link ({status}): {link['text']!r} -> {target}")

        problems.extend(f"page requested a missing resource: {r}" for r in failed_resources)

        # 5. Text, references, licence and numbering.
        problems.extend(content_problems(page, tab.evaluate(_CONTENT_JS)))

        # 6. The screenshot.
        screenshot_dir.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(screenshot_dir / page.screenshot_name), full_page=True)
    finally:
        context.close()
    return problems


def content_problems(page: BookPage, content: dict, keys: list[str] | None = None,
                     numbers: dict[str, int] | None = None) -> list[str]:
    """Problems in what :data:`_CONTENT_JS` read from ``page`` (pure, so it is testable without a browser)."""
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
# Command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=html_dir(), help="built site")
    parser.add_argument("--screenshots", type=Path, default=SCREENSHOT_DIR)
    args = parser.parse_args(argv)

    if not (args.html / "index.html").exists():
        print(f"No built book at {args.html}: run `make book` first.", file=sys.stderr)
        return 2
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 2

    from playwright.sync_api import sync_playwright

    pages = toc_pages()
    failures = 0
    link_status: dict[str, int] = {}
    with BookServer(args.html) as server, sync_playwright() as playwright:
        browser = launch_browser(playwright)
        try:
            for page in pages:
                problems = check_page(
                    browser, server, page, args.html, args.screenshots, link_status
                )
                print(f"{'FAIL' if problems else 'ok  '} {page.docname}")
                for problem in problems:
                    print(f"     - {problem}")
                failures += bool(problems)
        finally:
            browser.close()
    print(f"{len(pages) - failures}/{len(pages)} pages passed; screenshots in {args.screenshots}")
    return 1 if failures or not pages else 0


if __name__ == "__main__":
    sys.exit(main())

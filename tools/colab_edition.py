"""The book's Colab edition: self-contained notebooks generated from the chapters.

A chapter opened outside the built site (Colab, GitHub, plain Jupyter) shows raw MyST:
``{glue:text}`` roles, ``{admonition}`` directives, ``{math}`` blocks with labels,
cross-reference roles. This command writes ``colab/NN_*.ipynb``: the same chapters in
GitHub-flavoured Markdown with ``$``/``$$`` math, the numbers of the book's own full
run pasted in, and every code cell's output of that run, so a reader sees the whole
chapter before running anything. Each figure keeps its caption and alt text in a
Markdown cell under it (``colab_figures``), and sentences about the site's furniture
(the launch button, ...) are replaced by what is true in Colab (``colab_site_text``).
The files are generated; never edit them by hand.

    python tools/colab_edition.py extract BUILD_DIR   # save the run of a FULL build
    python tools/colab_edition.py render              # write colab/ from book/ and that run
    python tools/colab_edition.py check               # exit 1 if colab/ is out of date

``extract`` reads the executed notebooks of a full Jupyter Book build
(``BUILD_DIR/_build/jupyter_execute/book/NN_*.ipynb``; BUILD_DIR is what was given to
``jupyter-book build --path-output``, or the repository root after ``make book``) and the
glue values MyST-NB keeps beside them (``NN_*.glue.json``), and saves per chapter, keyed
by cell id, the glued values as displayed and each code cell's outputs in
``colab/_book_run/NN_*.json``. Text naming the build machine (absolute paths, the host
name) is replaced, and the command fails if any is left.

``render`` reads ``book/NN_*.ipynb`` (never written), ``_config.yml`` (the repository URL,
so that ``tools/set_repository_url.py`` followed by ``render`` keeps the edition in step)
and the saved run, and writes ``colab/NN_*.ipynb`` and ``colab/README.md``. It is fast and
deterministic; ``check`` re-renders in memory and compares.
"""

from __future__ import annotations

import argparse
import base64
import difflib
import hashlib
import json
import os
import re
import socket
import sys
import unicodedata
from ast import literal_eval
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

# Helpers of this tool, beside it in tools/ (on sys.path when it runs or is imported).
import colab_figures
import colab_site_text

ROOT = Path(__file__).resolve().parents[1]
BOOK_DIR = "book"
OUT_DIR = "colab"
RUN_DIR = "_book_run"  # under OUT_DIR: one JSON file per chapter
# The branch .github/workflows/publish.yml publishes the edition to, as book/NN_*.ipynb;
# _config.yml's repository.branch names it so that the launch buttons open the edition.
PUBLISHED_BRANCH = "colab"
TOOL = "tools/colab_edition.py"
CHAPTER_GLOB = "[0-9][0-9]_*.ipynb"

# Cell ids of the cells the edition adds.
NOTE_ID = "colab-edition-note"
PROFILE_ID = "colab-profile"
SETUP_ID = "colab-setup"

# Both profiles load models shipped with advlib (advlib/pretrained/<profile>): neither trains
# one in Colab. The quick line's image counts are advlib.registry.PROFILES["quick"]'s (tested).
PROFILE_TEMPLATE = '''\
# @title Profile: how much work a run does
# @markdown `full` (the default) loads the book's models, shipped with advlib, and reproduces the numbers in the text.
# @markdown `quick` loads small models, also shipped, trained on 2,000 images and tested on 500: numbers far from the text's.
PROFILE = "full"  # @param ["full", "quick"]

import os

os.environ["ADVLIB_PROFILE"] = PROFILE
'''

# The edition's setup cell; __REPOSITORY_URL__ is filled in from _config.yml's repository.url.
# It installs the repository's default branch, like the chapters' own setup cells.
SETUP_TEMPLATE = '''\
# Setup: in Colab, install advlib from the book's repository (elsewhere it must be installed
# already), then seed the run. Run this cell first: the other cells need advlib.
import importlib
import importlib.util
import os
import subprocess
import sys

REPOSITORY_URL = "__REPOSITORY_URL__"  # repository.url in the book's _config.yml
INSTALL_URL = os.environ.get("ADVLIB_INSTALL_URL", f"git+{REPOSITORY_URL}")


class AdvlibSetupError(RuntimeError):
    """advlib could not be installed: the rest of the notebook cannot run."""

    def _render_traceback_(self):  # IPython and Colab show this one line, not a traceback
        return [f"AdvlibSetupError: {self}"]


def _setup_failed(what, todo, details=""):
    print(f"SETUP FAILED: {what}\\n{details}What to do: {todo}\\n"
          "The other cells need advlib: run them only after this cell has succeeded.")
    raise AdvlibSetupError(what) from None


if importlib.util.find_spec("advlib") is None:
    if "google.colab" not in sys.modules:
        _setup_failed("advlib is not installed in this Python environment.",
                      f"install it with `pip install {INSTALL_URL}` (or open the notebook in "
                      "Google Colab, where this cell installs it), then run this cell again.")
    print(f"Installing advlib from {INSTALL_URL} (a minute or two) ...")
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", INSTALL_URL],
        capture_output=True, text=True,
    )
    if pip.returncode != 0:
        lines = [line.strip() for line in (pip.stderr + pip.stdout).splitlines() if line.strip()]
        errors = [line for line in lines if line.lower().startswith(("error:", "fatal:"))] or lines[-3:]
        _setup_failed(
            f"pip could not install advlib from {INSTALL_URL} (exit code {pip.returncode}).",
            "check that the runtime is connected to the internet and that the repository above "
            "exists and is public, then run this cell again (Runtime > Run all runs the rest).",
            "".join(f"    pip: {line}\\n" for line in errors[:4]),
        )
    importlib.invalidate_caches()

import advlib.book

profile = advlib.book.start()
'''

# Admonition directives and the titles they get.
ADMONITIONS = {
    "note": "Note", "warning": "Warning", "tip": "Tip", "hint": "Hint", "important": "Important",
    "caution": "Caution", "attention": "Attention", "danger": "Danger", "error": "Error",
    "seealso": "See also", "admonition": "", "topic": "", "sidebar": "", "margin": "",
    "epigraph": "", "dropdown": "Details",
}
# Directives dropped from the edition (navigation and indexing only).
DROPPED_DIRECTIVES = {"toctree", "tableofcontents", "index", "bibliography"}

FENCE_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
DIRECTIVE_RE = re.compile(r"^\{(?P<name>[\w:.+-]+)\}\s*(?P<args>.*)$")
OPTION_RE = re.compile(r"^:(?P<key>[\w-]+):\s*(?P<value>.*)$")
ROLE_RE = re.compile(r"\{(?P<name>[A-Za-z][\w:.+-]*)\}`(?P<content>[^`]*)`")
TARGET_RE = re.compile(r"^\s*\((?P<label>[^()\s]+)\)=\s*$")
DOLLAR_LABEL_RE = re.compile(r"^(?P<body>.*)\$\$\s*\((?P<label>[^()\s]+)\)\s*$")
TITLED_RE = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)
LINK_RE = re.compile(r"(?P<bang>!?)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)\)")

# Text that names a build machine; ``extract`` fails if any is left after redaction.
DATA_URI_RE = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]*")
MACHINE_RE = re.compile(r"(?<![\w.])(/tmp|/work|/root|/home/|/Users/|/private/|/var/folders|/opt/)|[A-Za-z]:\\\\")


class EditionError(Exception):
    """A problem that stops extract, render or check; the message says what to do."""


# --------------------------------------------------------------------------- helpers


def make_id(text: str) -> str:
    """The HTML id docutils/Sphinx gives a label or term (an approximation of make_id)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def term_id(term: str) -> str:
    """The HTML id Sphinx gives a glossary term: "term-" and the term, case kept."""
    text = unicodedata.normalize("NFKD", f"term-{term}").encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-zA-Z0-9._]+", "-", " ".join(text.split())).strip("-.")


def source_hash(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def cell_key(cell, index: int) -> str:
    """A cell's key in the saved run: its id, or its position for nbformat 4.4 notebooks."""
    return cell.get("id") or f"cell-{index}"


def format_plain_text(text: str, fmt_spec: str) -> str:
    """Format a glued text/plain value exactly as MyST-NB's ``{glue:text}`` role does."""
    try:
        value = literal_eval(text)
    except (SyntaxError, ValueError):
        value = text
    if fmt_spec == "":
        return str(value)
    type_char = fmt_spec[-1]
    if type_char == "s":
        value = str(value)
    elif type_char in ("b", "c", "d", "o", "x", "X"):
        value = int(value)
    elif type_char in ("e", "E", "f", "F", "g", "G", "n", "%"):
        value = float(value)
    return format(value, fmt_spec)


def escape_markdown(text: str) -> str:
    """Backslash-escape the characters that would turn pasted plain text into Markdown."""
    return re.sub(r"([\\`*_\[\]<>|~#])", r"\\\1", text)


def joined(source) -> str:
    return "".join(source) if isinstance(source, list) else source


def chapters(book_dir: Path) -> list[Path]:
    return sorted(book_dir.glob(CHAPTER_GLOB))


def pages(book_dir: Path) -> list[Path]:
    """Every page of the book (chapters and Markdown pages such as a glossary): link targets."""
    return sorted([*book_dir.glob("*.ipynb"), *book_dir.glob("*.md")])


def read_page(path: Path):
    """A page as a notebook; a Markdown page becomes one Markdown cell (front matter dropped)."""
    if path.suffix == ".ipynb":
        return nbformat.read(path, as_version=4)
    text = re.sub(r"\A---\n.*?\n---\n", "", path.read_text(), flags=re.S)
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])


@dataclass
class Site:
    """Where the book is published, from _config.yml's repository.url.

    repository.branch is not used: it names the branch the launch buttons open (the
    generated ``colab`` branch), while advlib and the chapters' images live on the
    default branch.
    """

    repository_url: str

    @classmethod
    def from_config(cls, root: Path) -> "Site":
        config = yaml.safe_load((root / "_config.yml").read_text())
        repository = config.get("repository") or {}
        url = str(repository.get("url", "")).rstrip("/")
        if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
            raise EditionError(f"_config.yml: repository.url {url!r} is not https://github.com/<owner>/<repo>")
        return cls(url)

    @property
    def owner_repo(self) -> tuple[str, str]:
        owner, repo = self.repository_url.split("/")[-2:]
        return owner, repo

    @property
    def pages_url(self) -> str:
        owner, repo = self.owner_repo
        if repo.lower() == f"{owner.lower()}.github.io":
            return f"https://{owner.lower()}.github.io/"
        return f"https://{owner.lower()}.github.io/{repo}/"

    def page(self, chapter: str, anchor: str = "") -> str:
        return f"{self.pages_url}{BOOK_DIR}/{chapter}.html" + (f"#{anchor}" if anchor else "")

    def raw(self, path: str) -> str:
        owner, repo = self.owner_repo
        return f"https://raw.githubusercontent.com/{owner}/{repo}/HEAD/{path}"


# --------------------------------------------------------------------------- extract


def _redactions(root: Path, book_root: Path | None, build_dir: Path) -> list[tuple[str, str]]:
    """(text, replacement) pairs for paths of the build machine, longest first."""
    pairs = []
    cifar = os.environ.get("ADVLIB_CIFAR10")
    if cifar:
        pairs.append((str(Path(cifar)), Path(cifar).name))
    for variable in ("ADVLIB_RESULTS", "ADVLIB_CACHE_DIR"):
        if os.environ.get(variable):
            pairs.append((str(Path(os.environ[variable])), f"${variable}"))
    for checkout in {book_root, root.resolve()}:
        if checkout is not None:
            pairs.append((str(checkout) + "/", ""))
            pairs.append((str(checkout), "."))
    pairs.append((str(build_dir.resolve()), "$BUILD_DIR"))
    home = os.path.expanduser("~")
    if home not in ("", "/"):
        pairs.append((home, "~"))
    pairs = [(old, new) for old, new in pairs if len(old) > 1]
    return sorted(set(pairs), key=lambda pair: -len(pair[0]))


def _redact(value, pairs):
    if isinstance(value, str):
        for old, new in pairs:
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_redact(item, pairs) for item in value]
    if isinstance(value, dict):
        return {key: (item if _is_binary(key) else _redact(item, pairs)) for key, item in value.items()}
    return value


def _is_binary(mime: str) -> bool:
    return mime.startswith("image/") and mime != "image/svg+xml"


def machine_text(value, where: str = "", host: str | None = None) -> list[str]:
    """Every piece of text in ``value`` (JSON-like) that names a build machine (or ``host``)."""
    found = []
    if isinstance(value, str):
        value = DATA_URI_RE.sub("data:...", value)  # base64 can contain anything
        pattern = MACHINE_RE if not host else re.compile(rf"{MACHINE_RE.pattern}|\b{re.escape(host)}\b")
        for match in pattern.finditer(value):
            start = max(match.start() - 40, 0)
            found.append(f"{where}: ...{value[start:match.end() + 40]!r}...")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += machine_text(item, f"{where}[{index}]", host)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not _is_binary(str(key)):
                found += machine_text(item, f"{where}.{key}", host)
    return found


def _clean_outputs(outputs) -> list[dict]:
    """Outputs as the book shows them: no stderr (stderr_output: remove), merged streams."""
    cleaned: list[dict] = []
    for output in outputs:
        output = json.loads(json.dumps(output))  # a plain-dict copy
        if output.get("output_type") == "stream":
            if output.get("name") == "stderr":
                continue
            output["text"] = joined(output["text"])
            if cleaned and cleaned[-1].get("output_type") == "stream" and cleaned[-1]["name"] == output["name"]:
                cleaned[-1]["text"] += output["text"]
                continue
        if "data" in output:
            output["data"] = {mime: joined(value) if not isinstance(value, dict) else value
                              for mime, value in output["data"].items()}
            if any(mime.startswith("application/papermill.record/") for mime in output["data"]):
                continue  # an undisplayed glue value: kept under "glue"
        cleaned.append(output)
    return cleaned


def _executed(executed_path: Path, source, build_dir: Path):
    """The executed notebook of a build: the jupyter-cache's execution, else its jupyter_execute copy.

    The cache holds each cell's outputs as the kernel produced them. The jupyter_execute
    copy is not raw: MyST-NB writes a chapter it took from its cache there without
    outputs, and in a chapter it executed, ``nb_merge_streams`` joins a cell's stdout into
    the first stream but leaves the later streams in place, so that copy prints them
    twice. The cache's execution is matched to the chapter's code by the cache's own
    hash; a chapter the cache has never run falls back to the copy (and an empty copy
    makes the checks below name its cells).
    """
    for cache_dir in (build_dir / "_build" / ".jupyter_cache", build_dir / ".jupyter_cache"):
        if cache_dir.is_dir():
            from jupyter_cache import get_cache

            try:
                _, merged = get_cache(str(cache_dir)).merge_match_into_notebook(source)
            except KeyError:  # no cached execution of this code
                break
            return merged
    return nbformat.read(executed_path, as_version=4)


def extract(build_dir: Path, root: Path = ROOT, book_root: Path | None = None) -> list[Path]:
    """Save the glue values and code outputs of a full build's executed notebooks."""
    candidates = [build_dir / "_build" / "jupyter_execute", build_dir / "jupyter_execute"]
    executed_dir = next((path / BOOK_DIR for path in candidates if (path / BOOK_DIR).is_dir()), None)
    if executed_dir is None:
        raise EditionError(f"no executed notebooks under {build_dir}: expected "
                           f"{candidates[0] / BOOK_DIR} (build the FULL book first)")
    host = socket.gethostname().split(".")[0]
    host = host if len(host) >= 3 and host != "localhost" else None  # too short to search for
    pairs = _redactions(root, book_root, build_dir)
    runs = {}
    # The chapters as the build ran them (its own checkout when --book-root names one).
    for source_path in chapters((book_root or root) / BOOK_DIR):
        chapter = source_path.stem
        executed_path = executed_dir / source_path.name
        glue_path = executed_dir / f"{chapter}.glue.json"
        if not executed_path.exists():
            raise EditionError(f"{executed_path} is missing: extract needs a full build of every chapter")
        source = nbformat.read(source_path, as_version=4)
        executed = _executed(executed_path, source, build_dir)
        if len(source.cells) != len(executed.cells):
            raise EditionError(f"{chapter}: the build has {len(executed.cells)} cells, {source_path} has "
                               f"{len(source.cells)}: rebuild the full book from these sources")
        cells = {}
        for index, (cell, ran) in enumerate(zip(source.cells, executed.cells)):
            if cell.cell_type != "code":
                continue
            if ran.cell_type != "code" or ran.source != cell.source:
                raise EditionError(f"{chapter}: code cell {cell_key(cell, index)} differs between the "
                                   f"build and {source_path}: rebuild the full book from these sources")
            tags = cell.metadata.get("tags", [])
            errors = [output for output in ran.get("outputs", []) if output.get("output_type") == "error"]
            if cell.source.strip() and (ran.get("execution_count") is None or errors) and "raises-exception" not in tags:
                what = f"raised {errors[0].get('ename')}" if errors else "did not run (a timeout or an earlier error?)"
                raise EditionError(f"{chapter}: code cell {cell_key(cell, index)} {what} in the build: "
                                   "extract needs a complete full build without errors")
            cells[cell_key(cell, index)] = {
                "source_sha256": source_hash(cell.source),
                "execution_count": ran.get("execution_count"),
                "outputs": _clean_outputs(ran.get("outputs", [])),
            }
        glue = {}
        if glue_path.exists():
            for key, output in json.loads(glue_path.read_text()).items():
                glue[key] = {mime: joined(value) for mime, value in output.get("data", {}).items()}
        first_stdout = "".join(
            output.get("text", "") for output in next(iter(cells.values()), {}).get("outputs", [])
            if output.get("output_type") == "stream"
        )
        match = re.search(r"This run: profile '(\w+)'.*?; data: (.*)", first_stdout)
        if not match or match.group(1) != "full":
            raise EditionError(f"{chapter}: the build did not run the full profile "
                               f"({first_stdout.strip()[:200]!r}); build with ADVLIB_PROFILE=full")
        run = {"chapter": chapter, "profile": match.group(1), "data_source": match.group(2).strip(),
               "glue": glue, "cells": cells}
        run = _redact(run, pairs)
        problems = machine_text(run, chapter, host)
        if problems:
            raise EditionError("text naming the build machine would be saved:\n  " + "\n  ".join(problems[:20])
                               + "\nrun extract with the build's ADVLIB_CIFAR10, ADVLIB_RESULTS and ADVLIB_CACHE_DIR "
                               "(and --book-root for a build of another checkout) so that their paths are "
                               "replaced, or add a redaction in colab_edition._redactions")
        runs[chapter] = run
    out = root / OUT_DIR / RUN_DIR
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for stale in out.glob("*.json"):
        if stale.stem not in runs:
            stale.unlink()
    for chapter, run in runs.items():
        path = out / f"{chapter}.json"
        path.write_text(json.dumps(run, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
        written.append(path)
    return written


# --------------------------------------------------------------------------- render


@dataclass
class Target:
    chapter: str
    anchor: str
    kind: str  # section, equation, figure, table, term
    title: str = ""
    number: str | None = None


@dataclass
class Book:
    """What rendering one chapter needs to know about the others."""

    site: Site
    titles: dict[str, str]
    targets: dict[str, Target]
    terms: dict[str, Target]
    runs: dict[str, dict]
    bib: dict[str, dict] = field(default_factory=dict)
    title: str = "the book"
    # {chapter: {figure key: number}} of the code cells' figures (colab_figures.figure_key).
    figures: dict[str, dict[str, str]] = field(default_factory=dict)


def _chapter_title(notebook) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if match:
                return match.group(1).strip()
    return ""


def _index_targets(chapter: str, notebook, targets: dict, terms: dict, figures: dict | None = None) -> None:
    """Labels (sections, equations, figures, tables) and glossary terms defined in a chapter.

    ``figures`` (if given) gets the number of each code cell's figure, under
    :func:`colab_figures.figure_key` (the edition writes its caption under the cell).
    """
    counts = {"equation": 0, "figure": 0, "table": 0}
    # Chapters are numbered by their file names (numfig_secnum_depth 1: "Fig. 3.2", "(3.1)").
    prefix = f"{int(chapter[:2])}." if re.match(r"\d\d_", chapter) else ""

    def add(label, kind, anchor, title=""):
        number = None
        if kind in counts:
            counts[kind] += 1
            number = f"{prefix}{counts[kind]}"
        if label:  # an unnamed figure is numbered too, but cannot be referred to
            targets[label] = Target(chapter, anchor, kind, title, number)

    for cell in notebook.cells:
        if cell.cell_type == "code":
            figure = (cell.metadata.get("mystnb") or {}).get("figure") or {}
            # MyST-NB draws no figure for a removed cell or removed outputs: no number.
            shown = not {"remove-cell", "remove-output"} & set(cell.metadata.get("tags", []))
            if shown and (figure.get("name") or figure.get("caption")):
                name = figure.get("name") or ""
                add(name, "figure", make_id(name), str(figure.get("caption", "")))
                if figures is not None:
                    figures[colab_figures.figure_key(figure)] = f"{prefix}{counts['figure']}"
            continue
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        for index, line in enumerate(lines):
            target = TARGET_RE.match(line)
            if target:
                heading = next((l for l in lines[index + 1:] if l.strip()), "")
                title = re.sub(r"^#+\s*", "", heading).strip()
                add(target.group("label"), "section", make_id(target.group("label")), title)
                continue
            dollar = DOLLAR_LABEL_RE.match(line)
            if dollar:
                add(dollar.group("label"), "equation", f"equation-{dollar.group('label')}")
                continue
            fence = FENCE_RE.match(line)
            directive = fence and DIRECTIVE_RE.match(fence.group("info").strip())
            if not directive:
                continue
            name = directive.group("name")
            options = {}
            for option_line in lines[index + 1:]:
                option = OPTION_RE.match(option_line.strip())
                if not option:
                    break
                options[option.group("key")] = option.group("value").strip()
            if name == "math" and options.get("label"):
                add(options["label"], "equation", f"equation-{options['label']}")
            elif name in ("figure", "glue:figure"):
                add(options.get("name"), "figure", make_id(options.get("name") or ""))
            elif name in ("table", "list-table", "csv-table") and options.get("name"):
                add(options["name"], "table", make_id(options["name"]), directive.group("args"))
            elif name == "bibliography":
                targets["__bibliography__"] = Target(chapter, "", "bibliography")
            elif name == "glossary":
                for term_line in lines[index + 1:]:
                    if FENCE_RE.match(term_line):
                        break
                    if term_line.strip() and not term_line.startswith((" ", "\t", ":")):
                        term = term_line.strip()
                        term = re.split(r"\s+:\s+", term)[0]  # drop a classifier
                        terms[term.lower()] = Target(chapter, term_id(term), "term", term)


def load_book(root: Path = ROOT, runs: dict | None = None) -> Book:
    site = Site.from_config(root)
    titles, targets, terms, figures = {}, {}, {}, {}
    for path in pages(root / BOOK_DIR):
        notebook = read_page(path)
        titles[path.stem] = _chapter_title(notebook)
        _index_targets(path.stem, notebook, targets, terms, figures.setdefault(path.stem, {}))
    if runs is None:
        runs = {}
        for path in sorted((root / OUT_DIR / RUN_DIR).glob("*.json")):
            runs[path.stem] = json.loads(path.read_text())
    config = yaml.safe_load((root / "_config.yml").read_text())
    return Book(site, titles, targets, terms, runs, _load_bib(root), str(config.get("title", "the book")), figures)


def _load_bib(root: Path) -> dict[str, dict]:
    """Author and year of each BibTeX entry named in _config.yml's bibtex_bibfiles (if any)."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    entries = {}
    for name in config.get("bibtex_bibfiles") or []:
        path = root / name
        if not path.exists():
            continue
        for match in re.finditer(r"@\w+\s*\{\s*([^,\s]+)\s*,(.*?)\n\}", path.read_text(), re.S):
            fields = dict(re.findall(r"(\w+)\s*=\s*[{\"](.+?)[}\"]\s*,?\s*$", match.group(2), re.M))
            entries[match.group(1)] = {key.lower(): value for key, value in fields.items()}
    return entries


class ChapterRenderer:
    """Converts one chapter's MyST Markdown cells to GitHub-flavoured Markdown."""

    def __init__(self, book: Book, chapter: str):
        self.book = book
        self.chapter = chapter
        self.site = book.site
        if chapter not in book.runs:
            raise EditionError(f"no saved run for {chapter} in {OUT_DIR}/{RUN_DIR}/: build the full book and run "
                               f"`python {TOOL} extract BUILD_DIR`")
        self.run = book.runs[chapter]

    # ---- glue

    def glue_data(self, key: str) -> dict:
        chapter = self.chapter
        if "::" in key:
            document, key = key.split("::", 1)
            chapter = Path(document).stem
            if chapter not in self.book.runs:
                raise EditionError(f"{self.chapter}: glue reference to unknown document {document!r}")
        glue = self.book.runs[chapter]["glue"]
        if key not in glue:
            raise EditionError(f"{self.chapter}: glue key {key!r} is not in the saved run of {chapter}: "
                               f"rebuild the full book and run `python {TOOL} extract BUILD_DIR`")
        return glue[key]

    def glue_text(self, content: str) -> str:
        # As MyST-NB: the text after the last colon is the format spec, "s" if there is none.
        key, fmt_spec = content.rsplit(":", 1) if ":" in content else (content, "s")
        data = self.glue_data(key)
        if "text/plain" not in data:
            raise EditionError(f"{self.chapter}: glue key {key!r} has no text/plain value")
        try:
            return format_plain_text(data["text/plain"], fmt_spec)
        except (TypeError, ValueError) as error:
            raise EditionError(f"{self.chapter}: cannot format glue {key!r} with {fmt_spec!r}: {error}") from None

    def glue_block(self, key: str, alt: str = "") -> list[str]:
        data = self.glue_data(key)
        for mime in ("image/png", "image/jpeg"):
            if mime in data:
                return [f"![{alt or key}](data:{mime};base64,{''.join(data[mime].split())})"]
        if "image/svg+xml" in data:
            svg = base64.b64encode(data["image/svg+xml"].encode()).decode()
            return [f"![{alt or key}](data:image/svg+xml;base64,{svg})"]
        if "text/html" in data:
            return data["text/html"].splitlines()
        if "text/markdown" in data:
            return data["text/markdown"].splitlines()
        if "text/latex" in data:
            return ["$$", data["text/latex"].strip().strip("$"), "$$"]
        return ["```", *data.get("text/plain", "").splitlines(), "```"]

    # ---- references

    def target(self, label: str) -> Target:
        if label not in self.book.targets:
            raise EditionError(f"{self.chapter}: reference to unknown label {label!r}")
        return self.book.targets[label]

    def link(self, text: str, url: str) -> str:
        return f"[{text}]({url})"

    def role(self, name: str, content: str) -> str:
        titled = TITLED_RE.match(content)
        text, label = (titled.group("text"), titled.group("target")) if titled else ("", content)
        if name in ("glue:text", "glue"):
            return escape_markdown(self.glue_text(content))
        if name == "glue:md":
            return self.glue_data(content.split(":")[0]).get("text/markdown", "").strip()
        if name == "glue:math":
            return "$" + self.glue_data(content.split(":")[0]).get("text/latex", "").strip().strip("$") + "$"
        if name == "math":
            return f"${content}$"
        if name == "eq":
            target = self.target(label)
            return self.link(text or f"({target.number})", self.site.page(target.chapter, target.anchor))
        if name in ("ref", "numref"):
            target = self.target(label.lstrip("!"))
            if name == "numref":
                default = {"figure": "Fig. {number}", "table": "Table {number}",
                           "equation": "Equation ({number})"}.get(target.kind, "Section {name}")
                text = (text or default).replace("%s", "{number}")
                text = text.replace("{number}", str(target.number or "")).replace("{name}", target.title)
            text = text or target.title or label
            return self.link(self.inline(text), self.site.page(target.chapter, target.anchor))
        if name == "doc":
            chapter = Path(label).stem
            if chapter not in self.book.titles:
                raise EditionError(f"{self.chapter}: {{doc}} reference to unknown page {label!r}")
            return self.link(self.inline(text or self.book.titles[chapter]), self.site.page(chapter))
        if name == "term":
            term = label or text
            found = self.book.terms.get(term.lower())
            shown = text or label
            if found is None:
                return f"*{shown}*"
            return self.link(shown, self.site.page(found.chapter, found.anchor))
        if name.startswith("cite"):
            return self.citation(name, content)
        if name == "abbr":
            return text or content
        if name in ("sub", "sup"):
            return f"<{name}>{content}</{name}>"
        if name in ("code", "kbd", "file", "samp", "command", "envvar") or name.startswith("py:"):
            return f"`{content}`"
        if name == "download":
            return self.link(text or Path(label).name, self.site.raw(f"{BOOK_DIR}/{label}"))
        raise EditionError(f"{self.chapter}: unknown role {{{name}}}: teach {TOOL} how to render it")

    def citation(self, name: str, content: str) -> str:
        parts = []
        for key in [key.strip() for key in content.split(",") if key.strip()]:
            entry = self.book.bib.get(key)
            if entry is None:
                parts.append((key, ""))
                continue
            authors = [author.strip() for author in entry.get("author", key).split(" and ")]
            first = authors[0].split(",")[0].strip() if "," in authors[0] else authors[0].split()[-1]
            who = first + (" et al." if len(authors) > 2 else f" and {authors[1].split(',')[0].split()[-1]}"
                           if len(authors) == 2 else "")
            parts.append((who, entry.get("year", "")))
        page = self.book.targets.get("__bibliography__")
        url = self.site.page(page.chapter) if page else ""

        def linked(text):
            return self.link(text, url) if url else text

        if name == "cite:t":
            return "; ".join(linked(f"{who} ({year})" if year else who) for who, year in parts)
        return "(" + "; ".join(linked(f"{who}, {year}" if year else who) for who, year in parts) + ")"

    # ---- inline text

    def inline(self, text: str) -> str:
        """Convert the roles of one line, leaving code spans alone."""
        out, position = [], 0
        while position < len(text):
            role = ROLE_RE.match(text, position)
            if role:
                out.append(self.role(role.group("name"), role.group("content")))
                position = role.end()
                continue
            if text[position] == "`":
                run = re.match(r"`+", text[position:]).group(0)
                end = text.find(run, position + len(run))
                if end != -1:
                    out.append(text[position:end + len(run)])
                    position = end + len(run)
                    continue
                out.append(run)
                position += len(run)
                continue
            out.append(text[position])
            position += 1
        return self.links("".join(out))

    def links(self, text: str) -> str:
        """Relative links to chapters point to the published pages, relative images to GitHub."""

        def replace(match):
            target = match.group("target")
            if re.match(r"^([a-z][a-z0-9+.-]*:|#)", target):
                return match.group(0)
            path, _, anchor = target.partition("#")
            if match.group("bang"):
                return f"![{match.group('text')}]({self.site.raw(f'{BOOK_DIR}/{path}')})"
            if path.endswith((".ipynb", ".md")) and Path(path).stem in self.book.titles:
                return f"[{match.group('text')}]({self.site.page(Path(path).stem, anchor)})"
            return match.group(0)

        # Leave code spans alone here too.
        pieces = re.split(r"(`+[^`]*`+)", text)
        return "".join(piece if piece.startswith("`") else LINK_RE.sub(replace, piece) for piece in pieces)

    # ---- blocks

    def convert(self, source: str) -> str:
        lines = self.block(source.splitlines())
        text = "\n".join(lines).strip("\n")
        return re.sub(r"\n{3,}", "\n\n", text)

    def block(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        index = 0
        while index < len(lines):
            line = lines[index]
            fence = FENCE_RE.match(line)
            if fence:
                indent, marker, info = fence.group("indent"), fence.group("fence"), fence.group("info").strip()
                end = self._closing(lines, index, marker)
                body = [l[len(indent):] if l.startswith(indent) else l.lstrip() for l in lines[index + 1:end]]
                directive = DIRECTIVE_RE.match(info)
                if directive:
                    converted = self.directive(directive.group("name"), directive.group("args"), body)
                    out += [indent + l if l else "" for l in converted]
                elif marker.startswith(":"):
                    raise EditionError(f"{self.chapter}: a ':::' fence without a directive: {line!r}")
                else:  # a code block: copied as it is
                    out += lines[index:end + 1]
                index = end + 1
                continue
            if TARGET_RE.match(line) or re.match(r"^\s*%", line) or line.strip() == "+++":
                index += 1
                continue
            dollar = DOLLAR_LABEL_RE.match(line)
            if dollar:
                target = self.book.targets[dollar.group("label")]
                body = dollar.group("body")
                out.append(f"{body}\\tag{{{target.number}}}$$" if body.strip() else f"\\tag{{{target.number}}}")
                if not body.strip():
                    out.append("$$")
                index += 1
                continue
            out.append(self.inline(line))
            index += 1
        return out

    def _closing(self, lines: list[str], start: int, marker: str) -> int:
        char, length = marker[0], len(marker)
        nested = 0
        for index in range(start + 1, len(lines)):
            stripped = lines[index].strip()
            fence = FENCE_RE.match(lines[index])
            if not fence or fence.group("fence")[0] != char:
                continue
            if fence.group("info").strip() and len(fence.group("fence")) == length and char == ":":
                nested += 1  # a colon-fenced directive inside another of the same length
                continue
            if stripped == char * len(stripped) and len(stripped) >= length:
                if nested:
                    nested -= 1
                    continue
                return index
        raise EditionError(f"{self.chapter}: the fence {lines[start].strip()!r} is never closed")

    @staticmethod
    def options(body: list[str]) -> tuple[dict, list[str]]:
        options: dict[str, str] = {}
        index = 0
        if body and body[0].strip() == "---":
            end = body.index("---", 1) if "---" in body[1:] else 0
            options = {str(k): str(v) for k, v in (yaml.safe_load("\n".join(body[1:end])) or {}).items()}
            index = end + 1
        else:
            while index < len(body):
                option = OPTION_RE.match(body[index].strip()) if body[index].strip() else None
                if not option:
                    break
                options[option.group("key")] = option.group("value").strip()
                index += 1
        while index < len(body) and not body[index].strip():
            index += 1
        return options, body[index:]

    def directive(self, name: str, args: str, body: list[str]) -> list[str]:
        options, content = self.options(body)
        classes = options.get("class", "").split()
        if name in ADMONITIONS:
            title = ADMONITIONS[name]
            if name in ("admonition", "dropdown", "topic", "sidebar", "margin") and args.strip():
                title = args.strip()
            elif args.strip():
                content = [args.strip(), ""] + content
            inner = self.block(content)
            if name == "dropdown" or "dropdown" in classes:
                summary = self.inline(title or "Details")
                return ["", "<details>", f"<summary>{summary}</summary>", "", *inner, "", "</details>", ""]
            quoted = [f"> **{self.inline(title)}**", ">"] if title else []
            quoted += [f"> {l}" if l.strip() else ">" for l in inner]
            return ["", *quoted, ""]
        if name == "math":
            label = options.get("label")
            math = "\n".join(content).strip()
            if label:
                math += f" \\tag{{{self.book.targets[label].number}}}"
            return ["", "$$", *math.splitlines(), "$$", ""]
        if name in ("glue:figure", "glue", "glue:any"):
            key = args.strip()
            image = self.glue_block(key, options.get("alt", ""))
            caption = " ".join(self.block(content)).strip()
            label = options.get("name")
            if label and caption:
                number = self.book.targets[label].number
                caption = f"*Fig. {number}: {caption}*"
            return ["", *image, "", *([caption, ""] if caption else [])]
        if name == "glue:md":
            return ["", *self.glue_data(args.strip()).get("text/markdown", "").splitlines(), ""]
        if name == "glue:math":
            return ["", "$$", self.glue_data(args.strip()).get("text/latex", "").strip().strip("$"), "$$", ""]
        if name in ("figure", "image"):
            target = args.strip()
            url = target if re.match(r"^[a-z]+:", target) else self.site.raw(f"{BOOK_DIR}/{target}")
            caption = " ".join(self.block(content)).strip()
            return ["", f"![{options.get('alt', caption or Path(target).name)}]({url})", "",
                    *([f"*{caption}*", ""] if caption else [])]
        if name in ("code-block", "code", "sourcecode", "code-cell"):
            return ["", f"```{args.strip()}", *content, "```", ""]
        if name == "raw":
            return ["", *content, ""] if args.strip() == "html" else []
        if name == "table":
            return ["", f"**{self.inline(args.strip())}**" if args.strip() else "", "", *self.block(content), ""]
        if name == "glossary":
            out = []
            for line in content:
                if line.strip() and not line.startswith((" ", "\t")):
                    out += ["", f"**{self.inline(line.strip())}**"]
                elif line.strip():
                    out.append(self.inline(line.strip()))
            return out + [""]
        if name == "fgsm-playground":
            # The live figure (_ext/fgsm_playground.py) runs only on the site: one line points there.
            url = self.site.page(self.chapter, "fgsm-playground")
            model = options.get("model-name", "the baseline")
            return ["", f"*Interactive figure: [move eps and watch FGSM attack {model}]({url}), live in your "
                        "browser on the book's website.*", ""]
        if name in DROPPED_DIRECTIVES:
            return []
        raise EditionError(f"{self.chapter}: unknown directive {{{name}}}: teach {TOOL} how to render it")


def _outputs(run_cell: dict) -> list:
    outputs = []
    for output in run_cell["outputs"]:
        output = dict(output)
        if output["output_type"] == "execute_result":
            output["execution_count"] = run_cell.get("execution_count")
        outputs.append(nbformat.from_dict(output))
    return outputs


def figure_caption_markdown(renderer: ChapterRenderer, cell) -> str | None:
    """The Markdown of the cell that goes under ``cell`` (a chapter's code cell), or None.

    The caption of the cell's ``mystnb.figure``, numbered as the site numbers it
    ("*Fig. 3.1: ...*", the caption's MyST converted by ``renderer``), and its
    ``mystnb.image.alt`` as a visible "Figure description: ..." line. None for a cell
    without either, and for one whose figure the site does not show (tagged
    remove-cell or remove-output). ``renderer`` must be the cell's own chapter's.
    """
    if cell.get("cell_type") != "code":
        return None
    if {"remove-cell", "remove-output"} & set(cell.get("metadata", {}).get("tags", [])):
        return None
    figure, alt = colab_figures.figure_options(cell), colab_figures.alt_text(cell)
    number = None
    if colab_figures.is_numbered(figure):
        key = colab_figures.figure_key(figure)
        number = renderer.book.figures.get(renderer.chapter, {}).get(key)
        if number is None:
            raise EditionError(f"{renderer.chapter}: no figure {key!r} in this chapter: pass the renderer of "
                               "the chapter the cell comes from")
    caption = renderer.convert(str(figure.get("caption", ""))) if figure.get("caption") else ""
    return colab_figures.caption_markdown(number, caption, alt)


def setup_source(site: Site) -> str:
    """The edition's setup cell for the book published from ``site``."""
    return SETUP_TEMPLATE.replace("__REPOSITORY_URL__", site.repository_url).rstrip("\n")


def collapsed_title(source: str) -> str:
    """The ``# @title`` of a cell the site hides: its first comment, or what the cell does."""
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    if first.startswith("#") and not first.startswith("#@") and not first.startswith("# @"):
        return first.lstrip("#").strip().rstrip(".:")
    if "plt.show()" in source or "advlib.plots" in source:
        return "Draw the figure"
    return "Bookkeeping: the numbers quoted in the text"


def render_chapter(book: Book, path: Path) -> str:
    chapter = path.stem
    renderer = ChapterRenderer(book, chapter)
    source = nbformat.read(path, as_version=4)
    run = renderer.run
    title = book.titles[chapter] or chapter
    page = book.site.page(chapter)
    note = (
        f"> **The Colab edition** of the chapter *{title}* of the book "
        f"[*{book_title(book)}*]({book.site.pages_url}). Read the chapter on the book's site: "
        f"<{page}>.\n>\n"
        f"> The numbers in the text and the outputs below come from the book's own full run "
        f"(profile `{run['profile']}`, data: {escape_markdown(run['data_source'])}), so you can read the "
        f"whole chapter before running anything. Running the notebook replaces the outputs with "
        f"your run's, which can differ slightly (another copy of CIFAR-10, other hardware or "
        f"library versions); the text keeps the book's numbers.\n>\n"
        f"> This notebook is generated from `{BOOK_DIR}/{path.name}` by `{TOOL}`: do not edit it by hand."
    )
    cells = [nbformat.v4.new_markdown_cell(note, id=NOTE_ID)]
    setup_done = False
    stale = []
    for index, cell in enumerate(source.cells):
        key = cell_key(cell, index)
        metadata = json.loads(json.dumps(cell.get("metadata", {})))
        tags = metadata.get("tags", [])
        if "remove-cell" in tags:
            continue
        if cell.cell_type == "markdown":
            text, _ = colab_site_text.for_colab(cell.source)
            cells.append(nbformat.v4.new_markdown_cell(renderer.convert(text), id=key, metadata=metadata))
            continue
        if cell.cell_type == "raw":
            continue
        if not setup_done:
            if "advlib.book.start()" not in cell.source:
                raise EditionError(f"{chapter}: the first code cell is not the setup cell (advlib.book.start())")
            cells.append(nbformat.v4.new_code_cell(PROFILE_TEMPLATE.rstrip("\n"), id=PROFILE_ID,
                                                   metadata={"cellView": "form"}))
            setup_cell = nbformat.v4.new_code_cell(setup_source(book.site), id=SETUP_ID)
            if key in run["cells"]:
                setup_cell.outputs = _outputs(run["cells"][key])
                setup_cell.execution_count = run["cells"][key].get("execution_count")
            cells.append(setup_cell)
            setup_done = True
            continue
        saved = run["cells"].get(key)
        if saved is None or saved["source_sha256"] != source_hash(cell.source):
            stale.append(key)
            continue
        new = nbformat.v4.new_code_cell(cell.source, id=key, metadata=metadata)
        if "remove-output" not in tags:
            new.outputs = _outputs(saved)
            new.execution_count = saved.get("execution_count")
        if "remove-input" in tags or "hide-input" in tags:
            # Bookkeeping and figure-drawing code: the site hides it, Colab collapses it
            # behind a title (a form cell shows its code only when the reader opens it).
            new.source = f"# @title {collapsed_title(cell.source)}\n" + cell.source
            new.metadata["cellView"] = "form"
            new.metadata.setdefault("jupyter", {})["source_hidden"] = True
        cells.append(new)
        caption = figure_caption_markdown(renderer, cell)
        if caption:
            shown = colab_figures.displayed_outputs(saved["outputs"])
            if shown != 1:  # the site draws one numbered figure per displayed output
                raise EditionError(f"{chapter}: code cell {key} has a figure caption but shows {shown} outputs in "
                                   "the book's run, so the site's figure numbers and the edition's would differ: "
                                   "make the cell display exactly one image (end it with plt.show())")
            cells.append(nbformat.v4.new_markdown_cell(caption, id=f"{key}-caption"))
    if stale:
        raise EditionError(f"{chapter}: code cells {', '.join(stale)} are new or changed since the saved full "
                           f"run: build the full book and run `python {TOOL} extract BUILD_DIR`, then render")
    site_only = [f"cell {cell.id}: {phrase!r} ({why})" for cell in cells
                 for phrase, why in colab_site_text.site_only_phrases(colab_site_text.reader_text(cell))]
    if site_only:
        raise EditionError(f"{chapter}: text that only makes sense on the site would reach the edition:\n    "
                           + "\n    ".join(site_only) + "\n  say what is true in Colab: add the sentence and its "
                           "Colab wording to REPLACEMENTS in tools/colab_site_text.py")
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {
        "colab": {"name": path.name, "provenance": [], "toc_visible": True},
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    nbformat.validate(notebook)
    text = nbformat.writes(notebook) + "\n"
    problems = machine_text(json.loads(text), chapter)
    if problems:
        raise EditionError("the edition would name a build machine:\n  " + "\n  ".join(problems[:10]))
    return text


def book_title(book: Book) -> str:
    return book.title


def readme(book: Book, names: list[str]) -> str:
    owner, repo = book.site.owner_repo
    colab = f"https://colab.research.google.com/github/{owner}/{repo}/blob/{PUBLISHED_BRANCH}/{BOOK_DIR}"
    rows = "\n".join(
        f"| `{name}` | {book.titles[Path(name).stem]} | [open]({colab}/{name}) | "
        f"[page]({book.site.page(Path(name).stem)}) |" for name in names
    )
    return f"""# The Colab edition (generated)

Everything in this folder is written by `{TOOL}`; do not edit it by hand.

These notebooks are the book's chapters (`{BOOK_DIR}/NN_*.ipynb`) made readable outside the
built site: plain GitHub-flavoured Markdown with `$` math instead of MyST roles and
directives, exercise solutions behind closed "Solution" toggles, cross-references as
links to the published pages ({book.site.pages_url}), and the numbers and outputs of
the book's own full run, so a chapter can be read before anything is run. The first
code cells choose the profile and install `advlib` from {book.site.repository_url}.

The publishing workflow (`.github/workflows/publish.yml`) copies them to the `{PUBLISHED_BRANCH}`
branch as `{BOOK_DIR}/NN_*.ipynb`, where the book's Colab launch buttons
(`https://colab.research.google.com/github/{owner}/{repo}/blob/{PUBLISHED_BRANCH}/{BOOK_DIR}/<chapter>.ipynb`)
find them. The site's download menu offers them too: its ".ipynb" entry on a chapter page
gives that chapter's notebook from this folder (`_ext/colab_download.py` copies them
into the built site).

To regenerate, from the repository root:

1. Build the full book (`ADVLIB_PROFILE=full make book`, or a build with
   `--path-output BUILD_DIR`) and save its run:
   `.venv/bin/python {TOOL} extract BUILD_DIR` (writes `{OUT_DIR}/{RUN_DIR}/`; BUILD_DIR
   is `.` after `make book`). Needed when a chapter's code changes.
2. Write the notebooks: `.venv/bin/python {TOOL} render` (seconds; enough after a change
   of the chapters' text or of the repository URL).

`.venv/bin/python {TOOL} check` fails when this folder is out of date.

| Notebook | Chapter | In Colab | On the site |
| --- | --- | --- | --- |
{rows}
"""


def render_all(root: Path = ROOT) -> dict[str, str]:
    """The edition's files ({relative path: text}), computed in memory."""
    book = load_book(root)
    files = {}
    names = []
    errors = []
    for path in chapters(root / BOOK_DIR):
        try:
            files[f"{OUT_DIR}/{path.name}"] = render_chapter(book, path)
        except EditionError as error:  # report every chapter's problem at once
            errors.append(str(error))
        names.append(path.name)
    used = set()
    for path in chapters(root / BOOK_DIR):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                used |= colab_site_text.for_colab(cell.source)[1]
    errors += [f"REPLACEMENTS in tools/colab_site_text.py: {site!r} is in no chapter any more: remove the entry, "
               "or change it to the chapter's new wording" for index, (site, _) in
               enumerate(colab_site_text.REPLACEMENTS) if index not in used]
    if errors:
        raise EditionError("\n  ".join(["cannot render the edition:", *errors]))
    files[f"{OUT_DIR}/README.md"] = readme(book, names)
    return files


def write(files: dict[str, str], root: Path = ROOT) -> None:
    out = root / OUT_DIR
    out.mkdir(exist_ok=True)
    for stale in out.glob("*.ipynb"):
        if f"{OUT_DIR}/{stale.name}" not in files:
            stale.unlink()
    for name, text in files.items():
        path = root / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


def differences(root: Path = ROOT) -> list[str]:
    """What differs between the committed edition and a fresh render (empty when in step)."""
    try:
        files = render_all(root)
    except EditionError as error:
        return [str(error)]
    problems = []
    for name, text in files.items():
        path = root / name
        if not path.exists():
            problems.append(f"{name}: missing")
            continue
        old = path.read_text()
        if old != text:
            diff = [line for line in difflib.unified_diff(old.splitlines(), text.splitlines(), lineterm="", n=0)
                    if line[:1] in "+-" and not line.startswith(("+++", "---"))]
            sample = "\n      ".join(line[:160] for line in diff[:6])
            problems.append(f"{name}: differs ({len(diff)} changed lines)\n      {sample}")
    for path in sorted((root / OUT_DIR).glob("*.ipynb")):
        if f"{OUT_DIR}/{path.name}" not in files:
            problems.append(f"{OUT_DIR}/{path.name}: not generated from any chapter")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    extract_parser = commands.add_parser("extract", help="save the run of a full build in colab/_book_run/")
    extract_parser.add_argument("build_dir", type=Path, help="the build's --path-output (holds _build/jupyter_execute)")
    extract_parser.add_argument("--book-root", type=Path, default=None,
                                help="the source root the build ran in, if not this checkout (its chapters "
                                "are matched with the build, its paths removed from the outputs)")
    commands.add_parser("render", help="write colab/*.ipynb and colab/README.md")
    commands.add_parser("check", help="exit 1 if colab/ differs from a fresh render")
    args = parser.parse_args(argv)
    try:
        if args.command == "extract":
            written = extract(args.build_dir, ROOT, args.book_root.resolve() if args.book_root else None)
            print(f"saved the run of {len(written)} chapters in {OUT_DIR}/{RUN_DIR}/; now run `python {TOOL} render`")
        elif args.command == "render":
            files = render_all(ROOT)
            write(files, ROOT)
            print(f"wrote {len(files)} files in {OUT_DIR}/")
        else:
            problems = differences(ROOT)
            if problems:
                print(f"the Colab edition in {OUT_DIR}/ is out of date:\n  " + "\n  ".join(problems)
                      + f"\nrun `python {TOOL} render` (and, if a chapter's code changed, build the full "
                      f"book and run `python {TOOL} extract BUILD_DIR` first)", file=sys.stderr)
                return 1
            print(f"{OUT_DIR}/ is up to date")
    except EditionError as error:
        print(f"{TOOL} {args.command}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

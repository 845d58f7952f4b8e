"""What rendering one chapter needs to know about the whole book: its link targets.

Every page's title, its labels (sections, equations, figures, tables) with the numbers the
site gives them, the figures of its code cells, its glossary terms, and the bibliography.
Read from the pages' MyST tokens (``parse``), numbered as Sphinx numbers them (numfig,
``numfig_secnum_depth: 1``: "Fig. 3.2", "(3.1)").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from sphinx.domains.std import split_term_classifiers

from . import EditionError, citations, parse
from .figures import figure_key
from .layout import BOOK_DIR, OUT_DIR, ROOT, RUN_DIR, Site, pages, read_config

# Directives whose body is not Markdown: nothing in it is a label.
LITERAL_DIRECTIVES = {"code-block", "code", "sourcecode", "code-cell", "math", "raw", "glossary", "include"}
TABLE_DIRECTIVES = {"table", "list-table", "csv-table"}


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
    bib: dict[str, citations.Reference] = field(default_factory=dict)
    title: str = "the book"
    # {chapter: {figure key: number}} of the code cells' figures (figures.figure_key).
    figures: dict[str, dict[str, str]] = field(default_factory=dict)


def read_page(path: Path):
    """A page as a notebook; a Markdown page becomes one Markdown cell (front matter dropped)."""
    if path.suffix == ".ipynb":
        return nbformat.read(path, as_version=4)
    text = parse.without_front_matter(path.read_text())
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])


def chapter_title(notebook) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            title = parse.first_heading(cell.source)
            if title:
                return title
    return ""


class _Index:
    """Numbers one page's labels in page order and files them in the book's tables."""

    def __init__(self, chapter: str, targets: dict, terms: dict, figures: dict):
        self.chapter, self.targets, self.terms, self.figures = chapter, targets, terms, figures
        self.counts = {"equation": 0, "figure": 0, "table": 0}
        # Chapters are numbered by their file names (numfig_secnum_depth 1: "Fig. 3.2", "(3.1)").
        self.prefix = f"{int(chapter[:2])}." if re.match(r"\d\d_", chapter) else ""
        self.glossary_ids = parse.GlossaryIds()

    def add(self, label: str | None, kind: str, anchor: str, title: str = "") -> str | None:
        number = None
        if kind in self.counts:
            self.counts[kind] += 1
            number = f"{self.prefix}{self.counts[kind]}"
        if label:  # an unnamed figure is numbered too, but cannot be referred to
            self.targets[label] = Target(self.chapter, anchor, kind, title, number)
        return number

    def code_cell(self, cell) -> None:
        figure = (cell.metadata.get("mystnb") or {}).get("figure") or {}
        # MyST-NB draws no figure for a removed cell or removed outputs: no number.
        shown = not {"remove-cell", "remove-output"} & set(cell.metadata.get("tags", []))
        if shown and (figure.get("name") or figure.get("caption")):
            name = str(figure.get("name") or "")
            self.figures[figure_key(figure)] = self.add(name, "figure", parse.label_id(name),
                                                        str(figure.get("caption", "")))

    def markdown(self, source: str) -> None:
        all_tokens = parse.tokens(source)
        for index, token in enumerate(all_tokens):
            if token.type == "myst_target":
                label = token.content.strip()
                self.add(label, "section", parse.label_id(label), parse.heading_after(all_tokens, index))
            elif token.type == "math_block_label":
                self.add(token.info, "equation", parse.equation_id(token.info))
            elif token.type in parse.FENCES:
                header = parse.directive_header(token.info)
                if header:
                    self.directive(*header, token)

    def directive(self, name: str, args: str, token) -> None:
        body = parse.directive_body(token, args)
        options = body.options
        if name == "math" and options.get("label"):
            self.add(options["label"], "equation", parse.equation_id(options["label"]))
        elif name in ("figure", "glue:figure"):
            self.add(options.get("name"), "figure", parse.label_id(options.get("name") or ""))
        elif name in TABLE_DIRECTIVES and options.get("name"):
            self.add(options["name"], "table", parse.label_id(options["name"]), args.strip())
        elif name == "bibliography":
            self.targets["__bibliography__"] = Target(self.chapter, "", "bibliography")
        elif name == "glossary":
            self.glossary(body.content)
        if name not in LITERAL_DIRECTIVES:  # an admonition's labels count too, in page order
            self.markdown("\n".join(body.content))

    def glossary(self, content: list[str]) -> None:
        for line in content:
            # A term starts its line; its definition is indented under it.
            if line.strip() and not line.startswith((" ", "\t")):
                term = split_term_classifiers(line.strip())[0]
                self.terms[term.lower()] = Target(self.chapter, self.glossary_ids(term), "term", term)


def index_page(chapter: str, notebook, targets: dict, terms: dict, figures: dict | None = None) -> None:
    """File the labels (sections, equations, figures, tables) and glossary terms of one page.

    ``figures`` (if given) gets the number of each code cell's figure, under
    :func:`figures.figure_key` (the edition writes its caption under the cell).
    """
    index = _Index(chapter, targets, terms, {} if figures is None else figures)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            index.code_cell(cell)
        elif cell.cell_type == "markdown":
            index.markdown(cell.source)


def load_book(root: Path = ROOT, runs: dict | None = None) -> Book:
    config = read_config(root)
    extensions = (config.get("parse") or {}).get("myst_enable_extensions")
    if extensions is not None and set(extensions) != set(parse.MYST_EXTENSIONS):
        raise EditionError(f"_config.yml: parse.myst_enable_extensions {sorted(extensions)} differs from "
                           f"{sorted(parse.MYST_EXTENSIONS)}, which editions/parse.py reads the chapters with: "
                           "change MYST_EXTENSIONS there to match")
    site = Site.from_config(root)
    titles, targets, terms, figures = {}, {}, {}, {}
    for path in pages(root / BOOK_DIR):
        notebook = read_page(path)
        titles[path.stem] = chapter_title(notebook)
        index_page(path.stem, notebook, targets, terms, figures.setdefault(path.stem, {}))
    if runs is None:
        runs = {}
        for path in sorted((root / OUT_DIR / RUN_DIR).glob("*.json")):
            runs[path.stem] = json.loads(path.read_text())
    bib = citations.load(root, config.get("bibtex_bibfiles") or [])
    return Book(site, titles, targets, terms, runs, bib, str(config.get("title", "the book")), figures)

"""The site's ".ipynb" download gives the chapter's Colab edition (``_ext/colab_download.py``).

- A tiny book, built by Jupyter Book with the extension enabled as ``_config.yml``
  enables it (no execution; seconds): a chapter page's ".ipynb" link points at
  ``colab/<chapter>.ipynb`` in the built site, which is the edition; a back-matter page
  keeps its source link; a chapter without an edition is a build warning.
- The real build, when ``$ADVLIB_BOOK_HTML`` names it (``make test`` does): every chapter
  page's ".ipynb" link resolves to the Colab edition in the site, and every figure on the
  page has the number, caption and alt text that the edition's caption cell gives it.
  Skipped without ``$ADVLIB_BOOK_HTML``: an older build in ``_build/html`` may predate
  the extension.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import urldefrag

import nbformat
import pytest
import yaml

import colab_edition
from tests.support.paths import REPOSITORY

CONFIG = yaml.safe_load((REPOSITORY / "_config.yml").read_text())
RAW_MYST = ["{glue", "{term}", "{cite", "{numref}", "{eq}", "{ref}", "{doc}", "```{", ":::{", ":class:"]


def _ipynb_link(page_html: str) -> str | None:
    """The href of the ".ipynb" entry of the page's download menu."""
    from bs4 import BeautifulSoup

    menu = BeautifulSoup(page_html, "html.parser").select_one("div.dropdown-download-buttons")
    if menu is None:
        return None
    for link in menu.select("a[href]"):
        if link.get_text(" ", strip=True) == ".ipynb":
            return link["href"]
    return None


def _edition_problems(path: Path, chapter: str) -> list[str]:
    """Why the notebook at ``path`` is not the Colab edition of ``chapter`` (empty if it is)."""
    if not path.is_file():
        return [f"{path.name} is not in the built site"]
    notebook = nbformat.read(path, as_version=4)
    ids = [cell.get("id") for cell in notebook.cells]
    problems = []
    if not ids or ids[0] != colab_edition.NOTE_ID or colab_edition.SETUP_ID not in ids:
        problems.append(f"{path.name} has no edition note or no {colab_edition.SETUP_ID!r} cell: not the Colab edition")
    if notebook.metadata.get("colab", {}).get("name") != f"{chapter}.ipynb":
        problems.append(f"{path.name} is the edition of {notebook.metadata.get('colab', {}).get('name')!r}")
    markdown = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    problems += [f"{path.name} shows raw MyST {needle!r}" for needle in RAW_MYST if needle in markdown]
    return problems


def _tiny_book(root: Path) -> None:
    """Two chapters (one with an edition, one without) and a back-matter page."""
    (root / "book").mkdir(parents=True)
    (root / "colab").mkdir()
    # The extensions _config.yml enables, by absolute path (its paths are relative to the repository).
    enabled = CONFIG.get("sphinx", {}).get("local_extensions") or {}
    local = {name: str((REPOSITORY / path).resolve()) for name, path in enabled.items()}
    (root / "_config.yml").write_text(yaml.safe_dump({
        "title": "Tiny", "only_build_toc_files": True, "exclude_patterns": ["_build", "colab"],
        "execute": {"execute_notebooks": "off"}, "repository": CONFIG["repository"],
        "launch_buttons": CONFIG["launch_buttons"], "sphinx": {"local_extensions": local},
    }))
    (root / "_toc.yml").write_text(textwrap.dedent("""\
        format: jb-book
        root: book/cover
        parts:
          - caption: Chapters
            numbered: true
            chapters:
              - file: book/01_x
              - file: book/02_y
          - caption: Back matter
            chapters:
              - file: book/notes
        """))
    (root / "book" / "cover.md").write_text("# Cover\n")
    (root / "book" / "notes.md").write_text("# Notes\n\nText.\n")
    for chapter in ("01_x", "02_y"):
        cells = [nbformat.v4.new_markdown_cell(f"# Chapter {chapter}\n\nA value: {{glue:text}}`value`.")]
        nbformat.write(nbformat.v4.new_notebook(cells=cells), root / "book" / f"{chapter}.ipynb")
    edition = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("**The Colab edition**", id=colab_edition.NOTE_ID),
        nbformat.v4.new_code_cell("import advlib.book", id=colab_edition.SETUP_ID)])
    edition.metadata["colab"] = {"name": "01_x.ipynb"}
    nbformat.write(edition, root / "colab" / "01_x.ipynb")


def test_a_chapter_page_downloads_its_colab_edition(tmp_path):
    _tiny_book(tmp_path / "src")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run([str(jupyter_book), "build", str(tmp_path / "src"), "--path-output", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    site = tmp_path / "out" / "_build" / "html"
    page = site / "book" / "01_x.html"
    link = _ipynb_link(page.read_text())
    assert link == "../colab/01_x.ipynb", link
    assert _edition_problems((page.parent / link).resolve(), "01_x") == []
    # Back matter keeps its source; a chapter without an edition is a warning, not a quiet raw download.
    assert _ipynb_link((site / "book" / "notes.html").read_text()) is None
    assert "colab/02_y.ipynb is missing" in output and "tools/colab_edition.py render" in output


def _built_site() -> Path:
    if not os.environ.get("ADVLIB_BOOK_HTML"):
        pytest.skip("set ADVLIB_BOOK_HTML to a built site (make test does) to check its download buttons")
    site = Path(os.environ["ADVLIB_BOOK_HTML"])
    site = site if site.is_absolute() else REPOSITORY / site
    pages = sorted((site / "book").glob("[0-9][0-9]_*.html"))
    assert pages, f"no chapter pages in {site / 'book'}"
    return site


def test_every_chapter_page_of_the_built_site_downloads_its_colab_edition():
    site = _built_site()
    problems = []
    for page in sorted((site / "book").glob("[0-9][0-9]_*.html")):
        link = _ipynb_link(page.read_text())
        if link is None:
            problems.append(f"{page.name}: no '.ipynb' download")
            continue
        target = (page.parent / urldefrag(link)[0]).resolve()
        problems += [f"{page.name}: {problem}" for problem in _edition_problems(target, page.stem)]
    assert not problems, "\n  ".join(["", *problems])


def _site_text(text: str) -> str:
    """Text as compared between the site and the edition: Sphinx's curly quotes made straight."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(text.split())


def test_the_sites_figures_and_the_editions_captions_agree():
    from bs4 import BeautifulSoup
    from markdown_it import MarkdownIt

    site = _built_site()
    markdown = MarkdownIt("gfm-like", {"html": True})
    problems = []
    for page in sorted((site / "book").glob("[0-9][0-9]_*.html")):
        shown = {}
        for cell in nbformat.read(REPOSITORY / "colab" / f"{page.stem}.ipynb", as_version=4).cells:
            if cell.cell_type == "markdown" and cell.id.endswith("-caption"):
                text = _site_text(html.unescape(re.sub(r"<[^>]+>", "", markdown.render(cell.source))))
                match = re.match(r"Fig\. (\S+): (.*?)(?: Figure description: (.*))?$", text)
                if match:
                    shown[match.group(1)] = (match.group(2), match.group(3) or "")
        for figure in BeautifulSoup(page.read_text(), "html.parser").select("article figure"):
            number = figure.select_one(".caption-number")
            if number is None:
                continue
            number = number.get_text().replace("Fig.", "").strip()
            caption = _site_text(figure.select_one(".caption-text").get_text())
            image = figure.select_one("img")
            alt = _site_text(image.get("alt", "")) if image is not None else ""
            if number not in shown:
                problems.append(f"{page.name}: Fig. {number} ({caption[:50]!r}) has no caption cell in the edition")
            elif shown[number] != (caption, alt):
                problems.append(f"{page.name}: Fig. {number}: site {(caption, alt)!r}, edition {shown[number]!r}")
        # And no caption the site does not show.
        site_numbers = {n.get_text().replace("Fig.", "").strip() for n in
                        BeautifulSoup(page.read_text(), "html.parser").select("article figure .caption-number")}
        problems += [f"{page.name}: the edition has Fig. {number}, the site does not" for number in shown
                     if number not in site_numbers]
    assert not problems, "\n  ".join(["", *problems])

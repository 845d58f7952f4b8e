"""The editions' reading of MyST (tools/editions/), on small made-up pages.

The Colab and classroom editions read the chapters as markdown-it tokens (myst-parser's
own parser), the bibliography with pybtex, and make ids with docutils and Sphinx. Each
test covers one construct the chapters use and the edition must get right:

- a directive's options (``:class: dropdown``, a ``---`` YAML block, ``:label:``);
- fences inside fences (a code block in a solution, a colon fence in a colon fence, a
  directive inside a list item), and a fence never closed;
- a citation of several keys, written as the site writes it (pybtex's names);
- glue roles: format specs, several on one line, another chapter's key, code spans;
- figures with a name, numbered in page order as the site numbers them, with the id
  docutils gives the name;
- the ids of labels and glossary terms, and (with a built site) every anchor the edition
  links to exists on the built pages.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest

from editions import EditionError, parse
from editions.book import load_book
from editions.convert import ChapterRenderer
from tests.support.paths import REPOSITORY

SITE = "https://owner.github.io/repo/book"

BIB = """\
@inproceedings{goodfellow2015,
  author = {Goodfellow, Ian J. and Shlens, Jonathon and Szegedy, Christian},
  title  = {Explaining and Harnessing Adversarial Examples},
  year   = {2015}
}
@inproceedings{carlini2017,
  author = {Carlini, Nicholas and Wagner, David},
  title  = {Towards Evaluating the Robustness of Neural Networks},
  year   = {2017}
}
@misc{vaneverdingen2024,
  author = {van Everdingen, Ari},
  title  = {{CNN}s and Adversarial Examples},
  year   = {2024}
}
"""


def _renderer(tmp_path, markdown: list[str], code_cells=(), glue=None, other_glue=None) -> ChapterRenderer:
    """The renderer of a made-up chapter 01_x (Markdown cells, then code cells), with a
    second chapter 02_y, a glossary, a bibliography page and a .bib file."""
    book = tmp_path / "book"
    book.mkdir()
    (tmp_path / "_config.yml").write_text("title: T\nrepository:\n  url: https://github.com/owner/repo\n"
                                          "bibtex_bibfiles:\n  - refs.bib\n")
    (tmp_path / "refs.bib").write_text(BIB)
    (book / "glossary.md").write_text("---\nfront: matter\n---\n# Glossary\n\n```{glossary}\n:sorted:\n"
                                      "FGSM\n  The fast gradient sign method.\n\nProjected gradient descent : attack\n"
                                      "  Many small steps.\n```\n")
    (book / "references.md").write_text("# References\n\n```{bibliography}\n```\n")
    cells = [nbformat.v4.new_markdown_cell(text) for text in markdown] + list(code_cells)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), book / "01_x.ipynb")
    second = [nbformat.v4.new_markdown_cell("# The second chapter\n\n(sec-second)=\n## A section")]
    nbformat.write(nbformat.v4.new_notebook(cells=second), book / "02_y.ipynb")
    runs = {"01_x": {"profile": "full", "data_source": "d", "cells": {}, "glue": glue or {}},
            "02_y": {"profile": "full", "data_source": "d", "cells": {}, "glue": other_glue or {}}}
    return ChapterRenderer(load_book(tmp_path, runs=runs), "01_x")


def _figure_cell(figure: dict) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell("plt.show()", metadata={"mystnb": {"figure": figure}})


# --------------------------------------------------------------------------- directives


def test_directive_options_are_read_as_myst_reads_them(tmp_path):
    math = "```{math}\n:label: eq-loss\nL = -\\log p\n```"
    renderer = _renderer(tmp_path, ["# X", math])
    # :class: dropdown makes a closed <details>, without it a quote.
    dropdown = renderer.convert("````{admonition} Solution\n:class: dropdown\nText.\n````")
    assert dropdown == "<details>\n<summary>Solution</summary>\n\nText.\n\n</details>"
    # The same option in a YAML block; a value with a colon in it.
    yaml_block = renderer.convert("```{admonition} Careful\n---\nclass: dropdown\n---\nBody.\n```")
    assert yaml_block == "<details>\n<summary>Careful</summary>\n\nBody.\n\n</details>"
    figure = renderer.convert("```{figure} images/a.png\n:alt: Loss: lower is better.\n\nThe caption.\n```")
    assert figure == ("![Loss: lower is better.](https://raw.githubusercontent.com/owner/repo/HEAD/book/images/a.png)"
                      "\n\n*The caption.*")
    # :label: numbers the equation, and the option line is not part of the math.
    assert renderer.convert(math) == "$$\nL = -\\log p \\tag{1.1}\n$$"
    assert renderer.convert("See {eq}`eq-loss`.") == f"See [(1.1)]({SITE}/01_x.html#equation-eq-loss)."
    # A note has no title argument: its first line is text.
    assert renderer.convert("```{note} Read this.\nThen this.\n```") == "> **Note**\n>\n> Read this.\n>\n> Then this."


def test_fences_inside_fences(tmp_path):
    renderer = _renderer(tmp_path, ["# X"])
    # A code block inside a solution: the inner fence does not close the outer one.
    solution = "````{admonition} Solution\n:class: dropdown\n```python\nprint(1)\n```\n\nAfter the code.\n````"
    assert renderer.convert(solution) == ("<details>\n<summary>Solution</summary>\n\n```python\nprint(1)\n```\n\n"
                                          "After the code.\n\n</details>")
    # A colon fence directly inside a longer one: the inner one is a directive, not an option line.
    nested = renderer.convert("::::{note}\n:::{tip}\nInner.\n:::\n::::")
    assert nested == "> **Note**\n>\n>\n> > **Tip**\n> >\n> > Inner.\n>"
    # A solution inside a list item keeps the item's indent; the list goes on after it.
    item = renderer.convert("1. Do it.\n\n   ```{admonition} Solution\n   :class: dropdown\n   Done.\n   ```\n"
                            "2. Next.")
    assert item == "1. Do it.\n\n   <details>\n   <summary>Solution</summary>\n\n   Done.\n\n   </details>\n\n2. Next."
    # A code block is copied byte for byte, MyST-looking lines and all.
    code = "````markdown\n```{note}\n{term}`FGSM`\n```\n````"
    assert renderer.convert(code) == code
    with pytest.raises(EditionError, match="never closed"):
        renderer.convert("````{admonition} Solution\nText.\n```")


# --------------------------------------------------------------------------- citations


def test_a_citation_of_several_keys_reads_as_on_the_site(tmp_path):
    renderer = _renderer(tmp_path, ["# X"])
    page = f"{SITE}/references.html"
    cited = renderer.convert("{cite:p}`goodfellow2015, carlini2017,vaneverdingen2024`")
    assert cited == (f"([Goodfellow et al., 2015]({page}); [Carlini and Wagner, 2017]({page}); "
                     f"[van Everdingen, 2024]({page}))")
    textual = renderer.convert("As {cite:t}`carlini2017,goodfellow2015` show.")
    assert textual == f"As [Carlini and Wagner (2017)]({page}); [Goodfellow et al. (2015)]({page}) show."
    # A key the bibliography lacks shows as itself (the site's build fails on it).
    assert renderer.convert("{cite:p}`nobody1999`") == f"([nobody1999]({page}))"


# --------------------------------------------------------------------------- glue


def test_glue_roles_paste_the_runs_values(tmp_path):
    glue = {"accuracy": {"text/plain": "0.80071"}, "name": {"text/plain": "'full_run*'"},
            "count": {"text/plain": "1234"}}
    renderer = _renderer(tmp_path, ["# X"], glue=glue, other_glue={"eps": {"text/plain": "0.031"}})
    line = ("Accuracy {glue:text}`accuracy:.1%` of {glue:text}`count:,d` images ({glue}`name`), "
            "eps {glue:text}`02_y.ipynb::eps:.3f`; `{glue:text}`accuracy`` is code.")
    assert renderer.convert(line) == ("Accuracy 80.1% of 1,234 images (full\\_run\\*), eps 0.031; "
                                      "`{glue:text}`accuracy`` is code.")
    with pytest.raises(EditionError, match="glue key 'missing'"):
        renderer.convert("{glue:text}`missing`")


# --------------------------------------------------------------------------- figures and ids


def test_named_figures_are_numbered_in_page_order(tmp_path):
    markdown = ["# X",
                "```{glue:figure} curve\n:name: Fig_Curve\n\nThe curve.\n```",
                "```{figure} images/b.png\n\nAn unnamed figure, numbered too.\n```",
                "See {numref}`fig-first`, {numref}`Fig_Curve` and {numref}`Figure %s <fig-last>`."]
    code = [_figure_cell({"name": "fig-first", "caption": "First."}), _figure_cell({"caption": "Unnamed."}),
            _figure_cell({"name": "fig-last", "caption": "Last."})]
    glue = {"curve": {"text/plain": "<Figure>", "image/png": "iVBORw0KGgo="}}
    renderer = _renderer(tmp_path, markdown, code, glue=glue)
    # Markdown cells come first in this chapter, then the code cells: that is the page order.
    targets = renderer.book.targets
    assert [targets[name].number for name in ("Fig_Curve", "fig-first", "fig-last")] == ["1.1", "1.3", "1.5"]
    # The code cells' figures, by name or caption, for the caption cells the edition adds.
    assert renderer.book.figures["01_x"] == {"fig-first": "1.3", "caption:Unnamed.": "1.4", "fig-last": "1.5"}
    # The glued figure's caption carries its number; its anchor is docutils' id of the name.
    assert "*Fig. 1.1: The curve.*" in renderer.convert(markdown[1])
    assert renderer.convert(markdown[3]) == (f"See [Fig. 1.3]({SITE}/01_x.html#fig-first), [Fig. 1.1]({SITE}/"
                                             f"01_x.html#fig-curve) and [Figure 1.5]({SITE}/01_x.html#fig-last).")


def test_ids_are_those_docutils_and_sphinx_give(tmp_path):
    # docutils' make_id: lower case, runs of other characters one hyphen, no leading digit.
    assert parse.label_id("Fig_Curve") == "fig-curve" and parse.label_id("3d-plot") == "d-plot"
    assert parse.equation_id("eq_One") == "equation-eq-one"
    # Sphinx's glossary ids keep the case; a second term with the same id gets a number.
    ids = parse.GlossaryIds()
    assert [ids("FGSM"), ids("Projected gradient descent"), ids("FGSM")] == [
        "term-FGSM", "term-Projected-gradient-descent", "term-0"]
    renderer = _renderer(tmp_path, ["# X"])
    linked = renderer.convert("{term}`fgsm`, {term}`PGD <projected gradient descent>`, {ref}`sec-second`, "
                              "[the second](02_y.ipynb#sec-second).")
    assert linked == (f"[fgsm]({SITE}/glossary.html#term-FGSM), "
                      f"[PGD]({SITE}/glossary.html#term-Projected-gradient-descent), "
                      f"[A section]({SITE}/02_y.html#sec-second), [the second]({SITE}/02_y.html#sec-second).")
    assert renderer.book.titles["glossary"] == "Glossary"  # the front matter is not the title


def test_every_anchor_the_edition_links_to_is_on_the_built_site():
    if not os.environ.get("ADVLIB_BOOK_HTML"):
        pytest.skip("set ADVLIB_BOOK_HTML to a built site (make test does) to check the edition's anchors")
    site = Path(os.environ["ADVLIB_BOOK_HTML"])
    pages_url = re.escape(f"{_pages_url()}book/")
    missing, checked = [], 0
    for path in sorted((REPOSITORY / "colab").glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for page, anchor in re.findall(rf"\]\({pages_url}([\w-]+)\.html#([^)\s]+)\)", cell.source):
                html = (site / "book" / f"{page}.html").read_text()
                checked += 1
                if f'id="{anchor}"' not in html:
                    missing.append(f"{path.name}: {page}.html#{anchor}")
    assert checked and not missing, missing


def _pages_url() -> str:
    from editions.layout import Site

    return Site.from_config(REPOSITORY).pages_url

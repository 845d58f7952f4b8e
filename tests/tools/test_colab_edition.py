"""The Colab edition (colab/, written by tools/colab_edition.py) is in step and reads well.

- the committed edition equals a fresh render of book/ and the saved full run;
- every chapter's Markdown, rendered by a CommonMark/GFM renderer and opened in headless
  Chromium, shows no raw MyST, keeps solutions in closed <details>, and shows every
  glued value (screenshots in artifacts/colab-screenshots/);
- the generated setup cell fails with one clear message when advlib cannot be installed;
- the MyST constructs the chapters may use soon ({glue:figure}, {numref}, {ref}, {doc},
  {term}, {cite}, labelled $$ math) convert, on a small made-up chapter.

The browser test is skipped without /usr/bin/chromium or Playwright, unless
ADVLIB_REQUIRE_BROWSER=1 is set (then it fails).
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

import colab_edition
from tests.support.paths import REPOSITORY

COLAB = REPOSITORY / "colab"
EDITION = sorted(COLAB.glob("[0-9][0-9]_*.ipynb"))
SCREENSHOTS = REPOSITORY / "artifacts" / "colab-screenshots"
RAW_MYST = ["{glue", "{term}", "{cite", "{numref}", "{eq}", "{ref}", "{doc}", "```{", ":::{", ":class:", ":label:"]




def test_edition_covers_every_chapter():
    chapters = sorted(path.name for path in (REPOSITORY / "book").glob("[0-9][0-9]_*.ipynb"))
    assert [path.name for path in EDITION] == chapters


def test_committed_edition_is_in_step():
    problems = colab_edition.differences(REPOSITORY)
    assert not problems, (
        "colab/ is out of date: run `.venv/bin/python tools/colab_edition.py render`\n  " + "\n  ".join(problems)
    )


def _expected_glue(chapter: str) -> list[tuple[str, str]]:
    """(role content, formatted value) of every {glue:text} role in a chapter's Markdown."""
    book = colab_edition.load_book(REPOSITORY)
    renderer = colab_edition.ChapterRenderer(book, chapter)
    source = nbformat.read(REPOSITORY / "book" / f"{chapter}.ipynb", as_version=4)
    found = []
    for cell in source.cells:
        if cell.cell_type == "markdown":
            for content in re.findall(r"\{glue:text\}`([^`]*)`", cell.source):
                found.append((content, renderer.glue_text(content)))
    return found


def _page_html(notebook_path: Path) -> str:
    from markdown_it import MarkdownIt

    markdown = MarkdownIt("gfm-like", {"html": True})
    notebook = nbformat.read(notebook_path, as_version=4)
    parts = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            parts.append(f'<section class="md" data-id="{cell.id}">{markdown.render(cell.source)}</section>')
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>"
        f"{html.escape(notebook_path.name)}</title><style>body{{max-width:60em;margin:2em auto;"
        "font-family:sans-serif} blockquote{border-left:4px solid #888;margin-left:0;padding-left:1em}"
        "</style></head><body>" + "\n".join(parts) + "</body></html>"
    )


_PAGE_FACTS_JS = """
() => ({
  text: document.body.innerText,
  openDetails: [...document.querySelectorAll('details')].filter(d => d.open).length,
  details: [...document.querySelectorAll('details')].map(d => ({
    summary: d.querySelector('summary') ? d.querySelector('summary').textContent : '',
    visible: d.querySelector('summary') ? d.getBoundingClientRect().height > 0 : false})),
  solutionsOutside: [...document.querySelectorAll('p, strong, blockquote')]
      .filter(e => /^\\s*Solution( \\d+)?\\s*$/.test(e.textContent) && !e.closest('details')).length,
  mystCode: [...document.querySelectorAll('code[class^="language-{"]')].map(e => e.className),
  brokenImages: [...document.querySelectorAll('img')].filter(i => !i.complete || i.naturalWidth === 0)
      .map(i => i.alt),
})
"""


@pytest.mark.browser
@pytest.mark.parametrize("path", EDITION, ids=[path.stem for path in EDITION])
def test_edition_markdown_renders_cleanly(path, browser, tmp_path):
    page_file = tmp_path / f"{path.stem}.html"
    page_file.write_text(_page_html(path))
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    try:
        page.goto(page_file.as_uri())
        facts = page.evaluate(_PAGE_FACTS_JS)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{path.stem}.png"), full_page=True)
    finally:
        page.close()
    text = facts["text"]
    problems = [f"raw MyST {needle!r} in the page" for needle in RAW_MYST if needle in text]
    problems += [f"a MyST directive rendered as code ({name})" for name in facts["mystCode"]]
    if facts["openDetails"]:
        problems.append(f"{facts['openDetails']} <details> element(s) are open")
    if facts["solutionsOutside"]:
        problems.append(f"{facts['solutionsOutside']} exercise solution(s) outside <details>")
    problems += [f"image {alt!r} does not load" for alt in facts["brokenImages"]]
    source = nbformat.read(REPOSITORY / "book" / path.name, as_version=4)
    solutions = sum(len(re.findall(r"^`{3,}\{admonition\} Solution.*\n:class: dropdown", cell.source, re.M))
                    for cell in source.cells if cell.cell_type == "markdown")
    shown = sum(1 for item in facts["details"] if item["summary"].startswith("Solution"))
    if shown != solutions:
        problems.append(f"{solutions} solutions in the chapter, {shown} 'Solution' <details> in the edition")
    flat = re.sub(r"\s+", " ", text)
    for content, value in _expected_glue(path.stem):
        if value not in flat:
            problems.append(f"glued value {content!r} = {value!r} is missing")
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


def _edition_cell(notebook: Path, cell_id: str) -> str:
    return next(cell.source for cell in nbformat.read(notebook, as_version=4).cells if cell.get("id") == cell_id)


HARNESS = textwrap.dedent(
    """
    import importlib.abc, json, sys, types

    # A stand-in google.colab module: the setup cell then behaves as in Colab.
    google = types.ModuleType("google")
    google.colab = types.ModuleType("google.colab")
    sys.modules["google"], sys.modules["google.colab"] = google, google.colab

    # Hide advlib (installed in this environment) so that the cell tries to install it.
    class HideAdvlib(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "advlib" or name.startswith("advlib."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    import importlib.util
    _find_spec = importlib.util.find_spec
    importlib.util.find_spec = lambda name, *a: None if name.split(".")[0] == "advlib" else _find_spec(name, *a)
    sys.meta_path.insert(0, HideAdvlib())

    # Run the cells as Colab does ("Run all"): in IPython, stopping at the first error.
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance(colors="NoColor")
    for number, code in enumerate(json.load(open(sys.argv[1]))):
        print(f"--- running cell {number}", flush=True)
        if not shell.run_cell(code).success:
            sys.exit(1)
    """
)


def test_setup_cell_fails_with_one_clear_error(tmp_path):
    # The cells render writes first (test_setup_cell_installs_from_the_configured_repository
    # checks that every notebook in colab/ has them), then a cell of the chapter.
    cells = [colab_edition.PROFILE_TEMPLATE, colab_edition.setup_source(colab_edition.Site.from_config(REPOSITORY)),
             "import advlib.attacks  # the next cell of the chapter"]
    (tmp_path / "cells.json").write_text(json.dumps(cells))
    (tmp_path / "harness.py").write_text(HARNESS)
    env = dict(os.environ, ADVLIB_INSTALL_URL="git+file:///nonexistent", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_INDEX="1", GIT_TERMINAL_PROMPT="0", PYTHONPATH="")
    result = subprocess.run([sys.executable, "harness.py", "cells.json"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "SETUP FAILED: pip could not install advlib from git+file:///nonexistent" in output, output
    assert "What to do:" in output and "internet" in output, output
    assert "--- running cell 2" not in output, "the cells after the setup cell ran:\n" + output
    # A single error, shown as one line: no traceback, no chained or follow-up errors.
    errors = [line for line in output.splitlines() if re.match(r"^\w+(Error|Exception|Exit)\b", line)]
    assert len(errors) == 1, output
    assert errors[0].startswith("AdvlibSetupError: pip could not install advlib from git+file:///nonexistent"), output
    assert "Traceback" not in output and "During handling" not in output, output
    assert "ModuleNotFoundError" not in output and "ImportError" not in output, output


def test_setup_cell_installs_from_the_configured_repository():
    site = colab_edition.Site.from_config(REPOSITORY)
    for notebook in EDITION:
        setup = _edition_cell(notebook, colab_edition.SETUP_ID)
        assert setup == colab_edition.setup_source(site)
        assert f'REPOSITORY_URL = "{site.repository_url}"' in setup
        assert "ADVLIB_INSTALL_URL" in setup and "advlib.book.start()" in setup
        cells = nbformat.read(notebook, as_version=4).cells
        assert cells[0].id == colab_edition.NOTE_ID and site.page(notebook.stem) in cells[0].source
        profile = _edition_cell(notebook, colab_edition.PROFILE_ID)
        assert profile == colab_edition.PROFILE_TEMPLATE.rstrip("\n")
        assert 'PROFILE = "full"  # @param ["full", "quick"]' in profile
        assert sum("advlib.book.start()" in cell.source for cell in cells if cell.cell_type == "code") == 1


# A small made-up chapter with the MyST the chapters may use soon.
FAKE_MARKDOWN = [
    "# A made-up chapter",
    "(sec-attack)=\n## The attack\n\nThe value is {glue:text}`accuracy:.2f` and {glue:text}`name`.",
    "```{math}\n:label: eq-one\na = b\n```\n\nSee {eq}`eq-one`, {numref}`fig-curve`, {numref}`Figure %s <fig-curve>`, "
    "{ref}`sec-attack`, {ref}`the attack <sec-attack>`, {doc}`01_x`, {term}`FGSM` and "
    "{cite}`goodfellow2015`. Code `{glue:text}` stays as it is. See [the chapter](01_x.ipynb).",
    "```{glue:figure} curve\n:name: fig-curve\n:alt: A curve.\n\nThe curve.\n```",
    "````{admonition} Solution\n:class: dropdown\nText.\n\n```python\nprint(1)\n```\n````",
    ":::{warning}\nCareful.\n:::",
]


def test_myst_constructs_convert(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "_config.yml").write_text("title: T\nrepository:\n  url: https://github.com/Owner/repo\n")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text) for text in FAKE_MARKDOWN]
                                        + [nbformat.v4.new_code_cell("import advlib.book\nadvlib.book.start()")])
    nbformat.write(notebook, tmp_path / "book" / "01_x.ipynb")
    runs = {"01_x": {"profile": "full", "data_source": "d", "cells": {},
                     "glue": {"accuracy": {"text/plain": "0.8007"}, "name": {"text/plain": "'full'"},
                              "curve": {"text/plain": "<Figure>", "image/png": "iVBORw0KGgo="}}}}
    book = colab_edition.load_book(tmp_path, runs=runs)
    renderer = colab_edition.ChapterRenderer(book, "01_x")
    text = "\n\n".join(renderer.convert(cell) for cell in FAKE_MARKDOWN)
    page = "https://owner.github.io/repo/book/01_x.html"
    assert "The value is 0.80 and full." in text
    assert "$$\na = b \\tag{1.1}\n$$" in text
    assert f"[(1.1)]({page}#equation-eq-one)" in text
    assert f"[Fig. 1.1]({page}#fig-curve)" in text and f"[Figure 1.1]({page}#fig-curve)" in text
    assert f"[The attack]({page}#sec-attack)" in text and f"[the attack]({page}#sec-attack)" in text
    assert f"[A made-up chapter]({page})" in text and f"[the chapter]({page})" in text
    assert "*FGSM*" in text and "(goodfellow2015)" in text and "Code `{glue:text}` stays" in text
    assert "![A curve.](data:image/png;base64,iVBORw0KGgo=)" in text and "*Fig. 1.1: The curve.*" in text
    assert "<details>\n<summary>Solution</summary>\n\nText.\n\n```python\nprint(1)\n```\n\n</details>" in text
    assert "> **Warning**\n>\n> Careful." in text
    assert "(sec-attack)=" not in text
    # With a glossary page, a bibliography page and a .bib file, terms and citations link there.
    (tmp_path / "book" / "glossary.md").write_text("# Glossary\n\n```{glossary}\nFGSM\n  The attack.\n```\n")
    (tmp_path / "book" / "references.md").write_text("# References\n\n```{bibliography}\n```\n")
    (tmp_path / "refs.bib").write_text("@inproceedings{goodfellow2015,\n  author = {Goodfellow, Ian J. and "
                                       "Shlens, Jonathon and Szegedy, Christian},\n  year = {2015}\n}\n")
    with (tmp_path / "_config.yml").open("a") as config:
        config.write("bibtex_bibfiles:\n  - refs.bib\n")
    renderer = colab_edition.ChapterRenderer(colab_edition.load_book(tmp_path, runs=runs), "01_x")
    linked = renderer.convert("{term}`fgsm`, {term}`the attack <FGSM>`, {cite:t}`goodfellow2015`, {cite:p}`goodfellow2015`")
    site = "https://owner.github.io/repo/book"
    assert linked == (f"[fgsm]({site}/glossary.html#term-FGSM), [the attack]({site}/glossary.html#term-FGSM), "
                      f"[Goodfellow et al. (2015)]({site}/references.html), "
                      f"([Goodfellow et al., 2015]({site}/references.html))")
    with pytest.raises(colab_edition.EditionError, match="glue key 'missing'"):
        renderer.convert("{glue:text}`missing:.3f`")
    with pytest.raises(colab_edition.EditionError, match="unknown directive"):
        renderer.convert("```{exercise}\nx\n```")


def test_extract_refuses_text_naming_the_build_machine():
    run = {"cells": {"a": {"outputs": [{"text": "weights from /tmp/fullbook/advlib/x.h5"}]}}}
    assert colab_edition.machine_text(run, "03_fgsm")
    assert not colab_edition.machine_text({"data": {"image/png": "ab/tmpcd", "text/plain": "ok"}})


def _fake_build(tmp_path, stdout):
    """A one-chapter book under tmp_path/repo and its 'executed' copy under tmp_path/out."""
    root, out = tmp_path / "repo", tmp_path / "out"
    (root / "book").mkdir(parents=True)
    (root / "_config.yml").write_text("title: T\nrepository:\n  url: https://github.com/owner/repo\n")
    cells = [nbformat.v4.new_markdown_cell("# X\n\nValue {glue:text}`value:.2f`.", id="m1"),
             nbformat.v4.new_code_cell("import advlib.book\nprofile = advlib.book.start()", id="c1"),
             nbformat.v4.new_code_cell("print(path)", id="c2")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), root / "book" / "01_x.ipynb")
    executed = nbformat.v4.new_notebook(cells=[cell.copy() for cell in cells])
    executed.cells[1].execution_count, executed.cells[2].execution_count = 1, 2
    executed.cells[1].outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="TF chatter\n"),
        nbformat.v4.new_output("stream", name="stdout", text="This run: profile 'full': all; data: d\n")]
    executed.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text=stdout)]
    (out / "_build" / "jupyter_execute" / "book").mkdir(parents=True)
    nbformat.write(executed, out / "_build" / "jupyter_execute" / "book" / "01_x.ipynb")
    glue = {"value": {"output_type": "display_data", "data": {"text/plain": "0.8007"}, "metadata": {}}}
    (out / "_build" / "jupyter_execute" / "book" / "01_x.glue.json").write_text(json.dumps(glue))
    return root, out


def test_extract_saves_the_run_and_render_uses_it(tmp_path):
    root, out = _fake_build(tmp_path, "")
    root_stdout = f"weights at {root}/advlib/pretrained/x.h5\n"
    executed_path = out / "_build" / "jupyter_execute" / "book" / "01_x.ipynb"
    executed = nbformat.read(executed_path, as_version=4)
    executed.cells[2].outputs[0].text = root_stdout
    nbformat.write(executed, executed_path)
    [saved] = colab_edition.extract(out, root)
    run = json.loads(saved.read_text())
    assert run["cells"]["c2"]["outputs"][0]["text"] == "weights at advlib/pretrained/x.h5\n"
    assert [output["name"] for output in run["cells"]["c1"]["outputs"]] == ["stdout"]  # no stderr
    text = colab_edition.render_chapter(colab_edition.load_book(root), root / "book" / "01_x.ipynb")
    notebook = nbformat.reads(text, as_version=4)
    assert "Value 0.80." in notebook.cells[1].source
    assert [cell.id for cell in notebook.cells[:2]] == [colab_edition.NOTE_ID, "m1"]
    assert notebook.cells[-1].outputs[0].text == "weights at advlib/pretrained/x.h5\n"


def test_extract_fails_on_text_naming_the_build_machine(tmp_path):
    root, out = _fake_build(tmp_path, "cache in /tmp/somewhere-else/x.npz\n")
    with pytest.raises(colab_edition.EditionError, match="naming the build machine"):
        colab_edition.extract(out, root)
    assert not (root / "colab" / "_book_run" / "01_x.json").exists()


def test_a_chapter_taken_from_the_build_cache_is_read_from_the_jupyter_cache(tmp_path):
    # MyST-NB writes a chapter it did not re-execute to jupyter_execute without outputs;
    # extract must then find them in the build's jupyter-cache, or it would refuse a
    # partial rebuild (or, worse, save a chapter without outputs).
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    source = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('from the cache')")])
    ran = nbformat.from_dict(json.loads(nbformat.writes(source)))
    ran.cells[0].execution_count = 1
    ran.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="from the cache\n")]
    get_cache(str(tmp_path / "_build" / ".jupyter_cache")).cache_notebook_bundle(
        CacheBundleIn(ran, "book/01_x.ipynb"), check_validity=False
    )
    copy = tmp_path / "_build" / "jupyter_execute" / "book" / "01_x.ipynb"
    copy.parent.mkdir(parents=True)
    nbformat.write(source, copy)  # what MyST-NB leaves for a cached chapter
    executed = colab_edition._executed(copy, source, tmp_path)
    assert executed.cells[0].execution_count == 1
    assert executed.cells[0].outputs[0]["text"] == "from the cache\n"
    # A chapter whose code the cache has never run keeps the empty copy (extract then names it).
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('never ran')")])
    nbformat.write(other, copy)
    assert colab_edition._executed(copy, other, tmp_path).cells[0].execution_count is None


def test_a_chapter_executed_by_the_build_is_read_from_the_cache_not_the_merged_copy(tmp_path):
    # For a chapter it executed, MyST-NB's jupyter_execute copy has the cell's stdout merged
    # into the first stream and the later stream still beside it (nb_merge_streams), so
    # reading that copy printed the later lines twice in the Colab edition.
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    source = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('a'); work(); print('b')")])
    ran = nbformat.from_dict(json.loads(nbformat.writes(source)))
    ran.cells[0].execution_count = 1
    ran.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="a\n"),
                            nbformat.v4.new_output("stream", name="stdout", text="b\n")]
    get_cache(str(tmp_path / "_build" / ".jupyter_cache")).cache_notebook_bundle(
        CacheBundleIn(ran, "book/01_x.ipynb"), check_validity=False
    )
    copy = tmp_path / "_build" / "jupyter_execute" / "book" / "01_x.ipynb"
    copy.parent.mkdir(parents=True)
    merged_copy = nbformat.from_dict(json.loads(nbformat.writes(ran)))
    merged_copy.cells[0].outputs[0].text = "a\nb\n"  # what MyST-NB leaves: merged, plus "b\n"
    nbformat.write(merged_copy, copy)
    executed = colab_edition._executed(copy, source, tmp_path)
    outputs = colab_edition._clean_outputs(executed.cells[0].outputs)
    assert [output["text"] for output in outputs] == ["a\nb\n"]


def test_cells_the_site_hides_are_collapsed_behind_a_title_in_colab():
    assert colab_edition.collapsed_title("# Expectation 2, judged on the same numbers.\nx = 1") == (
        "Expectation 2, judged on the same numbers")
    assert colab_edition.collapsed_title("figure = advlib.plots.images.grid(x)\nplt.show()") == "Draw the figure"
    assert colab_edition.collapsed_title("advlib.book.glue('a', 1)") == "Bookkeeping: the numbers quoted in the text"
    # Every hidden cell of the committed edition opens with its title and is a form.
    for path in sorted((REPOSITORY / "colab").glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and set(cell.metadata.get("tags", [])) & {"remove-input", "hide-input"}:
                assert cell.source.startswith("# @title "), f"{path.name}: {cell.source[:60]!r}"
                assert cell.metadata.get("cellView") == "form"


# --------------------------------------------------------------------------- captions, site text, profile form


def _plain(markdown: str) -> str:
    """The text a reader sees of ``markdown`` (rendered, tags dropped, white space collapsed)."""
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("gfm-like", {"html": True}).render(markdown)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", rendered)).split()).replace(" .", ".")


def _shown_figure_cells(notebook):
    """(cell key, cell) of the code cells the site draws a figure for, in order."""
    for index, cell in enumerate(notebook.cells):
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type == "code" and not tags & {"remove-cell", "remove-output"}:
            figure = (cell.metadata.get("mystnb") or {}).get("figure") or {}
            if figure.get("caption") or figure.get("name"):
                yield colab_edition.cell_key(cell, index), cell


@pytest.mark.parametrize("path", EDITION, ids=[path.stem for path in EDITION])
def test_every_figure_keeps_its_caption_and_alt_text(path):
    # On the site MyST-NB shows mystnb.figure's caption, numbered per chapter in page order
    # ("Fig. 3.2"), and mystnb.image's alt text; Colab ignores that metadata, so the
    # edition puts both in a Markdown cell right under the figure's code cell.
    renderer = colab_edition.ChapterRenderer(colab_edition.load_book(REPOSITORY), path.stem)
    cells = nbformat.read(path, as_version=4).cells
    position = {cell.id: index for index, cell in enumerate(cells)}
    problems = []
    for number, (key, cell) in enumerate(_shown_figure_cells(nbformat.read(REPOSITORY / "book" / path.name, as_version=4)), 1):
        figure, alt = cell.metadata["mystnb"]["figure"], (cell.metadata["mystnb"].get("image") or {}).get("alt", "")
        if key not in position:
            problems.append(f"figure cell {key} is missing")
            continue
        after = cells[position[key] + 1] if position[key] + 1 < len(cells) else None
        shown = _plain(after.source) if after is not None and after.cell_type == "markdown" else ""
        caption = f"Fig. {int(path.name[:2])}.{number}: " + _plain(renderer.convert(figure.get("caption", "")))
        if caption not in shown:
            problems.append(f"cell {key}: the next cell does not show {caption!r}")
        if alt and f"Figure description: {' '.join(alt.split())}" not in shown:
            problems.append(f"cell {key}: the next cell does not show the alt text {alt[:60]!r}...")
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


def _made_up_chapter(tmp_path, markdown, code_cells):
    (tmp_path / "book").mkdir()
    (tmp_path / "_config.yml").write_text("title: T\nrepository:\n  url: https://github.com/owner/repo\n")
    cells = [nbformat.v4.new_markdown_cell(markdown, id="m1"),
             nbformat.v4.new_code_cell("import advlib.book\nprofile = advlib.book.start()", id="setup"), *code_cells]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / "book" / "01_x.ipynb")
    image = {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"},
             "metadata": {}}
    runs = {"01_x": {"profile": "full", "data_source": "d", "glue": {},
                     "cells": {cell.id: {"source_sha256": colab_edition.source_hash(cell.source),
                                         "execution_count": 1, "outputs": [image]} for cell in code_cells}}}
    return colab_edition.load_book(tmp_path, runs=runs), tmp_path / "book" / "01_x.ipynb"


def _figure_cell(cell_id, figure, alt="", tags=()):
    metadata = {"mystnb": {"figure": figure, **({"image": {"alt": alt}} if alt else {})}, "tags": list(tags)}
    return nbformat.v4.new_code_cell("plt.show()", id=cell_id, metadata=metadata)


def test_figure_caption_markdown_numbers_as_the_site_does(tmp_path):
    cells = [_figure_cell("gone", {"caption": "Removed.", "name": "fig-gone"}, tags=["remove-cell"]),
             _figure_cell("a", {"caption": "Loss of {term}`FGSM` at $T$.", "name": "fig-a"}, alt="A *curve*."),
             _figure_cell("b", {"caption": "Unnamed, numbered too."}),
             _figure_cell("c", {}, alt="Only an alt text."),
             nbformat.v4.new_code_cell("x = 1", id="plain")]
    book, path = _made_up_chapter(tmp_path, "# X\n\nSee {numref}`fig-a`.", cells)
    renderer = colab_edition.ChapterRenderer(book, "01_x")
    # A removed cell draws no figure on the site, so it takes no number.
    assert colab_edition.figure_caption_markdown(renderer, cells[0]) is None
    # The caption's MyST is converted; the alt text is plain text, escaped.
    first = colab_edition.figure_caption_markdown(renderer, cells[1])
    assert _plain(first) == "Fig. 1.1: Loss of FGSM at $T$. Figure description: A *curve*."
    assert colab_edition.figure_caption_markdown(renderer, cells[2]) == "*Fig. 1.2: Unnamed, numbered too.*"
    assert colab_edition.figure_caption_markdown(renderer, cells[3]) == "Figure description: Only an alt text."
    assert colab_edition.figure_caption_markdown(renderer, cells[4]) is None
    notebook = nbformat.reads(colab_edition.render_chapter(book, path), as_version=4)
    ids = [cell.id for cell in notebook.cells]
    assert ids[ids.index("a") + 1] == "a-caption" and ids[ids.index("b") + 1] == "b-caption"
    assert "gone-caption" not in ids and "plain-caption" not in ids
    # A cell the site would draw as two figures (two images) would shift the numbers: refused.
    book.runs["01_x"]["cells"]["b"]["outputs"] *= 2
    with pytest.raises(colab_edition.EditionError, match="shows 2 outputs"):
        colab_edition.render_chapter(book, path)


def test_no_colab_notebook_says_what_only_makes_sense_on_the_site():
    from editions import site_text

    found = {}
    for path in EDITION:
        for cell in nbformat.read(path, as_version=4).cells:
            phrases = site_text.site_only_phrases(site_text.reader_text(cell))
            if phrases:
                found.setdefault(path.name, []).extend(phrase for phrase, _ in phrases)
    assert not found, f"site furniture named in the Colab edition: {found}"
    # The list finds the site's sentences and leaves the chapters' ordinary prose alone.
    for site, _ in site_text.REPLACEMENTS[:3]:
        assert site_text.site_only_phrases(site), site
    for prose in ("while in the report it was ahead, by a small margin", "Change the code on the page.",
                  "run the page's `fgsm_at_temperature`", "in the right-hand panel of the figure",
                  "whose solutions are hidden behind a toggle", "the margin loss on the logits"):
        assert not site_text.site_only_phrases(prose), prose


def test_render_refuses_site_only_text_it_has_no_colab_wording_for(tmp_path):
    book, path = _made_up_chapter(tmp_path, "# X\n\nUse the download button at the top of the page.", [])
    with pytest.raises(colab_edition.EditionError, match="(?s)only makes sense on the site.*download button"):
        colab_edition.render_chapter(book, path)


def test_profile_form_says_what_each_profile_does(tmp_path, monkeypatch):
    # The form says both profiles load shipped models: every registry model must ship for
    # both, so that no run in Colab trains one; and the quick line's image counts are the
    # quick profile's.
    from advlib.plan import registry
    from advlib.results import store

    monkeypatch.setenv("ADVLIB_RESULTS", str(tmp_path / "empty"))  # only what ships counts
    for profile in ("full", "quick"):
        missing = [name for name in registry.MODELS if not store.find_saved(name, profile)]
        assert not missing, f"not shipped for {profile}, so Colab would train them: {missing}"
    form = "\n".join(line for line in colab_edition.PROFILE_TEMPLATE.splitlines() if "@markdown" in line)
    train, test = registry.PROFILES["quick"].per_class
    assert f"trained on {10 * train:,} images and tested on {10 * test:,}" in form
    assert "trains" not in form and "minutes" not in form


def test_the_live_figure_becomes_one_line_pointing_at_the_site(tmp_path):
    # {fgsm-playground} (_ext/fgsm_playground.py) needs the site's TensorFlow.js: Colab and
    # the classroom edition get a link to the figure instead of raw MyST or an error.
    book, path = _made_up_chapter(tmp_path, "# X\n\nBefore.\n\n```{fgsm-playground}\n```\n\nAfter.", [])
    text = colab_edition.ChapterRenderer(book, path.stem).convert(
        "Before.\n\n```{fgsm-playground}\n```\n\nAfter.")
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[0] == "Before." and lines[-1] == "After." and len(lines) == 3
    assert "fgsm-playground}" not in text
    assert re.search(r"\]\(https://owner\.github\.io/repo/book/\d\d_\w+\.html#fgsm-playground\)", lines[1]), lines[1]
    assert "#fgsm-playground)" in colab_edition.render_chapter(book, path)  # the whole chapter renders too

"""Whole notebooks of the edition, and colab/ written or compared with a fresh render.

``render`` reads ``book/NN_*.ipynb`` (never written), ``_config.yml`` (the repository URL,
so that ``tools/set_repository_url.py`` followed by ``render`` keeps the edition in step)
and the saved run (``extract``), and writes ``colab/NN_*.ipynb`` and ``colab/README.md``.
It is fast and deterministic; ``check`` re-renders in memory and compares.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import nbformat

from . import EditionError, figures, site_text
from .book import Book, load_book
from .cells import PROFILE_TEMPLATE, collapsed_title, setup_source
from .convert import ChapterRenderer, escape_markdown
from .extract import machine_text
from .figures import figure_caption_markdown
from .layout import (BOOK_DIR, NOTE_ID, OUT_DIR, PROFILE_ID, PUBLISHED_BRANCH, ROOT, RUN_DIR, SETUP_ID, TOOL,
                     cell_key, chapters, source_hash)


def _outputs(run_cell: dict) -> list:
    outputs = []
    for output in run_cell["outputs"]:
        output = dict(output)
        if output["output_type"] == "execute_result":
            output["execution_count"] = run_cell.get("execution_count")
        outputs.append(nbformat.from_dict(output))
    return outputs



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
            text, _ = site_text.for_colab(cell.source)
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
            shown = figures.displayed_outputs(saved["outputs"])
            if shown != 1:  # the site draws one numbered figure per displayed output
                raise EditionError(f"{chapter}: code cell {key} has a figure caption but shows {shown} outputs in "
                                   "the book's run, so the site's figure numbers and the edition's would differ: "
                                   "make the cell display exactly one image (end it with plt.show())")
            cells.append(nbformat.v4.new_markdown_cell(caption, id=f"{key}-caption"))
    if stale:
        raise EditionError(f"{chapter}: code cells {', '.join(stale)} are new or changed since the saved full "
                           f"run: build the full book and run `python {TOOL} extract BUILD_DIR`, then render")
    site_only = [f"cell {cell.id}: {phrase!r} ({why})" for cell in cells
                 for phrase, why in site_text.site_only_phrases(site_text.reader_text(cell))]
    if site_only:
        raise EditionError(f"{chapter}: text that only makes sense on the site would reach the edition:\n    "
                           + "\n    ".join(site_only) + "\n  say what is true in Colab: add the sentence and its "
                           "Colab wording to REPLACEMENTS in tools/editions/site_text.py")
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
                used |= site_text.for_colab(cell.source)[1]
    errors += [f"REPLACEMENTS in tools/editions/site_text.py: {site!r} is in no chapter any more: remove the entry, "
               "or change it to the chapter's new wording" for index, (site, _) in
               enumerate(site_text.REPLACEMENTS) if index not in used]
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

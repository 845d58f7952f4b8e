"""The book's notebooks and configuration agree with each other and with the house style."""

import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())


def toc_entries(node):
    """Every 'file' named in the table of contents, root first."""
    entries = [node["root"]] if "root" in node else []
    for key in ("chapters", "sections", "parts"):
        for child in node.get(key, []):
            if "file" in child:
                entries.append(child["file"])
            entries.extend(toc_entries(child))
    return entries


NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
# The chapters (NN_*.ipynb); other notebooks, such as the instructors' page, are back matter.
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def test_every_toc_entry_exists_and_every_notebook_is_listed():
    entries = toc_entries(TOC)
    for entry in entries:
        assert list(ROOT.glob(entry + ".*")), f"_toc.yml lists {entry}, which does not exist"
    listed = {entry for entry in entries}
    for notebook in NOTEBOOKS:
        assert str(notebook.relative_to(ROOT).with_suffix("")) in listed, f"{notebook.name} is not in _toc.yml"


def test_launch_buttons_have_what_colab_needs():
    repository = CONFIG["repository"]
    assert repository["url"].startswith("https://github.com/")
    # The launch links open the generated Colab edition, published to the colab branch.
    assert repository["branch"] == "colab"
    assert "colab_url" in CONFIG["launch_buttons"]
    assert CONFIG["execute"]["execute_notebooks"] == "cache"
    assert 30 < CONFIG["execute"]["timeout"] < 24 * 3600


def test_the_chapters_are_the_ten_numbered_notebooks():
    assert [path.name[:2] for path in CHAPTERS] == [f"{number:02d}" for number in range(1, 11)]


@pytest.mark.parametrize("path", CHAPTERS, ids=[path.name for path in CHAPTERS])
def test_chapter_follows_the_house_style(path):
    notebook = nbformat.read(path, as_version=4)
    cells = notebook.cells
    markdown = "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")
    code = [cell for cell in cells if cell.cell_type == "code"]
    assert cells[0].cell_type == "markdown" and cells[0].source.lstrip().startswith("# "), "starts with a title"
    assert "Objectives" in markdown, "has an Objectives admonition"
    assert "Running this notebook" in markdown, "has a 'Running this notebook' note"
    assert re.search(r"^## Summary", markdown, re.M), "ends with a Summary"
    if not path.name.startswith("01_"):
        assert re.search(r"^## Exercises", markdown, re.M), "has Exercises"
        assert ":class: dropdown" in markdown, "exercise solutions are hidden behind a toggle"
    # One repository URL: the setup cell installs advlib from the URL in _config.yml.
    setup = next(cell for cell in code if "REPOSITORY_URL" in cell.source)
    assert f'REPOSITORY_URL = "{CONFIG["repository"]["url"]}"' in setup.source
    assert "advlib.book.start()" in setup.source
    # Committed without outputs: the build and nbval execute them.
    for cell in code:
        assert not cell.get("outputs") and cell.get("execution_count") is None, "outputs are cleared"

"""The book's notebooks and configuration agree with each other and with the house style."""

import re

import nbformat
import pytest
import yaml
from tests.support.paths import REPOSITORY

CONFIG = yaml.safe_load((REPOSITORY / "_config.yml").read_text())
TOC = yaml.safe_load((REPOSITORY / "_toc.yml").read_text())


def toc_entries(node):
    """Every 'file' named in the table of contents, root first."""
    entries = [node["root"]] if "root" in node else []
    for key in ("chapters", "sections", "parts"):
        for child in node.get(key, []):
            if "file" in child:
                entries.append(child["file"])
            entries.extend(toc_entries(child))
    return entries


NOTEBOOKS = sorted((REPOSITORY / "book").glob("*.ipynb"))
# The chapters (NN_*.ipynb); other notebooks, such as the instructors' page, are back matter.
CHAPTERS = sorted((REPOSITORY / "book").glob("[0-9][0-9]_*.ipynb"))


def test_every_toc_entry_exists_and_every_notebook_is_listed():
    entries = toc_entries(TOC)
    for entry in entries:
        assert list(REPOSITORY.glob(entry + ".*")), f"_toc.yml lists {entry}, which does not exist"
    listed = {entry for entry in entries}
    for notebook in NOTEBOOKS:
        assert str(notebook.relative_to(REPOSITORY).with_suffix("")) in listed, f"{notebook.name} is not in _toc.yml"


def test_launch_buttons_have_what_colab_needs():
    repository = CONFIG["repository"]
    assert repository["url"].startswith("https://github.com/")
    # The launch links open the generated Colab edition, published to the colab branch.
    assert repository["branch"] == "colab"
    assert "colab_url" in CONFIG["launch_buttons"]
    assert CONFIG["execute"]["execute_notebooks"] == "cache"
    assert 30 < CONFIG["execute"]["timeout"] < 24 * 3600


def test_the_chapters_are_the_twelve_numbered_notebooks():
    assert [path.name[:2] for path in CHAPTERS] == [f"{number:02d}" for number in range(1, 13)]


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


def ignored_folders():
    """The folders .gitignore names (entries ending in '/'), e.g. '.venv-nbgrader'."""
    lines = (REPOSITORY / ".gitignore").read_text().splitlines()
    # A leading '/' anchors an entry at the root ('/results/'); the folder's name is the rest.
    return [line.strip().strip("/") for line in lines if line.strip().endswith("/") and not line.startswith("#")]


@pytest.mark.parametrize("folder", ignored_folders())
def test_sphinx_never_reads_a_notebook_in_an_ignored_folder(folder, tmp_path):
    # only_build_toc_files skips hidden folders when it lists what to exclude, so a
    # virtual environment such as .venv-nbgrader (nbgrader's own test notebooks) would be
    # executed by the build unless exclude_patterns names it. Sphinx finds its sources
    # with get_matching_files; a notebook in the folder, at the top and one level down,
    # must not be among them.
    from sphinx.util.matching import get_matching_files

    name = folder.replace("*", "advlib")
    for parent in (tmp_path, tmp_path / "book"):
        page = parent / name / "lib" / "page.ipynb"
        page.parent.mkdir(parents=True)
        page.write_text("{}")
    found = list(get_matching_files(tmp_path, exclude_patterns=CONFIG["exclude_patterns"]))
    if folder in ("__pycache__", ".ipynb_checkpoints"):
        assert found == [], f"exclude_patterns in _config.yml does not exclude {folder}/ anywhere: {found}"
    else:
        top = [path for path in map(str, found) if path.startswith(name + "/")]
        assert top == [], f"exclude_patterns in _config.yml does not exclude the ignored folder {folder}/: {top}"

"""The classroom edition (tools/course.py, ``make course``): fast checks, nothing executed.

- every chapter with exercises yields an instructor and a student notebook;
- every solution code block of the book (found here independently of the tool's parser)
  is in the instructor notebook, verbatim, between ``### BEGIN SOLUTION`` / ``### END SOLUTION``;
- no student notebook contains a line of any solution code block, and each has nbgrader's
  stub per code block; the prose of the solutions is left out of them too;
- the exercise text shows no raw MyST; cell ids are unique and valid, nbgrader's metadata
  is complete and its grade ids unique; the names the solutions and tests read are defined;
- the output is deterministic, and ``--check`` notices a stale edition;
- a broken exercise section gives an error naming the chapter;
- ``nbgrader generate_assignment`` makes the same student notebooks as the tool (skipped
  when no ``nbgrader`` is found: set NBGRADER to its executable, or put it on PATH).

Running the solutions (the instructor notebooks under nbval, quick profile) is a separate
step, see README.md.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

import course
from tests.support.skips import nbgrader_or_skip
import course_checks
from tests.support.paths import REPOSITORY

BOOK = REPOSITORY / "book"
CHAPTERS = sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))
RAW_MYST = ["{glue", "{term}", "{cite", "{numref}", "{eq}", "{ref}", "{doc}", "```{", ":::{", ":class:",
            "{admonition}", "````"]
TRIVIAL = re.compile(r"^[\s\)\]\}\(\[\{:,]*$")
CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def read_solutions(path: Path) -> tuple[list[str], str]:
    """A chapter's solution code blocks (```python inside Solution admonitions) and its Markdown
    outside those admonitions, read independently of course.py."""
    blocks, public = [], []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "markdown":
            continue
        outer = None  # the fence of the Solution admonition we are in
        code = None
        for line in cell.source.splitlines():
            stripped = line.strip()
            if outer is None:
                match = re.match(r"^(`{4,})\{admonition\}\s*Solution", stripped)
                if match:
                    outer = match.group(1)
                else:
                    public.append(line)
                continue
            if code is not None:
                if stripped == "```":
                    blocks.append("\n".join(code))
                    code = None
                else:
                    code.append(line)
            elif stripped == "```python":
                code = []
            elif stripped == outer:
                outer = None
    return blocks, "\n".join(public)


BLOCKS = {path.stem: read_solutions(path)[0] for path in CHAPTERS}
PUBLIC = "\n".join(read_solutions(path)[1] for path in CHAPTERS)


@pytest.fixture(scope="module")
def files():
    return course.render_all(REPOSITORY)


@pytest.fixture(scope="module")
def notebooks(files):
    return {name: nbformat.reads(text, as_version=4) for name, text in files.items() if name.endswith(".ipynb")}


def _has_exercises(path: Path) -> bool:
    return any(cell.cell_type == "markdown" and re.search(r"^##\s+Exercises\s*$", cell.source, re.M)
               for cell in nbformat.read(path, as_version=4).cells)


def test_the_book_has_solutions_to_check():
    # Guards the independent reader above: if it found nothing, the tests below would pass vacuously.
    assert sum(len(blocks) for blocks in BLOCKS.values()) >= 25
    assert all(BLOCKS[path.stem] for path in CHAPTERS if _has_exercises(path))


def test_every_chapter_with_exercises_yields_both_notebooks(files):
    with_exercises = [path.name for path in CHAPTERS if _has_exercises(path)]
    assert with_exercises, "no chapter has a '## Exercises' section"
    for name in with_exercises:
        assert f"instructor/{name}" in files and f"student/{name}" in files, name
    notebooks = {f"{kind}/{path.name}" for kind in ("instructor", "student") for path in CHAPTERS}
    assignments = {f"source/{path.stem}/{path.name}" for path in CHAPTERS}
    nbgrader_files = {"nbgrader_config.py", "README.md", "kernels/advlib-course/kernel.json"}
    assert set(files) == notebooks | assignments | nbgrader_files | {"conftest.py"}
    for path in CHAPTERS:  # the nbgrader assignment is the instructor notebook
        assert files[f"source/{path.stem}/{path.name}"] == files[f"instructor/{path.name}"]


def test_instructor_has_every_solution_verbatim_between_markers(notebooks):
    for path in CHAPTERS:
        sources = [cell.source for cell in notebooks[f"instructor/{path.name}"].cells if cell.cell_type == "code"]
        for block in BLOCKS[path.stem]:
            wrapped = f"{course.BEGIN_SOLUTION}\n{block}\n{course.END_SOLUTION}"
            assert any(wrapped in source for source in sources), f"{path.stem}: solution missing:\n{block}"


def _solution_lines() -> set[str]:
    """Non-trivial lines of the solution code, less those the chapters' own code cells also have
    and those the exercises' text quotes (such as a call the exercise says to use)."""
    chapter_code = "\n".join(cell.source for path in CHAPTERS for cell in nbformat.read(path, as_version=4).cells
                             if cell.cell_type == "code")
    lines = {line.strip() for blocks in BLOCKS.values() for block in blocks for line in block.splitlines()}
    return {line for line in lines
            if not TRIVIAL.match(line) and len(line) > 3 and line not in chapter_code and line not in PUBLIC}


def test_no_student_notebook_contains_solution_code(notebooks):
    forbidden = _solution_lines()
    assert len(forbidden) > 50
    for name, notebook in notebooks.items():
        if not name.startswith("student/"):
            continue
        for cell in notebook.cells:
            for line in cell.source.splitlines():
                assert line.strip() not in forbidden, f"{name}: cell {cell.id} has solution code {line.strip()!r}"
            for solution_line in forbidden:
                if len(solution_line) >= 25:  # also not inside prose or a longer line
                    assert solution_line not in cell.source, f"{name}: cell {cell.id} quotes {solution_line!r}"


def test_student_notebooks_have_a_stub_per_code_block_and_no_prose_solutions(notebooks):
    for path in CHAPTERS:
        student = notebooks[f"student/{path.name}"]
        instructor = notebooks[f"instructor/{path.name}"]
        stubs = [cell for cell in student.cells if cell.source == course.CODE_STUB]
        assert len(stubs) == len(BLOCKS[path.stem]), path.stem
        assert sum(cell.source.count("raise NotImplementedError()") for cell in student.cells) == len(stubs)
        assert not any("NotImplementedError" in cell.source for cell in instructor.cells)
        assert not any("SOLUTION" in cell.source for cell in student.cells)
        for teacher, pupil in zip(instructor.cells, student.cells):
            assert teacher.id == pupil.id
            if teacher.source.startswith(course.ANSWER_PREFIX):  # a model answer in prose
                assert pupil.source == course.TEXT_STUB
            elif teacher.id.endswith("-test"):  # the hidden tests are the instructor's only
                visible = teacher.source.split("\n### BEGIN HIDDEN TESTS\n")[0]
                assert pupil.source == visible and "HIDDEN" not in pupil.source
            elif not teacher.metadata.get("nbgrader", {}).get("solution"):
                assert teacher.source == pupil.source
        assert len(instructor.cells) == len(student.cells)


def test_every_solution_admonition_is_gone(notebooks):
    for name, notebook in notebooks.items():
        for cell in notebook.cells:
            assert "{admonition} Solution" not in cell.source, f"{name}: cell {cell.id}"


def test_exercise_text_has_no_raw_myst(notebooks):
    for name, notebook in notebooks.items():
        for cell in notebook.cells:
            if re.fullmatch(r"ex\d+-(task|answer)|exercises", cell.id):
                found = [marker for marker in RAW_MYST if marker in cell.source]
                assert not found, f"{name}: cell {cell.id} shows raw MyST {found}:\n{cell.source}"


def test_cell_ids_and_nbgrader_metadata(notebooks):
    for name, notebook in notebooks.items():
        nbformat.validate(notebook)
        assert (notebook.nbformat, notebook.nbformat_minor) >= (4, 5)
        ids = [cell.id for cell in notebook.cells]
        assert len(ids) == len(set(ids)), f"{name}: duplicate cell ids"
        assert all(CELL_ID.match(cell_id) for cell_id in ids), name
        grade_ids = []
        chapter = Path(name).stem
        for cell in notebook.cells:
            meta = cell.metadata.get("nbgrader")
            if meta is None:
                continue
            assert meta["schema_version"] == 3 and {"grade", "solution", "locked", "grade_id"} <= set(meta)
            assert re.fullmatch(rf"{re.escape(chapter)}-ex\d+(-\w+)?", meta["grade_id"]), meta["grade_id"]
            grade_ids.append(meta["grade_id"])
            if meta["grade"]:
                assert meta["points"] in (course_checks.MANUAL_POINTS, course_checks.RESULT_POINTS,
                                          course_checks.WRITE_IT_YOURSELF_POINTS)
            assert ("HIDDEN TESTS" in cell.source) <= (meta["grade"] and not meta["solution"]), (name, cell.id)
            if cell.cell_type == "markdown":  # nbgrader: a markdown answer must be graded
                assert meta["solution"] and meta["grade"] and meta["points"] == course_checks.MANUAL_POINTS
            elif meta["solution"]:  # code: graded by hand only when no test and no written answer grade it
                assert not meta["locked"]
                exercise = cell.id.split("-")[0]  # "ex3" of "ex3-code" or "ex3-code-2"
                graded_otherwise = f"{exercise}-test" in ids or f"{exercise}-answer" in ids
                assert meta["grade"] == (cell.id == f"{exercise}-code" and not graded_otherwise), (name, cell.id)
            else:  # a test cell
                assert meta["grade"] and meta["locked"] and "assert" in cell.source
        assert len(grade_ids) == len(set(grade_ids)), f"{name}: duplicate grade ids"


def test_the_first_code_solution_of_exercise_n_has_the_grade_id_chapter_exN(notebooks):
    notebook = notebooks["instructor/03_fgsm.ipynb"]
    grade_ids = [cell.metadata["nbgrader"]["grade_id"] for cell in notebook.cells
                 if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")]
    assert grade_ids == ["03_fgsm-ex1", "03_fgsm-ex2", "03_fgsm-ex3", "03_fgsm-ex4"]


def test_solutions_and_tests_read_only_defined_names(notebooks):
    for name, notebook in notebooks.items():
        if name.startswith("instructor/"):
            assert course.undefined_names(notebook) == {}, name


def test_checks_read_variables_their_solution_defines(notebooks):
    import ast

    assert len(course.CHECKS) >= 5
    for (chapter, number), check in course.CHECKS.items():
        notebook = notebooks[f"instructor/{chapter}.ipynb"]
        code = "\n".join(cell.source for cell in notebook.cells if cell.id.startswith(f"ex{number}-code"))
        tree = ast.parse(code)
        assigned = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
        # An exercise may ask for a function (my_fgsm), which its solution defines.
        assigned |= {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        assert set(check.uses) <= assigned, (chapter, number)
        tests = [cell for cell in notebook.cells if cell.id == f"ex{number}-test"]
        assert len(tests) == 1 and all(name in tests[0].source for name in check.uses)
        assert all(f"`{name}`" in check.hint for name in check.uses), check.hint
        task = next(cell for cell in notebook.cells if cell.id == f"ex{number}-task")
        assert check.hint in task.source
        # Conservative: the checks assert properties, never a number measured on one profile.
        assert not re.search(r"==\s*-?\d*\.\d", check.source), check.source


def test_output_is_deterministic(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    assert course.main(["--out", str(first)]) == 0
    assert course.main(["--out", str(second)]) == 0
    names = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(second).as_posix() for p in second.rglob("*") if p.is_file())
    assert sum(name.endswith(".ipynb") for name in names) == 3 * len(CHAPTERS)
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert course.main(["--out", str(first), "--check"]) == 0
    (first / names[0]).write_text((first / names[0]).read_text().replace("Exercises", "Exercise"))
    (first / "student" / "99_stale.ipynb").write_text("{}")
    (first / "source" / "99_stale").mkdir()
    (first / "source" / "99_stale" / "99_stale.ipynb").write_text("{}")
    (first / "submitted").mkdir()  # nbgrader's, not ours: left alone
    assert course.main(["--out", str(first), "--check"]) == 1
    assert course.main(["--out", str(first)]) == 0
    assert not (first / "student" / "99_stale.ipynb").exists() and not (first / "source" / "99_stale").exists()
    assert (first / "submitted").is_dir()
    assert course.main(["--out", str(first), "--check"]) == 0


# --------------------------------------------------------------------------- broken sections

SECTION = """Some text before.

## Exercises

1. **First.** Do one thing.

````{admonition} Solution
:class: dropdown
Prose of one.

```python
x = 1
```
````

2. **Second.** Do another.

````{admonition} Solution
:class: dropdown
```python
y = 2
```
````

## Summary

- Done.
"""


def _chapter(tmp_path: Path, section: str, name: str = "03_fgsm", extra: list[str] = ()) -> Path:
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A chapter", id="title"),
        nbformat.v4.new_code_cell("import advlib.book\nprofile = advlib.book.start()", id="setup"),
        *[nbformat.v4.new_markdown_cell(text, id=f"extra-{i}") for i, text in enumerate(extra)],
        nbformat.v4.new_markdown_cell(section, id="exercises-cell"),
    ])
    notebook.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def convert():
    return course._Converter(REPOSITORY)


def test_a_made_up_chapter_splits_as_documented(tmp_path, convert, monkeypatch):
    monkeypatch.setattr(course, "CHECKS", {})
    notebook = course.instructor_notebook(_chapter(tmp_path, SECTION), convert)
    assert [cell.id for cell in notebook.cells] == [
        course.NOTE_ID, "title", "setup", "exercises-cell", "exercises", "ex1-task", "ex1-answer", "ex1-code",
        "ex2-task", "ex2-code", "after-exercises"]
    cells = {cell.id: cell for cell in notebook.cells}
    assert cells["exercises-cell"].source == "Some text before."
    assert cells["ex1-task"].source == "1. **First.** Do one thing."
    assert cells["ex1-answer"].source == course.ANSWER_PREFIX + "Prose of one."
    assert cells["ex2-code"].source == "### BEGIN SOLUTION\ny = 2\n### END SOLUTION"
    # Exercise 1's written answer is graded by hand; exercise 2 has neither answer nor test: its code is.
    assert cells["ex1-answer"].metadata["nbgrader"]["grade"] and not cells["ex1-code"].metadata["nbgrader"]["grade"]
    assert cells["ex2-code"].metadata["nbgrader"]["grade"] and cells["ex2-code"].metadata["nbgrader"]["points"] == 1
    assert cells["after-exercises"].source == "## Summary\n\n- Done."
    student = course.student_notebook(notebook)
    assert [cell.source for cell in student.cells if re.fullmatch(r"ex\d.*", cell.id)] == [
        "1. **First.** Do one thing.", "YOUR ANSWER HERE", course.CODE_STUB, "2. **Second.** Do another.",
        course.CODE_STUB]


def test_solutions_listed_after_all_exercises_are_matched_by_number(tmp_path, convert, monkeypatch):
    monkeypatch.setattr(course, "CHECKS", {})
    section = ("## Exercises\n\n1. **A.** One.\n2. **B.** Two.\n\n"
               "````{admonition} Solution 2\n:class: dropdown\n```python\nb = 2\n```\n````\n\n"
               "````{admonition} Solution 1\n:class: dropdown\n```python\na = 1\n```\n````\n")
    notebook = course.instructor_notebook(_chapter(tmp_path, section), convert)
    cells = {cell.id: cell.source for cell in notebook.cells}
    assert "a = 1" in cells["ex1-code"] and "b = 2" in cells["ex2-code"]
    assert cells["ex1-task"] == "1. **A.** One." and cells["ex2-task"] == "2. **B.** Two."


def test_a_solution_with_several_code_blocks_gets_a_cell_for_each(tmp_path, convert, monkeypatch):
    monkeypatch.setattr(course, "CHECKS", {})
    section = ("## Exercises\n\n1. **A.** One.\n\n"
               "````{admonition} Solution\n:class: dropdown\nFirst:\n\n```python\na = 1\n```\n\nThen:\n\n"
               "```text\nnot code\n```\n\n```python\nb = a + 1\n```\nDone.\n````\n")
    notebook = course.instructor_notebook(_chapter(tmp_path, section), convert)
    cells = {cell.id: cell for cell in notebook.cells}
    assert cells["ex1-code"].source == "### BEGIN SOLUTION\na = 1\n### END SOLUTION"
    assert cells["ex1-code-2"].source == "### BEGIN SOLUTION\nb = a + 1\n### END SOLUTION"
    assert cells["ex1-code-2"].metadata["nbgrader"]["grade_id"] == "03_fgsm-ex1-2"
    assert cells["ex1-answer"].source == course.ANSWER_PREFIX + "First:\n\nThen:\n\n```text\nnot code\n```\n\nDone."
    student = course.student_notebook(notebook)
    assert [cell.source for cell in student.cells].count(course.CODE_STUB) == 2


BROKEN = {
    "unclosed dropdown": (SECTION.replace("y = 2\n```\n````", "y = 2\n```"), "never closed"),
    "unclosed code block": (SECTION.replace("x = 1\n```\n", "x = 1\n"), "never closed"),
    "solution before any exercise": (
        "## Exercises\n\n````{admonition} Solution\n:class: dropdown\nText.\n````\n", "follows no exercise"),
    "two solutions": (SECTION.replace("2. **Second.** Do another.\n", ""), "two solutions"),
    "numbering gap": (SECTION.replace("2. **Second.**", "3. **Second.**"), "should be number 2"),
    "solution for a missing exercise": (
        "## Exercises\n\n1. **A.** One.\n\n````{admonition} Solution 2\n:class: dropdown\n```python\nb = 2\n```\n````\n",
        "has no exercise 2"),
    "invalid python": (SECTION.replace("x = 1", "x = = 1"), "not valid Python"),
    "stray text after a solution": (SECTION.replace("\n2. **Second.**", "\nStray words.\n\n2. **Second.**"),
                                    "belongs to no exercise"),
    "empty solution": (SECTION.replace("Prose of one.\n\n```python\nx = 1\n```\n", ""), "is empty"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_exercise_section_names_the_chapter(tmp_path, convert, monkeypatch, case):
    monkeypatch.setattr(course, "CHECKS", {})
    section, message = BROKEN[case]
    with pytest.raises(course.CourseError) as error:
        course.instructor_notebook(_chapter(tmp_path, section), convert)
    assert "03_fgsm" in str(error.value) and message in str(error.value), str(error.value)


def test_a_solution_outside_the_exercises_section_is_refused(tmp_path, convert, monkeypatch):
    monkeypatch.setattr(course, "CHECKS", {})
    leak = "Early.\n\n````{admonition} Solution\n:class: dropdown\nsecret\n````\n"
    with pytest.raises(course.CourseError, match="03_fgsm: .*outside the '## Exercises' section"):
        course.instructor_notebook(_chapter(tmp_path, SECTION, extra=[leak]), convert)


def test_a_broken_real_chapter_fails_the_whole_build_naming_it(tmp_path, monkeypatch):
    # The real chapter 3 with the closing fence of its last solution removed.
    notebook = nbformat.read(BOOK / "03_fgsm.ipynb", as_version=4)
    cell = next(cell for cell in notebook.cells if "## Exercises" in cell.source)
    lines = cell.source.split("\n")
    del lines[max(i for i, line in enumerate(lines) if line == "````")]
    cell.source = "\n".join(lines)
    (tmp_path / "book").mkdir()
    for path in CHAPTERS:
        if path.name != "03_fgsm.ipynb":
            shutil.copy(path, tmp_path / "book" / path.name)
    nbformat.write(notebook, tmp_path / "book" / "03_fgsm.ipynb")
    for name in ("_config.yml", "references.bib"):
        if (REPOSITORY / name).exists():
            shutil.copy(REPOSITORY / name, tmp_path / name)
    for page in BOOK.glob("*.md"):
        shutil.copy(page, tmp_path / "book" / page.name)
    (tmp_path / "tools").symlink_to(REPOSITORY / "tools")
    with pytest.raises(course.CourseError, match=r"03_fgsm: the fence '````\{admonition\} Solution' .* never closed"):
        course.render_all(tmp_path)


# --------------------------------------------------------------------------- nbgrader


def test_nbgrader_generate_assignment_strips_like_the_tool(tmp_path, files):
    nbgrader = nbgrader_or_skip()
    source = tmp_path / "source" / "course"
    source.mkdir(parents=True)
    for name, text in files.items():
        if name.startswith("instructor/"):
            (source / Path(name).name).write_text(text)
    result = subprocess.run(
        [nbgrader, "generate_assignment", "course", "--force", "--no-db", f"--CourseDirectory.root={tmp_path}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name, text in files.items():
        if not name.startswith("student/"):
            continue
        ours = nbformat.reads(text, as_version=4)
        released = nbformat.read(tmp_path / "release" / "course" / Path(name).name, as_version=4)
        assert [(c.id, c.cell_type, c.source) for c in released.cells] == [
            (c.id, c.cell_type, c.source) for c in ours.cells], name
        for mine, theirs in zip(ours.cells, released.cells):
            if "nbgrader" in mine.metadata:
                expected = dict(mine.metadata["nbgrader"])
                got = {k: v for k, v in theirs.metadata["nbgrader"].items() if k not in ("checksum", "cell_type")}
                assert got == expected, (name, mine.id)


# MyST that only the built site renders: roles, directives and labels. Colab, GitHub and
# plain Jupyter would show it raw.
MYST_PATTERN = re.compile(r"\{(glue(:[a-z]+)?|term|cite(:[a-z]+)?|numref|eq|doc|ref|math)\}`|^\s*(```|~~~|:::)\s*\{[a-z:-]+\}|^\(.+\)=\s*$",
                      re.M)


def test_raw_myst_pattern_catches_roles_directives_and_labels():
    for text in ("see {numref}`fig-x`", "```{admonition} Solution", "(eq-fgsm)=", "{glue:text}`a:.3f`"):
        assert MYST_PATTERN.search(text), text
    assert not MYST_PATTERN.search("plain *Markdown* with $x$ and ```python")


def test_no_classroom_or_colab_notebook_shows_raw_myst(notebooks):
    editions = dict(notebooks)
    for path in sorted((REPOSITORY / "colab").glob("[0-9][0-9]_*.ipynb")):
        editions[f"colab/{path.name}"] = nbformat.read(path, as_version=4)
    raw = {name: match.group(0) for name, notebook in editions.items() for cell in notebook.cells
           if cell.cell_type == "markdown" for match in [MYST_PATTERN.search(cell.source)] if match}
    assert len(editions) == 4 * len(CHAPTERS) and not raw, raw  # instructor, student, nbgrader source, Colab


def test_no_classroom_notebook_says_what_only_makes_sense_on_the_site(notebooks):
    from editions import site_text

    found = {f"{name}: {cell.id}": site_text.site_only_phrases(cell.source)
             for name, notebook in notebooks.items() for cell in notebook.cells if cell.cell_type == "markdown"}
    assert not {where: phrases for where, phrases in found.items() if phrases}
    # The shared note tells a classroom reader how to open the notebook in Colab, not where a form is.
    note = "\n".join(cell.source for cell in notebooks["student/03_fgsm.ipynb"].cells if cell.cell_type == "markdown")
    assert "File > Upload notebook" in note and "form below" not in note


def test_classroom_notebooks_keep_every_figure_caption_and_alt_text(notebooks):
    figures = 0
    for path in CHAPTERS:
        chapter = nbformat.read(path, as_version=4)
        for kind in ("instructor", "student"):
            cells = notebooks[f"{kind}/{path.name}"].cells
            ids = [cell.id for cell in cells]
            for index, cell in enumerate(chapter.cells):
                mystnb = cell.metadata.get("mystnb", {})
                caption = mystnb.get("figure", {}).get("caption")
                alt = mystnb.get("image", {}).get("alt")
                if cell.cell_type != "code" or not caption or "remove-cell" in cell.metadata.get("tags", []):
                    continue
                figures += 1
                position = ids.index(cell.get("id") or f"cell-{index}")
                below = cells[position + 1]
                assert below.cell_type == "markdown" and below.id.endswith("-caption"), (kind, path.stem, below.id)
                assert re.match(r"\*Fig\. \d+\.\d+: ", below.source), below.source[:80]
                assert alt and f"Figure description: " in below.source, (path.stem, below.source[:80])
                # The caption's own words (MyST roles aside) are there.
                words = re.sub(r"\{[^}]+\}`[^`]*`", " ", caption).split()
                assert all(word.strip("*.,;:()") in below.source for word in words[:6]), (path.stem, caption[:80])
    assert figures >= 20, figures

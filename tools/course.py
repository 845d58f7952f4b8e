"""The classroom edition: a student and an instructor notebook per chapter, and an nbgrader course.

    python tools/course.py [--out course]      # (make course) write OUT/instructor, OUT/student, the course
    python tools/course.py --check [--out D]   # exit 1 if OUT differs from a fresh build

Every chapter ``book/NN_*.ipynb`` (never written) becomes ``OUT/instructor/NN_*.ipynb`` and
``OUT/student/NN_*.ipynb``. All the chapter's cells are kept, their Markdown converted to
plain Markdown by the Colab edition's converter (``tools/editions/convert.py``); the markdown
cell that holds its ``## Exercises`` section is split, and each exercise becomes

* a markdown cell with the exercise's text;
* if the solution has prose: a markdown "manually graded answer" cell (nbgrader
  ``solution`` and ``grade``) holding the prose; the student gets ``YOUR ANSWER HERE``,
  nbgrader's stub;
* per code block of the solution: a code cell ``### BEGIN SOLUTION`` / code /
  ``### END SOLUTION`` (nbgrader ``solution``, grade id ``<chapter>-ex<N>``); the student
  gets ``# YOUR CODE HERE`` / ``raise NotImplementedError()``. When the exercise has
  neither a written answer nor a test, its first code cell is graded by hand;
* for the exercises listed in ``course_checks.CHECKS``: a locked autograded test cell
  whose visible asserts and hidden tests pass on the instructor version under every profile.

The student notebook is the instructor one with the solutions and hidden tests removed
exactly as ``nbgrader generate_assignment`` removes them (its ClearSolutions and
ClearHiddenTests preprocessors). ``OUT/`` is also an nbgrader course folder
(``tools/course_nbgrader.py``): ``nbgrader_config.py``, a grading kernel spec, and the
instructor notebooks as ``source/<chapter>/<chapter>.ipynb``. The solutions run in the
chapter's namespace: the exercises come after all of its code cells. Cell ids are stable:
the chapter's own, or ``cell-<index>`` for chapters saved as nbformat 4.4, and
``ex<N>-...`` for the new cells. The exercise section is read by ``tools/course_parse.py``.

A chapter's exercise section looks like this (numbered list items or ``**Exercise N**``
paragraphs, each followed by its solution, or all exercises first and then
``Solution 1``, ``Solution 2``, ...)::

    ## Exercises

    1. **Predict, then run.** ...

    ````{admonition} Solution
    :class: dropdown
    Prose.

    ```python
    code
    ```
    ````

The section ends at the next heading of level 1 or 2 or at the end of the cell.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import copy
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BOOK_DIR = "book"
OUT_DIR = "course"
TOOL = "tools/course.py"
CHAPTER_GLOB = "[0-9][0-9]_*.ipynb"

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
# nbgrader's stubs (ClearSolutions.code_stub["python"] and .text_stub).
ANSWER_PREFIX = "**Model answer.**\n\n"
NOTE_ID = "course-note"

from course_parse import (  # noqa: E402  (tools/ is on sys.path when this runs)
    CODE_INFOS, EXERCISE_RE, EXERCISES_RE, FENCE_RE, OPTION_RE, SECTION_END_RE, SOLUTION_RE,
    CourseError, Exercise, Section, Solution, parse_section,
)
from course_checks import CHECKS, MANUAL_POINTS, Check  # noqa: E402
import course_nbgrader  # noqa: E402
from course_student import (  # noqa: E402,F401 (re-exported: callers build and check both editions here)
    CODE_STUB, TEXT_STUB, clear_hidden_tests, clear_solutions, student_notebook,
)


# --------------------------------------------------------------------------- building


class _Converter:
    """MyST to plain Markdown, by the Colab edition's renderer, with the glued numbers of the
    book's own full run (``colab/_book_run/``), so that no classroom notebook shows raw MyST;
    the site-only sentences replaced as in the Colab edition, except that a classroom
    notebook has no profile form and is opened in Colab by uploading it."""

    def __init__(self, root: Path):
        sys.path.insert(0, str(root / "tools"))
        try:
            import editions
            from editions import book, convert, figures, site_text
        finally:
            sys.path.pop(0)
        self.error = editions.EditionError
        self.renderer = convert.ChapterRenderer
        self.figures = figures
        self.site_text = site_text
        self.book = book.load_book(root)
        self.replacements = [(site, CLASSROOM_WORDING.get(site, colab)) for site, colab in site_text.REPLACEMENTS]

    def __call__(self, chapter: str, text: str) -> str:
        text, _ = self.site_text.for_colab(text, self.replacements)
        try:
            return self.renderer(self.book, chapter).convert(text)
        except self.error as error:
            raise CourseError(f"{chapter}: cannot convert its text to Markdown: {error}") from None

    def caption(self, chapter: str, cell) -> str | None:
        """The caption cell's Markdown for a figure cell (number, caption, alt text), as in the Colab edition."""
        try:
            return self.figures.figure_caption_markdown(self.renderer(self.book, chapter), cell)
        except self.error as error:
            raise CourseError(f"{chapter}: {error}") from None


# What a classroom notebook says where the Colab edition's wording would not fit (keyed by
# the site's sentence in editions.site_text.REPLACEMENTS).
CLASSROOM_WORDING = {
    "In Colab, open it with the launch button (the rocket icon at the top of the page); "
    "the setup cell below installs `advlib` there.":
    "In Colab, upload this notebook (File > Upload notebook) and run the cells from the top; "
    "the setup cell below installs `advlib` there.",
}


def _nbgrader(grade_id: str, *, grade=False, solution=False, locked=False, points=None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def test_source(number: int, check: Check) -> str:
    """The source of an exercise's autograded test cell: the visible part, then the hidden one."""
    source = f"# Autograded test of exercise {number}: run it after your solution.\n{check.source}"
    if check.hidden:
        source += f"\n{BEGIN_HIDDEN}\n{check.hidden}\n{END_HIDDEN}"
    return source


def exercise_cells(chapter: str, exercise: Exercise, convert) -> list:
    """The instructor's cells for one exercise.

    Every exercise with a solution is graded: by its autograded test when :data:`CHECKS`
    has one, otherwise by hand, the written answer when the solution has prose, else its
    first code cell (an nbgrader "manually graded answer"). Points as in course_checks.
    """
    n = exercise.number
    check = CHECKS.get((chapter, n))
    text = convert(chapter, exercise.text)
    if check:
        points = f"{check.points} point{'' if check.points == 1 else 's'}"
        hidden = "; hidden tests run too when it is graded" if check.hidden else ""
        text += f"\n\n*Autograded by the test cell below ({points}{hidden}).* {check.hint}"
    cells = [nbformat.v4.new_markdown_cell(text, id=f"ex{n}-task")]
    solution = exercise.solution
    if solution is None:
        return cells
    if solution.prose:
        prose = "\n\n".join(convert(chapter, part) for part in solution.prose)
        cells.append(nbformat.v4.new_markdown_cell(
            ANSWER_PREFIX + prose, id=f"ex{n}-answer",
            metadata=_nbgrader(f"{chapter}-ex{n}-answer", grade=True, solution=True, points=MANUAL_POINTS)))
    for k, code in enumerate(solution.code, start=1):
        suffix = "" if k == 1 else f"-{k}"
        graded_by_hand = k == 1 and not check and not solution.prose
        cells.append(nbformat.v4.new_code_cell(
            f"{BEGIN_SOLUTION}\n{code}\n{END_SOLUTION}", id=f"ex{n}-code{suffix}",
            metadata=_nbgrader(f"{chapter}-ex{n}{suffix}", solution=True, grade=graded_by_hand,
                               points=MANUAL_POINTS if graded_by_hand else None)))
    if check:
        if not solution.code:
            raise CourseError(f"{chapter}: CHECKS has a test for exercise {n}, whose solution has no code")
        cells.append(nbformat.v4.new_code_cell(
            test_source(n, check), id=f"ex{n}-test",
            metadata=_nbgrader(f"{chapter}-ex{n}-test", grade=True, locked=True, points=check.points)))
    return cells


def note(chapter: str, title: str) -> str:
    return (f"> **Classroom edition** of the chapter *{title}*, generated from `{BOOK_DIR}/{chapter}.ipynb` "
            f"by `{TOOL}`: do not edit it by hand.\n>\n"
            "> In the exercises at the end, write your answers where the cells say YOUR ANSWER HERE or "
            "YOUR CODE HERE (the instructor version has the model solutions there). Cells with `assert` "
            "statements test your code: run them after it. Run the chapter's cells first, in order: the "
            "solutions use its variables. The numbers quoted in the text are those of the book's own full run; "
            "running the cells recomputes every output.")


def instructor_notebook(path: Path, convert) -> nbformat.NotebookNode:
    chapter = path.stem
    source = nbformat.read(path, as_version=4)
    section = parse_section(chapter, source)
    for index, cell in enumerate(source.cells):
        if cell.cell_type == "markdown" and (section is None or index != section.cell_index):
            if any(FENCE_RE.match(l) and SOLUTION_RE.match(FENCE_RE.match(l).group("info").strip())
                   for l in cell.source.splitlines()):
                raise CourseError(f"{chapter}: cell {index} has a Solution admonition outside the "
                                  "'## Exercises' section: it would reach the students")
        if "BEGIN SOLUTION" in cell.source or "END SOLUTION" in cell.source:
            raise CourseError(f"{chapter}: cell {index} contains 'BEGIN/END SOLUTION' text, which nbgrader "
                              "would take for a solution region")
    title = next((m.group(1).strip() for c in source.cells if c.cell_type == "markdown"
                  for m in [re.search(r"^#\s+(.+)$", c.source, re.M)] if m), chapter)
    cells = [nbformat.v4.new_markdown_cell(note(chapter, title), id=NOTE_ID)]
    for index, cell in enumerate(source.cells):
        cell = copy.deepcopy(cell)
        cell_id = cell.get("id") or f"cell-{index}"
        cell["id"] = cell_id
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        if cell.cell_type == "markdown" and (section is None or index != section.cell_index):
            cell.source = convert(chapter, cell.source)
        if section is None or index != section.cell_index:
            cells.append(cell)
            caption = convert.caption(chapter, source.cells[index]) if cell.cell_type == "code" else None
            if caption:
                cells.append(nbformat.v4.new_markdown_cell(caption, id=f"{cell_id}-caption"))
            continue
        if section.before:
            cells.append(nbformat.v4.new_markdown_cell(convert(chapter, section.before), id=cell_id,
                                                       metadata=cell.metadata))
        cells.append(nbformat.v4.new_markdown_cell(convert(chapter, section.heading), id="exercises"))
        for exercise in section.exercises:
            cells += exercise_cells(chapter, exercise, convert)
        if section.after:
            cells.append(nbformat.v4.new_markdown_cell(convert(chapter, section.after), id="after-exercises"))
    for (name, number) in CHECKS:
        if name == chapter and (section is None or number > len(section.exercises)):
            raise CourseError(f"{chapter}: CHECKS has a test for exercise {number}, which the chapter lacks")
    notebook = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(source.metadata))
    notebook.nbformat, notebook.nbformat_minor = 4, 5
    ids = [cell["id"] for cell in cells]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CourseError(f"{chapter}: duplicate cell ids {duplicates}")
    nbformat.validate(notebook)
    return notebook


def render_all(root: Path = ROOT, python: str | None = None) -> dict[str, str]:
    """The edition's files ({"instructor/NN_*.ipynb", "student/NN_*.ipynb", the nbgrader
    folder's files, ...: text}), in memory; ``python`` is the grading kernel's interpreter
    (default: the one running this)."""
    convert = _Converter(root)
    files, errors = {}, []
    for path in sorted((root / BOOK_DIR).glob(CHAPTER_GLOB)):
        try:
            instructor = instructor_notebook(path, convert)
        except CourseError as error:  # report every chapter's problem at once
            errors.append(str(error))
            continue
        files[f"instructor/{path.name}"] = nbformat.writes(instructor) + "\n"
        files[f"student/{path.name}"] = nbformat.writes(student_notebook(instructor)) + "\n"
    if errors:
        raise CourseError("\n  ".join(["cannot build the classroom edition:", *errors]))
    files.update(course_nbgrader.course_files(files, python))
    # The book's nbval settings (outputs never compared, quiet TensorFlow), so that
    # `pytest --nbval-lax course/instructor/` checks the solutions as `make test` does.
    if (root / BOOK_DIR / "conftest.py").exists():
        files["conftest.py"] = (root / BOOK_DIR / "conftest.py").read_text()
    return files


# The generated notebooks; anything else under OUT (nbgrader's release/, submitted/,
# autograded/, feedback/, gradebook.db) belongs to the course and is left alone.
GENERATED = ("instructor/*.ipynb", "student/*.ipynb", "source/*/*.ipynb")


def _stale(files: dict[str, str], out: Path) -> list[Path]:
    return [path for pattern in GENERATED for path in sorted(out.glob(pattern))
            if path.relative_to(out).as_posix() not in files]


def write(files: dict[str, str], out: Path) -> None:
    """Write ``files`` under ``out``, removing notebooks no chapter produces any more."""
    for stale in _stale(files, out):
        stale.unlink()
        if stale.parent.parent.name == "source" and not any(stale.parent.iterdir()):
            stale.parent.rmdir()
    for name, text in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


def differences(files: dict[str, str], out: Path) -> list[str]:
    """The files under ``out`` that are missing, stale or not generated."""
    problems = [name for name, text in files.items()
                if not (out / name).exists() or (out / name).read_text() != text]
    problems += [f"{path.relative_to(out).as_posix()} (not generated)" for path in _stale(files, out)]
    return problems


# --------------------------------------------------------------------------- static checks


def undefined_names(notebook: nbformat.NotebookNode) -> dict[str, list[str]]:
    """For each solution/test cell, the names it reads that no earlier code cell defines.

    A static check (no execution): names bound anywhere in an earlier code cell (imports,
    assignments, loops, definitions) count as defined, and so do builtins and IPython's.
    """
    defined = set(dir(builtins)) | {"display", "get_ipython", "In", "Out", "_"}
    problems = {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(l for l in cell.source.split("\n") if "SOLUTION" not in l)
        tree = ast.parse(source)
        bound, loaded = set(), []
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                (bound.add(node.id) if isinstance(node.ctx, (ast.Store, ast.Del)) else loaded.append(node.id))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                bound.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound.add(node.name)
                if not isinstance(node, ast.ClassDef):
                    bound.update(a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg))
            elif isinstance(node, ast.arg):
                bound.add(node.arg)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                bound.add(node.name)
        nbgrader = cell.metadata.get("nbgrader", {})
        if nbgrader.get("solution") or nbgrader.get("grade"):
            missing = sorted({name for name in loaded if name not in defined and name not in bound})
            if missing:
                problems[nbgrader["grade_id"]] = missing
        defined |= bound
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / OUT_DIR,
                        help=f"output folder (default: {OUT_DIR}/ in the repository)")
    parser.add_argument("--check", action="store_true", help="exit 1 if OUT differs from a fresh build")
    parser.add_argument("--python", help="the grading kernel's Python, an absolute path to an interpreter that "
                        "can import advlib (default: the one running this command)")
    args = parser.parse_args(argv)
    if args.python and not (Path(args.python).is_absolute() and Path(args.python).is_file()):
        parser.error(f"--python {args.python}: not an absolute path to an existing file")
    try:
        files = render_all(ROOT, args.python)
    except CourseError as error:
        print(f"{TOOL}: {error}", file=sys.stderr)
        return 2
    if args.check:
        problems = differences(files, args.out)
        if problems:
            print(f"{TOOL}: {args.out} is out of date: {', '.join(problems)}; run `python {TOOL} --out {args.out}`",
                  file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    write(files, args.out)
    chapters = sum(name.startswith("instructor/") for name in files)
    print(f"wrote {chapters} instructor and {chapters} student notebooks in {args.out}/instructor and "
          f"{args.out}/student, and the nbgrader course ({args.out}/nbgrader_config.py, one assignment per chapter "
          f"in {args.out}/source; see {args.out}/README.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

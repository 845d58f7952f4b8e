"""The classroom edition: a student and an instructor notebook per chapter, for nbgrader.

    python tools/course.py [--out course]      # (make course) write OUT/instructor and OUT/student
    python tools/course.py --check [--out D]   # exit 1 if OUT differs from a fresh build

Every chapter ``book/NN_*.ipynb`` (never written) becomes ``OUT/instructor/NN_*.ipynb`` and
``OUT/student/NN_*.ipynb``. All the chapter's cells are kept; the markdown cell that holds
its ``## Exercises`` section is split, and each exercise becomes

* a markdown cell with the exercise's text (MyST roles and directives converted to plain
  Markdown with the Colab edition's converter, ``tools/colab_edition.py``);
* if the solution has prose: a markdown "manually graded answer" cell (nbgrader
  ``solution`` and ``grade``, 1 point) holding the prose; the student gets
  ``YOUR ANSWER HERE``, nbgrader's stub;
* per code block of the solution: a code cell ``### BEGIN SOLUTION`` / code /
  ``### END SOLUTION`` (nbgrader ``solution``, grade id ``<chapter>-ex<N>``); the student
  gets ``# YOUR CODE HERE`` / ``raise NotImplementedError()``;
* for the exercises listed in :data:`CHECKS`: a locked autograded test cell (1 point)
  whose asserts pass on the instructor version under every profile.

The student notebook is the instructor one with the solutions replaced exactly as
``nbgrader generate_assignment`` replaces them (its ClearSolutions preprocessor), so a
course that uses nbgrader can release either. The solutions run in the chapter's namespace:
the exercises come after all of its code cells. Cell ids are stable: the chapter's own, or
``cell-<index>`` for chapters saved as nbformat 4.4, and ``ex<N>-...`` for the new cells.

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
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BOOK_DIR = "book"
OUT_DIR = "course"
TOOL = "tools/course.py"
CHAPTER_GLOB = "[0-9][0-9]_*.ipynb"

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
# nbgrader's stubs (ClearSolutions.code_stub["python"] and .text_stub).
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
ANSWER_PREFIX = "**Model answer.**\n\n"
NOTE_ID = "course-note"

EXERCISES_RE = re.compile(r"^##\s+Exercises\s*$")
SECTION_END_RE = re.compile(r"^#{1,2}\s")
FENCE_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
SOLUTION_RE = re.compile(r"^\{(?:admonition|dropdown)\}\s*(?:Solution|Answer)\b\s*(?P<number>\d+)?\s*$", re.I)
EXERCISE_RE = re.compile(r"^(?:(?P<item>\d+)\.\s+\S|\*\*Exercise\s+(?P<para>\d+)\b)")
OPTION_RE = re.compile(r"^\s*:[\w-]+:")
CODE_INFOS = {"python", "python3", "py", "ipython", "ipython3", "{code-cell} python", "{code-cell} ipython3"}


class CourseError(Exception):
    """A chapter the edition cannot be made from; the message names the chapter."""


# --------------------------------------------------------------------------- checks
#
# Autograded tests for exercises with an objective answer, keyed by (chapter, exercise).
# They must pass on the book's solution under every profile, so they check properties
# (bounds, shapes, identities) and never a number that depends on the run. ``uses``
# names the variables the test reads (the model solution defines them); ``hint``, added to
# the exercise's text, tells the student to define them.


@dataclass(frozen=True)
class Check:
    uses: tuple[str, ...]
    hint: str
    source: str


def _self_check(exercise: str, function: str, call: str) -> Check:
    """The test of an exercise where students write ``function``: advlib.exercises' check, which prints a hint."""
    return Check(
        (function,),
        f"Write it as the function `{function}`, called as {call}.",
        f'assert advlib.exercises.check("{exercise}", {function}).passed, "read the hint printed above"',
    )


CHECKS: dict[tuple[str, int], Check] = {
    ("01_introduction", 1): Check(
        ("train_images",),
        "Store the number of training images in `train_images`.",
        'assert train_images == 10 * advlib.registry.PROFILES["quick"].per_class[0], '
        '"train_images should be the number of training images of the quick profile"',
    ),
    ("02_data_and_baseline", 3): Check(
        ("predictions",),
        "Store the predicted class of every test image in `predictions`.",
        "assert np.shape(predictions) == np.shape(data.y_test), \"one predicted class per test image\"\n"
        "# Every test image is in exactly one class: the per-class hits add up to the overall accuracy.\n"
        "assert abs(np.mean(np.asarray(predictions) == data.y_test)\n"
        "           - advlib.evaluation.accuracy(baseline, data.x_test, data.y_test)) < 0.005",
    ),
    ("03_fgsm", 1): Check(
        ("x_some", "x_helped"),
        "Store the test images you use in `x_some` and the images stepped against the gradient in `x_helped`.",
        "assert x_helped.shape == x_some.shape\n"
        "assert x_helped.min() >= 0.0 and x_helped.max() <= 1.0, \"clip the images to [0, 1]\"\n"
        "assert np.abs(x_helped - x_some).max() <= eps + 1e-6, \"each pixel moves by at most eps\"",
    ),
    ("03_fgsm", 2): Check(
        ("x_unclipped",),
        "Store the unclipped FGSM images of the test set in `x_unclipped`.",
        "assert x_unclipped.shape == data.x_test.shape\n"
        "assert np.abs(x_unclipped - data.x_test).max() <= eps + 1e-6, \"each pixel moves by at most eps\"\n"
        "# Clipped, they are the chapter's FGSM images (\"almost all\": a GPU may flip the sign of a tiny gradient).\n"
        "assert np.mean(np.isclose(np.clip(x_unclipped, 0.0, 1.0), x_adv, atol=1e-6)) > 0.99",
    ),
    ("01_introduction", 3): _self_check("steps_per_epoch", "steps_per_epoch", "steps_per_epoch(images, batch_size)"),
    ("02_data_and_baseline", 5): _self_check("conv_parameters", "conv_parameters", "conv_parameters(kernel_size, in_channels, filters)"),
    ("03_fgsm", 4): _self_check("fgsm", "my_fgsm", "my_fgsm(model, x, y, eps)"),
    ("04_adversarial_training", 1): Check(
        ("transfer", "own"),
        "Store the accuracy on the baseline's FGSM images in `transfer` and on its own in `own`.",
        "assert 0.0 <= transfer <= 1.0 and 0.0 <= own <= 1.0, \"accuracies are shares of the test images\"",
    ),
    ("05_defensive_distillation", 1): Check(
        ("labels",),
        "Leave the soft labels of the last temperature, T = 500, in `labels`.",
        "assert np.shape(labels) == (len(x_subset), 10)\n"
        "assert np.allclose(np.sum(labels, axis=1), 1.0, atol=1e-4), \"soft labels are probabilities\"",
    ),
    ("04_adversarial_training", 5): _self_check("random_sign_copies", "my_random_copies", "my_random_copies(x, eps, seed)"),
    ("05_defensive_distillation", 5): _self_check("soft_labels", "my_soft_labels", "my_soft_labels(logits, T)"),
    ("08_final_model", 1): Check(
        ("runs",),
        "Store the five accuracies in the list `runs`.",
        "assert len(runs) == 5, \"five measurements\"\n"
        "assert all(0.0 <= value <= 1.0 for value in runs), \"accuracies are shares of the test images\"",
    ),
    ("06_gradient_hiding", 4): _self_check("gradient_at_temperature", "my_gradient_at", "my_gradient_at(logits_model, x, y, T)"),
    ("07_variant", 4): _self_check("soft_labels", "heated_soft_labels", "heated_soft_labels(logits, T)"),
    ("08_final_model", 5): _self_check("eot_gradient", "my_eot_gradient", "my_eot_gradient(model, x, y, samples)"),
    ("09_stronger_attacks", 4): _self_check("pgd_step", "my_pgd_step", "my_pgd_step(model, x_adv, x, y, eps, step_size)"),
    ("10_worst_case", 4): _self_check("dlr_loss", "dlr_from_scratch", "dlr_from_scratch(y_onehot, logits)"),
    ("11_defence_search", 4): _self_check("choose", "choose_from_scratch", "choose_from_scratch(held_out, clean_goal)"),
    ("12_error_bars", 4): _self_check("sampling_error", "my_sampling_error", "my_sampling_error(accuracy, n)"),
    ("12_error_bars", 3): Check(
        ("bootstrap", "correct"),
        "Store whether each FGSM image is classified correctly in `correct` and the 1,000 bootstrap "
        "accuracies in `bootstrap`.",
        "assert len(bootstrap) == 1000 and all(0.0 <= value <= 1.0 for value in bootstrap)\n"
        "# Resampling with replacement keeps the accuracy on average.\n"
        "assert abs(np.mean(bootstrap) - np.mean(correct)) < 0.05",
    ),
}


# --------------------------------------------------------------------------- parsing


@dataclass
class Solution:
    title: str
    number: int | None
    line: int  # where it starts in the chapter's cell, 1-based
    prose: list[str] = field(default_factory=list)  # paragraphs of MyST text, in order
    code: list[str] = field(default_factory=list)  # code blocks, verbatim


@dataclass
class Exercise:
    number: int
    text: str
    line: int
    solution: Solution | None = None


@dataclass
class Section:
    cell_index: int
    before: str  # the cell's text before "## Exercises"
    heading: str  # "## Exercises" and any text before the first exercise
    exercises: list[Exercise]
    after: str  # the cell's text after the section


def _closing(chapter: str, lines: list[str], start: int, offset: int) -> int:
    """The index of the line that closes the fence opened at ``lines[start]``."""
    opening = FENCE_RE.match(lines[start])
    char, length = opening.group("fence")[0], len(opening.group("fence"))
    nested = 0
    for index in range(start + 1, len(lines)):
        fence = FENCE_RE.match(lines[index])
        if not fence or fence.group("fence")[0] != char:
            continue
        if fence.group("info").strip():
            if char == ":" and len(fence.group("fence")) == length:
                nested += 1  # a colon-fenced directive inside another of the same length
            continue
        if len(fence.group("fence")) >= length:
            if nested:
                nested -= 1
                continue
            return index
    raise CourseError(f"{chapter}: the fence {lines[start].strip()!r} on line {start + offset + 1} of its "
                      "exercises cell is never closed")


def _trim(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n")


def _parse_solution(chapter: str, title: str, number: int | None, body: list[str], line: int) -> Solution:
    solution = Solution(title, number, line)
    index = 0
    while index < len(body) and OPTION_RE.match(body[index]):
        index += 1
    prose: list[str] = []
    while index < len(body):
        fence = FENCE_RE.match(body[index])
        if fence:
            end = _closing(chapter, body, index, line)
            if fence.group("info").strip().lower() in CODE_INFOS:
                indent = fence.group("indent")
                code = [l[len(indent):] if l.startswith(indent) else l.lstrip() for l in body[index + 1:end]]
                text = _trim(code)
                if not text.strip():
                    raise CourseError(f"{chapter}: an empty code block in {title!r} (line {line})")
                try:
                    ast.parse(text)
                except SyntaxError as error:
                    raise CourseError(f"{chapter}: the code of {title!r} (line {line}) is not valid Python: "
                                      f"{error.msg} on its line {error.lineno}") from None
                solution.code.append(text)
                if _trim(prose):
                    solution.prose.append(_trim(prose))
                prose = []
            else:
                prose += body[index:end + 1]
            index = end + 1
            continue
        prose.append(body[index])
        index += 1
    if _trim(prose):
        solution.prose.append(_trim(prose))
    if not solution.code and not solution.prose:
        raise CourseError(f"{chapter}: {title!r} (line {line}) is empty")
    return solution


def parse_section(chapter: str, notebook) -> Section | None:
    """The chapter's ``## Exercises`` section, or None if it has none."""
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown" and any(EXERCISES_RE.match(l) for l in cell.source.splitlines()):
            found.append(index)
    if not found:
        return None
    if len(found) > 1:
        raise CourseError(f"{chapter}: cells {found} each have a '## Exercises' heading; expected one section")
    cell_index = found[0]
    lines = notebook.cells[cell_index].source.splitlines()
    start = next(i for i, l in enumerate(lines) if EXERCISES_RE.match(l))
    exercises: list[Exercise] = []
    orphans: list[Solution] = []
    heading = [lines[start]]
    current: list[str] | None = None  # the lines of the exercise being read
    last: Exercise | None = None
    index = start + 1
    end = len(lines)

    def close_exercise():
        nonlocal current
        if current is not None:
            exercises[-1].text = _trim(current)
            current = None

    while index < len(lines):
        line = lines[index]
        if SECTION_END_RE.match(line):
            end = index
            break
        fence = FENCE_RE.match(line)
        if fence:
            close_at = _closing(chapter, lines, index, 0)
            solution = SOLUTION_RE.match(fence.group("info").strip())
            if solution:
                close_exercise()
                number = int(solution.group("number")) if solution.group("number") else None
                title = fence.group("info").strip().split("}", 1)[1].strip()
                parsed = _parse_solution(chapter, title, number, lines[index + 1:close_at], index + 1)
                if number is None:
                    if last is None:
                        raise CourseError(f"{chapter}: {title!r} on line {index + 1} follows no exercise")
                    target = last
                else:
                    target = next((e for e in exercises if e.number == number), None)
                    if target is None:
                        orphans.append(parsed)  # its exercise may follow; checked at the end
                        index = close_at + 1
                        continue
                if target.solution is not None:
                    raise CourseError(f"{chapter}: exercise {target.number} has two solutions "
                                      f"(the second, {title!r}, on line {index + 1})")
                target.solution = parsed
            else:
                (current if current is not None else heading).extend(lines[index:close_at + 1])
            index = close_at + 1
            continue
        start_of = EXERCISE_RE.match(line)
        if start_of:
            close_exercise()
            number = int(start_of.group("item") or start_of.group("para"))
            if number != len(exercises) + 1:
                raise CourseError(f"{chapter}: exercise {number} on line {index + 1} should be number "
                                  f"{len(exercises) + 1} (exercises are numbered 1, 2, 3, ...)")
            exercises.append(Exercise(number, "", index + 1))
            current = [line]
            last = exercises[-1]
        elif current is not None:
            current.append(line)
        elif exercises:
            if line.strip():
                raise CourseError(f"{chapter}: text on line {index + 1} of the exercises cell follows a "
                                  f"solution but belongs to no exercise: {line.strip()[:60]!r}")
        else:
            heading.append(line)
        index += 1
    close_exercise()
    for solution in orphans:
        target = next((e for e in exercises if e.number == solution.number), None)
        if target is None:
            raise CourseError(f"{chapter}: {solution.title!r} (line {solution.line}) has no exercise "
                              f"{solution.number}")
        if target.solution is not None:
            raise CourseError(f"{chapter}: exercise {target.number} has two solutions")
        target.solution = solution
    if not exercises:
        raise CourseError(f"{chapter}: the '## Exercises' section has no numbered exercises")
    return Section(cell_index, _trim(lines[:start]), _trim(heading), exercises, _trim(lines[end:]))


# --------------------------------------------------------------------------- building


class _Converter:
    """MyST to plain Markdown, by the Colab edition's renderer, with the glued numbers of the
    book's own full run (``colab/_book_run/``), so that no classroom notebook shows raw MyST."""

    def __init__(self, root: Path):
        sys.path.insert(0, str(root / "tools"))
        try:
            import colab_edition
        finally:
            sys.path.pop(0)
        self.module = colab_edition
        self.book = colab_edition.load_book(root)

    def __call__(self, chapter: str, text: str) -> str:
        try:
            return self.module.ChapterRenderer(self.book, chapter).convert(text)
        except self.module.EditionError as error:
            raise CourseError(f"{chapter}: cannot convert exercise text to Markdown: {error}") from None


def _nbgrader(grade_id: str, *, grade=False, solution=False, locked=False, points=None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def exercise_cells(chapter: str, exercise: Exercise, convert) -> list:
    """The instructor's cells for one exercise."""
    n = exercise.number
    check = CHECKS.get((chapter, n))
    text = convert(chapter, exercise.text)
    if check:
        text += f"\n\n*Autograded by the test cell below.* {check.hint}"
    cells = [nbformat.v4.new_markdown_cell(text, id=f"ex{n}-task")]
    solution = exercise.solution
    if solution is None:
        return cells
    if solution.prose:
        prose = "\n\n".join(convert(chapter, part) for part in solution.prose)
        cells.append(nbformat.v4.new_markdown_cell(
            ANSWER_PREFIX + prose, id=f"ex{n}-answer",
            metadata=_nbgrader(f"{chapter}-ex{n}-answer", grade=True, solution=True, points=1)))
    for k, code in enumerate(solution.code, start=1):
        suffix = "" if k == 1 else f"-{k}"
        cells.append(nbformat.v4.new_code_cell(
            f"{BEGIN_SOLUTION}\n{code}\n{END_SOLUTION}", id=f"ex{n}-code{suffix}",
            metadata=_nbgrader(f"{chapter}-ex{n}{suffix}", solution=True)))
    if check:
        if not solution.code:
            raise CourseError(f"{chapter}: CHECKS has a test for exercise {n}, whose solution has no code")
        cells.append(nbformat.v4.new_code_cell(
            f"# Autograded test of exercise {n}: run it after your solution.\n{check.source}",
            id=f"ex{n}-test", metadata=_nbgrader(f"{chapter}-ex{n}-test", grade=True, locked=True, points=1)))
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


def clear_solutions(cell) -> None:
    """Replace a solution as nbgrader's ClearSolutions does (in place)."""
    meta = cell.metadata.get("nbgrader", {})
    lines, out, inside, replaced = cell.source.split("\n"), [], False, False
    stub = (CODE_STUB if cell.cell_type == "code" else TEXT_STUB).split("\n")
    for line in lines:
        if "BEGIN SOLUTION" in line:
            if inside:
                raise CourseError("nested BEGIN SOLUTION")
            inside = replaced = True
            indent = re.match(r"\s*", line).group(0)
            out += [indent + s for s in stub]
        elif "END SOLUTION" in line:
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise CourseError(f"no END SOLUTION in {cell.source[:80]!r}")
    if replaced and not meta.get("solution"):
        raise CourseError(f"a solution region in a cell that is not a solution cell: {cell.source[:80]!r}")
    cell.source = "\n".join(out)
    if meta.get("solution") and not replaced:
        cell.source = CODE_STUB if cell.cell_type == "code" else TEXT_STUB


def student_notebook(instructor: nbformat.NotebookNode) -> nbformat.NotebookNode:
    student = copy.deepcopy(instructor)
    for cell in student.cells:
        clear_solutions(cell)
    return student


def render_all(root: Path = ROOT) -> dict[str, str]:
    """The edition's files ({"instructor/NN_*.ipynb" or "student/NN_*.ipynb": text}), in memory."""
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
    # The book's nbval settings (outputs never compared, quiet TensorFlow), so that
    # `pytest --nbval-lax course/instructor/` checks the solutions as `make test` does.
    if (root / BOOK_DIR / "conftest.py").exists():
        files["conftest.py"] = (root / BOOK_DIR / "conftest.py").read_text()
    return files


def write(files: dict[str, str], out: Path) -> None:
    """Write ``files`` under ``out``, removing notebooks no chapter produces any more."""
    for kind in ("instructor", "student"):
        folder = out / kind
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.ipynb"):
            if f"{kind}/{stale.name}" not in files:
                stale.unlink()
    for name, text in files.items():
        path = out / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


def differences(files: dict[str, str], out: Path) -> list[str]:
    """The files under ``out`` that are missing, stale or not generated."""
    problems = [name for name, text in files.items()
                if not (out / name).exists() or (out / name).read_text() != text]
    problems += [f"{kind}/{path.name} (not generated)" for kind in ("instructor", "student")
                 for path in sorted((out / kind).glob("*.ipynb")) if f"{kind}/{path.name}" not in files]
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
    args = parser.parse_args(argv)
    try:
        files = render_all(ROOT)
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
    chapters = sum(name.endswith(".ipynb") for name in files) // 2
    print(f"wrote {chapters} instructor and {chapters} student notebooks in {args.out}/instructor and "
          f"{args.out}/student")
    return 0


if __name__ == "__main__":
    sys.exit(main())

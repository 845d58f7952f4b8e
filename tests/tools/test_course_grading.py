"""Grading with nbgrader, end to end, as an instructor would run it (tools/course_nbgrader.py).

The course folder that ``make course`` writes, with its grading kernel (this Python, which
has advlib) on the profile it sets for grading; ``nbgrader generate_assignment`` releases
chapter 3; four students hand in the released notebook:

* ``right``: every stub replaced by the book's solution;
* ``blank``: the notebook as released;
* ``clearly_wrong``: code that runs but answers nothing (images unchanged, a share of 2);
* ``plausibly_wrong``: answers that pass every visible assert, each with a typical
  mistake the hidden tests catch: the step taken along the gradient where exercise 1 asks
  for a step against it, FGSM left clipped in exercise 2 (``clip=None`` forgotten), the
  success rate of exercise 3 taken over all test images; exercise 4 right.

``nbgrader autograde`` then runs every submission and the test reads each test cell's
score from the gradebook. A second test gives the course a grading kernel without advlib
and expects nbgrader to stop with a message instead of grading everything 0.

Needs nbgrader (skipped without it unless ADVLIB_REQUIRE_NBGRADER=1, as in CI: set
NBGRADER to its executable, or ``make test`` installs it in .venv-nbgrader).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import course
import course_nbgrader
from tests.support.skips import nbgrader_or_skip

ASSIGNMENT = "03_fgsm"
TESTS = {f"{ASSIGNMENT}-ex{n}-test": n for n in (1, 2, 3, 4)}

# Replacements of the book's solution lines, per solution cell (grade id).
PLAUSIBLY_WRONG = {
    f"{ASSIGNMENT}-ex1": [("x_helped = x - eps * tf.sign(gradient)", "x_helped = x + eps * tf.sign(gradient)")],
    f"{ASSIGNMENT}-ex2": [(", eps, clip=None)", ", eps)")],
    f"{ASSIGNMENT}-ex3": [("success_rate = flipped.sum() / correct_before.sum()", "success_rate = flipped.mean()")],
}
CLEARLY_WRONG = {
    f"{ASSIGNMENT}-ex1": "x_some, y_some = data.x_test[:8], data.y_test[:8]\nx_helped = x_some + 0.5",
    f"{ASSIGNMENT}-ex2": "x_unclipped = np.zeros_like(data.x_test)",
    f"{ASSIGNMENT}-ex3": "success_rate = 2.0",
    f"{ASSIGNMENT}-ex4": "def my_fgsm(model, x, y, eps):\n    return x",
}
# What the hidden tests of the plausibly wrong answers say when they fail.
HIDDEN_MESSAGES = {1: "step against the sign of the gradient", 2: "run FGSM with clip=None",
                   3: "flipped images over the images classified correctly"}


@pytest.fixture(scope="module")
def nbgrader():
    return nbgrader_or_skip()


def _environment(nbgrader: Path, results: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("ADVLIB_PROFILE", "JUPYTER_PATH")}
    # nbgrader runs alembic, a script beside it, by name: its folder must be on PATH.
    env["PATH"] = os.pathsep.join([str(nbgrader.parent), env.get("PATH", "")])
    env["ADVLIB_RESULTS"] = str(results)
    return env


def _run(nbgrader: Path, args: list[str], folder: Path, env: dict, timeout: int):
    return subprocess.run([str(nbgrader), *args], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=timeout)


def _write_course(folder: Path, python: str) -> None:
    assert course.main(["--out", str(folder), "--python", python]) == 0


def _submission(released: nbformat.NotebookNode, solutions: dict[str, str], answers: dict) -> nbformat.NotebookNode:
    """The released notebook with the stub of each solution cell named in ``answers`` replaced."""
    notebook = nbformat.from_dict(json.loads(json.dumps(released)))
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id not in answers:
            continue
        answer = answers[grade_id]
        if isinstance(answer, list):  # the book's solution with lines changed
            source = solutions[grade_id]
            for old, new in answer:
                assert old in source, f"{grade_id}: the solution no longer has {old!r}"
                source = source.replace(old, new)
            answer = source
        assert cell.source == (course.CODE_STUB if cell.cell_type == "code" else course.TEXT_STUB)
        cell.source = answer
    return notebook


def _solutions(source: nbformat.NotebookNode) -> dict[str, str]:
    """The book's solution per solution cell (code without nbgrader's markers, or the written answer)."""
    return {cell.metadata["nbgrader"]["grade_id"]: "\n".join(
                line for line in cell.source.split("\n") if "SOLUTION" not in line)
            for cell in source.cells if cell.metadata.get("nbgrader", {}).get("solution")}


def _scores(nbgrader: Path, folder: Path, students: list[str]) -> dict[str, dict[str, float | None]]:
    """Each student's score per test cell, read from the gradebook with nbgrader's own API."""
    reader = (
        "import json, sys\n"
        "from nbgrader.api import Gradebook\n"
        "scores = {}\n"
        "with Gradebook('sqlite:///gradebook.db') as gradebook:\n"
        "    for student in sys.argv[1:]:\n"
        f"        notebook = gradebook.find_submission_notebook({ASSIGNMENT!r}, {ASSIGNMENT!r}, student)\n"
        "        scores[student] = {grade.name: grade.auto_score for grade in notebook.grades}\n"
        "print(json.dumps(scores))\n"
    )
    result = subprocess.run([str(nbgrader.parent / "python"), "-c", reader, *students], cwd=folder,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_autograde_scores_right_blank_clearly_and_plausibly_wrong_answers(nbgrader, tmp_path):
    folder = tmp_path / "course"
    _write_course(folder, sys.executable)
    spec = json.loads((folder / "kernels" / course_nbgrader.KERNEL_NAME / "kernel.json").read_text())
    assert spec["env"]["ADVLIB_PROFILE"] == course_nbgrader.GRADING_PROFILE
    env = _environment(nbgrader, tmp_path / "results")
    released = _run(nbgrader, ["generate_assignment", ASSIGNMENT], folder, env, timeout=300)
    assert released.returncode == 0, released.stdout + released.stderr
    release = nbformat.read(folder / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    assert not any("HIDDEN TESTS" in cell.source for cell in release.cells), "hidden tests reached the students"
    solutions = _solutions(nbformat.read(folder / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4))
    hidden_messages = "\n".join(cell.source for cell in nbformat.read(
        folder / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4).cells)
    assert all(message in hidden_messages for message in HIDDEN_MESSAGES.values())

    submissions = {
        "right": solutions,
        "blank": {},
        "clearly_wrong": CLEARLY_WRONG,
        "plausibly_wrong": {**solutions, **PLAUSIBLY_WRONG},
    }
    for student, answers in submissions.items():
        target = folder / "submitted" / student / ASSIGNMENT
        target.mkdir(parents=True)
        nbformat.write(_submission(release, solutions, answers), target / f"{ASSIGNMENT}.ipynb")

    graded = _run(nbgrader, ["autograde", ASSIGNMENT], folder, env, timeout=1800)
    assert graded.returncode == 0, graded.stdout[-4000:] + graded.stderr[-4000:]
    scores = _scores(nbgrader, folder, list(submissions))
    points = {grade_id: course.CHECKS[(ASSIGNMENT, number)].points for grade_id, number in TESTS.items()}
    tests = {student: {grade_id: scores[student][grade_id] for grade_id in TESTS} for student in submissions}
    assert tests["right"] == points, tests
    assert tests["blank"] == dict.fromkeys(TESTS, 0.0), tests
    assert tests["clearly_wrong"] == dict.fromkeys(TESTS, 0.0), tests
    # The plausibly wrong answers lose exactly the points of exercises 1 to 3, and each by
    # its hidden test: the visible asserts before it passed.
    assert tests["plausibly_wrong"] == {**dict.fromkeys(TESTS, 0.0), f"{ASSIGNMENT}-ex4-test": points[f"{ASSIGNMENT}-ex4-test"]}, tests
    autograded = nbformat.read(folder / "autograded" / "plausibly_wrong" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    for number, message in HIDDEN_MESSAGES.items():
        cell = next(cell for cell in autograded.cells if cell.get("id") == f"ex{number}-test")
        errors = [output for output in cell.outputs if output.output_type == "error"]
        assert errors and message in errors[0].evalue, (number, [error.evalue for error in errors])
    totals = {student: sum(value for value in tests[student].values()) for student in submissions}
    assert totals["right"] > max(totals["blank"], totals["clearly_wrong"], totals["plausibly_wrong"]), totals
    # Written answers wait for the instructor (no automatic score), unless left blank: nbgrader
    # gives an unchanged stub 0.
    manual = [name for name in scores["right"] if name not in TESTS]
    assert manual and all(scores["right"][name] is None for name in manual), scores["right"]
    assert all(scores["blank"][name] == 0.0 for name in manual), scores["blank"]


def test_nbgrader_stops_when_the_grading_kernel_cannot_import_advlib(nbgrader, tmp_path):
    folder = tmp_path / "course"
    # The Python of nbgrader's own environment, which has no advlib.
    _write_course(folder, str(nbgrader.parent / "python"))
    env = _environment(nbgrader, tmp_path / "results")
    env.pop("PYTHONPATH", None)  # a source checkout on it (as in tools/mutation_check.py) would lend advlib
    for command in ("generate_assignment", "autograde"):
        result = _run(nbgrader, [command, ASSIGNMENT], folder, env, 300)
        output = result.stdout + result.stderr
        assert result.returncode != 0, output
        assert "cannot import: advlib" in output and "make course" in output, output
    assert not (folder / "release").exists()

"""The instructors' page's grading table and module plans agree with the classroom edition.

- book/_generated/grading.md is what tools/grading_table.py makes now (in step);
- its points per exercise are the nbgrader points of the instructor notebooks, summed here
  from the cells' metadata, and it calls autograded exactly the exercises with a test cell;
- every homework set of the two module plans names exercises that exist, at least one of
  them autograded;
- the working-time estimate follows its stated rates on a hand-made notebook.
"""

from __future__ import annotations

import re

import nbformat
import pytest

import course
import grading_table
from tests.support.paths import REPOSITORY

PAGE = REPOSITORY / "book" / "instructors.md"


@pytest.fixture(scope="module")
def files():
    return course.render_all(REPOSITORY)


@pytest.fixture(scope="module")
def instructor(files):
    return {name.split("/", 1)[1].removesuffix(".ipynb"): nbformat.reads(text, as_version=4)
            for name, text in files.items() if name.startswith("instructor/")}


def test_the_committed_table_is_in_step(files):
    assert grading_table.OUT.read_text() == grading_table.render(files), "run python tools/grading_table.py"


def _rows(text):
    """{chapter: ({exercise: test points}, {exercise: points by hand}, total)} read from the table."""
    rows = {}
    for line in text.split("Students' working time")[0].splitlines():  # the first table
        match = re.match(r"^\| (\d\d_\w+) \| ([^|]*) \| ([^|]*) \| (\d+) \|$", line)
        if match:
            def listed(cell):
                return {int(n): int(p) for n, p in re.findall(r"(\d+) \((\d+)\*?\)", cell)}
            rows[match.group(1)] = (listed(match.group(2)), listed(match.group(3)), int(match.group(4)))
    return rows


def test_points_and_autograding_are_those_of_the_notebooks(files, instructor):
    text = grading_table.render(files)
    rows = _rows(text)
    assert set(rows) == set(instructor)
    all_tests = all_by_hand = 0
    for chapter, notebook in instructor.items():
        tests, by_hand = {}, {}
        for cell in notebook.cells:
            meta = cell.metadata.get("nbgrader", {})
            match = re.match(r"ex(\d+)-", cell.get("id", ""))
            if match and meta.get("grade"):
                target = tests if cell.id.endswith("-test") else by_hand
                target[int(match.group(1))] = target.get(int(match.group(1)), 0) + meta["points"]
                if cell.id.endswith("-test"):  # the star marks exactly the tests with a hidden part
                    starred = re.search(rf"\b{match.group(1)} \(\d+\*\)", text.split(f"| {chapter} |")[1].split("\n")[0])
                    assert bool(starred) == ("HIDDEN TESTS" in cell.source), (chapter, cell.id)
        assert rows[chapter] == (tests, by_hand, sum(tests.values()) + sum(by_hand.values())), chapter
        all_tests += sum(tests.values())
        all_by_hand += sum(by_hand.values())
    assert all_tests >= 20
    assert f"| all chapters | {all_tests} points | {all_by_hand} points | {all_tests + all_by_hand} |" in text


def _homework(page: str) -> list[tuple[str, list[tuple[int, int]]]]:
    """(session, [(chapter, exercise), ...]) of every row of the module plans' tables."""
    sets = []
    for line in page.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].isdigit():
            continue
        named = []
        for chapter, numbers in re.findall(r"[Cc]hapter (\d+), exercises? ([\d ,and to]+)", cells[3]):
            numbers = numbers.strip()
            span = re.fullmatch(r"(\d+) to (\d+)", numbers)
            values = range(int(span.group(1)), int(span.group(2)) + 1) if span else map(int, re.findall(r"\d+", numbers))
            named += [(int(chapter), value) for value in values]
        sets.append((line, named))
    return sets


def test_every_homework_set_has_an_autograded_exercise_that_exists(instructor):
    sets = _homework(PAGE.read_text())
    assert len(sets) == 9, [line for line, _ in sets]  # three sessions and six
    chapters = {int(name[:2]): name for name in instructor}
    for line, named in sets:
        assert named, line
        autograded = []
        for chapter, number in named:
            ids = {cell.get("id") for cell in instructor[chapters[chapter]].cells}
            assert f"ex{number}-task" in ids, f"chapter {chapter} has no exercise {number}: {line}"
            autograded.append(f"ex{number}-test" in ids)
        assert any(autograded), f"no autograded exercise in: {line}"


def test_the_homework_reader_finds_ranges_and_lists():
    page = ("| 1 | 1, 2 | x | Chapter 2, exercises 1, 3 and 5 |\n"
            "| 2 | 3 | x | Chapter 3, exercises 1 to 4; chapter 5, exercise 5 |\n")
    assert [named for _, named in _homework(page)] == [[(2, 1), (2, 3), (2, 5)], [(3, 1), (3, 2), (3, 3), (3, 4), (5, 5)]]


def test_working_time_follows_the_stated_rates():
    words = " ".join(["word"] * (3 * grading_table.WORDS_PER_MINUTE))
    code = "\n".join(f"x{i} = {i}" for i in range(2 * grading_table.CODE_LINES_PER_MINUTE))
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("a note " * 500, id=course.NOTE_ID),  # the edition's note: not counted
        nbformat.v4.new_markdown_cell(words, id="prose"),
        nbformat.v4.new_code_cell(code, id="shown"),
        nbformat.v4.new_code_cell(code, id="hidden", metadata={"tags": ["remove-input"]}),
        nbformat.v4.new_markdown_cell("exercise " * 900, id="ex1-task"),
    ])
    assert grading_table.reading_minutes(notebook) == pytest.approx(3 + 2)

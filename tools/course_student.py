"""The student edition of a classroom notebook: what ``nbgrader generate_assignment`` releases.

Solutions are replaced by nbgrader's stubs and hidden tests removed, region by region, as
nbgrader's ClearSolutions and ClearHiddenTests preprocessors do; tools/course.py writes the
result as ``course/student/*.ipynb``, and tests/ compare it with nbgrader's own output.
"""

from __future__ import annotations

import copy
import re

import nbformat

from course_parse import CourseError

# nbgrader's default stubs for a cleared code and text solution.
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"


def _strip_regions(cell, what: str, stub: list[str]) -> bool:
    """Replace each ``BEGIN <what>`` ... ``END <what>`` region of ``cell`` by ``stub`` (indented
    like its BEGIN line), as nbgrader's preprocessors do (in place); whether there was one."""
    out, inside, found = [], False, False
    for line in cell.source.split("\n"):
        if f"BEGIN {what}" in line:
            if inside:
                raise CourseError(f"nested BEGIN {what}")
            inside = found = True
            indent = re.match(r"\s*", line).group(0)
            out += [indent + part for part in stub]
        elif f"END {what}" in line:
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise CourseError(f"no END {what} in {cell.source[:80]!r}")
    cell.source = "\n".join(out)
    return found


def clear_solutions(cell) -> None:
    """Replace a solution as nbgrader's ClearSolutions does (in place)."""
    meta = cell.metadata.get("nbgrader", {})
    stub = CODE_STUB if cell.cell_type == "code" else TEXT_STUB
    original = cell.source
    replaced = _strip_regions(cell, "SOLUTION", stub.split("\n"))
    if replaced and not meta.get("solution"):
        raise CourseError(f"a solution region in a cell that is not a solution cell: {original[:80]!r}")
    if meta.get("solution") and not replaced:
        cell.source = stub


def clear_hidden_tests(cell) -> None:
    """Remove the hidden tests as nbgrader's ClearHiddenTests does (in place)."""
    original = cell.source
    if _strip_regions(cell, "HIDDEN TESTS", []) and not cell.metadata.get("nbgrader", {}).get("grade"):
        raise CourseError(f"hidden tests in a cell that is not graded: {original[:80]!r}")


def student_notebook(instructor: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What ``nbgrader generate_assignment`` releases: solutions and hidden tests removed."""
    student = copy.deepcopy(instructor)
    for cell in student.cells:
        clear_solutions(cell)
        clear_hidden_tests(cell)
    return student

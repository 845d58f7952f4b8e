"""Reading a chapter's ``## Exercises`` section: its exercises and their solutions.

Used by ``tools/course.py`` (the classroom edition); the format it reads is described there.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

EXERCISES_RE = re.compile(r"^##\s+Exercises\s*$")
SECTION_END_RE = re.compile(r"^#{1,2}\s")
FENCE_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
SOLUTION_RE = re.compile(r"^\{(?:admonition|dropdown)\}\s*(?:Solution|Answer)\b\s*(?P<number>\d+)?\s*$", re.I)
EXERCISE_RE = re.compile(r"^(?:(?P<item>\d+)\.\s+\S|\*\*Exercise\s+(?P<para>\d+)\b)")
OPTION_RE = re.compile(r"^\s*:[\w-]+:")
CODE_INFOS = {"python", "python3", "py", "ipython", "ipython3", "{code-cell} python", "{code-cell} ipython3"}


class CourseError(Exception):
    """A chapter the edition cannot be made from; the message names the chapter."""


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

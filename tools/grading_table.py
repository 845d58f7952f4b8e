"""Write the grading and working-time tables of the instructors' page from the classroom edition.

    .venv/bin/python tools/grading_table.py           # write book/_generated/grading.md
    .venv/bin/python tools/grading_table.py --check   # exit 1 if it is out of date

How each exercise is graded and its points come from the nbgrader metadata of the
instructor notebooks that ``tools/course.py`` builds (autograded test cells, written answers
and code graded by hand), so the page cannot promise a test the course lacks. The working
time is an estimate from the length of each chapter, with the rates below (stated on the
page): it is not a measurement of students.
"""

import re
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import course  # noqa: E402
import generated_file  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "book" / "_generated" / "grading.md"

# The estimate's rates, shown on the page with the table.
WORDS_PER_MINUTE = 150  # careful reading of technical prose with equations
CODE_LINES_PER_MINUTE = 6  # reading a code cell the page shows, and running it
MINUTES_PER_EXERCISE = 10  # predict, run, compare, write a sentence
MINUTES_PER_CODE_EXERCISE = 25  # an exercise whose test needs the student's own function

def exercises(notebook) -> list[dict]:
    """Per exercise of an instructor notebook: its number, the points of its autograded test
    (0 without one) and whether the test has a hidden part, and the points graded by hand."""
    found = []
    for cell in notebook.cells:
        match = re.fullmatch(r"ex(\d+)-task", cell.id)
        if not match:
            continue
        number = int(match.group(1))
        exercise = {"number": number, "test": 0, "hidden": False, "by_hand": 0,
                    "writes_a_method": False}
        for other in notebook.cells:
            meta = other.metadata.get("nbgrader", {})
            if not (re.fullmatch(rf"ex{number}-[\w-]+", other.id) and meta.get("grade")):
                continue
            if other.id.endswith("-test"):
                exercise["test"] += meta["points"]
                exercise["hidden"] = "HIDDEN TESTS" in other.source
                exercise["writes_a_method"] = "advlib.exercises.check" in other.source
            else:  # a written answer, or code without a test: graded by hand
                exercise["by_hand"] += meta["points"]
        found.append(exercise)
    return found


def reading_minutes(notebook) -> float:
    """Minutes to read the chapter part of a student notebook (prose and shown code, not the exercises)."""
    words = lines = 0
    for cell in notebook.cells:
        if cell.id == course.NOTE_ID or re.fullmatch(r"ex\d+-[\w-]+|exercises|after-exercises", cell.id):
            continue
        if cell.cell_type == "markdown":
            words += len(re.sub(r"!\[[^\]]*\]\([^)]*\)|<[^>]+>|[#*`|>]", " ", cell.source).split())
        elif cell.cell_type == "code" and not {"remove-input", "remove-cell"} & set(cell.metadata.get("tags", [])):
            lines += sum(1 for line in cell.source.splitlines() if line.strip())
    return words / WORDS_PER_MINUTE + lines / CODE_LINES_PER_MINUTE


def render(files: dict[str, str]) -> str:
    """The Markdown section, from ``course.render_all()``'s files."""
    chapters = sorted(name.split("/", 1)[1] for name in files if name.startswith("instructor/"))
    if not chapters:
        raise ValueError("no instructor notebooks: the classroom edition has no chapters")
    rows, times, totals = [], [], {"test": 0, "by_hand": 0}
    for name in chapters:
        instructor = nbformat.reads(files[f"instructor/{name}"], as_version=4)
        student = nbformat.reads(files[f"student/{name}"], as_version=4)
        chapter = name.removesuffix(".ipynb")
        found = exercises(instructor)
        tests = ", ".join(f"{e['number']} ({e['test']}{'*' if e['hidden'] else ''})" for e in found if e["test"])
        by_hand = ", ".join(f"{e['number']} ({e['by_hand']})" for e in found if e["by_hand"])
        test_points, hand_points = sum(e["test"] for e in found), sum(e["by_hand"] for e in found)
        rows.append(f"| {chapter} | {tests or 'none'} | {by_hand or 'none'} | {test_points + hand_points} |")
        totals["test"] += test_points
        totals["by_hand"] += hand_points
        reading = reading_minutes(student)
        working = sum(MINUTES_PER_CODE_EXERCISE if e["writes_a_method"] else MINUTES_PER_EXERCISE for e in found)
        times.append((chapter, reading, working, len(found)))
    lines = [
        "Exercises by number, each with its points; * marks a test with a hidden part.",
        "",
        "| Chapter | Autograded tests | Written answers, graded by hand | Points |",
        "|---|---|---|---:|",
        *rows,
        f"| all chapters | {totals['test']} points | {totals['by_hand']} points | {totals['test'] + totals['by_hand']} |",
        "",
        "Students' working time per chapter, estimated from its length (not measured): reading at",
        f"{WORDS_PER_MINUTE} words a minute and {CODE_LINES_PER_MINUTE} lines of shown code a minute "
        "(running the cells included),",
        f"{MINUTES_PER_EXERCISE} minutes per exercise and {MINUTES_PER_CODE_EXERCISE} per exercise "
        "in which students write a function",
        "that a test checks. Rounded to 5 minutes.",
        "",
        "| Chapter | Reading (min) | Exercises (min) | Total (min) |",
        "|---|---:|---:|---:|",
    ]
    for chapter, reading, working, count in times:
        lines.append(f"| {chapter} | {_five(reading)} | {_five(working)} ({count} exercises) | "
                     f"{_five(reading + working)} |")
    lines.append(f"| all chapters | {_five(sum(t[1] for t in times))} | {_five(sum(t[2] for t in times))} | "
                 f"{_five(sum(t[1] + t[2] for t in times))} |")
    return "\n".join(lines) + "\n"


def _five(minutes: float) -> int:
    return int(5 * max(1, round(minutes / 5)))


def current() -> str:
    return render(course.render_all(ROOT))


def main(argv=None):
    return generated_file.main(__doc__.splitlines()[0], OUT, current, argv)


if __name__ == "__main__":
    sys.exit(main())

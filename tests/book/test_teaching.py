"""The chapters teach: each method is on the page and checked against advlib, and the prose is for the learner.

Source checks read the committed notebooks (no TensorFlow). The built-page checks read
the HTML of a build (``$ADVLIB_BOOK_HTML`` or ``_build/html``; ``make test`` builds the
quick profile first); without a build they are skipped, unless
``ADVLIB_REQUIRE_BROWSER=1`` (as in CI) turns the missing build into a failure.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import nbformat
import pytest

from tests.support.skips import browser_unavailable
from tests.support.paths import REPOSITORY

CHAPTERS = sorted((REPOSITORY / "book").glob("[0-9][0-9]_*.ipynb"))
# Chapters 3 to 11 each introduce a method; 1 and 2 set the scene and the last one
# (error bars) reruns earlier recipes with other seeds.
METHOD_CHAPTERS = [path for path in CHAPTERS if 3 <= int(path.name[:2]) <= 11]
HIDDEN_TAGS = {"remove-cell", "remove-input", "hide-input", "hide-cell"}
# How long the method written out on the page may be: short enough to read in class.
METHOD_LINES = 25
# The words no page may use: the book speaks of the science, not of how it was made.
BUILD_TALK = re.compile(r"this build|on this profile|this profile|the build that counts|later builds|earlier builds",
                        re.I)
# A chapter is one session's reading.
MAX_WORDS = 6000


def _code_cells(path):
    return [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]


def _tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


def _names_in(node):
    return {sub.id for sub in ast.walk(node) if isinstance(sub, ast.Name)}


def method_pairs(path):
    """``[(method cell, check cell)]`` of a chapter; raises AssertionError on a method without its check."""
    cells = nbformat.read(path, as_version=4).cells
    pairs = []
    for index, cell in enumerate(cells):
        if "method" not in _tags(cell):
            continue
        following = cells[index + 1] if index + 1 < len(cells) else None
        assert following is not None and "method-check" in _tags(following), (
            f"{path.name}: the method cell {cell.get('id')} must be followed at once by its 'method-check' cell")
        pairs.append((cell, following))
    return pairs


def check_method_pair(method, check):
    """The problems of one method cell and its check cell (an empty list when both follow the rules)."""
    problems = []
    lines = [line for line in method.source.splitlines() if line.strip()]
    if len(lines) > METHOD_LINES:
        problems.append(f"the method cell has {len(lines)} non-blank lines (at most {METHOD_LINES})")
    tree = ast.parse(method.source)
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    if not functions:
        problems.append("the method cell defines no function")
    for function in functions:
        if "advlib" in _names_in(function):
            problems.append(f"{function.name} calls advlib: the page's method must be plain TensorFlow")
    if _tags(method) & HIDDEN_TAGS or _tags(check) & HIDDEN_TAGS:
        problems.append("the method and its check must both be visible")
    check_tree = ast.parse(check.source)
    if not any(isinstance(node, ast.Assert) for node in ast.walk(check_tree)):
        problems.append("the check cell asserts nothing")
    used = _names_in(check_tree)
    if "advlib" not in used:
        problems.append("the check cell does not run advlib")
    if not {function.name for function in functions} & used:
        problems.append("the check cell does not run the method defined above it")
    return problems


@pytest.mark.parametrize("path", METHOD_CHAPTERS, ids=[path.name for path in METHOD_CHAPTERS])
def test_each_method_chapter_writes_its_method_out_and_checks_it_against_advlib(path):
    pairs = method_pairs(path)
    assert pairs, f"{path.name} has no cell tagged 'method' (see CONTRIBUTING.md, 'Adding a method to a chapter')"
    for method, check in pairs:
        problems = check_method_pair(method, check)
        assert not problems, f"{path.name}, cell {method.get('id')}: " + "; ".join(problems)


def _cell(source, tags=()):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = list(tags)
    return cell


GOOD_METHOD = "import tensorflow as tf\n\ndef step(x, eps):\n    return tf.clip_by_value(x + eps, 0.0, 1.0)\n"
GOOD_CHECK = "import advlib.attacks\nexpected = advlib.attacks.one_step.thing(x)\nassert (step(x, 0.1) == expected).all()\n"


@pytest.mark.parametrize(
    ("method", "check", "problem"),
    [
        (GOOD_METHOD, GOOD_CHECK, None),
        ("def step(x):\n    return advlib.attacks.one_step.fgsm(x)\n", GOOD_CHECK, "calls advlib"),
        (GOOD_METHOD, "import advlib.attacks\nprint(step(x, 0.1), advlib.attacks.one_step.thing(x))\n", "asserts nothing"),
        (GOOD_METHOD, "assert (step(x, 0.1) == x).all()\n", "does not run advlib"),
        (GOOD_METHOD, "import advlib\nassert advlib.attacks.one_step.thing(x) is not None\n", "does not run the method"),
        (GOOD_METHOD + "\n".join(f"y{i} = {i}" for i in range(30)), GOOD_CHECK, "non-blank lines"),
        ("x = 1\n", GOOD_CHECK, "defines no function"),
    ],
)
def test_the_method_rules_catch_each_kind_of_bad_cell(method, check, problem):
    problems = check_method_pair(_cell(method, ["method"]), _cell(check, ["method-check"]))
    if problem is None:
        assert problems == []
    else:
        assert any(problem in found for found in problems), problems


def test_a_hidden_check_is_refused():
    problems = check_method_pair(_cell(GOOD_METHOD, ["method"]), _cell(GOOD_CHECK, ["method-check", "remove-input"]))
    assert "the method and its check must both be visible" in problems


def glue_calls_choosing_words(source):
    """The glue calls of a cell whose arguments hold an if-expression (``a if c else b``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name != "glue":
            continue
        arguments = list(node.args) + [keyword.value for keyword in node.keywords]
        if any(isinstance(sub, ast.IfExp) for argument in arguments for sub in ast.walk(argument)):
            found.append(ast.unparse(node)[:80])
    return found


def test_the_if_expression_rule_sees_through_nesting():
    assert glue_calls_choosing_words('advlib.book.glue("a", f"x {1 if b else 2}")')
    assert glue_calls_choosing_words('glue("a", "up" if b else "down")')
    assert not glue_calls_choosing_words('advlib.book.glue("a", advlib.book.claim_phrase("c", p, words))')


@pytest.mark.parametrize("path", CHAPTERS, ids=[path.name for path in CHAPTERS])
def test_no_chapter_chooses_glued_words_with_an_if_expression(path):
    # Verdict words come from the scorecard's claims (advlib.book.claim_phrase), the one
    # home of each threshold, never from a comparison typed in a notebook.
    found = [call for cell in _code_cells(path) for call in glue_calls_choosing_words(cell.source)]
    assert not found, f"{path.name}: glue chooses words with an if-expression: {found}"


def _built_chapters():
    root = Path(os.environ.get("ADVLIB_BOOK_HTML", REPOSITORY / "_build" / "html"))
    pages = sorted((root / "book").glob("[0-9][0-9]_*.html"))
    if not pages:
        browser_unavailable(f"no built chapters in {root / 'book'}: run `make book` first")
    return pages


def page_text(html):
    """The words a reader sees in a chapter's article: prose and outputs, not the code inputs."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    article = soup.find("article") or soup
    for hidden in article.select("div.cell_input, script, style, .toggle-hidden"):
        hidden.decompose()
    return article.get_text(" ")


def test_no_built_page_talks_about_builds_or_profiles():
    offending = {}
    for page in _built_chapters():
        found = sorted({match.group(0).lower() for match in BUILD_TALK.finditer(page_text(page.read_text()))})
        if found:
            offending[page.name] = found
    assert not offending, f"pages that speak of builds or profiles: {offending}"


def test_no_chapter_page_is_longer_than_one_sessions_reading():
    lengths = {page.name: len(page_text(page.read_text()).split()) for page in _built_chapters()}
    too_long = {name: words for name, words in lengths.items() if words > MAX_WORDS}
    assert not too_long, f"chapters over {MAX_WORDS:,} rendered words: {too_long}"


def test_page_text_counts_prose_and_outputs_but_not_code():
    html = ('<article><p>one two</p><div class="cell_input">x = 1 if a else 2</div>'
            '<div class="cell_output">three</div></article>')
    assert page_text(html).split() == ["one", "two", "three"]
    assert BUILD_TALK.search("On this profile the curves") and not BUILD_TALK.search("the profile of a curve")

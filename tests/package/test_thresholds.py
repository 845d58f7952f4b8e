"""One home per threshold: no threshold defined twice in advlib, none typed into a chapter's code.

(a) advlib. A *threshold definition* is a number written as a literal (``0.9``, ``-0.5``,
``1 / 255``) and bound at module level of a file under ``advlib/``: ``NAME = 0.9``, each
name of ``A, B = 0.1, 0.2``, or each entry ``NAME[key]`` of a dict literal or ``dict(...)``
call bound to ``NAME``. Floats count whatever their name; an int counts only under a name
that says it is a bar (:data:`BAR_WORDS`), since the package's other ints are counts,
sizes, seeds and formats. A tuple bound to one name is a grid (eps values, dropout
rates), not a bar, and is not read. Numbers passed inside calls (the catalogue's report
values, the registry's recipe options) and function defaults (an attack's eps) are not
definitions here.

Two definitions with the same value must have different meanings, declared in
:data:`MEANINGS` (one line each, saying what the number decides), or one of them must
import the other; a float that is no bar at all (a method's parameter) is declared in
:data:`NOT_BARS`. Both tables must stay minimal: an entry whose value no longer collides
is stale. Every threshold of a verdict lives in :mod:`advlib.verdicts.claims`; the other
verdict-side modules (:data:`IMPORTERS`) define none, not even as a parameter's default
(a typed number other than 0 and 1).

(b) chapters. In the code cells of ``book/NN_*.ipynb`` no comparison (``<``, ``>``, ``<=``,
``>=``, chained or not) may involve a number typed as a literal other than 0 and 1
(indices inside ``[...]`` are not numbers compared), nor a name the notebook binds to
such a literal (``bar = 0.9`` then ``x > bar``). The one exception is an ``assert`` in a
cell tagged ``method-check``: the tolerance of a check that the page's code agrees with
advlib (99.9% of pixels, float noise) belongs to that check, not to any reading.
Loop bounds and shapes are not comparisons and are not read.
"""

import ast
import json
import operator
import re
from collections import defaultdict

import pytest
from tests.support.paths import REPOSITORY

HOME = "advlib/verdicts/claims.py"
# Modules on the verdict side that must import their thresholds from HOME.
IMPORTERS = ("advlib/verdicts/expectations.py", "advlib/verdicts/wording.py", "advlib/verdicts/scorecard.py", "advlib/runs/defence.py")
BAR_WORDS = re.compile(r"TOLERANCE|THRESHOLD|MINIMUM|MAXIMUM|GOAL|FLOOR|CEILING|SLACK|EFFECT|FACTOR|SHARE|LIMIT")

# Floats that share a threshold's value but are no bar: nothing is compared with them.
NOT_BARS = {
    ("advlib/models.py", "BATCH_NORM_MOMENTUM"): "a batch-norm layer's moving-average momentum",
    ("advlib/attacks/auto_pgd.py", "CHECKPOINT_SHRINK"): "APGD's checkpoint schedule (a fraction of the steps)",
}
# Thresholds that share a value with another one and decide something else; each line
# says what its number decides. A second definition with the same meaning must import
# the first instead of getting a line here.
MEANINGS = {
    ("advlib/verdicts/claims.py", "ALMOST_NONE"):
        "claim low-t-zero-gradients: a share of zero gradients below it reverses 'many'",
    ("advlib/verdicts/claims.py", "ADVERSARIAL_GAIN_MINIMUM"):
        "expectations 2a/2b: the least FGSM gain adversarial training must buy",
    ("advlib/verdicts/claims.py", "RANDOM_SIGN_TOLERANCE"):
        "expectation 1c: how far random signs may move the baseline's clean accuracy",
    ("advlib/verdicts/claims.py", "CROSS_SET_TOLERANCE"):
        "expectation 3b: how far apart two students sharing weights may score on one set",
    ("advlib/evaluation/audit.py", "DEFAULT_ONE_STEP_TOLERANCE"):
        "audit flag (b): how far FGSM may beat PGD before one step counts as stronger",
    ("advlib/evaluation/audit.py", "DEFAULT_TRANSFER_TOLERANCE"):
        "audit flag (c) and the worst case's black-box symptom: how far an attack without "
        "the model's gradient may beat the gradient attacks",
    ("advlib/evaluation/audit.py", "DEFAULT_EOT_TOLERANCE"):
        "audit flag (e): how far EOT-PGD may beat PGD before randomness counts as hiding",
}
# What must be found, so that the scan cannot pass by reading nothing.
KNOWN = {
    (HOME, "NEARLY_ALL"): 0.9,
    (HOME, "SIMILAR_TOLERANCE"): 0.03,
    (HOME, "CLEAN_GOAL"): 0.8,
    (HOME, "LARGE_EFFECT"): 0.3,
    ("advlib/evaluation/audit.py", "DEFAULT_ACCURACY_FLOOR"): 0.1,
}


# ------------------------------------------------------------------------------ (a) advlib


_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _literal(node):
    """The value of a number written as a literal (``0.9``, ``-1``, ``1 / 255``), else None."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _literal(node.operand)
        return None if value is None else (-value if isinstance(node.op, ast.USub) else value)
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        left, right = _literal(node.left), _literal(node.right)
        if left is None or right is None or (isinstance(node.op, ast.Div) and right == 0):
            return None
        return _ARITHMETIC[type(node.op)](left, right)
    return None


def _bound(target, value):
    """``[(name, value node)]`` for one module-level binding."""
    if isinstance(target, ast.Name):
        if isinstance(value, ast.Dict):
            return [(f"{target.id}[{ast.unparse(key)}]", item) for key, item in zip(value.keys, value.values) if key]
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict":
            return [(f"{target.id}[{keyword.arg!r}]", keyword.value) for keyword in value.keywords if keyword.arg]
        return [(target.id, value)]
    if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)):
        if len(target.elts) == len(value.elts):
            return [pair for name, item in zip(target.elts, value.elts) for pair in _bound(name, item)]
    return []


def threshold_definitions(sources):
    """``{(path, name): value}`` of every threshold definition in ``sources`` (``{path: text}``)."""
    found = {}
    for path, text in sources.items():
        for node in ast.parse(text, filename=path).body:
            if isinstance(node, ast.Assign):
                pairs = [pair for target in node.targets for pair in _bound(target, node.value)]
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                pairs = _bound(node.target, node.value)
            else:
                continue
            for name, item in pairs:
                value = _literal(item)
                if value is None:
                    continue
                if isinstance(value, float) or BAR_WORDS.search(name.upper()):
                    found[(path, name)] = value
    return found


def duplicate_thresholds(definitions, not_bars=NOT_BARS, meanings=MEANINGS):
    """Problems, one line each: a value defined twice with no different meaning declared, or a stale entry."""
    by_value = defaultdict(list)
    for place, value in definitions.items():
        if place not in not_bars:
            by_value[float(value)].append(place)
    problems = []
    for value, places in sorted(by_value.items()):
        if len(places) < 2:
            continue
        undeclared = [place for place in places if place not in meanings]
        if undeclared:
            named = ", ".join(f"{path}:{name}" for path, name in sorted(places))
            problems.append(
                f"{value!r} is defined {len(places)} times ({named}): import the one constant, "
                f"or declare in MEANINGS what each of {', '.join(name for _, name in undeclared)} decides"
            )
        said = [meanings[place] for place in places if place in meanings]
        if len(set(said)) < len(said):
            problems.append(f"{value!r}: two definitions declare the same meaning; one must import the other")
    colliding = {place for places in by_value.values() if len(places) > 1 for place in places}
    for place in meanings:
        if place not in colliding:
            problems.append(f"MEANINGS entry {place} is stale: no other threshold has its value (or it is gone)")
    for place in not_bars:
        value = definitions.get(place)
        if value is None or len(by_value.get(float(value), [])) == 0:
            problems.append(f"NOT_BARS entry {place} is stale: it no longer shares a threshold's value (or is gone)")
    return problems


def _advlib_sources():
    return {
        path.relative_to(REPOSITORY).as_posix(): path.read_text()
        for path in sorted((REPOSITORY / "advlib").rglob("*.py"))
    }


def test_the_scan_finds_the_known_thresholds():
    definitions = threshold_definitions(_advlib_sources())
    assert {place: definitions.get(place) for place in KNOWN} == KNOWN


def test_no_threshold_value_is_defined_twice_without_a_different_meaning():
    problems = duplicate_thresholds(threshold_definitions(_advlib_sources()))
    assert not problems, "\n".join(problems)


def literal_defaults(text):
    """``["function(name=value)"]``: parameters whose default is a typed number other than 0 and 1."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = node.args
            positional = arguments.posonlyargs + arguments.args
            pairs = list(zip(positional[len(positional) - len(arguments.defaults):], arguments.defaults))
            pairs += [(argument, default) for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults) if default]
            found += [f"{node.name}({argument.arg}={_literal(default)!r})" for argument, default in pairs
                      if _literal(default) not in (None, 0, 1)]
    return found


def test_the_verdict_modules_import_their_thresholds_from_the_claims():
    sources = _advlib_sources()
    definitions = threshold_definitions(sources)
    defined_there = sorted(f"{path}:{name}" for path, name in definitions if path in IMPORTERS)
    # A default argument is a home too (text.closeness once judged "about the same" by its own 0.01).
    defined_there += [f"{path}:{default}" for path in IMPORTERS for default in literal_defaults(sources[path])]
    assert not defined_there, f"thresholds defined outside {HOME}: {defined_there}"
    from advlib.evaluation import audit, worst_case
    from advlib.verdicts import claims, expectations

    # The names chapters and advlib.runs.defence read from advlib.verdicts.expectations are the claims' own.
    assert expectations.CLEAN_GOAL is claims.CLEAN_GOAL
    assert expectations.FEW_POINTS is claims.SIMILAR_TOLERANCE
    assert expectations.TRAINING_HOURS_GOAL is claims.TRAINING_HOURS_GOAL
    assert worst_case.BLACK_BOX_TOLERANCE is audit.DEFAULT_TRANSFER_TOLERANCE


@pytest.mark.parametrize(
    "planted, expected",
    [
        # The same number under another name in another module.
        ({"advlib/planted.py": "NEARLY = 0.9\n"}, "advlib/planted.py:NEARLY"),
        # ... in a table of readings, as text.py once had.
        ({"advlib/planted.py": "READINGS = {'nearly_all': 0.9, 'most': 0.5}\n"}, "advlib/planted.py:READINGS['nearly_all']"),
        # ... as an int bar, and as literal arithmetic.
        ({"advlib/planted.py": "HOURS_GOAL = 3\n"}, "advlib/planted.py:HOURS_GOAL"),
        ({"advlib/planted.py": "A, FEW = 0.5 + 0.25, 3 / 100\n"}, "advlib/planted.py:FEW"),
    ],
)
def test_a_planted_duplicate_is_found(planted, expected):
    sources = dict(_advlib_sources(), **planted)
    problems = duplicate_thresholds(threshold_definitions(sources))
    assert any(expected in problem for problem in problems), problems


def test_a_planted_default_threshold_is_found():
    planted = "def closeness(value, reference, *, same=0.01, slight=0.05, flag=True, n=1):\n    pass\n"
    assert literal_defaults(planted) == ["closeness(same=0.01)", "closeness(slight=0.05)"]
    assert literal_defaults("def f(a, b=0.5, c=None, *, d=0):\n    pass\n") == ["f(b=0.5)"]


def test_declaring_one_meaning_twice_and_stale_entries_are_refused():
    definitions = {("a.py", "X"): 0.02, ("b.py", "Y"): 0.02, ("c.py", "Z"): 0.7}
    same = {("a.py", "X"): "agree", ("b.py", "Y"): "agree"}
    assert any("same meaning" in problem for problem in duplicate_thresholds(definitions, {}, same))
    meanings = {("a.py", "X"): "x", ("b.py", "Y"): "y", ("c.py", "Z"): "z"}
    stale = duplicate_thresholds(definitions, {("c.py", "Z"): "a momentum"}, meanings)
    assert not any("0.02" in problem for problem in stale)
    assert any("MEANINGS entry ('c.py', 'Z') is stale" in problem for problem in stale)
    assert any("NOT_BARS entry ('c.py', 'Z') is stale" in problem for problem in stale)


# ----------------------------------------------------------------------------- (b) chapters


def _cell_tree(source):
    # IPython magics and shell escapes are not Python: blank them, keeping line numbers.
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    return ast.parse("\n".join(lines))


def _typed_numbers(node):
    """The maximal number literals in ``node``, outside subscripts (indices are not numbers compared)."""
    value = _literal(node)
    if value is not None:
        return [value]
    if isinstance(node, ast.Subscript):
        return _typed_numbers(node.value)
    return [number for child in ast.iter_child_nodes(node) for number in _typed_numbers(child)]


def _names(node):
    if isinstance(node, ast.Subscript):
        return _names(node.value)
    if isinstance(node, ast.Name):
        return {node.id}
    return {name for child in ast.iter_child_nodes(node) for name in _names(child)}


def typed_thresholds(cells, label):
    """``["<label> cell <i> (<id>) line <n>: <code>"]`` for each comparison with a typed number.

    ``cells`` is a notebook's cell list (dicts as in the .ipynb file).
    """
    code = [(index, cell) for index, cell in enumerate(cells) if cell["cell_type"] == "code"]
    trees, found = {}, []
    for index, cell in code:
        source = "".join(cell["source"])
        try:
            trees[index] = _cell_tree(source)
        except SyntaxError as error:
            found.append(f"{label} cell {index}: cannot be read as Python ({error.msg}, line {error.lineno})")
    # Names the notebook binds to a typed number (bar = 0.9), anywhere at a cell's top level.
    typed_names = set()
    for tree in trees.values():
        for node in tree.body:
            if isinstance(node, ast.Assign) and _literal(node.value) is not None and _literal(node.value) not in (0, 1):
                typed_names.update(target.id for target in node.targets if isinstance(target, ast.Name))
    for index, cell in code:
        if index not in trees:
            continue
        exempt = set()
        if "method-check" in cell.get("metadata", {}).get("tags", []):
            exempt = {id(node) for statement in ast.walk(trees[index]) if isinstance(statement, ast.Assert)
                      for node in ast.walk(statement)}
        lines = "".join(cell["source"]).splitlines()
        for node in ast.walk(trees[index]):
            if not isinstance(node, ast.Compare) or id(node) in exempt:
                continue
            if not any(isinstance(op, (ast.Lt, ast.Gt, ast.LtE, ast.GtE)) for op in node.ops):
                continue
            operands = [node.left, *node.comparators]
            numbers = [number for operand in operands for number in _typed_numbers(operand) if number not in (0, 1)]
            names = sorted({name for operand in operands for name in _names(operand)} & typed_names)
            if numbers or names:
                typed = ", ".join([repr(number) for number in numbers] + names)
                found.append(
                    f"{label} cell {index} ({cell.get('id', 'no id')}) line {node.lineno}: "
                    f"{lines[node.lineno - 1].strip()[:100]}  [typed: {typed}]"
                )
    return found


CHAPTERS = sorted((REPOSITORY / "book").glob("[0-9][0-9]_*.ipynb"))


def test_the_chapters_are_found():
    assert len(CHAPTERS) >= 12


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[path.stem for path in CHAPTERS])
def test_no_chapter_types_a_threshold_into_its_code(notebook):
    found = typed_thresholds(json.loads(notebook.read_text())["cells"], notebook.name)
    assert not found, "read these from advlib.verdicts.claims instead:\n" + "\n".join(found)


def _cells(*sources, tags=()):
    return [{"cell_type": "code", "source": source, "metadata": {"tags": list(tags)}} for source in sources]


@pytest.mark.parametrize(
    "cells, expected",
    [
        (_cells("ok = fgsm_drop > 2 * abs(random_drop) + 0.02\n"), ["[typed: 2, 0.02]"]),
        (_cells("share = float(np.mean(top_mass > 0.99))\n"), ["[typed: 0.99]"]),
        (_cells("bar = 0.9\n", "if share >= bar:\n    print('nearly all')\n"), ["cell 1 (no id) line 1", "[typed: bar]"]),
        (_cells("low <= value < 0.5\n"), ["[typed: 0.5]"]),
        (_cells("assert same.mean() >= 0.999\n"), ["[typed: 0.999]"]),
        (_cells("%matplotlib inline\nx = values[-1] > 2\n"), ["line 2", "[typed: 2]"]),
    ],
)
def test_a_planted_typed_threshold_is_found(cells, expected):
    found = typed_thresholds(cells, "planted.ipynb")
    assert len(found) == 1 and all(part in found[0] for part in expected), found


@pytest.mark.parametrize(
    "cells",
    [
        _cells("x = values[-1] > claims.NEARLY_ALL\n", "for eps in (0.0, 0.01, 0.02):\n    pass\n", "y = x[2:5] > 0\n"),
        _cells("n = len(images) - 1\nassert 1 - eps <= x.max() <= 1\n"),
        _cells("assert same.mean() >= 0.999, 'pixels differ'\n", tags=["method-check"]),
    ],
)
def test_named_thresholds_indices_and_method_checks_pass(cells):
    assert typed_thresholds(cells, "planted.ipynb") == []

"""The package's shape: every module listed where the README and the package say, small, importing downwards."""

import ast
import re
import subprocess
import sys

import pytest

import advlib
from tests.support.paths import REPOSITORY

PACKAGE = REPOSITORY / "advlib"
LAYERS = advlib._SUBMODULES
# Every layer is a folder (a subpackage) but these single modules.
SINGLE_MODULES = {"validate", "models", "cli", "book"}
# Files of advlib/ that are not layers: the lazy-name helper and ``python -m advlib``.
INFRASTRUCTURE = {"__init__.py", "__main__.py", "_lazy.py"}
# The layers that load without TensorFlow: those before the network, and the upper ones,
# which import it only inside the functions that train or attack; plus the TensorFlow-free
# modules of the attack and evaluation layers.
PURE = LAYERS[: LAYERS.index("models")] + ("runs", "exercises", "cli", "book")
PURE_MODULES = ("attacks", "attacks.registry", "training", "evaluation.audit", "evaluation.audit_result",
                "evaluation.worst_case")
MAX_LINES = 400
# Plain data any layer may read: the attack registry's names (the catalogue checks that every
# number's attack is one of them) are strings, importable without TensorFlow.
DATA_ANYWHERE = {"advlib.attacks.registry"}


def _modules(layer):
    """The dotted names (below ``advlib.``) of a layer's modules."""
    if layer in SINGLE_MODULES:
        return [layer]
    folder = PACKAGE / layer
    return [f"{layer}.{path.stem}" for path in sorted(folder.glob("*.py")) if path.stem != "__init__"]


def test_every_file_of_the_package_is_a_listed_layer():
    listed = [name for name in LAYERS]
    assert len(listed) == len(set(listed))
    found = {path.stem for path in PACKAGE.glob("*.py") if path.name not in INFRASTRUCTURE}
    found |= {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists()}
    assert sorted(found) == sorted(listed), "advlib/ holds exactly the layers of advlib._SUBMODULES"
    for layer in listed:
        assert (PACKAGE / f"{layer}.py").exists() == (layer in SINGLE_MODULES), layer


def test_the_readme_layout_names_every_module():
    text = (REPOSITORY / "README.md").read_text()
    layout = text[text.index("## Layout") : text.index("\n## ", text.index("## Layout") + 1)]
    missing = []
    for layer in LAYERS:
        path = f"advlib/{layer}.py" if layer in SINGLE_MODULES else f"advlib/{layer}/"
        if f"`{path}`" not in layout:
            missing.append(path)
        for module in _modules(layer) if layer not in SINGLE_MODULES else ():
            if f"`{module.split('.')[-1]}`" not in layout:
                missing.append(module)
    assert not missing, f"README's layout section does not name {missing}"


def test_each_subpackage_docstring_lists_its_modules():
    """A subpackage's docstring is its table of contents: every module, and no other."""
    wrong = {}
    for layer in LAYERS:
        if layer in SINGLE_MODULES:
            continue
        docstring = ast.get_docstring(ast.parse((PACKAGE / layer / "__init__.py").read_text()))
        named = set(re.findall(rf"advlib\.{layer}\.([a-z_0-9]+)", docstring))
        modules = {module.split(".")[1] for module in _modules(layer)}
        if not modules <= named:
            wrong[layer] = sorted(modules - named)
    assert not wrong, f"subpackage docstrings missing modules: {wrong}"


def test_no_module_is_longer_than_the_house_limit():
    long = {
        path.relative_to(REPOSITORY).as_posix(): count
        for path in PACKAGE.rglob("*.py")
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def _advlib_imports(path):
    """The layers ``path`` imports from, at module level and inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("advlib"):
            parts = node.module.split(".")
            if any(f"{node.module}.{alias.name}" in DATA_ANYWHERE for alias in node.names):
                continue
            if len(parts) > 1:
                names.add(parts[1])
            else:
                names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[1] for alias in node.names if alias.name.startswith("advlib."))
    return names - {"__version__", "_lazy"}


def test_imports_run_one_way_down_the_layers():
    order = {name: index for index, name in enumerate(LAYERS)}
    upward = []
    for layer in LAYERS:
        for module in _modules(layer):
            path = PACKAGE / (module.replace(".", "/") + ".py")
            for imported in _advlib_imports(path):
                # A module may import only its own layer and those listed before it.
                if order.get(imported, -1) > order[layer]:
                    upward.append(f"{module} -> {imported}")
    assert not upward, f"imports that run up the layers: {upward}"


# What must run without loading TensorFlow (`python -m advlib report` on any machine): importing
# every pure layer, and the calls of the report that could import it lazily, inside a function.
_PURE_IMPORTS = "; ".join(
    f"import advlib.{name}" for name in [module for layer in PURE for module in _modules(layer)] + list(PURE_MODULES)
)
NO_TENSORFLOW = {
    "import-the-pure-layers-and-the-command-line": _PURE_IMPORTS + "; import advlib.__main__",
    "format-the-shipped-scorecard": (
        "from advlib.runs import summary; text = summary.format_scorecard('full'); "
        "assert 'Reproduction scorecard' in text and 'fgsm-drop' in text, text"
    ),
    "judge-a-seed-study": (
        "from advlib.verdicts import scorecard; "
        "scorecard.scorecard(seeds={'random_at': {'fgsm': [0.4, 0.5]}, 'per_epoch_at': {'fgsm': [0.3, 0.35]}})"
    ),
}


@pytest.mark.parametrize("code", NO_TENSORFLOW.values(), ids=NO_TENSORFLOW.keys())
def test_runs_without_loading_tensorflow(code):
    code += "; import sys; print(sorted({name.split('.')[0] for name in sys.modules} & {'tensorflow', 'keras'}))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPOSITORY)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout


def test_no_notebook_cell_defines_statistics_or_thresholds():
    """Decision logic belongs to the package: no notebook defines a function with a threshold in it."""
    import json

    offenders = []
    for notebook in sorted((REPOSITORY / "book").glob("*.ipynb")):
        for index, cell in enumerate(json.loads(notebook.read_text())["cells"]):
            source = "".join(cell["source"]) if cell["cell_type"] == "code" else ""
            tags = set(cell.get("metadata", {}).get("tags", []))
            if "method-check" in tags:
                # The tolerance of a check that the page's code agrees with advlib (99.9% of
                # pixels, float noise) belongs to that check, not to any verdict.
                continue
            if re.search(r"itertools\.combinations|np\.sqrt\(.*\(1 - ", source):
                offenders.append(f"{notebook.name} cell {index}: statistics")
            # The method on the page may name its parameters (the variant's temperatures);
            # a comparison with a typed decimal is still a threshold there.
            constants = [] if "method" in tags else re.finditer(r"^([A-Za-z_]+)\s*=\s*[0-9]*\.[0-9]+\s*(#|$)", source, re.M)
            for match in constants:
                offenders.append(f"{notebook.name} cell {index}: a threshold {match.group(1)} typed in")
            # A decimal compared with a number is a threshold; advlib.verdicts.claims holds them.
            for match in re.finditer(r"(?<!:)(<=|>=|<|>)\s*[0-9]*\.[0-9]+(?![0-9]*[a-zA-Z%)])", source):
                line = source[source.rfind("\n", 0, match.start()) + 1 : source.find("\n", match.end())]
                if not line.lstrip().startswith("#"):
                    offenders.append(f"{notebook.name} cell {index}: {line.strip()[:80]}")
    assert not offenders, offenders

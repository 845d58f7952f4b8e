"""The package's shape: every module listed where the README and the package say, small, importing downwards."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import advlib

REPOSITORY = Path(__file__).resolve().parents[1]
PACKAGE = REPOSITORY / "advlib"
MODULES = sorted(path.stem for path in PACKAGE.glob("*.py") if not path.stem.startswith("_"))
PLOTS = sorted(path.stem for path in (PACKAGE / "plots").glob("*.py") if not path.stem.startswith("_"))
# The modules that must load without TensorFlow: the first group of advlib._SUBMODULES,
# and the upper layer, which imports it only inside the functions that train or attack.
PURE = advlib._SUBMODULES[: advlib._SUBMODULES.index("cifar_files")] + (
    "data", "experiments", "measurements", "studies", "worst_case_studies", "defence", "expectations", "reporting", "pipeline",
    "book",
)
MAX_LINES = 400


def test_the_package_lists_every_module_in_layer_order():
    listed = [name for name in advlib._SUBMODULES if name != "plots"]
    assert sorted(listed) == MODULES
    assert len(listed) == len(set(listed))


def test_the_readme_layout_names_every_module():
    text = (REPOSITORY / "README.md").read_text()
    layout = text[text.index("## Layout") :]
    named = set(re.findall(r"`([a-z_]+)`", layout))
    missing = [name for name in MODULES if name not in named]
    assert not missing, f"README's layout section does not name {missing}"
    stale = [name for name in named if (PACKAGE / f"{name}.py").exists() is False and name in _old_names()]
    assert not stale, f"README's layout section names modules that no longer exist: {stale}"


def _old_names():
    # Names the layout used before the upper half was re-cut; none may come back by mistake.
    return {"results", "sweeps", "error_bars"}


def test_the_plots_package_lists_its_modules():
    docstring = ast.get_docstring(ast.parse((PACKAGE / "plots" / "__init__.py").read_text()))
    assert sorted(set(re.findall(r"advlib\.plots\.([a-z_]+)", docstring))) == PLOTS


def test_no_module_is_longer_than_the_house_limit():
    long = {
        path.relative_to(REPOSITORY).as_posix(): count
        for path in PACKAGE.rglob("*.py")
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def _advlib_imports(path):
    """The advlib modules ``path`` imports, at module level and inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("advlib"):
            parts = node.module.split(".")
            if len(parts) > 1:
                names.add(parts[1])
            else:
                names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[1] for alias in node.names if alias.name.startswith("advlib."))
    return names - {"__version__"}


def test_imports_run_one_way_down_the_layers():
    order = {name: index for index, name in enumerate(advlib._SUBMODULES)}
    upward = []
    for name in MODULES:
        for imported in _advlib_imports(PACKAGE / f"{name}.py"):
            # A module may import only those listed before it (at any depth of its code).
            if imported in order and order[imported] > order[name]:
                upward.append(f"{name} -> {imported}")
    assert not upward, f"imports that run up the layers: {upward}"


def test_the_pure_modules_load_without_tensorflow():
    code = "import sys; " + "; ".join(f"import advlib.{name}" for name in PURE) + (
        "; print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPOSITORY, check=True)
    assert result.stdout.strip() == "[]"


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
            # A decimal compared with a number is a threshold; advlib.claims holds them.
            for match in re.finditer(r"(?<!:)(<=|>=|<|>)\s*[0-9]*\.[0-9]+(?![0-9]*[a-zA-Z%)])", source):
                line = source[source.rfind("\n", 0, match.start()) + 1 : source.find("\n", match.end())]
                if not line.lstrip().startswith("#"):
                    offenders.append(f"{notebook.name} cell {index}: {line.strip()[:80]}")
    assert not offenders, offenders

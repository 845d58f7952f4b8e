"""A simulated Colab run of the Colab edition (colab/NN_*.ipynb).

What a reader gets in Colab, rebuilt here without Colab:

- **The runtime.** A fresh virtual environment holding only what Colab preinstalls that
  advlib needs (TensorFlow, Keras, NumPy, Matplotlib, Pillow), each at the **lower bound
  that pyproject.toml's ``dependencies`` claim**: the pins are read from pyproject.toml,
  so this tests the claim itself. Besides them only Colab's kernel, ipykernel 6.17.1
  with IPython 7.34.0 (the versions Colab runs); nbval and pytest stay in the dev venv,
  which drives the kernel through a kernelspec registered in a temporary JUPYTER_PATH.
  The venv is built once and cached at ``$ADVLIB_COLAB_VENV`` (default
  ``$TMPDIR/advlib-colab-venv``); it is rebuilt when the pins change or its packages
  drifted, and advlib is uninstalled from it before every notebook.
- **google.colab.** The kernel starts through ``tools/colab_sim/colab_kernel_launcher.py``,
  which imports the stand-in ``tools/colab_sim/google/colab`` first, as Colab's own
  launcher imports the real one; the setup cell then believes it is in Colab.
- **The install.** The setup cell pip-installs advlib from ``ADVLIB_INSTALL_URL``, here
  ``git+file://`` of a snapshot of this working tree: a fresh git repository holding what
  ``git add -A`` would commit (tracked files as they are now, plus untracked files that
  .gitignore does not exclude), so the advlib installed is the one beside the notebooks
  under test, committed or not.
- **Each notebook a fresh runtime:** its own empty HOME (so ~/.cache/advlib, ~/.keras and
  Matplotlib's caches start empty), no ADVLIB_PROFILE/ADVLIB_RESULTS/ADVLIB_CACHE_DIR,
  the profile chosen in the notebook's form field (set to ``quick`` in a copy, as
  choosing it in Colab's form rewrites that line), the kernel started in ``content/``.
  One deliberate difference: ``ADVLIB_CIFAR10`` points at the local JPEG copy of
  CIFAR-10 (Colab would download the official data; this machine is offline).

Each prepared notebook gets one extra last cell that checks, inside the kernel, that it
ran in that runtime: the venv's Python, the stand-in ``google.colab`` imported, advlib
installed from the snapshot's commit by the setup cell, the quick profile, and the pinned
versions still in place after the install.

The tests: chapters 3 and 6 run top to bottom under nbval (``--nbval-lax``: every cell
must run without an error); every chapter's first cells, up to and including the setup
cell, run; the venv holds exactly the lower bounds. They take minutes, so they are
marked ``colab_sim`` and skipped unless ADVLIB_COLAB_SIM=1 (.ci/run sets it, after
``make test``):

    ADVLIB_COLAB_SIM=1 .venv/bin/python -m pytest tests/test_colab_simulation.py -m colab_sim
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import colab_edition  # noqa: E402

SIM_TOOLS = ROOT / "tools" / "colab_sim"
LAUNCHER = SIM_TOOLS / "colab_kernel_launcher.py"
EDITION = sorted((ROOT / "colab").glob("[0-9][0-9]_*.ipynb"))
FULL_RUN = ("03_fgsm", "06_gradient_hiding")

# What Colab preinstalls that advlib depends on: the venv gets each at the lower bound
# pyproject.toml claims (Pillow too: matplotlib needs it, and advlib claims a bound).
PREINSTALLED = ("tensorflow", "keras", "numpy", "matplotlib", "pillow")
# Colab's kernel, at the versions Colab runs (not advlib dependencies; nbval needs a kernel).
KERNEL_PACKAGES = ("ipykernel==6.17.1", "ipython==7.34.0")
KERNEL_NAME = "advlib-colab-sim"
STAMP = "advlib-colab-sim.json"  # in the venv: marks it as ours, and what it was built with
# Inherited settings that would make the runtime less fresh than Colab's.
DROPPED_ENV = ("ADVLIB_PROFILE", "ADVLIB_RESULTS", "ADVLIB_CACHE_DIR", "ADVLIB_INSTALL_URL", "VIRTUAL_ENV",
               "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "MPLBACKEND", "MPLCONFIGDIR", "KERAS_HOME",
               "IPYTHONDIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
PROFILE_LINE = re.compile(r'^PROFILE = "full"(?=\s*# @param)', re.M)

pytestmark = [
    pytest.mark.colab_sim,
    pytest.mark.skipif(os.environ.get("ADVLIB_COLAB_SIM") != "1",
                       reason="builds a Colab-like venv and runs notebooks (minutes): set ADVLIB_COLAB_SIM=1"),
]


def lower_bounds() -> dict[str, str]:
    """``{name: version}``: the ``>=`` bound pyproject.toml gives each preinstalled library.

    Each bound must be written as the exact release it names (``2.16.1``, not ``2.16``):
    the venv installs ``name==bound`` and the checks compare the installed version with it.
    """
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    requirements = {Requirement(line).name.lower(): Requirement(line) for line in dependencies}
    bounds = {}
    for name in PREINSTALLED:
        assert name in requirements, f"pyproject.toml's dependencies do not name {name}"
        lower = [spec.version for spec in requirements[name].specifier if spec.operator == ">="]
        assert len(lower) == 1, f"pyproject.toml: {requirements[name]} needs exactly one >= bound"
        bounds[name] = lower[0]
    return bounds


def _run(command, *, timeout, what, **kwargs):
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True,
                            timeout=timeout, **kwargs)
    if result.returncode != 0:
        pytest.fail(f"{what} failed (exit code {result.returncode}):\n{_tail(result.stdout + result.stderr)}")
    return result.stdout


def _tail(text, limit=8000):
    return text if len(text) <= limit else "...\n" + text[-limit:]


def _in_venv(venv, *args, timeout=120, what):
    """Run the venv's Python isolated (-I) from a neutral folder: the repository's own
    advlib (in the current folder when pytest runs) must not be seen as installed."""
    return _run([venv / "bin" / "python", "-I", *args], timeout=timeout, what=what, cwd=venv)


def _freeze(venv):
    return _in_venv(venv, "-m", "pip", "freeze", "--all", what="pip freeze").splitlines()


def _uninstall_advlib(venv):
    _in_venv(venv, "-m", "pip", "uninstall", "--yes", "--quiet", "advlib", what="pip uninstall advlib")


@pytest.fixture(scope="session")
def colab_venv():
    """The simulated Colab runtime's venv (cached; advlib not installed): its directory."""
    venv = Path(os.environ.get("ADVLIB_COLAB_VENV") or Path(tempfile.gettempdir()) / "advlib-colab-venv")
    wanted = {"python": sys.version.split()[0],
              "requirements": [f"{name}=={version}" for name, version in lower_bounds().items()]
              + list(KERNEL_PACKAGES)}
    stamp = venv / STAMP
    recorded = json.loads(stamp.read_text()) if stamp.exists() else None
    if recorded and recorded.get("freeze") and {k: recorded.get(k) for k in wanted} == wanted:
        # A notebook run installs advlib into the venv; uninstall it, then reuse the venv
        # only if nothing else changed since it was built.
        _uninstall_advlib(venv)
        if _freeze(venv) == recorded["freeze"]:
            return venv
    if venv.exists():
        if recorded is None and any(venv.iterdir()):
            pytest.fail(f"{venv} exists and is not a simulated-Colab venv (no {STAMP}): "
                        "remove it or point ADVLIB_COLAB_VENV elsewhere")
        shutil.rmtree(venv)
    _run([sys.executable, "-m", "venv", venv], timeout=300, what="python -m venv")
    stamp.write_text(json.dumps({**wanted, "freeze": None}))  # ours, not yet complete
    _in_venv(venv, "-m", "pip", "install", "--progress-bar", "off", "--disable-pip-version-check",
             *wanted["requirements"], timeout=1800, what="installing the Colab libraries")
    stamp.write_text(json.dumps({**wanted, "freeze": _freeze(venv)}, indent=1))
    return venv


@pytest.fixture(scope="session")
def snapshot(tmp_path_factory):
    """A git repository holding this working tree as ``git add -A`` would commit it: (path, commit)."""
    repo = tmp_path_factory.mktemp("snapshot") / "advlib"
    listed = _run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                  timeout=120, what="git ls-files")
    for name in sorted(set(filter(None, listed.split("\0")))):
        source = ROOT / name
        if source.is_file() or source.is_symlink():  # tracked files deleted in the tree are left out
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name, follow_symlinks=False)
    git = ["git", "-C", repo, "-c", "user.name=colab-sim", "-c", "user.email=colab-sim@localhost",
           "-c", "commit.gpgsign=false"]
    _run([*git, "init", "--quiet"], timeout=60, what="git init")
    _run([*git, "add", "--all"], timeout=120, what="git add")
    _run([*git, "commit", "--quiet", "--no-verify", "-m", "working-tree snapshot for the simulated Colab run"],
         timeout=120, what="git commit")
    commit = _run([*git, "rev-parse", "HEAD"], timeout=60, what="git rev-parse").strip()
    return repo, commit


@pytest.fixture(scope="session")
def jupyter_path(colab_venv, tmp_path_factory):
    """A JUPYTER_PATH entry whose kernelspec starts the venv's Python through the Colab launcher."""
    path = tmp_path_factory.mktemp("jupyter")
    spec = path / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(colab_venv / "bin" / "python"), str(LAUNCHER), "-f", "{connection_file}"],
        "display_name": "Python 3 (simulated Colab)",
        "language": "python",
    }, indent=1))
    return path


def _cifar10():
    configured = os.environ.get("ADVLIB_CIFAR10")
    if configured:
        return configured
    default = ROOT.parent / "shared" / "data" / "cifar10-jpeg"  # the layout .ci/run exports
    if not default.is_dir():
        pytest.fail("set ADVLIB_CIFAR10 to a local copy of CIFAR-10 (the simulated runtime is offline)")
    return str(default)


def _check_cell(venv, snapshot_url, commit):
    """The extra last cell: did this notebook run in the simulated runtime, as set up?"""
    expected = lower_bounds()
    return f'''\
# Simulated-Colab check, added by tests/test_colab_simulation.py (not part of the edition).
import importlib.metadata, json, os, sys
import advlib

venv = os.path.realpath({str(venv)!r})
assert os.path.realpath(sys.prefix) == venv, f"the kernel is not the simulated runtime's Python: {{sys.prefix}}"
assert getattr(sys.modules.get("google.colab"), "SIMULATED", False), "the stand-in google.colab was not imported"
assert os.path.realpath(advlib.__file__).startswith(venv + os.sep), f"advlib imported from {{advlib.__file__}}"
direct = json.loads(importlib.metadata.distribution("advlib").read_text("direct_url.json") or "{{}}")
assert direct.get("url") == {snapshot_url!r}, f"advlib was not installed from the snapshot: {{direct}}"
assert direct.get("vcs_info", {{}}).get("commit_id") == {commit!r}, f"advlib is not the snapshot's commit: {{direct}}"
assert os.environ.get("ADVLIB_PROFILE") == "quick", os.environ.get("ADVLIB_PROFILE")
versions = {{name: importlib.metadata.version(name) for name in {sorted(expected)!r}}}
assert versions == {expected!r}, f"not the pinned lower bounds after installing advlib: {{versions}}"
'''


def _prepare(chapter, workdir, *, setup_only, venv, snapshot):
    """Copy ``colab/<chapter>.ipynb`` into ``workdir/content`` as a Colab user would run it."""
    notebook = json.loads((ROOT / "colab" / f"{chapter}.ipynb").read_text())
    cells = notebook["cells"]
    ids = [cell.get("id") for cell in cells]
    for needed in (colab_edition.PROFILE_ID, colab_edition.SETUP_ID):
        assert needed in ids, f"colab/{chapter}.ipynb has no cell {needed!r}"
    profile = cells[ids.index(colab_edition.PROFILE_ID)]
    source, count = PROFILE_LINE.subn('PROFILE = "quick"', "".join(profile["source"]))
    assert count == 1, f"colab/{chapter}.ipynb: no form line PROFILE = \"full\"  # @param in the profile cell"
    profile["source"] = source
    if setup_only:
        del cells[ids.index(colab_edition.SETUP_ID) + 1:]
    repo, commit = snapshot
    cells.append({"cell_type": "code", "execution_count": None, "id": "colab-sim-check", "metadata": {},
                  "outputs": [], "source": _check_cell(venv, f"file://{repo}", commit)})
    content = workdir / "content"
    content.mkdir(parents=True)
    path = content / f"{chapter}.ipynb"
    path.write_text(json.dumps(notebook, indent=1))
    # nbval's settings for the book (stderr, images and HTML never compared), and a
    # pytest.ini so that this run reads no configuration from outside workdir.
    shutil.copy(ROOT / "book" / "conftest.py", workdir / "conftest.py")
    (workdir / "pytest.ini").write_text("[pytest]\n")
    return path


def _run_in_colab(chapter, tmp_path, *, setup_only, venv, snapshot, jupyter_path, timeout):
    """Run the prepared notebook under nbval in a fresh simulated runtime; fail on any error."""
    _uninstall_advlib(venv)  # a fresh runtime: the setup cell must install it
    notebook = _prepare(chapter, tmp_path, setup_only=setup_only, venv=venv, snapshot=snapshot)
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if key not in DROPPED_ENV}
    env.update(
        HOME=str(home),
        PIP_CACHE_DIR=os.environ.get("PIP_CACHE_DIR") or str(Path("~/.cache/pip").expanduser()),
        JUPYTER_PATH=str(jupyter_path),
        PATH=os.pathsep.join([str(venv / "bin"), os.environ.get("PATH", "")]),
        ADVLIB_INSTALL_URL=f"git+file://{snapshot[0]}",
        ADVLIB_CIFAR10=_cifar10(),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        GIT_TERMINAL_PROMPT="0",
    )
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # -x: report the first failing cell (the ones after it would only fail for want of it).
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-x", "--color=no", "--nbval-lax",
               "--nbval-kernel-name", KERNEL_NAME, "--nbval-cell-timeout", str(timeout), "-q",
               notebook.relative_to(tmp_path)]
    result = subprocess.run([str(part) for part in command], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=timeout + 300)
    output = ANSI.sub("", result.stdout + result.stderr)  # IPython colours its tracebacks
    if result.returncode != 0:
        pytest.fail(f"colab/{chapter}.ipynb failed in the simulated Colab runtime:\n{_tail(output)}")
    assert re.search(r"\b\d+ passed\b", output), output


def test_the_venv_holds_exactly_the_claimed_lower_bounds(colab_venv):
    bounds = lower_bounds()
    probe = ("import importlib.metadata, importlib.util, json, sys; "
             "print(json.dumps({'advlib': importlib.util.find_spec('advlib') is not None, "
             "'versions': {n: importlib.metadata.version(n) for n in sys.argv[1:]}}))")
    found = json.loads(_in_venv(colab_venv, "-c", probe, *bounds, what="reading the venv's versions"))
    assert not found["advlib"], "advlib is already installed: the setup cell would not install it"
    assert found["versions"] == bounds, f"pyproject.toml claims {bounds}; the venv holds {found['versions']}"
    # pip's own view: every pin installed, no broken requirement.
    _in_venv(colab_venv, "-m", "pip", "check", what="pip check")


@pytest.mark.parametrize("chapter", FULL_RUN)
def test_chapter_runs_top_to_bottom(chapter, tmp_path, colab_venv, snapshot, jupyter_path):
    _run_in_colab(chapter, tmp_path, setup_only=False, venv=colab_venv, snapshot=snapshot,
                  jupyter_path=jupyter_path, timeout=1800)


@pytest.mark.parametrize("chapter", [path.stem for path in EDITION])
def test_setup_cells_run(chapter, tmp_path, colab_venv, snapshot, jupyter_path):
    _run_in_colab(chapter, tmp_path, setup_only=True, venv=colab_venv, snapshot=snapshot,
                  jupyter_path=jupyter_path, timeout=600)

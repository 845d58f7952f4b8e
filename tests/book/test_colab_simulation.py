"""A simulated Colab run of the Colab edition (colab/NN_*.ipynb).

What a reader gets in Colab, rebuilt here without Colab:

- **Two runtimes.** Each a fresh virtual environment holding only what Colab preinstalls
  that advlib needs (TensorFlow, Keras, NumPy, Matplotlib, Pillow, SciPy, filelock, tqdm, and
  adjustText, which Colab may lack: see PREINSTALLED), plus Colab's kernel,
  ipykernel 6.17.1 with IPython 7.34.0 (the versions Colab runs); nbval and pytest stay in
  the dev venv, which drives the kernel through a kernelspec registered in a temporary
  JUPYTER_PATH. The libraries are, in ``lower``, the **lower bounds that pyproject.toml's
  ``dependencies`` claim** (read from there, so this tests the claim itself) and, in
  ``newest``, the **newest releases pip resolves together** today (a ``pip install
  --dry-run`` of the unpinned names, then installed at exactly those versions), as Colab
  moves on to them. Each venv is built once and cached at ``$ADVLIB_COLAB_VENV-lower`` and
  ``$ADVLIB_COLAB_VENV-newest`` (default ``$TMPDIR/advlib-colab-venv-...``); it is rebuilt
  when its versions change (a new bound, a new release) or its packages drifted, and advlib
  is uninstalled from it before every notebook.
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
  the profile chosen in the notebook's form field (``quick`` set in a copy, as choosing it
  in Colab's form rewrites that line; ``full``, the form's default, left as it is), the
  kernel started in ``content/``. One deliberate difference: ``ADVLIB_CIFAR10`` points at
  the local JPEG copy of CIFAR-10 (Colab would download the official data; this machine
  is offline).

Each prepared notebook gets one extra last cell that checks, inside the kernel, that it
ran in that runtime: the venv's Python, the stand-in ``google.colab`` imported, advlib
installed from the snapshot's commit by the setup cell, the profile chosen, the venv's
versions still in place after the install, and no model trained (every model loaded from
the weights the package ships, on either profile).

The tests: every chapter runs top to bottom under nbval (``--nbval-lax``: every cell must
run without an error) on ``quick`` in both runtimes; chapter 3 runs on ``full`` from the
shipped full-profile weights in ``newest`` (the form's default with the releases a Colab
runtime moves to; ``lower`` loads weights on ``quick`` already); each venv holds exactly
its versions. They take minutes, so they are marked ``colab_sim`` and skipped unless
ADVLIB_COLAB_SIM=1 (.ci/run sets it, after ``make test``):

    ADVLIB_COLAB_SIM=1 .venv/bin/python -m pytest tests/book/test_colab_simulation.py -m colab_sim
"""

from __future__ import annotations

import dataclasses
import functools
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
from packaging.version import Version

import colab_edition
from tests.support.paths import REPOSITORY

SIM_TOOLS = REPOSITORY / "tools" / "colab_sim"
LAUNCHER = SIM_TOOLS / "colab_kernel_launcher.py"
EDITION = sorted((REPOSITORY / "colab").glob("[0-9][0-9]_*.ipynb"))
# The chapter run on the form's default profile, and in which runtime: chapter 3 loads the
# shipped full baseline and attacks the whole test set (about 25 s in the full build).
FULL_PROFILE_RUN = ("03_fgsm", "newest")

# What Colab preinstalls that advlib depends on (Pillow too: matplotlib needs it, and
# advlib claims a bound), and adjustText, small and pure Python, which the setup cell's
# pip install brings where Colab lacks it: listed here, its lower bound is tested too.
# Names as pip normalises them (lower case). The runtimes: their versions at the lower
# bounds pyproject.toml claims, and at the newest releases pip resolves together.
PREINSTALLED = ("tensorflow", "keras", "numpy", "matplotlib", "pillow", "filelock", "scipy", "tqdm", "adjusttext")
RUNTIMES = ("lower", "newest")
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
                       reason="builds Colab-like venvs and runs notebooks (minutes): set ADVLIB_COLAB_SIM=1"),
]


@dataclasses.dataclass(frozen=True)
class Runtime:
    """One simulated Colab runtime: ``kind`` (one of RUNTIMES), its venv, and the versions
    of the PREINSTALLED libraries in it (``{name: version}``)."""

    kind: str
    venv: Path
    versions: dict


def lower_bounds() -> dict[str, str]:
    """``{name: version}``: the ``>=`` bound pyproject.toml gives each preinstalled library.

    Each bound must be written as the exact release it names (``2.16.1``, not ``2.16``):
    the venv installs ``name==bound`` and the checks compare the installed version with it.
    """
    dependencies = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["project"]["dependencies"]
    requirements = {Requirement(line).name.lower(): Requirement(line) for line in dependencies}
    bounds = {}
    for name in PREINSTALLED:
        assert name in requirements, f"pyproject.toml's dependencies do not name {name}"
        lower = [spec.version for spec in requirements[name].specifier if spec.operator == ">="]
        assert len(lower) == 1, f"pyproject.toml: {requirements[name]} needs exactly one >= bound"
        bounds[name] = lower[0]
    return bounds


@functools.cache  # once a session: both the fixture and the venv's test ask
def newest_releases() -> dict[str, str]:
    """``{name: version}``: what pip resolves today for the preinstalled libraries unpinned,
    beside Colab's kernel (a dry run from scratch: nothing installed is kept or changed)."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        _run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
              "--disable-pip-version-check", "--report", report, *PREINSTALLED, *KERNEL_PACKAGES],
             timeout=600, what="resolving the newest releases (pip install --dry-run; needs the package index)",
             cwd=scratch)
        resolved = {item["metadata"]["name"].lower(): item["metadata"]["version"]
                    for item in json.loads(report.read_text())["install"]}
    return {name: resolved[name] for name in PREINSTALLED}


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


@pytest.fixture(scope="session", params=RUNTIMES)
def colab_venv(request):
    """A simulated Colab runtime (its venv cached; advlib not installed): a :class:`Runtime`."""
    kind = request.param
    base = os.environ.get("ADVLIB_COLAB_VENV") or Path(tempfile.gettempdir()) / "advlib-colab-venv"
    venv = Path(f"{base}-{kind}")
    versions = lower_bounds() if kind == "lower" else newest_releases()
    wanted = {"python": sys.version.split()[0],
              "requirements": [f"{name}=={version}" for name, version in versions.items()]
              + list(KERNEL_PACKAGES)}
    stamp = venv / STAMP
    recorded = json.loads(stamp.read_text()) if stamp.exists() else None
    if recorded and recorded.get("freeze") and {k: recorded.get(k) for k in wanted} == wanted:
        # A notebook run installs advlib into the venv; uninstall it, then reuse the venv
        # only if nothing else changed since it was built.
        _uninstall_advlib(venv)
        if _freeze(venv) == recorded["freeze"]:
            return Runtime(kind, venv, versions)
    if venv.exists():
        if recorded is None and any(venv.iterdir()):
            pytest.fail(f"{venv} exists and is not a simulated-Colab venv (no {STAMP}): "
                        "remove it or point ADVLIB_COLAB_VENV elsewhere")
        shutil.rmtree(venv)
    _run([sys.executable, "-m", "venv", venv], timeout=300, what="python -m venv")
    stamp.write_text(json.dumps({**wanted, "freeze": None}))  # ours, not yet complete
    _in_venv(venv, "-m", "pip", "install", "--progress-bar", "off", "--disable-pip-version-check",
             *wanted["requirements"], timeout=1800, what=f"installing the Colab libraries ({kind})")
    stamp.write_text(json.dumps({**wanted, "versions": versions, "freeze": _freeze(venv)}, indent=1))
    return Runtime(kind, venv, versions)


@pytest.fixture(scope="session")
def snapshot(tmp_path_factory):
    """A git repository holding this working tree as ``git add -A`` would commit it: (path, commit)."""
    repo = tmp_path_factory.mktemp("snapshot") / "advlib"
    listed = _run(["git", "-C", REPOSITORY, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                  timeout=120, what="git ls-files")
    for name in sorted(set(filter(None, listed.split("\0")))):
        source = REPOSITORY / name
        if source.is_file() or source.is_symlink():  # tracked files deleted in the tree are left out
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name, follow_symlinks=False)
    git = ["git", "-C", repo, "-c", "user.name=colab-sim", "-c", "user.email=colab-sim@localhost",
           "-c", "commit.gpgsign=false"]
    _run([*git, "init", "--quiet"], timeout=60, what="git init")
    _run([*git, "add", "--all"], timeout=120, what="git add")
    _run([*git, "commit", "--quiet", "--no-verify", "-m", "working-tree snapshot for the simulated Colab run"],
         timeout=120, what="git commit")
    # Packed once, as a hosted repository serves it: each setup cell's clone then reuses the
    # pack instead of compressing every loose object again (about 4 s a notebook on 2 cores).
    _run([*git, "repack", "-a", "-d", "-q"], timeout=300, what="git repack")
    commit = _run([*git, "rev-parse", "HEAD"], timeout=60, what="git rev-parse").strip()
    return repo, commit


@pytest.fixture(scope="session")
def jupyter_path(colab_venv, tmp_path_factory):
    """A JUPYTER_PATH entry whose kernelspec starts the venv's Python through the Colab launcher."""
    path = tmp_path_factory.mktemp(f"jupyter-{colab_venv.kind}")
    spec = path / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(colab_venv.venv / "bin" / "python"), str(LAUNCHER), "-f", "{connection_file}"],
        "display_name": "Python 3 (simulated Colab)",
        "language": "python",
    }, indent=1))
    return path


def _cifar10():
    configured = os.environ.get("ADVLIB_CIFAR10")
    if configured:
        return configured
    default = REPOSITORY.parent / "shared" / "data" / "cifar10-jpeg"  # the layout .ci/run exports
    if not default.is_dir():
        pytest.fail("set ADVLIB_CIFAR10 to a local copy of CIFAR-10 (the simulated runtime is offline)")
    return str(default)


def _check_cell(runtime, profile, snapshot_url, commit):
    """The extra last cell: did this notebook run in the simulated runtime, as set up?"""
    return f'''\
# Simulated-Colab check, added by tests/book/test_colab_simulation.py (not part of the edition).
import importlib.metadata, json, os, sys
import advlib, advlib.results.store

venv = os.path.realpath({str(runtime.venv)!r})
assert os.path.realpath(sys.prefix) == venv, f"the kernel is not the simulated runtime's Python: {{sys.prefix}}"
assert getattr(sys.modules.get("google.colab"), "SIMULATED", False), "the stand-in google.colab was not imported"
assert os.path.realpath(advlib.__file__).startswith(venv + os.sep), f"advlib imported from {{advlib.__file__}}"
direct = json.loads(importlib.metadata.distribution("advlib").read_text("direct_url.json") or "{{}}")
assert direct.get("url") == {snapshot_url!r}, f"advlib was not installed from the snapshot: {{direct}}"
assert direct.get("vcs_info", {{}}).get("commit_id") == {commit!r}, f"advlib is not the snapshot's commit: {{direct}}"
assert os.environ.get("ADVLIB_PROFILE") == {profile!r}, os.environ.get("ADVLIB_PROFILE")
versions = {{name: importlib.metadata.version(name) for name in {sorted(runtime.versions)!r}}}
assert versions == {dict(sorted(runtime.versions.items()))!r}, f"not the {runtime.kind} versions after installing advlib: {{versions}}"
# Every model came from the weights the package ships: a trained one (or a training
# checkpoint) would be saved under the results folder of this fresh HOME.
results = advlib.results.store.results_root()
trained = sorted(str(path.relative_to(results)) for path in results.rglob("*.weights.h5")) if results.is_dir() else []
assert not trained, f"models were trained, not loaded from the shipped weights: {{trained}}"
'''


def _prepare(chapter, workdir, *, profile, runtime, snapshot):
    """Copy ``colab/<chapter>.ipynb`` into ``workdir/content`` as a Colab user would run it."""
    notebook = json.loads((REPOSITORY / "colab" / f"{chapter}.ipynb").read_text())
    cells = notebook["cells"]
    ids = [cell.get("id") for cell in cells]
    for needed in (colab_edition.PROFILE_ID, colab_edition.SETUP_ID):
        assert needed in ids, f"colab/{chapter}.ipynb has no cell {needed!r}"
    profile_cell = cells[ids.index(colab_edition.PROFILE_ID)]
    # The form's default must be full; choosing another profile in Colab rewrites the line.
    source, count = PROFILE_LINE.subn(f'PROFILE = "{profile}"', "".join(profile_cell["source"]))
    assert count == 1, f"colab/{chapter}.ipynb: no form line PROFILE = \"full\"  # @param in the profile cell"
    profile_cell["source"] = source
    repo, commit = snapshot
    cells.append({"cell_type": "code", "execution_count": None, "id": "colab-sim-check", "metadata": {},
                  "outputs": [], "source": _check_cell(runtime, profile, f"file://{repo}", commit)})
    content = workdir / "content"
    content.mkdir(parents=True)
    path = content / f"{chapter}.ipynb"
    path.write_text(json.dumps(notebook, indent=1))
    # nbval's settings for the book (stderr, images and HTML never compared), and a
    # pytest.ini so that this run reads no configuration from outside workdir.
    shutil.copy(REPOSITORY / "book" / "conftest.py", workdir / "conftest.py")
    (workdir / "pytest.ini").write_text("[pytest]\n")
    return path


def _run_in_colab(chapter, tmp_path, *, profile, runtime, snapshot, jupyter_path, timeout):
    """Run the prepared notebook under nbval in a fresh simulated runtime; fail on any error."""
    _uninstall_advlib(runtime.venv)  # a fresh runtime: the setup cell must install it
    notebook = _prepare(chapter, tmp_path, profile=profile, runtime=runtime, snapshot=snapshot)
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if key not in DROPPED_ENV}
    env.update(
        HOME=str(home),
        PIP_CACHE_DIR=os.environ.get("PIP_CACHE_DIR") or str(Path("~/.cache/pip").expanduser()),
        JUPYTER_PATH=str(jupyter_path),
        PATH=os.pathsep.join([str(runtime.venv / "bin"), os.environ.get("PATH", "")]),
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
        pytest.fail(f"colab/{chapter}.ipynb ({profile}, {runtime.kind} versions) failed in the simulated "
                    f"Colab runtime:\n{_tail(output)}")
    assert re.search(r"\b\d+ passed\b", output), output


def test_the_venv_holds_exactly_its_versions(colab_venv):
    expected = lower_bounds() if colab_venv.kind == "lower" else newest_releases()
    probe = ("import importlib.metadata, importlib.util, json, sys; "
             "print(json.dumps({'advlib': importlib.util.find_spec('advlib') is not None, "
             "'versions': {n: importlib.metadata.version(n) for n in sys.argv[1:]}}))")
    found = json.loads(_in_venv(colab_venv.venv, "-c", probe, *expected, what="reading the venv's versions"))
    assert not found["advlib"], "advlib is already installed: the setup cell would not install it"
    assert found["versions"] == expected, f"the {colab_venv.kind} venv should hold {expected}; it holds {found['versions']}"
    # The newest releases must satisfy advlib's bounds, or installing advlib would replace them.
    below = {name: version for name, version in found["versions"].items()
             if Version(version) < Version(lower_bounds()[name])}
    assert not below, f"below pyproject.toml's lower bounds: {below}"
    # pip's own view: every pin installed, no broken requirement.
    _in_venv(colab_venv.venv, "-m", "pip", "check", what="pip check")


@pytest.mark.parametrize("chapter", [path.stem for path in EDITION])
def test_chapter_runs_top_to_bottom_on_quick(chapter, tmp_path, colab_venv, snapshot, jupyter_path):
    _run_in_colab(chapter, tmp_path, profile="quick", runtime=colab_venv, snapshot=snapshot,
                  jupyter_path=jupyter_path, timeout=1200)


@pytest.mark.parametrize("colab_venv", [FULL_PROFILE_RUN[1]], indirect=True)
def test_chapter_runs_on_full_from_the_shipped_weights(tmp_path, colab_venv, snapshot, jupyter_path):
    _run_in_colab(FULL_PROFILE_RUN[0], tmp_path, profile="full", runtime=colab_venv, snapshot=snapshot,
                  jupyter_path=jupyter_path, timeout=1800)

"""Plant each mutation of tools/mutations.py in a copy of the repository and check a test kills it.

Usage (from the repository root, with the project's Python):

    nice .venv/bin/python tools/mutation_check.py              # every mutation
    nice .venv/bin/python tools/mutation_check.py --list       # list them, run nothing
    nice .venv/bin/python tools/mutation_check.py --only attacks-fgsm-descends soft-labels-at-t1
    nice .venv/bin/python tools/mutation_check.py --jobs 2     # two copies, two pytest runs at a time

What it does:

1. Copies the repository's tracked and untracked-but-not-ignored files
   (``git ls-files -co --exclude-standard``; never ``.venv`` or ``_build``) into a
   temporary folder, one copy per job. The real working tree is never written to.
2. Checks every selected mutation before running anything: its keys, and that its
   ``original`` snippet occurs exactly once in its file. Any problem stops the script
   with a message naming the mutation (exit status 2).
3. Checks that the copy's ``advlib`` is the one imported (advlib is installed editable
   from the real tree, so pytest runs with the copy as working directory and
   ``PYTHONPATH=<copy>``), then runs the union of the selected tests on the unmutated
   copy. A mutation whose tests already fail there cannot be judged: it is reported as
   ``baseline-fails`` (exit status 2).
4. For each mutation: writes the mutated file in the copy, runs its tests with
   ``pytest -x``, restores the file. ``killed``: a test failed (or collection broke, or
   the run timed out); ``survived``: every test passed; ``error``: pytest could not run
   the tests (no tests collected, bad node id).

Exit status: 0 if every mutation was killed, 1 if any survived (or errored), 2 for a
bad mutation list or a failing baseline. The mutation list format is documented at the
top of tools/mutations.py.
"""

import argparse
import concurrent.futures
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutations import MUTATIONS  # noqa: E402

REQUIRED_KEYS = {"id", "file", "original", "replacement", "description", "tests"}
EXCLUDED_PREFIXES = (".venv/", "_build/")
DEFAULT_TIMEOUT = 600


class MutationListError(Exception):
    """The mutation list cannot be used as it is."""


def python_executable():
    """The project's virtual-environment Python when there is one, else this one."""
    candidate = ROOT / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def repository_files():
    """Tracked and untracked-not-ignored files of the real tree, relative paths, minus .venv and _build."""
    listing = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    files = []
    for name in sorted(set(filter(None, listing.split("\0")))):
        if name.startswith(EXCLUDED_PREFIXES) or "/_build/" in name or "/.venv/" in name:
            continue
        if (ROOT / name).is_file() and not (ROOT / name).is_symlink():
            files.append(name)
    return files


def make_copy(files, destination):
    for name in files:
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    return destination


def check_mutations(mutations, copy):
    """Raise MutationListError listing every malformed entry or snippet that is not found exactly once."""
    problems, seen = [], set()
    for index, mutation in enumerate(mutations):
        name = mutation.get("id", f"entry {index}")
        keys = set(mutation)
        if keys != REQUIRED_KEYS:
            problems.append(f"{name}: keys must be {sorted(REQUIRED_KEYS)}, got {sorted(keys)}")
            continue
        if name in seen:
            problems.append(f"{name}: duplicate id")
        seen.add(name)
        if not isinstance(mutation["tests"], (list, tuple)) or not mutation["tests"]:
            problems.append(f"{name}: tests must be a non-empty list of test files or node ids")
        if mutation["original"] == mutation["replacement"]:
            problems.append(f"{name}: replacement equals original")
        path = copy / mutation["file"]
        if not path.is_file():
            problems.append(f"{name}: file {mutation['file']} does not exist")
            continue
        count = path.read_text().count(mutation["original"])
        if count != 1:
            problems.append(
                f"{name}: the original snippet occurs {count} times in {mutation['file']} (must be exactly once):\n"
                + "\n".join(f"        | {line}" for line in mutation["original"].splitlines())
            )
    if problems:
        raise MutationListError("\n".join(f"  - {problem}" for problem in problems))


def environment(copy):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def check_import_location(copy):
    """Make sure `import advlib` inside the copy finds the copy, not the editable install."""
    result = subprocess.run(
        [python_executable(), "-c", "import advlib, tests; print(advlib.__file__); print(tests.__file__)"],
        cwd=copy, env=environment(copy), capture_output=True, text=True,
    )
    locations = result.stdout.split()
    if result.returncode != 0 or len(locations) != 2 or not all(
        Path(location).resolve().is_relative_to(copy.resolve()) for location in locations
    ):
        raise MutationListError(
            f"the copy's advlib/tests are not the ones imported (got {result.stdout.strip()!r} {result.stderr[-500:]!r})"
        )


def run_pytest(copy, tests, timeout, extra=()):
    """Run pytest on `tests` inside `copy`; return (returncode or 'timeout', seconds, output)."""
    command = [python_executable(), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header", *extra, *tests]
    started = time.monotonic()
    try:
        result = subprocess.run(
            command, cwd=copy, env=environment(copy), capture_output=True, text=True, timeout=timeout
        )
        return result.returncode, time.monotonic() - started, result.stdout + result.stderr
    except subprocess.TimeoutExpired as error:
        output = (error.stdout or b"").decode(errors="replace") if isinstance(error.stdout, bytes) else (error.stdout or "")
        return "timeout", time.monotonic() - started, output


def baseline_failures(copy, tests, timeout):
    """Node ids (or files) among `tests` that fail on the unmutated copy; [] when all pass."""
    code, seconds, output = run_pytest(copy, tests, timeout, extra=("-rfE",))
    print(f"baseline: {len(tests)} test targets on the unmutated copy, {seconds:.0f} s, pytest exit {code}")
    if code == 0:
        return []
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", output, flags=re.MULTILINE)
    if not failed:
        print(output[-3000:])
        return list(tests)
    return failed


def targets_affected(mutation, failed):
    """True when a failing baseline node lies in one of the mutation's test targets."""
    for target in mutation["tests"]:
        for node in failed:
            if node == target or node.startswith(target + "::") or node.startswith(target + "[") or node.split("::")[0] == target:
                return True
    return False


def judge(mutation, copy, timeout):
    path = copy / mutation["file"]
    original_text = path.read_text()
    try:
        path.write_text(original_text.replace(mutation["original"], mutation["replacement"], 1))
        code, seconds, output = run_pytest(copy, mutation["tests"], timeout, extra=("-x",))
    finally:
        path.write_text(original_text)
    if code == "timeout":
        return "killed", seconds, "timed out"
    if code == 1:
        failed = re.findall(r"^FAILED (\S+)", output, flags=re.MULTILINE)
        return "killed", seconds, f"by {failed[0]}" if failed else "a test failed"
    if code == 2:
        return "killed", seconds, "collection or import broke"
    if code == 0:
        return "survived", seconds, "every test passed"
    return "error", seconds, f"pytest exit {code}: {output.strip().splitlines()[-1] if output.strip() else ''}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", metavar="ID", help="run only these mutation ids")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--jobs", type=int, default=1, help="pytest runs at a time, one repository copy each (default 1)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds per pytest run (default 600)")
    parser.add_argument("--skip-baseline", action="store_true", help="do not run the tests on the unmutated copy first")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copies (their paths are printed)")
    arguments = parser.parse_args(argv)

    mutations = list(MUTATIONS)
    if arguments.only:
        known = {mutation.get("id") for mutation in mutations}
        unknown = [name for name in arguments.only if name not in known]
        if unknown:
            print(f"unknown mutation id(s): {', '.join(unknown)}; see --list", file=sys.stderr)
            return 2
        mutations = [mutation for mutation in mutations if mutation.get("id") in arguments.only]
    if arguments.list:
        for mutation in mutations:
            print(f"{mutation.get('id')}: {mutation.get('file')}: {mutation.get('description')}")
            for target in mutation.get("tests", ()):
                print(f"    {target}")
        print(f"{len(mutations)} mutations")
        return 0
    if arguments.jobs < 1:
        print("--jobs must be at least 1", file=sys.stderr)
        return 2

    started = time.monotonic()
    workspace = Path(tempfile.mkdtemp(prefix="mutation-check-"))
    try:
        files = repository_files()
        copies = [make_copy(files, workspace / f"copy{index}") for index in range(arguments.jobs)]
        print(f"copied {len(files)} files into {len(copies)} cop{'y' if len(copies) == 1 else 'ies'} under {workspace}")
        try:
            check_mutations(mutations, copies[0])
            check_import_location(copies[0])
        except MutationListError as error:
            print(f"mutation list problem(s):\n{error}", file=sys.stderr)
            return 2

        unjudgeable = set()
        if not arguments.skip_baseline:
            targets = list(dict.fromkeys(target for mutation in mutations for target in mutation["tests"]))
            failed = baseline_failures(copies[0], targets, arguments.timeout)
            if failed:
                print("baseline failures (these tests fail without any mutation):")
                for node in failed:
                    print(f"    {node}")
                unjudgeable = {mutation["id"] for mutation in mutations if targets_affected(mutation, failed)}

        free = queue.Queue()
        for copy in copies:
            free.put(copy)

        def work(mutation):
            if mutation["id"] in unjudgeable:
                return mutation, ("baseline-fails", 0.0, "its tests fail on the unmutated code")
            copy = free.get()
            try:
                return mutation, judge(mutation, copy, arguments.timeout)
            finally:
                free.put(copy)

        results = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=arguments.jobs) as pool:
            for mutation, (status, seconds, detail) in pool.map(work, mutations):
                results[mutation["id"]] = status
                print(f"{status:>14}  {seconds:6.1f} s  {mutation['id']}: {mutation['description']} ({detail})", flush=True)
    finally:
        if arguments.keep:
            print(f"kept the copies under {workspace}")
        else:
            shutil.rmtree(workspace, ignore_errors=True)

    counts = {status: sum(1 for value in results.values() if value == status) for status in sorted(set(results.values()))}
    elapsed = time.monotonic() - started
    print(f"{len(results)} mutations: " + ", ".join(f"{count} {status}" for status, count in counts.items())
          + f"; total {elapsed:.0f} s ({elapsed / 60:.1f} min)")
    if counts.get("baseline-fails"):
        return 2
    return 0 if all(status == "killed" for status in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Print how long each chapter took to execute in a book build, from its jupyter-cache.

    .venv/bin/python benchmarks/chapter_times.py            # the full build (_build/.jupyter_cache)
    .venv/bin/python benchmarks/chapter_times.py _build/profile-quick/_build/.jupyter_cache
    .venv/bin/python benchmarks/chapter_times.py --save full   # also record them for the instructors' page

Each chapter's time is what MyST-NB recorded when it last executed the notebook (a
chapter whose code did not change since is not executed again and keeps its old time).
The goal for readers is at most 90 s per chapter on 2 CPU cores from shipped weights.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

GOAL_SECONDS = 90
# Where --save records the times; the instructors' page (book/instructors.ipynb) reads it.
SAVED = Path(__file__).resolve().parent / "chapter_times.json"


def chapter_times(cache_path):
    """``{chapter file name: seconds}`` from the jupyter-cache at ``cache_path``."""
    from jupyter_cache import get_cache

    if not Path(cache_path).exists():
        raise SystemExit(f"no jupyter-cache at {cache_path}: build the book first (make book)")
    records = get_cache(str(cache_path)).list_cache_records()
    return {Path(record.uri).name: float(record.data.get("execution_seconds", float("nan"))) for record in records}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cache", nargs="?", default="_build/.jupyter_cache", help="the build's jupyter-cache folder")
    parser.add_argument("--save", metavar="PROFILE", choices=["full", "quick"],
                        help="record the times as this profile's build in benchmarks/chapter_times.json")
    arguments = parser.parse_args(argv)
    times = chapter_times(arguments.cache)
    if arguments.save:
        save(arguments.save, times)
    print(f"{'chapter':<36}{'seconds':>9}  within {GOAL_SECONDS} s")
    for name, seconds in sorted(times.items()):
        print(f"{name:<36}{seconds:>9.1f}  {'yes' if seconds <= GOAL_SECONDS else 'no'}")
    print(f"{'total':<36}{sum(times.values()):>9.1f}")
    return 0


def save(profile, times):
    """Merge ``times`` into :data:`SAVED` under ``profile``, with the machine and the date."""
    from advlib.results import store

    if any(seconds != seconds for seconds in times.values()):  # NaN: a chapter without a time
        raise SystemExit("a chapter has no recorded execution time: rebuild the book without the cache")
    saved = json.loads(SAVED.read_text()) if SAVED.exists() else {}
    machine = store.machine_description()
    saved[profile] = {
        "chapters": dict(sorted(times.items())),
        # Cores and platform only: the host name says nothing to a reader.
        "machine": {"cpu_count": machine.get("cpu_count"), "gpus": machine.get("gpus"), "processor": machine.get("processor")},
        "measured_at": time.strftime("%Y-%m-%d"),
    }
    SAVED.parent.mkdir(exist_ok=True)
    temporary = SAVED.with_suffix(f".tmp{os.getpid()}")
    temporary.write_text(json.dumps(saved, indent=1, sort_keys=True) + "\n")
    os.replace(temporary, SAVED)
    print(f"saved in {SAVED.relative_to(Path.cwd()) if SAVED.is_relative_to(Path.cwd()) else SAVED.name}")


if __name__ == "__main__":
    sys.exit(main())

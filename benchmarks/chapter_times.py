"""Print how long each chapter took to execute in a book build, from its jupyter-cache.

    .venv/bin/python benchmarks/chapter_times.py            # the full build (_build/.jupyter_cache)
    .venv/bin/python benchmarks/chapter_times.py _build/profile-quick/_build/.jupyter_cache

Each chapter's time is what MyST-NB recorded when it last executed the notebook (a
chapter whose code did not change since is not executed again and keeps its old time).
The goal for readers is at most 90 s per chapter on 2 CPU cores from shipped weights.
"""

import argparse
import sys
from pathlib import Path

GOAL_SECONDS = 90


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
    arguments = parser.parse_args(argv)
    times = chapter_times(arguments.cache)
    print(f"{'chapter':<36}{'seconds':>9}  within {GOAL_SECONDS} s")
    for name, seconds in sorted(times.items()):
        print(f"{name:<36}{seconds:>9.1f}  {'yes' if seconds <= GOAL_SECONDS else 'no'}")
    print(f"{'total':<36}{sum(times.values()):>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

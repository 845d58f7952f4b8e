"""The command line shared by the tools that write a generated page section under book/_generated/.

``main(description, out, current, argv)`` writes ``current()`` to ``out``, or with
``--check`` exits 1 when the committed file differs from it.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(description, out, current, argv=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed file is out of date")
    arguments = parser.parse_args(argv)
    text = current()
    name = out.relative_to(ROOT)
    if arguments.check:
        if not out.exists() or out.read_text() != text:
            print(f"{name} is out of date: run python tools/{Path(sys.argv[0]).name}",
                  file=sys.stderr)
            return 1
        print(f"{name} is up to date")
        return 0
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)
    print(f"wrote {name}")
    return 0

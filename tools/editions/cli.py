"""The command line: ``python tools/colab_edition.py extract|render|check``.

    python tools/colab_edition.py extract BUILD_DIR   # save the run of a FULL build
    python tools/colab_edition.py render              # write colab/ from book/ and that run
    python tools/colab_edition.py check               # exit 1 if colab/ is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import EditionError
from .extract import extract
from .layout import OUT_DIR, ROOT, RUN_DIR, TOOL
from .render import differences, render_all, write


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="The book's Colab edition: self-contained notebooks generated from the chapters.",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    extract_parser = commands.add_parser("extract", help="save the run of a full build in colab/_book_run/")
    extract_parser.add_argument("build_dir", type=Path, help="the build's --path-output (holds _build/jupyter_execute)")
    extract_parser.add_argument("--book-root", type=Path, default=None,
                                help="the source root the build ran in, if not this checkout (its chapters "
                                "are matched with the build, its paths removed from the outputs)")
    commands.add_parser("render", help="write colab/*.ipynb and colab/README.md")
    commands.add_parser("check", help="exit 1 if colab/ differs from a fresh render")
    args = parser.parse_args(argv)
    try:
        if args.command == "extract":
            written = extract(args.build_dir, ROOT, args.book_root.resolve() if args.book_root else None)
            print(f"saved the run of {len(written)} chapters in {OUT_DIR}/{RUN_DIR}/; now run `python {TOOL} render`")
        elif args.command == "render":
            files = render_all(ROOT)
            write(files, ROOT)
            print(f"wrote {len(files)} files in {OUT_DIR}/")
        else:
            problems = differences(ROOT)
            if problems:
                print(f"the Colab edition in {OUT_DIR}/ is out of date:\n  " + "\n  ".join(problems)
                      + f"\nrun `python {TOOL} render` (and, if a chapter's code changed, build the full "
                      f"book and run `python {TOOL} extract BUILD_DIR` first)", file=sys.stderr)
                return 1
            print(f"{OUT_DIR}/ is up to date")
    except EditionError as error:
        print(f"{TOOL} {args.command}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m advlib``: the command line of :mod:`advlib.cli`."""

import sys

from advlib.cli import main

if __name__ == "__main__":
    sys.exit(main())

"""The book's Colab edition: self-contained notebooks generated from the chapters.

    python tools/colab_edition.py extract BUILD_DIR   # save the run of a FULL build
    python tools/colab_edition.py render              # write colab/ from book/ and that run
    python tools/colab_edition.py check               # exit 1 if colab/ is out of date

The command line of the package ``tools/editions/`` (its ``__init__`` says which module
does what), kept here so that the Makefile, CI, the README and the tests call it as they
always have; the names below are what they import from it.
"""

from __future__ import annotations

import sys

# The package beside this file, in tools/ (on sys.path when this runs as a script or is imported).
from editions import EditionError
from editions.book import Book, Target, load_book
from editions.cells import PROFILE_TEMPLATE, SETUP_TEMPLATE, collapsed_title, setup_source
from editions.cli import main
from editions.convert import ChapterRenderer, escape_markdown, format_plain_text
from editions.extract import _clean_outputs, _executed, extract, machine_text
from editions.figures import figure_caption_markdown
from editions.layout import (BOOK_DIR, NOTE_ID, OUT_DIR, PROFILE_ID, PUBLISHED_BRANCH, ROOT, RUN_DIR, SETUP_ID,
                             TOOL, Site, cell_key, chapters, source_hash)
from editions.render import differences, readme, render_all, render_chapter, write

__all__ = [
    "BOOK_DIR", "Book", "ChapterRenderer", "EditionError", "NOTE_ID", "OUT_DIR", "PROFILE_ID", "PROFILE_TEMPLATE",
    "PUBLISHED_BRANCH", "ROOT", "RUN_DIR", "SETUP_ID", "SETUP_TEMPLATE", "Site", "TOOL", "Target", "_clean_outputs",
    "_executed", "cell_key", "chapters", "collapsed_title", "differences", "escape_markdown", "extract",
    "figure_caption_markdown", "format_plain_text", "load_book", "machine_text", "readme", "render_all",
    "render_chapter", "setup_source", "source_hash", "write",
]

if __name__ == "__main__":
    sys.exit(main())

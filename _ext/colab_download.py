"""Sphinx extension: a chapter page's ".ipynb" download gives the chapter's Colab edition.

sphinx-book-theme's download menu links ".ipynb" to the page's source in ``_sources/``:
for a chapter that is the MyST notebook, which shows raw ``{glue:text}`` roles and
directives anywhere but on the site. This extension points that entry at the Colab
edition instead (``colab/NN_*.ipynb``, written by ``tools/colab_edition.py``: plain
Markdown, the book's numbers and outputs, a setup cell), copied into the built site as
``colab/NN_*.ipynb`` at the end of every build (an incremental build that rewrites no
page still refreshes them). Pages without an edition (the back matter) keep their source link.

It edits the theme's ``header_buttons`` in ``html-page-context``, after the theme has
filled them (priority 501), so no JavaScript is involved. A chapter without an edition,
or a theme whose download menu has no ".ipynb" entry, is a build warning (``make book``
turns warnings into errors), never a silent raw-source download.

Enabled in ``_config.yml`` under ``sphinx: local_extensions``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

# Where the edition lives in the source tree, and where it goes in the built site.
EDITION_DIR = "colab"
# The chapters: book/NN_*.ipynb, as in tools/editions/layout.py (CHAPTER_GLOB).
CHAPTER_RE = re.compile(r"book/\d\d_[^/]+")
TOOLTIP = "Download this chapter as a notebook (the Colab edition: runs in Colab or Jupyter)"


def _download_entry(context) -> dict | None:
    """The theme's ".ipynb" entry of its download menu on this page, if any."""
    for group in context.get("header_buttons") or []:
        if group.get("label") != "download-buttons":
            continue
        for button in group.get("buttons") or []:
            if button.get("text") == ".ipynb" and button.get("type") == "link":
                return button
    return None


def point_download_at_edition(app, pagename, templatename, context, doctree):
    if app.builder.format != "html" or not CHAPTER_RE.fullmatch(pagename):
        return
    source = Path(app.env.doc2path(pagename))
    if source.suffix != ".ipynb":
        return
    edition = Path(app.srcdir) / EDITION_DIR / source.name
    if not edition.is_file():
        logger.warning(f"{pagename}: {EDITION_DIR}/{source.name} is missing, so the page's download button would "
                       "give the raw MyST source: run `.venv/bin/python tools/colab_edition.py render`",
                       type="colab_download", location=pagename)
        return
    entry = _download_entry(context)
    if entry is None:
        logger.warning(f"{pagename}: the theme's download menu has no '.ipynb' link to point at the Colab edition "
                       "(has sphinx-book-theme changed its header_buttons?): update _ext/colab_download.py",
                       type="colab_download", location=pagename)
        return
    entry["url"] = context["pathto"](f"{EDITION_DIR}/{source.name}", 1)
    entry["tooltip"] = TOOLTIP


def copy_editions(app, exception):
    """Copy every chapter's edition into the site, also for pages an incremental build did not rewrite."""
    if exception is not None or app.builder.format != "html":
        return
    for docname in sorted(app.env.found_docs):
        if not CHAPTER_RE.fullmatch(docname):
            continue
        name = Path(app.env.doc2path(docname)).name
        edition = Path(app.srcdir) / EDITION_DIR / name
        if name.endswith(".ipynb") and edition.is_file():
            target = Path(app.outdir) / EDITION_DIR / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(edition, target)


def setup(app):
    # After sphinx-book-theme's add_header_buttons (priority 501) has filled the menu.
    app.connect("html-page-context", point_download_at_edition, priority=900)
    app.connect("build-finished", copy_editions)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}

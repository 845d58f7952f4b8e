"""Chapter text that is true only on the built site, and what the Colab edition says instead.

The chapters are written for the site: their shared "Running this notebook" note sends
the reader to the launch button (the rocket icon at the top of the page), and says the
setup cell prints which data "the numbers on this page" come from. In the Colab edition
the reader is already in Colab, there is no such button, and the numbers in the text are
the book's own run, not the reader's. The edition (``render``) rewrites each chapter's MyST
with :data:`REPLACEMENTS` before converting it, then refuses to write a notebook in which
:func:`site_only_phrases` still finds site furniture, so a new sentence of that kind is
caught when the edition is rendered, not by a reader.

These are sentences of prose, matched as text (any run of white space standing for one space), not as MyST.
"""

from __future__ import annotations

import re

# (text of the chapters, what the Colab edition says instead). Matched with any run of
# white space (a line break of the source, say) standing for one space. Every entry must
# still match some chapter: the edition's render refuses a stale one, so that a change of the
# site's wording is looked at here too.
REPLACEMENTS: list[tuple[str, str]] = [
    # The "Running this notebook" note every chapter shares.
    ("In Colab, open it with the launch button (the rocket icon at the top of the page); "
     "the setup cell below installs `advlib` there.",
     "In Colab, choose the profile in the form below and run the cells from the top "
     "(Runtime > Run all); the setup cell installs `advlib` there."),
    ("The setup cell prints which data the numbers on this page come from.",
     "The setup cell prints which data your run uses; the numbers in the text are those "
     "of the book's own run, named in the first cell."),
    # Chapter 1, "Running the book".
    ("Every chapter page has a launch button (the rocket icon at the top) that opens the "
     "notebook in Colab.",
     "Every chapter is a notebook like this one, which opens in Colab."),
    ("Chapters run in Colab (launch button) or locally",
     "Chapters run in Colab or locally"),
]

# Phrases that name the site's furniture, with why a notebook reader cannot follow them.
# Kept narrow: "the page" alone is ordinary prose in a chapter ("the code on the page"
# reads as well in a notebook) and is not listed.
SITE_ONLY: list[tuple[str, str]] = [
    (r"\brocket\b", "the icon of the site's launch button"),
    (r"\blaunch[- ]buttons?\b", "a button in the site's page header"),
    (r"\b(?:at )?the top of (?:the|this|each|every) page\b", "the site's page header"),
    (r"\bdownload (?:button|menu|icon)\b", "a button in the site's page header"),
    (r"\bfull[- ]?screen (?:button|mode)\b", "a button in the site's page header"),
    (r"\bside ?bar\b", "the site's navigation column"),
    # Not "panel" or "column": figures have right-hand panels, tables right-hand columns.
    (r"\b(?:in|on) the (?:left|right)[- ]hand (?:menu|navigation)\b", "the site's navigation column"),
    (r"\b(?:previous|next) page\b", "the site's page navigation"),
    (r"\bsearch (?:box|bar|field)\b", "the site's search"),
    (r"\bhover(?:ing)? (?:over|on)\b", "the site's tooltips"),
    (r"\b(?:in|on) the margin\b", "the site's margin notes"),
    (r"\bnumbers on this page\b", "the site's page, built from its own run"),
    (r"\bclick(?:ing)? (?:on )?the [\w -]{0,40}?(?:button|icon)\b", "a button of the site"),
]

_LINK_TARGET_RE = re.compile(r"\]\([^)\s]*\)|<https?://[^>\s]*>|data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]*")


def _pattern(text: str) -> re.Pattern:
    return re.compile(r"\s+".join(re.escape(word) for word in text.split()))


def for_colab(source: str, replacements: list[tuple[str, str]] | None = None) -> tuple[str, set[int]]:
    """``source`` with the site-only sentences of ``replacements`` (default :data:`REPLACEMENTS`)
    replaced, and the indices of the entries used."""
    used = set()
    for index, (site, colab) in enumerate(REPLACEMENTS if replacements is None else replacements):
        source, count = _pattern(site).subn(lambda _: colab, source)
        if count:
            used.add(index)
    return source, used


def site_only_phrases(markdown: str) -> list[tuple[str, str]]:
    """(phrase, why) of every mention of the site's furniture in ``markdown`` (link targets ignored)."""
    text = _LINK_TARGET_RE.sub(" ", markdown)
    found = []
    for pattern, why in SITE_ONLY:
        for match in re.finditer(pattern, text, re.I):
            found.append((" ".join(match.group(0).split()), why))
    return found


def reader_text(cell) -> str:
    """What a Colab reader sees as text of a cell: a Markdown cell's source; a form's title and @markdown lines."""
    if cell.get("cell_type") == "markdown":
        return cell.get("source", "")
    lines = cell.get("source", "").splitlines()
    return "\n".join(line for line in lines if re.match(r"^\s*#\s*@(title|markdown)\b", line))

"""Figure captions and alt text for notebooks read outside the built site.

On the site, MyST-NB turns a code cell's ``metadata.mystnb.figure`` (``caption``, ``name``)
into a numbered caption under the cell's image ("Fig. 3.1 ...") and
``metadata.mystnb.image.alt`` into the image's alt text. Colab and Jupyter ignore that
metadata, so a notebook opened there shows the image alone. The editions made from the
chapters (the Colab edition, the classroom notebooks) put a Markdown cell under each such
code cell instead: the caption, numbered as on the site, and the alt text as a visible
"Figure description" line (an output image in Colab cannot carry alt text).

:func:`figure_caption_markdown` looks the number up in the book's index (``book``) and
converts the caption's MyST with the chapter's renderer (``convert``), which it is given.
"""

from __future__ import annotations

import re

from . import EditionError

# What a reader of the notebook sees before the alt text.
DESCRIPTION_LABEL = "Figure description:"


def figure_options(cell) -> dict:
    """The cell's ``mystnb.figure`` options (empty for a cell that makes no figure)."""
    metadata = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    return dict((metadata.get("mystnb") or {}).get("figure") or {})


def alt_text(cell) -> str:
    """The alt text MyST-NB gives the cell's image (``mystnb.image.alt``), or ""."""
    metadata = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    return str(((metadata.get("mystnb") or {}).get("image") or {}).get("alt", "")).strip()


def figure_key(figure: dict) -> str:
    """How a chapter's index finds a code cell's figure: its name, or its caption when unnamed.

    Not the cell id: the classroom notebooks reuse this with cells they copied, and
    chapters in nbformat 4.4 have no ids.
    """
    return str(figure.get("name") or "") or f"caption:{figure.get('caption', '')}"


def is_numbered(figure: dict) -> bool:
    """Sphinx numbers a figure that has a name or a caption (numfig; AutoNumbering gives it an id)."""
    return bool(figure.get("name") or figure.get("caption"))


def escape_text(text: str) -> str:
    """Plain text (an alt text) made safe to paste into Markdown."""
    return re.sub(r"([\\`*_\[\]<>|~#$])", r"\\\1", " ".join(text.split()))


def caption_markdown(number: str | None, caption: str, alt: str) -> str | None:
    """The caption cell's Markdown: ``*Fig. N.M: caption*`` and the figure description.

    ``caption`` is already Markdown (converted from MyST by the chapter's renderer);
    ``alt`` is plain text. None when there is neither.
    """
    caption = " ".join(caption.split())
    lines = []
    if caption or number:
        label = f"Fig. {number}" if number else ""
        text = f"{label}: {caption}" if label and caption else (label or caption)
        # Emphasis markers inside the caption would end the italics early.
        lines.append(f"*{text}*" if "*" not in text else text)
    if alt:
        lines.append(f"{DESCRIPTION_LABEL} {escape_text(alt)}")
    return "\n\n".join(lines) or None


def displayed_outputs(outputs) -> int:
    """How many outputs MyST-NB wraps in a figure each (every display_data and execute_result)."""
    return sum(1 for output in outputs if output.get("output_type") in ("display_data", "execute_result"))


def figure_caption_markdown(renderer, cell) -> str | None:
    """The Markdown of the cell that goes under ``cell`` (a chapter's code cell), or None.

    The caption of the cell's ``mystnb.figure``, numbered as the site numbers it
    ("*Fig. 3.1: ...*", the caption's MyST converted by ``renderer``, a
    ``convert.ChapterRenderer``), and its ``mystnb.image.alt`` as a visible "Figure
    description: ..." line. None for a cell without either, and for one whose figure the
    site does not show (tagged remove-cell or remove-output). ``renderer`` must be the
    cell's own chapter's.
    """
    if cell.get("cell_type") != "code":
        return None
    if {"remove-cell", "remove-output"} & set(cell.get("metadata", {}).get("tags", [])):
        return None
    figure, alt = figure_options(cell), alt_text(cell)
    number = None
    if is_numbered(figure):
        key = figure_key(figure)
        number = renderer.book.figures.get(renderer.chapter, {}).get(key)
        if number is None:
            raise EditionError(f"{renderer.chapter}: no figure {key!r} in this chapter: pass the renderer of "
                               "the chapter the cell comes from")
    caption = renderer.convert(str(figure.get("caption", ""))) if figure.get("caption") else ""
    return caption_markdown(number, caption, alt)

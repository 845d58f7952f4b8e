"""Figure captions and alt text for notebooks read outside the built site.

On the site, MyST-NB turns a code cell's ``metadata.mystnb.figure`` (``caption``, ``name``)
into a numbered caption under the cell's image ("Fig. 3.1 ...") and
``metadata.mystnb.image.alt`` into the image's alt text. Colab and Jupyter ignore that
metadata, so a notebook opened there shows the image alone. The editions made from the
chapters (the Colab edition, the classroom notebooks) put a Markdown cell under each such
code cell instead: the caption, numbered as on the site, and the alt text as a visible
"Figure description" line (an output image in Colab cannot carry alt text).

Pure helpers, with no import of ``colab_edition`` (that module imports this one, and is
also run as a script): ``colab_edition.figure_caption_markdown`` looks the number up and
converts the caption's MyST with the chapter's renderer.
"""

from __future__ import annotations

import re

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

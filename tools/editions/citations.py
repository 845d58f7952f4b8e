"""The book's bibliography, read by pybtex, and citations as the site writes them.

The site (sphinxcontrib-bibtex, ``bibtex_reference_style: author_year``) writes
``{cite:t}`` as "Goodfellow et al. (2015)" and ``{cite:p}`` as "(Goodfellow et al., 2015)":
the first author's last name with its "van"-like part, "and" the second author's when
there are two, "et al." when there are more.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pybtex.database import BibliographyData, Person, parse_file
from pybtex.exceptions import PybtexError

from . import EditionError


@dataclass(frozen=True)
class Reference:
    """What a citation shows of one entry."""

    who: str  # "Goodfellow et al.", "Carlini and Wagner", "van Everdingen"
    year: str


def last_name(person: Person) -> str:
    """"van Everdingen" for "van Everdingen, Ari": the last name with its prefix, braces removed."""
    return " ".join(str(name.render_as("text")) for name in person.rich_prelast_names + person.rich_last_names)


def reference(key: str, entry) -> Reference:
    authors = entry.persons.get("author") or []
    if not authors:
        return Reference(key, entry.fields.get("year", ""))
    who = last_name(authors[0])
    if len(authors) == 2:
        who += f" and {last_name(authors[1])}"
    elif len(authors) > 2:
        who += " et al."
    return Reference(who, entry.fields.get("year", ""))


def load(root: Path, bib_files: list[str]) -> dict[str, Reference]:
    """The references of the BibTeX files _config.yml names (``bibtex_bibfiles``), by key."""
    references = {}
    for name in bib_files:
        path = root / name
        if not path.exists():
            continue
        try:
            data: BibliographyData = parse_file(str(path), bib_format="bibtex")
        except PybtexError as error:
            raise EditionError(f"{name}: pybtex cannot read it: {error}") from None
        references.update({key: reference(key, entry) for key, entry in data.entries.items()})
    return references


def citation(role: str, keys: str, references: dict[str, Reference], link) -> str:
    """A ``{cite:t}`` or ``{cite:p}`` (any other cite role reads as cite:p) of comma-separated ``keys``.

    ``link(text)`` makes one cited work a link (to the bibliography page); a key the
    bibliography lacks shows as the key.
    """
    found = [references.get(key) or Reference(key, "") for key in (key.strip() for key in keys.split(",")) if key]
    if role == "cite:t":
        return "; ".join(link(f"{ref.who} ({ref.year})" if ref.year else ref.who) for ref in found)
    return "(" + "; ".join(link(f"{ref.who}, {ref.year}" if ref.year else ref.who) for ref in found) + ")"

"""Where the book's files are, where the edition goes, and where the book is published."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import EditionError

ROOT = Path(__file__).resolve().parents[2]
BOOK_DIR = "book"
OUT_DIR = "colab"
RUN_DIR = "_book_run"  # under OUT_DIR: one JSON file per chapter
# The branch .github/workflows/publish.yml publishes the edition to, as book/NN_*.ipynb;
# _config.yml's repository.branch names it so that the launch buttons open the edition.
PUBLISHED_BRANCH = "colab"
TOOL = "tools/colab_edition.py"
CHAPTER_GLOB = "[0-9][0-9]_*.ipynb"

# Cell ids of the cells the edition adds.
NOTE_ID = "colab-edition-note"
PROFILE_ID = "colab-profile"
SETUP_ID = "colab-setup"


def chapters(book_dir: Path) -> list[Path]:
    return sorted(book_dir.glob(CHAPTER_GLOB))


def pages(book_dir: Path) -> list[Path]:
    """Every page of the book (chapters and Markdown pages such as a glossary): link targets."""
    return sorted([*book_dir.glob("*.ipynb"), *book_dir.glob("*.md")])


def source_hash(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def cell_key(cell, index: int) -> str:
    """A cell's key in the saved run: its id, or its position for nbformat 4.4 notebooks."""
    return cell.get("id") or f"cell-{index}"


def joined(source) -> str:
    return "".join(source) if isinstance(source, list) else source


def read_config(root: Path) -> dict:
    return yaml.safe_load((root / "_config.yml").read_text()) or {}


@dataclass
class Site:
    """Where the book is published, from _config.yml's repository.url.

    repository.branch is not used: it names the branch the launch buttons open (the
    generated ``colab`` branch), while advlib and the chapters' images live on the
    default branch.
    """

    repository_url: str

    @classmethod
    def from_config(cls, root: Path) -> "Site":
        repository = read_config(root).get("repository") or {}
        url = str(repository.get("url", "")).rstrip("/")
        if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
            raise EditionError(f"_config.yml: repository.url {url!r} is not https://github.com/<owner>/<repo>")
        return cls(url)

    @property
    def owner_repo(self) -> tuple[str, str]:
        owner, repo = self.repository_url.split("/")[-2:]
        return owner, repo

    @property
    def pages_url(self) -> str:
        owner, repo = self.owner_repo
        if repo.lower() == f"{owner.lower()}.github.io":
            return f"https://{owner.lower()}.github.io/"
        return f"https://{owner.lower()}.github.io/{repo}/"

    def page(self, chapter: str, anchor: str = "") -> str:
        return f"{self.pages_url}{BOOK_DIR}/{chapter}.html" + (f"#{anchor}" if anchor else "")

    def raw(self, path: str) -> str:
        owner, repo = self.owner_repo
        return f"https://raw.githubusercontent.com/{owner}/{repo}/HEAD/{path}"

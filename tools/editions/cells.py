"""The cells the edition adds to a chapter: the profile form and the setup cell, and the
title a collapsed (site-hidden) code cell gets."""

from __future__ import annotations

from .layout import Site

# Both profiles load models shipped with advlib (advlib/pretrained/<profile>): neither trains
# one in Colab. The quick line's image counts are advlib.plan.registry.PROFILES["quick"]'s (tested).
PROFILE_TEMPLATE = '''\
# @title Profile: how much work a run does
# @markdown `full` (the default) loads the book's models, shipped with advlib, and reproduces the numbers in the text.
# @markdown `quick` loads small models, also shipped, trained on 2,000 images and tested on 500: numbers far from the text's.
PROFILE = "full"  # @param ["full", "quick"]

import os

os.environ["ADVLIB_PROFILE"] = PROFILE
'''

# The edition's setup cell; __REPOSITORY_URL__ is filled in from _config.yml's repository.url.
# It installs the repository's default branch, like the chapters' own setup cells.
SETUP_TEMPLATE = '''\
# Setup: in Colab, install advlib from the book's repository (elsewhere it must be installed
# already), then seed the run. Run this cell first: the other cells need advlib.
import importlib
import importlib.util
import os
import subprocess
import sys

REPOSITORY_URL = "__REPOSITORY_URL__"  # repository.url in the book's _config.yml
INSTALL_URL = os.environ.get("ADVLIB_INSTALL_URL", f"git+{REPOSITORY_URL}")


class AdvlibSetupError(RuntimeError):
    """advlib could not be installed: the rest of the notebook cannot run."""

    def _render_traceback_(self):  # IPython and Colab show this one line, not a traceback
        return [f"AdvlibSetupError: {self}"]


def _setup_failed(what, todo, details=""):
    print(f"SETUP FAILED: {what}\\n{details}What to do: {todo}\\n"
          "The other cells need advlib: run them only after this cell has succeeded.")
    raise AdvlibSetupError(what) from None


if importlib.util.find_spec("advlib") is None:
    if "google.colab" not in sys.modules:
        _setup_failed("advlib is not installed in this Python environment.",
                      f"install it with `pip install {INSTALL_URL}` (or open the notebook in "
                      "Google Colab, where this cell installs it), then run this cell again.")
    print(f"Installing advlib from {INSTALL_URL} (a minute or two) ...")
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", INSTALL_URL],
        capture_output=True, text=True,
    )
    if pip.returncode != 0:
        lines = [line.strip() for line in (pip.stderr + pip.stdout).splitlines() if line.strip()]
        errors = [line for line in lines if line.lower().startswith(("error:", "fatal:"))] or lines[-3:]
        _setup_failed(
            f"pip could not install advlib from {INSTALL_URL} (exit code {pip.returncode}).",
            "check that the runtime is connected to the internet and that the repository above "
            "exists and is public, then run this cell again (Runtime > Run all runs the rest).",
            "".join(f"    pip: {line}\\n" for line in errors[:4]),
        )
    importlib.invalidate_caches()

import advlib.book

profile = advlib.book.start()
'''



def setup_source(site: Site) -> str:
    """The edition's setup cell for the book published from ``site``."""
    return SETUP_TEMPLATE.replace("__REPOSITORY_URL__", site.repository_url).rstrip("\n")


def collapsed_title(source: str) -> str:
    """The ``# @title`` of a cell the site hides: its first comment, or what the cell does."""
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    if first.startswith("#") and not first.startswith("#@") and not first.startswith("# @"):
        return first.lstrip("#").strip().rstrip(".:")
    if "plt.show()" in source or "advlib.plots" in source:
        return "Draw the figure"
    return "Bookkeeping: the numbers quoted in the text"


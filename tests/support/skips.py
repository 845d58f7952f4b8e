"""Skip a test whose outside tool is missing, or fail it where CI says the tool must be there."""

import os
import shutil
from pathlib import Path

import pytest

from tests.support.paths import REPOSITORY


def browser_unavailable(reason):
    """Skip a browser test for ``reason``, or fail it when ADVLIB_REQUIRE_BROWSER=1 (as in CI)."""
    if os.environ.get("ADVLIB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (and ADVLIB_REQUIRE_BROWSER=1 requires the browser test)")
    pytest.skip(reason)


def nbgrader_or_skip():
    """The nbgrader executable (``$NBGRADER``, PATH or ``.venv-nbgrader/bin/nbgrader``) as a
    Path; skips the test without one, or fails it when ADVLIB_REQUIRE_NBGRADER=1 (CI)."""
    for candidate in (os.environ.get("NBGRADER"), shutil.which("nbgrader"),
                      str(REPOSITORY / ".venv-nbgrader" / "bin" / "nbgrader")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    reason = "nbgrader not found (set NBGRADER to its executable, or install it: pip install nbgrader)"
    if os.environ.get("ADVLIB_REQUIRE_NBGRADER") == "1":  # CI sets it: there the check must run
        pytest.fail(reason + "; ADVLIB_REQUIRE_NBGRADER=1 requires it")
    pytest.skip(reason)

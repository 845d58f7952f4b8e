"""Where the repository's parts are, for tests in any folder under tests/."""

from pathlib import Path

# tests/support/paths.py -> the repository root, whatever folder a test module sits in.
REPOSITORY = Path(__file__).resolve().parents[2]
TOOLS = REPOSITORY / "tools"
TEST_DATA = REPOSITORY / "tests" / "data"

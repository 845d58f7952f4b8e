"""Change the book's repository URL everywhere it is used.

    python tools/set_repository_url.py https://github.com/<owner>/<repository>

The URL lives in ``_config.yml`` (``repository.url``: the repository button and the
Colab launch links) and in the setup cell of every chapter (``REPOSITORY_URL``: what
Colab installs advlib from). This script rewrites both, so they cannot drift apart;
``tests/book/test_structure.py`` checks that they agree.
"""

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def main(argv):
    if len(argv) != 1 or not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", argv[0]):
        sys.exit("usage: python tools/set_repository_url.py https://github.com/<owner>/<repository>")
    url = argv[0]
    config_path = ROOT / "_config.yml"
    config, count = re.subn(r"(?m)^(  url: ).*$", rf"\g<1>{url}", config_path.read_text(), count=1)
    if count != 1:
        sys.exit(f"no 'repository: url:' line found in {config_path}")
    config_path.write_text(config)
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code" and "REPOSITORY_URL = " in cell.source:
                cell.source = re.sub(r'REPOSITORY_URL = "[^"]*"', f'REPOSITORY_URL = "{url}"', cell.source)
        nbformat.write(notebook, path)
    print(f"repository URL set to {url} in _config.yml and the notebooks' setup cells")


if __name__ == "__main__":
    main(sys.argv[1:])

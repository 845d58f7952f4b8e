"""Open every page of the built book in headless Chromium (see tests/browser_check.py).

Needs the built site (``_build/html``, or the folder named by ``$ADVLIB_BOOK_HTML``;
``make test`` builds it first) and Debian's ``/usr/bin/chromium``. Without them the
tests are skipped, unless ``ADVLIB_REQUIRE_BROWSER=1`` is set (as CI does), in which
case they fail.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import browser_check  # noqa: E402

pytestmark = pytest.mark.browser

PAGES = browser_check.toc_pages()


def _unavailable(reason: str) -> None:
    if os.environ.get("ADVLIB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (and ADVLIB_REQUIRE_BROWSER=1 requires the browser test)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def site_root() -> Path:
    root = browser_check.html_dir()
    if not (root / "index.html").exists():
        _unavailable(f"no built book at {root}: run `make book` first")
    return root


@pytest.fixture(scope="module")
def server(site_root):
    with browser_check.BookServer(site_root) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser():
    if not Path(browser_check.CHROMIUM).exists():
        _unavailable(f"{browser_check.CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        _unavailable(f"the playwright package is not installed ({error})")
    with sync_playwright() as playwright:
        chromium = browser_check.launch_browser(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def link_status() -> dict[str, int]:
    return {}  # internal link -> HTTP status, shared between pages


def test_toc_lists_pages():
    assert PAGES, f"no pages found in {browser_check.TOC_FILE}"


@pytest.mark.parametrize("page", PAGES, ids=[p.docname for p in PAGES])
def test_page_renders(page, site_root, server, browser, link_status):
    problems = browser_check.check_page(
        browser, server, page, site_root, link_status=link_status
    )
    assert not problems, f"{page.docname}:\n  " + "\n  ".join(problems)

"""Open every page of the built book in headless Chromium (tools/browser_check.py, tools/book_site.py).

Needs the built site (``_build/html``, or the folder named by ``$ADVLIB_BOOK_HTML``;
``make test`` builds it first) and Debian's ``/usr/bin/chromium``. Without them the
tests are skipped, unless ``ADVLIB_REQUIRE_BROWSER=1`` is set (as CI does), in which
case they fail.
"""

from __future__ import annotations

from pathlib import Path

import book_site
import browser_check
import pytest

from tests.support.skips import browser_unavailable

pytestmark = pytest.mark.browser

PAGES = book_site.toc_pages()


@pytest.fixture(scope="module")
def site_root() -> Path:
    root = book_site.html_dir()
    if not (root / "index.html").exists():
        browser_unavailable(f"no built book at {root}: run `make book` first")
    return root


@pytest.fixture(scope="module")
def link_status() -> dict[str, int]:
    return {}  # internal link -> HTTP status, shared between pages


def test_toc_lists_pages():
    assert PAGES, f"no pages found in {book_site.TOC_FILE}"


@pytest.mark.parametrize("page", PAGES, ids=[p.docname for p in PAGES])
def test_page_renders(page, site_root, server, browser, link_status):
    problems = browser_check.check_page(
        browser, server, page, site_root, link_status=link_status
    )
    assert not problems, f"{page.docname}:\n  " + "\n  ".join(problems)


# The page-content rules of book_site, on hand-made page content (no browser needed).


def _content(**overrides):
    content = {
        "body": "A page. " + " ".join(book_site.LICENCE_MARKERS),
        "article": "A page.",
        "number": None,
        "unresolved": [],
        "captions": [],
        "numrefs": [],
    }
    content.update(overrides)
    return content


PLAIN_PAGE = book_site.BookPage("book/glossary", Path("book/glossary.md"))
CHAPTER = book_site.BookPage("book/03_fgsm", Path("book/03_fgsm.ipynb"))


def test_a_clean_page_has_no_content_problems():
    assert book_site.content_problems(PLAIN_PAGE, _content(), keys=["goodfellow2015"], numbers={}) == []


@pytest.mark.parametrize(
    "text", ["data: /work/shared/cifar10-jpeg", "Found /tmp/x/model.h5", "in /root/.cache/advlib", "C:\\Users\\me\\x"]
)
def test_machine_paths_in_the_text_are_problems(text):
    problems = book_site.content_problems(PLAIN_PAGE, _content(body=_content()["body"] + " " + text), keys=[], numbers={})
    assert any("machine path" in problem for problem in problems)


def test_fractions_relative_paths_and_urls_are_not_machine_paths():
    assert book_site.machine_paths("eps 8/255, advlib/pretrained/full/, https://example.org/docs/x") == []


def test_unresolved_references_citations_and_a_missing_licence_are_problems():
    problems = book_site.content_problems(
        PLAIN_PAGE,
        _content(body="no footer here", article="as goodfellow2015 showed", unresolved=["fgsm"]),
        keys=["goodfellow2015"],
        numbers={},
    )
    assert any("unresolved cross-reference" in problem for problem in problems)
    assert any("goodfellow2015" in problem for problem in problems)
    assert any("licence" in problem for problem in problems)


def test_chapter_and_figure_numbers_are_checked():
    numbered = _content(number="3.", captions=[{"number": "Fig. 3.1", "text": "x"}], numrefs=["Fig. 3.1"])
    assert book_site.content_problems(CHAPTER, numbered, keys=[], numbers={"book/03_fgsm": 3}) == []
    unnumbered = _content(captions=[{"number": None, "text": "x"}], numrefs=["fig-x"])
    problems = book_site.content_problems(CHAPTER, unnumbered, keys=[], numbers={"book/03_fgsm": 3})
    assert len(problems) == 3


def test_the_toc_numbers_the_twelve_chapters():
    numbers = book_site.chapter_numbers()
    chapters = [page for page in PAGES if page.is_notebook and page.source.stem[:2].isdigit()]
    assert [numbers.get(f"book/{page.source.stem}") for page in chapters] == list(range(1, 13))

"""Load every page of the built book in headless Chromium and check what a reader sees.

Used by ``tests/book/test_pages_in_browser.py``; it also runs on its own::

    .venv/bin/python tools/browser_check.py [--html _build/html] [--screenshots DIR]

For each page listed in ``_toc.yml`` it checks that

* the page's title (its ``<h1>``) is rendered and not empty;
* every ``<img>`` has loaded (``naturalWidth > 0``);
* for a page built from a notebook, the Colab launch link points at that notebook
  (``…/blob/<branch>/book/<chapter>.ipynb`` in the repository named in ``_config.yml``);
* no same-origin link (``<a href>``, ``#`` fragments ignored) and no same-origin
  resource the page requested answers with an HTTP error such as 404;
* nothing of the build machine is in the page text: no absolute path such as
  ``/tmp/...``, ``/work/...``, ``/root/...`` or ``C:\\...`` (``book_site.machine_paths``);
* every cross-reference resolved: Sphinx leaves an unresolved ``{term}``, ``{numref}``,
  ``{doc}`` or ``{ref}`` as a ``span.xref`` outside any link, and an unresolved
  ``{cite}`` as a ``span.bibtex-citation`` without a link ("[]"); a bibliography key
  in the text (keys from ``references.bib``) also counts as an unresolved citation;
* the licence line of the footer (``html.extra_footer`` in ``_config.yml``) is on the
  page (``book_site.LICENCE_MARKERS``);
* a chapter of a numbered part of ``_toc.yml`` carries its number in its title
  (``<span class="section-number">``), and every figure caption and ``{numref}`` on the
  page is numbered ("Fig. 3.2");

and it saves a full-page screenshot to ``artifacts/screenshots/<page>.png``.

The site is served by Python's ``http.server`` on a free localhost port. Requests to
other hosts are blocked, so the check gives the same answer offline and online.
Chromium is Debian's ``/usr/bin/chromium`` driven through the ``playwright`` package
(Playwright's own browser download is not used).

What a page should contain is in ``tools/book_site.py`` (no browser needed); this file
drives the browser.
"""

from __future__ import annotations

import argparse
import sys
import urllib.parse
from pathlib import Path

from book_site import (
    REPO_ROOT,
    BookPage,
    BookServer,
    content_problems,
    expected_colab_url,
    html_dir,
    http_status,
    toc_pages,
)

SCREENSHOT_DIR = REPO_ROOT / "artifacts" / "screenshots"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PAGE_TIMEOUT_MS = 60_000
IMAGE_TIMEOUT_MS = 20_000


# --------------------------------------------------------------------------------------
# The browser


def launch_browser(playwright):
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )


_TITLE_JS = """
() => {
  const h1 = document.querySelector('article h1') || document.querySelector('main h1')
             || document.querySelector('h1');
  if (!h1) return null;
  const copy = h1.cloneNode(true);
  copy.querySelectorAll('.headerlink').forEach(a => a.remove());
  const box = h1.getBoundingClientRect();
  const style = getComputedStyle(h1);
  return {text: copy.textContent.trim(), width: box.width, height: box.height,
          visible: style.visibility !== 'hidden' && style.display !== 'none'};
}
"""

# Load lazy images too, then wait until each image has loaded or failed.
_IMAGES_JS = """
async (timeoutMs) => {
  const images = Array.from(document.images);
  images.forEach(img => { img.loading = 'eager'; });
  await Promise.all(images.map(img => img.complete ? null : new Promise(done => {
    img.addEventListener('load', done, {once: true});
    img.addEventListener('error', done, {once: true});
    setTimeout(done, timeoutMs);
  })));
  return images.map(img => ({src: img.currentSrc || img.src || img.outerHTML.slice(0, 120),
                             naturalWidth: img.naturalWidth}));
}
"""

# What the text, reference and numbering checks read from the page.
_CONTENT_JS = """
() => {
  const article = document.querySelector('article') || document.querySelector('main') || document.body;
  const h1 = article.querySelector('h1');
  const number = h1 ? h1.querySelector('.section-number') : null;
  // An unresolved {term}/{numref}/{doc} stays a span.xref outside any link; an unresolved
  // {cite} is a span.bibtex-citation without a link (sphinxcontrib-bibtex renders "[]").
  const unresolved = Array.from(document.querySelectorAll('.xref'))
      .filter(x => !x.closest('a'))
      .map(x => x.textContent.trim().slice(0, 60))
      .concat(Array.from(document.querySelectorAll('.bibtex-citation'))
      .filter(c => !c.querySelector('a') && !c.closest('a'))
      .map(c => 'citation ' + (c.textContent.trim() || '[]')));
  const captions = Array.from(article.querySelectorAll('figure figcaption, div.figure p.caption'))
      .map(c => {
        const n = c.querySelector('.caption-number');
        return {number: n ? n.textContent.trim() : null, text: c.textContent.trim().slice(0, 60)};
      });
  const numrefs = Array.from(article.querySelectorAll('.std-numref'))
      .map(r => r.textContent.trim().slice(0, 60));
  return {body: document.body.innerText, article: article.innerText,
          number: number ? number.textContent.trim() : null,
          unresolved, captions, numrefs};
}
"""

_LINKS_JS = """
() => Array.from(document.querySelectorAll('a[href]'))
           .map(a => ({href: a.href, text: a.textContent.trim().slice(0, 60)}))
"""


def check_page(
    browser,
    server: BookServer,
    page: BookPage,
    site_root: Path,
    screenshot_dir: Path = SCREENSHOT_DIR,
    link_status: dict[str, int] | None = None,
) -> list[str]:
    """Open one page and return a list of problems (empty when all is well)."""
    problems: list[str] = []
    if link_status is None:
        link_status = {}

    if not (REPO_ROOT / page.source).exists():
        problems.append(f"source {page.source} listed in _toc.yml does not exist")
    if not (site_root / page.html_path).exists():
        return problems + [
            f"{page.html_path} is missing from {site_root}; rebuild the book (make book)"
        ]

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    blocked: list[str] = []
    failed_resources: list[str] = []

    def route(route_obj):
        url = route_obj.request.url
        if server.is_internal(url) or url.startswith(("data:", "blob:", "about:")):
            route_obj.continue_()
        else:
            blocked.append(url)
            route_obj.abort()

    def on_response(response):
        if server.is_internal(response.url) and response.status >= 400:
            failed_resources.append(f"{response.status} {response.url}")

    tab.route("**/*", route)
    tab.on("response", on_response)
    try:
        url = server.url(page.html_path)
        response = tab.goto(url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
        if response is None or response.status != 200:
            status = None if response is None else response.status
            return problems + [f"{url} answered {status}"]

        # 1. The title.
        title = tab.evaluate(_TITLE_JS)
        if title is None:
            problems.append("no <h1> title on the page")
        elif not title["text"]:
            problems.append("the <h1> title is empty")
        elif not (title["visible"] and title["width"] > 0 and title["height"] > 0):
            problems.append(f"the <h1> title {title['text']!r} is not rendered")

        # 2. The images.
        for image in tab.evaluate(_IMAGES_JS, IMAGE_TIMEOUT_MS):
            if not image["naturalWidth"]:
                problems.append(f"image did not load: {image['src']}")

        links = tab.evaluate(_LINKS_JS)

        # 3. The Colab launch link of a notebook page.
        if page.is_notebook:
            expected = expected_colab_url(page)
            colab = sorted({l["href"] for l in links if "colab.research.google.com" in l["href"]})
            if not colab:
                problems.append(f"no Colab launch link (expected {expected})")
            for href in colab:
                if href != expected:
                    problems.append(f"Colab link {href} should be {expected}")

        # 4. Internal links.
        for link in links:
            target = urllib.parse.urldefrag(link["href"])[0]
            if not server.is_internal(target):
                continue
            if target not in link_status:
                link_status[target] = http_status(target)
            status = link_status[target]
            if status >= 400 or status == 0:
                problems.append(f"broken internal link ({status}): {link['text']!r} -> {target}")

        problems.extend(f"page requested a missing resource: {r}" for r in failed_resources)

        # 5. Text, references, licence and numbering.
        problems.extend(content_problems(page, tab.evaluate(_CONTENT_JS)))

        # 6. The screenshot.
        screenshot_dir.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(screenshot_dir / page.screenshot_name), full_page=True)
    finally:
        context.close()
    return problems


# --------------------------------------------------------------------------------------
# Command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=html_dir(), help="built site")
    parser.add_argument("--screenshots", type=Path, default=SCREENSHOT_DIR)
    args = parser.parse_args(argv)

    if not (args.html / "index.html").exists():
        print(f"No built book at {args.html}: run `make book` first.", file=sys.stderr)
        return 2
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 2

    from playwright.sync_api import sync_playwright

    pages = toc_pages()
    failures = 0
    link_status: dict[str, int] = {}
    with BookServer(args.html) as server, sync_playwright() as playwright:
        browser = launch_browser(playwright)
        try:
            for page in pages:
                problems = check_page(
                    browser, server, page, args.html, args.screenshots, link_status
                )
                print(f"{'FAIL' if problems else 'ok  '} {page.docname}")
                for problem in problems:
                    print(f"     - {problem}")
                failures += bool(problems)
        finally:
            browser.close()
    print(f"{len(pages) - failures}/{len(pages)} pages passed; screenshots in {args.screenshots}")
    return 1 if failures or not pages else 0


if __name__ == "__main__":
    sys.exit(main())

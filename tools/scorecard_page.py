"""Write the appendix's full scorecard from the shipped full-profile measurements, never typed in.

    .venv/bin/python tools/scorecard_page.py           # write book/_generated/scorecard.md
    .venv/bin/python tools/scorecard_page.py --check   # exit 1 if it is out of date

Chapter 1 shows the report's findings, each once (:data:`advlib.verdicts.claims.FINDINGS`). The
appendix page ``book/scorecard.md`` includes this file: every claim of
:data:`advlib.verdicts.claims.CLAIMS` judged by :mod:`advlib.verdicts.scorecard`, the report's own claims
apart from the checks the book adds (``Claim.book_check``), then what
:mod:`advlib.verdicts.expectations` says of the same numbers. The numbers are the full profile's
saved measurements and seed study as shipped with the package (``advlib/pretrained/full``),
so the page is the same in every build; ``tests/book/test_scorecard_page.py`` checks that the
committed file is in step with them.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generated_file  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "book" / "_generated" / "scorecard.md"
PROFILE = "full"


def _table(rows):
    from advlib.verdicts import scorecard

    # A raw HTML block: MyST passes it through, and the scorecard's cells are escaped.
    return '<div style="overflow-x:auto">\n' + scorecard.to_html(rows) + "</div>\n"


def _counts(rows):
    from advlib.verdicts import scorecard

    counts = scorecard.count(rows)
    return ", ".join(f"{number} {verdict}" for verdict, number in counts.items())


def render(rows, book_checks, expectation_results):
    """The page's Markdown: ``rows`` and ``book_checks`` are :class:`advlib.verdicts.scorecard.Row` lists,
    ``expectation_results`` :func:`advlib.verdicts.expectations.check`'s list."""
    lines = [
        "## The report's claims",
        "",
        f"Each of the report's findings that our numbers can test, {len(rows)} in all: {_counts(rows)}.",
        "",
        _table(rows),
        "## The book's additional checks",
        "",
        "Tests the report did not run: the order of the two adversarial-training recipes over",
        "three training seeds each (chapter 12), the experiment the report proposed but left",
        "open, and attacks it only argued about. "
        f"{len(book_checks)} in all: {_counts(book_checks)}.",
        "",
        _table(book_checks),
        "## What we expected",
        "",
        "Before comparing numbers one by one, we wrote down what the report's findings imply our",
        "models should show, each with an explicit threshold (`advlib.verdicts.expectations`). Several",
        "restate a claim above with another threshold; where the two disagree, the claim's",
        "rule is the one the chapters use.",
        "",
        "| | Expectation | Status | Numbers |",
        "|---|---|---|---|",
    ]
    for result in expectation_results:
        cells = (result.expectation.key, result.expectation.statement, result.status, result.detail)
        lines.append("| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def current():
    from advlib.results import measured
    from advlib.verdicts import claims, expectations, scorecard

    saved = measured.load_saved(PROFILE)
    everything = scorecard.from_saved(saved, measured.seed_values(PROFILE, saved))
    book_check_ids = {claim.claim_id for claim in claims.CLAIMS if claim.book_check}
    rows = [row for row in everything if row.claim_id not in book_check_ids]
    book_checks = [row for row in everything if row.claim_id in book_check_ids]
    return render(rows, book_checks, expectations.check(PROFILE))


def main(argv=None):
    return generated_file.main(__doc__.splitlines()[0], OUT, current, argv)


if __name__ == "__main__":
    sys.exit(main())

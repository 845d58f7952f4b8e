"""The appendix's full scorecard (book/_generated/scorecard.md) comes from the shipped measurements."""

import scorecard_page

from advlib.verdicts import claims, scorecard
from tests.support.paths import REPOSITORY


def test_the_report_claims_and_the_book_checks_are_in_separate_tables():
    rows = scorecard.scorecard({"baseline.clean": 0.8, "baseline.fgsm": 0.2}, {"baseline.clean": 100, "baseline.fgsm": 100},
                               claims=["fgsm-drop", "order-seeds"])
    text = scorecard_page.render(rows[:1], rows[1:], [])
    report_part, book_part = text.split("## The book's additional checks")
    assert "fgsm-drop" in report_part and "order-seeds" not in report_part
    assert "order-seeds" in book_part and "fgsm-drop" not in book_part
    assert "1 in all: 1 reproduced, 0 not reproduced" in report_part
    assert "1 in all: 0 reproduced, 0 not reproduced, 0 reversed, 1 not tested" in book_part


def test_the_committed_page_is_in_step_with_the_shipped_measurements(monkeypatch, tmp_path):
    # An empty results folder: the page must come from the shipped numbers alone.
    # If this fails, run: python tools/scorecard_page.py
    monkeypatch.setenv("ADVLIB_RESULTS", str(tmp_path))
    text = scorecard_page.current()
    assert scorecard_page.OUT.read_text() == text
    for claim in claims.CLAIMS:
        assert claim.claim_id in text
    assert "{include} _generated/scorecard.md" in (REPOSITORY / "book" / "scorecard.md").read_text()

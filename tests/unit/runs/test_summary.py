"""``reporting.format_scorecard`` on a hand-made measurements.json: the verdicts the rules give, "not tested" for the rest.

Every entry is written with :func:`tests.support.sources.saved_entry` (current model hashes, 40
test images) into the ``results_folder`` of the "test" profile, so nothing trains and
nothing else is read. The hand-computed Wilson intervals on 40 images are in the comments.
"""

import json
import re

from advlib.runs import summary as reporting
from advlib.verdicts import claims, scorecard
from advlib.verdicts.scorecard import NOT_REPRODUCED, NOT_TESTED, REPRODUCED, REVERSED
from tests.support.sources import saved_entry


# Wilson 95% intervals on 40 images: 0.95 -> (0.835, 0.986), 0.50 -> (0.352, 0.648),
# 0.05 -> (0.014, 0.165).
VALUES = {
    "baseline.fgsm": 0.50,
    "random_at.fgsm": 0.95,
    "per_epoch_at.fgsm": 0.05,
}
SEEDS = {
    "random_at_seed1.fgsm": 0.20, "random_at_seed2.fgsm": 0.21, "random_at_seed3.fgsm": 0.22,
    "per_epoch_at_seed1.fgsm": 0.39, "per_epoch_at_seed2.fgsm": 0.40, "per_epoch_at_seed3.fgsm": 0.41,
}
EXPECTED = {
    # 0.95 - 0.50: (0.835 - 0.648, 0.986 - 0.352) = (+0.187, +0.634), above 0.
    "random-at-gain": REPRODUCED,
    # 0.05 - 0.50: (0.014 - 0.648, 0.165 - 0.352) = (-0.634, -0.187), below 0.
    "per-epoch-gain": REVERSED,
    # 0.95 - 1.5 x 0.50: (0.835 - 0.972, 0.986 - 0.528) = (-0.137, +0.458) reaches 0; never reversed.
    "random-at-twice": NOT_REPRODUCED,
    # 0.95 - 0.05: (0.835 - 0.165, ...) = (+0.670, ...), above 0.
    "order-models": REPRODUCED,
    # Seeds: means 0.21 vs 0.40, std 0.01 each: -0.19 ± 0.0227, wholly below 0.
    "order-seeds": REVERSED,
    # No baseline.clean, baseline.random_sign or baseline seeds were saved.
    "fgsm-drop": NOT_TESTED,
    "random-sign-control": NOT_TESTED,
    "random-at-gain-seeds": NOT_TESTED,
    "final-headline": NOT_TESTED,
}


def _write(folder, values):
    folder.mkdir(parents=True, exist_ok=True)
    saved = {key: saved_entry(key, value) for key, value in values.items()}
    (folder / "measurements.json").write_text(json.dumps(saved))


def _verdicts(text):
    """``{claim id: verdict}`` of the scorecard's claim lines (id, two spaces, verdict, two spaces, ...)."""
    found = {}
    for line in text.splitlines():
        cells = re.split(r"\s{2,}", line, maxsplit=2)
        if len(cells) == 3 and cells[0] in claims.CLAIMS_BY_ID:
            found[cells[0]] = cells[1]
    return found


def test_format_scorecard_prints_the_verdicts_the_rules_give(results_folder):
    _write(results_folder, {**VALUES, **SEEDS})
    text = reporting.format_scorecard("test")
    verdicts = _verdicts(text)
    assert list(verdicts) == [claim.claim_id for claim in claims.CLAIMS]
    for claim_id, verdict in EXPECTED.items():
        assert verdicts[claim_id] == verdict, (claim_id, verdicts[claim_id])
    # The same verdicts as the scorecard on the numbers themselves.
    sizes = dict.fromkeys(VALUES, 40)
    seeds = {"random_at": {"fgsm": [0.20, 0.21, 0.22]}, "per_epoch_at": {"fgsm": [0.39, 0.40, 0.41]}}
    rows = scorecard.scorecard(VALUES, sizes, seeds)
    assert verdicts == {row.claim_id: row.verdict for row in rows}
    # Each claim line shows our value and its interval; the counts close the table.
    line = next(line for line in text.splitlines() if line.startswith("random-at-gain "))
    assert "0.950 vs 0.500 (n = 40, 40)" in line and "the whole interval is above +0.00" in line
    totals = scorecard.count(rows)
    assert f"{len(claims.CLAIMS)} claims: {totals[REPRODUCED]} reproduced, {totals[NOT_REPRODUCED]} not reproduced, " \
           f"{totals[REVERSED]} reversed, {totals[NOT_TESTED]} not tested" in text
    assert "run: python -m advlib reproduce --profile test" in text


def test_missing_numbers_are_not_tested(results_folder):
    text = reporting.format_scorecard("test")
    verdicts = _verdicts(text)
    assert set(verdicts.values()) == {NOT_TESTED}
    assert len(verdicts) == len(claims.CLAIMS)
    assert "missing: baseline.clean (value), baseline.fgsm (value)" in text
    assert f"0 reproduced, 0 not reproduced, 0 reversed, {len(claims.CLAIMS)} not tested" in text


def test_an_entry_without_its_test_size_is_not_tested(results_folder):
    results_folder.mkdir(parents=True)
    saved = {key: saved_entry(key, value) for key, value in VALUES.items()}
    del saved["baseline.fgsm"]["test_size"]
    (results_folder / "measurements.json").write_text(json.dumps(saved))
    verdicts = _verdicts(reporting.format_scorecard("test"))
    assert verdicts["random-at-gain"] == NOT_TESTED
    assert verdicts["order-models"] == REPRODUCED


def test_the_full_report_has_the_scorecard_after_the_measurements(results_folder):
    _write(results_folder, VALUES)
    text = reporting.full_report("test")
    headings = ["Report vs this run", "Seed study (beyond the report)", "Reproduction scorecard", "Beyond the report: eps sweeps"]
    positions = [text.find(heading) for heading in headings]
    assert -1 not in positions and positions == sorted(positions), positions

"""The reproduction scorecard on hand-made numbers: intervals, each verdict and its boundaries, bad input.

The interval arithmetic lives in :mod:`advlib.verdicts.uncertainty` and the claims in
:mod:`advlib.verdicts.claims`; their tests are here because the scorecard is what uses them.

No models and no files: every case below is built by hand for the behaviour it is named
after, and the hand-computed numbers are written out in the comments.
"""

import math

import pytest

from advlib.verdicts import claims, scorecard, uncertainty as statistics
from advlib.verdicts.claims import Rule
from advlib.verdicts.scorecard import NOT_REPRODUCED, NOT_TESTED, REPRODUCED, REVERSED

Z = 1.959963984540054


def _verdict(claim_id, values, sizes=None, seeds=None):
    sizes = sizes if sizes is not None else dict.fromkeys(values, 10_000)
    (row,) = scorecard.scorecard(values, sizes, seeds, claims=[claim_id])
    return row


# --- statistics: Wilson interval, difference interval, t quantile ---------------------------


def test_wilson_interval_of_50_out_of_100_matches_the_hand_computed_value():
    # centre (0.5 + z²/200) / (1 + z²/100) = 0.5;
    # half z / (1 + z²/100) * sqrt(0.25/100 + z²/40000) = 1.887459 * 0.0509513 = 0.096168.
    low, high = statistics.wilson_interval(0.5, 100)
    assert low == pytest.approx(0.403832, abs=2e-6)
    assert high == pytest.approx(0.596168, abs=2e-6)


def test_wilson_interval_of_0_out_of_10_is_not_the_degenerate_normal_interval():
    # Closed form at p = 0: (0, z² / (n + z²)) = (0, 3.841459 / 13.841459) = (0, 0.277533).
    low, high = statistics.wilson_interval(0.0, 10)
    assert low == 0.0
    assert high == pytest.approx(Z**2 / (10 + Z**2), abs=1e-12)
    assert high == pytest.approx(0.277533, abs=2e-6)
    # And its mirror image at p = 1.
    assert statistics.wilson_interval(1.0, 10) == pytest.approx((1 - high, 1.0), abs=1e-12)


def test_wilson_interval_is_asymmetric_away_from_one_half():
    # 20 of 100: centre (0.2 + 0.019207) / 1.038415 = 0.211098, half 1.887459 * sqrt(0.0016 +
    # 0.000096036) = 0.077731, so (0.133367, 0.288829); the normal (Wald) interval 0.2 ± 0.0784
    # would be symmetric about 0.2.
    low, high = statistics.wilson_interval(0.2, 100)
    assert low == pytest.approx(0.133367, abs=2e-6)
    assert high == pytest.approx(0.288829, abs=2e-6)


def test_difference_interval_is_the_conservative_sum_of_half_widths():
    # 50/100 minus 0/10: (0.403832 - 0.277533, 0.596168 - 0) = (0.126299, 0.596168).
    low, high = statistics.difference_interval(0.5, 100, 0.0, 10)
    assert low == pytest.approx(0.126299, abs=3e-6)
    assert high == pytest.approx(0.596168, abs=2e-6)
    # Scaled: 0.5 - 1.5 * 0.0 with ends (0.403832 - 1.5 * 0.277533, 0.596168).
    low, high = statistics.difference_interval(0.5, 100, 0.0, 10, scale=1.5)
    assert low == pytest.approx(0.403832 - 1.5 * 0.277533, abs=5e-6)


@pytest.mark.parametrize("df, expected", [(1, 12.7062), (2, 4.3027), (4, 2.7764), (30, 2.0423), (1e6, 1.9600)])
def test_t_quantile_matches_the_printed_table(df, expected):
    assert statistics.t_quantile(0.975, df) == pytest.approx(expected, abs=1e-4)


def test_t_quantile_of_a_fractional_df_lies_between_its_neighbours():
    assert statistics.t_quantile(0.975, 3) < statistics.t_quantile(0.975, 2.4) < statistics.t_quantile(0.975, 2)


def test_difference_interval_and_t_quantile_refuse_bad_input():
    with pytest.raises(ValueError, match="scale must be a positive"):
        statistics.difference_interval(0.5, 100, 0.2, 100, scale=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        statistics.difference_interval(0.5, 100, 1.2, 100)
    with pytest.raises(ValueError, match="probability"):
        statistics.t_quantile(0.3, 4)
    with pytest.raises(ValueError, match="degrees of freedom"):
        statistics.t_quantile(0.975, math.nan)
    with pytest.raises(ValueError, match="degrees of freedom"):
        statistics.t_quantile(0.975, 0)


# --- verdicts of directional claims (A > B) ----------------------------------------------


def test_directional_claim_reproduced_reversed_and_not_reproduced_from_numbers():
    assert _verdict("random-at-gain", {"random_at.fgsm": 0.45, "baseline.fgsm": 0.20}).verdict == REPRODUCED
    assert _verdict("random-at-gain", {"random_at.fgsm": 0.20, "baseline.fgsm": 0.45}).verdict == REVERSED
    # +0.01 on 1,000 images: the interval (about ±0.05) straddles 0.
    values = {"random_at.fgsm": 0.21, "baseline.fgsm": 0.20}
    row = _verdict("random-at-gain", values, dict.fromkeys(values, 1000))
    assert row.verdict == NOT_REPRODUCED
    assert row.interval[0] < 0 < row.interval[1]


def test_directional_claim_row_reports_the_numbers_and_the_interval():
    row = _verdict("random-at-gain", {"random_at.fgsm": 0.2213, "baseline.fgsm": 0.1908})
    low, high = statistics.difference_interval(0.2213, 10_000, 0.1908, 10_000)
    assert row.interval == pytest.approx((low, high))
    assert row.reason.startswith(f"0.221 vs 0.191: +0.030 (95% interval {low:+.3f} to {high:+.3f})")
    assert row.report_value == "0.446 vs 0.204"
    assert "above +0.00" in row.rule


@pytest.mark.parametrize(
    "interval, verdict",
    [
        ((0.0001, 0.2), REPRODUCED),  # just above 0
        ((-0.0001, 0.2), NOT_REPRODUCED),  # just reaches 0
        ((-0.2, 0.0001), NOT_REPRODUCED),  # just reaches 0 from below
        ((-0.2, -0.0001), REVERSED),  # just below 0
    ],
)
def test_directional_rule_boundaries_at_zero(interval, verdict):
    assert scorecard.judge(Rule(claims.ABOVE), *interval)[0] == verdict


@pytest.mark.parametrize(
    "interval, verdict",
    [((0.3001, 0.6), REPRODUCED), ((0.2999, 0.6), NOT_REPRODUCED), ((0.01, 0.2), NOT_REPRODUCED)],
)
def test_directional_rule_with_a_minimum_effect(interval, verdict):
    # The claim states an effect of at least 0.30: a clearly positive +0.01 to +0.2 is not enough.
    rule = Rule(claims.ABOVE, minimum=0.30)
    assert scorecard.judge(rule, *interval)[0] == verdict


def test_minimum_effect_claim_from_numbers():
    # FGSM drop 0.80 -> 0.60 on 10,000 images is real (interval about +0.19 to +0.22) but below 0.30.
    row = _verdict("fgsm-drop", {"baseline.clean": 0.80, "baseline.fgsm": 0.60})
    assert row.verdict == NOT_REPRODUCED
    assert row.interval[0] > 0
    assert _verdict("fgsm-drop", {"baseline.clean": 0.80, "baseline.fgsm": 0.20}).verdict == REPRODUCED


def test_a_claim_without_an_opposite_is_never_reversed():
    rule = Rule(claims.ABOVE, reversed_below=None)
    assert scorecard.judge(rule, -0.5, -0.4)[0] == NOT_REPRODUCED
    # "About twice": 0.30 is clearly below 1.5 x 0.30 but the claim has no reversal.
    row = _verdict("random-at-twice", {"random_at.fgsm": 0.30, "baseline.fgsm": 0.30})
    assert row.interval[1] < 0
    assert row.verdict == NOT_REPRODUCED


def test_scale_multiplies_the_second_key():
    # 0.45 vs 1.5 x 0.20 = 0.30: +0.15, reproduced; 0.28 vs 0.30 is not, though 0.28 > 0.20.
    assert _verdict("random-at-twice", {"random_at.fgsm": 0.45, "baseline.fgsm": 0.20}).verdict == REPRODUCED
    row = _verdict("random-at-twice", {"random_at.fgsm": 0.28, "baseline.fgsm": 0.20})
    assert row.verdict == NOT_REPRODUCED
    assert "1.5 x 0.200" in row.reason


def test_share_claim_reversed_below_its_own_bound():
    # "Nearly all gradients zero": reproduced above 0.90, reversed when the interval is below 0.50.
    assert _verdict("t1-zero-gradients", {"dd_student_t1.zero_gradients": 0.99}).verdict == REPRODUCED
    assert _verdict("t1-zero-gradients", {"dd_student_t1.zero_gradients": 0.70}).verdict == NOT_REPRODUCED
    assert _verdict("t1-zero-gradients", {"dd_student_t1.zero_gradients": 0.10}).verdict == REVERSED
    rule = claims.get_claim("t1-zero-gradients").rule
    assert scorecard.judge(rule, 0.9001, 0.95)[0] == REPRODUCED
    assert scorecard.judge(rule, 0.8999, 0.95)[0] == NOT_REPRODUCED
    assert scorecard.judge(rule, 0.40, 0.4999)[0] == REVERSED
    assert scorecard.judge(rule, 0.40, 0.5001)[0] == NOT_REPRODUCED


# --- "about equal" claims -------------------------------------------------------------------


@pytest.mark.parametrize(
    "interval, verdict",
    [
        ((-0.01, 0.02), REPRODUCED),
        ((-0.03, 0.03), REPRODUCED),  # the band is closed
        ((-0.0301, 0.0), NOT_REPRODUCED),  # just leaves it below
        ((0.0, 0.0301), NOT_REPRODUCED),  # just leaves it above
        ((0.0299, 0.1), NOT_REPRODUCED),  # just reaches into it from above
        ((0.0301, 0.1), REVERSED),  # wholly above the tolerance
        ((-0.1, -0.0301), REVERSED),  # wholly below
        ((-0.1, -0.0299), NOT_REPRODUCED),
    ],
)
def test_about_equal_rule_boundaries(interval, verdict):
    assert scorecard.judge(Rule(claims.WITHIN, tolerance=0.03), *interval)[0] == verdict


def test_about_equal_claim_judges_the_interval_not_the_point():
    # A point difference of 0 on 100 images is no evidence of "about equal": interval about ±0.19.
    values = {"baseline.random_sign": 0.80, "baseline.clean": 0.80}
    row = _verdict("random-sign-control", values, dict.fromkeys(values, 100))
    assert row.verdict == NOT_REPRODUCED
    assert _verdict("random-sign-control", {"baseline.random_sign": 0.80, "baseline.clean": 0.80}).verdict == REPRODUCED
    assert _verdict("random-sign-control", {"baseline.random_sign": 0.60, "baseline.clean": 0.80}).verdict == REVERSED


def test_same_prediction_claims_compare_the_points_within_rounding():
    rule = claims.get_claim("t1-cross-set").rule
    assert scorecard.judge(rule, 0.0004, 0.0004)[0] == REPRODUCED
    assert scorecard.judge(rule, -0.0004, -0.0004)[0] == REPRODUCED
    assert scorecard.judge(rule, 0.0006, 0.0006)[0] == NOT_REPRODUCED
    values = {"dd_student_t1.on_t50_set": 0.376, "dd_student_t50.fgsm": 0.376}
    row = _verdict("t1-cross-set", values, dict.fromkeys(values, 10))
    assert row.verdict == REPRODUCED
    assert row.interval == (0.0, 0.0)
    # However far apart, an identity claim is "not reproduced", never "reversed".
    row = _verdict("t1-cross-set", {"dd_student_t1.on_t50_set": 0.798, "dd_student_t50.fgsm": 0.376})
    assert row.verdict == NOT_REPRODUCED


# --- the headline's neighbourhood -----------------------------------------------------------


@pytest.mark.parametrize(
    "interval, verdict",
    [
        ((0.50, 0.5681), REPRODUCED),  # reaches 0.568 = 0.598 - 0.03
        ((0.50, 0.5679), NOT_REPRODUCED),
        ((0.6279, 0.70), REPRODUCED),  # reaches 0.628 = 0.598 + 0.03
        ((0.6281, 0.70), NOT_REPRODUCED),
        ((0.20, 0.30), NOT_REPRODUCED),  # far below: never "reversed"
    ],
)
def test_headline_neighbourhood_boundaries(interval, verdict):
    rule = claims.get_claim("final-headline").rule
    assert (rule.target, rule.tolerance) == (0.598, 0.03)
    assert scorecard.judge(rule, *interval)[0] == verdict


def test_headline_claim_from_numbers():
    assert _verdict("final-headline", {"final_student_noise.fgsm": 0.59}).verdict == REPRODUCED
    # 0.55 on 10,000 images: Wilson (0.5402, 0.5597) stops short of 0.568.
    row = _verdict("final-headline", {"final_student_noise.fgsm": 0.55})
    assert row.verdict == NOT_REPRODUCED and "below" in row.reason
    # The same 0.55 on 100 images: Wilson (0.4524, 0.6438) reaches it.
    row = _verdict("final-headline", {"final_student_noise.fgsm": 0.55}, {"final_student_noise.fgsm": 100})
    assert row.verdict == REPRODUCED


# --- the seed study ---------------------------------------------------------------------------


def _seeds(random_at, per_epoch_at, baseline=(0.19, 0.20, 0.21)):
    return {
        "baseline": {"clean": [0.8] * 3, "fgsm": list(baseline)},
        "random_at": {"clean": [0.8] * 3, "fgsm": list(random_at)},
        "per_epoch_at": {"clean": [0.8] * 3, "fgsm": list(per_epoch_at)},
    }


def test_order_claim_reversed_when_per_epoch_is_clearly_above_random():
    row = _verdict("order-seeds", {}, {}, _seeds([0.20, 0.21, 0.22], [0.39, 0.40, 0.41]))
    assert row.verdict == REVERSED
    # Means 0.21 and 0.40, std 0.01 each: SE = sqrt(2 * 0.0001 / 3) = 0.0081650, Welch df = 4,
    # t_0.975(4) = 2.776445, so -0.19 ± 0.022670.
    assert row.interval == pytest.approx((-0.212670, -0.167330), abs=2e-6)
    assert "Welch t = -23.27, df 4.0" in row.reason
    assert "0.210 ± 0.010 (n = 3)" in row.our_value


def test_order_claim_not_reproduced_when_seeds_overlap():
    row = _verdict("order-seeds", {}, {}, _seeds([0.40, 0.45, 0.50], [0.42, 0.44, 0.46]))
    assert row.verdict == NOT_REPRODUCED
    assert row.interval[0] < 0 < row.interval[1]


def test_order_claim_reproduced_when_random_is_clearly_above():
    assert _verdict("order-seeds", {}, {}, _seeds([0.44, 0.45, 0.46], [0.38, 0.39, 0.40])).verdict == REPRODUCED


def test_seed_claim_uses_the_t_quantile_not_the_normal_one():
    # Means 0.21 and 0.23, std 0.01 each: -0.02 ± 2.776445 * 0.0081650 = -0.02 ± 0.02267 reaches 0
    # (not reproduced); with the normal 1.96 it would be -0.02 ± 0.0160, wholly below 0 (reversed).
    row = _verdict("order-seeds", {}, {}, _seeds([0.20, 0.21, 0.22], [0.22, 0.23, 0.24]))
    assert row.interval == pytest.approx((-0.042670, 0.002670), abs=2e-6)
    assert row.verdict == NOT_REPRODUCED


def test_seed_claim_with_identical_seeds_is_decided_by_the_means():
    row = _verdict("order-seeds", {}, {}, _seeds([0.3, 0.3], [0.4, 0.4]))
    assert row.verdict == REVERSED and row.interval == pytest.approx((-0.1, -0.1))
    assert _verdict("order-seeds", {}, {}, _seeds([0.3, 0.3], [0.3, 0.3])).verdict == NOT_REPRODUCED


def test_seed_claim_with_fewer_than_two_seeds_is_not_tested():
    row = _verdict("order-seeds", {}, {}, _seeds([0.44], [0.38, 0.39, 0.40]))
    assert row.verdict == NOT_TESTED
    assert "seeds:random_at.fgsm (needs 2 seeds, has 1)" in row.reason
    assert _verdict("order-seeds", {}, {}, {"random_at": {"fgsm": [0.4, 0.5]}}).verdict == NOT_TESTED


# --- not tested, bad input, the claim list ---------------------------------------------------


def test_claim_whose_keys_are_missing_is_not_tested():
    row = _verdict("random-at-gain", {"random_at.fgsm": 0.45})
    assert row.verdict == NOT_TESTED
    assert row.interval is None
    assert "baseline.fgsm (value)" in row.reason
    # A value without its test-set size is not tested either.
    row = _verdict("random-at-gain", {"random_at.fgsm": 0.45, "baseline.fgsm": 0.2}, {"random_at.fgsm": 100})
    assert row.verdict == NOT_TESTED and "baseline.fgsm (test size)" in row.reason


def test_no_numbers_at_all_leaves_every_claim_not_tested():
    rows = scorecard.scorecard()
    assert [row.claim_id for row in rows] == [claim.claim_id for claim in claims.CLAIMS]
    assert scorecard.count(rows) == {REPRODUCED: 0, NOT_REPRODUCED: 0, REVERSED: 0, NOT_TESTED: len(claims.CLAIMS)}


@pytest.mark.parametrize("bad", [1.2, -0.1, math.nan, math.inf, True, "0.5", None])
def test_value_outside_zero_one_is_refused(bad):
    with pytest.raises(ValueError, match="baseline.fgsm"):
        scorecard.scorecard({"baseline.fgsm": bad}, {"baseline.fgsm": 100})


@pytest.mark.parametrize("bad", [0, -5, 2.5, True, "100"])
def test_size_below_one_or_not_an_integer_is_refused(bad):
    with pytest.raises(ValueError, match="integer >= 1"):
        scorecard.scorecard({"baseline.fgsm": 0.2}, {"baseline.fgsm": bad})


def test_bad_seed_values_are_refused():
    with pytest.raises(ValueError, match=r"seeds\['random_at'\]\['fgsm'\]\[1\]"):
        scorecard.scorecard(seeds={"random_at": {"fgsm": [0.4, 1.4]}})
    with pytest.raises(ValueError, match="unknown metric"):
        scorecard.scorecard(seeds={"random_at": {"pgd": [0.4, 0.5]}})


def test_unknown_claim_id_is_refused():
    with pytest.raises(ValueError, match="unknown claim id 'no-such-claim'"):
        scorecard.scorecard(claims=["no-such-claim"])
    with pytest.raises(ValueError, match="unknown claim id"):
        claims.get_claim("no-such-claim")


def test_wilson_interval_refuses_bad_input():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        statistics.wilson_interval(1.5, 10)
    with pytest.raises(ValueError, match="integer >= 1"):
        statistics.wilson_interval(0.5, 0)


def test_claims_are_well_formed():
    assert len({claim.claim_id for claim in claims.CLAIMS}) == len(claims.CLAIMS)
    for claim in claims.CLAIMS:
        assert claim.statement.endswith(".") and claim.report_value and claim.section
        assert claim.rule.describe()
    with pytest.raises(ValueError, match="rule kind"):
        Rule("bigger")
    with pytest.raises(ValueError, match="target"):
        Rule(claims.NEAR, tolerance=0.03)


def test_claims_read_known_measurement_keys():
    from advlib.plan.catalogue import MEASUREMENTS_BY_KEY  # pure data, no TensorFlow

    for claim in claims.CLAIMS:
        for key in claim.keys:
            if key.startswith(claims.SEED_PREFIX):
                recipe, metric = key.removeprefix(claims.SEED_PREFIX).rsplit(".", 1)
                assert f"{recipe}_seed1.{metric}" in MEASUREMENTS_BY_KEY, key
            else:
                assert key in MEASUREMENTS_BY_KEY, (claim.claim_id, key)


def test_every_verdict_is_reachable_and_counted():
    values = {
        "random_at.fgsm": 0.45, "baseline.fgsm": 0.20,  # random-at-gain: reproduced
        "per_epoch_at.fgsm": 0.10,  # per-epoch-gain: reversed
        "baseline.random_sign": 0.80, "baseline.clean": 0.79,  # random-sign-control (n = 100): not reproduced
    }
    sizes = {**dict.fromkeys(values, 10_000), "baseline.random_sign": 100, "baseline.clean": 100}
    chosen = ["random-at-gain", "per-epoch-gain", "random-sign-control", "order-seeds"]
    rows = scorecard.scorecard(values, sizes, claims=chosen)
    assert [row.verdict for row in rows] == [REPRODUCED, REVERSED, NOT_REPRODUCED, NOT_TESTED]
    assert scorecard.count(rows) == {REPRODUCED: 1, NOT_REPRODUCED: 1, REVERSED: 1, NOT_TESTED: 1}
    assert set(scorecard.VERDICTS) == {"reproduced", "not reproduced", "reversed", "not tested"}


# --- from saved measurements ---------------------------------------------------------------


def _entry(value, test_size=10_000):
    return {"value": value, "test_size": test_size, "models": {}, "data_source": "hand-made"}


def test_from_saved_reads_values_sizes_and_seeds():
    saved = {
        "random_at.fgsm": _entry(0.45), "baseline.fgsm": _entry(0.20, 100), "per_epoch_at.fgsm": _entry(0.39),
        # An entry no claim reads is left out, whatever its value.
        "not_a_claim_key": _entry(7.5),
    }
    seeds = {"random_at": {"clean": [], "fgsm": [0.44, 0.45, 0.46]}, "per_epoch_at": {"clean": [], "fgsm": [0.38, 0.39, 0.40]}}
    rows = {row.claim_id: row for row in scorecard.from_saved(saved, seeds)}
    assert [row.claim_id for row in rows.values()] == [claim.claim_id for claim in claims.CLAIMS]
    expected = scorecard.scorecard(
        {"random_at.fgsm": 0.45, "baseline.fgsm": 0.20, "per_epoch_at.fgsm": 0.39},
        {"random_at.fgsm": 10_000, "baseline.fgsm": 100, "per_epoch_at.fgsm": 10_000},
        seeds,
    )
    assert list(rows.values()) == expected
    assert rows["random-at-gain"].verdict == REPRODUCED and "(n = 10,000, 100)" in rows["random-at-gain"].our_value
    assert rows["order-seeds"].verdict == REPRODUCED
    assert rows["fgsm-drop"].verdict == NOT_TESTED


def test_from_saved_without_a_test_size_or_anything_saved_is_not_tested():
    saved = {"random_at.fgsm": _entry(0.45), "baseline.fgsm": {"value": 0.20}}
    (row,) = scorecard.from_saved(saved, None, claims=["random-at-gain"])
    assert row.verdict == NOT_TESTED and "baseline.fgsm (test size)" in row.reason
    assert {row.verdict for row in scorecard.from_saved({}, {})} == {NOT_TESTED}


# --- tables ---------------------------------------------------------------------------------


def _odd_row():
    return scorecard.Row("x|y", "S <5>", "A *bold* | <script>alert(1)</script> & more\nline", "0.1", "0.2",
                         (0.1, 0.2), REPRODUCED, "r", "rule")


def test_markdown_is_one_escaped_table():
    values = {"random_at.fgsm": 0.45, "baseline.fgsm": 0.20}
    rows = [_odd_row()] + scorecard.scorecard(values, dict.fromkeys(values, 100), claims=["random-at-gain"])
    text = scorecard.to_markdown(rows)
    lines = text.strip().split("\n")
    assert len(lines) == 2 + len(rows)
    # Every line has the same number of unescaped pipes: the "|" inside cells is escaped.
    pipes = {line.replace("\\|", "").count("|") for line in lines}
    assert pipes == {len(scorecard.COLUMNS) + 1}
    assert "x\\|y" in lines[2] and "\\<script\\>" in lines[2] and "\\*bold\\*" in lines[2]
    assert "+0.100 to +0.200" in lines[2]


def test_text_is_a_line_per_claim_then_the_counts():
    values = {"random_at.fgsm": 0.45, "baseline.fgsm": 0.20}
    rows = scorecard.scorecard(values, dict.fromkeys(values, 10_000), claims=["random-at-gain", "order-seeds"])
    lines = scorecard.to_text(rows).splitlines()
    assert len(lines) == 1 + len(rows) + 1
    assert lines[1].split()[:2] == ["random-at-gain", "reproduced"]
    assert "0.450 vs 0.200 (n = 10,000, 10,000)" in lines[1] and f"{rows[0].interval[0]:+.3f} to" in lines[1]
    assert lines[2].split()[:3] == ["order-seeds", "not", "tested"] and "missing: seeds:random_at.fgsm" in lines[2]
    assert lines[-1] == "2 claims: 1 reproduced, 0 not reproduced, 0 reversed, 1 not tested"


def test_html_is_one_escaped_table():
    text = scorecard.to_html([_odd_row()])
    assert text.count("<table") == 1 and text.count("<tr") == 2
    assert "<script>" not in text and "&lt;script&gt;" in text and "&amp; more" in text
    assert '<tr class="reproduced">' in text
    # Four columns, each of the row's fields once: statement, id and section, the
    # report's value, ours with its interval, the verdict with its rule.
    body = text.split("<tbody>")[1]
    assert body.count("<td>") == len(scorecard.HTML_COLUMNS) == 4
    cells = [cell.split("</td>")[0] for cell in body.split("<td>")[1:]]
    assert cells[0].endswith("<br><small>x|y, S &lt;5&gt;</small>") and "&lt;script&gt;" in cells[0]
    assert cells[1:] == ["0.1", "0.2<br><small>+0.100 to +0.200</small>",
                         "<strong>reproduced</strong><br><small>rule</small>"]


def _report_numbers_of_keys(claim):
    from advlib.plan import catalogue

    numbers = []
    for key in claim.keys:
        measurement = catalogue.MEASUREMENTS_BY_KEY.get(key)
        if measurement is None or measurement.report is None:
            return None
        numbers.append(f"{measurement.report:.3f}")
    return numbers


def test_each_claims_report_value_lists_the_reports_numbers_in_the_order_of_its_keys():
    # The scorecard prints the report's numbers beside ours, and ours follow the keys:
    # "0.812 vs 0.858" beside "teacher vs student" put our student above its teacher.
    import re

    from advlib.verdicts import claims

    checked = 0
    for claim in claims.CLAIMS:
        expected = _report_numbers_of_keys(claim)
        if expected is None or claim.rule.scale != 1.0:
            continue
        printed = re.findall(r"\d\.\d{3}", claim.report_value)[: len(expected)]
        assert printed == expected, f"{claim.claim_id}: report_value {claim.report_value!r} should list {expected}"
        checked += 1
    assert checked >= 20


def test_book_checks_are_the_claims_the_report_did_not_measure():
    from advlib.verdicts import claims

    book_checks = {claim.claim_id for claim in claims.CLAIMS if claim.book_check}
    assert book_checks == {"order-seeds", "random-at-gain-seeds", "per-epoch-gain-seeds",
                           "fresh-random-hypothesis", "t1-bypass-pgd", "low-t-masking"}


def test_chapter_1s_findings_are_report_claims_each_once_in_the_reports_order():
    from advlib.verdicts import claims

    order = [claim.claim_id for claim in claims.CLAIMS]
    assert len(claims.FINDINGS) <= 15
    assert len(set(claims.FINDINGS)) == len(claims.FINDINGS)
    assert sorted(claims.FINDINGS, key=order.index) == list(claims.FINDINGS)
    chosen = [claims.get_claim(claim_id) for claim_id in claims.FINDINGS]
    assert not [claim.claim_id for claim in chosen if claim.book_check]
    # No pair of numbers counted twice: every finding judges another set of measurements.
    key_sets = [frozenset(claim.keys) for claim in chosen]
    assert len(set(key_sets)) == len(key_sets)

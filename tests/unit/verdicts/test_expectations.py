"""Expectations: held, did not hold and not measured, from hand-made saved measurements."""

import json
import os
import subprocess
import sys

import pytest

from advlib.plan import catalogue
from advlib.verdicts import claims, expectations, wording as text
from tests.support.sources import saved_entry
from tests.support.paths import REPOSITORY



def _write(folder, values):
    """Write measurements.json holding ``values`` (``{key: float}``) with current hashes."""
    folder.mkdir(parents=True, exist_ok=True)
    saved = {key: saved_entry(key, value) for key, value in values.items()}
    (folder / "measurements.json").write_text(json.dumps(saved))


def _statuses(profile="test"):
    return {result.expectation.key: result.status for result in expectations.check(profile)}


def test_every_expectation_reads_known_measurements_and_states_its_threshold():
    assert [expectation.key for expectation in expectations.EXPECTATIONS] == [
        "1a", "1b", "1c", "2a", "2b", "3a", "3b", "4", "5"
    ]
    for expectation in expectations.EXPECTATIONS:
        assert expectation.measurements and all(
            key in catalogue.MEASUREMENTS_BY_KEY for key in expectation.measurements
        ), expectation.key
    # The statements quote the thresholds of advlib.verdicts.claims, so a changed constant changes the text too.
    statement = {expectation.key: expectation.statement for expectation in expectations.EXPECTATIONS}
    assert f"{claims.CLEAN_GOAL:.2f}" in statement["1a"]
    assert f"{claims.LARGE_EFFECT:.2f}" in statement["1b"]
    assert f"{claims.RANDOM_SIGN_TOLERANCE:.2f}" in statement["1c"]
    for key in ("2a", "2b"):
        assert f"{claims.ADVERSARIAL_GAIN_MINIMUM:.2f}" in statement[key]
        assert f"{claims.SIMILAR_TOLERANCE:.2f}" in statement[key]
    assert f"{claims.NEARLY_ALL:.2f}" in statement["3a"]
    assert f"{claims.CROSS_SET_TOLERANCE:.2f}" in statement["3b"]


def test_every_expectation_but_the_first_restates_claims_on_the_same_numbers():
    # The claims' rule is the one the chapters use; the expectation names the claims it
    # restates, and reads every measurement they read (a claim on other numbers would
    # be a different finding, not the same one with another threshold).
    assert [expectation.key for expectation in expectations.EXPECTATIONS if not expectation.claims] == ["1a"]
    for expectation in expectations.EXPECTATIONS:
        for claim_id in expectation.claims:
            claim = claims.get_claim(claim_id)
            assert not claim.book_check, (expectation.key, claim_id)
            assert set(claim.keys) <= set(expectation.measurements), (expectation.key, claim_id)


def test_nothing_saved_means_nothing_measured(results_folder):
    checked = expectations.check("test")
    assert {result.status for result in checked} == {expectations.NOT_MEASURED}
    assert all(result.values == {} for result in checked)
    assert checked[0].detail == "missing baseline.clean"


def test_values_that_hold(results_folder):
    _write(results_folder, {
        "baseline.clean": 0.82, "baseline.fgsm": 0.20, "baseline.random_sign": 0.81,
        "random_at.clean": 0.83, "random_at.fgsm": 0.45,
        "per_epoch_at.clean": 0.80, "per_epoch_at.fgsm": 0.39,
        "dd_student_t1.zero_gradients": 0.97, "dd_student_t1.on_t50_set": 0.37, "dd_student_t50.fgsm": 0.38,
        "variant_student_t4.fgsm": 0.45, "variant_teacher_t1.fgsm": 0.35,
        "final_student.fgsm": 0.49, "final_student_noise.fgsm": 0.60,
    })
    checked = expectations.check("test")
    assert {result.status for result in checked} == {expectations.HELD}
    by_key = {result.expectation.key: result for result in checked}
    assert by_key["1b"].values == {"baseline.clean": 0.82, "baseline.fgsm": 0.20}
    assert by_key["1b"].detail == "clean 0.820, FGSM 0.200 (drop 0.620, needs >= 0.30)"
    assert expectations.count(checked) == len(expectations.EXPECTATIONS)


def test_values_that_do_not_hold(results_folder):
    _write(results_folder, {
        "baseline.clean": 0.70, "baseline.fgsm": 0.50, "baseline.random_sign": 0.60,
        # random_at gains enough under attack but loses too much clean accuracy;
        # per_epoch_at keeps its clean accuracy but gains too little.
        "random_at.clean": 0.60, "random_at.fgsm": 0.70,
        "per_epoch_at.clean": 0.70, "per_epoch_at.fgsm": 0.52,
        "dd_student_t1.zero_gradients": 0.50, "dd_student_t1.on_t50_set": 0.60, "dd_student_t50.fgsm": 0.38,
        "variant_student_t4.fgsm": 0.35, "variant_teacher_t1.fgsm": 0.35,
        "final_student.fgsm": 0.60, "final_student_noise.fgsm": 0.49,
    })
    checked = expectations.check("test")
    assert {result.status for result in checked} == {expectations.DID_NOT_HOLD}
    by_key = {result.expectation.key: result for result in checked}
    assert "difference -0.100, needs within ±0.03" in by_key["2a"].detail
    assert "gain +0.020, needs >= +0.05" in by_key["2b"].detail
    assert expectations.count(checked, expectations.DID_NOT_HOLD) == len(checked)


@pytest.mark.parametrize(
    "key, values, status",
    [
        ("1a", {"baseline.clean": 0.80}, expectations.HELD),
        ("1a", {"baseline.clean": 0.7999}, expectations.DID_NOT_HOLD),
        # 0.83 - 0.53 is 0.2999... in floating point; on paper it is the threshold itself.
        ("1b", {"baseline.clean": 0.83, "baseline.fgsm": 0.53}, expectations.HELD),
        ("1b", {"baseline.clean": 0.83, "baseline.fgsm": 0.5301}, expectations.DID_NOT_HOLD),
        ("1c", {"baseline.clean": 0.80, "baseline.random_sign": 0.82}, expectations.HELD),
        ("1c", {"baseline.clean": 0.80, "baseline.random_sign": 0.78}, expectations.HELD),
        ("1c", {"baseline.clean": 0.80, "baseline.random_sign": 0.7799}, expectations.DID_NOT_HOLD),
        ("2a", {"baseline.clean": 0.80, "baseline.fgsm": 0.20, "random_at.clean": 0.77, "random_at.fgsm": 0.25},
         expectations.HELD),
        ("2a", {"baseline.clean": 0.80, "baseline.fgsm": 0.20, "random_at.clean": 0.80, "random_at.fgsm": 0.2499},
         expectations.DID_NOT_HOLD),
        ("2b", {"baseline.clean": 0.80, "baseline.fgsm": 0.20, "per_epoch_at.clean": 0.8301, "per_epoch_at.fgsm": 0.40},
         expectations.DID_NOT_HOLD),
        ("3a", {"dd_student_t1.zero_gradients": 0.90}, expectations.HELD),
        ("3a", {"dd_student_t1.zero_gradients": 0.8999}, expectations.DID_NOT_HOLD),
        ("3b", {"dd_student_t1.on_t50_set": 0.36, "dd_student_t50.fgsm": 0.38}, expectations.HELD),
        ("3b", {"dd_student_t1.on_t50_set": 0.40, "dd_student_t50.fgsm": 0.3799}, expectations.DID_NOT_HOLD),
        # "Beats" is strict: a tie does not hold.
        ("4", {"variant_student_t4.fgsm": 0.40, "variant_teacher_t1.fgsm": 0.40}, expectations.DID_NOT_HOLD),
        ("4", {"variant_student_t4.fgsm": 0.4001, "variant_teacher_t1.fgsm": 0.40}, expectations.HELD),
        ("5", {"final_student_noise.fgsm": 0.50, "final_student.fgsm": 0.50}, expectations.DID_NOT_HOLD),
        ("5", {"final_student_noise.fgsm": 0.5001, "final_student.fgsm": 0.50}, expectations.HELD),
    ],
)
def test_boundary_values(results_folder, key, values, status):
    assert expectations.evaluate(expectations.get(key), values).status == status
    # The same verdict comes back through the saved file that check() reads.
    _write(results_folder, values)
    assert _statuses()[key] == status


def test_one_missing_value_leaves_the_expectation_unmeasured(results_folder):
    _write(results_folder, {"baseline.clean": 0.85, "random_at.clean": 0.84, "random_at.fgsm": 0.5})
    result = {result.expectation.key: result for result in expectations.check("test")}["2a"]
    assert result.status == expectations.NOT_MEASURED
    assert result.detail == "missing baseline.fgsm"
    assert result.values == {"baseline.clean": 0.85, "random_at.clean": 0.84, "random_at.fgsm": 0.5}
    assert _statuses()["1a"] == expectations.HELD


def test_a_stale_measurement_does_not_count(results_folder):
    _write(results_folder, {"baseline.clean": 0.85})
    saved = json.loads((results_folder / "measurements.json").read_text())
    saved["baseline.clean"]["models"]["baseline"] = "000000000000"
    (results_folder / "measurements.json").write_text(json.dumps(saved))
    assert _statuses()["1a"] == expectations.NOT_MEASURED


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="unknown expectation '9'"):
        expectations.get("9")
    for bad in (1.5, -0.1, float("nan"), "0.8", True):
        with pytest.raises(ValueError, match=r"baseline.clean must be a number in \[0, 1\]"):
            expectations.evaluate(expectations.get("1a"), {"baseline.clean": bad})
    with pytest.raises(ValueError, match="unknown status"):
        expectations.count([], "maybe")
    with pytest.raises(ValueError, match="unknown profile"):
        expectations.check("medium")


def test_report_prints_the_block(results_folder):
    _write(results_folder, {"baseline.clean": 0.85, "baseline.fgsm": 0.70})
    text = expectations.format_expectations("test")
    assert text.splitlines()[0] == (
        "What we expected, and what held (profile test), 9 expectations: 1 held, 1 did not hold, 7 not measured yet"
    )
    assert "1b  did not hold" in text and "drop 0.150, needs >= 0.30" in text
    # The fixture set ADVLIB_RESULTS, which the child process inherits.
    printed = subprocess.run(
        [sys.executable, "-m", "advlib", "report", "--profile", "test"], env=dict(os.environ), cwd=REPOSITORY,
        capture_output=True, text=True,
    )
    assert printed.returncode == 0, printed.stderr[-3000:]
    # The block comes last, after the measurements table and the studies.
    assert printed.stdout.rstrip().endswith(text)
    assert printed.stdout.index("Report vs this run") < printed.stdout.index("What we expected")


def _candidate(fgsm, pgd, clean=0.81, fgsm_subset=0.59, eot=None, worst=0.60, worst_fgsm=0.62):
    name = "robust_fast_at"
    values = {
        "clean": clean, "fgsm": fgsm, "fgsm_subset": fgsm_subset, "pgd": pgd, "eot_pgd": pgd if eot is None else eot,
        "worst_case": worst, "worst_case_fgsm": worst_fgsm,
    }
    return {f"{name}.{key}": value for key, value in values.items()}


def test_the_goal_checklist_applies_each_condition_at_its_bar():
    report_best = catalogue.report_value("final_student_noise.fgsm")
    # 0.5977 on 10,000 images is 3 images short of the report's 0.598: not above it.
    short = expectations.goal_checklist("robust_fast_at", _candidate(fgsm=0.5977, pgd=0.562), 0.01)
    assert [condition.met for condition in short] == [True, False, True, True, True, True]
    assert short[1].value == 0.5977 and str(report_best) in short[1].goal and short[1].whole_test_set
    above = expectations.goal_checklist("robust_fast_at", _candidate(fgsm=0.5985, pgd=0.562), 0.01)
    assert expectations.goal_met(above) and not expectations.goal_met(short)
    # PGD 0.031 below FGSM on the subset is beyond "a few points" (0.03); 0.03 exactly is within.
    masked = expectations.goal_checklist("robust_fast_at", _candidate(fgsm=0.61, pgd=0.559), 0.01)
    assert [condition.met for condition in masked] == [True, True, False, False, True, True]
    edge = expectations.goal_checklist("robust_fast_at", _candidate(fgsm=0.61, pgd=0.56, clean=expectations.CLEAN_GOAL), 0.01)
    assert [condition.met for condition in edge] == [True, True, True, True, True, True]
    # The worst case: at the bar is not above it; 0.031 below FGSM on its images is too far.
    worst = expectations.goal_checklist("robust_fast_at", _candidate(fgsm=0.61, pgd=0.56, worst=report_best, worst_fgsm=0.62), 0.01)
    assert [condition.met for condition in worst] == [True, True, True, True, False, True]
    gap = expectations.goal_checklist("robust_fast_at", _candidate(fgsm=0.61, pgd=0.56, worst=0.60, worst_fgsm=0.631), 0.01)
    assert [condition.met for condition in gap] == [True, True, True, True, True, False]
    assert not gap[5].whole_test_set and gap[5].value == 0.60
    low = expectations.goal_checklist("robust_fast_at", _candidate(fgsm=0.61, pgd=0.56, clean=0.7999), 0.01)
    assert [condition.met for condition in low][0] is False
    # A worst case not computed yet leaves its two conditions unchecked, and the goal unmet.
    pending = expectations.goal_checklist("robust_fast_at", _candidate(fgsm=0.61, pgd=0.56, worst=None, worst_fgsm=None), 0.01)
    assert [condition.met for condition in pending] == [True, True, True, True, None, None]
    assert not expectations.goal_met(pending)
    values = _candidate(fgsm=0.61, pgd=0.56, worst=None, worst_fgsm=None)
    assert text.candidate_phrase("robust_fast_at", pending, values).startswith("is not judged yet (2 conditions wait")
    assert "no worst case yet" in text.candidate_phrase("robust_fast_at", pending, values)
    done = dict(values, **{"robust_fast_at.worst_case": 0.5, "robust_fast_at.worst_case_fgsm": 0.62})
    checked = expectations.goal_checklist("robust_fast_at", done, 0.01)
    assert text.candidate_phrase("robust_fast_at", checked, done).startswith("does not meet the goal: it meets 4 of the 6")
    with pytest.raises(ValueError, match="robust_fast_at.pgd"):
        expectations.goal_checklist("robust_fast_at", {"robust_fast_at.clean": 0.8}, 0.01)


def test_the_defence_shortfalls_name_each_missed_bar_and_by_how_much():
    report_best = catalogue.report_value("final_student_noise.fgsm")
    budget = expectations.TRAINING_HOURS_GOAL * 3600
    assert expectations.defence_shortfalls(0.81, report_best + 0.001, budget) == []
    # At the bars: clean 0.80 and exactly 3 h meet them; a worst case equal to the report's does not.
    assert expectations.defence_shortfalls(expectations.CLEAN_GOAL, 0.61, budget) == []
    assert expectations.defence_shortfalls(0.81, report_best, budget) == [f"its worst case is 0.000 short of {report_best:.3f}"]
    # 10,931 s is 131 s over 3 h: it must not print as "3.0 h", and says by how much.
    missed = expectations.defence_shortfalls(0.7995, 0.553, budget + 131)
    assert missed == [
        "its clean accuracy is 0.0005 short of 0.80",
        f"its worst case is {report_best - 0.553:.3f} short of {report_best:.3f}",
        "its training took 3.04 h, 2 minutes over the 3 h budget",
    ]
    assert expectations.defence_shortfalls(0.81, 0.61, budget + 40) == ["its training took 3.01 h, 40 s over the 3 h budget"]
    with pytest.raises(ValueError, match="clean must be an accuracy"):
        expectations.defence_shortfalls(80.4, 0.61, budget)
    with pytest.raises(ValueError, match="training_seconds"):
        expectations.defence_shortfalls(0.81, 0.61, 0)


def test_without_a_training_time_only_the_two_accuracy_bars_are_judged():
    # A wall time measured on a shared machine only bounds the cost from above, so the
    # chapter judges the accuracy bars alone; an overlong time must not sneak in.
    assert expectations.defence_shortfalls(0.81, 0.61, None) == []
    assert expectations.defence_shortfalls(0.79, 0.61, None) == ["its clean accuracy is 0.0100 short of 0.80"]
    assert len(expectations.defence_shortfalls(0.81, 0.61, 4 * 3600)) == 1
    with pytest.raises(ValueError, match="training_seconds"):
        expectations.defence_shortfalls(0.81, 0.61, 0)

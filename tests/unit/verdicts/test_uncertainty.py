"""advlib.verdicts.uncertainty against computations that do not go through SciPy's code paths.

The module takes its Wilson interval, Welch's t and t quantile from scipy.stats; these
tests check them against closed forms and hand computations (tests/unit/verdicts/test_scorecard.py and
tests/unit/runs/test_measurements.py hold the textbook values), and check the hand-counted
permutation test against SciPy's own enumeration where the two must agree, and where
they must not (a tie at a tiny gap).
"""

import math
import statistics as stdlib_statistics
import warnings

import numpy as np
import pytest
from scipy import stats as scipy_stats

from advlib.verdicts import uncertainty as statistics


# --- Wilson interval ----------------------------------------------------------------------


def test_wilson_interval_of_a_float32_accuracy_is_the_interval_of_its_count():
    # Keras reports accuracies in float32: 5980 / 10000 arrives as 0.5979999899864197, whose
    # count 5979.9998990 must be taken as 5980 images, not cut down to 5979.
    rounded = float(np.float32(0.598))
    assert rounded * 10_000 < 5980
    assert statistics.wilson_interval(rounded, 10_000) == statistics.wilson_interval(5980 / 10_000, 10_000)


def test_wilson_interval_at_another_confidence_level_matches_the_closed_form():
    # Wilson at 90%: z = 1.6448536 (the normal 95th percentile), written out by hand.
    z, p, n = 1.6448536269514722, 0.3, 200
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low, high = statistics.wilson_interval(p, n, confidence_level=0.90)
    assert low == pytest.approx(centre - half, abs=1e-12)
    assert high == pytest.approx(centre + half, abs=1e-12)


def test_wilson_interval_refuses_an_accuracy_that_is_no_count_of_the_images():
    with pytest.raises(ValueError, match="whole number of images.*0.8333 of 100 images"):
        statistics.wilson_interval(0.8333, 100)


# --- Welch's t ----------------------------------------------------------------------------


def test_welch_t_with_no_spread_on_one_side_is_finite_and_quiet():
    # The first recipe's seeds agree exactly: the standard error is the second's alone,
    # s2 / sqrt(4), and the Welch-Satterthwaite degrees of freedom are n2 - 1 = 3. SciPy's
    # "precision loss" warning about the constant side must not reach the page.
    first, second = [0.5, 0.5, 0.5], [0.40, 0.36, 0.41, 0.39]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        verdict = statistics.compare_seeds(statistics.seed_statistic(first), statistics.seed_statistic(second))
    expected = (0.5 - stdlib_statistics.mean(second)) / (stdlib_statistics.stdev(second) / 2)
    assert verdict.t_statistic == pytest.approx(expected, rel=1e-12)
    assert verdict.degrees_of_freedom == pytest.approx(3.0, rel=1e-12)


# --- t quantile ---------------------------------------------------------------------------


@pytest.mark.parametrize("probability", [0.6, 0.9, 0.975, 0.995, 0.9999])
def test_t_quantile_matches_the_closed_forms_at_one_and_two_degrees_of_freedom(probability):
    # One degree of freedom is the Cauchy distribution: tan(pi (p - 1/2)); with two,
    # (2p - 1) / sqrt(2 p (1 - p)).
    assert statistics.t_quantile(probability, 1) == pytest.approx(math.tan(math.pi * (probability - 0.5)), rel=1e-9)
    two = (2 * probability - 1) / math.sqrt(2 * probability * (1 - probability))
    assert statistics.t_quantile(probability, 2) == pytest.approx(two, rel=1e-9)


# --- permutation test ---------------------------------------------------------------------


def _absolute_gap(first, second, axis):
    return np.abs(np.mean(first, axis=axis) - np.mean(second, axis=axis))


@pytest.mark.parametrize("sizes", [(2, 2), (3, 3), (2, 5), (4, 3)])
def test_permutation_test_agrees_with_scipys_enumeration_without_ties(sizes):
    # Continuous random values: no two splits tie, so SciPy's exact test of the absolute
    # gap (alternative "greater") must give the same p-value over the same splits.
    generator = np.random.default_rng(sum(sizes))
    first, second = generator.random(sizes[0]), generator.random(sizes[1])
    ours = statistics.permutation_test(first, second)
    theirs = scipy_stats.permutation_test((first, second), _absolute_gap, permutation_type="independent",
                                          alternative="greater", n_resamples=np.inf, vectorized=True)
    assert ours.splits == len(theirs.null_distribution) == math.comb(sum(sizes), sizes[0])
    assert ours.observed == pytest.approx(float(theirs.statistic), rel=1e-12)
    assert ours.p_value == float(theirs.pvalue)


def test_a_split_that_ties_a_tiny_observed_gap_counts():
    # Sums 0.919 against 0.916: a gap of 0.001 in the means, the smallest any split of these
    # six values has (in thousandths, |2 S - 1835| / 3 is 1 only for S = 916 or 919). Four
    # splits reach it: ours, its mirror, {0.2, 0.701, 0.018} and its mirror, so every split
    # is as far apart as ours: p = 1. The other two ties come out up to 1e-16 smaller in
    # floating point, more than a relative tolerance of 100 machine epsilons of the gap
    # (2e-17) allows: SciPy 1.17's permutation test gives 0.9 here (1.11 gives 1.0).
    result = statistics.permutation_test([0.2, 0.377, 0.342], [0.197, 0.701, 0.018])
    assert result.observed == pytest.approx(0.001, abs=1e-15)
    assert result.splits == 20 and result.p_value == 1.0

"""The book's statistics: binomial intervals, error bars over seeds, Welch's t and a permutation test.

* :func:`wilson_interval`: the 95% interval of an accuracy measured on ``n`` test images;
  :func:`difference_interval`: a conservative 95% interval of the difference of two.
* The seed study trains each of a few recipes with several seeds (see
  :data:`advlib.plan.registry.SEED_STUDY`). :func:`seed_statistic` summarises one recipe's
  accuracies, :func:`compare_seeds` asks whether the difference between two recipes'
  means is larger than the spread between seeds (with Welch's t), and
  :func:`permutation_test` gives the exact permutation p-value of that difference;
  :func:`t_quantile` gives Student's t quantile for Welch's interval of the difference.

The distributions come from :mod:`scipy.stats` (the Wilson interval, Welch's t and the t
quantile); the permutation test counts its splits itself (see there why). No TensorFlow,
no files: :func:`advlib.results.measured.seed_values` feeds it the saved accuracies.

(This module's name shadows the standard library's ``statistics`` for code run from
inside ``advlib/``; it keeps its name until the package is restructured.)
"""

import itertools
import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

from advlib import validate


@dataclass(frozen=True)
class SeedStatistic:
    """Accuracies of one recipe over seeds: ``values`` (tuple of floats in [0, 1]) and their summary.

    ``mean`` is NaN without values; ``std`` is the sample standard deviation (ddof=1),
    NaN with fewer than two values; ``count`` is ``len(values)``.
    """

    values: tuple
    mean: float
    std: float
    count: int

    def describe(self, digits=3):
        """``"0.512 ± 0.014 (n = 3)"``, or ``"missing"`` without values."""
        if self.count == 0:
            return "missing"
        spread = f"{self.std:.{digits}f}" if self.count > 1 else "?"
        return f"{self.mean:.{digits}f} ± {spread} (n = {self.count})"


def seed_statistic(values):
    """A :class:`SeedStatistic` of a sequence of finite floats (accuracies, one per seed)."""
    values = tuple(float(value) for value in values)
    if any(not math.isfinite(value) for value in values):
        raise ValueError(f"seed values must be finite numbers, got {values!r}")
    array = np.asarray(values, dtype=float)
    mean = float(array.mean()) if len(array) else math.nan
    std = float(array.std(ddof=1)) if len(array) > 1 else math.nan
    return SeedStatistic(values, mean, std, len(values))


@dataclass(frozen=True)
class GapVerdict:
    """Is the gap between two recipes' mean accuracies larger than the spread between seeds?

    ``difference`` is ``first.mean - second.mean``; ``spread`` the larger of the two
    sample standard deviations; ``larger_than_spread`` whether ``|difference| > spread``
    (``None`` when either recipe has fewer than two seeds). ``t_statistic`` is Welch's t,
    ``difference / sqrt(s1**2 / n1 + s2**2 / n2)``, with ``degrees_of_freedom`` from the
    Welch-Satterthwaite formula (both NaN when undefined).
    """

    metric: str
    first: str
    second: str
    first_statistic: SeedStatistic
    second_statistic: SeedStatistic
    difference: float
    spread: float
    t_statistic: float
    degrees_of_freedom: float
    larger_than_spread: bool | None

    @property
    def verdict(self):
        """A phrase for prose: "larger than", "within" or "not yet known against" the spread."""
        if self.larger_than_spread is None:
            return "not yet known against"
        return "larger than" if self.larger_than_spread else "within"

    def describe(self):
        """One line: the gap, the spread, Welch's t and the verdict."""
        metric = {"fgsm": "FGSM"}.get(self.metric, self.metric)
        if self.larger_than_spread is None:
            return (
                f"{metric} accuracy gap {self.first} - {self.second}: needs at least two seeds of each "
                f"(have {self.first_statistic.count} and {self.second_statistic.count})"
            )
        return (
            f"{metric} accuracy gap {self.first} - {self.second}: {self.difference:+.3f}; larger seed std "
            f"{self.spread:.3f}; Welch t = {self.t_statistic:.2f} (df {self.degrees_of_freedom:.1f}): "
            f"the gap is {self.verdict} the spread between seeds"
        )


def compare_seeds(first, second, *, first_name="first", second_name="second", metric="accuracy"):
    """A :class:`GapVerdict` for two :class:`SeedStatistic` (e.g. random_at and per_epoch_at FGSM accuracy)."""
    for statistic in (first, second):
        if not isinstance(statistic, SeedStatistic):
            raise ValueError(f"compare_seeds takes two SeedStatistic (see seed_statistic), got {statistic!r}")
    difference = first.mean - second.mean
    if first.count < 2 or second.count < 2:
        return GapVerdict(metric, first_name, second_name, first, second, difference, math.nan, math.nan, math.nan, None)
    spread = max(first.std, second.std)
    if first.std > 0 or second.std > 0:
        with warnings.catch_warnings():
            # SciPy warns of "precision loss" when one recipe's seeds agree exactly; their
            # variance, 0, is exact, and the page should not show the warning.
            warnings.filterwarnings("ignore", "Precision loss", RuntimeWarning)
            welch = stats.ttest_ind(first.values, second.values, equal_var=False)
        t_statistic, degrees_of_freedom = float(welch.statistic), float(welch.df)
    else:
        # Identical seeds on both sides: any difference is infinitely many standard errors.
        t_statistic = math.copysign(math.inf, difference) if difference else math.nan
        degrees_of_freedom = math.nan
    return GapVerdict(
        metric, first_name, second_name, first, second, difference, spread, t_statistic, degrees_of_freedom,
        bool(abs(difference) > spread),
    )


def seed_summary(seed_values):
    """``{recipe: {metric: SeedStatistic}}`` of ``{recipe: {metric: [per-seed accuracies]}}``.

    The input is what :func:`advlib.results.measured.seed_values` returns.
    """
    return {
        recipe: {metric: seed_statistic(values) for metric, values in metrics.items()}
        for recipe, metrics in seed_values.items()
    }


def gap_versus_spread(seed_values, metric="fgsm", first="random_at", second="per_epoch_at"):
    """Is the gap ``first - second`` (``metric`` accuracy) larger than the spread between seeds?

    ``seed_values`` as for :func:`seed_summary`. Returns a :class:`GapVerdict`
    (``larger_than_spread`` is ``None`` until both recipes have at least two seeds).
    """
    summary = seed_summary(seed_values)
    for recipe in (first, second):
        if recipe not in summary:
            raise ValueError(f"{recipe!r} is not in the seed study: choose from {', '.join(summary)}")
    if metric not in summary[first]:
        raise ValueError(f"metric must be one of {', '.join(summary[first])}, got {metric!r}")
    return compare_seeds(summary[first][metric], summary[second][metric], first_name=first, second_name=second, metric=metric)


@dataclass(frozen=True)
class PermutationTest:
    """An exact two-sided permutation test of a difference in means.

    ``p_value``: the share of the ``splits`` ways of relabelling the pooled values whose
    absolute difference in means is at least the observed one; ``smallest_p``: the
    smallest p-value so few values allow (a split and its mirror give the same gap).
    """

    observed: float
    p_value: float
    splits: int
    smallest_p: float


def permutation_test(first, second):
    """:class:`PermutationTest` of ``mean(first) - mean(second)`` over every split of the pooled values.

    ``first`` and ``second`` are sequences of finite floats, at least one value each.
    Not ``scipy.stats.permutation_test``: it refuses a side with one value, and its tie
    tolerance (relative, 100 machine epsilons of the observed gap) can drop splits whose
    gap equals a tiny observed one up to rounding, which the absolute 1e-12 here counts
    (whether it does differs between SciPy releases).
    """
    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if len(first) < 1 or len(second) < 1 or not np.all(np.isfinite(np.concatenate([first, second]))):
        raise ValueError("permutation_test needs at least one finite value on each side")
    pooled = np.concatenate([first, second])
    observed = abs(first.mean() - second.mean())
    splits = list(itertools.combinations(range(len(pooled)), len(first)))
    gaps = np.array([abs(pooled[list(chosen)].mean() - np.delete(pooled, list(chosen)).mean()) for chosen in splits])
    # A small tolerance, so a split whose gap equals the observed one up to rounding counts.
    p_value = float(np.mean(gaps >= observed - 1e-12))
    smallest = (2 if len(first) == len(second) else 1) / len(splits)
    return PermutationTest(float(observed), p_value, len(splits), smallest)


def wilson_interval(accuracy, size, confidence_level=0.95):
    """The Wilson score interval ``(low, high)`` of an accuracy measured on ``size`` images (95% by default).

    ``accuracy`` in [0, 1], ``size`` an integer >= 1, and ``accuracy * size`` a whole
    number of images (an accuracy Keras rounded to float32 still counts). Unlike the normal
    approximation it stays inside [0, 1] and is not empty at 0 or 1. SciPy's
    ``binomtest(...).proportion_ci(method="wilson")``.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be an integer >= 1, got {size!r}")
    if not (isinstance(accuracy, (int, float, np.floating)) and 0.0 <= accuracy <= 1.0):
        raise ValueError(f"accuracy must be a number in [0, 1], got {accuracy!r}")
    correct = round(accuracy * size)
    # float32 keeps about 7 digits: 1e-6 of an image per image tolerates its rounding.
    if abs(accuracy * size - correct) > 1e-6 * size:
        raise ValueError(
            f"accuracy * size must be a whole number of images, got {accuracy!r} of {size} images "
            f"= {accuracy * size:g}: pass the accuracy measured on exactly those {size} images"
        )
    interval = stats.binomtest(correct, int(size)).proportion_ci(confidence_level, method="wilson")
    return float(interval.low), float(interval.high)


def sampling_error(accuracy, size):
    """The standard error ``sqrt(p (1 - p) / n)`` of an accuracy ``p`` measured on ``n`` images."""
    return float(math.sqrt(accuracy * (1 - accuracy) / size))


def difference_interval(first, first_size, second, second_size, scale=1.0):
    """Conservative 95% interval ``(low, high)`` of ``first - scale * second``.

    ``first`` and ``second`` are accuracies in [0, 1] on ``first_size`` and
    ``second_size`` (>= 1) test images; ``scale`` > 0. With the Wilson intervals
    (:func:`wilson_interval`) ``(l1, u1)`` and ``(l2, u2)`` the result is
    ``(l1 - scale * u2, u1 - scale * l2)``: the difference minus/plus the sum of the
    half-widths. It stays valid however the two numbers are correlated (the same test
    images, often the same model), so it is wider than a Newcombe interval for
    independent samples; it is not a Newcombe interval.
    """
    scale = validate.positive_number(scale, "scale")
    low1, high1 = wilson_interval(first, first_size)
    low2, high2 = wilson_interval(second, second_size)
    return low1 - scale * high2, high1 - scale * low2


def t_quantile(probability, df):
    """The ``probability`` quantile of Student's t with ``df`` (> 0, may be fractional) degrees of freedom.

    ``probability`` in [0.5, 0.9999], the upper quantiles two-sided intervals use;
    ``scipy.stats.t.ppf``. ``t_quantile(0.975, 2)`` is 4.3027; the Welch 95% interval of
    a difference of means is ``d ± t_quantile(0.975, df) * se``.
    """
    if isinstance(probability, bool) or not isinstance(probability, numbers.Real) or not 0.5 <= probability <= 0.9999:
        raise ValueError(f"probability must be a number in [0.5, 0.9999], got {probability!r}")
    df = validate.positive_number(df, "degrees of freedom")
    return float(stats.t.ppf(probability, df))

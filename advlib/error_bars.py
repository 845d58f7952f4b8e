"""Error bars from a few training seeds: mean, sample standard deviation, and gap versus spread.

The seed study trains each of a few recipes with several seeds (see
:data:`advlib.experiments.SEED_STUDY`). :func:`seed_statistic` summarises one recipe's
accuracies and :func:`compare_seeds` asks whether the difference between two recipes'
means is larger than the spread between seeds. Everything here is plain arithmetic on
floats (NumPy only); :mod:`advlib.measurements` feeds it the saved accuracies.
"""

import math
from dataclasses import dataclass

import numpy as np


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
    first_term, second_term = first.std**2 / first.count, second.std**2 / second.count
    standard_error = math.sqrt(first_term + second_term)
    if standard_error > 0:
        t_statistic = difference / standard_error
        degrees_of_freedom = (first_term + second_term) ** 2 / (
            first_term**2 / (first.count - 1) + second_term**2 / (second.count - 1)
        )
    else:
        # Identical seeds on both sides: any difference is infinitely many standard errors.
        t_statistic = math.copysign(math.inf, difference) if difference else math.nan
        degrees_of_freedom = math.nan
    return GapVerdict(
        metric, first_name, second_name, first, second, difference, spread, t_statistic, degrees_of_freedom,
        bool(abs(difference) > spread),
    )

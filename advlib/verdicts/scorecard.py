"""A computed reproduction scorecard: each of the report's findings, our number, its uncertainty and a verdict.

The findings and their rules are data in :mod:`advlib.verdicts.claims` (:data:`advlib.verdicts.claims.CLAIMS`,
each with a :class:`advlib.verdicts.claims.Rule`). :func:`scorecard` turns numbers into one
:class:`Row` per claim with exactly one of the four :data:`VERDICTS`;
:func:`from_saved` takes them from the saved measurements (the dicts of
:func:`advlib.results.measured.load_saved` and :func:`advlib.results.measured.seed_values`);
:func:`to_text`, :func:`to_markdown` and :func:`to_html` render the rows.

This module is plain Python and NumPy: it never imports TensorFlow, keras or an advlib
module that does, and it reads no files. The caller passes the numbers in.

Uncertainty (the arithmetic lives in :mod:`advlib.verdicts.uncertainty`)
--------------------------------------------------------------
* One accuracy (or fraction of test images, such as the share of zero gradients)
  measured on ``n`` test images: the 95% Wilson score interval
  (:func:`advlib.verdicts.uncertainty.wilson_interval`).
* ``first - scale * second`` for two such numbers: the conservative interval
  ``[low1 - scale * high2, high1 - scale * low2]`` built from the two Wilson intervals
  (:func:`advlib.verdicts.uncertainty.difference_interval`). It equals the difference plus or
  minus the sum of the two half-widths and stays valid however the two numbers are
  correlated (they usually are: the same test images, often the same model), so it is
  wider than a Newcombe interval for independent samples. It is not a Newcombe interval.
* Two numbers that come from the same predictions (the T = 1 and T = 50 students share
  weights and temperature never changes the argmax): their difference has no sampling
  error, so rules of kind :data:`~advlib.verdicts.claims.SAME` judge the point difference (the
  interval is ``(d, d)``).
* The seed study: each recipe's mean and sample standard deviation over its seeds
  (:func:`advlib.verdicts.uncertainty.seed_statistic`), Welch's t and degrees of freedom
  (:func:`advlib.verdicts.uncertainty.compare_seeds`), and the Welch 95% interval of the
  difference of means, ``d ± t_{0.975, df} * sqrt(s1²/n1 + s2²/n2)``
  (:func:`advlib.verdicts.uncertainty.t_quantile` computes the quantile).

Verdicts (see :func:`judge`; the rule kinds are those of :mod:`advlib.verdicts.claims`)
-----------------------------------------------------------------------------
* :data:`ABOVE` (``A - scale * B > minimum``): "reproduced" when the whole interval lies
  above ``minimum``; "reversed" when it lies below ``reversed_below`` (``None``: the
  claim has no opposite and is never reversed); "not reproduced" otherwise.
* :data:`WITHIN` (``|A - B| <= tolerance``): "reproduced" when the whole interval lies
  within ``[-tolerance, tolerance]``; "reversed" when it lies wholly outside (a
  difference clearly larger than the tolerance); "not reproduced" otherwise.
* :data:`SAME` (the same predictions): "reproduced" when the point difference is within
  ``tolerance`` (the report's rounding); "not reproduced" otherwise; never reversed.
* :data:`NEAR` (a headline number): "reproduced" when our value's Wilson interval
  reaches the neighbourhood ``[target - tolerance, target + tolerance]`` (the two
  intervals overlap); "not reproduced" otherwise; never reversed.
* :data:`SEED_ABOVE`: as :data:`ABOVE`, on the Welch interval of the seed study's means.
* "not tested" whenever a value, a test-set size or (for seed claims) two seeds of each
  recipe are missing.
"""

import html
import math
from dataclasses import dataclass

from advlib import validate
from advlib.verdicts import claims as report_claims, uncertainty
from advlib.verdicts.claims import ABOVE, NEAR, SAME, SEED_ABOVE, SEED_METRICS, SEED_PREFIX, WITHIN

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
REVERSED = "reversed"
NOT_TESTED = "not tested"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, REVERSED, NOT_TESTED)


@dataclass(frozen=True)
class Row:
    """One line of the scorecard.

    ``interval`` is ``(low, high)`` of the judged quantity (floats), ``None`` when not
    tested; ``verdict`` is one of :data:`VERDICTS`; ``reason`` one line with the numbers
    that decided it; ``rule`` the rule in words.
    """

    claim_id: str
    section: str
    statement: str
    report_value: str
    our_value: str
    interval: tuple | None
    verdict: str
    reason: str
    rule: str


def judge(rule, low, high):
    """``(verdict, explanation)`` for an interval ``(low, high)`` of the quantity ``rule`` judges.

    For :data:`SAME` rules pass the point difference as both ends. The explanation is a
    short phrase such as ``"the whole interval is above +0.30"``.
    """
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise ValueError(f"an interval needs finite ends with low <= high, got ({low!r}, {high!r})")
    if rule.kind in (ABOVE, SEED_ABOVE):
        if low > rule.minimum:
            return REPRODUCED, f"the whole interval is above {rule.minimum:+.2f}"
        if rule.reversed_below is not None and high < rule.reversed_below:
            return REVERSED, f"the whole interval is below {rule.reversed_below:+.2f}"
        return NOT_REPRODUCED, f"the interval reaches {rule.minimum:+.2f} or below"
    if rule.kind == WITHIN:
        tolerance = rule.tolerance
        if -tolerance <= low and high <= tolerance:
            return REPRODUCED, f"the whole interval is within ±{tolerance:.2f}"
        if low > tolerance or high < -tolerance:
            return REVERSED, f"the whole interval is outside ±{tolerance:.2f}"
        return NOT_REPRODUCED, f"the interval crosses ±{tolerance:.2f}"
    if rule.kind == SAME:
        difference = (low + high) / 2
        if abs(difference) <= rule.tolerance:
            return REPRODUCED, f"identical within ±{rule.tolerance:.4f}"
        return NOT_REPRODUCED, f"they differ by more than ±{rule.tolerance:.4f}"
    # NEAR: does our interval overlap the report's neighbourhood?
    bottom, top = rule.target - rule.tolerance, rule.target + rule.tolerance
    if high >= bottom and low <= top:
        return REPRODUCED, f"the interval reaches {bottom:.3f} to {top:.3f}"
    side = "below" if high < bottom else "above"
    return NOT_REPRODUCED, f"the whole interval is {side} {bottom:.3f} to {top:.3f}"


def _check_inputs(values, sizes, seeds):
    values = dict(values or {})
    sizes = dict(sizes or {})
    seeds = dict(seeds or {})
    values = {key: validate.fraction(value, f"values[{key!r}]") for key, value in values.items()}
    sizes = {key: validate.positive_int(size, f"sizes[{key!r}] (a number of test images)") for key, size in sizes.items()}
    checked_seeds = {}
    for recipe, metrics in seeds.items():
        if not isinstance(metrics, dict):
            raise ValueError(f"seeds[{recipe!r}] must be a dict {{'clean': [...], 'fgsm': [...]}}, got {metrics!r}")
        checked_seeds[recipe] = {}
        for metric, numbers_ in metrics.items():
            if metric not in SEED_METRICS:
                raise ValueError(f"seeds[{recipe!r}] has unknown metric {metric!r}: use {', '.join(SEED_METRICS)}")
            if isinstance(numbers_, (str, bytes)) or not hasattr(numbers_, "__iter__"):
                raise ValueError(f"seeds[{recipe!r}][{metric!r}] must be a list of accuracies, got {numbers_!r}")
            checked_seeds[recipe][metric] = [
                validate.fraction(value, f"seeds[{recipe!r}][{metric!r}][{index}]") for index, value in enumerate(numbers_)
            ]
    return values, sizes, checked_seeds


def _not_tested(claim, missing):
    return Row(claim.claim_id, claim.section, claim.statement, claim.report_value, "missing",
               None, NOT_TESTED, "missing: " + ", ".join(missing), claim.rule.describe())


def _seed_row(claim, seeds):
    recipes, missing = [], []
    for key in claim.keys:
        recipe, metric = key.removeprefix(SEED_PREFIX).rsplit(".", 1)
        found = seeds.get(recipe, {}).get(metric, [])
        if len(found) < 2:
            missing.append(f"{key} (needs 2 seeds, has {len(found)})")
        recipes.append((recipe, uncertainty.seed_statistic(found)))
    if missing:
        return _not_tested(claim, missing)
    (first_name, first), (second_name, second) = recipes
    gap = uncertainty.compare_seeds(first, second, first_name=first_name, second_name=second_name)
    standard_error = math.sqrt(first.std**2 / first.count + second.std**2 / second.count)
    if standard_error > 0:
        half = uncertainty.t_quantile(0.975, gap.degrees_of_freedom) * standard_error
        welch = f"Welch t = {gap.t_statistic:.2f}, df {gap.degrees_of_freedom:.1f}"
    else:
        half, welch = 0.0, "no spread between seeds"
    low, high = gap.difference - half, gap.difference + half
    verdict, explanation = judge(claim.rule, low, high)
    our_value = f"{first_name} {first.describe(3)} vs {second_name} {second.describe(3)}"
    reason = (
        f"{first.mean:.3f} vs {second.mean:.3f}: {gap.difference:+.3f} ({welch}; 95% interval "
        f"{low:+.3f} to {high:+.3f}): {explanation}"
    )
    return Row(claim.claim_id, claim.section, claim.statement, claim.report_value, our_value,
               (low, high), verdict, reason, claim.rule.describe())


def _row(claim, values, sizes, seeds):
    if claim.rule.kind == SEED_ABOVE:
        return _seed_row(claim, seeds)
    missing = [f"{key} ({'value' if key not in values else 'test size'})"
               for key in claim.keys if key not in values or key not in sizes]
    if missing:
        return _not_tested(claim, missing)
    rule = claim.rule
    if len(claim.keys) == 1:
        (key,) = claim.keys
        value, size = values[key], sizes[key]
        low, high = uncertainty.wilson_interval(value, size)
        verdict, explanation = judge(rule, low, high)
        our_value = f"{value:.3f} (n = {size:,})"
        reason = f"{value:.3f} (95% interval {low:.3f} to {high:.3f}): {explanation}"
        return Row(claim.claim_id, claim.section, claim.statement, claim.report_value, our_value,
                   (low, high), verdict, reason, rule.describe())
    first_key, second_key = claim.keys
    first, second = values[first_key], values[second_key]
    scaled = f"{rule.scale:g} x {second:.3f}" if rule.scale != 1 else f"{second:.3f}"
    quantity = first - rule.scale * second
    if rule.kind == SAME:
        low = high = quantity
        # Same predictions: the difference has no sampling error, and the rule's tolerance
        # is the report's rounding, so it is printed finely enough to read against it.
        interval_text = "exact: same predictions"
    else:
        low, high = uncertainty.difference_interval(first, sizes[first_key], second, sizes[second_key], rule.scale)
        interval_text = f"95% interval {low:+.3f} to {high:+.3f}"
    verdict, explanation = judge(rule, low, high)
    our_value = f"{first:.3f} vs {scaled} (n = {sizes[first_key]:,}, {sizes[second_key]:,})"
    difference = f"{quantity:+.4f}" if rule.kind == SAME else f"{quantity:+.3f}"
    reason = f"{first:.3f} vs {scaled}: {difference} ({interval_text}): {explanation}"
    return Row(claim.claim_id, claim.section, claim.statement, claim.report_value, our_value,
               (low, high), verdict, reason, rule.describe())


def scorecard(values=None, sizes=None, seeds=None, claims=None):
    """One :class:`Row` per claim, in the order of :data:`advlib.verdicts.claims.CLAIMS` (or of ``claims``).

    ``values``: ``{measurement key: float in [0, 1]}`` (accuracies or fractions of test
    images); ``sizes``: ``{measurement key: int >= 1}``, the number of test images each
    value was measured on; ``seeds``: ``{recipe: {"clean": [floats in [0, 1]], "fgsm":
    [...]}}``, one accuracy per training seed (recipes "baseline", "random_at",
    "per_epoch_at"); ``claims``: claim ids to judge (default: all). Any of them may be
    ``None`` or lack keys: a claim missing a value, a size or two seeds of each recipe
    is "not tested". Raises ValueError for a value outside [0, 1], a size below 1 or an
    unknown claim id.
    """
    values, sizes, seeds = _check_inputs(values, sizes, seeds)
    if isinstance(claims, str):
        claims = [claims]
    chosen = report_claims.CLAIMS if claims is None else [report_claims.get_claim(claim_id) for claim_id in claims]
    return [_row(claim, values, sizes, seeds) for claim in chosen]


def from_saved(saved, seed_values, claims=None):
    """:func:`scorecard` of saved measurements: one :class:`Row` per claim.

    ``saved`` is :func:`advlib.results.measured.load_saved`'s ``{key: {"value": float,
    "test_size": int, ...}}``; ``seed_values`` is :func:`advlib.results.measured.seed_values`'s
    ``{recipe: {"clean": [...], "fgsm": [...]}}`` (either may be ``None``). Only the keys
    the claims read are passed on, so an unrelated entry never stops the scorecard; an
    entry without a ``"test_size"`` leaves its claims "not tested". Pure: reads no files.
    """
    wanted = {key for claim in report_claims.CLAIMS for key in claim.keys}
    entries = {key: entry for key, entry in (saved or {}).items() if key in wanted}
    values = {key: entry["value"] for key, entry in entries.items() if entry.get("value") is not None}
    sizes = {key: entry["test_size"] for key, entry in entries.items() if entry.get("test_size") is not None}
    return scorecard(values, sizes, seed_values, claims)


def count(rows):
    """``{verdict: number of rows}`` for every verdict in :data:`VERDICTS` (zeros included)."""
    totals = dict.fromkeys(VERDICTS, 0)
    for row in rows:
        if row.verdict not in totals:
            raise ValueError(f"row {row.claim_id!r} has unknown verdict {row.verdict!r}")
        totals[row.verdict] += 1
    return totals


# The verdict comes second, so that on a narrow page it is seen before the table scrolls.
COLUMNS = ("Claim", "Verdict", "Ours", "95% interval", "Report", "Statement", "Section", "Rule", "Reason")


def _interval_text(row):
    if row.interval is None:
        return "-"
    low, high = row.interval
    if low == high:
        return f"{low:+.4f} (exact)"
    return f"{low:+.3f} to {high:+.3f}"


def to_text(rows):
    """The rows as plain text: a line per claim (id, verdict, our value, interval, reason), then the counts."""
    width = max([len("claim"), *(len(row.claim_id) for row in rows)])
    verdict_width = max(len(verdict) for verdict in VERDICTS)
    lines = [f"{'claim':<{width}}  {'verdict':<{verdict_width}}  ours; 95% interval; reason"]
    for row in rows:
        lines.append(f"{row.claim_id:<{width}}  {row.verdict:<{verdict_width}}  "
                     f"{row.our_value}; {_interval_text(row)}; {row.reason}")
    totals = count(rows)
    lines.append(f"{len(rows)} claims: " + ", ".join(f"{totals[verdict]} {verdict}" for verdict in VERDICTS))
    return "\n".join(lines) + "\n"


def _cells(row):
    return (row.claim_id, row.verdict, row.our_value, _interval_text(row), row.report_value,
            row.statement, row.section, row.rule, row.reason)


def _markdown_escape(text):
    text = " ".join(str(text).split())
    for character in ("\\", "|", "*", "_", "`", "<", ">", "[", "]"):
        text = text.replace(character, "\\" + character)
    return text


def to_markdown(rows):
    """The rows as one Markdown table (text escaped: pipes, emphasis, brackets, newlines)."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_markdown_escape(cell) for cell in _cells(row)) + " |" for row in rows]
    return "\n".join(lines) + "\n"


# The book's table: four columns that fit a page, each with a small second line (the
# claim's id and section, the interval, the rule), instead of COLUMNS side by side.
HTML_COLUMNS = ("Finding", "Report", "Ours (95% interval)", "Verdict (rule)")


def _html_cell(main, detail):
    return f"<td>{html.escape(str(main))}<br><small>{html.escape(str(detail))}</small></td>"


def to_html(rows):
    """The rows as one HTML ``<table>`` of :data:`HTML_COLUMNS` (every cell HTML-escaped; the verdict is also a class)."""
    head = "".join(f"<th>{html.escape(column)}</th>" for column in HTML_COLUMNS)
    body = []
    for row in rows:
        cells = (
            _html_cell(row.statement, f"{row.claim_id}, {row.section}")
            + f"<td>{html.escape(str(row.report_value))}</td>"
            + _html_cell(row.our_value, _interval_text(row))
            + f"<td><strong>{html.escape(row.verdict)}</strong><br><small>{html.escape(str(row.rule))}</small></td>"
        )
        css = html.escape(row.verdict.replace(" ", "-"), quote=True)
        body.append(f'<tr class="{css}">{cells}</tr>')
    return (
        '<table class="advlib-scorecard">\n'
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>\n"
    )

"""What we expect our measurements to show, and chapter 11's goal, each checked against saved numbers.

Each :class:`Expectation` states in words what should hold, with its thresholds, names
the measurement keys it reads (from :data:`advlib.plan.catalogue.MEASUREMENTS_BY_KEY`)
and carries the test of those values. :func:`check` reads the saved measurements of a
profile (never training or measuring anything) and says for each expectation whether it
held, did not hold, or is not measured yet; :func:`format_expectations` writes the same
as a text block for ``python -m advlib report``.

The thresholds are constants of :mod:`advlib.verdicts.claims`, their one home, so the statements,
the claims, the tests and the book all use the same numbers. Eight of the nine
expectations restate one or two claims (``Expectation.claims`` names them) as a point
comparison; where the two disagree, the claim's rule is the one the chapters use.
:func:`goal_checklist` applies chapter 11's goal for a defence that holds (clean
accuracy, FGSM above the report's best, PGD and EOT-PGD close to FGSM) to one candidate.
Nothing here imports TensorFlow or measures anything.
"""

import math
import numbers
from dataclasses import dataclass
from typing import Callable

from advlib.plan import catalogue, registry
from advlib.results import measured
# The thresholds live in advlib.verdicts.claims (each comment there says why its number). Chapter 11
# and advlib.runs.defence read CLEAN_GOAL, FEW_POINTS and TRAINING_HOURS_GOAL from here too.
from advlib.verdicts.claims import (
    ADVERSARIAL_GAIN_MINIMUM,
    CLEAN_GOAL,
    CROSS_SET_TOLERANCE,
    FLOAT_SLACK,
    LARGE_EFFECT,
    NEARLY_ALL,
    RANDOM_SIGN_TOLERANCE,
    SIMILAR_TOLERANCE,
    TRAINING_HOURS_GOAL,
)
from advlib.verdicts.claims import SIMILAR_TOLERANCE as FEW_POINTS

HELD = "held"
DID_NOT_HOLD = "did not hold"
NOT_MEASURED = "not measured yet"
STATUSES = (HELD, DID_NOT_HOLD, NOT_MEASURED)


@dataclass(frozen=True)
class Expectation:
    """One thing we expect to hold.

    ``key`` is a short label such as ``"1a"`` (the issue's item number and part);
    ``statement`` says in words what should hold, thresholds included; ``measurements``
    is the tuple of measurement keys it reads; ``check`` takes ``{key: float in [0, 1]}``
    for those keys and returns ``True`` when the expectation holds; ``detail`` takes the
    same dict and returns one line with the numbers compared; ``claims`` the ids of the
    :data:`advlib.verdicts.claims.CLAIMS` it restates (empty when it restates none).
    """

    key: str
    statement: str
    measurements: tuple
    check: Callable[[dict], bool]
    detail: Callable[[dict], str]
    claims: tuple = ()


@dataclass(frozen=True)
class ExpectationResult:
    """The verdict on one :class:`Expectation`.

    ``status`` is one of :data:`STATUSES`; ``values`` maps each measurement key that is
    saved to its value (a float in [0, 1]); ``detail`` is one line with the numbers, or
    the missing keys when the status is :data:`NOT_MEASURED`.
    """

    expectation: Expectation
    status: str
    values: dict
    detail: str


def _at_least(value, minimum):
    return value >= minimum - FLOAT_SLACK


def _within(difference, tolerance):
    return abs(difference) <= tolerance + FLOAT_SLACK


def _adversarial_training(name):
    """Expectation 2 for one adversarially trained model ``name`` (a registry name)."""
    keys = ("baseline.clean", "baseline.fgsm", f"{name}.clean", f"{name}.fgsm")

    def holds(values):
        gain = values[f"{name}.fgsm"] - values["baseline.fgsm"]
        clean_difference = values[f"{name}.clean"] - values["baseline.clean"]
        return _at_least(gain, ADVERSARIAL_GAIN_MINIMUM) and _within(clean_difference, SIMILAR_TOLERANCE)

    def detail(values):
        gain = values[f"{name}.fgsm"] - values["baseline.fgsm"]
        clean_difference = values[f"{name}.clean"] - values["baseline.clean"]
        return (
            f"FGSM {values[f'{name}.fgsm']:.3f} vs baseline {values['baseline.fgsm']:.3f} "
            f"(gain {gain:+.3f}, needs >= {ADVERSARIAL_GAIN_MINIMUM:+.2f}); clean {values[f'{name}.clean']:.3f} "
            f"vs {values['baseline.clean']:.3f} (difference {clean_difference:+.3f}, needs within "
            f"±{SIMILAR_TOLERANCE:.2f})"
        )

    statement = (
        f"{name} scores at least {ADVERSARIAL_GAIN_MINIMUM:.2f} above the baseline on its own FGSM set, "
        f"with clean accuracy within {SIMILAR_TOLERANCE:.2f} of the baseline's"
    )
    return keys, holds, detail, statement


def _build_expectations():
    random_keys, random_holds, random_detail, random_statement = _adversarial_training("random_at")
    epoch_keys, epoch_holds, epoch_detail, epoch_statement = _adversarial_training("per_epoch_at")
    return [
        Expectation(
            "1a",
            f"The baseline's clean accuracy is at least {CLEAN_GOAL:.2f}",
            ("baseline.clean",),
            lambda v: _at_least(v["baseline.clean"], CLEAN_GOAL),
            lambda v: f"clean {v['baseline.clean']:.3f} (needs >= {CLEAN_GOAL:.2f})",
        ),
        Expectation(
            "1b",
            f"FGSM lowers the baseline's accuracy by at least {LARGE_EFFECT:.2f}",
            ("baseline.clean", "baseline.fgsm"),
            lambda v: _at_least(v["baseline.clean"] - v["baseline.fgsm"], LARGE_EFFECT),
            lambda v: (
                f"clean {v['baseline.clean']:.3f}, FGSM {v['baseline.fgsm']:.3f} "
                f"(drop {v['baseline.clean'] - v['baseline.fgsm']:.3f}, needs >= {LARGE_EFFECT:.2f})"
            ),
            claims=("fgsm-drop",),
        ),
        Expectation(
            "1c",
            f"Random signs of the same size leave the baseline within {RANDOM_SIGN_TOLERANCE:.2f} of its clean accuracy",
            ("baseline.clean", "baseline.random_sign"),
            lambda v: _within(v["baseline.random_sign"] - v["baseline.clean"], RANDOM_SIGN_TOLERANCE),
            lambda v: (
                f"random-sign {v['baseline.random_sign']:.3f} vs clean {v['baseline.clean']:.3f} "
                f"(difference {v['baseline.random_sign'] - v['baseline.clean']:+.3f}, "
                f"needs within ±{RANDOM_SIGN_TOLERANCE:.2f})"
            ),
            claims=("random-sign-control",),
        ),
        Expectation("2a", random_statement, random_keys, random_holds, random_detail,
                    claims=("random-at-gain", "random-at-clean-similar")),
        Expectation("2b", epoch_statement, epoch_keys, epoch_holds, epoch_detail,
                    claims=("per-epoch-gain", "per-epoch-clean-similar")),
        Expectation(
            "3a",
            f"At T = 1, at least {NEARLY_ALL:.2f} of the distilled student's FGSM gradients are exactly zero",
            ("dd_student_t1.zero_gradients",),
            lambda v: _at_least(v["dd_student_t1.zero_gradients"], NEARLY_ALL),
            lambda v: (
                f"zero-gradient share {v['dd_student_t1.zero_gradients']:.3f} "
                f"(needs >= {NEARLY_ALL:.2f})"
            ),
            claims=("t1-zero-gradients",),
        ),
        Expectation(
            "3b",
            "On the T = 50 student's FGSM set, the student at T = 1 scores within "
            f"{CROSS_SET_TOLERANCE:.2f} of what the T = 50 student scores",
            ("dd_student_t1.on_t50_set", "dd_student_t50.fgsm"),
            lambda v: _within(v["dd_student_t1.on_t50_set"] - v["dd_student_t50.fgsm"], CROSS_SET_TOLERANCE),
            lambda v: (
                f"T = 1 on that set {v['dd_student_t1.on_t50_set']:.3f} vs T = 50 {v['dd_student_t50.fgsm']:.3f} "
                f"(difference {v['dd_student_t1.on_t50_set'] - v['dd_student_t50.fgsm']:+.3f}, "
                f"needs within ±{CROSS_SET_TOLERANCE:.2f})"
            ),
            claims=("t1-cross-set",),
        ),
        Expectation(
            "4",
            "The variant's student (T = 4) scores higher than its teacher (T = 1) on its own FGSM set",
            ("variant_student_t4.fgsm", "variant_teacher_t1.fgsm"),
            lambda v: v["variant_student_t4.fgsm"] > v["variant_teacher_t1.fgsm"],
            lambda v: f"student {v['variant_student_t4.fgsm']:.3f} vs teacher {v['variant_teacher_t1.fgsm']:.3f} (needs higher)",
            claims=("variant-student-beats-teacher",),
        ),
        Expectation(
            "5",
            "Input noise raises the final model's accuracy on its own FGSM set",
            ("final_student_noise.fgsm", "final_student.fgsm"),
            lambda v: v["final_student_noise.fgsm"] > v["final_student.fgsm"],
            lambda v: f"with noise {v['final_student_noise.fgsm']:.3f} vs without {v['final_student.fgsm']:.3f} (needs higher)",
            claims=("noise-final",),
        ),
    ]


EXPECTATIONS = _build_expectations()
EXPECTATIONS_BY_KEY = {expectation.key: expectation for expectation in EXPECTATIONS}


def get(key):
    """The :class:`Expectation` labelled ``key`` (a string such as ``"2a"``)."""
    if key not in EXPECTATIONS_BY_KEY:
        raise ValueError(f"unknown expectation {key!r}: choose one of {', '.join(EXPECTATIONS_BY_KEY)}")
    return EXPECTATIONS_BY_KEY[key]


def evaluate(expectation, values):
    """An :class:`ExpectationResult` for ``expectation`` from ``values`` (``{key: float in [0, 1]}``).

    Keys the expectation does not read are ignored; when one it reads is missing the
    status is :data:`NOT_MEASURED`. A value that is not a finite number in [0, 1] is
    refused with ``ValueError``, since every measurement it reads is an accuracy or share.
    """
    used = {}
    for key in expectation.measurements:
        if key not in values:
            continue
        value = values[key]
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or not 0 <= value <= 1:
            raise ValueError(f"expectation {expectation.key}: {key} must be a number in [0, 1], got {value!r}")
        used[key] = float(value)
    missing = [key for key in expectation.measurements if key not in used]
    if missing:
        return ExpectationResult(expectation, NOT_MEASURED, used, f"missing {', '.join(missing)}")
    status = HELD if expectation.check(used) else DID_NOT_HOLD
    return ExpectationResult(expectation, status, used, expectation.detail(used))


def check(profile):
    """The verdict on every expectation, in order, from the profile's saved measurements.

    ``profile`` is a profile name (``"quick"``, ``"full"``, ``"test"``) or a
    :class:`advlib.plan.registry.Profile`.
    Reads :func:`advlib.results.measured.load_saved` only: nothing is trained or measured.
    Returns a list of :class:`ExpectationResult`.
    """
    values = measured.values(profile)
    return [evaluate(expectation, values) for expectation in EXPECTATIONS]


def count(results, status=HELD):
    """How many of ``results`` (a list of :class:`ExpectationResult`) have ``status``."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}: choose one of {', '.join(map(repr, STATUSES))}")
    return sum(result.status == status for result in results)


def format_expectations(profile):
    """The verdicts of :func:`check` as a text block: a count, then each statement and its numbers."""
    profile = registry.get_profile(profile)
    results = check(profile)
    counts = ", ".join(f"{count(results, status)} {status}" for status in STATUSES)
    lines = [f"What we expected, and what held (profile {profile.name}), {len(results)} expectations: {counts}"]
    for result in results:
        lines.append(f"{result.expectation.key:<3} {result.status:<17} {result.expectation.statement}")
        lines.append(f"{'':<21} {result.detail}")
    return "\n".join(lines)


# Chapter 11's goal for a defence that holds: a clean-accuracy floor (CLEAN_GOAL), FGSM and
# the AutoAttack-style worst case above the report's best number (its noisy final model
# under FGSM, on the whole test set), and stronger attacks within "a few points"
# (FEW_POINTS) of FGSM on the same images (no masking), trained within TRAINING_HOURS_GOAL.
GOAL_SUFFIXES = ("clean", "fgsm", "fgsm_subset", "pgd", "eot_pgd", "worst_case", "worst_case_fgsm")


@dataclass(frozen=True)
class GoalCondition:
    """One condition of the goal for one candidate: its wording, our value, whether it is met.

    ``met`` is None (and ``value`` may be None) for a condition whose measurement is not
    made yet: the full-profile worst case of a candidate still being computed.

    ``whole_test_set`` says the value was measured on every test image (shown with four
    decimals, so that a value just below a bar never prints as equal to it).
    """

    goal: str
    value: float
    met: bool
    whole_test_set: bool


def goal_checklist(name, values, eps):
    """The :class:`GoalCondition` list of candidate ``name`` from ``values`` (``{key: float}``).

    ``values`` must hold ``<name>.`` followed by each of :data:`GOAL_SUFFIXES`: clean and
    FGSM accuracy on the whole test set, like the report; FGSM, PGD and EOT-PGD on the
    attack subset; the worst case (:mod:`advlib.evaluation.worst_case`) and FGSM on the worst case's
    stratified subset. ``eps`` is the attack's eps (for the wording).
    """
    missing = [f"{name}.{suffix}" for suffix in GOAL_SUFFIXES if f"{name}.{suffix}" not in values]
    if missing:
        raise ValueError(f"goal_checklist needs the measurements {', '.join(missing)}")
    clean, fgsm, fgsm_subset, pgd, eot, worst, worst_fgsm = (values[f"{name}.{suffix}"] for suffix in GOAL_SUFFIXES)
    report_best = catalogue.report_value("final_student_noise.fgsm")
    # A worst case not computed yet (None) leaves its two conditions unchecked (met None).
    unknown = worst is None or worst_fgsm is None
    return [
        GoalCondition(f"clean accuracy >= {CLEAN_GOAL:g}", clean, _at_least(clean, CLEAN_GOAL), True),
        GoalCondition(f"FGSM accuracy (eps = {eps:g}) > the report's best, {report_best:.3f}", fgsm, fgsm > report_best, True),
        GoalCondition(f"PGD accuracy within {FEW_POINTS:g} of FGSM accuracy (subset)", pgd, _at_least(pgd, fgsm_subset - FEW_POINTS), False),
        GoalCondition(f"EOT-PGD accuracy within {FEW_POINTS:g} of FGSM accuracy (subset)", eot, _at_least(eot, fgsm_subset - FEW_POINTS), False),
        GoalCondition(f"worst-case accuracy > the report's best, {report_best:.3f} (stratified subset)", worst,
                      None if unknown else worst > report_best, False),
        GoalCondition(f"worst-case accuracy within {FEW_POINTS:g} of FGSM accuracy (stratified subset)", worst,
                      None if unknown else _at_least(worst, worst_fgsm - FEW_POINTS), False),
    ]


def goal_met(checklist):
    """Whether every condition of a :func:`goal_checklist` is met (an unchecked one is not)."""
    return all(condition.met is True for condition in checklist)


def defence_shortfalls(clean, worst_case, training_seconds=None):
    """How the chosen defence misses the goal on the test set: a list of phrases, empty if it meets it.

    ``clean``: accuracy on the whole test set, in [0, 1]; ``worst_case``: the worst-case
    accuracy on the stratified subset, in [0, 1], which must lie above the report's best
    number; ``training_seconds``: the summed epoch wall time, at most
    :data:`TRAINING_HOURS_GOAL` hours, or ``None`` to judge only the two accuracy bars (a
    wall time measured on a shared machine only bounds the training time from above).
    Each phrase says by how much, e.g. ``"its worst case is 0.045 short of 0.598"``.
    """
    for value, label in ((clean, "clean"), (worst_case, "worst_case")):
        if not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:
            raise ValueError(f"{label} must be an accuracy in [0, 1], got {value!r}")
    if training_seconds is not None and (not isinstance(training_seconds, numbers.Real) or training_seconds <= 0):
        raise ValueError(f"training_seconds must be a positive number of seconds, got {training_seconds!r}")
    report_best = catalogue.report_value("final_student_noise.fgsm")
    shortfalls = []
    if not _at_least(clean, CLEAN_GOAL):
        shortfalls.append(f"its clean accuracy is {CLEAN_GOAL - clean:.4f} short of {CLEAN_GOAL:.2f}")
    if not worst_case > report_best:
        shortfalls.append(f"its worst case is {report_best - worst_case:.3f} short of {report_best:.3f}")
    if training_seconds is None:
        return shortfalls
    hours = training_seconds / 3600.0
    over = training_seconds - TRAINING_HOURS_GOAL * 3600.0
    if over > FLOAT_SLACK:
        # Minutes or seconds, not hours: a few minutes over 3 h would print as "3.0 h".
        amount = f"{over / 60:.0f} minutes" if over >= 90 else f"{over:.0f} s"
        shortfalls.append(f"its training took {hours:.2f} h, {amount} over the {TRAINING_HOURS_GOAL:g} h budget")
    return shortfalls

"""The report's findings as data: each a comparison our measurements can test, with the rule that judges it.

:data:`CLAIMS` lists the report's findings, each phrased as a comparison our
measurements can test (the measurement keys are those of
:data:`advlib.plan.catalogue.MEASUREMENTS_BY_KEY`). Every claim carries its rule as data
(:class:`Rule`): which quantity is judged, the minimum effect or tolerance the claim
states, and when it counts as reversed. The thresholds below are the numbers those
rules use, and the one home of every threshold of a verdict or of a chapter's reading
(:mod:`advlib.verdicts.expectations` and the chapters import them; the masking audit's flags keep
theirs in :mod:`advlib.evaluation.audit`, as the defaults of its parameters). :mod:`advlib.verdicts.scorecard`
judges the claims (its docstring describes each rule kind's verdicts and the intervals).

Plain Python: no NumPy arrays, no TensorFlow, no files.
"""

from dataclasses import dataclass

from advlib.plan import catalogue

# Rule kinds.
ABOVE = "above"
WITHIN = "within"
SAME = "same"
NEAR = "near"
SEED_ABOVE = "seed_above"
RULE_KINDS = (ABOVE, WITHIN, SAME, NEAR, SEED_ABOVE)

# ---------------------------------------------------------------------- thresholds
# Every number a verdict or a reading is judged by is defined here, once: the claims'
# rules below, the expectations and chapter 11's goal (advlib.verdicts.expectations imports them)
# and the chapters read these constants. tests/package/test_thresholds.py checks that no other
# module defines one again and that no chapter types one into its code.

# "About equal", "barely changes", "similar", "negligible", "about 0.204", "within a few
# points": the report uses these words for gaps of up to 0.012. On 10,000 images the
# conservative interval of a difference is about ±0.016 wide, so a tolerance must be
# larger than that before such a claim can be reproduced at all; 0.03 is. A headline
# number is matched when our interval reaches the report's value ± this; chapter 11's
# goal reads "a few points" (advlib.verdicts.expectations.FEW_POINTS) as this too.
SIMILAR_TOLERANCE = 0.03
# A finding the report presents as large (FGSM's drop of 0.62, the T = 1 student's jump
# of 0.42): at least 0.30.
LARGE_EFFECT = 0.30
# "About twice as well": at least 1.5 times the baseline's FGSM accuracy.
TWICE_FACTOR = 1.5
# "Nearly all" and "many" gradients exactly zero; below the reversal bounds the opposite
# holds. "Many" we read as at least "most", a half.
NEARLY_ALL = 0.90
MOST = 0.50
ALMOST_NONE = 0.05
# Two numbers from the same predictions are "identical" within the report's rounding.
SAME_TOLERANCE = 0.0005
# The report's example soft label put about 0.99 of its mass on one class; chapter 5
# counts the soft labels that put more than this on their top class (nearly one-hot).
NEARLY_ONE_HOT = 0.99
# A reasonable CIFAR-10 classifier, the least a model worth attacking (expectation 1a)
# or a defence worth choosing (chapter 11's goal, advlib.runs.defence) keeps: clean accuracy.
CLEAN_GOAL = 0.80
# Chapter 11's training budget of a defence candidate: 3 hours of this project's 2-core
# CPU, read as the sum of the wall-clock times of its epochs (wall_time_seconds).
TRAINING_HOURS_GOAL = 3.0
# The expectations' own point readings, where they differ from the claim they restate
# (advlib.verdicts.expectations names the claim): random signs leave the clean accuracy within
# 0.02 (the claim allows SIMILAR_TOLERANCE); adversarial training gains at least 0.05
# (the claim: any gain its interval shows); the students that share weights score
# within 0.02 of each other on the same set (the claim: SAME_TOLERANCE).
RANDOM_SIGN_TOLERANCE = 0.02
ADVERSARIAL_GAIN_MINIMUM = 0.05
CROSS_SET_TOLERANCE = 0.02
# A difference computed in floating point (0.83 - 0.53, say) may land a hair below the
# threshold it equals on paper; this slack counts such a value as on the threshold.
FLOAT_SLACK = 1e-9

# Seed claims name their inputs "seeds:<recipe>.<metric>".
SEED_PREFIX = "seeds:"
SEED_METRICS = ("clean", "fgsm")


@dataclass(frozen=True)
class Rule:
    """How a claim is judged (:mod:`advlib.verdicts.scorecard`'s docstring gives each kind's verdicts).

    ``kind`` is one of :data:`RULE_KINDS`. ``minimum`` (ABOVE, SEED_ABOVE) is the effect
    the whole interval must exceed; ``reversed_below`` (ABOVE, SEED_ABOVE) the bound the
    whole interval must fall below for "reversed", ``None`` when the claim cannot be
    reversed; ``tolerance`` (WITHIN, SAME, NEAR) a half-width >= 0; ``target`` (NEAR)
    the report's number in [0, 1]; ``scale`` (> 0) multiplies the second key.
    """

    kind: str
    minimum: float = 0.0
    reversed_below: float | None = 0.0
    tolerance: float = 0.0
    target: float | None = None
    scale: float = 1.0

    def __post_init__(self):
        if self.kind not in RULE_KINDS:
            raise ValueError(f"unknown rule kind {self.kind!r}: choose one of {', '.join(RULE_KINDS)}")
        if not self.tolerance >= 0:
            raise ValueError(f"a rule's tolerance must be >= 0, got {self.tolerance!r}")
        if not self.scale > 0:
            raise ValueError(f"a rule's scale must be > 0, got {self.scale!r}")
        if self.kind == NEAR and (self.target is None or not 0 <= self.target <= 1):
            raise ValueError(f"a {NEAR!r} rule needs a target in [0, 1], got {self.target!r}")

    def describe(self):
        """The rule in words, with its numbers."""
        if self.kind in (ABOVE, SEED_ABOVE):
            interval = "Welch 95% interval of the mean difference" if self.kind == SEED_ABOVE else "95% interval"
            text = f"reproduced if the {interval} lies above {self.minimum:+.2f}"
            if self.reversed_below is None:
                return text + "; never reversed"
            return text + f"; reversed if it lies below {self.reversed_below:+.2f}"
        if self.kind == WITHIN:
            return (
                f"reproduced if the 95% interval lies within ±{self.tolerance:.2f}; "
                f"reversed if it lies wholly outside"
            )
        if self.kind == SAME:
            return f"same predictions: reproduced if the difference is within ±{self.tolerance:.4f}; never reversed"
        return (
            f"reproduced if our 95% interval reaches {self.target:.3f} ± {self.tolerance:.2f} "
            f"({self.target - self.tolerance:.3f} to {self.target + self.tolerance:.3f}); never reversed"
        )


@dataclass(frozen=True)
class Claim:
    """One finding of the report, as a comparison our numbers can test.

    ``claim_id`` is a short unique label; ``section`` where the report makes it;
    ``statement`` the finding in our words; ``report_value`` the report's number(s) as
    text; ``keys`` one or two measurement keys (the quantity is ``keys[0]``, or
    ``keys[0] - rule.scale * keys[1]``), or for seed claims two ``"seeds:<recipe>.<metric>"``;
    ``rule`` the :class:`Rule` that judges it. ``report_value`` lists the report's
    numbers in the order of ``keys``, so that it reads beside ours. ``book_check`` is
    true for a test the book adds beyond what the report measured (a seed study, a
    hypothesis the report proposed but did not run, an attack it only argued about).
    """

    claim_id: str
    section: str
    statement: str
    report_value: str
    keys: tuple
    rule: Rule
    book_check: bool = False

    def __post_init__(self):
        expected = (2,) if self.rule.kind in (SAME, SEED_ABOVE, WITHIN) else (1,) if self.rule.kind == NEAR else (1, 2)
        if len(self.keys) not in expected:
            raise ValueError(f"claim {self.claim_id!r}: a {self.rule.kind!r} rule takes {expected} keys, got {self.keys!r}")
        is_seed = [key.startswith(SEED_PREFIX) for key in self.keys]
        if any(is_seed) != (self.rule.kind == SEED_ABOVE) or any(is_seed) != all(is_seed):
            raise ValueError(f"claim {self.claim_id!r}: only {SEED_ABOVE!r} rules, and all their keys, use {SEED_PREFIX!r}")


def _above(minimum=0.0, reversed_below=0.0, scale=1.0):
    return Rule(ABOVE, minimum=minimum, reversed_below=reversed_below, scale=scale)


def _seeds(recipe, metric="fgsm"):
    return f"{SEED_PREFIX}{recipe}.{metric}"


WITHIN_SIMILAR = Rule(WITHIN, tolerance=SIMILAR_TOLERANCE)
SAME_PREDICTIONS = Rule(SAME, tolerance=SAME_TOLERANCE)
SEEDS_ABOVE = Rule(SEED_ABOVE, minimum=0.0, reversed_below=0.0)

CLAIMS = (
    # Section 5: the baseline and the random-sign control.
    Claim("fgsm-drop", "Section 5", "FGSM at eps 0.01 costs the baseline a large part of its clean accuracy.",
          "0.828 -> 0.204 (-0.624)", ("baseline.clean", "baseline.fgsm"), _above(LARGE_EFFECT)),
    Claim("random-sign-control", "Section 5",
          "Random signs of the same size leave the baseline's accuracy about where it was on clean images.",
          "0.830 vs 0.828", ("baseline.random_sign", "baseline.clean"), WITHIN_SIMILAR),
    Claim("fgsm-not-noise", "Section 5",
          "The baseline does far worse on its FGSM set than on the random-sign set, so the drop comes from the gradient.",
          "0.830 vs 0.204", ("baseline.random_sign", "baseline.fgsm"), _above(LARGE_EFFECT)),
    Claim("baseline-headline", "Abstract", "The baseline scores about 0.204 on its FGSM set.",
          "0.204", ("baseline.fgsm",), Rule(NEAR, tolerance=SIMILAR_TOLERANCE, target=catalogue.report_value("baseline.fgsm"))),
    # Section 6 / Table 2: adversarial training.
    Claim("random-at-gain", "Table 2", "Training on random-sign copies raises FGSM accuracy above the baseline's.",
          "0.446 vs 0.204", ("random_at.fgsm", "baseline.fgsm"), _above()),
    Claim("per-epoch-gain", "Table 2",
          "Training on FGSM copies made afresh each epoch raises FGSM accuracy above the baseline's.",
          "0.388 vs 0.204", ("per_epoch_at.fgsm", "baseline.fgsm"), _above()),
    Claim("random-at-twice", "Section 6",
          "The random-sign model reaches about twice the baseline's FGSM accuracy (read: at least 1.5 times).",
          "0.446 = 2.2 x 0.204", ("random_at.fgsm", "baseline.fgsm"), _above(0.0, None, TWICE_FACTOR)),
    Claim("per-epoch-twice", "Section 6",
          "The per-epoch model reaches about twice the baseline's FGSM accuracy (read: at least 1.5 times).",
          "0.388 = 1.9 x 0.204", ("per_epoch_at.fgsm", "baseline.fgsm"), _above(0.0, None, TWICE_FACTOR)),
    Claim("random-at-clean-similar", "Section 6", "Random-sign training leaves clean accuracy close to the baseline's.",
          "0.830 vs 0.828", ("random_at.clean", "baseline.clean"), WITHIN_SIMILAR),
    Claim("per-epoch-clean-similar", "Section 6", "Per-epoch FGSM training leaves clean accuracy close to the baseline's.",
          "0.818 vs 0.828", ("per_epoch_at.clean", "baseline.clean"), WITHIN_SIMILAR),
    Claim("order-models", "Table 2", "The random-sign model beats the per-epoch model on FGSM (the two main models).",
          "0.446 vs 0.388 (+0.058)", ("random_at.fgsm", "per_epoch_at.fgsm"), _above()),
    Claim("order-seeds", "Section 6 (seed study)",
          "Random-sign training beats per-epoch training on FGSM beyond the spread between training seeds.",
          "+0.058 (one model each)", (_seeds("random_at"), _seeds("per_epoch_at")), SEEDS_ABOVE, book_check=True),
    Claim("random-at-gain-seeds", "Table 2 (seed study)",
          "Random-sign training beats the baseline recipe on FGSM beyond the spread between seeds.",
          "0.446 vs 0.204 (one model each)", (_seeds("random_at"), _seeds("baseline")), SEEDS_ABOVE, book_check=True),
    Claim("per-epoch-gain-seeds", "Table 2 (seed study)",
          "Per-epoch FGSM training beats the baseline recipe on FGSM beyond the spread between seeds.",
          "0.388 vs 0.204 (one model each)", (_seeds("per_epoch_at"), _seeds("baseline")), SEEDS_ABOVE, book_check=True),
    Claim("fresh-random-hypothesis", "Section 6 (proposed)",
          "If changing the training copies each epoch hurts, fresh random copies every epoch score "
          "below one fixed set on FGSM.",
          "hypothesis, not run", ("random_at.fgsm", "random_every_epoch.fgsm"), _above(), book_check=True),
    # Section 7.1 / Table 3: defensive distillation at T = 50.
    Claim("dd-teacher-adversarial", "Table 3",
          "The adversarially trained T = 50 teacher does better than the baseline on its FGSM set.",
          "0.374 vs 0.204", ("dd_teacher_t50.fgsm", "baseline.fgsm"), _above()),
    Claim("dd-student-no-gain", "Table 3",
          "Distilling at T = 50 gives a student whose FGSM accuracy is about the teacher's.",
          "0.376 vs 0.374", ("dd_student_t50.fgsm", "dd_teacher_t50.fgsm"), WITHIN_SIMILAR),
    Claim("dd-student-clean-cost", "Section 8", "The T = 50 student loses clean accuracy against its teacher.",
          "0.858 vs 0.812", ("dd_teacher_t50.clean", "dd_student_t50.clean"), _above()),
    Claim("t1-same-clean", "Table 3", "Lowering the student's temperature to 1 leaves its clean accuracy unchanged.",
          "0.812 = 0.812", ("dd_student_t1.clean", "dd_student_t50.clean"), SAME_PREDICTIONS),
    Claim("t1-masking", "Table 3", "At T = 1 the student looks far more robust to its own FGSM set than at T = 50.",
          "0.798 vs 0.376", ("dd_student_t1.fgsm", "dd_student_t50.fgsm"), _above(LARGE_EFFECT)),
    Claim("t1-zero-gradients", "Section 7.1",
          "At T = 1 the student's FGSM gradient is exactly zero for nearly every test image.",
          "nearly all", ("dd_student_t1.zero_gradients",), _above(NEARLY_ALL, MOST)),
    Claim("t1-cross-set", "Section 7.1",
          "On the T = 50 student's FGSM set the T = 1 student scores exactly what the T = 50 student scores.",
          "0.376 = 0.376", ("dd_student_t1.on_t50_set", "dd_student_t50.fgsm"), SAME_PREDICTIONS),
    Claim("t1-bypass", "Section 7.1",
          "Crafting FGSM at T = 50 removes the T = 1 student's apparent robustness.",
          "0.798 vs 0.376", ("dd_student_t1.fgsm", "dd_student_t1.on_t50_set"), _above(LARGE_EFFECT)),
    Claim("t1-bypass-pgd", "Section 7.1 (beyond: PGD)",
          "A white-box attacker using T = 50 gradients (PGD) defeats the T = 1 student that FGSM at T = 1 cannot.",
          "argued, no number", ("dd_student_t1.fgsm_subset", "dd_student_t1.pgd_t50"), _above(LARGE_EFFECT), book_check=True),
    Claim("low-t-zero-gradients", "Section 7.1",
          "Lowering the random-sign model's temperature to 0.01 makes many of its FGSM gradients exactly zero.",
          "many", ("random_at_t0.01.zero_gradients",), _above(MOST, ALMOST_NONE)),
    Claim("low-t-masking", "Section 7.1 (implied)",
          "The same temperature trick makes the undistilled random-sign model look more robust to FGSM.",
          "implied, no number", ("random_at_t0.01.fgsm", "random_at.fgsm"), _above(), book_check=True),
    # Section 7.2 / Table 4: the variant.
    Claim("variant-student-beats-teacher", "Table 4",
          "The variant's T = 4 student beats its T = 1 teacher on FGSM.",
          "0.448 vs 0.351", ("variant_student_t4.fgsm", "variant_teacher_t1.fgsm"), _above()),
    Claim("variant-clean-cost", "Section 8", "The variant's student loses clean accuracy against its teacher.",
          "0.869 vs 0.821", ("variant_teacher_t1.clean", "variant_student_t4.clean"), _above()),
    # Section 8: the final model.
    Claim("final-beats-teacher", "Section 8",
          "Distilling the random-sign model (the final model) raises FGSM accuracy above that teacher's.",
          "0.488 vs 0.446", ("final_student.fgsm", "random_at.fgsm"), _above()),
    Claim("final-clean-cost", "Section 8", "The final model loses clean accuracy against its random-sign teacher.",
          "0.830 vs 0.786", ("random_at.clean", "final_student.clean"), _above()),
    Claim("noise-final", "Section 8", "Adding random-sign noise to the final model's inputs raises its FGSM accuracy.",
          "0.598 vs 0.488", ("final_student_noise.fgsm", "final_student.fgsm"), _above()),
    Claim("final-vs-baseline", "Section 8", "The final model with input noise beats the baseline on FGSM.",
          "0.598 vs 0.204", ("final_student_noise.fgsm", "baseline.fgsm"), _above()),
    Claim("final-headline", "Abstract", "The final model with input noise scores about 0.6 on its FGSM set.",
          "0.598", ("final_student_noise.fgsm",), Rule(NEAR, tolerance=SIMILAR_TOLERANCE, target=catalogue.report_value("final_student_noise.fgsm"))),
    # Section 9: limitations.
    Claim("noise-random-at", "Section 9", "Input noise raises the random-sign model's FGSM accuracy too.",
          "0.601 vs 0.446", ("random_at_noise.fgsm", "random_at.fgsm"), _above()),
    Claim("noise-random-at-beats-final", "Section 9",
          "With input noise the undistilled random-sign model beats the final model on FGSM.",
          "0.601 vs 0.598", ("random_at_noise.fgsm", "final_student_noise.fgsm"), _above()),
)
CLAIMS_BY_ID = {claim.claim_id: claim for claim in CLAIMS}
if len(CLAIMS_BY_ID) != len(CLAIMS):
    raise ValueError("claim ids must be unique")


def get_claim(claim_id):
    """The :class:`Claim` with id ``claim_id`` (a string); ValueError if there is none."""
    if claim_id not in CLAIMS_BY_ID:
        raise ValueError(f"unknown claim id {claim_id!r}: choose one of {', '.join(CLAIMS_BY_ID)}")
    return CLAIMS_BY_ID[claim_id]


# Chapter 1's short table: each of the report's own findings once, in the order the
# report makes them. The claims left out restate one of these with other numbers (the
# bypass repeats the masking pair, the cross-set check the T = 50 number), judge a side
# effect (clean-accuracy costs), or are the book's own checks: the appendix's full
# scorecard shows them all.
FINDINGS = (
    "fgsm-drop",
    "fgsm-not-noise",
    "random-at-gain",
    "per-epoch-gain",
    "order-models",
    "dd-student-no-gain",
    "t1-masking",
    "t1-zero-gradients",
    "variant-student-beats-teacher",
    "final-beats-teacher",
    "noise-final",
    "final-headline",
    "noise-random-at-beats-final",
)

"""Choosing a defence that holds on held-out training images, never on the test set (issue 16).

The defence candidates (:data:`advlib.registry.DEFENCE_CANDIDATES`) train without a
stratified holdout of the training set (:func:`advlib.experiments.holdout_indices`). This
module compares them there: :func:`validation_study` runs the two untargeted APGD attacks
of the worst-case suite (:data:`VALIDATION_SUITE`, the ones that break nearly every image
the full suite breaks, at a tenth of its cost) on held-out images and saves the result;
:func:`choose` applies the goal's rule to those numbers. Only the chosen candidate's
worst case on the test set (:mod:`advlib.worst_case_studies`) is then reported, once.
"""

from advlib import experiments, registry, studies, validate
from advlib.registry import View

# APGD on the cross-entropy and on the DLR loss, both on every correctly classified image.
VALIDATION_LABELS = ("APGD-CE", "APGD-DLR")
# Held-out images per class the comparison uses on the full profile (2,000 in all: the 95%
# interval of an accuracy is then at most ±0.022); all of the holdout on smaller profiles.
VALIDATION_PER_CLASS = 200
VALIDATION_STEPS = 100


def validation_suite():
    """The ``(label, attack, options)`` triples of :data:`VALIDATION_LABELS`, from the worst-case suite."""
    from advlib import worst_case

    return tuple(entry for entry in worst_case.SUITE if entry[0] in VALIDATION_LABELS)


def validation_per_class(profile):
    """Held-out images per class :func:`validation_study` attacks on ``profile``."""
    return min(VALIDATION_PER_CLASS, registry.holdout_per_class(profile))


def _validation_indices(data, profile):
    """Training indices of the validation images: a stratified subset of the candidates' holdout."""
    from advlib import worst_case

    _, held_out = experiments.holdout_indices(data, profile)
    chosen = worst_case.stratified_subset(data.y_train[held_out], validation_per_class(profile), seed=profile.seed)
    return held_out[chosen]


def validation_study(name, profile):
    """The two-attack worst case of defence candidate ``name`` on held-out training images, saved.

    Returns an :class:`advlib.worst_case.WorstCase` (its ``clean_accuracy`` is on the
    same held-out images). ``ValueError`` for a model that is not a defence candidate:
    any other model trained on those images.
    """
    from advlib import worst_case

    profile = registry.get_profile(profile)
    validate.one_of(name, "name", registry.DEFENCE_CANDIDATES)
    view = View(name)
    parameters = dict(
        suite=[[label, attack, dict(options)] for label, attack, options in validation_suite()],
        steps=VALIDATION_STEPS,
        holdout={"per_class": registry.holdout_per_class(profile), "validation_per_class": validation_per_class(profile),
                 "seed": profile.seed},
        attack_seed=profile.seed,
        format=studies.STUDY_FORMAT,
    )

    def images(data):
        indices = _validation_indices(data, profile)
        return data.x_train[indices], data.y_train[indices], "held-out training images"

    def compute(x, y, parameters):
        model = experiments.load_or_train(name, profile)
        result = worst_case.evaluate(
            model, x, y, profile.eps, suite=validation_suite(), every_image=VALIDATION_LABELS, seed=profile.seed,
            steps=parameters["steps"],
        )
        return result.to_dict(), {}

    return worst_case.WorstCase.from_dict(studies.saved_study("validation", view, profile, parameters, [name], images, compute))


def choose(results, clean_goal):
    """The candidate to report: ``(name, reason)`` from ``{name: WorstCase}`` on held-out images.

    The highest robust accuracy among the candidates whose clean accuracy reaches
    ``clean_goal``; if none does, the highest robust accuracy of all, and the reason says so.
    Ties go to the earlier candidate in ``results``.
    """
    if not results:
        raise ValueError("results must hold at least one candidate")
    qualified = {name: result for name, result in results.items() if result.clean_accuracy >= clean_goal}
    pool = qualified or results
    best = max(pool, key=lambda name: pool[name].robust_accuracy)
    if qualified:
        return best, f"the highest held-out robust accuracy among the candidates with clean accuracy >= {clean_goal:g}"
    return best, f"no candidate reaches clean accuracy {clean_goal:g} on the held-out images; the highest robust accuracy of all"

"""Choosing a defence that holds on held-out training images, never on the test set (issue 16).

The defence candidates (:data:`advlib.plan.registry.DEFENCE_CANDIDATES`) never train on a
stratified holdout of the training set (:func:`advlib.runs.experiments.holdout_indices`). This
module compares them on those held-out images: :func:`validation_study` runs the two untargeted APGD attacks
of the worst-case suite (:data:`VALIDATION_SUITE`, the ones that break nearly every image
the full suite breaks, at a tenth of its cost) on held-out images and saves the result;
:func:`choose` applies the goal's rule to those numbers. Only the chosen candidate's
worst case on the test set (:mod:`advlib.runs.worst_case_studies`) is then reported, once.
"""

from dataclasses import dataclass, field

from advlib import validate
from advlib.plan import registry
from advlib.plan.registry import View
from advlib.results import keys
from advlib.runs import experiments, studies

# APGD on the cross-entropy and on the DLR loss, both on every correctly classified image.
VALIDATION_LABELS = ("APGD-CE", "APGD-DLR")
# Held-out images per class the comparison uses on the full profile (2,000 in all: the 95%
# interval of an accuracy is then at most ±0.022); all of the holdout on smaller profiles.
VALIDATION_PER_CLASS = 200
VALIDATION_STEPS = 100


def validation_suite():
    """The ``(label, attack, options)`` triples of :data:`VALIDATION_LABELS`, from the worst-case suite."""
    from advlib.evaluation import worst_case

    return tuple(entry for entry in worst_case.SUITE if entry[0] in VALIDATION_LABELS)


def validation_per_class(profile):
    """Held-out images per class :func:`validation_study` attacks on ``profile``."""
    return min(VALIDATION_PER_CLASS, registry.holdout_per_class(profile))


def _validation_indices(data, profile):
    """Training indices of the validation images: a stratified subset of the candidates' holdout."""
    from advlib.evaluation import worst_case

    _, held_out = experiments.holdout_indices(data, profile)
    chosen = worst_case.stratified_subset(data.y_train[held_out], validation_per_class(profile), seed=profile.seed)
    return held_out[chosen]


def validation_parameters(profile):
    """Everything besides the weights that determines a :func:`validation_study` on ``profile``."""
    profile = registry.get_profile(profile)
    return dict(
        suite=[[label, attack, dict(options)] for label, attack, options in validation_suite()],
        steps=VALIDATION_STEPS,
        holdout={"per_class": registry.holdout_per_class(profile), "validation_per_class": validation_per_class(profile),
                 "seed": profile.seed},
        attack_seed=profile.seed,
        format=studies.STUDY_FORMAT,
    )


def saved_validation(name, profile, saved=None):
    """The saved :func:`validation_study` of ``name`` as a ``WorstCase``, or None; computes nothing."""
    from advlib.evaluation import worst_case

    profile = registry.get_profile(profile)
    validate.one_of(name, "name", registry.DEFENCE_CANDIDATES)
    saved = studies.load_saved(profile) if saved is None else saved
    key, _ = keys.study_key("validation", View(name), profile, validation_parameters(profile), [name])
    entry = saved.get(key)
    return None if entry is None else worst_case.WorstCase.from_dict(entry["result"])


def validation_study(name, profile):
    """The two-attack worst case of defence candidate ``name`` on held-out training images, saved.

    Returns an :class:`advlib.evaluation.worst_case.WorstCase` (its ``clean_accuracy`` is on the
    same held-out images). ``ValueError`` for a model that is not a defence candidate:
    any other model trained on those images.
    """
    from advlib.evaluation import worst_case

    profile = registry.get_profile(profile)
    validate.one_of(name, "name", registry.DEFENCE_CANDIDATES)
    view = View(name)
    parameters = validation_parameters(profile)

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


@dataclass(frozen=True)
class Selection:
    """Where the choice among the defence candidates stands on a profile.

    ``validation``: ``{name: WorstCase}`` on held-out training images, for every candidate
    that has one; ``missing``: ``{name: what it still needs}`` ("training" or "the
    held-out evaluation"); ``chosen`` and ``reason``: :func:`choose`'s answer once every
    candidate has a validation result, else None; ``test`` and ``test_reference``: the
    chosen candidate's worst case and reference attacks on the stratified test subset
    (:mod:`advlib.runs.worst_case_studies`), or None while not computed; ``records``:
    ``{name: saved model record}`` of the trained candidates (training time, epochs).
    """

    validation: dict = field(default_factory=dict)
    missing: dict = field(default_factory=dict)
    chosen: str | None = None
    reason: str | None = None
    test: object = None
    test_reference: dict | None = None
    records: dict = field(default_factory=dict)


def selection(profile, *, compute=None):
    """The :class:`Selection` of ``profile``: each candidate's held-out result, the choice, its test number.

    ``compute`` (default: :func:`advlib.runs.worst_case_studies.computes_in_chapter`, so every
    profile but full) computes missing held-out and test evaluations of trained
    candidates; otherwise only saved ones are read. A candidate is never trained here:
    ``python -m advlib reproduce`` does that (hours of CPU on the full profile).
    """
    from advlib.evaluation import worst_case
    from advlib.results import store
    from advlib.runs import worst_case_studies
    from advlib.verdicts import expectations

    profile = registry.get_profile(profile)
    compute = worst_case_studies.computes_in_chapter(profile) if compute is None else bool(compute)
    saved = studies.load_saved(profile)
    validation, missing, records = {}, {}, {}
    for name in registry.DEFENCE_CANDIDATES:
        record = store.load_record(name, profile)
        if record is None:
            missing[name] = "training"
            continue
        records[name] = record
        result = validation_study(name, profile) if compute else saved_validation(name, profile, saved)
        if result is None:
            missing[name] = "the held-out evaluation"
        else:
            validation[name] = result
    if missing:
        return Selection(validation, missing, records=records)
    chosen, reason = choose(validation, expectations.CLEAN_GOAL)
    # The test set is looked at once, for the chosen candidate only.
    view = View(chosen)
    if compute:
        test = worst_case_studies.worst_case_study(view, profile)
        test_reference = worst_case_studies.reference_study(view, profile)
    else:
        test_entry = worst_case_studies.saved_entry("worst_case", view, profile, saved)
        reference_entry = worst_case_studies.saved_entry("worst_case_reference", view, profile, saved)
        test = None if test_entry is None else worst_case.WorstCase.from_dict(test_entry["result"])
        test_reference = None if reference_entry is None else reference_entry["result"]
    return Selection(validation, {}, chosen, reason, test, test_reference, records)

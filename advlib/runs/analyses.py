"""Chapter analyses over whole data sets, computed once per model and saved like the studies.

Chapters 3 to 7 look at every test image (and, in chapter 7, every training image):
gradient-norm histograms of ten views, a student's imitation of its teacher. On 2 CPU
cores each pass over 10,000 images takes half a minute or more, so a chapter that ran
them all would take many minutes. Each function here computes its result once, saves it
in ``studies.json`` (:data:`advlib.results.store.STUDIES`, through
:func:`advlib.runs.studies.saved_study`, keyed on the models' config hashes) and returns the
saved result from then on; the full profile's results ship with advlib.

:data:`GRADIENT_NORM_VIEWS` and :data:`IMITATION_PAIRS` list what the chapters use;
``python -m advlib reproduce`` computes them all (:func:`run_all`).
"""

import time

from advlib import validate
from advlib.plan import registry
from advlib.plan.registry import View
from advlib.runs import experiments, studies

# Bumped when the way an analysis is computed changes, so old entries are not read.
ANALYSIS_FORMAT = 1
# Saved norms and losses keep 6 significant digits (the book prints 3); an exact zero
# stays exactly zero, which is what the zero-gradient shares count.
_DIGITS = 6

# Every view whose gradient norms a chapter plots (chapters 4 to 7), and every
# (student, teacher) pair whose imitation a chapter measures (chapter 7).
GRADIENT_NORM_VIEWS = (
    View("baseline"),
    View("random_at"),
    View("per_epoch_at"),
    View("dd_teacher_t50"),
    View("dd_student_t50"),
    View("dd_student_t50", temperature=1.0),
    View("variant_teacher_t1"),
    View("variant_teacher_t1", temperature=4.0),
    View("variant_student_t4"),
    View("variant_student_t4", temperature=1.0),
)
IMITATION_PAIRS = (("variant_student_t4", "variant_teacher_t1"),)


# Chapter 3's curves: the baseline under FGSM and under random signs of the same size,
# on every test image, from no perturbation to four times the report's eps.
FGSM_CURVE_EPS = (0.0, 0.0025, 0.005, 0.01, 0.02, 0.04)
FGSM_CURVE_ATTACKS = ("fgsm", "random_sign")


def fgsm_curve(profile):
    """The baseline's accuracy under FGSM and random signs at each of :data:`FGSM_CURVE_EPS`.

    An :func:`advlib.runs.studies.eps_sweep` of the baseline on the whole test set (computed
    once and saved): a :class:`advlib.runs.studies.Sweep` whose ``accuracy["fgsm"]`` and
    ``accuracy["random_sign"]`` are tuples of accuracies in [0, 1], one per eps.
    """
    return studies.eps_sweep(
        View("baseline"), profile, eps_values=FGSM_CURVE_EPS, attacks=FGSM_CURVE_ATTACKS, whole_test_set=True
    )


def _whole_test_set(data):
    return data.x_test, data.y_test, "test images"


def _whole_training_set(data):
    return data.x_train, data.y_train, "training images"


def _rounded(values):
    return [float(f"{value:.{_DIGITS}g}") for value in values]


def gradient_norm_study(view, profile):
    """:func:`advlib.evaluation.metrics.gradient_norms` of ``view`` on every test image, computed once and saved.

    Args:
        view: a :class:`advlib.plan.registry.View` without input noise (its temperature is
            the one the loss is taken at).
        profile: a profile name or :class:`advlib.plan.registry.Profile`.

    Returns:
        an :class:`advlib.evaluation.metrics.GradientNorms` over the profile's test set: norms and
        losses float32 ``(N,)`` (6 significant digits; exact zeros kept), ``correct`` bool ``(N,)``.
    """
    import numpy as np

    from advlib.evaluation import metrics

    profile = registry.get_profile(profile)
    if not isinstance(view, View):
        raise ValueError(f"view must be an advlib.plan.registry.View, got {view!r}")
    if view.noise is not None:
        raise ValueError(f"gradient norms of a noisy view change with every draw; got {view.label!r}")
    parameters = {"temperature": view.temperature, "subset": studies.WHOLE_TEST_SET, "format": ANALYSIS_FORMAT}

    def compute(x, y, parameters):
        result = metrics.gradient_norms(experiments.build_view(view, profile), x, y)
        return {
            "norms": _rounded(result.norms),
            "losses": _rounded(result.losses),
            # One character per image keeps 10,000 flags small.
            "correct": "".join("1" if flag else "0" for flag in result.correct),
        }, {}

    saved = studies.saved_study("gradient_norms", view, profile, parameters, [view.name], _whole_test_set, compute)
    return metrics.GradientNorms(
        norms=np.asarray(saved["norms"], dtype=np.float32),
        correct=np.frombuffer(saved["correct"].encode("ascii"), dtype=np.uint8) == ord("1"),
        losses=np.asarray(saved["losses"], dtype=np.float32),
    )


def imitation_study(student, teacher, profile):
    """How closely ``student`` imitates ``teacher`` on every training and test image, computed once and saved.

    Args:
        student, teacher: registry model names (the student distilled from the teacher).
        profile: a profile name or :class:`advlib.plan.registry.Profile`.

    Returns:
        ``{"train": {...}, "test": {...}}``, each :func:`advlib.evaluation.metrics.imitation`'s
        dict (``agreement``, ``student_accuracy``, ``teacher_accuracy``, floats in [0, 1]).
    """
    from advlib.evaluation import metrics

    profile = registry.get_profile(profile)
    for name, value in (("student", student), ("teacher", teacher)):
        validate.one_of(value, name, tuple(registry.MODELS))
    parameters = {"teacher": teacher, "subset": "whole training and test sets", "format": ANALYSIS_FORMAT}

    def compute(x, y, parameters):
        student_model = experiments.load_or_train(student, profile)
        teacher_model = experiments.load_or_train(teacher, profile)
        data = experiments.load_data(profile)
        return {
            "train": metrics.imitation(student_model, teacher_model, x, y),
            "test": metrics.imitation(student_model, teacher_model, data.x_test, data.y_test),
        }, {}

    return studies.saved_study(
        "imitation", View(student), profile, parameters, [student, teacher], _whole_training_set, compute
    )


def run_all(profile, *, verbose=True):
    """Compute (or load) :func:`fgsm_curve` and every analysis in :data:`GRADIENT_NORM_VIEWS` and :data:`IMITATION_PAIRS`."""
    profile = registry.get_profile(profile)
    started = time.time()
    fgsm_curve(profile)
    for view in GRADIENT_NORM_VIEWS:
        gradient_norm_study(view, profile)
    for student, teacher in IMITATION_PAIRS:
        imitation_study(student, teacher, profile)
    if verbose:
        print(f"== chapter analyses done in {time.time() - started:.0f} s", flush=True)

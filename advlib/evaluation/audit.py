"""A gradient-masking audit: the symptoms of Athalye, Carlini & Wagner (2018) and Carlini et al. (2019).

A defence that only hides its gradients looks robust to gradient attacks without being
robust. :func:`audit` measures five symptoms of that on one model and a batch of images:

(a) ``zero_gradients``: many images have an input gradient that is exactly zero (e.g. a
    saturated softmax), so every sign attack leaves them unchanged;
(b) ``one_step_beats_iterated``: FGSM (one step) lowers the accuracy more than PGD
    (many steps) at the same eps, although PGD's first step can be FGSM's;
(c) ``transfer_beats_white_box``: examples crafted on another model (a surrogate) fool
    the model more than its own gradients do (only checked when a surrogate is given);
(d) ``accuracy_does_not_fall``: the PGD accuracy stays above a floor at the largest eps,
    where an honest model, not trained to resist that eps, is at (nearly) 0;
(e) ``randomness_hides_gradients``: the model is random (it draws fresh noise on every
    call) and PGD with gradients averaged over many draws (EOT) is clearly stronger than
    PGD with one draw per step, so a single draw's gradient misleads the attacker.

Each symptom comes with the measured numbers, a flag and a one-line explanation. A flag
is a reason to attack harder (from the logits, at a raised temperature, with EOT, a
margin loss, more steps), not a proof of masking; no flag is not a proof of robustness.
"""

import numpy as np

from advlib import validate
from advlib.verdicts import claims
from advlib.evaluation.audit_result import AuditResult, Symptom  # noqa: F401 (what audit() returns)

# eps in pixel units of 1/255, up to the 8/255 common in the literature for CIFAR-10.
DEFAULT_EPS_VALUES = (1 / 255, 2 / 255, 4 / 255, 8 / 255)
# More than almost none of the images with an exactly-zero gradient: the scorecard's line too.
DEFAULT_ZERO_GRADIENT_THRESHOLD = claims.ALMOST_NONE
DEFAULT_ONE_STEP_TOLERANCE = 0.02
DEFAULT_TRANSFER_TOLERANCE = 0.02
DEFAULT_ACCURACY_FLOOR = 0.10
DEFAULT_EOT_SAMPLES = 10
DEFAULT_EOT_TOLERANCE = 0.02
# The thresholds a saved audit was computed with (advlib.runs.studies hashes them).
THRESHOLDS = (
    DEFAULT_ZERO_GRADIENT_THRESHOLD,
    DEFAULT_ONE_STEP_TOLERANCE,
    DEFAULT_TRANSFER_TOLERANCE,
    DEFAULT_ACCURACY_FLOOR,
    DEFAULT_EOT_TOLERANCE,
)
# Images per gradient computation (advlib.attacks.one_step.DEFAULT_BATCH_SIZE; only memory depends on it).
DEFAULT_BATCH_SIZE = 500


def audit(
    model,
    x,
    y,
    *,
    eps=0.01,
    eps_values=DEFAULT_EPS_VALUES,
    surrogate=None,
    pgd_steps=10,
    seed=0,
    temperature=None,
    zero_gradient_threshold=DEFAULT_ZERO_GRADIENT_THRESHOLD,
    one_step_tolerance=DEFAULT_ONE_STEP_TOLERANCE,
    transfer_tolerance=DEFAULT_TRANSFER_TOLERANCE,
    accuracy_floor=DEFAULT_ACCURACY_FLOOR,
    eot_samples=DEFAULT_EOT_SAMPLES,
    eot_tolerance=DEFAULT_EOT_TOLERANCE,
    batch_size=DEFAULT_BATCH_SIZE,
):
    """Check ``model`` for the five gradient-masking symptoms listed in this module's docstring.

    Args:
        model: a Keras model returning probabilities ``(N, classes)``, attacked as given
            (softmax cross-entropy of its output, as :func:`advlib.attacks.one_step.fgsm` does).
        x: float32 images ``(N, 32, 32, 3)`` in [0, 1]; y: labels ``(N,)`` or one-hot.
        eps: the eps of the FGSM-versus-PGD and transfer comparisons (b, c).
        eps_values: the eps values of the PGD accuracy curve (d), each ``>= 0``; the
            largest is the one compared with ``accuracy_floor``.
        surrogate: another model with the same input shape and classes (e.g. the same
            architecture trained without the defence); ``None`` skips check (c). Its
            examples are FGSM and PGD at ``eps``, the stronger of the two counts (both
            are in the symptom's ``measured``).
        pgd_steps: PGD steps (step size ``2.5 * eps / steps``, random start by ``seed``).
        temperature: attack the model at this softmax temperature (None: its own).
        zero_gradient_threshold: (a) flags a share of exactly-zero gradients above it
            (default 0.05: an honest float32 model almost never has one).
        one_step_tolerance: (b) flags FGSM accuracy below PGD accuracy minus this
            (default 0.02: PGD returns its last iterate, which may be slightly weaker
            than FGSM on a few images).
        transfer_tolerance: (c) flags transfer accuracy below the white-box accuracy
            (the lower of FGSM and PGD) minus this (default 0.02).
        accuracy_floor: (d) flags PGD accuracy at ``max(eps_values)`` above it (default
            0.10; a model adversarially trained at that eps may legitimately exceed it,
            so pass a larger eps or floor for one).
        eot_samples: (e) draws of the model's randomness averaged per EOT-PGD step; only
            used when two predictions on the same images differ.
        eot_tolerance: (e) flags EOT-PGD accuracy below PGD accuracy minus this (default
            0.02, as for the other comparisons).
        batch_size: images per gradient computation.

    Returns:
        an :class:`AuditResult`; ``report.flags`` names the symptoms present.
    """
    # Imported here so that importing this module (for its thresholds) needs no TensorFlow.
    from advlib.attacks import iterative, one_step
    from advlib.evaluation import metrics

    eps = one_step._check_eps(eps)
    if np.ndim(eps_values) != 1 or len(eps_values) == 0:
        raise ValueError(f"eps_values must be a non-empty sequence of eps values, got {eps_values!r}")
    eps_values = sorted(one_step._check_eps(value) for value in eps_values)
    zero_gradient_threshold = validate.fraction(zero_gradient_threshold, "zero_gradient_threshold")
    one_step_tolerance = validate.fraction(one_step_tolerance, "one_step_tolerance")
    transfer_tolerance = validate.fraction(transfer_tolerance, "transfer_tolerance")
    accuracy_floor = validate.fraction(accuracy_floor, "accuracy_floor")
    eot_tolerance = validate.fraction(eot_tolerance, "eot_tolerance")
    if isinstance(eot_samples, bool) or not isinstance(eot_samples, (int, np.integer)) or eot_samples < 2:
        raise ValueError(f"eot_samples must be an integer >= 2 (draws averaged per EOT step), got {eot_samples!r}")
    x = one_step.check_images(x)
    pgd_options = dict(steps=pgd_steps, seed=seed, temperature=temperature, batch_size=batch_size)

    def accuracy_on(x_adv):
        return metrics.accuracy(model, x_adv, y, batch_size=batch_size)

    clean_accuracy = accuracy_on(x)
    symptoms = []

    # (a) Exactly-zero gradients: the sign of 0 is 0, so a sign attack cannot move the image.
    zero_fraction = metrics.gradient_norms(
        model, x, y, temperature=temperature, batch_size=batch_size
    ).zero_fraction
    symptoms.append(
        Symptom(
            "zero_gradients",
            zero_fraction > zero_gradient_threshold,
            {"zero_fraction": zero_fraction},
            f"zero_fraction > {zero_gradient_threshold:g}",
            "share of images whose input gradient is exactly zero; FGSM and PGD cannot move them, "
            "so attack from the logits or at a raised temperature",
        )
    )

    # (b) One step stronger than many: PGD explores a superset of what FGSM does.
    fgsm_accuracy = accuracy_on(one_step.fgsm(model, x, y, eps, temperature=temperature, batch_size=batch_size))
    pgd_accuracy = accuracy_on(iterative.pgd(model, x, y, eps, **pgd_options))
    symptoms.append(
        Symptom(
            "one_step_beats_iterated",
            fgsm_accuracy < pgd_accuracy - one_step_tolerance,
            {"fgsm_accuracy": fgsm_accuracy, "pgd_accuracy": pgd_accuracy},
            f"fgsm_accuracy < pgd_accuracy - {one_step_tolerance:g}",
            "an iterated attack should be at least as strong as one step; if not, the gradient "
            "misleads locally (noise, saturation, a shattered surface)",
        )
    )

    # (c) A surrogate's examples stronger than the model's own gradients.
    white_box_accuracy = min(fgsm_accuracy, pgd_accuracy)
    if surrogate is None:
        symptoms.append(
            Symptom(
                "transfer_beats_white_box",
                None,
                {"white_box_accuracy": white_box_accuracy},
                f"transfer_accuracy < white_box_accuracy - {transfer_tolerance:g}",
                "not checked: pass surrogate= (e.g. an undefended model of the same architecture)",
            )
        )
    else:
        # The surrogate is attacked at its own temperature: `temperature` is about the model.
        surrogate_options = dict(pgd_options, temperature=None)
        transfer_fgsm_accuracy = accuracy_on(iterative.transfer(surrogate, model, x, y, eps, batch_size=batch_size))
        transfer_pgd_accuracy = accuracy_on(
            iterative.transfer(surrogate, model, x, y, eps, attack=iterative.pgd, **surrogate_options)
        )
        transfer_accuracy = min(transfer_fgsm_accuracy, transfer_pgd_accuracy)
        symptoms.append(
            Symptom(
                "transfer_beats_white_box",
                transfer_accuracy < white_box_accuracy - transfer_tolerance,
                # Both transfer attacks are kept, not only the stronger, so a transfer
                # table can be read from the report without attacking again.
                {
                    "transfer_accuracy": transfer_accuracy,
                    "white_box_accuracy": white_box_accuracy,
                    "transfer_fgsm_accuracy": transfer_fgsm_accuracy,
                    "transfer_pgd_accuracy": transfer_pgd_accuracy,
                },
                f"transfer_accuracy < white_box_accuracy - {transfer_tolerance:g}",
                "examples made without the model's gradients should not beat those made with them; "
                "if they do, its own gradients are uninformative",
            )
        )

    # (d) Accuracy that does not fall: with enough eps any image can be changed beyond
    # recognition, so an unbounded-enough attack must reach (nearly) 0.
    curve = {
        value: (pgd_accuracy if value == eps else accuracy_on(iterative.pgd(model, x, y, value, **pgd_options)))
        for value in eps_values
    }
    largest = eps_values[-1]
    symptoms.append(
        Symptom(
            "accuracy_does_not_fall",
            curve[largest] > accuracy_floor,
            {"largest_eps": largest, "pgd_accuracy_at_largest_eps": curve[largest], "pgd_accuracy_by_eps": curve},
            f"pgd_accuracy_at_largest_eps > {accuracy_floor:g}",
            "PGD accuracy should fall towards 0 as eps grows; a plateau means the attack is stuck, "
            "not that the model is robust",
        )
    )

    # (e) Randomness: a model that draws new noise on every call has a new gradient on
    # every call, and one draw's gradient may point nowhere useful. Averaging it over many
    # draws (expectation over transformation) recovers the direction that hurts on average.
    probe = x[: min(len(x), 64)]
    randomized = not np.array_equal(
        metrics.predict_probabilities(model, probe, batch_size=batch_size),
        metrics.predict_probabilities(model, probe, batch_size=batch_size),
    )
    rule = f"randomized and eot_pgd_accuracy < pgd_accuracy - {eot_tolerance:g}"
    if not randomized:
        symptoms.append(
            Symptom(
                "randomness_hides_gradients",
                False,
                {"randomized": 0.0, "pgd_accuracy": pgd_accuracy},
                rule,
                "the model is deterministic (two predictions agree exactly), so EOT would equal PGD",
            )
        )
    else:
        eot_accuracy = accuracy_on(iterative.eot_pgd(model, x, y, eps, samples=eot_samples, **pgd_options))
        symptoms.append(
            Symptom(
                "randomness_hides_gradients",
                eot_accuracy < pgd_accuracy - eot_tolerance,
                {"randomized": 1.0, "pgd_accuracy": pgd_accuracy, "eot_pgd_accuracy": eot_accuracy},
                rule,
                f"the model is random; PGD with gradients averaged over {eot_samples} draws per step "
                "should not beat PGD with one draw by much, else the noise only hides the gradient",
            )
        )
    return AuditResult(symptoms=symptoms, eps=eps, clean_accuracy=clean_accuracy, pgd_accuracy_by_eps=curve)

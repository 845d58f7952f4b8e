"""The masking audit's thresholds, on cases whose measured number lies just below, on and just above each.

The other audit tests (tests/unit/evaluation/test_audit.py) use models whose gradients are exactly zero
or clearly not, and accuracies far from every threshold, so a moved threshold or a
``>`` turned into ``>=`` passes them. Here each measured number is built to be exactly
``threshold - 1/N``, ``threshold`` and ``threshold + 1/N`` on N = 100 images.

Why the thresholds are typed here and not imported from :mod:`advlib.evaluation.audit`: a test that
reads ``audit.DEFAULT_ZERO_GRADIENT_THRESHOLD`` agrees with any value it is changed to,
so it cannot catch the change. The expected values below are the ones the audit was
designed with and its saved results computed with, written down independently of the
constants: the defaults in the docstring of :func:`advlib.evaluation.audit.audit` (more than 5% of
the images with an exactly-zero input gradient; FGSM below PGD, the surrogate below the
model's own attacks and EOT-PGD below PGD each by more than 0.02; PGD at 8/255 leaving
more than 0.10 accuracy), which chapter 9's list of the checks quotes from the constants.
"More than" is strict, so a number exactly on a threshold is not flagged. Changing a
threshold on purpose means changing this file and the saved audits (their keys hash the
thresholds) together.
"""

import keras
import numpy as np
import pytest

from advlib import models
from advlib.attacks import iterative as strong_attacks, one_step as attacks
from advlib.evaluation import audit

# The audit's documented thresholds (see the module docstring).
BOOK_ZERO_GRADIENT_SHARE = 0.05
BOOK_ONE_STEP_TOLERANCE = 0.02
BOOK_TRANSFER_TOLERANCE = 0.02
BOOK_ACCURACY_FLOOR = 0.10
BOOK_EOT_TOLERANCE = 0.02

IMAGES = 100
STEP = 1 / IMAGES
# The pixel the hand-made models read: 0.3 is class 0 (every label), 0.7 is class 1.
CLASS_0_PIXEL, CLASS_1_PIXEL = 0.3, 0.7


def first_pixel_model(scale):
    """Two classes on 4x4x3 images; class 1's logit minus class 0's is ``scale * (x[0, 0, 0] - 0.5)``."""
    inputs = keras.Input(shape=(4, 4, 3))
    dense = keras.layers.Dense(2)
    outputs = keras.layers.Softmax()(dense(keras.layers.Flatten()(inputs)))
    model = keras.Model(inputs, outputs)
    weights = np.zeros((48, 2), np.float32)
    weights[0, 1] = scale
    dense.set_weights([weights, np.array([0.0, -0.5 * scale], np.float32)])
    return model


def clean_images():
    """``(x, y)``: IMAGES images at CLASS_0_PIXEL, all labelled 0."""
    x = np.full((IMAGES, 4, 4, 3), 0.5, np.float32)
    x[:, 0, 0, 0] = CLASS_0_PIXEL
    return x, np.zeros(IMAGES, int)


# One image below, exactly on and one image above a threshold, and whether that is flagged:
# "more than" the threshold is flagged, on it is not.
SIDES = [(-1, False), (0, False), (1, True)]
SIDE_IDS = ["threshold-minus-1/N", "on-the-threshold", "threshold-plus-1/N"]


def images_at(threshold, offset):
    """How many of the IMAGES images make a share of ``threshold + offset / IMAGES``."""
    count = round(threshold * IMAGES) + offset
    assert abs(count / IMAGES - threshold - offset * STEP) < 1e-12, "the threshold is not a whole number of images"
    return count


# ------------------------------------------------------------------------- (a) zero gradients


@pytest.mark.parametrize("offset, flagged", SIDES, ids=SIDE_IDS)
def test_the_zero_gradient_flag_needs_more_than_five_percent_of_exactly_zero_gradients(offset, flagged):
    """A chosen number of the images have a zero gradient: the softmax saturates on them and only them.

    With a scale of 1e4, a first pixel of 0.1 puts class 1's logit 4,000 below class 0's,
    so the (clipped) loss is flat there and the input gradient exactly zero; at 0.4999 the
    gap is about 1 and the gradient clearly non-zero. Both are classified as class 0.
    """
    zero_images = images_at(BOOK_ZERO_GRADIENT_SHARE, offset)
    model = first_pixel_model(1e4)
    x, y = clean_images()
    x[:, 0, 0, 0] = 0.4999
    x[:zero_images, 0, 0, 0] = 0.1
    report = audit.audit(model, x, y, eps_values=(0.01,), pgd_steps=2)
    symptom = report["zero_gradients"]
    assert symptom.measured["zero_fraction"] == zero_images / IMAGES
    assert symptom.flagged is flagged


# ------------------------------------------------- (b) to (e): accuracies from prepared attacks


def fooled(x, count):
    """``x`` with its first ``count`` images moved to class 1 (so exactly ``count`` are misclassified)."""
    x = np.array(x, copy=True)
    x[:count, 0, 0, 0] = CLASS_1_PIXEL
    return x


# Images each attack fools when nothing is near a threshold: accuracy 0.5 for FGSM, PGD,
# both transfer attacks and EOT-PGD at eps, and 0 for PGD at the largest eps. 0.5 is
# chosen so that 0.5 - 0.02 is exactly 0.48 in floating point (checked below), which
# makes the "on the tolerance" cases really sit on it.
UNFLAGGED = dict(fgsm=50, pgd=50, transfer_fgsm=50, transfer_pgd=50, eot=50, pgd_largest=IMAGES)


@pytest.fixture
def prepared_attacks(monkeypatch):
    """Replace the audit's attacks by ones that fool a chosen number of images; returns that dict to fill."""
    counts = dict(UNFLAGGED)

    def fgsm(model, x, y, eps, **options):
        return fooled(x, counts["fgsm"])

    def pgd(model, x, y, eps, **options):
        # The audit's eps is 0.01; its curve's eps values (1/255 to 8/255) are all others, and
        # only the largest is judged, so they share one count.
        return fooled(x, counts["pgd"] if eps == 0.01 else counts["pgd_largest"])

    def transfer(source_model, target_model, x, y, eps, *, attack=None, **options):
        return fooled(x, counts["transfer_fgsm" if attack is None else "transfer_pgd"])

    def eot_pgd(model, x, y, eps, **options):
        return fooled(x, counts["eot"])

    monkeypatch.setattr(attacks, "fgsm", fgsm)
    monkeypatch.setattr(strong_attacks, "pgd", pgd)
    monkeypatch.setattr(strong_attacks, "transfer", transfer)
    monkeypatch.setattr(strong_attacks, "eot_pgd", eot_pgd)
    return counts


def run_audit(counts, change):
    """The audit of a random model (input noise too small to change a prediction) with ``change`` applied to ``counts``."""
    counts.update(change)
    model = models.with_input_noise(first_pixel_model(10.0), 0.001, seed=0)
    x, y = clean_images()
    return audit.audit(model, x, y, eps=0.01, surrogate=model)


def test_the_prepared_attacks_raise_no_flag_and_sit_on_exact_numbers(prepared_attacks):
    assert 0.5 - BOOK_ONE_STEP_TOLERANCE == 0.48 and 0.5 - BOOK_EOT_TOLERANCE == 0.48
    report = run_audit(prepared_attacks, {})
    assert report.flags == []
    assert report.clean_accuracy == 1.0
    assert report["one_step_beats_iterated"].measured == {"fgsm_accuracy": 0.5, "pgd_accuracy": 0.5}
    assert report["randomness_hides_gradients"].measured["randomized"] == 1.0
    assert report["zero_gradients"].measured["zero_fraction"] == 0.0


@pytest.mark.parametrize("offset, flagged", SIDES, ids=SIDE_IDS)
def test_one_step_beats_iterated_needs_fgsm_more_than_0_02_below_pgd(prepared_attacks, offset, flagged):
    extra = images_at(BOOK_ONE_STEP_TOLERANCE, offset)
    report = run_audit(prepared_attacks, {"fgsm": UNFLAGGED["pgd"] + extra})
    measured = report["one_step_beats_iterated"].measured
    assert measured["pgd_accuracy"] - measured["fgsm_accuracy"] == pytest.approx(extra * STEP)
    assert report["one_step_beats_iterated"].flagged is flagged


@pytest.mark.parametrize("attack", ["transfer_fgsm", "transfer_pgd"])
@pytest.mark.parametrize("offset, flagged", SIDES, ids=SIDE_IDS)
def test_transfer_beats_white_box_needs_the_surrogate_more_than_0_02_ahead(prepared_attacks, attack, offset, flagged):
    extra = images_at(BOOK_TRANSFER_TOLERANCE, offset)
    report = run_audit(prepared_attacks, {attack: UNFLAGGED["pgd"] + extra})
    measured = report["transfer_beats_white_box"].measured
    assert measured["white_box_accuracy"] - measured["transfer_accuracy"] == pytest.approx(extra * STEP)
    assert report["transfer_beats_white_box"].flagged is flagged


@pytest.mark.parametrize("offset, flagged", SIDES, ids=SIDE_IDS)
def test_accuracy_does_not_fall_needs_more_than_0_10_left_at_8_over_255(prepared_attacks, offset, flagged):
    correct = images_at(BOOK_ACCURACY_FLOOR, offset)
    report = run_audit(prepared_attacks, {"pgd_largest": IMAGES - correct})
    measured = report["accuracy_does_not_fall"].measured
    assert measured["largest_eps"] == 8 / 255
    assert measured["pgd_accuracy_at_largest_eps"] == correct / IMAGES
    assert report["accuracy_does_not_fall"].flagged is flagged


@pytest.mark.parametrize("offset, flagged", SIDES, ids=SIDE_IDS)
def test_randomness_hides_gradients_needs_eot_more_than_0_02_below_pgd(prepared_attacks, offset, flagged):
    extra = images_at(BOOK_EOT_TOLERANCE, offset)
    report = run_audit(prepared_attacks, {"eot": UNFLAGGED["pgd"] + extra})
    measured = report["randomness_hides_gradients"].measured
    assert measured["pgd_accuracy"] - measured["eot_pgd_accuracy"] == pytest.approx(extra * STEP)
    assert report["randomness_hides_gradients"].flagged is flagged

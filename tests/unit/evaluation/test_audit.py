"""The gradient-masking audit on hand-made models whose symptoms are known."""

import json

import keras
import numpy as np
import pytest

from advlib.evaluation import audit
from tests.support.linear_models import closed_form_gradient, linear_softmax_model

# A linear model on 4x4x3 = 48 pixels changes a logit by at most eps * ||w_j - w_y||_1,
# about 64 times less than the same weights spread over a CIFAR image's 3072 pixels, so
# eps up to 8/255 leaves it far from 0 accuracy although nothing is masked. These eps
# values are large enough for PGD to bring the honest model to 0 (it does at 0.2).
HONEST_EPS_VALUES = (0.05, 0.1, 0.2)


def predictions(weights, bias, x):
    """Labels the model gets right, so the clean accuracy is 1 and only attacks lower it."""
    return np.argmax(x.reshape(len(x), -1) @ weights + bias, axis=1)


FLAG_NAMES = (
    "zero_gradients",
    "one_step_beats_iterated",
    "transfer_beats_white_box",
    "accuracy_does_not_fall",
    "randomness_hides_gradients",
)


def surrogate_weights(weights):
    """The honest model's weights plus noise as large as themselves: a related but different model."""
    return weights + np.random.default_rng(5).normal(size=weights.shape) * 0.5


def accuracy_after_fgsm(attacker_weights, weights, bias, x, y, eps):
    """Accuracy of the linear model (weights, bias) on FGSM examples made, in closed form, on attacker_weights."""
    x_adv = np.clip(x + eps * np.sign(closed_form_gradient(attacker_weights, bias, x, y)), 0, 1)
    return float(np.mean(predictions(weights, bias, x_adv) == y))


def test_an_honest_linear_model_raises_no_flag(linear_case):
    weights, bias, x, _ = linear_case
    model = linear_softmax_model(weights, bias)
    y = predictions(weights, bias, x)
    # A surrogate that really differs from the model: its examples transfer, but less well
    # than the model's own, so transfer must not beat the white-box attack.
    other = surrogate_weights(weights)
    report = audit.audit(model, x, y, eps=0.05, eps_values=HONEST_EPS_VALUES, surrogate=linear_softmax_model(other, bias))
    assert report.flags == []
    for name in FLAG_NAMES:
        assert report[name].flagged is False, name
    assert report.clean_accuracy == 1.0
    assert report["zero_gradients"].measured["zero_fraction"] == 0.0
    assert report["accuracy_does_not_fall"].measured["pgd_accuracy_at_largest_eps"] <= 0.10
    # The numbers behind the transfer flag: the surrogate's FGSM examples, scored on the
    # model (closed form), and the stronger of the model's own FGSM and PGD.
    transfer = report["transfer_beats_white_box"].measured
    white_box = accuracy_after_fgsm(weights, weights, bias, x, y, 0.05)
    assert report["one_step_beats_iterated"].measured["fgsm_accuracy"] == pytest.approx(white_box)
    assert transfer["transfer_fgsm_accuracy"] == pytest.approx(accuracy_after_fgsm(other, weights, bias, x, y, 0.05))
    fgsm_pgd = report["one_step_beats_iterated"].measured
    assert transfer["white_box_accuracy"] == min(fgsm_pgd["fgsm_accuracy"], fgsm_pgd["pgd_accuracy"])
    assert transfer["transfer_accuracy"] > transfer["white_box_accuracy"] + 0.1
    # The PGD accuracy curve falls as eps grows.
    curve = list(report.pgd_accuracy_by_eps.values())
    assert curve == sorted(curve, reverse=True) and curve[0] > 0.10
    assert "flags: none" in str(report)


def test_a_saturated_softmax_shows_zero_gradients_and_a_stuck_accuracy(linear_case):
    weights, bias, x, _ = linear_case
    scaled = weights * 1e4
    y = predictions(scaled, bias, x)
    model = linear_softmax_model(scaled, bias)
    report = audit.audit(model, x, y)
    assert report["zero_gradients"].measured["zero_fraction"] == 1.0
    assert report.flags == ["zero_gradients", "accuracy_does_not_fall"]
    assert report["zero_gradients"].flagged is True and report["accuracy_does_not_fall"].flagged is True
    # Its gradients are zero, not misleading: FGSM and PGD both leave every image alone.
    assert report["one_step_beats_iterated"].flagged is False
    # Not checked without a surrogate, so neither flagged nor cleared.
    assert report["transfer_beats_white_box"].flagged is None
    # The undefended weights, as a surrogate, fool it where its own gradients cannot.
    with_surrogate = audit.audit(model, x, y, surrogate=linear_softmax_model(weights, bias))
    assert with_surrogate["transfer_beats_white_box"].flagged is True
    transfer = with_surrogate["transfer_beats_white_box"].measured
    assert transfer["white_box_accuracy"] == 1.0 and transfer["transfer_accuracy"] < 1.0 - 0.02
    text, html = str(with_surrogate), with_surrogate._repr_html_()
    for name in ("zero_gradients", "transfer_beats_white_box", "accuracy_does_not_fall"):
        assert name in text and name in html
    assert html.count("FLAGGED") == 3


def bumpy_model():
    """Two classes whose wrong-class logit is g(u) of the mean pixel shift u (in units of eps = 0.05).

    g(u) = -0.5 + 0.2 sin(2 pi u / 0.9) + 10 relu(u - 0.7): rising at u = 0, a local
    maximum at u = 0.225, then a valley, then a steep rise that makes the wrong class win
    near u = 1. FGSM jumps straight to u = 1; PGD's steps of 0.25 eps climb to the local
    maximum and oscillate around it, never reaching the rise: a misleading local gradient.
    """
    inputs = keras.Input(shape=(4, 4, 3))
    mean_pixel = keras.layers.Lambda(lambda images: keras.ops.mean(images, axis=(1, 2, 3), keepdims=False))(inputs)

    def logits_of(mean):
        u = (mean - 0.5) / 0.05
        wrong = -0.5 + 0.2 * keras.ops.sin(2 * np.pi * u / 0.9) + 10.0 * keras.ops.relu(u - 0.7)
        return keras.ops.stack([keras.ops.zeros_like(wrong), wrong], axis=-1)

    logits = keras.layers.Lambda(logits_of)(mean_pixel)
    return keras.Model(inputs, keras.layers.Softmax()(logits))


def test_one_step_beating_the_iterated_attack_is_flagged():
    model = bumpy_model()
    x = np.full((8, 4, 4, 3), 0.5, np.float32) + np.random.default_rng(0).uniform(-0.1, 0.1, (8, 4, 4, 3))
    x -= x.mean(axis=(1, 2, 3), keepdims=True) - 0.5  # every image has mean 0.5, i.e. u = 0
    x = x.astype(np.float32)
    y = np.zeros(8, int)
    # The model's own weights as a surrogate: here that checks that the white-box accuracy
    # the transfer is compared with is the stronger attack's (FGSM's 0), not PGD's 1.
    report = audit.audit(model, x, y, eps=0.05, eps_values=(0.05,), surrogate=model)
    measured = report["one_step_beats_iterated"].measured
    assert measured["fgsm_accuracy"] == 0.0 and measured["pgd_accuracy"] == 1.0
    assert report["one_step_beats_iterated"].flagged is True
    transfer = report["transfer_beats_white_box"].measured
    assert transfer["white_box_accuracy"] == 0.0 and transfer["transfer_accuracy"] == 0.0
    assert report["transfer_beats_white_box"].flagged is False


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(eps=-0.01), "eps"),
        (dict(eps_values=()), "eps_values"),
        (dict(eps_values=(0.01, -0.01)), "eps"),
        (dict(zero_gradient_threshold=1.5), "zero_gradient_threshold"),
        (dict(one_step_tolerance=-0.1), "one_step_tolerance"),
        (dict(transfer_tolerance="a lot"), "transfer_tolerance"),
        (dict(accuracy_floor=2.0), "accuracy_floor"),
        (dict(pgd_steps=0), "steps"),
    ],
)
def test_bad_arguments_get_a_clear_error(linear_case, change, message):
    weights, bias, x, _ = linear_case
    with pytest.raises(ValueError, match=message):
        audit.audit(linear_softmax_model(weights, bias), x, predictions(weights, bias, x), **change)


def test_a_report_survives_a_json_round_trip_and_summarises_its_numbers(linear_case):
    weights, bias, x, _ = linear_case
    y = predictions(weights, bias, x)
    model = linear_softmax_model(weights, bias)
    report = audit.audit(model, x, y, eps_values=HONEST_EPS_VALUES, surrogate=linear_softmax_model(weights * 2, bias))
    again = audit.AuditResult.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again == report
    assert str(again) == str(report)
    assert list(again.pgd_accuracy_by_eps) == list(HONEST_EPS_VALUES)
    # Both transfer attacks are kept; the symptom uses the stronger one.
    transfer = report["transfer_beats_white_box"].measured
    assert transfer["transfer_accuracy"] == min(transfer["transfer_fgsm_accuracy"], transfer["transfer_pgd_accuracy"])
    summary = report.summary()
    assert summary["clean"] == 1.0 and summary["transfer"] == transfer["transfer_accuracy"]
    assert summary["pgd_at_largest_eps"] == report.pgd_accuracy_by_eps[max(HONEST_EPS_VALUES)]
    # Not checked without a surrogate: the summary says so with None, and JSON keeps it.
    unchecked = audit.audit(model, x, y, eps_values=HONEST_EPS_VALUES)
    assert unchecked.summary()["transfer"] is None
    assert audit.AuditResult.from_dict(json.loads(json.dumps(unchecked.to_dict()))) == unchecked
    with pytest.raises(ValueError, match="to_dict"):
        audit.AuditResult.from_dict({"eps": 0.01})


class PhaseJitter(keras.layers.Layer):
    """``x + amplitude * sin(frequency * x + phase)`` with a fresh uniform phase per pixel and call.

    It moves a pixel by at most ``amplitude`` (1e-3 here, far below eps), but the
    derivative ``1 + amplitude * frequency * cos(...)`` has a random sign whenever
    ``amplitude * frequency > 1``: one draw's gradient is noise, while the mean over draws
    is the linear model's own gradient. A random defence that only hides the gradient.
    """

    def __init__(self, amplitude, frequency, **kwargs):
        super().__init__(**kwargs)
        self.amplitude, self.frequency = amplitude, frequency
        self.seed_generator = keras.random.SeedGenerator(1)

    def call(self, images):
        phase = keras.random.uniform(keras.ops.shape(images), 0.0, 2 * np.pi, seed=self.seed_generator)
        return images + self.amplitude * keras.ops.sin(self.frequency * images + phase)


def jittered_linear_model(weights, bias, frequency):
    inputs = keras.Input(shape=(4, 4, 3))
    return keras.Model(inputs, linear_softmax_model(weights, bias)(PhaseJitter(1e-3, frequency)(inputs)))


def test_randomness_that_hides_the_gradient_is_flagged_and_harmless_randomness_is_not(linear_case):
    weights, bias, x, _ = linear_case
    y = predictions(weights, bias, x)
    hiding = audit.audit(
        jittered_linear_model(weights, bias, 5000.0), x, y, eps=0.1, eps_values=HONEST_EPS_VALUES, eot_samples=20
    )
    measured = hiding["randomness_hides_gradients"].measured
    assert measured["randomized"] == 1.0
    assert hiding["randomness_hides_gradients"].flagged is True
    assert measured["eot_pgd_accuracy"] < measured["pgd_accuracy"] - 0.2
    # A slow jitter (derivative 1 +- 0.001) leaves the gradient's sign alone: random, not hiding.
    harmless = audit.audit(jittered_linear_model(weights, bias, 1.0), x, y, eps=0.1, eps_values=HONEST_EPS_VALUES)
    assert harmless["randomness_hides_gradients"].measured["randomized"] == 1.0
    assert harmless["randomness_hides_gradients"].flagged is False
    # A deterministic model is recognised as such and the check costs no EOT attack.
    deterministic = audit.audit(linear_softmax_model(weights, bias), x, y, eps_values=HONEST_EPS_VALUES)
    assert deterministic["randomness_hides_gradients"].measured["randomized"] == 0.0
    assert deterministic["randomness_hides_gradients"].flagged is False
    assert deterministic.summary()["eot_pgd"] is None
    assert hiding.summary()["eot_pgd"] == measured["eot_pgd_accuracy"]


@pytest.mark.parametrize("eot_samples", [1, 0, 2.5, True, "10"])
def test_bad_eot_samples_are_refused(linear_case, eot_samples):
    weights, bias, x, _ = linear_case
    with pytest.raises(ValueError, match="eot_samples"):
        audit.audit(linear_softmax_model(weights, bias), x, predictions(weights, bias, x), eot_samples=eot_samples)

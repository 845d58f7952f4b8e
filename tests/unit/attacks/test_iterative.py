"""PGD, EOT, transfer and the margin loss, checked on linear models with known answers."""

import keras
import numpy as np
import pytest

from advlib import models
from advlib.attacks import iterative as strong_attacks, one_step as attacks
from tests.support.linear_models import closed_form_gradient, linear_softmax_model


def per_example_loss(model, x, y, classes=10):
    _, loss = attacks.input_gradient_function(model)(x, np.eye(classes, dtype=np.float32)[y])
    return loss.numpy()


def test_one_pgd_step_from_x_of_size_eps_is_fgsm(linear_case):
    weights, bias, x, y = linear_case
    model = linear_softmax_model(weights, bias)
    for clip in ((0.0, 1.0), None):
        pgd = strong_attacks.pgd(model, x, y, 0.03, steps=1, step_size=0.03, random_start=False, clip=clip)
        np.testing.assert_array_equal(pgd, attacks.fgsm(model, x, y, 0.03, clip=clip))
        np.testing.assert_array_equal(strong_attacks.eot_fgsm(model, x, y, 0.03, samples=3, clip=clip), pgd)
    # Pixels at exactly 0 and 1 exercise the clip to [0, 1].
    x_edges = np.random.default_rng(1).integers(0, 2, size=x.shape).astype(np.float32)
    np.testing.assert_array_equal(
        strong_attacks.pgd(model, x_edges, y, 0.1, steps=1, step_size=0.1, random_start=False),
        attacks.fgsm(model, x_edges, y, 0.1),
    )


@pytest.mark.parametrize("random_start", [True, False])
def test_pgd_stays_in_the_eps_ball_and_the_unit_interval(linear_case, random_start):
    weights, bias, _, y = linear_case
    model = linear_softmax_model(weights, bias)
    # Half the pixels at 0 or 1, where the ball leaves [0, 1]; a step far larger than eps.
    rng = np.random.default_rng(3)
    x = np.where(rng.random((16, 4, 4, 3)) < 0.5, rng.integers(0, 2, (16, 4, 4, 3)), rng.random((16, 4, 4, 3)))
    x = x.astype(np.float32)
    x_adv = strong_attacks.pgd(model, x, y, 0.05, steps=5, step_size=0.2, random_start=random_start, seed=0)
    assert x_adv.dtype == np.float32 and x_adv.shape == x.shape
    assert np.all(np.abs(x_adv - x) <= np.float32(0.05) + 1e-7)
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    # Away from 0 and 1 the large steps end on the boundary of the ball.
    inside = (x > 0.05) & (x < 0.95)
    np.testing.assert_allclose(np.abs(x_adv - x)[inside], 0.05, rtol=1e-4)


def test_pgd_is_at_least_as_strong_as_fgsm_on_a_linear_model(linear_case):
    weights, bias, x, y = linear_case
    model = linear_softmax_model(weights, bias)
    fgsm_loss = per_example_loss(model, attacks.fgsm(model, x, y, 0.05), y)
    x_pgd = strong_attacks.pgd(model, x, y, 0.05, steps=20, seed=0)
    pgd_loss = per_example_loss(model, x_pgd, y)
    assert np.all(pgd_loss >= fgsm_loss - 1e-5)
    assert pgd_loss.mean() > fgsm_loss.mean()


@pytest.mark.parametrize("loss", [None, strong_attacks.margin_loss], ids=["cross_entropy", "margin"])
def test_pgd_reaches_the_worst_case_of_a_two_class_linear_model(loss):
    # For two classes the loss grows along w_wrong - w_true whatever x is, so the worst case
    # on the L-inf ball (intersected with [0, 1]) is the corner x + eps * sign(w_wrong - w_true).
    rng = np.random.default_rng(5)
    weights, bias = rng.normal(size=(48, 2)), rng.normal(size=2) * 0.1
    model = linear_softmax_model(weights, bias)
    x = rng.uniform(0.0, 1.0, size=(12, 4, 4, 3)).astype(np.float32)
    y = rng.integers(0, 2, size=12)
    direction = weights[:, 1 - y] - weights[:, y]  # (48, N): w_wrong - w_true per example
    worst = np.clip(x + np.float32(0.1) * np.sign(direction.T).reshape(x.shape).astype(np.float32), 0, 1)
    x_adv = strong_attacks.pgd(model, x, y, 0.1, steps=10, seed=0, loss=loss)
    np.testing.assert_allclose(x_adv, worst, atol=1e-6)


def test_random_start_is_seeded_and_batching_does_not_change_it(linear_case):
    weights, bias, x, y = linear_case
    model = linear_softmax_model(weights, bias)
    # One step smaller than eps keeps some of the random start in the result.
    options = dict(steps=1, step_size=0.01)
    first = strong_attacks.pgd(model, x, y, 0.05, seed=7, **options)
    np.testing.assert_array_equal(first, strong_attacks.pgd(model, x, y, 0.05, seed=7, batch_size=3, **options))
    assert not np.array_equal(first, strong_attacks.pgd(model, x, y, 0.05, seed=8, **options))
    assert not np.array_equal(first, strong_attacks.pgd(model, x, y, 0.05, random_start=False, **options))


def test_eps_zero_returns_x(linear_case):
    weights, bias, x, y = linear_case
    model = linear_softmax_model(weights, bias)
    np.testing.assert_array_equal(strong_attacks.pgd(model, x, y, 0.0, seed=0), x)
    np.testing.assert_array_equal(strong_attacks.eot_fgsm(model, x, y, 0.0), x)


def test_eot_averages_away_the_noise_a_single_draw_sees(linear_case):
    weights, bias, x, y = linear_case
    model = linear_softmax_model(weights, bias)
    # Noise of 0.15 moves the logits enough to flip the gradient's sign on a few percent of
    # pixels in one draw. x lies in [0.2, 0.8], so the noise layer never clips (which
    # would zero the gradient there) and the noise-free gradient is the closed form.
    noise_free_sign = np.sign(closed_form_gradient(weights, bias, x, y))

    def agreement(x_adv):
        return np.mean(np.sign(x_adv - x) == noise_free_sign)

    single = agreement(attacks.fgsm(models.with_input_noise(model, 0.15, seed=1), x, y, 1e-3, clip=None))
    averaged = agreement(
        strong_attacks.eot_fgsm(models.with_input_noise(model, 0.15, seed=1), x, y, 1e-3, samples=200, clip=None)
    )
    assert single < 0.98
    assert averaged > 0.99
    # With one sample EOT is plain FGSM: the same seeded noise gives the same single draw.
    np.testing.assert_array_equal(
        strong_attacks.eot_fgsm(models.with_input_noise(model, 0.15, seed=2), x, y, 0.01, samples=1),
        attacks.fgsm(models.with_input_noise(model, 0.15, seed=2), x, y, 0.01),
    )


def test_eot_pgd_on_a_deterministic_model_is_pgd(linear_case):
    weights, bias, x, y = linear_case
    model = linear_softmax_model(weights, bias)
    np.testing.assert_array_equal(
        strong_attacks.eot_pgd(model, x, y, 0.03, samples=3, seed=0), strong_attacks.pgd(model, x, y, 0.03, seed=0)
    )


def test_eot_pgd_fools_a_noise_defended_model_at_least_as_often_as_pgd(linear_case):
    weights, bias, x, _ = linear_case
    model = linear_softmax_model(weights, bias)
    y = np.argmax(x.reshape(len(x), -1) @ weights + bias, axis=1)
    noisy = models.with_input_noise(model, 0.15, seed=0)
    # Judged on the noise-free model, so the measurement itself is not noisy.
    eot_loss = per_example_loss(model, strong_attacks.eot_pgd(noisy, x, y, 0.03, samples=50, seed=0), y)
    pgd_loss = per_example_loss(model, strong_attacks.pgd(noisy, x, y, 0.03, seed=0), y)
    assert eot_loss.mean() >= pgd_loss.mean()


def test_temperature_and_logits_see_through_a_saturated_softmax(linear_case):
    weights, bias, x, _ = linear_case
    scaled = weights * 1e4
    y = np.argmax(x.reshape(len(x), -1) @ scaled + bias, axis=1)
    model = linear_softmax_model(scaled, bias)
    np.testing.assert_array_equal(strong_attacks.pgd(model, x, y, 0.03, random_start=False), x)
    # Logit gaps of ~1e4 saturate even the cross-entropy of the logits: softmax(logits) is
    # exactly one-hot in float32 (exp(-1e4) underflows), so from_logits gives zero
    # gradients here too. The margin never saturates; the temperature undoes the scale.
    np.testing.assert_array_equal(strong_attacks.pgd(model, x, y, 0.03, random_start=False, from_logits=True), x)
    for options in (dict(temperature=1e4), dict(loss=strong_attacks.margin_loss)):
        x_adv = strong_attacks.pgd(model, x, y, 0.03, random_start=False, **options)
        assert np.all(x_adv != x), options


def test_margin_gradient_is_the_difference_of_two_weight_rows_even_when_saturated(linear_case):
    weights, bias, x, _ = linear_case
    scaled = weights * 1e4
    logits = x.reshape(len(x), -1).astype(np.float64) @ scaled + bias
    y = np.argmax(logits, axis=1)
    model = linear_softmax_model(scaled, bias)
    y_onehot = np.eye(10, dtype=np.float32)[y]
    cross_entropy_gradient, _ = strong_attacks.loss_gradient_function(model)(x, y_onehot)
    assert np.all(cross_entropy_gradient.numpy() == 0.0)
    gradient, margin = strong_attacks.loss_gradient_function(model, loss=strong_attacks.margin_loss)(x, y_onehot)
    runner_up = np.argsort(logits, axis=1)[:, -2]
    expected = (scaled[:, runner_up] - scaled[:, y]).T.reshape(x.shape)
    np.testing.assert_allclose(gradient.numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(margin.numpy(), logits[np.arange(len(x)), runner_up] - logits.max(axis=1), rtol=1e-4)


def test_transfer_returns_the_surrogates_adversarial_examples(linear_case):
    weights, bias, x, y = linear_case
    source, target = linear_softmax_model(weights, bias), linear_softmax_model(-weights, bias)
    np.testing.assert_array_equal(
        strong_attacks.transfer(source, target, x, y, 0.03), attacks.fgsm(source, x, y, 0.03)
    )
    np.testing.assert_array_equal(
        strong_attacks.transfer(source, target, x, y, 0.03, attack=strong_attacks.pgd, seed=0),
        strong_attacks.pgd(source, x, y, 0.03, seed=0),
    )
    assert not np.array_equal(attacks.fgsm(source, x, y, 0.03), attacks.fgsm(target, x, y, 0.03))


def _other_model(input_shape, classes):
    inputs = keras.Input(shape=input_shape)
    return keras.Model(inputs, keras.layers.Dense(classes, activation="softmax")(keras.layers.Flatten()(inputs)))


def test_transfer_rejects_models_that_do_not_match(linear_case):
    weights, bias, x, y = linear_case
    source = linear_softmax_model(weights, bias)
    with pytest.raises(ValueError, match="input shape"):
        strong_attacks.transfer(source, _other_model((8, 8, 3), 10), x, y, 0.03)
    with pytest.raises(ValueError, match="classes"):
        strong_attacks.transfer(source, _other_model((4, 4, 3), 5), x, y, 0.03)
    with pytest.raises(ValueError, match="attack"):
        strong_attacks.transfer(source, source, x, y, 0.03, attack="fgsm")


def test_eot_fgsm_and_pgd_reject_bad_samples_and_steps(linear_case):
    weights, bias, x, y = linear_case
    model = linear_softmax_model(weights, bias)
    with pytest.raises(ValueError, match="samples"):
        strong_attacks.eot_fgsm(model, x, y, 0.01, samples=-1)
    with pytest.raises(ValueError, match="steps"):
        strong_attacks.pgd(model, x, y, 0.01, steps=0)

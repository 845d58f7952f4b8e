"""FGSM and the random-sign control, checked against independent computations."""

import numpy as np
import pytest

from advlib import models
from advlib.attacks import one_step as attacks
from tests.support.linear_models import closed_form_gradient, linear_softmax_model


# The upper clip bound of the probabilities, 1 - 1e-7, in float32. A saturated float32
# softmax gives its top class 1.0 or, when TensorFlow sums the row in another order (as its
# vectorised CPU kernels do for a batch), the float32 just below 1.0, 1 - 2**-24; both lie
# above this bound, where the clip is active and the gradient of the loss exactly zero.
CLIP_BOUND = np.float32(1 - 1e-7)


@pytest.mark.parametrize("temperature", [1.0, 3.0])
def test_sign_pattern_matches_the_closed_form(linear_case, temperature):
    weights, bias, x, y = linear_case
    model = linear_softmax_model(weights, bias, temperature)
    x_adv = attacks.fgsm(model, x, y, eps=0.01, clip=None)
    expected_sign = np.sign(closed_form_gradient(weights, bias, x, y, temperature))
    np.testing.assert_array_equal(np.sign(x_adv - x), expected_sign)


def test_temperature_argument_attacks_the_same_weights_at_another_temperature(linear_case):
    weights, bias, x, y = linear_case
    model = linear_softmax_model(weights, bias, 1.0)
    x_adv = attacks.fgsm(model, x, y, eps=0.01, temperature=5.0, clip=None)
    np.testing.assert_array_equal(np.sign(x_adv - x), np.sign(closed_form_gradient(weights, bias, x, y, 5.0)))


def test_perturbation_has_infinity_norm_eps_before_clipping(linear_case):
    weights, bias, x, y = linear_case
    model = linear_softmax_model(weights, bias)
    x_adv = attacks.fgsm(model, x, y, eps=0.03, clip=None)
    np.testing.assert_allclose(np.abs(x_adv - x), 0.03, rtol=1e-5)


def test_eps_zero_returns_x(linear_case):
    weights, bias, x, y = linear_case
    np.testing.assert_array_equal(attacks.fgsm(linear_softmax_model(weights, bias), x, y, eps=0.0), x)
    np.testing.assert_array_equal(attacks.random_sign(x, eps=0.0, seed=0), x)


def test_result_stays_in_the_unit_interval(linear_case):
    weights, bias, _, y = linear_case
    # Pixels at exactly 0 and 1 are the ones a step can push outside.
    x = np.random.default_rng(2).integers(0, 2, size=(16, 4, 4, 3)).astype(np.float32)
    x_adv = attacks.fgsm(linear_softmax_model(weights, bias), x, y, eps=0.1)
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    assert np.any(x_adv != x)
    noisy = attacks.random_sign(x, eps=0.1, seed=0)
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0


def test_saturated_softmax_gives_an_all_zero_perturbation(linear_case):
    weights, bias, x, y = linear_case
    # Logits scaled by 1e4 saturate a float32 softmax; put the true class on top so every
    # example is "correct" with a probability above the clip bound.
    scaled = weights * 1e4
    flat = x.reshape(len(x), -1)
    y = np.argmax(flat @ scaled + bias, axis=1)
    model = linear_softmax_model(scaled, bias)
    assert np.all(model(x).numpy().max(axis=1) > CLIP_BOUND)
    np.testing.assert_array_equal(attacks.fgsm(model, x, y, eps=0.01), x)
    # The attacker who raises the temperature sees the gradient again.
    assert np.all(attacks.fgsm(model, x, y, eps=0.01, temperature=1e4, clip=None) != x)


def test_logit_loss_keeps_gradients_a_saturated_softmax_loses(linear_case):
    weights, bias, x, _ = linear_case
    # At this scale some, not all, softmax outputs are saturated (above the clip bound) in float32.
    scaled = weights * 10
    y = np.argmax(x.reshape(len(x), -1) @ scaled + bias, axis=1)
    model = linear_softmax_model(scaled, bias)
    saturated = model(x).numpy().max(axis=1) > CLIP_BOUND
    assert 0 < saturated.sum() < len(x)
    unchanged = np.all(attacks.fgsm(model, x, y, clip=None) == x, axis=(1, 2, 3))
    np.testing.assert_array_equal(unchanged, saturated)
    assert np.all(attacks.fgsm(model, x, y, from_logits=True, clip=None) != x)


def test_batching_does_not_change_the_result(linear_case):
    weights, bias, x, y = linear_case
    model = linear_softmax_model(weights, bias)
    np.testing.assert_array_equal(
        attacks.fgsm(model, x, y, batch_size=3), attacks.fgsm(model, x, y, batch_size=100)
    )


def test_one_hot_and_integer_labels_agree(linear_case):
    weights, bias, x, y = linear_case
    model = linear_softmax_model(weights, bias)
    np.testing.assert_array_equal(attacks.fgsm(model, x, y), attacks.fgsm(model, x, np.eye(10)[y]))


def test_fgsm_on_the_cnn_matches_a_finite_difference():
    model = models.build_cnn(seed=0)
    rng = np.random.default_rng(0)
    x = rng.uniform(0.1, 0.9, size=(1, 32, 32, 3)).astype(np.float32)
    y = np.array([3])
    gradient, loss = attacks.input_gradient_function(model)(x, np.eye(10, dtype=np.float32)[y])
    gradient = gradient.numpy()[0]
    # Step along the gradient direction: the loss change should be close to |grad|^2 * h.
    h = 1e-3
    direction = gradient / np.linalg.norm(gradient)
    x_plus = (x[0] + h * direction)[None].astype(np.float32)
    _, loss_plus = attacks.input_gradient_function(model)(x_plus, np.eye(10, dtype=np.float32)[y])
    finite_difference = (loss_plus.numpy()[0] - loss.numpy()[0]) / h
    np.testing.assert_allclose(finite_difference, np.linalg.norm(gradient), rtol=0.05)


def test_random_sign_is_plus_or_minus_eps_and_seeded():
    x = np.full((4, 8, 8, 3), 0.5, dtype=np.float32)
    first = attacks.random_sign(x, eps=0.01, seed=1)
    np.testing.assert_allclose(np.abs(first - x), 0.01, rtol=1e-5)
    np.testing.assert_array_equal(first, attacks.random_sign(x, eps=0.01, seed=1))
    assert not np.array_equal(first, attacks.random_sign(x, eps=0.01, seed=2))
    # Both signs occur in roughly equal numbers.
    assert 0.4 < np.mean(first > x) < 0.6


def test_random_sign_rejects_bad_input():
    with pytest.raises(ValueError, match="eps"):
        attacks.random_sign(np.zeros((1, 4, 4, 3), np.float32), eps=-1)
    with pytest.raises(ValueError, match="outside"):
        attacks.random_sign(np.full((1, 4, 4, 3), -0.5, np.float32))

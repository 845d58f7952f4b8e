"""Accuracy, perturbed accuracy and gradient norms on models with known answers."""

import numpy as np
import pytest

from advlib import evaluation
from tests.test_attacks import closed_form_gradient, linear_softmax_model


@pytest.fixture
def linear_case():
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(48, 10)) * 0.5
    bias = rng.normal(size=10) * 0.1
    x = rng.uniform(0.2, 0.8, size=(40, 4, 4, 3)).astype(np.float32)
    y = rng.integers(0, 10, size=40)
    return weights, bias, x, y


def test_accuracy_counts_argmax_matches(linear_case):
    weights, bias, x, y = linear_case
    model = linear_softmax_model(weights, bias)
    predictions = np.argmax(x.reshape(len(x), -1) @ weights + bias, axis=1)
    assert evaluation.accuracy(model, x, y, batch_size=7) == pytest.approx(np.mean(predictions == y))
    assert evaluation.accuracy(model, x, predictions) == 1.0


def test_agreement_counts_equal_predictions_of_two_models(linear_case):
    weights, bias, x, y = linear_case
    first = np.argmax(x.reshape(len(x), -1) @ weights + bias, axis=1)
    # Swapping two classes' weights changes the prediction exactly where one of them wins;
    # the first image's class wins at least once.
    swap = [first[0], (first[0] + 1) % 10]
    other_weights, other_bias = weights.copy(), bias.copy()
    other_weights[:, swap] = other_weights[:, swap[::-1]]
    other_bias[swap] = other_bias[swap[::-1]]
    second = np.argmax(x.reshape(len(x), -1) @ other_weights + other_bias, axis=1)
    assert 0.0 < np.mean(first == second) < 1.0, "the hand-made case must have both agreements and disagreements"
    model, other = linear_softmax_model(weights, bias), linear_softmax_model(other_weights, other_bias)
    assert evaluation.agreement(model, other, x, batch_size=7) == pytest.approx(np.mean(first == second))
    assert evaluation.agreement(model, model, x) == 1.0
    # imitation() gives the same three numbers from one prediction per model.
    assert evaluation.imitation(other, model, x, y, batch_size=7) == pytest.approx({
        "agreement": np.mean(first == second),
        "student_accuracy": np.mean(second == y),
        "teacher_accuracy": np.mean(first == y),
    })


def test_perturbed_accuracy_uses_the_attack_models_gradients(linear_case):
    weights, bias, x, y = linear_case
    model = linear_softmax_model(weights, bias)
    other = linear_softmax_model(-weights, bias)
    # Independent computation: FGSM by the closed-form gradient of each source model.
    for source_weights, attack_model in ((weights, None), (-weights, other)):
        gradient = closed_form_gradient(source_weights, bias, x, y)
        x_adv = np.clip(x + 0.05 * np.sign(gradient), 0, 1)
        expected = np.mean(np.argmax(x_adv.reshape(len(x), -1) @ weights + bias, axis=1) == y)
        observed = evaluation.perturbed_accuracy(model, x, y, 0.05, attack_model=attack_model)
        assert observed == pytest.approx(expected)


def test_gradient_norms_match_the_closed_form(linear_case):
    weights, bias, x, y = linear_case
    model = linear_softmax_model(weights, bias)
    result = evaluation.gradient_norms(model, x, y, batch_size=9)
    expected = np.linalg.norm(closed_form_gradient(weights, bias, x, y).reshape(len(x), -1), axis=1)
    np.testing.assert_allclose(result.norms, expected, rtol=1e-4)
    predictions = np.argmax(x.reshape(len(x), -1) @ weights + bias, axis=1)
    np.testing.assert_array_equal(result.correct, predictions == y)
    assert result.zero_fraction == 0.0


def test_saturated_model_has_exactly_zero_gradients_and_zero_loss(linear_case):
    weights, bias, x, _ = linear_case
    scaled = weights * 1e4
    y = np.argmax(x.reshape(len(x), -1) @ scaled + bias, axis=1)
    model = linear_softmax_model(scaled, bias)
    result = evaluation.gradient_norms(model, x, y)
    assert result.zero_fraction == 1.0
    assert result.zero_fraction_correct == 1.0
    # The clipped loss of a probability of exactly 1.0 is -log(1 - 1e-7), not a true zero.
    assert np.all(result.losses < 1e-6)
    # Raising the temperature brings the gradients back.
    assert evaluation.gradient_norms(model, x, y, temperature=1e4).zero_fraction == 0.0

"""Accuracy, perturbed accuracy and gradient norms on models with known answers."""

import numpy as np
import pytest

from advlib.evaluation import metrics as evaluation
from tests.support.linear_models import closed_form_gradient, linear_case, linear_softmax_model


@pytest.fixture
def forty_image_case():
    """conftest's linear case with 40 images: enough for two models to agree on some and disagree on others."""
    return linear_case(images=40)


def test_accuracy_counts_argmax_matches(forty_image_case):
    weights, bias, x, y = forty_image_case
    model = linear_softmax_model(weights, bias)
    predictions = np.argmax(x.reshape(len(x), -1) @ weights + bias, axis=1)
    assert evaluation.accuracy(model, x, y, batch_size=7) == pytest.approx(np.mean(predictions == y))
    assert evaluation.accuracy(model, x, predictions) == 1.0


def test_agreement_counts_equal_predictions_of_two_models(forty_image_case):
    weights, bias, x, y = forty_image_case
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


def test_perturbed_accuracy_uses_the_attack_models_gradients(forty_image_case):
    weights, bias, x, y = forty_image_case
    model = linear_softmax_model(weights, bias)
    other = linear_softmax_model(-weights, bias)
    # Independent computation: FGSM by the closed-form gradient of each source model.
    for source_weights, attack_model in ((weights, None), (-weights, other)):
        gradient = closed_form_gradient(source_weights, bias, x, y)
        x_adv = np.clip(x + 0.05 * np.sign(gradient), 0, 1)
        expected = np.mean(np.argmax(x_adv.reshape(len(x), -1) @ weights + bias, axis=1) == y)
        observed = evaluation.perturbed_accuracy(model, x, y, 0.05, attack_model=attack_model)
        assert observed == pytest.approx(expected)


def test_gradient_norms_match_the_closed_form(forty_image_case):
    weights, bias, x, y = forty_image_case
    model = linear_softmax_model(weights, bias)
    result = evaluation.gradient_norms(model, x, y, batch_size=9)
    expected = np.linalg.norm(closed_form_gradient(weights, bias, x, y).reshape(len(x), -1), axis=1)
    np.testing.assert_allclose(result.norms, expected, rtol=1e-4)
    predictions = np.argmax(x.reshape(len(x), -1) @ weights + bias, axis=1)
    np.testing.assert_array_equal(result.correct, predictions == y)
    assert result.zero_fraction == 0.0


def test_saturated_model_has_exactly_zero_gradients_and_zero_loss(forty_image_case):
    weights, bias, x, _ = forty_image_case
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


def test_perturbed_accuracy_scores_the_target_on_a_surrogates_examples(forty_image_case):
    weights, bias, x, _ = forty_image_case
    flat = x.reshape(len(x), -1)
    # Labels the target predicts: its clean accuracy is 1, so only the attack lowers it.
    y = np.argmax(flat @ weights + bias, axis=1)
    target = linear_softmax_model(weights, bias)
    surrogate_weights = np.random.default_rng(1).normal(size=weights.shape) * 0.5
    surrogate = linear_softmax_model(surrogate_weights, bias)
    x_adv = np.clip(x + 0.05 * np.sign(closed_form_gradient(surrogate_weights, bias, x, y)), 0, 1).reshape(len(x), -1)
    target_score = np.mean(np.argmax(x_adv @ weights + bias, axis=1) == y)
    surrogate_score = np.mean(np.argmax(x_adv @ surrogate_weights + bias, axis=1) == y)
    # The fixture tells the two apart: the surrogate disagrees with the target's labels
    # and is fooled by its own examples, while the target mostly resists them.
    assert target_score > 0.9 and surrogate_score < 0.1
    observed = evaluation.perturbed_accuracy(target, x, y, 0.05, attack_model=surrogate)
    assert observed == pytest.approx(target_score)
    # Without attack_model the target is attacked with its own gradients, which do better.
    own = np.clip(x + 0.05 * np.sign(closed_form_gradient(weights, bias, x, y)), 0, 1).reshape(len(x), -1)
    white_box = np.mean(np.argmax(own @ weights + bias, axis=1) == y)
    assert white_box < target_score - 0.3
    assert evaluation.perturbed_accuracy(target, x, y, 0.05) == pytest.approx(white_box)


def test_imitation_scores_each_model_by_its_own_classes(forty_image_case):
    weights, bias, x, _ = forty_image_case
    flat = x.reshape(len(x), -1)
    teacher_classes = np.argmax(flat @ weights + bias, axis=1)
    # A student that imitates the teacher on some images only: the teacher's weights plus noise.
    student_weights = weights + np.random.default_rng(2).normal(size=weights.shape) * 0.2
    student_classes = np.argmax(flat @ student_weights + bias, axis=1)
    agreement = np.mean(student_classes == teacher_classes)
    assert 0.2 < agreement < 0.9, "teacher and student must disagree on some images and agree on others"
    teacher, student = linear_softmax_model(weights, bias), linear_softmax_model(student_weights, bias)
    # On the teacher's own classes the teacher scores 1 and the student its agreement;
    # on the student's classes it is the other way round.
    assert evaluation.imitation(student, teacher, x, teacher_classes) == pytest.approx(
        {"agreement": agreement, "student_accuracy": agreement, "teacher_accuracy": 1.0}
    )
    assert evaluation.imitation(student, teacher, x, student_classes, batch_size=7) == pytest.approx(
        {"agreement": agreement, "student_accuracy": 1.0, "teacher_accuracy": agreement}
    )

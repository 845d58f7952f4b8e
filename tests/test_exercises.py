"""advlib.exercises: a right answer passes, and each typical mistake gets its own hint."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from advlib import exercises


def fgsm_variant(step=1.0, clip=True, use_sign=True, differentiate="loss", return_perturbation=False):
    """An FGSM written as a student would, with one mistake switched on by the arguments."""

    def attack(model, x, y, eps):
        x = tf.convert_to_tensor(x)
        y_one_hot = tf.one_hot(y, 10)
        with tf.GradientTape() as tape:
            tape.watch(x)
            probabilities = model(x, training=False)
            if differentiate == "loss":
                objective = keras.losses.categorical_crossentropy(y_one_hot, probabilities)
            else:  # the true label's probability
                objective = tf.reduce_sum(y_one_hot * probabilities, axis=-1)
        gradient = tape.gradient(objective, x)
        direction = tf.sign(gradient) if use_sign else gradient
        perturbation = step * eps * direction
        if return_perturbation:
            return tf.clip_by_value(perturbation, 0.0, 1.0)
        result = x + perturbation
        return tf.clip_by_value(result, 0.0, 1.0) if clip else result

    return attack


def test_a_right_fgsm_passes(capsys):
    result = exercises.check("fgsm", fgsm_variant())
    assert result.passed
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("mistake", "hint"),
    [
        (fgsm_variant(step=-1.0), "sign is flipped"),
        (fgsm_variant(differentiate="probability"), "label's probability"),
        (fgsm_variant(clip=False), "leave [0, 1]"),
        (fgsm_variant(step=2.0), "eps is applied twice"),
        (fgsm_variant(use_sign=False), "gradient itself"),
        (fgsm_variant(return_perturbation=True), "returned the perturbation"),
    ],
)
def test_each_typical_fgsm_mistake_gets_its_hint(mistake, hint):
    result = exercises.check("fgsm", mistake)
    assert not result.passed and hint in result.message


def test_an_fgsm_that_crashes_or_returns_the_wrong_shape_gets_a_hint():
    def no_watch(model, x, y, eps):
        raise AttributeError("'NoneType' object has no attribute 'numpy'")

    assert "tape.watch" in exercises.check("fgsm", no_watch).message
    assert "shape" in exercises.check("fgsm", lambda model, x, y, eps: x[:2]).message


def softmax(z):
    shifted = np.exp(z - z.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@pytest.mark.parametrize(
    ("answer", "passed", "hint"),
    [
        (lambda logits, T: tf.nn.softmax(logits / T).numpy(), True, "match"),
        (lambda logits, T: softmax(logits), False, "softmax at T = 1"),
        (lambda logits, T: softmax(logits * T), False, "multiplied the logits"),
        (lambda logits, T: softmax(logits) / T, False, "divided the probabilities"),
        (lambda logits, T: softmax(logits) ** (1 / T), False, "without normalising"),
    ],
)
def test_soft_labels_right_and_each_typical_mistake(answer, passed, hint):
    result = exercises.check("soft_labels", answer)
    assert result.passed is passed and hint in result.message


def test_unknown_exercises_and_non_functions_are_refused():
    with pytest.raises(ValueError, match="name must be one of 'fgsm', 'soft_labels'"):
        exercises.check("fsgm", fgsm_variant())
    with pytest.raises(ValueError, match="callable"):
        exercises.check("fgsm", "my_fgsm")

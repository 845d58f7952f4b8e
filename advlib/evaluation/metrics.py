"""Accuracy on clean and perturbed images, and the size of the gradients FGSM uses.

All functions take float32 images ``(N, 32, 32, 3)`` in [0, 1] and integer labels
``(N,)`` (one-hot ``(N, 10)`` also works).
"""

import weakref
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from advlib.attacks import one_step

# One batch size for predictions and attacks; only memory depends on it.
DEFAULT_BATCH_SIZE = one_step.DEFAULT_BATCH_SIZE


# One compiled forward pass per model, made on first use: on 2 CPU cores a compiled call
# takes about half the time of an eager one.
_FORWARD_FUNCTIONS = weakref.WeakKeyDictionary()


def _forward_function(model):
    function = _FORWARD_FUNCTIONS.get(model)
    if function is None:

        @tf.function(reduce_retracing=True)
        def function(batch):
            return tf.cast(model(batch, training=False), tf.float32)

        _FORWARD_FUNCTIONS[model] = function
    return function


def predict_probabilities(model, x, *, batch_size=DEFAULT_BATCH_SIZE):
    """Return the model's outputs ``(N, classes)`` as float32, computed in inference mode.

    ``x``: float32 images ``(N, 32, 32, 3)`` in [0, 1]. A model with an input-noise layer
    draws the same noise as an eager call would (the draws come from its seed generator).
    """
    x = one_step.check_images(x, clip=None)
    batch_size = one_step._check_batch_size(batch_size)
    forward = _forward_function(model)
    outputs = [forward(tf.constant(x[start : start + batch_size])).numpy() for start in range(0, len(x), batch_size)]
    return np.concatenate(outputs, axis=0)


def _integer_labels(y, count, num_classes):
    return np.argmax(one_step.check_labels(y, count, num_classes), axis=1)


def accuracy(model, x, y, *, batch_size=DEFAULT_BATCH_SIZE):
    """Fraction of images whose arg-max prediction is the true label, a float in [0, 1]."""
    probabilities = predict_probabilities(model, x, batch_size=batch_size)
    labels = _integer_labels(y, len(probabilities), probabilities.shape[1])
    return float(np.mean(np.argmax(probabilities, axis=1) == labels))


def agreement(model, other, x, *, batch_size=DEFAULT_BATCH_SIZE):
    """Fraction of images on which two models predict the same class, a float in [0, 1].

    ``x``: float32 ``(N, 32, 32, 3)`` in [0, 1]. The labels play no part: this measures how
    closely one model imitates another (a student its teacher), right or wrong.
    """
    first = np.argmax(predict_probabilities(model, x, batch_size=batch_size), axis=1)
    second = np.argmax(predict_probabilities(other, x, batch_size=batch_size), axis=1)
    return float(np.mean(first == second))


def imitation(student, teacher, x, y, *, batch_size=DEFAULT_BATCH_SIZE):
    """How closely ``student`` imitates ``teacher`` on images ``x`` with labels ``y``.

    Returns ``{"agreement", "student_accuracy", "teacher_accuracy"}``, floats in [0, 1]:
    :func:`agreement` and each model's :func:`accuracy`, from one prediction per model.
    """
    student_classes = np.argmax(predict_probabilities(student, x, batch_size=batch_size), axis=1)
    teacher_probabilities = predict_probabilities(teacher, x, batch_size=batch_size)
    teacher_classes = np.argmax(teacher_probabilities, axis=1)
    labels = _integer_labels(y, len(x), teacher_probabilities.shape[1])
    return {
        "agreement": float(np.mean(student_classes == teacher_classes)),
        "student_accuracy": float(np.mean(student_classes == labels)),
        "teacher_accuracy": float(np.mean(teacher_classes == labels)),
    }


def perturbed_accuracy(
    model,
    x,
    y,
    eps=0.01,
    *,
    attack_model=None,
    temperature=None,
    batch_size=DEFAULT_BATCH_SIZE,
):
    """Accuracy of ``model`` on FGSM images made from ``attack_model``'s gradients.

    ``attack_model`` defaults to ``model`` itself (the report's "perturbed dataset");
    passing another model evaluates ``model`` on that model's perturbed set, as the report
    does for the T = 1 student on the T = 50 student's set. ``temperature`` is passed to
    :func:`advlib.attacks.one_step.fgsm`. Every test image is used, whether or not the model
    classified it correctly before the attack, as in the report.
    """
    source = model if attack_model is None else attack_model
    x_adv = one_step.fgsm(source, x, y, eps, temperature=temperature, batch_size=batch_size)
    return accuracy(model, x_adv, y)


@dataclass
class GradientNorms:
    """Per-example L2 norms of the FGSM input gradient.

    Attributes:
        norms: float32 ``(N,)``, the Euclidean norm of d(loss)/dx for each image.
        correct: bool ``(N,)``, whether the model classified the clean image correctly.
        losses: float32 ``(N,)``, the per-example loss the gradient is taken of.
    """

    norms: np.ndarray
    correct: np.ndarray
    losses: np.ndarray

    @property
    def zero_fraction(self):
        """Fraction of images whose gradient is exactly zero (every component 0.0)."""
        return float(np.mean(self.norms == 0.0))

    @property
    def median_correct(self):
        """Median norm over the correctly classified images (NaN if there are none).

        Only a correctly classified image can be made wrong, so this is the gradient size
        that matters to an attacker (the report's Figs. 4-6 look at the same images).
        """
        if not self.correct.any():
            return float("nan")
        return float(np.median(self.norms[self.correct]))

    @property
    def zero_fraction_correct(self):
        """Like :attr:`zero_fraction`, over the correctly classified images only."""
        if not self.correct.any():
            return float("nan")
        return float(np.mean(self.norms[self.correct] == 0.0))


def gradient_norms(model, x, y, *, temperature=None, batch_size=DEFAULT_BATCH_SIZE):
    """Per-example norms of exactly the gradient :func:`advlib.attacks.one_step.fgsm` takes the sign of.

    Returns a :class:`GradientNorms` with the norms, a correctly-classified mask and the
    per-example losses; its ``zero_fraction`` is the share of exactly-zero gradients.
    """
    x = one_step.check_images(x, clip=None)
    batch_size = one_step._check_batch_size(batch_size)
    num_classes = int(model.outputs[0].shape[-1])
    y_onehot = one_step.check_labels(y, len(x), num_classes)
    gradient_and_loss = one_step.input_gradient_function(model, temperature=temperature)
    norms, losses = [], []
    for start in range(0, len(x), batch_size):
        gradient, loss = gradient_and_loss(
            tf.constant(x[start : start + batch_size]), tf.constant(y_onehot[start : start + batch_size])
        )
        flat = tf.reshape(gradient, (tf.shape(gradient)[0], -1))
        norms.append(tf.norm(flat, axis=1).numpy())
        losses.append(loss.numpy())
    probabilities = predict_probabilities(model, x, batch_size=DEFAULT_BATCH_SIZE)
    correct = np.argmax(probabilities, axis=1) == np.argmax(y_onehot, axis=1)
    return GradientNorms(
        norms=np.concatenate(norms).astype(np.float32),
        correct=correct,
        losses=np.concatenate(losses).astype(np.float32),
    )

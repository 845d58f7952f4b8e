"""What the exercise self-checks of :mod:`advlib.exercises` share: the result, the hand-made cases, the comparisons.

The cases are a tiny linear classifier on 4 x 4 x 3 images with fixed random weights, so
a check has a unique right answer and runs in well under a second.
"""

from dataclasses import dataclass

import numpy as np

IMAGE_SHAPE = (4, 4, 3)
CLASSES = 10
# Two answers agree when every entry is this close: float32 rounding between a student's
# TensorFlow and ours, far below the smallest eps or probability the cases use.
TOLERANCE = 1e-5


@dataclass(frozen=True)
class Result:
    """``passed``: the answer agrees with the reference on every case; ``message``: one line for the student."""

    passed: bool
    message: str

    def __repr__(self):
        return ("PASSED: " if self.passed else "NOT YET: ") + self.message


def linear_model(seed=0, scale=None):
    """A classifier with fixed random weights (a Keras model, so students call it as they would
    the CNN): a softmax classifier, or with ``scale`` its logits multiplied by ``scale``."""
    import keras

    generator = np.random.default_rng(seed)
    inputs = keras.Input(IMAGE_SHAPE)
    dense = keras.layers.Dense(CLASSES, activation="softmax" if scale is None else None)
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
    weights = generator.normal(0.0, 1.0, (int(np.prod(IMAGE_SHAPE)), CLASSES)).astype(np.float32)
    bias = generator.normal(0.0, 0.1, CLASSES).astype(np.float32)
    dense.set_weights([weights * (scale or 1.0), bias * (scale or 1.0)])
    return model


def fgsm_cases():
    generator = np.random.default_rng(1)
    x = generator.random((6,) + IMAGE_SHAPE, dtype=np.float32)
    # Pixels at the ends of [0, 1], so that a missing clip shows.
    x[:, 0, 0, :] = 0.0
    x[:, 0, 1, :] = 1.0
    return linear_model(), x, generator.integers(0, CLASSES, 6), 0.05


def input_gradient(model, x, y):
    import keras
    import tensorflow as tf

    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = keras.losses.categorical_crossentropy(tf.one_hot(y, CLASSES), model(x, training=False))
    return tape.gradient(loss, x).numpy()


def close(answer, expected):
    return answer.shape == expected.shape and np.allclose(answer, expected, atol=TOLERANCE, rtol=0.0)


def as_array(answer, shape):
    try:
        array = np.asarray(answer, dtype=np.float32)
    except (TypeError, ValueError):
        return None, f"your function returned {type(answer).__name__}, not an array of shape {shape}"
    if array.shape != shape:
        return None, f"your function returned shape {array.shape}, expected {shape}"
    return array, None


def diagnose(answer, expected, mistakes):
    """The first mistake whose answer ``answer`` equals, or a general hint."""
    for candidate, hint in mistakes:
        if close(answer, candidate):
            return hint
    return "the result matches neither the reference nor a typical mistake: compare it line by line with the equation"


def call(function, *arguments):
    """``(answer, None)``, or ``(None, Result)`` when the student's function raised."""
    try:
        return function(*arguments), None
    except Exception as error:  # The student's code: any failure becomes a hint, never a crash.
        return None, Result(False, f"your function raised {type(error).__name__}: {error}")


def check_cases(function, cases, expected, mistakes, passed_message):
    """Run ``function`` on every argument tuple of ``cases``; compare with ``expected`` and each mistake's answers."""
    answers = []
    for arguments in cases:
        answer, failed = call(function, *arguments)
        if failed:
            return failed
        answers.append(answer)
    if answers == expected:
        return Result(True, passed_message)
    for candidate, hint in mistakes:
        if answers == candidate:
            return Result(False, hint)
    return Result(False, f"your answers {answers} match neither the reference {expected} nor a typical mistake")

"""Self-checks for the exercises where a student writes a method: a verdict and a hint, no grading server.

``check(name, function)`` runs the student's ``function`` on small hand-made cases,
compares it with the reference and, when they differ, with the typical mistakes of that
exercise (a flipped sign, a missing clip, eps applied twice, a softmax at T = 1, ...),
and returns a :class:`Result` whose ``message`` says which one it looks like. It works
wherever the chapters run (Colab included), prints its message, and never raises for a
wrong answer; it raises ValueError only for an unknown exercise name or a ``function``
that is not callable.

The cases are a tiny linear softmax model on 4 x 4 x 3 images with fixed weights, so a
check takes well under a second and has a unique right answer. Exercises:

* ``"fgsm"``: ``function(model, x, y, eps) -> x_adv``; ``model`` maps float32
  ``(N, 4, 4, 3)`` images in [0, 1] to softmax probabilities ``(N, 10)``; ``y`` holds
  integer labels ``(N,)``; ``x_adv`` is ``(N, 4, 4, 3)``, as a NumPy array or a tensor.
* ``"soft_labels"``: ``function(logits, T) -> probabilities``; ``logits`` float32
  ``(N, 10)``, ``T > 0``; the result ``(N, 10)`` rows sum to 1.
* ``"pgd_step"``: ``function(model, x_adv, x, y, eps, step_size) -> x_next``: one PGD step
  from the current images ``x_adv`` (each within eps of the clean ``x``), projected back
  onto the eps-ball around ``x`` and clipped to [0, 1]; arrays as for ``"fgsm"``.
* ``"eot_gradient"``: ``function(model, x, y, samples) -> gradient``: the input gradient
  of the loss averaged over ``samples`` calls of a randomised ``model`` (each call draws
  new noise); the result is float32 ``(N, 4, 4, 3)``.
* ``"gradient_at_temperature"``: ``function(logits_model, x, y, T) -> gradient``: the input
  gradient of Keras's cross-entropy of ``softmax(logits / T)`` (the clipped loss of
  probabilities); ``logits_model`` maps the images to logits ``(N, 10)``.
* ``"dlr_loss"``: ``function(y_onehot, logits) -> losses``: the difference-of-logits-ratio
  loss ``-(z_y - max_{i != y} z_i) / (z_pi1 - z_pi3)`` of float32 ``(N, 10)`` inputs,
  ``(N,)`` out.
* ``"random_sign_copies"``: ``function(x, eps, seed) -> copies``: ``x`` moved by eps up or
  down in every pixel and channel, each direction drawn at random from ``seed``, clipped to
  [0, 1]; the same seed gives the same copies.
* ``"sampling_error"``: ``function(accuracy, n) -> float``: the standard error of an
  accuracy measured on ``n`` test images, ``sqrt(p (1 - p) / n)``.
* ``"steps_per_epoch"``: ``function(images, batch_size) -> int``: the gradient steps of one
  epoch, the last batch possibly smaller.
* ``"conv_parameters"``: ``function(kernel_size, in_channels, filters) -> int``: the weights
  and biases of a square 2-D convolution.
* ``"choose"``: ``function(held_out, clean_goal) -> name``: ``held_out`` maps a candidate's
  name to ``(clean, worst_case)`` accuracies; among the candidates whose clean accuracy
  reaches ``clean_goal``, the one with the highest worst case, and if none does, the one
  with the highest worst case of all.
"""

import numpy as np

from advlib import validate
from advlib.exercises import numbers as exercise_numbers
from advlib.exercises.support import (
    CLASSES,
    IMAGE_SHAPE,
    TOLERANCE,
    Result,
    as_array,
    call,
    close,
    diagnose,
    fgsm_cases,
    input_gradient,
    linear_model,
)

def _check_fgsm(function):
    model, x, y, eps = fgsm_cases()
    answer, failed = call(function, model, x.copy(), y.copy(), eps)
    if failed:
        return Result(False, failed.message + ". Did you tape.watch(x)?")
    answer, problem = as_array(answer, x.shape)
    if problem:
        return Result(False, problem)
    sign = np.sign(input_gradient(model, x, y))
    expected = np.clip(x + eps * sign, 0.0, 1.0)
    if close(answer, expected):
        return Result(True, "your FGSM gives the reference images on every case")
    mistakes = [
        (np.clip(x - eps * sign, 0.0, 1.0), "you stepped down the loss: the sign is flipped, or you differentiated the "
         "true label's probability instead of the loss (its gradient points the other way)"),
        (x + eps * sign, "the images leave [0, 1]: clip x + eps * sign(gradient) to [0, 1]"),
        (np.clip(x + 2 * eps * sign, 0.0, 1.0), "every pixel moved by 2 * eps: eps is applied twice"),
        (np.clip(x + eps * input_gradient(model, x, y), 0.0, 1.0), "you stepped along the gradient itself: FGSM "
         "takes its sign, so that every pixel moves by exactly eps"),
        (np.clip(eps * sign, 0.0, 1.0), "you returned the perturbation: return the adversarial image x + perturbation"),
    ]
    return Result(False, diagnose(answer, expected, mistakes))


def _check_soft_labels(function):
    generator = np.random.default_rng(2)
    logits = generator.normal(0.0, 8.0, (5, CLASSES)).astype(np.float32)
    temperature = 4.0

    def softmax(z):
        shifted = np.exp(z - z.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    answer, failed = call(function, logits.copy(), temperature)
    if failed:
        return failed
    answer, problem = as_array(answer, logits.shape)
    if problem:
        return Result(False, problem)
    expected = softmax(logits / temperature)
    if close(answer, expected):
        return Result(True, "your soft labels match the reference at T = 4")
    mistakes = [
        (softmax(logits), "these are the softmax at T = 1: divide the logits by T before the softmax"),
        (softmax(logits * temperature), "you multiplied the logits by T: divide them, so that a higher T softens"),
        (softmax(logits) ** (1.0 / temperature), "you raised the probabilities to 1/T without normalising again: "
         "divide the logits by T, then take the softmax"),
        (softmax(logits) / temperature, "you divided the probabilities by T: divide the logits, before the softmax"),
        (logits / temperature, "these are the scaled logits: take the softmax of logits / T"),
    ]
    return Result(False, diagnose(answer, expected, mistakes))


def _check_pgd_step(function):
    model, x, y, eps = fgsm_cases()
    # Start on the edge of the eps-ball, so that a step outwards must be projected back.
    start = np.clip(x + eps * np.sign(np.random.default_rng(3).normal(size=x.shape)), 0.0, 1.0).astype(np.float32)
    step_size = eps / 4
    answer, failed = call(function, model, start.copy(), x.copy(), y.copy(), eps, step_size)
    if failed:
        return failed
    answer, problem = as_array(answer, x.shape)
    if problem:
        return Result(False, problem)

    def project(images):
        return np.clip(np.clip(images, x - eps, x + eps), 0.0, 1.0)

    sign = np.sign(input_gradient(model, start, y))
    expected = project(start + step_size * sign)
    if close(answer, expected):
        return Result(True, "your PGD step gives the reference images on every case")
    mistakes = [
        (np.clip(start + step_size * sign, 0.0, 1.0), "pixels end up more than eps from the clean image: after "
         "the step, project onto [x - eps, x + eps] around the clean images x (not around the current ones)"),
        (project(start - step_size * sign), "you stepped down the loss: the sign is flipped"),
        (project(start + step_size * np.sign(input_gradient(model, x, y))), "you took the gradient at the clean "
         "images: PGD recomputes it at the current adversarial images every step"),
        (project(start + eps * sign), "the step has size eps: PGD takes steps of step_size and keeps the total "
         "within eps by the projection"),
    ]
    return Result(False, diagnose(answer, expected, mistakes))


class _NoisyModel:
    """A model whose k-th call adds the k-th of a fixed list of random-sign noises: a randomised
    defence whose draws the check can replay."""

    def __init__(self, model, noises):
        self.model, self.noises, self.calls = model, noises, 0

    def __call__(self, x, training=False):
        import tensorflow as tf

        noise = self.noises[self.calls % len(self.noises)]
        self.calls += 1
        return self.model(tf.clip_by_value(x + noise, 0.0, 1.0), training=training)


def _check_eot_gradient(function):
    import keras
    import tensorflow as tf

    model, x, y, eps = fgsm_cases()
    samples = 4
    noises = [eps * np.sign(np.random.default_rng(10 + k).normal(size=x.shape)).astype(np.float32) for k in range(samples)]
    answer, failed = call(function, _NoisyModel(model, noises), x.copy(), y.copy(), samples)
    if failed:
        return failed
    answer, problem = as_array(answer, x.shape)
    if problem:
        return Result(False, problem)
    gradients = np.stack([input_gradient(_NoisyModel(model, [noise]), x, y) for noise in noises])
    expected = gradients.mean(axis=0)
    if close(answer, expected):
        return Result(True, f"your EOT gradient is the average over the {samples} draws on every case")
    with tf.GradientTape() as tape:
        images = tf.convert_to_tensor(x)
        tape.watch(images)
        noisy = _NoisyModel(model, noises)
        mean_probabilities = tf.reduce_mean(tf.stack([noisy(images) for _ in range(samples)]), axis=0)
        loss = keras.losses.categorical_crossentropy(tf.one_hot(y, CLASSES), mean_probabilities)
    mistakes = [
        (gradients[0], "this is the gradient of one draw: call the model `samples` times and average the gradients"),
        (gradients.sum(axis=0), "you added the gradients up: divide by the number of draws to average them "
         "(the sign is the same, but the value is not the expectation)"),
        (np.sign(gradients).mean(axis=0), "you averaged the signs of the gradients: average the gradients "
         "themselves, then an attack takes the sign of the average"),
        (tape.gradient(loss, images).numpy(), "you averaged the probabilities before the loss: EOT averages the "
         "gradient of the loss over the draws"),
    ]
    return Result(False, diagnose(answer, expected, mistakes))


def _gradient_at(logits_model, x, y, T, from_logits=False, objective="loss"):
    import keras
    import tensorflow as tf

    x = tf.convert_to_tensor(x)
    y_onehot = tf.one_hot(y, CLASSES)
    with tf.GradientTape() as tape:
        tape.watch(x)
        scaled = logits_model(x, training=False) / T
        if from_logits:
            value = keras.losses.categorical_crossentropy(y_onehot, scaled, from_logits=True)
        elif objective == "probability":
            value = tf.reduce_sum(y_onehot * tf.nn.softmax(scaled), axis=-1)
        else:
            value = keras.losses.categorical_crossentropy(y_onehot, tf.nn.softmax(scaled))
    return tape.gradient(value, x).numpy()


def _check_gradient_at_temperature(function):
    _, images, labels, _ = fgsm_cases()
    # Large logits (some rows saturate a float32 softmax even at T = 4) and, from fainter
    # copies of the images, small ones (no row saturates even at T = 1/4), so that each
    # mistake below gives another answer.
    logits_model = linear_model(scale=20.0)
    x = np.concatenate([images, 0.02 * images, 0.1 * images]).astype(np.float32)
    y = np.concatenate([labels, labels, labels])
    T = 4.0
    answer, failed = call(function, logits_model, x.copy(), y.copy(), T)
    if failed:
        return failed
    answer, problem = as_array(answer, x.shape)
    if problem:
        return Result(False, problem)
    expected = _gradient_at(logits_model, x, y, T)
    if close(answer, expected):
        return Result(True, "your gradient at temperature T matches the reference on every case")
    mistakes = [
        (_gradient_at(logits_model, x, y, 1.0), "this is the gradient at T = 1: divide the logits by T before the softmax"),
        (_gradient_at(logits_model, x, y, 1.0 / T), "you multiplied the logits by T: divide them"),
        (_gradient_at(logits_model, x, y, T, from_logits=True), "you took the cross-entropy of the logits: the "
         "chapter's loss is Keras's clipped cross-entropy of the probabilities, whose gradient vanishes when the "
         "softmax saturates"),
        (_gradient_at(logits_model, x, y, T, objective="probability"), "you differentiated the true class's "
         "probability: differentiate the loss"),
    ]
    return Result(False, diagnose(answer, expected, mistakes))


def _check_dlr_loss(function):
    generator = np.random.default_rng(4)
    logits = generator.normal(0.0, 3.0, (8, CLASSES)).astype(np.float32)
    labels = generator.integers(0, CLASSES, 8)
    labels[:4] = logits[:4].argmax(axis=1)  # half correctly classified, so both signs occur
    y_onehot = np.eye(CLASSES, dtype=np.float32)[labels]
    answer, failed = call(function, y_onehot.copy(), logits.copy())
    if failed:
        return failed
    answer, problem = as_array(answer, (len(logits),))
    if problem:
        return Result(False, problem)
    ordered = -np.sort(-logits, axis=1)
    true_logit = logits[np.arange(len(logits)), labels]
    best_other = np.where(y_onehot > 0.5, -np.inf, logits).max(axis=1)
    margin = true_logit - best_other
    expected = -margin / (ordered[:, 0] - ordered[:, 2] + 1e-12)
    if np.allclose(answer, expected, atol=1e-4):
        return Result(True, "your DLR loss matches the reference on every case")
    mistakes = [
        (margin / (ordered[:, 0] - ordered[:, 2]), "the sign is flipped: the loss is minus the margin, so that it "
         "grows as the attack succeeds"),
        (-margin, "this is the margin alone: divide it by z_pi1 - z_pi3, which makes the loss unchanged when the "
         "logits are scaled"),
        (-margin / (ordered[:, 0] - ordered[:, 1] + 1e-12), "your denominator uses the second-largest logit: DLR "
         "divides by the largest minus the third-largest"),
        (-(true_logit - ordered[:, 0]) / (ordered[:, 0] - ordered[:, 2] + 1e-12), "you took the largest logit of "
         "all classes: leave the true class out of the maximum"),
    ]
    for candidate, hint in mistakes:
        if np.allclose(answer, candidate, atol=1e-4):
            return Result(False, hint)
    return Result(False, "the losses match neither the reference nor a typical mistake: compare them with the equation")


def _check_random_sign_copies(function):
    x = np.random.default_rng(5).uniform(0.1, 0.9, (64,) + IMAGE_SHAPE).astype(np.float32)
    x[:, 0, 0, :] = 0.0  # pixels at the ends of [0, 1], so that a missing clip shows
    x[:, 0, 1, :] = 1.0
    eps = 0.05
    first, failed = call(function, x.copy(), eps, 7)
    if failed:
        return failed
    first, problem = as_array(first, x.shape)
    if problem:
        return Result(False, problem)
    again, _ = call(function, x.copy(), eps, 7)
    other, _ = call(function, x.copy(), eps, 8)
    if first.min() < 0.0 or first.max() > 1.0:
        return Result(False, "the copies leave [0, 1]: clip x + eps * signs to [0, 1]")
    interior = x[:, 1:, :, :]
    moved = np.abs(first[:, 1:, :, :] - interior)
    if not np.allclose(moved, eps, atol=TOLERANCE):
        return Result(False, "not every pixel moved by exactly eps: draw signs (+1 or -1), not uniform noise, "
                      "and multiply them by eps")
    up = first[:, 1:, :, :] > interior
    if not 0.45 <= up.mean() <= 0.55:
        return Result(False, f"{up.mean():.0%} of the pixels went up: each direction should be +1 or -1 with "
                      "probability one half")
    if np.mean(up[..., 0] == up[..., 1]) > 0.75:
        return Result(False, "the three colour channels of a pixel move together: draw a sign for every "
                      "channel of every pixel (the shape of x)")
    if again is None or not np.array_equal(np.asarray(again, dtype=np.float32), first):
        return Result(False, "the same seed gave other copies: draw the signs from a generator made from seed")
    if other is not None and np.array_equal(np.asarray(other, dtype=np.float32), first):
        return Result(False, "another seed gave the same copies: use seed when you make the generator")
    return Result(True, "your copies move every pixel by eps in a random direction, clipped, and repeat with the seed")


CHECKS = {
    "fgsm": _check_fgsm,
    "soft_labels": _check_soft_labels,
    "pgd_step": _check_pgd_step,
    "eot_gradient": _check_eot_gradient,
    "gradient_at_temperature": _check_gradient_at_temperature,
    "dlr_loss": _check_dlr_loss,
    "random_sign_copies": _check_random_sign_copies,
    "sampling_error": exercise_numbers.check_sampling_error,
    "steps_per_epoch": exercise_numbers.check_steps_per_epoch,
    "conv_parameters": exercise_numbers.check_conv_parameters,
    "choose": exercise_numbers.check_choose,
}


def check(name, function):
    """Run exercise ``name``'s check on ``function``, print its message and return the :class:`Result`.

    ``name`` is a key of :data:`CHECKS`; the module docstring gives each function's signature.
    """
    validate.one_of(name, "name", tuple(CHECKS))
    if not callable(function):
        raise ValueError(f"function must be the function you wrote (callable), got {type(function).__name__}")
    result = CHECKS[name](function)
    print(repr(result))
    return result

"""Stronger attacks than one FGSM step: PGD, EOT-PGD / EOT-FGSM, transfer, a margin loss.

They live beside :mod:`advlib.attacks` (which holds FGSM, the random-sign control and the
shared argument checks) only to keep each module short; they take and return what
:func:`advlib.attacks.one_step.fgsm` does: float32 images ``(N, 32, 32, 3)`` in [0, 1] (any
``(N, ...)`` shape the model accepts), labels as integers ``(N,)`` or one-hot
``(N, classes)``, and they return float32 images of the shape of ``x``.

Every attack here is an L-inf attack: the result stays within ``eps`` of ``x`` in every
pixel, and within ``clip`` (default [0, 1]). The gradients are those of
:func:`advlib.attacks.one_step.input_gradient_function`, so ``temperature`` and ``from_logits``
mean what they mean for FGSM (a saturated softmax gives exactly zero gradients unless
one of them is used); ``loss=margin_loss`` takes the Carlini-Wagner margin of the logits
instead of a cross-entropy, which does not saturate either. A loss is a callable, never
a string; :mod:`advlib.attacks.registry` maps the names measurements store to them.

References: Madry et al. 2018 (PGD), Athalye, Carlini & Wagner 2018 (EOT, obfuscated
gradients), Carlini & Wagner 2017 (margin loss), Papernot et al. 2016 (transfer).
"""

import inspect
import weakref

import numpy as np
import tensorflow as tf

from advlib import models as _models, validate
from advlib.attacks import one_step as _attacks
from advlib.attacks.one_step import check_images, check_labels, DEFAULT_BATCH_SIZE, fgsm, input_gradient_function

# Madry et al.'s rule of thumb: steps * step_size = 2.5 * eps lets the iterate cross the
# whole ball (2 * eps) from any random start and still move along its boundary.
DEFAULT_STEP_SIZE_FACTOR = 2.5

# One compiled gradient function per (model, loss on the logits); cross-entropy ones are
# cached by advlib.attacks.one_step.input_gradient_function. Weak keys let models be collected.
_LOGIT_GRADIENT_FUNCTIONS = weakref.WeakKeyDictionary()


def margin_loss(y_onehot, logits):
    """Per-example Carlini-Wagner margin ``max_{j != y} z_j - z_y`` of logits ``z``.

    ``y_onehot`` and ``logits`` are float tensors ``(N, classes)``; returns ``(N,)``. It is
    positive exactly when the example is misclassified. Its input gradient is the
    difference of two rows of the last layer's weights for a linear model, so it is never
    zero just because a softmax saturated.
    """
    true_logit = tf.reduce_sum(y_onehot * logits, axis=-1)
    # Replace the true class by the lowest float so it never wins the max over the others.
    lowest = tf.fill(tf.shape(logits), logits.dtype.min)
    best_other_logit = tf.reduce_max(tf.where(y_onehot > 0.5, lowest, logits), axis=-1)
    return best_other_logit - true_logit


def loss_gradient_function(model, *, loss=None, temperature=None, from_logits=False):
    """Return a compiled ``f(x, y_onehot) -> (gradient, loss)`` for batches of one model.

    ``loss=None`` is the report's loss and returns exactly
    :func:`advlib.attacks.one_step.input_gradient_function` ``(model, temperature=...,
    from_logits=...)``. Any other ``loss`` is a callable ``loss(y_onehot, logits) -> (N,)``
    on the logits, such as :func:`margin_loss` (the model needs a dense layer named
    ``"logits"``, as :func:`advlib.models.build_cnn` models have); ``from_logits`` then
    changes nothing, and ``temperature`` must stay ``None`` (it would only rescale the
    logits, which changes no step of a sign attack).
    """
    if loss is None:
        return input_gradient_function(model, temperature=temperature, from_logits=from_logits)
    if not callable(loss):
        raise ValueError(
            f"loss must be None (the cross-entropy of the softmax output) or a callable "
            f"loss(y_onehot, logits) such as advlib.attacks.iterative.margin_loss, got {loss!r}"
        )
    if temperature is not None:
        raise ValueError(
            "temperature must be None with a loss on the logits: dividing the logits by a "
            "temperature only rescales them and changes no step of a sign attack"
        )
    per_model = _LOGIT_GRADIENT_FUNCTIONS.setdefault(model, {})
    if loss in per_model:
        return per_model[loss]
    target = _models.logits_model(model)

    @tf.function(reduce_retracing=True)
    def gradient_and_loss(x_batch, y_batch):
        with tf.GradientTape() as tape:
            tape.watch(x_batch)
            logits = tf.cast(target(x_batch, training=False), tf.float32)
            losses = loss(y_batch, logits)
        # Examples do not interact at inference time, so the gradient of the summed loss
        # holds each example's own input gradient.
        return tape.gradient(losses, x_batch), losses

    per_model[loss] = gradient_and_loss
    return gradient_and_loss


def _check_step_size(step_size, eps, steps):
    if step_size is None:
        return DEFAULT_STEP_SIZE_FACTOR * eps / steps
    return validate.positive_number(step_size, "step_size")


def _sign_of_mean_gradient(gradient_and_loss, x_batch, y_batch, samples):
    """``sign`` of the gradient averaged over ``samples`` calls (one call when samples == 1).

    Each call of a model with randomness in its forward pass (e.g. a
    :class:`advlib.models.RandomSignNoise` layer) draws new randomness, so the average is a
    Monte-Carlo estimate of the expected gradient. The sign of the sum is the sign of the
    mean, so the sum is never divided.
    """
    x_tensor = tf.constant(x_batch)
    total = None
    for _ in range(samples):
        gradient, _ = gradient_and_loss(x_tensor, y_batch)
        total = gradient.numpy() if total is None else total + gradient.numpy()
    return np.sign(total)


def eot_pgd(
    model,
    x,
    y,
    eps,
    *,
    samples=10,
    steps=10,
    step_size=None,
    random_start=True,
    seed=None,
    temperature=None,
    from_logits=False,
    loss=None,
    clip=(0.0, 1.0),
    batch_size=DEFAULT_BATCH_SIZE,
):
    """PGD with Expectation over Transformation (Athalye et al.): each step follows a mean gradient.

    Starting at ``x`` (or at ``x`` plus uniform noise in ``[-eps, eps]`` when
    ``random_start``), repeat ``steps`` times: ``x_adv += step_size * sign(mean gradient)``,
    project onto ``[x - eps, x + eps]``, clip to ``clip``. The last iterate is returned.
    For a model with randomness in its forward pass, such as
    :func:`advlib.models.with_input_noise` (fresh noise on every call), one gradient is
    the gradient for one draw of the noise; each step here takes the sign of the gradient
    summed over ``samples`` forward/backward passes, a Monte-Carlo estimate of the
    gradient of the *expected* loss, which the defence cannot hide. On a deterministic
    model every sample is the same, so ``samples`` only costs time.

    Args:
        model: a Keras model returning softmax probabilities ``(N, classes)``.
        x: float images ``(N, 32, 32, 3)`` in [0, 1] (in ``clip`` when it is given).
        y: true labels, integers ``(N,)`` or one-hot ``(N, classes)``.
        eps: the L-inf radius of the ball, ``>= 0``.
        samples: forward/backward passes per step, an integer ``>= 1``. The noise is the
            model's own (seed it in the model); ``seed`` here only seeds the random start.
        steps: number of gradient steps, an integer ``>= 1``.
        step_size: the L-inf size of each step, ``> 0``; ``None`` means ``2.5 * eps / steps``.
        random_start: start from a uniformly random point of the ball (drawn once for all
            of ``x``, so the result does not depend on ``batch_size``).
        seed: seed of the random start; ``None`` draws a fresh one.
        temperature, from_logits: as for :func:`advlib.attacks.one_step.fgsm`.
        loss: ``None`` (FGSM's cross-entropy of the softmax output) or a callable
            ``loss(y_onehot, logits)`` such as :func:`margin_loss`.
        clip: ``(low, high)`` bounds for the result, or ``None`` for no clipping.
        batch_size: images per gradient computation; only memory depends on it.

    Returns:
        float32 ``x_adv`` with the shape of ``x``, ``|x_adv - x| <= eps`` everywhere and
        inside ``clip``.
    """
    eps = _attacks._check_eps(eps)
    clip = _attacks._check_clip(clip)
    batch_size = _attacks._check_batch_size(batch_size)
    samples = validate.positive_int(samples, "samples")
    steps = validate.positive_int(steps, "steps")
    step_size = _check_step_size(step_size, eps, steps)
    x = check_images(x, clip)
    y_onehot = check_labels(y, len(x), _attacks._num_classes(model))
    gradient_and_loss = loss_gradient_function(model, loss=loss, temperature=temperature, from_logits=from_logits)
    eps32, step_size32 = np.float32(eps), np.float32(step_size)

    if random_start:
        # Drawn for all images at once, so the result does not depend on batch_size.
        unit = np.random.default_rng(seed).random(x.shape, dtype=np.float32)
        x_adv = x + eps32 * (2.0 * unit - 1.0)
        if clip is not None:
            # Re-clip: the random start can push a pixel near 0 or 1 out of range.
            np.clip(x_adv, clip[0], clip[1], out=x_adv)
    else:
        x_adv = x.copy()

    # Filled batch by batch, so only one batch of gradients exists at any time.
    for start in range(0, len(x), batch_size):
        x_batch = x[start : start + batch_size]
        y_batch = tf.constant(y_onehot[start : start + batch_size])
        x_adv_batch = x_adv[start : start + batch_size]
        low, high = x_batch - eps32, x_batch + eps32
        for _ in range(steps):
            x_adv_batch = x_adv_batch + step_size32 * _sign_of_mean_gradient(
                gradient_and_loss, x_adv_batch, y_batch, samples
            )
            # Project onto the L-inf ball of radius eps around the clean image: a step of
            # step_size (or several) can carry a pixel further than eps from x.
            np.clip(x_adv_batch, low, high, out=x_adv_batch)
            if clip is not None:
                # Re-clip: around a pixel within eps of 0 or 1 the ball reaches outside the
                # valid range, and the model never saw such pixels in training.
                np.clip(x_adv_batch, clip[0], clip[1], out=x_adv_batch)
        x_adv[start : start + batch_size] = x_adv_batch
    return x_adv




def pgd(model, x, y, eps, *, steps=10, seed=None, **options):
    """Projected gradient descent on the loss (Madry et al.): iterated FGSM inside the eps-ball.

    :func:`eot_pgd` with one sample per step; ``options`` are its other keyword arguments
    (``step_size``, ``random_start``, ``temperature``, ``from_logits``, ``loss``,
    ``clip``, ``batch_size``). ``pgd(..., steps=1, random_start=False, step_size=eps)``
    equals :func:`advlib.attacks.one_step.fgsm` ``(..., eps)`` exactly.
    """
    return eot_pgd(model, x, y, eps, samples=1, steps=steps, seed=seed, **options)


def eot_fgsm(model, x, y, eps=0.01, *, samples=10, **options):
    """One FGSM step along the sign of the gradient averaged over ``samples`` passes.

    ``x_adv = clip(x + eps * sign(mean of samples gradients))``: :func:`eot_pgd` with one
    step of size ``eps`` and no random start; with ``samples=1`` (or any ``samples`` on a
    deterministic model) the same as :func:`advlib.attacks.one_step.fgsm`. ``options``: as for
    :func:`eot_pgd` (``temperature``, ``from_logits``, ``loss``, ``clip``, ``batch_size``).
    """
    eps = _attacks._check_eps(eps)
    # An explicit step_size must be > 0, but eps = 0 is a valid (no-op) FGSM: it goes
    # through the default instead, 2.5 * 0 / 1 = 0.
    return eot_pgd(
        model, x, y, eps, samples=samples, steps=1, step_size=eps if eps > 0 else None, random_start=False, **options
    )


def _show_signature(wrapper, target, fixed):
    """Give ``wrapper`` (which passes ``**options`` on to ``target``) the signature it really has.

    ``help()`` and :func:`advlib.attacks.registry.run` then see every option by name, minus
    the ``fixed`` ones the wrapper sets itself.
    """
    parameters = [p for p in inspect.signature(target).parameters.values() if p.name not in fixed]
    wrapper.__signature__ = inspect.Signature(parameters)


_show_signature(pgd, eot_pgd, {"samples"})
_show_signature(eot_fgsm, eot_pgd, {"steps", "step_size", "random_start", "seed"})


def _input_shape(model):
    return tuple(model.inputs[0].shape[1:])


def transfer(source_model, target_model, x, y, eps, *, attack=fgsm, **attack_arguments):
    """Adversarial examples crafted on ``source_model`` (a surrogate), meant for ``target_model``.

    Returns ``attack(source_model, x, y, eps, **attack_arguments)``: float32 images of
    the shape of ``x``. The target's gradients are never used; ``target_model`` is only
    checked to take the same input shape and give the same number of classes. Evaluate
    the transfer with ``advlib.evaluation.metrics.accuracy(target_model, x_adv, y)``. A transfer
    attack that beats the white-box attack on ``target_model`` is a sign of gradient
    masking (see :mod:`advlib.evaluation.audit`).

    ``attack`` is any attack with the signature ``attack(model, x, y, eps, **options)``:
    :func:`advlib.attacks.one_step.fgsm` (default), :func:`pgd`, :func:`eot_pgd`,
    :func:`eot_fgsm`.
    """
    if not callable(attack):
        raise ValueError(f"attack must be an attack function such as advlib.attacks.one_step.fgsm, got {attack!r}")
    source_shape, target_shape = _input_shape(source_model), _input_shape(target_model)
    if source_shape != target_shape:
        raise ValueError(
            f"the source model takes inputs of shape {source_shape} but the target takes {target_shape}; "
            "examples can only transfer between models with the same input shape"
        )
    source_classes, target_classes = _attacks._num_classes(source_model), _attacks._num_classes(target_model)
    if source_classes != target_classes:
        raise ValueError(
            f"the source model has {source_classes} classes but the target has {target_classes}; "
            "examples can only transfer between models with the same classes"
        )
    return attack(source_model, x, y, eps, **attack_arguments)

"""Adversarial perturbations: FGSM (the report's Eq. 1) and the random-sign control (Eq. 2).

Both attacks take float32 images in [0, 1] of shape ``(N, 32, 32, 3)`` (any ``(N, ...)``
shape the model accepts works) and return perturbed images of the same shape and dtype.

The loss FGSM differentiates is the report's: the categorical cross-entropy of the
model's *softmax output*, with the probabilities clipped to ``[1e-7, 1 - 1e-7]`` before
the logarithm, exactly as Keras computes it from probabilities. When a softmax saturates
in float32 (the true class gets probability exactly 1.0), the clip is active and the
gradient is exactly zero, so FGSM leaves the image unchanged. That is the gradient
masking the book studies in the distillation chapters, and it is deliberate here. It is
computed by hand rather than through ``keras.losses``, because Keras's TensorFlow backend
quietly swaps a softmax output for its logits inside compiled functions, which would hide
the effect. Pass ``from_logits=True`` for the attack that sees through it.
"""

import weakref

import numpy as np
import tensorflow as tf

from advlib import models as _models, validate
from advlib.data.cifar10 import one_hot

# Keras's epsilon for clipping probabilities before the log in its cross-entropy.
PROBABILITY_EPSILON = 1e-7
DEFAULT_BATCH_SIZE = 500

# One compiled gradient function per (model, temperature, from_logits), so repeated
# attacks on the same model do not retrace. Weak keys let models be garbage-collected.
_GRADIENT_FUNCTIONS = weakref.WeakKeyDictionary()


def probability_cross_entropy(y_onehot, probabilities):
    """Per-example cross-entropy of probabilities, as Keras computes it without logits.

    ``y_onehot`` and ``probabilities`` are float tensors ``(N, classes)``; returns ``(N,)``.
    Probabilities are clipped to ``[1e-7, 1 - 1e-7]``, so a saturated softmax gives a
    constant loss and a zero gradient.
    """
    clipped = tf.clip_by_value(probabilities, PROBABILITY_EPSILON, 1.0 - PROBABILITY_EPSILON)
    return -tf.reduce_sum(y_onehot * tf.math.log(clipped), axis=-1)


def _attack_target(model, temperature, from_logits):
    """The Keras model whose output the loss is taken on."""
    if from_logits:
        return _models.logits_model(model)
    if temperature is not None:
        return _models.with_temperature(model, temperature)
    return model


def input_gradient_function(model, *, temperature=None, from_logits=False):
    """Return a compiled ``f(x, y_onehot) -> (gradient, loss)`` for batches of one model.

    ``gradient`` is d(loss)/dx with the shape of ``x``; ``loss`` is the per-example loss
    ``(N,)``. The loss is :func:`probability_cross_entropy` of the softmax output (at
    ``temperature`` when given), or the softmax cross-entropy of the logits when
    ``from_logits`` is true.
    """
    key = (None if temperature is None else float(temperature), bool(from_logits))
    per_model = _GRADIENT_FUNCTIONS.setdefault(model, {})
    if key in per_model:
        return per_model[key]

    target = _attack_target(model, temperature, from_logits)

    @tf.function(reduce_retracing=True)
    def gradient_and_loss(x_batch, y_batch):
        with tf.GradientTape() as tape:
            tape.watch(x_batch)
            outputs = tf.cast(target(x_batch, training=False), tf.float32)
            if from_logits:
                loss = tf.nn.softmax_cross_entropy_with_logits(labels=y_batch, logits=outputs)
            else:
                loss = probability_cross_entropy(y_batch, outputs)
        # Examples do not interact at inference time, so the gradient of the summed loss
        # holds each example's own input gradient.
        return tape.gradient(loss, x_batch), loss

    per_model[key] = gradient_and_loss
    return gradient_and_loss


def _check_eps(eps):
    try:
        value = float(eps)
    except (TypeError, ValueError):
        raise ValueError(f"eps must be a non-negative number, got {eps!r}") from None
    if not np.isfinite(value) or value < 0.0:
        raise ValueError(f"eps must be a non-negative finite number, got {eps!r}")
    return value


def _check_clip(clip):
    if clip is None:
        return None
    try:
        low, high = (float(bound) for bound in clip)
    except (TypeError, ValueError):
        raise ValueError(f"clip must be None or a pair (low, high), got {clip!r}") from None
    if not low < high:
        raise ValueError(f"clip must satisfy low < high, got {clip!r}")
    return low, high


def check_images(x, clip=(0.0, 1.0), name="x"):
    """Validate a batch of images and return it as a float32 array ``(N, ...)``.

    Raises ``ValueError`` for a non-numeric array, fewer than two dimensions, an empty
    batch, non-finite values, or values outside ``clip`` (``[0, 1]`` by default).
    """
    array = np.asarray(x)
    if array.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be a numeric array of images, got dtype {array.dtype}")
    if array.ndim < 2 or array.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty batch of images (N, 32, 32, 3), got shape {array.shape}")
    if array.dtype == np.uint8:
        raise ValueError(
            f"{name} holds uint8 pixels (0..255); scale them to [0, 1] first with advlib.data.cifar10.preprocess"
        )
    array = array.astype(np.float32, copy=False)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if clip is not None:
        low, high = clip
        if array.min() < low or array.max() > high:
            raise ValueError(
                f"{name} has values in [{array.min():.4g}, {array.max():.4g}], outside [{low:g}, {high:g}]; "
                "images must be scaled to [0, 1] (advlib.data.cifar10.preprocess does that)"
            )
    return array


def check_labels(y, count, num_classes):
    """Return labels as a float32 one-hot array ``(count, num_classes)``.

    Accepts integer labels ``(count,)`` in ``[0, num_classes)`` or one-hot labels
    ``(count, num_classes)``; raises ``ValueError`` otherwise.
    """
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] == num_classes:
        if labels.shape[0] != count:
            raise ValueError(f"x has {count} images but y has {labels.shape[0]} labels")
        return labels.astype(np.float32, copy=False)
    if labels.ndim != 1:
        raise ValueError(
            f"y must be integer labels (N,) or one-hot labels (N, {num_classes}), got shape {labels.shape}"
        )
    if labels.shape[0] != count:
        raise ValueError(f"x has {count} images but y has {labels.shape[0]} labels")
    if labels.dtype.kind not in "iu":
        if labels.dtype.kind == "f" and np.all(labels == np.round(labels)):
            labels = labels.astype(np.int64)
        else:
            raise ValueError(f"integer labels expected, got dtype {labels.dtype}")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"labels must lie in [0, {num_classes - 1}], got values from {labels.min()} to {labels.max()}"
        )
    return one_hot(labels, num_classes)


def _num_classes(model):
    return int(model.outputs[0].shape[-1])


def _check_batch_size(batch_size):
    return validate.positive_int(batch_size, "batch_size")


def fgsm(
    model,
    x,
    y,
    eps=0.01,
    *,
    temperature=None,
    from_logits=False,
    clip=(0.0, 1.0),
    batch_size=DEFAULT_BATCH_SIZE,
):
    """Fast Gradient Sign Method: ``x_adv = x + eps * sign(grad_x J(x, y))`` (report, Eq. 1).

    Args:
        model: a Keras model returning softmax probabilities ``(N, 10)``.
        x: float images ``(N, 32, 32, 3)`` in [0, 1].
        y: true labels, integers ``(N,)`` or one-hot ``(N, 10)``.
        eps: the L-inf size of the step, ``>= 0`` (the report uses 0.01).
        temperature: attack the same weights with the softmax at this temperature
            instead of the model's own (a white-box attacker can do this).
        from_logits: take the cross-entropy of the logits instead of the softmax output,
            which never saturates.
        clip: ``(low, high)`` bounds for the result, or ``None`` for no clipping.
        batch_size: images per gradient computation; only memory depends on it.

    Returns:
        float32 ``x_adv`` with the shape of ``x``. By default it is clipped to [0, 1]:
        the report does not say whether it clipped, but an image outside [0, 1] is not an
        image, and the model never saw such pixels in training. Before clipping,
        ``|x_adv - x|`` is exactly ``eps`` wherever the gradient is non-zero and 0 where it
        is zero (``sign(0) = 0``), so a saturated softmax leaves ``x`` unchanged.
    """
    eps = _check_eps(eps)
    clip = _check_clip(clip)
    batch_size = _check_batch_size(batch_size)
    x = check_images(x, clip)
    y_onehot = check_labels(y, len(x), _num_classes(model))
    gradient_and_loss = input_gradient_function(model, temperature=temperature, from_logits=from_logits)

    # Filled batch by batch, so only one batch of gradients exists at any time.
    x_adv = np.empty_like(x)
    for start in range(0, len(x), batch_size):
        x_batch = x[start : start + batch_size]
        gradient, _ = gradient_and_loss(tf.constant(x_batch), tf.constant(y_onehot[start : start + batch_size]))
        x_adv[start : start + batch_size] = x_batch + eps * np.sign(gradient.numpy())
    if clip is not None:
        # Re-clip: the step can push a pixel that was already at 0 or 1 out of range.
        np.clip(x_adv, clip[0], clip[1], out=x_adv)
    return x_adv


def random_sign(x, eps=0.01, *, seed=None, clip=(0.0, 1.0)):
    """The random-sign control: ``x + eps * R`` with ``R`` uniform in {-1, +1} (report, Eq. 2).

    ``x`` is float images ``(N, ...)`` in [0, 1]; returns float32 of the same shape. The
    same ``seed`` gives the same ``R``. Clipped to ``clip`` (default [0, 1]) for the same
    reason as :func:`fgsm`: the noise can push a pixel at 0 or 1 out of range.
    """
    eps = _check_eps(eps)
    clip = _check_clip(clip)
    x = check_images(x, clip)
    generator = np.random.default_rng(seed)
    bits = generator.integers(0, 2, size=x.shape, dtype=np.int8)
    # eps * (2 * bit - 1), in place in one float32 array (a training set's worth of copies
    # is 0.5 GB): 2 * eps * bit - eps is exactly +eps or -eps, as eps * (+1 or -1) is, so
    # the noise is the same to the bit as before issue 31 and costs half the time.
    x_noisy = bits.astype(np.float32)
    del bits
    eps32 = np.float32(eps)
    x_noisy *= eps32 * np.float32(2.0)
    x_noisy -= eps32
    x_noisy += x
    if clip is not None:
        np.clip(x_noisy, clip[0], clip[1], out=x_noisy)
    return x_noisy


# The registry's uniform signature ``attack(model, x, y, eps, **options)`` for the two
# cases that need no gradient (see advlib.attacks.registry).


def no_attack(model, x, y, eps=0.0):
    """The clean images, as float32 ``(N, ...)`` in [0, 1]: the registry's "none" attack."""
    return check_images(x).copy()


def random_sign_attack(model, x, y, eps=0.01, *, seed=None, clip=(0.0, 1.0)):
    """:func:`random_sign` in the registry's signature; ``model`` and ``y`` play no part."""
    return random_sign(x, eps, seed=seed, clip=clip)


def fgsm_targeted(model, x, y, eps=0.01, *, target=None, clip=(0.0, 1.0), batch_size=DEFAULT_BATCH_SIZE):
    """Targeted FGSM: one step that *lowers* the loss of a chosen wrong class.

    ``x_adv = clip(x - eps * sign(grad_x J(x, t)))`` for target labels ``t``: the opposite
    step of :func:`fgsm`, taken against the target's cross-entropy (the model's softmax
    output, as for FGSM). ``target`` is integer labels ``(N,)``; ``None`` picks
    ``(y + 1) % classes`` for each image, a wrong class by construction. Returns float32
    of the shape of ``x``, within ``eps`` of it and inside ``clip``.
    """
    eps = _check_eps(eps)
    clip = _check_clip(clip)
    batch_size = _check_batch_size(batch_size)
    x = check_images(x, clip)
    classes = _num_classes(model)
    labels = np.argmax(check_labels(y, len(x), classes), axis=1)
    target = (labels + 1) % classes if target is None else target
    target_onehot = check_labels(target, len(x), classes)
    gradient_and_loss = input_gradient_function(model)
    x_adv = np.empty_like(x)
    for start in range(0, len(x), batch_size):
        x_batch = x[start : start + batch_size]
        gradient, _ = gradient_and_loss(tf.constant(x_batch), tf.constant(target_onehot[start : start + batch_size]))
        # Minus: descend the target's loss, where FGSM ascends the true class's.
        x_adv[start : start + batch_size] = x_batch - eps * np.sign(gradient.numpy())
    if clip is not None:
        np.clip(x_adv, clip[0], clip[1], out=x_adv)
    return x_adv

"""Auto-PGD (Croce & Hein 2020): PGD that picks its own step size, with the CE, DLR and targeted DLR losses.

APGD is the gradient half of AutoAttack. It differs from :func:`advlib.attacks.iterative.pgd`
in three ways that matter for a fair robustness estimate: the step size starts large
(``2 * eps``) and is halved only when progress stalls, so no step size has to be tuned;
it keeps the best point seen instead of the last iterate; and it offers the DLR loss,
which, unlike the cross-entropy, does not change when all logits are scaled, so a model
whose logits are huge (a saturated softmax) cannot hide behind a flat loss.

Conventions are those of :mod:`advlib.attacks.iterative`: float32 images ``(N, 32, 32, 3)``
in [0, 1] (any ``(N, ...)`` shape the model accepts), labels as integers ``(N,)`` or
one-hot ``(N, classes)``, results float32 of the shape of ``x``, within ``eps`` of ``x``
(L-inf) and inside ``clip``. The loss is always taken of the logits,
:func:`advlib.models.logits_model` ``(model)``, so the model needs a dense layer named
``"logits"`` as :func:`advlib.models.build_cnn` models have.

References: Croce & Hein, "Reliable evaluation of adversarial robustness with an ensemble
of diverse parameter-free attacks", ICML 2020 (Algorithm 1, eqs. 6 and 7).
"""

import math
import weakref

import numpy as np
import tensorflow as tf

from advlib import models as _models
from advlib.attacks import one_step as _attacks
from advlib.attacks.one_step import check_images, check_labels, DEFAULT_BATCH_SIZE

# Keeps the DLR ratio finite when the top logits tie (the paper's constant).
DLR_EPSILON = 1e-12
# Checkpoint schedule of the paper: p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06).
FIRST_CHECKPOINT, CHECKPOINT_SHRINK, MIN_CHECKPOINT_GAP = 0.22, 0.03, 0.06

# One compiled function per (model, loss). Weak keys let models be garbage-collected.
_FUNCTIONS = weakref.WeakKeyDictionary()
_TARGETED = "targeted_dlr"


def cross_entropy_loss(y_onehot, logits):
    """Softmax cross-entropy of ``logits``: float tensors ``(N, classes)`` -> ``(N,)``."""
    y_onehot, logits = _as_tensors(y_onehot, logits)
    return tf.nn.softmax_cross_entropy_with_logits(labels=y_onehot, logits=logits)


def _as_tensors(y_onehot, logits):
    # NumPy arrays are accepted too, so the losses can be checked outside a tf.function.
    logits = tf.convert_to_tensor(logits)
    return tf.cast(y_onehot, logits.dtype), logits


def _true_and_sorted(y_onehot, logits):
    true_logit = tf.reduce_sum(y_onehot * logits, axis=-1)
    return true_logit, tf.sort(logits, axis=-1, direction="DESCENDING")


def dlr_loss(y_onehot, logits):
    """Difference of logits ratio (eq. 6): ``-(z_y - max_{i != y} z_i) / (z_pi1 - z_pi3 + 1e-12)``.

    ``pi`` orders the logits ``z`` decreasingly. Float tensors ``(N, classes)`` ->
    ``(N,)``; needs at least 3 classes. Positive exactly when the example is
    misclassified, and unchanged when all logits are scaled or shifted together.
    """
    y_onehot, logits = _as_tensors(y_onehot, logits)
    true_logit, ordered = _true_and_sorted(y_onehot, logits)
    # The lowest float never wins the max, so the true class is left out of it.
    best_other = tf.reduce_max(tf.where(y_onehot > 0.5, logits.dtype.min, logits), axis=-1)
    return -(true_logit - best_other) / (ordered[:, 0] - ordered[:, 2] + DLR_EPSILON)


def targeted_dlr_loss(target_onehot):
    """Return the targeted DLR loss (eq. 7) towards ``target_onehot`` as ``loss(y_onehot, logits)``.

    The loss is ``-(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2 + 1e-12)``: float tensors
    ``(N, classes)`` -> ``(N,)``, at least 4 classes. ``target_onehot`` is ``(N, classes)``
    for the same N images, or ``(classes,)`` for one target for every image (the form to
    pass to :func:`apgd`, which calls the loss on batches; :func:`apgd_targeted` hands
    each batch its own targets).
    """
    target = tf.cast(tf.convert_to_tensor(target_onehot), tf.float32)

    def loss(y_onehot, logits):
        y_onehot, logits = _as_tensors(y_onehot, logits)
        true_logit, ordered = _true_and_sorted(y_onehot, logits)
        target_logit = tf.reduce_sum(tf.cast(target, logits.dtype) * logits, axis=-1)
        scale = ordered[:, 0] - 0.5 * (ordered[:, 2] + ordered[:, 3]) + DLR_EPSILON
        return -(true_logit - target_logit) / scale

    return loss


def _gradient_function(model, loss):
    """Compiled ``f(x, y_onehot, target_onehot) -> (gradient, loss, logits)`` on the logits of ``model``."""
    per_model = _FUNCTIONS.setdefault(model, {})
    if loss in per_model:
        return per_model[loss]
    target_model = _models.logits_model(model)

    @tf.function(reduce_retracing=True)
    def gradient_loss_logits(x_batch, y_batch, t_batch):
        with tf.GradientTape() as tape:
            tape.watch(x_batch)
            logits = tf.cast(target_model(x_batch, training=False), tf.float32)
            # The targets are an argument, not a closure, so one trace serves every batch.
            criterion = targeted_dlr_loss(t_batch) if loss == _TARGETED else loss
            values = criterion(y_batch, logits)
        # Examples do not interact at inference time, so the gradient of the summed loss
        # holds each example's own input gradient.
        return tape.gradient(values, x_batch), values, logits

    per_model[loss] = gradient_loss_logits
    return gradient_loss_logits


def checkpoints(steps):
    """The iterations ``w_j = ceil(p_j * steps)`` (``j >= 1``) at which APGD may halve its step size."""
    points, previous, current = [], 0.0, FIRST_CHECKPOINT
    while current <= 1.0:
        # Rounded first: 0.22 + 0.19 is 0.41000000000000003, and ceil(41.000000000000004) is 42.
        point = math.ceil(round(current * steps, 9))
        if point >= 1 and (not points or point > points[-1]):
            points.append(point)
        previous, current = current, current + max(current - previous - CHECKPOINT_SHRINK, MIN_CHECKPOINT_GAP)
    return points


def _evaluate(function, x_batch, y_batch, t_batch, samples):
    """Summed gradient, mean loss and mean logits over ``samples`` passes (EOT for noisy models).

    Losses and logits are averaged in float64, where the mean of equal float32 values is
    exactly that value, so a deterministic model gives the same numbers for any ``samples``.
    Only the sign of the gradient is used, and the sign of the sum is that of the mean.
    """
    x_tensor = tf.constant(x_batch)
    gradient, loss, logits = None, 0.0, 0.0
    for _ in range(samples):
        g, l, z = function(x_tensor, y_batch, t_batch)
        gradient = g.numpy() if gradient is None else gradient + g.numpy()
        loss, logits = loss + l.numpy().astype(np.float64), logits + z.numpy().astype(np.float64)
    return gradient, loss / samples, logits / samples


def _apgd_batch(function, x, y_onehot, t_onehot, x_start, eps, steps, rho, momentum, samples, clip):
    """Algorithm 1 on one batch; returns ``(x_result, fooled, best_loss)`` per image."""
    eps32 = np.float32(eps)
    low, high = x - eps32, x + eps32
    if clip is not None:
        low, high = np.maximum(low, clip[0]), np.minimum(high, clip[1])
    labels = np.argmax(y_onehot, axis=1)
    y_batch, t_batch = tf.constant(y_onehot), tf.constant(t_onehot)
    shape = (-1,) + (1,) * (x.ndim - 1)

    x_current = np.clip(x_start, low, high)
    gradient, loss, logits = _evaluate(function, x_current, y_batch, t_batch, samples)
    fooled = np.argmax(logits, axis=1) != labels
    x_result = x_current.copy()
    x_best, loss_best, gradient_best = x_current.copy(), loss.copy(), gradient.copy()
    x_previous, loss_previous = x_current, loss
    step = np.full(len(x), 2.0 * eps, np.float32)
    increases = np.zeros(len(x), np.int64)
    loss_best_at_check, halved_at_check = loss_best.copy(), np.zeros(len(x), bool)
    check_points, last_check = set(checkpoints(steps)), 0

    for k in range(steps):
        z = np.clip(x_current + step.reshape(shape) * np.sign(gradient), low, high)
        if k == 0:
            x_next = z  # the first step has no previous displacement to carry on
        else:
            m = np.float32(momentum)
            # Paper: x^(k+1) = P(x^(k) + a (z^(k+1) - x^(k)) + (1 - a)(x^(k) - x^(k-1))).
            x_next = np.clip(x_current + m * (z - x_current) + (1 - m) * (x_current - x_previous), low, high)
        x_previous, x_current = x_current, x_next
        gradient, loss, logits = _evaluate(function, x_current, y_batch, t_batch, samples)

        newly_fooled = (np.argmax(logits, axis=1) != labels) & ~fooled
        # AutoAttack's rule: keep the first misclassified point, whatever its loss.
        x_result[newly_fooled] = x_current[newly_fooled]
        fooled |= newly_fooled
        increases += loss > loss_previous
        improved = loss > loss_best
        x_best[improved], loss_best[improved], gradient_best[improved] = (
            x_current[improved], loss[improved], gradient[improved])
        loss_previous = loss

        if k + 1 in check_points:
            too_few_increases = increases < rho * (k + 1 - last_check)  # condition 1
            stalled = ~halved_at_check & (loss_best <= loss_best_at_check)  # condition 2
            halve = too_few_increases | stalled
            step[halve] /= 2.0
            # Restart from the best point: the current one is where progress stalled.
            x_current = x_current.copy()
            x_current[halve], gradient[halve] = x_best[halve], gradient_best[halve]
            loss_previous = np.where(halve, loss_best, loss)
            halved_at_check, loss_best_at_check = halve, loss_best.copy()
            increases[:], last_check = 0, k + 1

    x_result[~fooled] = x_best[~fooled]
    return x_result, fooled, loss_best


def _check_fraction(value, name, low_open):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in {'(0' if low_open else '[0'}, 1], got {value!r}") from None
    if not (0.0 < number <= 1.0 if low_open else 0.0 <= number <= 1.0):
        raise ValueError(f"{name} must lie in {'(0' if low_open else '[0'}, 1], got {value!r}")
    return number


def _check_count(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _run(model, checked, loss, targets, steps, restarts, rho, momentum, samples, seed):
    """Restarts of :func:`_apgd_batch` over batches; returns ``(x_adv, fooled)``.

    ``checked`` is ``(eps, clip, batch_size, x, y_onehot)`` as :func:`_check_common`
    returns it. ``targets`` is a one-hot ``(N, classes)`` array for the targeted loss, else ``None``.
    Only images not fooled yet are attacked again; each restart's random start is drawn
    for all of ``x`` at once, so the result does not depend on ``batch_size``.
    """
    eps, clip, batch_size, x, y_onehot = checked
    function = _gradient_function(model, loss)
    t_onehot = y_onehot if targets is None else targets
    generator = np.random.default_rng(seed)
    x_adv, fooled = x.copy(), np.zeros(len(x), bool)
    best_loss = np.full(len(x), -np.inf)
    for _ in range(restarts):
        start = x + np.float32(eps) * (2.0 * generator.random(x.shape, dtype=np.float32) - 1.0)
        todo = np.flatnonzero(~fooled)
        for begin in range(0, len(todo), batch_size):
            index = todo[begin : begin + batch_size]
            result, hit, value = _apgd_batch(
                function, x[index], y_onehot[index], t_onehot[index], start[index], eps, steps, rho, momentum,
                samples, clip)
            # A fooling point always wins; otherwise the restart with the highest loss.
            better = hit | (value > best_loss[index])
            x_adv[index[better]] = result[better]
            best_loss[index[better]] = value[better]
            fooled[index[hit]] = True
    return x_adv, fooled


def _check_common(model, x, y, eps, steps, restarts, rho, momentum, samples, clip, batch_size):
    eps = _attacks._check_eps(eps)
    clip = _attacks._check_clip(clip)
    batch_size = _attacks._check_batch_size(batch_size)
    _check_count(steps, "steps"), _check_count(restarts, "restarts"), _check_count(samples, "samples")
    _check_fraction(rho, "rho", low_open=True), _check_fraction(momentum, "momentum", low_open=True)
    x = check_images(x, clip)
    y_onehot = check_labels(y, len(x), _attacks._num_classes(model))
    return eps, clip, batch_size, x, y_onehot


def apgd(model, x, y, eps, *, loss=cross_entropy_loss, steps=100, restarts=1, rho=0.75, momentum=0.75, samples=1,
         seed=None, clip=(0.0, 1.0), batch_size=DEFAULT_BATCH_SIZE):
    """Auto-PGD (Croce & Hein 2020, Algorithm 1) in the L-inf ball of radius ``eps``.

    From a uniformly random start in the ball, each step moves by ``step * sign(grad)``
    (the step starts at ``2 * eps``), mixes in the previous displacement, and projects onto
    the ball and ``clip``. At the checkpoints ``w_j`` (:func:`checkpoints`) the step is
    halved, and the iterate sent back to the best point so far, when fewer than a fraction
    ``rho`` of the steps since the last checkpoint increased the loss (condition 1) or
    when neither the step nor the best loss changed since then (condition 2).

    Args:
        model: a Keras model returning softmax probabilities ``(N, classes)`` with a
            dense layer named ``"logits"`` (as :func:`advlib.models.build_cnn` models).
        x: float images ``(N, 32, 32, 3)`` in [0, 1] (in ``clip`` when it is given).
        y: true labels, integers ``(N,)`` or one-hot ``(N, classes)``.
        eps: the L-inf radius of the ball, ``>= 0``.
        loss: ``loss(y_onehot, logits) -> (N,)`` to maximise: :func:`cross_entropy_loss`
            (APGD-CE), :func:`dlr_loss` (APGD-DLR, at least 3 classes) or your own.
        steps: iterations after the start, an integer ``>= 1`` (``steps + 1`` gradients).
        restarts: independent random starts, ``>= 1``; images fooled by one restart are
            not attacked again.
        rho: condition 1's fraction, in (0, 1].
        momentum: the paper's alpha in (0, 1], the weight of the new step; ``1 - momentum``
            weighs the previous displacement (1 means no momentum).
        samples: forward/backward passes per step whose gradients and losses are averaged
            (EOT, for models with randomness such as :func:`advlib.models.with_input_noise`).
        seed: seeds the random starts; the same seed gives the same result.
        clip: ``(low, high)`` bounds for the result, or ``None``.
        batch_size: images per gradient computation; only memory depends on it.

    Returns:
        float32 ``x_adv`` with the shape of ``x``, ``|x_adv - x| <= eps`` and inside
        ``clip``: per image the first misclassified point found, else the point of
        highest loss.
    """
    checked = _check_common(model, x, y, eps, steps, restarts, rho, momentum, samples, clip, batch_size)
    if not callable(loss):
        raise ValueError(f"loss must be a callable loss(y_onehot, logits) such as apgd.dlr_loss, got {loss!r}")
    classes = checked[4].shape[1]
    if loss is dlr_loss and classes < 3:
        raise ValueError(f"the DLR loss needs at least 3 classes, the model has {classes}")
    return _run(model, checked, loss, None, steps, restarts, rho, momentum, samples, seed)[0]


def _clean_logits(model, x, batch_size):
    target_model = _models.logits_model(model)
    return np.concatenate([
        target_model(x[start : start + batch_size], training=False).numpy()
        for start in range(0, len(x), batch_size)
    ])


def apgd_targeted(model, x, y, eps, *, target_classes=9, steps=100, restarts=1, rho=0.75, momentum=0.75,
                  samples=1, seed=None, clip=(0.0, 1.0), batch_size=DEFAULT_BATCH_SIZE):
    """APGD-T: :func:`apgd` with :func:`targeted_dlr_loss`, once per likely target class.

    The targets of an image are the ``target_classes`` classes other than its label with
    the highest clean logits, tried from the most likely on; an image fooled by one
    target (misclassified as any class) is not attacked again. Each target run uses
    ``restarts`` random starts drawn from ``seed``. ``target_classes`` is an integer in
    ``[1, classes - 1]``; the model needs at least 4 classes. Everything else, and the
    result, as for :func:`apgd`.
    """
    checked = _check_common(model, x, y, eps, steps, restarts, rho, momentum, samples, clip, batch_size)
    eps, clip, batch_size, x, y_onehot = checked
    classes = y_onehot.shape[1]
    if classes < 4:
        raise ValueError(f"the targeted DLR loss needs at least 4 classes, the model has {classes}")
    if (isinstance(target_classes, bool) or not isinstance(target_classes, (int, np.integer))
            or not 1 <= target_classes <= classes - 1):
        raise ValueError(f"target_classes must be an integer in [1, {classes - 1}], got {target_classes!r}")
    logits = _clean_logits(model, x, batch_size)
    logits[y_onehot > 0.5] = -np.inf  # the true class is never a target
    ranked = np.argsort(-logits, axis=1, kind="stable")
    generator = np.random.default_rng(seed)
    x_adv, fooled = x.copy(), np.zeros(len(x), bool)
    for rank in range(int(target_classes)):
        todo = np.flatnonzero(~fooled)
        if len(todo) == 0:
            break
        targets = np.eye(classes, dtype=np.float32)[ranked[todo, rank]]
        subset = (eps, clip, batch_size, x[todo], y_onehot[todo])
        # One seed per target, drawn whatever happens, so the runs do not depend on each other's draws.
        result, hit = _run(model, subset, _TARGETED, targets, steps, restarts, rho, momentum, samples,
                           generator.integers(2**63))
        # Unfooled images keep the first target's best point (the most likely target).
        keep = hit if rank > 0 else np.ones(len(todo), bool)
        x_adv[todo[keep]] = result[keep]
        fooled[todo[hit]] = True
    return x_adv

"""The L-inf Square attack (Andriushchenko et al. 2020): random search that needs only the model's scores.

Square never computes a gradient, so gradient masking (a saturated softmax, noise in the
forward pass, a non-differentiable preprocessing) does not slow it down. It is the
score-based half of AutoAttack: if Square fools a model that the gradient attacks
(:mod:`advlib.attacks.auto_pgd`, :mod:`advlib.attacks.iterative`) could not, the gradients were hiding
something.

It takes and returns what the other attacks do: float32 images ``(N, H, W, C)`` in [0, 1],
labels as integers ``(N,)`` or one-hot ``(N, classes)``; the result is float32 of the shape
of ``x``, within ``eps`` of ``x`` (L-inf) and inside ``clip``.

Reference: Andriushchenko, Croce, Flammarion & Hein, "Square Attack: a query-efficient
black-box adversarial attack via random search", ECCV 2020 (Algorithm 1, Section 3.1).
"""

import numpy as np
import tensorflow as tf

from advlib import models as _models
from advlib.attacks import one_step as _attacks
from advlib.attacks.one_step import check_images, check_labels, DEFAULT_BATCH_SIZE

# Probabilities are floored here before the log when the model has no logits layer.
LOG_FLOOR = 1e-30
# The paper's schedule for 10,000 queries: p_init is halved after these iterations.
P_HALVINGS_AT = (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000)
PAPER_QUERIES = 10_000
# A new window whose signs equal the current ones is redrawn at most this many times.
MAX_REDRAWS = 100


def p_schedule(iteration, queries, p_init):
    """Fraction of pixels a square covers at ``iteration`` of an attack of ``queries`` queries.

    The paper's piecewise-constant schedule for 10,000 queries, stretched to ``queries``:
    ``p_init``, halved after (rescaled) iterations 10, 50, 200, 500, 1000, 2000, 4000, 6000
    and 8000.
    """
    rescaled = int(iteration / queries * PAPER_QUERIES)
    halvings = sum(rescaled > point for point in P_HALVINGS_AT)
    return p_init / 2**halvings


def _score_function(model):
    """Compiled ``f(x) -> scores (N, classes)``: logits, or log-probabilities without a logits layer.

    Log-probabilities differ from the logits by one constant per image, so the margin
    between two classes is the same (until the probabilities underflow).
    """
    try:
        target, from_logits = _models.logits_model(model), True
    except ValueError:
        target, from_logits = model, False

    @tf.function(reduce_retracing=True)
    def scores(x_batch):
        outputs = tf.cast(target(x_batch, training=False), tf.float32)
        return outputs if from_logits else tf.math.log(tf.maximum(outputs, LOG_FLOOR))

    return scores


def _margins(scores, x, labels, batch_size):
    """Margin loss ``z_y - max_{k != y} z_k`` per image ``(N,)``; negative means fooled."""
    values = np.concatenate([
        scores(tf.constant(x[start : start + batch_size])).numpy() for start in range(0, len(x), batch_size)
    ]).astype(np.float64)
    rows = np.arange(len(x))
    true_scores = values[rows, labels]
    values[rows, labels] = -np.inf
    return true_scores - values.max(axis=1)


def _check_queries(queries):
    if isinstance(queries, bool) or not isinstance(queries, (int, np.integer)) or queries < 1:
        raise ValueError(f"queries must be an integer >= 1, got {queries!r}")
    return int(queries)


def _check_p_init(p_init):
    try:
        value = float(p_init)
    except (TypeError, ValueError):
        raise ValueError(f"p_init must be a number in (0, 1], got {p_init!r}") from None
    if not 0.0 < value <= 1.0:
        raise ValueError(f"p_init must lie in (0, 1], got {p_init!r}")
    return value


def square(model, x, y, eps, *, queries=1000, p_init=0.05, seed=None, clip=(0.0, 1.0),
           batch_size=DEFAULT_BATCH_SIZE):
    """The L-inf Square attack (Andriushchenko et al. 2020, Algorithm 1): score-based random search.

    Images the model already misclassifies are returned unchanged. The others start at
    ``x`` plus vertical stripes (one random sign per column and channel, times ``eps``);
    then each iteration redraws, in one random square window of side
    ``round(sqrt(p * H * W))``, one sign per channel, and keeps the change when it lowers
    the margin ``z_y - max_{k != y} z_k`` of the logits (log-probabilities for a model
    without a ``"logits"`` layer). An image stops as soon as it is misclassified. ``p``
    follows :func:`p_schedule`. The perturbation stays on the corners of the eps-ball,
    where the worst case of a locally linear model lies.

    Args:
        model: a Keras model returning probabilities ``(N, classes)``; only its outputs
            are used, never its gradients.
        x: float images ``(N, H, W, C)`` in [0, 1] (in ``clip`` when it is given).
        y: true labels, integers ``(N,)`` or one-hot ``(N, classes)``.
        eps: the L-inf radius, ``>= 0``.
        queries: model evaluations per image after the check of the clean image (the
            stripes count as the first), an integer ``>= 1``.
        p_init: the initial fraction of pixels a square covers, in (0, 1].
        seed: seeds every random draw; the same seed gives the same result.
        clip: ``(low, high)`` bounds for the result, or ``None``.
        batch_size: images per model call; only memory depends on it.

    Returns:
        float32 ``x_adv`` with the shape of ``x``, ``|x_adv - x| <= eps`` and inside ``clip``.
    """
    eps = _attacks._check_eps(eps)
    clip = _attacks._check_clip(clip)
    batch_size = _attacks._check_batch_size(batch_size)
    queries = _check_queries(queries)
    p_init = _check_p_init(p_init)
    x = check_images(x, clip)
    if x.ndim != 4:
        raise ValueError(f"square needs images (N, H, W, C), got shape {x.shape}")
    labels = np.argmax(check_labels(y, len(x), _attacks._num_classes(model)), axis=1)
    scores = _score_function(model)
    count, height, width, channels = x.shape
    eps32 = np.float32(eps)

    def project(candidate):
        return candidate if clip is None else np.clip(candidate, clip[0], clip[1])

    # Every random draw below is made for all N images, whether or not an image is still
    # attacked, so the result depends neither on batch_size nor on which images stopped.
    generator = np.random.default_rng(seed)
    margin = _margins(scores, x, labels, batch_size)
    active = margin > 0
    stripes = eps32 * generator.choice(np.float32([-1.0, 1.0]), size=(count, 1, width, channels))
    delta = np.broadcast_to(stripes, x.shape).copy()
    delta[~active] = 0.0
    x_best = project(x + delta)
    if eps == 0.0 or not active.any():
        return x_best
    margin[active] = _margins(scores, x_best[active], labels[active], batch_size)
    rows, columns = np.arange(height), np.arange(width)

    for iteration in range(queries - 1):
        active = margin > 0
        p = p_schedule(iteration, queries, p_init)
        # At least one pixel, and at most the whole image (the paper's s <= H - 1 together
        # with its window corners in [0, H - s) never lets a square touch the last row).
        side = min(max(int(round(np.sqrt(p * height * width))), 1), height, width)
        top = generator.integers(0, height - side + 1, size=count)
        left = generator.integers(0, width - side + 1, size=count)
        window = ((rows >= top[:, None]) & (rows < top[:, None] + side))[:, :, None] & (
            (columns >= left[:, None]) & (columns < left[:, None] + side))[:, None, :]
        window = window[..., None]  # (N, H, W, 1): one window for all channels
        signs = eps32 * generator.choice(np.float32([-1.0, 1.0]), size=(count, 1, 1, channels))
        for _ in range(MAX_REDRAWS):
            candidate = project(x + np.where(window, signs, x_best - x))
            # A window that changes nothing would waste a query: redraw its signs.
            unchanged = np.all((candidate == x_best) | ~window, axis=(1, 2, 3))
            redraw = generator.choice(np.float32([-1.0, 1.0]), size=(count, 1, 1, channels))
            if not (unchanged & active).any():
                break
            signs = np.where(unchanged[:, None, None, None], eps32 * redraw, signs)
        index = np.flatnonzero(active)
        new_margin = _margins(scores, candidate[index], labels[index], batch_size)
        better = new_margin < margin[index]
        x_best[index[better]] = candidate[index[better]]
        margin[index[better]] = new_margin[better]
        if not (margin > 0).any():
            break
    return x_best

"""Hand-made linear softmax models and cases whose answers are closed-form.

For ``softmax(W^T x + b)`` on flattened images the loss gradient, the FGSM step and the
L-inf worst case can all be written down, so the attack, audit and metric tests check
advlib against these formulas instead of against advlib itself. Images are 4x4x3
(48 features) and there are 10 classes unless a test asks for other shapes.
"""

import numpy as np

# The radius of the closed-form worst-case cases (:func:`margin_case`).
EPS = 0.05


def linear_case(images=16, seed=0):
    """``(weights (48, 10), bias (10,), x (images, 4, 4, 3) in [0.2, 0.8], labels (images,))``.

    The ``linear_case`` fixture of tests/conftest.py is this with 16 images; the metric
    tests take 40 (enough for both agreements and disagreements between two models).
    """
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(48, 10)) * 0.5
    bias = rng.normal(size=10) * 0.1
    x = rng.uniform(0.2, 0.8, size=(images, 4, 4, 3)).astype(np.float32)
    y = rng.integers(0, 10, size=images)
    return weights, bias, x, y


def linear_softmax_model(weights, bias, temperature=1.0, input_shape=(4, 4, 3)):
    """A linear softmax classifier on flattened images, built from the library's layers."""
    import keras

    from advlib import models

    inputs = keras.Input(shape=input_shape)
    flat = keras.layers.Flatten()(inputs)
    dense = keras.layers.Dense(weights.shape[1], name="logits")
    logits = dense(flat)
    outputs = models.TemperatureSoftmax(temperature, name="softmax")(logits)
    model = keras.Model(inputs, outputs)
    dense.set_weights([weights.astype(np.float32), bias.astype(np.float32)])
    return model


def closed_form_gradient(weights, bias, x, y, temperature=1.0):
    """d/dx of -log softmax(W^T x / T + b / T)_y is W (p - onehot(y)) / T, in float64."""
    flat = x.reshape(len(x), -1).astype(np.float64)
    logits = (flat @ weights + bias) / temperature
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return ((p - np.eye(10)[y]) @ weights.T / temperature).reshape(x.shape)


def linear_predictions(weights, bias, x):
    """The linear model's labels, computed in float64 without TensorFlow."""
    return np.argmax(x.reshape(len(x), -1).astype(np.float64) @ weights + bias, axis=1)


def worst_case_margins(weights, bias, x, y, eps):
    """Closed-form minimum over the L-inf ball of ``z_y - z_j`` for a linear model, per class ``(N, classes)``.

    ``(w_y - w_j) . x + b_y - b_j - eps * ||w_y - w_j||_1`` (clip ignored: keep x + -eps in
    [0, 1]); the entry of the true class is +inf. An image can be misclassified within
    the ball exactly when the minimum of its row is negative.
    """
    flat = x.reshape(len(x), -1).astype(np.float64)
    differences = weights[:, y].T[:, :, None] - weights[None, :, :]  # (N, features, classes)
    margins = (
        np.einsum("nf,nfc->nc", flat, differences) + bias[y][:, None] - bias[None, :]
        - eps * np.abs(differences).sum(axis=1)
    )
    margins[np.arange(len(x)), y] = np.inf
    return margins


def margin_case(count=16, separation=0.2, seed=0):
    """A 10-class linear model and images whose worst-case margins are at least ``separation`` from 0.

    Returns ``(weights, bias, x, y, breakable)``: half the images can be misclassified
    within :data:`EPS` (two of those are misclassified already), half cannot. x lies in
    [0.3, 0.7], so the ball never reaches outside [0, 1].
    """
    rng = np.random.default_rng(seed)
    weights, bias = rng.normal(size=(48, 10)) * 0.5, rng.normal(size=10) * 0.1
    pool = rng.uniform(0.3, 0.7, size=(400, 4, 4, 3)).astype(np.float32)
    labels = np.argmax(pool.reshape(400, -1) @ weights + bias, axis=1)
    labels[:2] = (labels[:2] + 1) % 10  # misclassified before any attack
    worst = worst_case_margins(weights, bias, pool, labels, EPS).min(axis=1)
    easy = np.flatnonzero(worst < -separation)[: count // 2]
    hard = np.flatnonzero(worst > separation)[: count // 2]
    assert len(easy) == len(hard) == count // 2 and {0, 1} <= set(easy)
    chosen = np.concatenate([easy, hard])
    return weights, bias, pool[chosen], labels[chosen], worst[chosen] < 0

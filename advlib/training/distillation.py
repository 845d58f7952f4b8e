"""Defensive distillation: a teacher's soft labels at a temperature, and a student trained on them.

The soft-label loss is the cross-entropy between the teacher's softmax and the
student's softmax at the same temperature T: the student is a :func:`build_cnn` model
with its softmax at T, trained with categorical cross-entropy on the teacher's outputs
``softmax(teacher_logits / T)``. With one-hot "soft" labels this is ordinary training.
"""

import numpy as np

from advlib import models
from advlib.evaluation import metrics
from advlib.training import recipes


def soft_labels(teacher, x, temperature, *, batch_size=metrics.DEFAULT_BATCH_SIZE):
    """The teacher's outputs at ``temperature`` for images ``x``.

    ``x``: float32 ``(N, 32, 32, 3)`` in [0, 1]. Returns float32 ``(N, 10)``, each row
    a probability distribution (non-negative, summing to 1 up to float32 rounding). The
    teacher's own temperature is ignored: only its logits and ``temperature`` matter.
    """
    hot_teacher = models.with_temperature(teacher, temperature)
    labels = metrics.predict_probabilities(hot_teacher, x, batch_size=batch_size)
    # Renormalise in float64 so each row sums to 1 as closely as float32 allows.
    labels = labels.astype(np.float64)
    return (labels / labels.sum(axis=1, keepdims=True)).astype(np.float32)


def train_student(x, labels, config, *, temperature, **fit_arguments):
    """Train a student at ``temperature`` on images ``x`` with (soft) ``labels`` ``(N, 10)``.

    Returns ``(model, history)``. The model's softmax stays at ``temperature``; use
    :func:`advlib.models.with_temperature` to test it at another one (T = 1 in the
    report's defensive distillation).
    """
    labels = np.asarray(labels, dtype=np.float32)
    if labels.ndim != 2 or labels.shape[1] != 10 or len(labels) != len(x):
        raise ValueError(f"labels must have shape ({len(x)}, 10), got {labels.shape}")
    if labels.min() < 0 or not np.allclose(labels.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError("labels must be probability distributions: non-negative rows summing to 1")
    model = models.build_cnn(temperature=temperature, seed=config.seed)
    history = recipes.fit(model, lambda epoch, model: (x, labels), config, epoch_size=len(x), **fit_arguments)
    return model, history

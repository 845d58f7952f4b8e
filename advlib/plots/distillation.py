"""Figures for the defensive-distillation chapter: how much a teacher's soft labels say.

A soft label is one row of a teacher's softmax output: ten non-negative numbers summing
to 1. Two numbers summarise how informative such a row is:

- :func:`top_class_mass`: the probability of the most likely class (1 for a one-hot row,
  0.1 for the uniform row over ten classes).
- :func:`entropy`: the Shannon entropy in nats (0 for a one-hot row, ``log(10)`` for the
  uniform row over ten classes).

The figures:

- :func:`soft_label_bars`: one soft label as bars on a logarithmic axis, so that values
  like ``1e-8`` next to ``0.99`` stay visible.
- :func:`entropy_histogram`: overlaid histograms of the entropy of several sets of soft
  labels (different teachers or temperatures), with the uniform entropy marked.
- :func:`top_class_mass_histogram`: the same for the top-class mass.

Every function labels its axes, uses :data:`advlib.plots.COLORS` and returns the
Matplotlib figure; nothing is drawn at import time.
"""

import matplotlib.pyplot as plt
import numpy as np

from advlib.plots import COLORS

# Colours of the histograms, in order, for up to six sets of soft labels (Okabe-Ito;
# yellow and black are left out: too faint on white, and black is used for markers).
SERIES_COLORS = (COLORS["blue"], COLORS["orange"], COLORS["green"], COLORS["vermillion"], COLORS["sky"], COLORS["purple"])
# Bars of :func:`soft_label_bars`: the class the label puts most mass on, and the others.
TOP_CLASS_COLOR = COLORS["vermillion"]
OTHER_CLASS_COLOR = COLORS["blue"]
# Line marking the value of the uniform distribution.
MARKER_COLOR = COLORS["black"]


def _check_distributions(probabilities):
    """``probabilities`` as a float64 array ``(N, classes)`` of rows summing to about 1."""
    array = np.asarray(probabilities, dtype=np.float64)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2 or array.shape[1] < 2:
        raise ValueError(f"expected probabilities of shape (N, classes) with classes >= 2, got {np.shape(probabilities)}")
    if not np.all(np.isfinite(array)) or array.min() < 0:
        raise ValueError("probabilities must be finite and non-negative")
    if not np.allclose(array.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("each row of probabilities must sum to 1")
    return array


def entropy(probabilities):
    """Shannon entropy in nats of each row of ``probabilities``.

    ``probabilities``: ``(N, classes)`` (or one row ``(classes,)``), rows summing to 1.
    Returns float64 ``(N,)``. Terms with probability 0 contribute 0 (the limit of
    ``p log p``), so a one-hot row has entropy exactly 0 and the uniform row over ``k``
    classes has ``log(k)``. Computed in float64, so float32 soft labels lose nothing.
    """
    array = _check_distributions(probabilities)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(array > 0, array * np.log(array), 0.0)
    # Rounding can make an exact one-hot row come out as -0.0; report it as 0.
    return np.maximum(-terms.sum(axis=1), 0.0)


def top_class_mass(probabilities):
    """The largest probability of each row of ``probabilities``: float64 ``(N,)``."""
    return _check_distributions(probabilities).max(axis=1)


def uniform_entropy(classes=10):
    """Entropy in nats of the uniform distribution over ``classes`` classes: ``log(classes)``."""
    if int(classes) < 1:
        raise ValueError(f"classes must be a positive integer, got {classes!r}")
    return float(np.log(int(classes)))


def soft_label_bars(soft_label, class_names, *, true_label=None, title=None, figsize=(8.0, 3.6)):
    """Bar chart of one soft label on a logarithmic probability axis.

    Args:
        soft_label: ``(classes,)`` probabilities of one image (a row of
            :func:`advlib.training.distillation.soft_labels`).
        class_names: one name per class for the x axis (``advlib.data.cifar10.CLASS_NAMES``).
        true_label: index of the image's true class; its tick label is marked
            "(true)".
        title: the axes title.

    The class with the most mass is drawn in :data:`TOP_CLASS_COLOR` and each bar is
    annotated with its value in scientific notation. Exact zeros (which a log axis
    cannot show) are drawn at the bottom of the axis and annotated "0".

    Returns:
        The Matplotlib figure (one axes).
    """
    values = _check_distributions(soft_label)[0]
    if len(class_names) != len(values):
        raise ValueError(f"{len(values)} probabilities but {len(class_names)} class names")
    positive = values[values > 0]
    floor = 10 ** np.floor(np.log10(positive.min())) / 10 if len(positive) else 1e-12
    top = int(np.argmax(values))
    colors = [TOP_CLASS_COLOR if index == top else OTHER_CLASS_COLOR for index in range(len(values))]
    figure, axis = plt.subplots(figsize=figsize)
    heights = np.where(values > 0, values, floor)
    axis.set_yscale("log")
    axis.bar(np.arange(len(values)), heights, color=colors)
    axis.set_ylim(floor, 3.0)
    for index, value in enumerate(values):
        axis.annotate(f"{value:.1e}" if value > 0 else "0", (index, heights[index]), xytext=(0, 2),
                      textcoords="offset points", ha="center", va="bottom", fontsize=7)
    names = [f"{name}\n(true)" if index == true_label else name for index, name in enumerate(class_names)]
    axis.set_xticks(np.arange(len(values)), names, rotation=45, ha="right", fontsize=8)
    axis.set_xlabel("class")
    axis.set_ylabel("probability (log scale)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=TOP_CLASS_COLOR), plt.Rectangle((0, 0), 1, 1, color=OTHER_CLASS_COLOR)]
    # Outside the axes, so that it never hides a bar or its value.
    axis.legend(handles, ["most likely class", "other classes"], loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    if title:
        axis.set_title(title, fontsize=10)
    figure.tight_layout()
    return figure


def _overlaid_histograms(values_by_name, *, bins, value_range, xlabel, marker, marker_label, figsize):
    if not values_by_name:
        raise ValueError("pass at least one {name: soft labels} entry")
    if len(values_by_name) > len(SERIES_COLORS):
        raise ValueError(f"at most {len(SERIES_COLORS)} sets of soft labels, got {len(values_by_name)}")
    figure, axis = plt.subplots(figsize=figsize)
    edges = np.linspace(value_range[0], value_range[1], bins + 1)
    for color, (name, values) in zip(SERIES_COLORS, values_by_name.items()):
        # Weights turn counts into shares, so sets of different sizes compare directly.
        weights = np.full(len(values), 1.0 / max(len(values), 1))
        axis.hist(np.clip(values, value_range[0], value_range[1]), bins=edges, weights=weights,
                  histtype="stepfilled", alpha=0.35, color=color, edgecolor=color, linewidth=1.5, label=name)
    if marker is not None:
        axis.axvline(marker, color=MARKER_COLOR, linestyle="--", linewidth=1.2, label=marker_label)
    axis.set_xlabel(xlabel)
    axis.set_ylabel("share of images")
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def entropy_histogram(labels_by_name, *, bins=40, classes=10, figsize=(6.5, 3.6)):
    """Overlaid histograms of the entropy of several sets of soft labels.

    Args:
        labels_by_name: ``{legend entry: probabilities (N, classes)}``, e.g. one teacher
            at T = 50 and another at T = 4. Up to six entries.
        bins: number of bins between 0 and ``log(classes)``.
        classes: number of classes; a dashed line marks the uniform entropy
            ``log(classes)``, the largest possible.

    The y axis is the share of each set's images per bin, so sets of different sizes
    compare directly.

    Returns:
        The Matplotlib figure (one axes).
    """
    maximum = uniform_entropy(classes)
    values = {name: entropy(labels) for name, labels in labels_by_name.items()}
    return _overlaid_histograms(
        values, bins=bins, value_range=(0.0, maximum * 1.0001), xlabel="entropy of the soft label (nats)",
        marker=maximum, marker_label=f"uniform over {classes} classes (log {classes} = {maximum:.2f})", figsize=figsize,
    )


def top_class_mass_histogram(labels_by_name, *, bins=40, classes=10, figsize=(6.5, 3.6)):
    """Overlaid histograms of the top-class mass of several sets of soft labels.

    Same arguments as :func:`entropy_histogram`; a dashed line marks ``1 / classes``,
    the top-class mass of the uniform distribution (the smallest possible).

    Returns:
        The Matplotlib figure (one axes).
    """
    values = {name: top_class_mass(labels) for name, labels in labels_by_name.items()}
    return _overlaid_histograms(
        values, bins=bins, value_range=(0.0, 1.0), xlabel="probability of the most likely class",
        marker=1.0 / classes, marker_label=f"uniform over {classes} classes (1/{classes})", figsize=figsize,
    )

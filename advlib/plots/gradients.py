"""Gradient-norm panels: the size of the FGSM gradient per test image (report Figs. 4-6)."""

import matplotlib.pyplot as plt
import numpy as np

from advlib.plots import CORRECT_COLOR, INCORRECT_COLOR


def gradient_norm_panels(norms_by_model, *, clip_quantile=None, figsize_per_panel=(4.2, 3.4), labels=None,
                         class_names=None):
    """One scatter panel per model: the L2 norm of each image's FGSM gradient.

    ``norms_by_model`` maps a panel title to an :class:`advlib.evaluation.metrics.GradientNorms`.
    Points are coloured by whether the model classified the clean image correctly, and
    each panel states its share of exactly-zero gradients. ``clip_quantile`` (e.g. 0.99)
    caps the y axis so a few huge norms of misclassified images do not flatten the rest,
    as the report does for Fig. 5; the caption says how many points were cut off.

    Without ``labels`` the x axis is the test-image index. With ``labels`` (the true
    class of each image, ``(N,)`` integers) the images are grouped by class (a stable
    sort, so a test set stored class by class keeps its order), thin lines separate the
    classes and each band is named (``class_names``, CIFAR-10's by default).
    """
    if not norms_by_model:
        raise ValueError("norms_by_model is empty: pass at least one {title: GradientNorms}")
    figure, axes = plt.subplots(
        1, len(norms_by_model), figsize=(figsize_per_panel[0] * len(norms_by_model), figsize_per_panel[1]), squeeze=False
    )
    order = None if labels is None else np.argsort(np.asarray(labels), kind="stable")
    for axis, (title, result) in zip(axes[0], norms_by_model.items()):
        norms, correct = (result.norms, result.correct) if order is None else (result.norms[order], result.correct[order])
        index = np.arange(len(norms))
        for mask, color, label in ((~correct, INCORRECT_COLOR, "misclassified"), (correct, CORRECT_COLOR, "correctly classified")):
            axis.scatter(index[mask], norms[mask], s=3, color=color, label=label, alpha=0.6, rasterized=True)
        note = f"exactly zero: {result.zero_fraction:.1%}"
        if clip_quantile is not None and len(result.norms):
            cap = float(np.quantile(result.norms, clip_quantile))
            if cap > 0:
                hidden = int(np.sum(result.norms > cap))
                axis.set_ylim(-0.02 * cap, cap * 1.05)
                note += f"; {hidden} points above the axis"
        axis.set_title(f"{title}\n({note})", fontsize=10)
        if order is None:
            axis.set_xlabel("test image index")
        else:
            _name_class_bands(axis, np.asarray(labels)[order], class_names)
        axis.set_ylabel("L2 norm of the FGSM gradient")
    axes[0][0].legend(loc="upper right", markerscale=4, fontsize=8)
    figure.tight_layout()
    return figure


def _name_class_bands(axis, sorted_labels, class_names):
    """Separate the classes of ``sorted_labels`` (grouped by class) with thin lines and name each band."""
    from advlib.data.cifar10 import CLASS_NAMES

    names = CLASS_NAMES if class_names is None else class_names
    classes, starts, counts = np.unique(sorted_labels, return_index=True, return_counts=True)
    for start in starts[1:]:
        axis.axvline(start - 0.5, color="0.6", linewidth=0.6, zorder=0)
    axis.set_xticks(starts + (counts - 1) / 2, [names[int(label)] for label in classes], rotation=60, fontsize=8)
    axis.set_xlim(-0.5, len(sorted_labels) - 0.5)
    axis.set_xlabel("test images, grouped by true class")

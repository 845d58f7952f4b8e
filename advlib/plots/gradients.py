"""Gradient-norm panels: the size of the FGSM gradient per test image (report Figs. 4-6)."""

import matplotlib.pyplot as plt
import numpy as np

from advlib.plots import CORRECT_COLOR, INCORRECT_COLOR


def gradient_norm_panels(norms_by_model, *, clip_quantile=None, figsize_per_panel=(4.2, 3.4)):
    """One scatter panel per model: the L2 norm of each image's FGSM gradient.

    ``norms_by_model`` maps a panel title to an :class:`advlib.evaluation.GradientNorms`.
    Points are coloured by whether the model classified the clean image correctly, and
    each panel states its share of exactly-zero gradients. ``clip_quantile`` (e.g. 0.99)
    caps the y axis so a few huge norms of misclassified images do not flatten the rest,
    as the report does for Fig. 5; the caption says how many points were cut off.
    """
    if not norms_by_model:
        raise ValueError("norms_by_model is empty: pass at least one {title: GradientNorms}")
    figure, axes = plt.subplots(
        1, len(norms_by_model), figsize=(figsize_per_panel[0] * len(norms_by_model), figsize_per_panel[1]), squeeze=False
    )
    for axis, (title, result) in zip(axes[0], norms_by_model.items()):
        index = np.arange(len(result.norms))
        for mask, color, label in ((~result.correct, INCORRECT_COLOR, "misclassified"), (result.correct, CORRECT_COLOR, "correctly classified")):
            axis.scatter(index[mask], result.norms[mask], s=3, color=color, label=label, alpha=0.6, rasterized=True)
        note = f"exactly zero: {result.zero_fraction:.1%}"
        if clip_quantile is not None and len(result.norms):
            cap = float(np.quantile(result.norms, clip_quantile))
            if cap > 0:
                hidden = int(np.sum(result.norms > cap))
                axis.set_ylim(-0.02 * cap, cap * 1.05)
                note += f"; {hidden} points above the axis"
        axis.set_title(f"{title}\n({note})", fontsize=10)
        axis.set_xlabel("test image index")
        axis.set_ylabel("L2 norm of the FGSM gradient")
    axes[0][0].legend(loc="upper right", markerscale=4, fontsize=8)
    figure.tight_layout()
    return figure

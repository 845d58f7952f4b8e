"""Figures for the error-bar chapter: every seed as a dot, with the mean and its spread.

- :func:`seed_dots`: one panel per metric (clean accuracy, FGSM accuracy, ...), one
  column of dots per recipe (one dot per seed), and the mean ± sample standard deviation
  (ddof=1) beside each column.

Every figure labels its axes, uses :data:`advlib.plots.COLORS` (Okabe-Ito) and returns
the Matplotlib figure; nothing is drawn at import time.
"""

import matplotlib.pyplot as plt
import numpy as np

from advlib.plots import COLORS

DOT_COLOR = COLORS["blue"]
MEAN_COLOR = COLORS["vermillion"]
# The mean and its bar sit this far right of the seeds' column, so they never hide a dot.
MEAN_OFFSET = 0.18
# Seeds with equal values are spread sideways by this much so that each dot stays visible.
DOT_SPREAD = 0.12


def seed_dots(values_by_recipe, *, metrics=None, ylabel="accuracy", title=None, figsize_per_panel=(4.2, 3.6)):
    """Per-seed values as dots, with the mean ± sample std beside them; one panel per metric.

    Args:
        values_by_recipe: ``{recipe: {metric: values}}``, each ``values`` a sequence of
            floats (one per seed, e.g. accuracies in [0, 1]); a recipe may have no values
            for a metric (nothing is drawn for it there).
        metrics: the metrics to show, in order (default: those of the first recipe).
        ylabel: the y-axis label of every panel (each panel has its own y range).
        title: the figure's title (optional).

    Returns:
        The figure: one axis per metric (titled with the metric, the recipes as x tick
        labels), each with a line of dots per recipe (``axis.lines[0]`` for the first
        recipe, and so on) and one error bar per recipe with two or more values, whose
        centre is the mean and whose half-length is the sample standard deviation. A
        legend says which mark is which.
    """
    if not values_by_recipe:
        raise ValueError("values_by_recipe is empty: pass {recipe: {metric: values}}")
    recipes = list(values_by_recipe)
    metrics = list(metrics) if metrics is not None else list(next(iter(values_by_recipe.values())))
    if not metrics:
        raise ValueError("no metrics to show: pass metrics=[...] or values for at least one metric")
    arrays = {}
    for recipe, by_metric in values_by_recipe.items():
        for metric in metrics:
            values = np.asarray(by_metric.get(metric, ()), dtype=float).reshape(-1)
            if not np.all(np.isfinite(values)):
                raise ValueError(f"{recipe!r}/{metric!r} has values that are not finite: {values}")
            arrays[recipe, metric] = values

    figure, axes = plt.subplots(
        1, len(metrics), figsize=(figsize_per_panel[0] * len(metrics), figsize_per_panel[1]), squeeze=False
    )
    axes = axes[0]
    positions = np.arange(len(recipes), dtype=float)
    for axis, metric in zip(axes, metrics):
        for position, recipe in zip(positions, recipes):
            values = arrays[recipe, metric]
            # Offsets centred on the column, the same for every panel, so dots do not overlap.
            offsets = (np.arange(len(values)) - (len(values) - 1) / 2) * DOT_SPREAD / max(len(values), 1)
            axis.plot(position + offsets, values, "o", color=DOT_COLOR, markersize=6, label="one seed")
            if len(values) >= 2:
                axis.errorbar(
                    [position + MEAN_OFFSET], [values.mean()], yerr=[values.std(ddof=1)],
                    fmt="D", color=MEAN_COLOR, capsize=4, markersize=5, label="mean ± std over seeds",
                )
        axis.set_xticks(positions, recipes)
        axis.set_xlim(-0.5, len(recipes) - 0.5)
        axis.set_title(metric)
        axis.set_xlabel("recipe")
        axis.grid(axis="y", alpha=0.3)
        # Each panel keeps its own y range: clean and attacked accuracies can be far apart,
        # and a shared axis would flatten the spread this figure is meant to show.
        axis.set_ylabel(ylabel)
    # One legend entry per kind of mark, whichever panel drew it first.
    handles = {}
    for axis in axes:
        for handle, label in zip(*axis.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    figure.legend(list(handles.values()), list(handles), loc="lower center", ncol=len(handles), frameon=False)
    if title:
        figure.suptitle(title)
    figure.tight_layout(rect=(0, 0.08, 1, 1))
    return figure

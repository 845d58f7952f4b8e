"""Figures for the defence chapters: per-class bars for one image and accuracy bars for many models.

- :func:`class_bar_panels`: one bar chart per panel over the ten classes, for example a
  model's logits and its softmax at two temperatures for one test image, with the true
  class highlighted (the gradient-hiding chapter).
- :func:`accuracy_bars`: grouped horizontal bars of accuracies (clean, FGSM, ...) for
  several models or attack settings, optionally with the report's values as markers
  (the variant and final-model chapters).

Every function labels its axes, uses :data:`advlib.plots.COLORS` and returns the
Matplotlib figure; nothing is drawn at import time.
"""

import math

import matplotlib.pyplot as plt
import numpy as np

from advlib.plots import COLORS

# Bar colours for the series of :func:`accuracy_bars`, in order (Okabe-Ito).
SERIES_COLORS = (COLORS["sky"], COLORS["vermillion"], COLORS["green"], COLORS["orange"], COLORS["purple"], COLORS["blue"])
# Colour of the true class in :func:`class_bar_panels`, and of every other class.
TRUE_CLASS_COLOR = COLORS["vermillion"]
OTHER_CLASS_COLOR = COLORS["blue"]


def class_bar_panels(
    values_by_title, class_names, *, true_label=None, ylabels=None, annotate=False, columns=4, figsize_per_panel=(4.0, 3.4)
):
    """One bar chart per entry of ``values_by_title``: a value per class for one image.

    Args:
        values_by_title: ``{panel title: values}``, each ``values`` a sequence with one
            number per class (logits, probabilities, ...).
        class_names: the class names for the x axis (``advlib.data.CLASS_NAMES``).
        true_label: index of the true class; its bar is drawn in
            :data:`TRUE_CLASS_COLOR` and the legend says which colour is which.
        ylabels: ``{panel title: y-axis label}`` (default ``"value"``).
        annotate: write each bar's value beside it, turned upright so long numbers do not
            overlap (useful to show exact 0 and 1).
        columns: panels per row; more panels wrap onto further rows.

    Returns:
        The figure, with one axis per panel in the order of ``values_by_title``.
    """
    if not values_by_title:
        raise ValueError("values_by_title is empty: pass at least one {title: values}")
    class_names = list(class_names)
    ylabels = ylabels or {}
    count = len(values_by_title)
    columns = max(1, min(int(columns), count))
    rows = math.ceil(count / columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(figsize_per_panel[0] * columns, figsize_per_panel[1] * rows), squeeze=False
    )
    # Unused cells of the last row are removed so that figure.axes holds one axis per panel.
    for axis in axes.flat[count:]:
        axis.remove()
    axes = axes.flat[:count]
    positions = np.arange(len(class_names))
    for axis, (title, values) in zip(axes, values_by_title.items()):
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if len(values) != len(class_names):
            raise ValueError(f"panel {title!r} has {len(values)} values for {len(class_names)} classes")
        colors = [TRUE_CLASS_COLOR if index == true_label else OTHER_CLASS_COLOR for index in positions]
        axis.bar(positions, values, color=colors)
        axis.axhline(0.0, color=COLORS["black"], linewidth=0.8)
        if annotate:
            for position, value in zip(positions, values):
                # "0" and "1" are printed only for exact zeros and ones, so exactness shows.
                axis.annotate(
                    f"{value:.3g}",
                    (position, value),
                    textcoords="offset points",
                    xytext=(0, 3 if value >= 0 else -3),
                    ha="center",
                    va="bottom" if value >= 0 else "top",
                    rotation=90,
                    fontsize=7,
                )
            # Head room for the upright labels.
            low, high = min(values.min(), 0.0), max(values.max(), 0.0)
            span = (high - low) or 1.0
            axis.set_ylim(low - (0.3 * span if low < 0 else 0.0), high + 0.3 * span)
        axis.set_xticks(positions, class_names, rotation=60, ha="right", fontsize=8)
        axis.set_xlabel("class")
        axis.set_ylabel(ylabels.get(title, "value"))
        axis.set_title(title, fontsize=10)
    if true_label is not None:
        handles = [
            plt.Rectangle((0, 0), 1, 1, color=TRUE_CLASS_COLOR, label="true class"),
            plt.Rectangle((0, 0), 1, 1, color=OTHER_CLASS_COLOR, label="other classes"),
        ]
        axes[-1].legend(handles=handles, loc="best", fontsize=8)
    figure.tight_layout()
    return figure


def accuracy_bars(accuracies, *, report=None, title=None, xlabel="accuracy", figsize=None):
    """Grouped horizontal bars: for each row (a model or an attack), one bar per series.

    Args:
        accuracies: ``{row label: {series label: accuracy}}``, e.g.
            ``{"Baseline": {"clean": 0.8, "FGSM": 0.2}}``. Rows are drawn top to bottom in
            this order; a series missing from a row is left out of that row.
        report: optional ``{row label: {series label: value or None}}``, the report's
            numbers, drawn as black diamonds on the matching bars (``None`` is skipped).
        title: the figure title.
        xlabel: the x-axis label; the axis runs from 0 to 1.

    Returns:
        The figure (one axis), with a legend naming every series and the report marker.
    """
    if not accuracies:
        raise ValueError("accuracies is empty: pass at least one {row: {series: accuracy}}")
    report = report or {}
    rows = list(accuracies)
    series = []
    for values in accuracies.values():
        series.extend(name for name in values if name not in series)
    height = 0.8 / len(series)
    if figsize is None:
        figsize = (8.0, 0.3 * len(rows) * max(len(series), 2) + 1.8)
    figure, axis = plt.subplots(figsize=figsize)
    report_drawn = False
    for series_index, name in enumerate(series):
        color = SERIES_COLORS[series_index % len(SERIES_COLORS)]
        offsets = [row_index + (series_index - (len(series) - 1) / 2) * height for row_index in range(len(rows))]
        present = [(offset, row) for offset, row in zip(offsets, rows) if name in accuracies[row]]
        axis.barh(
            [offset for offset, _ in present],
            [accuracies[row][name] for _, row in present],
            height=height * 0.95,
            color=color,
            label=name,
        )
        for offset, row in present:
            value = accuracies[row][name]
            axis.annotate(f"{value:.3f}", (value, offset), textcoords="offset points", xytext=(3, -3), fontsize=7)
            reported = report.get(row, {}).get(name)
            if reported is not None and not (isinstance(reported, float) and math.isnan(reported)):
                axis.plot(
                    [reported], [offset], marker="D", color=COLORS["black"], markersize=5, linestyle="none",
                    label=None if report_drawn else "report's value",
                )
                report_drawn = True
    axis.set_yticks(range(len(rows)), rows, fontsize=9)
    axis.invert_yaxis()
    axis.set_xlim(0.0, 1.08)
    axis.set_xlabel(xlabel)
    axis.set_ylabel("model / setting")
    if title:
        axis.set_title(title, fontsize=11)
    # Matplotlib lists lines before bars; put the series first and the report marker last.
    handles, labels = axis.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda index: labels[index] == "report's value")
    # Below the axis, so that it never hides a bar.
    axis.legend(
        [handles[index] for index in order], [labels[index] for index in order],
        loc="upper center", bbox_to_anchor=(0.5, -0.6 / max(figsize[1] - 1.3, 0.5)), ncol=len(labels), fontsize=8,
    )
    axis.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    return figure

"""Figures for the defence chapters: per-class bars for one image and accuracy bars for many models.

- :func:`class_bar_panels`: one bar chart per panel over the ten classes, for example a
  model's logits and its softmax at two temperatures for one test image, with the true
  class highlighted (the gradient-hiding chapter).
- :func:`accuracy_bars`: grouped horizontal bars of accuracies (clean, FGSM, ...) for
  several models or attack settings, optionally with the report's values as markers and
  the rows grouped under headings (the variant and final-model chapters);
  :func:`marker_extent` gives a report marker's painted box, to check what it covers.

Every function labels its axes, uses :data:`advlib.plots.COLORS` and returns the
Matplotlib figure; nothing is drawn at import time.
"""

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.markers import MarkerStyle
from matplotlib.transforms import Bbox

from advlib.plots import COLORS

# Bar colours for the series of :func:`accuracy_bars`, in order (Okabe-Ito).
SERIES_COLORS = (COLORS["sky"], COLORS["vermillion"], COLORS["green"], COLORS["orange"], COLORS["purple"], COLORS["blue"])
# Colour of the true class in :func:`class_bar_panels`, and of every other class.
TRUE_CLASS_COLOR = COLORS["vermillion"]
OTHER_CLASS_COLOR = COLORS["blue"]
# Size in points of the report's diamonds in :func:`accuracy_bars`, and the room (in row
# units) a group heading takes between two groups of rows.
REPORT_MARKER_SIZE = 5
HEADING_GAP = 0.6
# The least room in points between a value label and a report marker.
LABEL_CLEARANCE = 2.0


def class_bar_panels(
    values_by_title, class_names, *, true_label=None, ylabels=None, annotate=False, columns=4, figsize_per_panel=(4.0, 3.4)
):
    """One bar chart per entry of ``values_by_title``: a value per class for one image.

    Args:
        values_by_title: ``{panel title: values}``, each ``values`` a sequence with one
            number per class (logits, probabilities, ...).
        class_names: the class names for the x axis (``advlib.data.cifar10.CLASS_NAMES``).
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


def _missing(value):
    """Whether ``value`` is ``None`` or NaN (NaN is the one value not equal to itself)."""
    return value is None or value != value


def _row_positions(rows, groups):
    """y positions of ``rows`` (one unit apart), and the group headings and separators.

    Returns ``(positions, headings, separators)``: ``headings`` is a list of
    ``(y, group label)``, one above each run of rows of one group, and ``separators`` the
    y of a line between two runs. Without ``groups`` the rows sit at 0, 1, 2, ...
    """
    if groups is None:
        return [float(index) for index in range(len(rows))], [], []
    missing = [row for row in rows if row not in groups]
    if missing:
        raise ValueError(f"groups has no group for the rows {missing}")
    positions, headings, separators, seen = [], [], [], []
    cursor = 0.0
    for row in rows:
        group = groups[row]
        if not seen or group != seen[-1]:
            if group in seen:
                raise ValueError(f"the rows of group {group!r} are not consecutive: order the rows by group")
            if seen:
                # A gap for the heading; the line sits between the last row and the heading.
                cursor += HEADING_GAP
                separators.append(cursor - HEADING_GAP - 0.45)
            headings.append((cursor - 0.65, str(group)))
            seen.append(group)
        positions.append(cursor)
        cursor += 1.0
    return positions, headings, separators


def accuracy_bars(accuracies, *, report=None, groups=None, title=None, xlabel="accuracy", figsize=None):
    """Grouped horizontal bars: for each row (a model or an attack), one bar per series.

    Args:
        accuracies: ``{row label: {series label: accuracy}}``, e.g.
            ``{"Baseline": {"clean": 0.8, "FGSM": 0.2}}``, each accuracy in [0, 1]. Rows
            are drawn top to bottom in this order; a series missing from a row is left out
            of that row.
        report: optional ``{row label: {series label: value or None}}``, the report's
            numbers in [0, 1], drawn as black diamonds on the matching bars (``None`` and
            NaN are skipped).
        groups: optional ``{row label: group label}`` naming a group for every row, e.g.
            the report section that introduces each model. The rows of one group must be
            consecutive; each run gets a bold heading above it, and a thin line separates
            the runs.
        title: the figure title.
        xlabel: the x-axis label; the axis runs from 0 to 1.
        figsize: ``(width, height)`` in inches; by default the height grows with the rows.

    Each bar's value is written just past the bar's end, or, where its report marker
    would cover it there, just past the marker (see :func:`marker_extent`).

    Returns:
        The figure (one axis), with a legend below the axis naming every series and the
        report marker.

    Raises:
        ValueError: ``accuracies`` is empty or has no value at all, a value or report value
            lies outside [0, 1], or ``groups`` misses a row or splits a group.
    """
    if not accuracies:
        raise ValueError("accuracies is empty: pass at least one {row: {series: accuracy}}")
    report = report or {}
    rows = list(accuracies)
    series = []
    for values in accuracies.values():
        series.extend(name for name in values if name not in series)
    if not series:
        raise ValueError("accuracies has no value: every row's {series: accuracy} is empty")
    for source, table in (("accuracies", accuracies), ("report", report)):
        for row, values in table.items():
            for name, value in values.items():
                if not _missing(value) and not 0.0 <= value <= 1.0:
                    raise ValueError(f"{source}[{row!r}][{name!r}] = {value!r} is not in [0, 1]")
    positions, headings, separators = _row_positions(rows, groups)
    top = headings[0][0] - 0.5 if headings else -0.5
    bottom = positions[-1] + 0.5
    height = 0.8 / len(series)
    if figsize is None:
        figsize = (8.0, 0.3 * (bottom - top) * max(len(series), 2) + 1.8)
    figure, axis = plt.subplots(figsize=figsize)
    report_drawn = False
    labelled = []  # (value label, report marker, larger of bar end and marker) per marked bar.
    for series_index, name in enumerate(series):
        color = SERIES_COLORS[series_index % len(SERIES_COLORS)]
        offsets = [position + (series_index - (len(series) - 1) / 2) * height for position in positions]
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
            text = axis.annotate(
                f"{value:.3f}", (value, offset), textcoords="offset points", xytext=(3, 0), va="center", fontsize=7
            )
            reported = report.get(row, {}).get(name)
            if not _missing(reported):
                (marker,) = axis.plot(
                    [reported], [offset], marker="D", color=COLORS["black"], markersize=REPORT_MARKER_SIZE,
                    linestyle="none", label=None if report_drawn else "report's value",
                )
                report_drawn = True
                labelled.append((text, marker, max(value, reported)))
    for y, label in headings:
        axis.text(
            0.005, y, label, transform=axis.get_yaxis_transform(), ha="left", va="center", fontsize=8, fontweight="bold"
        )
    for y in separators:
        axis.axhline(y, color=COLORS["black"], linewidth=0.6, alpha=0.5)
    axis.set_yticks(positions, rows, fontsize=9)
    axis.set_ylim(bottom, top)  # Top row first.
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
    # A value label that a report marker would cover moves to just past the marker.
    if labelled:
        figure.draw_without_rendering()
        clearance = LABEL_CLEARANCE * figure.dpi / 72
        for text, marker, end in labelled:
            box = marker_extent(marker)
            if text.get_window_extent().overlaps(box.padded(clearance)):
                text.xy = (end, text.xy[1])
                text.xyann = ((box.width / 2 + clearance) * 72 / figure.dpi, 0)
    return figure


def marker_extent(line):
    """The display-space box of the (first) marker that ``line`` paints, edge included.

    Unlike ``line.get_window_extent()``, which pads by half the marker size, this uses the
    marker's own path, so it is exact for the report's diamonds (wider than their size).
    """
    style = MarkerStyle(line.get_marker())
    extents = style.get_path().transformed(style.get_transform()).get_extents()
    half = (max(abs(extents.x0), abs(extents.x1), abs(extents.y0), abs(extents.y1)) * line.get_markersize()
            + line.get_markeredgewidth() / 2) * line.axes.figure.dpi / 72
    x, y = line.axes.transData.transform((line.get_xdata()[0], line.get_ydata()[0]))
    return Bbox.from_extents(x - half, y - half, x + half, y + half)


def select_measurements(measurements, kinds, *, exclude=()):
    """The measurements whose key ends in one of ``kinds``, leaving out ``exclude``'s models.

    Args:
        measurements: :class:`advlib.plan.catalogue.Measurement` objects (keys
            ``"<view>.<kind>"``), e.g. ``advlib.plan.catalogue.MEASUREMENTS``; their order is kept.
        kinds: the key endings to keep, e.g. ``("clean", "fgsm")``.
        exclude: registry model names; a measurement that depends on one of them (its
            ``models``: the view's model or the source's) is left out.

    Returns:
        A list of the kept measurements.
    """
    kinds, exclude = set(kinds), set(exclude)
    if not kinds:
        raise ValueError("kinds is empty: name the key endings to keep, e.g. ('clean', 'fgsm')")
    return [m for m in measurements if m.key.rsplit(".", 1)[-1] in kinds and not exclude & set(m.models)]


def accuracy_rows(measurements, values, series):
    """:func:`accuracy_bars`' inputs from catalogue measurements: one row per view.

    The rows are the keys' views (``key.rsplit(".", 1)[0]``), in the order of
    ``measurements``; a row's label is the description without its last part (``"Final
    model, its FGSM set"`` gives ``"Final model"``), which must be the same for every key
    of one view and differ between views.

    Args:
        measurements: :class:`advlib.plan.catalogue.Measurement` objects, e.g. from
            :func:`select_measurements`.
        values: ``{key: our value}``, each in [0, 1], with a value for every measurement.
        series: ``{key ending: series label}``, e.g. ``{"clean": "clean", "fgsm": "own
            FGSM set"}``, naming every ending that occurs.

    Returns:
        ``(accuracies, report, sections)``: ``{row label: {series: our value}}``, the
        same with the report's values (``None`` where it gives none), and ``{row label:
        section}`` (the measurement's ``section``) for :func:`accuracy_bars`' ``groups``.

    Raises:
        ValueError: a value or a series label is missing, a view's keys disagree on the
            label, or two views share one.
    """
    accuracies, report, sections = {}, {}, {}
    labels, views = {}, {}  # {view: row label} and back.
    for measurement in measurements:
        view, kind = measurement.key.rsplit(".", 1)
        if kind not in series:
            raise ValueError(f"{measurement.key!r}: no series label for {kind!r} in series")
        if measurement.key not in values:
            raise ValueError(f"{measurement.key!r} has no value in values")
        label = measurement.description.rsplit(", ", 1)[0]
        if labels.setdefault(view, label) != label:
            raise ValueError(f"the keys of view {view!r} give different row labels: {labels[view]!r}, {label!r}")
        if views.setdefault(label, view) != view:
            raise ValueError(f"views {views[label]!r} and {view!r} share the row label {label!r}")
        accuracies.setdefault(label, {})[series[kind]] = values[measurement.key]
        report.setdefault(label, {})[series[kind]] = measurement.report
        sections.setdefault(label, measurement.section)
    return accuracies, report, sections

"""Figures for the chapter beyond the report (stronger attacks and the audit).

- :func:`eps_sweep`: accuracy against eps, one panel per attack (FGSM, PGD, ...), one line
  per model, the same colour and line style for a model in every panel.
- :func:`audit_heatmap`: a models-by-symptoms grid of :mod:`advlib.evaluation.audit` results
  (flagged / ok / not checked), with the status written in each cell.

Every figure labels its axes, uses :data:`advlib.plots.COLORS` (Okabe-Ito), and returns the
Matplotlib figure; nothing is drawn at import time.
"""


import matplotlib.pyplot as plt
import numpy as np
from adjustText import adjust_text
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch
from matplotlib.transforms import Bbox

from advlib.plots import COLORS

# Seven Okabe-Ito colours (yellow is too pale for thin lines) times three line styles
# give 21 distinguishable (colour, style) pairs, more than the registry has models.
LINE_COLORS = (
    COLORS["blue"],
    COLORS["orange"],
    COLORS["green"],
    COLORS["vermillion"],
    COLORS["sky"],
    COLORS["purple"],
    COLORS["black"],
)
LINE_STYLES = ("-", "--", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")

# Audit statuses, in the order of the heat-map's colour scale.
STATUS_LABELS = ("ok", "FLAGGED", "not checked")
STATUS_COLORS = (COLORS["sky"], COLORS["vermillion"], "#DDDDDD")
# :func:`clean_vs_robust`: the points' marker size and error-bar cap width (points), at most
# this many steps of adjustText's label placement, and the distance (pixels) from which a
# label gets a line back to its point.
MARKER_SIZE = 6
CAP_SIZE = 3
LABEL_STEPS = 500
LABEL_ARROW_LENGTH = 15


def line_style(index):
    """``(colour, line style, marker)`` of the ``index``-th line: colours cycle first."""
    return (
        LINE_COLORS[index % len(LINE_COLORS)],
        LINE_STYLES[(index // len(LINE_COLORS)) % len(LINE_STYLES)],
        MARKERS[index % len(MARKERS)],
    )


def eps_sweep(accuracy_by_attack, eps_values, *, eps_unit=1 / 255, unit_label="1/255", title=None, figsize=None):
    """Accuracy against eps: one panel per attack, one line per model.

    Args:
        accuracy_by_attack: ``{attack name: {model name: accuracies}}``, each ``accuracies``
            a sequence with one value in [0, 1] per entry of ``eps_values``. A model keeps
            its colour, line style and marker in every panel.
        eps_values: the eps values (in image units, e.g. ``4 / 255``), increasing.
        eps_unit, unit_label: the x axis shows ``eps / eps_unit`` and says so in its label
            (default: in units of 1/255, the usual unit for CIFAR-10).
        title: the figure's title (optional).

    Returns:
        The figure: one axis per attack (titled with the attack's name, x label
        ``"eps (units of 1/255)"``, y label ``"accuracy"`` on the first), and one legend
        with one entry per model.
    """
    if not accuracy_by_attack:
        raise ValueError("accuracy_by_attack is empty: pass {attack: {model: accuracies}}")
    eps_values = np.asarray(eps_values, dtype=float)
    if eps_values.ndim != 1 or len(eps_values) == 0:
        raise ValueError(f"eps_values must be a non-empty sequence, got {eps_values!r}")
    model_names = []
    for attack, by_model in accuracy_by_attack.items():
        for model, accuracies in by_model.items():
            if len(accuracies) != len(eps_values):
                raise ValueError(
                    f"{attack!r}/{model!r} has {len(accuracies)} accuracies for {len(eps_values)} eps values"
                )
            if model not in model_names:
                model_names.append(model)

    count = len(accuracy_by_attack)
    figsize = figsize or (5.0 * count + 3.0, 4.4)
    figure, axes = plt.subplots(1, count, figsize=figsize, sharey=True, squeeze=False)
    axes = axes[0]
    x = eps_values / eps_unit
    for axis, (attack, by_model) in zip(axes, accuracy_by_attack.items()):
        for model, accuracies in by_model.items():
            color, style, marker = line_style(model_names.index(model))
            axis.plot(x, accuracies, color=color, linestyle=style, marker=marker, markersize=4, label=model)
        axis.set_title(attack)
        axis.set_xlabel(f"eps (units of {unit_label})")
        axis.set_xticks(x)
        axis.set_xticklabels([f"{value:g}" for value in x])
        axis.set_ylim(0.0, 1.0)
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("accuracy")
    handles, labels = axes[0].get_legend_handles_labels()
    # Models missing from the first panel still need a legend entry.
    for axis in axes[1:]:
        for handle, label in zip(*axis.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    figure.legend(handles, labels, title="model", loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def audit_heatmap(status_by_model, symptoms, *, title=None, figsize=None):
    """A models-by-symptoms grid of audit results.

    Args:
        status_by_model: ``{model name: {symptom: flagged}}`` with ``flagged`` ``True``
            (symptom present), ``False`` (absent) or ``None`` (not checked), as in
            :class:`advlib.evaluation.audit.Symptom`; a missing symptom counts as not checked.
        symptoms: the symptom names, in column order.
        title: the axis title (optional).

    Returns:
        The figure with one axis: rows are models (y label ``"model"``), columns symptoms
        (x label ``"symptom"``), each cell coloured and labelled with its status, and a
        legend of the three statuses.
    """
    if not status_by_model:
        raise ValueError("status_by_model is empty: pass {model: {symptom: flagged}}")
    symptoms = list(symptoms)
    if not symptoms:
        raise ValueError("symptoms is empty")
    models = list(status_by_model)
    codes = {False: 0, True: 1, None: 2}
    grid = np.array([[codes[status_by_model[model].get(symptom)] for symptom in symptoms] for model in models])
    figsize = figsize or (1.9 * len(symptoms) + 3.5, 0.45 * len(models) + 1.6)
    figure, axis = plt.subplots(figsize=figsize)
    axis.imshow(grid, cmap=ListedColormap(STATUS_COLORS), vmin=-0.5, vmax=2.5, aspect="auto")
    for row in range(len(models)):
        for column in range(len(symptoms)):
            axis.text(column, row, STATUS_LABELS[grid[row, column]], ha="center", va="center", fontsize=8)
    axis.set_xticks(range(len(symptoms)))
    axis.set_xticklabels([symptom.replace("_", " ") for symptom in symptoms], rotation=20, ha="right")
    axis.set_yticks(range(len(models)))
    axis.set_yticklabels(models)
    axis.set_xlabel("symptom")
    axis.set_ylabel("model")
    axis.legend(
        handles=[Patch(facecolor=color, edgecolor="grey", label=label) for label, color in zip(STATUS_LABELS, STATUS_COLORS)],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
    )
    if title:
        axis.set_title(title)
    figure.tight_layout()
    return figure


def clean_vs_robust(points, *, clean_goal=None, robust_goal=None, highlight=(), annotate=None, title=None, figsize=(6.5, 4.6)):
    """A scatter of robust accuracy against clean accuracy, one labelled point per model.

    ``points``: ``{name: (clean, robust, (low, high))}``, accuracies in [0, 1] with the
    95% interval of the robust one (drawn as a vertical bar). ``clean_goal`` and
    ``robust_goal`` draw dashed lines; the goal is the region right of and above both.
    Names in ``highlight`` are drawn in orange, the rest in blue; only names in
    ``annotate`` (default: every name) get a text label, so a crowd of points stays legible,
    and adjustText moves each label until it covers no other label, point or error bar.
    """
    if not points:
        raise ValueError("points must hold at least one model")
    figure, axis = plt.subplots(figsize=figsize)
    for name, (clean, robust, (low, high)) in points.items():
        color = COLORS["orange"] if name in highlight else COLORS["blue"]
        axis.errorbar(clean, robust, yerr=[[robust - low], [high - robust]], fmt="o", color=color, capsize=CAP_SIZE,
                      markersize=MARKER_SIZE)
    if clean_goal is not None:
        axis.axvline(clean_goal, color=COLORS["black"], linestyle="--", linewidth=1, label=f"clean accuracy {clean_goal:g}")
    if robust_goal is not None:
        axis.axhline(robust_goal, color=COLORS["vermillion"], linestyle="--", linewidth=1, label=f"robust accuracy {robust_goal:g}")
    if clean_goal is not None or robust_goal is not None:
        # Below the axes: inside, it covers whichever corner holds a point or a label.
        axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8, frameon=False)
    axis.set_xlabel("clean accuracy")
    axis.set_ylabel("worst-case accuracy")
    axis.grid(alpha=0.3)
    if title:
        axis.set_title(title)
    # Layout first: the labels are placed in the final axes, where their extents hold.
    figure.tight_layout()
    _place_labels(figure, axis, {name: point[:2] for name, point in points.items() if annotate is None or name in annotate},
                  points)
    return figure


def _place_labels(figure, axis, labelled, points):
    """Write each ``{name: (x, y)}`` label near its point, moved by adjustText until no two overlap.

    Models close in both accuracies (two candidates of one recipe, say) would otherwise
    print their names over each other. Labels also keep off every point and error bar of
    ``points`` (``{name: (clean, robust, (low, high))}``) and stay inside the axes; a label
    pushed away from its point gets a thin grey line back to it.
    """
    texts = [axis.text(x, y, name, fontsize=8, ha="left", va="bottom") for name, (x, y) in labelled.items()]
    if not texts:
        return
    figure.draw_without_rendering()  # Fixes the axis limits, so the boxes below hold.
    # Each point's marker and error bar as a box in data coordinates (adjustText takes Bbox
    # obstacles in the texts' coordinates): half as wide as the wider of marker and caps,
    # plus a point of room, converted from points to pixels.
    half = (max(MARKER_SIZE, 2 * CAP_SIZE) / 2 + 1) * figure.dpi / 72
    to_data = axis.transData.inverted()
    obstacles = []
    for clean, robust, (low, high) in points.values():
        x, bottom = axis.transData.transform((clean, min(low, robust)))
        _, top = axis.transData.transform((clean, max(high, robust)))
        obstacles.append(Bbox(to_data.transform([(x - half, bottom - half), (x + half, top + half)])))
    # A step limit, not adjustText's default one-second time limit: the same figure on a
    # slow or busy machine gets the same layout. No initial "explosion" and five times the
    # default pull back: each label starts up and right of its point and is moved only as
    # far as the crowd needs (with adjustText 1.3's defaults, one of two close candidates'
    # labels ended eight label heights from its point).
    adjust_text(texts, objects=obstacles, ax=axis, iter_lim=LABEL_STEPS, time_lim=None, ensure_inside_axes=True,
                force_explode=(0.0, 0.0), force_pull=(0.05, 0.05), min_arrow_len=LABEL_ARROW_LENGTH,
                arrowprops=dict(arrowstyle="-", color="grey", linewidth=0.5))

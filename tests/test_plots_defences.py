"""advlib.plots.defences on tiny synthetic inputs: axes, labels, legends and input checks."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from advlib.plots import COLORS  # noqa: E402
from advlib.plots import defences  # noqa: E402

CLASSES = ["a", "b", "c"]


def test_class_bar_panels_one_axis_per_panel_with_labels():
    figure = defences.class_bar_panels(
        {"logits": [1.0, -2.0, 0.5], "softmax": [0.2, 0.0, 0.8]},
        CLASSES,
        true_label=2,
        ylabels={"logits": "logit", "softmax": "probability"},
        annotate=True,
    )
    axes = figure.axes
    assert len(axes) == 2
    assert [axis.get_title() for axis in axes] == ["logits", "softmax"]
    assert [axis.get_ylabel() for axis in axes] == ["logit", "probability"]
    assert all(axis.get_xlabel() == "class" for axis in axes)
    assert [tick.get_text() for tick in axes[0].get_xticklabels()] == CLASSES
    # The true class is highlighted and the legend says so.
    bars = axes[0].patches
    assert matplotlib.colors.to_hex(bars[2].get_facecolor()) == COLORS["vermillion"].lower()
    assert matplotlib.colors.to_hex(bars[0].get_facecolor()) == COLORS["blue"].lower()
    legend = axes[-1].get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["true class", "other classes"]
    plt.close(figure)


def test_class_bar_panels_rejects_bad_input():
    with pytest.raises(ValueError, match="empty"):
        defences.class_bar_panels({}, CLASSES)
    with pytest.raises(ValueError, match="3 classes"):
        defences.class_bar_panels({"x": [1.0, 2.0]}, CLASSES)


def test_accuracy_bars_groups_series_and_marks_report():
    figure = defences.accuracy_bars(
        {"model A": {"clean": 0.8, "FGSM": 0.2}, "model B": {"clean": 0.7}},
        report={"model A": {"clean": 0.83, "FGSM": None}},
        title="toy",
    )
    assert len(figure.axes) == 1
    axis = figure.axes[0]
    assert axis.get_xlabel() == "accuracy"
    assert axis.get_ylabel() == "model / setting"
    assert axis.get_title() == "toy"
    assert [tick.get_text() for tick in axis.get_yticklabels()] == ["model A", "model B"]
    # Three bars (model B has no FGSM bar) and one report marker.
    assert len(axis.patches) == 3
    assert np.allclose(sorted(patch.get_width() for patch in axis.patches), [0.2, 0.7, 0.8])
    labels = [text.get_text() for text in axis.get_legend().get_texts()]
    assert labels == ["clean", "FGSM", "report's value"]
    plt.close(figure)


def test_accuracy_bars_without_report_has_no_marker():
    figure = defences.accuracy_bars({"only": {"clean": 0.5}})
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert labels == ["clean"]
    with pytest.raises(ValueError, match="empty"):
        defences.accuracy_bars({})
    plt.close(figure)

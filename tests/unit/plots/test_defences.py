"""advlib.plots.defences on tiny synthetic inputs: axes, labels, legends and input checks."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.markers import MarkerStyle  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

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


# --- The every-model figure (chapter 8): rows from the catalogue, groups, overlaps, layout. ---


class FakeMeasurement:
    """The fields of advlib.plan.catalogue.Measurement that the row helpers read."""

    def __init__(self, key, description, section="Table 1", report=None, models=None):
        self.key, self.description, self.section, self.report = key, description, section, report
        self.models = models or (key.rsplit(".", 1)[0],)


SERIES = {"clean": "clean", "fgsm": "own FGSM set"}


def test_accuracy_rows_one_row_per_view_even_with_a_shared_description_prefix():
    # Three views whose descriptions share "Fast adversarial training" before the first comma.
    measurements = [
        FakeMeasurement("fast.clean", "Fast adversarial training, clean", report=0.8),
        FakeMeasurement("fast.fgsm", "Fast adversarial training, its FGSM set"),
        FakeMeasurement("fast_long.clean", "Fast adversarial training, test eps, twice the epochs, clean"),
        FakeMeasurement("fast_long.fgsm", "Fast adversarial training, test eps, twice the epochs, its FGSM set"),
        FakeMeasurement("fast_restart.fgsm", "Fast adversarial training, continued for a second cycle, its FGSM set"),
    ]
    values = {m.key: (index + 1) / 10 for index, m in enumerate(measurements)}
    accuracies, report, sections = defences.accuracy_rows(measurements, values, SERIES)
    # The whole label, commas included: nothing is cut off.
    assert list(accuracies) == [
        "Fast adversarial training",
        "Fast adversarial training, test eps, twice the epochs",
        "Fast adversarial training, continued for a second cycle",
    ]
    assert accuracies["Fast adversarial training"] == {"clean": 0.1, "own FGSM set": 0.2}
    assert accuracies["Fast adversarial training, test eps, twice the epochs"] == {"clean": 0.3, "own FGSM set": 0.4}
    assert accuracies["Fast adversarial training, continued for a second cycle"] == {"own FGSM set": 0.5}
    assert report["Fast adversarial training"] == {"clean": 0.8, "own FGSM set": None}
    assert set(sections.values()) == {"Table 1"}


def test_accuracy_rows_rejects_shared_or_inconsistent_labels_and_missing_values():
    same_label = [FakeMeasurement("a.clean", "Model, clean"), FakeMeasurement("b.clean", "Model, clean")]
    with pytest.raises(ValueError, match="share the row label"):
        defences.accuracy_rows(same_label, {"a.clean": 0.5, "b.clean": 0.5}, SERIES)
    two_labels = [FakeMeasurement("a.clean", "Model A, clean"), FakeMeasurement("a.fgsm", "Model B, its FGSM set")]
    with pytest.raises(ValueError, match="different row labels"):
        defences.accuracy_rows(two_labels, {"a.clean": 0.5, "a.fgsm": 0.5}, SERIES)
    with pytest.raises(ValueError, match="no value"):
        defences.accuracy_rows(same_label[:1], {}, SERIES)
    with pytest.raises(ValueError, match="no series label"):
        defences.accuracy_rows([FakeMeasurement("a.pgd", "Model, PGD")], {"a.pgd": 0.5}, SERIES)


def test_select_measurements_keeps_order_and_leaves_out_excluded_models():
    measurements = [
        FakeMeasurement("baseline.clean", "Baseline, clean"),
        FakeMeasurement("candidate.fgsm", "Candidate, its FGSM set"),
        FakeMeasurement("baseline.pgd", "Baseline, PGD"),
        FakeMeasurement("copy_seed1.clean", "Copy, clean"),
        FakeMeasurement("noisy.fgsm", "Candidate with noise, its FGSM set", models=("candidate",)),
        FakeMeasurement("final.fgsm", "Final, its FGSM set"),
    ]
    kept = defences.select_measurements(measurements, ("clean", "fgsm"), exclude=("candidate", "copy_seed1"))
    assert [m.key for m in kept] == ["baseline.clean", "final.fgsm"]
    with pytest.raises(ValueError, match="kinds is empty"):
        defences.select_measurements(measurements, ())


def test_catalogue_rows_for_chapter_8_leave_out_later_models():
    from advlib.plan import catalogue, registry

    later = set(registry.ROBUST_CANDIDATES) | set(registry.SEED_COPIES) | {"surrogate"}
    kept = defences.select_measurements(catalogue.MEASUREMENTS, ("clean", "fgsm"), exclude=later)
    accuracies, _, sections = defences.accuracy_rows(kept, {m.key: 0.5 for m in kept}, SERIES)
    views = {m.key.rsplit(".", 1)[0] for m in kept}
    assert len(accuracies) == len(views)  # One row per view: no two views merged.
    assert not views & later
    assert "baseline" in views and "final_student" in views
    # Catalogue order, so every section's rows are consecutive (accuracy_bars checks it).
    defences.accuracy_bars(accuracies, groups=sections)
    plt.close("all")


def _grouped_figure():
    accuracies = {
        "Baseline": {"clean": 0.801, "own FGSM set": 0.191},
        "Random adversarial training, a long label for the model": {"clean": 0.830, "own FGSM set": 0.221},
        "Variant student (T = 4)": {"clean": 0.745, "own FGSM set": 0.318},
        "Final model": {"clean": 0.755, "own FGSM set": 0.232},
    }
    # Markers just past a bar's end (0.204), on it (0.830), inside it (0.786) and far past it.
    report = {
        "Baseline": {"clean": 0.828, "own FGSM set": 0.204},
        "Random adversarial training, a long label for the model": {"clean": 0.830, "own FGSM set": 0.446},
        "Variant student (T = 4)": {"clean": 0.821, "own FGSM set": 0.448},
        "Final model": {"clean": 0.786, "own FGSM set": None},
    }
    groups = dict(zip(accuracies, ["Section 5", "Table 2", "Table 4", "Table 4"]))
    figure = defences.accuracy_bars(accuracies, report=report, groups=groups, title="every model")
    figure.canvas.draw()
    return figure


def _diamond_boxes(axis):
    """The painted box of every report diamond, from the marker's own path."""
    boxes = []
    for line in axis.get_lines():
        if line.get_marker() != "D":
            continue
        style = MarkerStyle("D")
        half_width = style.get_path().transformed(style.get_transform()).get_extents().x1
        half = (half_width * line.get_markersize() + line.get_markeredgewidth() / 2) * axis.figure.dpi / 72
        x, y = axis.transData.transform((line.get_xdata()[0], line.get_ydata()[0]))
        boxes.append(Bbox.from_extents(x - half, y - half, x + half, y + half))
    return boxes


def test_accuracy_bars_value_labels_never_under_a_report_marker():
    figure = _grouped_figure()
    axis = figure.axes[0]
    markers = _diamond_boxes(axis)
    assert len(markers) == 7
    values = [text for text in axis.texts if text.get_text().startswith("0.")]
    assert len(values) == 8
    for text in values:
        box = text.get_window_extent()
        assert not any(box.overlaps(marker) for marker in markers), text.get_text()
        assert axis.get_window_extent().contains(box.x1, box.y1), text.get_text()
    plt.close(figure)


def test_accuracy_bars_groups_rows_and_keeps_labels_and_legend_clear():
    figure = _grouped_figure()
    axis = figure.axes[0]
    inside = figure.bbox
    ticks = axis.get_yticklabels()
    assert [tick.get_text() for tick in ticks] == [
        "Baseline", "Random adversarial training, a long label for the model", "Variant student (T = 4)", "Final model"
    ]
    for tick in ticks:
        box = tick.get_window_extent()
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1, tick.get_text()
        assert inside.y0 <= box.y0 and box.y1 <= inside.y1, tick.get_text()
    # One heading per run of rows, none on a bar.
    headings = [text for text in axis.texts if not text.get_text().startswith("0.")]
    assert [text.get_text() for text in headings] == ["Section 5", "Table 2", "Table 4"]
    bars = [patch.get_window_extent() for patch in axis.patches]
    for heading in headings:
        assert not any(heading.get_window_extent().overlaps(bar) for bar in bars), heading.get_text()
    # The legend lies below the axis (so it hides no bar) and inside the figure.
    legend = axis.get_legend().get_window_extent()
    assert legend.y1 <= axis.get_window_extent().y0 and inside.y0 <= legend.y0
    plt.close(figure)


def test_accuracy_bars_rejects_bad_groups_and_values():
    with pytest.raises(ValueError, match="not consecutive"):
        defences.accuracy_bars({"a": {"x": 0.1}, "b": {"x": 0.2}, "c": {"x": 0.3}}, groups={"a": 1, "b": 2, "c": 1})
    with pytest.raises(ValueError, match="no group"):
        defences.accuracy_bars({"a": {"x": 0.1}, "b": {"x": 0.2}}, groups={"a": 1})
    with pytest.raises(ValueError, match=r"not in \[0, 1\]"):
        defences.accuracy_bars({"a": {"x": 1.5}})
    with pytest.raises(ValueError, match=r"not in \[0, 1\]"):
        defences.accuracy_bars({"a": {"x": 0.5}}, report={"a": {"x": -0.1}})
    with pytest.raises(ValueError, match="no value"):
        defences.accuracy_bars({"a": {}})
    plt.close("all")

"""advlib.plots.robustness on tiny synthetic inputs: panels, labels, legends, styles and input checks."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

from advlib.verdicts import wording as text
from advlib.plots import COLORS  # noqa: E402
from advlib.plots import robustness  # noqa: E402

EPS = [0.0, 1 / 255, 2 / 255]


def test_eps_sweep_one_panel_per_attack_with_labels_and_one_legend_entry_per_model():
    figure = robustness.eps_sweep(
        {"FGSM": {"a": [0.9, 0.5, 0.2], "b": [0.8, 0.7, 0.6]}, "PGD": {"a": [0.9, 0.3, 0.0], "b": [0.8, 0.6, 0.5]}},
        EPS,
        title="toy",
    )
    axes = figure.axes
    assert [axis.get_title() for axis in axes] == ["FGSM", "PGD"]
    assert all(axis.get_xlabel() == "eps (units of 1/255)" for axis in axes)
    assert axes[0].get_ylabel() == "accuracy"
    # x is shown in units of 1/255.
    np.testing.assert_allclose(axes[1].lines[0].get_xdata(), [0.0, 1.0, 2.0])
    np.testing.assert_allclose(axes[1].lines[0].get_ydata(), [0.9, 0.3, 0.0])
    # A model keeps its colour in every panel, and different models differ.
    assert axes[0].lines[0].get_color() == axes[1].lines[0].get_color() == COLORS["blue"]
    assert axes[0].lines[1].get_color() != axes[0].lines[0].get_color()
    legend = figure.legends[0]
    assert [text.get_text() for text in legend.get_texts()] == ["a", "b"]
    assert figure._suptitle.get_text() == "toy"
    plt.close(figure)


def test_eps_sweep_legend_includes_models_missing_from_the_first_panel():
    figure = robustness.eps_sweep({"FGSM": {"a": [1, 0, 0]}, "PGD": {"a": [1, 0, 0], "c": [1, 1, 0]}}, EPS)
    assert [text.get_text() for text in figure.legends[0].get_texts()] == ["a", "c"]
    plt.close(figure)


def test_line_styles_are_distinct_for_a_registry_sized_list():
    styles = [robustness.line_style(index)[:2] for index in range(14)]
    assert len(set(styles)) == 14


def test_eps_sweep_rejects_bad_input():
    with pytest.raises(ValueError, match="empty"):
        robustness.eps_sweep({}, EPS)
    with pytest.raises(ValueError, match="2 accuracies for 3 eps"):
        robustness.eps_sweep({"FGSM": {"a": [1.0, 0.5]}}, EPS)


def test_audit_heatmap_cells_and_labels():
    figure = robustness.audit_heatmap(
        {"honest": {"x": False, "y": False}, "masked": {"x": True, "y": None}}, ["x", "y"], title="audit"
    )
    axis = figure.axes[0]
    assert axis.get_xlabel() == "symptom" and axis.get_ylabel() == "model"
    assert [tick.get_text() for tick in axis.get_yticklabels()] == ["honest", "masked"]
    assert [text.get_text() for text in axis.texts] == ["ok", "ok", "FLAGGED", "not checked"]
    grid = axis.images[0].get_array()
    np.testing.assert_array_equal(grid, [[0, 0], [1, 2]])
    assert [text.get_text() for text in axis.get_legend().get_texts()] == ["ok", "FLAGGED", "not checked"]
    assert axis.get_title() == "audit"
    plt.close(figure)


def test_audit_heatmap_rejects_empty_input():
    with pytest.raises(ValueError, match="empty"):
        robustness.audit_heatmap({}, ["x"])
    with pytest.raises(ValueError, match="empty"):
        robustness.audit_heatmap({"m": {}}, [])


def test_table_renders_html_and_text_and_checks_widths():
    table = text.Table(["goal", "ours", "met?"], [["clean >= 0.78", 0.81234, "yes"], ["x", None, "no"]], "cap")
    html = table._repr_html_()
    assert "<caption>cap</caption>" in html and "<td>0.812</td>" in html and "<td>-</td>" in html
    assert str(table).splitlines()[1] == "goal | ours | met?"
    with pytest.raises(ValueError, match="2 cells for 3 columns"):
        text.Table(["a", "b", "c"], [[1, 2]])


def test_clean_vs_robust_draws_one_point_per_model_with_its_interval_and_the_goal_lines():
    import matplotlib.pyplot as plt

    from advlib.plots import robustness

    points = {"a": (0.8, 0.5, (0.45, 0.55)), "b": (0.7, 0.2, (0.18, 0.23))}
    figure = robustness.clean_vs_robust(points, clean_goal=0.8, robust_goal=0.598, highlight=("b",))
    axis = figure.axes[0]
    # One error bar per model, at its (clean, robust) point, spanning its interval.
    bars = [container for container in axis.containers]
    assert len(bars) == 2
    for container, (clean, robust, (low, high)) in zip(bars, points.values()):
        line, _, (segments,) = container.lines
        np.testing.assert_allclose(line.get_xydata(), [[clean, robust]])
        np.testing.assert_allclose(segments.get_segments()[0], [[clean, low], [clean, high]])
    assert sorted(text.get_text() for text in axis.texts) == ["a", "b"]
    plt.close(figure)
    quiet = robustness.clean_vs_robust(points, annotate=("b",))
    assert [text.get_text() for text in quiet.axes[0].texts] == ["b"] and len(quiet.axes[0].containers) == 2
    plt.close(quiet)
    figure = robustness.clean_vs_robust(points, clean_goal=0.8, robust_goal=0.598, highlight=("b",))
    axis = figure.axes[0]
    assert [line.get_xdata()[0] for line in axis.lines if line.get_linestyle() == "--"][:1] == [0.8]
    assert axis.get_xlabel() == "clean accuracy" and axis.get_ylabel() == "worst-case accuracy"
    plt.close(figure)
    with pytest.raises(ValueError, match="at least one model"):
        robustness.clean_vs_robust({})


# Chapter 11's crowds. Its models: two candidates 0.012 apart in clean accuracy with long
# names, two models at almost the same point, and one point at the far left edge. Its
# defence candidates: two 0.004 apart whose error bars overlap, beside three more.
CROWDS = {
    "models": {
        "robust_fast_at_long": (0.788, 0.567, (0.547, 0.586)),
        "robust_fast_at_restart": (0.800, 0.564, (0.545, 0.584)),
        "dd_student_t50 at T = 1": (0.790, 0.065, (0.056, 0.076)),
        "baseline": (0.809, 0.056, (0.048, 0.066)),
        "surrogate": (0.811, 0.076, (0.066, 0.087)),
        "robust_fast_at": (0.737, 0.550, (0.531, 0.570)),
        "far_right": (0.848, 0.066, (0.057, 0.076)),
    },
    "candidates": {
        "defence_pgd2": (0.772, 0.452, (0.43, 0.47)),
        "defence_pgd2_ema": (0.776, 0.455, (0.435, 0.475)),
        "defence_pgd3": (0.760, 0.47, (0.45, 0.49)),
        "defence_trades": (0.74, 0.48, (0.46, 0.50)),
        "robust_fast_at_long": (0.788, 0.44, (0.42, 0.46)),
        "final_student": (0.75, 0.12, (0.10, 0.14)),
        "baseline": (0.809, 0.0, (0.0, 0.01)),
    },
}


@pytest.mark.parametrize("crowd", CROWDS)
def test_clean_vs_robust_labels_sit_near_their_points_and_cover_no_label_point_or_bar(crowd):
    points = CROWDS[crowd]
    figure = robustness.clean_vs_robust(points, clean_goal=0.8, robust_goal=0.598)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    axis = figure.axes[0]
    boxes = {text.get_text(): text.get_window_extent(renderer) for text in axis.texts}
    assert sorted(boxes) == sorted(points)
    for first in boxes:
        for second in boxes:
            if first < second:
                assert not boxes[first].overlaps(boxes[second]), (first, second)
    # Every label stays inside the axes (adjustText may leave one on the edge, to within a
    # rounding error), and so clear of the legend below them.
    inside = axis.get_window_extent(renderer).padded(0.5)
    for name, box in boxes.items():
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1, name
    # Each label sits near its own point (a gap of at most four label heights; a line joins
    # the two from about one) and covers no point or error bar, its own included.
    centres = {name: axis.transData.transform(point[:2]) for name, point in points.items()}
    bars = [Bbox(axis.transData.transform([(clean, low), (clean, high)])) for clean, _, (low, high) in points.values()]
    for name, box in boxes.items():
        x, y = centres[name]
        gap = np.hypot(max(box.x0 - x, 0, x - box.x1), max(box.y0 - y, 0, y - box.y1))
        assert gap <= 4 * box.height, (name, gap / box.height)
        assert not any(box.contains(*centre) for centre in centres.values()), name
        assert not any(box.overlaps(bar) for bar in bars), name
    plt.close(figure)


def test_clean_vs_robust_lays_out_the_labels_the_same_on_a_slow_machine(monkeypatch):
    import adjustText

    # adjustText's default stops after one second; a step limit gives a busy machine the
    # same figure. The slow machine: a clock that jumps ten seconds at every look.
    def layout():
        figure = robustness.clean_vs_robust(CROWDS["candidates"])
        figure.canvas.draw()
        boxes = [tuple(text.get_window_extent().bounds) for text in figure.axes[0].texts]
        plt.close(figure)
        return boxes

    fast = layout()
    clock = iter(range(0, 10**6, 10))
    monkeypatch.setattr(adjustText, "timer", lambda: next(clock))
    assert layout() == fast

"""advlib.plots.seeds on tiny hand-made inputs: dots, error bars, labels, legend and input checks."""

import statistics

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from advlib.plots import COLORS  # noqa: E402
from advlib.plots import seeds  # noqa: E402

VALUES = {
    "baseline": {"clean": [0.50, 0.52, 0.55], "FGSM": [0.10, 0.12, 0.11]},
    "random_at": {"clean": [0.49, 0.50], "FGSM": [0.30]},
}


def test_one_panel_per_metric_with_every_seed_as_a_dot():
    figure = seeds.seed_dots(VALUES, title="toy")
    axes = figure.axes
    assert [axis.get_title() for axis in axes] == ["clean", "FGSM"]
    assert axes[0].get_ylabel() == "accuracy" and all(axis.get_xlabel() == "recipe" for axis in axes)
    assert [tick.get_text() for tick in axes[0].get_xticklabels()] == ["baseline", "random_at"]
    # The first line of a panel is the first recipe's seeds, in the given order.
    np.testing.assert_allclose(axes[0].lines[0].get_ydata(), [0.50, 0.52, 0.55])
    assert axes[0].lines[0].get_color() == COLORS["blue"]
    xs = axes[0].lines[0].get_xdata()
    assert len(set(xs)) == 3 and abs(np.mean(xs) - 0.0) < 1e-12, "dots spread sideways around their column"
    assert figure._suptitle.get_text() == "toy"
    plt.close(figure)


def test_error_bars_are_mean_and_sample_std():
    figure = seeds.seed_dots(VALUES)
    clean, fgsm = figure.axes
    # Two recipes with at least two seeds in the clean panel, one in the FGSM panel.
    assert len(clean.containers) == 2 and len(fgsm.containers) == 1
    for container, values in zip(clean.containers, (VALUES["baseline"]["clean"], VALUES["random_at"]["clean"])):
        mean_line, _, (bar,) = container.lines
        assert mean_line.get_ydata()[0] == pytest.approx(statistics.mean(values))
        low, high = bar.get_segments()[0][:, 1]
        assert (high - low) / 2 == pytest.approx(statistics.stdev(values))
    labels = [text.get_text() for text in figure.legends[0].get_texts()]
    assert labels == ["one seed", "mean ± std over seeds"]
    plt.close(figure)


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="empty"):
        seeds.seed_dots({})
    with pytest.raises(ValueError, match="not finite"):
        seeds.seed_dots({"a": {"clean": [0.5, float("nan")]}})
    with pytest.raises(ValueError, match="no metrics"):
        seeds.seed_dots({"a": {}})

"""advlib.plots.gradients: the gradient-norm panels, by index or grouped by class."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from advlib.evaluation.metrics import GradientNorms  # noqa: E402
from advlib.plots import gradients  # noqa: E402


def _points(figure):
    # Both scatters of the first panel (misclassified, then correct), as (x, norm) pairs.
    axis = figure.axes[0]
    return sorted(tuple(map(float, point)) for collection in axis.collections for point in collection.get_offsets())


def test_grouped_by_class_each_image_keeps_its_norm_and_its_classs_band():
    # Images stored out of class order: norms 10 * class + position make every point traceable.
    labels = np.array([2, 0, 1, 0, 2, 1])
    norms = np.array([20.0, 0.0, 10.0, 1.0, 21.0, 11.0], dtype=np.float32)
    result = GradientNorms(norms=norms, correct=np.array([True, False, True, True, False, True]), losses=norms)
    figure = gradients.gradient_norm_panels({"model": result}, labels=labels, class_names=["a", "b", "c"])
    # Class 0's two images first (in their stored order), then class 1's, then class 2's.
    assert _points(figure) == [(0.0, 0.0), (1.0, 1.0), (2.0, 10.0), (3.0, 11.0), (4.0, 20.0), (5.0, 21.0)]
    # Each band is named under its middle, and a line separates neighbouring classes.
    axis = figure.axes[0]
    assert [label.get_text() for label in axis.get_xticklabels()] == ["a", "b", "c"]
    assert list(axis.get_xticks()) == [0.5, 2.5, 4.5]
    assert sorted(line.get_xdata()[0] for line in axis.lines) == [1.5, 3.5]
    plt.close(figure)


def test_without_labels_the_x_axis_is_the_test_image_index():
    norms = np.array([3.0, 1.0, 2.0], dtype=np.float32)
    result = GradientNorms(norms=norms, correct=np.array([True, True, False]), losses=norms)
    figure = gradients.gradient_norm_panels({"model": result})
    assert _points(figure) == [(0.0, 3.0), (1.0, 1.0), (2.0, 2.0)]
    assert figure.axes[0].get_xlabel() == "test image index"
    plt.close(figure)

"""Tests for advlib.plots.distillation on tiny hand-made soft labels (no TensorFlow)."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from advlib.plots import COLORS, distillation  # noqa: E402

CLASS_NAMES = [f"class {index}" for index in range(10)]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def soft_labels(count=20, seed=0):
    """Random rows summing to 1, from very peaked to nearly flat."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(count, 10)) * np.linspace(0.1, 20, count)[:, None]
    exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (exponentials / exponentials.sum(axis=1, keepdims=True)).astype(np.float32)


def test_entropy_matches_an_independent_computation():
    # A hand-made distribution over four classes, with the closed form
    # H = -(0.5 ln 0.5 + 0.25 ln 0.25 + 2 * 0.125 ln 0.125) = (0.5 + 0.5 + 0.75) ln 2 = 1.75 ln 2.
    distribution = np.array([0.5, 0.25, 0.125, 0.125])
    assert distillation.entropy(distribution)[0] == pytest.approx(1.75 * math.log(2), rel=1e-12)
    # Zeros contribute nothing (the limit of p ln p), so padding the row changes nothing.
    padded = np.array([[0.5, 0.0, 0.25, 0.125, 0.0, 0.125]])
    assert distillation.entropy(padded)[0] == pytest.approx(1.75 * math.log(2), rel=1e-12)
    # Two classes at (1/4, 3/4): ln 4 - (3/4) ln 3, in nats (not bits).
    assert distillation.entropy([0.25, 0.75])[0] == pytest.approx(math.log(4) - 0.75 * math.log(3), rel=1e-12)
    # And on random rows against a direct numpy formula (no zeros here, so no 0 log 0).
    rows = soft_labels().astype(np.float64)
    rows = rows[np.all(rows > 0, axis=1)]
    np.testing.assert_allclose(distillation.entropy(rows), -np.sum(rows * np.log(rows), axis=1), rtol=1e-9, atol=1e-12)


def test_entropy_limits_one_hot_and_uniform():
    one_hot = np.eye(10)[[3, 7]]
    np.testing.assert_array_equal(distillation.entropy(one_hot), [0.0, 0.0])
    assert distillation.entropy(np.full(10, 0.1))[0] == pytest.approx(math.log(10))
    assert distillation.uniform_entropy(10) == pytest.approx(math.log(10))
    entropies = distillation.entropy(soft_labels())
    assert np.all(entropies >= 0) and np.all(entropies <= math.log(10) + 1e-9)


def test_top_class_mass():
    rows = np.array([[0.7, 0.2, 0.1], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(distillation.top_class_mass(rows), [0.7, 1 / 3])


@pytest.mark.parametrize("bad", [np.array([0.5, 0.6]), np.array([-0.1, 1.1]), np.ones((2, 3, 4)) / 4])
def test_rejects_rows_that_are_not_distributions(bad):
    with pytest.raises(ValueError):
        distillation.entropy(bad)


def test_soft_label_bars():
    label = np.array([1.6e-8, 7.6e-7, 8.3e-4, 5.0e-3, 1.4e-4, 4.7e-4, 9.9e-1, 1.0e-5, 1.3e-6, 0.0])
    label = label / label.sum()
    figure = distillation.soft_label_bars(label, CLASS_NAMES, true_label=6, title="one soft label")
    (axis,) = figure.axes
    assert axis.get_yscale() == "log"
    assert axis.get_xlabel() == "class" and "probability" in axis.get_ylabel()
    assert axis.get_title() == "one soft label"
    bars = axis.patches[:10]
    assert len(bars) == 10
    assert matplotlib.colors.to_hex(bars[6].get_facecolor()) == COLORS["vermillion"].lower()
    assert matplotlib.colors.to_hex(bars[0].get_facecolor()) == COLORS["blue"].lower()
    ticks = [tick.get_text() for tick in axis.get_xticklabels()]
    assert ticks[6] == "class 6\n(true)"
    assert [text.get_text() for text in axis.get_legend().get_texts()] == ["most likely class", "other classes"]
    # The exact zero is annotated as such instead of vanishing from the log axis.
    assert "0" in [text.get_text() for text in axis.texts]
    with pytest.raises(ValueError):
        distillation.soft_label_bars(label, CLASS_NAMES[:5])


def test_entropy_histogram():
    labels = {"teacher at T = 50": soft_labels(30, seed=1), "teacher at T = 4": soft_labels(10, seed=2)}
    figure = distillation.entropy_histogram(labels, bins=10)
    (axis,) = figure.axes
    assert "entropy" in axis.get_xlabel() and axis.get_ylabel() == "share of images"
    legend = [text.get_text() for text in axis.get_legend().get_texts()]
    assert legend[:2] == list(labels) and "log 10" in legend[2]
    # The dashed marker sits at log 10.
    (line,) = axis.get_lines()
    assert line.get_xdata()[0] == pytest.approx(math.log(10))
    # Each set's bars are shares that add up to 1, whatever its size.
    for patch in axis.patches[:2]:
        heights = patch.get_path().vertices[:, 1]
        assert heights.max() <= 1.0 + 1e-9
    with pytest.raises(ValueError):
        distillation.entropy_histogram({})


def test_top_class_mass_histogram():
    figure = distillation.top_class_mass_histogram({"soft labels": soft_labels()}, bins=5)
    (axis,) = figure.axes
    assert "most likely class" in axis.get_xlabel() and axis.get_ylabel() == "share of images"
    (line,) = axis.get_lines()
    assert line.get_xdata()[0] == pytest.approx(0.1)
    assert axis.get_xlim()[1] >= 1.0

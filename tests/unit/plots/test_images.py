"""advlib.plots.images: each figure has the panels and labels the book relies on."""

import matplotlib

matplotlib.use("Agg")  # No display in tests; must come before pyplot is imported.

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from advlib.data.cifar10 import CLASS_NAMES  # noqa: E402
from advlib.plots import CORRECT_COLOR, INCORRECT_COLOR, images  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def random_images(*shape, seed=0):
    return np.random.default_rng(seed).random(shape + (32, 32, 3), dtype=np.float32)


def titles(figure):
    return [axis.get_title() for axis in figure.axes]


def test_class_grid_has_one_titled_panel_per_class():
    labels = np.array([3, 0, 1, 2, 4, 5, 6, 7, 8, 9, 3, 0])
    figure = images.class_grid(random_images(12), labels)
    assert len(figure.axes) == 10
    assert titles(figure) == list(CLASS_NAMES)


def test_class_grid_skips_missing_classes_and_accepts_uint8():
    pixels = (random_images(3) * 255).astype(np.uint8)
    figure = images.class_grid(pixels, np.array([1, 1, 7]))
    assert titles(figure) == ["automobile", "horse"]
    assert figure.axes[0].get_images()[0].get_array().max() <= 1.0


def test_augmentation_grid_has_original_column_and_versions():
    figure = images.augmentation_grid(random_images(2), random_images(2, 3, seed=1))
    assert len(figure.axes) == 2 * 4
    assert titles(figure)[:4] == ["original", "augmented 1", "augmented 2", "augmented 3"]
    with pytest.raises(ValueError):
        images.augmentation_grid(random_images(2), random_images(3, 3))


def test_fgsm_triptych_titles_predictions_and_colours_them():
    x = random_images(1)[0] * 0.5 + 0.25
    # Steps of -eps, 0 and +eps, none of them clipped (x lies in [0.25, 0.75]).
    steps = np.random.default_rng(2).integers(-1, 2, size=x.shape).astype(np.float32)
    x_adv = x + 0.01 * steps
    figure = images.fgsm_triptych(x, x_adv, 6, (6, 0.93), (3, 0.61), 0.01)
    assert len(figure.axes) == 3
    first, middle, last = titles(figure)
    assert first == "original: frog (93%)" and last == "adversarial: cat (61%)"
    assert "eps = 0.01" in middle
    assert to_hex(figure.axes[0].title.get_color()) == CORRECT_COLOR.lower()
    assert to_hex(figure.axes[2].title.get_color()) == INCORRECT_COLOR.lower()
    # The perturbation is shown scaled into [0, 1] with grey meaning zero.
    shown = np.asarray(figure.axes[1].get_images()[0].get_array())
    np.testing.assert_allclose(shown, 0.5 + steps / 2, atol=1e-4)


def test_eps_grid_shape_titles_and_labels():
    eps_values = [0.0, 0.01, 0.1]
    predictions = np.array([[0, 1], [2, 1], [2, 2]])
    confidences = np.full((3, 2), 0.5)
    figure = images.eps_grid(random_images(3, 2), predictions, confidences, np.array([0, 1]), eps_values)
    assert len(figure.axes) == 6
    assert titles(figure)[:3] == ["airplane (50%)", "bird (50%)", "bird (50%)"]
    assert figure.axes[0].get_ylabel() == "true: airplane"
    assert [axis.get_xlabel() for axis in figure.axes[-3:]] == ["eps = 0", "eps = 0.01", "eps = 0.1"]
    with pytest.raises(ValueError):
        images.eps_grid(random_images(3, 2), predictions[:2], confidences, np.array([0, 1]), eps_values)


def test_training_curves_two_labelled_panels_with_legends():
    history = {"loss": [2.0, 1.5, 1.2], "accuracy": [0.2, 0.4, 0.5], "val_loss": [1.9, 1.6, 1.4], "val_accuracy": [0.25, 0.38, 0.45]}
    figure = images.training_curves(history)
    assert len(figure.axes) == 2
    for axis in figure.axes:
        assert axis.get_xlabel() == "epoch" and axis.get_ylabel()
        assert len(axis.get_lines()) == 2 and axis.get_legend() is not None
    np.testing.assert_array_equal(figure.axes[1].get_lines()[1].get_ydata(), history["val_accuracy"])
    with pytest.raises(ValueError, match="val_loss"):
        images.training_curves({"loss": [1.0], "accuracy": [0.1], "val_accuracy": [0.1]})


def test_accuracy_vs_eps_one_line_per_attack_plus_marker():
    eps_values = [0.0, 0.01, 0.02]
    figure = images.accuracy_vs_eps(eps_values, {"FGSM": [0.8, 0.3, 0.1], "random sign": [0.8, 0.8, 0.79]}, marked_eps=0.01)
    assert len(figure.axes) == 1
    axis = figure.axes[0]
    assert axis.get_xlabel() and axis.get_ylabel() == "test accuracy"
    labels = [text.get_text() for text in axis.get_legend().get_texts()]
    assert labels == ["FGSM", "random sign", "eps = 0.01"]
    with pytest.raises(ValueError):
        images.accuracy_vs_eps(eps_values, {"FGSM": [0.8]})

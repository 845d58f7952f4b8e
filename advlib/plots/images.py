"""Image figures for chapters 2 and 3: examples, augmentation, FGSM, training curves.

Images are NumPy arrays of shape ``(N, 32, 32, 3)`` (or ``(32, 32, 3)`` for one image),
either float in [0, 1] or uint8 in 0..255; labels are integer class indices 0..9 into
:data:`advlib.data.cifar10.CLASS_NAMES`. Every function returns the Matplotlib figure it drew,
with each image panel titled and each chart's axes labelled; colours come from
:data:`advlib.plots.COLORS` (Okabe and Ito's colour-blind-safe palette).
"""

import matplotlib.pyplot as plt
import numpy as np

from advlib.data.cifar10 import CLASS_NAMES
from advlib.plots import COLORS, CORRECT_COLOR, INCORRECT_COLOR


def _as_displayable(image):
    """Return ``image`` as float in [0, 1] for ``imshow`` (uint8 is divided by 255)."""
    array = np.asarray(image)
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    return np.clip(array.astype(np.float32), 0.0, 1.0)


def _show(axis, image, title, color=None):
    """Draw one image without ticks, with a title (in ``color`` if given)."""
    axis.imshow(_as_displayable(image), interpolation="nearest")
    axis.set_xticks([])
    axis.set_yticks([])
    axis.set_title(title, fontsize=9, color=color or COLORS["black"])


def class_grid(images, labels, class_names=CLASS_NAMES, columns=5):
    """One example image per class in a grid, titled with the class name (report Fig. 2).

    Args:
        images: ``(N, 32, 32, 3)`` float in [0, 1] or uint8; the first image of each
            class in ``labels`` is shown.
        labels: integer labels ``(N,)``.
        class_names: one name per class; classes with no image are skipped.
        columns: panels per row.

    Returns:
        A figure with one axis per class that has an image.
    """
    labels = np.asarray(labels)
    found = [(index, int(np.flatnonzero(labels == index)[0])) for index in range(len(class_names)) if np.any(labels == index)]
    if not found:
        raise ValueError("labels contain none of the classes in class_names")
    rows = int(np.ceil(len(found) / columns))
    figure, axes = plt.subplots(rows, min(columns, len(found)), figsize=(1.7 * min(columns, len(found)), 1.9 * rows), squeeze=False)
    for axis in axes.flat[len(found):]:
        figure.delaxes(axis)
    for axis, (class_index, image_index) in zip(axes.flat, found):
        _show(axis, images[image_index], class_names[class_index])
    figure.tight_layout()
    return figure


def augmentation_grid(originals, augmented):
    """Each original image beside several augmented versions of it, one row per image.

    Args:
        originals: ``(N, 32, 32, 3)`` float in [0, 1] or uint8.
        augmented: ``(N, K, 32, 32, 3)``, ``K`` augmented versions of each original.

    Returns:
        A figure with ``N * (K + 1)`` axes; the first column is titled "original".
    """
    originals, augmented = np.asarray(originals), np.asarray(augmented)
    if augmented.ndim != 5 or len(augmented) != len(originals):
        raise ValueError(f"augmented must have shape (N, K, 32, 32, 3) with N = {len(originals)}, got {augmented.shape}")
    count, versions = augmented.shape[:2]
    figure, axes = plt.subplots(count, versions + 1, figsize=(1.6 * (versions + 1), 1.7 * count), squeeze=False)
    for row in range(count):
        _show(axes[row, 0], originals[row], "original")
        for column in range(versions):
            _show(axes[row, column + 1], augmented[row, column], f"augmented {column + 1}")
    figure.tight_layout()
    return figure


def _prediction_title(prefix, label, confidence, true_label, class_names):
    """A panel title "prefix: class (confidence)" and its colour (correct or not)."""
    color = CORRECT_COLOR if label == true_label else INCORRECT_COLOR
    return f"{prefix}{class_names[label]} ({confidence:.0%})", color


def fgsm_triptych(x, x_adv, true_label, clean_prediction, adversarial_prediction, eps, class_names=CLASS_NAMES):
    """Original, perturbation and adversarial image side by side (report Fig. 1).

    Args:
        x, x_adv: one image each, ``(32, 32, 3)`` float in [0, 1].
        true_label: the image's integer class.
        clean_prediction, adversarial_prediction: ``(class index, confidence in [0, 1])``
            the model gives ``x`` and ``x_adv``.
        eps: the FGSM step size, shown in the middle title.

    The perturbation ``x_adv - x`` lies in [-eps, eps]; it is shown scaled to [0, 1]
    (``0.5 + (x_adv - x) / (2 eps)``), so mid-grey means "unchanged". Titles of correct
    predictions use :data:`CORRECT_COLOR`, wrong ones :data:`INCORRECT_COLOR`.

    Returns:
        A figure with three axes.
    """
    x, x_adv = np.asarray(x, np.float32), np.asarray(x_adv, np.float32)
    scale = 2.0 * eps if eps > 0 else 1.0
    perturbation = np.clip(0.5 + (x_adv - x) / scale, 0.0, 1.0)
    figure, axes = plt.subplots(1, 3, figsize=(7.5, 3.0))
    title, color = _prediction_title("original: ", *clean_prediction, true_label, class_names)
    _show(axes[0], x, title, color)
    _show(axes[1], perturbation, f"perturbation x_adv - x\n(eps = {eps:g}, scaled to show)")
    title, color = _prediction_title("adversarial: ", *adversarial_prediction, true_label, class_names)
    _show(axes[2], x_adv, title, color)
    axes[0].set_xlabel(f"true class: {class_names[true_label]}", fontsize=9)
    axes[1].set_xlabel("grey = unchanged pixel", fontsize=9)
    axes[2].set_xlabel("x + perturbation", fontsize=9)
    figure.tight_layout()
    return figure


def eps_grid(images_by_eps, predictions, confidences, true_labels, eps_values, class_names=CLASS_NAMES):
    """A grid of FGSM images, one row per image and one column per eps (report Fig. 3).

    Args:
        images_by_eps: ``(E, N, 32, 32, 3)`` float in [0, 1]: the N images attacked with
            each of the E values in ``eps_values``.
        predictions: integer predicted classes ``(E, N)``.
        confidences: the predicted class's probability ``(E, N)``, in [0, 1].
        true_labels: integer labels ``(N,)``.
        eps_values: ``E`` step sizes, used as column headings.

    Each panel is titled with its prediction, coloured by whether it is correct.

    Returns:
        A figure with ``N * E`` axes.
    """
    images_by_eps = np.asarray(images_by_eps)
    steps, count = images_by_eps.shape[:2]
    if len(eps_values) != steps or np.shape(predictions) != (steps, count) or np.shape(confidences) != (steps, count):
        raise ValueError("images_by_eps, predictions, confidences and eps_values disagree in shape")
    figure, axes = plt.subplots(count, steps, figsize=(1.55 * steps, 1.85 * count + 0.3), squeeze=False)
    for row in range(count):
        for column in range(steps):
            title, color = _prediction_title(
                "", int(predictions[column][row]), float(confidences[column][row]), int(true_labels[row]), class_names
            )
            _show(axes[row, column], images_by_eps[column, row], title, color)
        axes[row, 0].set_ylabel(f"true: {class_names[int(true_labels[row])]}", fontsize=9)
    for column, eps in enumerate(eps_values):
        axes[-1, column].set_xlabel(f"eps = {eps:g}", fontsize=9)
    figure.tight_layout()
    return figure


def training_curves(history):
    """Loss and accuracy per epoch, training vs validation, in two panels.

    Args:
        history: a dict with lists ``loss``, ``accuracy``, ``val_loss`` and
            ``val_accuracy`` (one float per epoch), as in a saved model's record.

    Returns:
        A figure with two axes (loss, accuracy), each with a legend.
    """
    missing = [key for key in ("loss", "accuracy", "val_loss", "val_accuracy") if key not in history]
    if missing:
        raise ValueError(f"history lacks {', '.join(missing)}")
    epochs = np.arange(1, len(history["loss"]) + 1)
    figure, axes = plt.subplots(1, 2, figsize=(9.0, 3.4))
    for axis, metric, name in ((axes[0], "loss", "cross-entropy loss"), (axes[1], "accuracy", "accuracy")):
        axis.plot(epochs, history[metric], marker="o", color=COLORS["blue"], label="training (augmented)")
        axis.plot(epochs, history[f"val_{metric}"], marker="s", linestyle="--", color=COLORS["orange"], label="validation (test set)")
        axis.set_xlabel("epoch")
        axis.set_ylabel(name)
        axis.set_xticks(epochs if len(epochs) <= 10 else epochs[:: max(1, len(epochs) // 10)])
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    axes[0].set_title("Loss")
    axes[1].set_title("Accuracy")
    figure.tight_layout()
    return figure


def accuracy_vs_eps(eps_values, accuracies, marked_eps=None):
    """Accuracy against the perturbation size, one line per attack.

    Args:
        eps_values: the E step sizes (x axis).
        accuracies: ``{label: E accuracies in [0, 1]}``, e.g. FGSM and random sign.
        marked_eps: an eps to mark with a vertical dotted line (the report's 0.01).

    Returns:
        A figure with one axis and a legend.
    """
    if not accuracies:
        raise ValueError("accuracies is empty: pass at least one {label: values}")
    palette = [COLORS[name] for name in ("vermillion", "blue", "green", "purple", "orange", "sky")]
    markers = ["o", "s", "^", "D", "v", "P"]
    figure, axis = plt.subplots(figsize=(5.5, 3.6))
    for index, (label, values) in enumerate(accuracies.items()):
        if len(values) != len(eps_values):
            raise ValueError(f"{label!r} has {len(values)} values for {len(eps_values)} eps values")
        axis.plot(eps_values, values, marker=markers[index % 6], color=palette[index % 6], label=label)
    if marked_eps is not None:
        axis.axvline(marked_eps, color=COLORS["black"], linestyle=":", linewidth=1, label=f"eps = {marked_eps:g}")
    axis.set_xlabel("eps (size of the perturbation per pixel)")
    axis.set_ylabel("test accuracy")
    axis.set_ylim(0.0, 1.0)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure

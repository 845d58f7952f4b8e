"""Export shipped models and a few test images for the book's live FGSM figures.

The figures (``{fgsm-playground}``, drawn by ``_ext/fgsm_playground.py`` and run by
``_static/fgsm_playground.js``) run the Table-1 CNN in the reader's browser with
TensorFlow.js: chapter 3 the baseline, chapter 6 the distilled student read at T = 1.
They need the networks' weights and some test images, which this command writes into
the *built site* (never into the repository: the weights are already committed once, in
``advlib/pretrained/full``, and CIFAR-10 is not ours to ship)::

    .venv/bin/python tools/playground_export.py OUT_DIR [--figure MODEL[:T[:IMAGE]]]...

Each ``--figure`` names a figure of the book: a registry model shipped with the full
profile, the softmax temperature the figure reads it at (empty or left out: the model's
own) and the bundled image it opens on (default 0). Without ``--figure`` it exports the
baseline's. ``_ext/fgsm_playground.py`` runs it at every ``make book`` with the figures
its pages hold (skipped when its inputs are unchanged). It writes to ``OUT_DIR``:

``images.json`` / ``images.bin``
    Two test images per class, the first two of that class in the test set's order
    (deterministic), as uint8 RGB ``(20, 32, 32, 3)``; the JSON gives each image's
    test-set index, label and class name. Shared by every figure.
``MODEL/weights.json`` / ``MODEL/weights.bin``
    Every weight array of the model in Keras's ``model.weights`` order: its name, shape and
    byte offset in ``weights.bin`` (float32, little-endian, C order), once per model
    however many figures use it. The official ``tensorflowjs`` converter is not used: it
    needs jax, flax and TensorFlow Decision Forests, which do not install beside this
    project's TensorFlow.
``MODEL/fallback*.png`` (name from :func:`fallback_name`)
    One figure's static version, for a reader without JavaScript: its opening image under
    FGSM (at the figure's temperature) at a few eps, with the model's predictions.

Only models shipped with the full profile are exported: a figure must show the model the
chapter's text describes, whatever profile the book is built with.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_MODEL = "baseline"
PROFILE = "full"
PER_CLASS = 2
IMAGE_COUNT = 10 * PER_CLASS
# The eps values the static fallback shows (the slider's range is 0..0.1).
FALLBACK_EPS = (0.0, 0.01, 0.05)
FORMAT_VERSION = 2
# The weights the page's network (fgsm_playground.js) reads, in Keras's order: the
# Table-1 CNN. A model with other layers (input noise, another architecture) is refused.
NETWORK_WEIGHTS = tuple(
    [f"{layer}{block}_{position}/{name}"
     for block in (1, 2, 3) for position in (1, 2)
     for layer, names in (("conv", ("kernel", "bias")), ("batch_norm", ("gamma", "beta", "moving_mean", "moving_variance")))
     for name in names]
    + ["logits/kernel", "logits/bias"])


@dataclass(frozen=True)
class Figure:
    """One live figure: the model it runs, the temperature it reads it at, its opening image."""

    model: str = DEFAULT_MODEL
    temperature: float | None = None  # None: the model's own temperature
    image: int = 0

    def __post_init__(self):
        if not self.model or not self.model.replace("_", "").isalnum():
            raise ValueError(f"model {self.model!r}: give a registry model's name, such as {DEFAULT_MODEL!r}")
        if self.temperature is not None and not (math.isfinite(self.temperature) and self.temperature > 0):
            raise ValueError(f"temperature {self.temperature!r}: give a positive number, or none for the model's own")
        if not 0 <= self.image < IMAGE_COUNT:
            raise ValueError(f"image {self.image!r}: give the index of a bundled image, 0 to {IMAGE_COUNT - 1}")

    def fallback_name(self) -> str:
        return fallback_name(self.temperature, self.image)

    def spec(self) -> str:
        """The ``--figure`` argument that gives this figure back."""
        temperature = "" if self.temperature is None else f"{self.temperature:g}"
        return f"{self.model}:{temperature}:{self.image}"


def fallback_name(temperature=None, image=0) -> str:
    """The static fallback's file name in its model's folder: ``fallback.png`` for the
    model's own temperature and image 0 (chapter 3's), else e.g. ``fallback-T1-image1.png``."""
    parts = ([] if temperature is None else [f"T{temperature:g}"]) + ([f"image{image}"] if image else [])
    return "-".join(["fallback", *parts]) + ".png"


def parse_figure(text: str) -> Figure:
    """``MODEL[:T[:IMAGE]]`` (the command's ``--figure``) as a :class:`Figure`."""
    parts = text.split(":")
    if len(parts) > 3:
        raise ValueError(f"--figure {text!r}: write MODEL, MODEL:T or MODEL:T:IMAGE (e.g. dd_student_t50:1:1)")
    try:
        temperature = float(parts[1]) if len(parts) > 1 and parts[1] else None
        image = int(parts[2]) if len(parts) > 2 and parts[2] else 0
    except ValueError:
        raise ValueError(f"--figure {text!r}: T must be a number and IMAGE a whole number (e.g. dd_student_t50:1:1)") from None
    return Figure(parts[0], temperature, image)


def pick_images(labels, per_class=PER_CLASS, classes=10):
    """Test-set indices: the first ``per_class`` images of each class, class by class."""
    labels = np.asarray(labels)
    picked = []
    for label in range(classes):
        found = np.flatnonzero(labels == label)[:per_class]
        if len(found) < per_class:
            raise ValueError(f"the test set has only {len(found)} images of class {label}; "
                             f"the playground needs {per_class}")
        picked.extend(int(i) for i in found)
    return picked


def weight_manifest(model):
    """``(entries, blob)``: name/shape/offset of every weight, and their float32 bytes."""
    entries, chunks, offset = [], [], 0
    for variable in model.weights:
        array = np.ascontiguousarray(np.asarray(variable.numpy(), dtype="<f4"))
        entries.append({"name": variable.path, "shape": list(array.shape), "offset": offset})
        chunks.append(array.tobytes())
        offset += array.nbytes
    return entries, b"".join(chunks)


def read_weights(out_dir, model=DEFAULT_MODEL):
    """The arrays of ``MODEL/weights.json``/``weights.bin`` in ``out_dir`` (the inverse of the export)."""
    folder = Path(out_dir) / model
    manifest = json.loads((folder / "weights.json").read_text())
    blob = (folder / "weights.bin").read_bytes()
    arrays = []
    for entry in manifest["weights"]:
        count = int(np.prod(entry["shape"], dtype=np.int64))
        flat = np.frombuffer(blob, dtype="<f4", count=count, offset=entry["offset"])
        arrays.append(flat.reshape(entry["shape"]))
    return manifest, arrays


def read_images(out_dir):
    """``(meta, images)``: ``images.json`` and the uint8 ``(N, 32, 32, 3)`` array of ``images.bin``."""
    meta = json.loads((Path(out_dir) / "images.json").read_text())
    images = np.frombuffer((Path(out_dir) / "images.bin").read_bytes(), dtype=np.uint8)
    return meta, images.reshape(len(meta["images"]), 32, 32, 3)


class ExportError(Exception):
    """An input of the export is missing or unusable; the message says how to fix it."""


def load_model(name=DEFAULT_MODEL):
    """The shipped full-profile registry model ``name``, at its own temperature."""
    from advlib.runs import experiments

    try:
        model = experiments.load_or_train(name, PROFILE, train=False)
    except ValueError as error:  # not a registry model
        raise ExportError(f"{error}; a figure's model must be one of them") from error
    names = tuple(variable.path for variable in model.weights)
    if names != NETWORK_WEIGHTS:
        raise ExportError(f"{name!r} is not the Table-1 CNN the page's network runs (its weights are "
                          f"{', '.join(names[:4])}, ...); choose a model built by advlib.models.build_cnn")
    return model


def load_baseline():
    return load_model(DEFAULT_MODEL)


def _load_test_set(load_cifar10):
    try:
        return load_cifar10()
    except Exception as error:  # a failed download, a bad local copy: the build must say which
        raise ExportError(f"could not load CIFAR-10 ({type(error).__name__}: {error}); set ADVLIB_CIFAR10 to a "
                          "local copy (README, 'Running offline with a local CIFAR-10 copy') or allow the download"
                          ) from error


def export(out_dir, figures=(Figure(),), *, load=None, data=None):
    """Write the files listed in the module docstring into ``out_dir``; return their paths.

    ``load(name)`` gives a model (default :func:`load_model`); ``data`` the CIFAR-10 splits.
    """
    from advlib import models
    from advlib.data.cifar10 import CLASS_NAMES, load_cifar10

    figures = list(dict.fromkeys(figures))
    if not figures:
        raise ValueError("no figure to export: give at least one (e.g. Figure('baseline'))")
    load = load or load_model
    # Every model first: a wrong name stops the export before the test set is read.
    loaded = {name: load(name) for name in dict.fromkeys(figure.model for figure in figures)}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (_, _), (x_test, y_test) = data if data is not None else _load_test_set(load_cifar10)
    indices = pick_images(y_test)
    images = np.ascontiguousarray(x_test[indices], dtype=np.uint8)
    (out_dir / "images.bin").write_bytes(images.tobytes())
    meta = {"format": FORMAT_VERSION, "classes": list(CLASS_NAMES),
            "images": [{"test_index": i, "label": int(y_test[i]), "class": CLASS_NAMES[int(y_test[i])]}
                       for i in indices]}
    (out_dir / "images.json").write_text(json.dumps(meta, indent=1))
    written = [out_dir / "images.json", out_dir / "images.bin"]

    for name, model in loaded.items():
        folder = out_dir / name
        folder.mkdir(exist_ok=True)
        entries, blob = weight_manifest(model)
        (folder / "weights.bin").write_bytes(blob)
        # "temperature" is the model's own; a figure may read it at another (its markup says which).
        manifest = {"format": FORMAT_VERSION, "model": name, "profile": PROFILE,
                    "temperature": models.get_temperature(model),
                    "batch_norm_epsilon": float(model.get_layer("batch_norm1_1").epsilon),
                    "weights": entries}
        (folder / "weights.json").write_text(json.dumps(manifest, indent=1))
        written += [folder / "weights.json", folder / "weights.bin"]
        for figure in (figure for figure in figures if figure.model == name):
            viewed = model if figure.temperature is None else models.with_temperature(model, figure.temperature)
            write_fallback(folder / figure.fallback_name(), viewed, images[figure.image], int(y_test[indices[figure.image]]))
            written.append(folder / figure.fallback_name())
    remove_stale(out_dir, written)
    return written


# What an export writes (and so may remove when no figure needs it any more).
EXPORTED_PATTERNS = ("weights.json", "weights.bin", "images.json", "images.bin", "fallback*.png")


def remove_stale(out_dir, written):
    """Delete exported files of ``out_dir`` (and of its model folders) that this export did not write:
    a model no figure uses any more, a figure's old fallback, the flat layout of format 1."""
    keep = {Path(path).resolve() for path in written}
    for folder in (out_dir, *(path for path in out_dir.iterdir() if path.is_dir())):
        for pattern in EXPORTED_PATTERNS:
            for path in folder.glob(pattern):
                if path.resolve() not in keep:
                    path.unlink()
        if folder != out_dir and not any(folder.iterdir()):
            folder.rmdir()


def write_fallback(path, model, image, label):
    """One image under FGSM on ``model`` at each of FALLBACK_EPS, titled with the model's prediction."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from advlib.attacks import one_step as attacks
    from advlib.data.cifar10 import CLASS_NAMES

    x = (image[None].astype(np.float32) / 255.0)
    figure, axes = plt.subplots(1, len(FALLBACK_EPS), figsize=(2.2 * len(FALLBACK_EPS), 2.6))
    for axis, eps in zip(axes, FALLBACK_EPS):
        x_adv = attacks.fgsm(model, x, np.array([label]), eps) if eps else x
        probabilities = model.predict(x_adv, verbose=0)[0]
        top = int(probabilities.argmax())
        axis.imshow(x_adv[0], interpolation="nearest")
        axis.set_title(f"eps = {eps:g}\n{CLASS_NAMES[top]} ({probabilities[top]:.2f})", fontsize=9)
        axis.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", help="folder of the built site to write the playground's files into")
    parser.add_argument("--figure", action="append", default=[], metavar="MODEL[:T[:IMAGE]]",
                        help="a figure to export: model, temperature (default: the model's own), opening image "
                             "(default 0); repeat for several. Default: the baseline's.")
    args = parser.parse_args(argv)
    try:
        figures = [parse_figure(text) for text in args.figure] or [Figure()]
    except ValueError as error:
        parser.error(str(error))
    try:
        paths = export(args.out_dir, figures)
    except (FileNotFoundError, ExportError) as error:
        print(f"playground export: {error}", file=sys.stderr)
        return 1
    print(f"playground export: wrote {len(paths)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())

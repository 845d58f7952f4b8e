"""Export the shipped baseline and a few test images for the FGSM playground of chapter 3.

The playground (``_static/fgsm_playground.js``) runs the Table-1 CNN in the reader's
browser with TensorFlow.js. It needs the network's weights and some test images, which
this command writes into the *built site* (never into the repository: the weights are
already committed once, in ``advlib/pretrained/full``, and CIFAR-10 is not ours to ship)::

    .venv/bin/python tools/playground_export.py OUT_DIR

``_ext/fgsm_playground.py`` runs it at every ``make book`` (skipped when its inputs are
unchanged). It writes to ``OUT_DIR``:

``weights.json`` / ``weights.bin``
    Every weight array of the model in Keras's ``model.weights`` order: its name, shape and
    byte offset in ``weights.bin`` (float32, little-endian, C order). The official
    ``tensorflowjs`` converter is not used: it needs jax, flax and TensorFlow Decision
    Forests, which do not install beside this project's TensorFlow.
``images.json`` / ``images.bin``
    Two test images per class, the first two of that class in the test set's order
    (deterministic), as uint8 RGB ``(20, 32, 32, 3)``; the JSON gives each image's
    test-set index, label and class name.
``fallback.png``
    The static figure a reader without JavaScript sees: one image, its FGSM perturbation
    and adversarial versions at a few eps, with the baseline's predictions.

Only the shipped full-profile ``baseline`` is exported: the figure must show the model
the chapter's text describes, whatever profile the book is built with.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MODEL_NAME = "baseline"
PROFILE = "full"
PER_CLASS = 2
# The eps values the static fallback shows (the slider's range is 0..0.1).
FALLBACK_EPS = (0.0, 0.01, 0.05)
FORMAT_VERSION = 1


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


def read_weights(out_dir):
    """The arrays of ``weights.json``/``weights.bin`` in ``out_dir`` (the inverse of the export)."""
    manifest = json.loads((Path(out_dir) / "weights.json").read_text())
    blob = (Path(out_dir) / "weights.bin").read_bytes()
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


def load_baseline():
    from advlib.runs import experiments
    return experiments.load_or_train(MODEL_NAME, PROFILE, train=False)


class ExportError(Exception):
    """An input of the export is missing; the message says how to provide it."""


def _load_test_set(load_cifar10):
    try:
        return load_cifar10()
    except Exception as error:  # a failed download, a bad local copy: the build must say which
        raise ExportError(f"could not load CIFAR-10 ({type(error).__name__}: {error}); set ADVLIB_CIFAR10 to a "
                          "local copy (README, 'Running offline with a local CIFAR-10 copy') or allow the download"
                          ) from error


def export(out_dir, model=None, data=None):
    """Write the files listed in the module docstring into ``out_dir``; return their paths."""
    from advlib import models
    from advlib.data.cifar10 import CLASS_NAMES, load_cifar10

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = model if model is not None else load_baseline()
    (_, _), (x_test, y_test) = data if data is not None else _load_test_set(load_cifar10)
    indices = pick_images(y_test)

    entries, blob = weight_manifest(model)
    (out_dir / "weights.bin").write_bytes(blob)
    manifest = {"format": FORMAT_VERSION, "model": MODEL_NAME, "profile": PROFILE,
                "temperature": models.get_temperature(model),
                "batch_norm_epsilon": float(model.get_layer("batch_norm1_1").epsilon),
                "weights": entries}
    (out_dir / "weights.json").write_text(json.dumps(manifest, indent=1))

    images = np.ascontiguousarray(x_test[indices], dtype=np.uint8)
    (out_dir / "images.bin").write_bytes(images.tobytes())
    meta = {"format": FORMAT_VERSION, "classes": list(CLASS_NAMES),
            "images": [{"test_index": i, "label": int(y_test[i]), "class": CLASS_NAMES[int(y_test[i])]}
                       for i in indices]}
    (out_dir / "images.json").write_text(json.dumps(meta, indent=1))
    write_fallback(out_dir / "fallback.png", model, images[0], int(y_test[indices[0]]))
    return [out_dir / name for name in ("weights.json", "weights.bin", "images.json", "images.bin", "fallback.png")]


def write_fallback(path, model, image, label):
    """One image under FGSM at each of FALLBACK_EPS, titled with the baseline's prediction."""
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
    args = parser.parse_args(argv)
    try:
        paths = export(args.out_dir)
    except (FileNotFoundError, ExportError) as error:
        print(f"playground export: {error}", file=sys.stderr)
        return 1
    print(f"playground export: wrote {len(paths)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Hand-made inputs for tests that train or report: a CIFAR-like image tree, saved measurements."""

import numpy as np
from PIL import Image

from advlib.data.cifar10 import CLASS_NAMES


def make_image_tree(root, train_per_class=12, test_per_class=4, seed=0):
    """Write a PNG image-folder tree whose classes differ in mean colour; return its path."""
    rng = np.random.default_rng(seed)
    for split, count in (("train", train_per_class), ("test", test_per_class)):
        for label, name in enumerate(CLASS_NAMES):
            folder = root / split / name
            folder.mkdir(parents=True)
            for index in range(count):
                base = np.array([label * 25, 255 - label * 25, (label * 70) % 256])
                pixels = np.clip(base + rng.integers(-30, 30, size=(32, 32, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(pixels, "RGB").save(folder / f"{index:04d}.png")
    return root


def saved_entry(key, value, profile="test"):
    """A measurements.json entry as ``measure()`` writes it, with the current hashes of the row's models."""
    from advlib.plan import catalogue, registry

    hashes = registry.model_hashes(catalogue.get(key).models, profile)
    return {"value": value, "models": hashes, "data_source": "hand-made", "test_size": 40, "measured_at": "now"}

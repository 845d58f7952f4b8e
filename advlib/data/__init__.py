"""CIFAR-10 on disk and in memory (NumPy; no TensorFlow).

- :mod:`advlib.data.files`: readers of the official python and binary releases and of image folders.
- :mod:`advlib.data.cifar10`: loading a profile's images, the decode cache, preprocessing, one-hot labels.

The names of :mod:`advlib.data.cifar10` are also reachable here (``advlib.data.load_cifar10``).
"""

from advlib._lazy import exports

__getattr__, __dir__ = exports(__name__, {
    "cifar10": ("CLASS_NAMES", "IMAGE_SHAPE", "describe_source", "stratified_indices", "load_cifar10",
                "preprocess", "one_hot"),
})

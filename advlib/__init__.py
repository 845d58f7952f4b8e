"""advlib: the helper package behind the book on adversarial examples for a small CIFAR-10 CNN.

Submodules are imported on first use, so ``import advlib`` does not load TensorFlow,
seed anything or touch the network.
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "data",
    "models",
    "attacks",
    "strong_attacks",
    "audit",
    "evaluation",
    "training",
    "distillation",
    "experiments",
    "measurements",
    "expectations",
    "error_bars",
    "sweeps",
    "results",
    "book",
    "plots",
)

__all__ = list(_SUBMODULES) + ["__version__"]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"advlib.{name}")
    raise AttributeError(f"module 'advlib' has no attribute {name!r}")

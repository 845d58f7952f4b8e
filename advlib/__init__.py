"""advlib: the helper package behind the book on adversarial examples for a small CIFAR-10 CNN.

Submodules are imported on first use, so ``import advlib`` does not load TensorFlow,
seed anything or touch the network.
"""

import importlib

__version__ = "0.1.0"

# The package's modules, lowest layer first; the import graph runs one way, downwards.
# tests/test_layout.py checks this list against the files and the README's layout section.
_SUBMODULES = (
    # Pure data and arithmetic (no TensorFlow).
    "validate",
    "registry",
    "catalogue",
    "attack_registry",
    "store",
    "statistics",
    "text",
    "audit_report",
    "expectations",
    "scorecard",
    "reporting",
    # Data, model and attacks (TensorFlow from here on).
    "cifar_files",
    "data",
    "models",
    "attacks",
    "strong_attacks",
    "apgd",
    "square",
    "evaluation",
    "audit",
    "training",
    "distillation",
    # Running the registry: training, measuring, studies, and the notebooks' helpers.
    "experiments",
    "measurements",
    "studies",
    "book",
    "plots",
)

__all__ = list(_SUBMODULES) + ["__version__"]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"advlib.{name}")
    raise AttributeError(f"module 'advlib' has no attribute {name!r}")

"""advlib: the helper package behind the book on adversarial examples for a small CIFAR-10 CNN.

Submodules are imported on first use, so ``import advlib`` does not load TensorFlow,
seed anything or touch the network.
"""

import importlib

__version__ = "0.1.0"

# The package's layers, lowest first: a module imports only from its own layer and those
# listed before it (tests/package/test_layout.py checks this, the folders, and the README's layout).
_SUBMODULES = (
    # No TensorFlow at import.
    "validate",   # checks of the arguments a user passes in
    "plan",       # what is trained and measured: profiles, the model registry, the catalogue
    "results",    # where models and numbers are saved, and reading them back
    "verdicts",   # uncertainty, the claims and their thresholds, the scorecard, wording
    "data",       # CIFAR-10 on disk and in memory (NumPy)
    # TensorFlow: the network, the attacks, measuring a model, training.
    "models",
    "attacks",
    "evaluation",
    "training",
    # Running the plan (TensorFlow only inside the functions that train or attack), then
    # what readers and students use on top.
    "runs",
    "exercises",
    "plots",
    "cli",
    "book",
)

__all__ = list(_SUBMODULES) + ["__version__"]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"advlib.{name}")
    raise AttributeError(f"module 'advlib' has no attribute {name!r}")

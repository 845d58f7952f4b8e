"""advlib: the helper package behind the book on adversarial examples for a small CIFAR-10 CNN.

Submodules are imported on first use, so ``import advlib`` does not load TensorFlow,
seed anything or touch the network.
"""

import importlib

__version__ = "0.1.0"

# The package's modules, lowest layer first: each imports only modules listed before it
# (tests/test_layout.py checks this, the files, and the README's layout section).
_SUBMODULES = (
    # Pure data and arithmetic: no TensorFlow.
    "validate",
    "profiles",
    "registry",
    # Training time estimated from a benchmark's measured epochs.
    "cost",
    "attack_registry",
    "catalogue",
    "store",
    "statistics",
    "text",
    "audit_report",
    "claims",
    "scorecard",
    # Data (NumPy only), then the model, the attacks and training (TensorFlow).
    "cifar_files",
    "data",
    "models",
    "attacks",
    "strong_attacks",
    "apgd",
    "square",
    "evaluation",
    "audit",
    "worst_case",
    "training_data",
    "training",
    "distillation",
    "exercise_support",
    "exercise_numbers",
    "exercises",
    # Running the registry and reporting on it; these load TensorFlow only inside the
    # functions that train or attack, so the report command never does.
    "experiments",
    "measurements",
    "studies",
    "worst_case_studies",
    "analyses",
    "expectations",
    # Above the goal it chooses by (expectations.CLEAN_GOAL).
    "defence",
    "reporting",
    # The reproduce pipeline: every step above, in order (python -m advlib reproduce).
    "pipeline",
    "book",
    "plots",
)

__all__ = list(_SUBMODULES) + ["__version__"]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"advlib.{name}")
    raise AttributeError(f"module 'advlib' has no attribute {name!r}")

"""Training recipes: the baseline, adversarial training and defensive distillation (TensorFlow).

- :mod:`advlib.training.batches`: the input pipeline, built once per run: augmentation and each epoch's batches.
- :mod:`advlib.training.recipes`: the resumable loop and every recipe.
- :mod:`advlib.training.distillation`: a teacher's soft labels at a temperature, and a student trained on them.

The names of :mod:`advlib.training.recipes` are also reachable here (``advlib.training.train_baseline``).
"""

from advlib._lazy import exports

__getattr__, __dir__ = exports(__name__, {
    "recipes": ("RECIPES", "TrainingConfig", "one_hot", "augmentation", "make_dataset", "compile_model", "fit",
                "contention", "save_checkpoint", "load_checkpoint", "train_baseline", "train_random_at",
                "train_random_every_epoch", "train_per_epoch_at", "FastAdversarialTrainer",
                "train_robust_fast_at", "validation_dataset"),
})

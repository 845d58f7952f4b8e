"""Every model in the report, by name, trained once per config and loaded ever after.

``load_or_train(name)`` is how the book and the command line get a model: it loads the
finished model whose config hash matches (from the results folder, then from the
weights shipped in the package) and otherwise trains it, resuming from the last
finished epoch if an earlier run was interrupted, and saves it.

Profiles set how much data and how many epochs a run uses: ``full`` is the report's
setting (all 50,000 training and 10,000 test images), ``quick`` a stratified subset
for trying things and for CI, ``test`` a tiny one for the test suite. The profile
comes from the argument, else ``$ADVLIB_PROFILE``, else ``full``.
"""

import os
import time
from dataclasses import asdict, dataclass
from functools import lru_cache

from advlib import results

REPORT = "Ari van Everdingen, Convolutional Neural Networks and Adversarial Examples (University of Victoria)"


@dataclass(frozen=True)
class Profile:
    """How much data and training a run uses. ``per_class`` is ``(train, test)`` or ``None`` for all."""

    name: str
    per_class: tuple | None
    epochs: int
    batch_size: int
    learning_rate: float = 2e-3
    seed: int = 0
    eps: float = 0.01


PROFILES = {
    "full": Profile("full", None, epochs=20, batch_size=128),
    "quick": Profile("quick", (200, 50), epochs=8, batch_size=64),
    "test": Profile("test", (12, 4), epochs=3, batch_size=32),
}


def get_profile(profile=None):
    """Resolve a profile name (or ``Profile``) to a :class:`Profile`; see the module docstring."""
    if isinstance(profile, Profile):
        return profile
    name = profile or os.environ.get("ADVLIB_PROFILE") or "full"
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}: choose one of {', '.join(PROFILES)} (or set ADVLIB_PROFILE)")
    return PROFILES[name]


# Recipes whose training function accepts ``initial_weights`` (see ModelSpec.start_from).
WARM_START_RECIPES = ("robust_fast_at",)


@dataclass(frozen=True)
class ModelSpec:
    """One registry model: its recipe, its softmax temperature and, for students, its teacher.

    ``cost`` is the epoch cost relative to the baseline, used for progress estimates.
    ``seed_offset`` is added to the profile's seed, so two models trained by the same
    recipe at the same temperature are independent runs, not one run done twice.
    ``epoch_fraction`` (in (0, 4]) scales the profile's epochs: the seed study trains
    with a quarter of them so that three seeds per recipe stay affordable, and the
    second robust candidate with twice as many.
    """

    name: str
    recipe: str
    description: str
    temperature: float = 1.0
    teacher: str | None = None
    cost: float = 1.0
    seed_offset: int = 0
    # Extra keyword arguments of the recipe, as (name, value) pairs (part of the config hash).
    options: tuple = ()
    epoch_fraction: float = 1.0
    # Scales the profile's peak learning rate; with 1 the config and its hash are unchanged.
    learning_rate_factor: float = 1.0
    # Another registry model whose trained weights this one starts from (a warm start).
    start_from: str | None = None

    def __post_init__(self):
        fraction = self.epoch_fraction
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 < fraction <= 4.0:
            raise ValueError(f"epoch_fraction of {self.name!r} must be a number in (0, 4], got {fraction!r}")
        factor = self.learning_rate_factor
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0.0 < factor <= 1.0:
            raise ValueError(f"learning_rate_factor of {self.name!r} must be a number in (0, 1], got {factor!r}")
        if self.start_from is not None and self.recipe not in WARM_START_RECIPES:
            raise ValueError(
                f"{self.name!r} has start_from={self.start_from!r}, but only the recipes "
                f"{', '.join(WARM_START_RECIPES)} can start from another model's weights"
            )


MODELS = {
    spec.name: spec
    for spec in (
        ModelSpec("baseline", "baseline", "Baseline CNN (report section 5)"),
        ModelSpec("random_at", "random_at", "Random adversarial training: random-sign copies made once (Table 2)", cost=2.0),
        ModelSpec("per_epoch_at", "per_epoch_at", "Per-epoch adversarial training: FGSM copies each epoch (Table 2)", cost=2.4),
        ModelSpec("random_every_epoch", "random_every_epoch", "Fresh random-sign copies every epoch (proposed in section 6)", cost=2.0),
        # The report says only that its teachers were "trained adversarially"; we use the
        # cheap random-sign training for the T = 50 teacher and per-epoch FGSM training for
        # the variant's teacher, so that the variant's teacher differs from random_at.
        ModelSpec("dd_teacher_t50", "random_at", "Defensive distillation teacher at T = 50 (Table 3)", temperature=50.0, cost=2.0),
        ModelSpec("dd_student_t50", "student", "Defensive distillation student at T = 50 (Table 3)", temperature=50.0, teacher="dd_teacher_t50"),
        ModelSpec("variant_teacher_t1", "per_epoch_at", "Variant teacher, trained at T = 1 (Table 4)", cost=2.4, seed_offset=1),
        ModelSpec("variant_student_t4", "student", "Variant student at T = 4 on the teacher's T = 4 labels (Table 4)", temperature=4.0, teacher="variant_teacher_t1"),
        ModelSpec("final_student", "student", "Final model: variant distillation from random_at at T = 4 (section 8)", temperature=4.0, teacher="random_at"),
        # Beyond the report: adversarial training that attacks the current weights on every
        # batch, at a training eps a little above the test eps of 0.01.
        # An independently trained copy of the baseline (another seed): the surrogate that
        # transfer attacks craft their examples on.
        ModelSpec("surrogate", "baseline", "Surrogate for transfer attacks: the baseline recipe with another seed (beyond the report)", seed_offset=2),
        ModelSpec("robust_fast_at", "robust_fast_at", "Fast adversarial training: FGSM from a random start on every batch (beyond the report)", cost=1.8, options=(("train_eps", 0.015),)),
        # The first candidate missed the clean-accuracy goal with its clean accuracy still
        # rising at the last epoch; the second trains at the test eps, for twice the epochs.
        ModelSpec(
            "robust_fast_at_long", "robust_fast_at",
            "Fast adversarial training at the test eps, twice the epochs: the second candidate (beyond the report)",
            cost=3.6, options=(("train_eps", 0.01),), epoch_fraction=2.0,
        ),
        # The second candidate ended a little short of the FGSM goal with its accuracy still
        # creeping up; the third continues it for a second cosine cycle at half the peak
        # learning rate (a warm restart), so in all it sees 3.5 times the profile's epochs.
        ModelSpec(
            "robust_fast_at_restart", "robust_fast_at",
            "Fast adversarial training continued from robust_fast_at_long for a second, gentler "
            "learning-rate cycle: the third candidate (beyond the report)",
            cost=2.7, options=(("train_eps", 0.01),), epoch_fraction=1.5, learning_rate_factor=0.5,
            start_from="robust_fast_at_long",
        ),
    )
}

# The seed study (beyond the report): is Table 2's gap between random and per-epoch
# adversarial training larger than the spread between runs? Each recipe is trained three
# more times with new seeds. A quarter of the profile's epochs keeps the nine extra models
# affordable on a CPU, so their numbers are not those of the main models.
SEED_STUDY_RECIPES = ("baseline", "random_at", "per_epoch_at")
SEED_STUDY_SEEDS = (1, 2, 3)
SEED_STUDY_EPOCH_FRACTION = 0.25


def _seed_copy(recipe, seed_number):
    main = MODELS[recipe]
    return ModelSpec(
        f"{recipe}_seed{seed_number}",
        main.recipe,
        f"Seed {seed_number} of 3 of {recipe}, with a quarter of the profile's epochs, for error bars (beyond the report)",
        temperature=main.temperature,
        cost=main.cost * SEED_STUDY_EPOCH_FRACTION,
        # Far from the offsets of the main models (0 to 2), so no seed is reused.
        seed_offset=100 + seed_number,
        options=main.options,
        epoch_fraction=SEED_STUDY_EPOCH_FRACTION,
    )


# Added at the end of the registry, so `python -m advlib reproduce` trains them last.
MODELS.update(
    (spec.name, spec) for spec in (_seed_copy(recipe, k) for recipe in SEED_STUDY_RECIPES for k in SEED_STUDY_SEEDS)
)
for _spec in MODELS.values():
    if _spec.start_from is not None and _spec.start_from not in MODELS:
        raise ValueError(f"{_spec.name!r} starts from {_spec.start_from!r}, which is not in the registry")
# {recipe: (its seed copies)}: the models behind each recipe's error bars.
SEED_STUDY = {recipe: tuple(f"{recipe}_seed{k}" for k in SEED_STUDY_SEEDS) for recipe in SEED_STUDY_RECIPES}
# Every registry model except the seed copies: what the chapters that load "every model" use.
MAIN_MODELS = tuple(name for name in MODELS if not any(name in copies for copies in SEED_STUDY.values()))


def get_spec(name):
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}: the registry has {', '.join(MODELS)}")
    return MODELS[name]


def training_config(profile, spec=None):
    """The :class:`advlib.training.TrainingConfig` of a registry model (``spec``) on a profile.

    Epochs are the profile's, scaled by ``spec.epoch_fraction`` (at least one); with a
    fraction of 1 the config is exactly the profile's, so existing config hashes stay.
    """
    from advlib.training import TrainingConfig

    fraction = spec.epoch_fraction if spec else 1.0
    epochs = max(1, round(profile.epochs * fraction))
    extra = {}
    if epochs <= TrainingConfig.warmup_epochs:
        # The warm-up must end before the last epoch; a one-epoch run has none.
        extra["warmup_epochs"] = epochs - 1
    return TrainingConfig(
        epochs=epochs,
        batch_size=profile.batch_size,
        learning_rate=profile.learning_rate * (spec.learning_rate_factor if spec else 1.0),
        seed=profile.seed + (spec.seed_offset if spec else 0),
        eps=profile.eps,
        **extra,
    )


def model_config(name, profile=None):
    """Everything that determines a model's weights, as a JSON-serialisable dict.

    A student's config includes its teacher's config hash, so retraining a teacher
    invalidates its students. The data source is recorded but not hashed: the official
    and the JPEG copy of CIFAR-10 are the same images up to compression.
    """
    from advlib import models

    profile = get_profile(profile)
    spec = get_spec(name)
    config = {
        "name": spec.name,
        "recipe": spec.recipe,
        "temperature": spec.temperature,
        "profile": profile.name,
        "per_class": list(profile.per_class) if profile.per_class else None,
        "training": training_config(profile, spec).to_dict(),
        "architecture": models.ARCHITECTURE,
    }
    if spec.options:
        config["options"] = dict(spec.options)
    if spec.teacher:
        config["teacher"] = {"name": spec.teacher, "config_hash": results.config_hash(model_config(spec.teacher, profile))}
        config["soft_label_temperature"] = spec.temperature
    if spec.start_from:
        # Retraining the model it starts from invalidates this one, as for a student.
        config["start_from"] = {"name": spec.start_from, "config_hash": results.config_hash(model_config(spec.start_from, profile))}
    return config


@dataclass
class Data:
    """A profile's data, preprocessed: float32 images in [0, 1] and integer labels."""

    x_train: object
    y_train: object
    x_test: object
    y_test: object
    source: str


@lru_cache(maxsize=4)
def _load_data(per_class, source_key):
    from advlib import data

    (x_train, y_train), (x_test, y_test) = data.load_cifar10(per_class=per_class, seed=0)
    x_train, _ = data.preprocess(x_train, y_train)
    x_test, _ = data.preprocess(x_test, y_test)
    return Data(x_train, y_train, x_test, y_test, data.describe_source())


def load_data(profile=None):
    """The profile's training and test sets (decoded once per process, cached on disk)."""
    profile = get_profile(profile)
    return _load_data(profile.per_class, os.environ.get("ADVLIB_CIFAR10", ""))


def checkpoint_dir(name, profile=None):
    profile = get_profile(profile)
    digest = results.config_hash(model_config(name, profile))
    return results.profile_dir(profile.name) / "checkpoints" / results.stem(name, digest)


def is_saved(name, profile=None):
    profile = get_profile(profile)
    return results.find_saved(name, results.config_hash(model_config(name, profile)), profile.name) is not None


def load_or_train(name, profile=None, *, verbose=None, train=True):
    """Return the trained registry model ``name`` for the profile, training it if needed.

    Prints where a saved model was found, or trains (with progress bars) and saves it.
    With ``train=False`` a missing model raises ``FileNotFoundError`` instead.
    """
    from advlib import models

    profile = get_profile(profile)
    spec = get_spec(name)
    config = model_config(name, profile)
    digest = results.config_hash(config)
    found = results.find_saved(name, digest, profile.name)
    if found:
        weights_path, _ = found
        print(f"Found saved model at {weights_path}, loading")
        model = models.build_cnn(temperature=spec.temperature)
        model.load_weights(weights_path)
        return model
    if not train:
        raise FileNotFoundError(
            f"no saved {name!r} model for profile {profile.name!r} (config {digest}); "
            f"train it with: python -m advlib reproduce --profile {profile.name} --only {name}"
        )
    return _train_and_save(spec, profile, config, digest, verbose)


def _train_and_save(spec, profile, config, digest, verbose):
    from advlib import distillation, evaluation, models, training

    dataset = load_data(profile)
    teacher = load_or_train(spec.teacher, profile, verbose=verbose) if spec.teacher else None
    # A warm start passes the trained weights of the model it continues to the recipe.
    warm_start = {}
    if spec.start_from:
        warm_start["initial_weights"] = load_or_train(spec.start_from, profile, verbose=verbose).get_weights()
    print(f"Training {spec.name} ({spec.description}) on the {profile.name} profile; data: {dataset.source}")
    started = time.time()
    fit_arguments = dict(
        checkpoint_dir=checkpoint_dir(spec.name, profile),
        validation_data=(dataset.x_test, training.one_hot(dataset.y_test)),
        verbose=verbose,
    )
    config_object = training_config(profile, spec)
    if spec.recipe == "student":
        labels = distillation.soft_labels(teacher, dataset.x_train, spec.temperature)
        model, history = distillation.train_student(
            dataset.x_train, labels, config_object, temperature=spec.temperature, **fit_arguments
        )
    else:
        recipe = training.RECIPES[spec.recipe]
        model, history = recipe(
            dataset.x_train, dataset.y_train, config_object, temperature=spec.temperature,
            **dict(spec.options), **warm_start, **fit_arguments,
        )
    record = {
        "config": config,
        "profile": profile.name,
        "seed": config_object.seed,
        "data_source": dataset.source,
        "train_size": int(len(dataset.x_train)),
        "test_size": int(len(dataset.x_test)),
        "metrics": {"test_accuracy": evaluation.accuracy(model, dataset.x_test, dataset.y_test)},
        "history": history,
        "wall_time_seconds": float(sum(history.get("seconds", []))),
        "wall_time_this_run_seconds": time.time() - started,
        "machine": results.machine_description(),
        "versions": results.library_versions(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    weights_path = results.save_model(models.clone_weights_only(model), record, results.profile_dir(profile.name), spec.name, digest)
    print(f"Saved {spec.name} to {weights_path} (test accuracy {record['metrics']['test_accuracy']:.3f})")
    return model


def load_record(name, profile=None):
    """The JSON record of a saved model (config, metrics, history, machine...), or ``None``."""
    profile = get_profile(profile)
    found = results.find_saved(name, results.config_hash(model_config(name, profile)), profile.name)
    return found[1] if found else None


def describe_profile(profile=None, data_source=None):
    """One line for the top of a notebook or log: profile, sizes, epochs and data source.

    ``data_source`` (a string) names where the numbers shown came from, e.g. the sources
    recorded in saved results; by default it is the source this process would load now.
    """
    profile = get_profile(profile)
    sizes = "all 50,000 training and 10,000 test images" if profile.per_class is None else (
        f"{profile.per_class[0]} training and {profile.per_class[1]} test images per class"
    )
    return f"profile {profile.name!r}: {sizes}, {profile.epochs} epochs; data: " + (data_source or _describe_source())


def _describe_source():
    from advlib import data

    return data.describe_source()


def profile_as_dict(profile=None):
    return asdict(get_profile(profile))

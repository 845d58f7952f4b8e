"""Running the registry: a profile's data, every model trained once per config, and views built.

``load_or_train(name, profile)`` is how the book and the command line get a model: it
loads the finished model whose config hash matches (from the results folder, then from
the weights shipped in the package, see :mod:`advlib.results.store`) and otherwise trains it,
resuming from the last finished epoch if an earlier run was interrupted, and saves it.
What each model is (recipe, temperature, teacher, epochs) is data in
:mod:`advlib.plan.registry`; this module only runs it.

Every function takes the profile chosen at the edge (a name or
:class:`advlib.plan.registry.Profile`); none reads ``$ADVLIB_PROFILE``.
"""

import dataclasses
import time
from dataclasses import dataclass
from functools import lru_cache

from advlib.plan import registry
from advlib.results import store


@dataclass
class Data:
    """A profile's data, preprocessed: float32 images ``(N, 32, 32, 3)`` in [0, 1] and integer labels ``(N,)``."""

    x_train: object
    y_train: object
    x_test: object
    y_test: object
    source: str


@lru_cache(maxsize=4)
def _load_data(per_class, source):
    from advlib import data

    (x_train, y_train), (x_test, y_test) = data.load_cifar10(source, per_class=per_class, seed=0)
    x_train, _ = data.preprocess(x_train, y_train)
    x_test, _ = data.preprocess(x_test, y_test)
    return Data(x_train, y_train, x_test, y_test, data.describe_source(source))


def load_data(profile, source=None):
    """The profile's training and test sets as :class:`Data` (decoded once per process and source).

    ``source`` is a local CIFAR-10 copy (see :func:`advlib.data.cifar10.load_cifar10`); ``None``
    means ``$ADVLIB_CIFAR10``, else the official download. The cache is keyed on the
    resolved source, so changing it never returns another source's images.
    """
    from advlib.data import files

    profile = registry.get_profile(profile)
    layout, path = files.resolve_source(source)
    return _load_data(profile.per_class, None if layout == "keras" else str(path))


def load_or_train(name, profile, *, verbose=None, train=True):
    """Return the trained registry model ``name`` for ``profile``, training it if needed.

    Prints where a saved model was found (shipped or results folder, never a machine
    path), or trains (with progress bars) and saves it. With ``train=False`` a missing
    model raises ``FileNotFoundError`` instead.
    """
    from advlib import models

    profile = registry.get_profile(profile)
    spec = registry.get_spec(name)
    found = store.find_saved(name, profile)
    if found:
        weights_path, _ = found
        where = "shipped with advlib" if weights_path.parent == store.shipped_dir(profile) else "in the results folder"
        print(f"Loading {store.model_id(name, profile)} ({where})")
        model = models.build_cnn(temperature=spec.temperature)
        model.load_weights(weights_path)
        return model
    if not train:
        raise FileNotFoundError(
            f"no saved {name!r} model for profile {profile.name!r} (config {registry.model_hash(name, profile)}); "
            f"train it with: python -m advlib reproduce --profile {profile.name} --only {name}"
        )
    return _train_and_save(spec, profile, verbose)


def _train_and_save(spec, profile, verbose):
    from advlib import models
    from advlib.evaluation import metrics
    from advlib.training import distillation, recipes

    dataset = load_data(profile)
    # A student needs its teacher's soft labels; a warm start the weights it continues.
    teacher = load_or_train(spec.teacher, profile, verbose=verbose) if spec.teacher else None
    warm_start = {}
    if spec.start_from:
        warm_start["initial_weights"] = load_or_train(spec.start_from, profile, verbose=verbose).get_weights()
    print(f"Training {spec.name} ({spec.description}) on the {profile.name} profile; data: {dataset.source}")
    started = time.time()
    config = registry.training_config(profile, spec)
    fit_arguments = dict(
        checkpoint_dir=store.checkpoint_dir(spec.name, profile),
        validation_data=(dataset.x_test, recipes.one_hot(dataset.y_test)),
        verbose=verbose,
    )
    if spec.holdout:
        # Train without the held-out images and watch them, never the test set, while training.
        kept, held_out = holdout_indices(dataset, profile)
        fit_arguments["validation_data"] = (dataset.x_train[held_out], recipes.one_hot(dataset.y_train[held_out]))
        dataset = dataclasses.replace(dataset, x_train=dataset.x_train[kept], y_train=dataset.y_train[kept])
    if spec.recipe == "student":
        labels = distillation.soft_labels(teacher, dataset.x_train, spec.temperature)
        model, history = distillation.train_student(
            dataset.x_train, labels, config, temperature=spec.temperature, **fit_arguments
        )
    else:
        recipe = recipes.RECIPES[spec.recipe]
        model, history = recipe(
            dataset.x_train, dataset.y_train, config, temperature=spec.temperature,
            **dict(spec.options), **warm_start, **fit_arguments,
        )
    cost = recipes.contention(history)
    record = {
        "config": registry.model_config(spec.name, profile),
        "profile": profile.name,
        "seed": config.seed,
        "data_source": dataset.source,
        "train_size": int(len(dataset.x_train)),
        "test_size": int(len(dataset.x_test)),
        "metrics": {"test_accuracy": metrics.accuracy(model, dataset.x_test, dataset.y_test)},
        "history": history,
        "wall_time_seconds": float(sum(history.get("seconds", []))),
        # The process's CPU time and its share of the machine's cores: a low share means the
        # wall time above counts other work too (recipes.contention).
        "cpu_time_seconds": cost["cpu_seconds"],
        "cpu_share": cost["cpu_share"],
        "wall_time_this_run_seconds": time.time() - started,
        "machine": store.machine_description(),
        "versions": store.library_versions(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    store.save_model(models.clone_weights_only(model), record, spec.name, profile)
    print(f"Saved {store.model_id(spec.name, profile)} (test accuracy {record['metrics']['test_accuracy']:.3f})")
    return model


def holdout_indices(dataset, profile):
    """``(kept, held_out)``: sorted training indices; ``held_out`` has :func:`advlib.plan.registry.holdout_per_class` per class."""
    import numpy as np

    from advlib.evaluation import worst_case

    held_out = worst_case.stratified_subset(dataset.y_train, registry.holdout_per_class(profile), seed=registry.get_profile(profile).seed)
    kept = np.setdiff1d(np.arange(len(dataset.y_train)), held_out)
    return kept, held_out


def build_view(view, profile, model=None):
    """The Keras model a :class:`advlib.plan.registry.View` describes, on ``profile``.

    ``model`` is the trained registry model (loaded or trained when ``None``). The view's
    temperature rebuilds the softmax head on the same weights; its noise puts a fresh,
    seeded :func:`advlib.models.with_input_noise` layer (seed: the profile's) in front,
    so a view's noise draws do not depend on what ran before it in the process.
    """
    from advlib import models

    profile = registry.get_profile(profile)
    model = load_or_train(view.name, profile) if model is None else model
    if view.temperature is not None:
        model = models.with_temperature(model, view.temperature)
    if view.noise is not None:
        model = models.with_input_noise(model, view.noise, seed=profile.seed)
    return model

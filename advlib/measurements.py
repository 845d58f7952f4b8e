"""Computing and saving the numbers of :mod:`advlib.catalogue`.

:func:`compute` turns one :class:`advlib.catalogue.Measurement` into a float: it builds
the measured view (and the source view an attack is crafted on), runs the attack through
:mod:`advlib.attack_registry` and evaluates. :func:`measure` computes what is missing and
saves each number as soon as it exists in ``measurements.json``
(:data:`advlib.store.MEASUREMENTS`), with the config hashes of the models it came from,
so a retrained model's numbers are measured again and a stale one is never read.
"""

import time

import numpy as np

from advlib import catalogue, experiments, registry, store


def attack_subset(data, profile):
    """Sorted indices ``(n,)`` of the seeded test subset the strong attacks run on.

    ``data`` needs ``x_test``; ``n`` is at most 1,000 on the full profile and 250 on the
    reduced ones (never more than the test set). It is chapter 9's subset, drawn
    without replacement with ``numpy.random.default_rng(profile.seed)``.
    """
    profile = registry.get_profile(profile)
    total = len(data.x_test)
    size = min(catalogue.SUBSET_SIZE if profile.name == "full" else catalogue.REDUCED_SUBSET_SIZE, total)
    return np.sort(np.random.default_rng(profile.seed).choice(total, size=size, replace=False))


def images_for(measurement, data, profile):
    """``(x, y)`` a measurement runs on: the whole test set, or :func:`attack_subset` of it."""
    if measurement.subset:
        indices = attack_subset(data, profile)
        return data.x_test[indices], data.y_test[indices]
    return data.x_test, data.y_test


def compute(measurement, models_by_name, data, profile):
    """Our value of ``measurement`` (a float in [0, 1]).

    ``models_by_name`` maps each of ``measurement.models`` to its trained Keras model;
    views (temperature, input noise) are built on them here. The attack gets the
    profile's eps and seed; the evaluated view predicts on the attacked images (with
    fresh noise draws, for a noisy view).
    """
    from advlib import attack_registry, evaluation

    profile = registry.get_profile(profile)
    missing = [name for name in measurement.models if name not in models_by_name]
    if missing:
        raise ValueError(f"{measurement.key!r} needs the model(s) {missing}: pass them in models_by_name")
    x, y = images_for(measurement, data, profile)
    target = experiments.build_view(measurement.view, profile, models_by_name[measurement.view.name])
    if measurement.metric == "zero_gradients":
        return evaluation.gradient_norms(target, x, y).zero_fraction
    # A transfer or cross-set row crafts its images on the source view alone, so the
    # target's gradients never matter.
    source = target
    if measurement.source is not None:
        source = experiments.build_view(measurement.source, profile, models_by_name[measurement.source.name])
    x_adv = attack_registry.run(measurement.attack, source, x, y, profile.eps, seed=profile.seed, **measurement.options)
    if measurement.metric == "unchanged":
        return float(np.mean(np.all(x_adv == x, axis=(1, 2, 3))))
    return evaluation.accuracy(target, x_adv, y)


def load_saved(profile):
    """The saved measurements of ``profile``: ``{key: entry}``, only those still current.

    An entry is current when the config hashes it was measured with are those of the
    registry's models now. Shipped measurements are used where the results folder has none.
    """
    current = {}
    for key, entry in store.MEASUREMENTS.load(profile).items():
        measurement = catalogue.MEASUREMENTS_BY_KEY.get(key)
        if measurement and entry.get("models") == registry.model_hashes(measurement.models, profile):
            current[key] = entry
    return current


def values(profile, saved=None):
    """``{key: value}`` of the current saved measurements (``saved``: :func:`load_saved`'s dict)."""
    saved = load_saved(profile) if saved is None else saved
    return {key: float(entry["value"]) for key, entry in saved.items()}


def measure(profile, only=None, *, keys=None, train=True, verbose=None, skip_unsaved=False, saved=None):
    """Compute every measurement (or those that use a model in ``only``, or those in ``keys``) not yet saved.

    Trains missing models when ``train`` is true; with ``skip_unsaved`` a measurement
    that needs a model not yet saved is left for later instead (``reproduce`` measures a
    transfer row once both its models exist). ``saved``: :func:`load_saved`'s dict if the
    caller has just read it (not copied from an earlier call: it decides what is measured);
    otherwise it is read here. Returns the current saved entries.
    """
    profile = registry.get_profile(profile)
    for key in keys or ():
        catalogue.get(key)  # A ValueError naming the catalogue for an unknown key.
    # A copy: the entries measured below are added to it, never to the caller's dict.
    current = load_saved(profile) if saved is None else dict(saved)
    data = experiments.load_data(profile)
    loaded = {}
    for measurement in catalogue.MEASUREMENTS:
        if only and not set(measurement.models) & set(only):
            continue
        if keys is not None and measurement.key not in keys:
            continue
        if measurement.key in current:
            continue
        if skip_unsaved and not all(store.is_saved(name, profile) for name in measurement.models):
            continue
        for name in measurement.models:
            if name not in loaded:
                loaded[name] = experiments.load_or_train(name, profile, verbose=verbose, train=train)
        started = time.time()
        value = compute(measurement, loaded, data, profile)
        print(f"  {measurement.key}: {value:.4f}  ({time.time() - started:.1f} s)")
        current[measurement.key] = {
            "value": value,
            "models": registry.model_hashes(measurement.models, profile),
            "data_source": data.source,
            "test_size": int(len(images_for(measurement, data, profile)[1])),
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        # Saved after each number, so an interrupted run keeps what it measured.
        store.MEASUREMENTS.save(profile, measurement.key, current[measurement.key])
    return current


def report_rows(profile, saved=None):
    """Rows ``(measurement, our value or None)`` in the catalogue's order, from saved results."""
    saved = load_saved(profile) if saved is None else saved
    return [(measurement, saved.get(measurement.key, {}).get("value")) for measurement in catalogue.MEASUREMENTS]


def seed_values(profile, saved=None):
    """``{recipe: {"clean": [...], "fgsm": [...]}}``: the seed study's saved accuracies, seed by seed.

    Never trains or measures; a seed not yet measured is left out.
    """
    saved = load_saved(profile) if saved is None else saved
    return {
        recipe: {
            metric: [saved[f"{name}.{metric}"]["value"] for name in names if f"{name}.{metric}" in saved]
            for metric in ("clean", "fgsm")
        }
        for recipe, names in registry.SEED_STUDY.items()
    }

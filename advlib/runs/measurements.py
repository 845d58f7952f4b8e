"""Computing and saving the numbers of :mod:`advlib.plan.catalogue`.

:func:`compute` turns one :class:`advlib.plan.catalogue.Measurement` into a float: it builds
the measured view (and the source view an attack is crafted on), runs the attack through
:mod:`advlib.attacks.registry` and evaluates. :func:`measure` computes what is missing and
saves each number as soon as it exists in ``measurements.json``
(:data:`advlib.results.store.MEASUREMENTS`), with the config hashes of the models it came from,
so a retrained model's numbers are measured again and a stale one is never read.
"""

import time

import numpy as np

from advlib.plan import catalogue, registry
from advlib.results import measured, store
from advlib.runs import experiments


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
    from advlib.attacks import registry as attack_registry
    from advlib.evaluation import metrics

    profile = registry.get_profile(profile)
    missing = [name for name in measurement.models if name not in models_by_name]
    if missing:
        raise ValueError(f"{measurement.key!r} needs the model(s) {missing}: pass them in models_by_name")
    x, y = images_for(measurement, data, profile)
    target = experiments.build_view(measurement.view, profile, models_by_name[measurement.view.name])
    if measurement.metric == "zero_gradients":
        return metrics.gradient_norms(target, x, y).zero_fraction
    # A transfer or cross-set row crafts its images on the source view alone, so the
    # target's gradients never matter.
    source = target
    if measurement.source is not None:
        source = experiments.build_view(measurement.source, profile, models_by_name[measurement.source.name])
    x_adv = attack_registry.run(measurement.attack, source, x, y, profile.eps, seed=profile.seed, **measurement.options)
    if measurement.metric == "unchanged":
        return float(np.mean(np.all(x_adv == x, axis=(1, 2, 3))))
    return metrics.accuracy(target, x_adv, y)





def measure(profile, only=None, *, keys=None, train=True, verbose=None, skip_unsaved=False, saved=None):
    """Compute every measurement (or those that use a model in ``only``, or those in ``keys``) not yet saved.

    Trains missing models when ``train`` is true; with ``skip_unsaved`` a measurement
    that needs a model not yet saved is left for later instead (``reproduce`` measures a
    transfer row once both its models exist). ``saved``: :func:`advlib.results.measured.load_saved`'s dict if the
    caller has just read it (not copied from an earlier call: it decides what is measured);
    otherwise it is read here. Returns the current saved entries.
    """
    profile = registry.get_profile(profile)
    for key in keys or ():
        catalogue.get(key)  # A ValueError naming the catalogue for an unknown key.
    # A copy: the entries measured below are added to it, never to the caller's dict.
    current = measured.load_saved(profile) if saved is None else dict(saved)
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



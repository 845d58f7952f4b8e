"""The saved measurements, read back: current values, the comparison rows and the seed study.

Reading only: nothing here trains, attacks or imports TensorFlow. :mod:`advlib.runs.measurements`
computes the numbers of :mod:`advlib.plan.catalogue` and saves them in
:data:`advlib.results.store.MEASUREMENTS`.
"""

from advlib.plan import catalogue, registry
from advlib.results import store

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
def comparison_rows(profile, saved=None):
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

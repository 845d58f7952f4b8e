"""Chapter 10's worst-case studies: :mod:`advlib.evaluation.worst_case` on every view, computed once and saved.

:func:`worst_case_study` runs the AutoAttack-style suite on a fixed, stratified subset of
the test set (:func:`subset_for`); :func:`reference_study` runs chapter 9's attacks
(FGSM, 10-step PGD and, for a random view, EOT-PGD) on the same images, so the two can
be compared image set for image set. Both are saved in ``studies.json`` like the sweeps
and audits of :mod:`advlib.runs.studies`, under keys that hash every parameter and model.

On the full profile the subset has 250 images of each class, 2,500 in all: the 95%
Wilson interval of an accuracy near 0.5 is then at most ±0.0196, so every worst-case
number is known to within ±0.02. The quick and test profiles exist to run the code in
minutes; they use :data:`SMALL_PROFILE_OPTIONS`, and their numbers are no evaluation.

A full-profile worst case takes from twenty minutes to a few hours of 2-core CPU per
model, so chapter 10 computes it only where it is cheap (:func:`chapter_results`); on the
full profile it reads the shipped or saved studies, and ``python -m advlib reproduce``
computes the missing ones.
"""

import hashlib

from advlib import validate
from advlib.plan import registry
from advlib.results import keys, store
from advlib.runs import experiments, studies
from advlib.runs.progress import meter

# The full profile's suite options: AutoAttack's 100 APGD steps and 9 target classes,
# 1,000 Square queries (AutoAttack uses 5,000; our CPU budget), 10 EOT draws per step.
FULL_OPTIONS = dict(per_class=250, steps=100, queries=1000, target_classes=9, eot_samples=10)
# Every other profile: a few images and steps, enough to exercise each attack.
SMALL_PROFILE_OPTIONS = dict(per_class=20, steps=10, queries=100, target_classes=3, eot_samples=2)
# The chapter's reference attacks on the worst-case subset (as its audits run them).
REFERENCE_OPTIONS = dict(pgd_steps=10, eot_samples=10)


def options_for(profile):
    """The worst-case options of ``profile``: :data:`FULL_OPTIONS` on full, else :data:`SMALL_PROFILE_OPTIONS`."""
    profile = registry.get_profile(profile)
    return dict(FULL_OPTIONS if profile.name == "full" else SMALL_PROFILE_OPTIONS)


def parameters(view, profile, options):
    """Check ``options`` and return everything besides the weights that determines a worst case."""
    from advlib.evaluation import worst_case

    for name in ("per_class", "steps", "queries", "target_classes", "eot_samples"):
        validate.positive_int(options[name], name)
    return dict(
        options,
        # The suite itself, so a changed suite is computed again.
        suite=[[label, name, dict(attack_options)] for label, name, attack_options in worst_case.SUITE],
        every_image=list(worst_case.EVERY_IMAGE),
        temperature=view.temperature,
        input_noise={"eps": view.noise, "seed": profile.seed} if view.noise is not None else None,
        subset={"seed": profile.seed, "per_class": options["per_class"], "stratified": True},
        attack_seed=profile.seed,
        format=studies.STUDY_FORMAT,
    )


def subset_for(data, per_class, seed):
    """Sorted test indices: ``per_class`` images of each class (all of the smallest class if it has fewer)."""
    import numpy as np

    from advlib.evaluation import worst_case

    smallest = int(np.bincount(data.y_test).min())
    return worst_case.stratified_subset(data.y_test, min(per_class, smallest), seed=seed)


def _images(parameters):
    def images(data):
        subset = subset_for(data, parameters["subset"]["per_class"], parameters["subset"]["seed"])
        return data.x_test[subset], data.y_test[subset], "test images (stratified)"

    return images


class _Progress:
    """The attacks of an unfinished worst case, kept in the results folder so a kill loses at most one.

    One JSON file per study key (``partial/<hash of the key>.json``): the key and, per
    finished attack, the indices of the images it broke. Removed once the study is saved.
    """

    def __init__(self, profile, key):
        self.key = key
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        self.path = store.profile_dir(profile) / "partial" / f"worst_case-{digest}.json"

    def load(self, size):
        """``{label: bool mask (size,)}`` of the attacks a killed run finished (empty if none)."""
        import numpy as np

        saved = store.read_json(self.path)
        if not saved or saved.get("key") != self.key or saved.get("size") != size:
            return {}
        finished = {}
        for label, indices in saved["broken"].items():
            mask = np.zeros(size, dtype=bool)
            mask[np.asarray(indices, dtype=int)] = True
            finished[label] = mask
        if finished:
            print(f"Resuming: {', '.join(finished)} finished before the last run stopped", flush=True)
        return finished

    def save(self, size):
        """The ``on_attack`` callback of :func:`advlib.evaluation.worst_case.evaluate`: add one attack's mask."""

        def on_attack(label, broken):
            import numpy as np

            saved = store.read_json(self.path)
            if not saved or saved.get("key") != self.key or saved.get("size") != size:
                saved = {"key": self.key, "size": size, "broken": {}}
            saved["broken"][label] = np.flatnonzero(broken).tolist()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            store.write_json_atomically(self.path, saved)

        return on_attack

    def remove(self):
        self.path.unlink(missing_ok=True)


def worst_case_study(view, profile, **options):
    """The :func:`advlib.evaluation.worst_case.evaluate` of ``view`` on the stratified subset, computed once and saved.

    ``options`` override :func:`options_for`: ``per_class`` (images per class), ``steps``
    (APGD), ``queries`` (Square), ``target_classes`` (APGD-T), ``eot_samples`` (gradient
    draws per step for a view with input noise). Returns a
    :class:`advlib.evaluation.worst_case.WorstCase` at the profile's eps.
    """
    from advlib.evaluation import worst_case

    profile = registry.get_profile(profile)
    chosen = parameters(view, profile, dict(options_for(profile), **options))
    # A full-profile worst case takes hours: each finished attack is kept until it is saved.
    progress = _Progress(profile, keys.study_key("worst_case", view, profile, chosen, [view.name])[0])

    def compute(x, y, parameters):
        model = experiments.build_view(view, profile)
        result = worst_case.evaluate(
            model, x, y, profile.eps, seed=profile.seed,
            samples=parameters["eot_samples"] if view.noise is not None else 1,
            steps=parameters["steps"], queries=parameters["queries"], target_classes=parameters["target_classes"],
            finished=progress.load(len(x)), on_attack=progress.save(len(x)),
        )
        return result.to_dict(), {}

    entry = studies.saved_study("worst_case", view, profile, chosen, [view.name], _images(chosen), compute)
    progress.remove()
    return worst_case.WorstCase.from_dict(entry)


def reference_parameters(view, profile, per_class=None):
    """Everything besides the weights that determines :func:`reference_study`'s result."""
    profile = registry.get_profile(profile)
    per_class = options_for(profile)["per_class"] if per_class is None else validate.positive_int(per_class, "per_class")
    return dict(
        REFERENCE_OPTIONS,
        temperature=view.temperature,
        input_noise={"eps": view.noise, "seed": profile.seed} if view.noise is not None else None,
        subset={"seed": profile.seed, "per_class": per_class, "stratified": True},
        attack_seed=profile.seed,
        format=studies.STUDY_FORMAT,
    )


def reference_study(view, profile, per_class=None):
    """Clean, FGSM, PGD and (for a view with input noise) EOT-PGD accuracy on the worst-case subset.

    The attacks and their settings are chapter 9's (:data:`REFERENCE_OPTIONS`: 10 PGD
    steps from a random start, 10 noise draws per EOT step), at the profile's eps and seed.
    Returns ``{"clean", "fgsm", "pgd", "eot_pgd"}`` accuracies in [0, 1] (``eot_pgd`` is
    None for a deterministic view), computed once and saved.
    """
    from advlib.attacks import registry as attack_registry
    from advlib.evaluation import metrics

    profile = registry.get_profile(profile)
    chosen = reference_parameters(view, profile, per_class)

    def compute(x, y, parameters):
        model = experiments.build_view(view, profile)
        eps, seed = profile.eps, profile.seed
        result = {"clean": metrics.accuracy(model, x, y)}
        result["fgsm"] = metrics.accuracy(model, attack_registry.run("fgsm", model, x, y, eps, seed=seed), y)
        x_pgd = attack_registry.run("pgd", model, x, y, eps, steps=parameters["pgd_steps"], seed=seed)
        result["pgd"] = metrics.accuracy(model, x_pgd, y)
        result["eot_pgd"] = None
        if view.noise is not None:
            x_eot = attack_registry.run(
                "eot_pgd", model, x, y, eps, steps=parameters["pgd_steps"], samples=parameters["eot_samples"], seed=seed
            )
            result["eot_pgd"] = metrics.accuracy(model, x_eot, y)
        return result, {}

    return studies.saved_study("worst_case_reference", view, profile, chosen, [view.name], _images(chosen), compute)


KINDS = ("worst_case", "worst_case_reference")


def saved_entry(kind, view, profile, saved=None):
    """The saved entry of chapter 10's ``kind`` (one of :data:`KINDS`) study of ``view``, or None.

    Only an entry computed with the profile's chapter options and the current model counts;
    ``saved`` is :func:`advlib.runs.studies.load_saved`'s dict, to read the file once for many views.
    """
    validate.one_of(kind, "kind", KINDS)
    profile = registry.get_profile(profile)
    saved = studies.load_saved(profile) if saved is None else saved
    if kind == "worst_case":
        chosen = parameters(view, profile, options_for(profile))
    else:
        chosen = reference_parameters(view, profile)
    return saved.get(keys.study_key(kind, view, profile, chosen, [view.name])[0])


def computes_in_chapter(profile):
    """Whether chapter 10 computes missing worst cases itself: on every profile but full."""
    return registry.get_profile(profile).name != "full"


def chapter_results(profile):
    """``(found, missing)``: ``{label: (WorstCase, reference)}`` of chapter 10's views, and the labels without one.

    On a profile where :func:`computes_in_chapter` is true every view is computed or
    loaded, so ``missing`` is empty; on full only saved studies are read.
    """
    from advlib.evaluation import worst_case

    profile = registry.get_profile(profile)
    if computes_in_chapter(profile):
        return run_all(profile, verbose=False), []
    saved = studies.load_saved(profile)
    found, missing = {}, []
    for view in registry.audit_views():
        result = saved_entry("worst_case", view, profile, saved)
        reference = saved_entry("worst_case_reference", view, profile, saved)
        if result is None or reference is None:
            missing.append(view.label)
        else:
            found[view.label] = (worst_case.WorstCase.from_dict(result["result"]), reference["result"])
    return found, missing


def run_all(profile, *, verbose=True):
    """The worst case and the reference attacks of every view chapter 9 audits, computed or loaded for chapter 10.

    Returns ``{label: (WorstCase, reference dict)}`` in chapter order.
    """
    profile = registry.get_profile(profile)
    views, found = registry.audit_views(), {}
    with meter(len(views), "the worst cases") as progress:
        for index, view in enumerate(views, start=1):
            if verbose:
                print(f"== worst case {index} of {len(views)}: {view.label}; {progress}", flush=True)
            found[view.label] = (worst_case_study(view, profile), reference_study(view, profile))
            progress.update()
    return found

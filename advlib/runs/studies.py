"""Eps sweeps and masking audits of registry views, computed once and saved.

Chapter 9 attacks every main model with FGSM and PGD at several eps and runs the
gradient-masking audit of :mod:`advlib.evaluation.audit` on each; on the full profile that is many
minutes of CPU. :func:`eps_sweep` and :func:`audit_model` compute one such study of a
:class:`advlib.plan.registry.View` on the profile's attack subset
(:func:`advlib.runs.measurements.attack_subset`) and save it in ``studies.json``
(:data:`advlib.results.store.STUDIES`); later calls, the book and ``python -m advlib report``
read it back.

A study is saved under a key made of its kind, the view's label and a hash of
everything that determines its result: the config hash of every model involved (the
model and, for an audit, the surrogate), the view (temperature, input noise) and every
attack parameter. A retrained model or a changed parameter therefore gives another key
and is computed again; a stale entry is never read.
"""

import time
from dataclasses import dataclass

from advlib import validate
from advlib.evaluation.audit import DEFAULT_EPS_VALUES as AUDIT_EPS_VALUES
from advlib.plan import catalogue, registry
from advlib.plan.registry import View
from advlib.results import keys, store
from advlib.runs import experiments, measurements
from advlib.runs.progress import meter

# The audit's eps values (1/255 up to the 8/255 common for CIFAR-10), and 0, which gives
# the clean accuracy.
DEFAULT_EPS_VALUES = (0.0, *AUDIT_EPS_VALUES)
# Attacks of the eps sweep, by their names in advlib.attacks.registry.
SWEEP_ATTACKS = ("fgsm", "pgd")
# Bumped when the way a study is computed changes, so old entries are not read.
STUDY_FORMAT = 1
# The kinds saved_chapter_study reads; advlib.runs.worst_case_studies keeps its own.
KINDS = ("sweep", "audit")
# The ``subset`` parameter of a study that runs on every test image.
WHOLE_TEST_SET = "whole test set"


@dataclass(frozen=True)
class Sweep:
    """Accuracies of one view against eps: ``accuracy[attack][i]`` is at ``eps_values[i]``.

    ``eps_values`` is a tuple of floats in image units (e.g. ``4 / 255``), increasing;
    each ``accuracy[attack]`` a tuple of the same length with values in [0, 1].
    """

    label: str
    eps_values: tuple
    accuracy: dict

    def to_dict(self):
        """This sweep as JSON-serialisable data; :meth:`from_dict` rebuilds it."""
        accuracy = {attack: list(values) for attack, values in self.accuracy.items()}
        return {"label": self.label, "eps_values": list(self.eps_values), "accuracy": accuracy}

    @classmethod
    def from_dict(cls, data):
        accuracy = {attack: tuple(values) for attack, values in data["accuracy"].items()}
        return cls(data["label"], tuple(data["eps_values"]), accuracy)


def load_saved(profile):
    """Every saved study of ``profile``, ``{key: entry}``; the results folder wins over the shipped file."""
    return store.STUDIES.load(profile)


def _prepare(kind, view, profile, options):
    """Check a study's arguments before anything runs; return ``(parameters, models involved)``.

    ``parameters`` holds everything that determines the result besides the models'
    weights: the view, the subset, the attack seed and ``options`` (checked here).
    """
    from advlib.attacks import registry as attack_registry
    from advlib.evaluation import audit

    options = dict(options)
    validate.positive_int(options["pgd_steps"], "pgd_steps")
    options["eps_values"] = validate.eps_values(options["eps_values"], "eps_values")
    involved = [view.name]
    # The seeded attack subset (the default), or every test image.
    subset = {"seed": profile.seed, "sizes": [catalogue.SUBSET_SIZE, catalogue.REDUCED_SUBSET_SIZE]}
    if kind == "sweep":
        attacks = options["attacks"]
        if isinstance(attacks, str) or not attacks or any(attack not in attack_registry.ATTACKS for attack in attacks):
            raise ValueError(f"attacks must be a non-empty sequence of names in advlib.attacks.registry, got {attacks!r}")
        options["attacks"] = list(attacks)
        whole_test_set = options.pop("whole_test_set", False)
        if not isinstance(whole_test_set, bool):
            raise ValueError(f"whole_test_set must be True or False, got {whole_test_set!r}")
        subset = WHOLE_TEST_SET if whole_test_set else subset
    else:
        if options["surrogate"] is not None:
            registry.get_spec(options["surrogate"])
            involved += [options["surrogate"]] if options["surrogate"] != view.name else []
        options["eps"] = validate.eps_values([profile.eps if options["eps"] is None else options["eps"]], "eps")[0]
        # The audit's thresholds, so a change of its defaults recomputes the flags.
        options["thresholds"] = list(audit.THRESHOLDS)
        validate.positive_int(options["eot_samples"], "eot_samples", minimum=2)
    parameters = dict(
        options,
        temperature=view.temperature,
        input_noise={"eps": view.noise, "seed": profile.seed} if view.noise is not None else None,
        # The subset's seed and size rule (advlib.runs.measurements.attack_subset), or WHOLE_TEST_SET.
        subset=subset,
        attack_seed=profile.seed,
        format=STUDY_FORMAT,
    )
    return parameters, involved


def _study(kind, view, profile, options, compute):
    """The saved result of a study if current, else ``compute(x, y, parameters)``'s, saved first."""
    parameters, involved = _prepare(kind, view, profile, options)

    def images(data):
        if parameters["subset"] == WHOLE_TEST_SET:
            return data.x_test, data.y_test, "test images"
        else:
            subset = measurements.attack_subset(data, profile)
        return data.x_test[subset], data.y_test[subset], "test images"

    return saved_study(kind, view, profile, parameters, involved, images, compute)


def saved_study(kind, view, profile, parameters, involved, images, compute):
    """The saved result of a study if it is current, else compute it, save it and return it.

    The one place studies are looked up and saved; :mod:`advlib.runs.analyses` uses it too.

    Args:
        kind: the study's kind (the first part of its key), e.g. ``"sweep"``.
        view: the :class:`advlib.plan.registry.View` studied (its label is in the key).
        profile: a :class:`advlib.plan.registry.Profile`.
        parameters: a JSON-serialisable dict of everything besides the models' weights
            that determines the result (hashed into the key).
        involved: the registry models the result depends on (their config hashes are in the key).
        images: ``images(data) -> (x, y, what)``, the images to run on and what they are
            ("test images"), called only when the study is computed.
        compute: ``compute(x, y, parameters) -> (result, notes)``, both JSON-serialisable.

    Returns:
        the saved ``result``.
    """
    key, description = keys.study_key(kind, view, profile, parameters, involved)
    saved = load_saved(profile).get(key)
    if saved is not None:
        return saved["result"]
    data = experiments.load_data(profile)
    x, y, what = images(data)
    print(f"Computing the {kind} of {view.label} on {len(x)} {what} ({profile.name} profile)", flush=True)
    started = time.time()
    result, notes = compute(x, y, parameters)
    entry = dict(
        description,
        label=view.label,
        result=result,
        notes=notes,
        subset_size=int(len(x)),
        data_source=data.source,
        wall_time_seconds=time.time() - started,
        finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        versions=store.library_versions(),
    )
    store.STUDIES.save(profile, key, entry)
    return result


# The arguments chapter 9, run_all and saved_chapter_study use (the functions' defaults);
# the worst case's depend on the profile (advlib.runs.worst_case_studies.options_for).
CHAPTER_OPTIONS = {
    "sweep": dict(eps_values=DEFAULT_EPS_VALUES, attacks=SWEEP_ATTACKS, pgd_steps=10),
    "audit": dict(surrogate="surrogate", eps=None, eps_values=AUDIT_EPS_VALUES, pgd_steps=10, eot_samples=10),
}


def eps_sweep(view, profile, **options):
    """Accuracy of ``view`` under each attack at each eps, computed on the attack subset once and saved.

    Args:
        view: a :class:`advlib.plan.registry.View` (its model is trained if missing).
        profile: a profile name or :class:`advlib.plan.registry.Profile`.
        options: override :data:`CHAPTER_OPTIONS` ``["sweep"]``: ``eps_values`` (>= 0 in
            image units; sorted, duplicates dropped; at eps = 0 every attack returns the
            clean images, so the clean accuracy is used), ``attacks`` (names in
            :mod:`advlib.attacks.registry`), ``pgd_steps`` (steps of an iterative attack,
            step ``2.5 * eps / steps`` from a random start seeded by the profile's seed),
            ``whole_test_set`` (True: every test image instead of the attack subset).

    Returns:
        a :class:`Sweep` on the :func:`advlib.runs.measurements.attack_subset` images, or on
        the whole test set.
    """
    from advlib.attacks import registry as attack_registry
    from advlib.evaluation import metrics

    profile = registry.get_profile(profile)
    options = dict(CHAPTER_OPTIONS["sweep"], **options)

    def compute(x, y, parameters):
        model = experiments.build_view(view, profile)
        clean = metrics.accuracy(model, x, y)
        # The audit runs exactly this PGD on a deterministic view; reuse its curve if saved.
        reused, source = ({}, None) if view.noise is not None else _saved_audit_curve(view, profile, parameters)
        accuracy = {}
        for attack in parameters["attacks"]:
            row = []
            for eps in parameters["eps_values"]:
                if eps == 0.0:
                    row.append(clean)
                elif attack == "pgd" and eps in reused:
                    row.append(reused[eps])
                else:
                    x_adv = attack_registry.run(attack, model, x, y, eps, steps=parameters["pgd_steps"], seed=profile.seed)
                    row.append(metrics.accuracy(model, x_adv, y))
            accuracy[attack] = row
        notes = {"pgd_from_audit": source} if source and "pgd" in accuracy else {}
        return Sweep(view.label, parameters["eps_values"], accuracy).to_dict(), notes

    return Sweep.from_dict(_study("sweep", view, profile, options, compute))


def audit_model(view, profile, **options):
    """The :func:`advlib.evaluation.audit.audit` of ``view`` on the attack subset, computed once and saved.

    Args:
        view, profile: as for :func:`eps_sweep`.
        options: override :data:`CHAPTER_OPTIONS` ``["audit"]``: ``surrogate`` (the
            registry model whose FGSM and PGD examples are transferred; None skips the
            transfer check), ``eps`` (of the FGSM-versus-PGD and transfer checks; None:
            the profile's), ``eps_values`` (the audit's PGD curve; the largest is checked
            against the accuracy floor), ``pgd_steps``, ``eot_samples`` (draws per
            EOT-PGD step for the randomness check of random views).

    Returns:
        an :class:`advlib.evaluation.audit.AuditResult` on the :func:`advlib.runs.measurements.attack_subset` images.
    """
    from advlib.evaluation import audit

    profile = registry.get_profile(profile)
    options = dict(CHAPTER_OPTIONS["audit"], **options)

    def compute(x, y, parameters):
        model = experiments.build_view(view, profile)
        surrogate = parameters["surrogate"]
        surrogate_model = None if surrogate is None else experiments.load_or_train(surrogate, profile)
        report = audit.audit(
            model, x, y, eps=parameters["eps"], eps_values=parameters["eps_values"], surrogate=surrogate_model,
            pgd_steps=parameters["pgd_steps"], eot_samples=parameters["eot_samples"], seed=profile.seed,
        )
        return report.to_dict(), {}

    return audit.AuditResult.from_dict(_study("audit", view, profile, options, compute))


def _saved_audit_curve(view, profile, sweep_parameters):
    """``({eps: PGD accuracy}, key)`` from a current saved audit of ``view``, else ``({}, None)``."""
    model_hash = registry.model_hash(view.name, profile)
    # Everything that determines the PGD curve: the view, subset, seed, format and steps.
    wanted = {name: value for name, value in sweep_parameters.items() if name not in ("eps_values", "attacks")}
    for key, entry in load_saved(profile).items():
        parameters = entry.get("parameters", {})
        if (
            entry.get("kind") == "audit"
            and entry.get("model") == view.name
            and entry.get("models", {}).get(view.name) == model_hash
            and all(parameters.get(name) == value for name, value in wanted.items())
        ):
            return {float(eps): float(value) for eps, value in entry["result"]["pgd_accuracy_by_eps"]}, key
    return {}, None


def run_all(profile, *, verbose=True):
    """Compute (or load) every study chapter 9 shows, training missing models; return them.

    Audits run first: each sweep then reads its PGD curve from the audit of its view.
    Returns ``{"audit": {label: AuditResult}, "sweep": {label: Sweep}}`` in chapter order.
    """
    profile = registry.get_profile(profile)
    studies = [("audit", view) for view in registry.audit_views()] + [("sweep", view) for view in registry.sweep_views()]
    found = {"audit": {}, "sweep": {}}
    with meter(len(studies), "the studies") as progress:
        for index, (kind, view) in enumerate(studies, start=1):
            if verbose:
                print(f"== study {index} of {len(studies)}: {kind} of {view.label}; {progress}", flush=True)
            function = audit_model if kind == "audit" else eps_sweep
            found[kind][view.label] = function(view, profile)
            progress.update()
    if verbose:
        print(f"== {len(studies)} studies done in {progress.format_interval(progress.format_dict['elapsed'])}", flush=True)
    return found


def saved_chapter_study(kind, view, profile, saved=None):
    """The saved entry of chapter 9's ``kind`` ("sweep" or "audit") study of ``view``, or None.

    Only an entry computed with :data:`CHAPTER_OPTIONS` and the current models counts.
    ``saved`` is :func:`load_saved`'s dict, passed in to read the file once for many views.
    """
    validate.one_of(kind, "kind", KINDS)
    profile = registry.get_profile(profile)
    saved = load_saved(profile) if saved is None else saved
    parameters, involved = _prepare(kind, view, profile, CHAPTER_OPTIONS[kind])
    return saved.get(keys.study_key(kind, view, profile, parameters, involved)[0])

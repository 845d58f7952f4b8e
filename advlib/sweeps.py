"""Eps sweeps and masking audits of registry models, computed once and saved.

Chapter 9 attacks every registry model with FGSM and PGD at several eps and runs the
gradient-masking audit of :mod:`advlib.audit` on each; on the full profile that is many
minutes of CPU. :func:`eps_sweep` and :func:`audit_model` compute one such study on the
profile's attack subset (:func:`advlib.measurements.attack_subset`: at most 1,000 test
images on the full profile, 250 on the others) and save it in ``studies.json`` in the profile's results folder;
later calls, the book and ``python -m advlib report`` read it back.

A study is saved under a key made of its kind, the model view it attacks and a hash of
everything that determines its result: the config hash of every model involved (the
model and, for an audit, the surrogate), the view (temperature, input noise) and every
attack parameter. A retrained model or a changed parameter therefore gives another key
and is computed again; a stale entry is never read. Studies shipped with the package
(``advlib/pretrained/<profile>/studies.json``) are used when the results folder has none.

A *view* is what is attacked: a registry model at its own temperature, at another one
(``temperature=1.0`` for the T = 50 student, as the report tests it), and/or behind the
final model's input noise (``input_noise=True``: :func:`advlib.models.with_input_noise`
with the profile's eps and seed).
"""

import time
from dataclasses import dataclass

from advlib import experiments, measurements, results

# Eps in pixel units of 1/255 up to the 8/255 common for CIFAR-10; 0 gives the clean accuracy.
DEFAULT_EPS_VALUES = (0.0, 1 / 255, 2 / 255, 4 / 255, 8 / 255)
SWEEP_ATTACKS = ("fgsm", "pgd")
# The audit's PGD curve (its eps values without 0, as in advlib.audit).
AUDIT_EPS_VALUES = DEFAULT_EPS_VALUES[1:]
# Bumped when the way a study is computed changes, so old entries are not read.
STUDY_FORMAT = 1


@dataclass(frozen=True)
class View:
    """A registry model as attacked: ``temperature`` (None: its own) and optional input noise."""

    name: str
    temperature: float | None = None
    input_noise: bool = False

    @property
    def label(self):
        """A readable name, e.g. ``"dd_student_t50 at T = 1"`` or ``"final_student with input noise"``."""
        label = self.name
        if self.temperature is not None:
            label += f" at T = {self.temperature:g}"
        if self.input_noise:
            label += " with input noise"
        return label


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


def sweep_views():
    """The views chapter 9 sweeps: every registry model but the seed-study copies, the T = 50 student at T = 1."""
    return [View(name, temperature=1.0) if name == "dd_student_t50" else View(name) for name in experiments.MAIN_MODELS]


def audit_views():
    """The views chapter 9 audits: :func:`sweep_views` and the final model with input noise."""
    return sweep_views() + [View("final_student", input_noise=True)]


def saved_path(profile=None):
    """``studies.json`` in the profile's results folder: where studies are written (and published from)."""
    profile = experiments.get_profile(profile)
    return results.profile_dir(profile.name) / "studies.json"


def load_saved(profile=None):
    """Every saved study of the profile, ``{key: entry}``; the results folder wins over the shipped file."""
    profile = experiments.get_profile(profile)
    studies = {}
    # Shipped with the package (by `python -m advlib publish`) first, the results folder last.
    for path in (results.PRETRAINED_DIR / profile.name / "studies.json", saved_path(profile)):
        studies.update(results.read_json(path) or {})
    return studies


def _check_view(name, temperature, input_noise):
    experiments.get_spec(name)  # A ValueError naming the registry for an unknown model.
    if temperature is not None:
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 < temperature < float("inf"):
            raise ValueError(f"temperature must be None or a positive finite number, got {temperature!r}")
        temperature = float(temperature)
    if not isinstance(input_noise, bool):
        raise ValueError(f"input_noise must be True or False, got {input_noise!r}")
    return View(name, temperature, input_noise)


def _check_eps_values(eps_values, name):
    try:
        values = sorted({float(value) for value in eps_values})
    except (TypeError, ValueError):
        values = None
    if not values or not all(0.0 <= value < float("inf") for value in values):
        raise ValueError(f"{name} must be a non-empty sequence of non-negative finite numbers, got {eps_values!r}")
    return values


def _prepare(kind, name, profile, temperature, input_noise, **options):
    """Check a study's arguments before anything runs; return ``(profile, view, parameters, models involved)``.

    ``parameters`` holds everything that determines the result besides the models'
    weights: the view, the subset, the attack seed and ``options`` (checked here).
    """
    profile = experiments.get_profile(profile)
    view = _check_view(name, temperature, input_noise)
    steps = options["pgd_steps"]
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"pgd_steps must be an integer >= 1, got {steps!r}")
    options["eps_values"] = _check_eps_values(options["eps_values"], "eps_values")
    involved = [view.name]
    if kind == "sweep":
        attacks = options["attacks"]
        if isinstance(attacks, str) or not attacks or any(attack not in SWEEP_ATTACKS for attack in attacks):
            raise ValueError(f"attacks must be a non-empty sequence of {SWEEP_ATTACKS}, got {attacks!r}")
        options["attacks"] = list(attacks)
    else:
        from advlib import audit

        if options["surrogate"] is not None:
            experiments.get_spec(options["surrogate"])
            involved += [options["surrogate"]] if options["surrogate"] != view.name else []
        options["eps"] = _check_eps_values([profile.eps if options["eps"] is None else options["eps"]], "eps")[0]
        # The audit's thresholds, so a change of its defaults recomputes the flags.
        options["thresholds"] = [
            audit.DEFAULT_ZERO_GRADIENT_THRESHOLD,
            audit.DEFAULT_ONE_STEP_TOLERANCE,
            audit.DEFAULT_TRANSFER_TOLERANCE,
            audit.DEFAULT_ACCURACY_FLOOR,
            audit.DEFAULT_EOT_TOLERANCE,
        ]
        if isinstance(options["eot_samples"], bool) or not isinstance(options["eot_samples"], int) or options["eot_samples"] < 2:
            raise ValueError(f"eot_samples must be an integer >= 2, got {options['eot_samples']!r}")
    parameters = dict(
        options,
        temperature=view.temperature,
        input_noise={"eps": profile.eps, "seed": profile.seed} if view.input_noise else None,
        # The subset's seed and size rule (advlib.measurements.attack_subset).
        subset={"seed": profile.seed, "sizes": [measurements.SUBSET_SIZE, measurements.REDUCED_SUBSET_SIZE]},
        attack_seed=profile.seed,
        format=STUDY_FORMAT,
    )
    return profile, view, parameters, involved


def _study_key(kind, view, profile, parameters, involved):
    """``(key, description)``: the key names the kind and view and hashes everything that matters."""
    description = {
        "kind": kind,
        "model": view.name,
        "models": {name: results.config_hash(experiments.model_config(name, profile)) for name in involved},
        "parameters": parameters,
    }
    return f"{kind}/{view.label}/{results.config_hash(description)}", description


def _load_view(view, profile):
    from advlib import models

    model = experiments.load_or_train(view.name, profile)
    if view.temperature is not None:
        model = models.with_temperature(model, view.temperature)
    if view.input_noise:
        # A fresh, seeded noise layer per study, so a study's noise draws do not depend
        # on what ran before it in the same process.
        model = models.with_input_noise(model, profile.eps, seed=profile.seed)
    return model


def _study(kind, view, profile, parameters, involved, compute):
    """The saved result of a study if current, else ``compute(x, y)``'s, saved first."""
    key, description = _study_key(kind, view, profile, parameters, involved)
    saved = load_saved(profile).get(key)
    if saved is not None:
        return saved["result"]
    data = experiments.load_data(profile)
    subset = measurements.attack_subset(data, profile)
    x, y = data.x_test[subset], data.y_test[subset]
    print(f"Computing the {kind} of {view.label} on {len(x)} test images ({profile.name} profile)", flush=True)
    started = time.time()
    result, notes = compute(x, y)
    entry = dict(
        description,
        label=view.label,
        result=result,
        notes=notes,
        subset_size=int(len(x)),
        data_source=data.source,
        wall_time_seconds=time.time() - started,
        finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        versions=results.library_versions(),
    )
    # Merge on write: re-read the file and replace one key, so studies written meanwhile
    # (by another process) are kept.
    path = saved_path(profile)
    studies = results.read_json(path) or {}
    studies[key] = entry
    results.write_json_atomically(path, studies)
    return result


def eps_sweep(
    name, profile=None, *, eps_values=DEFAULT_EPS_VALUES, attacks=SWEEP_ATTACKS, pgd_steps=10, temperature=None, input_noise=False
):
    """Accuracy of registry model ``name`` (as a :class:`View`) under each attack at each eps, saved.

    Args:
        name: a registry model (trained with :func:`advlib.experiments.load_or_train` if missing).
        profile: a profile name or :class:`advlib.experiments.Profile` (None: the active one).
        eps_values: eps values >= 0 in image units; sorted, duplicates dropped. At eps = 0
            every attack returns the clean images, so the clean accuracy is used.
        attacks: a subset of ``("fgsm", "pgd")``; PGD has ``pgd_steps`` steps of
            ``2.5 * eps / pgd_steps`` from a random start seeded by the profile's seed.
        temperature, input_noise: the view attacked and evaluated (see the module docstring).

    Returns:
        a :class:`Sweep` on the :func:`advlib.measurements.attack_subset` images.
    """
    profile, view, parameters, involved = _prepare(
        "sweep", name, profile, temperature, input_noise, eps_values=eps_values, attacks=attacks, pgd_steps=pgd_steps
    )

    def compute(x, y):
        from advlib import attacks as basic_attacks
        from advlib import evaluation, strong_attacks

        model = _load_view(view, profile)
        batch_size = basic_attacks.DEFAULT_BATCH_SIZE
        clean = evaluation.accuracy(model, x, y, batch_size=batch_size)
        # The audit runs exactly this PGD on a deterministic view; reuse its curve if saved.
        reused, source = ({}, None) if view.input_noise else _saved_audit_curve(view, profile, parameters)
        accuracy = {}
        for attack in parameters["attacks"]:
            row = []
            for eps in parameters["eps_values"]:
                if eps == 0.0:
                    row.append(clean)
                elif attack == "pgd" and eps in reused:
                    row.append(reused[eps])
                else:
                    if attack == "fgsm":
                        x_adv = basic_attacks.fgsm(model, x, y, eps, batch_size=batch_size)
                    else:
                        x_adv = strong_attacks.pgd(
                            model, x, y, eps, steps=pgd_steps, seed=profile.seed, batch_size=batch_size
                        )
                    row.append(evaluation.accuracy(model, x_adv, y, batch_size=batch_size))
            accuracy[attack] = row
        notes = {"pgd_from_audit": source} if source and "pgd" in accuracy else {}
        return Sweep(view.label, parameters["eps_values"], accuracy).to_dict(), notes

    return Sweep.from_dict(_study("sweep", view, profile, parameters, involved, compute))


def audit_model(
    name,
    profile=None,
    *,
    temperature=None,
    input_noise=False,
    surrogate="surrogate",
    eps=None,
    eps_values=AUDIT_EPS_VALUES,
    pgd_steps=10,
    eot_samples=10,
):
    """The :func:`advlib.audit.audit` of registry model ``name`` (as a :class:`View`), saved.

    Args:
        name, profile, temperature, input_noise: as for :func:`eps_sweep`.
        surrogate: the registry model whose FGSM and PGD examples are transferred
            (None: the transfer check is skipped).
        eps: the eps of the FGSM-versus-PGD and transfer checks (None: the profile's, 0.01).
        eps_values: the eps values >= 0 of the audit's PGD curve; the largest is checked
            against the audit's accuracy floor.
        pgd_steps: PGD steps; the random start is seeded by the profile's seed.
        eot_samples: draws per EOT-PGD step for the randomness check (random views only).

    Returns:
        an :class:`advlib.audit.AuditReport` on the :func:`advlib.measurements.attack_subset` images.
    """
    from advlib import audit

    profile, view, parameters, involved = _prepare(
        "audit", name, profile, temperature, input_noise,
        surrogate=surrogate, eps=eps, eps_values=eps_values, pgd_steps=pgd_steps, eot_samples=eot_samples,
    )

    def compute(x, y):
        model = _load_view(view, profile)
        surrogate_model = None if surrogate is None else experiments.load_or_train(surrogate, profile)
        report = audit.audit(
            model, x, y, eps=parameters["eps"], eps_values=parameters["eps_values"], surrogate=surrogate_model,
            pgd_steps=pgd_steps, eot_samples=eot_samples, seed=profile.seed,
        )
        return report.to_dict(), {}

    return audit.AuditReport.from_dict(_study("audit", view, profile, parameters, involved, compute))


def _saved_audit_curve(view, profile, sweep_parameters):
    """``({eps: PGD accuracy}, key)`` from a current saved audit of ``view``, else ``({}, None)``."""
    model_hash = results.config_hash(experiments.model_config(view.name, profile))
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


# The arguments chapter 9, run_all and saved_chapter_study use (the functions' defaults).
CHAPTER_OPTIONS = {
    "sweep": dict(eps_values=DEFAULT_EPS_VALUES, attacks=SWEEP_ATTACKS, pgd_steps=10),
    "audit": dict(surrogate="surrogate", eps=None, eps_values=AUDIT_EPS_VALUES, pgd_steps=10, eot_samples=10),
}


def run_all(profile=None, *, verbose=True):
    """Compute (or load) every study chapter 9 shows, training missing models; return them.

    Audits run first: each sweep then reads its PGD curve from the audit of its view.
    ``verbose`` prints a progress line per study (a computed study always says so).
    Returns ``{"audit": {label: AuditReport}, "sweep": {label: Sweep}}`` in chapter order.
    """
    profile = experiments.get_profile(profile)
    studies = [("audit", view) for view in audit_views()] + [("sweep", view) for view in sweep_views()]
    started, found = time.time(), {"audit": {}, "sweep": {}}
    for index, (kind, view) in enumerate(studies, start=1):
        if verbose:
            print(f"== study {index} of {len(studies)}: {kind} of {view.label}; elapsed {time.time() - started:.0f} s", flush=True)
        function = audit_model if kind == "audit" else eps_sweep
        options = dict(CHAPTER_OPTIONS[kind], temperature=view.temperature, input_noise=view.input_noise)
        found[kind][view.label] = function(view.name, profile, **options)
    if verbose:
        print(f"== {len(studies)} studies done in {time.time() - started:.0f} s", flush=True)
    return found


def saved_chapter_study(kind, view, profile=None, saved=None):
    """The saved entry of chapter 9's ``kind`` ("sweep" or "audit") study of ``view``, or None.

    Only an entry computed with :data:`CHAPTER_OPTIONS` and the current models counts.
    ``saved`` is :func:`load_saved`'s dict, passed in to read the file once for many views.
    """
    if kind not in CHAPTER_OPTIONS:
        raise ValueError(f"kind must be one of {tuple(CHAPTER_OPTIONS)}, got {kind!r}")
    profile = experiments.get_profile(profile)
    saved = load_saved(profile) if saved is None else saved
    options = dict(CHAPTER_OPTIONS[kind])
    _, _, parameters, involved = _prepare(kind, view.name, profile, view.temperature, view.input_noise, **options)
    return saved.get(_study_key(kind, view, profile, parameters, involved)[0])

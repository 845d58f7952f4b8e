"""Every number the report gives about its models, with the code that measures ours.

Each :class:`Measurement` knows the report's value, the registry models it needs and
how to compute our value on the profile's test set. Results are saved in
``measurements.json`` in the profile's results folder together with the config hashes
of the models they came from, so a retrained model's numbers are measured again.

Beyond the report's numbers there are two groups of rows. The seed study ("Error
bars") measures the registry's seed copies (:data:`advlib.experiments.SEED_STUDY`);
:func:`seed_summary` and :func:`gap_versus_spread` turn them into means, standard
deviations and a verdict on the report's Table 2 gap. The strong-attack rows ("Beyond
the report": PGD, EOT-PGD, transfer) run on :func:`attack_subset`, a fixed seeded subset
of the test set, so they stay affordable on a CPU.
"""

import contextlib
import time
from dataclasses import dataclass, field

import numpy as np

from advlib import error_bars, experiments, results
from advlib.error_bars import GapVerdict, SeedStatistic  # noqa: F401 (re-exported)

try:
    import fcntl
except ImportError:  # fcntl is POSIX only; on Windows saves still merge but are not locked.
    fcntl = None

# Attacks on the subset: at most this many test images (fewer on reduced profiles).
SUBSET_SIZE = 1000
REDUCED_SUBSET_SIZE = 250
PGD_STEPS = 10
# What `compute` knows how to measure; "noise_" kinds attack the model with input noise.
KINDS = (
    "clean", "fgsm", "random_sign", "zero_gradients", "cross", "pgd", "eot_pgd", "transfer_pgd",
    "noise_clean", "noise_fgsm", "noise_pgd", "noise_eot_pgd",
)


@dataclass(frozen=True)
class Measurement:
    """One number: ``report`` is the report's value (``None`` where it gives none)."""

    key: str
    section: str
    description: str
    models: tuple
    kind: str
    report: float | None = None
    report_note: str = ""
    options: dict = field(default_factory=dict)


def _m(key, section, description, models, kind, report=None, note="", **options):
    if kind not in KINDS:
        raise ValueError(f"unknown measurement kind {kind!r} for {key!r}: choose one of {', '.join(KINDS)}")
    if kind == "transfer_pgd" and len(models) != 2:
        raise ValueError(f"{key!r}: a transfer measurement lists the target first and the source model second")
    return Measurement(key, section, description, tuple(models), kind, report, note, options)


def _seed_rows():
    rows = []
    for recipe, names in experiments.SEED_STUDY.items():
        for number, name in enumerate(names, start=1):
            label = f"{recipe} seed {number} (quarter of the epochs)"
            rows.append(_m(f"{name}.clean", "Error bars", f"{label}, clean", [name], "clean", note="not run"))
            rows.append(_m(f"{name}.fgsm", "Error bars", f"{label}, its FGSM set", [name], "fgsm", note="not run"))
    return rows


# Every strong-attack row says how many images it uses; all of them use attack_subset.
ON_SUBSET = f"(at most {SUBSET_SIZE:,} test images)"
SUBSET = {"subset": True}


def _robust_rows(name, label):
    """The numbers of a candidate for a defence that holds: clean, FGSM, PGD, EOT-PGD, transfer."""
    return [
        _m(f"{name}.clean", "Beyond the report", f"{label}, clean", [name], "clean", note="not run"),
        _m(f"{name}.fgsm", "Beyond the report", f"{label}, its FGSM set", [name], "fgsm", note="not run"),
        _m(f"{name}.fgsm_subset", "Beyond the report", f"{label}, FGSM {ON_SUBSET}", [name], "fgsm", note="not run", **SUBSET),
        _m(f"{name}.pgd", "Beyond the report", f"{label}, PGD {ON_SUBSET}", [name], "pgd", note="not run", **SUBSET),
        # The model is deterministic, so two samples per step already show whether EOT changes anything.
        _m(f"{name}.eot_pgd", "Beyond the report", f"{label}, EOT-PGD {ON_SUBSET}", [name], "eot_pgd", note="not run", samples=2, **SUBSET),
        _m(f"{name}.transfer_pgd", "Beyond the report", f"{label}, PGD from the surrogate {ON_SUBSET}", [name, "surrogate"], "transfer_pgd", note="not run", **SUBSET),
    ]


MEASUREMENTS = [
    _m("baseline.clean", "Section 5", "Baseline, clean test set", ["baseline"], "clean", 0.828),
    _m("baseline.fgsm", "Section 5", "Baseline, its FGSM set", ["baseline"], "fgsm", 0.204),
    _m("baseline.random_sign", "Section 5", "Baseline, random-sign control set", ["baseline"], "random_sign", 0.830),
    _m("random_at.clean", "Table 2", "Random adversarial training, clean", ["random_at"], "clean", 0.830),
    _m("random_at.fgsm", "Table 2", "Random adversarial training, its FGSM set", ["random_at"], "fgsm", 0.446),
    _m("per_epoch_at.clean", "Table 2", "Per-epoch adversarial training, clean", ["per_epoch_at"], "clean", 0.818),
    _m("per_epoch_at.fgsm", "Table 2", "Per-epoch adversarial training, its FGSM set", ["per_epoch_at"], "fgsm", 0.388),
    _m("random_every_epoch.clean", "Section 6 (proposed)", "Fresh random copies every epoch, clean", ["random_every_epoch"], "clean", note="not run"),
    _m("random_every_epoch.fgsm", "Section 6 (proposed)", "Fresh random copies every epoch, its FGSM set", ["random_every_epoch"], "fgsm", note="not run"),
    _m("dd_teacher_t50.clean", "Table 3", "Teacher (T = 50), clean", ["dd_teacher_t50"], "clean", 0.858),
    _m("dd_teacher_t50.fgsm", "Table 3", "Teacher (T = 50), its FGSM set", ["dd_teacher_t50"], "fgsm", 0.374),
    _m("dd_student_t50.clean", "Table 3", "Student (T = 50), clean", ["dd_student_t50"], "clean", 0.812),
    _m("dd_student_t50.fgsm", "Table 3", "Student (T = 50), its FGSM set", ["dd_student_t50"], "fgsm", 0.376),
    _m("dd_student_t1.clean", "Table 3", "Student at T = 1, clean", ["dd_student_t50"], "clean", 0.812, temperature=1.0),
    _m("dd_student_t1.fgsm", "Table 3", "Student at T = 1, its FGSM set", ["dd_student_t50"], "fgsm", 0.798, temperature=1.0),
    _m("dd_student_t1.zero_gradients", "Section 7.1", "Student at T = 1, share of exactly-zero FGSM gradients", ["dd_student_t50"], "zero_gradients", note="~all", temperature=1.0),
    _m("dd_student_t1.on_t50_set", "Section 7.1", "Student at T = 1 on the T = 50 student's FGSM set", ["dd_student_t50"], "cross", 0.376, temperature=1.0, attack_temperature=50.0),
    _m("random_at_t0.01.zero_gradients", "Section 7.1", "Random AT at T = 0.01, share of exactly-zero FGSM gradients", ["random_at"], "zero_gradients", note="many", temperature=0.01),
    _m("random_at_t0.01.fgsm", "Section 7.1", "Random AT at T = 0.01, its FGSM set", ["random_at"], "fgsm", temperature=0.01),
    _m("variant_teacher_t1.clean", "Table 4", "Variant teacher (T = 1), clean", ["variant_teacher_t1"], "clean", 0.869),
    _m("variant_teacher_t1.fgsm", "Table 4", "Variant teacher (T = 1), its FGSM set", ["variant_teacher_t1"], "fgsm", 0.351),
    _m("variant_student_t4.clean", "Table 4", "Variant student (T = 4), clean", ["variant_student_t4"], "clean", 0.821),
    _m("variant_student_t4.fgsm", "Table 4", "Variant student (T = 4), its FGSM set", ["variant_student_t4"], "fgsm", 0.448),
    _m("final_student.clean", "Section 8", "Final model, clean", ["final_student"], "clean", 0.786),
    _m("final_student.fgsm", "Section 8", "Final model, its FGSM set", ["final_student"], "fgsm", 0.488),
    _m("final_student_noise.clean", "Section 8", "Final model with input noise, clean", ["final_student"], "noise_clean"),
    _m("final_student_noise.fgsm", "Section 8", "Final model with input noise, its FGSM set", ["final_student"], "noise_fgsm", 0.598),
    _m("random_at_noise.clean", "Section 9", "Random AT with input noise, clean", ["random_at"], "noise_clean"),
    _m("random_at_noise.fgsm", "Section 9", "Random AT with input noise, its FGSM set", ["random_at"], "noise_fgsm", 0.601),
    _m("surrogate.clean", "Beyond the report", "Surrogate (baseline recipe, another seed), clean", ["surrogate"], "clean", note="not run"),
    # Stronger attacks (chapter 9), each on the same seeded subset of the test set.
    _m("baseline.pgd", "Beyond the report", f"Baseline, PGD {ON_SUBSET}", ["baseline"], "pgd", note="not run", **SUBSET),
    _m("random_at.pgd", "Beyond the report", f"Random AT, PGD {ON_SUBSET}", ["random_at"], "pgd", note="not run", **SUBSET),
    _m("per_epoch_at.pgd", "Beyond the report", f"Per-epoch AT, PGD {ON_SUBSET}", ["per_epoch_at"], "pgd", note="not run", **SUBSET),
    _m("dd_student_t1.fgsm_subset", "Beyond the report", f"Student at T = 1, FGSM {ON_SUBSET}", ["dd_student_t50"], "fgsm", note="not run", temperature=1.0, **SUBSET),
    _m("dd_student_t1.pgd", "Beyond the report", f"Student at T = 1, PGD at T = 1 {ON_SUBSET}", ["dd_student_t50"], "pgd", note="not run", temperature=1.0, **SUBSET),
    _m("dd_student_t1.pgd_t50", "Beyond the report", f"Student at T = 1, PGD at T = 50 {ON_SUBSET}", ["dd_student_t50"], "pgd", note="not run", temperature=1.0, attack_temperature=50.0, **SUBSET),
    _m("dd_student_t1.pgd_margin", "Beyond the report", f"Student at T = 1, PGD with the margin loss {ON_SUBSET}", ["dd_student_t50"], "pgd", note="not run", temperature=1.0, loss="margin", **SUBSET),
    _m("final_student_noise.fgsm_subset", "Beyond the report", f"Final model with input noise, FGSM {ON_SUBSET}", ["final_student"], "noise_fgsm", note="not run", **SUBSET),
    _m("final_student_noise.pgd", "Beyond the report", f"Final model with input noise, PGD {ON_SUBSET}", ["final_student"], "noise_pgd", note="not run", **SUBSET),
    _m("final_student_noise.eot_pgd", "Beyond the report", f"Final model with input noise, EOT-PGD {ON_SUBSET}", ["final_student"], "noise_eot_pgd", note="not run", samples=10, **SUBSET),
    _m("random_at_noise.eot_pgd", "Beyond the report", f"Random AT with input noise, EOT-PGD {ON_SUBSET}", ["random_at"], "noise_eot_pgd", note="not run", samples=10, **SUBSET),
    _m("dd_student_t1.transfer_pgd", "Beyond the report", f"Student at T = 1, PGD from the surrogate {ON_SUBSET}", ["dd_student_t50", "surrogate"], "transfer_pgd", note="not run", temperature=1.0, **SUBSET),
    _m("baseline.transfer_pgd", "Beyond the report", f"Baseline, PGD from the surrogate {ON_SUBSET}", ["baseline", "surrogate"], "transfer_pgd", note="not run", **SUBSET),
    *_robust_rows("robust_fast_at", "Fast adversarial training"),
    *_robust_rows("robust_fast_at_long", "Fast adversarial training, test eps, twice the epochs"),
    *_robust_rows("robust_fast_at_restart", "Fast adversarial training, continued for a second cycle"),
    *_seed_rows(),
]
MEASUREMENTS_BY_KEY = {measurement.key: measurement for measurement in MEASUREMENTS}


def attack_subset(data, profile):
    """Sorted indices ``(n,)`` of the seeded test subset the strong attacks run on.

    ``data`` needs ``x_test``; ``n`` is at most 1,000 on the full profile and 250 on the
    reduced ones (never more than the test set). It is chapter 9's subset, drawn
    without replacement with ``numpy.random.default_rng(profile.seed)``.
    """
    profile = experiments.get_profile(profile)
    total = len(data.x_test)
    size = min(SUBSET_SIZE if profile.name == "full" else REDUCED_SUBSET_SIZE, total)
    return np.sort(np.random.default_rng(profile.seed).choice(total, size=size, replace=False))


def _test_images(measurement, data, profile):
    if measurement.options.get("subset"):
        indices = attack_subset(data, profile)
        return data.x_test[indices], data.y_test[indices]
    return data.x_test, data.y_test


def compute(measurement, model, data, profile, source=None):
    """Our value of ``measurement`` (a float in [0, 1]) for a trained ``model``.

    Uses the profile's test set, or :func:`attack_subset` of it when the measurement's
    options say ``subset=True``. ``source`` is the model a transfer attack is crafted on
    (the measurement's second model); other kinds ignore it.
    """
    from advlib import attacks, evaluation, models, strong_attacks

    x, y = _test_images(measurement, data, profile)
    eps = profile.eps
    options = measurement.options
    temperature = options.get("temperature")
    target = models.with_temperature(model, temperature) if temperature is not None else model
    kind = measurement.kind
    if kind == "random_sign":
        return evaluation.accuracy(target, attacks.random_sign(x, eps, seed=profile.seed), y)
    if kind == "zero_gradients":
        return evaluation.gradient_norms(target, x, y).zero_fraction
    if kind == "cross":
        attacker = models.with_temperature(model, options["attack_temperature"])
        return evaluation.perturbed_accuracy(target, x, y, eps, attack_model=attacker)
    if kind == "transfer_pgd":
        if source is None:
            raise ValueError(f"{measurement.key!r} is a transfer attack: pass the source model it is crafted on")
        # Crafted on the source alone, as in chapter 9, so the target's gradients never matter.
        x_adv = strong_attacks.transfer(
            source, target, x, y, eps, attack=strong_attacks.pgd, steps=PGD_STEPS, seed=profile.seed
        )
        return evaluation.accuracy(target, x_adv, y)
    if kind.startswith("noise_"):
        # The noise is part of the defended model, so every attack goes through it (with
        # noise drawn at attack time) and the prediction draws fresh noise again.
        target = models.with_input_noise(target, eps, seed=profile.seed)
        kind = kind.removeprefix("noise_")
    if kind == "clean":
        return evaluation.accuracy(target, x, y)
    if kind == "fgsm":
        return evaluation.perturbed_accuracy(target, x, y, eps)
    if kind in ("pgd", "eot_pgd"):
        # PGD's random start is seeded with the profile's seed, as in chapter 9.
        x_adv = strong_attacks.eot_pgd(
            target,
            x,
            y,
            eps,
            samples=options.get("samples", 10) if kind == "eot_pgd" else 1,
            steps=PGD_STEPS,
            seed=profile.seed,
            temperature=options.get("attack_temperature"),
            loss=options.get("loss", "cross_entropy"),
        )
        return evaluation.accuracy(target, x_adv, y)
    raise ValueError(f"unknown measurement kind {measurement.kind!r}")


def _path(profile):
    return results.profile_dir(profile.name) / "measurements.json"


def _model_hashes(measurement, profile):
    return {name: results.config_hash(experiments.model_config(name, profile)) for name in measurement.models}


def load_saved(profile=None):
    """The saved measurements of a profile: ``{key: entry}``, only those still current.

    An entry is current when the config hashes it was measured with are those of the
    registry's models now. Measurements shipped with the package are used when the
    results folder has none.
    """
    profile = experiments.get_profile(profile)
    current = {}
    for path in (results.PRETRAINED_DIR / profile.name / "measurements.json", _path(profile)):
        for key, entry in (results.read_json(path) or {}).items():
            measurement = MEASUREMENTS_BY_KEY.get(key)
            if measurement and entry.get("models") == _model_hashes(measurement, profile):
                current[key] = entry
    return current


def measure(profile=None, only=None, *, train=True, verbose=None, skip_unsaved=False):
    """Compute every measurement (or those that use a model in ``only``) not yet saved.

    Trains missing models when ``train`` is true; with ``skip_unsaved`` a measurement
    that needs a model not yet saved is left for later instead (``reproduce`` measures a
    transfer row once both its models exist). Returns the current saved entries.
    """
    profile = experiments.get_profile(profile)
    current = load_saved(profile)
    data = experiments.load_data(profile)
    loaded = {}
    for measurement in MEASUREMENTS:
        if only and not set(measurement.models) & set(only):
            continue
        if measurement.key in current:
            continue
        if skip_unsaved and not all(experiments.is_saved(name, profile) for name in measurement.models):
            continue
        for name in measurement.models:
            if name not in loaded:
                loaded[name] = experiments.load_or_train(name, profile, verbose=verbose, train=train)
        target, *sources = (loaded[name] for name in measurement.models)
        started = time.time()
        value = compute(measurement, target, data, profile, source=sources[0] if sources else None)
        print(f"  {measurement.key}: {value:.4f}  ({time.time() - started:.1f} s)")
        current[measurement.key] = {
            "value": value,
            "models": _model_hashes(measurement, profile),
            "data_source": data.source,
            "test_size": int(len(_test_images(measurement, data, profile)[1])),
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        # Saved after each number, so an interrupted run keeps what it measured.
        save_entry(profile, measurement.key, current[measurement.key])
    return current


@contextlib.contextmanager
def _locked(path):
    """Hold an exclusive lock on ``path``'s lock file (a no-op where fcntl is missing)."""
    if fcntl is None:
        yield
        return
    with open(path.with_name(f".{path.name}.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save_entry(profile, key, entry):
    """Add one measurement ``entry`` (a JSON-serialisable dict) under ``key`` to measurements.json.

    The file is read again and only ``key`` changes, so entries another process wrote
    since this one started are kept; the write is atomic (a temporary file and a rename)
    and, between processes running this code, locked.
    """
    profile = experiments.get_profile(profile)
    path = _path(profile)
    with _locked(path):
        saved = results.read_json(path) or {}
        saved[key] = entry
        results.write_json_atomically(path, saved)


def report_rows(profile=None):
    """Rows ``(measurement, our value or None)`` in the report's order, from saved results."""
    saved = load_saved(profile)
    return [(measurement, saved.get(measurement.key, {}).get("value")) for measurement in MEASUREMENTS]


def seed_summary(profile=None):
    """``{recipe: {"clean": SeedStatistic, "fgsm": SeedStatistic}}`` of the seed study, from saved results.

    Never trains or measures: a seed not yet measured is left out of ``values`` (see
    :class:`advlib.error_bars.SeedStatistic`, whose ``count`` says how many there are).
    """
    saved = load_saved(profile)
    summary = {}
    for recipe, names in experiments.SEED_STUDY.items():
        summary[recipe] = {
            metric: error_bars.seed_statistic(
                saved[f"{name}.{metric}"]["value"] for name in names if f"{name}.{metric}" in saved
            )
            for metric in ("clean", "fgsm")
        }
    return summary


def gap_versus_spread(profile=None, metric="fgsm", first="random_at", second="per_epoch_at"):
    """Is Table 2's gap (``first`` minus ``second``, ``metric`` accuracy) larger than the seed spread?

    Returns an :class:`advlib.error_bars.GapVerdict` from the saved seed-study results
    (``larger_than_spread`` is ``None`` until both recipes have at least two seeds).
    """
    summary = seed_summary(profile)
    for recipe in (first, second):
        if recipe not in summary:
            raise ValueError(f"{recipe!r} is not in the seed study: choose from {', '.join(summary)}")
    if metric not in ("clean", "fgsm"):
        raise ValueError(f"metric must be 'clean' or 'fgsm', got {metric!r}")
    return error_bars.compare_seeds(
        summary[first][metric], summary[second][metric], first_name=first, second_name=second, metric=metric
    )


def data_sources(entries):
    """The data sources recorded in saved entries (of measurements or studies), as one string.

    Saved numbers may come from another source than the one this process would load (the
    shipped full-profile results were measured on the offline JPEG copy, a Colab reader
    loads the official data), so tables say where their numbers were measured.
    """
    sources = sorted({entry.get("data_source") or "not recorded" for entry in entries})
    return " and ".join(sources) if sources else "nothing saved yet"

"""Every number the report gives about its models, with the code that measures ours.

Each :class:`Measurement` knows the report's value, the registry models it needs and
how to compute our value on the profile's test set. Results are saved in
``measurements.json`` in the profile's results folder together with the config hashes
of the models they came from, so a retrained model's numbers are measured again.
"""

import time
from dataclasses import dataclass, field

from advlib import experiments, results


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
    return Measurement(key, section, description, tuple(models), kind, report, note, options)


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
    _m("robust_fast_at.clean", "Beyond the report", "Fast adversarial training, clean", ["robust_fast_at"], "clean", note="not run"),
    _m("robust_fast_at.fgsm", "Beyond the report", "Fast adversarial training, its FGSM set", ["robust_fast_at"], "fgsm", note="not run"),
]
MEASUREMENTS_BY_KEY = {measurement.key: measurement for measurement in MEASUREMENTS}


def compute(measurement, model, data, profile):
    """Our value of ``measurement`` for a trained ``model`` on the profile's test set."""
    from advlib import attacks, evaluation, models

    x, y, eps = data.x_test, data.y_test, profile.eps
    options = measurement.options
    temperature = options.get("temperature")
    target = models.with_temperature(model, temperature) if temperature is not None else model
    kind = measurement.kind
    if kind == "clean":
        return evaluation.accuracy(target, x, y)
    if kind == "fgsm":
        return evaluation.perturbed_accuracy(target, x, y, eps)
    if kind == "random_sign":
        return evaluation.accuracy(target, attacks.random_sign(x, eps, seed=profile.seed), y)
    if kind == "zero_gradients":
        return evaluation.gradient_norms(target, x, y).zero_fraction
    if kind == "cross":
        attacker = models.with_temperature(model, options["attack_temperature"])
        return evaluation.perturbed_accuracy(target, x, y, eps, attack_model=attacker)
    if kind in ("noise_clean", "noise_fgsm"):
        # The noise is part of the defended model, so FGSM attacks through it (with noise
        # drawn at attack time) and the prediction draws fresh noise again.
        noisy = models.with_input_noise(target, eps, seed=profile.seed)
        if kind == "noise_clean":
            return evaluation.accuracy(noisy, x, y)
        return evaluation.perturbed_accuracy(noisy, x, y, eps)
    raise ValueError(f"unknown measurement kind {kind!r}")


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


def measure(profile=None, only=None, *, train=True, verbose=None):
    """Compute every measurement (or those whose models are in ``only``) not yet saved.

    Trains missing models when ``train`` is true. Returns the current saved entries.
    """
    profile = experiments.get_profile(profile)
    saved = results.read_json(_path(profile)) or {}
    current = load_saved(profile)
    data = experiments.load_data(profile)
    loaded = {}
    for measurement in MEASUREMENTS:
        if only and not set(measurement.models) & set(only):
            continue
        if measurement.key in current:
            continue
        name = measurement.models[0]
        if name not in loaded:
            loaded[name] = experiments.load_or_train(name, profile, verbose=verbose, train=train)
        model = loaded[name]
        started = time.time()
        value = compute(measurement, model, data, profile)
        print(f"  {measurement.key}: {value:.4f}  ({time.time() - started:.1f} s)")
        saved[measurement.key] = current[measurement.key] = {
            "value": value,
            "models": _model_hashes(measurement, profile),
            "data_source": data.source,
            "test_size": int(len(data.x_test)),
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        # Saved after each number, so an interrupted run keeps what it measured.
        results.write_json_atomically(_path(profile), saved)
    return current


def report_rows(profile=None):
    """Rows ``(measurement, our value or None)`` in the report's order, from saved results."""
    saved = load_saved(profile)
    return [(measurement, saved.get(measurement.key, {}).get("value")) for measurement in MEASUREMENTS]


def format_report(profile=None):
    """The report's value beside ours for every measurement, as text, saying which are missing."""
    profile = experiments.get_profile(profile)
    rows = report_rows(profile)
    lines = [
        f"Report vs this run ({experiments.describe_profile(profile)})",
        f"{'section':<21} {'measurement':<62} {'report':>8} {'ours':>8}",
    ]
    missing = []
    for measurement, ours in rows:
        report = f"{measurement.report:.3f}" if measurement.report is not None else (measurement.report_note or "-")
        if ours is None:
            missing.append(measurement)
        ours_text = f"{ours:.3f}" if ours is not None else "missing"
        lines.append(f"{measurement.section:<21} {measurement.description:<62} {report:>8} {ours_text:>8}")
    if missing:
        names = sorted({name for measurement in missing for name in measurement.models})
        lines.append(
            f"{len(missing)} of {len(rows)} measurements missing; run: python -m advlib reproduce --profile {profile.name}"
            f" --only {' '.join(names)}"
        )
    else:
        lines.append(f"All {len(rows)} measurements present.")
    return "\n".join(lines)

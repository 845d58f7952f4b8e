"""Every number the book measures, as data: the report's values and the rows beyond the report.

A :class:`Measurement` names what is evaluated (a :class:`advlib.plan.registry.View`), the
attack that makes its images (a name in :mod:`advlib.attacks.registry`, crafted on the
view itself or on a ``source`` view for transfer and cross-set rows), the options of that
attack, the metric (accuracy, the share of exactly-zero gradients, or the share of
images the attack left unchanged), whether it runs
on the whole test set or the seeded attack subset, and the report's value. Nothing here
imports TensorFlow; :mod:`advlib.runs.measurements` computes and saves the values.

Adding a measurement is adding one row to :data:`MEASUREMENTS`.
"""

from dataclasses import dataclass, field

from advlib.plan import registry
from advlib.plan.registry import DEFAULT_NOISE, View

# Attacks on the subset: at most this many test images (fewer on reduced profiles).
SUBSET_SIZE = 1000
REDUCED_SUBSET_SIZE = 250
PGD_STEPS = 10
METRICS = ("accuracy", "zero_gradients", "unchanged")


@dataclass(frozen=True)
class Measurement:
    """One number: ``report`` is the report's value (``None`` where it gives none).

    ``view`` is evaluated on images made by ``attack`` (a registry name; "none" for
    clean images) with ``options``, crafted on ``source`` (another view) or, when
    ``source`` is ``None``, on ``view`` itself. ``metric`` is "accuracy",
    "zero_gradients" (the share of images whose FGSM gradient is exactly zero, taken on
    the clean images) or "unchanged" (the share of images the attack returned exactly
    as they were: an attack whose gradient is zero moves nothing). ``subset``: run on the
    seeded attack subset instead of the whole test set.
    """

    key: str
    section: str
    description: str
    view: View
    attack: str = "none"
    report: float | None = None
    report_note: str = ""
    source: View | None = None
    options: dict = field(default_factory=dict)
    metric: str = "accuracy"
    subset: bool = False

    def __post_init__(self):
        from advlib.attacks import registry as attack_registry

        if self.attack not in attack_registry.ATTACKS:
            raise ValueError(f"{self.key!r}: unknown attack {self.attack!r}; see advlib.attacks.registry.ATTACKS")
        if self.metric not in METRICS:
            raise ValueError(f"{self.key!r}: metric must be one of {METRICS}, got {self.metric!r}")

    @property
    def models(self):
        """The registry models this number depends on: the view's, then the source's if another."""
        names = [self.view.name]
        if self.source is not None and self.source.name not in names:
            names.append(self.source.name)
        return tuple(names)


def _m(key, section, description, view, attack="none", report=None, note="", **options):
    keywords = {name: options.pop(name) for name in ("source", "metric", "subset") if name in options}
    if isinstance(view, str):
        view = View(view)
    return Measurement(key, section, description, view, attack, report, note, options=options, **keywords)


ON_SUBSET = f"(at most {SUBSET_SIZE:,} test images)"
STRONG = dict(subset=True, note="not run")
PGD = dict(steps=PGD_STEPS, **STRONG)
T1_STUDENT = View("dd_student_t50", temperature=1.0)
NOISY_FINAL = View("final_student", noise=DEFAULT_NOISE)
NOISY_RANDOM_AT = View("random_at", noise=DEFAULT_NOISE)


def _seed_rows():
    rows = []
    for recipe, names in registry.SEED_STUDY.items():
        for number, name in enumerate(names, start=1):
            label = f"{recipe} seed {number} (quarter of the epochs)"
            rows.append(_m(f"{name}.clean", "Error bars", f"{label}, clean", name, note="not run"))
            rows.append(_m(f"{name}.fgsm", "Error bars", f"{label}, its FGSM set", name, "fgsm", note="not run"))
    return rows


def _robust_rows(name, label):
    """The numbers of a candidate for a defence that holds: clean, FGSM, PGD, EOT-PGD, transfer."""
    section = "Beyond the report"
    return [
        _m(f"{name}.clean", section, f"{label}, clean", name, note="not run"),
        _m(f"{name}.fgsm", section, f"{label}, its FGSM set", name, "fgsm", note="not run"),
        _m(f"{name}.fgsm_subset", section, f"{label}, FGSM {ON_SUBSET}", name, "fgsm", **STRONG),
        _m(f"{name}.pgd", section, f"{label}, PGD {ON_SUBSET}", name, "pgd", **PGD),
        # The model is deterministic, so two samples per step already show whether EOT changes anything.
        _m(f"{name}.eot_pgd", section, f"{label}, EOT-PGD {ON_SUBSET}", name, "eot_pgd", samples=2, **PGD),
        _m(f"{name}.transfer_pgd", section, f"{label}, PGD from the surrogate {ON_SUBSET}", name, "pgd",
           source=View("surrogate"), **PGD),
    ]


BEYOND = "Beyond the report"
MEASUREMENTS = [
    _m("baseline.clean", "Section 5", "Baseline, clean test set", "baseline", report=0.828),
    _m("baseline.fgsm", "Section 5", "Baseline, its FGSM set", "baseline", "fgsm", 0.204),
    _m("baseline.random_sign", "Section 5", "Baseline, random-sign control set", "baseline", "random_sign", 0.830),
    _m("random_at.clean", "Table 2", "Random adversarial training, clean", "random_at", report=0.830),
    _m("random_at.fgsm", "Table 2", "Random adversarial training, its FGSM set", "random_at", "fgsm", 0.446),
    _m("per_epoch_at.clean", "Table 2", "Per-epoch adversarial training, clean", "per_epoch_at", report=0.818),
    _m("per_epoch_at.fgsm", "Table 2", "Per-epoch adversarial training, its FGSM set", "per_epoch_at", "fgsm", 0.388),
    _m("random_every_epoch.clean", "Section 6 (proposed)", "Fresh random copies every epoch, clean", "random_every_epoch", note="not run"),
    _m("random_every_epoch.fgsm", "Section 6 (proposed)", "Fresh random copies every epoch, its FGSM set", "random_every_epoch", "fgsm", note="not run"),
    _m("dd_teacher_t50.clean", "Table 3", "Teacher (T = 50), clean", "dd_teacher_t50", report=0.858),
    _m("dd_teacher_t50.fgsm", "Table 3", "Teacher (T = 50), its FGSM set", "dd_teacher_t50", "fgsm", 0.374),
    _m("dd_student_t50.clean", "Table 3", "Student (T = 50), clean", "dd_student_t50", report=0.812),
    _m("dd_student_t50.fgsm", "Table 3", "Student (T = 50), its FGSM set", "dd_student_t50", "fgsm", 0.376),
    _m("dd_student_t1.clean", "Table 3", "Student at T = 1, clean", T1_STUDENT, report=0.812),
    _m("dd_student_t1.fgsm", "Table 3", "Student at T = 1, its FGSM set", T1_STUDENT, "fgsm", 0.798),
    _m("dd_student_t1.zero_gradients", "Section 7.1", "Student at T = 1, share of exactly-zero FGSM gradients",
       T1_STUDENT, note="~all", metric="zero_gradients"),
    _m("dd_student_t1.on_t50_set", "Section 7.1", "Student at T = 1 on the T = 50 student's FGSM set", T1_STUDENT,
       "fgsm", 0.376, source=View("dd_student_t50", temperature=50.0)),
    _m("random_at_t0.01.zero_gradients", "Section 7.1", "Random AT at T = 0.01, share of exactly-zero FGSM gradients",
       View("random_at", temperature=0.01), note="many", metric="zero_gradients"),
    _m("random_at_t0.01.fgsm", "Section 7.1", "Random AT at T = 0.01, its FGSM set", View("random_at", temperature=0.01), "fgsm"),
    # Chapter 6: the same T = 1 student attacked with FGSM computed three ways.
    _m("dd_student_t1.fgsm_unchanged", BEYOND, "Student at T = 1, share of images its FGSM left unchanged",
       T1_STUDENT, "fgsm", metric="unchanged"),
    _m("dd_student_t1.fgsm_t50", BEYOND, "Student at T = 1, FGSM with the softmax raised to T = 50",
       T1_STUDENT, "fgsm", temperature=50.0),
    _m("dd_student_t1.fgsm_t50_unchanged", BEYOND, "Student at T = 1, share left unchanged by FGSM at T = 50",
       T1_STUDENT, "fgsm", temperature=50.0, metric="unchanged"),
    _m("dd_student_t1.fgsm_logits", BEYOND, "Student at T = 1, FGSM on the logits", T1_STUDENT, "fgsm",
       from_logits=True),
    _m("dd_student_t1.fgsm_logits_unchanged", BEYOND, "Student at T = 1, share left unchanged by FGSM on the logits",
       T1_STUDENT, "fgsm", from_logits=True, metric="unchanged"),
    _m("variant_teacher_t1.clean", "Table 4", "Variant teacher (T = 1), clean", "variant_teacher_t1", report=0.869),
    _m("variant_teacher_t1.fgsm", "Table 4", "Variant teacher (T = 1), its FGSM set", "variant_teacher_t1", "fgsm", 0.351),
    _m("variant_student_t4.clean", "Table 4", "Variant student (T = 4), clean", "variant_student_t4", report=0.821),
    _m("variant_student_t4.fgsm", "Table 4", "Variant student (T = 4), its FGSM set", "variant_student_t4", "fgsm", 0.448),
    # Chapter 7: the variant's teacher and student under FGSM at the other's temperature and on the logits.
    _m("variant_teacher_t1.fgsm_t4", BEYOND, "Variant teacher (T = 1), FGSM with the softmax at T = 4",
       "variant_teacher_t1", "fgsm", temperature=4.0),
    _m("variant_teacher_t1.fgsm_logits", BEYOND, "Variant teacher (T = 1), FGSM on the logits",
       "variant_teacher_t1", "fgsm", from_logits=True),
    _m("variant_student_t4.fgsm_t1", BEYOND, "Variant student (T = 4), FGSM with the softmax at T = 1",
       "variant_student_t4", "fgsm", temperature=1.0),
    _m("variant_student_t4.fgsm_logits", BEYOND, "Variant student (T = 4), FGSM on the logits",
       "variant_student_t4", "fgsm", from_logits=True),
    _m("final_student.clean", "Section 8", "Final model, clean", "final_student", report=0.786),
    _m("final_student.fgsm", "Section 8", "Final model, its FGSM set", "final_student", "fgsm", 0.488),
    _m("final_student_noise.clean", "Section 8", "Final model with input noise, clean", NOISY_FINAL),
    _m("final_student_noise.fgsm", "Section 8", "Final model with input noise, its FGSM set", NOISY_FINAL, "fgsm", 0.598),
    _m("random_at_noise.clean", "Section 9", "Random AT with input noise, clean", NOISY_RANDOM_AT),
    _m("random_at_noise.fgsm", "Section 9", "Random AT with input noise, its FGSM set", NOISY_RANDOM_AT, "fgsm", 0.601),
    _m("surrogate.clean", BEYOND, "Surrogate (baseline recipe, another seed), clean", "surrogate", note="not run"),
    # Stronger attacks (chapters 9 to 11), each on the same seeded subset of the test set.
    _m("baseline.pgd", BEYOND, f"Baseline, PGD {ON_SUBSET}", "baseline", "pgd", **PGD),
    _m("random_at.pgd", BEYOND, f"Random AT, PGD {ON_SUBSET}", "random_at", "pgd", **PGD),
    _m("per_epoch_at.pgd", BEYOND, f"Per-epoch AT, PGD {ON_SUBSET}", "per_epoch_at", "pgd", **PGD),
    _m("dd_student_t1.fgsm_subset", BEYOND, f"Student at T = 1, FGSM {ON_SUBSET}", T1_STUDENT, "fgsm", **STRONG),
    _m("dd_student_t1.pgd", BEYOND, f"Student at T = 1, PGD at T = 1 {ON_SUBSET}", T1_STUDENT, "pgd", **PGD),
    _m("dd_student_t1.pgd_t50", BEYOND, f"Student at T = 1, PGD at T = 50 {ON_SUBSET}", T1_STUDENT, "pgd",
       temperature=50.0, **PGD),
    _m("dd_student_t1.pgd_margin", BEYOND, f"Student at T = 1, PGD with the margin loss {ON_SUBSET}", T1_STUDENT, "pgd",
       loss="margin", **PGD),
    _m("final_student_noise.fgsm_subset", BEYOND, f"Final model with input noise, FGSM {ON_SUBSET}", NOISY_FINAL, "fgsm", **STRONG),
    _m("final_student_noise.pgd", BEYOND, f"Final model with input noise, PGD {ON_SUBSET}", NOISY_FINAL, "pgd", **PGD),
    _m("final_student_noise.eot_pgd", BEYOND, f"Final model with input noise, EOT-PGD {ON_SUBSET}", NOISY_FINAL,
       "eot_pgd", samples=10, **PGD),
    _m("random_at_noise.eot_pgd", BEYOND, f"Random AT with input noise, EOT-PGD {ON_SUBSET}", NOISY_RANDOM_AT,
       "eot_pgd", samples=10, **PGD),
    _m("dd_student_t1.transfer_pgd", BEYOND, f"Student at T = 1, PGD from the surrogate {ON_SUBSET}", T1_STUDENT, "pgd",
       source=View("surrogate"), **PGD),
    _m("baseline.transfer_pgd", BEYOND, f"Baseline, PGD from the surrogate {ON_SUBSET}", "baseline", "pgd",
       source=View("surrogate"), **PGD),
    *_robust_rows("robust_fast_at", "Fast adversarial training"),
    *_robust_rows("robust_fast_at_long", "Fast adversarial training, test eps, twice the epochs"),
    *_robust_rows("robust_fast_at_restart", "Fast adversarial training, continued for a second cycle"),
    *_seed_rows(),
]
MEASUREMENTS_BY_KEY = {measurement.key: measurement for measurement in MEASUREMENTS}


def get(key):
    """The :class:`Measurement` with ``key``; ``ValueError`` pointing to the catalogue otherwise."""
    if key not in MEASUREMENTS_BY_KEY:
        raise ValueError(f"unknown measurement {key!r}; see advlib.plan.catalogue.MEASUREMENTS")
    return MEASUREMENTS_BY_KEY[key]


def report_value(key):
    """The report's value for measurement ``key`` (a float), ``ValueError`` if the report gives none."""
    value = get(key).report
    if value is None:
        raise ValueError(f"the report gives no value for {key!r}")
    return value


def report_fgsm(view):
    """The report's accuracy of ``view`` (a :class:`advlib.plan.registry.View`) under its own FGSM on the whole test set, or None."""
    for measurement in MEASUREMENTS:
        if (measurement.view == view and measurement.attack == "fgsm" and measurement.source is None
                and not measurement.options and not measurement.subset and measurement.metric == "accuracy"):
            return measurement.report
    return None

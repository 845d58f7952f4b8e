"""What the book trains and attacks, as plain data: profiles, model recipes, the seed study, views.

Nothing here imports TensorFlow, reads a file or trains anything, so the command line
(``python -m advlib report``), the tests and the expectations can use it cheaply.

* A :class:`Profile` (:mod:`advlib.plan.profiles`, re-exported here) sets how much data and training a run uses: ``full`` is the
  report's setting (all 50,000 training and 10,000 test images), ``quick`` a stratified
  subset for trying things and for CI, ``test`` a tiny one for the test suite. The
  profile is chosen once, at the edge (:func:`active_profile`, called by the command
  line and :func:`advlib.book.start`), and passed down as an object.
* A :class:`ModelSpec` is one registry model (:data:`MODELS`): its recipe, temperature,
  teacher, seed offset and epoch budget. :func:`model_config` is everything that
  determines its weights and :func:`model_hash` the 12-character hash of that, the
  model's identity in file names.
* A :class:`View` is a registry model *as attacked*: at its own or another softmax
  temperature, and optionally behind input noise of a given amplitude.
"""

import hashlib
import json
from dataclasses import asdict, dataclass
from functools import lru_cache

from advlib import validate
# Profiles live in advlib.plan.profiles; re-exported here, where most code looks for them.
from advlib.plan.profiles import PROFILES, Profile, active_profile, get_profile  # noqa: F401

REPORT = "Ari van Everdingen, Convolutional Neural Networks and Adversarial Examples (University of Victoria)"

# The report's CNN (Table 1) and the choices the report leaves open; part of every
# model's config hash, so a change of the architecture never loads stale weights.
ARCHITECTURE = "report-table-1/bn-momentum-0.9/dropout-0.2-0.3-0.4/relu-before-bn"



@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters shared by every recipe (:mod:`advlib.training`).

    The optimizer is Adam with a linear warm-up to ``learning_rate`` over
    ``warmup_epochs`` and a cosine decay to zero by the last epoch. The report does not
    give its optimizer or schedule; this one reaches its clean accuracy in few epochs.
    """

    epochs: int = 20
    batch_size: int = 128
    learning_rate: float = 2e-3
    warmup_epochs: int = 1
    seed: int = 0
    eps: float = 0.01

    def __post_init__(self):
        validate.positive_int(self.epochs, "epochs")
        validate.positive_int(self.batch_size, "batch_size")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate!r}")
        if not isinstance(self.warmup_epochs, int) or not 0 <= self.warmup_epochs < self.epochs:
            raise ValueError(f"warmup_epochs must be an integer in [0, epochs), got {self.warmup_epochs!r}")
        if not self.eps >= 0:
            raise ValueError(f"eps must be non-negative, got {self.eps!r}")

    def to_dict(self):
        return asdict(self)


# Recipes whose training function accepts ``initial_weights`` (see ModelSpec.start_from).
WARM_START_RECIPES = ("robust_fast_at",)


@dataclass(frozen=True)
class ModelSpec:
    """One registry model: its recipe, its softmax temperature and, for students, its teacher.

    ``cost`` is the epoch cost relative to the baseline, used for progress estimates.
    ``seed_offset`` is added to the profile's seed, so two models trained by the same
    recipe at the same temperature are independent runs, not one run done twice.
    ``epoch_fraction`` (in (0, 4]) scales the profile's epochs: the seed study trains
    with a quarter of them so that three seeds per recipe stay affordable, and the
    second robust candidate with twice as many.
    """

    name: str
    recipe: str
    description: str
    temperature: float = 1.0
    teacher: str | None = None
    cost: float = 1.0
    seed_offset: int = 0
    # Extra keyword arguments of the recipe, as (name, value) pairs (part of the config hash).
    options: tuple = ()
    epoch_fraction: float = 1.0
    # Scales the profile's peak learning rate; with 1 the config and its hash are unchanged.
    learning_rate_factor: float = 1.0
    # Another registry model whose trained weights this one starts from (a warm start).
    start_from: str | None = None
    # True: hold out a stratified part of the training set (holdout_per_class) and never
    # train on it; candidates are compared there, and the test set judges the chosen one once.
    holdout: bool = False

    def __post_init__(self):
        validate.number_in(self.epoch_fraction, f"epoch_fraction of {self.name!r}", 0.0, 4.0)
        validate.number_in(self.learning_rate_factor, f"learning_rate_factor of {self.name!r}", 0.0, 1.0)
        if self.start_from is not None and self.recipe not in WARM_START_RECIPES:
            raise ValueError(
                f"{self.name!r} has start_from={self.start_from!r}, but only the recipes "
                f"{', '.join(WARM_START_RECIPES)} can start from another model's weights"
            )


MODELS = {
    spec.name: spec
    for spec in (
        ModelSpec("baseline", "baseline", "Baseline CNN (report section 5)"),
        ModelSpec("random_at", "random_at", "Random adversarial training: random-sign copies made once (Table 2)", cost=2.0),
        ModelSpec("per_epoch_at", "per_epoch_at", "Per-epoch adversarial training: FGSM copies each epoch (Table 2)", cost=2.4),
        ModelSpec("random_every_epoch", "random_every_epoch", "Fresh random-sign copies every epoch (proposed in section 6)", cost=2.0),
        # The report says only that its teachers were "trained adversarially"; we use the
        # cheap random-sign training for the T = 50 teacher and per-epoch FGSM training for
        # the variant's teacher, so that the variant's teacher differs from random_at.
        ModelSpec("dd_teacher_t50", "random_at", "Defensive distillation teacher at T = 50 (Table 3)", temperature=50.0, cost=2.0),
        ModelSpec("dd_student_t50", "student", "Defensive distillation student at T = 50 (Table 3)", temperature=50.0, teacher="dd_teacher_t50"),
        ModelSpec("variant_teacher_t1", "per_epoch_at", "Variant teacher, trained at T = 1 (Table 4)", cost=2.4, seed_offset=1),
        ModelSpec("variant_student_t4", "student", "Variant student at T = 4 on the teacher's T = 4 labels (Table 4)", temperature=4.0, teacher="variant_teacher_t1"),
        ModelSpec("final_student", "student", "Final model: variant distillation from random_at at T = 4 (section 8)", temperature=4.0, teacher="random_at"),
        # An independently trained copy of the baseline (another seed): the surrogate that
        # transfer attacks craft their examples on.
        ModelSpec("surrogate", "baseline", "Surrogate for transfer attacks: the baseline recipe with another seed (beyond the report)", seed_offset=2),
        # Beyond the report: adversarial training that attacks the current weights on every
        # batch, at a training eps a little above the test eps of 0.01.
        ModelSpec("robust_fast_at", "robust_fast_at", "Fast adversarial training: FGSM from a random start on every batch (beyond the report)", cost=1.8, options=(("train_eps", 0.015),)),
        # The first candidate missed the clean-accuracy goal with its clean accuracy still
        # rising at the last epoch; the second trains at the test eps, for twice the epochs.
        ModelSpec(
            "robust_fast_at_long", "robust_fast_at",
            "Fast adversarial training at the test eps, twice the epochs: the second candidate (beyond the report)",
            cost=3.6, options=(("train_eps", 0.01),), epoch_fraction=2.0,
        ),
        # The second candidate ended a little short of the FGSM goal with its accuracy still
        # creeping up; the third continues it for a second cosine cycle at half the peak
        # learning rate (a warm restart), so in all it sees 3.5 times the profile's epochs.
        ModelSpec(
            "robust_fast_at_restart", "robust_fast_at",
            "Fast adversarial training continued from robust_fast_at_long for a second, gentler "
            "learning-rate cycle: the third candidate (beyond the report)",
            cost=2.7, options=(("train_eps", 0.01),), epoch_fraction=1.5, learning_rate_factor=0.5,
            start_from="robust_fast_at_long",
        ),
        # Issue 16's defence candidates, chosen on held-out training images: fast
        # adversarial training with a moving average of the weights (four times the
        # profile's epochs), and two-step PGD training with the same average. On the small
        # profiles a fifth of each class is held out, not 500 (holdout_per_class).
        ModelSpec(
            "defence_fast_at_ema", "robust_fast_at",
            "Fast adversarial training for four times the epochs with a moving average of the weights and a "
            "held-out part of the training set for choosing between candidates (a defence candidate, beyond the report)",
            cost=7.2, options=(("train_eps", 0.01), ("ema_decay", 0.999)), epoch_fraction=4.0, holdout=True,
        ),
        ModelSpec(
            "defence_pgd2_ema", "robust_fast_at",
            "Two-step PGD training (steps of 0.625 eps) for 2.5 times the epochs with a moving average of the "
            "weights and a held-out part of the training set for choosing between candidates (a defence candidate, "
            "beyond the report)",
            cost=6.75, options=(("train_eps", 0.01), ("attack_steps", 2), ("step_factor", 0.625), ("ema_decay", 0.999)),
            epoch_fraction=2.5, holdout=True,
        ),
    )
}

# The seed study (beyond the report): is Table 2's gap between random and per-epoch
# adversarial training larger than the spread between runs? Each recipe is trained three
# more times with new seeds. A quarter of the profile's epochs keeps the nine extra models
# affordable on a CPU, so their numbers are not those of the main models.
SEED_STUDY_RECIPES = ("baseline", "random_at", "per_epoch_at")
SEED_STUDY_SEEDS = (1, 2, 3)
SEED_STUDY_EPOCH_FRACTION = 0.25


def _seed_copy(recipe, seed_number):
    main = MODELS[recipe]
    return ModelSpec(
        f"{recipe}_seed{seed_number}",
        main.recipe,
        f"Seed {seed_number} of 3 of {recipe}, with a quarter of the profile's epochs, for error bars (beyond the report)",
        temperature=main.temperature,
        cost=main.cost * SEED_STUDY_EPOCH_FRACTION,
        # Far from the offsets of the main models (0 to 2), so no seed is reused.
        seed_offset=100 + seed_number,
        options=main.options,
        epoch_fraction=SEED_STUDY_EPOCH_FRACTION,
    )


# Added at the end of the registry, so `python -m advlib reproduce` trains them last.
MODELS.update(
    (spec.name, spec) for spec in (_seed_copy(recipe, k) for recipe in SEED_STUDY_RECIPES for k in SEED_STUDY_SEEDS)
)
for _spec in MODELS.values():
    for _other in (_spec.start_from, _spec.teacher):
        if _other is not None and _other not in MODELS:
            raise ValueError(f"{_spec.name!r} needs {_other!r}, which is not in the registry")
# {recipe: (its seed copies)}: the models behind each recipe's error bars.
SEED_STUDY = {recipe: tuple(f"{recipe}_seed{k}" for k in SEED_STUDY_SEEDS) for recipe in SEED_STUDY_RECIPES}
SEED_COPIES = tuple(name for names in SEED_STUDY.values() for name in names)
# Every registry model except the seed copies: what the chapters that load "every model" use.
# The defence candidates of issue 16, compared on held-out training images; the chapters
# show them once they are trained.
DEFENCE_CANDIDATES = tuple(name for name, spec in MODELS.items() if spec.holdout)
MAIN_MODELS = tuple(name for name in MODELS if name not in SEED_COPIES and name not in DEFENCE_CANDIDATES)
# The candidates for a defence that holds (chapter 11), in the order they were tried.
ROBUST_CANDIDATES = ("robust_fast_at", "robust_fast_at_long", "robust_fast_at_restart")


def get_spec(name):
    """The :class:`ModelSpec` of registry model ``name``; ``ValueError`` naming the registry otherwise."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}: the registry has {', '.join(MODELS)}")
    return MODELS[name]


def models_needed(names):
    """``names`` plus their teachers and warm starts, in registry order (so those come first)."""
    needed = set()

    def add(name):
        spec = get_spec(name)
        needed.add(name)
        for other in (spec.teacher, spec.start_from):
            if other:
                add(other)

    for name in names:
        add(name)
    return [name for name in MODELS if name in needed]



def training_config(profile, spec=None):
    """The :class:`TrainingConfig` of a registry model (``spec``) on a profile.

    Epochs are the profile's, scaled by ``spec.epoch_fraction`` (at least one); with a
    fraction of 1 the config is exactly the profile's, so existing config hashes stay.
    """
    profile = get_profile(profile)
    fraction = spec.epoch_fraction if spec else 1.0
    epochs = max(1, round(profile.epochs * fraction))
    extra = {}
    if epochs <= TrainingConfig.warmup_epochs:
        # The warm-up must end before the last epoch; a one-epoch run has none.
        extra["warmup_epochs"] = epochs - 1
    return TrainingConfig(
        epochs=epochs,
        batch_size=profile.batch_size,
        learning_rate=profile.learning_rate * (spec.learning_rate_factor if spec else 1.0),
        seed=profile.seed + (spec.seed_offset if spec else 0),
        eps=profile.eps,
        **extra,
    )


def config_hash(config):
    """A 12-character hash of a JSON-serialisable config (key order does not matter)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def model_config(name, profile):
    """Everything that determines a model's weights, as a JSON-serialisable dict.

    A student's config includes its teacher's config hash (and a warm start the hash of
    the model it continues), so retraining either invalidates it. The data source is
    recorded with a model but not hashed: the official and the JPEG copy of CIFAR-10 are
    the same images up to compression.
    """
    profile = get_profile(profile)
    spec = get_spec(name)
    return _config(spec, profile, _dependency_hashes(spec, profile))


def _dependency_hashes(spec, profile):
    """``(("teacher", hash), ("start_from", hash))`` for the models ``spec`` builds on (None where none)."""
    return tuple(
        (role, None if other is None else model_hash(other, profile))
        for role, other in (("teacher", spec.teacher), ("start_from", spec.start_from))
    )


def _config(spec, profile, dependency_hashes):
    hashes = dict(dependency_hashes)
    config = {
        "name": spec.name,
        "recipe": spec.recipe,
        "temperature": spec.temperature,
        "profile": profile.name,
        "per_class": list(profile.per_class) if profile.per_class else None,
        "training": training_config(profile, spec).to_dict(),
        "architecture": ARCHITECTURE,
    }
    if spec.options:
        config["options"] = dict(spec.options)
    if spec.teacher:
        config["teacher"] = {"name": spec.teacher, "config_hash": hashes["teacher"]}
        config["soft_label_temperature"] = spec.temperature
    if spec.start_from:
        config["start_from"] = {"name": spec.start_from, "config_hash": hashes["start_from"]}
    if spec.holdout:
        config["holdout"] = {"per_class": holdout_per_class(profile), "seed": profile.seed}
    return config


# Training images of each class held out for choosing among defence candidates: 500 (of
# 5,000) on the full profile, 5,000 in all; a fifth of them on the small profiles.
HOLDOUT_PER_CLASS = 500


def holdout_per_class(profile):
    """Training images per class a ``holdout`` model never trains on, on ``profile``."""
    profile = get_profile(profile)
    if profile.per_class is None:
        return HOLDOUT_PER_CLASS
    return max(1, profile.per_class[0] // 5)


@lru_cache(maxsize=None)
def _hash_of(spec, profile, dependency_hashes):
    # Keyed on the values that make the config (the spec, the profile and the hashes of
    # the models it builds on), so a changed registry entry can never return a stale hash.
    return config_hash(_config(spec, profile, dependency_hashes))


def model_hash(name, profile):
    """The 12-character config hash of registry model ``name`` on ``profile`` (cached)."""
    profile = get_profile(profile)
    spec = get_spec(name)
    return _hash_of(spec, profile, _dependency_hashes(spec, profile))


def model_hashes(names, profile):
    """``{name: model_hash(name, profile)}`` for several models."""
    return {name: model_hash(name, profile) for name in names}


# The amplitude of the final model's input noise (section 8): the report's eps.
DEFAULT_NOISE = 0.01


@dataclass(frozen=True)
class View:
    """A registry model as attacked and evaluated.

    ``temperature``: ``None`` for the model's own, else the softmax temperature its head
    is rebuilt with (e.g. 1.0 for the T = 50 student, as the report tests it).
    ``noise``: ``None``, or the amplitude of the random-sign input noise the model
    draws on every call (:func:`advlib.models.with_input_noise`), a number > 0 in image
    units; it is the defence's own setting, not the attack's eps.
    """

    name: str
    temperature: float | None = None
    noise: float | None = None

    def __post_init__(self):
        get_spec(self.name)
        if self.temperature is not None:
            object.__setattr__(self, "temperature", validate.positive_number(self.temperature, "temperature"))
        if self.noise is not None:
            object.__setattr__(self, "noise", validate.positive_number(self.noise, "noise"))

    @property
    def label(self):
        """A readable name, e.g. ``"dd_student_t50 at T = 1"`` or ``"final_student with input noise"``."""
        label = self.name
        if self.temperature is not None:
            label += f" at T = {self.temperature:g}"
        if self.noise is not None:
            label += " with input noise" + ("" if self.noise == DEFAULT_NOISE else f" of {self.noise:g}")
        return label


def sweep_views():
    """The views chapter 9 sweeps: every main model, the T = 50 student at T = 1."""
    return [View(name, temperature=1.0) if name == "dd_student_t50" else View(name) for name in MAIN_MODELS]


def audit_views():
    """The views chapter 9 audits: :func:`sweep_views` and the final model with input noise."""
    return sweep_views() + [View("final_student", noise=DEFAULT_NOISE)]

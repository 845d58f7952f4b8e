"""A worst-case evaluation in the style of AutoAttack: an image counts as robust only if every attack fails.

One attack, however strong, can be stuck; RobustBench therefore reports, per image, the
worst case over a suite of diverse attacks (Croce and Hein 2020): APGD on the
cross-entropy and on the DLR loss, targeted APGD, and the black-box Square attack, which
uses no gradient and so cannot be fooled by masked gradients. :func:`evaluate` runs such a
suite (attacks by name from :mod:`advlib.attack_registry`) on every image the model
classifies correctly and returns a :class:`WorstCase`: the robust accuracy, each attack's
own accuracy, the share of images only that attack breaks, and a flag when the black-box
attack beats every white-box one (a symptom of gradient masking, as in :mod:`advlib.audit`).

Every attack here gets the same eps, seed and, for a random model such as
:func:`advlib.models.with_input_noise`, ``samples`` gradient draws per step (EOT).
"""

from dataclasses import dataclass, field

import numpy as np

from advlib import attack_registry, statistics, validate

# (label, attack name, options): the suite of AutoAttack, cheap enough for a CPU.
SUITE = (
    ("APGD-CE", "apgd", {"loss": "logit_cross_entropy"}),
    ("APGD-DLR", "apgd", {"loss": "dlr"}),
    ("APGD-T", "apgd_targeted", {}),
    ("Square", "square", {}),
)
BLACK_BOX = ("square",)
# Black box beating every white-box attack by more than this is a masking symptom.
BLACK_BOX_TOLERANCE = 0.02


@dataclass(frozen=True)
class WorstCase:
    """The result of :func:`evaluate` on ``size`` images, every accuracy a float in [0, 1].

    ``robust_accuracy``: images classified correctly and by every attack's image;
    ``attack_accuracy``: ``{label: accuracy under that attack alone}``;
    ``only_broken_by``: ``{label: share of images that attack alone breaks}``;
    ``interval``: the 95% Wilson interval of ``robust_accuracy``;
    ``black_box_beats_white_box``: the masking symptom (``None`` without both kinds).
    """

    size: int
    clean_accuracy: float
    robust_accuracy: float
    attack_accuracy: dict = field(default_factory=dict)
    only_broken_by: dict = field(default_factory=dict)
    interval: tuple = (0.0, 1.0)
    black_box_beats_white_box: bool | None = None

    def to_dict(self):
        return {
            "size": self.size, "clean_accuracy": self.clean_accuracy, "robust_accuracy": self.robust_accuracy,
            "attack_accuracy": dict(self.attack_accuracy), "only_broken_by": dict(self.only_broken_by),
            "interval": list(self.interval), "black_box_beats_white_box": self.black_box_beats_white_box,
        }

    @classmethod
    def from_dict(cls, data):
        return cls(**dict(data, interval=tuple(data["interval"])))


def _predictions(model, x, batch_size):
    from advlib import evaluation

    return evaluation.predict_probabilities(model, x, batch_size=batch_size).argmax(axis=1)


def evaluate(model, x, y, eps, *, suite=SUITE, seed=0, samples=1, batch_size=500, **options):
    """Per-image worst case of ``suite`` on ``model`` at L-inf radius ``eps``.

    Args:
        model: a Keras model returning softmax probabilities (with a "logits" layer).
        x, y: float32 images ``(N, 32, 32, 3)`` in [0, 1] and integer labels ``(N,)``.
        eps: the L-inf radius, ``>= 0``.
        suite: ``(label, attack name, options)`` triples; names from
            :data:`advlib.attack_registry.ATTACKS`.
        seed: the seed of every attack's randomness.
        samples: gradient draws per step (EOT) for the attacks that take it.
        options: passed to every attack that takes them (``steps``, ``queries``, ...).

    Returns:
        a :class:`WorstCase`. Attacks run only on the images the model gets right, each
        on all of them, so each attack's own accuracy and the images only it breaks are known.
    """
    eps = validate.non_negative_number(eps, "eps")
    if not suite:
        raise ValueError("suite must name at least one attack")
    for _, name, _ in suite:
        attack_registry.get(name)
    y = np.asarray(y)
    correct = _predictions(model, x, batch_size) == y
    broken = {}
    for label, name, attack_options in suite:
        hit = np.zeros(len(x), dtype=bool)
        if correct.any():
            x_adv = attack_registry.run(
                name, model, x[correct], y[correct], eps, seed=seed, samples=samples, batch_size=batch_size,
                **dict(options, **attack_options),
            )
            hit[correct] = _predictions(model, x_adv, batch_size) != y[correct]
        broken[label] = hit
    any_broken = np.any(list(broken.values()), axis=0)
    robust = correct & ~any_broken
    others = {label: np.any([hit for other, hit in broken.items() if other != label], axis=0) for label in broken}
    attack_accuracy = {label: float(np.mean(correct & ~hit)) for label, hit in broken.items()}
    only = {label: float(np.mean(hit & ~others[label])) if len(broken) > 1 else float(np.mean(hit)) for label, hit in broken.items()}
    black = [label for label, name, _ in suite if name in BLACK_BOX]
    white = [label for label, name, _ in suite if name not in BLACK_BOX]
    symptom = None
    if black and white:
        symptom = min(attack_accuracy[label] for label in black) < min(attack_accuracy[label] for label in white) - BLACK_BOX_TOLERANCE
    robust_accuracy = float(np.mean(robust))
    return WorstCase(
        size=int(len(x)), clean_accuracy=float(np.mean(correct)), robust_accuracy=robust_accuracy,
        attack_accuracy=attack_accuracy, only_broken_by=only,
        interval=statistics.wilson_interval(robust_accuracy, int(len(x))), black_box_beats_white_box=symptom,
    )


def stratified_subset(labels, per_class, seed=0):
    """Sorted indices of ``per_class`` images of each class, drawn without replacement.

    ``labels`` are integer labels ``(N,)``. With 250 per class (2,500 images) the 95%
    interval of an accuracy near 0.5 is at most ±0.0196: the size chapter 9's worst-case
    numbers use, so that each is known to within ±0.02.
    """
    per_class = validate.positive_int(per_class, "per_class")
    labels = np.asarray(labels)
    generator = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if len(members) < per_class:
            raise ValueError(f"class {label} has {len(members)} images, fewer than per_class = {per_class}")
        chosen.append(generator.choice(members, size=per_class, replace=False))
    return np.sort(np.concatenate(chosen))

"""A worst-case evaluation in the style of AutoAttack: an image counts as robust only if every attack fails.

One attack, however strong, can be stuck; RobustBench therefore reports, per image, the
worst case over a suite of diverse attacks (Croce and Hein 2020): APGD on the
cross-entropy and on the DLR loss, targeted APGD, and the black-box Square attack, which
uses no gradient and so cannot be fooled by masked gradients. :func:`evaluate` runs such a
suite (attacks by name from :mod:`advlib.attacks.registry`) and returns a
:class:`WorstCase`: the robust accuracy, the robust accuracy after each attack in turn,
the share of images each attack adds, and a flag when the black-box attack breaks images
that every white-box one missed (a symptom of gradient masking, as in :mod:`advlib.evaluation.audit`).

As in AutoAttack, the attacks form a cascade: the two untargeted APGD runs
(:data:`EVERY_IMAGE`) attack every image the model gets right, so each one's own
accuracy is known; the costly ones after them (nine targeted runs, a thousand Square
queries) attack only the images no earlier attack broke. That gives the same per-image
worst case for a fraction of the CPU time when the first attacks break most images.

Every attack here gets the same eps, seed and, for a random model such as
:func:`advlib.models.with_input_noise`, ``samples`` gradient draws per step (EOT).
"""

from dataclasses import dataclass, field

import numpy as np

from advlib import validate
from advlib.attacks import registry as attack_registry
from advlib.evaluation import audit
from advlib.verdicts import uncertainty

# (label, attack name, options): the suite of AutoAttack, cheap enough for a CPU, in the
# order the cascade runs it.
SUITE = (
    ("APGD-CE", "apgd", {"loss": "logit_cross_entropy"}),
    ("APGD-DLR", "apgd", {"loss": "dlr"}),
    ("APGD-T", "apgd_targeted", {}),
    ("Square", "square", {}),
)
# The attacks that run on every correctly classified image; the rest run on what is left.
EVERY_IMAGE = ("APGD-CE", "APGD-DLR")
BLACK_BOX = ("square",)
# A black box that breaks more than this share of the images, beyond every white-box
# attack's, is a masking symptom: the question of the audit's transfer check, with its
# tolerance (one number, so that chapters 9 and 10 cannot drift apart).
BLACK_BOX_TOLERANCE = audit.DEFAULT_TRANSFER_TOLERANCE


@dataclass(frozen=True)
class WorstCase:
    """The result of :func:`evaluate` on ``size`` images, every accuracy a float in [0, 1].

    ``robust_accuracy``: images classified correctly and by every attack's image;
    ``attack_accuracy``: ``{label: accuracy under that attack alone}`` for the attacks
    that ran on every correctly classified image (:data:`EVERY_IMAGE`);
    ``accuracy_after``: ``{label: robust accuracy against this attack and every earlier
    one}``, in suite order (the last equals ``robust_accuracy``);
    ``added_by``: ``{label: share of all images this attack breaks and no earlier one did}``;
    ``interval``: the 95% Wilson interval of ``robust_accuracy``;
    ``black_box_beats_white_box``: the masking symptom (``None`` without both kinds), and
    ``black_box_only``: the share of images only a black-box attack breaks.
    """

    size: int
    clean_accuracy: float
    robust_accuracy: float
    attack_accuracy: dict = field(default_factory=dict)
    accuracy_after: dict = field(default_factory=dict)
    added_by: dict = field(default_factory=dict)
    interval: tuple = (0.0, 1.0)
    black_box_beats_white_box: bool | None = None
    black_box_only: float | None = None

    def to_dict(self):
        return {
            "size": self.size, "clean_accuracy": self.clean_accuracy, "robust_accuracy": self.robust_accuracy,
            "attack_accuracy": dict(self.attack_accuracy), "accuracy_after": dict(self.accuracy_after),
            "added_by": dict(self.added_by), "interval": list(self.interval),
            "black_box_beats_white_box": self.black_box_beats_white_box, "black_box_only": self.black_box_only,
        }

    @classmethod
    def from_dict(cls, data):
        return cls(**dict(data, interval=tuple(data["interval"])))


def _predictions(model, x, batch_size):
    from advlib.evaluation import metrics

    return metrics.predict_probabilities(model, x, batch_size=batch_size).argmax(axis=1)


def _check_suite(suite, every_image):
    if not suite:
        raise ValueError("suite must name at least one attack")
    labels = [label for label, _, _ in suite]
    if len(set(labels)) != len(labels):
        raise ValueError(f"suite labels must differ, got {labels}")
    for _, name, _ in suite:
        attack_registry.get(name)
    every_image = tuple(every_image)
    unknown = [label for label in every_image if label not in labels]
    if unknown:
        raise ValueError(f"every_image names {unknown}, which are not labels of the suite {labels}; pass every_image= with labels of your suite")
    # A white-box attack in the cascade after a black-box one would skip the images the
    # black box broke, and the black box would seem to break images no white box can.
    seen_black = False
    for label, name, _ in suite:
        if name in BLACK_BOX:
            seen_black = True
        elif seen_black and label not in every_image:
            raise ValueError(f"white-box attack {label!r} comes after a black-box attack in the cascade; put black-box attacks last")
    return every_image


def evaluate(
    model, x, y, eps, *, suite=SUITE, every_image=EVERY_IMAGE, seed=0, samples=1, batch_size=500,
    finished=None, on_attack=None, **options
):
    """Per-image worst case of ``suite`` on ``model`` at L-inf radius ``eps``.

    Args:
        model: a Keras model returning softmax probabilities (with a "logits" layer).
        x, y: float32 images ``(N, 32, 32, 3)`` in [0, 1] and integer labels ``(N,)``.
        eps: the L-inf radius, ``>= 0``.
        suite: ``(label, attack name, options)`` triples; names from
            :data:`advlib.attacks.registry.ATTACKS`; black-box attacks last.
        every_image: labels of the attacks that run on every correctly classified image;
            each other attack runs, in suite order, on the images no earlier attack broke.
        seed: the seed of every attack's randomness.
        samples: gradient draws per step (EOT) for the attacks that take it.
        finished: ``{label: broken}`` for attacks of an interrupted run of the same
            evaluation, ``broken`` a bool array ``(N,)`` of the images that attack broke;
            they are not run again. A mask of the wrong shape raises ``ValueError``.
        on_attack: ``on_attack(label, broken)``, called after each attack that runs, so a
            caller can keep the masks and pass them back as ``finished`` after a kill.
        options: passed to every attack that takes them (``steps``, ``queries``, ...).

    Returns:
        a :class:`WorstCase`. Images the model gets wrong are never attacked.
    """
    eps = validate.non_negative_number(eps, "eps")
    every_image = _check_suite(suite, every_image)
    y = np.asarray(y)
    finished = {} if finished is None else dict(finished)
    for label, mask in finished.items():
        if np.shape(mask) != (len(x),):
            raise ValueError(f"finished[{label!r}] has shape {np.shape(mask)}, but there are {len(x)} images")
    correct = _predictions(model, x, batch_size) == y
    broken = {}
    any_broken = np.zeros(len(x), dtype=bool)
    accuracy_after, added_by = {}, {}
    for label, name, attack_options in suite:
        if label in finished:
            # Broken before the kill; an attack only breaks images the model got right.
            hit = np.asarray(finished[label], dtype=bool) & correct
        else:
            targets = correct if label in every_image else correct & ~any_broken
            hit = np.zeros(len(x), dtype=bool)
            if targets.any():
                x_adv = attack_registry.run(
                    name, model, x[targets], y[targets], eps, seed=seed, samples=samples, batch_size=batch_size,
                    **dict(options, **attack_options),
                )
                hit[targets] = _predictions(model, x_adv, batch_size) != y[targets]
            if on_attack is not None:
                on_attack(label, hit.copy())
        broken[label] = hit
        added_by[label] = float(np.mean(hit & ~any_broken))
        any_broken = any_broken | hit
        accuracy_after[label] = float(np.mean(correct & ~any_broken))
    robust = correct & ~any_broken
    attack_accuracy = {label: float(np.mean(correct & ~broken[label])) for label in every_image}
    black = [label for label, name, _ in suite if name in BLACK_BOX]
    white = [label for label, name, _ in suite if name not in BLACK_BOX]
    symptom = black_only = None
    if black and white:
        black_only = float(np.mean(np.any([broken[label] for label in black], axis=0) & ~np.any([broken[label] for label in white], axis=0)))
        symptom = black_only > BLACK_BOX_TOLERANCE
    robust_accuracy = float(np.mean(robust))
    return WorstCase(
        size=int(len(x)), clean_accuracy=float(np.mean(correct)), robust_accuracy=robust_accuracy,
        attack_accuracy=attack_accuracy, accuracy_after=accuracy_after, added_by=added_by,
        interval=uncertainty.wilson_interval(robust_accuracy, int(len(x))),
        black_box_beats_white_box=symptom, black_box_only=black_only,
    )


def stratified_subset(labels, per_class, seed=0):
    """Sorted indices of ``per_class`` images of each class, drawn without replacement.

    ``labels`` are integer labels ``(N,)``; the draw is :func:`advlib.data.cifar10.stratified_indices`
    with ``numpy.random.default_rng(seed)``. With 250 per class (2,500 images) the 95%
    interval of an accuracy near 0.5 is at most ±0.0196: the size chapter 10's worst-case
    numbers use, so that each is known to within ±0.02.
    """
    from advlib import data

    per_class = validate.positive_int(per_class, "per_class")
    return data.stratified_indices(labels, per_class, np.random.default_rng(seed))

"""advlib's APGD-CE, APGD-DLR and Square against IBM ART's on the shipped CIFAR-10 models.

This is a benchmark, not a test: it prints robust accuracies side by side and checks
nothing. Run it from the repository root::

    PYTHONPATH=/tmp/artlib .venv/bin/python benchmarks/peer_art.py --per-class 20 --steps 100 --queries 1000

The peer is the Adversarial Robustness Toolbox (ART): ``AutoProjectedGradientDescent``
with ``loss_type="cross_entropy"`` and ``"difference_logits_ratio"``, and
``SquareAttack``. ART is **not** an advlib dependency; install it outside the virtualenv
(see ``INSTALL_HINT``) and put that folder on ``PYTHONPATH``.

Both sides attack the same model (``advlib.models.build_cnn()`` with the shipped
full-profile weights), the same ``--per-class`` CIFAR-10 test images of each class (from
``ADVLIB_CIFAR10`` or the official download), drawn as chapter 10 draws its worst-case subset
(:func:`advlib.evaluation.worst_case.stratified_subset` with the full profile's seed; 250 per class is
that very subset), the same eps, one random start, the same
number of steps / queries and the same Square ``p_init``. ART sees the logits model
(``advlib.models.logits_model``) through ``TensorFlowV2Classifier`` with clip values
(0, 1). The table gives the clean accuracy, the accuracy under each attack, and the
per-image worst case over advlib's three attacks and over ART's three (an image counts as
robust only if every attack of that side failed on it).
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Let the script run from a checkout without installing advlib.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from advlib import models
from advlib.attacks import auto_pgd as apgd, square_search as square
from advlib.data import cifar10 as data
from advlib.plan import registry
from advlib.verdicts import uncertainty as statistics
from advlib.evaluation import worst_case  # noqa: E402

PRETRAINED = Path(__file__).resolve().parents[1] / "advlib" / "pretrained" / "full"
DEFAULT_MODELS = ("robust_fast_at_restart", "per_epoch_at")
INSTALL_HINT = """ART is not importable. Install it (and what it needs) outside the virtualenv, e.g.:

    .venv/bin/python -m pip install --target /tmp/artlib --no-deps adversarial-robustness-toolbox
    .venv/bin/python -m pip install --target /tmp/artlib --no-deps scipy scikit-learn tqdm joblib \\
        threadpoolctl cloudpickle narwhals

then run this script with PYTHONPATH=/tmp/artlib."""


def weights_path(name):
    """The shipped full-profile weights ``<name>-<hash>.weights.h5`` of a model name."""
    matches = sorted(PRETRAINED.glob(f"{name}-*.weights.h5"))
    matches = [path for path in matches if path.name[len(name) + 1 :].count("-") == 0]
    if len(matches) != 1:
        available = sorted({path.name.rsplit("-", 1)[0] for path in PRETRAINED.glob("*.weights.h5")})
        raise SystemExit(f"no single shipped model named {name!r}; available: {', '.join(available)}")
    return matches[0]


def load_model(name):
    model = models.build_cnn()
    model.load_weights(weights_path(name))
    return model


def load_images(per_class):
    """``per_class`` test images of each class, float32 ``(10 * per_class, 32, 32, 3)`` in [0, 1], and labels.

    Never the first N images: a local image-folder copy lists the test set class by class,
    so its first 1,000 images are all airplanes.
    """
    _, (x_test, y_test) = data.load_cifar10()
    labels = np.asarray(y_test).reshape(-1)
    chosen = worst_case.stratified_subset(labels, per_class, seed=registry.get_profile("full").seed)
    x, onehot = data.preprocess(x_test[chosen], labels[chosen])
    return x, np.argmax(onehot, axis=1)


def art_attacks(model, eps, steps, queries, p_init, batch_size):
    """ART's three attacks on ``model``, as ``{name: function(x, y) -> x_adv}``."""
    from art.attacks.evasion import AutoProjectedGradientDescent, SquareAttack
    from art.estimators.classification import TensorFlowV2Classifier

    classifier = TensorFlowV2Classifier(
        model=models.logits_model(model),
        nb_classes=10,
        input_shape=(32, 32, 3),
        loss_object=tf.keras.losses.CategoricalCrossentropy(from_logits=True),
        clip_values=(0.0, 1.0),
    )

    def apgd_art(loss_type):
        # eps_step = 2 eps is the paper's initial step (ART's default is 0.1 whatever eps is).
        attack = AutoProjectedGradientDescent(
            classifier, norm=np.inf, eps=eps, eps_step=2 * eps, max_iter=steps, targeted=False,
            nb_random_init=1, batch_size=batch_size, loss_type=loss_type, verbose=False,
        )
        return lambda x, y: attack.generate(x=x, y=np.eye(10, dtype=np.float32)[y])

    square_attack = SquareAttack(
        classifier, norm=np.inf, max_iter=queries, eps=eps, p_init=p_init, nb_restarts=1, batch_size=batch_size,
        verbose=False,
    )
    return {
        "APGD-CE": apgd_art("cross_entropy"),
        "APGD-DLR": apgd_art("difference_logits_ratio"),
        "Square": lambda x, y: square_attack.generate(x=x, y=np.eye(10, dtype=np.float32)[y]),
    }


def advlib_attacks(model, eps, steps, queries, p_init, batch_size, seed):
    common = dict(seed=seed, batch_size=batch_size)
    return {
        "APGD-CE": lambda x, y: apgd.apgd(model, x, y, eps, loss=apgd.cross_entropy_loss, steps=steps, **common),
        "APGD-DLR": lambda x, y: apgd.apgd(model, x, y, eps, loss=apgd.dlr_loss, steps=steps, **common),
        "Square": lambda x, y: square.square(model, x, y, eps, queries=queries, p_init=p_init, **common),
    }


def correct(model, x, y, batch_size):
    return np.argmax(model.predict(x, batch_size=batch_size, verbose=0), axis=1) == y


def run_side(attacks, model, x, y, eps, batch_size):
    """Per-attack correctness masks ``(N,)`` and seconds per attack."""
    masks, seconds = {}, {}
    for name, attack in attacks.items():
        start = time.perf_counter()
        x_adv = np.asarray(attack(x, y), dtype=np.float32)
        seconds[name] = time.perf_counter() - start
        # A result outside the threat model would make its accuracy meaningless: say so.
        if np.abs(x_adv - x).max() > eps + 1e-6 or x_adv.min() < 0.0 or x_adv.max() > 1.0:
            print(f"  warning: {name} left the eps-ball or [0, 1] (max |x_adv - x| = {np.abs(x_adv - x).max():.5g})")
        masks[name] = correct(model, x_adv, y, batch_size)
    return masks, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), help="shipped full-profile models")
    parser.add_argument("--per-class", type=int, default=100,
                        help="test images of each class, stratified as chapter 10's subset (250 is that subset)")
    # The book's eps (the report's): the robust accuracies compared in the issue are at 0.01.
    parser.add_argument("--eps", type=float, default=0.01, help="L-inf radius in [0, 1] pixel units (default 0.01)")
    parser.add_argument("--steps", type=int, default=100, help="APGD iterations")
    parser.add_argument("--queries", type=int, default=1000, help="Square queries per image")
    parser.add_argument("--p-init", type=float, default=0.05, help="Square's initial square fraction")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args(argv)
    try:
        import art  # noqa: F401
    except ImportError:
        raise SystemExit(INSTALL_HINT) from None

    if arguments.per_class < 1:
        parser.error(f"--per-class must be a positive whole number, not {arguments.per_class}")
    x, y = load_images(arguments.per_class)
    print(f"{len(x)} CIFAR-10 test images, {arguments.per_class} of each class ({data.describe_source()}), "
          f"eps = {arguments.eps:.5g}, "
          f"APGD {arguments.steps} steps, Square {arguments.queries} queries (p_init {arguments.p_init:g})")
    names = ("APGD-CE", "APGD-DLR", "Square")
    header = f"{'model':<24} {'clean':>6} " + " ".join(f"{n + ' advlib':>16} {n + ' ART':>13}" for n in names)
    print(header + f" {'worst advlib':>13} {'worst ART':>10}")
    for name in arguments.models:
        model = load_model(name)
        clean = correct(model, x, y, arguments.batch_size)
        options = (model, arguments.eps, arguments.steps, arguments.queries, arguments.p_init, arguments.batch_size)
        ours, our_seconds = run_side(
            advlib_attacks(*options, arguments.seed), model, x, y, arguments.eps, arguments.batch_size)
        theirs, their_seconds = run_side(art_attacks(*options), model, x, y, arguments.eps, arguments.batch_size)
        # An attack may return a clean image that is already misclassified; the worst case
        # also counts the clean mistakes.
        worst_ours = np.logical_and.reduce([clean] + list(ours.values()))
        worst_theirs = np.logical_and.reduce([clean] + list(theirs.values()))
        row = f"{name:<24} {clean.mean():6.3f} " + " ".join(
            f"{ours[n].mean():16.3f} {theirs[n].mean():13.3f}" for n in names)
        print(row + f" {worst_ours.mean():13.3f} {worst_theirs.mean():10.3f}", flush=True)
        print(f"{'  seconds':<31} " + " ".join(f"{our_seconds[n]:16.0f} {their_seconds[n]:13.0f}" for n in names))
        both = np.logical_and(worst_ours, worst_theirs)
        print(f"  worst case over all six attacks: {both.mean():.1%}; images only advlib breaks: "
              f"{np.sum(worst_theirs & ~worst_ours)}, only ART breaks: {np.sum(worst_ours & ~worst_theirs)}")
        # The rule: advlib's worst case may not be weaker (higher) than ART's by more
        # than the 95% Wilson interval of ART's accuracy on these images.
        low, high = statistics.wilson_interval(float(worst_theirs.mean()), len(x))
        difference = worst_ours.mean() - worst_theirs.mean()
        verdict = "within" if difference <= high - worst_theirs.mean() else "WEAKER than ART beyond"
        print(f"  advlib's worst case minus ART's: {difference:+.3f}; {verdict} the interval "
              f"({low:.3f}-{high:.3f} around ART's {worst_theirs.mean():.3f})")


if __name__ == "__main__":
    main()

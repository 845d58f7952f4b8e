"""The contract every registered attack keeps, checked for each name in ``advlib.attacks.registry.ATTACKS``.

An attack takes float32 images ``(N, H, W, C)`` in [0, 1], labels ``(N,)`` and an L-inf
radius ``eps >= 0``, and returns float32 images of the same shape, inside [0, 1] and
within ``eps`` of the input (the registry's promise: measurements, sweeps and audits rely
on it without looking inside). A fixed seed gives the same images; bad arguments get a
``ValueError`` naming the argument. An attack added to the registry is checked here
without a line of test code.

The model is a linear softmax (:mod:`tests.support.linear_models`); a quarter of the
pixels are exactly 0 and a quarter exactly 1, so that a step outwards that is not clipped
back shows, and the labels are the model's own, so that no image is misclassified before
the attack (attacks that return such images untouched would have nothing to show).
"""

import inspect

import numpy as np
import pytest

from advlib.attacks import registry as attack_registry
from tests.support.linear_models import linear_case, linear_predictions, linear_softmax_model

NAMES = list(attack_registry.ATTACKS)
EPS = 0.1
# Short runs (the contract holds at every step count); run() passes each attack the ones it takes.
OPTIONS = dict(steps=3, samples=2, queries=30)
# Attacks that draw random numbers (a random start, random signs, random squares) take a seed.
SEEDED = [name for name in NAMES if "seed" in inspect.signature(attack_registry.get(name)).parameters]


@pytest.fixture(scope="module")
def case():
    weights, bias, x, _ = linear_case(images=16)
    edges = np.random.default_rng(1).random(x.shape)
    x = np.where(edges < 0.25, 0.0, np.where(edges > 0.75, 1.0, x)).astype(np.float32)
    return linear_softmax_model(weights, bias), x, linear_predictions(weights, bias, x)


@pytest.fixture(scope="module")
def attacked(case):
    """Every attack's images at :data:`EPS` and seed 0, computed once for the checks below."""
    model, x, y = case
    return {name: attack_registry.run(name, model, x, y, EPS, seed=0, **OPTIONS) for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_the_output_has_the_shape_and_dtype_of_the_input(name, case, attacked):
    _, x, _ = case
    assert attacked[name].shape == x.shape and attacked[name].dtype == np.float32


@pytest.mark.parametrize("name", NAMES)
def test_the_output_stays_in_the_unit_interval(name, attacked):
    assert attacked[name].min() >= 0.0 and attacked[name].max() <= 1.0


@pytest.mark.parametrize("name", NAMES)
def test_the_output_stays_within_eps_of_the_input_in_l_inf(name, case, attacked):
    _, x, _ = case
    # Every registered attack is an L-inf attack (the registry's promise); float32 rounding aside.
    assert np.abs(attacked[name] - x).max() <= np.float32(EPS) + 1e-6


@pytest.mark.parametrize("name", [name for name in NAMES if name != "none"])
def test_the_attack_changes_the_images(name, case, attacked):
    """Not a promise of the registry, but without it the checks above would hold vacuously."""
    _, x, _ = case
    assert not np.array_equal(attacked[name], x)


@pytest.mark.parametrize("name", NAMES)
def test_a_fixed_seed_gives_the_same_images(name, case, attacked):
    model, x, y = case
    np.testing.assert_array_equal(attack_registry.run(name, model, x, y, EPS, seed=0, **OPTIONS), attacked[name])


@pytest.mark.parametrize("name", SEEDED)
def test_another_seed_gives_other_images(name, case, attacked):
    model, x, y = case
    assert not np.array_equal(attack_registry.run(name, model, x, y, EPS, seed=1, **OPTIONS), attacked[name])


def _takes(name, option):
    return option in inspect.signature(attack_registry.get(name)).parameters


# Bad arguments every attack that takes them must refuse: (case id, which attacks, change, message).
_IMAGES = (2, 4, 4, 3)
COMMON_BAD_ARGUMENTS = [
    ("negative-eps", "eps", dict(eps=-0.01), "eps"),
    ("nan-eps", "eps", dict(eps=float("nan")), "eps"),
    ("infinite-eps", "eps", dict(eps=float("inf")), "eps"),
    ("images-outside-0-1", "x", dict(x=np.full(_IMAGES, 1.5, np.float32)), r"outside \[0, 1\]"),
    ("uint8-images", "x", dict(x=np.full(_IMAGES, 128, np.uint8)), "uint8"),
    ("no-images", "y", dict(x=np.zeros((0, 4, 4, 3), np.float32), y=np.zeros(0, int)), "non-empty"),
    ("a-label-too-many", "y", dict(y=np.array([0, 1, 2])), "labels"),
    ("label-10-of-10-classes", "y", dict(y=np.array([0, 10])), "labels must lie"),
    ("negative-label", "y", dict(y=np.array([0, -1])), "labels must lie"),
    ("reversed-clip", "clip", dict(clip=(1.0, 0.0)), "clip"),
    ("no-batch", "batch_size", dict(batch_size=0), "batch_size"),
]
# Which attacks a case applies to: those that take the argument. The "none" attack returns
# the clean images and takes eps only to share the signature, so it has no eps to check;
# random_sign ignores the labels (it needs no model either).
_READS = {
    "eps": lambda name: name != "none",
    "x": lambda name: True,
    "y": lambda name: name not in ("none", "random_sign"),
    "clip": lambda name: _takes(name, "clip"),
    "batch_size": lambda name: _takes(name, "batch_size"),
}

# Options of some attacks only: every attack that takes the option must refuse these values.
OPTION_BAD_ARGUMENTS = [
    ("no-steps", dict(steps=0), "steps"),
    ("fractional-steps", dict(steps=2.5), "steps"),
    ("boolean-steps", dict(steps=True), "steps"),
    ("zero-step-size", dict(step_size=0.0), "step_size"),
    ("negative-step-size", dict(step_size=-0.01), "step_size"),
    ("infinite-step-size", dict(step_size=float("inf")), "step_size"),
    ("no-samples", dict(samples=0), "samples"),
    ("boolean-samples", dict(samples=True), "samples"),
    ("no-restarts", dict(restarts=0), "restarts"),
    ("zero-rho", dict(rho=0.0), "rho"),
    ("rho-above-1", dict(rho=1.5), "rho"),
    ("negative-momentum", dict(momentum=-0.1), "momentum"),
    ("no-queries", dict(queries=0), "queries"),
    ("fractional-queries", dict(queries=10.0), "queries"),
    ("zero-p-init", dict(p_init=0.0), "p_init"),
    ("p-init-above-1", dict(p_init=1.5), "p_init"),
    # A loss is a callable; run() turns the registry's names into one, the attacks never do.
    ("unknown-loss-name", dict(loss="hinge"), "loss"),
    ("registered-loss-name", dict(loss="dlr"), "loss"),
    # A loss of the logits has no softmax to take a temperature.
    ("temperature-with-a-logit-loss", dict(loss=attack_registry.get_loss("margin"), temperature=2.0), "temperature"),
]
# Arguments one attack alone refuses: (attack, case id, change, message).
SPECIFIC_BAD_ARGUMENTS = [
    # Square cuts squares out of the image plane, so it needs images with a height and a width.
    ("square", "flat-images", dict(x=np.full((2, 48), 0.5, np.float32)), r"\(N, H, W, C\)"),
]


def _bad_argument_cases():
    cases = []
    for case_id, reads, change, message in COMMON_BAD_ARGUMENTS:
        cases += [pytest.param(name, change, message, id=f"{name}-{case_id}") for name in NAMES if _READS[reads](name)]
    for case_id, change, message in OPTION_BAD_ARGUMENTS:
        cases += [pytest.param(name, change, message, id=f"{name}-{case_id}")
                  for name in NAMES if all(_takes(name, option) for option in change)]
    cases += [pytest.param(name, change, message, id=f"{name}-{case_id}") for name, case_id, change, message in SPECIFIC_BAD_ARGUMENTS]
    return cases


@pytest.mark.parametrize("name, change, message", _bad_argument_cases())
def test_bad_arguments_get_a_clear_error(name, change, message, case):
    model = case[0]
    arguments = dict(x=np.full(_IMAGES, 0.5, np.float32), y=np.array([0, 1]), eps=0.01)
    arguments.update(change)
    with pytest.raises(ValueError, match=message):
        attack_registry.get(name)(model, **arguments)

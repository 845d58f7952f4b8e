"""The attack registry: every attack by name, options passed where they are taken, losses as callables.

What every registered attack promises (shape, [0, 1], the eps ball, seeds, bad arguments) is
checked attack by attack in tests/unit/attacks/test_contract.py."""

import numpy as np
import pytest

from advlib.attacks import iterative as strong_attacks, one_step as attacks, registry as attack_registry
from tests.support.linear_models import linear_softmax_model


def test_run_passes_only_the_options_an_attack_takes(linear_case):
    weights, bias, x, y = linear_case
    model = linear_softmax_model(weights, bias)
    # FGSM takes no seed and no steps: run drops them and gives exactly FGSM.
    np.testing.assert_array_equal(attack_registry.run("fgsm", model, x, y, 0.02, seed=3, steps=7), attacks.fgsm(model, x, y, 0.02))
    via_registry = attack_registry.run("pgd", model, x, y, 0.02, seed=3, steps=4, loss="margin")
    direct = strong_attacks.pgd(model, x, y, 0.02, seed=3, steps=4, loss=strong_attacks.margin_loss)
    np.testing.assert_array_equal(via_registry, direct)
    with pytest.raises(ValueError, match="unknown attack option"):
        attack_registry.run("fgsm", model, x, y, 0.02, stepz=3)
    with pytest.raises(ValueError, match="unknown attack 'cw'"):
        attack_registry.get("cw")
    with pytest.raises(ValueError, match="unknown loss"):
        attack_registry.get_loss("hinge")
    assert attack_registry.get_loss("cross_entropy") is None


def test_targeted_fgsm_reaches_the_target_of_a_linear_model():
    """For softmax(Wx + b) the target's loss gradient has sign(w_t - sum_j p_j w_j) with a minus:
    the step raises z_t - z_j by eps * ||w_t - w_j||_1 for a two-class model, a closed form."""
    rng = np.random.default_rng(1)
    weights = rng.normal(size=(12, 2))
    bias = np.zeros(2)
    x = rng.uniform(0.3, 0.7, size=(40, 12)).astype(np.float32)
    model = linear_softmax_model(weights, bias, input_shape=(12,))
    y = np.argmax(x @ weights, axis=1)
    target = 1 - y
    eps = 0.05
    x_adv = attack_registry.run("fgsm_targeted", model, x, y, eps, target=target)
    direction = weights[:, 1] - weights[:, 0]
    # Toward the target class: x + eps * sign(w_target - w_true), by the closed form.
    expected = x + eps * np.sign(np.where(target[:, None] == 1, direction, -direction))
    np.testing.assert_allclose(x_adv, np.clip(expected, 0, 1), atol=1e-6)
    margin_gain = (x_adv - x) @ direction * np.where(target == 1, 1, -1)
    np.testing.assert_allclose(margin_gain, eps * np.abs(direction).sum(), rtol=1e-4)
    # The default target is the next class, never the true one.
    default = attacks.fgsm_targeted(model, x, y, eps)
    np.testing.assert_array_equal(default, x_adv)

"""The L-inf Square attack, checked on linear softmax models whose worst case is closed-form."""

import keras
import numpy as np
import pytest

from advlib.attacks import square_search as square
from tests.support.linear_models import EPS, linear_predictions, linear_softmax_model, margin_case


@pytest.fixture(scope="module")
def case():
    weights, bias, x, y, breakable = margin_case()
    return linear_softmax_model(weights, bias), weights, bias, x, y, breakable


def test_square_fools_exactly_the_images_the_closed_form_says_can_be_fooled(case):
    model, weights, bias, x, y, breakable = case
    x_adv = square.square(model, x, y, EPS, queries=400, seed=0)
    np.testing.assert_array_equal(linear_predictions(weights, bias, x_adv) != y, breakable)
    assert np.all(np.abs(x_adv - x) <= np.float32(EPS) + 1e-7)
    # Already misclassified images (the first two) are returned untouched.
    np.testing.assert_array_equal(x_adv[:2], x[:2])


def test_square_never_uses_gradients(case):
    _, weights, bias, x, y, breakable = case
    # The same linear model behind stop_gradient: every input gradient is exactly zero.
    inputs = keras.Input(shape=(4, 4, 3))
    blocked = keras.layers.Lambda(keras.ops.stop_gradient)(inputs)
    dense = keras.layers.Dense(10, name="logits")
    outputs = keras.layers.Softmax()(dense(keras.layers.Flatten()(blocked)))
    model = keras.Model(inputs, outputs)
    dense.set_weights([weights.astype(np.float32), bias.astype(np.float32)])
    x_adv = square.square(model, x[breakable], y[breakable], EPS, queries=400, seed=0)
    assert np.all(linear_predictions(weights, bias, x_adv) != y[breakable])


def test_a_model_without_logits_is_attacked_through_its_log_probabilities(case):
    _, weights, bias, x, y, breakable = case
    inputs = keras.Input(shape=(4, 4, 3))
    dense = keras.layers.Dense(10, activation="softmax", name="probabilities")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
    dense.set_weights([weights.astype(np.float32), bias.astype(np.float32)])
    x_adv = square.square(model, x, y, EPS, queries=400, seed=0)
    np.testing.assert_array_equal(linear_predictions(weights, bias, x_adv) != y, breakable)


def test_square_stays_in_the_eps_ball_and_the_unit_interval(case):
    model, _, _, _, y, _ = case
    rng = np.random.default_rng(3)
    x = np.where(rng.random((16, 4, 4, 3)) < 0.5, rng.integers(0, 2, (16, 4, 4, 3)), rng.random((16, 4, 4, 3)))
    x = x.astype(np.float32)
    x_adv = square.square(model, x, y, 0.2, queries=50, seed=0)
    assert x_adv.dtype == np.float32 and x_adv.shape == x.shape
    assert np.all(np.abs(x_adv - x) <= np.float32(0.2) + 1e-7)
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    # Every perturbed pixel sits on a corner of the ball unless the clip cut it short.
    moved = np.abs(x_adv - x)
    inside = (x > 0.2) & (x < 0.8) & (moved > 0)
    np.testing.assert_allclose(moved[inside], 0.2, rtol=1e-5)


def test_same_seed_same_result_and_batch_size_changes_nothing(case):
    model, _, _, x, y, _ = case
    first = square.square(model, x, y, EPS, queries=60, seed=5)
    np.testing.assert_array_equal(first, square.square(model, x, y, EPS, queries=60, seed=5))
    # The margins differ in the last bit between batch sizes, which only matters where
    # a candidate ties with the current best to the last bit; none does here.
    np.testing.assert_array_equal(first, square.square(model, x, y, EPS, queries=60, seed=5, batch_size=3))
    assert not np.array_equal(first, square.square(model, x, y, EPS, queries=60, seed=6))


def test_queries_are_counted_per_image_and_fooled_images_stop(case, monkeypatch):
    model, _, _, x, y, breakable = case
    evaluated = []
    original = square._margins

    def counting(scores, images, labels, batch_size):
        evaluated.append(len(images))
        return original(scores, images, labels, batch_size)

    monkeypatch.setattr(square, "_margins", counting)
    square.square(model, x[~breakable], y[~breakable], EPS, queries=30, seed=0)
    # The clean check, then the stripes, then 29 single-window candidates per image.
    assert evaluated == [int((~breakable).sum())] * 31
    evaluated.clear()
    square.square(model, x[breakable], y[breakable], EPS, queries=400, seed=0)
    # Only images still correctly classified are evaluated: the two already fooled ones
    # never are, and the loop ends once the last image falls.
    assert evaluated[0] == breakable.sum() and max(evaluated[1:]) <= breakable.sum() - 2
    assert len(evaluated) < 400 and evaluated[-1] >= 1


def test_p_schedule_is_the_papers_rescaled_to_the_budget():
    assert square.p_schedule(0, 10_000, 0.05) == 0.05
    assert square.p_schedule(10, 10_000, 0.05) == 0.05
    assert square.p_schedule(11, 10_000, 0.05) == 0.025
    assert square.p_schedule(201, 10_000, 0.05) == 0.05 / 8
    assert square.p_schedule(9_999, 10_000, 0.05) == 0.05 / 512
    # With 1000 queries iteration i is iteration 10 i of the paper's schedule.
    assert square.p_schedule(1, 1000, 0.05) == 0.05
    assert square.p_schedule(2, 1000, 0.05) == 0.025
    assert square.p_schedule(999, 1000, 0.05) == 0.05 / 512


def test_eps_zero_returns_x(case):
    model, _, _, x, y, _ = case
    np.testing.assert_array_equal(square.square(model, x, y, 0.0, queries=10, seed=0), x)

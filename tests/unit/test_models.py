"""The report's CNN: Table 1 shapes and counts, and temperature changes that share weights."""

import keras
import numpy as np
import pytest

from advlib import models
from tests.support.linear_models import linear_softmax_model


def test_parameter_count_matches_the_report():
    # Table 1 of the report: 150,954 parameters, counted on a built model (trainable
    # weights plus the batch norms' moving statistics, as the report's summary counts them).
    model = models.build_cnn(seed=0)
    assert model.count_params() == 150_954
    assert sum(int(np.prod(weight.shape)) for weight in model.weights) == 150_954
    assert models.TOTAL_PARAMETERS == model.count_params()


def test_every_layer_matches_table_1():
    model = models.build_cnn(seed=0)
    # Drop the input layer and the parameter-free softmax that Table 1 folds into the dense layer.
    body = [layer for layer in model.layers[1:] if not isinstance(layer, models.TemperatureSoftmax)]
    observed = [(type(layer).__name__, tuple(layer.output.shape[1:]), layer.count_params()) for layer in body]
    assert observed == list(models.TABLE_1)
    assert sum(count for _, _, count in observed) == 150_954


def test_outputs_are_probabilities_at_the_given_temperature():
    model = models.build_cnn(temperature=4.0, seed=0)
    x = np.random.default_rng(0).random((5, 32, 32, 3), dtype=np.float32)
    probabilities = model(x, training=False).numpy()
    logits = models.logits_model(model)(x, training=False).numpy().astype(np.float64)
    expected = np.exp(logits / 4.0 - (logits / 4.0).max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probabilities, expected, rtol=1e-5, atol=1e-7)
    assert models.get_temperature(model) == 4.0


def test_with_temperature_shares_weights_without_copying():
    model = models.build_cnn(temperature=50.0, seed=0)
    cold = models.with_temperature(model, 1.0)
    assert models.get_temperature(cold) == 1.0
    assert all(a is b for a, b in zip(cold.trainable_weights, model.trainable_weights))
    # Changing the original's weights changes the other model too.
    kernel = model.get_layer("logits").kernel
    kernel.assign(kernel.numpy() * 3.0)
    x = np.random.default_rng(1).random((3, 32, 32, 3), dtype=np.float32)
    logits = models.logits_model(model)(x, training=False).numpy()
    np.testing.assert_array_equal(np.argmax(cold(x, training=False).numpy(), 1), np.argmax(logits, 1))
    shifted = logits - logits.max(axis=1, keepdims=True)
    expected = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(cold(x, training=False).numpy(), expected, rtol=1e-4, atol=1e-6)


def test_same_seed_same_initial_weights():
    first = models.build_cnn(seed=3).get_weights()
    second = models.build_cnn(seed=3).get_weights()
    third = models.build_cnn(seed=4).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not all(np.array_equal(a, c) for a, c in zip(first, third))


@pytest.mark.parametrize("temperature", [0, -1, float("nan"), float("inf"), "hot", None])
def test_bad_temperature_is_refused(temperature):
    with pytest.raises(ValueError, match="temperature"):
        models.build_cnn(temperature=temperature)
    with pytest.raises(ValueError, match="temperature"):
        models.with_temperature(models.build_cnn(), temperature)


def test_clone_weights_only_copies_values_not_variables():
    model = models.build_cnn(temperature=4.0, seed=0)
    copy = models.clone_weights_only(model)
    assert models.get_temperature(copy) == 4.0
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), copy.get_weights()))
    assert copy.trainable_weights[0] is not model.trainable_weights[0]


def test_input_noise_adds_fresh_plus_minus_eps_at_test_time():
    noise = models.RandomSignNoise(eps=0.03, seed=0)
    x = np.full((4, 32, 32, 3), 0.5, dtype=np.float32)
    first = noise(x, training=False).numpy()
    second = noise(x, training=False).numpy()
    np.testing.assert_allclose(np.abs(first - x), 0.03, rtol=1e-5)
    assert 0.45 < np.mean(first > x) < 0.55
    assert not np.array_equal(first, second), "every call draws new noise"
    edges = noise(np.zeros((2, 8, 8, 3), np.float32)).numpy()
    assert edges.min() >= 0.0 and set(np.unique(edges)) <= {0.0, np.float32(0.03)}


def test_noisy_model_shares_weights_and_changes_some_predictions():
    model = models.build_cnn(seed=0)
    noisy = models.with_input_noise(model, eps=0.05, seed=1)
    assert all(any(w is v for v in noisy.trainable_weights) for w in model.trainable_weights)
    x = np.random.default_rng(0).random((64, 32, 32, 3), dtype=np.float32)
    clean = model(x, training=False).numpy()
    with_noise = noisy(x, training=False).numpy()
    assert with_noise.shape == clean.shape
    assert not np.allclose(with_noise, clean)
    with pytest.raises(ValueError, match="eps"):
        models.RandomSignNoise(eps=-0.1)


def test_with_temperature_outputs_the_softmax_of_the_logits_over_the_new_temperature():
    model = models.build_cnn(temperature=1.0, seed=0)
    kernel = model.get_layer("logits").kernel
    kernel.assign(kernel.numpy() * 20)  # far from uniform at T = 1, so T = 4 is visibly flatter
    x = np.random.default_rng(2).random((4, 32, 32, 3), dtype=np.float32)
    logits = models.logits_model(model)(x, training=False).numpy().astype(np.float64)
    hot = models.with_temperature(model, 4.0)
    assert models.get_temperature(hot) == 4.0 and models.get_temperature(model) == 1.0
    expected = np.exp(logits / 4.0 - (logits / 4.0).max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(hot(x, training=False).numpy(), expected, rtol=1e-5, atol=1e-7)
    assert np.abs(expected - model(x, training=False).numpy()).max() > 0.05


def test_logits_model_outputs_the_dense_layer_before_any_softmax():
    rng = np.random.default_rng(3)
    weights, bias = rng.normal(size=(48, 10)), rng.normal(size=10)
    model = linear_softmax_model(weights, bias, temperature=7.0)
    x = rng.uniform(0.0, 1.0, size=(5, 4, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(
        models.logits_model(model)(x, training=False).numpy(), x.reshape(5, -1) @ weights + bias, rtol=1e-4, atol=1e-4
    )


def identity_model():
    """A model that returns its (flattened) input, to look at what the noise layer adds."""
    inputs = keras.Input(shape=(4, 4, 3))
    return keras.Model(inputs, keras.layers.Flatten()(inputs))


@pytest.mark.parametrize("eps", [0.01, 0.07])
def test_with_input_noise_adds_plus_or_minus_eps_before_the_model(eps):
    noisy = models.with_input_noise(identity_model(), eps=eps, seed=0)
    x = np.full((64, 4, 4, 3), 0.5, np.float32)
    seen = noisy(x, training=False).numpy()
    np.testing.assert_allclose(np.abs(seen - 0.5), eps, rtol=1e-5)
    assert 0.4 < np.mean(seen > 0.5) < 0.6
    # Fresh noise on every call, also when Keras says training=True.
    again = noisy(x, training=True).numpy()
    np.testing.assert_allclose(np.abs(again - 0.5), eps, rtol=1e-5)
    assert not np.array_equal(seen, again)
    # Pixels at 0 and 1 stay in [0, 1]: the noise is clipped, not reflected.
    edges = noisy(np.concatenate([np.zeros((2, 4, 4, 3)), np.ones((2, 4, 4, 3))]).astype(np.float32)).numpy()
    assert set(np.unique(edges[:2])) <= {0.0, np.float32(eps)}
    assert set(np.unique(edges[2:])) <= {1.0, np.float32(1.0 - eps)}


def test_logits_model_of_a_noisy_model_adds_the_noise_before_the_inner_logits():
    # Every weight 1: each logit is the sum of the 48 noisy pixels plus its bias, so the
    # noise's share of a logit is eps times an even count of +1 against -1 signs, minus 48.
    weights, bias = np.ones((48, 10)), np.arange(10.0)
    model = linear_softmax_model(weights, bias, temperature=1.0)
    eps = 0.05
    x = np.full((32, 4, 4, 3), 0.5, np.float32)
    clean = models.logits_model(model)(x, training=False).numpy()
    noisy = models.logits_model(models.with_input_noise(model, eps=eps, seed=3))
    first, second = noisy(x, training=False).numpy(), noisy(x, training=False).numpy()
    counts = (first - clean) / eps
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-3)
    assert set(np.round(counts).astype(int).ravel() % 2) == {0} and np.abs(counts).max() <= 48
    # Every logit of an image sees the same noise draw; every call draws new noise.
    np.testing.assert_allclose(first - first[:, :1], clean - clean[:, :1], atol=1e-4)
    assert np.abs(counts).max() > 0 and not np.array_equal(first, second)
    without = models.logits_model(models.with_input_noise(model, eps=0.0, seed=3))(x, training=False).numpy()
    np.testing.assert_allclose(without, clean, atol=1e-5)

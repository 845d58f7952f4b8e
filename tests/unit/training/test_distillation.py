"""Defensive distillation: which temperature reaches the soft labels and the student.

The soft labels must be the teacher's softmax at the temperature asked for (not at T = 1,
not at the teacher's own temperature), and the student must be built and trained with its
softmax at that temperature. Training itself is replaced by a recording stand-in, so
these tests check what reaches :func:`advlib.training.recipes.fit` in well under a second.
"""

import numpy as np
import pytest

from advlib import models
from advlib.training import distillation, recipes as training

CONFIG = training.TrainingConfig(epochs=1, batch_size=8, warmup_epochs=0, seed=3)


def softmax(logits, temperature):
    scaled = np.asarray(logits, np.float64) / temperature
    exponentials = np.exp(scaled - scaled.max(axis=1, keepdims=True))
    return exponentials / exponentials.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((8, 32, 32, 3), dtype=np.float32)


@pytest.mark.parametrize("own_temperature", [1.0, 50.0])
def test_soft_labels_are_made_at_the_asked_temperature_whatever_the_teachers_own(images, own_temperature):
    teacher = models.build_cnn(temperature=own_temperature, seed=0)
    # Sharpen the untrained teacher so that T = 1, T = 4 and T = 50 give clearly different rows.
    kernel = teacher.get_layer("logits").kernel
    kernel.assign(kernel.numpy() * 20)
    logits = models.logits_model(teacher)(images, training=False).numpy()
    expected = softmax(logits, 4.0)
    for wrong in (1.0, 50.0):
        assert np.abs(expected - softmax(logits, wrong)).max() > 0.05, "the fixture must tell temperatures apart"
    labels = distillation.soft_labels(teacher, images, 4.0, batch_size=3)
    assert labels.dtype == np.float32 and labels.shape == (8, 10)
    np.testing.assert_allclose(labels, expected, atol=1e-5)
    np.testing.assert_allclose(labels.sum(axis=1), 1.0, atol=1e-6)
    # The teacher itself is left at its own temperature.
    assert models.get_temperature(teacher) == own_temperature


@pytest.fixture
def recorded_fit(monkeypatch):
    """Replace advlib.training.recipes.fit by a stand-in that records its arguments and trains nothing."""
    calls = []

    def fake_fit(model, data_for_epoch, config, *, epoch_size, **fit_arguments):
        calls.append(dict(model=model, data=data_for_epoch(0, model), config=config, epoch_size=epoch_size,
                          fit_arguments=fit_arguments))
        return {"loss": [0.5]}

    monkeypatch.setattr(training, "fit", fake_fit)
    return calls


def test_student_is_built_and_trained_at_the_asked_temperature_on_the_given_labels(images, recorded_fit):
    logits = np.random.default_rng(1).normal(size=(8, 10)) * 5
    labels = softmax(logits, 4.0).astype(np.float32)
    student, history = distillation.train_student(images, labels, CONFIG, temperature=4.0, verbose=0)
    (call,) = recorded_fit
    assert call["model"] is student and history == {"loss": [0.5]}
    # The model that is trained has its softmax at T = 4, not at 1.
    assert models.get_temperature(call["model"]) == 4.0
    student_logits = models.logits_model(student)(images, training=False).numpy()
    np.testing.assert_allclose(student(images, training=False).numpy(), softmax(student_logits, 4.0), atol=1e-6)
    # It trains on the images and the soft labels as given (not hardened, not reordered).
    x_epoch, y_epoch = call["data"]
    np.testing.assert_array_equal(x_epoch, images)
    np.testing.assert_array_equal(y_epoch, labels)
    assert call["config"] is CONFIG and call["epoch_size"] == 8 and call["fit_arguments"] == {"verbose": 0}
    # The initial weights are build_cnn's for the configured seed.
    fresh = models.build_cnn(temperature=4.0, seed=CONFIG.seed)
    assert all(np.array_equal(a, b) for a, b in zip(student.get_weights(), fresh.get_weights()))


def test_student_temperature_follows_the_argument(images, recorded_fit):
    labels = np.full((8, 10), 0.1, np.float32)
    for temperature in (1.0, 50.0):
        student, _ = distillation.train_student(images, labels, CONFIG, temperature=temperature)
        assert models.get_temperature(student) == temperature
    assert [models.get_temperature(call["model"]) for call in recorded_fit] == [1.0, 50.0]

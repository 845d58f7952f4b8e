"""Training recipes and distillation: data pipeline, soft labels, checkpoints."""

import numpy as np
import tensorflow as tf
import pytest

from advlib import models
from advlib.attacks import one_step as attacks
from advlib.training import distillation, recipes as training


@pytest.fixture
def small_data():
    rng = np.random.default_rng(0)
    x = rng.random((64, 32, 32, 3), dtype=np.float32)
    y = np.arange(64) % 10
    return x, y


CONFIG = training.TrainingConfig(epochs=2, batch_size=16, warmup_epochs=1, seed=3)


@pytest.mark.parametrize(
    "arguments, message",
    [(dict(epochs=0), "epochs"), (dict(batch_size=0), "batch_size"), (dict(learning_rate=0.0), "learning_rate"),
     (dict(epochs=2, warmup_epochs=2), "warmup_epochs"), (dict(eps=-1.0), "eps")],
)
def test_bad_training_config_is_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        training.TrainingConfig(**arguments)


def test_dataset_batches_stay_in_range_and_repeat_with_the_seed(small_data):
    x, y = small_data
    labels = training.one_hot(y)
    first = [batch for batch in training.make_dataset(x, labels, batch_size=16, seed=5)]
    again = [batch for batch in training.make_dataset(x, labels, batch_size=16, seed=5)]
    other = [batch for batch in training.make_dataset(x, labels, batch_size=16, seed=6)]
    assert [len(images) for images, _ in first] == [16, 16, 16, 16]
    for (images, batch_labels), (images_again, labels_again) in zip(first, again):
        assert images.shape[1:] == (32, 32, 3)
        assert 0.0 <= float(np.min(images)) and float(np.max(images)) <= 1.0
        np.testing.assert_array_equal(images.numpy(), images_again.numpy())
        np.testing.assert_array_equal(batch_labels.numpy(), labels_again.numpy())
    assert not np.array_equal(first[0][0].numpy(), other[0][0].numpy())
    # Augmentation changes the images, and every label is still one of the originals.
    plain = np.concatenate([images for images, _ in training.make_dataset(x, labels, batch_size=16, augment=False, shuffle=False)])
    np.testing.assert_array_equal(plain, x)
    assert not any(np.allclose(first[0][0].numpy()[0], image) for image in x)


def test_soft_labels_are_distributions_that_flatten_with_temperature(small_data):
    x, _ = small_data
    teacher = models.build_cnn(seed=0)
    # Sharpen the untrained teacher so its outputs are far from uniform at T = 1.
    kernel = teacher.get_layer("logits").kernel
    kernel.assign(kernel.numpy() * 200)
    entropies = []
    for temperature in (1.0, 4.0, 50.0):
        labels = distillation.soft_labels(teacher, x, temperature)
        assert labels.shape == (64, 10) and labels.dtype == np.float32
        assert np.all(labels >= 0)
        np.testing.assert_allclose(labels.sum(axis=1), 1.0, atol=1e-6)
        entropies.append(float(np.mean(-np.sum(labels * np.log(np.maximum(labels, 1e-30)), axis=1))))
    assert entropies[0] < entropies[1] < entropies[2] <= np.log(10) + 1e-6
    # The arg-max never depends on the temperature.
    np.testing.assert_array_equal(
        np.argmax(distillation.soft_labels(teacher, x, 1.0), 1), np.argmax(distillation.soft_labels(teacher, x, 50.0), 1)
    )


def test_soft_labels_are_the_softmax_of_the_logits_over_the_temperature(small_data):
    x, _ = small_data
    teacher = models.build_cnn(seed=0, temperature=1.0)
    kernel = teacher.get_layer("logits").kernel
    kernel.assign(kernel.numpy() * 20)
    logits = models.logits_model(teacher).predict(x, verbose=0).astype(np.float64)
    for temperature in (1.0, 4.0, 50.0):
        # The softmax by hand, in float64, shifted by the row maximum for stability.
        scaled = logits / temperature
        expected = np.exp(scaled - scaled.max(axis=1, keepdims=True))
        expected /= expected.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(distillation.soft_labels(teacher, x, temperature), expected, atol=1e-5)


def test_student_on_one_hot_labels_is_ordinary_training(small_data):
    x, y = small_data
    baseline, baseline_history = training.train_baseline(x, y, CONFIG, verbose=0)
    student, student_history = distillation.train_student(x, training.one_hot(y), CONFIG, temperature=1.0, verbose=0)
    for ours, theirs in zip(baseline.get_weights(), student.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(baseline_history["loss"], student_history["loss"], rtol=1e-5)


def test_student_rejects_labels_that_are_not_distributions(small_data):
    x, y = small_data
    with pytest.raises(ValueError, match="probability distributions"):
        distillation.train_student(x, training.one_hot(y) * 2, CONFIG, temperature=4.0, verbose=0)
    with pytest.raises(ValueError, match="shape"):
        distillation.train_student(x, training.one_hot(y)[:10], CONFIG, temperature=4.0, verbose=0)


def test_per_epoch_training_attacks_the_current_model_every_epoch(small_data, monkeypatch):
    x, y = small_data
    seen = []
    original = attacks.fgsm

    def spy(model, images, labels, eps, **kwargs):
        seen.append([weight.copy() for weight in model.get_weights()[:1]])
        return original(model, images, labels, eps, **kwargs)

    monkeypatch.setattr(attacks, "fgsm", spy)
    training.train_per_epoch_at(x, y, CONFIG, verbose=0)
    assert len(seen) == CONFIG.epochs
    # The second epoch's copies come from the weights after the first epoch, not the initial ones.
    assert not np.array_equal(seen[0][0], seen[1][0])


def test_random_training_sets_hold_random_sign_copies(small_data, monkeypatch):
    x, y = small_data
    captured = []
    original = training.EpochPipeline.epoch

    def spy(self, images, labels, seed):
        # The clean images and their copies reach the pipeline as two parts of one set.
        captured.append((np.concatenate(images) if isinstance(images, tuple) else images, labels))
        return original(self, images, labels, seed)

    monkeypatch.setattr(training.EpochPipeline, "epoch", spy)
    training.train_random_at(x, y, CONFIG, verbose=0)
    training.train_random_every_epoch(x, y, CONFIG, verbose=0)
    (once_0, labels_0), (once_1, _), (every_0, _), (every_1, _) = captured
    assert len(once_0) == 2 * len(x)
    np.testing.assert_array_equal(once_0[: len(x)], x)
    np.testing.assert_allclose(np.abs(once_0[len(x):] - x)[(x > 0.01) & (x < 0.99)], 0.01, rtol=1e-4)
    np.testing.assert_array_equal(labels_0[len(x):], training.one_hot(y))
    # Made once: the same copies in both epochs; made every epoch: new copies.
    np.testing.assert_array_equal(once_0, once_1)
    assert not np.array_equal(every_0[len(x):], every_1[len(x):])


def test_checkpoint_resumes_where_it_stopped(small_data, tmp_path, capsys):
    x, y = small_data
    config = training.TrainingConfig(epochs=3, batch_size=16, seed=1)
    model = models.build_cnn(seed=1)
    # Train two epochs of a three-epoch run, as if killed before the third.
    calls = []

    def data_for_epoch(epoch, model):
        calls.append(epoch)
        if epoch == 2:
            raise KeyboardInterrupt
        return x, training.one_hot(y)

    with pytest.raises(KeyboardInterrupt):
        training.fit(model, data_for_epoch, config, epoch_size=len(x), checkpoint_dir=tmp_path, verbose=0)
    resumed_calls = []
    resumed = models.build_cnn(seed=1)
    history = training.fit(
        resumed, lambda epoch, model: (resumed_calls.append(epoch), (x, training.one_hot(y)))[1], config,
        epoch_size=len(x), checkpoint_dir=tmp_path, verbose=0,
    )
    assert calls == [0, 1, 2] and resumed_calls == [2]
    assert len(history["loss"]) == 3
    assert int(resumed.optimizer.iterations.numpy()) == 3 * 4
    # The message names the run, never the machine's folder layout (it lands in notebooks).
    printed = capsys.readouterr().out
    assert "2 of 3 epochs done" in printed and str(tmp_path) not in printed


def test_fast_adversarial_batches_stay_in_the_ball_and_attack_the_current_weights(small_data):
    x, y = small_data
    model = models.build_cnn(seed=0)
    trainer = training.FastAdversarialTrainer(model, eps=0.03, step_size=0.0375, seed=0)
    training.compile_model(trainer, CONFIG, steps_per_epoch=4)
    labels = training.one_hot(y)
    adversarial = trainer._adversarial_batch(x, labels).numpy()
    assert np.all(np.abs(adversarial - x) <= 0.03 + 1e-6)
    assert adversarial.min() >= 0.0 and adversarial.max() <= 1.0
    # One signed step from a random start raises the loss above that of the clean images.
    loss = lambda images: float(np.mean(attacks.probability_cross_entropy(labels, model(images, training=False)).numpy()))
    assert loss(adversarial) > loss(x)
    with pytest.raises(ValueError, match="positive"):
        training.FastAdversarialTrainer(model, eps=0.0, step_size=0.01)


def test_fast_adversarial_training_returns_the_plain_model_and_resumes(small_data, tmp_path):
    x, y = small_data
    model, history = training.train_robust_fast_at(x, y, CONFIG, train_eps=0.02, checkpoint_dir=tmp_path, verbose=0)
    assert model.name == "cifar10_cnn" and len(history["loss"]) == CONFIG.epochs
    again, _ = training.train_robust_fast_at(x, y, CONFIG, train_eps=0.02, checkpoint_dir=tmp_path, verbose=0)
    for ours, theirs in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


def test_fast_adversarial_training_can_start_from_given_weights(small_data):
    x, y = small_data
    start = models.build_cnn(seed=11)
    fresh = models.build_cnn(seed=CONFIG.seed)
    # A learning rate this small leaves the trainable weights where they started, so they
    # show which initialisation was used (batch-norm statistics still move; they are skipped).
    config = training.TrainingConfig(epochs=1, batch_size=16, warmup_epochs=0, seed=CONFIG.seed, learning_rate=1e-12)
    model, _ = training.train_robust_fast_at(x, y, config, initial_weights=start.get_weights(), verbose=0)
    for trained, started, other in zip(model.trainable_weights, start.trainable_weights, fresh.trainable_weights):
        np.testing.assert_allclose(trained.numpy(), started.numpy(), atol=1e-6)
        if trained.shape.rank > 1:
            assert np.max(np.abs(trained.numpy() - other.numpy())) > 1e-3
    with pytest.raises(ValueError, match="initial_weights has 1 arrays"):
        training.train_robust_fast_at(x, y, config, initial_weights=[np.zeros(3)], verbose=0)


def _two_class_trainer(attack_steps=1, ema_decay=None, eps=0.05, step_size=0.02):
    import keras

    from tests.support.linear_models import linear_softmax_model

    rng = np.random.default_rng(5)
    weights, bias = rng.normal(size=(48, 2)), np.zeros(2)
    model = linear_softmax_model(weights, bias)
    trainer = training.FastAdversarialTrainer(model, eps=eps, step_size=step_size, seed=0, attack_steps=attack_steps, ema_decay=ema_decay)
    trainer.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss="categorical_crossentropy")
    return trainer, weights


@pytest.mark.parametrize("steps", [1, 3])
def test_pgd_training_takes_attack_steps_projected_steps_along_the_closed_form_gradient_sign(steps):
    eps, step_size = 0.05, 0.02
    trainer, weights = _two_class_trainer(attack_steps=steps, eps=eps, step_size=step_size)
    rng = np.random.default_rng(6)
    x = rng.uniform(0.0, 1.0, size=(16, 4, 4, 3)).astype(np.float32)
    start = np.clip(x + rng.uniform(-eps, eps, size=x.shape), 0.0, 1.0).astype(np.float32)
    labels = training.one_hot(np.zeros(16, dtype=int), num_classes=2)
    # For true class 0 the cross-entropy's input gradient is p_1 (w_1 - w_0): its sign is
    # that of w_1 - w_0 at every point, so each step adds step_size * that sign.
    direction = np.sign(weights[:, 1] - weights[:, 0]).reshape(4, 4, 3).astype(np.float32)
    expected = start
    for _ in range(steps):
        expected = np.clip(np.clip(expected + step_size * direction, x - eps, x + eps), 0.0, 1.0)
    found = trainer._attack_from(tf.constant(start), tf.constant(x), tf.constant(labels)).numpy()
    np.testing.assert_allclose(found, expected, atol=1e-6)
    # Three steps move further than one: the fixture tells the two apart.
    one_step = np.clip(np.clip(start + step_size * direction, x - eps, x + eps), 0.0, 1.0)
    assert np.allclose(found, one_step, atol=1e-6) == (steps == 1)


def test_the_moving_average_follows_every_step_of_the_weights():
    # With 0.3 the warm-up decay (1 + n) / (10 + n) is smaller for steps 1 and 2 (2/11, 3/12)
    # and larger from step 3 (4/13): the four steps check both sides of the minimum.
    decay = 0.3
    trainer, _ = _two_class_trainer(ema_decay=decay)
    model = trainer.model
    rng = np.random.default_rng(7)
    x = rng.uniform(0.0, 1.0, size=(8, 4, 4, 3)).astype(np.float32)
    y = training.one_hot(rng.integers(0, 2, size=8), num_classes=2)
    expected = [weight.copy() for weight in model.get_weights()]
    np.testing.assert_array_equal(trainer.averaged_weights()[0], expected[0])
    for step in range(1, 5):
        trainer.train_on_batch(x, y)
        # The average, recomputed here from the weights after each step.
        used = min(decay, (1 + step) / (10 + step))
        expected = [used * average + (1 - used) * weight for average, weight in zip(expected, model.get_weights())]
    for found, wanted in zip(trainer.averaged_weights(), expected):
        np.testing.assert_allclose(found, wanted, rtol=1e-5, atol=1e-6)
    assert not np.allclose(trainer.averaged_weights()[0], model.get_weights()[0])
    with pytest.raises(ValueError, match="ema_decay"):
        _two_class_trainer(ema_decay=1.0)
    with pytest.raises(ValueError, match="keeps no averages"):
        _two_class_trainer()[0].averaged_weights()
    with pytest.raises(ValueError, match="attack_steps"):
        _two_class_trainer(attack_steps=0)


def test_fast_adversarial_training_with_averaging_returns_the_averaged_weights_and_resumes_them(small_data, tmp_path):
    x, y = small_data
    model, _ = training.train_robust_fast_at(x, y, CONFIG, ema_decay=0.5, checkpoint_dir=tmp_path, verbose=0)
    plain, _ = training.train_robust_fast_at(x, y, CONFIG, verbose=0)
    # Same seed, same steps: only the returned weights differ (the average, not the last).
    assert any(not np.allclose(a, b) for a, b in zip(model.get_weights(), plain.get_weights()))
    # The averages live in the checkpoint: a finished run loads them back unchanged.
    again, _ = training.train_robust_fast_at(x, y, CONFIG, ema_decay=0.5, checkpoint_dir=tmp_path, verbose=0)
    for ours, theirs in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(ours, theirs)

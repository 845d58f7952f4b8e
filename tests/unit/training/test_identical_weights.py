"""The training loop trains, bit for bit, the weights of the loop the shipped models were trained with.

The shipped models (``advlib/pretrained/``) took 16 hours of training and cannot be
retrained for every change of the loop, so a faster loop (issue 31: one input pipeline
for the whole run instead of one per epoch, no concatenation of the adversarial copies)
must keep every random stream: the shuffle order, the augmentation draws, dropout, the
random-sign noise, the FGSM copies. ``_reference_fit`` below is the loop as it was before
that change, copied with its own ``make_dataset``, ``augmentation`` and ``random_sign``
(so a change to the library's copies cannot pass unnoticed), and each recipe is trained
on the test profile through both and compared exactly, weights and history.

Why a reference loop in the test rather than weights saved from the old code: float32
training gives different bits on different CPUs (oneDNN chooses its kernels by
instruction set), so saved weights would fail on another machine, while two runs of the
same arithmetic on one machine must agree exactly.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from advlib import attacks, data, models
from advlib.plan import registry
from advlib.training import distillation, recipes as training
from tests.support.sources import make_image_tree


# --- the loop before issue 31, as it was ------------------------------------------------


def _reference_augmentation(seed):
    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal", seed=seed),
            keras.layers.RandomBrightness(0.1, value_range=(0.0, 1.0), seed=seed + 1),
            keras.layers.RandomContrast(0.1, seed=seed + 2),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="nearest", seed=seed + 3),
        ],
        name="augmentation",
    )


def _reference_make_dataset(x, y, *, batch_size, seed):
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=False)
    dataset = dataset.batch(batch_size)
    layer = _reference_augmentation(seed)

    def augment_batch(images, labels):
        return tf.clip_by_value(layer(images, training=True), 0.0, 1.0), labels

    return dataset.map(augment_batch).prefetch(tf.data.AUTOTUNE)


def _reference_random_sign(x, eps, *, seed):
    generator = np.random.default_rng(seed)
    signs = generator.integers(0, 2, size=x.shape, dtype=np.int8) * 2 - 1
    x_noisy = x + np.float32(eps) * signs.astype(np.float32)
    np.clip(x_noisy, 0.0, 1.0, out=x_noisy)
    return x_noisy


class _StopAfterOneEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = True


def _reference_fit(model, data_for_epoch, config, *, epoch_size, checkpoint_dir=None, validation_data=None):
    keras.utils.set_random_seed(config.seed)
    training.compile_model(model, config, int(np.ceil(epoch_size / config.batch_size)))
    epochs_done, history = 0, {}
    if checkpoint_dir is not None:
        epochs_done, history = training.load_checkpoint(model, checkpoint_dir)
    for epoch in range(epochs_done, config.epochs):
        x_epoch, y_epoch = data_for_epoch(epoch, model)
        dataset = _reference_make_dataset(x_epoch, y_epoch, batch_size=config.batch_size, seed=config.seed * 1000 + epoch)
        result = model.fit(
            dataset, initial_epoch=epoch, epochs=config.epochs, callbacks=[_StopAfterOneEpoch()],
            validation_data=validation_data, validation_batch_size=1000, shuffle=False, verbose=0,
        )
        for key, values in result.history.items():
            history.setdefault(key, []).extend(float(value) for value in values)
        if checkpoint_dir is not None:
            training.save_checkpoint(model, checkpoint_dir, epoch + 1, history)
    return history


def _reference_train(recipe, x, y, config, options, **fit_arguments):
    """The recipes of advlib.training before issue 31, on the reference loop; returns ``(model, history)``."""
    model = models.build_cnn(seed=config.seed)
    labels = training.one_hot(y)
    doubled = np.concatenate([labels, labels])
    if recipe == "baseline":
        return model, _reference_fit(model, lambda epoch, model: (x, labels), config, epoch_size=len(x), **fit_arguments)
    if recipe == "random_at":
        x_train = np.concatenate([x, _reference_random_sign(x, config.eps, seed=config.seed)])
        return model, _reference_fit(model, lambda epoch, model: (x_train, doubled), config, epoch_size=len(x_train), **fit_arguments)
    if recipe == "random_every_epoch":
        def data_for_epoch(epoch, model):
            return np.concatenate([x, _reference_random_sign(x, config.eps, seed=config.seed * 1000 + epoch)]), doubled
        return model, _reference_fit(model, data_for_epoch, config, epoch_size=2 * len(x), **fit_arguments)
    if recipe == "per_epoch_at":
        def data_for_epoch(epoch, model):
            return np.concatenate([x, attacks.fgsm(model, x, y, config.eps)]), doubled
        return model, _reference_fit(model, data_for_epoch, config, epoch_size=2 * len(x), **fit_arguments)
    if recipe == "robust_fast_at":
        train_eps = dict(options)["train_eps"]
        trainer = training.FastAdversarialTrainer(model, train_eps, 1.25 * train_eps, seed=config.seed)
        return model, _reference_fit(trainer, lambda epoch, model: (x, training.one_hot(y)), config, epoch_size=len(x), **fit_arguments)
    raise AssertionError(recipe)


# --- the comparison ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def test_profile_data(tmp_path_factory):
    """The test profile's training and test sets, from a small hand-made image tree."""
    root = tmp_path_factory.mktemp("identical")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ADVLIB_CACHE_DIR", str(root / "cache"))
        per_class = registry.get_profile("test").per_class
        (x_train, y_train), (x_test, y_test) = data.load_cifar10(make_image_tree(root / "cifar"), per_class=per_class)
    x_train, _ = data.preprocess(x_train, y_train)
    x_test, _ = data.preprocess(x_test, y_test)
    return x_train, y_train, (x_test, training.one_hot(y_test))


def _assert_identical(ours, reference):
    (model, history), (reference_model, reference_history) = ours, reference
    for weight, reference_weight in zip(model.get_weights(), reference_model.get_weights(), strict=True):
        np.testing.assert_array_equal(weight, reference_weight)
    assert {key: values for key, values in history.items() if key in reference_history} == reference_history


RECIPES = ("baseline", "random_at", "random_every_epoch", "per_epoch_at", "robust_fast_at")


@pytest.mark.parametrize("recipe", RECIPES)
def test_each_recipe_trains_the_weights_of_the_loop_before_issue_31(recipe, test_profile_data):
    x, y, validation = test_profile_data
    spec = registry.get_spec(recipe)
    config = registry.training_config("test", spec)
    ours = training.RECIPES[recipe](x, y, config, **dict(spec.options), validation_data=validation, verbose=0)
    reference = _reference_train(recipe, x, y, config, spec.options, validation_data=validation)
    _assert_identical(ours, reference)


def test_a_student_trains_the_weights_of_the_loop_before_issue_31(test_profile_data):
    x, y, _ = test_profile_data
    config = registry.training_config("test", registry.get_spec("dd_student_t50"))
    soft = np.full((len(x), 10), 0.02, dtype=np.float32)
    soft[np.arange(len(x)), y] = 0.82
    ours = distillation.train_student(x, soft, config, temperature=1.0, verbose=0)
    model = models.build_cnn(seed=config.seed)
    reference = model, _reference_fit(model, lambda epoch, model: (x, soft), config, epoch_size=len(x))
    _assert_identical(ours, reference)


def test_a_run_resumed_after_a_kill_trains_the_weights_of_the_loop_before_issue_31(test_profile_data, tmp_path, monkeypatch):
    # Killed after the second epoch's checkpoint, then started again: the third epoch must
    # draw the same noise, shuffle and augmentation in both loops.
    x, y, _ = test_profile_data
    config = registry.training_config("test", registry.get_spec("random_every_epoch"))
    save = training.save_checkpoint

    def save_then_die(model, directory, epochs_done, history):
        save(model, directory, epochs_done, history)
        if epochs_done == 2 and not (directory / "resumed").exists():
            (directory / "resumed").touch()
            raise KeyboardInterrupt

    monkeypatch.setattr(training, "save_checkpoint", save_then_die)
    runs = {}
    for name, train in (("ours", lambda **arguments: training.train_random_every_epoch(x, y, config, verbose=0, **arguments)),
                        ("reference", lambda **arguments: _reference_train("random_every_epoch", x, y, config, (), **arguments))):
        with pytest.raises(KeyboardInterrupt):
            train(checkpoint_dir=tmp_path / name)
        runs[name] = train(checkpoint_dir=tmp_path / name)
    assert len(runs["ours"][1]["loss"]) == config.epochs
    _assert_identical(runs["ours"], runs["reference"])


@pytest.mark.parametrize("eps", [0.01, 8 / 255, 0.3])
def test_random_sign_draws_the_noise_of_the_code_before_issue_31(eps):
    x = np.random.default_rng(1).random((20, 32, 32, 3), dtype=np.float32)
    for seed in (0, 3001):
        np.testing.assert_array_equal(attacks.random_sign(x, eps, seed=seed), _reference_random_sign(x, eps, seed=seed))

"""The training input pipeline: built once per run, yet each epoch's batches are make_dataset's, bit for bit."""

import numpy as np
import pytest

from advlib import training
from advlib.attacks import one_step
from advlib.training import batches

CONFIG = training.TrainingConfig(epochs=3, batch_size=16, warmup_epochs=1, seed=3)


@pytest.fixture
def parts():
    rng = np.random.default_rng(0)
    x = rng.random((40, 32, 32, 3), dtype=np.float32)
    copies = rng.random((40, 32, 32, 3), dtype=np.float32)
    labels = training.one_hot(np.arange(40) % 10)
    return x, copies, labels


def _arrays(dataset):
    return [(images.numpy(), labels.numpy()) for images, labels in dataset]


def test_each_epoch_gives_make_datasets_batches_from_parts_never_concatenated(parts):
    x, copies, labels = parts
    import keras

    keras.utils.set_random_seed(CONFIG.seed)  # Shuffling draws from the global seed too, as in fit.
    pipeline = batches.EpochPipeline(80, batch_size=16)
    # The last batch of 80 images in batches of 16 is full; 3 epochs, new copies and seeds.
    for epoch, seed in enumerate((3000, 3001, 3000)):
        epoch_copies = copies if epoch != 1 else copies[::-1].copy()
        ours = _arrays(pipeline.epoch((x, epoch_copies), (labels, labels), seed))
        expected = _arrays(training.make_dataset(np.concatenate([x, epoch_copies]), np.concatenate([labels, labels]),
                                                 batch_size=16, seed=seed))
        assert len(ours) == len(expected) == 5
        for (images, batch_labels), (expected_images, expected_labels) in zip(ours, expected):
            np.testing.assert_array_equal(images, expected_images)
            np.testing.assert_array_equal(batch_labels, expected_labels)
    # A partial last batch, from one array.
    pipeline = batches.EpochPipeline(40, batch_size=16)
    ours = _arrays(pipeline.epoch(x, labels, 7))
    expected = _arrays(training.make_dataset(x, labels, batch_size=16, seed=7))
    assert [len(images) for images, _ in ours] == [16, 16, 8]
    for (images, _), (expected_images, _) in zip(ours, expected):
        np.testing.assert_array_equal(images, expected_images)


def test_the_pipeline_is_traced_once_per_run_not_once_per_epoch(parts, monkeypatch):
    x, _, labels = parts
    traces = []
    original = batches.clip_to_images

    def counting_clip(images):
        # Python code inside a tf.data map runs only while the map is traced.
        traces.append(1)
        return original(images)

    monkeypatch.setattr(batches, "clip_to_images", counting_clip)
    from advlib import models

    training.fit(models.build_cnn(seed=0), lambda epoch, model: (x, labels), CONFIG, epoch_size=len(x), verbose=0)
    assert len(traces) == 1


def test_fgsm_copies_are_made_every_epoch_without_retracing(parts, monkeypatch):
    x, _, _ = parts
    y = np.arange(len(x)) % 10
    traces = []
    original = one_step.probability_cross_entropy

    def counting_loss(labels, probabilities):
        traces.append(1)  # Runs only while FGSM's gradient function is traced.
        return original(labels, probabilities)

    monkeypatch.setattr(one_step, "probability_cross_entropy", counting_loss)
    training.train_per_epoch_at(x, y, CONFIG, verbose=0)
    assert len(traces) == 1


def test_an_epoch_of_the_wrong_size_is_refused(parts):
    x, copies, labels = parts
    from advlib import models

    with pytest.raises(ValueError, match="holds 40 images but the run was set up for 80"):
        training.fit(models.build_cnn(seed=0), lambda epoch, model: (x, labels), CONFIG, epoch_size=80, verbose=0)
    pipeline = batches.EpochPipeline(80, batch_size=16)
    with pytest.raises(ValueError, match="x has 80 images but y has 40 labels"):
        pipeline.epoch((x, copies), labels, 0)


def test_no_pipeline_is_autotuned(parts):
    # Destroying an autotuned iterator waited, idle, for tf.data's autotuning thread: up to
    # tens of seconds at the end of every epoch (issue 31).
    x, _, labels = parts
    pipeline = batches.EpochPipeline(40, batch_size=16)
    for dataset in (pipeline.epoch(x, labels, 0), training.make_dataset(x, labels, batch_size=16),
                    batches.validation_dataset((x, labels))):
        assert dataset.options().autotune.enabled is False

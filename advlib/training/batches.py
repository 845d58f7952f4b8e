"""The training input: the report's augmentation, one epoch's dataset, and one pipeline for a whole run.

:func:`make_dataset` describes one epoch: the images shuffled with a seed, batched, and
augmented in a ``tf.data`` pipeline. :class:`EpochPipeline` yields exactly the batches
that ``make_dataset`` would for each epoch's data and seed (same order, same augmentation
draws, bit for bit), but is built once per training run: the old loop built a new
pipeline every epoch (a copy of the whole training set into a tensor, a shuffle buffer
filled one image at a time, a new augmentation model and a new trace of its map), and
each epoch's adversarial copies had to be concatenated to the clean images first.

Both switch off ``tf.data``'s autotuning (see :func:`_without_autotuning`): destroying an
autotuned iterator at the end of an epoch waited up to a minute, idle, for the
autotuning thread to wake up (issue 31).
"""

import keras
import numpy as np
import tensorflow as tf

# Batches made ahead of the training step (the augmentation runs on the CPU meanwhile).
PREFETCH_BATCHES = 2


def augmentation(seed=0):
    """The report's augmentation as a Keras model mapping images in [0, 1] to images in [0, 1]."""
    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal", seed=seed),
            keras.layers.RandomBrightness(0.1, value_range=(0.0, 1.0), seed=seed + 1),
            keras.layers.RandomContrast(0.1, seed=seed + 2),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="nearest", seed=seed + 3),
        ],
        name="augmentation",
    )


def reseed(layer, seed):
    """Put the random state of ``layer`` (from :func:`augmentation`) where ``augmentation(seed)`` starts.

    Each Keras random layer draws from a seed generator whose state is ``[its seed, calls
    so far]``; a fresh ``augmentation(seed)`` starts at ``[seed + k, 0]`` for its k-th layer.
    """
    for offset, sublayer in enumerate(layer.layers):
        sublayer.generator.state.assign(np.array([seed + offset, 0], dtype=sublayer.generator.state.dtype))


def clip_to_images(images):
    """Contrast and brightness can leave [0, 1]; the model only ever sees valid pixels."""
    return tf.clip_by_value(images, 0.0, 1.0)


def _without_autotuning(dataset):
    # tf.data's autotuning thread sleeps between rounds (up to a minute as a run goes on),
    # and an iterator's destructor waits for it to wake: gdb showed the end of an epoch
    # (RootDataset::Iterator::~Iterator) idle in that wait for 10 to 37 s. The pipelines
    # here have fixed sizes, so there is nothing to tune.
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def make_dataset(x, y, *, batch_size, seed=0, augment=True, shuffle=True):
    """A batched ``tf.data.Dataset`` of ``(image, label)`` pairs, shuffled and augmented.

    ``x``: float32 ``(N, 32, 32, 3)`` in [0, 1]; ``y``: float32 ``(N, classes)``.
    The augmentation runs on whole batches in the input pipeline, overlapped with
    training by ``prefetch``; its random state is seeded, so a run is repeatable.
    """
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} images but y has {len(y)} labels")
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=False)
    dataset = dataset.batch(batch_size)
    if augment:
        layer = augmentation(seed)

        def augment_batch(images, labels):
            return clip_to_images(layer(images, training=True)), labels

        # One sequential map keeps the augmentation's random stream in a fixed order (so
        # runs repeat); the ops inside it are vectorised over the batch and use both cores.
        dataset = dataset.map(augment_batch)
    return _without_autotuning(dataset.prefetch(PREFETCH_BATCHES))


def shuffled_order(count, seed):
    """The order (int64 indices) in which ``make_dataset(..., seed=seed)`` visits ``count`` images.

    ``Dataset.shuffle`` draws from the global TensorFlow seed and ``seed``, and its draws
    do not depend on what the elements hold, so shuffling ``range(count)`` here gives the
    same permutation as shuffling the images there (under the same global seed).
    """
    indices = tf.data.Dataset.range(count).shuffle(count, seed=seed, reshuffle_each_iteration=False)
    return next(iter(indices.batch(count))).numpy()


def validation_dataset(validation_data, batch_size=1000):
    """``(x, y)`` arrays as a batched dataset, built once and evaluated in order every epoch."""
    dataset = tf.data.Dataset.from_tensor_slices(tuple(validation_data)).batch(batch_size)
    return _without_autotuning(dataset.prefetch(1))


def _parts(arrays, name):
    """``arrays`` (one array, or a tuple or list of arrays to be read as their concatenation) as a tuple of float32 arrays."""
    parts = tuple(arrays) if isinstance(arrays, (tuple, list)) else (arrays,)
    if not parts:
        raise ValueError(f"{name} holds no arrays")
    return tuple(np.asarray(part, dtype=np.float32) for part in parts)


class EpochPipeline:
    """One ``tf.data`` pipeline for every epoch of a run, fed from NumPy arrays.

    ``EpochPipeline(epoch_size, batch_size)`` builds the pipeline (and traces its
    augmentation) once; :meth:`epoch` points it at an epoch's data and seed and returns
    the dataset, whose batches are exactly those of ``make_dataset(concatenated x,
    concatenated y, batch_size=batch_size, seed=seed)``. The data may be given in parts
    (clean images and their adversarial copies) that are never concatenated: each batch
    is gathered from them. Call :meth:`epoch` only between epochs, never while a dataset
    it returned is still being read.
    """

    def __init__(self, epoch_size, batch_size, *, augment=True):
        self.epoch_size = int(epoch_size)
        self.batch_size = int(batch_size)
        self.augment = augment
        self.dataset = None
        self._shapes = None
        self._state = None

    def epoch(self, x, y, seed):
        """The dataset of one epoch: ``x`` and ``y`` (arrays, or tuples of parts), shuffled and augmented with ``seed``."""
        x_parts, y_parts = _parts(x, "x"), _parts(y, "y")
        count = sum(len(part) for part in x_parts)
        if count != sum(len(part) for part in y_parts):
            raise ValueError(f"x has {count} images but y has {sum(len(part) for part in y_parts)} labels")
        if count != self.epoch_size:
            raise ValueError(
                f"the epoch's data holds {count} images but the run was set up for {self.epoch_size}: "
                "data_for_epoch must return epoch_size images in every epoch"
            )
        shapes = {part.shape[1:] for part in x_parts}, {part.shape[1:] for part in y_parts}
        if len(shapes[0]) != 1 or len(shapes[1]) != 1:
            raise ValueError(f"the parts of an epoch's data differ in shape: images {shapes[0]}, labels {shapes[1]}")
        shapes = (shapes[0].pop(), shapes[1].pop())
        if self.dataset is None:
            self._shapes = shapes
            self.dataset = self._build(*shapes)
        elif shapes != self._shapes:
            raise ValueError(f"this epoch's images and labels have shapes {shapes}, an earlier epoch's {self._shapes}")
        starts = np.cumsum([0] + [len(part) for part in x_parts])
        label_starts = np.cumsum([0] + [len(part) for part in y_parts])
        self._state = (x_parts, starts, y_parts, label_starts, shuffled_order(count, seed))
        if self.augment:
            reseed(self.layer, seed)
        return self.dataset

    def _build(self, image_shape, label_shape):
        """The pipeline, built and traced once: batch numbers -> gathered batches -> augmentation -> prefetch."""

        def load_batch(step):
            images, labels = tf.numpy_function(self._gather_batch, [step], (tf.float32, tf.float32), stateful=True)
            images.set_shape((None,) + image_shape)
            labels.set_shape((None,) + label_shape)
            return images, labels

        dataset = tf.data.Dataset.range(-(-self.epoch_size // self.batch_size)).map(load_batch)
        if self.augment:
            # Seeds are set per epoch by reseed(); 0 here is never drawn from.
            self.layer = augmentation(0)
            dataset = dataset.map(lambda images, labels: (clip_to_images(self.layer(images, training=True)), labels))
        return _without_autotuning(dataset.prefetch(PREFETCH_BATCHES))

    def _gather_batch(self, step):
        x_parts, starts, y_parts, label_starts, order = self._state
        indices = order[step * self.batch_size : (step + 1) * self.batch_size]
        return _gather(x_parts, starts, indices), _gather(y_parts, label_starts, indices)


def _gather(parts, starts, indices):
    """Rows ``indices`` of the concatenation of ``parts`` (which begin at ``starts``), without concatenating them."""
    if len(parts) == 1:
        return parts[0][indices]
    rows = np.empty((len(indices),) + parts[0].shape[1:], dtype=parts[0].dtype)
    which = np.searchsorted(starts, indices, side="right") - 1
    for number, part in enumerate(parts):
        chosen = which == number
        rows[chosen] = part[indices[chosen] - starts[number]]
    return rows

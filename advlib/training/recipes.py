"""Training recipes: the baseline and three kinds of adversarial training, with resumable epochs.

Every recipe trains :func:`advlib.models.build_cnn` with categorical cross-entropy, batch
norm, dropout and the report's data augmentation (random horizontal flip, brightness,
contrast and horizontal/vertical shift), done by Keras preprocessing layers inside a
``tf.data`` pipeline built once per run (:mod:`advlib.training.batches`). Images are float32
``(N, 32, 32, 3)`` in [0, 1]; labels are float32 ``(N, 10)`` rows summing to 1 (one-hot,
or a teacher's soft labels).

Training proceeds one epoch at a time. After each epoch the weights, the optimizer's
state and the history are written atomically to a checkpoint folder, so a run that is
killed resumes at the first unfinished epoch instead of starting again.
"""

import json
import os
import time

import keras
import numpy as np
import tensorflow as tf

from advlib import attacks, models
from advlib.data.cifar10 import one_hot  # noqa: F401 (the recipes' targets; re-exported for callers)
from advlib.plan.registry import TrainingConfig  # noqa: F401 (part of this module's API)
from advlib.results import store
# The input pipeline has a module of its own; augmentation and make_dataset stay part of this module's API.
from advlib.training.batches import EpochPipeline, augmentation, make_dataset, validation_dataset  # noqa: F401


def _learning_rate_schedule(config, steps_per_epoch):
    total_steps = config.epochs * steps_per_epoch
    warmup_steps = config.warmup_epochs * steps_per_epoch
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup_steps else config.learning_rate,
        decay_steps=max(total_steps - warmup_steps, 1),
        warmup_target=config.learning_rate if warmup_steps else None,
        warmup_steps=warmup_steps,
    )


def compile_model(model, config, steps_per_epoch):
    """Compile ``model`` with Adam on the config's schedule and categorical cross-entropy."""
    optimizer = keras.optimizers.Adam(learning_rate=_learning_rate_schedule(config, steps_per_epoch))
    model.compile(optimizer=optimizer, loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
    # Build the optimizer's variables now, so a checkpoint can restore them before training.
    optimizer.build(model.trainable_variables)
    return model


# --- checkpoints -------------------------------------------------------------------------

_STATE_WEIGHTS = "state.weights.h5"
_STATE_JSON = "state.json"


def save_checkpoint(model, directory, epochs_done, history):
    """Write weights (with optimizer state) and history for ``epochs_done`` finished epochs.

    The weights go first and the JSON that names the epoch last, each through a
    temporary file and a rename, so a kill at any moment leaves the previous checkpoint.
    """
    os.makedirs(directory, exist_ok=True)
    weights_path = os.path.join(directory, f"epoch{epochs_done:04d}.weights.h5")
    temporary = os.path.join(directory, f"tmp-{os.getpid()}.weights.h5")
    model.save_weights(temporary)
    os.replace(temporary, weights_path)
    store.write_json_atomically(os.path.join(directory, _STATE_JSON), {"epochs_done": epochs_done, "history": history, "weights": os.path.basename(weights_path)})
    # Older epochs are no longer needed once the new state is in place.
    for name in os.listdir(directory):
        if name.endswith(".weights.h5") and name != os.path.basename(weights_path):
            os.remove(os.path.join(directory, name))


def load_checkpoint(model, directory):
    """Restore the last checkpoint into a compiled ``model``; return ``(epochs_done, history)``.

    Returns ``(0, {})`` when there is no usable checkpoint.
    """
    state_path = os.path.join(directory, _STATE_JSON)
    if not os.path.exists(state_path):
        return 0, {}
    try:
        with open(state_path) as handle:
            state = json.load(handle)
        model.load_weights(os.path.join(directory, state["weights"]))
    except (OSError, ValueError, KeyError) as error:
        # The folder's own name (model and config hash) says which run it was; the full
        # path would put this machine's layout into a notebook's output.
        print(f"Ignoring the unreadable checkpoint {os.path.basename(os.path.normpath(directory))} "
              f"({type(error).__name__}); training starts from epoch 1")
        return 0, {}
    return int(state["epochs_done"]), state["history"]


# --- the training loop -------------------------------------------------------------------


def _verbosity(verbose):
    if verbose is None:
        # Per-step progress bars for a person at a terminal or in a notebook, one line per
        # epoch in a log file.
        return 1 if os.isatty(1) or "ipykernel" in __import__("sys").modules else 2
    return verbose


class _StopAfterOneEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = True


def fit(model, data_for_epoch, config, *, epoch_size, checkpoint_dir=None, validation_data=None, verbose=None):
    """Train ``model`` for ``config.epochs`` epochs; return the history as a dict of lists.

    ``data_for_epoch(epoch, model)`` returns the ``(x, y)`` to train on in that epoch
    (recipes that make new adversarial examples each epoch use the model); each of ``x``
    and ``y`` is an array or a tuple of arrays read as their concatenation (the clean
    images and their copies, never copied into one array). Every epoch must hold
    ``epoch_size`` images, which fixes the learning-rate schedule. With a
    ``checkpoint_dir``, finished epochs are saved and a later call resumes after them.
    """
    keras.utils.set_random_seed(config.seed)
    compile_model(model, config, int(np.ceil(epoch_size / config.batch_size)))
    epochs_done, history = 0, {}
    if checkpoint_dir is not None:
        epochs_done, history = load_checkpoint(model, checkpoint_dir)
        if epochs_done:
            print(f"Resuming from the checkpoint {os.path.basename(os.path.normpath(checkpoint_dir))} "
                  f"in the results folder: {epochs_done} of {config.epochs} epochs done")

    # Built once for the run; each epoch gives it new data and a new seed, and its batches
    # are those make_dataset(data, seed=config.seed * 1000 + epoch) would give, bit for bit.
    pipeline = EpochPipeline(epoch_size, config.batch_size)
    validation = None if validation_data is None else validation_dataset(validation_data)
    for epoch in range(epochs_done, config.epochs):
        started, cpu_started, load_started = time.time(), time.process_time(), _load_average()
        x_epoch, y_epoch = data_for_epoch(epoch, model)
        dataset = pipeline.epoch(x_epoch, y_epoch, seed=config.seed * 1000 + epoch)
        # One epoch per call, so the data can change between epochs; epochs=config.epochs
        # (with a callback that stops after this one) makes Keras print "Epoch 9/20".
        result = model.fit(
            dataset,
            initial_epoch=epoch,
            epochs=config.epochs,
            callbacks=[_StopAfterOneEpoch()],
            validation_data=validation,
            shuffle=False,  # The pipeline shuffles, with a seed.
            verbose=_verbosity(verbose),
        )
        for key, values in result.history.items():
            history.setdefault(key, []).extend(float(value) for value in values)
        seconds = time.time() - started
        history.setdefault("seconds", []).append(seconds)
        # What the epoch cost this process, and how busy the machine was: wall time alone
        # also counts whatever else ran (see contention()).
        history.setdefault("cpu_seconds", []).append(time.process_time() - cpu_started)
        history.setdefault("load_average", []).append([load_started, _load_average()])
        if checkpoint_dir is not None:
            save_checkpoint(model, checkpoint_dir, epoch + 1, history)
    return history


def _load_average():
    """The machine's 1-minute load average (runnable processes), or None where the OS has none."""
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):
        return None


def contention(history, cores=None):
    """How much of the machine a training had, from its ``fit`` history.

    Returns ``{"cpu_seconds": total CPU time of the process, "wall_seconds": total wall
    time, "cpu_share": cpu_seconds / (wall_seconds * cores)}``: 1.0 means the training kept
    every core busy the whole time; much less means it waited (for other work on the
    machine, or for input). ``cores`` defaults to ``os.cpu_count()``. Histories saved
    before CPU time was recorded give None for the CPU figures.
    """
    cores = int(cores or os.cpu_count() or 1)
    if cores < 1:
        raise ValueError(f"cores must be at least 1, not {cores}")
    wall = float(sum(history.get("seconds", [])))
    if "cpu_seconds" not in history:
        return {"cpu_seconds": None, "wall_seconds": wall, "cpu_share": None}
    cpu = float(sum(history["cpu_seconds"]))
    return {"cpu_seconds": cpu, "wall_seconds": wall, "cpu_share": cpu / (wall * cores) if wall > 0 else None}


# --- recipes -----------------------------------------------------------------------------


def train_baseline(x, y, config, *, temperature=1.0, **fit_arguments):
    """The report's baseline: clean images and one-hot labels; returns the trained model."""
    model = models.build_cnn(temperature=temperature, seed=config.seed)
    labels = one_hot(y)
    history = fit(model, lambda epoch, model: (x, labels), config, epoch_size=len(x), **fit_arguments)
    return model, history


def train_random_at(x, y, config, *, temperature=1.0, **fit_arguments):
    """Random adversarial training: the training set plus random-sign copies made once (Eq. 2)."""
    model = models.build_cnn(temperature=temperature, seed=config.seed)
    # The clean images and their copies as two parts: fit reads them as one set.
    x_train = (x, attacks.random_sign(x, config.eps, seed=config.seed))
    labels = np.concatenate([one_hot(y), one_hot(y)])
    history = fit(model, lambda epoch, model: (x_train, labels), config, epoch_size=2 * len(x), **fit_arguments)
    return model, history


def train_random_every_epoch(x, y, config, *, temperature=1.0, **fit_arguments):
    """The experiment the report proposes: fresh random-sign copies at every epoch."""
    model = models.build_cnn(temperature=temperature, seed=config.seed)
    labels = np.concatenate([one_hot(y), one_hot(y)])

    def data_for_epoch(epoch, model):
        # The clean images and their copies as two parts: fit reads them as one set.
        return (x, attacks.random_sign(x, config.eps, seed=config.seed * 1000 + epoch)), labels

    history = fit(model, data_for_epoch, config, epoch_size=2 * len(x), **fit_arguments)
    return model, history


def train_per_epoch_at(x, y, config, *, temperature=1.0, **fit_arguments):
    """Per-epoch adversarial training: FGSM copies against the current model at each epoch start."""
    model = models.build_cnn(temperature=temperature, seed=config.seed)
    labels = np.concatenate([one_hot(y), one_hot(y)])

    def data_for_epoch(epoch, model):
        # Before the first epoch this attacks the untrained (or just-restored) model,
        # exactly as "at the start of every epoch" implies.
        return (x, attacks.fgsm(model, x, y, config.eps)), labels

    history = fit(model, data_for_epoch, config, epoch_size=2 * len(x), **fit_arguments)
    return model, history


class FastAdversarialTrainer(keras.Model):
    """Trains ``model`` on adversarial examples made from a random start for every batch.

    "Fast" adversarial training (Wong, Rice & Kolter, 2020): for each batch, start at a
    uniform random point of the L-inf ball of radius ``eps``, take ``attack_steps`` signed
    gradient steps of ``step_size`` (one: FGSM from a random start; more: PGD training as
    in Madry et al. 2018), projecting back into the ball and into [0, 1] after each, and
    train on the result. Unlike the report's recipes, the examples always attack the
    current weights. Calling the trainer calls ``model``, so evaluation and checkpoints
    see the same weights.

    With ``ema_decay`` (in (0, 1)) the trainer also keeps an exponential moving average of
    every weight of ``model`` (batch-norm statistics too), updated after step ``n`` (counted
    from 1 over the whole run) as ``average = d * average + (1 - d) * weight`` with
    ``d = min(ema_decay, (1 + n) / (10 + n))``. The warm-up is that of TensorFlow's
    ``ExponentialMovingAverage`` with ``num_updates``: without it, an average with a decay of
    0.999 after a few hundred steps is still mostly the random initial weights (0.999 ** 800
    is 0.45), which ruins short runs; after about 9,000 steps it is the plain decay.
    :meth:`averaged_weights` returns the average. The averages are weights of the trainer,
    so checkpoints keep them (the step count is the optimizer's, kept there too).
    """

    def __init__(self, model, eps, step_size, seed=None, *, attack_steps=1, ema_decay=None, **kwargs):
        super().__init__(**kwargs)
        if not eps > 0 or not step_size > 0:
            raise ValueError(f"eps and step_size must be positive, got {eps!r} and {step_size!r}")
        if isinstance(attack_steps, bool) or not isinstance(attack_steps, int) or attack_steps < 1:
            raise ValueError(f"attack_steps must be an integer >= 1, got {attack_steps!r}")
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f"ema_decay must lie in (0, 1) or be None, got {ema_decay!r}")
        self.model = model
        self.eps = float(eps)
        self.step_size = float(step_size)
        self.attack_steps = attack_steps
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.averages = [] if ema_decay is None else [
            keras.Variable(weight.numpy(), trainable=False, name=f"average_{index}")
            for index, weight in enumerate(model.weights)
        ]
        # The wrapped model is built already; mark the trainer built so it can be saved.
        self.built = True

    def call(self, images, training=False):
        return self.model(images, training=training)

    def _adversarial_batch(self, images, labels):
        start = images + keras.random.uniform(tf.shape(images), -self.eps, self.eps, seed=self.seed_generator)
        # The random start may leave [0, 1]; the model is never shown impossible pixels.
        return self._attack_from(tf.clip_by_value(start, 0.0, 1.0), images, labels)

    def _attack_from(self, start, images, labels):
        """``attack_steps`` projected signed-gradient steps from ``start`` around ``images``."""
        adversarial = start
        for _ in range(self.attack_steps):
            with tf.GradientTape() as tape:
                tape.watch(adversarial)
                loss = self.compute_loss(y=labels, y_pred=self.model(adversarial, training=True))
            step = adversarial + self.step_size * tf.sign(tape.gradient(loss, adversarial))
            # Project back into the eps-ball around the clean images, then into [0, 1].
            step = tf.clip_by_value(step, images - self.eps, images + self.eps)
            adversarial = tf.clip_by_value(step, 0.0, 1.0)
        return tf.stop_gradient(adversarial)

    def train_step(self, data):
        # fit passes (images, labels); train_on_batch adds a sample weight (unused).
        images, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        adversarial = self._adversarial_batch(images, labels)
        with tf.GradientTape() as tape:
            predictions = self.model(adversarial, training=True)
            loss = self.compute_loss(y=labels, y_pred=predictions)
        variables = self.trainable_variables
        self.optimizer.apply(tape.gradient(loss, variables), variables)
        if self.ema_decay is not None:
            # The optimizer has counted this step already: n = 1 after the first one.
            steps = tf.cast(self.optimizer.iterations, "float32")
            decay = tf.minimum(self.ema_decay, (1.0 + steps) / (10.0 + steps))
            for average, weight in zip(self.averages, self.model.weights):
                average.assign(decay * average + (1.0 - decay) * weight)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(labels, predictions)
        return {metric.name: metric.result() for metric in self.metrics}

    def averaged_weights(self):
        """The moving averages as arrays, in the order of ``model.get_weights()``; ``ValueError`` without ``ema_decay``."""
        if self.ema_decay is None:
            raise ValueError("this trainer keeps no averages: pass ema_decay= to keep them")
        return [average.numpy() for average in self.averages]


def train_robust_fast_at(
    x, y, config, *, temperature=1.0, train_eps=None, step_factor=1.25, attack_steps=1, ema_decay=None,
    initial_weights=None, **fit_arguments
):
    """Fast adversarial training at ``train_eps`` (default ``config.eps``), step ``step_factor * train_eps``.

    ``attack_steps`` > 1 makes it PGD training (each step ``step_factor * train_eps``);
    ``ema_decay`` returns the moving average of the weights instead of the last ones.
    ``initial_weights`` (a list of arrays from ``model.get_weights()`` of the same CNN)
    starts from a trained model instead of a random initialisation; a checkpoint, when
    there is one, still wins. Returns ``(model, history)``, ``model`` the plain CNN.
    """
    train_eps = config.eps if train_eps is None else train_eps
    model = models.build_cnn(temperature=temperature, seed=config.seed)
    if initial_weights is not None:
        if len(initial_weights) != len(model.weights):
            raise ValueError(
                f"initial_weights has {len(initial_weights)} arrays but the CNN has {len(model.weights)}: "
                "pass get_weights() of a model built by advlib.models.build_cnn"
            )
        model.set_weights(initial_weights)
    trainer = FastAdversarialTrainer(
        model, train_eps, step_factor * train_eps, seed=config.seed, attack_steps=attack_steps, ema_decay=ema_decay
    )
    history = fit(trainer, lambda epoch, model: (x, one_hot(y)), config, epoch_size=len(x), **fit_arguments)
    if ema_decay is not None:
        model.set_weights(trainer.averaged_weights())
    return model, history


RECIPES = {
    "baseline": train_baseline,
    "random_at": train_random_at,
    "random_every_epoch": train_random_every_epoch,
    "per_epoch_at": train_per_epoch_at,
    "robust_fast_at": train_robust_fast_at,
}

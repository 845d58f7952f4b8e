"""The report's CNN (Table 1) with a softmax whose temperature can change after training.

The network is built as one flat functional model whose last two layers are a dense
layer named ``"logits"`` and a :class:`TemperatureSoftmax` layer. Changing the
temperature therefore never needs retraining or copying weights: :func:`with_temperature`
returns a second model that reuses the very same layer objects (and so the same
weights) with a different softmax on top, and :func:`logits_model` returns the network
without any softmax at all.
"""

import keras
from keras import layers

# ARCHITECTURE names this file's choices in every saved model's config hash; it lives with
# the registry (which needs no TensorFlow): change it there whenever the CNN here changes.
from advlib.plan.registry import ARCHITECTURE  # noqa: F401

# Table 1 of the report, as (layer kind, output shape without the batch axis, parameters).
# Tests compare the built model against this list, so keep it in the report's order.
TABLE_1 = (
    ("Conv2D", (32, 32, 32), 896),
    ("BatchNormalization", (32, 32, 32), 128),
    ("Conv2D", (32, 32, 32), 9248),
    ("BatchNormalization", (32, 32, 32), 128),
    ("MaxPooling2D", (16, 16, 32), 0),
    ("Dropout", (16, 16, 32), 0),
    ("Conv2D", (16, 16, 64), 18496),
    ("BatchNormalization", (16, 16, 64), 256),
    ("Conv2D", (16, 16, 64), 36928),
    ("BatchNormalization", (16, 16, 64), 256),
    ("MaxPooling2D", (8, 8, 64), 0),
    ("Dropout", (8, 8, 64), 0),
    ("Conv2D", (8, 8, 64), 36928),
    ("BatchNormalization", (8, 8, 64), 256),
    ("Conv2D", (8, 8, 64), 36928),
    ("BatchNormalization", (8, 8, 64), 256),
    ("MaxPooling2D", (4, 4, 64), 0),
    ("Dropout", (4, 4, 64), 0),
    ("Flatten", (1024,), 0),
    ("Dense", (10,), 10250),
)
TOTAL_PARAMETERS = 150_954

# The report does not give its dropout rates; these are the usual ones for this
# architecture (the blog post the report cites for Table 1 uses 0.2, 0.3 and 0.4).
DEFAULT_DROPOUT_RATES = (0.2, 0.3, 0.4)
# Keras's default batch-norm momentum (0.99) needs thousands of steps before its moving
# statistics fit the data; 0.9 (PyTorch's default) also suits the short quick profile.
BATCH_NORM_MOMENTUM = 0.9


def _check_temperature(temperature):
    try:
        value = float(temperature)
    except (TypeError, ValueError):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}") from None
    if not value > 0.0 or value == float("inf"):
        raise ValueError(f"temperature must be a positive finite number, got {temperature!r}")
    return value


@keras.saving.register_keras_serializable(package="advlib")
class TemperatureSoftmax(layers.Layer):
    """``softmax(logits / temperature)`` over the last axis, computed in float32.

    Input: logits of shape ``(N, classes)``. Output: probabilities of the same shape,
    each row summing to 1. The temperature is a fixed Python float, not a weight, so
    two models that differ only in temperature share every trainable variable.
    """

    def __init__(self, temperature=1.0, **kwargs):
        super().__init__(**kwargs)
        self.temperature = _check_temperature(temperature)

    def call(self, logits):
        # float32 on purpose: the book shows how a float32 softmax saturates at low
        # temperature, so the output must not silently be computed in another precision.
        scaled = keras.ops.cast(logits, "float32") / self.temperature
        return keras.ops.softmax(scaled, axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config["temperature"] = self.temperature
        return config


def build_cnn(temperature=1.0, seed=None, dropout_rates=DEFAULT_DROPOUT_RATES):
    """Build the report's Table 1 CNN with a softmax at ``temperature``.

    Input: float32 images ``(N, 32, 32, 3)`` with values in [0, 1]. Output: class
    probabilities ``(N, 10)``. The model has exactly 150,954 parameters. ``seed`` makes
    the weight initialisation and dropout masks reproducible; ``None`` leaves them to
    the global Keras seed.
    """
    temperature = _check_temperature(temperature)
    if len(dropout_rates) != 3 or not all(0.0 <= rate < 1.0 for rate in dropout_rates):
        raise ValueError(f"dropout_rates must be three numbers in [0, 1), got {dropout_rates!r}")

    seed_generator = _SeedSequence(seed)
    inputs = keras.Input(shape=(32, 32, 3), name="image")
    x = inputs
    for block, (filters, rate) in enumerate(zip((32, 64, 64), dropout_rates)):
        for position in range(2):
            x = layers.Conv2D(
                filters,
                3,
                padding="same",
                activation="relu",
                kernel_initializer=keras.initializers.HeUniform(seed=seed_generator.next()),
                name=f"conv{block + 1}_{position + 1}",
            )(x)
            x = layers.BatchNormalization(
                momentum=BATCH_NORM_MOMENTUM, name=f"batch_norm{block + 1}_{position + 1}"
            )(x)
        x = layers.MaxPooling2D(2, name=f"max_pool{block + 1}")(x)
        x = layers.Dropout(rate, seed=seed_generator.next(), name=f"dropout{block + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    logits = layers.Dense(
        10,
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed_generator.next()),
        name="logits",
    )(x)
    outputs = TemperatureSoftmax(temperature, name="softmax")(logits)
    return keras.Model(inputs, outputs, name="cifar10_cnn")


class _SeedSequence:
    """Hands out distinct integer seeds derived from one seed (or ``None`` each time)."""

    def __init__(self, seed):
        self.seed = seed
        self.count = 0

    def next(self):
        if self.seed is None:
            return None
        self.count += 1
        return int(self.seed) * 1000 + self.count


def _logits_tensor(model):
    try:
        return model.get_layer("logits").output
    except ValueError:
        raise ValueError(
            f"model {model.name!r} has no layer named 'logits'; build it with advlib.models.build_cnn"
        ) from None


def get_temperature(model):
    """Return the softmax temperature of a model built by :func:`build_cnn`."""
    softmax_layers = [layer for layer in model.layers if isinstance(layer, TemperatureSoftmax)]
    if not softmax_layers:
        raise ValueError(f"model {model.name!r} has no TemperatureSoftmax layer")
    return softmax_layers[-1].temperature


def with_temperature(model, temperature):
    """Return a model sharing ``model``'s weights whose output is ``softmax(logits / temperature)``.

    No weights are copied: training either model changes both. The input and output
    shapes are those of :func:`build_cnn`.
    """
    temperature = _check_temperature(temperature)
    outputs = TemperatureSoftmax(temperature, name="softmax")(_logits_tensor(model))
    return keras.Model(model.inputs[0], outputs, name=f"{model.name}_T{temperature:g}")


def logits_model(model):
    """Return a model sharing ``model``'s weights that outputs the logits ``(N, 10)``.

    For a model wrapped by :func:`with_input_noise` the result adds the same fresh noise
    before the inner model's logits, so an attack on the logits still attacks the noisy system.
    """
    try:
        return keras.Model(model.inputs[0], _logits_tensor(model), name=f"{model.name}_logits")
    except ValueError:
        inner = [layer for layer in model.layers if isinstance(layer, keras.Model)]
        noise = [layer for layer in model.layers if isinstance(layer, RandomSignNoise)]
        if len(inner) != 1 or len(noise) != 1:
            raise
        inputs = keras.Input(shape=model.inputs[0].shape[1:], name="image")
        return keras.Model(inputs, logits_model(inner[0])(noise[0](inputs)), name=f"{model.name}_logits")


def clone_weights_only(model):
    """Return a fresh, uncompiled :func:`build_cnn` model holding a copy of ``model``'s weights.

    Saving this copy writes the weights alone (no optimizer state), which is what the
    results folder and the shipped models hold.
    """
    copy = build_cnn(temperature=get_temperature(model))
    copy.set_weights(model.get_weights())
    return copy


@keras.saving.register_keras_serializable(package="advlib")
class RandomSignNoise(layers.Layer):
    """Adds fresh ``eps * R``, ``R`` uniform in {-1, +1}, to every input, also at test time.

    Input and output: float32 images in [0, 1]; the result is clipped back to [0, 1]
    because the noise can push a pixel at 0 or 1 out of range. This is the report's
    inference-time preprocessing (Eq. 2 applied to each input before classifying it).
    """

    def __init__(self, eps=0.01, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not float(eps) >= 0.0:
            raise ValueError(f"eps must be non-negative, got {eps!r}")
        self.eps = float(eps)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images):
        # Noise is added whatever the `training` flag says: it is a defence used at test time.
        bits = keras.random.randint(keras.ops.shape(images), 0, 2, seed=self.seed_generator)
        signs = keras.ops.cast(bits, images.dtype) * 2.0 - 1.0
        return keras.ops.clip(images + self.eps * signs, 0.0, 1.0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(eps=self.eps, seed=self.seed)
        return config


def with_input_noise(model, eps=0.01, seed=None):
    """Return ``model`` behind a :class:`RandomSignNoise` layer; the weights are shared.

    The result takes and returns what ``model`` does, but every call sees newly drawn
    noise, so two calls on the same images can disagree. Gradients flow through the
    noise, so FGSM on the wrapped model attacks the defended system.
    """
    inputs = keras.Input(shape=model.inputs[0].shape[1:], name="image")
    noisy = RandomSignNoise(eps, seed=seed, name="input_noise")(inputs)
    return keras.Model(inputs, model(noisy), name=f"{model.name}_noisy")

"""advlib.exercises.checks: a right answer passes, and each typical mistake gets its own hint."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from advlib.exercises import checks as exercises


def fgsm_variant(step=1.0, clip=True, use_sign=True, differentiate="loss", return_perturbation=False):
    """An FGSM written as a student would, with one mistake switched on by the arguments."""

    def attack(model, x, y, eps):
        x = tf.convert_to_tensor(x)
        y_one_hot = tf.one_hot(y, 10)
        with tf.GradientTape() as tape:
            tape.watch(x)
            probabilities = model(x, training=False)
            if differentiate == "loss":
                objective = keras.losses.categorical_crossentropy(y_one_hot, probabilities)
            else:  # the true label's probability
                objective = tf.reduce_sum(y_one_hot * probabilities, axis=-1)
        gradient = tape.gradient(objective, x)
        direction = tf.sign(gradient) if use_sign else gradient
        perturbation = step * eps * direction
        if return_perturbation:
            return tf.clip_by_value(perturbation, 0.0, 1.0)
        result = x + perturbation
        return tf.clip_by_value(result, 0.0, 1.0) if clip else result

    return attack


def test_a_right_fgsm_passes(capsys):
    result = exercises.check("fgsm", fgsm_variant())
    assert result.passed
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("mistake", "hint"),
    [
        (fgsm_variant(step=-1.0), "sign is flipped"),
        (fgsm_variant(differentiate="probability"), "label's probability"),
        (fgsm_variant(clip=False), "leave [0, 1]"),
        (fgsm_variant(step=2.0), "eps is applied twice"),
        (fgsm_variant(use_sign=False), "gradient itself"),
        (fgsm_variant(return_perturbation=True), "returned the perturbation"),
    ],
)
def test_each_typical_fgsm_mistake_gets_its_hint(mistake, hint):
    result = exercises.check("fgsm", mistake)
    assert not result.passed and hint in result.message


def test_an_fgsm_that_crashes_or_returns_the_wrong_shape_gets_a_hint():
    def no_watch(model, x, y, eps):
        raise AttributeError("'NoneType' object has no attribute 'numpy'")

    assert "tape.watch" in exercises.check("fgsm", no_watch).message
    assert "shape" in exercises.check("fgsm", lambda model, x, y, eps: x[:2]).message


def softmax(z):
    shifted = np.exp(z - z.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


SOFT_LABELS_CASES = [
    ("soft_labels", lambda logits, T: tf.nn.softmax(logits / T).numpy(), True, "match"),
    ("soft_labels", lambda logits, T: softmax(logits), False, "softmax at T = 1"),
    ("soft_labels", lambda logits, T: softmax(logits * T), False, "multiplied the logits"),
    ("soft_labels", lambda logits, T: softmax(logits) / T, False, "divided the probabilities"),
    ("soft_labels", lambda logits, T: softmax(logits) ** (1 / T), False, "without normalising"),
]


def test_unknown_exercises_and_non_functions_are_refused():
    with pytest.raises(ValueError, match="name must be one of 'fgsm', 'soft_labels', 'pgd_step'"):
        exercises.check("fsgm", fgsm_variant())
    with pytest.raises(ValueError, match="callable"):
        exercises.check("fgsm", "my_fgsm")


def pgd_step_variant(sign=1.0, project=True, gradient_at="current", step="step_size", centre="clean"):
    """One PGD step written as a student would, with one mistake switched on by the arguments."""

    def step_function(model, x_adv, x, y, eps, step_size):
        at = tf.convert_to_tensor(x_adv if gradient_at == "current" else x)
        with tf.GradientTape() as tape:
            tape.watch(at)
            loss = keras.losses.categorical_crossentropy(tf.one_hot(y, 10), model(at, training=False))
        size = step_size if step == "step_size" else eps
        moved = x_adv + sign * size * tf.sign(tape.gradient(loss, at))
        if project:
            around = x if centre == "clean" else x_adv
            moved = tf.clip_by_value(moved, around - eps, around + eps)
        return tf.clip_by_value(moved, 0.0, 1.0)

    return step_function


PGD_STEP_CASES = [
    ("pgd_step", pgd_step_variant(), True, "reference images"),
    ("pgd_step", pgd_step_variant(project=False), False, "project onto"),
    ("pgd_step", pgd_step_variant(sign=-1.0), False, "sign is flipped"),
    ("pgd_step", pgd_step_variant(gradient_at="clean"), False, "gradient at the clean images"),
    ("pgd_step", pgd_step_variant(step="eps"), False, "the step has size eps"),
    # A step smaller than eps never leaves the ball around the current images, so
    # projecting there is no projection at all: the same hint.
    ("pgd_step", pgd_step_variant(centre="current"), False, "around the clean images x"),
]


def eot_variant(mistake=None):
    """The EOT gradient written as a student would, with one mistake switched on."""

    def gradient_function(model, x, y, samples):
        x = tf.convert_to_tensor(x)
        y_one_hot = tf.one_hot(y, 10)
        if mistake == "mean_probabilities":
            with tf.GradientTape() as tape:
                tape.watch(x)
                mean = tf.reduce_mean(tf.stack([model(x, training=False) for _ in range(samples)]), axis=0)
                loss = keras.losses.categorical_crossentropy(y_one_hot, mean)
            return tape.gradient(loss, x).numpy()
        gradients = []
        for _ in range(1 if mistake == "one_draw" else samples):
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = keras.losses.categorical_crossentropy(y_one_hot, model(x, training=False))
            gradient = tape.gradient(loss, x).numpy()
            gradients.append(np.sign(gradient) if mistake == "signs" else gradient)
        return np.sum(gradients, axis=0) if mistake == "sum" else np.mean(gradients, axis=0)

    return gradient_function


EOT_GRADIENT_CASES = [
    ("eot_gradient", eot_variant(), True, "average over the 4 draws"),
    ("eot_gradient", eot_variant("one_draw"), False, "gradient of one draw"),
    ("eot_gradient", eot_variant("sum"), False, "added the gradients up"),
    ("eot_gradient", eot_variant("signs"), False, "averaged the signs"),
    ("eot_gradient", eot_variant("mean_probabilities"), False, "averaged the probabilities"),
]


def gradient_at_temperature_variant(mistake=None):
    def gradient_function(logits_model, x, y, T):
        x = tf.convert_to_tensor(x)
        y_one_hot = tf.one_hot(y, 10)
        with tf.GradientTape() as tape:
            tape.watch(x)
            logits = logits_model(x, training=False)
            scaled = logits if mistake == "t1" else logits * T if mistake == "times" else logits / T
            if mistake == "from_logits":
                value = keras.losses.categorical_crossentropy(y_one_hot, scaled, from_logits=True)
            elif mistake == "probability":
                value = tf.reduce_sum(y_one_hot * tf.nn.softmax(scaled), axis=-1)
            else:
                value = keras.losses.categorical_crossentropy(y_one_hot, tf.nn.softmax(scaled))
        return tape.gradient(value, x).numpy()

    return gradient_function


GRADIENT_AT_TEMPERATURE_CASES = [
    ("gradient_at_temperature", gradient_at_temperature_variant(), True, "matches the reference"),
    ("gradient_at_temperature", gradient_at_temperature_variant("t1"), False, "gradient at T = 1"),
    ("gradient_at_temperature", gradient_at_temperature_variant("times"), False, "multiplied the logits by T"),
    ("gradient_at_temperature", gradient_at_temperature_variant("from_logits"), False, "cross-entropy of the logits"),
    ("gradient_at_temperature", gradient_at_temperature_variant("probability"), False, "true class's probability"),
]


def dlr_variant(mistake=None):
    def loss(y_onehot, logits):
        ordered = -np.sort(-logits, axis=1)
        true_logit = np.sum(y_onehot * logits, axis=1)
        others = logits if mistake == "all_classes" else np.where(y_onehot > 0.5, -np.inf, logits)
        margin = true_logit - others.max(axis=1)
        third = ordered[:, 1] if mistake == "second" else ordered[:, 2]
        denominator = 1.0 if mistake == "no_denominator" else ordered[:, 0] - third
        return (1.0 if mistake == "sign" else -1.0) * margin / denominator

    return loss


DLR_LOSS_CASES = [
    ("dlr_loss", dlr_variant(), True, "matches the reference"),
    ("dlr_loss", lambda y_onehot, logits: advlib_dlr(y_onehot, logits), True, "matches the reference"),
    ("dlr_loss", dlr_variant("sign"), False, "sign is flipped"),
    ("dlr_loss", dlr_variant("no_denominator"), False, "margin alone"),
    ("dlr_loss", dlr_variant("second"), False, "second-largest logit"),
    ("dlr_loss", dlr_variant("all_classes"), False, "leave the true class out"),
]


def advlib_dlr(y_onehot, logits):
    # The package's own loss, an independent implementation of the same equation.
    from advlib.attacks import auto_pgd as apgd

    return apgd.dlr_loss(tf.constant(y_onehot), tf.constant(logits)).numpy()


def random_copies_variant(mistake=None):
    def copies(x, eps, seed):
        generator = np.random.default_rng(None if mistake == "no_seed" else seed)
        shape = x.shape[:-1] + (1,) if mistake == "channels_together" else x.shape
        if mistake == "uniform":
            signs = generator.uniform(-1.0, 1.0, shape)
        elif mistake == "all_up":
            signs = np.ones(shape)
        else:
            signs = 2.0 * generator.integers(0, 2, shape) - 1.0
        moved = x + eps * signs
        return moved if mistake == "no_clip" else np.clip(moved, 0.0, 1.0)

    return copies


RANDOM_SIGN_COPIES_CASES = [
    ("random_sign_copies", random_copies_variant(), True, "repeat with the seed"),
    ("random_sign_copies", lambda x, eps, seed: np.asarray(advlib_random_sign(x, eps, seed)), True, "repeat with the seed"),
    ("random_sign_copies", random_copies_variant("no_clip"), False, "leave [0, 1]"),
    ("random_sign_copies", random_copies_variant("uniform"), False, "not uniform noise"),
    ("random_sign_copies", random_copies_variant("all_up"), False, "went up"),
    ("random_sign_copies", random_copies_variant("channels_together"), False, "channels of a pixel move together"),
    ("random_sign_copies", random_copies_variant("no_seed"), False, "same seed gave other copies"),
]


def advlib_random_sign(x, eps, seed):
    # The package's own random-sign control must pass the check too.
    from advlib.attacks import one_step as attacks

    return attacks.random_sign(x, eps, seed=seed)


SAMPLING_ERROR_CASES = [
    ("sampling_error", lambda p, n: (p * (1 - p) / n) ** 0.5, True, "match"),
    ("sampling_error", lambda p, n: p * (1 - p) / n, False, "the variance"),
    ("sampling_error", lambda p, n: (p / n) ** 0.5, False, "not p / n"),
    ("sampling_error", lambda p, n: 1 / n ** 0.5, False, "1 / sqrt(n) alone"),
    ("sampling_error", lambda p, n: (p * (1 - p) / (n - 1)) ** 0.5, False, "n - 1"),
    ("sampling_error", lambda p, n: 100 * (p * (1 - p) / n) ** 0.5, False, "percentage points"),
]


STEPS_PER_EPOCH_CASES = [
    ("steps_per_epoch", lambda n, b: -(-n // b), True, "right"),
    ("steps_per_epoch", lambda n, b: int(np.ceil(n / b)), True, "right"),
    ("steps_per_epoch", lambda n, b: n // b, False, "round up, not down"),
    ("steps_per_epoch", lambda n, b: n / b, False, "whole number"),
    ("steps_per_epoch", lambda n, b: n // b + 1, False, "divides the images exactly"),
]


def keras_conv_parameters(kernel_size, in_channels, filters):
    # An independent count: Keras builds the layer and counts its weights.
    layer = keras.layers.Conv2D(filters, kernel_size)
    layer.build((None, 8, 8, in_channels))
    return layer.count_params()


CONV_PARAMETERS_CASES = [
    ("conv_parameters", keras_conv_parameters, True, "right"),
    ("conv_parameters", lambda k, c, f: k * k * c * f, False, "bias"),
    ("conv_parameters", lambda k, c, f: k * c * f + f, False, "square kernel"),
    ("conv_parameters", lambda k, c, f: k * k * c * f + c, False, "per filter"),
    ("conv_parameters", lambda k, c, f: k * k * f + f, False, "every input channel"),
]


def advlib_choose(held_out, clean_goal):
    # The package's own rule, on results shaped as it expects them.
    from advlib.evaluation import worst_case
    from advlib.runs import defence

    results = {name: worst_case.WorstCase(size=1000, clean_accuracy=clean, robust_accuracy=worst)
               for name, (clean, worst) in held_out.items()}
    name, _ = defence.choose(results, clean_goal)
    return name


def choose_variant(mistake=None):
    def choose(held_out, clean_goal):
        reaches = (lambda clean: clean > clean_goal) if mistake == "strict" else (lambda clean: clean >= clean_goal)
        eligible = held_out if mistake == "no_bar" else {n: v for n, v in held_out.items() if reaches(v[0])}
        if not eligible:
            if mistake == "no_fallback":
                return None
            eligible = held_out
        return max(eligible, key=lambda name: eligible[name][0 if mistake == "by_clean" else 1])

    return choose


CHOOSE_CASES = [
    ("choose", choose_variant(), True, "reference candidate"),
    ("choose", advlib_choose, True, "reference candidate"),
    ("choose", choose_variant("no_bar"), False, "bar is ignored"),
    ("choose", choose_variant("by_clean"), False, "chose by clean accuracy"),
    ("choose", choose_variant("no_fallback"), False, "falls back"),
    ("choose", choose_variant("strict"), False, "use >=, not >"),
]


CASES = [case for cases in (SOFT_LABELS_CASES, PGD_STEP_CASES, EOT_GRADIENT_CASES, GRADIENT_AT_TEMPERATURE_CASES,
                            DLR_LOSS_CASES, RANDOM_SIGN_COPIES_CASES, SAMPLING_ERROR_CASES, STEPS_PER_EPOCH_CASES,
                            CONV_PARAMETERS_CASES, CHOOSE_CASES) for case in cases]


@pytest.mark.parametrize(("name", "answer", "passed", "hint"), CASES)
def test_each_exercise_passes_its_right_answers_and_names_each_typical_mistake(name, answer, passed, hint):
    # A right answer (several ways of writing it, the package's own function among them)
    # passes; each planted mistake fails with the hint written for it.
    result = exercises.check(name, answer)
    assert result.passed is passed and hint in result.message, result.message

"""The classroom edition's autograded tests, keyed by (chapter, exercise number).

Each test goes into a locked nbgrader cell after the exercise's solution. It has two parts:

* ``source``, which the student sees: properties any right answer has (shapes, ranges,
  identities) or, for the exercises where students write a method, the self-check
  ``advlib.exercises.check``, which prints a hint for each typical mistake;
* ``hidden``, between nbgrader's ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``,
  which the student copy lacks and ``nbgrader autograde`` puts back: the answer compared
  with an independent computation on the chapter's own model and data (an ``advlib``
  function, a closed form, Keras's own count), so that a plausibly wrong answer that
  passes the visible part (a step along the gradient instead of against it, FGSM still
  clipped, the success rate over all images) loses the points.

Both parts must pass on the book's solution under every profile (``make test`` runs the
instructor notebooks under nbval on ``quick``; the build runs the full book), so they
compare with computations of the same run, never with a number typed in from one profile.
``uses`` names the variables the test reads (the model solution defines them); ``hint``,
added to the exercise's text, tells the student to define them.

Points: a test of an exercise where students write a method (``WRITE_IT_YOURSELF_POINTS``)
is worth more than one that checks a computed result (``RESULT_POINTS``); a written
answer or a solution without a test is graded by hand (``MANUAL_POINTS``).
"""

from __future__ import annotations

from dataclasses import dataclass

RESULT_POINTS = 1
WRITE_IT_YOURSELF_POINTS = 2
MANUAL_POINTS = 1


@dataclass(frozen=True)
class Check:
    uses: tuple[str, ...]
    hint: str
    source: str
    hidden: str = ""
    points: int = RESULT_POINTS


def _self_check(exercise: str, function: str, call: str, hidden: str) -> Check:
    """The test of an exercise where students write ``function``: advlib.exercises' check,
    which prints a hint, then (hidden) the function on the chapter's own model and data."""
    return Check(
        (function,),
        f"Write it as the function `{function}`, called as {call}.",
        f'assert advlib.exercises.check("{exercise}", {function}).passed, "read the hint printed above"',
        hidden,
        WRITE_IT_YOURSELF_POINTS,
    )


CHECKS: dict[tuple[str, int], Check] = {
    ("01_introduction", 1): Check(
        ("train_images",),
        "Store the number of training images in `train_images`.",
        'assert train_images == 10 * advlib.plan.registry.PROFILES["quick"].per_class[0], '
        '"train_images should be the number of training images of the quick profile"',
    ),
    ("01_introduction", 3): _self_check(
        "steps_per_epoch", "steps_per_epoch", "steps_per_epoch(images, batch_size)",
        "# The full CIFAR-10 training set in batches of 128, and sizes that divide evenly or not.\n"
        "assert steps_per_epoch(50_000, 128) == 391 and steps_per_epoch(1_000, 100) == 10\n"
        "assert steps_per_epoch(1, 128) == 1 and steps_per_epoch(129, 128) == 2",
    ),
    ("02_data_and_baseline", 3): Check(
        ("predictions",),
        "Store the predicted class of every test image in `predictions`.",
        "assert np.shape(predictions) == np.shape(data.y_test), \"one predicted class per test image\"\n"
        "# Every test image is in exactly one class: the per-class hits add up to the overall accuracy.\n"
        "assert abs(np.mean(np.asarray(predictions) == data.y_test)\n"
        "           - advlib.evaluation.metrics.accuracy(baseline, data.x_test, data.y_test)) < 0.005",
        "reference = advlib.evaluation.metrics.predict_probabilities(baseline, data.x_test).argmax(axis=1)\n"
        "assert np.mean(np.asarray(predictions) == reference) > 0.999, \"the baseline's predicted classes\"",
    ),
    ("02_data_and_baseline", 5): _self_check(
        "conv_parameters", "conv_parameters", "conv_parameters(kernel_size, in_channels, filters)",
        "# Keras's own count for the first two convolutions of the Table-1 CNN.\n"
        "assert conv_parameters(3, 3, 32) == model.get_layer(\"conv1_1\").count_params()\n"
        "assert conv_parameters(3, 32, 32) == model.get_layer(\"conv1_2\").count_params()",
    ),
    ("03_fgsm", 1): Check(
        ("x_some", "y_some", "x_helped"),
        "Store the test images you use in `x_some`, their labels in `y_some` and the images stepped against the "
        "gradient in `x_helped`.",
        "assert x_helped.shape == x_some.shape\n"
        "assert x_helped.min() >= 0.0 and x_helped.max() <= 1.0, \"clip the images to [0, 1]\"\n"
        "assert np.abs(x_helped - x_some).max() <= eps + 1e-6, \"each pixel moves by at most eps\"",
        "# x - eps * sign(gradient) is 2x minus FGSM's unclipped x + eps * sign(gradient).\n"
        "along = advlib.attacks.one_step.fgsm(baseline, x_some, y_some, eps, clip=None)\n"
        "against = np.clip(2.0 * x_some - along, 0.0, 1.0)\n"
        "assert np.mean(np.isclose(np.asarray(x_helped), against, atol=1e-6)) > 0.99, \"step against the sign of the gradient\"",
    ),
    ("03_fgsm", 2): Check(
        ("x_unclipped",),
        "Store the unclipped FGSM images of the test set in `x_unclipped`.",
        "assert x_unclipped.shape == data.x_test.shape\n"
        "assert np.abs(x_unclipped - data.x_test).max() <= eps + 1e-6, \"each pixel moves by at most eps\"\n"
        "# Clipped, they are the chapter's FGSM images (\"almost all\": a GPU may flip the sign of a tiny gradient).\n"
        "assert np.mean(np.isclose(np.clip(x_unclipped, 0.0, 1.0), x_adv, atol=1e-6)) > 0.99",
        "# Test images have pixels at 0 and 1: without the clip, some step out of [0, 1].\n"
        "assert np.mean((x_unclipped < 0.0) | (x_unclipped > 1.0)) > 0.0, \"run FGSM with clip=None\"",
    ),
    ("03_fgsm", 3): Check(
        ("success_rate",),
        "Store the share in `success_rate`.",
        "assert 0.0 <= success_rate <= 1.0, \"a share of images\"\n"
        "# Fewer images in the denominator than the whole test set: at least the share of all images flipped.\n"
        "assert success_rate >= np.mean(flipped) - 1e-12",
        "assert abs(success_rate - np.sum(flipped) / np.sum(clean_predictions == data.y_test)) < 1e-9, (\n"
        "    \"flipped images over the images classified correctly before the attack\")",
    ),
    ("03_fgsm", 4): _self_check(
        "fgsm", "my_fgsm", "my_fgsm(model, x, y, eps)",
        "x_first, y_first = data.x_test[:128], data.y_test[:128]\n"
        "reference = advlib.attacks.one_step.fgsm(baseline, x_first, y_first, eps)\n"
        "assert np.mean(np.isclose(np.asarray(my_fgsm(baseline, x_first, y_first, eps)), reference, atol=1e-6)) > 0.999",
    ),
    ("04_adversarial_training", 1): Check(
        ("transfer", "own"),
        "Store the accuracy on the baseline's FGSM images in `transfer` and on its own in `own`.",
        "assert 0.0 <= transfer <= 1.0 and 0.0 <= own <= 1.0, \"accuracies are shares of the test images\"",
        "evaluate = advlib.evaluation.metrics.perturbed_accuracy\n"
        "assert abs(own - evaluate(models[\"random_at\"], x_test, y_test, eps=profile.eps)) < 1e-9, \"random_at on its own FGSM images\"\n"
        "assert abs(transfer - evaluate(models[\"random_at\"], x_test, y_test, eps=profile.eps,\n"
        "                               attack_model=models[\"baseline\"])) < 1e-9, \"random_at on the baseline's FGSM images\"",
    ),
    ("04_adversarial_training", 5): _self_check(
        "random_sign_copies", "my_random_copies", "my_random_copies(x, eps, seed)",
        "x_first = x_test[:64]\n"
        "copies = np.asarray(my_random_copies(x_first, profile.eps, 7))\n"
        "inside = (x_first >= profile.eps) & (x_first <= 1.0 - profile.eps)\n"
        "assert copies.shape == x_first.shape and 0.0 <= copies.min() and copies.max() <= 1.0\n"
        "assert np.allclose(np.abs(copies - x_first)[inside], profile.eps, atol=1e-6), \"every pixel moves by eps\"\n"
        "assert 0.45 < np.mean((copies > x_first)[inside]) < 0.55, \"about half the pixels up\"\n"
        "assert np.array_equal(copies, np.asarray(my_random_copies(x_first, profile.eps, 7))), \"the seed repeats the copies\"",
    ),
    ("05_defensive_distillation", 1): Check(
        ("labels",),
        "Leave the soft labels of the last temperature, T = 500, in `labels`.",
        "assert np.shape(labels) == (len(x_subset), 10)\n"
        "assert np.allclose(np.sum(labels, axis=1), 1.0, atol=1e-4), \"soft labels are probabilities\"",
        "reference = advlib.training.distillation.soft_labels(teacher, x_subset, 500.0)\n"
        "assert np.allclose(labels, reference, rtol=1e-4, atol=1e-6), \"the teacher's soft labels at T = 500\"",
    ),
    ("05_defensive_distillation", 5): _self_check(
        "soft_labels", "my_soft_labels", "my_soft_labels(logits, T)",
        "# The teacher's soft labels at T = 50 on the check's batch (labels_advlib, from advlib).\n"
        "assert np.allclose(np.asarray(my_soft_labels(teacher_logits, 50.0)), labels_advlib, rtol=1e-5, atol=1e-6)",
    ),
    ("06_gradient_hiding", 4): _self_check(
        "gradient_at_temperature", "my_gradient_at", "my_gradient_at(logits_model, x, y, T)",
        "x_first, y_first = x_sample[:64], y_sample[:64]\n"
        "for T in (1.0, 50.0):\n"
        "    reference = advlib.attacks.one_step.input_gradient_function(student_t50, temperature=T)(\n"
        "        tf.constant(x_first), tf.one_hot(y_first, 10))[0].numpy()\n"
        "    mine = np.asarray(my_gradient_at(student_logits, x_first, y_first, T))\n"
        "    assert np.allclose(mine, reference, rtol=1e-3, atol=1e-6 * np.abs(reference).max()), f\"T = {T:g}\"",
    ),
    ("07_variant", 4): _self_check(
        "soft_labels", "heated_soft_labels", "heated_soft_labels(logits, T)",
        "reference = advlib.training.distillation.soft_labels(teacher, x_sample, 4.0)\n"
        "assert np.allclose(np.asarray(heated_soft_labels(teacher_logits, 4.0)), reference, rtol=1e-5, atol=1e-6)",
    ),
    ("08_final_model", 1): Check(
        ("runs",),
        "Store the five accuracies in the list `runs`.",
        "assert len(runs) == 5, \"five measurements\"\n"
        "assert all(0.0 <= value <= 1.0 for value in runs), \"accuracies are shares of the test images\"",
    ),
    ("08_final_model", 5): _self_check(
        "eot_gradient", "my_eot_gradient", "my_eot_gradient(model, x, y, samples)",
        "# Without noise every draw is the same: the average of three draws is the plain gradient.\n"
        "x_first, y_first = np.asarray(x_check)[:32], np.asarray(y_check)[:32]\n"
        "gradient_of = advlib.attacks.one_step.input_gradient_function(final_student)\n"
        "reference = gradient_of(tf.constant(x_first), tf.one_hot(y_first, 10))[0].numpy()\n"
        "mine = np.asarray(my_eot_gradient(final_student, x_first, y_first, 3))\n"
        "assert np.allclose(mine, reference, rtol=1e-3, atol=1e-6 * np.abs(reference).max()), \"the mean of the draws\"",
    ),
    ("09_stronger_attacks", 4): _self_check(
        "pgd_step", "my_pgd_step", "my_pgd_step(model, x_adv, x, y, eps, step_size)",
        "# From the clean images, one step of size eps is FGSM.\n"
        "step = np.asarray(my_pgd_step(baseline, x_check, x_check, y_check, eps, eps))\n"
        "assert np.mean(np.isclose(step, attacks.fgsm(baseline, x_check, y_check, eps), atol=1e-6)) > 0.999",
    ),
    ("10_worst_case", 4): _self_check(
        "dlr_loss", "dlr_from_scratch", "dlr_from_scratch(y_onehot, logits)",
        "logits_check = models.logits_model(student_t1)(x_check, training=False).numpy()\n"
        "onehot_check = np.eye(10, dtype=np.float32)[y_check]\n"
        "reference = advlib.attacks.auto_pgd.dlr_loss(tf.constant(onehot_check), tf.constant(logits_check)).numpy()\n"
        "assert np.allclose(np.asarray(dlr_from_scratch(onehot_check, logits_check)), reference, atol=1e-5)",
    ),
    ("11_defence_search", 4): _self_check(
        "choose", "choose_from_scratch", "choose_from_scratch(held_out, clean_goal)",
        "as_results = {name: worst_case.WorstCase(size=1, clean_accuracy=clean, robust_accuracy=robust_accuracy)\n"
        "              for name, (clean, robust_accuracy) in held_out.items()}\n"
        "for goal in (expectations.CLEAN_GOAL, 0.0, 1.0):\n"
        "    assert choose_from_scratch(held_out, goal) == advlib.runs.defence.choose(as_results, goal)[0], goal",
    ),
    ("12_error_bars", 3): Check(
        ("bootstrap", "correct"),
        "Store whether each FGSM image is classified correctly in `correct` and the 1,000 bootstrap "
        "accuracies in `bootstrap`.",
        "assert len(bootstrap) == 1000 and all(0.0 <= value <= 1.0 for value in bootstrap)\n"
        "# Resampling with replacement keeps the accuracy on average.\n"
        "assert abs(np.mean(bootstrap) - np.mean(correct)) < 0.05",
        "# The bootstrap's spread is about the sampling error sqrt(p (1 - p) / n).\n"
        "p, n = np.mean(correct), len(correct)\n"
        "assert 0.7 < np.std(bootstrap) / np.sqrt(p * (1 - p) / n) < 1.3, \"resample n images with replacement\"",
    ),
    ("12_error_bars", 4): _self_check(
        "sampling_error", "my_sampling_error", "my_sampling_error(accuracy, n)",
        "assert abs(my_sampling_error(0.9, 10_000) - 0.003) < 1e-12 and abs(my_sampling_error(0.5, 100) - 0.05) < 1e-12",
    ),
}

"""APGD-CE, APGD-DLR and APGD-T, checked on linear softmax models whose L-inf worst case is closed-form."""

import numpy as np
import pytest

from advlib.attacks import auto_pgd as apgd
from tests.support.linear_models import EPS, linear_predictions, linear_softmax_model, margin_case, worst_case_margins


@pytest.fixture(scope="module")
def case():
    weights, bias, x, y, breakable = margin_case()
    return linear_softmax_model(weights, bias), weights, bias, x, y, breakable


def softmax_numpy(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_losses_match_their_formulas():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(20, 10)) * 3
    y = rng.integers(0, 10, size=20)
    t = (y + 1 + rng.integers(0, 9, size=20)) % 10
    onehot, target = np.eye(10, dtype=np.float32)[y], np.eye(10, dtype=np.float32)[t]
    ordered = -np.sort(-z, axis=1)
    others = np.where(onehot > 0, -np.inf, z).max(axis=1)
    true = z[np.arange(20), y]
    expected_dlr = -(true - others) / (ordered[:, 0] - ordered[:, 2] + 1e-12)
    expected_targeted = -(true - z[np.arange(20), t]) / (ordered[:, 0] - (ordered[:, 2] + ordered[:, 3]) / 2 + 1e-12)
    expected_ce = -np.log(softmax_numpy(z)[np.arange(20), y])
    logits = z.astype(np.float32)
    np.testing.assert_allclose(apgd.cross_entropy_loss(onehot, logits).numpy(), expected_ce, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(apgd.dlr_loss(onehot, logits).numpy(), expected_dlr, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        apgd.targeted_dlr_loss(target)(onehot, logits).numpy(), expected_targeted, rtol=1e-5, atol=1e-6
    )
    # The ratio is what makes DLR blind to the scale of the logits.
    np.testing.assert_allclose(apgd.dlr_loss(onehot, 1e3 * logits).numpy(), expected_dlr, rtol=1e-4)


def test_checkpoints_follow_the_papers_schedule():
    # p = 0.22, 0.41, 0.57, 0.70, 0.80, 0.87, 0.93, 0.99 (then 1.05 > 1), times 100, rounded up.
    assert apgd.checkpoints(100) == [22, 41, 57, 70, 80, 87, 93, 99]
    # ceil(2.2, 4.1, 5.7, 7.0, 8.0, 8.7, 9.3, 9.9) with the repeated 10 once.
    assert apgd.checkpoints(10) == [3, 5, 6, 7, 8, 9, 10]


@pytest.mark.parametrize("loss", [apgd.cross_entropy_loss, apgd.dlr_loss], ids=["ce", "dlr"])
def test_apgd_fools_exactly_the_images_the_closed_form_says_can_be_fooled(case, loss):
    model, weights, bias, x, y, breakable = case
    x_adv = apgd.apgd(model, x, y, EPS, loss=loss, steps=50, seed=0)
    np.testing.assert_array_equal(linear_predictions(weights, bias, x_adv) != y, breakable)
    assert np.all(np.abs(x_adv - x) <= np.float32(EPS) + 1e-7)


def test_apgd_ends_at_the_worst_case_corner_of_a_two_class_model():
    # For two classes the cross-entropy grows along w_wrong - w_true everywhere, so the
    # highest-loss point of the ball (in [0, 1]) is x + eps * sign(w_wrong - w_true). The
    # bias keeps every image correctly classified (the logit gap of 6 +- 1 shrinks by at
    # most about 0.6), so the highest-loss point is returned.
    rng = np.random.default_rng(5)
    weights, bias = rng.normal(size=(48, 2)) * 0.1, np.array([3.0, -3.0])
    model = linear_softmax_model(weights, bias)
    x = rng.uniform(0.0, 1.0, size=(12, 4, 4, 3)).astype(np.float32)
    y = np.zeros(12, dtype=np.int64)
    direction = np.sign(weights[:, 1] - weights[:, 0]).reshape(4, 4, 3).astype(np.float32)
    worst = np.clip(x + np.float32(0.1) * direction, 0.0, 1.0)
    x_adv = apgd.apgd(model, x, y, 0.1, steps=20, seed=0)
    np.testing.assert_allclose(x_adv, worst, atol=1e-6)


def test_apgd_stays_in_the_eps_ball_and_the_unit_interval(case):
    model, weights, bias, _, y, _ = case
    rng = np.random.default_rng(3)
    x = np.where(rng.random((16, 4, 4, 3)) < 0.5, rng.integers(0, 2, (16, 4, 4, 3)), rng.random((16, 4, 4, 3)))
    x = x.astype(np.float32)
    for loss in (apgd.cross_entropy_loss, apgd.dlr_loss):
        x_adv = apgd.apgd(model, x, y, 0.2, loss=loss, steps=10, seed=0)
        assert x_adv.dtype == np.float32 and x_adv.shape == x.shape
        assert np.all(np.abs(x_adv - x) <= np.float32(0.2) + 1e-7)
        assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    x_adv = apgd.apgd_targeted(model, x, y, 0.2, target_classes=2, steps=10, seed=0)
    assert np.all(np.abs(x_adv - x) <= np.float32(0.2) + 1e-7) and x_adv.min() >= 0.0 and x_adv.max() <= 1.0


def test_same_seed_same_result_and_batch_size_changes_nothing(case):
    model, _, _, x, y, _ = case
    options = dict(loss=apgd.dlr_loss, steps=20, restarts=2)
    first = apgd.apgd(model, x, y, EPS, seed=3, **options)
    np.testing.assert_array_equal(first, apgd.apgd(model, x, y, EPS, seed=3, **options))
    # The model's outputs themselves differ in the last bit between batch sizes, which can
    # only matter where two losses tie to the last bit; hence a tolerance.
    batched = apgd.apgd(model, x, y, EPS, seed=3, batch_size=3, **options)
    np.testing.assert_allclose(batched, first, atol=1e-6, rtol=0)
    # The unbreakable images end at their highest-loss point, which depends on the start.
    assert not np.array_equal(first, apgd.apgd(model, x, y, EPS, seed=4, **options))
    targeted = apgd.apgd_targeted(model, x, y, EPS, target_classes=3, steps=20, seed=3)
    np.testing.assert_allclose(
        apgd.apgd_targeted(model, x, y, EPS, target_classes=3, steps=20, seed=3, batch_size=5), targeted, atol=1e-6,
        rtol=0,
    )


def test_eot_samples_change_nothing_on_a_deterministic_model(case):
    model, _, _, x, y, _ = case
    for loss in (apgd.cross_entropy_loss, apgd.dlr_loss):
        np.testing.assert_array_equal(
            apgd.apgd(model, x, y, EPS, loss=loss, steps=10, samples=3, seed=0),
            apgd.apgd(model, x, y, EPS, loss=loss, steps=10, samples=1, seed=0),
        )


def test_eps_zero_returns_x(case):
    model, _, _, x, y, _ = case
    np.testing.assert_array_equal(apgd.apgd(model, x, y, 0.0, steps=3, seed=0), x)


def ranked_case():
    """Only the class ranked third by the clean logits (class 3) can be reached within EPS.

    Class 0 is true (logit 0); classes 1 and 2 have constant logits -0.5 and -0.6, so they
    can never overtake it; class 3's logit is about -1 but its weights have L1 norm 48, so
    EPS moves it by 2.4; the others are at -5.
    """
    weights = np.zeros((48, 10))
    weights[:, 3] = np.tile([1.0, -1.0], 24)
    bias = np.array([0.0, -0.5, -0.6, -1.0] + [-5.0] * 6)
    x = (0.5 + np.random.default_rng(2).uniform(-0.01, 0.01, size=(6, 4, 4, 3))).astype(np.float32)
    y = np.zeros(6, dtype=np.int64)
    return weights, bias, x, y


def test_apgd_targeted_tries_the_top_target_classes_by_clean_logit():
    weights, bias, x, y = ranked_case()
    margins = worst_case_margins(weights, bias, x, y, EPS)
    clean = x.reshape(6, -1) @ weights + bias
    assert np.all(np.argsort(-clean, axis=1)[:, 3] == 3)  # class 3 is ranked third among the others
    assert np.all(margins[:, 3] < -1.0) and np.all(np.delete(margins, [0, 3], axis=1) > 0.4)
    model = linear_softmax_model(weights, bias)
    not_yet = apgd.apgd_targeted(model, x, y, EPS, target_classes=2, steps=30, seed=0)
    np.testing.assert_array_equal(linear_predictions(weights, bias, not_yet), y)
    reached = apgd.apgd_targeted(model, x, y, EPS, target_classes=3, steps=30, seed=0)
    np.testing.assert_array_equal(linear_predictions(weights, bias, reached), 3)


def test_targeted_dlr_loss_reaches_the_chosen_target():
    # Classes 1 (runner-up) and 2 can both be reached, through disjoint halves of the pixels.
    weights = np.zeros((48, 10))
    weights[:24, 1], weights[24:, 2] = np.tile([1.0, -1.0], 12), np.tile([-1.0, 1.0], 12)
    bias = np.array([0.0, -0.5, -0.6] + [-5.0] * 7)
    x = (0.5 + np.random.default_rng(4).uniform(-0.01, 0.01, size=(6, 4, 4, 3))).astype(np.float32)
    y = np.zeros(6, dtype=np.int64)
    margins = worst_case_margins(weights, bias, x, y, EPS)
    assert np.all(margins[:, 1:3] < -0.5)
    model = linear_softmax_model(weights, bias)
    target = np.eye(10, dtype=np.float32)[2]
    x_adv = apgd.apgd(model, x, y, EPS, loss=apgd.targeted_dlr_loss(target), steps=30, seed=0)
    np.testing.assert_array_equal(linear_predictions(weights, bias, x_adv), 2)
    runner_up = apgd.apgd(model, x, y, EPS, loss=apgd.targeted_dlr_loss(np.eye(10)[1]), steps=30, seed=0)
    np.testing.assert_array_equal(linear_predictions(weights, bias, runner_up), 1)


def test_bad_target_arguments_and_too_few_classes_get_a_clear_error(case):
    model, _, _, x, y, _ = case
    for target_classes in (0, 10, 2.0):
        with pytest.raises(ValueError, match="target_classes"):
            apgd.apgd_targeted(model, x, y, EPS, target_classes=target_classes)
    small = linear_softmax_model(np.ones((48, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="4 classes"):
        apgd.apgd_targeted(small, x, y % 3, EPS)
    two = linear_softmax_model(np.ones((48, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="3 classes"):
        apgd.apgd(two, x, y % 2, EPS, loss=apgd.dlr_loss)


def _reference_checkpoints(steps):
    """Croce and Hein (2020), section 3.1: p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06)."""
    fractions = [0.0, 0.22]
    while fractions[-1] + max(fractions[-1] - fractions[-2] - 0.03, 0.06) <= 1.0:
        fractions.append(fractions[-1] + max(fractions[-1] - fractions[-2] - 0.03, 0.06))
    return sorted({int(np.ceil(round(p * steps, 9))) for p in fractions[1:]} - {0})


def _reference_apgd_path(f, gradient, x, x_start, eps, steps, rho=0.75, alpha=0.75):
    """Algorithm 1 of Croce and Hein (2020) on one scalar pixel, written from the paper.

    Returns every point at which the loss is evaluated, in order, and the best point.
    float32 arithmetic in the paper's order of operations, so the path can be compared
    exactly with advlib's.
    """
    f32 = np.float32
    low, high = f32(x - f32(eps)), f32(x + f32(eps))

    def project(value):
        return f32(min(max(value, low), high))

    eta, a = f32(2.0 * eps), f32(alpha)
    checkpoints_ = set(_reference_checkpoints(steps))
    x_k = project(x_start)
    path, f_k = [x_k], f(x_k)
    x_max, f_max = x_k, f_k
    x_previous, count, last, f_max_at_last, eta_changed_at_last = x_k, 0, 0, f_max, False
    for k in range(steps):
        z = project(x_k + eta * np.sign(gradient(x_k)))
        x_next = z if k == 0 else project(x_k + a * (z - x_k) + (f32(1) - a) * (x_k - x_previous))
        f_next = f(x_next)
        path.append(x_next)
        count += f_next > f_k
        if f_next > f_max:
            x_max, f_max = x_next, f_next
        x_previous, x_k, f_k = x_k, x_next, f_next
        if k + 1 in checkpoints_:
            condition_1 = count < rho * (k + 1 - last)
            condition_2 = not eta_changed_at_last and f_max <= f_max_at_last
            eta_changed_at_last = condition_1 or condition_2
            if eta_changed_at_last:
                eta = f32(eta / 2)
                x_k, f_k = x_max, f_max  # restart from the best point found so far
            count, last, f_max_at_last = 0, k + 1, f_max
    return path, x_max


# 200 steps: the last checkpoint interval is long enough (12 steps) for the path to end
# below its best point, so returning the last iterate instead of the best one shows.
@pytest.mark.parametrize("steps", [10, 25, 60, 200])
def test_apgd_follows_algorithm_1_step_by_step(steps):
    # A wavy one-pixel loss, so the path overshoots, turns back, stalls and restarts: every
    # point APGD evaluates (step size 2 eps halving at the checkpoints, momentum, restarts
    # from the best point) must be the paper's, and it must return the best point.
    import tensorflow as tf

    centres = np.float32([0.30, -0.55, 0.05, 0.8, -0.2, 0.45])
    waves = np.float32([0.6, 0.3, 0.9, 0.2, 0.7, 0.5])

    def loss_of(value, i):
        return np.float32(-(value - centres[i]) ** 2 + waves[i] * np.sin(np.float32(7.0) * value))

    def gradient_of(value, i):
        return np.float32(-2 * (value - centres[i]) + waves[i] * 7.0 * np.cos(np.float32(7.0) * value))

    evaluated = []

    def function(x_batch, y_batch, t_batch):
        values = x_batch.numpy()[:, 0].astype(np.float32)
        evaluated.append(values.copy())
        rows = range(len(values))
        gradient = np.float32([[gradient_of(v, i)] for i, v in zip(rows, values)])
        loss = np.float32([loss_of(v, i) for i, v in zip(rows, values)])
        logits = np.tile(np.float32([1.0, 0.0]), (len(values), 1))  # never misclassified
        return tf.constant(gradient), tf.constant(loss), tf.constant(logits)

    x = np.zeros((len(centres), 1), np.float32)
    start = np.float32([[-1.0], [1.0], [0.4], [-0.7], [0.0], [0.9]])
    y = np.tile(np.float32([1.0, 0.0]), (len(x), 1))
    result, fooled, _ = apgd._apgd_batch(function, x, y, y, start, 1.0, steps, 0.75, 0.75, 1, None)
    assert not fooled.any()
    paths = np.stack(evaluated, axis=1)  # (images, evaluations)
    for i in range(len(x)):
        path, best = _reference_apgd_path(lambda v: loss_of(v, i), lambda v: gradient_of(v, i), 0.0, start[i, 0], 1.0, steps)
        np.testing.assert_array_equal(paths[i], path, err_msg=f"image {i}: the evaluated points differ from Algorithm 1")
        assert result[i, 0] == best, f"image {i}: APGD returned {result[i, 0]}, the best point is {best}"
    assert _reference_checkpoints(steps) == apgd.checkpoints(steps)

"""The worst-case evaluation: per-image worst case over a suite, checked on a linear model's closed form."""

import numpy as np
import pytest

from advlib.data import cifar10 as data
from advlib.evaluation import worst_case
from advlib.verdicts import uncertainty as statistics


def _two_class_model(weights, bias):
    import keras

    inputs = keras.Input(shape=(weights.shape[0],))
    logits = keras.layers.Dense(2, name="logits")(inputs)
    model = keras.Model(inputs, keras.layers.Softmax()(logits))
    model.get_layer("logits").set_weights([weights.astype(np.float32), bias.astype(np.float32)])
    return model


@pytest.fixture(scope="module")
def linear():
    """Two classes, z = W x + b: FGSM at eps moves the margin by exactly eps * ||w_1 - w_0||_1."""
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(16, 2))
    # Centre the margin at x = 0.5, so some images lie within reach of eps and some do not.
    bias = np.array([-0.5 * (weights[:, 0] - weights[:, 1]).sum(), 0.0])
    x = rng.uniform(0.3, 0.7, size=(300, 16)).astype(np.float32)
    logits = x @ weights + bias
    y = logits.argmax(axis=1)
    # A few wrong labels, so clean accuracy is below 1 and wrong images stay out of the attacks.
    y[:20] = 1 - y[:20]
    return _two_class_model(weights, bias), x, y, weights, bias


def _breakable(x, y, weights, bias, eps):
    """Images FGSM can break at eps: the margin of the two-class linear model is below eps * ||w_1 - w_0||_1."""
    margin = np.abs((x @ weights + bias) @ np.array([1.0, -1.0]))
    return margin < eps * np.abs(weights[:, 0] - weights[:, 1]).sum()


def _broken_by_random_signs(model, x, y, correct, eps):
    """The images random signs (seed 0) break, made here independently of the suite."""
    from advlib.attacks import one_step as attacks

    broken = np.zeros(len(x), dtype=bool)
    broken[correct] = model.predict(attacks.random_sign(x[correct], eps, seed=0), verbose=0).argmax(1) != y[correct]
    return broken


def test_the_worst_case_of_fgsm_and_random_signs_matches_the_closed_form(linear):
    model, x, y, weights, bias = linear
    eps = 0.02
    breakable = _breakable(x, y, weights, bias, eps)
    # The fixture must separate the right answer from the wrong ones: some break, some do not.
    assert 0.1 < breakable[20:].mean() < 0.9
    correct = np.ones(len(x), dtype=bool)
    correct[:20] = False
    # The weaker attack first, so "the first attack's result" and the per-image worst case differ.
    suite = (("random", "random_sign", {}), ("FGSM", "fgsm", {}))
    result = worst_case.evaluate(model, x, y, eps, suite=suite, every_image=("random", "FGSM"), seed=0)
    assert result.clean_accuracy == pytest.approx(correct.mean())
    assert result.attack_accuracy["FGSM"] == pytest.approx(np.mean(correct & ~breakable))
    # Random signs at this eps can break only images FGSM breaks (FGSM is the worst case of a
    # linear model), so the worst case is FGSM's.
    assert result.robust_accuracy == pytest.approx(np.mean(correct & ~breakable))
    broken_by_random = _broken_by_random_signs(model, x, y, correct, eps)
    assert not np.any(broken_by_random & ~breakable)
    assert 0 < broken_by_random.sum() < (correct & breakable).sum()
    assert result.attack_accuracy["random"] == pytest.approx(np.mean(correct & ~broken_by_random))
    assert result.accuracy_after["random"] == result.attack_accuracy["random"]
    assert result.accuracy_after["FGSM"] == result.robust_accuracy
    assert result.added_by["random"] == pytest.approx(np.mean(broken_by_random))
    assert result.added_by["FGSM"] == pytest.approx(np.mean(correct & breakable & ~broken_by_random))
    assert result.interval == statistics.wilson_interval(result.robust_accuracy, len(x))
    assert result.black_box_beats_white_box is None and result.black_box_only is None
    assert worst_case.WorstCase.from_dict(result.to_dict()) == result


def test_a_cascade_attack_runs_only_on_the_images_every_earlier_attack_missed(linear, monkeypatch):
    from advlib.attacks import registry as attack_registry

    model, x, y, weights, bias = linear
    eps = 0.02
    breakable = _breakable(x, y, weights, bias, eps)
    correct = np.ones(len(x), dtype=bool)
    correct[:20] = False
    broken_by_random = _broken_by_random_signs(model, x, y, correct, eps)
    attacked = {}
    run = attack_registry.run

    def spy(name, model, x_attacked, y_attacked, eps, **options):
        attacked[name] = len(x_attacked)
        return run(name, model, x_attacked, y_attacked, eps, **options)

    monkeypatch.setattr(attack_registry, "run", spy)
    suite = (("random", "random_sign", {}), ("FGSM", "fgsm", {}))
    result = worst_case.evaluate(model, x, y, eps, suite=suite, every_image=("random",), seed=0)
    # FGSM, in the cascade, attacks only the correct images random signs did not break.
    assert attacked == {"random_sign": correct.sum(), "fgsm": np.sum(correct & ~broken_by_random)}
    assert result.robust_accuracy == pytest.approx(np.mean(correct & ~breakable))
    assert result.added_by["FGSM"] == pytest.approx(np.mean(correct & breakable & ~broken_by_random))
    assert set(result.attack_accuracy) == {"random"}
    # The other way round, random signs find nothing FGSM left: they add no image.
    attacked.clear()
    reverse = worst_case.evaluate(model, x, y, eps, suite=suite[::-1], every_image=("FGSM",), seed=0)
    assert attacked == {"fgsm": correct.sum(), "random_sign": np.sum(correct & ~breakable)}
    assert reverse.added_by["random"] == 0.0 and reverse.robust_accuracy == result.robust_accuracy


def test_a_black_box_attack_that_beats_the_white_box_ones_is_flagged(linear, monkeypatch):
    model, x, y, _, _ = linear
    # Count FGSM as the black box and a no-op as the white box: the "black box" wins.
    monkeypatch.setattr(worst_case, "BLACK_BOX", ("fgsm",))
    result = worst_case.evaluate(model, x, y, 0.05, suite=(("none", "none", {}), ("FGSM", "fgsm", {})), every_image=("none",))
    assert result.attack_accuracy["none"] == result.clean_accuracy
    assert result.black_box_beats_white_box is True
    assert result.black_box_only == pytest.approx(result.clean_accuracy - result.robust_accuracy)
    honest = worst_case.evaluate(model, x, y, 0.05, suite=(("PGD", "pgd", {"steps": 3}), ("FGSM", "fgsm", {})), every_image=("PGD",))
    assert honest.black_box_beats_white_box is False and honest.black_box_only == 0.0
    # Both on every image: the black box breaks many images, but none the white box missed.
    both = worst_case.evaluate(model, x, y, 0.05, suite=(("PGD", "pgd", {"steps": 3}), ("FGSM", "fgsm", {})), every_image=("PGD", "FGSM"))
    assert both.attack_accuracy["FGSM"] < both.clean_accuracy - 0.1
    assert both.black_box_only == 0.0 and both.black_box_beats_white_box is False


def test_stratified_subset_takes_the_same_number_of_each_class():
    labels = np.repeat(np.arange(10), 30)
    np.random.default_rng(1).shuffle(labels)
    indices = worst_case.stratified_subset(labels, 7, seed=3)
    assert np.all(np.bincount(labels[indices]) == 7) and np.all(np.diff(indices) > 0)
    np.testing.assert_array_equal(indices, worst_case.stratified_subset(labels, 7, seed=3))
    with pytest.raises(ValueError, match="at most 30 per class"):
        worst_case.stratified_subset(labels, 31)
    # 250 per class, 2,500 images: the interval of an accuracy of 0.5 is within ±0.02.
    low, high = statistics.wilson_interval(0.5, 2500)
    assert high - 0.5 <= 0.02 and 0.5 - low <= 0.02


def test_the_worst_case_subset_and_the_profiles_subsets_draw_the_same_way():
    # One home for the draw: the same generator gives the same indices through both
    # entry points, so the test subset and the profiles' subsets cannot drift apart.
    labels = np.repeat(np.arange(10), 12)
    np.random.default_rng(2).shuffle(labels)
    through_data = data.stratified_indices(labels, 5, np.random.default_rng(9), classes=range(10))
    np.testing.assert_array_equal(worst_case.stratified_subset(labels, 5, seed=9), through_data)
    # Drawn class by class: a second subset from the same generator differs from the first.
    generator = np.random.default_rng(9)
    first = data.stratified_indices(labels, 5, generator)
    assert not np.array_equal(first, data.stratified_indices(labels, 5, generator))


def test_bad_suites_are_refused(linear):
    model, x, y, _, _ = linear
    with pytest.raises(ValueError, match="at least one attack"):
        worst_case.evaluate(model, x, y, 0.01, suite=())
    with pytest.raises(ValueError, match="unknown attack"):
        worst_case.evaluate(model, x, y, 0.01, suite=(("x", "cw", {}),))
    with pytest.raises(ValueError, match="not labels of the suite"):
        worst_case.evaluate(model, x, y, 0.01, suite=(("FGSM", "fgsm", {}),))
    with pytest.raises(ValueError, match="labels must differ"):
        worst_case.evaluate(model, x, y, 0.01, suite=(("A", "fgsm", {}), ("A", "pgd", {})), every_image=("A",))
    with pytest.raises(ValueError, match="black-box attacks last"):
        worst_case.evaluate(model, x, y, 0.01, suite=(("S", "square", {}), ("F", "fgsm", {})), every_image=())


def test_an_interrupted_evaluation_resumes_after_its_last_finished_attack(linear, monkeypatch):
    from advlib.attacks import registry as attack_registry

    model, x, y, weights, bias = linear
    eps = 0.02
    suite = (("random", "random_sign", {}), ("FGSM", "fgsm", {}))
    kept = {}
    whole = worst_case.evaluate(model, x, y, eps, suite=suite, every_image=("random",), seed=0,
                                on_attack=lambda label, broken: kept.update({label: broken}))
    # Every attack that ran handed over its mask: the images it broke, among the correct ones.
    assert set(kept) == {"random", "FGSM"}
    correct = np.ones(len(x), dtype=bool)
    correct[:20] = False
    np.testing.assert_array_equal(kept["random"], _broken_by_random_signs(model, x, y, correct, eps))

    # A run killed after the first attack: only FGSM runs again, on what random signs left.
    attacked = {}
    run = attack_registry.run

    def spy(name, model, x_attacked, y_attacked, eps, **options):
        attacked[name] = len(x_attacked)
        return run(name, model, x_attacked, y_attacked, eps, **options)

    monkeypatch.setattr(attack_registry, "run", spy)
    resumed = worst_case.evaluate(model, x, y, eps, suite=suite, every_image=("random",), seed=0,
                                  finished={"random": kept["random"]})
    assert attacked == {"fgsm": np.sum(correct & ~kept["random"])}
    assert resumed == whole
    # A mask from another evaluation (another number of images) is refused, not mixed in.
    with pytest.raises(ValueError, match="shape"):
        worst_case.evaluate(model, x, y, eps, suite=suite, every_image=("random",), finished={"random": kept["random"][:10]})


def test_run_all_prints_a_line_per_view_with_the_share_already_done(monkeypatch, capsys):
    from advlib.plan import registry
    from advlib.runs import worst_case_studies

    # The studies are replaced by recorders: only the loop and its progress lines run.
    monkeypatch.setattr(worst_case_studies, "worst_case_study", lambda view, profile: ("worst case", view.label))
    monkeypatch.setattr(worst_case_studies, "reference_study", lambda view, profile: ("reference", view.label))
    found = worst_case_studies.run_all("test")
    labels = [view.label for view in registry.audit_views()]
    assert found == {label: (("worst case", label), ("reference", label)) for label in labels}
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(";")[0] for line in lines] == [
        f"== worst case {index} of {len(labels)}: {label}" for index, label in enumerate(labels, start=1)]
    # Each line ends in the meter: the share of the views finished before it starts, the time
    # elapsed and the time left.
    for index, line in enumerate(lines):
        meter = line.split("; ", 1)[1]
        assert abs(int(meter.split("%")[0]) - 100 * index / len(labels)) <= 0.5, line
        assert "elapsed" in meter and "ETA" in meter, line
    worst_case_studies.run_all("test", verbose=False)
    assert capsys.readouterr().out == ""

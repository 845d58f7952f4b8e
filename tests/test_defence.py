"""Choosing a defence candidate on held-out training images (advlib.defence), on the tiny test profile."""

import numpy as np
import pytest

from advlib import defence, experiments, registry, worst_case


@pytest.fixture
def environment(trained_test_environment):
    return trained_test_environment


def _result(clean, robust):
    return worst_case.WorstCase(size=100, clean_accuracy=clean, robust_accuracy=robust)


def test_the_validation_study_attacks_held_out_training_images_only_and_is_saved(environment, monkeypatch):
    seen = {}
    evaluate = worst_case.evaluate

    def spy(model, x, y, eps, **options):
        seen.update(x=x, y=y, suite=options["suite"])
        return evaluate(model, x, y, eps, **options)

    monkeypatch.setattr(worst_case, "evaluate", spy)
    name = registry.DEFENCE_CANDIDATES[0]
    result = defence.validation_study(name, "test")
    data = experiments.load_data("test")
    kept, held_out = experiments.holdout_indices(data, "test")
    held = {image.tobytes() for image in data.x_train[held_out]}
    trained = {image.tobytes() for image in data.x_train[kept]}
    assert all(image.tobytes() in held and image.tobytes() not in trained for image in seen["x"])
    per_class = defence.validation_per_class("test")
    assert np.all(np.bincount(seen["y"], minlength=10) == per_class) and result.size == 10 * per_class
    assert [label for label, _, _ in seen["suite"]] == list(defence.VALIDATION_LABELS)
    assert set(result.attack_accuracy) == set(defence.VALIDATION_LABELS)
    # Saved: a second call computes nothing.
    monkeypatch.setattr(worst_case, "evaluate", lambda *a, **k: pytest.fail("computed again"))
    assert defence.validation_study(name, "test") == result
    with pytest.raises(ValueError, match="must be one of"):
        defence.validation_study("baseline", "test")


def test_choose_takes_the_most_robust_candidate_that_reaches_the_clean_goal():
    results = {"a": _result(0.85, 0.55), "b": _result(0.79, 0.62), "c": _result(0.81, 0.58)}
    # b is the most robust but misses the clean goal; c is the most robust of those that reach it.
    assert defence.choose(results, 0.80)[0] == "c"
    assert defence.choose(results, 0.70)[0] == "b"
    name, reason = defence.choose({"a": _result(0.70, 0.50), "b": _result(0.75, 0.40)}, 0.80)
    assert name == "a" and reason.startswith("no candidate reaches")
    assert defence.choose({"x": _result(0.9, 0.5), "y": _result(0.9, 0.5)}, 0.8)[0] == "x"
    with pytest.raises(ValueError, match="at least one"):
        defence.choose({}, 0.8)

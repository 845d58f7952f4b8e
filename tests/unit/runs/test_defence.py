"""Choosing a defence candidate on held-out training images (advlib.runs.defence), on the tiny test profile."""

import numpy as np
import pytest

from advlib.evaluation import worst_case
from advlib.plan import registry
from advlib.runs import defence, experiments


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


def test_selection_waits_for_training_then_looks_at_the_test_set_once_for_the_chosen_candidate(environment, monkeypatch):
    from advlib.runs import worst_case_studies
    from advlib.verdicts import expectations

    candidates = registry.DEFENCE_CANDIDATES
    waiting = defence.selection("test")
    assert waiting.missing == {name: "training" for name in candidates} and waiting.chosen is None
    for name in candidates:
        experiments.load_or_train(name, "test")
    # Trained but not evaluated: reading only computes nothing and says what is missing.
    unread = defence.selection("test", compute=False)
    assert unread.missing == {name: "the held-out evaluation" for name in candidates} and unread.test is None
    assert set(unread.records) == set(candidates)

    studied = []
    study = worst_case_studies.worst_case_study

    def spy(view, profile, **options):
        studied.append(view.label)
        return study(view, profile, **options)

    monkeypatch.setattr(worst_case_studies, "worst_case_study", spy)
    chosen = defence.selection("test")
    assert not chosen.missing and set(chosen.validation) == set(candidates)
    assert (chosen.chosen, chosen.reason) == defence.choose(chosen.validation, expectations.CLEAN_GOAL)
    # The test set judges the chosen candidate only, once.
    assert studied == [chosen.chosen]
    data = experiments.load_data("test")
    per_class = worst_case_studies.options_for("test")["per_class"]
    assert chosen.test.size == len(worst_case_studies.subset_for(data, per_class, registry.get_profile("test").seed))
    assert set(chosen.test_reference) >= {"clean", "fgsm", "pgd"}

    # Everything is saved: reading it back computes nothing and gives the same numbers.
    monkeypatch.setattr(worst_case, "evaluate", lambda *a, **k: pytest.fail("computed again"))
    again = defence.selection("test", compute=False)
    assert (again.validation, again.chosen, again.test, again.test_reference) == (
        chosen.validation, chosen.chosen, chosen.test, chosen.test_reference)


@pytest.mark.parametrize("only, compares", [(None, True), (["defence_pgd2_ema"], True), (["baseline"], False)])
def test_reproduce_compares_the_candidates_unless_told_to_train_other_models_only(monkeypatch, only, compares):
    from advlib.runs import summary as reporting
    from advlib.runs import analyses, measurements, pipeline, studies, worst_case_studies

    calls = []
    for module, name in ((experiments, "load_or_train"), (measurements, "measure"), (studies, "run_all"),
                         (analyses, "run_all"), (worst_case_studies, "run_all")):
        monkeypatch.setattr(module, name, lambda *a, **k: None)
    monkeypatch.setattr(reporting, "format_report", lambda profile: "")
    monkeypatch.setattr(defence, "selection", lambda profile, compute=None: calls.append(compute))
    pipeline.reproduce(registry.get_profile("test"), only)
    assert calls == ([True] if compares else [])

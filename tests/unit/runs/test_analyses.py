"""Chapter analyses over whole data sets (advlib.runs.analyses), on the tiny test profile."""

import numpy as np
import pytest

from advlib import models
from advlib.attacks import one_step as attacks
from advlib.evaluation import metrics as evaluation
from advlib.plan import catalogue, registry
from advlib.plan.registry import View
from advlib.results import store
from advlib.runs import analyses, experiments, studies


@pytest.fixture
def environment(trained_test_environment):
    """An isolated test-profile environment with the shared models (tests/conftest.py)."""
    return trained_test_environment


def refuse(*arguments, **options):
    raise AssertionError("a saved analysis was computed again")


def test_gradient_norms_are_saved_whole_and_read_back_without_computing(environment, monkeypatch):
    view = View("dd_student_t50", temperature=1.0)
    saved = analyses.gradient_norm_study(view, "test")
    data = experiments.load_data("test")
    student_t1 = models.with_temperature(experiments.load_or_train("dd_student_t50", "test"), 1.0)
    direct = evaluation.gradient_norms(student_t1, data.x_test, data.y_test)
    # Every test image, in order; 6 significant digits; exact zeros stay exact.
    assert saved.norms.shape == direct.norms.shape == (len(data.x_test),)
    np.testing.assert_allclose(saved.norms, direct.norms, rtol=1e-5, atol=0)
    np.testing.assert_allclose(saved.losses, direct.losses, rtol=1e-5, atol=0)
    assert np.array_equal(saved.norms == 0.0, direct.norms == 0.0)
    assert saved.correct.dtype == bool and np.array_equal(saved.correct, direct.correct)
    # The fixture must tell right from wrong flags: some images right, some wrong.
    assert 0 < direct.correct.sum() < len(direct.correct)
    assert saved.median_correct == pytest.approx(direct.median_correct, rel=1e-5)
    monkeypatch.setattr(evaluation, "gradient_norms", refuse)
    monkeypatch.setattr(experiments, "load_or_train", refuse)
    again = analyses.gradient_norm_study(view, "test")
    assert np.array_equal(again.norms, saved.norms) and np.array_equal(again.correct, saved.correct)


def test_the_temperature_of_the_view_is_part_of_the_key(environment):
    cold = analyses.gradient_norm_study(View("dd_student_t50", temperature=1.0), "test")
    hot = analyses.gradient_norm_study(View("dd_student_t50"), "test")
    teacher = experiments.load_or_train("dd_student_t50", "test")
    data = experiments.load_data("test")
    direct_hot = evaluation.gradient_norms(teacher, data.x_test, data.y_test)
    np.testing.assert_allclose(hot.norms, direct_hot.norms, rtol=1e-5, atol=0)
    assert not np.allclose(hot.norms, cold.norms)
    assert len([key for key in studies.load_saved("test") if key.startswith("gradient_norms/")]) == 2


def test_a_noisy_view_or_a_bad_argument_is_refused(environment):
    with pytest.raises(ValueError, match="noisy view"):
        analyses.gradient_norm_study(View("final_student", noise=0.01), "test")
    with pytest.raises(ValueError, match="View"):
        analyses.gradient_norm_study("baseline", "test")
    with pytest.raises(ValueError, match="teacher must be one of"):
        analyses.imitation_study("variant_student_t4", "nonsense", "test")


def test_imitation_matches_the_evaluation_functions_on_both_sets(environment, monkeypatch):
    result = analyses.imitation_study("dd_student_t50", "dd_teacher_t50", "test")
    data = experiments.load_data("test")
    student = experiments.load_or_train("dd_student_t50", "test")
    teacher = experiments.load_or_train("dd_teacher_t50", "test")
    assert result["train"] == evaluation.imitation(student, teacher, data.x_train, data.y_train)
    # The two models differ here, so swapping them would change the numbers.
    assert result["train"]["student_accuracy"] != result["train"]["teacher_accuracy"]
    assert result["test"]["agreement"] == evaluation.agreement(student, teacher, data.x_test)
    assert result["test"]["teacher_accuracy"] == evaluation.accuracy(teacher, data.x_test, data.y_test)
    monkeypatch.setattr(evaluation, "imitation", refuse)
    assert analyses.imitation_study("dd_student_t50", "dd_teacher_t50", "test") == result


def test_the_fgsm_curve_runs_on_every_test_image(environment, monkeypatch):
    # A subset smaller than the test set, so that "every test image" and "the subset" differ.
    monkeypatch.setattr(catalogue, "REDUCED_SUBSET_SIZE", 10)
    curve = analyses.fgsm_curve("test")
    profile = registry.get_profile("test")
    data = experiments.load_data(profile)
    baseline = experiments.load_or_train("baseline", profile)
    assert curve.eps_values == analyses.FGSM_CURVE_EPS
    for index, eps in enumerate(curve.eps_values):
        x_fgsm = attacks.fgsm(baseline, data.x_test, data.y_test, eps)
        x_random = attacks.random_sign(data.x_test, eps, seed=profile.seed)
        assert curve.accuracy["fgsm"][index] == evaluation.accuracy(baseline, x_fgsm, data.y_test)
        assert curve.accuracy["random_sign"][index] == evaluation.accuracy(baseline, x_random, data.y_test)
    (entry,) = [entry for key, entry in studies.load_saved(profile).items() if key.startswith("sweep/")]
    assert entry["subset_size"] == len(data.x_test)
    # On the attack subset the same sweep is another study, with another key.
    subset_sweep = studies.eps_sweep(View("baseline"), profile, eps_values=(0.0,), attacks=("fgsm",))
    assert subset_sweep.accuracy["fgsm"][0] == evaluation.accuracy(
        baseline, *(lambda i: (data.x_test[i], data.y_test[i]))(studies.measurements.attack_subset(data, profile))
    )
    with pytest.raises(ValueError, match="whole_test_set"):
        studies.eps_sweep(View("baseline"), profile, whole_test_set="yes")

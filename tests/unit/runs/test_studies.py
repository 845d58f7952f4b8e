"""Saved eps sweeps and masking audits (advlib.runs.studies), on the tiny test profile."""

import functools

import numpy as np
import pytest

from advlib import models
from advlib.attacks import iterative as strong_attacks, one_step as attacks
from advlib.runs import summary as reporting
from advlib.data import cifar10 as data
from advlib.evaluation import audit, metrics as evaluation
from advlib.plan import catalogue, registry
from advlib.plan.registry import View
from advlib.results import store
from advlib.runs import experiments, studies
from advlib.verdicts import wording as text

# Two eps values keep the attacks cheap; 0 must give the clean accuracy.
EPS_VALUES = (0.0, 4 / 255)


@pytest.fixture
def environment(trained_test_environment):
    """An isolated test-profile environment with the shared models (tests/conftest.py)."""
    return trained_test_environment


def independent_subset():
    """The test subset, drawn here with the documented formula rather than by advlib."""
    profile = registry.get_profile("test")
    dataset = experiments.load_data(profile)
    count = len(dataset.x_test)
    indices = np.sort(np.random.default_rng(profile.seed).choice(count, size=min(250, count), replace=False))
    return dataset.x_test[indices], dataset.y_test[indices]


def refuse(*arguments, **options):
    raise AssertionError("a saved study was computed again")


def test_a_sweep_is_computed_once_then_loaded(environment, monkeypatch, capsys):
    first = studies.eps_sweep(View("baseline"), "test", eps_values=EPS_VALUES)
    assert "Computing the sweep of baseline" in capsys.readouterr().out
    assert store.STUDIES.local_path("test").exists()
    # Loading must not attack: every attack now fails, and so does training.
    monkeypatch.setattr(attacks, "fgsm", refuse)
    monkeypatch.setattr(strong_attacks, "pgd", refuse)
    monkeypatch.setattr(experiments, "load_or_train", refuse)
    again = studies.eps_sweep(View("baseline"), "test", eps_values=EPS_VALUES)
    assert again == first
    assert "Computing" not in capsys.readouterr().out


def test_the_sweep_matches_attacks_run_here_and_starts_at_the_clean_accuracy(environment):
    sweep = studies.eps_sweep(View("dd_student_t50", temperature=1.0), "test", eps_values=EPS_VALUES)
    assert sweep.label == "dd_student_t50 at T = 1"
    assert sweep.eps_values == EPS_VALUES
    x, y = independent_subset()
    student = models.with_temperature(experiments.load_or_train("dd_student_t50", "test"), 1.0)
    clean = evaluation.accuracy(student, x, y)
    assert sweep.accuracy["fgsm"][0] == sweep.accuracy["pgd"][0] == clean
    # At eps = 0 both attacks return the clean images, so skipping them changes nothing.
    assert evaluation.accuracy(student, attacks.fgsm(student, x, y, 0.0), y) == clean
    eps = EPS_VALUES[1]
    assert sweep.accuracy["fgsm"][1] == evaluation.accuracy(student, attacks.fgsm(student, x, y, eps), y)
    x_pgd = strong_attacks.pgd(student, x, y, eps, steps=10, seed=registry.get_profile("test").seed)
    assert sweep.accuracy["pgd"][1] == evaluation.accuracy(student, x_pgd, y)


def test_an_audit_is_saved_reloaded_and_matches_one_run_here(environment, monkeypatch):
    report = studies.audit_model(View("baseline"), "test", eps_values=(8 / 255,), pgd_steps=2)
    x, y = independent_subset()
    direct = audit.audit(
        experiments.load_or_train("baseline", "test"), x, y, eps=0.01, eps_values=(8 / 255,),
        surrogate=experiments.load_or_train("surrogate", "test"), pgd_steps=2, seed=0,
    )
    assert report == direct
    monkeypatch.setattr(audit, "audit", refuse)
    assert studies.audit_model(View("baseline"), "test", eps_values=(8 / 255,), pgd_steps=2) == direct


def test_a_sweep_reads_its_pgd_curve_from_the_saved_audit_and_gets_the_same_numbers(environment, tmp_path, monkeypatch):
    computed = studies.eps_sweep(View("baseline"), "test", eps_values=(0.0, 8 / 255), attacks=("pgd",), pgd_steps=2)
    # A fresh results folder, where the audit (which runs exactly this PGD) comes first.
    monkeypatch.setenv("ADVLIB_RESULTS", str(tmp_path / "second"))
    studies.audit_model(View("baseline"), "test", eps_values=(8 / 255,), pgd_steps=2)
    monkeypatch.setattr(strong_attacks, "pgd", refuse)
    reused = studies.eps_sweep(View("baseline"), "test", eps_values=(0.0, 8 / 255), attacks=("pgd",), pgd_steps=2)
    assert reused == computed
    entries = [entry for entry in studies.load_saved("test").values() if entry["kind"] == "sweep"]
    assert entries[0]["notes"]["pgd_from_audit"].startswith("audit/baseline/")


def test_a_retrained_model_or_a_changed_parameter_is_computed_again(environment, monkeypatch):
    calls = []
    real_fgsm = attacks.fgsm

    # wraps: the registry reads the signature to pass FGSM only the options it takes.
    @functools.wraps(real_fgsm)
    def counted(*arguments, **options):
        calls.append(1)
        return real_fgsm(*arguments, **options)

    monkeypatch.setattr(attacks, "fgsm", counted)
    studies.eps_sweep(View("baseline"), "test", eps_values=EPS_VALUES, attacks=("fgsm",))
    assert len(calls) == 1
    studies.eps_sweep(View("baseline"), "test", eps_values=EPS_VALUES, attacks=("fgsm",))
    assert len(calls) == 1
    studies.eps_sweep(View("baseline"), "test", eps_values=(0.0, 2 / 255), attacks=("fgsm",))
    assert len(calls) == 2
    # Another epoch count is another config hash: the model is retrained and attacked again.
    monkeypatch.setitem(registry.PROFILES, "test", registry.Profile("test", (12, 4), epochs=2, batch_size=32))
    studies.eps_sweep(View("baseline"), "test", eps_values=EPS_VALUES, attacks=("fgsm",))
    assert len(calls) == 3
    # Every study stays in the file: writes merge, they never replace it.
    assert len(store.read_json(store.STUDIES.local_path("test"))) == 3


def test_an_audit_follows_the_surrogate_hash_too(environment, monkeypatch):
    options = dict(eps_values=(8 / 255,), pgd_steps=1)
    studies.audit_model(View("baseline"), "test", **options)
    monkeypatch.setattr(audit, "audit", refuse)
    studies.audit_model(View("baseline"), "test", **options)
    retrained = registry.ModelSpec("surrogate", "baseline", "another surrogate", seed_offset=5)
    monkeypatch.setitem(registry.MODELS, "surrogate", retrained)
    with pytest.raises(AssertionError, match="computed again"):
        studies.audit_model(View("baseline"), "test", **options)


def test_studies_shipped_with_the_package_are_used(environment, monkeypatch):
    sweep = studies.eps_sweep(View("baseline"), "test", eps_values=EPS_VALUES, attacks=("fgsm",))
    shipped = store.shipped_dir("test") / "studies.json"
    shipped.parent.mkdir(parents=True)
    store.STUDIES.local_path("test").rename(shipped)
    monkeypatch.setattr(attacks, "fgsm", refuse)
    assert studies.eps_sweep(View("baseline"), "test", eps_values=EPS_VALUES, attacks=("fgsm",)) == sweep


@pytest.mark.parametrize(
    "function, change, message",
    [
        (studies.eps_sweep, dict(eps_values=()), "eps_values"),
        (studies.eps_sweep, dict(eps_values=(0.01, -0.01)), "eps_values"),
        (studies.eps_sweep, dict(eps_values="small"), "eps_values"),
        (studies.eps_sweep, dict(attacks=("cw",)), "attacks"),
        (studies.eps_sweep, dict(attacks="fgsm"), "attacks"),
        (studies.eps_sweep, dict(pgd_steps=0), "pgd_steps"),
        (studies.eps_sweep, dict(profile="huge"), "unknown profile"),
        (studies.audit_model, dict(surrogate="no_such_model"), "unknown model"),
        (studies.audit_model, dict(eps=-1.0), "eps"),
        (studies.audit_model, dict(pgd_steps=2.5), "pgd_steps"),
        (studies.audit_model, dict(eot_samples=1), "eot_samples"),
    ],
)
def test_bad_arguments_get_a_clear_error_before_any_work(environment, monkeypatch, function, change, message):
    monkeypatch.setattr(experiments, "load_or_train", refuse)
    arguments = dict(profile="test") | change
    with pytest.raises(ValueError, match=message):
        function(View("baseline"), **arguments)


def test_format_studies_names_missing_studies_and_shows_saved_ones(environment, monkeypatch):
    report_text = reporting.format_studies("test")
    # A sweep per swept view; an audit, a worst case and its reference attacks per audited view.
    views = len(registry.sweep_views()) + 3 * len(registry.audit_views())
    assert f"{views} studies missing" in report_text and "python -m advlib reproduce --profile test" in report_text
    assert report_text.splitlines()[0].endswith("data: nothing saved yet)")
    # A saved chapter study appears, with its numbers, and no longer counts as missing.
    sweep = studies.eps_sweep(View("baseline"), "test")
    report_text = reporting.format_studies("test")
    assert f"{views - 1} studies missing" in report_text
    row = next(line for line in report_text.splitlines() if line.startswith("baseline, PGD"))
    assert row.split()[2:] == [f"{value:.3f}" for value in sweep.accuracy["pgd"]]
    assert registry.get_profile("test").name in report_text
    # Now the heading names the data that study was computed on.
    assert report_text.splitlines()[0].endswith(f"data: {text.source_kind(data.describe_source())})")
    # A worst case shows once both it and its reference attacks are saved.
    from advlib.runs import worst_case_studies

    worst = worst_case_studies.worst_case_study(View("baseline"), "test")
    reference = worst_case_studies.reference_study(View("baseline"), "test")
    report_text = reporting.format_studies("test")
    assert f"{views - 3} studies missing" in report_text
    section = report_text[report_text.index("Worst case over the AutoAttack-style suite"):]
    row = next(line for line in section.splitlines() if line.startswith("baseline "))
    assert row.split()[1:6] == [f"{worst.clean_accuracy:.3f}", f"{reference['fgsm']:.3f}", f"{reference['pgd']:.3f}", "-", f"{worst.robust_accuracy:.3f}"]


def test_the_chapter_views_skip_the_seed_copies_and_view_the_student_at_t1():
    labels = [view.label for view in registry.audit_views()]
    assert "dd_student_t50 at T = 1" in labels and "dd_student_t50" not in labels
    assert labels[-1] == "final_student with input noise"
    assert not any("_seed" in label for label in labels)
    assert len(registry.sweep_views()) == len(registry.MAIN_MODELS)


def test_saved_chapter_study_rejects_an_unknown_kind(environment):
    with pytest.raises(ValueError, match="kind must be one of"):
        studies.saved_chapter_study("histogram", View("baseline"), "test")


def test_the_full_report_joins_measurements_studies_and_expectations(environment):
    text = reporting.full_report("test")
    # Each part starts with its own heading, in the order the report command prints them.
    headings = ["Report vs this run", "Seed study (beyond the report)", "Beyond the report: eps sweeps", "What we expected, and what held"]
    positions = [text.find(heading) for heading in headings]
    assert -1 not in positions, positions
    assert positions == sorted(positions)


def test_a_worst_case_study_is_computed_once_on_a_stratified_subset_then_loaded(environment, monkeypatch):
    from advlib.evaluation import worst_case
    from advlib.runs import worst_case_studies

    options = dict(steps=2, queries=5, target_classes=1, per_class=3)
    first = worst_case_studies.worst_case_study(View("baseline"), "test", **options)
    # The test profile has 4 test images per class; 3 per class were asked for.
    assert first.size == 30
    assert 0.0 <= first.robust_accuracy <= min(first.attack_accuracy.values()) <= first.clean_accuracy
    assert set(first.attack_accuracy) == set(worst_case.EVERY_IMAGE) and first.accuracy_after["Square"] == first.robust_accuracy
    entry = next(entry for entry in studies.load_saved("test").values() if entry["kind"] == "worst_case")
    assert entry["parameters"]["subset"] == {"seed": 0, "per_class": 3, "stratified": True}
    monkeypatch.setattr(worst_case, "evaluate", refuse)
    assert worst_case_studies.worst_case_study(View("baseline"), "test", **options) == first
    with pytest.raises(AssertionError, match="computed again"):
        worst_case_studies.worst_case_study(View("baseline"), "test", **dict(options, steps=3))


def test_a_killed_worst_case_keeps_its_finished_attacks_and_resumes_after_them(environment, monkeypatch):
    from advlib.attacks import registry as attack_registry
    from advlib.runs import worst_case_studies

    options = dict(steps=2, queries=5, target_classes=1, per_class=3)
    run = attack_registry.run
    attacked = []

    def killed_at_square(name, *arguments, **keywords):
        if name == "square":
            raise KeyboardInterrupt("killed")
        attacked.append(name)
        return run(name, *arguments, **keywords)

    monkeypatch.setattr(attack_registry, "run", killed_at_square)
    with pytest.raises(KeyboardInterrupt):
        worst_case_studies.worst_case_study(View("baseline"), "test", **options)
    assert attacked == ["apgd", "apgd", "apgd_targeted"]
    partial = list((store.profile_dir("test") / "partial").glob("*.json"))
    assert len(partial) == 1 and set(store.read_json(partial[0])["broken"]) == {"APGD-CE", "APGD-DLR", "APGD-T"}

    def spy(name, *arguments, **keywords):
        attacked.append(name)
        return run(name, *arguments, **keywords)

    attacked.clear()
    monkeypatch.setattr(attack_registry, "run", spy)
    resumed = worst_case_studies.worst_case_study(View("baseline"), "test", **options)
    # Only the attack that was killed runs again, and the kept progress is gone once saved.
    assert attacked == ["square"] and not partial[0].exists()
    # The same numbers as a run never killed: forget the saved study and compute it whole.
    store.STUDIES.local_path(registry.get_profile("test")).unlink()
    attacked.clear()
    whole = worst_case_studies.worst_case_study(View("baseline"), "test", **options)
    assert attacked == ["apgd", "apgd", "apgd_targeted", "square"] and resumed == whole


def test_the_reference_attacks_run_on_the_worst_case_images_and_match_a_direct_run(environment, monkeypatch):
    from advlib.attacks import registry as attack_registry
    from advlib.evaluation import metrics as evaluation
    from advlib.runs import experiments, worst_case_studies

    view = View("final_student", noise=registry.DEFAULT_NOISE)
    found = worst_case_studies.reference_study(view, "test", per_class=2)
    # The same stratified images, attacked here directly: FGSM is deterministic, so its
    # accuracy on the noisy view differs only through the noise draws.
    profile = registry.get_profile("test")
    data = experiments.load_data(profile)
    subset = worst_case_studies.subset_for(data, 2, profile.seed)
    assert len(subset) == 20 and np.all(np.bincount(data.y_test[subset]) == 2)
    deterministic = worst_case_studies.reference_study(View("baseline"), "test", per_class=2)
    model = experiments.build_view(View("baseline"), profile)
    x, y = data.x_test[subset], data.y_test[subset]
    assert deterministic["clean"] == evaluation.accuracy(model, x, y)
    assert deterministic["fgsm"] == evaluation.accuracy(model, attack_registry.run("fgsm", model, x, y, profile.eps), y)
    assert deterministic["eot_pgd"] is None and found["eot_pgd"] is not None
    entry = worst_case_studies.saved_entry("worst_case_reference", View("baseline"), "test")
    assert entry is None, "per_class=2 is not the chapter's subset, so it is not the chapter's study"
    chapter = worst_case_studies.reference_study(View("baseline"), "test")
    assert worst_case_studies.saved_entry("worst_case_reference", View("baseline"), "test")["result"] == chapter
    monkeypatch.setattr(worst_case_studies.experiments, "build_view", refuse)
    assert worst_case_studies.reference_study(View("baseline"), "test", per_class=2) == deterministic
    with pytest.raises(ValueError, match="kind"):
        worst_case_studies.saved_entry("sweep", View("baseline"), "test")


def test_report_fgsm_finds_the_report_number_of_each_view_and_none_where_it_gives_none():
    assert catalogue.report_fgsm(View("baseline")) == catalogue.report_value("baseline.fgsm")
    assert catalogue.report_fgsm(View("dd_student_t50", temperature=1.0)) == catalogue.report_value("dd_student_t1.fgsm")
    assert catalogue.report_fgsm(View("final_student", noise=registry.DEFAULT_NOISE)) == catalogue.report_value("final_student_noise.fgsm")
    assert catalogue.report_fgsm(View("final_student")) == catalogue.report_value("final_student.fgsm")
    assert catalogue.report_fgsm(View("robust_fast_at")) is None


def _share_done(line):
    """The percentage at the start of a progress line's meter (after its first "; ")."""
    return int(line.split("; ", 1)[1].split("%")[0])


def test_run_all_prints_a_line_per_study_with_the_share_already_done(monkeypatch, capsys):
    # The studies are replaced by recorders: only the loop and its progress lines run.
    monkeypatch.setattr(studies, "audit_model", lambda view, profile: ("audit", view.label))
    monkeypatch.setattr(studies, "eps_sweep", lambda view, profile: ("sweep", view.label))
    found = studies.run_all("test")
    expected = [("audit", view.label) for view in registry.audit_views()]
    expected += [("sweep", view.label) for view in registry.sweep_views()]
    assert [study for kind in ("audit", "sweep") for study in found[kind].values()] == expected
    lines = capsys.readouterr().out.splitlines()
    count = len(expected)
    assert len(lines) == count + 1
    assert [line.split(";")[0] for line in lines[:-1]] == [
        f"== study {index} of {count}: {kind} of {label}" for index, (kind, label) in enumerate(expected, start=1)]
    assert all("elapsed" in line and "ETA" in line for line in lines[:-1])
    # Each line shows the share of the studies finished before it starts.
    for index, line in enumerate(lines[:-1]):
        assert abs(_share_done(line) - 100 * index / count) <= 0.5, line
    assert lines[-1].startswith(f"== {count} studies done in ")
    studies.run_all("test", verbose=False)
    assert capsys.readouterr().out == ""

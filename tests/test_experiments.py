"""The registry, load_or_train, resumable runs and the command line, on hand-made data."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from advlib import experiments, measurements, results
from tests.helpers import make_image_tree

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.fixture
def environment(tmp_path, monkeypatch):
    """An isolated data source, cache and results folder, on the tiny test profile."""
    source = make_image_tree(tmp_path / "cifar")
    variables = {
        "ADVLIB_CIFAR10": str(source),
        "ADVLIB_CACHE_DIR": str(tmp_path / "cache"),
        "ADVLIB_RESULTS": str(tmp_path / "results"),
        "ADVLIB_PROFILE": "test",
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    experiments._load_data.cache_clear()
    yield dict(os.environ, **variables)
    experiments._load_data.cache_clear()


def test_profile_selection(monkeypatch):
    monkeypatch.delenv("ADVLIB_PROFILE", raising=False)
    assert experiments.get_profile().name == "full"
    monkeypatch.setenv("ADVLIB_PROFILE", "quick")
    assert experiments.get_profile().name == "quick"
    assert experiments.get_profile("test").name == "test"
    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        experiments.get_profile("fast")
    with pytest.raises(ValueError, match="unknown model"):
        experiments.load_or_train("no_such_model", "test")


def test_config_hash_follows_every_setting_and_the_teacher(monkeypatch):
    student = results.config_hash(experiments.model_config("final_student", "test"))
    teacher = results.config_hash(experiments.model_config("random_at", "test"))
    assert student != teacher
    assert len({results.config_hash(experiments.model_config(name, "test")) for name in experiments.MODELS}) == len(experiments.MODELS)
    changed = experiments.Profile("test", (12, 4), epochs=4, batch_size=32)
    monkeypatch.setitem(experiments.PROFILES, "test", changed)
    assert results.config_hash(experiments.model_config("random_at", "test")) != teacher
    assert results.config_hash(experiments.model_config("final_student", "test")) != student


def test_load_or_train_trains_once_then_loads(environment, capsys):
    model = experiments.load_or_train("baseline")
    out = capsys.readouterr().out
    assert "Training baseline" in out and "Saved baseline" in out
    record = experiments.load_record("baseline")
    for field in ("config", "metrics", "data_source", "seed", "versions", "wall_time_seconds", "machine", "history"):
        assert field in record
    assert len(record["history"]["loss"]) == experiments.PROFILES["test"].epochs
    assert "image folder" in record["data_source"]
    again = experiments.load_or_train("baseline")
    assert "Found saved model at" in capsys.readouterr().out
    for ours, theirs in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


def test_stale_or_half_written_models_are_never_loaded(environment, monkeypatch):
    experiments.load_or_train("baseline")
    assert experiments.is_saved("baseline")
    # A changed config has another hash, so the old weights are not found.
    monkeypatch.setitem(experiments.PROFILES, "test", experiments.Profile("test", (12, 4), epochs=2, batch_size=32))
    assert not experiments.is_saved("baseline")
    with pytest.raises(FileNotFoundError, match="python -m advlib reproduce --profile test --only baseline"):
        experiments.load_or_train("baseline", train=False)
    monkeypatch.undo()
    # undo() also restored the caller's ADVLIB_* variables, so name the folder and profile.
    monkeypatch.setenv("ADVLIB_RESULTS", environment["ADVLIB_RESULTS"])
    record_path = next(Path(environment["ADVLIB_RESULTS"], "test").glob("baseline-*.json"))
    record_path.write_text(record_path.read_text()[:50])
    assert not experiments.is_saved("baseline", "test")


def _run_cli(arguments, env, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "advlib", *arguments], env=env, cwd=REPOSITORY, capture_output=True, text=True, **kwargs
    )


def test_a_killed_run_resumes_at_the_right_epoch(environment):
    # Kill the process (SIGKILL, no clean-up) right after its first epoch's checkpoint is written.
    killer = (
        "import os, signal, sys\n"
        "from advlib import training, experiments\n"
        "original = training.save_checkpoint\n"
        "def save_then_die(model, directory, epochs_done, history):\n"
        "    original(model, directory, epochs_done, history)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "training.save_checkpoint = save_then_die\n"
        "experiments.load_or_train('baseline')\n"
    )
    killed = subprocess.run([sys.executable, "-c", killer], env=environment, cwd=REPOSITORY, capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL
    assert not experiments.is_saved("baseline")
    finished = _run_cli(["reproduce", "--only", "baseline"], environment)
    assert finished.returncode == 0, finished.stderr[-3000:]
    epochs = experiments.PROFILES["test"].epochs
    assert f"1 of {epochs} epochs done" in finished.stdout
    record = experiments.load_record("baseline")
    assert len(record["history"]["loss"]) == epochs
    # Only the remaining epochs ran in the second process, each shown out of the total.
    assert [f"Epoch {epoch}/{epochs}" in finished.stdout for epoch in range(1, epochs + 1)] == [False] + [True] * (epochs - 1)


def test_reproduce_and_report_cover_every_row(environment):
    before = _run_cli(["report"], environment)
    assert before.returncode == 0
    assert f"{len(measurements.MEASUREMENTS)} of {len(measurements.MEASUREMENTS)} measurements missing" in before.stdout
    run = _run_cli(["reproduce", "--only", "baseline"], environment)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "model 1 of 1: baseline" in run.stdout and "ETA" in run.stdout
    after = _run_cli(["report"], environment)
    lines = after.stdout.splitlines()
    for measurement in measurements.MEASUREMENTS:
        row = next(line for line in lines if measurement.description in line)
        if measurement.models == ("baseline",):
            assert row.split()[-1] != "missing"
            assert float(row.split()[-1]) == pytest.approx(measurements.load_saved()[measurement.key]["value"], abs=5e-4)
        else:
            assert row.endswith("missing")
    bad = _run_cli(["reproduce", "--only", "nonsense"], environment)
    assert bad.returncode != 0 and "unknown model 'nonsense'" in bad.stderr


def test_same_seed_same_numbers_across_processes(tmp_path, environment):
    # The quick profile's sizes, on hand-made data so the test needs no download.
    source = make_image_tree(tmp_path / "quick-data", train_per_class=200, test_per_class=50, seed=1)
    outputs = []
    for run in ("first", "second"):
        env = dict(environment, ADVLIB_CIFAR10=str(source), ADVLIB_PROFILE="quick", ADVLIB_RESULTS=str(tmp_path / run))
        completed = _run_cli(["reproduce", "--only", "baseline"], env)
        assert completed.returncode == 0, completed.stderr[-3000:]
        saved = json.loads((tmp_path / run / "quick" / "measurements.json").read_text())
        outputs.append({key: entry["value"] for key, entry in saved.items()})
        record = next((tmp_path / run / "quick").glob("baseline-*.json"))
        outputs.append(json.loads(record.read_text())["history"]["loss"])
    assert outputs[0] == outputs[2] and outputs[1] == outputs[3]
    # Every row of the baseline alone; rows that also need the surrogate wait for it.
    assert set(outputs[0]) == {m.key for m in measurements.MEASUREMENTS if m.models == ("baseline",)}
    assert {"baseline.clean", "baseline.fgsm", "baseline.random_sign", "baseline.pgd"} <= set(outputs[0])


def test_seed_copies_differ_from_their_recipe_only_in_seed_and_epochs():
    copies = [name for names in experiments.SEED_STUDY.values() for name in names]
    assert len(copies) == 9 and list(experiments.MODELS)[-9:] == copies
    assert set(experiments.MAIN_MODELS).isdisjoint(copies)
    assert len(experiments.MAIN_MODELS) + len(copies) == len(experiments.MODELS)
    # A quarter of the profile's epochs, at least one: 20 -> 5, 8 -> 2, 3 -> 1.
    expected_epochs = {"full": 5, "quick": 2, "test": 1}
    for profile, epochs in expected_epochs.items():
        hashes = {results.config_hash(experiments.model_config(name, profile)) for name in copies}
        assert len(hashes) == 9, "every seed copy is a different model"
        for recipe, names in experiments.SEED_STUDY.items():
            main = experiments.model_config(recipe, profile)
            seeds = set()
            for name in names:
                config = experiments.model_config(name, profile)
                assert config["training"]["epochs"] == epochs
                seeds.add(config["training"]["seed"])
                assert config["training"]["seed"] != main["training"]["seed"]
                # Nothing else differs, except the warm-up, which a one-epoch run cannot have.
                different = {key for key in config if config[key] != main[key]}
                assert different == {"name", "training"}
                training_difference = {key for key in config["training"] if config["training"][key] != main["training"][key]}
                allowed = {"seed", "epochs"} | ({"warmup_epochs"} if epochs == 1 else set())
                assert training_difference <= allowed and {"seed", "epochs"} <= training_difference
            assert len(seeds) == 3
            spec = experiments.MODELS[names[0]]
            assert spec.cost == pytest.approx(experiments.MODELS[recipe].cost / 4)
            assert "Seed 1 of 3" in spec.description and "quarter" in spec.description


def test_epoch_fraction_must_be_in_zero_to_four():
    for fraction in (0.0, -0.5, 4.5, "half", True):
        with pytest.raises(ValueError, match="epoch_fraction"):
            experiments.ModelSpec("x", "baseline", "x", epoch_fraction=fraction)


def test_the_second_robust_candidate_trains_twice_as_long_at_the_test_eps():
    first, second = experiments.get_spec("robust_fast_at"), experiments.get_spec("robust_fast_at_long")
    assert second.recipe == first.recipe and dict(second.options)["train_eps"] == experiments.PROFILES["full"].eps
    for profile in experiments.PROFILES.values():
        epochs = experiments.training_config(profile, second).epochs
        assert epochs == 2 * experiments.training_config(profile, first).epochs
    assert {f"robust_fast_at_long.{kind}" for kind in ("clean", "fgsm", "pgd", "eot_pgd")} <= set(measurements.MEASUREMENTS_BY_KEY)


def test_the_third_robust_candidate_continues_the_second_at_half_the_learning_rate():
    second, third = experiments.get_spec("robust_fast_at_long"), experiments.get_spec("robust_fast_at_restart")
    assert third.start_from == second.name and third.recipe == second.recipe and third.options == second.options
    for profile in experiments.PROFILES.values():
        config = experiments.model_config(third.name, profile)
        # The warm start is part of the config: retraining robust_fast_at_long changes this hash.
        assert config["start_from"] == {
            "name": second.name,
            "config_hash": results.config_hash(experiments.model_config(second.name, profile)),
        }
        assert config["training"]["learning_rate"] == pytest.approx(profile.learning_rate / 2)
        assert config["training"]["epochs"] == max(1, round(profile.epochs * 1.5))
    # Models without a warm start or a learning-rate factor keep configs without these keys.
    assert "start_from" not in experiments.model_config(second.name, "full")
    assert experiments.model_config(second.name, "full")["training"]["learning_rate"] == experiments.PROFILES["full"].learning_rate
    assert {f"robust_fast_at_restart.{kind}" for kind in ("clean", "fgsm", "fgsm_subset", "pgd", "eot_pgd")} <= set(measurements.MEASUREMENTS_BY_KEY)


def test_bad_warm_start_and_learning_rate_factor_are_refused():
    with pytest.raises(ValueError, match="can start from another model"):
        experiments.ModelSpec("x", "baseline", "x", start_from="baseline")
    for factor in (0.0, 1.5, "half", True):
        with pytest.raises(ValueError, match="learning_rate_factor"):
            experiments.ModelSpec("x", "robust_fast_at", "x", learning_rate_factor=factor)


def test_publish_copies_finished_models_and_saved_results(environment, tmp_path, monkeypatch):
    from advlib import __main__ as command_line

    experiments.load_or_train("baseline")
    source = results.profile_dir("test")
    # Hand-made saved results: publish must copy them as they are.
    (source / "studies.json").write_text(json.dumps({"audit/baseline/abc": {"models": {}}}))
    shipped = tmp_path / "pretrained"
    monkeypatch.setattr(results, "PRETRAINED_DIR", shipped)
    command_line.publish("test")
    digest = results.config_hash(experiments.model_config("baseline", "test"))
    for suffix in (".weights.h5", ".json"):
        assert (shipped / "test" / f"{results.stem('baseline', digest)}{suffix}").exists()
    assert json.loads((shipped / "test" / "studies.json").read_text()) == {"audit/baseline/abc": {"models": {}}}
    # Models that were never trained are not published.
    assert not list((shipped / "test").glob("random_at-*"))
    report = _run_cli(["report"], environment)
    assert report.returncode == 0 and "studies" in report.stdout.lower()


def test_reproduce_only_adds_teachers_and_warm_starts_first():
    from advlib import __main__ as command_line

    assert command_line._models_needed(["robust_fast_at_restart"]) == ["robust_fast_at_long", "robust_fast_at_restart"]
    assert command_line._models_needed(["variant_student_t4"]) == ["variant_teacher_t1", "variant_student_t4"]
    assert command_line._models_needed(["baseline"]) == ["baseline"]


def test_a_warm_started_model_receives_the_trained_weights_it_continues(environment, monkeypatch):
    from advlib import training

    received = {}
    real_recipe = training.RECIPES["robust_fast_at"]

    def recording_recipe(*arguments, **keywords):
        received["initial_weights"] = keywords.get("initial_weights")
        return real_recipe(*arguments, **keywords)

    monkeypatch.setitem(training.RECIPES, "robust_fast_at", recording_recipe)
    experiments.load_or_train("robust_fast_at_restart", verbose=0)
    start = experiments.load_or_train("robust_fast_at_long", train=False)
    assert received["initial_weights"] is not None
    for given, saved in zip(received["initial_weights"], start.get_weights(), strict=True):
        np.testing.assert_array_equal(given, saved)
    record = experiments.load_record("robust_fast_at_restart")
    assert record["config"]["start_from"]["config_hash"] == results.config_hash(experiments.model_config("robust_fast_at_long"))

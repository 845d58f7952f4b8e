"""load_or_train, resumable runs, views and the command line, on hand-made data."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from advlib.plan import catalogue, registry
from advlib.results import measured, store
from advlib.runs import experiments
from tests.support.sources import make_image_tree
from tests.support.paths import REPOSITORY



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
    return dict(os.environ, **variables)


def test_load_or_train_trains_once_then_loads(environment, capsys):
    with pytest.raises(ValueError, match="unknown model"):
        experiments.load_or_train("no_such_model", "test")
    model = experiments.load_or_train("baseline", "test")
    out = capsys.readouterr().out
    assert "Training baseline" in out and "Saved baseline" in out
    record = store.load_record("baseline", "test")
    for field in ("config", "metrics", "data_source", "seed", "versions", "wall_time_seconds", "machine", "history"):
        assert field in record
    assert len(record["history"]["loss"]) == registry.PROFILES["test"].epochs
    # What the training cost this process, besides the wall time (which counts other work too).
    assert record["cpu_time_seconds"] == pytest.approx(sum(record["history"]["cpu_seconds"])) and record["cpu_time_seconds"] > 0
    assert record["cpu_share"] == pytest.approx(
        record["cpu_time_seconds"] / (record["wall_time_seconds"] * os.cpu_count()))
    # The kind of data, never the path of the machine that trained it.
    assert record["data_source"] == "a local PNG copy of CIFAR-10 (image folder)"
    again = experiments.load_or_train("baseline", "test")
    out = capsys.readouterr().out
    assert f"Loading {store.model_id('baseline', 'test')} (in the results folder)" in out
    assert environment["ADVLIB_RESULTS"] not in out
    for ours, theirs in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


def test_stale_or_half_written_models_are_never_loaded(environment, monkeypatch):
    experiments.load_or_train("baseline", "test")
    assert store.is_saved("baseline", "test")
    # A changed config has another hash, so the old weights are not found.
    monkeypatch.setitem(registry.PROFILES, "test", registry.Profile("test", (12, 4), epochs=2, batch_size=32))
    assert not store.is_saved("baseline", "test")
    with pytest.raises(FileNotFoundError, match="python -m advlib reproduce --profile test --only baseline"):
        experiments.load_or_train("baseline", "test", train=False)
    monkeypatch.undo()
    # undo() also restored the caller's ADVLIB_* variables, so name the folder again.
    monkeypatch.setenv("ADVLIB_RESULTS", environment["ADVLIB_RESULTS"])
    record_path = next(Path(environment["ADVLIB_RESULTS"], "test").glob("baseline-*.json"))
    record_path.write_text(record_path.read_text()[:50])
    assert not store.is_saved("baseline", "test")


def _run_cli(arguments, env, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "advlib", *arguments], env=env, cwd=REPOSITORY, capture_output=True, text=True, **kwargs
    )


@pytest.mark.slow
def test_a_killed_run_resumes_at_the_right_epoch(environment):
    # Kill the process (SIGKILL, no clean-up) right after its first epoch's checkpoint is written.
    killer = (
        "import os, signal, sys\n"
        "from advlib.training import recipes as training\n"
        "from advlib.runs import experiments\n"
        "original = training.save_checkpoint\n"
        "def save_then_die(model, directory, epochs_done, history):\n"
        "    original(model, directory, epochs_done, history)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "training.save_checkpoint = save_then_die\n"
        "experiments.load_or_train('baseline', 'test')\n"
    )
    killed = subprocess.run([sys.executable, "-c", killer], env=environment, cwd=REPOSITORY, capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL
    assert not store.is_saved("baseline", "test")
    finished = _run_cli(["reproduce", "--only", "baseline"], environment)
    assert finished.returncode == 0, finished.stderr[-3000:]
    epochs = registry.PROFILES["test"].epochs
    assert f"1 of {epochs} epochs done" in finished.stdout
    record = store.load_record("baseline", "test")
    assert len(record["history"]["loss"]) == epochs
    # Only the remaining epochs ran in the second process, each shown out of the total.
    assert [f"Epoch {epoch}/{epochs}" in finished.stdout for epoch in range(1, epochs + 1)] == [False] + [True] * (epochs - 1)


@pytest.mark.slow
def test_reproduce_and_report_cover_every_row(environment):
    before = _run_cli(["report"], environment)
    assert before.returncode == 0
    assert f"{len(catalogue.MEASUREMENTS)} of {len(catalogue.MEASUREMENTS)} measurements missing" in before.stdout
    run = _run_cli(["reproduce", "--only", "baseline"], environment)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "model 1 of 1: baseline" in run.stdout and "ETA" in run.stdout
    after = _run_cli(["report"], environment)
    lines = after.stdout.splitlines()
    for measurement in catalogue.MEASUREMENTS:
        row = next(line for line in lines if measurement.description in line)
        if measurement.models == ("baseline",):
            assert row.split()[-1] != "missing"
            assert float(row.split()[-1]) == pytest.approx(measured.load_saved("test")[measurement.key]["value"], abs=5e-4)
        else:
            assert row.endswith("missing")
    bad = _run_cli(["reproduce", "--only", "nonsense"], environment)
    assert bad.returncode != 0 and "unknown model 'nonsense'" in bad.stderr


@pytest.mark.slow
def test_same_seed_same_numbers_across_processes(tmp_path, environment):
    # Two processes on the test profile: several shuffled, augmented batches per epoch, so
    # any unseeded randomness in training or in the attacks would show. (It ran on the
    # quick profile's sizes until that alone took minutes of a 2-core machine.)
    profile = registry.get_profile("test")
    assert len(experiments.load_data(profile).x_train) > 2 * profile.batch_size
    outputs = []
    for run in ("first", "second"):
        env = dict(environment, ADVLIB_RESULTS=str(tmp_path / run))
        completed = _run_cli(["reproduce", "--only", "baseline"], env)
        assert completed.returncode == 0, completed.stderr[-3000:]
        saved = json.loads((tmp_path / run / "test" / "measurements.json").read_text())
        outputs.append({key: entry["value"] for key, entry in saved.items()})
        record = next((tmp_path / run / "test").glob("baseline-*.json"))
        outputs.append(json.loads(record.read_text())["history"]["loss"])
    assert outputs[0] == outputs[2] and outputs[1] == outputs[3]
    # Every row of the baseline alone; rows that also need the surrogate wait for it.
    assert set(outputs[0]) == {m.key for m in catalogue.MEASUREMENTS if m.models == ("baseline",)}
    assert {"baseline.clean", "baseline.fgsm", "baseline.random_sign", "baseline.pgd"} <= set(outputs[0])


def test_a_warm_started_model_receives_the_trained_weights_it_continues(environment, monkeypatch):
    from advlib.training import recipes as training

    received = {}
    real_recipe = training.RECIPES["robust_fast_at"]

    def recording_recipe(*arguments, **keywords):
        received["initial_weights"] = keywords.get("initial_weights")
        return real_recipe(*arguments, **keywords)

    monkeypatch.setitem(training.RECIPES, "robust_fast_at", recording_recipe)
    experiments.load_or_train("robust_fast_at_restart", "test", verbose=0)
    start = experiments.load_or_train("robust_fast_at_long", "test", train=False)
    assert received["initial_weights"] is not None
    for given, saved in zip(received["initial_weights"], start.get_weights(), strict=True):
        np.testing.assert_array_equal(given, saved)
    record = store.load_record("robust_fast_at_restart", "test")
    assert record["config"]["start_from"]["config_hash"] == registry.model_hash("robust_fast_at_long", "test")


def test_a_defence_candidate_never_trains_on_its_holdout_and_watches_it_instead_of_the_test_set(environment, monkeypatch):
    from advlib.training import recipes as training

    received = {}
    real_recipe = training.RECIPES["robust_fast_at"]

    def recording_recipe(x, y, config, **keywords):
        received.update(x=x, y=y, validation=keywords["validation_data"], keywords=keywords)
        return real_recipe(x, y, config, **keywords)

    monkeypatch.setitem(training.RECIPES, "robust_fast_at", recording_recipe)
    name = registry.DEFENCE_CANDIDATES[0]
    experiments.load_or_train(name, "test", verbose=0)
    dataset = experiments.load_data("test")
    per_class = registry.holdout_per_class("test")
    x_validation, y_validation = received["validation"]
    # The held-out images: per_class of each class, from the training set, none trained on.
    assert np.all(np.bincount(y_validation.argmax(axis=1)) == per_class)
    assert len(received["x"]) + len(x_validation) == len(dataset.x_train)
    trained = {image.tobytes() for image in received["x"]}
    assert not any(image.tobytes() in trained for image in x_validation)
    assert not any(np.array_equal(x_validation[:1], dataset.x_test[i : i + 1]) for i in range(len(dataset.x_test)))
    assert received["keywords"]["ema_decay"] == dict(registry.MODELS[name].options)["ema_decay"]
    record = store.load_record(name, "test")
    assert record["config"]["holdout"] == {"per_class": per_class, "seed": 0}
    assert record["train_size"] == len(received["x"])
    assert name not in registry.MAIN_MODELS


def test_views_are_built_on_the_same_weights(environment):
    from advlib import models
    from advlib.evaluation import metrics as evaluation

    baseline = experiments.load_or_train("baseline", "test")
    data = experiments.load_data("test")
    hot = experiments.build_view(registry.View("baseline", temperature=50.0), "test", baseline)
    assert models.get_temperature(hot) == 50.0
    # The same weights: the predicted classes agree, only the confidence changes.
    np.testing.assert_array_equal(
        evaluation.predict_probabilities(hot, data.x_test).argmax(1), evaluation.predict_probabilities(baseline, data.x_test).argmax(1)
    )
    noisy = experiments.build_view(registry.View("baseline", noise=0.25), "test", baseline)
    layer = noisy.get_layer("input_noise")
    # The view's own amplitude, not the profile's eps, and the profile's seed.
    assert layer.eps == 0.25 and layer.seed == registry.PROFILES["test"].seed


def test_load_data_follows_the_source_without_clearing_caches(environment, tmp_path, monkeypatch):
    first = experiments.load_data("test")
    other = make_image_tree(tmp_path / "other", seed=3)
    monkeypatch.setenv("ADVLIB_CIFAR10", str(other))
    second = experiments.load_data("test")
    assert second is not first and not np.array_equal(second.x_train, first.x_train)
    assert experiments.load_data("test") is second

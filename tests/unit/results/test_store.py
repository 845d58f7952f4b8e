"""The store: atomic writes, model identity on disk, locked JSON merges between processes, publish."""

import json
import multiprocessing
import os
import time
from pathlib import Path

import pytest

from advlib.plan import registry
from advlib.results import store


@pytest.fixture
def results(tmp_path, monkeypatch):
    """An empty results folder and an empty shipped folder."""
    monkeypatch.setenv("ADVLIB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setattr(store, "PRETRAINED_DIR", tmp_path / "pretrained")
    return tmp_path / "results" / "test"


def test_an_interrupted_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "data.json"
    store.write_json_atomically(path, {"old": 1})

    def dump_half_then_die(data, handle, **keywords):
        handle.write('{"new": ')
        handle.flush()
        raise KeyboardInterrupt("killed halfway")

    monkeypatch.setattr(store.json, "dump", dump_half_then_die)
    with pytest.raises(KeyboardInterrupt):
        store.write_json_atomically(path, {"new": 2})
    monkeypatch.undo()
    assert store.read_json(path) == {"old": 1}
    # No temporary file is left beside it.
    assert [child.name for child in tmp_path.iterdir()] == ["data.json"]


def test_a_half_written_file_reads_as_missing(tmp_path):
    path = tmp_path / "half.json"
    path.write_text('{"value": 0.')
    assert store.read_json(path) is None
    assert store.read_json(tmp_path / "absent.json") is None


class _Weights:
    """Stands in for a Keras model: save_weights writes a small file."""

    def save_weights(self, path):
        with open(path, "wb") as handle:
            handle.write(b"weights")


def test_a_saved_model_is_found_by_its_identity(results):
    assert not store.is_saved("baseline", "test")
    path = store.save_model(_Weights(), {"metrics": {"test_accuracy": 0.5}}, "baseline", "test")
    assert path.name == f"{store.model_id('baseline', 'test')}.weights.h5"
    weights, record = store.find_saved("baseline", "test")
    assert weights == path and record["config_hash"] == registry.model_hash("baseline", "test")
    assert store.load_record("baseline", "test")["metrics"] == {"test_accuracy": 0.5}


def test_a_record_whose_hash_disagrees_with_its_file_name_is_never_loaded(results):
    store.save_model(_Weights(), {}, "baseline", "test")
    record_path = results / f"{store.model_id('baseline', 'test')}.json"
    record = json.loads(record_path.read_text())
    record["config_hash"] = "0123456789ab"
    record_path.write_text(json.dumps(record))
    assert store.find_saved("baseline", "test") is None


def test_a_record_without_its_weights_is_never_loaded(results):
    path = store.save_model(_Weights(), {}, "baseline", "test")
    os.remove(path)
    assert store.find_saved("baseline", "test") is None


def test_the_results_folder_wins_over_the_shipped_file(results):
    shipped = store.shipped_dir("test")
    shipped.mkdir(parents=True)
    (shipped / "measurements.json").write_text(json.dumps({"a": {"value": 1}, "b": {"value": 2}}))
    store.MEASUREMENTS.save("test", "b", {"value": 3})
    assert store.MEASUREMENTS.load("test") == {"a": {"value": 1}, "b": {"value": 3}}


def _save_many(arguments):
    results_folder, filename, prefix, count, start_at = arguments
    os.environ["ADVLIB_RESULTS"] = results_folder
    json_store = store.JsonStore(filename)
    # Both processes start saving at the same moment (spawned processes take a variable
    # time to import), so their read-modify-write cycles really overlap.
    time.sleep(max(0.0, start_at - time.time()))
    for index in range(count):
        json_store.save("test", f"{prefix}{index}", {"value": index})


@pytest.mark.parametrize("json_store", [store.MEASUREMENTS, store.STUDIES], ids=lambda s: s.filename)
def test_two_processes_saving_at_once_lose_nothing(results, json_store):
    count = 60
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + 5.0
    jobs = [(os.environ["ADVLIB_RESULTS"], json_store.filename, prefix, count, start_at) for prefix in ("first-", "second-")]
    with context.Pool(2) as pool:
        pool.map(_save_many, jobs)
    saved = store.read_json(json_store.local_path("test"))
    assert len(saved) == 2 * count
    assert saved["first-59"] == {"value": 59} and saved["second-0"] == {"value": 0}


def _save_one(results_folder, filename, started_marker):
    os.environ["ADVLIB_RESULTS"] = results_folder
    json_store = store.JsonStore(filename)
    Path(started_marker).touch()
    json_store.save("test", "from-the-child", {"value": 1})


@pytest.mark.parametrize("json_store", [store.MEASUREMENTS, store.STUDIES], ids=lambda s: s.filename)
def test_a_save_waits_while_another_process_holds_the_lock(results, json_store, tmp_path):
    # Deterministic where the race above is statistical: while this process holds the
    # store's lock, another process's save must not touch the file; once it is released,
    # the save completes and keeps what this process wrote under the lock.
    path = json_store.local_path("test")
    path.parent.mkdir(parents=True, exist_ok=True)
    marker = tmp_path / "child-started"
    context = multiprocessing.get_context("spawn")
    child = context.Process(target=_save_one, args=(os.environ["ADVLIB_RESULTS"], json_store.filename, str(marker)))
    with store.locked(path):
        store.write_json_atomically(path, {"from-the-parent": {"value": 0}})
        child.start()
        deadline = time.time() + 60
        while not marker.exists() and time.time() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the child process never started"
        time.sleep(1.0)
        assert "from-the-child" not in (store.read_json(path) or {}), "a save wrote while another process held the lock"
    child.join(60)
    assert child.exitcode == 0
    assert set(store.read_json(path)) == {"from-the-parent", "from-the-child"}


def test_publish_copies_finished_models_and_merges_saved_results(results):
    store.save_model(_Weights(), {}, "baseline", "test")
    store.STUDIES.save("test", "audit/baseline/abc", {"models": {}})
    shipped = store.shipped_dir("test")
    shipped.mkdir(parents=True)
    (shipped / "studies.json").write_text(json.dumps({"sweep/old/def": {"models": {}}}))
    # A mislabelled record (another model's hash) is not published.
    store.save_model(_Weights(), {}, "random_at", "test")
    record_path = results / f"{store.model_id('random_at', 'test')}.json"
    record_path.write_text(json.dumps(dict(json.loads(record_path.read_text()), config_hash="0123456789ab")))
    messages = []
    store.publish("test", log=messages.append)
    for suffix in (".weights.h5", ".json"):
        assert (shipped / f"{store.model_id('baseline', 'test')}{suffix}").exists()
    assert not list(shipped.glob("random_at-*"))
    assert set(json.loads((shipped / "studies.json").read_text())) == {"sweep/old/def", "audit/baseline/abc"}
    assert any("skipping random_at" in message for message in messages)

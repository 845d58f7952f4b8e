"""advlib.book.compare reads each file of the measurements store once per call, and never a stale copy.

The store has two files per profile, the shipped one and the local one (the results
folder); a chapter's table of one key used to read and re-check both twice. Reads are
counted by spying on :func:`advlib.results.store.read_json`, the store's one reader.
"""

import collections
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from advlib import book
from advlib.plan import catalogue
from advlib.results import store
from advlib.runs import experiments, measurements
from tests.support.sources import saved_entry


@pytest.fixture
def both_files(results_folder, tmp_path, monkeypatch):
    """A shipped and a local measurements.json on the test profile: ``(shipped, local)`` paths."""
    monkeypatch.setattr(store, "PRETRAINED_DIR", tmp_path / "pretrained")
    shipped = tmp_path / "pretrained" / "test" / "measurements.json"
    local = results_folder / "measurements.json"
    for path, entries in ((shipped, {"baseline.clean": saved_entry("baseline.clean", 0.8)}),
                          (local, {"baseline.fgsm": saved_entry("baseline.fgsm", 0.2)})):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(entries))
    return shipped, local


@pytest.fixture
def reads(monkeypatch):
    """``{path: number of reads}`` of every file read through the store; saves' re-reads under the lock apart."""
    counts, saving = collections.Counter(), []
    read_json, save = store.read_json, store.JsonStore.save

    def counting_read(path):
        if not saving:
            counts[Path(path)] += 1
        return read_json(path)

    def flagged_save(self, *args, **kwargs):
        # A save re-reads the local file under its lock to merge other writers' keys: that
        # read is part of writing, not of looking a number up.
        saving.append(True)
        try:
            return save(self, *args, **kwargs)
        finally:
            saving.pop()

    monkeypatch.setattr(store, "read_json", counting_read)
    monkeypatch.setattr(store.JsonStore, "save", flagged_save)
    return counts


@pytest.mark.parametrize("keys", [["baseline.fgsm"], ["baseline.clean", "baseline.fgsm"]])
def test_one_compare_reads_each_store_file_once(both_files, reads, keys):
    table = book.compare(keys, "test")
    assert table.values == {key: {"baseline.clean": 0.8, "baseline.fgsm": 0.2}[key] for key in keys}
    assert table.caption.endswith("data: hand-made; not the book's numbers)")
    assert dict(reads) == {path: 1 for path in both_files}


def test_measured_reads_each_store_file_once(both_files, reads):
    assert book.measured(["baseline.fgsm"], "test") == {"baseline.fgsm": 0.2}
    assert dict(reads) == {path: 1 for path in both_files}


def test_a_compare_that_must_measure_still_looks_numbers_up_once(both_files, reads, monkeypatch):
    # Nothing is trained or attacked: stand-in data, models and a computed value of 0.25.
    data = SimpleNamespace(x_test=np.zeros((8, 2, 2, 3)), y_test=np.zeros(8, dtype=int), source="hand-made")
    monkeypatch.setattr(experiments, "load_data", lambda profile: data)
    monkeypatch.setattr(experiments, "load_or_train", lambda name, profile, **kwargs: name)
    monkeypatch.setattr(measurements, "compute", lambda *args: 0.25)
    table = book.compare(["baseline.fgsm", "baseline.pgd"], "test")
    assert table.values == {"baseline.fgsm": 0.2, "baseline.pgd": 0.25}
    assert dict(reads) == {path: 1 for path in both_files}
    # Every baseline row was measured and saved; the saved ones were not measured again.
    saved = json.loads(both_files[1].read_text())
    assert {key for key, entry in saved.items() if entry["value"] == 0.25} == {
        m.key for m in catalogue.MEASUREMENTS if "baseline" in m.models and m.key not in ("baseline.clean", "baseline.fgsm")
    }


def test_a_number_written_between_two_compares_is_the_one_shown(both_files):
    # No copy outlives a call: another process's save is read by the next table.
    assert book.compare(["baseline.fgsm"], "test").values == {"baseline.fgsm": 0.2}
    store.MEASUREMENTS.save("test", "baseline.fgsm", saved_entry("baseline.fgsm", 0.3))
    assert book.compare(["baseline.fgsm"], "test").values == {"baseline.fgsm": 0.3}

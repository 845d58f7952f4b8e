"""A JSON store reads and writes its file only while it holds the store's lock, checked at the moment of each.

tests/unit/results/test_store.py checks the lock with two processes: one races two savers (a lost
entry shows only if their cycles happen to interleave) and one holds the lock while a
child waits, which a save that releases the lock *between* reading and writing still
passes. Here the read and the write themselves are watched: at the moment each
happens, a second open file description tries a non-blocking ``flock`` on the store's
lock file, which fails exactly when someone holds the lock (flock locks belong to open
file descriptions, so this conflicts with a lock held in the same process just as with
another process's). Nothing depends on timing.
"""

from pathlib import Path

import pytest

from advlib.results import store

fcntl = pytest.importorskip("fcntl", reason="the store's lock (a filelock.FileLock) is an fcntl.flock on POSIX only")


@pytest.fixture
def results(tmp_path, monkeypatch):
    """An empty results folder and an empty shipped folder."""
    monkeypatch.setenv("ADVLIB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setattr(store, "PRETRAINED_DIR", tmp_path / "pretrained")
    return tmp_path / "results" / "test"


def lock_is_held(path):
    """Whether the store's lock on ``path`` is held right now (by anyone): a non-blocking flock is refused."""
    # The lock file store.locked uses; it must exist by the time anything is read or written.
    lock_file = Path(path).with_name(f".{Path(path).name}.lock")
    if not lock_file.exists():
        return False
    with open(lock_file, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def test_the_probe_sees_the_lock_held_and_released(results):
    path = store.MEASUREMENTS.local_path("test")
    with store.locked(path):
        assert lock_is_held(path)
    assert not lock_is_held(path)


@pytest.mark.parametrize("json_store", [store.MEASUREMENTS, store.STUDIES], ids=lambda s: s.filename)
def test_a_save_reads_and_writes_its_file_only_under_the_lock(results, json_store, monkeypatch):
    path = json_store.local_path("test")
    store.write_json_atomically(path, {"already-there": {"value": 0}})
    seen = []
    real_read, real_write = store.read_json, store.write_json_atomically

    def watched_read(target):
        if Path(target) == path:
            seen.append(("read", lock_is_held(path)))
        return real_read(target)

    def watched_write(target, data):
        if Path(target) == path:
            seen.append(("write", lock_is_held(path)))
        return real_write(target, data)

    monkeypatch.setattr(store, "read_json", watched_read)
    monkeypatch.setattr(store, "write_json_atomically", watched_write)
    json_store.save("test", "new", {"value": 1})
    assert seen == [("read", True), ("write", True)], f"(step, lock held) while saving: {seen}"
    assert not lock_is_held(path), "the save did not release the lock"
    assert real_read(path) == {"already-there": {"value": 0}, "new": {"value": 1}}

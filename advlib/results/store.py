"""Where trained models, measurements and studies live, and how they are written safely.

One home for everything saved:

* **Folders.** ``$ADVLIB_RESULTS`` (default ``~/.cache/advlib/results``) holds one
  folder per profile; :data:`PRETRAINED_DIR` holds what ships with the package
  (``advlib/pretrained/<profile>``), copied there by :func:`publish`.
* **Models.** A trained model is two files named after its identity,
  :func:`model_id` ``= "<name>-<config hash>"``: ``.weights.h5`` (the weights alone) and
  ``.json`` (its record: config, metrics, data source, seed, library versions, wall
  time and machine). Both are written through a temporary file and a rename, the JSON
  last, and a model counts as saved only when its JSON names the hash in its file name:
  a half-written or mislabelled save is never loaded.
* **JSON stores.** ``measurements.json`` and ``studies.json`` (:data:`MEASUREMENTS`,
  :data:`STUDIES`) map keys to entries. Reading merges the shipped file with the local
  one (local wins); saving re-reads the local file under an exclusive lock, changes one
  key and writes it atomically, so two processes saving at once lose nothing.

Nothing here imports TensorFlow except :func:`library_versions` and
:func:`machine_description`, which record what trained a model.
"""

import json
import os
import platform
import shutil
import sys
from pathlib import Path

from filelock import FileLock

from advlib.plan import registry

PRETRAINED_DIR = Path(__file__).resolve().parents[1] / "pretrained"
RECORD_FORMAT = 1


def results_root():
    """The results folder: ``$ADVLIB_RESULTS`` if set, else ``~/.cache/advlib/results``."""
    configured = os.environ.get("ADVLIB_RESULTS")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "advlib" / "results"


def profile_dir(profile):
    """The results folder of one profile (a name or :class:`advlib.plan.registry.Profile`), created on first use."""
    directory = results_root() / registry.get_profile(profile).name
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def shipped_dir(profile):
    """The folder of files shipped with the package for ``profile`` (it may not exist)."""
    return PRETRAINED_DIR / registry.get_profile(profile).name


# ------------------------------------------------------------------------------ writing


def write_json_atomically(path, data):
    """Write ``data`` as JSON to ``path`` through a temporary file and a rename.

    A reader sees either the old file or the new one, never a half-written file, even if
    this process is killed in the middle of the write.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(temporary, "w") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        # Only left behind if the write failed before the rename.
        if temporary.exists():
            temporary.unlink()


def read_json(path):
    """Read a JSON file; ``None`` if it is missing or unreadable (a half-written file)."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def locked(path):
    """An exclusive lock on ``path``'s lock file ``.<name>.lock``, held for a ``with`` block.

    A :class:`filelock.FileLock`: ``flock`` on POSIX, ``msvcrt`` locking on Windows (so
    saves are locked there too). Entering the block waits for as long as another process
    holds the lock, as a save must not give up and lose its entry.
    """
    path = Path(path)
    return FileLock(path.with_name(f".{path.name}.lock"))


# ------------------------------------------------------------------------------- models


def model_id(name, profile):
    """``"<name>-<config hash>"``: the stem of a registry model's files on ``profile``."""
    return f"{name}-{registry.model_hash(name, profile)}"


def checkpoint_dir(name, profile):
    """The folder where :mod:`advlib.training` checkpoints ``name`` on ``profile`` after each epoch."""
    return profile_dir(profile) / "checkpoints" / model_id(name, profile)


def save_model(model, record, name, profile, directory=None):
    """Save ``model``'s weights and ``record`` (a JSON-serialisable dict) as :func:`model_id`.

    ``directory`` defaults to the profile's results folder. Returns the weights' path.
    """
    directory = Path(directory) if directory is not None else profile_dir(profile)
    directory.mkdir(parents=True, exist_ok=True)
    base, digest = model_id(name, profile), registry.model_hash(name, profile)
    weights_path = directory / f"{base}.weights.h5"
    temporary = directory / f".{base}.tmp-{os.getpid()}.weights.h5"
    model.save_weights(temporary)
    os.replace(temporary, weights_path)
    record = dict(record, name=name, config_hash=digest, weights_file=weights_path.name, format=RECORD_FORMAT)
    # The JSON last: until it exists the model does not count as saved.
    write_json_atomically(directory / f"{base}.json", record)
    return weights_path


def find_saved(name, profile):
    """``(weights_path, record)`` of the finished model ``name`` on ``profile``, or ``None``.

    Looks in the results folder first, then in the weights shipped with the package. A
    record counts only if its ``config_hash`` is the hash in its file name and its
    weights file exists.
    """
    base, digest = model_id(name, profile), registry.model_hash(name, profile)
    for directory in (profile_dir(profile), shipped_dir(profile)):
        record = read_json(directory / f"{base}.json")
        weights_path = directory / f"{base}.weights.h5"
        if record and record.get("config_hash") == digest and weights_path.exists():
            return weights_path, record
    return None


def is_saved(name, profile):
    """Whether a finished ``name`` exists for ``profile`` (results folder or shipped)."""
    return find_saved(name, profile) is not None


def load_record(name, profile):
    """The JSON record of a saved model (config, metrics, history, machine...), or ``None``."""
    found = find_saved(name, profile)
    return found[1] if found else None


# --------------------------------------------------------------------------- JSON stores


class JsonStore:
    """A ``{key: entry}`` JSON file per profile, shipped and local, merged on read and locked on write."""

    def __init__(self, filename):
        self.filename = filename

    def local_path(self, profile):
        """The file in the profile's results folder: where entries are saved (and published from)."""
        return profile_dir(profile) / self.filename

    def load(self, profile):
        """Every entry, ``{key: entry}``: the shipped file's, then the local file's on top."""
        entries = {}
        for path in (shipped_dir(profile) / self.filename, self.local_path(profile)):
            entries.update(read_json(path) or {})
        return entries

    def save(self, profile, key, entry):
        """Add ``entry`` (a JSON-serialisable dict) under ``key`` in the local file.

        The file is re-read under an exclusive lock and only ``key`` changes, so entries
        another process wrote meanwhile are kept; the write is atomic.
        """
        path = self.local_path(profile)
        with locked(path):
            saved = read_json(path) or {}
            saved[key] = entry
            write_json_atomically(path, saved)


MEASUREMENTS = JsonStore("measurements.json")
STUDIES = JsonStore("studies.json")


# ---------------------------------------------------------------------------- provenance


def library_versions():
    """Versions of the libraries that shape the numbers."""
    import keras
    import numpy
    import tensorflow

    from advlib import __version__

    return {
        "python": sys.version.split()[0],
        "tensorflow": tensorflow.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "advlib": __version__,
    }


def machine_description():
    """The machine a model was trained on: host, CPU, core count and accelerators."""
    import tensorflow

    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "gpus": [device.name for device in tensorflow.config.list_physical_devices("GPU")],
    }


# ------------------------------------------------------------------------------ publish


def publish(profile, *, log=print):
    """Copy the profile's finished models, measurements and studies into :data:`PRETRAINED_DIR`.

    Only models whose record names their current config hash are copied; the JSON stores
    are merged into the shipped ones (local entries win), never replaced wholesale.
    """
    profile = registry.get_profile(profile)
    target, source = shipped_dir(profile), profile_dir(profile)
    target.mkdir(parents=True, exist_ok=True)
    for name in registry.MODELS:
        base = model_id(name, profile)
        record = read_json(source / f"{base}.json")
        if not record or record.get("config_hash") != registry.model_hash(name, profile):
            log(f"skipping {name}: not finished in the results folder")
            continue
        for suffix in (".weights.h5", ".json"):
            shutil.copy2(source / f"{base}{suffix}", target / f"{base}{suffix}")
        log(f"published {base}")
    for store in (MEASUREMENTS, STUDIES):
        local = read_json(store.local_path(profile))
        if local:
            merged = dict(read_json(target / store.filename) or {}, **local)
            write_json_atomically(target / store.filename, merged)
            log(f"published {store.filename}")

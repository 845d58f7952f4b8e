"""Where trained models and measurements live, and how they are written safely.

A trained model is two files named ``<name>-<config hash>``: ``.weights.h5`` (the
weights alone) and ``.json`` (its record: config, metrics, data source, seed, library
versions, wall time and machine). The hash covers every setting that changes the
weights, so a changed config never loads stale weights. Both files are written through
a temporary file and a rename, the JSON last, and a model counts as saved only when its
JSON names the same hash: a half-written save is never loaded.
"""

import hashlib
import json
import os
import platform
import sys
from pathlib import Path

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
RECORD_FORMAT = 1


def results_root():
    """The results folder: ``$ADVLIB_RESULTS`` if set, else ``~/.cache/advlib/results``."""
    configured = os.environ.get("ADVLIB_RESULTS")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "advlib" / "results"


def profile_dir(profile_name):
    """The results folder for one profile (created on first use)."""
    directory = results_root() / profile_name
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def config_hash(config):
    """A 12-character hash of a JSON-serialisable config (key order does not matter)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def stem(name, digest):
    return f"{name}-{digest}"


def write_json_atomically(path, data):
    """Write ``data`` as JSON to ``path`` through a temporary file and a rename."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(temporary, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def read_json(path):
    """Read a JSON file; ``None`` if it is missing or unreadable (a half-written file)."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def save_model(model, record, directory, name, digest):
    """Save ``model``'s weights and ``record`` as ``<name>-<digest>`` in ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    base = stem(name, digest)
    weights_path = directory / f"{base}.weights.h5"
    temporary = directory / f".{base}.tmp-{os.getpid()}.weights.h5"
    model.save_weights(temporary)
    os.replace(temporary, weights_path)
    record = dict(record, name=name, config_hash=digest, weights_file=weights_path.name, format=RECORD_FORMAT)
    write_json_atomically(directory / f"{base}.json", record)
    return weights_path


def find_saved(name, digest, profile_name):
    """Return ``(weights_path, record)`` of a finished model, or ``None``.

    Looks in the results folder first, then in the weights shipped with the package.
    """
    base = stem(name, digest)
    for directory in (results_root() / profile_name, PRETRAINED_DIR / profile_name):
        record = read_json(directory / f"{base}.json")
        weights_path = directory / f"{base}.weights.h5"
        if record and record.get("config_hash") == digest and weights_path.exists():
            return weights_path, record
    return None


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

"""Weights shipped in advlib/pretrained/ match the registry and load without training."""

import json

import numpy as np
import pytest

import re

from advlib.plan import registry
from advlib.results import store
from advlib.runs import experiments

SHIPPED = sorted(store.PRETRAINED_DIR.glob("*/*.json"))
SAVED_RESULTS = ("measurements.json", "studies.json")
RECORDS = [path for path in SHIPPED if path.name not in SAVED_RESULTS]


@pytest.mark.parametrize("path", RECORDS, ids=[f"{path.parent.name}/{path.stem}" for path in RECORDS])
def test_shipped_model_is_current_and_loads(path, tmp_path, monkeypatch):
    record = json.loads(path.read_text())
    profile = path.parent.name
    name = record["name"]
    # A shipped model whose config no longer hashes the same would never be loaded.
    # If this fails after a change of code that should not change any model (a refactoring
    # of the registry or of hashing), the change is the bug: fix it, do not retrain.
    assert record["config_hash"] == registry.model_hash(name, profile), (
        f"{path.name}: the registry's config hash for {name!r} changed. If you meant to change its recipe, "
        "retrain and publish it; otherwise the code change broke model identity"
    )
    assert path.stem == store.model_id(name, profile)
    assert record["config"] == registry.model_config(name, profile)
    for field in ("data_source", "wall_time_seconds", "machine", "versions", "metrics", "seed"):
        assert field in record
    # With an empty results folder, load_or_train must find the shipped weights and not train.
    monkeypatch.setenv("ADVLIB_RESULTS", str(tmp_path))
    model = experiments.load_or_train(name, profile, train=False)
    assert model.count_params() == 150_954
    assert any(np.abs(weight).sum() > 0 for weight in model.get_weights())


def test_shipped_measurements_belong_to_shipped_models():
    for path in (p for p in SHIPPED if p.name == "measurements.json"):
        shipped_hashes = {json.loads(record.read_text())["config_hash"] for record in path.parent.glob("*.json") if record.name not in SAVED_RESULTS}
        for key, entry in json.loads(path.read_text()).items():
            assert set(entry["models"].values()) <= shipped_hashes, f"{key} was measured on a model that is not shipped"


def test_shipped_studies_belong_to_shipped_models():
    # A shipped sweep or audit of a model that is not shipped could not be reproduced from
    # the package, and the book would show numbers of a model nobody can load.
    for path in (p for p in store.PRETRAINED_DIR.glob("*/studies.json")):
        shipped_hashes = {
            json.loads(record.read_text())["config_hash"]
            for record in path.parent.glob("*.json")
            if record.name not in SAVED_RESULTS
        }
        for key, entry in json.loads(path.read_text()).items():
            assert set(entry["models"].values()) <= shipped_hashes, f"{key} was computed on a model that is not shipped"


@pytest.mark.parametrize("path", SHIPPED, ids=[f"{path.parent.name}/{path.name}" for path in SHIPPED])
def test_shipped_files_name_no_path_of_a_machine(path):
    # Records, measurements and studies reach readers (tables name their data source).
    text = path.read_text()
    assert not re.search(r"(/work|/tmp|/root|/home|/Users)/", text), f"{path.name} names a path of the machine that made it"

"""Shared pytest configuration for tests/.

Deliberately light: nothing here imports TensorFlow or advlib, and the advlib
environment (ADVLIB_CACHE_DIR, ADVLIB_RESULTS, ADVLIB_PROFILE, ADVLIB_CIFAR10) is left
as the caller set it. Tests that need an isolated cache or results folder set it up
themselves (e.g. with ``monkeypatch.setenv`` and ``tmp_path``).
"""

import os

import pytest


def pytest_configure(config):
    # Quiet TensorFlow's C++ logging in this process and in the subprocesses and
    # kernels that tests start (they inherit the environment). setdefault: a value
    # the caller chose wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_report_header(config):
    names = ("ADVLIB_PROFILE", "ADVLIB_CIFAR10", "ADVLIB_CACHE_DIR", "ADVLIB_RESULTS")
    return "advlib env: " + ", ".join(f"{n}={os.environ.get(n, '(unset)')}" for n in names)


@pytest.fixture
def linear_case():
    """Weights (48, 10), bias (10,), images (16, 4, 4, 3) in [0.2, 0.8] and labels of a linear softmax case."""
    import numpy as np

    rng = np.random.default_rng(0)
    weights = rng.normal(size=(48, 10)) * 0.5
    bias = rng.normal(size=10) * 0.1
    x = rng.uniform(0.2, 0.8, size=(16, 4, 4, 3)).astype(np.float32)
    y = rng.integers(0, 10, size=16)
    return weights, bias, x, y


@pytest.fixture
def results_folder(tmp_path, monkeypatch):
    """An empty results folder on the test profile, for hand-made measurements.json files."""
    monkeypatch.setenv("ADVLIB_RESULTS", str(tmp_path / "results"))
    return tmp_path / "results" / "test"

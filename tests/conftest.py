"""Shared pytest configuration for tests/.

Deliberately light: nothing here imports TensorFlow or advlib, and the advlib
environment (ADVLIB_CACHE_DIR, ADVLIB_RESULTS, ADVLIB_PROFILE, ADVLIB_CIFAR10) is left
as the caller set it. Tests that need an isolated cache or results folder set it up
themselves (e.g. with ``monkeypatch.setenv`` and ``tmp_path``).
"""

import os


def pytest_configure(config):
    # Quiet TensorFlow's C++ logging in this process and in the subprocesses and
    # kernels that tests start (they inherit the environment). setdefault: a value
    # the caller chose wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_report_header(config):
    names = ("ADVLIB_PROFILE", "ADVLIB_CIFAR10", "ADVLIB_CACHE_DIR", "ADVLIB_RESULTS")
    return "advlib env: " + ", ".join(f"{n}={os.environ.get(n, '(unset)')}" for n in names)

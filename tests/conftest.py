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


def browser_unavailable(reason):
    """Skip a browser test for ``reason``, or fail it when ADVLIB_REQUIRE_BROWSER=1 (as in CI)."""
    if os.environ.get("ADVLIB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (and ADVLIB_REQUIRE_BROWSER=1 requires the browser test)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium through Playwright (tests/browser_check.launch_browser), shared by the browser tests."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import browser_check

    if not Path(browser_check.CHROMIUM).exists():
        browser_unavailable(f"{browser_check.CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        browser_unavailable(f"the playwright package is not installed ({error})")
    with sync_playwright() as playwright:
        chromium = browser_check.launch_browser(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def server(site_root):
    """The built site served over HTTP for the browser tests; each module defines ``site_root``."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import browser_check

    with browser_check.BookServer(site_root) as srv:
        yield srv


# Models of the test profile that several test modules attack. Training them in every
# test's own results folder took most of those tests' time on 2 cores; they are trained
# once per session on the same hand-made images (tests.helpers.make_image_tree with its
# defaults, which every module's fixture uses) and copied into each folder that needs them.
SHARED_TEST_MODELS = ("baseline", "surrogate", "dd_student_t50", "final_student")


@pytest.fixture(scope="session")
def install_test_models(tmp_path_factory):
    """A function ``install(results_root, names=SHARED_TEST_MODELS)`` that copies trained test-profile models in.

    The models (and the teachers they need) are trained on first use, once per session,
    in a folder of their own; ``results_root`` is an ``ADVLIB_RESULTS`` folder.
    """
    import shutil
    from pathlib import Path

    from tests.helpers import make_image_tree

    from advlib.results import store

    # Under pytest-xdist every worker has its own base folder below a shared one: the
    # models are trained in the shared one, under a lock, by whichever worker needs them
    # first, and the other worker loads them (load_or_train finds them by config hash)
    # instead of training them a second time on the same two cores.
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared-test-models"
    root.mkdir(exist_ok=True)
    with store.locked(root / "cifar"):
        complete = root / "cifar.complete"
        source = root / "cifar" if complete.exists() else make_image_tree(root / "cifar")
        complete.touch()

    def install(results_root, names=SHARED_TEST_MODELS):
        from advlib.plan import registry
        from advlib.runs import experiments

        needed = registry.models_needed(list(names))
        with pytest.MonkeyPatch.context() as patch, store.locked(root / "results"):
            patch.setenv("ADVLIB_CIFAR10", str(source))
            patch.setenv("ADVLIB_CACHE_DIR", str(root / "cache"))
            patch.setenv("ADVLIB_RESULTS", str(root / "results"))
            patch.setattr(store, "PRETRAINED_DIR", root / "pretrained")
            for name in needed:
                experiments.load_or_train(name, "test", verbose=0)
            trained = store.profile_dir("test")
        target = Path(results_root) / "test"
        target.mkdir(parents=True, exist_ok=True)
        for name in needed:
            for suffix in (".weights.h5", ".json"):
                file_name = store.model_id(name, "test") + suffix
                shutil.copy2(trained / file_name, target / file_name)

    return install


@pytest.fixture
def trained_test_environment(tmp_path, monkeypatch, install_test_models):
    """An isolated data source, cache, results and pretrained folder on the test profile,
    with :data:`SHARED_TEST_MODELS` already in the results folder; returns ``tmp_path``.

    Nothing shipped with the package may stand in for a study or analysis computed there.
    """
    from advlib.results import store
    from tests.helpers import make_image_tree

    monkeypatch.setenv("ADVLIB_CIFAR10", str(make_image_tree(tmp_path / "cifar")))
    monkeypatch.setenv("ADVLIB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ADVLIB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setattr(store, "PRETRAINED_DIR", tmp_path / "pretrained")
    install_test_models(tmp_path / "results")
    return tmp_path

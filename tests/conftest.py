"""Shared pytest configuration for tests/ (every folder under it).

Deliberately light: nothing here imports TensorFlow or advlib at import time, and the
advlib environment (ADVLIB_CACHE_DIR, ADVLIB_RESULTS, ADVLIB_PROFILE, ADVLIB_CIFAR10) is
left as the caller set it. Tests that need an isolated cache or results folder set it up
themselves (e.g. with ``monkeypatch.setenv`` and ``tmp_path``).

Helpers that test modules share are in :mod:`tests.support`; test modules never import
each other. The maintenance scripts of ``tools/`` (the editions, the course, the browser
check, ...) are scripts rather than a package, so this file puts ``tools/`` on
``sys.path`` once, here, for every test that imports one of them (``import colab_edition``).
"""

import os
import sys

import pytest

from tests.support.paths import TOOLS

if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))


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
    from tests.support.linear_models import linear_case as make_linear_case

    return make_linear_case(images=16)


@pytest.fixture
def results_folder(tmp_path, monkeypatch):
    """An empty results folder on the test profile, for hand-made measurements.json files."""
    monkeypatch.setenv("ADVLIB_RESULTS", str(tmp_path / "results"))
    return tmp_path / "results" / "test"


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium through Playwright (tools/browser_check.launch_browser), shared by the browser tests."""
    from pathlib import Path

    import browser_check
    from tests.support.skips import browser_unavailable

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
    from book_site import BookServer

    with BookServer(site_root) as srv:
        yield srv


# Models of the test profile that several test modules attack. Training them in every
# test's own results folder took most of those tests' time on 2 cores; they are trained
# once per session on the same hand-made images (tests.support.sources.make_image_tree with its
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

    from tests.support.sources import make_image_tree

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
    from tests.support.sources import make_image_tree

    monkeypatch.setenv("ADVLIB_CIFAR10", str(make_image_tree(tmp_path / "cifar")))
    monkeypatch.setenv("ADVLIB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ADVLIB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setattr(store, "PRETRAINED_DIR", tmp_path / "pretrained")
    install_test_models(tmp_path / "results")
    return tmp_path

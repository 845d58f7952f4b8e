"""The live FGSM figure of chapter 3 and the site's independence from other sites.

Checks the built site (``_build/html`` or ``$ADVLIB_BOOK_HTML``, as tests/book/test_pages_in_browser.py)
in headless Chromium: the page's TensorFlow.js network gives Keras's probabilities and
advlib's FGSM images, its controls work by keyboard, it degrades to a static figure
without JavaScript, axe-core finds no accessibility violation in it, and neither the
chapter nor another page with equations requests anything from another site. Skipped
without a built site or Chromium, unless ``ADVLIB_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

from pathlib import Path

import book_site
import numpy as np
import playground_export
import pytest

from tests.support.skips import browser_unavailable

pytestmark = pytest.mark.browser

CHAPTER = "book/03_fgsm.html"
FIGURE = "#fgsm-playground"
EPS = 0.01
READY_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def site_root() -> Path:
    root = book_site.html_dir()
    if not (root / "_static" / "playground" / "weights.json").exists():
        browser_unavailable(f"no built playground in {root}: run `make book` first")
    return root


@pytest.fixture(scope="module")
def baseline():
    return playground_export.load_baseline()


@pytest.fixture(scope="module")
def bundled(site_root):
    meta, images = playground_export.read_images(site_root / "_static" / "playground")
    return meta, images.astype(np.float32) / 255.0


def open_page(browser, server, path, *, javascript=True):
    """A tab on ``path`` whose requests to other sites are aborted and recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=javascript)
    tab = context.new_page()
    tab.outside = []
    tab.failed = []

    def route(route_obj):
        url = route_obj.request.url
        if server.is_internal(url) or url.startswith(("data:", "blob:", "about:")):
            route_obj.continue_()
        else:
            tab.outside.append(url)
            route_obj.abort()

    tab.route("**/*", route)
    tab.on("response", lambda r: r.status >= 400 and tab.failed.append(f"{r.status} {r.url}"))
    tab.goto(server.url(path), wait_until="load")
    return tab


@pytest.fixture(scope="module")
def chapter(browser, server):
    tab = open_page(browser, server, CHAPTER)
    tab.evaluate("() => window.advlibPlayground.ready.then(() => true)")
    yield tab
    tab.context.close()


def state(tab):
    import json
    return json.loads(tab.get_attribute(FIGURE, "data-state"))


def test_exported_weights_are_the_shipped_baseline(site_root, baseline):
    manifest, arrays = playground_export.read_weights(site_root / "_static" / "playground")
    expected = baseline.get_weights()
    assert [entry["name"] for entry in manifest["weights"]] == [v.path for v in baseline.weights]
    assert len(arrays) == len(expected) and all(np.array_equal(a, b) for a, b in zip(arrays, expected))


def test_bundled_images_are_two_test_images_per_class(bundled):
    from advlib.data.cifar10 import load_cifar10

    meta, images = bundled
    (_, _), (x_test, y_test) = load_cifar10()
    indices = [image["test_index"] for image in meta["images"]]
    assert indices == playground_export.pick_images(y_test)
    assert sorted(image["label"] for image in meta["images"]) == sorted(list(range(10)) * 2)
    assert np.array_equal(images, x_test[indices].astype(np.float32) / 255.0)


def test_page_probabilities_equal_keras(chapter, bundled, baseline):
    meta, images = bundled
    page = np.array([chapter.evaluate("i => advlibPlayground.probabilities(i)", i) for i in range(len(images))])
    keras_probabilities = baseline.predict(images, verbose=0)
    worst = np.abs(page - keras_probabilities).max()
    assert worst <= 1e-4, f"the page's probabilities differ from Keras's by up to {worst:.2g}"


def test_page_fgsm_equals_advlib(chapter, bundled, baseline):
    import tensorflow as tf

    from advlib.attacks import one_step as attacks

    meta, images = bundled
    labels = np.array([image["label"] for image in meta["images"]])
    page = np.array([chapter.evaluate("([i, eps]) => advlibPlayground.adversarial(i, eps)", [i, EPS])
                     for i in range(len(images))], dtype=np.float32).reshape(images.shape)
    ours = attacks.fgsm(baseline, images, labels, EPS)
    gradient, _ = attacks.input_gradient_function(baseline)(tf.constant(images), tf.constant(attacks.check_labels(
        labels, len(labels), 10)))
    gradient = np.abs(gradient.numpy())
    differ = np.abs(page - ours) > 1e-6
    assert differ.mean() <= 1e-3, f"the page's FGSM differs from advlib's on {differ.mean():.2%} of pixels"
    # Where they differ, the gradient is about zero, so its sign is a matter of rounding.
    scale = gradient.reshape(len(images), -1).max(axis=1)[:, None, None, None]
    relative = (gradient / scale)[differ]
    assert relative.size == 0 or relative.max() < 1e-3, f"they differ where |gradient| is {relative.max():.2g} of its max"


def test_slider_select_and_switch_work_by_keyboard(chapter):
    slider, toggle, select = (f"{FIGURE} input[type=range]", f"{FIGURE} input[role=switch]", f"{FIGURE} select")
    status = f"{FIGURE} .advlib-playground-status"
    chapter.focus(slider)
    chapter.keyboard.press("Home")
    assert state(chapter)["eps"] == 0
    clean = state(chapter)["probabilities"]
    chapter.keyboard.press("ArrowRight")
    assert state(chapter)["eps"] == pytest.approx(0.001)
    chapter.keyboard.press("End")
    assert state(chapter)["eps"] == pytest.approx(0.1) and "eps 0.100" in chapter.text_content(status)
    assert state(chapter)["probabilities"] != clean
    chapter.focus(toggle)
    chapter.keyboard.press("Space")
    assert state(chapter)["mode"] == "noise" and chapter.text_content(status).startswith("Random-sign")
    chapter.keyboard.press("Space")
    assert state(chapter)["mode"] == "fgsm"
    chapter.focus(select)
    chapter.keyboard.press("ArrowDown")
    assert state(chapter)["index"] == 1


def test_static_fallback_and_text_alternative_without_javascript(browser, server):
    tab = open_page(browser, server, CHAPTER, javascript=False)
    try:
        assert tab.is_hidden(f"{FIGURE} .advlib-playground-live")
        image = tab.locator(f"{FIGURE} .advlib-playground-fallback img")
        assert image.is_visible() and len(image.get_attribute("alt")) > 40
        assert tab.evaluate(f"() => document.querySelector('{FIGURE} img').naturalWidth") > 0
        assert "FGSM" in tab.text_content(f"{FIGURE}-caption")
    finally:
        tab.context.close()


def equation_page(site_root: Path) -> str:
    """Another page of the book with equations (MathJax), to check beside the chapter."""
    for page in sorted(site_root.glob("book/*.html")) + sorted(site_root.glob("*.html")):
        path = page.relative_to(site_root).as_posix()
        if path != CHAPTER and 'class="math' in page.read_text(errors="replace"):
            return path
    pytest.fail(f"no page with equations in the site {site_root.name}")


@pytest.mark.parametrize("which", ["chapter", "equations"])
def test_pages_request_nothing_outside_the_site(which, browser, server, site_root):
    path = CHAPTER if which == "chapter" else equation_page(site_root)
    tab = open_page(browser, server, path)
    try:
        tab.wait_for_load_state("networkidle")
        assert not tab.outside, f"{path} requested other sites: {tab.outside}"
        # MathJax (from the site) has typeset the equations, with its fonts; the figure has started.
        tab.wait_for_selector("mjx-container", timeout=READY_TIMEOUT_MS)
        if which == "chapter":
            tab.evaluate("() => window.advlibPlayground.ready.then(() => true)")
        tab.wait_for_load_state("networkidle")
        assert not tab.outside, f"{path} requested other sites: {tab.outside}"
        assert not tab.failed, f"{path}: {tab.failed}"
    finally:
        tab.context.close()


def test_axe_core_finds_no_violation_in_the_figure(chapter, site_root):
    axe = site_root.parent / "npm" / "node_modules" / "axe-core" / "axe.min.js"
    if not axe.is_file():
        browser_unavailable(f"axe-core is not installed beside the site ({axe.name} missing): run `make book`")
    chapter.add_script_tag(path=str(axe))
    result = chapter.evaluate(f"() => axe.run('{FIGURE}').then(r => r.violations.map(v => v.id + ': ' + v.help))")
    assert result == []

"""The book's live FGSM figures (chapters 3 and 6) and the site's independence from other sites.

Checks the built site (``_build/html`` or ``$ADVLIB_BOOK_HTML``, as tests/book/test_pages_in_browser.py)
in headless Chromium, for each figure: the page's TensorFlow.js network gives Keras's
probabilities of the shipped model at the figure's temperature and advlib's FGSM images,
its controls work by keyboard, it degrades to a static figure without JavaScript,
axe-core finds no accessibility violation in it, and neither the chapters nor another page
with equations request anything from another site. Chapter 6's figure is also checked
against what its paragraph tells the reader to look for. Skipped without a built site or
Chromium, unless ``ADVLIB_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import book_site
import numpy as np
import playground_export
import pytest

from tests.support.skips import browser_unavailable

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class LiveFigure:
    """What a chapter's figure must run: written here, not read from the page, so that a
    page running another model or temperature fails."""

    page: str
    model: str
    temperature: float | None  # None: the model's own
    attack_temperature: float | None = None  # the second switch's gradient temperature


FIGURES = {
    "chapter 3": LiveFigure("book/03_fgsm.html", "baseline", None),
    "chapter 6": LiveFigure("book/06_gradient_hiding.html", "dd_student_t50", 1.0, attack_temperature=50.0),
}
CHAPTER = FIGURES["chapter 3"].page  # tests/book/test_pages_in_browser.py and the README name it
FIGURE = "#fgsm-playground"
EPS = 0.01
READY_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def site_root() -> Path:
    root = book_site.html_dir()
    if not (root / "_static" / "playground" / "images.json").exists():
        browser_unavailable(f"no built playground in {root}: run `make book` first")
    return root


@pytest.fixture(scope="module")
def shipped():
    """``shipped(name)``: the registry model shipped with the full profile, loaded once,
    straight from advlib (not through the exporter, whose choice of model is under test)."""
    from advlib.runs import experiments

    loaded = {}

    def load(name):
        if name not in loaded:
            loaded[name] = experiments.load_or_train(name, playground_export.PROFILE, train=False)
        return loaded[name]

    return load


def keras_view(shipped, figure: LiveFigure, temperature=None):
    """The Keras model the figure's probabilities (or, with ``temperature``, its FGSM) must match."""
    from advlib import models

    temperature = temperature or figure.temperature
    model = shipped(figure.model)
    return model if temperature is None else models.with_temperature(model, temperature)


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


@pytest.fixture(scope="module", params=list(FIGURES))
def live(request, browser, server):
    """``(figure, tab)``: a chapter with its figure started, one tab per chapter."""
    figure = FIGURES[request.param]
    tab = open_page(browser, server, figure.page)
    tab.evaluate("() => window.advlibPlayground.ready.then(() => true)")
    yield figure, tab
    tab.context.close()


def state(tab):
    return json.loads(tab.get_attribute(FIGURE, "data-state"))


def page_fgsm(tab, count, eps, temperature=None):
    """The page's FGSM images of the first ``count`` bundled images (gradient at ``temperature``)."""
    arrays = tab.evaluate("([n, eps, t]) => [...Array(n).keys()].map(i => advlibPlayground.adversarial(i, eps, t))",
                          [count, eps, temperature])
    return np.array(arrays, dtype=np.float32).reshape(count, 32, 32, 3)


def fgsm_disagreement(page, ours, gradient):
    """Why the page's FGSM images differ from advlib's beyond rounding, or None.

    They may differ on at most 0.1% of the values, and only where advlib's gradient is
    about zero (below 1e-3 of the image's largest), so that rounding decides its sign. An
    image whose gradient is exactly zero everywhere must come back unchanged, as advlib's.
    """
    gradient = np.abs(gradient)
    differ = np.abs(page - ours) > 1e-6
    if differ.mean() > 1e-3:
        return f"the page's FGSM differs from advlib's on {differ.mean():.2%} of the values"
    scale = gradient.reshape(len(page), -1).max(axis=1)
    for index in np.flatnonzero(differ.reshape(len(page), -1).any(axis=1)):
        if scale[index] == 0:
            return f"image {index} has an exactly-zero gradient, but the page perturbed it"
        relative = gradient[index][differ[index]] / scale[index]
        if relative.max() >= 1e-3:
            return f"image {index}: they differ where |gradient| is {relative.max():.2g} of its largest"
    return None


def test_exported_weights_are_the_shipped_models(site_root, shipped):
    for figure in FIGURES.values():
        manifest, arrays = playground_export.read_weights(site_root / "_static" / "playground", figure.model)
        model = shipped(figure.model)
        assert manifest["model"] == figure.model
        assert [entry["name"] for entry in manifest["weights"]] == [v.path for v in model.weights]
        expected = model.get_weights()
        assert len(arrays) == len(expected) and all(np.array_equal(a, b) for a, b in zip(arrays, expected)), (
            f"the site's {figure.model} weights are not the shipped {figure.model}'s")


def test_bundled_images_are_two_test_images_per_class(bundled):
    from advlib.data.cifar10 import load_cifar10

    meta, images = bundled
    (_, _), (x_test, y_test) = load_cifar10()
    indices = [image["test_index"] for image in meta["images"]]
    assert indices == playground_export.pick_images(y_test)
    assert sorted(image["label"] for image in meta["images"]) == sorted(list(range(10)) * 2)
    assert np.array_equal(images, x_test[indices].astype(np.float32) / 255.0)


def test_page_probabilities_equal_keras(live, bundled, shipped):
    figure, tab = live
    meta, images = bundled
    page = np.array(tab.evaluate("n => [...Array(n).keys()].map(i => advlibPlayground.probabilities(i))", len(images)))
    keras_probabilities = keras_view(shipped, figure).predict(images, verbose=0)
    worst = np.abs(page - keras_probabilities).max()
    assert worst <= 1e-4, f"{figure.page}: the page's probabilities differ from Keras's by up to {worst:.2g}"


def test_page_fgsm_equals_advlib(live, bundled, shipped):
    """At the figure's temperature, and (chapter 6) with the gradient at the switch's temperature."""
    import tensorflow as tf

    from advlib.attacks import one_step as attacks

    figure, tab = live
    meta, images = bundled
    labels = np.array([image["label"] for image in meta["images"]])
    model = keras_view(shipped, figure)
    for temperature in (None, figure.attack_temperature)[: 2 if figure.attack_temperature else 1]:
        page = page_fgsm(tab, len(images), EPS, temperature)
        ours = attacks.fgsm(model, images, labels, EPS, temperature=temperature)
        gradient, _ = attacks.input_gradient_function(model, temperature=temperature)(
            tf.constant(images), tf.constant(attacks.check_labels(labels, len(labels), 10)))
        problem = fgsm_disagreement(page, ours, gradient.numpy())
        assert problem is None, f"{figure.page}, gradient at T = {temperature or 'its own'}: {problem}"


def test_controls_work_by_keyboard(live):
    figure, tab = live
    slider, select = f"{FIGURE} input[type=range]", f"{FIGURE} select"
    noise, attack = f"{FIGURE} .advlib-playground-noise", f"{FIGURE} .advlib-playground-attack"
    status = f"{FIGURE} .advlib-playground-status"
    opening = int(tab.get_attribute(FIGURE, "data-image"))
    assert state(tab)["index"] == opening
    tab.focus(slider)
    tab.keyboard.press("Home")
    assert state(tab)["eps"] == 0
    clean = state(tab)["probabilities"]
    tab.keyboard.press("ArrowRight")
    assert state(tab)["eps"] == pytest.approx(0.001)
    tab.keyboard.press("End")
    assert state(tab)["eps"] == pytest.approx(0.1) and "eps 0.100" in tab.text_content(status)
    # Chapter 3's opening image moves; chapter 6's has a zero gradient at T = 1 and stays.
    assert (state(tab)["probabilities"] != clean) == (state(tab)["changed"] > 0)
    if figure.attack_temperature:
        tab.focus(attack)
        tab.keyboard.press("Space")
        assert state(tab)["gradientTemperature"] == figure.attack_temperature and state(tab)["changed"] > 0
        assert f"gradient at T = {figure.attack_temperature:g}" in tab.text_content(status)
    else:
        assert tab.locator(attack).count() == 0
    tab.focus(noise)
    tab.keyboard.press("Space")
    assert state(tab)["mode"] == "noise" and tab.text_content(status).startswith("Random-sign")
    if figure.attack_temperature:
        assert tab.is_disabled(attack)  # random signs have no gradient to take at any temperature
    tab.keyboard.press("Space")
    assert state(tab)["mode"] == "fgsm"
    if figure.attack_temperature:
        tab.focus(attack)
        tab.keyboard.press("Space")
        assert state(tab)["gradientTemperature"] == (figure.temperature or 1.0)
    tab.focus(select)
    tab.keyboard.press("ArrowDown")
    assert state(tab)["index"] == opening + 1


@pytest.mark.parametrize("name", list(FIGURES))
def test_static_fallback_and_text_alternative_without_javascript(name, browser, server):
    tab = open_page(browser, server, FIGURES[name].page, javascript=False)
    try:
        assert tab.is_hidden(f"{FIGURE} .advlib-playground-live")
        image = tab.locator(f"{FIGURE} .advlib-playground-fallback img")
        assert image.is_visible() and len(image.get_attribute("alt")) > 40
        assert f"/{FIGURES[name].model}/" in image.get_attribute("src")
        assert tab.evaluate(f"() => document.querySelector('{FIGURE} img').naturalWidth") > 0
        assert "FGSM" in tab.text_content(f"{FIGURE}-caption")
        assert not tab.failed, tab.failed
    finally:
        tab.context.close()


def equation_page(site_root: Path) -> str:
    """Another page of the book with equations (MathJax), to check beside the chapters."""
    chapters = {figure.page for figure in FIGURES.values()}
    for page in sorted(site_root.glob("book/*.html")) + sorted(site_root.glob("*.html")):
        path = page.relative_to(site_root).as_posix()
        if path not in chapters and 'class="math' in page.read_text(errors="replace"):
            return path
    pytest.fail(f"no page with equations in the site {site_root.name}")


@pytest.mark.parametrize("which", [*FIGURES, "equations"])
def test_pages_request_nothing_outside_the_site(which, browser, server, site_root):
    path = FIGURES[which].page if which in FIGURES else equation_page(site_root)
    tab = open_page(browser, server, path)
    try:
        tab.wait_for_load_state("networkidle")
        assert not tab.outside, f"{path} requested other sites: {tab.outside}"
        # MathJax (from the site) has typeset the equations, with its fonts (chapter 6 has
        # none); the figure has started.
        if 'class="math' in (site_root / path).read_text(errors="replace"):
            tab.wait_for_selector("mjx-container", timeout=READY_TIMEOUT_MS)
        if which in FIGURES:
            tab.evaluate("() => window.advlibPlayground.ready.then(() => true)")
        tab.wait_for_load_state("networkidle")
        assert not tab.outside, f"{path} requested other sites: {tab.outside}"
        assert not tab.failed, f"{path}: {tab.failed}"
    finally:
        tab.context.close()


def test_axe_core_finds_no_violation_in_the_figure(live, site_root):
    figure, tab = live
    axe = site_root.parent / "npm" / "node_modules" / "axe-core" / "axe.min.js"
    if not axe.is_file():
        browser_unavailable(f"axe-core is not installed beside the site ({axe.name} missing): run `make book`")
    tab.add_script_tag(path=str(axe))
    result = tab.evaluate(f"() => axe.run('{FIGURE}').then(r => r.violations.map(v => v.id + ': ' + v.help))")
    assert result == [], figure.page


# ---- chapter 6: what its paragraph tells the reader to look for --------------------

NUMBER_WORDS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen " \
               "sixteen seventeen eighteen nineteen twenty".split()
# eps values the paragraph's claims are checked at (the slider runs from 0 to 0.1).
CLAIM_EPS = (0.01, 0.02, 0.05, 0.1)

# What the reader sees for each bundled image at one eps: the figure's FGSM, its noise and its
# switch's FGSM, with the temperatures the page itself uses (its own and data-attack-temperature).
_OUTCOMES_JS = """
([n, eps]) => {
  const pg = advlibPlayground.playground, top = p => p.indexOf(Math.max(...p));
  const attackTemperature = Number(document.querySelector("#fgsm-playground").dataset.attackTemperature);
  return [...Array(n).keys()].map(i => {
    const row = {clean: top(pg.compute(i, 0, "fgsm").probabilities)};
    for (const [name, mode, t] of [["fgsm", "fgsm", null], ["noise", "noise", null],
                                   ["attack", "fgsm", attackTemperature]]) {
      const result = pg.compute(i, eps, mode, t);
      let changed = 0;
      for (let k = 0; k < result.clean.length; k++) if (result.adversarial[k] !== result.clean[k]) changed++;
      row[name] = {top: top(result.probabilities), changed: changed, values: result.clean.length};
    }
    return row;
  });
}
"""


def test_chapter6_figure_shows_what_its_text_says(browser, server, bundled, shipped):
    """Each claim of the paragraph above the figure, on the page, at the eps of CLAIM_EPS."""
    import tensorflow as tf

    from advlib import attacks, models
    from advlib.evaluation import metrics as evaluation

    figure = FIGURES["chapter 6"]
    meta, images = bundled
    labels = np.array([image["label"] for image in meta["images"]])
    tab = open_page(browser, server, figure.page)
    try:
        tab.evaluate("() => window.advlibPlayground.ready.then(() => true)")
        text = tab.evaluate(f"() => document.querySelector('{FIGURE}').previousElementSibling.textContent")
        text = " ".join(text.replace("\u2019", "'").split())
        attack_temperature = float(tab.get_attribute(FIGURE, "data-attack-temperature"))
        outcomes = {eps: tab.evaluate(_OUTCOMES_JS, [len(images), eps]) for eps in CLAIM_EPS}
    finally:
        tab.context.close()

    # "nineteen of the twenty images do not change at all ..., because their gradient is exactly zero"
    model = keras_view(shipped, figure)
    gradient, _ = attacks.input_gradient_function(model)(tf.constant(images), tf.constant(np.eye(10, dtype=np.float32)[labels]))
    zero = ~gradient.numpy().reshape(len(images), -1).any(axis=1)
    assert f"{NUMBER_WORDS[int(zero.sum())]} of the {NUMBER_WORDS[len(images)]} images do not change at all" in text, text
    for eps, rows in outcomes.items():
        unchanged = np.array([row["fgsm"]["changed"] == 0 for row in rows])
        assert (unchanged == zero).all(), f"eps {eps}: the page leaves images {np.flatnonzero(unchanged)} unchanged"
        # "the exception ... keeps a gradient, and FGSM fools it at every eps"
        fooled = [i for i, row in enumerate(rows) if row["fgsm"]["top"] != row["clean"]]
        assert fooled == list(np.flatnonzero(~zero)), f"eps {eps}: FGSM at T = 1 changes the predictions of {fooled}"
    exceptions = np.flatnonzero(~zero)
    # "the exception, the first airplane, whose true class's logit leads by only about 16"
    assert list(exceptions) == [0] and meta["images"][0]["class"] == "airplane" and "the first airplane" in text
    logits = evaluation.predict_probabilities(models.logits_model(shipped(figure.model)), images[:1])[0]
    lead = logits[labels[0]] - np.delete(logits, labels[0]).max()
    assert f"leads by only about {round(float(lead))}," in text, f"the lead is {lead:.1f}"
    # "Random-sign noise does change the image, and from eps 0.02 on it fools the student on
    # more of the twenty images than FGSM does"
    claimed = float(re.search(r"from eps (0\.\d+) on it fools the student", text).group(1))
    for eps, rows in outcomes.items():
        assert all(row["noise"]["changed"] >= 0.9 * row["noise"]["values"] for row in rows)
        by_noise = sum(row["noise"]["top"] != row["clean"] for row in rows)
        by_fgsm = sum(row["fgsm"]["top"] != row["clean"] for row in rows)
        if eps >= claimed:
            assert by_noise > by_fgsm, f"eps {eps}: noise fools the student on {by_noise}, FGSM on {by_fgsm}"
    # "FGSM with the gradient taken at T = 50 ... changes most predictions at eps 0.01 and
    # nearly all from 0.02 on" (most: over half; nearly all: at least four in five)
    assert attack_temperature == figure.attack_temperature and f"taken at T = {attack_temperature:g}" in text
    assert "changes most predictions at eps 0.01 and nearly all from 0.02 on" in text
    for eps, rows in outcomes.items():
        share = np.mean([row["attack"]["top"] != row["clean"] for row in rows])
        assert share >= 0.8 if eps >= 0.02 else share > 0.5, f"eps {eps}: the gradient at T = 50 changes {share:.0%}"

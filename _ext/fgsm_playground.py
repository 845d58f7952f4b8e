"""Sphinx extension: the book's live FGSM figures, and a site that needs no network.

``{fgsm-playground}`` (a directive used in a Markdown cell, at most once per page) emits a
figure that runs a shipped model in the reader's browser with TensorFlow.js
(``playground_static/fgsm_playground.js``): pick a test image, move eps from 0 to 0.1,
switch between FGSM and random-sign noise. Without JavaScript the reader sees its
static fallback (an image drawn at build time) and its caption. Its options, all optional
(without any, chapter 3's figure of the baseline)::

    ```{fgsm-playground}
    :model: dd_student_t50            a registry model shipped with the full profile
    :temperature: 1                   the softmax temperature it is read at (default: its own)
    :attack-temperature: 50           adds a switch: FGSM's gradient taken at this temperature
    :image: 1                         the bundled image (0-19) it opens on and its fallback shows
    :model-name: the student at T = 1 how the figure's text names the model
    :alt: ...                         the static fallback's text alternative

    The caption (Markdown), if not chapter 3's.
    ```

A build whose pages use the figure or the local MathJax (``mathjax_path`` in ``_config.yml``)
also, at its end,

* installs the npm packages of ``package.json``/``package-lock.json`` with ``npm ci`` into
  ``<build>/npm`` (beside the site, not in the source tree), when the lock file changed;
* copies TensorFlow.js (its ES2017 bundle; the page uses the CPU backend) and MathJax 3 from there into
  the site's ``_static/`` (``_config.yml`` points ``mathjax_path`` at the copy), so no page
  loads a script, font or style from another site;
* runs ``tools/playground_export.py`` to write the weights of the models the figures use,
  20 test images and each figure's fallback image into ``_static/playground/`` (skipped
  when its inputs are unchanged).

A missing ``npm`` or a failed export stops the build with a message saying what to do.
Enabled in ``_config.yml`` under ``sphinx: local_extensions``.
"""

from __future__ import annotations

import hashlib
import html
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.osutil import relative_uri

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STATIC_SOURCE = HERE / "playground_static"
EXPORTER = ROOT / "tools" / "playground_export.py"
PLAYGROUND_DIR = "playground"  # under the site's _static/
# What the site serves from node_modules: (package path, files or folders, target under _static/).
# The full TensorFlow.js bundle: the smaller tfjs-core bundle lacks the gradients FGSM needs.
TFJS_FILES = ("@tensorflow/tfjs/dist/tf.es2017.min.js",)
MATHJAX_ENTRY = "tex-mml-chtml.js"
# MathJax loads fonts, TeX extensions, its menu and speech rules on demand from these.
MATHJAX_FOLDERS = ("a11y", "adaptors", "input", "output", "sre", "ui")
ANCHOR = "fgsm-playground"
SHIPPED_WEIGHTS = ROOT / "advlib" / "pretrained" / "full"


def _load_exporter():
    # The exporter's file layout (tools/playground_export.py) without importing advlib or
    # TensorFlow into Sphinx: the module imports only numpy at its top.
    spec = importlib.util.spec_from_file_location("_fgsm_playground_export", EXPORTER)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


exporter = _load_exporter()

# Chapter 3's figure, the directive's defaults. Its fallback shows the first bundled image,
# which is always an airplane (images go class by class), so no number is claimed here.
DEFAULT_MODEL_NAME = "the baseline"
DEFAULT_ALT = (
    "A CIFAR-10 test image of an airplane, then the same image after FGSM at eps 0.01 and 0.05, each "
    "titled with the baseline's predicted class and its probability. At eps 0.01 the change cannot be seen."
)
DEFAULT_CAPTION = """FGSM on the book's baseline, live in your browser. The network of
Table 1 with the shipped weights runs on this page (TensorFlow.js); the attack is the chapter's FGSM,
the step along the sign of the gradient of the clipped cross-entropy of the softmax output. Move eps
and the perturbed image and the ten class probabilities follow; the switch replaces FGSM by random-sign
noise of the same size, the chapter's control."""


class playground_node(nodes.General, nodes.Element):
    """The figure; its attributes are the directive's options, its children the caption."""


def positive_temperature(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{text!r} is not a number: give a positive temperature such as 1 or 50") from None
    if not (value > 0 and value < float("inf")):
        raise ValueError(f"{text!r}: a temperature must be positive and finite, such as 1 or 50")
    return value


def bundled_image(text):
    value = directives.nonnegative_int(text)
    if value >= exporter.IMAGE_COUNT:
        raise ValueError(f"{value}: the figure bundles {exporter.IMAGE_COUNT} images, numbered 0 to {exporter.IMAGE_COUNT - 1}")
    return value


class FgsmPlayground(SphinxDirective):
    has_content = True
    option_spec = {
        "model": directives.unchanged_required,
        "temperature": positive_temperature,
        "attack-temperature": positive_temperature,
        "image": bundled_image,
        "model-name": directives.unchanged_required,
        "alt": directives.unchanged_required,
    }

    def run(self):
        pages = _pages(self.env)
        if self.env.docname in pages:
            raise self.error("a page can hold one {fgsm-playground} only (the figure's script and its "
                             f"anchor #{ANCHOR} are per page); remove the second one")
        model = self.options.get("model", exporter.DEFAULT_MODEL)
        if not sorted(SHIPPED_WEIGHTS.glob(f"{model}-*.weights.h5")):
            shipped = sorted({path.name.split("-")[0] for path in SHIPPED_WEIGHTS.glob("*.weights.h5")})
            raise self.error(f":model: {model!r} has no weights shipped with the full profile "
                             f"(advlib/pretrained/full); choose one of {', '.join(shipped)}")
        figure = exporter.Figure(model, self.options.get("temperature"), self.options.get("image", 0))
        pages[self.env.docname] = figure.spec()
        node = playground_node(
            model=model, temperature=figure.temperature, image=figure.image,
            attack_temperature=self.options.get("attack-temperature"),
            model_name=self.options.get("model-name", DEFAULT_MODEL_NAME),
            alt=self.options.get("alt", DEFAULT_ALT), fallback=figure.fallback_name())
        caption = nodes.container(classes=["advlib-playground-caption"], ids=[f"{ANCHOR}-caption"])
        if self.content:
            self.state.nested_parse(self.content, self.content_offset, caption)
        else:
            caption += nodes.paragraph(text=DEFAULT_CAPTION.replace("\n", " "))
        node += caption
        return [node]


def _pages(env) -> dict:
    """``{docname: figure spec}`` of the documents holding a figure (kept in the environment
    across incremental builds); a spec is the exporter's ``--figure`` argument."""
    if not isinstance(getattr(env, "fgsm_playground_pages", None), dict):
        env.fgsm_playground_pages = {}
    return env.fgsm_playground_pages


def purge_page(app, env, docname):
    _pages(env).pop(docname, None)


def merge_pages(app, env, docnames, other):
    _pages(env).update({name: spec for name, spec in _pages(other).items() if name in docnames})


def visit_playground_html(self, node):
    base = relative_uri(self.builder.get_target_uri(self.builder.current_docname), f"_static/{PLAYGROUND_DIR}/")
    self.body.append(markup(base, node))


def depart_playground_html(self, node):
    self.body.append("</div>\n")


def skip_node(self, node):
    raise nodes.SkipNode


def markup(base: str, node) -> str:
    """The figure's HTML up to its caption (which the node's children give); ``base`` is the
    relative URL of ``_static/playground/``.

    A ``div`` with ``role="figure"``, not a ``<figure>``: the book numbers every ``<figure>``
    of a chapter (tools/browser_check.py), and numbering this one would shift the numbers
    of the chapter's other figures away from those of the Colab edition, which has no
    live figure.
    """
    def attribute(value) -> str:
        return html.escape(str(value), quote=True)

    model, name = node["model"], attribute(node["model_name"])
    data = {"playground": base, "model": model, "image": node["image"], "model-name": node["model_name"]}
    if node["temperature"] is not None:
        data["temperature"] = f"{node['temperature']:g}"
    attack_switch = ""
    if node["attack_temperature"] is not None:
        data["attack-temperature"] = f"{node['attack_temperature']:g}"
        attack_switch = (f'<label><input type="checkbox" role="switch" class="advlib-playground-attack"> FGSM with '
                         f"the gradient taken at T = {node['attack_temperature']:g}</label>\n")
    data_attributes = " ".join(f'data-{key}="{attribute(value)}"' for key, value in data.items())
    canvas = ('<div class="advlib-playground-panel"><canvas width="32" height="32" role="img" aria-label="{label}">'
              "</canvas><span>{label}</span></div>")
    return f"""
<div class="advlib-playground" id="{ANCHOR}" role="figure" aria-labelledby="{ANCHOR}-caption" {data_attributes}>
<div class="advlib-playground-fallback">
<img src="{attribute(base + model + '/' + node['fallback'])}" alt="{attribute(node['alt'])}" width="660" height="260">
<p>This is the static version of an interactive figure; it needs JavaScript to run live.</p>
</div>
<div class="advlib-playground-live" hidden>
<div class="advlib-playground-controls">
<label>Test image <select></select></label>
<label>eps <input type="range" min="0" max="0.1" step="0.001" value="0.01"> <output class="advlib-playground-eps"></output></label>
<label><input type="checkbox" role="switch" class="advlib-playground-noise"> random-sign noise instead of FGSM</label>
{attack_switch}</div>
<div class="advlib-playground-images">
{canvas.format(label="the clean image")}
{canvas.format(label="the perturbation, stretched to be visible")}
{canvas.format(label="the perturbed image")}
<div class="advlib-playground-bars" role="group" aria-label="the class probabilities of {name}"></div>
</div>
<p class="advlib-playground-status" aria-live="polite"></p>
</div>
<p class="advlib-playground-error" role="alert" hidden></p>
"""


def add_page_assets(app, pagename, templatename, context, doctree):
    if app.builder.format != "html" or doctree is None or not any(doctree.findall(playground_node)):
        return
    app.add_css_file("fgsm_playground.css")
    # Deferred scripts run in order: TensorFlow.js before the figure's script.
    for path in (*(f"vendor/tfjs/{Path(name).name}" for name in TFJS_FILES), "fgsm_playground.js"):
        app.add_js_file(path, loading_method="defer")


# ---- npm packages, MathJax and TensorFlow.js in the site ---------------------------


def _digest(*parts: bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(hashlib.sha256(part).digest())
    return hasher.hexdigest()


def npm_install(root: Path, npm_dir: Path) -> Path:
    """``npm ci`` the repository's lock file into ``npm_dir``; return its node_modules."""
    package, lock = root / "package.json", root / "package-lock.json"
    if not package.is_file() or not lock.is_file():
        raise ExtensionError(f"fgsm_playground: {package.name} and {lock.name} must be in the repository's root")
    stamp = npm_dir / ".installed"
    key = _digest(package.read_bytes(), lock.read_bytes())
    modules = npm_dir / "node_modules"
    if stamp.is_file() and stamp.read_text() == key and modules.is_dir():
        return modules
    npm = shutil.which("npm")
    if npm is None:
        raise ExtensionError("fgsm_playground: `npm` is not on PATH. The site serves TensorFlow.js and MathJax "
                             "from npm packages: install Node.js and npm (e.g. apt-get install npm) and build again.")
    npm_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(package, npm_dir / package.name)
    shutil.copyfile(lock, npm_dir / lock.name)
    logger.info("fgsm_playground: npm ci (TensorFlow.js, MathJax, axe-core)")
    result = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=npm_dir, capture_output=True, text=True)
    if result.returncode != 0:
        raise ExtensionError(f"fgsm_playground: `npm ci` failed (exit {result.returncode}); is the npm registry "
                             f"reachable?\n{result.stderr[-2000:]}")
    stamp.write_text(key)
    return modules


def copy_vendor(modules: Path, static: Path, *, tfjs=True, mathjax=True) -> None:
    for name in TFJS_FILES if tfjs else ():
        _copy(modules / name, static / "vendor" / "tfjs" / Path(name).name)
    if not mathjax:
        return
    mathjax = modules / "mathjax" / "es5"
    _copy(mathjax / MATHJAX_ENTRY, static / "mathjax" / MATHJAX_ENTRY)
    for folder in MATHJAX_FOLDERS:
        shutil.copytree(mathjax / folder, static / "mathjax" / folder, dirs_exist_ok=True)


def _copy(source: Path, target: Path) -> None:
    if not source.is_file():
        raise ExtensionError(f"fgsm_playground: {source.name} is missing from the npm packages; "
                             "delete the build's npm folder and build again")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def export_playground(out: Path, figures) -> None:
    """Run tools/playground_export.py into ``out`` for ``figures`` (``--figure`` specs)
    unless its inputs are those of the last run."""
    figures = sorted(set(figures))
    models = sorted({figure.split(":")[0] for figure in figures})
    weights = [path for model in models for path in sorted(SHIPPED_WEIGHTS.glob(f"{model}-*.weights.h5"))]
    data = os.environ.get("ADVLIB_CIFAR10", "")
    # The stamp holds digests only: no path of this machine may reach the site.
    key = _digest(EXPORTER.read_bytes(), *(path.read_bytes() for path in weights), data.encode(),
                  "\n".join(figures).encode())
    stamp = out / ".exported"
    if stamp.is_file() and stamp.read_text() == key:
        return
    logger.info(f"fgsm_playground: exporting the weights of {', '.join(models)} and 20 test images")
    arguments = [argument for figure in figures for argument in ("--figure", figure)]
    result = subprocess.run([sys.executable, str(EXPORTER), str(out), *arguments], capture_output=True, text=True)
    if result.returncode != 0:
        raise ExtensionError(f"fgsm_playground: tools/playground_export.py failed (exit {result.returncode}):\n"
                             f"{result.stderr[-3000:]}")
    stamp.write_text(key)


def finish(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    # Only what the site uses: a book (such as the tiny ones the tests build) with neither
    # the figure nor the local MathJax needs no npm.
    figure, mathjax = bool(_pages(app.env)), app.config.mathjax_path == f"mathjax/{MATHJAX_ENTRY}"
    if not (figure or mathjax):
        return
    modules = npm_install(ROOT, _npm_dir(app))
    static = Path(app.outdir) / "_static"
    copy_vendor(modules, static, tfjs=figure, mathjax=mathjax)
    if figure:
        export_playground(static / PLAYGROUND_DIR, _pages(app.env).values())


def _npm_dir(app) -> Path:
    # Beside the site (<book root>/_build/npm), so each profile's build has its own copy.
    return Path(app.outdir).parent / "npm"


def setup(app):
    app.add_directive("fgsm-playground", FgsmPlayground)
    app.add_node(playground_node, html=(visit_playground_html, depart_playground_html), latex=(skip_node, None),
                 text=(skip_node, None), man=(skip_node, None), texinfo=(skip_node, None))
    app.connect("config-inited", lambda app, config: config.html_static_path.append(str(STATIC_SOURCE)))
    app.connect("env-purge-doc", purge_page)
    app.connect("env-merge-info", merge_pages)
    app.connect("html-page-context", add_page_assets)
    app.connect("build-finished", finish)
    # env_version: bump it whenever markup() changes, so that Sphinx re-reads and rewrites
    # the pages holding the figure (it does not notice an edited extension by itself).
    return {"version": "1", "env_version": 5, "parallel_read_safe": True, "parallel_write_safe": True}

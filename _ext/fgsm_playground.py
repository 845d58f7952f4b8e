"""Sphinx extension: the live FGSM figure of chapter 3, and a site that needs no network.

``{fgsm-playground}`` (a directive with no arguments, used in a Markdown cell) emits a
figure that runs the shipped baseline in the reader's browser with TensorFlow.js
(``playground_static/fgsm_playground.js``): pick a test image, move eps from 0 to 0.1,
switch between FGSM and random-sign noise. Without JavaScript the reader sees its
static fallback (an image drawn at build time) and its caption.

A build whose pages use the figure or the local MathJax (``mathjax_path`` in ``_config.yml``)
also, at its end,

* installs the npm packages of ``package.json``/``package-lock.json`` with ``npm ci`` into
  ``<build>/npm`` (beside the site, not in the source tree), when the lock file changed;
* copies TensorFlow.js (its ES2017 bundle; the page uses the CPU backend) and MathJax 3 from there into
  the site's ``_static/`` (``_config.yml`` points ``mathjax_path`` at the copy), so no page
  loads a script, font or style from another site;
* runs ``tools/playground_export.py`` to write the baseline's weights, 20 test images and
  the fallback image into ``_static/playground/`` (skipped when its inputs are unchanged).

A missing ``npm`` or a failed export stops the build with a message saying what to do.
Enabled in ``_config.yml`` under ``sphinx: local_extensions``.
"""

from __future__ import annotations

import hashlib
import html
import os
import shutil
import subprocess
import sys
from pathlib import Path

from docutils import nodes
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
# The static fallback's alt text. tools/playground_export.py draws the first bundled image,
# which is always an airplane (images go class by class), so no number is claimed here.
TEXT_ALTERNATIVE = (
    "A CIFAR-10 test image of an airplane, then the same image after FGSM at eps 0.01 and 0.05, each "
    "titled with the baseline's predicted class and its probability. At eps 0.01 the change cannot be seen."
)


class playground_node(nodes.General, nodes.Element):
    pass


class FgsmPlayground(SphinxDirective):
    has_content = False

    def run(self):
        _pages(self.env).add(self.env.docname)
        return [playground_node()]


def _pages(env) -> set:
    """The documents holding the figure (kept in the environment across incremental builds)."""
    if not hasattr(env, "fgsm_playground_pages"):
        env.fgsm_playground_pages = set()
    return env.fgsm_playground_pages


def purge_page(app, env, docname):
    _pages(env).discard(docname)


def merge_pages(app, env, docnames, other):
    _pages(env).update(_pages(other) & set(docnames))


def visit_playground_html(self, node):
    base = relative_uri(self.builder.get_target_uri(self.builder.current_docname), f"_static/{PLAYGROUND_DIR}/")
    self.body.append(markup(base))
    raise nodes.SkipNode


def skip_node(self, node):
    raise nodes.SkipNode


def markup(base: str) -> str:
    """The figure's HTML; ``base`` is the relative URL of ``_static/playground/``.

    A ``div`` with ``role="figure"``, not a ``<figure>``: the book numbers every ``<figure>``
    of a chapter (tools/browser_check.py), and numbering this one would shift the numbers
    of the chapter's other figures away from those of the Colab edition, which has no
    live figure.
    """
    base = html.escape(base, quote=True)
    canvas = ('<div class="advlib-playground-panel"><canvas width="32" height="32" role="img" aria-label="{label}">'
              "</canvas><span>{label}</span></div>")
    return f"""
<div class="advlib-playground" id="{ANCHOR}" role="figure" aria-labelledby="{ANCHOR}-caption" data-playground="{base}">
<div class="advlib-playground-fallback">
<img src="{base}fallback.png" alt="{html.escape(TEXT_ALTERNATIVE, quote=True)}" width="660" height="260">
<p>This is the static version of an interactive figure; it needs JavaScript to run live.</p>
</div>
<div class="advlib-playground-live" hidden>
<div class="advlib-playground-controls">
<label>Test image <select></select></label>
<label>eps <input type="range" min="0" max="0.1" step="0.001" value="0.01"> <output class="advlib-playground-eps"></output></label>
<label><input type="checkbox" role="switch"> random-sign noise instead of FGSM</label>
</div>
<div class="advlib-playground-images">
{canvas.format(label="the clean image")}
{canvas.format(label="the perturbation, stretched to be visible")}
{canvas.format(label="the perturbed image")}
<div class="advlib-playground-bars" role="group" aria-label="the baseline's class probabilities"></div>
</div>
<p class="advlib-playground-status" aria-live="polite"></p>
</div>
<p class="advlib-playground-error" role="alert" hidden></p>
<p class="advlib-playground-caption" id="{ANCHOR}-caption">FGSM on the book's baseline, live in your browser. The network of
Table 1 with the shipped weights runs on this page (TensorFlow.js); the attack is the chapter's FGSM,
the step along the sign of the gradient of the clipped cross-entropy of the softmax output. Move eps
and the perturbed image and the ten class probabilities follow; the switch replaces FGSM by random-sign
noise of the same size, the chapter's control.</p>
</div>
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


def export_playground(out: Path) -> None:
    """Run tools/playground_export.py into ``out`` unless its inputs are those of the last run."""
    weights = sorted((ROOT / "advlib" / "pretrained" / "full").glob("baseline-*.weights.h5"))
    data = os.environ.get("ADVLIB_CIFAR10", "")
    # The stamp holds digests only: no path of this machine may reach the site.
    key = _digest(EXPORTER.read_bytes(), *(path.read_bytes() for path in weights), data.encode())
    stamp = out / ".exported"
    if stamp.is_file() and stamp.read_text() == key:
        return
    logger.info("fgsm_playground: exporting the baseline's weights and 20 test images")
    result = subprocess.run([sys.executable, str(EXPORTER), str(out)], capture_output=True, text=True)
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
        export_playground(static / PLAYGROUND_DIR)


def _npm_dir(app) -> Path:
    # Beside the site (<book root>/_build/npm), so each profile's build has its own copy.
    return Path(app.outdir).parent / "npm"


def setup(app):
    app.add_directive("fgsm-playground", FgsmPlayground)
    app.add_node(playground_node, html=(visit_playground_html, None), latex=(skip_node, None),
                 text=(skip_node, None), man=(skip_node, None), texinfo=(skip_node, None))
    app.connect("config-inited", lambda app, config: config.html_static_path.append(str(STATIC_SOURCE)))
    app.connect("env-purge-doc", purge_page)
    app.connect("env-merge-info", merge_pages)
    app.connect("html-page-context", add_page_assets)
    app.connect("build-finished", finish)
    # env_version: bump it whenever markup() changes, so that Sphinx re-reads and rewrites
    # the pages holding the figure (it does not notice an edited extension by itself).
    return {"version": "1", "env_version": 4, "parallel_read_safe": True, "parallel_write_safe": True}

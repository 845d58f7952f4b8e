"""pytest configuration for running the book's notebooks with nbval.

``make test`` runs ``pytest --nbval-lax --nbval-current-env book/``: every notebook
cell must run without an error, and only cells marked ``# NBVAL_CHECK_OUTPUT`` have
their outputs compared with the ones stored in the notebook. nbval also fails a cell
that has stored outputs but no execution count, so commit notebooks either executed or
with their outputs cleared.
"""

import os

# Outputs nbval never compares, added to nbval's own list (metadata, execution counts,
# PNG/JPEG images, ...). TensorFlow and Keras write progress bars, warnings and
# device logs to stderr that differ from run to run and machine to machine, and rich
# HTML/JS/SVG reprs embed ids and floating-point noise; a checked cell's plain-text
# output is still compared.
NBVAL_SKIP_COMPARE = (
    "stderr",
    "application/javascript",
    "text/html",
    "image/png",
    "image/jpeg",
    "image/svg+xml",
)


def pytest_configure(config):
    # Inherited by the kernels nbval starts.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_collectstart(collector):
    # nbval's notebook collector (nbval.plugin.IPyNbFile) sets ``skip_compare`` in its
    # constructor and its cells read ``self.parent.skip_compare`` when they compare
    # outputs; this hook runs after construction and before the cells are collected.
    skip = getattr(collector, "skip_compare", None)
    if isinstance(skip, tuple):
        collector.skip_compare = skip + tuple(k for k in NBVAL_SKIP_COMPARE if k not in skip)

# Build the advlib book and run its tests; see README.md.
#
#   make book   build the site into _build/html (the main job)
#   make test   build the book with the quick profile, then run tests/ (including the
#               headless-browser check of the built pages) and the notebooks under nbval
#   make venv   only create/update .venv
#   make clean  remove build output, screenshots and caches (keeps .venv)
#
# Every target sets up .venv itself, so a fresh machine needs only Python 3.11.

SHELL := /bin/bash
.DEFAULT_GOAL := book

VENV := .venv
PY := $(VENV)/bin/python
JUPYTER_BOOK := $(VENV)/bin/jupyter-book
STAMP := $(VENV)/.installed
# The interpreter that creates .venv: python3.11 if there is one, else python3.
BOOTSTRAP_PYTHON := $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)

# nbgrader lives in a venv of its own: its dependencies (JupyterLab, widgets) stay out of
# the book's environment, where they could change how notebooks render.
NBGRADER_VENV := .venv-nbgrader
NBGRADER_BIN := $(NBGRADER_VENV)/bin/nbgrader

# Where the book is built depends on the advlib profile (ADVLIB_PROFILE, default full).
# The full book goes to _build/html. Any other profile (make test uses quick) builds into
# _build/profile-<name>/_build/html with its own notebook execution cache: jupyter-cache
# keys on the notebooks' code only, so sharing one cache would let outputs of a quick
# run end up in the full book.
PROFILE = $(or $(ADVLIB_PROFILE),full)
BOOK_ROOT = $(if $(filter full,$(PROFILE)),.,_build/profile-$(PROFILE))
BOOK_HTML = $(BOOK_ROOT)/_build/html
# -W: any Sphinx/MyST-NB warning (missing file or reference, unknown glue key, failed
# notebook cell, ...) fails the build; --keep-going reports all of them first.
BOOK_FLAGS := --warningiserror --keep-going

# Two pytest workers (pytest-xdist), each test file (or notebook) in one worker, so that
# module fixtures are built once. Most tests and notebook cells attack tiny models, where
# one process leaves the second core idle. PYTEST_PARALLEL= (empty) runs in one process.
PYTEST_PARALLEL ?= -n 2 --dist loadfile

.PHONY: venv book test clean browser npm course nbgrader

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@if [ ! -x $(PY) ]; then \
	  if [ -z "$(BOOTSTRAP_PYTHON)" ]; then echo "Need python3.11 (or python3) on PATH." >&2; exit 1; fi; \
	  echo "Creating $(VENV) with $(BOOTSTRAP_PYTHON)"; \
	  $(BOOTSTRAP_PYTHON) -m venv $(VENV); \
	fi
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -r requirements.txt -e .
	touch $@

book: $(STAMP) npm
	$(JUPYTER_BOOK) build . --path-output $(BOOK_ROOT) $(BOOK_FLAGS)

# The tests use the quick profile unless ADVLIB_PROFILE is already set. The book is
# built first so that tests/book/test_pages_in_browser.py can check the pages it produces. Last,
# nbval runs the classroom edition's instructor notebooks: every chapter's cells and
# every exercise solution, in a fresh kernel each (the build has already executed the
# chapters themselves, with -W turning any error into a failure).
test: export ADVLIB_PROFILE ?= quick
# The project's local CIFAR-10 copy beside the repository (../shared), when there is one
# and ADVLIB_CIFAR10 is unset; otherwise advlib downloads the official set.
test: export ADVLIB_CIFAR10 ?= $(if $(wildcard ../shared/data/cifar10-jpeg),$(abspath ../shared/data/cifar10-jpeg))
# tests/tools/test_course.py compares the classroom edition with nbgrader's own output.
test: export NBGRADER ?= $(abspath $(NBGRADER_BIN))
test: $(STAMP) browser $(NBGRADER_BIN)
	$(MAKE) --no-print-directory book
	ADVLIB_BOOK_HTML=$(BOOK_HTML) $(PY) -m pytest tests $(PYTEST_PARALLEL) --durations=15
	$(MAKE) --no-print-directory course
	$(PY) -m pytest --nbval-lax --nbval-current-env $(PYTEST_PARALLEL) course/instructor/

$(NBGRADER_BIN):
	$(BOOTSTRAP_PYTHON) -m venv $(NBGRADER_VENV)
	$(NBGRADER_VENV)/bin/pip install --quiet "nbgrader==0.9.6"

# The classroom edition: per chapter an instructor notebook (solutions between nbgrader's
# BEGIN/END SOLUTION markers, hidden tests) and a student notebook (both stripped), written
# to course/instructor and course/student by tools/course.py, with an nbgrader course folder
# (course/nbgrader_config.py, course/source/, a grading kernel spec); generated, not committed.
course: $(STAMP)
	$(PY) tools/course.py --out course

# nbgrader for grading the course (book/instructors.md): `make nbgrader`, then
# `source .venv-nbgrader/bin/activate` and run nbgrader in course/.
nbgrader: $(NBGRADER_BIN)

# The build copies TensorFlow.js and MathJax from npm into the site (_ext/fgsm_playground.py,
# `npm ci` on package-lock.json): install npm when it is missing and apt-get can (as root,
# e.g. in CI); otherwise the build stops and says what to do.
npm:
	@if ! command -v npm >/dev/null; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y npm; \
	  else echo "No npm: install Node.js and npm (apt-get install npm) to build the book." >&2; fi; \
	fi

# The browser tests need Debian's Chromium (and make needs nothing else): install it when
# it is missing and apt-get can (as root, e.g. in CI); otherwise the tests say what to do.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	  else echo "No /usr/bin/chromium: install Debian's chromium for the browser tests (apt-get install chromium)." >&2; fi; \
	fi

clean:
	rm -rf _build artifacts .pytest_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

"""The run of a full build, saved for the edition: ``colab/_book_run/NN_*.json``.

``extract`` reads the executed notebooks of a full Jupyter Book build
(``BUILD_DIR/_build/jupyter_execute/book/NN_*.ipynb``; BUILD_DIR is what was given to
``jupyter-book build --path-output``, or the repository root after ``make book``) and the
glue values MyST-NB keeps beside them (``NN_*.glue.json``), and saves per chapter, keyed
by cell id, the glued values as displayed and each code cell's outputs. Text naming the
build machine (absolute paths, the host name) is replaced, and the command fails if any
is left.
"""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path

import nbformat

from . import EditionError
from .layout import BOOK_DIR, OUT_DIR, ROOT, RUN_DIR, cell_key, chapters, joined, source_hash

# Text that names a build machine; ``extract`` fails if any is left after redaction.
DATA_URI_RE = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]*")
MACHINE_RE = re.compile(r"(?<![\w.])(/tmp|/work|/root|/home/|/Users/|/private/|/var/folders|/opt/)|[A-Za-z]:\\\\")


def _redactions(root: Path, book_root: Path | None, build_dir: Path) -> list[tuple[str, str]]:
    """(text, replacement) pairs for paths of the build machine, longest first."""
    pairs = []
    cifar = os.environ.get("ADVLIB_CIFAR10")
    if cifar:
        pairs.append((str(Path(cifar)), Path(cifar).name))
    for variable in ("ADVLIB_RESULTS", "ADVLIB_CACHE_DIR"):
        if os.environ.get(variable):
            pairs.append((str(Path(os.environ[variable])), f"${variable}"))
    for checkout in {book_root, root.resolve()}:
        if checkout is not None:
            pairs.append((str(checkout) + "/", ""))
            pairs.append((str(checkout), "."))
    pairs.append((str(build_dir.resolve()), "$BUILD_DIR"))
    home = os.path.expanduser("~")
    if home not in ("", "/"):
        pairs.append((home, "~"))
    pairs = [(old, new) for old, new in pairs if len(old) > 1]
    return sorted(set(pairs), key=lambda pair: -len(pair[0]))


def _redact(value, pairs):
    if isinstance(value, str):
        for old, new in pairs:
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_redact(item, pairs) for item in value]
    if isinstance(value, dict):
        return {key: (item if _is_binary(key) else _redact(item, pairs)) for key, item in value.items()}
    return value


def _is_binary(mime: str) -> bool:
    return mime.startswith("image/") and mime != "image/svg+xml"


def machine_text(value, where: str = "", host: str | None = None) -> list[str]:
    """Every piece of text in ``value`` (JSON-like) that names a build machine (or ``host``)."""
    found = []
    if isinstance(value, str):
        value = DATA_URI_RE.sub("data:...", value)  # base64 can contain anything
        pattern = MACHINE_RE if not host else re.compile(rf"{MACHINE_RE.pattern}|\b{re.escape(host)}\b")
        for match in pattern.finditer(value):
            start = max(match.start() - 40, 0)
            found.append(f"{where}: ...{value[start:match.end() + 40]!r}...")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += machine_text(item, f"{where}[{index}]", host)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not _is_binary(str(key)):
                found += machine_text(item, f"{where}.{key}", host)
    return found


def _clean_outputs(outputs) -> list[dict]:
    """Outputs as the book shows them: no stderr (stderr_output: remove), merged streams."""
    cleaned: list[dict] = []
    for output in outputs:
        output = json.loads(json.dumps(output))  # a plain-dict copy
        if output.get("output_type") == "stream":
            if output.get("name") == "stderr":
                continue
            output["text"] = joined(output["text"])
            if cleaned and cleaned[-1].get("output_type") == "stream" and cleaned[-1]["name"] == output["name"]:
                cleaned[-1]["text"] += output["text"]
                continue
        if "data" in output:
            output["data"] = {mime: joined(value) if not isinstance(value, dict) else value
                              for mime, value in output["data"].items()}
            if any(mime.startswith("application/papermill.record/") for mime in output["data"]):
                continue  # an undisplayed glue value: kept under "glue"
        cleaned.append(output)
    return cleaned


def _executed(executed_path: Path, source, build_dir: Path):
    """The executed notebook of a build: the jupyter-cache's execution, else its jupyter_execute copy.

    The cache holds each cell's outputs as the kernel produced them. The jupyter_execute
    copy is not raw: MyST-NB writes a chapter it took from its cache there without
    outputs, and in a chapter it executed, ``nb_merge_streams`` joins a cell's stdout into
    the first stream but leaves the later streams in place, so that copy prints them
    twice. The cache's execution is matched to the chapter's code by the cache's own
    hash; a chapter the cache has never run falls back to the copy (and an empty copy
    makes the checks below name its cells).
    """
    for cache_dir in (build_dir / "_build" / ".jupyter_cache", build_dir / ".jupyter_cache"):
        if cache_dir.is_dir():
            from jupyter_cache import get_cache

            try:
                _, merged = get_cache(str(cache_dir)).merge_match_into_notebook(source)
            except KeyError:  # no cached execution of this code
                break
            return merged
    return nbformat.read(executed_path, as_version=4)


def extract(build_dir: Path, root: Path = ROOT, book_root: Path | None = None) -> list[Path]:
    """Save the glue values and code outputs of a full build's executed notebooks."""
    candidates = [build_dir / "_build" / "jupyter_execute", build_dir / "jupyter_execute"]
    executed_dir = next((path / BOOK_DIR for path in candidates if (path / BOOK_DIR).is_dir()), None)
    if executed_dir is None:
        raise EditionError(f"no executed notebooks under {build_dir}: expected "
                           f"{candidates[0] / BOOK_DIR} (build the FULL book first)")
    host = socket.gethostname().split(".")[0]
    host = host if len(host) >= 3 and host != "localhost" else None  # too short to search for
    pairs = _redactions(root, book_root, build_dir)
    runs = {}
    # The chapters as the build ran them (its own checkout when --book-root names one).
    for source_path in chapters((book_root or root) / BOOK_DIR):
        chapter = source_path.stem
        executed_path = executed_dir / source_path.name
        glue_path = executed_dir / f"{chapter}.glue.json"
        if not executed_path.exists():
            raise EditionError(f"{executed_path} is missing: extract needs a full build of every chapter")
        source = nbformat.read(source_path, as_version=4)
        executed = _executed(executed_path, source, build_dir)
        if len(source.cells) != len(executed.cells):
            raise EditionError(f"{chapter}: the build has {len(executed.cells)} cells, {source_path} has "
                               f"{len(source.cells)}: rebuild the full book from these sources")
        cells = {}
        for index, (cell, ran) in enumerate(zip(source.cells, executed.cells)):
            if cell.cell_type != "code":
                continue
            if ran.cell_type != "code" or ran.source != cell.source:
                raise EditionError(f"{chapter}: code cell {cell_key(cell, index)} differs between the "
                                   f"build and {source_path}: rebuild the full book from these sources")
            tags = cell.metadata.get("tags", [])
            errors = [output for output in ran.get("outputs", []) if output.get("output_type") == "error"]
            if cell.source.strip() and (ran.get("execution_count") is None or errors) and "raises-exception" not in tags:
                what = f"raised {errors[0].get('ename')}" if errors else "did not run (a timeout or an earlier error?)"
                raise EditionError(f"{chapter}: code cell {cell_key(cell, index)} {what} in the build: "
                                   "extract needs a complete full build without errors")
            cells[cell_key(cell, index)] = {
                "source_sha256": source_hash(cell.source),
                "execution_count": ran.get("execution_count"),
                "outputs": _clean_outputs(ran.get("outputs", [])),
            }
        glue = {}
        if glue_path.exists():
            for key, output in json.loads(glue_path.read_text()).items():
                glue[key] = {mime: joined(value) for mime, value in output.get("data", {}).items()}
        first_stdout = "".join(
            output.get("text", "") for output in next(iter(cells.values()), {}).get("outputs", [])
            if output.get("output_type") == "stream"
        )
        match = re.search(r"This run: profile '(\w+)'.*?; data: (.*)", first_stdout)
        if not match or match.group(1) != "full":
            raise EditionError(f"{chapter}: the build did not run the full profile "
                               f"({first_stdout.strip()[:200]!r}); build with ADVLIB_PROFILE=full")
        run = {"chapter": chapter, "profile": match.group(1), "data_source": match.group(2).strip(),
               "glue": glue, "cells": cells}
        run = _redact(run, pairs)
        problems = machine_text(run, chapter, host)
        if problems:
            raise EditionError("text naming the build machine would be saved:\n  " + "\n  ".join(problems[:20])
                               + "\nrun extract with the build's ADVLIB_CIFAR10, ADVLIB_RESULTS and ADVLIB_CACHE_DIR "
                               "(and --book-root for a build of another checkout) so that their paths are "
                               "replaced, or add a redaction in editions.extract._redactions")
        runs[chapter] = run
    out = root / OUT_DIR / RUN_DIR
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for stale in out.glob("*.json"):
        if stale.stem not in runs:
            stale.unlink()
    for chapter, run in runs.items():
        path = out / f"{chapter}.json"
        path.write_text(json.dumps(run, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
        written.append(path)
    return written


"""Readers of CIFAR-10 on disk: the official python and binary releases and image folders.

Each reader turns one accepted layout (see :mod:`advlib.data`) into uint8 images of shape
(N, 32, 32, 3) and int64 labels, and refuses anything else with the offending file named.
Python batches are unpickled by a restricted unpickler that resolves only the numpy
globals a batch is made of, archives are read in memory without extracting any member,
and images are decoded only when they already are 32x32 RGB. This module holds no cache
and never imports TensorFlow; :func:`advlib.data.cifar10.load_cifar10` is the entry point.
"""

import io
import os
import pickle
import posixpath
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

# Label i of every source names class CLASS_NAMES[i], in the order of the official release.
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer",
               "dog", "frog", "horse", "ship", "truck")

IMAGE_SHAPE = (32, 32, 3)

# Batch file names of each official release: (train batches, test batches).
BATCH_FILES = {
    "python": (tuple(f"data_batch_{index}" for index in range(1, 6)), ("test_batch",)),
    "binary": (tuple(f"data_batch_{index}.bin" for index in range(1, 6)), ("test_batch.bin",)),
}
_BINARY_RECORD_BYTES = 1 + 32 * 32 * 3
IMAGE_EXTENSIONS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}

_ACCEPTED_LAYOUTS = (
    "cifar-10-python.tar.gz, a cifar-10-batches-py/ directory (or its parent); "
    "cifar-10-binary.tar.gz, a cifar-10-batches-bin/ directory (or its parent); "
    "an image-folder tree with train/<class>/ and test/<class>/ folders of PNG or JPEG "
    f"files, class folders named {', '.join(CLASS_NAMES)}"
)


def _latin1_encode(text, encoding="latin1"):
    """Stand-in for ``_codecs.encode`` that only turns latin-1 text back into bytes.

    Python 3 writes ``bytes`` into protocol-2 pickles as ``_codecs.encode(str, 'latin1')``;
    admitting the real function would let a pickle call any codec, so only this is allowed.
    """
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1", "iso-8859-1"):
        raise pickle.UnpicklingError("only latin-1 encoding of text is allowed")
    return text.encode("latin1")


# The array reconstruction function is taken from numpy itself, so the loader never has
# to import the deprecated ``numpy.core`` module that pickles written by numpy 1.x name.
_ARRAY_RECONSTRUCT = np.ndarray((0,), np.uint8).__reduce__()[0]
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _ARRAY_RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _ARRAY_RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
}


class _RefusedGlobalError(ValueError):
    """Raised when a pickle asks for a global that CIFAR-10 batches never need."""


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the few globals a CIFAR-10 batch is made of."""

    def __init__(self, file, origin):
        super().__init__(file, encoding="bytes")
        self._origin = origin

    def find_class(self, module, name):
        allowed = _ALLOWED_GLOBALS.get((module, name))
        if allowed is None:
            raise _RefusedGlobalError(
                f"refusing to load '{module}.{name}' from {self._origin}: "
                "CIFAR-10 batches contain only numpy arrays and lists")
        return allowed


def _parse_python_batch(raw, origin):
    """Decode one pickled batch (bytes) into uint8 images (N, 32, 32, 3) and int64 labels (N,)."""
    try:
        batch = _RestrictedUnpickler(io.BytesIO(raw), origin).load()
    except _RefusedGlobalError:
        raise
    except Exception as error:  # Any failure inside a corrupt pickle means the same thing.
        raise ValueError(f"cannot read CIFAR-10 python batch {origin}: {error!r}") from error
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        found = sorted(map(repr, batch)) if isinstance(batch, dict) else type(batch).__name__
        raise ValueError(f"{origin}: expected a pickled dict with keys b'data' and b'labels', "
                         f"found {found}")
    data, labels = batch[b"data"], np.asarray(batch[b"labels"], dtype=object)
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
            and data.shape[1] == 3072 and labels.shape == (len(data),)
            and all(isinstance(label, (int, np.integer)) for label in labels)):
        raise ValueError(f"{origin}: expected b'data' as a uint8 array of shape (N, 3072) and "
                         f"b'labels' as N integers, got {getattr(data, 'dtype', type(data))} "
                         f"{getattr(data, 'shape', '')} and {labels.size} labels")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), _checked_labels(labels.astype(np.int64), origin)


def _parse_binary_batch(raw, origin):
    """Decode one binary batch (bytes of 3073-byte records) into images and labels."""
    if len(raw) % _BINARY_RECORD_BYTES:
        raise ValueError(f"{origin}: size {len(raw)} bytes is not a multiple of "
                         f"{_BINARY_RECORD_BYTES} (1 label byte + 3072 pixel bytes per "
                         "record); the file is truncated or not a CIFAR-10 binary batch")
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _BINARY_RECORD_BYTES)
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), _checked_labels(records[:, 0], origin)


def _checked_labels(labels, origin):
    """Return labels as int64, refusing any outside 0..9 with the file named."""
    labels = labels.astype(np.int64)
    bad = (labels < 0) | (labels >= len(CLASS_NAMES))
    if bad.any():
        raise ValueError(f"{origin}: label {labels[bad][0]} at record {np.flatnonzero(bad)[0]} "
                         f"is outside 0..{len(CLASS_NAMES) - 1}")
    return labels


def resolve_source(source):
    """Return ``(layout, path)``; layout is one of keras, python-dir, python-tar,
    binary-dir, binary-tar, image-tree, and path is None for keras."""
    if source is None:
        source = os.environ.get("ADVLIB_CIFAR10") or None
    if source is None:
        return "keras", None
    if not isinstance(source, (str, os.PathLike)):
        raise ValueError(f"source must be a path or None, got {type(source).__name__}")
    path = Path(source).expanduser().resolve()
    if not path.exists():
        raise FileNotFoundError(f"CIFAR-10 source {path} does not exist; expected one of: "
                                f"{_ACCEPTED_LAYOUTS}")
    if path.is_file():
        return _detect_archive(path), path
    for release, folder in (("python", "cifar-10-batches-py"), ("binary", "cifar-10-batches-bin")):
        if (path / BATCH_FILES[release][0][0]).is_file():
            return f"{release}-dir", path
        if (path / folder).is_dir():
            return f"{release}-dir", path / folder
    if (path / "train").is_dir() or (path / "test").is_dir():
        for split in ("train", "test"):
            if not (path / split).is_dir():
                raise FileNotFoundError(f"image-folder tree {path} has no '{split}' folder; "
                                        f"expected {split}/<class>/ for each of {CLASS_NAMES}")
        return "image-tree", path
    raise ValueError(f"unknown CIFAR-10 source layout at {path}; accepted layouts: "
                     f"{_ACCEPTED_LAYOUTS}")


def _safe_member_name(member):
    """Return the base name of a regular tar member at most one folder deep, else None."""
    name = posixpath.normpath(member.name)
    parts = name.split("/")
    if not member.isfile() or name.startswith("/") or ".." in parts or len(parts) > 2:
        return None
    return parts[-1]


def _detect_archive(path):
    """Tell the python and binary releases apart by the first batch member found."""
    try:
        with tarfile.open(path, "r:*") as archive:
            # Iterating stops at the first batch, so only the archive's head is decompressed.
            for member in archive:
                name = _safe_member_name(member)
                for release, (train_names, test_names) in BATCH_FILES.items():
                    if name in train_names + test_names:
                        return f"{release}-tar"
    except (tarfile.TarError, OSError, EOFError) as error:
        raise ValueError(f"cannot read archive {path}: {error}") from error
    raise ValueError(f"archive {path} contains no CIFAR-10 batches; accepted layouts: "
                     f"{_ACCEPTED_LAYOUTS}")


def list_image_tree(root):
    """Return ``{split: [(path, label, os.DirEntry), ...]}`` of the image files in class order.

    Files are sorted by name inside each class; hidden files and files with other
    extensions (``.DS_Store``, ``README``) are skipped.
    """
    listing = {}
    for split in ("train", "test"):
        entries = []
        for label, class_name in enumerate(CLASS_NAMES):
            class_dir = root / split / class_name
            if not class_dir.is_dir():
                raise FileNotFoundError(
                    f"image-folder tree {root} lacks the class folder {class_dir}; expected "
                    f"one folder per class under {split}/: {', '.join(CLASS_NAMES)}")
            with os.scandir(class_dir) as scan:
                files = sorted((entry for entry in scan if not entry.name.startswith(".")
                                and os.path.splitext(entry.name)[1].lower() in IMAGE_EXTENSIONS
                                and entry.is_file()), key=lambda entry: entry.name)
            # DirEntry objects are kept so a file is only stat-ed when the cache key needs it.
            entries.extend((Path(entry.path), label, entry) for entry in files)
        listing[split] = entries
    return listing


def decode_image(path):
    """Decode one image file into uint8 pixels of shape (32, 32, 3), RGB order, 0..255.

    Images that are not 32x32 or not RGB are refused rather than converted, because a
    silently resized or re-coloured image would no longer be a CIFAR-10 sample.
    """
    try:
        with Image.open(path) as image:
            image.load()
            mode, size = image.mode, image.size
            pixels = np.asarray(image, dtype=np.uint8) if mode == "RGB" else None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ValueError(f"cannot read image {path}: {error}") from error
    if mode != "RGB":
        raise ValueError(f"image {path} has mode {mode}; expected RGB (grayscale, RGBA and "
                         "palette images are not converted)")
    if size != (32, 32):
        raise ValueError(f"image {path} is {size[0]}x{size[1]}; expected 32x32")
    return pixels


def _read_archive_members(path, wanted):
    """Return ``{name: bytes}`` for the wanted batch members of a tar archive."""
    contents = {}
    try:
        with tarfile.open(path, "r:*") as archive:
            # Members are read in stream order and never written to disk, so no member
            # path can reach outside the archive.
            for member in archive:
                name = _safe_member_name(member)
                if name in wanted:
                    contents[name] = archive.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError) as error:
        raise ValueError(f"cannot read archive {path}: {error}") from error
    missing = [name for name in wanted if name not in contents]
    if missing:
        raise ValueError(f"archive {path} lacks the member(s) {', '.join(missing)}")
    return contents


def decode_source(layout, path):
    """Decode a local source into ``(x_train, y_train, x_test, y_test)`` full splits."""
    if layout == "image-tree":
        splits = []
        for entries in list_image_tree(path).values():
            images = np.empty((len(entries),) + IMAGE_SHAPE, dtype=np.uint8)
            for index, (file, _, _) in enumerate(entries):
                images[index] = decode_image(file)
            splits += [images, np.array([label for _, label, _ in entries], dtype=np.int64)]
        return tuple(splits)
    release = layout.split("-")[0]
    parse = _parse_python_batch if release == "python" else _parse_binary_batch
    train_names, test_names = BATCH_FILES[release]
    if layout.endswith("-tar"):
        contents = _read_archive_members(path, train_names + test_names)
        batches = {name: parse(raw, f"{path}:{name}") for name, raw in contents.items()}
    else:
        batches = {name: parse((path / name).read_bytes(), path / name)
                   for name in train_names + test_names}
    splits = []
    for names in (train_names, test_names):
        splits.append(np.concatenate([batches[name][0] for name in names]))
        splits.append(np.concatenate([batches[name][1] for name in names]))
    return tuple(splits)

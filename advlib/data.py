"""Loading CIFAR-10 from the official download or a local copy, with a decode cache.

The source is (first match wins) the ``source`` argument, the environment variable
``ADVLIB_CIFAR10``, or ``keras.datasets.cifar10.load_data()``. A local source is the
official python or binary release (``cifar-10-python.tar.gz`` / ``cifar-10-binary.tar.gz``,
the extracted ``cifar-10-batches-py/`` / ``cifar-10-batches-bin/`` folder, or its parent),
or an image-folder tree ``train/<class>/*`` and ``test/<class>/*`` of PNG or JPEG files.
Decoded local sources are cached as an ``.npz`` file under ``ADVLIB_CACHE_DIR`` (default
``~/.cache/advlib``). Nothing here imports TensorFlow until the download is needed.
"""

import hashlib
import io
import os
import pickle
import posixpath
import tarfile
import tempfile
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer",
               "dog", "frog", "horse", "ship", "truck")

IMAGE_SHAPE = (32, 32, 3)

# Bumping this invalidates every cache file written by an older layout of the cache.
_CACHE_FORMAT_VERSION = 1

# Batch file names of each official release: (train batches, test batches).
_BATCH_FILES = {
    "python": (tuple(f"data_batch_{index}" for index in range(1, 6)), ("test_batch",)),
    "binary": (tuple(f"data_batch_{index}.bin" for index in range(1, 6)), ("test_batch.bin",)),
}
_BINARY_RECORD_BYTES = 1 + 32 * 32 * 3
_IMAGE_EXTENSIONS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}

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


def _resolve_source(source):
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
        if (path / _BATCH_FILES[release][0][0]).is_file():
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
                for release, (train_names, test_names) in _BATCH_FILES.items():
                    if name in train_names + test_names:
                        return f"{release}-tar"
    except (tarfile.TarError, OSError, EOFError) as error:
        raise ValueError(f"cannot read archive {path}: {error}") from error
    raise ValueError(f"archive {path} contains no CIFAR-10 batches; accepted layouts: "
                     f"{_ACCEPTED_LAYOUTS}")


def _list_image_tree(root):
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
                                and os.path.splitext(entry.name)[1].lower() in _IMAGE_EXTENSIONS
                                and entry.is_file()), key=lambda entry: entry.name)
            # DirEntry objects are kept so a file is only stat-ed when the cache key needs it.
            entries.extend((Path(entry.path), label, entry) for entry in files)
        listing[split] = entries
    return listing


def _key_files(layout, path):
    """Return the files whose names, sizes and times decide whether a cache is current."""
    if layout.endswith("-tar"):
        return [(path, path.stat())]
    if layout == "image-tree":
        listing = _list_image_tree(path)
        return [(file, entry.stat()) for split in ("train", "test")
                for file, _, entry in listing[split]]
    names = sum(_BATCH_FILES[layout.split("-")[0]], ())
    missing = [name for name in names if not (path / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{path} lacks the batch file(s) {', '.join(missing)}; "
                                f"expected {', '.join(names)}")
    return [(path / name, (path / name).stat()) for name in names]


def describe_source(source=None):
    """Return a one-line, human-readable description of where CIFAR-10 would be loaded from.

    Resolution is the same as in :func:`load_cifar10`; nothing is decoded. Examples:
    ``"image folder /data/cifar10-jpeg (JPEG)"``, ``"keras.datasets.cifar10 (official download)"``.
    """
    layout, path = _resolve_source(source)
    if layout == "keras":
        return "keras.datasets.cifar10 (official download)"
    if layout == "image-tree":
        formats = sorted({_IMAGE_EXTENSIONS[file.suffix.lower()]
                          for entries in _list_image_tree(path).values()
                          for file, _, _ in entries})
        return f"image folder {path} ({'+'.join(formats) or 'no images'})"
    release, container = layout.split("-")
    what = "archive" if container == "tar" else "directory"
    return f"official CIFAR-10 {release} batches {what} {path}"


def _decode_image(path):
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


def _decode_source(layout, path):
    """Decode a local source into ``(x_train, y_train, x_test, y_test)`` full splits."""
    if layout == "image-tree":
        splits = []
        for entries in _list_image_tree(path).values():
            images = np.empty((len(entries),) + IMAGE_SHAPE, dtype=np.uint8)
            for index, (file, _, _) in enumerate(entries):
                images[index] = _decode_image(file)
            splits += [images, np.array([label for _, label, _ in entries], dtype=np.int64)]
        return tuple(splits)
    release = layout.split("-")[0]
    parse = _parse_python_batch if release == "python" else _parse_binary_batch
    train_names, test_names = _BATCH_FILES[release]
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


def _cache_key(layout, path):
    """Hash the source path, layout, format version and each key file's path, size and mtime."""
    digest = hashlib.sha256(f"{_CACHE_FORMAT_VERSION}\0{layout}\0{path}\0".encode())
    for file, stat in _key_files(layout, path):
        relative = file.relative_to(path) if file != path else Path(file.name)
        digest.update(f"{relative.as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _load_cached(cache_file, key):
    """Return the four cached arrays, or None when the file is missing, stale or unreadable."""
    if not cache_file.exists():
        return None
    try:
        with np.load(cache_file, allow_pickle=False) as stored:
            if str(stored["key"]) != key:
                return None
            arrays = tuple(stored[name] for name in ("x_train", "y_train", "x_test", "y_test"))
        for images, labels in (arrays[:2], arrays[2:]):
            if images.dtype != np.uint8 or images.shape[1:] != IMAGE_SHAPE \
                    or labels.dtype != np.int64 or labels.shape != (len(images),):
                raise ValueError("arrays have unexpected shapes or dtypes")
        return arrays
    except Exception as error:  # A broken cache must never stop a load; it is rebuilt.
        warnings.warn(f"ignoring unreadable CIFAR-10 cache {cache_file} ({error!r}); "
                      "rebuilding it", RuntimeWarning, stacklevel=3)
        return None


def _store_cached(cache_file, key, arrays):
    """Write the arrays atomically (temporary file, then rename); warn if that fails."""
    temporary = None
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cache_file.parent, prefix=cache_file.name,
                                         suffix=".tmp", delete=False) as handle:
            temporary = handle.name
            np.savez(handle, key=np.array(key), x_train=arrays[0], y_train=arrays[1],
                     x_test=arrays[2], y_test=arrays[3])
        os.replace(temporary, cache_file)
    except OSError as error:
        warnings.warn(f"could not write CIFAR-10 cache {cache_file}: {error}", RuntimeWarning,
                      stacklevel=3)
        if temporary is not None and os.path.exists(temporary):
            os.remove(temporary)


def _normalise_per_class(per_class):
    """Return ``(train_count, test_count)``, each a positive int or None (whole split)."""
    counts = per_class if isinstance(per_class, (tuple, list)) else (per_class, per_class)
    if len(counts) != 2:
        raise ValueError(f"per_class must be an int or a pair (train, test), got {per_class!r}")
    for count in counts:
        if count is not None and (isinstance(count, bool) or not isinstance(
                count, (int, np.integer)) or count < 1):
            raise ValueError(f"per_class counts must be positive ints, got {per_class!r}")
    return tuple(counts)


def _stratified_subset(images, labels, count, rng, split):
    """Keep ``count`` randomly chosen images of every class, in their original order."""
    chosen = []
    for label, class_name in enumerate(CLASS_NAMES):
        indices = np.flatnonzero(labels == label)
        if len(indices) < count:
            raise ValueError(f"per_class={count} asks for more {split} images of class "
                             f"'{class_name}' than there are ({len(indices)})")
        chosen.append(rng.choice(indices, size=count, replace=False))
    order = np.sort(np.concatenate(chosen))
    return images[order], labels[order]


def load_cifar10(source=None, *, per_class=None, seed=0):
    """Load CIFAR-10 as ``(x_train, y_train), (x_test, y_test)``.

    Args:
        source: path to a local copy (see the module docstring for the accepted layouts);
            None means the ``ADVLIB_CIFAR10`` environment variable, or failing that the
            official download through ``keras.datasets.cifar10``.
        per_class: None for the full splits; an int for that many images of each class
            in both splits; or a pair ``(train_per_class, test_per_class)`` (either may be
            None). The subset is drawn with ``numpy.random.default_rng(seed)`` (train
            first, then test) and kept in the original order.
        seed: non-negative int seeding the subset draw.

    Returns:
        x arrays: uint8, shape (N, 32, 32, 3), RGB, values 0..255.
        y arrays: int64, shape (N,), values 0..9 indexing ``CLASS_NAMES``.
    """
    train_count, test_count = _normalise_per_class(per_class)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    layout, path = _resolve_source(source)
    if layout == "keras":
        import keras  # Imported here so that loading a local copy never starts TensorFlow.
        (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
        arrays = (np.asarray(x_train, np.uint8), np.asarray(y_train).reshape(-1).astype(np.int64),
                  np.asarray(x_test, np.uint8), np.asarray(y_test).reshape(-1).astype(np.int64))
    else:
        key = _cache_key(layout, path)
        # The file name depends on the path only, so a changed source overwrites its stale
        # cache instead of leaving it behind; the full key is stored inside and compared.
        path_digest = hashlib.sha256(str(path).encode()).hexdigest()[:20]
        cache_dir = Path(os.environ.get("ADVLIB_CACHE_DIR") or "~/.cache/advlib").expanduser()
        cache_file = cache_dir / f"cifar10-{path_digest}.npz"
        arrays = _load_cached(cache_file, key)
        if arrays is None:
            arrays = _decode_source(layout, path)
            _store_cached(cache_file, key, arrays)
    for split, labels in (("train", arrays[1]), ("test", arrays[3])):
        if len(labels) == 0:
            raise ValueError(f"the {split} split of CIFAR-10 source {path} has no images")
    rng = np.random.default_rng(seed)
    splits = []
    for (images, labels), count, split in ((arrays[:2], train_count, "train"),
                                           (arrays[2:], test_count, "test")):
        if count is not None:
            images, labels = _stratified_subset(images, labels, count, rng, split)
        splits.append((images, labels))
    return splits[0], splits[1]


def preprocess(x, y, num_classes=10):
    """Scale pixels and one-hot encode labels, as the book's models expect.

    Args:
        x: integer images, shape (N, H, W, C), values 0..255 (normally uint8 (N, 32, 32, 3)).
        y: integer labels, shape (N,) or (N, 1), values 0..num_classes-1.
        num_classes: positive int, the width of the one-hot vectors.

    Returns:
        ``(x_scaled, y_one_hot)``: float32 (N, H, W, C) in [0, 1] (x / 255), and float32
        (N, num_classes) with a single 1.0 per row.
    """
    x, y = np.asarray(x), np.asarray(y)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, H, W, C), got {x.shape}")
    # Float input is refused because it may already be scaled, and scaling twice is silent.
    if x.dtype.kind not in "iu":
        raise ValueError(f"x must hold integer pixel values 0..255 (uint8), got {x.dtype}")
    if x.size and (x.min() < 0 or x.max() > 255):
        raise ValueError(f"x values must lie in 0..255, got {x.min()}..{x.max()}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if y.ndim != 1 or (y.size and y.dtype.kind not in "iu"):
        raise ValueError(f"y must be integer labels of shape (N,), got {y.dtype} {y.shape}")
    if len(y) != len(x):
        raise ValueError(f"x has {len(x)} images but y has {len(y)} labels")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"y values must lie in 0..{num_classes - 1}, got {y.min()}..{y.max()}")
    one_hot = np.zeros((len(y), num_classes), dtype=np.float32)
    one_hot[np.arange(len(y)), y.astype(np.int64)] = 1.0
    # Dividing in place avoids a second float copy of the (possibly 600 MB) image array.
    scaled = x.astype(np.float32)
    scaled /= np.float32(255.0)
    return scaled, one_hot

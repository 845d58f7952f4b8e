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
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from advlib.data import files
# The class names and the image shape live beside the file readers, whose label indices
# and pixel layout they describe, and are part of this module's public API.
from advlib.data.files import CLASS_NAMES, IMAGE_SHAPE

# Bumping this invalidates every cache file written by an older layout of the cache.
_CACHE_FORMAT_VERSION = 1


def _key_files(layout, path):
    """Return the files whose names, sizes and times decide whether a cache is current."""
    if layout.endswith("-tar"):
        return [(path, path.stat())]
    if layout == "image-tree":
        listing = files.list_image_tree(path)
        return [(file, entry.stat()) for split in ("train", "test")
                for file, _, entry in listing[split]]
    names = sum(files.BATCH_FILES[layout.split("-")[0]], ())
    missing = [name for name in names if not (path / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{path} lacks the batch file(s) {', '.join(missing)}; "
                                f"expected {', '.join(names)}")
    return [(path / name, (path / name).stat()) for name in names]


def describe_source(source=None):
    """Return a one-line description of the kind of CIFAR-10 source that would be loaded.

    Resolution is the same as in :func:`load_cifar10`; nothing is decoded. The text names
    the kind of source, never its path, because it is recorded with every saved result and
    shown on the book's pages. Examples: ``"a local JPEG copy of CIFAR-10 (image folder)"``,
    ``"the official CIFAR-10 (keras.datasets download)"``.
    """
    layout, path = files.resolve_source(source)
    if layout == "keras":
        return "the official CIFAR-10 (keras.datasets download)"
    if layout == "image-tree":
        formats = sorted({files.IMAGE_EXTENSIONS[file.suffix.lower()]
                          for entries in files.list_image_tree(path).values()
                          for file, _, _ in entries})
        return f"a local {'+'.join(formats) or 'empty'} copy of CIFAR-10 (image folder)"
    release, container = layout.split("-")
    what = "archive" if container == "tar" else "folder"
    return f"the official CIFAR-10 ({release} batches, local {what})"


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
        # Open the file here: np.load leaks its own handle when the archive is broken.
        with open(cache_file, "rb") as handle, np.load(handle, allow_pickle=False) as stored:
            if str(stored["key"]) != key:
                return None
            arrays = tuple(stored[name] for name in ("x_train", "y_train", "x_test", "y_test"))
        for images, labels in (arrays[:2], arrays[2:]):
            if images.dtype != np.uint8 or images.shape[1:] != IMAGE_SHAPE \
                    or labels.dtype != np.int64 or labels.shape != (len(images),):
                raise ValueError("arrays have unexpected shapes or dtypes")
        return arrays
    except Exception as error:  # A broken cache must never stop a load; it is rebuilt.
        # Name the file, not its path: warnings reach notebook outputs that readers see.
        warnings.warn(f"ignoring the unreadable CIFAR-10 cache {cache_file.name} in ADVLIB_CACHE_DIR "
                      f"({type(error).__name__}); rebuilding it", RuntimeWarning, stacklevel=3)
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
        warnings.warn(f"could not write the CIFAR-10 cache {cache_file.name} in ADVLIB_CACHE_DIR "
                      f"({type(error).__name__}: {error.strerror or 'unknown reason'})", RuntimeWarning,
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


def stratified_indices(labels, per_class, generator, *, classes=None, split=None):
    """Sorted indices of ``per_class`` randomly chosen labels of every class, without replacement.

    The one place the book draws a stratified subset: the profiles' data subsets, the
    candidates' holdout, the worst-case test subset and the peer benchmark all come here.

    Args:
        labels: integer labels, shape (N,).
        per_class: positive int, how many indices to draw from each class.
        generator: a ``numpy.random.Generator``; its draws, class by class in the order
            of ``classes``, decide the subset, so one generator can draw several subsets.
        classes: the class ids to draw from, in order; None means those present in
            ``labels`` (``numpy.unique``).
        split: the labels' split ("train", "test"), named in the error message; or None.

    Returns:
        int64 indices, shape (per_class * number of classes,), ascending.

    Raises ``ValueError`` when a class has fewer than ``per_class`` labels.
    """
    labels = np.asarray(labels)
    classes = np.unique(labels) if classes is None else classes
    chosen = []
    for label in classes:
        members = np.flatnonzero(labels == label)
        if len(members) < per_class:
            name = CLASS_NAMES[label] if labels.dtype.kind in "iu" and 0 <= label < len(CLASS_NAMES) else label
            images = f"{split} images" if split else "images"
            raise ValueError(f"per_class={per_class} asks for more {images} of class {name!r} than there "
                             f"are ({len(members)}); ask for at most {len(members)} per class")
        chosen.append(generator.choice(members, size=per_class, replace=False))
    return np.sort(np.concatenate(chosen)).astype(np.int64)


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
    layout, path = files.resolve_source(source)
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
            arrays = files.decode_source(layout, path)
            _store_cached(cache_file, key, arrays)
    for split, labels in (("train", arrays[1]), ("test", arrays[3])):
        if len(labels) == 0:
            raise ValueError(f"the {split} split of CIFAR-10 source {path} has no images")
    rng = np.random.default_rng(seed)
    splits = []
    for (images, labels), count, split in ((arrays[:2], train_count, "train"),
                                           (arrays[2:], test_count, "test")):
        if count is not None:
            # Every CIFAR-10 class, in label order, so a split lacking one is an error.
            order = stratified_indices(labels, count, rng, classes=range(len(CLASS_NAMES)), split=split)
            images, labels = images[order], labels[order]
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
    # Dividing in place avoids a second float copy of the (possibly 600 MB) image array.
    scaled = x.astype(np.float32)
    scaled /= np.float32(255.0)
    return scaled, one_hot(y, num_classes)


def one_hot(labels, num_classes=10):
    """Integer labels ``(N,)`` in ``[0, num_classes)`` as float32 one-hot rows ``(N, num_classes)``.

    The one encoder of the package: training targets, attack labels and ``preprocess``
    all use it. Labels are not checked here; :func:`preprocess` and
    :func:`advlib.attacks.one_step.check_labels` check them first.
    """
    labels = np.asarray(labels).astype(np.int64, copy=False)
    encoded = np.zeros((len(labels), num_classes), dtype=np.float32)
    encoded[np.arange(len(labels)), labels] = 1.0
    return encoded

"""Tests for advlib.data and its file readers (advlib.data.files), on tiny hand-made sources."""

import os
import io
import pickle
import struct
import sys
import tarfile
import types

import numpy as np
import pytest
from PIL import Image

from advlib.data import cifar10 as data, files as cifar_files

# Read before any test's monkeypatching, so the shared-copy test can use the real settings.
SHARED_SOURCE = os.environ.get("ADVLIB_CIFAR10")
USER_CACHE_DIR = os.environ.get("ADVLIB_CACHE_DIR")

TRAIN_PER_CLASS = 3
TEST_PER_CLASS = 2
# An image whose three channels are different constants, to catch a swapped channel order.
MARKER_RGB = (200, 100, 50)


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """Point the cache at a fresh folder and hide any real source from each test."""
    monkeypatch.setenv("ADVLIB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ADVLIB_CIFAR10", raising=False)


@pytest.fixture
def dataset():
    """Expected splits: random RGB noise, labels in a shuffled (not class-sorted) order."""
    rng = np.random.default_rng(1234)
    splits = {}
    for split, count in (("train", TRAIN_PER_CLASS), ("test", TEST_PER_CLASS)):
        labels = rng.permutation(np.repeat(np.arange(10), count)).astype(np.int64)
        images = rng.integers(0, 256, size=(len(labels), 32, 32, 3), dtype=np.uint8)
        splits[split] = (images, labels)
    splits["train"][0][0] = MARKER_RGB
    return splits


def channels_first_rows(images):
    """Flatten (N, 32, 32, 3) images into CIFAR's (N, 3072) rows of R, G, B planes."""
    return images.transpose(0, 3, 1, 2).reshape(len(images), 3072)


def batch_chunks(images, labels, parts):
    """Split a split into `parts` consecutive batches."""
    return list(zip(np.array_split(images, parts), np.array_split(labels, parts)))


class Python2StylePickler(pickle._Pickler):
    """Writes str and bytes as Python 2 'str' opcodes, as in the official python batches."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_python2_string(self, text):
        raw = text.encode("latin1") if isinstance(text, str) else text
        opcode = pickle.SHORT_BINSTRING + bytes([len(raw)]) if len(raw) < 256 \
            else pickle.BINSTRING + struct.pack("<i", len(raw))
        self.write(opcode + raw)
        self.memoize(text)

    dispatch[str] = save_python2_string
    dispatch[bytes] = save_python2_string


def python2_style_pickle(batch):
    """Pickle like Python 2 + numpy 1.x did: no _codecs calls, numpy.core module name."""
    buffer = io.BytesIO()
    Python2StylePickler(buffer, protocol=2).dump(batch)
    return buffer.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def write_python_batches(root, dataset, labels_override=None, python2_style=False):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    names = [f"data_batch_{index}" for index in range(1, 6)] + ["test_batch"]
    chunks = batch_chunks(*dataset["train"], 5) + batch_chunks(*dataset["test"], 1)
    for name, (images, labels) in zip(names, chunks):
        labels = labels_override if labels_override is not None and name == "test_batch" \
            else labels
        batch = {b"batch_label": name.encode(), b"labels": [int(v) for v in labels],
                 b"data": channels_first_rows(images),
                 b"filenames": [f"{name}_{i}.png".encode() for i in range(len(labels))]}
        (folder / name).write_bytes(python2_style_pickle(batch) if python2_style
                                    else pickle.dumps(batch, protocol=2))
    return folder


def write_binary_batches(root, dataset):
    folder = root / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    names = [f"data_batch_{index}.bin" for index in range(1, 6)] + ["test_batch.bin"]
    chunks = batch_chunks(*dataset["train"], 5) + batch_chunks(*dataset["test"], 1)
    for name, (images, labels) in zip(names, chunks):
        records = bytearray()
        for image, label in zip(channels_first_rows(images), labels):
            records += bytes([int(label)]) + image.tobytes()
        (folder / name).write_bytes(bytes(records))
    return folder


def make_tar(folder, archive):
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return archive


def write_image_tree(root, dataset, extension="png"):
    """Write train/<class>/NNNN.<ext>, named by original index so name order = index order."""
    for split, (images, labels) in dataset.items():
        for class_name in data.CLASS_NAMES:
            (root / split / class_name).mkdir(parents=True)
        for index, (image, label) in enumerate(zip(images, labels)):
            path = root / split / data.CLASS_NAMES[label] / f"{index:04d}.{extension}"
            Image.fromarray(image, "RGB").save(path, **({"quality": 95} if extension == "jpg"
                                                        else {}))
    return root


def class_sorted(images, labels):
    order = np.argsort(labels, kind="stable")
    return images[order], labels[order]


def assert_split(actual, expected):
    images, labels = actual
    assert images.dtype == np.uint8 and images.shape == expected[0].shape
    assert labels.dtype == np.int64 and labels.shape == expected[1].shape
    np.testing.assert_array_equal(labels, expected[1])
    np.testing.assert_array_equal(images, expected[0])


# ---------------------------------------------------------------- round trips

@pytest.mark.parametrize("layout", ["python-dir", "python-parent", "python-tar",
                                    "binary-dir", "binary-parent", "binary-tar"])
def test_batch_layouts_round_trip_exactly(tmp_path, dataset, layout):
    kind, where = layout.split("-")
    writer = write_python_batches if kind == "python" else write_binary_batches
    folder = writer(tmp_path / "src", dataset)
    source = {"dir": folder, "parent": folder.parent,
              "tar": make_tar(folder, tmp_path / f"cifar-10-{kind}.tar.gz")}[where]
    train, test = data.load_cifar10(source)
    assert_split(train, dataset["train"])
    assert_split(test, dataset["test"])
    assert tuple(train[0][0, 5, 7]) == MARKER_RGB


def test_python2_style_pickles_round_trip(tmp_path, dataset):
    folder = write_python_batches(tmp_path, dataset, python2_style=True)
    raw = (folder / "data_batch_1").read_bytes()
    assert b"numpy.core.multiarray" in raw and b"_codecs" not in raw
    train, test = data.load_cifar10(folder)
    assert_split(train, dataset["train"])
    assert_split(test, dataset["test"])


def test_png_tree_round_trips_in_class_order(tmp_path, dataset):
    root = write_image_tree(tmp_path / "tree", dataset)
    train, test = data.load_cifar10(root)
    assert_split(train, class_sorted(*dataset["train"]))
    assert_split(test, class_sorted(*dataset["test"]))
    assert list(train[1]) == sorted(train[1])
    # The marker is original image 0, so it comes first among the images of its class.
    marker_position = int(np.sum(dataset["train"][1] < dataset["train"][1][0]))
    assert tuple(train[0][marker_position, 31, 0]) == MARKER_RGB
    # The description names the kind of source, never its path (it is shown in the book).
    assert data.describe_source(root) == "a local PNG copy of CIFAR-10 (image folder)"


def test_jpeg_tree_loads_close_to_the_original(tmp_path):
    # Flat colours survive JPEG almost exactly, so a small tolerance still checks channels.
    colours = np.array([[25 * c, 250 - 20 * c, 7 + 11 * c] for c in range(10)], np.uint8)
    images = np.broadcast_to(colours[:, None, None, :], (10, 32, 32, 3)).copy()
    labels = np.arange(10, dtype=np.int64)
    root = write_image_tree(tmp_path / "tree", {"train": (images, labels),
                                                "test": (images, labels)}, "jpg")
    (train_x, train_y), (test_x, test_y) = data.load_cifar10(root)
    assert train_x.shape == (10, 32, 32, 3) and train_x.dtype == np.uint8
    np.testing.assert_array_equal(train_y, labels)
    assert np.abs(train_x.astype(int) - images).max() <= 3
    assert data.describe_source(root) == "a local JPEG copy of CIFAR-10 (image folder)"


def test_stray_files_in_class_folders_are_skipped(tmp_path, dataset):
    root = write_image_tree(tmp_path / "tree", dataset)
    for name in (".DS_Store", "README", "notes.txt", "._0000.png"):
        (root / "train" / "cat" / name).write_bytes(b"not an image")
    train, _ = data.load_cifar10(root)
    assert_split(train, class_sorted(*dataset["train"]))


def test_uppercase_extensions_are_images(tmp_path, dataset):
    root = write_image_tree(tmp_path / "tree", dataset)
    first = sorted((root / "train" / "dog").iterdir())[0]
    first.rename(first.with_suffix(".PNG"))
    train, _ = data.load_cifar10(root)
    assert_split(train, class_sorted(*dataset["train"]))


# ---------------------------------------------------------------- source resolution

def test_source_argument_beats_environment_variable(tmp_path, dataset, monkeypatch):
    python_folder = write_python_batches(tmp_path / "a", dataset)
    other = {split: (255 - images, labels) for split, (images, labels) in dataset.items()}
    binary_folder = write_binary_batches(tmp_path / "b", other)
    monkeypatch.setenv("ADVLIB_CIFAR10", str(python_folder))
    assert_split(data.load_cifar10()[0], dataset["train"])
    assert_split(data.load_cifar10(binary_folder)[0], other["train"])
    assert data.describe_source() == "the official CIFAR-10 (python batches, local folder)"
    assert data.describe_source(binary_folder) == "the official CIFAR-10 (binary batches, local folder)"
    assert str(tmp_path) not in data.describe_source(binary_folder)


def test_keras_download_is_the_last_resort(monkeypatch):
    x_train = np.zeros((20, 32, 32, 3), np.uint8)
    x_test = np.ones((10, 32, 32, 3), np.uint8)
    y_train = np.tile(np.arange(10, dtype=np.uint8), 2).reshape(-1, 1)
    y_test = np.arange(10, dtype=np.uint8).reshape(-1, 1)
    fake_cifar10 = types.SimpleNamespace(load_data=lambda: ((x_train, y_train), (x_test, y_test)))
    fake_keras = types.SimpleNamespace(datasets=types.SimpleNamespace(cifar10=fake_cifar10))
    monkeypatch.setitem(sys.modules, "keras", fake_keras)
    (train_x, train_y), (test_x, test_y) = data.load_cifar10(per_class=(2, 1))
    assert train_y.shape == (20,) and train_y.dtype == np.int64
    np.testing.assert_array_equal(test_y, np.arange(10))
    assert data.describe_source() == "the official CIFAR-10 (keras.datasets download)"


# ---------------------------------------------------------------- errors

def test_missing_source_path(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        data.load_cifar10(missing)


def test_unknown_layout_lists_accepted_layouts(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError) as error:
        data.load_cifar10(tmp_path / "empty")
    message = str(error.value)
    assert str(tmp_path / "empty") in message
    assert "cifar-10-python.tar.gz" in message and "train/<class>" in message


def test_image_tree_missing_test_folder(tmp_path, dataset):
    root = write_image_tree(tmp_path / "tree", {"train": dataset["train"]})
    with pytest.raises(FileNotFoundError, match="'test'") as error:
        data.load_cifar10(root)
    assert str(root) in str(error.value)


def test_image_tree_missing_class_folder(tmp_path, dataset):
    root = write_image_tree(tmp_path / "tree", dataset)
    for file in (root / "test" / "horse").iterdir():
        file.unlink()
    (root / "test" / "horse").rmdir()
    with pytest.raises(FileNotFoundError) as error:
        data.load_cifar10(root)
    message = str(error.value)
    assert str(root / "test" / "horse") in message
    assert all(name in message for name in data.CLASS_NAMES)


def test_image_of_wrong_size(tmp_path, dataset):
    root = write_image_tree(tmp_path / "tree", dataset)
    bad = root / "train" / "ship" / "zz_big.png"
    Image.new("RGB", (32, 31)).save(bad)
    with pytest.raises(ValueError, match="32x32") as error:
        data.load_cifar10(root)
    assert str(bad) in str(error.value)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P"])
def test_image_of_wrong_mode_is_not_converted(tmp_path, dataset, mode):
    root = write_image_tree(tmp_path / "tree", dataset)
    bad = root / "test" / "frog" / "zz_mode.png"
    Image.new(mode, (32, 32)).save(bad)
    with pytest.raises(ValueError, match=f"mode {mode}") as error:
        data.load_cifar10(root)
    assert str(bad) in str(error.value)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_image_file(tmp_path, dataset, damage):
    root = write_image_tree(tmp_path / "tree", dataset)
    bad = sorted((root / "train" / "deer").iterdir())[0]
    raw = bad.read_bytes()
    bad.write_bytes(b"\x00garbage" * 20 if damage == "garbage" else raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="cannot read image") as error:
        data.load_cifar10(root)
    assert str(bad) in str(error.value)


def test_empty_split(tmp_path, dataset):
    root = write_image_tree(tmp_path / "tree", dataset)
    for file in (root / "test").glob("*/*"):
        file.unlink()
    with pytest.raises(ValueError, match="test split") as error:
        data.load_cifar10(root)
    assert str(root) in str(error.value)


def test_python_batch_label_out_of_range(tmp_path, dataset):
    folder = write_python_batches(tmp_path, dataset, labels_override=[0] * 19 + [10])
    with pytest.raises(ValueError, match="label 10") as error:
        data.load_cifar10(folder)
    assert str(folder / "test_batch") in str(error.value)


def test_binary_batch_label_out_of_range(tmp_path, dataset):
    folder = write_binary_batches(tmp_path, dataset)
    raw = bytearray((folder / "data_batch_2.bin").read_bytes())
    raw[3073] = 12
    (folder / "data_batch_2.bin").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="label 12 at record 1") as error:
        data.load_cifar10(folder)
    assert str(folder / "data_batch_2.bin") in str(error.value)


def test_truncated_binary_batch(tmp_path, dataset):
    folder = write_binary_batches(tmp_path, dataset)
    raw = (folder / "test_batch.bin").read_bytes()
    (folder / "test_batch.bin").write_bytes(raw[:-100])
    with pytest.raises(ValueError, match="not a multiple of 3073") as error:
        data.load_cifar10(folder)
    assert str(folder / "test_batch.bin") in str(error.value)


def test_pickle_missing_keys(tmp_path, dataset):
    folder = write_python_batches(tmp_path, dataset)
    (folder / "data_batch_3").write_bytes(pickle.dumps({b"labels": [1, 2]}, protocol=2))
    with pytest.raises(ValueError, match="b'data'") as error:
        data.load_cifar10(folder)
    assert str(folder / "data_batch_3") in str(error.value)


def test_missing_batch_file(tmp_path, dataset):
    folder = write_python_batches(tmp_path, dataset)
    (folder / "data_batch_5").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_5") as error:
        data.load_cifar10(folder)
    assert str(folder) in str(error.value)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_archive(tmp_path, dataset, damage):
    archive = make_tar(write_python_batches(tmp_path / "src", dataset),
                       tmp_path / "cifar-10-python.tar.gz")
    raw = archive.read_bytes()
    archive.write_bytes(os.urandom(5000) if damage == "garbage" else raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="archive") as error:
        data.load_cifar10(archive)
    assert str(archive) in str(error.value)


class _Payload:
    """Unpickling this runs a shell command: what a malicious batch would contain."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@pytest.mark.parametrize("packaging", ["dir", "tar"])
def test_malicious_pickle_is_refused_without_side_effect(tmp_path, dataset, packaging):
    folder = write_python_batches(tmp_path / "src", dataset)
    marker = tmp_path / "pwned"
    batch = {b"data": channels_first_rows(dataset["train"][0][:2]), b"labels": [0, 1],
             b"batch_label": _Payload(f"touch {marker}")}
    (folder / "data_batch_1").write_bytes(pickle.dumps(batch, protocol=2))
    source = folder if packaging == "dir" else make_tar(folder, tmp_path / "evil.tar.gz")
    with pytest.raises(ValueError, match=r"refusing to load '(posix|os)\.system'") as error:
        data.load_cifar10(source)
    assert str(source) in str(error.value)
    assert not marker.exists()


class _CodecCall:
    def __reduce__(self):
        import codecs
        return (codecs.encode, ("text", "rot13"))


def test_pickled_codec_calls_other_than_latin1_are_refused(tmp_path, dataset):
    folder = write_python_batches(tmp_path, dataset)
    batch = {b"data": channels_first_rows(dataset["train"][0][:1]), b"labels": [0],
             b"batch_label": _CodecCall()}
    (folder / "data_batch_4").write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(ValueError, match="only latin-1") as error:
        data.load_cifar10(folder)
    assert str(folder / "data_batch_4") in str(error.value)


def test_archive_members_outside_the_batch_folder_are_ignored(tmp_path, dataset):
    folder = write_python_batches(tmp_path / "src", dataset)
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
        # A later member that escapes the folder must not replace the real batch.
        tar.add(folder / "data_batch_2", arcname="../data_batch_1")
    assert_split(data.load_cifar10(archive)[0], dataset["train"])


# ---------------------------------------------------------------- cache

def _forbid(*args, **kwargs):
    raise AssertionError("decoded although the cache should have been used")


def test_second_load_of_batches_uses_the_cache(tmp_path, dataset, monkeypatch):
    folder = write_python_batches(tmp_path / "src", dataset)
    data.load_cifar10(folder)
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1
    monkeypatch.setattr(cifar_files, "decode_source", _forbid)
    train, test = data.load_cifar10(folder)
    assert_split(train, dataset["train"])
    assert_split(test, dataset["test"])


def test_image_tree_cache_and_invalidation(tmp_path, dataset, monkeypatch):
    root = write_image_tree(tmp_path / "tree", dataset)
    first_train, _ = data.load_cifar10(root)
    original_decode = cifar_files.decode_image
    monkeypatch.setattr(cifar_files, "decode_image", _forbid)
    np.testing.assert_array_equal(data.load_cifar10(root)[0][0], first_train[0])

    # New pixels and a new mtime on one file must trigger a fresh decode that sees them.
    changed = sorted((root / "train" / "airplane").iterdir())[0]
    Image.new("RGB", (32, 32), (1, 2, 3)).save(changed)
    stat = changed.stat()
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    calls = []
    monkeypatch.setattr(cifar_files, "decode_image",
                        lambda path: calls.append(path) or original_decode(path))
    train_x, _ = data.load_cifar10(root)[0]
    assert len(calls) == len(dataset["train"][1]) + len(dataset["test"][1])
    assert tuple(train_x[0, 0, 0]) == (1, 2, 3)


def test_touching_a_file_invalidates_the_cache(tmp_path, dataset, monkeypatch):
    folder = write_binary_batches(tmp_path / "src", dataset)
    data.load_cifar10(folder)
    stat = (folder / "test_batch.bin").stat()
    os.utime(folder / "test_batch.bin", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    monkeypatch.setattr(cifar_files, "decode_source", _forbid)
    with pytest.raises(AssertionError, match="decoded"):
        data.load_cifar10(folder)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_cache_is_rebuilt(tmp_path, dataset, monkeypatch, damage):
    folder = write_python_batches(tmp_path / "src", dataset)
    data.load_cifar10(folder)
    (cache_file,) = (tmp_path / "cache").glob("*.npz")
    raw = cache_file.read_bytes()
    cache_file.write_bytes(b"junk" * 10 if damage == "garbage" else raw[: len(raw) // 2])
    with pytest.warns(RuntimeWarning, match="rebuilding") as caught:
        train, _ = data.load_cifar10(folder)
    # The warning reaches notebook outputs: the file's name, never this machine's path.
    assert all(str(tmp_path) not in str(warning.message) for warning in caught), [str(w.message) for w in caught]
    assert_split(train, dataset["train"])
    monkeypatch.setattr(cifar_files, "decode_source", _forbid)
    assert_split(data.load_cifar10(folder)[0], dataset["train"])


# ---------------------------------------------------------------- per_class

def test_per_class_counts_are_exact(tmp_path, dataset):
    folder = write_python_batches(tmp_path, dataset)
    (train_x, train_y), (test_x, test_y) = data.load_cifar10(folder, per_class=2)
    assert np.bincount(train_y, minlength=10).tolist() == [2] * 10
    assert np.bincount(test_y, minlength=10).tolist() == [2] * 10
    (train_x, train_y), (test_x, test_y) = data.load_cifar10(folder, per_class=(1, None))
    assert np.bincount(train_y, minlength=10).tolist() == [1] * 10
    assert len(test_y) == len(dataset["test"][1])
    assert train_x.shape == (10, 32, 32, 3) and train_x.dtype == np.uint8


def test_per_class_keeps_original_order_and_pairs(tmp_path, dataset):
    folder = write_python_batches(tmp_path, dataset)
    (train_x, train_y), _ = data.load_cifar10(folder, per_class=(2, 1), seed=7)
    full_x, full_y = dataset["train"]
    positions = [next(i for i in range(len(full_x)) if np.array_equal(full_x[i], image))
                 for image in train_x]
    assert positions == sorted(positions)
    np.testing.assert_array_equal(full_y[positions], train_y)


def test_per_class_seed_reproducible_and_different(tmp_path, dataset):
    folder = write_python_batches(tmp_path, dataset)
    first = data.load_cifar10(folder, per_class=(2, 1), seed=3)
    again = data.load_cifar10(folder, per_class=(2, 1), seed=3)
    other = data.load_cifar10(folder, per_class=(2, 1), seed=4)
    np.testing.assert_array_equal(first[0][0], again[0][0])
    np.testing.assert_array_equal(first[1][0], again[1][0])
    assert not (np.array_equal(first[0][0], other[0][0])
                and np.array_equal(first[1][0], other[1][0]))


def test_per_class_too_large(tmp_path, dataset):
    folder = write_python_batches(tmp_path, dataset)
    with pytest.raises(ValueError, match=r"test images of class 'airplane'.*\(2\)"):
        data.load_cifar10(folder, per_class=(3, 3))


@pytest.mark.parametrize("per_class", [0, -1, 2.5, True, (1, 2, 3), "2"])
def test_per_class_invalid(tmp_path, dataset, per_class):
    folder = write_python_batches(tmp_path, dataset)
    with pytest.raises(ValueError, match="per_class"):
        data.load_cifar10(folder, per_class=per_class)


# ---------------------------------------------------------------- preprocess

def test_preprocess_scales_and_one_hot_encodes():
    x = np.array([0, 51, 255], np.uint8).reshape(3, 1, 1, 1).repeat(2, axis=1)
    y = np.array([9, 0, 4])
    x_scaled, y_one_hot = data.preprocess(x, y)
    assert x_scaled.dtype == np.float32 and x_scaled.shape == (3, 2, 1, 1)
    np.testing.assert_allclose(x_scaled[:, 0, 0, 0], [0.0, 0.2, 1.0], rtol=1e-6)
    assert y_one_hot.dtype == np.float32 and y_one_hot.shape == (3, 10)
    expected = np.zeros((3, 10), np.float32)
    expected[[0, 1, 2], [9, 0, 4]] = 1
    np.testing.assert_array_equal(y_one_hot, expected)
    np.testing.assert_array_equal(data.preprocess(x, y.reshape(-1, 1))[1], expected)


@pytest.mark.parametrize("x, y, match", [
    (np.zeros((2, 32, 32, 3), np.float32), [0, 1], "integer"),
    (np.zeros((2, 32, 32), np.uint8), [0, 1], "shape"),
    (np.full((2, 4, 4, 3), 256, np.int32), [0, 1], "0..255"),
    (np.zeros((2, 4, 4, 3), np.uint8), [0, 10], "0..9"),
    (np.zeros((2, 4, 4, 3), np.uint8), [0, 1, 2], "2 images but y has 3"),
    (np.zeros((2, 4, 4, 3), np.uint8), [0.0, 1.0], "integer labels"),
])
def test_preprocess_rejects_bad_input(x, y, match):
    with pytest.raises(ValueError, match=match):
        data.preprocess(x, np.asarray(y))


# ---------------------------------------------------------------- shared offline copy

@pytest.mark.skipif(not SHARED_SOURCE, reason="ADVLIB_CIFAR10 is not set")
def test_shared_copy_subset_and_cache(monkeypatch):
    # The real cache location is used so the one slow full decode is kept between runs.
    if USER_CACHE_DIR:
        monkeypatch.setenv("ADVLIB_CACHE_DIR", USER_CACHE_DIR)
    else:
        monkeypatch.delenv("ADVLIB_CACHE_DIR")
    monkeypatch.setenv("ADVLIB_CIFAR10", SHARED_SOURCE)
    (train_x, train_y), (test_x, test_y) = data.load_cifar10(per_class=(5, 2))
    assert train_x.shape == (50, 32, 32, 3) and test_x.shape == (20, 32, 32, 3)
    assert train_x.dtype == test_x.dtype == np.uint8
    assert train_y.dtype == test_y.dtype == np.int64
    assert np.bincount(train_y, minlength=10).tolist() == [5] * 10
    assert np.bincount(test_y, minlength=10).tolist() == [2] * 10
    monkeypatch.setattr(cifar_files, "decode_image", _forbid)
    (again_x, _), _ = data.load_cifar10(per_class=(5, 2))
    np.testing.assert_array_equal(again_x, train_x)

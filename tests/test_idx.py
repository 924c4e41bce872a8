"""Tests for crbm.idx: IDX reading/writing, MNIST loading and binarization."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from crbm import IdxFormatError, binarize, load_mnist, read_idx, write_idx

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


def idx_bytes(code: int, dims: tuple[int, ...], data: bytes = b"") -> bytes:
    return struct.pack(f">4B{len(dims)}I", 0, 0, code, len(dims), *dims) + data


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def raises_idx(path: Path, problem: str):
    """Expect an IdxFormatError whose message names `path` and `problem`."""
    return pytest.raises(IdxFormatError, match=f"{re.escape(str(path))}.*{problem}")


def peak_bytes(func) -> int:
    """Peak Python/numpy allocation while running func (which must raise IdxFormatError)."""
    tracemalloc.start()
    try:
        with pytest.raises(IdxFormatError):
            func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def sample(dtype, shape) -> np.ndarray:
    rng = np.random.default_rng(0)
    size = int(np.prod(shape))
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        values = rng.integers(info.min, info.max, size=size, endpoint=True, dtype=dtype)
        values[:2] = [info.min, info.max][:size]
    else:
        values = rng.standard_normal(size).astype(dtype)
        values[:3] = [np.nan, np.inf, -0.0][:size]
    return values.reshape(shape)


# --- real MNIST ---------------------------------------------------------------


# mnist_dir (conftest.py): $CRBM_MNIST_DIR or ../shared/data/mnist next to the repo.
@pytest.fixture(scope="module")
def t10k(mnist_dir):
    return load_mnist(mnist_dir, "t10k")


def test_load_mnist_t10k(t10k):
    images, labels = t10k
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    assert labels[:5].tolist() == [7, 2, 1, 0, 4]
    assert set(np.unique(labels).tolist()) == set(range(10))
    assert images.max() == 255 and images.min() == 0
    assert images.flags.writeable and images.flags.c_contiguous


@pytest.mark.parametrize("sep", ["-", "."])
@pytest.mark.parametrize("compressed", [True, False])
def test_load_mnist_spellings(t10k, mnist_dir, tmp_path, sep, compressed):
    for kind, ndim in (("images", 3), ("labels", 1)):
        source = mnist_dir / f"t10k-{kind}-idx{ndim}-ubyte.gz"
        target = tmp_path / f"t10k-{kind}{sep}idx{ndim}-ubyte{'.gz' if compressed else ''}"
        if compressed:
            shutil.copyfile(source, target)
        else:
            target.write_bytes(gzip.decompress(source.read_bytes()))
    images, labels = load_mnist(str(tmp_path), split="t10k")
    np.testing.assert_array_equal(images, t10k[0])
    np.testing.assert_array_equal(labels, t10k[1])


def test_binarize_mnist(t10k):
    images = t10k[0]
    rows = binarize(images)
    assert rows.shape == (10000, 784) and rows.dtype == np.uint8
    np.testing.assert_array_equal(rows, (images.reshape(10000, 784) > 0).astype(np.uint8))
    assert 0 < rows.mean() < 0.5


# --- load_mnist errors --------------------------------------------------------


def test_load_mnist_missing_files(tmp_path):
    missing = re.escape(str(tmp_path)) + ".*train-images-idx3-ubyte"
    with pytest.raises(FileNotFoundError, match=missing):
        load_mnist(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 3, 3), np.uint8))
    with pytest.raises(FileNotFoundError, match="train-labels.idx1-ubyte.gz"):
        load_mnist(tmp_path)


def test_load_mnist_bad_split(tmp_path):
    with pytest.raises(ValueError, match="split"):
        load_mnist(tmp_path, "test")


def test_load_mnist_count_mismatch(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((3, 2, 2), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(2, np.uint8))
    with raises_idx(tmp_path / "t10k-images-idx3-ubyte", "3 images but 2 labels"):
        load_mnist(tmp_path, "t10k")


@pytest.mark.parametrize(
    "kind, array",
    [
        ("images", np.zeros((3, 2, 2), np.int16)),
        ("images", np.zeros((3, 4), np.uint8)),
        ("labels", np.zeros(3, np.float32)),
        ("labels", np.zeros((3, 1), np.uint8)),
    ],
)
def test_load_mnist_wrong_dtype_or_ndim(tmp_path, kind, array):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((3, 2, 2), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(3, np.uint8))
    ndim = 3 if kind == "images" else 1
    bad = tmp_path / f"train-{kind}-idx{ndim}-ubyte"
    write_idx(bad, array)
    with raises_idx(bad, "expected uint8"):
        load_mnist(tmp_path)


# --- read/write round trips and exact bytes -----------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (5,), (0, 3), (2, 3, 4), (2, 1, 3, 2)])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip(tmp_path, dtype, shape, suffix):
    array = sample(dtype, shape)
    path = tmp_path / f"data.idx{suffix}"
    write_idx(path, array)
    assert path.read_bytes()[:2] == (b"\x1f\x8b" if suffix else b"\0\0")
    result = read_idx(path)
    assert result.dtype == np.dtype(dtype) and result.dtype.isnative
    assert result.shape == shape
    assert result.flags.writeable and result.flags.c_contiguous
    np.testing.assert_array_equal(result, array)
    assert os.listdir(tmp_path) == [path.name]


def test_exact_bytes(tmp_path):
    expected = idx_bytes(0x0B, (2, 2), b"\x00\x01\x00\x02\xff\xfd\x00\x04")
    for order in "<>":
        write_idx(tmp_path / "a.idx", np.array([[1, 2], [-3, 4]], dtype=f"{order}i2"))
        assert (tmp_path / "a.idx").read_bytes() == expected
    write_idx(tmp_path / "a.idx.gz", np.array([[1, 2], [-3, 4]], np.int16))
    assert gzip.decompress((tmp_path / "a.idx.gz").read_bytes()) == expected
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx"), [[1, 2], [-3, 4]])


def test_read_big_endian_float(tmp_path):
    path = write_bytes(tmp_path / "f", idx_bytes(0x0D, (2,), struct.pack(">2f", 1.5, -2.0)))
    result = read_idx(path)
    assert result.dtype == np.float32 and result.tolist() == [1.5, -2.0]


def test_write_bool_as_uint8(tmp_path):
    write_idx(tmp_path / "b", np.array([True, False, True]))
    result = read_idx(tmp_path / "b")
    assert result.dtype == np.uint8 and result.tolist() == [1, 0, 1]


def test_write_non_contiguous(tmp_path):
    array = np.arange(24, dtype=np.int32).reshape(4, 6)[::2, ::3]
    write_idx(tmp_path / "n", array)
    np.testing.assert_array_equal(read_idx(tmp_path / "n"), array)


def test_gzip_is_reproducible(tmp_path):
    array = sample(np.float64, (10, 10))
    write_idx(tmp_path / "a.gz", array)
    write_idx(tmp_path / "b.gz", array)
    data = (tmp_path / "a.gz").read_bytes()
    assert data == (tmp_path / "b.gz").read_bytes()
    assert data[3:8] == bytes(5)  # no flags (no file name stored), mtime 0


def test_gzip_detected_from_content(tmp_path):
    content = gzipped(idx_bytes(0x08, (3,), b"\x01\x02\x03"))
    path = write_bytes(tmp_path / "plain-name.idx", content)
    assert read_idx(str(path)).tolist() == [1, 2, 3]


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope.idx")


# --- malformed files ----------------------------------------------------------

MALFORMED = [
    pytest.param(b"", "shorter than the 4-byte magic", id="empty"),
    pytest.param(b"\0\0\x08", "shorter than the 4-byte magic", id="short-magic"),
    pytest.param(b"\x01\0\x08\x01\0\0\0\x01\x05", "bad magic", id="bad-magic"),
    pytest.param(idx_bytes(0x0A, (1,), b"\x05"), "unknown type code 0x0A", id="type-code"),
    pytest.param(idx_bytes(0x08, (1, 2))[:-2], "truncated dimension header", id="dims"),
    pytest.param(idx_bytes(0x0C, (2,), b"\0" * 7), "truncated data", id="data"),
    pytest.param(idx_bytes(0x08, (2,), b"\0" * 3), "trailing bytes", id="trailing"),
    pytest.param(idx_bytes(0x08, (0, 2**32 - 1, 2**32 - 1, 2**32 - 1)),
                 "not a valid array shape", id="empty-but-huge-shape"),
    pytest.param(idx_bytes(0x08, (1,) * 65, b"\0"), "at most 64", id="65-dims"),
]


@pytest.mark.parametrize("content, problem", MALFORMED)
def test_malformed_plain(tmp_path, content, problem):
    path = write_bytes(tmp_path / "bad.idx", content)
    with raises_idx(path, problem):
        read_idx(path)


@pytest.mark.parametrize("content, problem", MALFORMED)
def test_malformed_inside_gzip(tmp_path, content, problem):
    path = write_bytes(tmp_path / "bad.idx.gz", gzipped(content))
    with raises_idx(path, problem):
        read_idx(path)


def test_gz_name_but_not_gzip(tmp_path):
    path = write_bytes(tmp_path / "data.idx.gz", idx_bytes(0x08, (1,), b"\x01"))
    with raises_idx(path, "named .gz but is not gzip-compressed"):
        read_idx(path)


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(lambda data: data[:-12], id="truncated"),
        pytest.param(lambda data: data[:-8] + bytes(8), id="bad-crc"),
        # 0x07 starts a deflate block of the reserved type 3: "invalid block type".
        pytest.param(lambda data: data[:10] + b"\x07" + data[11:], id="bad-deflate"),
        pytest.param(lambda data: data + b"garbage", id="trailing-garbage"),
    ],
)
def test_corrupt_gzip(tmp_path, corrupt):
    data = gzipped(idx_bytes(0x08, (1000,), bytes(range(250)) * 4))
    path = write_bytes(tmp_path / "x.idx", corrupt(data))
    with raises_idx(path, "corrupt gzip stream"):
        read_idx(path)


# --- lying headers must fail without allocating what they claim ---------------


@pytest.mark.parametrize("code", [0x08, 0x0E])
def test_huge_header_plain_fails_fast(tmp_path, code):
    path = write_bytes(tmp_path / "huge.idx", idx_bytes(code, (2**31, 2**31), b"\0" * 16))
    assert peak_bytes(lambda: read_idx(path)) < 4 * 2**20
    with raises_idx(path, "truncated data"):
        read_idx(path)


def test_huge_header_gzip_fails_fast(tmp_path):
    path = write_bytes(tmp_path / "huge.gz", gzipped(idx_bytes(0x0E, (2**31, 2**31), b"\0" * 16)))
    assert peak_bytes(lambda: read_idx(path)) < 4 * 2**20
    with raises_idx(path, "more than a gzip file of"):
        read_idx(path)


def test_gzip_memory_grows_only_with_real_data(tmp_path):
    # 1 MiB of incompressible data under a plausible 1000 MiB claim passes the
    # ratio check, so only incremental reading keeps memory small.
    data = np.random.default_rng(0).bytes(2**20)
    path = write_bytes(tmp_path / "lie.gz", gzipped(idx_bytes(0x08, (1000 * 2**20,), data)))
    assert 1000 * 2**20 < 1032 * path.stat().st_size
    assert peak_bytes(lambda: read_idx(path)) < 8 * 2**20
    with raises_idx(path, f"header claims {1000 * 2**20} bytes, found {2**20}"):
        read_idx(path)


def test_gzip_reads_grow_with_real_data(tmp_path):
    # 1000 incompressible bytes may claim 10**6 (the deflate ratio allows it);
    # one read of the claim made io allocate a 1 MiB buffer before any data.
    data = np.random.default_rng(0).bytes(1000)
    path = write_bytes(tmp_path / "short.gz", gzipped(idx_bytes(0x08, (10**6,), data)))
    assert 10**6 < 1032 * path.stat().st_size
    assert peak_bytes(lambda: read_idx(path)) < 256 * 1024


# --- write errors and atomicity -----------------------------------------------


@pytest.mark.parametrize("dtype", [np.int64, np.uint16, np.complex64, object, "U3"])
def test_write_unsupported_dtype(tmp_path, dtype):
    with pytest.raises(TypeError, match=re.escape(str(np.dtype(dtype)))):
        write_idx(tmp_path / "x", np.zeros(2, dtype))


def test_write_dimension_too_large(tmp_path):
    array = np.broadcast_to(np.uint8(0), (2**32,))  # zero strides: no real memory
    with pytest.raises(ValueError, match="2\\*\\*32"):
        write_idx(tmp_path / "x", array)


def fail(*args, **kwargs):
    raise OSError("injected failure")


@pytest.mark.parametrize("name", ["target.idx", "target.idx.gz"])
@pytest.mark.parametrize("failure", ["dtype", "fsync", "replace"])
def test_failed_write_leaves_target_untouched(tmp_path, monkeypatch, name, failure):
    target = tmp_path / name
    write_idx(target, np.arange(10, dtype=np.uint8))
    before = target.read_bytes()
    array = np.arange(20, dtype=np.int32)
    if failure == "dtype":
        array, error = array.astype(np.int64), TypeError
    else:
        monkeypatch.setattr(os, failure, fail)
        error = OSError
    with pytest.raises(error):
        write_idx(target, array)
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == [name]


def test_write_overwrites(tmp_path):
    write_idx(tmp_path / "t", np.zeros(3, np.uint8))
    write_idx(tmp_path / "t", np.ones((2, 2), np.float32))
    np.testing.assert_array_equal(read_idx(tmp_path / "t"), np.ones((2, 2), np.float32))
    assert os.listdir(tmp_path) == ["t"]


# --- binarize -----------------------------------------------------------------


def test_binarize_values():
    images = np.array([[[0, 1], [2, 255]], [[3, 0], [0, 128]]], np.uint8)
    result = binarize(images)
    assert result.dtype == np.uint8 and result.shape == (2, 4)
    assert result.tolist() == [[0, 1, 1, 1], [1, 0, 0, 1]]
    assert binarize(images, threshold=127).tolist() == [[0, 0, 0, 1], [0, 0, 0, 1]]


def test_binarize_shapes_and_dtypes():
    assert binarize(np.array([[0.5, -1.0, 0.0]])).tolist() == [[1, 0, 0]]
    assert binarize(np.zeros((0, 28, 28))).shape == (0, 784)
    assert binarize(np.ones((2, 3, 4, 5), np.int16)).shape == (2, 60)
    assert binarize(np.array([[True, False]])).tolist() == [[1, 0]]


@pytest.mark.parametrize(
    "images, error",
    [
        (np.zeros(5, np.uint8), ValueError),
        (np.uint8(3), ValueError),
        (np.array([["a", "b"]]), TypeError),
        (np.zeros((2, 2), np.complex128), TypeError),
        (np.zeros((2, 2), object), TypeError),
    ],
)
def test_binarize_rejects(images, error):
    with pytest.raises(error):
        binarize(images)

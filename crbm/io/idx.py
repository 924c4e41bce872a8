"""Reading and writing IDX files, the container format of the MNIST data set.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number
of dimensions), then one big-endian ``uint32`` per dimension, then the data in
big-endian C order.  Files may be gzip-compressed, as MNIST is distributed.

* :func:`read_idx` / :func:`write_idx` -- any IDX file, plain or gzip.
* :func:`load_mnist` -- the MNIST images and labels of one split.
* :func:`binarize` -- flat 0/1 rows, as the RBM experiments use them.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import numbers
import os
import struct
import sys
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from crbm.io._atomic import atomic_write
from crbm.io._reading import read_at_most
from crbm._validation import check_path

__all__ = ["IdxFormatError", "read_idx", "write_idx", "load_mnist", "binarize"]

StrPath = str | os.PathLike[str]
_MAX_NDIM = 64  # numpy's limit on the number of dimensions

# Type code -> native-order dtype; on disk the same dtype is big-endian.
_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(np.int16),
    0x0C: np.dtype(np.int32),
    0x0D: np.dtype(np.float32),
    0x0E: np.dtype(np.float64),
}
_CODES = {dtype: code for code, dtype in _DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
# Deflate cannot expand data by more than about 1032:1, so a gzip file of n
# bytes never decompresses to more than this many bytes per compressed byte.
_MAX_DEFLATE_RATIO = 1032
_CHUNK = 1 << 20  # elements converted per step
_MNIST_SPLITS = ("train", "t10k")


class IdxFormatError(ValueError):
    """A file is not a well-formed IDX file; the message names file and problem."""


def _error(path: object, problem: str) -> IdxFormatError:
    return IdxFormatError(f"{path}: {problem}")


def _read_header(path: str, stream: BinaryIO) -> tuple[np.dtype, tuple[int, ...], int]:
    """Parse the magic number and dimensions; return (native dtype, shape, data bytes)."""
    magic = stream.read(4)
    if len(magic) < 4:
        raise _error(path, f"file is shorter than the 4-byte magic ({len(magic)} bytes)")
    if magic[:2] != b"\0\0":
        raise _error(path, f"bad magic 0x{magic.hex()}: the first two bytes must be zero")
    code, ndim = magic[2], magic[3]
    if code not in _DTYPES:
        raise _error(path, f"unknown type code 0x{code:02X}")
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise _error(
            path,
            f"truncated dimension header: {ndim} dimensions need {4 * ndim} bytes, "
            f"found {len(dims)}",
        )
    dtype, shape = _DTYPES[code], struct.unpack(f">{ndim}I", dims)
    if ndim > _MAX_NDIM:
        raise _error(path, f"{ndim} dimensions: numpy arrays have at most {_MAX_NDIM}")
    return dtype, shape, math.prod(shape) * dtype.itemsize


def _allocate(path: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """``np.empty(shape, dtype)`` once the data is known to exist; a shape numpy
    cannot represent (e.g. zero-size with huge other dimensions) is a format error."""
    try:
        return np.empty(shape, dtype)
    except ValueError as exc:
        raise _error(path, f"header shape {shape} is not a valid array shape ({exc})") from None


def _check_size(path: str, found: int, expected: int) -> None:
    if found < expected:
        raise _error(path, f"truncated data: header claims {expected} bytes, found {found}")
    if found > expected:
        raise _error(path, f"trailing bytes after the {expected} data bytes")


def _read_plain(path: str, stream: BinaryIO) -> np.ndarray:
    dtype, shape, expected = _read_header(path, stream)
    # Check the size before allocating, so a lying header cannot ask for terabytes.
    _check_size(path, os.fstat(stream.fileno()).st_size - stream.tell(), expected)
    array = _allocate(path, shape, dtype)
    found = stream.readinto(memoryview(array.reshape(-1)).cast("B"))
    _check_size(path, found, expected)  # the file may have shrunk meanwhile
    return array


def _read_gzip(path: str, stream: BinaryIO, compressed_size: int) -> np.ndarray:
    dtype, shape, expected = _read_header(path, stream)
    if expected > _MAX_DEFLATE_RATIO * compressed_size + 1024:
        raise _error(
            path,
            f"header claims {expected} data bytes, more than a gzip file of "
            f"{compressed_size} bytes can hold",
        )
    # The decompressed size is unknown up front: read no more than arrives,
    # and one byte past the end to detect trailing bytes.
    buffer = read_at_most(stream, expected + 1)
    _check_size(path, len(buffer), expected)
    if not buffer:  # frombuffer cannot reshape an empty buffer to any shape
        return _allocate(path, shape, dtype)
    return np.frombuffer(buffer, dtype).reshape(shape)  # bytearray -> writable


def read_idx(path: StrPath) -> np.ndarray:
    """Read an IDX file, plain or gzip-compressed.

    Parameters
    ----------
    path : str or os.PathLike
        The file.  Compression is detected from its first bytes, not its name,
        but a name ending in ``.gz`` must belong to a gzip file.

    Returns
    -------
    numpy.ndarray
        Writable, C-contiguous, native byte order, with the dtype and shape
        given by the header.

    Raises
    ------
    IdxFormatError
        If the file is malformed (bad magic or type code, truncated header or
        data, trailing bytes, corrupt gzip stream, ``.gz`` that is not gzip).
    FileNotFoundError
        If the file does not exist.
    """
    path = str(check_path("path", path))
    with open(path, "rb") as stream:
        compressed = stream.read(2) == _GZIP_MAGIC
        stream.seek(0)
        if not compressed:
            if path.endswith(".gz"):
                raise _error(path, "named .gz but is not gzip-compressed")
            array = _read_plain(path, stream)
        else:
            size = os.fstat(stream.fileno()).st_size
            try:
                with gzip.GzipFile(fileobj=stream) as unzipped:
                    array = _read_gzip(path, unzipped, size)
            except (gzip.BadGzipFile, zlib.error, EOFError) as exc:
                raise _error(path, f"corrupt gzip stream ({exc})") from exc
    if sys.byteorder == "little" and array.dtype.itemsize > 1:
        array.byteswap(inplace=True)  # IDX data is big-endian
    return array


def write_idx(path: StrPath, array: np.ndarray) -> None:
    """Write an array to an IDX file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; gzip-compressed (reproducibly, with mtime 0) if the name
        ends in ``.gz``.  An existing file is replaced only once the new one is
        completely written; on failure it is left untouched.
    array : array_like
        Data of dtype uint8, int8, int16, int32, float32 or float64 (any byte
        order); bool is written as uint8.

    Raises
    ------
    TypeError
        If the dtype cannot be stored in an IDX file.
    ValueError
        If the array has more than 255 dimensions or a dimension >= 2**32.
    """
    path = str(check_path("path", path))
    array = np.asarray(array)
    if array.dtype == np.bool_:
        array = array.view(np.uint8)
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        names = ", ".join(str(dtype) for dtype in _DTYPES.values())
        raise TypeError(f"cannot write dtype {array.dtype} to an IDX file; supported: {names}")
    if array.ndim > 255 or any(dim >= 2**32 for dim in array.shape):
        raise ValueError(
            f"IDX allows at most 255 dimensions, each < 2**32; got shape {array.shape}"
        )
    header = struct.pack(f">4B{array.ndim}I", 0, 0, _CODES[native], array.ndim, *array.shape)
    flat = array.reshape(-1)
    big = native.newbyteorder(">")

    with atomic_write(path) as raw:
        # filename="" keeps the temp name out of the gzip header.
        sink = (
            gzip.GzipFile("", "wb", fileobj=raw, mtime=0)
            if path.endswith(".gz")
            else contextlib.nullcontext(raw)
        )
        with sink as out:
            out.write(header)
            # Convert in chunks so a large array is not copied whole.
            for start in range(0, flat.size, _CHUNK):
                out.write(flat[start : start + _CHUNK].astype(big).tobytes())


def _find_mnist_file(directory: Path, split: str, kind: str, ndim: int) -> Path:
    names = [f"{split}-{kind}{sep}idx{ndim}-ubyte{ext}" for sep in "-." for ext in ("", ".gz")]
    for name in names:
        if (directory / name).is_file():
            return directory / name
    raise FileNotFoundError(f"no MNIST {kind} file in {directory}; tried {', '.join(names)}")


def load_mnist(directory: StrPath, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Load one split of MNIST from IDX files.

    Parameters
    ----------
    directory : str or os.PathLike
        Directory holding ``{split}-images-idx3-ubyte`` and
        ``{split}-labels-idx1-ubyte`` (``.idx3-ubyte`` / ``.idx1-ubyte``
        spellings and ``.gz`` variants are also found).
    split : {"train", "t10k"}
        Which split to load.

    Returns
    -------
    images : numpy.ndarray
        uint8 array of shape (n, rows, cols).
    labels : numpy.ndarray
        uint8 array of shape (n,).

    Raises
    ------
    ValueError
        If `split` is not "train" or "t10k".
    FileNotFoundError
        If the images or labels file is missing.
    IdxFormatError
        If a file is malformed, has the wrong dtype or ndim, or the counts differ.
    """
    if split not in _MNIST_SPLITS:
        raise ValueError(f"split must be one of {_MNIST_SPLITS}, got {split!r}")
    directory = check_path("directory", directory)
    images_path = _find_mnist_file(directory, split, "images", 3)
    labels_path = _find_mnist_file(directory, split, "labels", 1)
    images, labels = read_idx(images_path), read_idx(labels_path)
    for path, array, ndim in ((images_path, images, 3), (labels_path, labels, 1)):
        if array.dtype != np.uint8 or array.ndim != ndim:
            raise _error(
                path,
                f"expected uint8 with {ndim} dimension(s), "
                f"got {array.dtype} of shape {array.shape}",
            )
    if len(images) != len(labels):
        raise IdxFormatError(
            f"{images_path}, {labels_path}: {len(images)} images but {len(labels)} labels"
        )
    return images, labels


def binarize(images: np.ndarray, threshold: float = 0) -> np.ndarray:
    """Turn a stack of images into flat rows of 0/1 pixels.

    Parameters
    ----------
    images : array_like
        Numeric array of shape (n, ...), ndim >= 2.
    threshold : float, default 0
        A pixel becomes 1 if it is strictly greater than this.

    Returns
    -------
    numpy.ndarray
        uint8 array of shape (n, prod(...)) holding 0 and 1.
    """
    images = np.asarray(images)
    if images.dtype.kind not in "biuf":
        raise TypeError(f"images must be numeric, got dtype {images.dtype}")
    if images.ndim < 2:
        raise ValueError(f"images must have shape (n, ...), ndim >= 2; got {images.shape}")
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
        raise TypeError(f"threshold must be a real number, got {threshold!r}")
    if np.isnan(threshold):
        raise ValueError("threshold must not be NaN")
    if images.dtype.kind == "f" and np.isnan(images).any():
        raise ValueError("images contains NaN values")
    # Explicit row length: reshape(n, -1) is ambiguous when n == 0.
    rows = images.reshape(images.shape[0], math.prod(images.shape[1:]))
    return (rows > threshold).astype(np.uint8)

"""Model files: ``.npz`` archives of a JSON metadata record and arrays,
written atomically and read without pickle, allocating no more than a file
holds. The models (``crbm/models/_files.py``) say what goes in them."""
from __future__ import annotations

import json
import math
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import Any, Optional

import numpy as np

from crbm.io._atomic import atomic_write
from crbm.io._reading import read_at_most
from crbm._validation import check_path

# The bit generators a file may name: nothing else in np.random is called.
_BIT_GENERATORS = {cls.__name__: cls for cls in (
    np.random.PCG64, np.random.PCG64DXSM, np.random.MT19937, np.random.Philox, np.random.SFC64)}
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
# np.savez stores members, np.savez_compressed deflates them; other methods are
# refused (an lzma decoder alone takes 8 MiB, whatever the file's size).
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0}
# crbm writes .npy headers of ~128 bytes; numpy parses one with ast.literal_eval,
# which takes megabytes for numpy's default limit of 10000 bytes of nested input.
_MAX_NPY_HEADER = 1024
# Generator states are dicts of ints and int arrays, at most three levels deep.
_MAX_STATE_DEPTH = 4


class ModelFileError(ValueError):
    """A model file is missing parts, corrupt, foreign or from a newer crbm."""


def _encode_state(state: Any) -> Any:
    """Make a bit generator's state JSON-serialisable (arrays become tagged lists)."""
    if isinstance(state, dict):
        return {key: _encode_state(value) for key, value in state.items()}
    if isinstance(state, np.ndarray):
        return {"__ndarray__": state.tolist(), "dtype": state.dtype.str}
    if isinstance(state, np.integer):
        return int(state)
    return state


def _decode_state(state: Any, depth: int = 0) -> Any:
    """Invert :func:`_encode_state`; anything a generator state cannot hold is a ValueError."""
    if depth > _MAX_STATE_DEPTH:
        raise ValueError("generator state nested too deeply")
    if isinstance(state, dict):
        if "__ndarray__" in state:
            # Integers only: a dtype such as "S1000000000" would allocate
            # gigabytes for a one-element list.
            if not isinstance(state["dtype"], str) or np.dtype(state["dtype"]).kind not in "iu":
                raise ValueError(f"generator state array of dtype {state['dtype']!r}")
            return np.asarray(state["__ndarray__"], dtype=np.dtype(state["dtype"]))
        return {key: _decode_state(value, depth + 1) for key, value in state.items()}
    return state


def encode_generator(rng: np.random.Generator) -> dict:
    """A generator's bit generator and state as JSON-compatible metadata."""
    return {"bit_generator": type(rng.bit_generator).__name__,
            "rng_state": _encode_state(rng.bit_generator.state)}


def decode_generator(meta: dict, path: Path) -> np.random.BitGenerator:
    """The bit generator :func:`encode_generator` described, or ModelFileError."""
    try:
        bit_generator = _BIT_GENERATORS[meta["bit_generator"]]
        rng_state = _decode_state(meta["rng_state"])
    # OverflowError: an int too large for a generator state array's dtype.
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise ModelFileError(f"{path}: corrupt metadata ({exc!r})") from exc
    try:
        generator = bit_generator()
        generator.state = rng_state
    # IndexError: a state array shorter than the generator's (MT19937, Philox, SFC64).
    except (TypeError, ValueError, KeyError, IndexError, OverflowError) as exc:
        raise ModelFileError(f"{path}: corrupt generator state ({exc!r})") from exc
    return generator


def write_model_file(path: Any, meta: dict, arrays: dict) -> None:
    """Write ``meta`` (JSON) and ``arrays`` to ``path`` as one ``.npz``; a
    crash never leaves half a file there."""
    path = check_path("path", path)
    with atomic_write(path) as f:
        np.savez(f, meta=np.array(json.dumps(meta)), **arrays)


def read_model_file(path: Any, format_name: str, max_version: int, required: tuple,
                    optional: Optional[tuple]) -> tuple[dict, dict, int]:
    """Read a file :func:`write_model_file` wrote as format ``format_name``:
    ``(meta, arrays, version)``. Every array in ``required`` must be there,
    those in ``optional`` (None: any others) may be; nothing is unpickled, and nothing is
    allocated beyond what the file holds. Any problem is a ModelFileError
    naming the file (FileNotFoundError for a missing one)."""
    path = check_path("path", path)
    meta, arrays = _read(path, required, optional)
    if meta.get("format") != format_name:
        raise ModelFileError(f"{path}: not a crbm model file (format {meta.get('format')!r})")
    version = meta.get("version")
    if type(version) is not int or version < 1:
        raise ModelFileError(f"{path}: invalid format version {version!r}")
    if version > max_version:
        raise ModelFileError(
            f"{path}: written by a newer crbm (format version {version}, this crbm reads "
            f"up to {max_version}); upgrade crbm to load it")
    return meta, arrays, version


def check_float_dtype(meta: dict, path: Path) -> np.dtype:
    """The file's float32 or float64 dtype, or ModelFileError."""
    try:
        if not isinstance(meta["dtype"], str):
            raise TypeError(f"dtype {meta['dtype']!r} is not a string")
        dtype = np.dtype(meta["dtype"])
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise ModelFileError(f"{path}: corrupt metadata ({exc!r})") from exc
    if dtype not in _FLOAT_DTYPES:
        raise ModelFileError(f"{path}: dtype {dtype} is not float32 or float64")
    return dtype


def _read_array(archive: zipfile.ZipFile, name: str) -> np.ndarray:
    """Read the .npy member ``name``: never unpickled, allocated only as data arrives.

    ``np.load`` allocates whatever a member's header claims before reading any
    data, returns raw bytes for a member that is not .npy, and lets exceptions
    other than ValueError out on some corrupt input.  A problem here is a
    ValueError, or one of the archive's errors that :func:`_read` converts.
    """
    info = archive.getinfo(name)
    if info.compress_type not in _COMPRESSIONS:
        raise ValueError(f"{name}: unsupported compression method {info.compress_type}")
    if info.flag_bits & 0x61:  # zipfile raises RuntimeError/NotImplementedError for these
        raise ValueError(f"{name}: encrypted or patch data (zip flags 0x{info.flag_bits:04x})")
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version not in _NPY_HEADERS:
            raise ValueError(f"{name}: unsupported .npy format version {version}")
        try:
            shape, fortran_order, dtype = _NPY_HEADERS[version](
                member, max_header_size=_MAX_NPY_HEADER)
        # numpy lets these out of its header parser: SyntaxError and TokenError
        # (e.g. a NUL byte and an unclosed brace), RecursionError (deep nesting).
        except (SyntaxError, tokenize.TokenError, RecursionError) as exc:
            raise ValueError(f"{name}: unreadable .npy header ({exc!r})") from exc
        if dtype.hasobject:
            raise ValueError(f"{name}: object arrays are not read (they need pickle)")
        if any(n < 0 for n in shape):
            raise ValueError(f"{name}: negative dimension in shape {shape}")
        size = math.prod(shape) * dtype.itemsize
        # One byte past the claim to see trailing bytes; reaching the end
        # makes zipfile check the CRC.
        data = read_at_most(member, size + 1)
    if len(data) != size:
        raise ValueError(f"{name}: header claims {size} data bytes, "
                         f"{'more' if len(data) > size else len(data)} found")
    array = np.frombuffer(data, dtype) if size else np.empty(0, dtype)  # bytearray: writable
    return array.reshape(shape, order="F" if fortran_order else "C")


def _read(path: Path, required: tuple, optional: Optional[tuple]) -> tuple[dict, dict]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            missing = [name for name in sorted(("meta", *required)) if f"{name}.npy" not in names]
            if missing:
                raise ModelFileError(f"{path}: not a crbm model file (missing {missing})")
            if optional is None:  # every array the file holds
                optional = tuple(sorted(name[:-4] for name in names if name.endswith(".npy")
                                        and name != "meta.npy" and name[:-4] not in required))
            arrays = {name: _read_array(archive, f"{name}.npy") for name in required + optional
                      if f"{name}.npy" in names}
            meta_raw = _read_array(archive, "meta.npy")
    except ModelFileError:
        raise
    # OverflowError: a shape numpy cannot represent, e.g. (0, 2**70).
    # NotImplementedError: zip features zipfile lacks, e.g. "zip file version 12.7".
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError, zlib.error,
            OverflowError, NotImplementedError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ModelFileError(f"{path}: not a readable .npz model file ({exc})") from exc
    try:
        meta = json.loads(str(meta_raw[()]))
        if not isinstance(meta, dict):
            raise TypeError("metadata is not a JSON object")
    # RecursionError: JSON nested deeper than the interpreter's recursion limit.
    except (ValueError, TypeError, IndexError, RecursionError) as exc:
        raise ModelFileError(f"{path}: corrupt metadata ({exc})") from exc
    return meta, arrays

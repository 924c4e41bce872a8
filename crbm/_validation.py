"""Argument checks shared by the public API.

Every check runs before anything is changed, and each error names the
argument and what was wrong with it.
"""
from __future__ import annotations

import numbers
import os
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from crbm._core._loops import value_range

RandomState = Union[None, int, np.random.Generator, np.random.SeedSequence]

# Sizes and counts reach BLAS and the kernels as C ints.
INT_MAX = 2**31 - 1

# dtypes the kernels read directly; everything else numeric is converted.
_KERNEL_DTYPES = (np.dtype(np.uint8), np.dtype(np.float32), np.dtype(np.float64))


def as_generator(random_state: RandomState) -> np.random.Generator:
    """Turn ``None``, an int seed, a ``SeedSequence`` or a ``Generator`` into a ``Generator``."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, np.random.SeedSequence):
        return np.random.default_rng(random_state)
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative int, got {random_state}")
        return np.random.default_rng(int(random_state))
    raise TypeError(
        "random_state must be None, a non-negative int, a numpy SeedSequence or a "
        f"numpy Generator, got {type(random_state).__name__}")


def check_int(name: str, value: Any, minimum: int, maximum: Optional[int] = None) -> int:
    """Return ``value`` as an int, requiring an integer in ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return int(value)


def check_positive_float(name: str, value: Any, dtype: Any = np.float64) -> float:
    """Return ``value`` as a float, requiring a real number that is ``> 0``
    and finite, also once rounded to ``dtype``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    with np.errstate(over="ignore", under="ignore"):
        rounded = np.dtype(dtype).type(value)
    if not np.isfinite(rounded) or rounded <= 0:
        raise ValueError(
            f"{name} must be a finite number > 0 in {np.dtype(dtype).name}, got {value}")
    return value


def check_non_negative_float(name: str, value: Any) -> float:
    """Return ``value`` as a float, requiring a finite real number ``>= 0``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return value


def check_unit_float(name: str, value: Any) -> float:
    """Return ``value`` as a float, requiring a real number in [0, 1]."""
    value = check_non_negative_float(name, value)
    if value > 1:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` as a bool, requiring ``True`` or ``False`` (a truthy
    string such as ``"no"`` is a mistake, not a yes)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_path(name: str, value: Any) -> Path:
    """Return ``value`` as a ``Path``, requiring a str or ``os.PathLike``
    (an int would be taken by ``open`` as a file descriptor)."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a file path (str or os.PathLike), "
                        f"got {type(value).__name__}")
    path = os.fspath(value)
    if not isinstance(path, str):
        raise TypeError(f"{name} must be a str path, got {type(path).__name__}")
    return Path(path)


def check_momentum(momentum: Any, epochs: int) -> list[float]:
    """One momentum in [0, 1) per epoch, from a number or a per-epoch sequence
    whose last value repeats."""
    if isinstance(momentum, (str, bytes)) or not (
            isinstance(momentum, numbers.Real) or hasattr(momentum, "__iter__")):
        raise TypeError(f"momentum must be a number or a sequence of numbers, got {momentum!r}")
    values = [momentum] if isinstance(momentum, numbers.Real) else list(momentum)
    if not values:
        raise ValueError("momentum must be a number or a non-empty sequence")
    checked = [check_unit_float("momentum", m) for m in values]
    if any(m >= 1 for m in checked):
        raise ValueError(f"momentum must be < 1, got {max(checked)}")
    return [checked[min(e, len(checked) - 1)] for e in range(epochs)]


def check_float_dtype(dtype: Any) -> np.dtype:
    """Return the model dtype, which must be float32 or float64."""
    try:
        dtype = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from exc
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def as_unit_rows(x: Any, name: str, width: int, *, allow_1d: bool,
                 unit_interval: bool = True) -> tuple[np.ndarray, bool]:
    """Validate rows of values in [0, 1] and return them in a kernel dtype.

    Returns the rows and whether every value is exactly 0 or 1.
    ``unit_interval=False`` accepts any finite real values (the kernels'
    arithmetic does not depend on the range; scikit-learn's BernoulliRBM
    takes any real data).

    Returns a 2-D array of dtype uint8, float32 or float64 that shares memory
    with ``x`` whenever ``x`` already is one of those (bool is viewed as
    uint8), so a large dataset is never copied. Other integer dtypes are
    converted to uint8 and float16 to float32 after checking their range.
    A list of 1-D arrays is stacked.

    Raises
    ------
    TypeError
        If the values are not numeric (bool, integer or real floating point).
    ValueError
        If the shape is wrong, there are no rows, a value is NaN or infinite,
        or a value lies outside [0, 1].
    """
    if isinstance(x, (list, tuple)) and x and all(isinstance(r, np.ndarray) for r in x):
        if any(r.ndim != 1 for r in x):
            raise ValueError(f"{name}: every array in the list must be 1-D")
        if any(r.shape[0] != width for r in x):
            bad = next(r.shape[0] for r in x if r.shape[0] != width)
            raise ValueError(f"{name} must have {width} columns, got a row of length {bad}")
        x = np.stack(x)
    try:
        arr = np.asarray(x)
    except ValueError as exc:  # ragged nested sequences
        raise ValueError(f"{name} must be a rectangular array: {exc}") from exc
    kind = arr.dtype.kind
    if kind not in "biuf":
        raise TypeError(f"{name} must be numeric (bool, integer or float), got dtype {arr.dtype}")
    if arr.ndim == 1 and allow_1d:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2:
        expected = "1-D or 2-D" if allow_1d else "2-D (one sample per row)"
        raise ValueError(f"{name} must be {expected}, got {arr.ndim}-D with shape {arr.shape}")
    if arr.shape[1] != width:
        raise ValueError(f"{name} must have {width} columns, got {arr.shape[1]}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has no rows")
    if kind == "b":
        return arr.view(np.uint8), True
    if arr.dtype not in _KERNEL_DTYPES:
        lo, hi = arr.min(), arr.max()
        if kind == "f" and not (np.isfinite(lo) and np.isfinite(hi)):
            raise ValueError(f"{name} contains NaN or infinite values")
        if unit_interval and (lo < 0 or hi > 1):
            raise ValueError(f"{name} must have values in [0, 1], found values in [{lo}, {hi}]")
        # uint8 holds integers only in [0, 1] or, without the range check, [0, 255].
        integer_fits = kind in "bu" or (kind == "i" and lo >= 0)
        arr = arr.astype(np.float32 if kind == "f" and arr.itemsize < 4 else
                         np.float64 if kind == "f" or not integer_fits or hi > 255
                         else np.uint8)
    lo, hi, finite, binary = value_range(arr)
    if not finite:
        raise ValueError(f"{name} contains NaN or infinite values")
    if unit_interval and (lo < 0 or hi > 1):
        raise ValueError(f"{name} must have values in [0, 1], found values in [{lo:g}, {hi:g}]")
    return arr, binary

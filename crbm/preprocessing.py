"""Scaling data for Gaussian visible units, explicitly: crbm never rescales
data behind the user's back.

Gaussian units model each value as ``N(b + W h, sigma^2)``: data centred
per feature and of unit scale keeps the fields ``(v / sigma^2) W`` of a
model that starts at sigma = 1 in a sensible range. :class:`Standardizer`
learns the shift and scale from training data and applies them, and its
inverse maps samples back.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from crbm._validation import as_unit_rows, check_float_dtype

__all__ = ["Standardizer", "column_moments"]

# Rows per pass when reducing a large integer dataset (uint8 images): the
# float64 copy of a block stays small.
_BLOCK_ROWS = 8192


def column_moments(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column's mean and variance (float64) of a 2-D array, in blocks
    of rows, so that a large integer dataset is never converted whole."""
    n, width = rows.shape
    total, squares = np.zeros(width), np.zeros(width)
    for start in range(0, n, _BLOCK_ROWS):
        total += rows[start:start + _BLOCK_ROWS].sum(axis=0, dtype=np.float64)
    mean = total / n
    for start in range(0, n, _BLOCK_ROWS):
        block = rows[start:start + _BLOCK_ROWS].astype(np.float64) - mean
        squares += (block * block).sum(axis=0)
    return mean, squares / n


class Standardizer:
    """Centre each feature at its mean and divide by a standard deviation.

    Parameters
    ----------
    scale : {"feature", "global"}, default "feature"
        ``"feature"`` divides each feature by its own standard deviation;
        ``"global"`` divides every feature by the standard deviation of all
        the centred values, which keeps features that barely vary (image
        borders) small instead of blowing them up.
    min_std : float, default 1e-8
        Standard deviations below this (constant features) are taken as 1.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
    std_ : ndarray of shape (n_features,)
        The divisor of each feature (the same value for every feature with
        ``scale="global"``).
    """

    def __init__(self, *, scale: str = "feature", min_std: float = 1e-8) -> None:
        if scale not in ("feature", "global"):
            raise ValueError(f"scale must be 'feature' or 'global', got {scale!r}")
        if isinstance(min_std, bool) or not isinstance(min_std, (int, float)) or not min_std >= 0:
            raise ValueError(f"min_std must be a number >= 0, got {min_std!r}")
        self.scale, self.min_std = scale, float(min_std)

    def _rows(self, X: Any, width: Optional[int]) -> np.ndarray:
        if width is None:
            arr = np.asarray(X)
            width = arr.shape[1] if arr.ndim == 2 else -1
        rows, _ = as_unit_rows(X, "X", width, allow_1d=False, unit_interval=False)
        return rows

    def fit(self, X: Any) -> "Standardizer":
        """Learn each feature's mean and the standard deviations from the rows of ``X``."""
        mean, variance = column_moments(self._rows(X, None))
        if self.scale == "feature":
            std = np.sqrt(variance)
        else:
            std = np.full(len(mean), np.sqrt(variance.mean()))
        std[std < self.min_std] = 1.0
        self.mean_, self.std_ = mean, std
        return self

    def _fitted(self) -> None:
        if not hasattr(self, "mean_"):
            raise ValueError("this Standardizer is not fitted: call fit(X) first")

    def transform(self, X: Any, dtype: Any = np.float64) -> np.ndarray:
        """``(X - mean_) / std_`` as a new ``dtype`` array (float32 or float64)."""
        self._fitted()
        dtype = check_float_dtype(dtype)
        rows = self._rows(X, len(self.mean_))
        out = np.empty(rows.shape, dtype=dtype)
        for start in range(0, len(rows), _BLOCK_ROWS):
            block = rows[start:start + _BLOCK_ROWS].astype(np.float64)
            out[start:start + len(block)] = (block - self.mean_) / self.std_
        return out

    def fit_transform(self, X: Any, dtype: Any = np.float64) -> np.ndarray:
        """:meth:`fit` then :meth:`transform`."""
        return self.fit(X).transform(X, dtype)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """``Z * std_ + mean_``: standardised rows (samples) back in the data's units."""
        self._fitted()
        rows = self._rows(Z, len(self.mean_))
        return rows.astype(np.float64) * self.std_ + self.mean_

    def __repr__(self) -> str:
        return f"Standardizer(scale={self.scale!r}, min_std={self.min_std:g})"

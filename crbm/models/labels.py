"""Softmax label units: a joint model of visible rows and a one-hot class.

Following Larochelle & Bengio (2008), "Classification using discriminative
restricted Boltzmann machines", a model with ``n_labels`` label units has
energy ``E(v, y, h) = -v W h - y U h - b.v - d.y - c.h`` for a one-hot ``y``.
The label units are the last ``n_labels`` units of the compiled core's
visible layer, which samples them as one softmax group (``n_softmax`` in
``crbm/_core/_units.pxd``): ``p(y = k | h) = softmax(d + U h)_k``. Summing
``h`` out gives ``p(y | v) = softmax_k(d_k + sum_j softplus(c_j + (v W)_j +
U_kj))``, the classifier of :meth:`RBM.predict_proba`.

This module holds what the model needs beyond the core: checks of labels,
the joined rows the kernels train on, the clamp that generates a class, and
the class probabilities.

Label strength. ``generate(label=k)`` clamps the label units one-hot and
samples ``p(v | y = k)``. Clamping unit k at a value ``s`` other than 1
(``label_strength``) sends ``s U_k`` to the hidden units instead of
``U_k``: the chains sample ``p_s(v | k) ∝ sum_h exp(-E(v, h) + s U_k h)``,
which for ``s > 1`` weights the hidden states the label favours, as a
guidance scale does in other conditional generative models. Samples then
look more like their class and vary less within it (both measured in the
README's "Labels" section, by benchmarks/bench_labels.py).
"""
from __future__ import annotations

import numbers
from typing import Any, Optional

import numpy as np
from scipy.special import expit, log_softmax

from crbm._core import _units
from crbm._validation import check_int

__all__ = ["check_n_labels", "check_labels", "check_label_strength", "joined", "steering",
           "class_log_probabilities", "expected_hidden"]

# Rows per block of predict_proba: bounds the (rows, n_labels, n_hidden) scratch.
_PREDICT_ROWS = 256


def check_n_labels(n_labels: Any, visible: Any, n_visible: int) -> int:
    """``n_labels``: 0 (no label units) or >= 2, with Bernoulli visible units."""
    n_labels = check_int("n_labels", n_labels, 0, 1 << 20)
    if n_labels == 1:
        raise ValueError("n_labels must be 0 (no label units) or >= 2, got 1")
    if n_labels and not visible.binary:
        raise ValueError(f"label units need Bernoulli visible units, not {visible.name}")
    return n_labels


def check_labels(labels: Any, n: int, n_labels: int, name: str = "labels") -> np.ndarray:
    """``labels`` as an int array of ``n`` classes in ``[0, n_labels)``."""
    if labels is None:
        raise ValueError(f"a model with label units trains on {name}: train(X, labels=y)")
    y = np.asarray(labels)
    if y.dtype == np.bool_ or y.dtype.kind not in "iu":
        if y.dtype.kind == "f" and y.size and np.all(np.mod(y, 1) == 0):
            y = y.astype(np.int64)
        else:
            raise TypeError(f"{name} must be integers, got dtype {y.dtype}")
    if y.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= n_labels):
        raise ValueError(f"{name} must lie in [0, {n_labels}), got values in "
                         f"[{y.min()}, {y.max()}]")
    return y.astype(np.intp)


def check_label_strength(strength: Any, n_labels: int) -> float:
    """``label_strength``: a finite real number > 0, and 1 for a model
    without label units (which it does not apply to)."""
    if isinstance(strength, (bool, np.bool_)) or not isinstance(strength, numbers.Real):
        raise TypeError(f"label_strength must be a real number, got {strength!r}")
    strength = float(strength)
    if not (np.isfinite(strength) and strength > 0):
        raise ValueError(f"label_strength must be finite and > 0, got {strength}")
    if not n_labels and strength != 1:
        raise ValueError("label_strength needs a model with label units: RBM(..., n_labels=K)")
    return strength


def one_hot(y: np.ndarray, n_labels: int, dtype: Any) -> np.ndarray:
    """Rows ``e_{y[i]}`` of ``n_labels`` columns."""
    out = np.zeros((len(y), n_labels), dtype=dtype)
    out[np.arange(len(y)), y] = 1
    return out


def joined(data: np.ndarray, y: np.ndarray, n_labels: int) -> np.ndarray:
    """The rows the kernels train on: each row of ``data`` then its one-hot
    label, in ``data``'s dtype (bool becomes uint8), C-contiguous."""
    dtype = np.uint8 if data.dtype == np.bool_ else data.dtype
    out = np.empty((data.shape[0], data.shape[1] + n_labels), dtype=dtype)
    out[:, :data.shape[1]] = data
    out[:, data.shape[1]:] = one_hot(y, n_labels, dtype)
    return out


def with_rows(joint: np.ndarray, value: np.ndarray, n_visible: int, labels: bool) -> np.ndarray:
    """A new array of the kernels' visible layer with the visible rows (or
    the label rows) replaced by ``value``; ``value`` itself for a model
    without label units."""
    if joint.shape[0] == n_visible and not labels:
        return value
    out = joint.copy()
    if labels:
        out[n_visible:] = value
    else:
        out[:n_visible] = value
    return out


def steering(model: Any, start: Optional[np.ndarray], mask: Optional[np.ndarray],
             values: Optional[np.ndarray], n: int, label: Any, strength: float = 1.0) -> tuple:
    """generate's start, clamp (checked, of the ``n_visible`` units; PCD
    chains are already of the whole layer) and ``label`` (None, one class
    or one per chain) as rows of the kernels' visible layer: the label
    units start at the label, or with none on, and are clamped to it, the
    asked-for unit at ``strength`` (checked) instead of 1."""
    N, K, dtype = model.n_visible, model.n_labels, model.dtype
    y = None
    if label is not None:
        if isinstance(label, numbers.Integral) and not isinstance(label, (bool, np.bool_)):
            y = check_labels(np.full(1, label), 1, K, "label")
        else:
            y = check_labels(label, n, K, "label")
    label_rows = (np.zeros((1, K), dtype=dtype) if y is None
                  else one_hot(y, K, dtype) * np.asarray(strength, dtype=dtype))
    if start is not None and start.shape[1] == N:
        start = np.concatenate([start, np.broadcast_to(label_rows, (len(start), K))], axis=1)
    if start is not None and y is not None:
        start[:, N:] = label_rows
    if y is None:
        if mask is None:
            return start, None, None
        label_mask = np.zeros((1, K), dtype=np.uint8)
    else:
        label_mask = np.ones((1, K), dtype=np.uint8)
        if mask is None:
            mask = np.zeros((1, N), dtype=np.uint8)
            values = np.zeros((1, N), dtype=dtype)
    mask = np.atleast_2d(mask)
    rows = max(len(mask), len(values), len(label_rows))
    joint_mask = np.concatenate([np.broadcast_to(mask, (rows, N)),
                                 np.broadcast_to(label_mask, (rows, K))], axis=1)
    joint_values = np.concatenate([np.broadcast_to(values, (rows, N)),
                                   np.broadcast_to(label_rows, (rows, K))], axis=1)
    return (start, np.ascontiguousarray(joint_mask, dtype=np.uint8),
            np.ascontiguousarray(joint_values, dtype=dtype))


def softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax, in ``x``'s dtype."""
    return np.exp(log_softmax(x, axis=-1)).astype(x.dtype)


def draw_in_place(rng: np.random.Generator, means: np.ndarray, n_labels: int) -> None:
    """States from means of the kernels' visible layer (rows), with the
    kernels' draws: one key, ``u < mean`` and one softmax draw per row."""
    key = int(rng.bit_generator.random_raw())
    unused = np.zeros(means.shape[1], dtype=means.dtype)  # draws from means need no bias
    _units.draw(0, key, 0, means, unused, unused[:0], 1.0, 0, n_labels)


def _posterior_blocks(model: Any, X: np.ndarray):
    """For blocks of rows of ``X``: ``(start, Z, log p(y | v))`` with ``Z``
    (rows x n_labels x n_hidden) the hidden inputs given each class, float64."""
    N = model.n_visible
    W = model._W[:N].astype(np.float64)
    U = model._W[N:].astype(np.float64)
    d = model._visible_bias[N:].astype(np.float64)
    c = model._hidden_bias.astype(np.float64)
    for start in range(0, len(X), _PREDICT_ROWS):
        field = np.asarray(X[start:start + _PREDICT_ROWS], dtype=np.float64) @ W + c
        Z = field[:, None, :] + U[None, :, :]
        yield start, Z, log_softmax(d + np.logaddexp(0.0, Z).sum(axis=2), axis=1)


def class_log_probabilities(model: Any, X: np.ndarray) -> np.ndarray:
    """``log p(y = k | v)`` for each row of ``X`` (float64, rows x n_labels),
    summing the hidden units out exactly."""
    out = np.empty((len(X), model.n_labels))
    for start, _, log_p in _posterior_blocks(model, X):
        out[start:start + len(log_p)] = log_p
    return out


def expected_hidden(model: Any, X: np.ndarray) -> np.ndarray:
    """``E[h | v] = sum_k p(k | v) p(h = 1 | v, k)`` for each row of ``X``
    (float64, rows x n_hidden): the hidden features with the label summed out."""
    out = np.empty((len(X), model.n_hidden))
    for start, Z, log_p in _posterior_blocks(model, X):
        out[start:start + len(Z)] = np.einsum("rk,rkj->rj", np.exp(log_p), expit(Z))
    return out

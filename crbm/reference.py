"""Plain numpy implementation of crbm's algorithms, draw for draw.

This is the specification the Cython kernels are tested against and the
baseline the benchmarks compare with. Each function consumes uniforms from a
``numpy.random.Generator`` in exactly the order the matching kernel does
(see ``crbm/_kernels.pyx``), in the precision of the arrays (float32 models
draw float32 uniforms), so that both give the same samples.

All updates are in place on ``W`` (n_visible x n_hidden), ``b`` (visible
bias) and ``c`` (hidden bias).
"""
from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, stable for any finite input."""
    e = np.exp(-np.abs(x))
    r = 1 / (1 + e)
    return np.where(x >= 0, r, e * r)


def bernoulli(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """0/1 draws ``u < p`` in ``p``'s dtype, one uniform per element."""
    return (rng.random(p.shape, dtype=p.dtype) < p).astype(p.dtype)


def cd_sample_update(rng: np.random.Generator, v: np.ndarray, W: np.ndarray,
                     b: np.ndarray, c: np.ndarray, learning_rate: float,
                     k: int = 1) -> None:
    """Per-sample CD-k with sampled states: the reference algorithm for k = 1."""
    lr = W.dtype.type(learning_rate)
    h0 = bernoulli(rng, sigmoid(v @ W + c))
    h = h0
    for _ in range(k):
        vk = bernoulli(rng, sigmoid(W @ h + b))
        h = bernoulli(rng, sigmoid(vk @ W + c))
    W += lr * (np.outer(v, h0) - np.outer(vk, h))
    b += lr * (v - vk)
    c += lr * (h0 - h)


def cd_batch_update(rng: np.random.Generator, V0: np.ndarray, W: np.ndarray,
                    b: np.ndarray, c: np.ndarray, learning_rate: float,
                    k: int = 1) -> None:
    """Minibatch CD-k: p(h|v0) positive, p(h|vk) negative, averaged over rows."""
    scale = W.dtype.type(learning_rate / V0.shape[0])
    PH0 = sigmoid(V0 @ W + c)
    H = bernoulli(rng, PH0)
    for step in range(k):
        V = bernoulli(rng, sigmoid(H @ W.T + b))
        PH = sigmoid(V @ W + c)
        if step + 1 < k:
            H = bernoulli(rng, PH)
    W += scale * (V0.T @ PH0 - V.T @ PH)
    b += scale * (V0 - V).sum(axis=0)
    c += scale * (PH0 - PH).sum(axis=0)


def train(rng: np.random.Generator, data: np.ndarray, W: np.ndarray,
          b: np.ndarray, c: np.ndarray, learning_rate: float, epochs: int,
          batch_size: int = 1, k: int = 1) -> None:
    """``epochs`` ordered passes over ``data`` (rows), as ``RBM.train`` does."""
    data = np.asarray(data)
    for _ in range(epochs):
        for start in range(0, len(data), batch_size):
            batch = data[start:start + batch_size].astype(W.dtype)
            if batch_size == 1:
                cd_sample_update(rng, batch[0], W, b, c, learning_rate, k)
            else:
                cd_batch_update(rng, batch, W, b, c, learning_rate, k)


def gibbs_sweep(rng: np.random.Generator, V: np.ndarray, W: np.ndarray,
                b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """One sweep v -> h -> v over the chains in the rows of ``V``."""
    H = bernoulli(rng, sigmoid(V @ W + c))
    return bernoulli(rng, sigmoid(H @ W.T + b))


def generate(rng: np.random.Generator, W: np.ndarray, b: np.ndarray,
             c: np.ndarray, n_samples: int, n_steps: int) -> np.ndarray:
    """Chains from fair coin flips, ``n_steps`` sweeps, as ``RBM.generate`` does."""
    V = (rng.random((n_samples, W.shape[0]), dtype=W.dtype) < 0.5).astype(W.dtype)
    for _ in range(n_steps):
        V = gibbs_sweep(rng, V, W, b, c)
    return V

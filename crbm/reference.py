"""Plain numpy implementation of crbm's algorithms, draw for draw.

This is the specification the Cython kernels are tested against and the
baseline the benchmarks compare with. Each function draws from a
``numpy.random.Generator`` exactly as the matching kernel does (see
``crbm/_kernels.pyx``): every sampling step takes one 64-bit key and uses
that key's counter-based uniforms (:func:`stream_uniforms`), in the precision
of the arrays, so that both give the same samples.

All updates are in place on ``W`` (n_visible x n_hidden), ``b`` (visible
bias) and ``c`` (hidden bias). Every function takes ``sampler``, the
Bernoulli sampler: :func:`bernoulli` (crbm's draws, the default) or
:func:`numpy_bernoulli` (numpy's own stream, for timing baselines).
"""
from __future__ import annotations

from typing import Optional

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, stable for any finite input."""
    e = np.exp(-np.abs(x))
    r = 1 / (1 + e)
    return np.where(x >= 0, r, e * r)


def reconstruction_error(W: np.ndarray, b: np.ndarray, c: np.ndarray, V: np.ndarray) -> float:
    """Mean squared error of the mean-field reconstruction ``p(v | h = p(h | v))``
    of the rows ``V`` (``crbm.evaluate.reconstruction_error`` on bare parameters)."""
    H = sigmoid(V @ W + c)
    return float(np.mean((V - sigmoid(H @ W.T + b)) ** 2))


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def stream_uniforms(key: int, n: int, dtype) -> np.ndarray:
    """The first ``n`` uniforms of crbm's counter-based stream ``key``.

    Element ``i`` comes from SplitMix64 output ``i`` of seed ``key``: float32
    uniforms are its top 24 bits times 2**-24, float64 uniforms its top 52
    bits times 2**-52 (crbm/_simd.h). uint64 arithmetic wraps, as in C.
    """
    z = np.uint64(key) + np.arange(1, n + 1, dtype=np.uint64) * _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z ^= z >> np.uint64(31)
    if np.dtype(dtype) == np.float32:
        return (z >> np.uint64(40)).astype(np.float32) * np.float32(2.0**-24)
    return (z >> np.uint64(12)).astype(np.float64) * 2.0**-52


def bernoulli(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """0/1 draws ``u < p`` in ``p``'s dtype, as crbm's kernels draw them: one
    64-bit key from the generator, then one stream uniform per element."""
    key = int(rng.bit_generator.random_raw())
    u = stream_uniforms(key, p.size, p.dtype).reshape(p.shape)
    return (u < p).astype(p.dtype)


def numpy_bernoulli(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """0/1 draws ``u < p`` from numpy's own uniform stream.

    Not draw-for-draw what crbm does, but the cheapest numpy sampler: the
    benchmarks' numpy baseline uses it (``sampler=numpy_bernoulli``) so that
    it is not slowed down by emulating crbm's stream.
    """
    return (rng.random(p.shape, dtype=p.dtype) < p).astype(p.dtype)


def cd_sample_update(rng: np.random.Generator, v: np.ndarray, W: np.ndarray,
                     b: np.ndarray, c: np.ndarray, learning_rate: float,
                     k: int = 1, sampler=bernoulli) -> None:
    """Per-sample CD-k with sampled states: the reference algorithm for k = 1."""
    lr = W.dtype.type(learning_rate)
    h0 = sampler(rng, sigmoid(v @ W + c))
    h = h0
    for _ in range(k):
        vk = sampler(rng, sigmoid(W @ h + b))
        h = sampler(rng, sigmoid(vk @ W + c))
    W += lr * (np.outer(v, h0) - np.outer(vk, h))
    b += lr * (v - vk)
    c += lr * (h0 - h)


def cd_batch_update(rng: np.random.Generator, V0: np.ndarray, W: np.ndarray,
                    b: np.ndarray, c: np.ndarray, learning_rate: float,
                    k: int = 1, sampler=bernoulli, *, chains: Optional[np.ndarray] = None,
                    velocity: Optional[list] = None, offsets: Optional[list] = None,
                    momentum: float = 0.0, weight_decay: float = 0.0,
                    sparsity_target: float = 0.0, sparsity_cost: float = 0.0,
                    offset_rate: float = 0.0, sampled_statistics: bool = False) -> None:
    """Minibatch CD-k (``chains`` None) or PCD-k (``chains``: the persistent
    visible states, updated in place); p(h|v0) positive and p(h|vk) negative
    statistics, each averaged over its rows. Options as in the kernel:
    sparsity target, L2 weight decay, momentum (``velocity = [vW, vb, vc]``,
    updated in place), centering (``offsets = [mu, lambda]``, in place),
    hidden statistics from sampled states (``sampled_statistics``).
    """
    dt = W.dtype.type
    lr = dt(learning_rate)
    PH0 = sigmoid(V0 @ W + c)
    mean_h0 = PH0.mean(axis=0)
    if chains is None:
        H = sampler(rng, PH0)
        if sampled_statistics:
            PH0 = H
        for step in range(k):
            V = sampler(rng, sigmoid(H @ W.T + b))
            PH = sigmoid(V @ W + c)
            if step + 1 < k:
                H = sampler(rng, PH)
    else:
        if sampled_statistics:
            PH0 = sampler(rng, PH0)
        V = chains.copy()
        for _ in range(k):
            H = sampler(rng, sigmoid(V @ W + c))
            V = sampler(rng, sigmoid(H @ W.T + b))
        chains[...] = V
        PH = sigmoid(V @ W + c)
    if sampled_statistics:
        PH = sampler(rng, PH)
    mean_v0 = V0.mean(axis=0)
    positive = PH0 + dt(sparsity_cost) * (dt(sparsity_target) - PH0)
    G = V0.T @ positive / dt(len(V0)) - V.T @ PH / dt(len(V))
    dv = mean_v0 - V.mean(axis=0)
    dh = positive.mean(axis=0) - PH.mean(axis=0)
    if offsets is not None:
        mu, lam = offsets
        G = G - np.outer(mu, dh) - np.outer(dv, lam)
    step_W = lr * (G - dt(weight_decay) * W)
    step_b, step_c = lr * dv, lr * dh
    if velocity is not None:
        vW, vb, vc = velocity
        vW[...] = dt(momentum) * vW + step_W
        vb[...] = dt(momentum) * vb + step_b
        vc[...] = dt(momentum) * vc + step_c
        step_W, step_b, step_c = vW, vb, vc
    W += step_W
    b += step_b
    c += step_c
    if offsets is not None:
        b -= step_W @ lam
        c -= step_W.T @ mu
        mu += dt(offset_rate) * (mean_v0 - mu)
        lam += dt(offset_rate) * (mean_h0 - lam)


def train(rng: np.random.Generator, data: np.ndarray, W: np.ndarray,
          b: np.ndarray, c: np.ndarray, learning_rate: float, epochs: int,
          batch_size: int = 1, k: int = 1, sampler=bernoulli) -> None:
    """``epochs`` ordered passes over ``data`` (rows), as ``RBM.train`` does."""
    data = np.asarray(data)
    for _ in range(epochs):
        for start in range(0, len(data), batch_size):
            batch = data[start:start + batch_size].astype(W.dtype)
            if batch_size == 1:
                cd_sample_update(rng, batch[0], W, b, c, learning_rate, k, sampler)
            else:
                cd_batch_update(rng, batch, W, b, c, learning_rate, k, sampler)


def gibbs_sweep(rng: np.random.Generator, V: np.ndarray, W: np.ndarray,
                b: np.ndarray, c: np.ndarray, sampler=bernoulli) -> np.ndarray:
    """One sweep v -> h -> v over the chains in the rows of ``V``."""
    H = sampler(rng, sigmoid(V @ W + c))
    return sampler(rng, sigmoid(H @ W.T + b))


def generate(rng: np.random.Generator, W: np.ndarray, b: np.ndarray,
             c: np.ndarray, n_samples: int, n_steps: int, sampler=bernoulli) -> np.ndarray:
    """Chains from fair coin flips, ``n_steps`` sweeps, as ``RBM.generate`` does."""
    V = sampler(rng, np.full((n_samples, W.shape[0]), 0.5, dtype=W.dtype))
    for _ in range(n_steps):
        V = gibbs_sweep(rng, V, W, b, c, sampler)
    return V

"""Plain numpy implementation of crbm's algorithms, draw for draw.

This is the specification the Cython kernels are tested against and the
baseline the benchmarks compare with. Each function draws from a
``numpy.random.Generator`` exactly as the matching kernel does (see
``crbm/_core/_minibatch.pyx`` and the other kernels): every sampling step
takes one 64-bit key and uses that key's counter-based stream
(:func:`stream_uniforms`, computed by crbm's one SplitMix64 in
``crbm._core._random``), in the precision of the arrays, so that both give
the same samples; normal draws are Box-Muller on the stream's uniforms,
here with numpy's own log and cos.

All updates are in place on ``W`` (n_visible x n_hidden), ``b`` (visible
bias) and ``c`` (hidden bias), and for Gaussian visible units ``log_var``
(log sigma^2 per visible unit; ``None`` means Bernoulli visible units).
Functions take ``sampler``, the Bernoulli sampler: :func:`bernoulli`
(crbm's draws, the default) or :func:`numpy_bernoulli` (numpy's own stream,
for timing baselines), and likewise ``gaussian_sampler``.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from crbm._core import _random


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


def stream_uniforms(key: int, n: int, dtype, offset: int = 0) -> np.ndarray:
    """Uniforms ``offset`` to ``offset + n - 1`` of crbm's counter-based stream ``key``.

    Element ``i`` comes from SplitMix64 output ``i`` of seed ``key``: float32
    uniforms are its top 24 bits times 2**-24, float64 uniforms its top 52
    bits times 2**-52 (crbm/_core/_stream.h).
    """
    return _random.stream_uniforms(key, offset, n, np.dtype(dtype))


def stream_normals(key: int, n: int, dtype, offset: int = 0) -> np.ndarray:
    """Standard normals ``offset`` to ``offset + n - 1`` of stream ``key``:
    number ``i`` is ``sqrt(-2 log(1 - u1)) cos(2 pi u2)``, computed in float64
    and rounded to ``dtype``. For float64, ``u1, u2`` are the stream's
    uniforms ``2 i`` and ``2 i + 1``; for float32, the top 24 bits of
    SplitMix64 output ``i`` and the 24 bits below them, times 2**-24."""
    if np.dtype(dtype) == np.float32:
        index = np.arange(offset, offset + n, dtype=np.uint64)
        golden = np.uint64(0x9E3779B97F4A7C15)
        z = _random.mix64_array(np.uint64(key) + (index + np.uint64(1)) * golden)
        u1 = (z >> np.uint64(40)).astype(np.float64) * 2.0**-24
        u2 = ((z >> np.uint64(16)) & np.uint64(0xFFFFFF)).astype(np.float64) * 2.0**-24
    else:
        u = stream_uniforms(key, 2 * n, dtype, 2 * offset).astype(np.float64)
        u1, u2 = u[0::2], u[1::2]
    return (np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)).astype(dtype)


def bernoulli(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """0/1 draws ``u < p`` in ``p``'s dtype, as crbm's kernels draw them: one
    64-bit key from the generator, then one stream uniform per element."""
    key = int(rng.bit_generator.random_raw())
    u = stream_uniforms(key, p.size, p.dtype).reshape(p.shape)
    return (u < p).astype(p.dtype)


def gaussian(rng: np.random.Generator, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Draws of ``N(mean, std^2)`` in ``mean``'s dtype, as crbm's kernels
    draw them: one 64-bit key, then one stream normal per element."""
    key = int(rng.bit_generator.random_raw())
    z = stream_normals(key, mean.size, mean.dtype).reshape(mean.shape)
    return (mean + std * z).astype(mean.dtype)


def numpy_gaussian(rng: np.random.Generator, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Draws of ``N(mean, std^2)`` from numpy's own normal stream: the
    benchmarks' baseline sampler, not draw-for-draw crbm's."""
    return (mean + std * rng.standard_normal(mean.shape, dtype=mean.dtype)).astype(mean.dtype)


def numpy_bernoulli(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """0/1 draws ``u < p`` from numpy's own uniform stream.

    Not draw-for-draw what crbm does, but the cheapest numpy sampler: the
    benchmarks' numpy baseline uses it (``sampler=numpy_bernoulli``) so that
    it is not slowed down by emulating crbm's stream.
    """
    return (rng.random(p.shape, dtype=p.dtype) < p).astype(p.dtype)


def softmax_group(field: np.ndarray, bias: np.ndarray, beta: float = 1.0) -> np.ndarray:
    """``softmax(beta (field + bias))`` of each row (a softmax group's means),
    in the field's dtype, computed as the kernels do: the exponentials in
    float64, summed in order."""
    dt = field.dtype.type
    z = (dt(beta) * (field + bias)).astype(np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True)).astype(field.dtype).astype(np.float64)
    return (e / np.cumsum(e, axis=1)[:, -1:]).astype(field.dtype)


def one_hot_draw(u: np.ndarray, p: np.ndarray) -> np.ndarray:
    """One-hot states of a softmax group from its means ``p`` (rows x K) and
    one uniform per row: unit k is on for the first k whose running sum of
    ``p`` exceeds ``u`` (the last unit if none does)."""
    running = np.cumsum(p.astype(np.float64), axis=1)[:, :-1]
    pick = (running <= u.astype(np.float64)[:, None]).sum(axis=1)
    return (np.arange(p.shape[1]) == pick[:, None]).astype(p.dtype)


def grouped_means(field: np.ndarray, b: np.ndarray, n_labels: int,
                  beta: float = 1.0) -> np.ndarray:
    """Means of Bernoulli units whose last ``n_labels`` form a softmax group."""
    dt = field.dtype.type
    P = field.shape[1] - n_labels  # the Bernoulli units before the group
    return np.concatenate([sigmoid(dt(beta) * (field[:, :P] + b[:P])),
                           softmax_group(field[:, P:], b[P:], beta)], axis=1)


def grouped_draw(key: int, offset: int, means: np.ndarray, n_labels: int) -> np.ndarray:
    """States from :func:`grouped_means`, from stream ``key`` at the kernels'
    positions: ``u < mean`` for the Bernoulli units, and for the group the
    uniform at the position of its first unit."""
    rows, width = means.shape
    P = width - n_labels  # the Bernoulli units before the group
    u = stream_uniforms(key, rows * width, means.dtype, offset).reshape(rows, width)
    return np.concatenate([(u[:, :P] < means[:, :P]).astype(means.dtype),
                           one_hot_draw(u[:, P], means[:, P:])], axis=1)


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


class _Visible:
    """The visible layer's formulas: Bernoulli units (``log_var`` None) or
    Gaussian ones with log sigma^2 ``log_var``."""

    def __init__(self, b: np.ndarray, log_var: Optional[np.ndarray], sampler, gaussian_sampler,
                 n_labels: int = 0):
        self.b, self.log_var, self.n_labels = b, log_var, n_labels
        self.sampler, self.gaussian_sampler = sampler, gaussian_sampler
        if log_var is not None:
            dt = b.dtype
            self.precision = np.exp(-log_var.astype(np.float64)).astype(dt)
            self.std = np.exp(0.5 * log_var.astype(np.float64)).astype(dt)

    def inputs(self, V: np.ndarray) -> np.ndarray:
        """What the states send into the products with W: v, or v / sigma^2."""
        return V if self.log_var is None else V * self.precision

    def sample(self, rng: np.random.Generator, field: np.ndarray) -> np.ndarray:
        """States given the field H W^T."""
        if self.n_labels:
            return grouped_draw(int(rng.bit_generator.random_raw()), 0,
                                grouped_means(field, self.b, self.n_labels), self.n_labels)
        if self.log_var is None:
            return self.sampler(rng, sigmoid(field + self.b))
        return self.gaussian_sampler(rng, field + self.b, self.std)


def cd_batch_update(rng: np.random.Generator, V0: np.ndarray, W: np.ndarray,
                    b: np.ndarray, c: np.ndarray, learning_rate: float,
                    k: int = 1, sampler=bernoulli, *, chains: Optional[np.ndarray] = None,
                    velocity: Optional[list] = None, offsets: Optional[list] = None,
                    momentum: float = 0.0, weight_decay: float = 0.0,
                    sparsity_target: float = 0.0, sparsity_cost: float = 0.0,
                    offset_rate: float = 0.0, sampled_statistics: bool = False,
                    log_var: Optional[np.ndarray] = None, learn_variance: bool = False,
                    min_log_var: float = -np.inf, gaussian_sampler=gaussian,
                    chains_from_noise: bool = False, n_labels: int = 0,
                    clamp_labels: bool = False, discriminative: float = 0.0) -> None:
    """Minibatch CD-k (``chains`` None) or PCD-k (``chains``: the persistent
    visible states, updated in place; with ``chains_from_noise`` they restart
    from crbm-stream random states every update, non-equilibrium CD-k,
    and end holding its negative states); p(h|v0) positive and p(h|vk) negative
    statistics, each averaged over its rows. Options as in the kernel:
    sparsity target, L2 weight decay, momentum (``velocity = [vW, vb, vc]``,
    or ``[vW, vb, vc, vz]`` with a learned variance, updated in place),
    centering (``offsets = [mu, lambda]``, in place; ``mu`` is unused by
    Gaussian units), hidden statistics from sampled states
    (``sampled_statistics``), and for Gaussian visible units (``log_var``)
    the step of log sigma^2 (``learn_variance``, floored at ``min_log_var``).
    The last ``n_labels`` visible units form a softmax group (a one-hot
    label), which chains from noise start with no unit on; ``clamp_labels``
    holds negative chain i's group at data row i % n's label (after every
    visible half-step, the draws still made); ``discriminative`` adds that
    weight times the gradient of the mean log p(y | x) (the hybrid objective
    of Larochelle & Bengio 2008, :func:`label_posterior_gradient`).
    """
    dt = W.dtype.type

    def held(V):
        if clamp_labels:
            V[:, -n_labels:] = V0[np.arange(len(V)) % len(V0), -n_labels:]
        return V

    lr = dt(learning_rate)
    visible = _Visible(b, log_var, sampler, gaussian_sampler, n_labels)
    VI0 = visible.inputs(V0)
    PH0 = sigmoid(VI0 @ W + c)
    mean_h0 = PH0.mean(axis=0)
    if chains is None:
        H = sampler(rng, PH0)
        if sampled_statistics:
            PH0 = H
        for step in range(k):
            V = held(visible.sample(rng, H @ W.T))
            PH = sigmoid(visible.inputs(V) @ W + c)
            if step + 1 < k:
                H = sampler(rng, PH)
    else:
        if sampled_statistics:
            PH0 = sampler(rng, PH0)
        V = chains.copy()
        if chains_from_noise:
            key = int(rng.bit_generator.random_raw())
            if log_var is None:
                u = stream_uniforms(key, V.size, V.dtype).reshape(V.shape)
                V = (u < dt(0.5)).astype(V.dtype)
                if n_labels:
                    V[:, V.shape[1] - n_labels:] = 0
            else:
                z = stream_normals(key, V.size, V.dtype).reshape(V.shape)
                V = (b + visible.std * z).astype(V.dtype)
        V = held(V)
        for _ in range(k):
            H = sampler(rng, sigmoid(visible.inputs(V) @ W + c))
            V = held(visible.sample(rng, H @ W.T))
        chains[...] = V
        PH = sigmoid(visible.inputs(V) @ W + c)
    if sampled_statistics:
        PH = sampler(rng, PH)
    VI = visible.inputs(V)
    mean_v0 = VI0.mean(axis=0)
    positive = PH0 + dt(sparsity_cost) * (dt(sparsity_target) - PH0)
    G = VI0.T @ positive / dt(len(V0)) - VI.T @ PH / dt(len(V))
    dv = mean_v0 - VI.mean(axis=0)
    dh = positive.mean(axis=0) - PH.mean(axis=0)
    if discriminative:
        gW, gb, gc = label_posterior_gradient(V0, W, b, c, n_labels)
        G, dv, dh = (G + dt(discriminative) * gW, dv + dt(discriminative) * gb,
                     dh + dt(discriminative) * gc)
    step_z = None
    if log_var is not None and learn_variance:
        # d/d(log sigma^2): the data's minus the chains' mean squared
        # deviation from b over 2 sigma^2, minus sum_j W_ij G_ij.
        squares = ((V0 - b) ** 2).mean(axis=0) - ((V - b) ** 2).mean(axis=0)
        step_z = lr * (dt(0.5) * visible.precision * squares) - (W * (lr * G)).sum(axis=1)
    if offsets is not None:
        mu, lam = offsets
        if log_var is None:
            G = G - np.outer(mu, dh)
        G = G - np.outer(dv, lam)
    step_W = lr * (G - dt(weight_decay) * W)
    step_b, step_c = lr * dv, lr * dh
    if velocity is not None:
        vW, vb, vc = velocity[:3]
        vW[...] = dt(momentum) * vW + step_W
        vb[...] = dt(momentum) * vb + step_b
        vc[...] = dt(momentum) * vc + step_c
        step_W, step_b, step_c = vW, vb, vc
        if step_z is not None:
            vz = velocity[3]
            vz[...] = dt(momentum) * vz + step_z
            step_z = vz
    W += step_W
    b += step_b
    c += step_c
    if step_z is not None:
        log_var[...] = np.maximum(log_var + step_z, dt(min_log_var))
    if offsets is not None:
        b -= step_W @ lam
        if log_var is None:
            c -= step_W.T @ mu
            mu += dt(offset_rate) * (mean_v0 - mu)
        lam += dt(offset_rate) * (mean_h0 - lam)


def label_posterior_gradient(V0: np.ndarray, W: np.ndarray, b: np.ndarray, c: np.ndarray,
                             n_labels: int) -> tuple:
    """The gradient of the mean log p(y | x) over joint rows ``V0`` (pixels,
    then a one-hot label in the last ``n_labels`` columns) with respect to
    W, b and c, the hidden units and the label summed out (Larochelle &
    Bengio 2008): with ``o_kj = c_j + U_kj + (x W)_j``, ``p = softmax_k(d_k +
    sum_j softplus(o_kj))`` and ``s = sigmoid(o)``, dW = x^T (s_y - E_p s),
    dU_k = mean [k = y] s_y - p_k s_k, dc = mean s_y - E_p s, dd = mean y - p.
    """
    P, n = W.shape[0] - n_labels, len(V0)
    X, Y = V0[:, :P], V0[:, P:]
    O = (X @ W[:P] + c)[:, None, :] + W[P:][None]               # n x K x M
    F = b[P:] + np.logaddexp(0, O).sum(axis=2)
    p = np.exp(F - F.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    S = sigmoid(O)
    s_y = np.einsum("rk,rkj->rj", Y, S)
    expected = np.einsum("rk,rkj->rj", p, S)
    gW = np.empty_like(W)
    gW[:P] = X.T @ (s_y - expected) / n
    gW[P:] = (Y.T @ s_y - np.einsum("rk,rkj->kj", p, S)) / n
    gb = np.zeros_like(b)
    gb[P:] = (Y - p).mean(axis=0)
    return gW, gb, (s_y - expected).mean(axis=0)


def train(rng: np.random.Generator, data: np.ndarray, W: np.ndarray,
          b: np.ndarray, c: np.ndarray, learning_rate: float, epochs: int,
          batch_size: int = 1, k: int = 1, sampler=bernoulli, *,
          log_var: Optional[np.ndarray] = None, **options) -> None:
    """``epochs`` ordered passes over ``data`` (rows), as ``RBM.train`` does:
    per-sample CD for Bernoulli units at ``batch_size`` 1, else minibatch
    steps with ``options`` (those of :func:`cd_batch_update`)."""
    data = np.asarray(data)
    for _ in range(epochs):
        for start in range(0, len(data), batch_size):
            batch = data[start:start + batch_size].astype(W.dtype)
            if batch_size == 1 and log_var is None and not options:
                cd_sample_update(rng, batch[0], W, b, c, learning_rate, k, sampler)
            else:
                cd_batch_update(rng, batch, W, b, c, learning_rate, k, sampler,
                                log_var=log_var, **options)


def gibbs_sweep(rng: np.random.Generator, V: np.ndarray, W: np.ndarray,
                b: np.ndarray, c: np.ndarray, sampler=bernoulli, *,
                log_var: Optional[np.ndarray] = None, gaussian_sampler=gaussian,
                beta: float = 1.0, mask: Optional[np.ndarray] = None,
                values: Optional[np.ndarray] = None, n_labels: int = 0) -> np.ndarray:
    """One sweep v -> h -> v over the chains in the rows of ``V``, at
    inverse temperature ``beta``; where ``mask`` is true the visible states
    are ``values`` (both broadcast to ``V``). Tempered or clamped sweeps
    draw crbm's streams (``units_sample``), whatever ``sampler`` is; so do
    the last ``n_labels`` visible units, a softmax group."""
    visible = _Visible(b, log_var, sampler, gaussian_sampler, n_labels)
    if beta == 1 and mask is None:
        H = sampler(rng, sigmoid(visible.inputs(V) @ W + c))
        return visible.sample(rng, H @ W.T)
    H = units_sample("bernoulli", int(rng.bit_generator.random_raw()), 0,
                     visible.inputs(V) @ W, c, beta=beta)
    kind = "bernoulli" if log_var is None else "gaussian"
    std = None if log_var is None else visible.std
    return units_sample(kind, int(rng.bit_generator.random_raw()), 0, H @ W.T, b, std,
                        beta, mask, values, n_labels)


def initial_states(rng: np.random.Generator, n_samples: int, b: np.ndarray,
                   log_var: Optional[np.ndarray] = None, sampler=bernoulli,
                   gaussian_sampler=gaussian, n_labels: int = 0) -> np.ndarray:
    """Chains' starting states, as ``RBM.generate`` and PCD draw them: fair
    coin flips, or for Gaussian units ``N(b, sigma^2)``; a softmax group of
    the last ``n_labels`` units starts with no unit on."""
    if log_var is None:
        V = sampler(rng, np.full((n_samples, len(b)), 0.5, dtype=b.dtype))
        if n_labels:
            V[:, len(b) - n_labels:] = 0
        return V
    std = np.exp(0.5 * log_var.astype(np.float64)).astype(b.dtype)
    return gaussian_sampler(rng, np.tile(b, (n_samples, 1)), std)


def generate(rng: np.random.Generator, W: np.ndarray, b: np.ndarray,
             c: np.ndarray, n_samples: int, n_steps: int, sampler=bernoulli, *,
             log_var: Optional[np.ndarray] = None, gaussian_sampler=gaussian,
             init: Optional[np.ndarray] = None, beta: float = 1.0,
             mask: Optional[np.ndarray] = None, values: Optional[np.ndarray] = None,
             return_probabilities: bool = False, n_labels: int = 0) -> np.ndarray:
    """Chains from ``init`` or :func:`initial_states`, the clamped units set
    to their values, then ``n_steps`` sweeps, as ``RBM.generate`` does; with
    ``return_probabilities``, the last sweep returns ``E[v | h]`` (clamped
    units at their values) instead of drawing ``v``."""
    if init is None:
        V = initial_states(rng, n_samples, b, log_var, sampler, gaussian_sampler, n_labels)
    else:
        V = np.array(init, dtype=b.dtype)
    if mask is not None:
        V = np.where(np.broadcast_to(mask, V.shape) != 0, np.broadcast_to(values, V.shape),
                     V).astype(b.dtype)
    for _ in range(n_steps - 1 if return_probabilities else n_steps):
        V = gibbs_sweep(rng, V, W, b, c, sampler, log_var=log_var,
                        gaussian_sampler=gaussian_sampler, beta=beta, mask=mask,
                        values=values, n_labels=n_labels)
    if return_probabilities:
        visible = _Visible(b, log_var, sampler, gaussian_sampler)
        H = sampler(rng, sigmoid(beta * (visible.inputs(V) @ W + c)))
        field = H @ W.T
        if n_labels:
            V = grouped_means(field, b, n_labels, beta)
        else:
            V = (sigmoid(beta * (field + b)) if log_var is None else field + b).astype(b.dtype)
        if mask is not None:
            V = np.where(np.broadcast_to(mask, V.shape) != 0, np.broadcast_to(values, V.shape),
                         V).astype(b.dtype)
    return V


def joint_energy(V: np.ndarray, H: np.ndarray, W: np.ndarray, b: np.ndarray, c: np.ndarray,
                 log_var: Optional[np.ndarray] = None) -> np.ndarray:
    """E(v, h) of each row pair: ``-b.v - c.h - v W h`` for Bernoulli visible
    units, ``sum (v - b)^2 / 2 sigma^2 - c.h - (v / sigma^2) W h`` for
    Gaussian ones (in float64)."""
    V, H = V.astype(np.float64), H.astype(np.float64)
    W, b, c = W.astype(np.float64), b.astype(np.float64), c.astype(np.float64)
    if log_var is None:
        own, inputs = -V @ b, V
    else:
        precision = np.exp(-log_var.astype(np.float64))
        own, inputs = 0.5 * ((V - b) ** 2 * precision).sum(axis=1), V * precision
    return own - H @ c - np.einsum("ij,ij->i", inputs @ W, H)


def tempering_sweeps(rng: np.random.Generator, V: np.ndarray, W: np.ndarray, b: np.ndarray,
                     c: np.ndarray, betas: np.ndarray, n_sweeps: int, parity: int = 0, *,
                     log_var: Optional[np.ndarray] = None, mask: Optional[np.ndarray] = None,
                     values: Optional[np.ndarray] = None):
    """Parallel tempering as crbm runs it: ``V`` holds R blocks of chains
    (R x n x N), block r at ``betas[r]``. Each sweep is a tempered Gibbs
    sweep of every block in turn (two keys each), then, with one more key,
    swaps of chain i's states between blocks r and r + 1 for every r of the
    current parity, accepted when uniform ``r n + i`` of that key's stream
    is below ``exp((beta_r - beta_{r+1}) (E_r - E_{r+1}))`` with E the joint
    energy of the sweep's (v, h); the parity then flips.

    Returns ``(V, parity, accepted, attempted)``, the last two per pair."""
    V = np.array(V, dtype=b.dtype)
    R, n, _ = V.shape
    kind = "bernoulli" if log_var is None else "gaussian"
    visible = _Visible(b, log_var, None, None)
    std = None if log_var is None else visible.std
    accepted, attempted = np.zeros(max(R - 1, 0), np.int64), np.zeros(max(R - 1, 0), np.int64)
    energies = np.empty((R, n))
    for _ in range(n_sweeps):
        for r in range(R):
            H = units_sample("bernoulli", int(rng.bit_generator.random_raw()), 0,
                             visible.inputs(V[r]) @ W, c, beta=betas[r])
            V[r] = units_sample(kind, int(rng.bit_generator.random_raw()), 0, H @ W.T, b, std,
                                betas[r], mask, values)
            energies[r] = joint_energy(V[r], H, W, b, c, log_var)
        key = int(rng.bit_generator.random_raw())
        u = stream_uniforms(key, R * n, np.float64).reshape(R, n)
        for r in range(parity, R - 1, 2):
            log_ratio = (betas[r] - betas[r + 1]) * (energies[r] - energies[r + 1])
            swap = (log_ratio >= 0) | (u[r] < np.exp(np.minimum(log_ratio, 0)))
            V[r, swap], V[r + 1, swap] = V[r + 1, swap].copy(), V[r, swap].copy()
            energies[r, swap], energies[r + 1, swap] = energies[r + 1, swap], energies[r, swap]
            accepted[r] += swap.sum()
            attempted[r] += n
        parity = 1 - parity
    return V, parity, accepted, attempted


def units_sample(kind: str, key: int, offset: int, field: np.ndarray, bias: np.ndarray,
                 std: Optional[np.ndarray] = None, beta: float = 1.0,
                 mask: Optional[np.ndarray] = None,
                 values: Optional[np.ndarray] = None, n_softmax: int = 0) -> np.ndarray:
    """States of a block of a layer's units from their fields (rows x width),
    drawing from stream ``key`` at position ``offset + r * width + j`` for
    state (r, j), at inverse temperature ``beta`` (the whole energy times
    beta); where ``mask`` is true the state is ``values`` (both broadcast to
    the block). ``kind`` is ``"bernoulli"`` or ``"gaussian"``; the last
    ``n_softmax`` Bernoulli units may form a softmax group (:func:`grouped_draw`)."""
    rows, width = field.shape
    dt = field.dtype.type
    if n_softmax:
        states = grouped_draw(key, offset, grouped_means(field, bias, n_softmax, beta), n_softmax)
    elif kind == "bernoulli":
        u = stream_uniforms(key, rows * width, field.dtype, offset).reshape(rows, width)
        states = (u < sigmoid(dt(beta) * (field + bias))).astype(field.dtype)
    else:
        z = stream_normals(key, rows * width, field.dtype, offset).reshape(rows, width)
        scale = 1.0 if beta == 1 else 1.0 / np.sqrt(beta)
        states = ((field + bias) + (std * dt(scale)) * z).astype(field.dtype)
    if mask is not None:
        states = np.where(np.broadcast_to(mask, states.shape) != 0,
                          np.broadcast_to(values, states.shape), states).astype(field.dtype)
    return states


def annealing(rng: np.random.Generator, V: np.ndarray, W: np.ndarray, b: np.ndarray,
              c: np.ndarray, betas: np.ndarray, base_bias: Optional[np.ndarray] = None, *,
              log_var: Optional[np.ndarray] = None,
              transition_at_end: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Annealed importance sampling's steps as crbm runs them, on the runs
    in the rows of ``V``, through ``p*_beta(v) = exp(-(1 - beta) E_base(v) -
    beta E_v(v)) sum_h exp(beta (input(v) W + c) . h)``: a base with visible
    biases ``base_bias`` (Bernoulli units; for Gaussian ones, ``None``, the
    base is their own ``N(b, sigma^2)``) and uniform hidden units. For each
    step from ``betas[k - 1]`` to ``betas[k]`` the log-weight gains ``log
    p*_{betas[k]}(v) - log p*_{betas[k - 1]}(v)`` (in float64), then a Gibbs
    transition at ``betas[k]`` draws H (one key) and V (one key) from the
    fields ``beta (input(v) W)`` and ``beta (h W^T)`` with biases ``c`` and
    ``(1 - beta) base_bias + beta b``; none after the last step unless
    ``transition_at_end``.

    Returns ``(V, log_w)``."""
    V = np.array(V, dtype=b.dtype)
    dt = b.dtype.type
    visible = _Visible(b, log_var, None, None)
    kind = "bernoulli" if log_var is None else "gaussian"
    std = None if log_var is None else visible.std
    c64 = c.astype(np.float64)
    shift = None if base_bias is None else b.astype(np.float64) - base_bias.astype(np.float64)
    log_w = np.zeros(len(V))
    for k in range(1, len(betas)):
        beta, before = float(betas[k]), float(betas[k - 1])
        X = visible.inputs(V) @ W
        z = X.astype(np.float64) + c64
        log_w += (np.logaddexp(0.0, beta * z) - np.logaddexp(0.0, before * z)).sum(axis=1)
        if shift is not None:
            log_w += (beta - before) * (V.astype(np.float64) @ shift)
        if k == len(betas) - 1 and not transition_at_end:
            break
        H = units_sample("bernoulli", int(rng.bit_generator.random_raw()), 0, X, c, beta=beta)
        mixed = b if base_bias is None else (
            (1 - beta) * base_bias.astype(np.float64) + beta * b.astype(np.float64)).astype(b.dtype)
        V = units_sample(kind, int(rng.bit_generator.random_raw()), 0, (H @ W.T) * dt(beta),
                         mixed, std)
    return V, log_w

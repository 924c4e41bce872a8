"""Annealed importance sampling (AIS) of an RBM's log partition function.

Forward AIS (Neal 2001; Salakhutdinov & Murray, "On the quantitative
analysis of deep belief networks", ICML 2008) draws runs from a base model
with no weights, whose ``log Z_base`` is known, and anneals them to the
model through ``p_beta(v, h) ~ exp(-(1 - beta) E_base(v) - beta E(v, h))``;
the mean importance weight estimates ``Z / Z_base``. Its log underestimates
``log Z`` on average (Jensen's inequality), most where the runs miss modes
of the model, so the log-likelihood it gives is optimistic.

Reverse AIS (Burda, Grosse & Salakhutdinov, "Accurate and conservative
estimates of MRF log-likelihood using reverse annealing", AISTATS 2015)
runs the same chain backwards, from states of the model down to the base:
its mean weight estimates ``Z_base / Z``, so ``log Z_base - log(mean)``
overestimates ``log Z`` on average and the log-likelihood it gives is
conservative. Exact model states are not to be had; like Burda et al. and
PyDeep, the runs start from data rows (their hidden units drawn from
``p(h | v)`` by the first transition), which the model was trained to
give high probability.

The steps run in the compiled core (``crbm.kernels.anneal``): nogil on
crbm's threads, counter-based draws, log-weights summed in float64, in
chunks between which Python sees Ctrl-C and reports progress.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np
from scipy.special import expit, logsumexp

# Run-steps per chunk of nogil work (about a tenth of a second for a
# 784 x 500 model): short enough for Ctrl-C, long enough to cost nothing.
_CHUNK_RUN_STEPS = 4096
# The base rate's probabilities are kept this far from 0 and 1, so that
# the base model's biases stay finite.
_RATE_MARGIN = 1e-3

Progress = Optional[Callable[[int], None]]


def schedule(n_betas: int) -> np.ndarray:
    """Inverse temperatures from 0 to 1, denser near 1 where the model is
    sharpest: Salakhutdinov & Murray's schedule (1/29, 8/29 and 20/29 of the
    steps on [0, 0.5], [0.5, 0.9] and [0.9, 1]), with ``n_betas >= 4`` points."""
    n1 = max(1, round(n_betas / 29))
    n2 = max(1, round(n_betas * 8 / 29))
    n3 = n_betas - n1 - n2
    return np.concatenate([np.linspace(0, 0.5, n1, endpoint=False),
                           np.linspace(0.5, 0.9, n2, endpoint=False),
                           np.linspace(0.9, 1.0, n3)])


class Base:
    """The base model of a run: no weights, uniform hidden units, and
    visible units that are independent Bernoulli units of marginals
    ``rate`` (uniform if None) or, for Gaussian visible units, the model's
    own ``N(visible_bias, visible_std^2)``."""

    def __init__(self, model: Any, rate: Optional[np.ndarray]):
        self.model = model
        self.gaussian = model.visible.has_variance
        if self.gaussian:
            self.bias = np.empty(0, dtype=model.dtype)
            std = model.visible_std.astype(np.float64)
            self.log_z = float(np.sum(np.log(np.sqrt(2 * np.pi) * std)))
        else:
            p = (np.full(model.n_visible, 0.5) if rate is None
                 else np.clip(rate, _RATE_MARGIN, 1 - _RATE_MARGIN))
            logits = np.log(p) - np.log1p(-p)
            self.bias = logits.astype(model.dtype)
            self.log_z = float(np.logaddexp(0.0, self.bias.astype(np.float64)).sum())
        self.log_z += model.n_hidden * np.log(2.0)

    def draw(self, n_runs: int, rng: np.random.Generator) -> np.ndarray:
        """``n_runs`` exact draws of the base model's visible units."""
        model = self.model
        if self.gaussian:
            V = model.visible_bias + model.visible_std * rng.standard_normal(
                (n_runs, model.n_visible))
        else:
            V = rng.random((n_runs, model.n_visible)) < expit(self.bias.astype(np.float64))
        return np.ascontiguousarray(V, dtype=model.dtype)


def anneal(model: Any, V: np.ndarray, betas: np.ndarray, base: Base, rng: np.random.Generator,
           progress: Progress = None) -> np.ndarray:
    """Run the rows of ``V`` (in place) through ``betas``; returns their
    log-weights, ``sum_k log p*_{betas[k]}(v_k) - log p*_{betas[k-1]}(v_k)``."""
    log_w = np.zeros(len(V))
    n_steps = len(betas) - 1
    chunk = max(1, _CHUNK_RUN_STEPS // len(V))
    if progress is not None:
        chunk = min(chunk, max(1, n_steps // 50))
    # Chunks share their end points: a chunk's last beta is the next one's
    # first, and its transition there is the chunk's last one.
    for start in range(0, n_steps, chunk):
        stop = min(n_steps, start + chunk)
        model._anneal(rng, V, betas[start:stop + 1], base.bias, log_w, stop < n_steps)
        if progress is not None:
            progress(stop - start)
    return log_w


def log_mean_exp(log_w: np.ndarray) -> tuple[float, float, float]:
    """``log(mean(exp(log_w)))`` and the logs of that mean -+3 of its
    standard errors (-inf when the lower end is not positive)."""
    n = len(log_w)
    log_mean = float(logsumexp(log_w) - np.log(n))
    w = np.exp(log_w - log_w.max())
    spread = 3 * w.std(ddof=1) / np.sqrt(n) / w.mean()
    low = log_mean + (np.log1p(-spread) if spread < 1 else -np.inf)
    return log_mean, float(low), float(log_mean + np.log1p(spread))


def forward(model: Any, n_runs: int, betas: np.ndarray, rate: Optional[np.ndarray],
            rng: np.random.Generator,
            progress: Progress = None) -> tuple[float, tuple[float, float]]:
    """Forward AIS: ``log Z`` and its +-3 standard-error interval."""
    base = Base(model, rate)
    log_w = anneal(model, base.draw(n_runs, rng), betas, base, rng, progress)
    value, low, high = log_mean_exp(log_w)
    return base.log_z + value, (base.log_z + low, base.log_z + high)


def reverse(model: Any, start: np.ndarray, betas: np.ndarray, rate: Optional[np.ndarray],
            rng: np.random.Generator,
            progress: Progress = None) -> tuple[float, tuple[float, float]]:
    """Reverse AIS from the rows of ``start`` (one run each): ``log Z`` and
    its +-3 standard-error interval (the weights estimate ``Z_base / Z``)."""
    base = Base(model, rate)
    V = np.array(start, dtype=model.dtype, order="C")
    log_w = anneal(model, V, np.ascontiguousarray(betas[::-1]), base, rng, progress)
    value, low, high = log_mean_exp(log_w)
    return base.log_z - value, (base.log_z - high, base.log_z - low)

"""Measuring what an RBM learned: free energy, reconstruction, likelihood.

All functions take a :class:`crbm.RBM` and data rows with values in [0, 1];
they never change the model. The log-likelihood of binary data needs the
log partition function ``log Z``: computed exactly by enumerating the smaller
layer when it has at most 25 units, or estimated by annealed importance
sampling (AIS; Salakhutdinov & Murray, "On the quantitative analysis of deep
belief networks", ICML 2008) from a base-rate model.
"""
from __future__ import annotations

import numbers
from typing import Any, Optional, Union

import numpy as np
from scipy.special import expit, log_expit, logsumexp

from crbm._validation import INT_MAX, RandomState, as_generator, as_unit_rows, check_int

MAX_EXACT_UNITS = 25
# Enumerated states per block, to bound memory in log_partition(exact).
_BLOCK = 1 << 14


def _rows(model: Any, v: Any, name: str = "v", binary: bool = False) -> np.ndarray:
    rows, is_binary = as_unit_rows(v, name, model.n_visible, allow_1d=True)
    if binary and not is_binary:
        raise ValueError(f"{name} must be binary (values 0 or 1) for a likelihood")
    return np.asarray(rows, dtype=np.float64)


def _params(model: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Evaluation runs in float64 whatever the model's dtype: log Z of a
    # float32 model should not lose digits to the sums over 2**25 states.
    return (model.W.astype(np.float64), model.visible_bias.astype(np.float64),
            model.hidden_bias.astype(np.float64))


def free_energy(model: Any, v: Any) -> np.ndarray:
    """``F(v) = -b.v - sum_j softplus(c_j + (v W)_j)``, so ``p(v) = exp(-F(v)) / Z``.

    Returns an array of shape ``(n,)`` (a float for a single 1-D ``v``).
    """
    W, b, c = _params(model)
    V = _rows(model, v)
    F = -(V @ b) - np.logaddexp(0.0, V @ W + c).sum(axis=1)
    return float(F[0]) if np.ndim(v) == 1 else F


def reconstruction_error(model: Any, v: Any) -> float:
    """Mean squared error between ``v`` and its mean-field reconstruction
    ``p(v | h = p(h | v))``, averaged over rows and units."""
    W, b, c = _params(model)
    V = _rows(model, v)
    reconstruction = expit(expit(V @ W + c) @ W.T + b)
    return float(np.mean((V - reconstruction) ** 2))


def pseudo_likelihood(model: Any, v: Any, *, random_state: RandomState = None) -> float:
    """Stochastic pseudo-log-likelihood per visible unit, averaged over rows.

    For each row one unit ``i`` is picked at random and
    ``log p(v_i | v_-i) = log sigmoid(F(v with v_i flipped) - F(v))`` is
    taken as the estimate of the per-unit pseudo-log-likelihood (the sum
    over units divided by their number), as scikit-learn's ``score_samples``
    does up to that factor. ``v`` must be binary.
    """
    V = _rows(model, v, binary=True)
    rng = as_generator(random_state)
    flip = rng.integers(0, model.n_visible, size=len(V))
    flipped = V.copy()
    rows = np.arange(len(V))
    flipped[rows, flip] = 1 - flipped[rows, flip]
    return float(np.mean(log_expit(free_energy(model, flipped) - free_energy(model, V))))


def _states(n_units: int, start: int, stop: int) -> np.ndarray:
    """Rows ``start..stop-1`` of all 0/1 vectors of length ``n_units``."""
    codes = np.arange(start, stop, dtype=np.int64)
    return ((codes[:, None] >> np.arange(n_units)) & 1).astype(np.float64)


def _exact_log_partition(model: Any) -> float:
    W, b, c = _params(model)
    if model.n_hidden <= model.n_visible:
        # Sum over h: Z = sum_h exp(c.h) prod_i (1 + exp(b_i + (W h)_i)).
        small, big_bias, small_bias, weights = model.n_hidden, b, c, W
    else:
        small, big_bias, small_bias, weights = model.n_visible, c, b, W.T
    if small > MAX_EXACT_UNITS:
        raise ValueError(
            f"exact log partition enumerates the smaller layer ({small} units); at most "
            f"{MAX_EXACT_UNITS} are allowed: use method='ais'")
    blocks = []
    for start in range(0, 1 << small, _BLOCK):
        S = _states(small, start, min(1 << small, start + _BLOCK))
        terms = S @ small_bias + np.logaddexp(0.0, S @ weights.T + big_bias).sum(axis=1)
        blocks.append(logsumexp(terms))
    return float(logsumexp(blocks))


def ais_betas(n_betas: int) -> np.ndarray:
    """Inverse temperatures from 0 to 1, denser near 1 where the model is
    sharpest: Salakhutdinov & Murray's schedule (1/29, 8/29 and 20/29 of the
    steps on [0, 0.5], [0.5, 0.9] and [0.9, 1]), with ``n_betas`` points."""
    n_betas = check_int("n_betas", n_betas, 4, INT_MAX)  # room for both ends of [0.9, 1]
    n1 = max(1, round(n_betas / 29))
    n2 = max(1, round(n_betas * 8 / 29))
    n3 = n_betas - n1 - n2
    return np.concatenate([np.linspace(0, 0.5, n1, endpoint=False),
                           np.linspace(0.5, 0.9, n2, endpoint=False),
                           np.linspace(0.9, 1.0, n3)])


def _ais_log_partition(model: Any, n_runs: int, n_betas: int, base_rate: Optional[np.ndarray],
                       random_state: RandomState) -> tuple[float, tuple[float, float]]:
    W, b, c = _params(model)
    n_runs = check_int("n_runs", n_runs, 2, INT_MAX)
    betas = ais_betas(n_betas)
    rng = as_generator(random_state)
    if base_rate is None:
        b_base = np.zeros(model.n_visible)
    else:
        p = np.asarray(base_rate)
        if p.dtype.kind not in "biuf":
            raise TypeError(f"base_rate must be real numbers, got dtype {p.dtype}")
        p = p.astype(np.float64)
        if p.shape != (model.n_visible,):
            raise ValueError(f"base_rate must have shape ({model.n_visible},), got {p.shape}")
        if not np.all((p >= 0) & (p <= 1)):  # also catches NaN
            raise ValueError("base_rate must hold probabilities in [0, 1]")
        p = np.clip(p, 1e-3, 1 - 1e-3)
        b_base = np.log(p / (1 - p))
    # The base model (W = 0, c = 0, visible biases b_base) is sampled exactly.
    log_z_base = np.logaddexp(0.0, b_base).sum() + model.n_hidden * np.log(2.0)
    V = (rng.random((n_runs, model.n_visible)) < expit(b_base)).astype(np.float64)

    def log_p_star(beta):  # unnormalised log p_beta(v), hidden units summed out
        return (1 - beta) * v_base + beta * v_bias + np.logaddexp(0.0, beta * X).sum(axis=1)

    # X = V W + c is shared by both weights of a step and the hidden draw.
    X, v_base, v_bias = V @ W + c, V @ b_base, V @ b
    log_w = -log_p_star(betas[0])
    for beta in betas[1:-1]:
        log_w += log_p_star(beta)
        # One Gibbs transition that leaves p_beta invariant.
        H = (rng.random((n_runs, model.n_hidden)) < expit(beta * X)).astype(np.float64)
        V = (rng.random(V.shape) < expit((1 - beta) * b_base + beta * (H @ W.T + b))).astype(np.float64)
        X, v_base, v_bias = V @ W + c, V @ b_base, V @ b
        log_w -= log_p_star(beta)
    log_w += log_p_star(betas[-1])
    log_mean = logsumexp(log_w) - np.log(n_runs)
    # +-3 standard errors of the mean importance weight, in log space.
    w = np.exp(log_w - log_w.max())
    spread = 3 * w.std(ddof=1) / np.sqrt(n_runs) / w.mean()
    low = log_mean + (np.log1p(-spread) if spread < 1 else -np.inf)
    high = log_mean + np.log1p(spread)
    return float(log_z_base + log_mean), (float(log_z_base + low), float(log_z_base + high))


def log_partition(model: Any, method: str = "exact", *, n_runs: int = 100,
                  n_betas: int = 10000, base_rate: Optional[np.ndarray] = None,
                  random_state: RandomState = None,
                  return_interval: bool = False) -> Union[float, tuple[float, tuple[float, float]]]:
    """``log Z``, exactly or by annealed importance sampling.

    Parameters
    ----------
    method : {"exact", "ais"}
        ``"exact"`` enumerates the smaller layer (at most 25 units).
        ``"ais"`` anneals ``n_runs`` chains through ``n_betas`` inverse
        temperatures from a base-rate model with visible marginals
        ``base_rate`` (e.g. the training data's pixel means; uniform if
        None) and no weights.
    return_interval : bool
        Also return ``(low, high)``: for AIS, log of the mean importance
        weight +-3 standard errors; for the exact value, ``(logZ, logZ)``.
    """
    if method == "exact":
        value = _exact_log_partition(model)
        interval = (value, value)
    elif method == "ais":
        value, interval = _ais_log_partition(model, n_runs, n_betas, base_rate, random_state)
    else:
        raise ValueError(f"method must be 'exact' or 'ais', got {method!r}")
    return (value, interval) if return_interval else value


def log_likelihood(model: Any, v: Any, *, log_z: Optional[float] = None, method: str = "ais",
                   **kwargs: Any) -> float:
    """Mean ``log p(v)`` over the rows of ``v``: ``-F(v) - log Z``.

    ``log_z`` may be given (e.g. from one :func:`log_partition` call reused
    across data sets); otherwise it is computed with ``method`` and
    ``kwargs`` (for AIS the base rate defaults to ``v``'s pixel means).
    ``v`` must be binary.
    """
    V = _rows(model, v, binary=True)
    if log_z is not None:
        if isinstance(log_z, bool) or not isinstance(log_z, numbers.Real):
            raise TypeError(f"log_z must be a real number, got {log_z!r}")
        if not np.isfinite(log_z):
            raise ValueError(f"log_z must be finite, got {log_z}")
    if log_z is None:
        if method == "ais":
            kwargs.setdefault("base_rate", V.mean(axis=0))
        log_z = log_partition(model, method, **kwargs)
    return float(np.mean(-free_energy(model, V)) - log_z)


def monitor(model: Any, train_rows: np.ndarray, validation_rows: np.ndarray) -> dict:
    """The learning-curve figures for one epoch (see ``RBM.train(validation=...)``).

    ``train_rows`` is a probe of the training data as large as the validation
    set. The pseudo-likelihood flips the same units every epoch (a fixed
    seed), so its changes come from the model, not from the draw. The
    free-energy gap ``mean F(validation) - mean F(train)`` grows when the
    model starts to overfit (Hinton, "A practical guide to training RBMs").
    """
    return {
        "reconstruction_error": reconstruction_error(model, train_rows),
        "validation_reconstruction_error": reconstruction_error(model, validation_rows),
        "pseudo_likelihood": pseudo_likelihood(model, validation_rows, random_state=0),
        "free_energy_gap": float(np.mean(free_energy(model, validation_rows))
                                 - np.mean(free_energy(model, train_rows))),
    }


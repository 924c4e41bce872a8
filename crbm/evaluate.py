"""Measuring what an RBM learned: free energy, reconstruction, likelihood.

All functions take a :class:`crbm.RBM` and data rows its visible units take
(values in [0, 1] for Bernoulli units, any finite values for Gaussian ones);
they never change the model, and compute in float64 through the unit
types' formulas (:mod:`crbm.units`). The log-likelihood needs the log
partition function ``log Z``: computed exactly by enumerating a layer of
binary units with at most 25 units (the hidden layer, for Gaussian visible
units: the integral over v is Gaussian), or estimated by annealed importance
sampling (AIS; Salakhutdinov & Murray, "On the quantitative analysis of deep
belief networks", ICML 2008). For Gaussian visible units the likelihood is a
density: it depends on the data's scale.
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


def _n_labels(model: Any) -> int:
    return getattr(model, "n_labels", 0)


def _without_labels(model: Any, what: str) -> None:
    if _n_labels(model):
        raise ValueError(f"{what} is not available for models with label units (free_energy, "
                         "log_partition(method='exact') and predict_proba are)")


def _rows(model: Any, v: Any, name: str = "v", binary: bool = False) -> np.ndarray:
    # A model with label units takes rows of its visible and label units.
    width = model.n_visible + _n_labels(model)
    rows, is_binary = as_unit_rows(v, name, width, allow_1d=True,
                                   unit_interval=model.visible.data_in_unit_interval)
    if binary and not is_binary:
        raise ValueError(f"{name} must be binary (values 0 or 1) for a likelihood")
    return np.asarray(rows, dtype=np.float64)


def _params(model: Any) -> tuple:
    # Evaluation runs in float64 whatever the model's dtype: log Z of a
    # float32 model should not lose digits to the sums over 2**25 states.
    log_var = (np.log(model.visible_std.astype(np.float64)) * 2
               if model.visible.has_variance else None)
    W, b = ((model._W, model._visible_bias) if _n_labels(model)
            else (model.W, model.visible_bias))
    return (W.astype(np.float64), b.astype(np.float64),
            model.hidden_bias.astype(np.float64), log_var)


def _free_energy(model: Any, V: np.ndarray, params: tuple) -> np.ndarray:
    W, b, c, log_var = params
    field = model.visible.inputs(V, log_var) @ W
    return model.visible.energy(V, b, log_var) - model.hidden.log_partition(field, c, None)


def free_energy(model: Any, v: Any) -> np.ndarray:
    """``F(v) = E_visible(v) - log sum_h exp(-E_hidden(h) + input(v) W h)``,
    so ``p(v) = exp(-F(v)) / Z``; for Bernoulli units ``-b.v - sum_j
    softplus(c_j + (v W)_j)``, for Gaussian ones ``sum_i (v_i - b_i)^2 / 2
    s_i^2 - sum_j softplus(c_j + (v / s^2) W)_j``.

    Returns an array of shape ``(n,)`` (a float for a single 1-D ``v``).
    """
    V = _rows(model, v)
    F = _free_energy(model, V, _params(model))
    return float(F[0]) if np.ndim(v) == 1 else F


def reconstruction_error(model: Any, v: Any) -> float:
    """Mean squared error between ``v`` and its mean-field reconstruction
    ``E[v | h = p(h | v)]``, averaged over rows and units."""
    _without_labels(model, "reconstruction_error")
    W, b, c, log_var = _params(model)
    V = _rows(model, v)
    hidden = expit(model.visible.inputs(V, log_var) @ W + c)
    reconstruction = model.visible.mean(hidden @ W.T, b, log_var)
    return float(np.mean((V - reconstruction) ** 2))


def pseudo_likelihood(model: Any, v: Any, *, random_state: RandomState = None) -> float:
    """Stochastic pseudo-log-likelihood per visible unit, averaged over rows.

    For each row one unit ``i`` is picked at random and
    ``log p(v_i | v_-i) = log sigmoid(F(v with v_i flipped) - F(v))`` is
    taken as the estimate of the per-unit pseudo-log-likelihood (the sum
    over units divided by their number), as scikit-learn's ``score_samples``
    does up to that factor. ``v`` must be binary, and the visible units
    Bernoulli.
    """
    _without_labels(model, "the pseudo-likelihood")
    if not model.visible.binary:
        raise ValueError(f"the pseudo-likelihood flips binary units; {model.visible.name} "
                         "visible units have none (use free_energy or log_likelihood)")
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
    W, b, c, log_var = _params(model)
    n_labels = _n_labels(model)
    # Enumerate the smaller layer of binary units; the other is summed (or,
    # Gaussian, integrated) out for each of its states by log_partition. A
    # layer with label units sums them out as one softmax group, so its
    # hidden units are the ones enumerated.
    if model.n_hidden <= model.n_visible or not model.visible.binary or n_labels:
        small, enumerated, other = model.n_hidden, model.hidden, model.visible
        own_bias, other_bias, weights = c, b, W
        other_log_var = log_var
        other_log_partition = (_grouped_log_partition(n_labels) if n_labels
                               else other.log_partition)
    else:
        small, enumerated, other = model.n_visible, model.visible, model.hidden
        own_bias, other_bias, weights = b, c, W.T
        other_log_var = None
        other_log_partition = other.log_partition
    if small > MAX_EXACT_UNITS:
        raise ValueError(
            f"exact log partition enumerates a layer of binary units ({small} units); at most "
            f"{MAX_EXACT_UNITS} are allowed: use method='ais'")
    blocks = []
    for start in range(0, 1 << small, _BLOCK):
        S = _states(small, start, min(1 << small, start + _BLOCK))
        terms = -enumerated.energy(S, own_bias, None) + other_log_partition(
            S @ weights.T, other_bias, other_log_var)
        blocks.append(logsumexp(terms))
    return float(logsumexp(blocks))


def _grouped_log_partition(n_labels: int):
    """Bernoulli units' log_partition for a layer whose last ``n_labels``
    units are one softmax group: softplus terms, then the group's log-sum-exp."""
    def log_partition(field: np.ndarray, bias: np.ndarray, log_var: Any) -> np.ndarray:
        z = field + bias
        return (np.logaddexp(0.0, z[:, :-n_labels]).sum(axis=1)
                + logsumexp(z[:, -n_labels:], axis=1))
    return log_partition


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
    W, b, c, log_var = _params(model)
    n_runs = check_int("n_runs", n_runs, 2, INT_MAX)
    betas = ais_betas(n_betas)
    rng = as_generator(random_state)
    if model.visible.has_variance:
        if base_rate is not None:
            raise ValueError("base_rate is for Bernoulli visible units: AIS of Gaussian units "
                             "starts from their own N(visible_bias, visible_std^2)")
        return _ais_gaussian(model, W, b, c, log_var, betas, n_runs, rng)
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
    return _ais_estimate(log_z_base, log_w)


def _ais_gaussian(model: Any, W: np.ndarray, b: np.ndarray, c: np.ndarray, log_var: np.ndarray,
                  betas: np.ndarray, n_runs: int,
                  rng: np.random.Generator) -> tuple[float, tuple[float, float]]:
    """AIS for Gaussian visible units: the interaction and hidden biases are
    annealed, ``p_beta(v, h) ~ exp(-E_visible(v) + beta ((v / s^2) W + c) h)``,
    from independent ``N(b, s^2)`` visible units and uniform hidden ones at
    beta = 0, which are sampled exactly."""
    std, precision = np.exp(0.5 * log_var), np.exp(-log_var)
    log_z_base = 0.5 * (np.log(2 * np.pi) + log_var).sum() + model.n_hidden * np.log(2.0)
    V = b + std * rng.standard_normal((n_runs, model.n_visible))

    def log_p_star(beta):  # unnormalised log p_beta(v) without E_visible(v), the same for all beta
        return np.logaddexp(0.0, beta * X).sum(axis=1)

    X = (V * precision) @ W + c
    log_w = -log_p_star(betas[0])
    for beta in betas[1:-1]:
        log_w += log_p_star(beta)
        H = (rng.random((n_runs, model.n_hidden)) < expit(beta * X)).astype(np.float64)
        V = b + beta * (H @ W.T) + std * rng.standard_normal(V.shape)
        X = (V * precision) @ W + c
        log_w -= log_p_star(beta)
    log_w += log_p_star(betas[-1])
    return _ais_estimate(log_z_base, log_w)


def _ais_estimate(log_z_base: float, log_w: np.ndarray) -> tuple[float, tuple[float, float]]:
    """log Z from AIS's log-weights, with +-3 standard errors of the mean weight."""
    n_runs = len(log_w)
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
        ``"exact"`` enumerates the smaller layer of binary units (at most
        25 units; the hidden layer for Gaussian visible units).
        ``"ais"`` anneals ``n_runs`` chains through ``n_betas`` inverse
        temperatures from a model with no weights: for Bernoulli visible
        units one with visible marginals ``base_rate`` (e.g. the training
        data's pixel means; uniform if None), for Gaussian ones the model's
        own ``N(visible_bias, visible_std^2)``.
    return_interval : bool
        Also return ``(low, high)``: for AIS, log of the mean importance
        weight +-3 standard errors; for the exact value, ``(logZ, logZ)``.
    """
    if method == "exact":
        value = _exact_log_partition(model)
        interval = (value, value)
    elif method == "ais":
        _without_labels(model, "AIS")
        value, interval = _ais_log_partition(model, n_runs, n_betas, base_rate, random_state)
    else:
        raise ValueError(f"method must be 'exact' or 'ais', got {method!r}")
    return (value, interval) if return_interval else value


def log_likelihood(model: Any, v: Any, *, log_z: Optional[float] = None, method: str = "ais",
                   **kwargs: Any) -> float:
    """Mean ``log p(v)`` over the rows of ``v``: ``-F(v) - log Z``.

    ``log_z`` may be given (e.g. from one :func:`log_partition` call reused
    across data sets); otherwise it is computed with ``method`` and
    ``kwargs`` (for AIS of Bernoulli units the base rate defaults to
    ``v``'s pixel means). For Bernoulli visible units ``v`` must be binary;
    for Gaussian ones ``log p`` is a log-density.
    """
    V = _rows(model, v, binary=model.visible.binary)
    if log_z is not None:
        if isinstance(log_z, bool) or not isinstance(log_z, numbers.Real):
            raise TypeError(f"log_z must be a real number, got {log_z!r}")
        if not np.isfinite(log_z):
            raise ValueError(f"log_z must be finite, got {log_z}")
    if log_z is None:
        if method == "ais" and model.visible.binary:
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
    Models with Gaussian visible units have no pseudo-likelihood entry.
    """
    _without_labels(model, "monitor")
    record = {
        "reconstruction_error": reconstruction_error(model, train_rows),
        "validation_reconstruction_error": reconstruction_error(model, validation_rows),
    }
    if model.visible.binary:
        record["pseudo_likelihood"] = pseudo_likelihood(model, validation_rows, random_state=0)
    record["free_energy_gap"] = float(np.mean(free_energy(model, validation_rows))
                                      - np.mean(free_energy(model, train_rows)))
    return record


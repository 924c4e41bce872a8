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
from typing import Any, Callable, Optional, Union

import numpy as np
from scipy.special import expit, log_expit, logsumexp

from crbm import annealing
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
    return annealing.schedule(n_betas)


def _base_rate(model: Any, base_rate: Optional[np.ndarray]) -> Optional[np.ndarray]:
    if base_rate is None:
        return None
    if model.visible.has_variance:
        raise ValueError("base_rate is for Bernoulli visible units: AIS of Gaussian units "
                         "starts from their own N(visible_bias, visible_std^2)")
    p = np.asarray(base_rate)
    if p.dtype.kind not in "biuf":
        raise TypeError(f"base_rate must be real numbers, got dtype {p.dtype}")
    p = p.astype(np.float64)
    if p.shape != (model.n_visible,):
        raise ValueError(f"base_rate must have shape ({model.n_visible},), got {p.shape}")
    if not np.all((p >= 0) & (p <= 1)):  # also catches NaN
        raise ValueError("base_rate must hold probabilities in [0, 1]")
    return p


def _reverse_starts(model: Any, data: Any, n_runs: int, rng: np.random.Generator) -> np.ndarray:
    """``n_runs`` rows of ``data`` for reverse AIS to start from: without
    replacement when there are enough, else with."""
    if data is None:
        raise ValueError("reverse AIS starts from rows of data: give data=")
    V = _rows(model, data, "data", binary=model.visible.binary)
    return V[rng.choice(len(V), n_runs, replace=len(V) < n_runs)]


def log_partition(model: Any, method: str = "exact", *, n_runs: int = 100,
                  n_betas: int = 10000, base_rate: Optional[np.ndarray] = None,
                  data: Any = None, random_state: RandomState = None,
                  return_interval: bool = False,
                  progress: Optional[Callable[[int], None]] = None,
                  ) -> Union[float, tuple[float, tuple[float, float]]]:
    """``log Z``, exactly or by annealed importance sampling.

    Parameters
    ----------
    method : {"exact", "ais", "reverse_ais"}
        ``"exact"`` enumerates the smaller layer of binary units (at most
        25 units; the hidden layer for Gaussian visible units).
        ``"ais"`` anneals ``n_runs`` runs through ``n_betas`` inverse
        temperatures from a model with no weights: for Bernoulli visible
        units one with visible marginals ``base_rate`` (e.g. the training
        data's pixel means; uniform if None), for Gaussian ones the model's
        own ``N(visible_bias, visible_std^2)``. It underestimates ``log Z``
        on average. ``"reverse_ais"`` anneals the other way, from ``n_runs``
        rows of ``data`` down to that base model (Burda et al. 2015), and
        overestimates ``log Z`` on average. See :mod:`crbm.annealing`.
    data : array-like, optional
        ``"reverse_ais"``: the rows its runs start from (the model's
        training or test data).
    return_interval : bool
        Also return ``(low, high)``: for AIS, ``log Z`` at the mean
        importance weight +-3 standard errors; for the exact value,
        ``(logZ, logZ)``.
    progress : callable, optional
        AIS calls ``progress(k)`` after each chunk of ``k`` temperatures.
    """
    if method == "exact":
        value = _exact_log_partition(model)
        interval = (value, value)
    elif method in ("ais", "reverse_ais"):
        _without_labels(model, "AIS")
        n_runs = check_int("n_runs", n_runs, 2, INT_MAX)
        betas = ais_betas(n_betas)
        rate = _base_rate(model, base_rate)
        rng = as_generator(random_state)
        if method == "ais":
            value, interval = annealing.forward(model, n_runs, betas, rate, rng, progress)
        else:
            starts = _reverse_starts(model, data, n_runs, rng)
            value, interval = annealing.reverse(model, starts, betas, rate, rng, progress)
    else:
        raise ValueError(f"method must be 'exact', 'ais' or 'reverse_ais', got {method!r}")
    return (value, interval) if return_interval else value


def _check_log_z(log_z: Any) -> None:
    if isinstance(log_z, bool) or not isinstance(log_z, numbers.Real):
        raise TypeError(f"log_z must be a real number, got {log_z!r}")
    if not np.isfinite(log_z):
        raise ValueError(f"log_z must be finite, got {log_z}")


def log_likelihood(model: Any, v: Any, *, log_z: Optional[float] = None, method: str = "ais",
                   **kwargs: Any) -> float:
    """Mean ``log p(v)`` over the rows of ``v``: ``-F(v) - log Z``.

    ``log_z`` may be given (e.g. from one :func:`log_partition` call reused
    across data sets); otherwise it is computed with ``method`` and
    ``kwargs`` (for AIS of Bernoulli units the base rate defaults to
    ``v``'s pixel means; reverse AIS starts from rows of ``v`` unless
    ``data`` is given). For Bernoulli visible units ``v`` must be binary;
    for Gaussian ones ``log p`` is a log-density.
    """
    V = _rows(model, v, binary=model.visible.binary)
    if log_z is not None:
        _check_log_z(log_z)
    else:
        if method in ("ais", "reverse_ais") and model.visible.binary:
            kwargs.setdefault("base_rate", V.mean(axis=0))
        if method == "reverse_ais":
            kwargs.setdefault("data", V)
        log_z = log_partition(model, method, **kwargs)
    return float(np.mean(-free_energy(model, V)) - log_z)


def log_likelihood_bracket(model: Any, v: Any, *, n_runs: int = 100, n_betas: int = 14500,
                           base_rate: Optional[np.ndarray] = None, data: Any = None,
                           random_state: RandomState = None,
                           progress: Optional[Callable[[int], None]] = None,
                           ) -> tuple[float, float]:
    """The mean log-likelihood of the rows of ``v``, bracketed by reverse
    and forward AIS: ``(conservative, optimistic)``.

    Forward AIS underestimates ``log Z`` on average, so its log-likelihood
    (``optimistic``) tends to be too high, most where its runs miss modes
    of the model; reverse AIS (Burda, Grosse & Salakhutdinov 2015),
    started from rows of the data, overestimates it, so its log-likelihood
    (``conservative``) tends to be too low. Both are stochastic: the true
    value lies between them in expectation, and a narrow bracket says that
    both agree. Salakhutdinov & Murray's 14,500 temperatures by default.

    Reverse AIS's bound needs runs that start from the model's own samples;
    data rows stand in for them, which holds for a model whose samples look
    like its data. A model with modes the data never visits (CD-k training
    can leave them) breaks it: reverse AIS then misses those modes as
    forward AIS can, and ``conservative`` may exceed ``optimistic``. Forward
    AIS is unbiased in ``Z`` whatever the model, so an inverted bracket
    says that its (lower) figure stands.

    Parameters
    ----------
    v : array-like
        The rows to measure (binary for Bernoulli visible units).
    n_runs, n_betas : int
        Runs and inverse temperatures of each of the two estimates.
    base_rate : array-like, optional
        The base model's visible marginals (Bernoulli units); ``v``'s
        pixel means by default.
    data : array-like, optional
        The rows reverse AIS starts from; ``v`` by default.
    random_state : int, Generator or None
        Seeds both estimates (forward first).
    progress : callable, optional
        Called with the number of temperatures of each chunk done (``2 *
        n_betas - 2`` in all).

    Returns
    -------
    (conservative, optimistic) : tuple of float
        Mean log-likelihoods, in nats per row, by reverse and forward AIS.
    """
    _without_labels(model, "AIS")
    V = _rows(model, v, binary=model.visible.binary)
    n_runs = check_int("n_runs", n_runs, 2, INT_MAX)
    betas = ais_betas(n_betas)
    if base_rate is None and model.visible.binary:
        base_rate = V.mean(axis=0)
    rate = _base_rate(model, base_rate)
    rng = as_generator(random_state)
    starts = _reverse_starts(model, V if data is None else data, n_runs, rng)
    mean_neg_f = float(np.mean(-free_energy(model, V)))
    low_z, _ = annealing.forward(model, n_runs, betas, rate, rng, progress)
    high_z, _ = annealing.reverse(model, starts, betas, rate, rng, progress)
    return mean_neg_f - high_z, mean_neg_f - low_z


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


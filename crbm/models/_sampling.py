"""The arguments of ``RBM.generate`` that steer its chains: where they start
(``init``), which visible units they hold (``clamp``) and at which inverse
temperature they sample (``beta``), each checked before anything is drawn."""
from __future__ import annotations

import math
import numbers
from typing import Any, Optional

import numpy as np

from crbm._validation import INT_MAX, as_unit_rows, check_int


def check_beta(beta: Any) -> float:
    """An inverse temperature: a finite real number > 0."""
    if isinstance(beta, (bool, np.bool_)) or not isinstance(beta, numbers.Real):
        raise TypeError(f"beta must be a real number, got {type(beta).__name__}")
    if not (math.isfinite(beta) and beta > 0):
        raise ValueError(f"beta must be a finite number > 0, got {beta}")
    return float(beta)


DEFAULT_STEPS = 1000  # generate's sweeps for models that learned an equilibrium
DEFAULT_TEMPERATURES = 20
SAMPLER_ADAPT_STEPS = 500  # a streaming sampler's ladder is tuned over its first sweeps


def check_method(method: Any, n_temperatures: Any) -> bool:
    """Whether ``method`` asks for parallel tempering ("tempering") rather
    than Gibbs sampling ("gibbs"); ``n_temperatures`` (>= 2) only with it."""
    if method not in ("gibbs", "tempering"):
        raise ValueError(f"method must be 'gibbs' or 'tempering', got {method!r}")
    if method == "gibbs":
        if n_temperatures is not None:
            raise ValueError("n_temperatures is only used with method='tempering'")
        return False
    if n_temperatures is not None:
        if isinstance(n_temperatures, (bool, np.bool_)) or not isinstance(
                n_temperatures, numbers.Integral):
            raise TypeError(f"n_temperatures must be an int, got "
                            f"{type(n_temperatures).__name__}")
        if not 2 <= n_temperatures <= 10_000:
            raise ValueError(f"n_temperatures must be in [2, 10000], got {n_temperatures}")
    return True


def check_adapt_steps(adapt_steps: Any, tempering: bool, default: int) -> int:
    """Tempering's tuning sweeps (``default`` for None); only with tempering."""
    if adapt_steps is None:
        return default
    if not tempering:
        raise ValueError("adapt_steps is only used with method='tempering'")
    return check_int("adapt_steps", adapt_steps, 0, INT_MAX)


def _states(x: Any, name: str, model) -> np.ndarray:
    """Visible rows (1-D or 2-D) as the model's visible units take them, in its dtype."""
    rows, binary = as_unit_rows(x, name, model.n_visible, allow_1d=True,
                                unit_interval=model.visible.data_in_unit_interval)
    if model.visible.binary and not binary:
        raise ValueError(f"{name} must hold 0/1 states for Bernoulli visible units")
    return np.array(rows, dtype=model.dtype, order="C", ndmin=2)


def initial_chains(n_samples: Optional[int], init: Any, model) -> Optional[np.ndarray]:
    """The starting states ``init`` asks for (None: the model draws them).

    Returns an array of shape (n, n_visible), a copy the chains may change.
    """
    if init is None:
        return None
    if isinstance(init, str):
        if init != "data":
            raise ValueError(f"init must be None, 'data' or an array of visible rows, "
                             f"got {init!r}")
        chains = model.training_state["chains"]
        if chains is None:
            raise ValueError("init='data' starts from the model's PCD chains, and this model "
                             "has none (train it with persistent=True)")
        start = np.array(chains, dtype=model.dtype, order="C")
    else:
        start = _states(init, "init", model)
    if n_samples is not None and start.shape[0] != n_samples:
        if start.shape[0] != 1:
            raise ValueError(f"init has {start.shape[0]} rows but n_samples is {n_samples}")
        start = np.repeat(start, n_samples, axis=0)
    return start


def check_clamp(clamp: Any, n: int, model) -> tuple[Optional[np.ndarray], Optional[np.ndarray]]:
    """``clamp=(mask, values)`` as (uint8 mask, values in the model's dtype),
    each of shape (n_visible,) or (n, n_visible); (None, None) for no clamp."""
    if clamp is None:
        return None, None
    if not isinstance(clamp, (tuple, list)) or len(clamp) != 2:
        raise TypeError("clamp must be a pair (mask, values)")
    mask, values = clamp
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"clamp's mask must be a bool array, got dtype {mask.dtype}")
    N = model.n_visible
    if mask.shape not in ((N,), (n, N)):
        raise ValueError(f"clamp's mask must have shape ({N},) or ({n}, {N}), "
                         f"got {mask.shape}")
    values = _states(values, "clamp's values", model)
    if values.shape[0] not in (1, n):
        raise ValueError(f"clamp's values must have shape ({N},) or ({n}, {N}), "
                         f"got {np.shape(clamp[1])}")
    return np.ascontiguousarray(mask, dtype=np.uint8), np.ascontiguousarray(values)


def apply_clamp(states: np.ndarray, mask: Optional[np.ndarray],
                values: Optional[np.ndarray]) -> None:
    """Hold the clamped units of ``states`` at their values, in place."""
    if mask is not None:
        held = np.broadcast_to(mask != 0, states.shape)
        states[held] = np.broadcast_to(values, states.shape)[held]

"""A streaming sampler: Gibbs chains that continue where the last call stopped."""
from __future__ import annotations

import threading
from typing import Callable, Optional

import numpy as np

from crbm._validation import INT_MAX, check_int
from crbm.models.tempering import Tempering


class Sampler:
    """Chains of one model kept between calls, for services that draw samples
    a few at a time (made by :meth:`crbm.RBM.sampler`).

    ``sampler.next(a)`` then ``sampler.next(b)`` give the states that
    ``model.generate(n_chains, n_steps=a + b, ...)`` reaches after ``a`` and
    then ``a + b`` sweeps with the same seed and options: the chains, their
    clamp and temperature, and the generator all stay with the sampler. Calls
    from several threads take turns (each a whole ``next``); the model may be
    sampled or trained meanwhile, and each call sees its parameters between
    whole chunks of training, as ``generate`` does.

    Parameters
    ----------
    chains : ndarray of shape (n_chains, n_visible)
        The chains' states, which ``advance`` updates in place.
    advance : callable
        ``advance(n_steps)`` runs the chains ``n_steps`` sweeps.
    model_repr, beta
        What :func:`repr` shows.
    ladder : Tempering, optional
        The replicas of a parallel-tempering sampler (``chains`` is its block 0).
    """

    def __init__(self, chains: np.ndarray, advance: Callable[[int], None], model_repr: str,
                 beta: float, ladder: Optional[Tempering] = None) -> None:
        self._chains, self._advance, self._ladder = chains, advance, ladder
        self._model_repr, self._beta = model_repr, beta
        self._lock = threading.Lock()
        self.steps_done = 0

    @property
    def chains(self) -> np.ndarray:
        """A copy of the chains' current visible states, (n_chains, n_visible)."""
        with self._lock:
            return self._chains.copy()

    @property
    def betas(self) -> Optional[np.ndarray]:
        """Parallel tempering: the ladder's inverse temperatures now (a copy); else None."""
        with self._lock:
            return None if self._ladder is None else self._ladder.betas.copy()

    @property
    def swap_rates(self) -> Optional[np.ndarray]:
        """Parallel tempering: each neighbouring pair's swap acceptance since
        the ladder last changed; else None."""
        with self._lock:
            return None if self._ladder is None else self._ladder.swap_rates

    def next(self, n_steps: int = 1) -> np.ndarray:
        """Run every chain ``n_steps`` more sweeps and return their states (a copy)."""
        n_steps = check_int("n_steps", n_steps, 1, INT_MAX)
        with self._lock:
            self._advance(n_steps)
            self.steps_done += n_steps
            return self._chains.copy()

    def __repr__(self) -> str:
        method = "" if self._ladder is None else (
            f", method='tempering', n_temperatures={len(self._ladder.betas)}")
        return (f"Sampler({self._model_repr}, n_chains={len(self._chains)}, "
                f"beta={self._beta}{method}, steps_done={self.steps_done})")

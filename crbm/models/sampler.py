"""A streaming sampler: Gibbs chains that continue where the last call stopped."""
from __future__ import annotations

import threading
from typing import Callable

import numpy as np

from crbm._validation import INT_MAX, check_int


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
    """

    def __init__(self, chains: np.ndarray, advance: Callable[[int], None], model_repr: str,
                 beta: float) -> None:
        self._chains, self._advance = chains, advance
        self._model_repr, self._beta = model_repr, beta
        self._lock = threading.Lock()
        self.steps_done = 0

    @property
    def chains(self) -> np.ndarray:
        """A copy of the chains' current visible states, (n_chains, n_visible)."""
        with self._lock:
            return self._chains.copy()

    def next(self, n_steps: int = 1) -> np.ndarray:
        """Run every chain ``n_steps`` more sweeps and return their states (a copy)."""
        n_steps = check_int("n_steps", n_steps, 1, INT_MAX)
        with self._lock:
            self._advance(n_steps)
            self.steps_done += n_steps
            return self._chains.copy()

    def __repr__(self) -> str:
        return (f"Sampler({self._model_repr}, n_chains={len(self._chains)}, "
                f"beta={self._beta}, steps_done={self.steps_done})")

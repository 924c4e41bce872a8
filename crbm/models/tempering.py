"""Parallel tempering for ``RBM.generate(method="tempering")`` and samplers.

The chains of the distribution asked for (at inverse temperature beta) are
block 0 of ``n_temperatures`` replica blocks; block r samples the model at
``betas[r]``, decreasing to a base distribution where Gibbs sampling mixes
at once (beta 0: independent fair coins, for Bernoulli visible units; a
tenth of beta for Gaussian ones, whose variance grows as 1 / beta). After
every sweep neighbouring replicas propose to swap states (the compiled
kernel, ``crbm._core._tempering``), so that a state can climb to the base
distribution, change mode there and come back.

During the first ``adapt_steps`` sweeps the ladder is tuned, in rounds of
doubling length, to an even swap acceptance between neighbours: the
interior betas are moved so that each pair's rejection rate is the same
share of the total (the communication barrier of Syed, Bouchard-Côté,
Deligiannidis & Doucet 2022, "Non-reversible parallel tempering: a
scalable highly parallel MCMC scheme", section 5.1). The swap rates
reported afterwards are those of the fixed ladder.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from crbm._core import _loops

# The lowest beta of a Gaussian-visible ladder, as a fraction of the top one.
GAUSSIAN_BASE = 0.1
FIRST_ROUND = 10  # sweeps of the first adaptation round; each next one doubles


def initial_betas(beta: float, n_temperatures: int, gaussian: bool) -> np.ndarray:
    """A ladder from ``beta`` down to the base distribution: evenly spaced
    in beta (Bernoulli visible units, down to 0) or geometrically (Gaussian
    ones, down to ``GAUSSIAN_BASE * beta``); adaptation then reshapes it."""
    if n_temperatures == 1:
        return np.array([beta])
    if gaussian:
        return beta * np.geomspace(1.0, GAUSSIAN_BASE, n_temperatures)
    return beta * np.linspace(1.0, 0.0, n_temperatures)


def adapted_betas(betas: np.ndarray, rejection: np.ndarray) -> np.ndarray:
    """The ladder whose pairs would reject equally often, given each pair's
    rejection rate on ``betas`` (decreasing): the cumulative rejection
    (Syed et al. 2022's estimate of the communication barrier, a monotone
    function of beta) is interpolated linearly and inverted at evenly
    spaced levels. The ends stay where they are."""
    R = len(betas)
    if R < 3:
        return betas.copy()
    # A floor keeps the barrier strictly increasing, hence invertible, when
    # some pairs never reject.
    barrier = np.concatenate([[0.0], np.cumsum(np.maximum(rejection, 1e-3))])
    levels = np.linspace(0.0, barrier[-1], R)
    new = np.interp(levels, barrier, betas)
    new[0], new[-1] = betas[0], betas[-1]
    return new


class Tempering:
    """Replica blocks of a model's chains and their ladder.

    Parameters
    ----------
    model : RBM
    rng : numpy.random.Generator
        The draws of every sweep and swap.
    chains : ndarray of shape (n_temperatures, n, n_visible)
        Every block's starting states (in the model's dtype), updated in place.
    betas : ndarray of shape (n_temperatures,)
        The ladder, ``betas[0]`` the distribution sampled.
    mask, values : ndarray or None
        The clamp every block keeps (``crbm.models._sampling.check_clamp``).
    adapt_steps : int
        Sweeps, from the first, during which the ladder is tuned.
    """

    def __init__(self, model, rng: np.random.Generator, chains: np.ndarray, betas: np.ndarray,
                 mask: Optional[np.ndarray], values: Optional[np.ndarray],
                 adapt_steps: int) -> None:
        self.model, self.rng, self.replicas = model, rng, chains
        self.betas = np.ascontiguousarray(betas, dtype=np.float64)
        self.mask, self.values = mask, values
        self.adapt_steps, self.steps_done = adapt_steps, 0
        self.parity = 0
        self._accepted = np.zeros(max(len(betas) - 1, 1), np.int64)
        self._attempted = np.zeros_like(self._accepted)
        self._round_length = FIRST_ROUND
        self._round_end = min(FIRST_ROUND, adapt_steps)

    @property
    def chains(self) -> np.ndarray:
        """Block 0: the chains of the distribution asked for (a view)."""
        return self.replicas[0]

    @property
    def swap_rates(self) -> np.ndarray:
        """Each neighbouring pair's swap acceptance since the ladder was last
        changed (NaN before any swap)."""
        R = len(self.betas) - 1
        with np.errstate(invalid="ignore", divide="ignore"):
            return self._accepted[:R] / self._attempted[:R]

    def run(self, n_steps: int, chunk: int,
            after: Optional[Callable[[int], None]] = None) -> None:
        """``n_steps`` sweeps in runs of at most ``chunk`` (each ending, too,
        at every adaptation round's end), calling ``after(steps)`` after each."""
        done = 0
        while done < n_steps:
            steps = min(chunk, n_steps - done)
            if self.steps_done < self.adapt_steps:
                steps = min(steps, self._round_end - self.steps_done)
            m = self.model
            with m._parameters_lock.reading():
                self.parity = _loops.tempering_chains(
                    self.rng, self.replicas, m._W, m._visible_bias, m._hidden_bias,
                    m._log_var(), m.visible.kind, steps, self.betas, self.parity,
                    self._accepted, self._attempted, self.mask, self.values, m.n_labels)
            done += steps
            self.steps_done += steps
            if self.steps_done == self._round_end and self.steps_done <= self.adapt_steps:
                self._adapt()
                self._round_length *= 2
                self._round_end = min(self.steps_done + self._round_length, self.adapt_steps)
            if after is not None:
                after(steps)

    def progress(self) -> dict:
        """Where the ladder is in its run and its tuning (JSON-compatible)."""
        return {"parity": self.parity, "adapt_steps": self.adapt_steps,
                "steps_done": self.steps_done, "round_length": self._round_length,
                "round_end": self._round_end}

    def restore(self, progress: dict, accepted: np.ndarray, attempted: np.ndarray) -> None:
        """Take up a run where :meth:`progress` (and the counts) left it."""
        values = [progress[k] for k in ("parity", "adapt_steps", "steps_done", "round_length",
                                        "round_end")]
        if not all(type(v) is int for v in values) or values[0] not in (0, 1):
            raise ValueError("ladder progress must be ints, parity 0 or 1")
        R = len(self.betas)
        if (self.replicas.ndim != 3 or self.replicas.shape[0] != R or R < 2
                or not np.all(np.diff(self.betas) < 0) or accepted.shape != (R - 1,)
                or attempted.shape != (R - 1,)):
            raise ValueError("replicas, betas and swap counts disagree")
        self.parity, self.adapt_steps, self.steps_done = values[:3]
        self._round_length, self._round_end = values[3:]
        self._accepted = np.array(accepted, dtype=np.int64)
        self._attempted = np.array(attempted, dtype=np.int64)

    def _adapt(self) -> None:
        self.betas = adapted_betas(self.betas, 1.0 - np.nan_to_num(self.swap_rates, nan=1.0))
        self._accepted[:] = 0
        self._attempted[:] = 0

"""A streaming sampler: Gibbs chains that continue where the last call stopped."""
from __future__ import annotations

import threading
from typing import Any, Optional

import numpy as np

from crbm._validation import INT_MAX, check_int
from crbm.io.persist import (
    ModelFileError, check_float_dtype, decode_generator, encode_generator, read_model_file,
    write_model_file)
from crbm.models.tempering import Tempering

FORMAT_NAME = "crbm-sampler"
FORMAT_VERSION = 1


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

    ``sampler.save(path)`` writes the chains, their options, the ladder and
    the generator's state to one pickle-free file; ``Sampler.load(path,
    model)`` (or ``model.load_sampler(path)``) continues them on a model of
    the same shape, with the draws the saved sampler would have made.

    Parameters
    ----------
    model : RBM
        The model whose parameters every ``next`` samples.
    rng : numpy.random.Generator
        The sampler's own generator.
    chains : ndarray of shape (n_chains, n_visible)
        The chains' states (block 0 of ``ladder``'s replicas for tempering).
    beta : float
        Inverse temperature.
    mask, values : ndarray or None
        The clamp, as ``crbm.models._sampling.check_clamp`` returns it.
    ladder : Tempering, optional
        The replicas of a parallel-tempering sampler.
    """

    def __init__(self, model, rng: np.random.Generator, chains: np.ndarray, beta: float,
                 mask: Optional[np.ndarray], values: Optional[np.ndarray],
                 ladder: Optional[Tempering] = None) -> None:
        self._model, self._rng, self._chains = model, rng, chains
        self._beta, self._mask, self._values, self._ladder = beta, mask, values, ladder
        self._lock = threading.Lock()
        self.steps_done = 0

    def _advance(self, n_steps: int) -> None:
        if self._ladder is not None:
            self._model._run_tempering(self._ladder, n_steps)
        else:
            self._model._run_chains(self._rng, self._chains, n_steps, self._beta, self._mask,
                                    self._values)

    @property
    def chains(self) -> np.ndarray:
        """A copy of the chains' current visible states, (n_chains, n_visible)."""
        with self._lock:
            return self._model._without_labels(self._chains.copy())

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
            return self._model._without_labels(self._chains.copy())

    def save(self, path: Any) -> None:
        """Write the sampler to ``path`` (one ``.npz``, written atomically)."""
        with self._lock:
            meta = {"format": FORMAT_NAME, "version": FORMAT_VERSION,
                    "dtype": self._chains.dtype.name, "n_visible": self._chains.shape[1],
                    "beta": self._beta, "steps_done": self.steps_done,
                    **encode_generator(self._rng)}
            arrays = {"chains": self._chains}
            if self._mask is not None:
                arrays.update(mask=self._mask, values=self._values)
            ladder = self._ladder
            if ladder is not None:
                meta["ladder"] = ladder.progress()
                arrays = {"replicas": ladder.replicas, "betas": ladder.betas,
                          "accepted": ladder._accepted, "attempted": ladder._attempted,
                          **{k: v for k, v in arrays.items() if k != "chains"}}
            write_model_file(path, meta, arrays)

    @classmethod
    def load(cls, path: Any, model) -> "Sampler":
        """The sampler saved at ``path``, continued on ``model`` (an RBM with
        as many visible units, of the same dtype); ``ModelFileError`` for a
        file that is not one, ``ValueError`` for a model it does not fit."""
        meta, arrays, _ = read_model_file(path, FORMAT_NAME, FORMAT_VERSION, (),
                                          ("chains", "replicas", "betas", "accepted",
                                           "attempted", "mask", "values"))
        dtype = check_float_dtype(meta, path)
        try:
            n_visible, beta, steps_done = meta["n_visible"], meta["beta"], meta["steps_done"]
            progress = meta.get("ladder")
            states = arrays["replicas"] if progress is not None else arrays["chains"]
        except KeyError as exc:
            raise ModelFileError(f"{path}: corrupt sampler file ({exc!r})") from exc
        if n_visible != model._width or dtype != model.dtype:
            raise ValueError(f"{path}: a sampler of {n_visible} {dtype} visible units cannot "
                             f"run on {model!r}")
        if states.dtype != dtype or states.shape[-1] != n_visible or states.ndim not in (2, 3):
            raise ModelFileError(f"{path}: chains of shape {states.shape} and dtype "
                                 f"{states.dtype}")
        rng = np.random.Generator(decode_generator(meta, path))
        states = np.ascontiguousarray(states)
        mask, values = arrays.get("mask"), arrays.get("values")
        ladder = None
        if progress is not None:
            ladder = Tempering(model, rng, states, arrays["betas"], mask, values, 0)
            try:
                ladder.restore(progress, arrays["accepted"], arrays["attempted"])
            except (KeyError, TypeError, ValueError) as exc:
                raise ModelFileError(f"{path}: corrupt ladder ({exc!r})") from exc
            chains = ladder.chains
        else:
            chains = states
        sampler = cls(model, rng, chains, float(beta), mask, values, ladder)
        sampler.steps_done = int(steps_done)
        return sampler

    def __repr__(self) -> str:
        method = "" if self._ladder is None else (
            f", method='tempering', n_temperatures={len(self._ladder.betas)}")
        return (f"Sampler({self._model!r}, n_chains={len(self._chains)}, "
                f"beta={self._beta}{method}, steps_done={self.steps_done})")

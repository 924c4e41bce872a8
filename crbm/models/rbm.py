"""The ``RBM`` class: a Bernoulli-Bernoulli restricted Boltzmann machine."""
from __future__ import annotations

import threading
from typing import Any, Callable, Optional

import numpy as np

from crbm import evaluate
from crbm._core import _loops
from crbm.io.persist import load_model, save_model
from crbm.models._rwlock import ReadWriteLock
from crbm._validation import (
    INT_MAX, RandomState, as_generator, as_unit_rows, check_bool, check_float_dtype, check_int,
    check_momentum, check_non_negative_float, check_positive_float, check_unit_float)

_INITS = ("zeros", "normal")
# Samples (training) or chain-steps (sampling) per call into Cython: about a
# tenth of a second of work, the longest a Ctrl-C waits.
_CHUNK_SAMPLES = 4096


class DivergenceError(FloatingPointError):
    """Training made a parameter overflow; the model keeps its last finite state."""
# Clip data marginals before the logit so that constant pixels get a large
# but finite visible bias.
_MARGINAL_CLIP = 1e-3


class RBM:
    """Bernoulli-Bernoulli restricted Boltzmann machine.

    The energy of a visible vector ``v`` and hidden vector ``h`` (both 0/1) is
    ``E(v, h) = -v @ W @ h - visible_bias @ v - hidden_bias @ h``, so
    ``p(h_j = 1 | v) = sigmoid(v @ W[:, j] + hidden_bias[j])`` and
    ``p(v_i = 1 | h) = sigmoid(W[i] @ h + visible_bias[i])``.

    Parameters
    ----------
    n_visible, n_hidden : int
        Number of visible and hidden units (>= 1).
    dtype : float32 or float64, default float64
        Precision of the parameters and of all computation.
    random_state : None, int, SeedSequence or Generator
        Source of randomness for initialisation, training and sampling. The
        same seed gives the same model and the same samples.
    init : {"zeros", "normal"}
        ``"zeros"`` (the reference) starts from zero weights and biases.
        ``"normal"`` draws ``W ~ N(0, 0.01**2)`` now and sets the visible bias
        to ``log(p / (1 - p))`` of the data's marginals at the first
        :meth:`train`.

    Attributes
    ----------
    W : ndarray of shape (n_visible, n_hidden)
    visible_bias : ndarray of shape (n_visible,)
    hidden_bias : ndarray of shape (n_hidden,)
    """

    # Whether train() requires its data in [0, 1]. crbm.sklearn turns this off
    # on its private models: scikit-learn's BernoulliRBM takes any real data.
    _unit_interval_data = True

    def __init__(self, n_visible: int, n_hidden: int, *, dtype: Any = np.float64,
                 random_state: RandomState = None, init: str = "zeros") -> None:
        n_visible = check_int("n_visible", n_visible, 1, INT_MAX)
        n_hidden = check_int("n_hidden", n_hidden, 1, INT_MAX)
        dtype = check_float_dtype(dtype)
        if init not in _INITS:
            raise ValueError(f"init must be one of {_INITS}, got {init!r}")
        self._rng = as_generator(random_state)
        self._W = np.zeros((n_visible, n_hidden), dtype=dtype)
        self._visible_bias = np.zeros(n_visible, dtype=dtype)
        self._hidden_bias = np.zeros(n_hidden, dtype=dtype)
        self.init = init
        # True until the first train() has set the visible bias from data.
        self._visible_bias_from_data = init == "normal"
        if init == "normal":
            self._W[...] = self._rng.normal(0.0, 0.01, size=self._W.shape)
        #: Epochs trained so far, over all train() calls.
        self.epochs_trained = 0
        #: One record per epoch trained with validation data (see train).
        self.history: list[dict] = []
        # Training state beyond the parameters, created when first needed:
        # PCD chains, momentum velocity, centering offsets.
        self._chains: Optional[np.ndarray] = None
        self._velocity: Optional[np.ndarray] = None
        self._offsets: Optional[np.ndarray] = None
        # Serialises training: two threads never update the same model at once.
        self._train_lock = threading.Lock()
        # Training chunks write the parameters, sampling chunks read them:
        # a sampler never sees half a chunk's updates.
        self._parameters_lock = ReadWriteLock()

    # -- parameters ---------------------------------------------------------

    @property
    def n_visible(self) -> int:
        """Number of visible units."""
        return self._W.shape[0]

    @property
    def n_hidden(self) -> int:
        """Number of hidden units."""
        return self._W.shape[1]

    @property
    def dtype(self) -> np.dtype:
        """Floating-point type of the parameters."""
        return self._W.dtype

    @property
    def random_state(self) -> np.random.Generator:
        """The model's own generator, used when no ``random_state`` is given."""
        return self._rng

    @property
    def W(self) -> np.ndarray:
        """Weights, shape ``(n_visible, n_hidden)``; assigning copies and checks."""
        return self._W

    @W.setter
    def W(self, value: Any) -> None:
        value = self._checked_parameter("W", value, self._W.shape)
        with self._train_lock:
            self._W = value

    @property
    def visible_bias(self) -> np.ndarray:
        """Visible biases, shape ``(n_visible,)``; assigning copies and checks."""
        return self._visible_bias

    @visible_bias.setter
    def visible_bias(self, value: Any) -> None:
        value = self._checked_parameter("visible_bias", value, self._visible_bias.shape)
        with self._train_lock:
            self._visible_bias = value
            self._visible_bias_from_data = False

    @property
    def hidden_bias(self) -> np.ndarray:
        """Hidden biases, shape ``(n_hidden,)``; assigning copies and checks."""
        return self._hidden_bias

    @hidden_bias.setter
    def hidden_bias(self, value: Any) -> None:
        value = self._checked_parameter("hidden_bias", value, self._hidden_bias.shape)
        with self._train_lock:
            self._hidden_bias = value

    def _checked_parameter(self, name: str, value: Any, shape: tuple) -> np.ndarray:
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be real numbers, got dtype {arr.dtype}")
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinite values")
        return np.array(arr, dtype=self.dtype, order="C", copy=True)

    # Pickling (copy.deepcopy, multiprocessing, Dask) carries everything but
    # the lock, which is process-local; a fresh one is made on unpickling.
    def __getstate__(self) -> dict:
        with self._train_lock:
            state = self.__dict__.copy()
        del state["_train_lock"], state["_parameters_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._train_lock = threading.Lock()
        self._parameters_lock = ReadWriteLock()

    def __repr__(self) -> str:
        return (f"RBM(n_visible={self.n_visible}, n_hidden={self.n_hidden}, "
                f"dtype={self.dtype.name}, init={self.init!r})")

    # -- training -----------------------------------------------------------

    def train(self, samples: Any, learning_rate: float = 0.01, epochs: int = 3, *,
              batch_size: int = 1, k: int = 1, persistent: bool = False,
              n_chains: Optional[int] = None, momentum: Any = 0.0,
              weight_decay: float = 0.0, sparsity_target: float = 0.1,
              sparsity_cost: float = 0.0, centering: bool = False,
              offset_rate: Optional[float] = None, learning_rate_decay: float = 0.0,
              shuffle: bool = False, statistics: str = "probabilities",
              validation: Any = None,
              on_epoch: Optional[Callable[[dict], None]] = None,
              progress: Optional[Callable[[int], None]] = None) -> "RBM":
        """Train by contrastive divergence, in place.

        With the defaults this is the reference algorithm: per-sample CD-1,
        sample by sample in the given order, ``epochs`` passes. For each
        sample ``v``: ``h ~ p(h|v)``, ``v1 ~ p(v|h)``, ``h1 ~ p(h|v1)`` (all
        sampled), then ``W += lr (v h^T - v1 h1^T)``, ``visible_bias += lr
        (v - v1)``, ``hidden_bias += lr (h - h1)``. ``k > 1`` runs ``k`` Gibbs
        steps before the negative statistics.

        Otherwise (``batch_size > 1``, or any of persistent, momentum,
        weight_decay, sparsity_cost, centering) each batch makes one
        minibatch step: positive statistics from ``p(h|v0)``, negative from
        ``p(h|vk)`` with sampled ``vk`` after ``k`` Gibbs steps, each averaged
        over its rows (the last batch may be shorter).

        Parameters
        ----------
        samples : array_like of shape (n_samples, n_visible), or list of 1-D arrays
            Training data with values in [0, 1]. bool, uint8, float32 and
            float64 arrays are used in place, never copied whole.
        learning_rate : float
            Step size, > 0.
        epochs : int
            Passes over the data, >= 1.
        batch_size : int
            Samples per update, >= 1.
        k : int
            Gibbs steps per update (CD-k, PCD-k), >= 1.
        persistent : bool
            Persistent CD (Tieleman 2008): the negative statistics come from
            ``n_chains`` Gibbs chains (default: ``batch_size``) kept on the
            model from update to update and from call to call.
        momentum : float or sequence of floats
            Momentum in [0, 1), or one value per epoch (the last one repeats),
            e.g. ``[0.5] * 5 + [0.9]``.
        weight_decay : float
            L2 penalty on the weights, >= 0.
        sparsity_target, sparsity_cost : float
            Pull the mean hidden activation towards ``sparsity_target`` with
            strength ``sparsity_cost`` in [0, 1) (0: off): the positive hidden
            statistics become ``(1 - cost) p(h|v) + cost * target``.
        centering : bool
            Centered gradient (Melchior, Fischer & Wiskott, JMLR 2016):
            visible and hidden offsets start at the data mean and 0.5 and
            follow the batch means at ``offset_rate`` (default 0.01).
        learning_rate_decay : float
            Epoch ``e`` (from 0) of this call uses
            ``learning_rate / (1 + learning_rate_decay * e)``.
        shuffle : bool
            Visit the samples in a new random order every epoch.
        statistics : {"probabilities", "states"}
            Hidden statistics of the minibatch step: ``p(h|v)`` (less noise,
            the usual choice) or sampled 0/1 hidden states.
        validation : array_like, optional
            Held-out rows: after every epoch, :func:`crbm.evaluate.monitor`
            figures (reconstruction error on training and validation data,
            validation pseudo-likelihood, free-energy gap) are appended to
            :attr:`history`, with the epoch's number.
        on_epoch : callable, optional
            Called with each new :attr:`history` record.
        progress : callable, optional
            Called with the number of samples just processed, a few times per
            epoch; it does not change the result.

        Returns
        -------
        self : RBM
        """
        data, binary = as_unit_rows(samples, "samples", self.n_visible, allow_1d=False,
                                    unit_interval=self._unit_interval_data)
        learning_rate = check_positive_float("learning_rate", learning_rate, self.dtype)
        epochs = check_int("epochs", epochs, 1, INT_MAX)
        k = check_int("k", k, 1, INT_MAX)
        n = data.shape[0]
        # A batch larger than the data is the whole data: size buffers for that.
        batch_size = min(check_int("batch_size", batch_size, 1), n)
        if batch_size > INT_MAX:
            raise ValueError(f"batch_size must be <= {INT_MAX}, got {batch_size}")
        persistent = check_bool("persistent", persistent)
        centering = check_bool("centering", centering)
        shuffle = check_bool("shuffle", shuffle)
        momenta = check_momentum(momentum, epochs)
        weight_decay = check_non_negative_float("weight_decay", weight_decay)
        sparsity_cost = check_unit_float("sparsity_cost", sparsity_cost)
        if sparsity_cost == 1:  # the data would drop out of the positive phase
            raise ValueError("sparsity_cost must be < 1, got 1.0")
        sparsity_target = check_unit_float("sparsity_target", sparsity_target)
        if statistics not in ("probabilities", "states"):
            raise ValueError(f"statistics must be 'probabilities' or 'states', got {statistics!r}")
        if centering:
            offset_rate = check_unit_float("offset_rate", 0.01 if offset_rate is None else offset_rate)
        elif offset_rate is not None:
            raise ValueError("offset_rate is only used with centering=True")
        else:
            offset_rate = 0.0
        learning_rate_decay = check_non_negative_float("learning_rate_decay", learning_rate_decay)
        if validation is not None:
            validation, binary_validation = as_unit_rows(validation, "validation",
                                                         self.n_visible, allow_1d=False)
            if not binary_validation:
                raise ValueError("validation must be binary (0/1): its pseudo-likelihood is "
                                 "recorded every epoch")
            validation = np.asarray(validation, dtype=np.float64)
            train_probe = np.asarray(data[:len(validation)], dtype=np.float64)
        elif on_epoch is not None:
            raise ValueError("on_epoch needs validation data")
        if persistent:
            n_chains = check_int("n_chains", batch_size if n_chains is None else n_chains, 1, INT_MAX)
        elif n_chains is not None:
            raise ValueError("n_chains is only used with persistent=True")
        reference = (batch_size == 1 and not persistent and not any(momenta)
                     and weight_decay == 0 and sparsity_cost == 0 and not centering
                     and statistics == "probabilities")
        # Chunks of whole batches (batch boundaries, hence results, unchanged):
        # between them Python sees Ctrl-C and the parameters are checked.
        chunk = batch_size * max(1, _CHUNK_SAMPLES // batch_size)
        empty = np.empty(0, dtype=self.dtype)
        with self._train_lock:
            if self._visible_bias_from_data:
                self._set_visible_bias_from(data)
            chains = self._persistent_chains(n_chains) if persistent else empty.reshape(0, 1)
            velocity = self._momentum_velocity() if any(momenta) else empty
            offsets = self._centering_offsets(data) if centering else empty
            for epoch in range(epochs):
                settings = {
                    "k": k, "learning_rate": learning_rate / (1 + learning_rate_decay * epoch),
                    "momentum": momenta[epoch], "weight_decay": weight_decay,
                    "sparsity_target": sparsity_target, "sparsity_cost": sparsity_cost,
                    "centered": centering, "offset_rate": offset_rate,
                    "sampled_statistics": statistics == "states"}
                order = (self._rng.permutation(n).astype(np.intp) if shuffle
                         else np.empty(0, dtype=np.intp))
                for start in range(0, n, chunk):
                    stop = min(n, start + chunk)
                    with self._parameters_lock.writing():
                        before = [array.copy() for array in self._training_arrays()]
                        rng_before = self._rng.bit_generator.state
                        _loops.train_epoch(self._rng, data, order, start, stop, self._W,
                                           self._visible_bias, self._hidden_bias, batch_size,
                                           settings, reference, binary, chains, velocity, offsets)
                        if not all(np.all(np.isfinite(a)) for a in self._training_arrays()):
                            for array, saved in zip(self._training_arrays(), before):
                                np.copyto(array, saved)
                            self._rng.bit_generator.state = rng_before
                            raise DivergenceError(
                                f"training diverged in epoch {epoch + 1}: parameters overflowed "
                                f"with learning_rate={settings['learning_rate']:g}; the model keeps "
                                "its last finite parameters (lower the learning rate)")
                    if progress is not None:
                        progress(stop - start)
                self.epochs_trained += 1
                if validation is not None:
                    record = {"epoch": self.epochs_trained,
                              **evaluate.monitor(self, train_probe, validation)}
                    self.history.append(record)
                    if on_epoch is not None:
                        on_epoch(record)
        return self

    def _training_arrays(self) -> list:
        """Everything a training step changes in place."""
        state = [self._chains, self._velocity, self._offsets]
        return [self._W, self._visible_bias, self._hidden_bias] + [a for a in state if a is not None]

    def _persistent_chains(self, n_chains: int) -> np.ndarray:
        """The PCD chains, started from fair coin flips when there are none
        yet or their number changed."""
        if self._chains is None or self._chains.shape[0] != n_chains:
            self._chains = np.empty((n_chains, self.n_visible), dtype=self.dtype)
            _loops.random_binary(self._rng, self._chains)
        return self._chains

    def _momentum_velocity(self) -> np.ndarray:
        """The momentum buffer: weight, visible-bias and hidden-bias steps."""
        size = self.n_visible * self.n_hidden + self.n_visible + self.n_hidden
        if self._velocity is None:
            self._velocity = np.zeros(size, dtype=self.dtype)
        return self._velocity

    def _centering_offsets(self, data: np.ndarray) -> np.ndarray:
        """Visible offsets (from the data mean) then hidden offsets (0.5)."""
        if self._offsets is None:
            self._offsets = np.concatenate([
                data.mean(axis=0, dtype=np.float64),
                np.full(self.n_hidden, 0.5)]).astype(self.dtype)
        return self._offsets

    def _set_visible_bias_from(self, data: np.ndarray) -> None:
        # mean() with a float dtype reduces in chunks: no float copy of data.
        p = np.clip(data.mean(axis=0, dtype=np.float64), _MARGINAL_CLIP, 1 - _MARGINAL_CLIP)
        self._visible_bias[...] = np.log(p / (1 - p))
        self._visible_bias_from_data = False

    # -- inference and sampling ---------------------------------------------

    def _conditional(self, x: Any, name: str, hidden: bool) -> np.ndarray:
        width = self.n_visible if hidden else self.n_hidden
        rows, _ = as_unit_rows(x, name, width, allow_1d=True)
        if rows.shape[0] > INT_MAX:
            raise ValueError(f"{name} has {rows.shape[0]} rows; at most {INT_MAX} per call")
        rows = np.ascontiguousarray(rows, dtype=self.dtype)
        bias = self._hidden_bias if hidden else self._visible_bias
        with self._parameters_lock.reading():
            out = _loops.conditional_probabilities(rows, self._W, bias, hidden)
        return out[0] if np.ndim(x) == 1 else out

    def hidden_probabilities(self, v: Any) -> np.ndarray:
        """``p(h = 1 | v)`` for visible rows ``v`` of shape (n, n_visible) or (n_visible,)."""
        return self._conditional(v, "v", hidden=True)

    def visible_probabilities(self, h: Any) -> np.ndarray:
        """``p(v = 1 | h)`` for hidden rows ``h`` of shape (n, n_hidden) or (n_hidden,)."""
        return self._conditional(h, "h", hidden=False)

    def sample_hidden(self, v: Any, *, random_state: RandomState = None) -> np.ndarray:
        """Draw ``h ~ p(h | v)`` (0/1 in the model's dtype), one half Gibbs step."""
        return self._sample(self.hidden_probabilities(v), random_state)

    def sample_visible(self, h: Any, *, random_state: RandomState = None) -> np.ndarray:
        """Draw ``v ~ p(v | h)`` (0/1 in the model's dtype), one half Gibbs step."""
        return self._sample(self.visible_probabilities(h), random_state)

    def _sample(self, p: np.ndarray, random_state: RandomState) -> np.ndarray:
        rng = self._rng if random_state is None else as_generator(random_state)
        _loops.sample_in_place(rng, p.reshape(-1, p.shape[-1]))
        return p

    def generate(self, n_samples: Optional[int] = None, *, n_steps: int = 1000,
                 random_state: RandomState = None,
                 progress: Optional[Callable[[int], None]] = None) -> np.ndarray:
        """Draw samples by block Gibbs sampling.

        Each chain starts from uniformly random 0/1 visible states and runs
        ``n_steps`` sweeps ``v -> h -> v``; the final sampled visible states
        are returned.

        Parameters
        ----------
        n_samples : int, optional
            Number of independent chains. ``None`` returns a single vector.
        n_steps : int
            Gibbs sweeps per chain (>= 0).
        random_state : None, int, SeedSequence or Generator
            Overrides the model's generator for this call.
        progress : callable, optional
            Called with the number of sweeps just run, a few times per call;
            it does not change the result.

        Returns
        -------
        ndarray of shape (n_visible,) or (n_samples, n_visible)
            0/1 values in the model's dtype.
        """
        n = 1 if n_samples is None else check_int("n_samples", n_samples, 0, INT_MAX)
        n_steps = check_int("n_steps", n_steps, 0, INT_MAX)
        rng = self._rng if random_state is None else as_generator(random_state)
        v = np.empty((n, self.n_visible), dtype=self.dtype)
        _loops.random_binary(rng, v)
        # Sweeps are sequential, so running them in chunks draws the same
        # numbers; between chunks Python sees Ctrl-C.
        chunk = max(1, _CHUNK_SAMPLES // max(n, 1))
        if progress is not None:
            chunk = min(chunk, max(1, n_steps // 50))
        for done in range(0, n_steps, max(chunk, 1)):
            steps = min(chunk, n_steps - done)
            with self._parameters_lock.reading():
                _loops.gibbs_chains(rng, v, self._W, self._visible_bias, self._hidden_bias, steps)
            if progress is not None:
                progress(steps)
        return v[0] if n_samples is None else v

    # -- evaluation (see crbm.evaluate) ---------------------------------------

    def free_energy(self, v: Any) -> np.ndarray:
        """``F(v)`` for each row of ``v``: ``p(v) = exp(-F(v)) / Z``."""
        return evaluate.free_energy(self, v)

    def reconstruction_error(self, v: Any) -> float:
        """Mean squared error of the mean-field reconstruction of ``v``."""
        return evaluate.reconstruction_error(self, v)

    def pseudo_likelihood(self, v: Any, *, random_state: RandomState = None) -> float:
        """Stochastic pseudo-log-likelihood per visible unit (seedable)."""
        return evaluate.pseudo_likelihood(self, v, random_state=random_state)

    def log_partition(self, method: str = "exact", **kwargs: Any) -> Any:
        """``log Z``: ``method="exact"`` or ``"ais"``; see :func:`crbm.evaluate.log_partition`."""
        return evaluate.log_partition(self, method, **kwargs)

    def log_likelihood(self, v: Any, **kwargs: Any) -> float:
        """Mean log-likelihood of the rows of ``v``; see :func:`crbm.evaluate.log_likelihood`."""
        return evaluate.log_likelihood(self, v, **kwargs)

    # -- persistence --------------------------------------------------------

    def save(self, path: Any) -> None:
        """Write the model to one ``.npz`` file, atomically.

        The file holds the parameters, the format version, the dtype, the
        settings and the generator's state, so :meth:`load` restores a model
        that trains and samples exactly as this one would. A save during
        another thread's :meth:`train` waits for it to finish.
        """
        with self._train_lock:
            save_model(self, path)

    @classmethod
    def load(cls, path: Any) -> "RBM":
        """Read a model written by :meth:`save`; see :class:`crbm.ModelFileError`."""
        return load_model(cls, path)

"""The ``RBM`` class: a restricted Boltzmann machine with Bernoulli or Gaussian visible units."""
from __future__ import annotations

import logging
import math
import pickle
import threading
from typing import Any, Callable, Optional, Union

import numpy as np
from scipy.special import expit

from crbm import evaluate
from crbm._core import _loops
from crbm._core._policy import path_report
from crbm._validation import (
    INT_MAX, RandomState, as_generator, as_unit_rows, check_bool, check_float_dtype, check_int,
    check_momentum, check_non_negative_float, check_positive_float, check_unit_float)
from crbm.models import _files
from crbm.models._rwlock import ReadWriteLock
from crbm.models._sampling import (
    DEFAULT_STEPS, DEFAULT_TEMPERATURES, SAMPLER_ADAPT_STEPS, apply_clamp, check_adapt_steps,
    check_beta, check_clamp, check_method, initial_chains)
from crbm.models import labels as _labels
from crbm.models.sampler import Sampler
from crbm.models.tempering import Tempering, initial_betas
from crbm.models.units import Bernoulli, Units, as_units
from crbm.preprocessing import column_moments

_INITS = ("zeros", "normal")
# Samples (training) or chain-steps (sampling) per call into Cython: about a
# tenth of a second of work, the longest a Ctrl-C waits.
_CHUNK_SAMPLES = 4096
# Clip data marginals before the logit so that constant pixels get a large
# but finite visible bias.
_MARGINAL_CLIP = 1e-3

log = logging.getLogger("crbm")


class DivergenceError(FloatingPointError):
    """Training made a parameter overflow; the model keeps its last finite state."""


def _sweeps_chunk(n_rows: int, n_steps: int, progress: Optional[Callable[[int], None]],
                  thin: Optional[int]) -> int:
    """Sweeps per chunk of nogil work over ``n_rows`` chains: about
    _CHUNK_SAMPLES chain-sweeps, a fiftieth of the run when progress is
    shown, and never past a kept state."""
    chunk = max(1, _CHUNK_SAMPLES // max(n_rows, 1))
    if progress is not None:
        chunk = min(chunk, max(1, n_steps // 50))
    if thin is not None:
        chunk = min(chunk, thin)
    return chunk


class RBM:
    """Restricted Boltzmann machine with binary hidden units and binary
    (Bernoulli) or real-valued (Gaussian) visible units.

    With Bernoulli visible units (the default) the energy of 0/1 vectors
    ``v`` and ``h`` is ``E(v, h) = -v @ W @ h - visible_bias @ v -
    hidden_bias @ h``, so ``p(h_j = 1 | v) = sigmoid(v @ W[:, j] +
    hidden_bias[j])`` and ``p(v_i = 1 | h) = sigmoid(W[i] @ h +
    visible_bias[i])``. With Gaussian visible units (Cho, Ilin & Raiko 2011)
    ``E(v, h) = sum_i (v_i - b_i)^2 / 2 s_i^2 - (v / s^2) @ W @ h - c @ h``
    with ``s = visible_std``, so ``v_i | h ~ N(b_i + W[i] @ h, s_i^2)`` and
    ``p(h_j = 1 | v) = sigmoid(c_j + (v / s^2) @ W[:, j])``.

    Parameters
    ----------
    n_visible, n_hidden : int
        Number of visible and hidden units (>= 1).
    visible : {"bernoulli", "gaussian"} or crbm.units.Units, default "bernoulli"
        The visible units; :class:`crbm.units.Gaussian` takes options
        (``learn_std``, ``min_std``).
    hidden : {"bernoulli"} or crbm.units.Bernoulli, default "bernoulli"
        The hidden units.
    n_labels : int, default 0
        Softmax label units (Larochelle & Bengio 2008): ``n_labels >= 2``
        makes a joint model of Bernoulli visible rows and a one-hot label,
        trained with ``train(X, labels=y)``, sampled with ``generate(n,
        label=d)`` and read with :meth:`predict` / :meth:`predict_proba`.
        The label units are extra visible units, ``label_weights`` and
        ``label_bias``; where a method takes visible rows of such a model
        (the conditionals, ``free_energy``, ``training_state``), they are
        the ``n_visible`` values followed by the one-hot label
        (:meth:`join_labels`).
    label_strength : float, default 1.0
        Models with label units: the value at which ``generate(label=d)``
        clamps label unit ``d`` unless told otherwise
        (:attr:`label_strength`).
    dtype : float32 or float64, default float64
        Precision of the parameters and of all computation.
    random_state : None, int, SeedSequence or Generator
        Source of randomness for initialisation, training and sampling. The
        same seed gives the same model and the same samples.
    init : {"zeros", "normal"}
        ``"zeros"`` (the reference) starts from zero weights and biases.
        ``"normal"`` draws ``W ~ N(0, 0.01**2)`` now and, at the first
        :meth:`train`, sets the visible bias from the data: to ``log(p / (1 -
        p))`` of its marginals for Bernoulli units, to its mean for Gaussian
        ones. Gaussian units start with ``visible_std`` 1, or with ``init="normal"``
        and ``Gaussian(std_from_data=True)`` at the data's standard deviations.

    Attributes
    ----------
    W : ndarray of shape (n_visible, n_hidden)
    visible_bias : ndarray of shape (n_visible,)
    hidden_bias : ndarray of shape (n_hidden,)
    visible_std : ndarray of shape (n_visible,)
        Gaussian visible units only: their standard deviations.
    label_weights : ndarray of shape (n_labels, n_hidden)
    label_bias : ndarray of shape (n_labels,)
    label_strength : float
        What ``generate(label=d)`` clamps label unit ``d`` to by default. 1
        samples the model's ``p(v | d)``; a larger value ``s`` sends ``s``
        times the label's weights to the hidden units, so that samples look
        more like their class and vary less within it, as a guidance scale
        does (:mod:`crbm.models.labels`). ``crbm.recipes``' "labelled"
        recipe sets it; it is saved with the model.
    """

    def __init__(self, n_visible: int, n_hidden: int, *,
                 visible: Union[str, Units] = "bernoulli",
                 hidden: Union[str, Units] = "bernoulli", dtype: Any = np.float64,
                 random_state: RandomState = None, init: str = "zeros",
                 n_labels: int = 0, label_strength: float = 1.0) -> None:
        n_visible = check_int("n_visible", n_visible, 1, INT_MAX)
        n_hidden = check_int("n_hidden", n_hidden, 1, INT_MAX)
        visible = as_units(visible, "visible")
        n_labels = _labels.check_n_labels(n_labels, visible, n_visible)
        label_strength = _labels.check_label_strength(label_strength, n_labels)
        hidden = as_units(hidden, "hidden")
        if not isinstance(hidden, Bernoulli):
            raise ValueError(f"hidden must be 'bernoulli' (the only hidden units so far), "
                             f"got {hidden!r}")
        dtype = check_float_dtype(dtype)
        if init not in _INITS:
            raise ValueError(f"init must be one of {_INITS}, got {init!r}")
        self._rng = as_generator(random_state)
        self._visible, self._hidden = visible, hidden
        # The label units are the last n_labels of the kernels' visible layer.
        self._n_labels = n_labels
        self._label_strength = label_strength
        self._W = np.zeros((n_visible + n_labels, n_hidden), dtype=dtype)
        self._visible_bias = np.zeros(n_visible + n_labels, dtype=dtype)
        self._hidden_bias = np.zeros(n_hidden, dtype=dtype)
        # log sigma^2 of Gaussian visible units (sigma = 1 to start).
        self._visible_log_var = np.zeros(n_visible, dtype=dtype) if visible.has_variance else None
        self.init = init
        # True until the first train() has set the visible bias from data.
        self._visible_bias_from_data = init == "normal"
        if init == "normal":
            self._W[...] = self._rng.normal(0.0, 0.01, size=self._W.shape)
        #: Epochs trained so far, over all train() calls.
        self.epochs_trained = 0
        #: One record per epoch trained with validation data (see train).
        self.history: list[dict] = []
        #: Sweeps from noise the model was trained to make data in (train's
        #: ``from_noise``), which generate runs by default; None: the
        #: model's equilibrium is what it learned, and generate runs 1000.
        self.sampling_steps: Optional[int] = None
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

    @classmethod
    def from_parameters(cls, W: Any, visible_bias: Any, hidden_bias: Any, *,
                        visible: Union[str, Units] = "bernoulli", visible_std: Any = None,
                        random_state: RandomState = None, share: bool = False) -> "RBM":
        """A model with the given parameters (and ``visible_std`` for
        Gaussian units), in ``W``'s dtype (float32 or float64; others become
        float64).

        With ``share=True`` the model keeps the arrays themselves, which must
        be C-contiguous, writable and all of one float dtype: training then
        updates them in place (as ``crbm.sklearn`` does with its fitted
        attributes). Otherwise they are copied.
        """
        share = check_bool("share", share)
        W_arr = np.asarray(W)
        dtype = W_arr.dtype if W_arr.dtype in (np.float32, np.float64) else np.dtype(np.float64)
        if W_arr.ndim != 2:
            raise ValueError(f"W must be 2-D, got shape {W_arr.shape}")
        model = cls(W_arr.shape[0], W_arr.shape[1], visible=visible, dtype=dtype,
                    random_state=random_state)
        arrays = {"W": W, "visible_bias": visible_bias, "hidden_bias": hidden_bias}
        if share:
            for name, value in arrays.items():
                if not (isinstance(value, np.ndarray) and value.dtype == dtype
                        and value.flags.c_contiguous and value.flags.writeable):
                    raise ValueError(f"share=True needs {name} as a C-contiguous, writable "
                                     f"{dtype} array")
                model._checked_parameter(name, value, getattr(model, name).shape)
            model._W, model._visible_bias, model._hidden_bias = W, visible_bias, hidden_bias
        else:
            model.W, model.visible_bias, model.hidden_bias = W, visible_bias, hidden_bias
        if visible_std is not None:
            model.visible_std = visible_std
        return model

    def copy(self, *, parameters_only: bool = False) -> "RBM":
        """An independent copy. With ``parameters_only`` it holds the
        parameters and unit types alone: no training state, history or
        generator state (its generator is seeded with 0), which is what a
        worker that only evaluates or samples needs."""
        if not parameters_only:
            return pickle.loads(pickle.dumps(self))  # __getstate__ takes the lock
        with self._train_lock:
            copy = type(self)(self.n_visible, self.n_hidden, visible=self.visible,
                              hidden=self.hidden, dtype=self.dtype, random_state=0,
                              n_labels=self.n_labels, label_strength=self.label_strength)
            copy._W[...] = self._W
            copy._visible_bias[...] = self._visible_bias
            copy._hidden_bias[...] = self._hidden_bias
            if self._visible_log_var is not None:
                copy._visible_log_var[...] = self._visible_log_var
            copy.sampling_steps = self.sampling_steps
            return copy

    # -- parameters ---------------------------------------------------------

    @property
    def n_visible(self) -> int:
        """Number of visible units (not counting label units)."""
        return self._W.shape[0] - self._n_labels

    @property
    def n_labels(self) -> int:
        """Number of softmax label units (0: none)."""
        return self._n_labels

    @property
    def label_strength(self) -> float:
        """The value ``generate(label=d)`` clamps label unit ``d`` to by
        default (see the class docstring); models with label units only."""
        return self._label_strength

    @label_strength.setter
    def label_strength(self, value: float) -> None:
        self._label_strength = _labels.check_label_strength(value, self._n_labels)

    @property
    def _width(self) -> int:
        """The kernels' visible layer: the visible units, then the label units."""
        return self._W.shape[0]

    @property
    def n_hidden(self) -> int:
        """Number of hidden units."""
        return self._W.shape[1]

    @property
    def visible(self) -> Units:
        """The visible units (a :mod:`crbm.units` type)."""
        return self._visible

    @property
    def hidden(self) -> Units:
        """The hidden units (a :mod:`crbm.units` type)."""
        return self._hidden

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
        return self._W[:self.n_visible] if self._n_labels else self._W

    @W.setter
    def W(self, value: Any) -> None:
        value = self._checked_parameter("W", value, (self.n_visible, self.n_hidden))
        with self._train_lock:
            self._W = _labels.with_rows(self._W, value, self.n_visible, labels=False)

    @property
    def visible_bias(self) -> np.ndarray:
        """Visible biases, shape ``(n_visible,)``; assigning copies and checks."""
        return self._visible_bias[:self.n_visible] if self._n_labels else self._visible_bias

    @visible_bias.setter
    def visible_bias(self, value: Any) -> None:
        value = self._checked_parameter("visible_bias", value, (self.n_visible,))
        with self._train_lock:
            self._visible_bias = _labels.with_rows(self._visible_bias, value, self.n_visible,
                                                   labels=False)
            self._visible_bias_from_data = False

    @property
    def label_weights(self) -> np.ndarray:
        """Weights of the label units, shape ``(n_labels, n_hidden)`` (a view;
        assigning copies and checks)."""
        return self._W[self.n_visible:]

    @label_weights.setter
    def label_weights(self, value: Any) -> None:
        value = self._checked_parameter("label_weights", value, (self.n_labels, self.n_hidden))
        with self._train_lock:
            self._W = _labels.with_rows(self._W, value, self.n_visible, labels=True)

    @property
    def label_bias(self) -> np.ndarray:
        """Biases of the label units, shape ``(n_labels,)`` (a view)."""
        return self._visible_bias[self.n_visible:]

    @label_bias.setter
    def label_bias(self, value: Any) -> None:
        value = self._checked_parameter("label_bias", value, (self.n_labels,))
        with self._train_lock:
            self._visible_bias = _labels.with_rows(self._visible_bias, value, self.n_visible,
                                                   labels=True)

    @property
    def hidden_bias(self) -> np.ndarray:
        """Hidden biases, shape ``(n_hidden,)``; assigning copies and checks."""
        return self._hidden_bias

    @hidden_bias.setter
    def hidden_bias(self, value: Any) -> None:
        value = self._checked_parameter("hidden_bias", value, self._hidden_bias.shape)
        with self._train_lock:
            self._hidden_bias = value

    @property
    def visible_std(self) -> np.ndarray:
        """Standard deviations of Gaussian visible units, shape ``(n_visible,)``
        (a new array; training learns ``log sigma^2``). Assigning checks that
        every value is at least the units' ``min_std``."""
        if self._visible_log_var is None:
            raise AttributeError(f"{self.visible.name} visible units have no visible_std")
        return np.exp(0.5 * self._visible_log_var)

    @visible_std.setter
    def visible_std(self, value: Any) -> None:
        if self._visible_log_var is None:
            raise AttributeError(f"{self.visible.name} visible units have no visible_std")
        std = self._checked_parameter("visible_std", value, self._visible_log_var.shape)
        if not np.all(std >= self.visible.min_std):
            raise ValueError(f"visible_std must be >= min_std = {self.visible.min_std:g}, "
                             f"got {std.min():g}")
        with self._train_lock:
            self._visible_log_var = (2.0 * np.log(std.astype(np.float64))).astype(self.dtype)

    def _checked_parameter(self, name: str, value: Any, shape: tuple) -> np.ndarray:
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be real numbers, got dtype {arr.dtype}")
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinite values")
        return np.array(arr, dtype=self.dtype, order="C", copy=True)

    def _log_var(self) -> np.ndarray:
        """The kernels' view of log sigma^2: empty for Bernoulli units."""
        if self._visible_log_var is None:
            return np.empty(0, dtype=self.dtype)
        return self._visible_log_var

    def _anneal(self, rng: np.random.Generator, V: np.ndarray, betas: np.ndarray,
                base_bias: np.ndarray, log_w: np.ndarray, transition_at_end: bool) -> None:
        """AIS steps on the runs in ``V`` (see :mod:`crbm.annealing`)."""
        with self._parameters_lock.reading():
            _loops.annealing(rng, V, self._W, self._visible_bias, self._hidden_bias,
                             self._log_var(), self.visible.kind, base_bias, betas, log_w,
                             transition_at_end)

    @property
    def training_state(self) -> dict:
        """The training state beyond the parameters, by name, each an array
        or None: ``chains`` (PCD's visible states), ``velocity`` (momentum's
        steps) and ``offsets`` (centering's). Assigning a dict replaces the
        entries it names after checking them."""
        return {"chains": self._chains, "velocity": self._velocity, "offsets": self._offsets}

    @training_state.setter
    def training_state(self, state: dict) -> None:
        if not isinstance(state, dict) or not set(state) <= {"chains", "velocity", "offsets"}:
            raise ValueError("training_state must be a dict with keys among 'chains', "
                             "'velocity' and 'offsets'")
        checked = {name: None if value is None else self._checked_state(name, value)
                   for name, value in state.items()}
        with self._train_lock:
            for name, value in checked.items():
                setattr(self, "_" + name, value)

    def _state_shape(self, name: str) -> tuple:
        N, M = self._width, self.n_hidden
        return {"chains": (None, N),
                "velocity": (N * M + N + M + (N if self.visible.has_variance else 0),),
                "offsets": (N + M,)}[name]

    def _checked_state(self, name: str, value: Any) -> np.ndarray:
        """``value`` as the training state ``name``, or ``ValueError``."""
        arr = np.asarray(value)
        shape = self._state_shape(name)
        if (arr.dtype.kind not in "biuf" or arr.ndim != len(shape) or arr.size == 0
                or any(s is not None and s != d for s, d in zip(shape, arr.shape))
                or not np.all(np.isfinite(arr))
                or (name == "chains" and self.visible.binary and not np.all((arr == 0) | (arr == 1)))
                or (name == "offsets" and not np.all((arr >= 0) & (arr <= 1)))):
            raise ValueError(f"training state {name!r} is invalid (shape {arr.shape}, dtype "
                             f"{arr.dtype}, or values out of range)")
        if (isinstance(value, np.ndarray) and value.dtype == self.dtype
                and value.flags.c_contiguous and value.flags.writeable):
            return value  # kept, not copied: training updates it in place
        return np.array(arr, dtype=self.dtype, order="C")

    # Pickling (copy.deepcopy, multiprocessing, Dask) carries everything but
    # the lock, which is process-local; a fresh one is made on unpickling.
    def __getstate__(self) -> dict:
        with self._train_lock:
            state = self.__dict__.copy()
        del state["_train_lock"], state["_parameters_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        # Models pickled before unit types were added are Bernoulli-Bernoulli.
        state.setdefault("_visible", Bernoulli())
        state.setdefault("_hidden", Bernoulli())
        state.setdefault("_visible_log_var", None)
        state.setdefault("sampling_steps", None)
        state.setdefault("_n_labels", 0)
        state.setdefault("_label_strength", 1.0)
        self.__dict__.update(state)
        self._train_lock = threading.Lock()
        self._parameters_lock = ReadWriteLock()

    def __repr__(self) -> str:
        units = "" if self.visible == Bernoulli() else f", visible={self.visible!r}"
        if self._n_labels:
            units += f", n_labels={self._n_labels}"
        return (f"RBM(n_visible={self.n_visible}, n_hidden={self.n_hidden}{units}, "
                f"dtype={self.dtype.name}, init={self.init!r})")

    # -- training -----------------------------------------------------------

    def train(self, samples: Any, learning_rate: Optional[float] = None, epochs: int = 3, *,
              batch_size: int = 1, k: int = 1, persistent: bool = False,
              from_noise: bool = False,
              n_chains: Optional[int] = None, momentum: Any = 0.0,
              weight_decay: float = 0.0, sparsity_target: float = 0.1,
              sparsity_cost: float = 0.0, centering: bool = False,
              offset_rate: Optional[float] = None, learning_rate_decay: float = 0.0,
              shuffle: bool = False, statistics: str = "probabilities",
              validation: Any = None, labels: Any = None, clamp_labels: bool = False,
              discriminative: float = 0.0,
              on_epoch: Optional[Callable[[dict], None]] = None,
              progress: Optional[Callable[[int], None]] = None) -> "RBM":
        """Train by contrastive divergence, in place.

        With the defaults and Bernoulli units this is the reference
        algorithm: per-sample CD-1, sample by sample in the given order,
        ``epochs`` passes. For each sample ``v``: ``h ~ p(h|v)``, ``v1 ~
        p(v|h)``, ``h1 ~ p(h|v1)`` (all sampled), then ``W += lr (v h^T - v1
        h1^T)``, ``visible_bias += lr (v - v1)``, ``hidden_bias += lr (h -
        h1)``. ``k > 1`` runs ``k`` Gibbs steps before the negative
        statistics.

        Otherwise (``batch_size > 1``, Gaussian units, or any of persistent,
        momentum, weight_decay, sparsity_cost, centering) each batch makes
        one minibatch step: positive statistics from ``p(h|v0)``, negative
        from ``p(h|vk)`` with sampled ``vk`` after ``k`` Gibbs steps, each
        averaged over its rows (the last batch may be shorter). Gaussian
        units with ``learn_std`` also step ``log sigma^2`` along its
        gradient, never below ``2 log(min_std)``.

        Parameters
        ----------
        samples : array_like of shape (n_samples, n_visible), or list of 1-D arrays
            Training data: values in [0, 1] for Bernoulli visible units, any
            finite values for Gaussian ones (standardise them first, see
            :class:`crbm.preprocessing.Standardizer`). bool, uint8, float32
            and float64 arrays are used in place, never copied whole.
        learning_rate : float, optional
            Step size, > 0; by default the visible units' own (0.01 for
            Bernoulli units, 0.001 for Gaussian ones).
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
        from_noise : bool
            Non-equilibrium CD-k (Decelle, Furtlehner & Seoane, NeurIPS 2021;
            "Rdm" in their code): every update's ``n_chains`` negative chains
            (default: ``batch_size``) start from fresh random states, as
            :meth:`generate`'s do, and run ``k`` sweeps. The model learns to
            make data in ``k`` sweeps from noise, and :attr:`sampling_steps`
            becomes ``k``: the number of sweeps :meth:`generate` runs by
            default. The last update's negative states are kept as the
            chains ``init="data"`` starts from. Not with ``persistent``.
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
            hidden offsets start at 0.5 and, for Bernoulli visible units,
            visible offsets at the data mean; they follow the batch means at
            ``offset_rate`` (default 0.01). Gaussian visible units have no
            visible offsets: standardised data is already centered.
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
            the free-energy gap and, for Bernoulli units, the validation
            pseudo-likelihood) are appended to :attr:`history`, with the
            epoch's number. Not for models with label units.
        labels : array_like of int, shape (n_samples,)
            Models with label units (``n_labels``) only, and for them
            required: each sample's class in ``[0, n_labels)``, learned as a
            one-hot label beside it (the joint model of Larochelle & Bengio
            2008; the data is copied once with the labels appended). Label
            units take minibatch steps even at ``batch_size`` 1.
        clamp_labels : bool
            With ``labels``: every negative chain keeps a data label (chain
            ``i`` the label of the batch's row ``i % batch_size``) while its
            pixels are sampled, so the model learns ``p(v | y)`` by the very
            dynamics of ``generate(label=y)``. Best with ``from_noise``,
            whose chains are the sampler's. The label biases then get no
            gradient: ``p(y)`` stays uniform, as it is in balanced data.
        discriminative : float
            With ``labels``: the hybrid objective of Larochelle & Bengio
            (2008). Every update adds this weight, >= 0, times the exact
            gradient of the batch's mean ``log p(y | x)`` (hidden units and
            label summed out, as :meth:`predict_proba` computes it) to the
            generative one: larger weights classify better and model the
            pixels less. Not with ``centering``.
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
                                    unit_interval=self.visible.data_in_unit_interval)
        if self._n_labels:
            if validation is not None:
                raise ValueError("validation is not available for models with label units")
            data = _labels.joined(data, _labels.check_labels(labels, len(data), self._n_labels),
                                  self._n_labels)
        elif labels is not None:
            raise ValueError("labels needs a model with label units: RBM(..., n_labels=K)")
        clamp_labels = check_bool("clamp_labels", clamp_labels)
        if clamp_labels and not self._n_labels:
            raise ValueError("clamp_labels needs a model with label units: RBM(..., n_labels=K)")
        discriminative = check_non_negative_float("discriminative", discriminative)
        if discriminative and not self._n_labels:
            raise ValueError("discriminative needs a model with label units: RBM(..., n_labels=K)")
        if learning_rate is None:
            learning_rate = self.visible.default_learning_rate
        learning_rate = check_positive_float("learning_rate", learning_rate, self.dtype)
        epochs = check_int("epochs", epochs, 1, INT_MAX)
        k = check_int("k", k, 1, INT_MAX)
        n = data.shape[0]
        # A batch larger than the data is the whole data: size buffers for that.
        batch_size = min(check_int("batch_size", batch_size, 1), n)
        if batch_size > INT_MAX:
            raise ValueError(f"batch_size must be <= {INT_MAX}, got {batch_size}")
        persistent = check_bool("persistent", persistent)
        from_noise = check_bool("from_noise", from_noise)
        if persistent and from_noise:
            raise ValueError("persistent and from_noise exclude each other: from_noise "
                             "restarts the chains every update")
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
            if discriminative:
                raise ValueError("discriminative is not available with centering: the "
                                 "centered step reparameterises the generative gradient only")
        elif offset_rate is not None:
            raise ValueError("offset_rate is only used with centering=True")
        else:
            offset_rate = 0.0
        learning_rate_decay = check_non_negative_float("learning_rate_decay", learning_rate_decay)
        if validation is not None:
            validation, binary_validation = as_unit_rows(
                validation, "validation", self.n_visible, allow_1d=False,
                unit_interval=self.visible.data_in_unit_interval)
            if self.visible.binary and not binary_validation:
                raise ValueError("validation must be binary (0/1): its pseudo-likelihood is "
                                 "recorded every epoch")
            validation = np.asarray(validation, dtype=np.float64)
            train_probe = np.asarray(data[:len(validation)], dtype=np.float64)
        elif on_epoch is not None:
            raise ValueError("on_epoch needs validation data")
        if persistent or from_noise:
            n_chains = check_int("n_chains", batch_size if n_chains is None else n_chains, 1, INT_MAX)
        elif n_chains is not None:
            raise ValueError("n_chains is only used with persistent=True or from_noise=True")
        # The reference algorithm's sampled-state update is for 0/1 visible
        # units; Gaussian ones take minibatch steps even of one sample.
        per_sample = (batch_size == 1 and not persistent and not from_noise and not any(momenta)
                      and weight_decay == 0 and sparsity_cost == 0 and not centering
                      and statistics == "probabilities" and self.visible.binary
                      and not self._n_labels)
        # Chunks of whole batches (batch boundaries, hence results, unchanged):
        # between them Python sees Ctrl-C and the parameters are checked.
        chunk = batch_size * max(1, _CHUNK_SAMPLES // batch_size)
        empty = np.empty(0, dtype=self.dtype)
        paths = np.zeros(16, np.int64)
        with self._train_lock:
            if self._visible_bias_from_data:
                self._set_visible_bias_from(data)
            chains = (self._persistent_chains(n_chains) if persistent or from_noise
                      else empty.reshape(0, 1))
            velocity = self._momentum_velocity() if any(momenta) else empty
            offsets = self._centering_offsets(data) if centering else empty
            for epoch in range(epochs):
                settings = {
                    "k": k, "learning_rate": learning_rate / (1 + learning_rate_decay * epoch),
                    "momentum": momenta[epoch], "weight_decay": weight_decay,
                    "sparsity_target": sparsity_target, "sparsity_cost": sparsity_cost,
                    "centered": centering, "offset_rate": offset_rate,
                    "sampled_statistics": statistics == "states",
                    "learn_variance": self.visible.has_variance and self.visible.learn_std,
                    "min_log_var": (self.visible.min_log_var if self.visible.has_variance
                                    else -math.inf),
                    "chains_from_noise": from_noise, "clamp_labels": clamp_labels,
                    "discriminative": discriminative}
                order = (self._rng.permutation(n).astype(np.intp) if shuffle
                         else np.empty(0, dtype=np.intp))
                for start in range(0, n, chunk):
                    stop = min(n, start + chunk)
                    with self._parameters_lock.writing():
                        before = [array.copy() for array in self._training_arrays()]
                        rng_before = self._rng.bit_generator.state
                        paths += _loops.train_epoch(
                            self._rng, data, order, start, stop, self._W, self._visible_bias,
                            self._hidden_bias, self._log_var(), self.visible.kind, batch_size,
                            settings, per_sample, binary, chains, velocity, offsets,
                            self._n_labels)
                        if not all(np.all(np.isfinite(a)) for a in self._training_arrays()):
                            for array, saved in zip(self._training_arrays(), before):
                                np.copyto(array, saved)
                            self._rng.bit_generator.state = rng_before
                            raise DivergenceError(
                                f"training diverged in epoch {epoch + 1}: parameters overflowed "
                                f"with learning_rate={settings['learning_rate']:g}; the model keeps "
                                "its last finite parameters (lower the learning rate)")
                        self.sampling_steps = k if from_noise else None
                    if progress is not None:
                        progress(stop - start)
                self.epochs_trained += 1
                if validation is not None:
                    record = {"epoch": self.epochs_trained,
                              **evaluate.monitor(self, train_probe, validation)}
                    self.history.append(record)
                    if on_epoch is not None:
                        on_epoch(record)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("train: %s", path_report(paths))
        return self

    def _training_arrays(self) -> list:
        """Everything a training step changes in place."""
        state = [self._visible_log_var, self._chains, self._velocity, self._offsets]
        return [self._W, self._visible_bias, self._hidden_bias] + [a for a in state if a is not None]

    def _initial_states(self, rng: np.random.Generator, out: np.ndarray) -> None:
        """Chains' starting visible states: fair coin flips for Bernoulli
        units, draws of N(visible_bias, visible_std^2) for Gaussian ones."""
        if self.visible.has_variance:
            _loops.random_gaussian(rng, out, self._visible_bias, self._visible_log_var)
        else:
            _loops.random_binary(rng, out)
            if self._n_labels:  # no label on (the kernels' chains from noise start so too)
                out[:, self.n_visible:] = 0

    def _persistent_chains(self, n_chains: int) -> np.ndarray:
        """The PCD chains, started afresh when there are none yet or their
        number changed."""
        if self._chains is None or self._chains.shape[0] != n_chains:
            self._chains = np.empty((n_chains, self._width), dtype=self.dtype)
            self._initial_states(self._rng, self._chains)
        return self._chains

    def _momentum_velocity(self) -> np.ndarray:
        """The momentum buffer: weight, visible-bias, hidden-bias (and
        log-variance) steps."""
        if self._velocity is None:
            self._velocity = np.zeros(self._state_shape("velocity"), dtype=self.dtype)
        return self._velocity

    def _centering_offsets(self, data: np.ndarray) -> np.ndarray:
        """Visible offsets (from the data mean; 0 for Gaussian units) then
        hidden offsets (0.5)."""
        if self._offsets is None:
            visible = (np.zeros(self._width) if self.visible.has_variance
                       else data.mean(axis=0, dtype=np.float64))
            self._offsets = np.concatenate([visible, np.full(self.n_hidden, 0.5)]).astype(self.dtype)
        return self._offsets

    def _set_visible_bias_from(self, data: np.ndarray) -> None:
        """init="normal"'s start from the data: Bernoulli units' biases at the
        logits of its marginals, Gaussian units' at its means. (Gaussian
        units keep sigma = 1 unless their std_from_data asks for the data's:
        a sigma as small as a nearly constant feature's makes 1 / sigma^2
        amplify every step on it, so that takes a smaller learning rate.)"""
        if self.visible.has_variance:
            mean, variance = column_moments(data)
            self._visible_bias[...] = mean
            if self.visible.std_from_data:
                std = np.maximum(np.sqrt(variance), self.visible.min_std)
                self._visible_log_var[...] = 2 * np.log(std)
        else:
            # mean() with a float dtype reduces in chunks: no float copy of data.
            p = np.clip(data.mean(axis=0, dtype=np.float64), _MARGINAL_CLIP, 1 - _MARGINAL_CLIP)
            self._visible_bias[...] = np.log(p / (1 - p))
        self._visible_bias_from_data = False

    # -- inference and sampling ---------------------------------------------

    def _rows(self, x: Any, name: str, hidden: bool) -> np.ndarray:
        """Rows for a conditional: visible rows as the visible units take
        them, hidden rows in [0, 1]."""
        width = self._width if hidden else self.n_hidden
        unit_interval = self.visible.data_in_unit_interval if hidden else True
        rows, _ = as_unit_rows(x, name, width, allow_1d=True, unit_interval=unit_interval)
        if rows.shape[0] > INT_MAX:
            raise ValueError(f"{name} has {rows.shape[0]} rows; at most {INT_MAX} per call")
        return np.ascontiguousarray(rows, dtype=self.dtype)

    def _conditional(self, x: Any, name: str, hidden: bool) -> np.ndarray:
        rows = self._rows(x, name, hidden)
        with self._parameters_lock.reading():
            out = _loops.conditional_means(rows, self._W, self._visible_bias, self._hidden_bias,
                                           self._log_var(), self.visible.kind, hidden,
                                           self._n_labels)
        return out[0] if np.ndim(x) == 1 else out

    def hidden_probabilities(self, v: Any) -> np.ndarray:
        """``p(h = 1 | v)`` for visible rows ``v`` of shape (n, n_visible) or (n_visible,)."""
        return self._conditional(v, "v", hidden=True)

    def visible_means(self, h: Any) -> np.ndarray:
        """``E[v | h]`` for hidden rows ``h`` of shape (n, n_hidden) or
        (n_hidden,): ``p(v = 1 | h)`` for Bernoulli units, ``visible_bias + W
        h`` for Gaussian ones."""
        return self._conditional(h, "h", hidden=False)

    def visible_probabilities(self, h: Any) -> np.ndarray:
        """``p(v = 1 | h)`` for hidden rows ``h`` of shape (n, n_hidden) or
        (n_hidden,); Bernoulli visible units only (see :meth:`visible_means`)."""
        if not self.visible.binary:
            raise ValueError(f"{self.visible.name} visible units have means, not "
                             "probabilities: use visible_means")
        return self._conditional(h, "h", hidden=False)

    def sample_hidden(self, v: Any, *, random_state: RandomState = None) -> np.ndarray:
        """Draw ``h ~ p(h | v)`` (0/1 in the model's dtype), one half Gibbs step."""
        rng = self._rng if random_state is None else as_generator(random_state)
        p = self.hidden_probabilities(v)
        _loops.sample_in_place(rng, p.reshape(-1, p.shape[-1]))
        return p

    def sample_visible(self, h: Any, *, random_state: RandomState = None) -> np.ndarray:
        """Draw ``v ~ p(v | h)`` in the model's dtype, one half Gibbs step:
        0/1 for Bernoulli units, normal draws for Gaussian ones."""
        rng = self._rng if random_state is None else as_generator(random_state)
        means = self.visible_means(h)
        rows = means.reshape(-1, means.shape[-1])
        if self.visible.has_variance:
            _loops.add_gaussian_noise(rng, rows, self._visible_log_var)
        elif self._n_labels:
            _labels.draw_in_place(rng, rows, self._n_labels)
        else:
            _loops.sample_in_place(rng, rows)
        return means

    def generate(self, n_samples: Optional[int] = None, *, n_steps: Optional[int] = None,
                 init: Any = None, clamp: Any = None, beta: float = 1.0,
                 method: str = "gibbs", n_temperatures: Optional[int] = None,
                 adapt_steps: Optional[int] = None,
                 thin: Optional[int] = None, return_probabilities: bool = False,
                 label: Any = None, label_strength: Optional[float] = None,
                 random_state: RandomState = None,
                 progress: Optional[Callable[[int], None]] = None) -> np.ndarray:
        """Draw samples by block Gibbs sampling.

        Each chain starts from ``init``, or from uniformly random 0/1 visible
        states (Gaussian units: draws of ``N(visible_bias, visible_std^2)``),
        and runs ``n_steps`` sweeps ``v -> h -> v``; the final sampled
        visible states are returned.

        Parameters
        ----------
        n_samples : int, optional
            Number of independent chains. ``None`` returns a single vector
            (or, with a 2-D ``init``, one row per row of it).
        n_steps : int, optional
            Sweeps per chain (>= 0); by default :attr:`sampling_steps` for a
            model trained ``from_noise`` (the dynamics it learned), else 1000.
        init : None, "data" or array_like of shape (n_visible,) or (n, n_visible)
            Where the chains start: random states (None), the model's PCD
            chains ("data"), or the given visible states (0/1 for Bernoulli
            units; one row is repeated for ``n_samples`` chains).
        clamp : (mask, values), optional
            Visible units held at given values while the others are sampled
            (inpainting, conditional generation): a bool ``mask`` of shape
            ``(n_visible,)`` or ``(n, n_visible)`` and ``values`` of either
            shape; the chains sample ``p(v_free | v_clamped)``.
        beta : float
            Inverse temperature: the chains sample ``p(v, h)^beta`` (up to
            normalisation); 1 is the model itself.
        method : {"gibbs", "tempering"}
            Block Gibbs sampling of each chain, or parallel tempering
            (:mod:`crbm.models.tempering`): every chain has replicas on a
            ladder of ``n_temperatures`` inverse temperatures from ``beta``
            down to a base distribution, neighbours propose to swap states
            after every sweep, and only the ``beta`` replicas are returned.
            Each sweep then costs ``n_temperatures`` Gibbs sweeps.
        n_temperatures : int, optional
            Rungs of the tempering ladder, >= 2 (default 20).
        adapt_steps : int, optional
            Tempering: the first sweeps, during which the ladder is tuned to
            an even swap acceptance (default ``n_steps // 2``).
        thin : int, optional
            Also keep every ``thin``-th state of each chain: the result is
            then of shape ``(n_steps // thin, n, n_visible)``, its last entry
            the final states when ``thin`` divides ``n_steps``.
        return_probabilities : bool
            Return the means of the last half-step, ``E[v | h]`` of the last
            hidden states (``p(v = 1 | h)`` at ``beta`` for Bernoulli units;
            clamped units at their values), instead of the states drawn from
            them. Needs ``n_steps >= 1``; not with ``thin``.
        label : int or array_like of int, optional
            Models with label units: the class to generate, one for every
            chain or one per chain; its label units are clamped one-hot, so
            the chains sample ``p(v | label)``. Without it the label units
            are sampled with the rest (they start with no label on). ``init``
            and ``clamp`` take rows of the ``n_visible`` units alone.
        label_strength : float, optional
            With ``label``: the value (> 0) its label unit is clamped to
            instead of 1, by default :attr:`label_strength`. Larger values
            give samples that look more like the class and vary less.
        random_state : None, int, SeedSequence or Generator
            Overrides the model's generator for this call.
        progress : callable, optional
            Called with the number of sweeps just run, a few times per call;
            it does not change the result.

        Returns
        -------
        ndarray of shape (n_visible,) or (n_samples, n_visible)
            Visible states (or means) in the model's dtype; with ``thin``, of
            shape ``(n_kept, n_samples, n_visible)``.
        """
        if n_samples is not None:
            n_samples = check_int("n_samples", n_samples, 0, INT_MAX)
        if n_steps is None:
            n_steps = DEFAULT_STEPS if self.sampling_steps is None else self.sampling_steps
        n_steps = check_int("n_steps", n_steps, 0, INT_MAX)
        beta = check_beta(beta)
        if thin is not None:
            thin = check_int("thin", thin, 1, INT_MAX)
        tempering = check_method(method, n_temperatures)
        n_temperatures = DEFAULT_TEMPERATURES if n_temperatures is None else n_temperatures
        adapt_steps = check_adapt_steps(adapt_steps, tempering, n_steps // 2)
        return_probabilities = check_bool("return_probabilities", return_probabilities)
        if return_probabilities and (thin is not None or n_steps == 0):
            raise ValueError("return_probabilities needs n_steps >= 1 and no thin")
        one_row = n_samples is None and (init is None or np.ndim(init) == 1)
        start, mask, values = self._steering(n_samples, init, clamp, label, label_strength)
        n = start.shape[0] if start is not None else (1 if n_samples is None else n_samples)
        rng = self._rng if random_state is None else as_generator(random_state)
        v = self._start(rng, n, start, mask, values)
        kept = None
        if thin is not None:
            kept = np.empty((n_steps // thin, n, self._width), dtype=self.dtype)
        sweeps = n_steps - 1 if return_probabilities else n_steps
        if tempering:
            ladder = self._tempering(rng, v, n_temperatures, beta, mask, values, adapt_steps)
            v = ladder.chains
            self._run_tempering(ladder, sweeps, progress, thin, kept)
        else:
            self._run_chains(rng, v, sweeps, beta, mask, values, progress, thin, kept)
        if return_probabilities:
            with self._parameters_lock.reading():
                v = self._last_half_step_means(rng, v, beta, mask, values)
            if progress is not None:
                progress(1)
        if thin is not None:
            return self._without_labels(kept)
        v = self._without_labels(v)
        return v[0] if one_row else v

    def _steering(self, n_samples: Optional[int], init: Any, clamp: Any, label: Any,
                  label_strength: Optional[float] = None) -> tuple:
        """generate's ``init``, ``clamp``, ``label`` and ``label_strength``
        checked, as rows of the kernels' visible layer: (start states or
        None, mask, values)."""
        if not self._n_labels:
            for name, value in (("label", label), ("label_strength", label_strength)):
                if value is not None:
                    raise ValueError(f"{name} needs a model with label units: "
                                     "RBM(..., n_labels=K)")
        start = initial_chains(n_samples, init, self)
        n = start.shape[0] if start is not None else (1 if n_samples is None else n_samples)
        mask, values = check_clamp(clamp, n, self)
        if label_strength is not None and label is None:
            raise ValueError("label_strength is the clamped label's value: it needs label=")
        if self._n_labels:
            strength = self._label_strength if label_strength is None else label_strength
            return _labels.steering(self, start, mask, values, n, label,
                                    _labels.check_label_strength(strength, self._n_labels))
        return start, mask, values

    def _start(self, rng: np.random.Generator, n: int, start: Optional[np.ndarray],
               mask: Optional[np.ndarray], values: Optional[np.ndarray]) -> np.ndarray:
        """The chains' first states: ``start`` or random ones, clamped."""
        if start is None:
            start = np.empty((n, self._width), dtype=self.dtype)
            with self._parameters_lock.reading():
                self._initial_states(rng, start)
        apply_clamp(start, mask, values)
        return start

    def _without_labels(self, states: np.ndarray) -> np.ndarray:
        """The visible units of states of the kernels' visible layer."""
        if not self._n_labels:
            return states
        return np.ascontiguousarray(states[..., :self.n_visible])

    def _run_chains(self, rng: np.random.Generator, v: np.ndarray, n_steps: int, beta: float,
                    mask: Optional[np.ndarray], values: Optional[np.ndarray],
                    progress: Optional[Callable[[int], None]] = None,
                    thin: Optional[int] = None, kept: Optional[np.ndarray] = None) -> None:
        """``n_steps`` sweeps of the chains ``v`` (checked rows, in place),
        with ``kept[i]`` the states after sweep ``(i + 1) * thin``."""
        # Sweeps are sequential, so running them in chunks (ending at every
        # kept state) draws the same numbers; between chunks Python sees Ctrl-C.
        chunk = _sweeps_chunk(len(v), n_steps, progress, thin)
        paths = np.zeros(16, np.int64)
        done = 0
        while done < n_steps:
            steps = min(chunk, n_steps - done)
            if thin is not None:
                steps = min(steps, thin - done % thin)
            with self._parameters_lock.reading():
                paths += _loops.gibbs_chains(rng, v, self._W, self._visible_bias,
                                             self._hidden_bias, self._log_var(),
                                             self.visible.kind, steps, beta, mask, values,
                                             self._n_labels)
            done += steps
            if thin is not None and done % thin == 0:
                kept[done // thin - 1] = v
            if progress is not None:
                progress(steps)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("generate: %s", path_report(paths))

    def _tempering(self, rng: np.random.Generator, v: np.ndarray, n_temperatures: int,
                   beta: float, mask: Optional[np.ndarray], values: Optional[np.ndarray],
                   adapt_steps: int) -> Tempering:
        """Replicas of the chains ``v`` (clamped) on a fresh ladder: block 0
        starts from ``v``, the others from new random states."""
        replicas = np.empty((n_temperatures,) + v.shape, dtype=self.dtype)
        replicas[0] = v
        with self._parameters_lock.reading():
            self._initial_states(rng, replicas[1:].reshape(-1, self._width))
        for block in replicas[1:]:
            apply_clamp(block, mask, values)
        betas = initial_betas(beta, n_temperatures, self.visible.has_variance)
        return Tempering(self, rng, replicas, betas, mask, values, adapt_steps)

    def _run_tempering(self, ladder: Tempering, n_steps: int,
                       progress: Optional[Callable[[int], None]] = None,
                       thin: Optional[int] = None, kept: Optional[np.ndarray] = None) -> None:
        """``n_steps`` sweeps of the ladder, as ``_run_chains`` runs Gibbs chains."""
        n = ladder.replicas.shape[0] * ladder.replicas.shape[1]
        chunk = _sweeps_chunk(n, n_steps, progress, thin)
        start = ladder.steps_done

        def after(steps: int) -> None:
            done = ladder.steps_done - start
            if thin is not None and done % thin == 0:
                kept[done // thin - 1] = ladder.chains
            if progress is not None:
                progress(steps)
        if thin is None:
            ladder.run(n_steps, chunk, after)
        else:  # end a run at every kept state
            for _ in range(n_steps // thin):
                ladder.run(thin, chunk, after)
            ladder.run(n_steps % thin, chunk, after)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("generate: tempering, betas %s, swap rates %s",
                      np.array2string(ladder.betas, precision=3),
                      np.array2string(ladder.swap_rates, precision=2))

    def sampler(self, n_chains: int, *, init: Any = None, clamp: Any = None, beta: float = 1.0,
                method: str = "gibbs", n_temperatures: Optional[int] = None,
                adapt_steps: Optional[int] = None, label: Any = None,
                label_strength: Optional[float] = None,
                random_state: RandomState = None) -> "Sampler":
        """A :class:`~crbm.models.sampler.Sampler`: ``n_chains`` chains with
        ``generate``'s ``init``, ``clamp``, ``beta``, ``method``, ``label``
        and ``label_strength`` that ``next(n_steps)`` continues where the
        last call stopped.

        With ``method="tempering"`` the ladder is tuned during the first
        ``adapt_steps`` sweeps (default 500) of the ``next`` calls, and the
        sampler reports its ``betas`` and ``swap_rates``. Without
        ``random_state`` the sampler's generator is seeded by four draws of
        the model's, once: its samples then depend on no other call, and a
        model loaded from a file makes the same sampler again.
        """
        n_chains = check_int("n_chains", n_chains, 1, INT_MAX)
        beta = check_beta(beta)
        tempering = check_method(method, n_temperatures)
        adapt_steps = check_adapt_steps(adapt_steps, tempering, SAMPLER_ADAPT_STEPS)
        start, mask, values = self._steering(n_chains, init, clamp, label, label_strength)
        if random_state is None:
            random_state = np.random.default_rng(self._rng.bit_generator.random_raw(4))
        rng = as_generator(random_state)
        chains = self._start(rng, n_chains, start, mask, values)
        if tempering:
            ladder = self._tempering(rng, chains, n_temperatures or DEFAULT_TEMPERATURES, beta,
                                     mask, values, adapt_steps)
            return Sampler(self, rng, ladder.chains, beta, mask, values, ladder)
        return Sampler(self, rng, chains, beta, mask, values)

    def load_sampler(self, path: Any) -> Sampler:
        """A sampler saved by :meth:`Sampler.save`, continued on this model."""
        return Sampler.load(path, self)

    def _last_half_step_means(self, rng: np.random.Generator, v: np.ndarray, beta: float,
                              mask: Optional[np.ndarray],
                              values: Optional[np.ndarray]) -> np.ndarray:
        """The last sweep's ``h ~ p(h | v)`` at ``beta`` (one key, as the
        kernels draw it), then ``E[v | h]`` in place of the visible draw."""
        inputs = v if self.visible.binary else v * np.exp(-self._visible_log_var)
        h = np.ascontiguousarray(expit(beta * (inputs @ self._W + self._hidden_bias)),
                                 dtype=self.dtype)
        _loops.sample_in_place(rng, h)
        field = h @ self._W.T + self._visible_bias
        means = np.ascontiguousarray(expit(beta * field) if self.visible.binary else field,
                                     dtype=self.dtype)
        if self._n_labels:
            means[:, self.n_visible:] = _labels.softmax(beta * field[:, self.n_visible:])
        apply_clamp(means, mask, values)
        return means

    # -- label units --------------------------------------------------------

    def join_labels(self, X: Any, labels: Any) -> np.ndarray:
        """Rows of the visible units and label units together (each row of
        ``X`` then the one-hot label): what the conditionals and
        ``free_energy`` of a model with label units take."""
        self._require_labels("join_labels")
        rows = self._visible_rows(X)
        y = _labels.check_labels(labels, len(rows), self._n_labels)
        return _labels.joined(np.asarray(rows, dtype=self.dtype), y, self._n_labels)

    def predict_proba(self, X: Any) -> np.ndarray:
        """``p(y | v)`` for each row of ``X`` (n, n_visible), shape (n, n_labels),
        float64: the hidden units summed out exactly (by free energy)."""
        self._require_labels("predict_proba")
        rows = self._visible_rows(X)
        with self._parameters_lock.reading():
            return np.exp(_labels.class_log_probabilities(self, rows))

    def _expected_hidden(self, X: Any) -> np.ndarray:
        """``E[h | v] = sum_k p(k | v) p(h = 1 | v, k)`` for each row of ``X``
        (n, n_visible), shape (n, n_hidden), float64: the hidden features of a
        model with label units, the label summed out (``DBN.transform``)."""
        rows = self._visible_rows(X)
        with self._parameters_lock.reading():
            return _labels.expected_hidden(self, rows)

    def _visible_rows(self, X: Any) -> np.ndarray:
        """Rows of the ``n_visible`` units alone (no label units), checked."""
        rows, _ = as_unit_rows(X, "X", self.n_visible, allow_1d=False,
                               unit_interval=self.visible.data_in_unit_interval)
        return rows

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row of ``X`` (int array, shape (n,))."""
        return np.argmax(self.predict_proba(X), axis=1)

    def _require_labels(self, name: str) -> None:
        if not self._n_labels:
            raise ValueError(f"{name} needs a model with label units: RBM(..., n_labels=K)")

    # -- evaluation (see crbm.evaluate) ---------------------------------------

    def free_energy(self, v: Any) -> np.ndarray:
        """``F(v)`` for each row of ``v``: ``p(v) = exp(-F(v)) / Z``."""
        return evaluate.free_energy(self, v)

    def reconstruction_error(self, v: Any) -> float:
        """Mean squared error of the mean-field reconstruction of ``v``."""
        return evaluate.reconstruction_error(self, v)

    def pseudo_likelihood(self, v: Any, *, random_state: RandomState = None) -> float:
        """Stochastic pseudo-log-likelihood per visible unit (seedable; Bernoulli units)."""
        return evaluate.pseudo_likelihood(self, v, random_state=random_state)

    def log_partition(self, method: str = "exact", **kwargs: Any) -> Any:
        """``log Z``: ``method="exact"`` or ``"ais"``; see :func:`crbm.evaluate.log_partition`."""
        return evaluate.log_partition(self, method, **kwargs)

    def log_likelihood(self, v: Any, **kwargs: Any) -> float:
        """Mean log-likelihood of the rows of ``v``; see :func:`crbm.evaluate.log_likelihood`."""
        return evaluate.log_likelihood(self, v, **kwargs)

    def log_likelihood_bracket(self, v: Any, **kwargs: Any) -> tuple[float, float]:
        """``(conservative, optimistic)`` mean log-likelihoods of the rows of
        ``v`` by reverse and forward AIS; see
        :func:`crbm.evaluate.log_likelihood_bracket`."""
        return evaluate.log_likelihood_bracket(self, v, **kwargs)

    # -- persistence --------------------------------------------------------

    def save(self, path: Any) -> None:
        """Write the model to one ``.npz`` file, atomically.

        The file holds the parameters, the unit types, the format version,
        the dtype, the settings, the training state and the generator's
        state, so :meth:`load` restores a model that trains and samples
        exactly as this one would. A save during another thread's
        :meth:`train` waits for it to finish.
        """
        with self._train_lock:
            _files.save_model(self, path)

    @classmethod
    def load(cls, path: Any) -> "RBM":
        """Read a model written by :meth:`save` (any crbm's); see :class:`crbm.ModelFileError`."""
        return _files.load_model(cls, path)

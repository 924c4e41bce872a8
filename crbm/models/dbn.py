"""Deep belief networks: stacks of RBMs trained greedily, layer by layer.

A DBN of layer sizes ``[n_0, n_1, ..., n_L]`` is ``L`` ordinary
:class:`crbm.RBM` objects, ``rbms[i]`` of shape ``(n_i, n_{i+1})``
(Hinton, Osindero & Teh 2006). Each is trained on what the one below makes
of the data (``p(h | v)``, or sampled states); with ``n_labels`` the top
RBM is a joint model of its inputs and a one-hot label. Generating runs the
top RBM's sampler (its label units clamped when asked) and then one pass
down through the directed layers below it.

Every layer trains in crbm's compiled loops: the only Python between
batches is the one call per layer that computes the next layer's inputs.
"""
from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Optional, Union

import numpy as np

from crbm._validation import RandomState, as_generator, check_int, check_path
from crbm.io.persist import ModelFileError, read_model_file, write_model_file
from crbm.models import _files
from crbm.models import labels as _labels
from crbm.models.rbm import RBM

__all__ = ["DBN"]

FORMAT_NAME = "crbm.DBN"
FORMAT_VERSION = 1
_TRAIN_KEYS = frozenset(inspect.signature(RBM.train).parameters) - {
    "self", "samples", "labels", "progress", "on_epoch", "validation"}
_INPUTS = ("probabilities", "states")


class DBN:
    """A deep belief network: RBMs stacked and trained layer by layer.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``[n_visible, n_hidden_1, ..., n_hidden_L]``, at least two sizes:
        ``rbms[i]`` joins layer ``i`` to layer ``i + 1``.
    visible : str or Units, default "bernoulli"
        The bottom RBM's visible units; every layer above is Bernoulli.
    n_labels : int, optional
        Softmax label units joined to the top RBM's visible layer (its
        inputs), for :meth:`generate` with ``label`` and :meth:`predict`.
    dtype : float32 or float64
    random_state : None, int, SeedSequence or Generator
        Seeds the layers: ``rbms[i]`` gets the ``i``-th generator spawned
        from it, so each layer is reproducible on its own.
    init : {"normal", "zeros"}
        Each RBM's initial parameters (see :class:`crbm.RBM`).

    Attributes
    ----------
    rbms : list of RBM
        The layers, bottom first; each is an ordinary RBM.
    """

    def __init__(self, layer_sizes: Sequence[int], *, visible: Any = "bernoulli",
                 n_labels: Optional[int] = None, dtype: Any = np.float64,
                 random_state: RandomState = None, init: str = "normal") -> None:
        sizes = _check_sizes(layer_sizes)
        n_labels = 0 if n_labels is None else check_int("n_labels", n_labels, 0)
        generators = as_generator(random_state).spawn(len(sizes) - 1)
        top = len(sizes) - 2
        self.rbms = [RBM(sizes[i], sizes[i + 1], visible=visible if i == 0 else "bernoulli",
                         dtype=dtype, init=init, random_state=generators[i],
                         n_labels=n_labels if i == top else 0)
                     for i in range(len(sizes) - 1)]

    @classmethod
    def from_rbms(cls, rbms: Sequence[RBM]) -> "DBN":
        """A DBN of existing RBMs (not copied), bottom first; each one's
        visible layer must be as wide as the hidden layer below it, and only
        the top one may have label units."""
        rbms = list(rbms)
        if not rbms or not all(isinstance(r, RBM) for r in rbms):
            raise TypeError("rbms must be a non-empty sequence of crbm.RBM")
        for i, (below, above) in enumerate(zip(rbms, rbms[1:])):
            if above.n_visible != below.n_hidden:
                raise ValueError(f"rbms[{i + 1}] has {above.n_visible} visible units; the "
                                 f"layer below it has {below.n_hidden} hidden units")
            if below.n_labels:
                raise ValueError(f"rbms[{i}] has label units: only the top RBM may")
            if above.visible.name != "bernoulli" or above.dtype != below.dtype:
                raise ValueError(f"rbms[{i + 1}] must have Bernoulli visible units and the "
                                 f"dtype of the layers below ({below.dtype})")
        dbn = cls.__new__(cls)
        dbn.rbms = rbms
        return dbn

    # -- shape ----------------------------------------------------------------

    @property
    def layer_sizes(self) -> list[int]:
        """``[n_visible, n_hidden_1, ..., n_hidden_L]``."""
        return [self.rbms[0].n_visible] + [r.n_hidden for r in self.rbms]

    @property
    def n_labels(self) -> int:
        """The top RBM's label units (0: none)."""
        return self.rbms[-1].n_labels

    @property
    def dtype(self) -> np.dtype:
        return self.rbms[0].dtype

    def __repr__(self) -> str:
        labels = f", n_labels={self.n_labels}" if self.n_labels else ""
        return f"DBN({self.layer_sizes}{labels}, dtype={self.dtype.name})"

    # -- training ---------------------------------------------------------------

    def train(self, X: Any, labels: Any = None, *, epochs: Optional[int] = None,
              layers: Union[Mapping, Sequence[Mapping], None] = None,
              inputs: str = "probabilities",
              progress: Optional[Callable[[int, int], None]] = None) -> "DBN":
        """Greedy layer-wise training, bottom first, in place.

        ``rbms[0]`` trains on ``X``; each RBM above on what the one below
        makes of the data, ``p(h | v)`` (``inputs="probabilities"``) or
        states drawn from it (``"states"``, with that RBM's generator). The
        top RBM of a labelled DBN trains on its inputs and ``labels``.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_visible)
        labels : array_like of int, shape (n_samples,)
            Required with ``n_labels``, refused without.
        epochs : int, optional
            Every layer's epochs, unless its settings give them (default 3,
            as :meth:`crbm.RBM.train`).
        layers : dict or sequence of dicts, optional
            Keyword arguments of :meth:`crbm.RBM.train` (``learning_rate``,
            ``batch_size``, ``k``, ``from_noise``, ``clamp_labels``, ...): one
            dict for every layer, or one per layer.
        inputs : {"probabilities", "states"}
        progress : callable, optional
            Called as ``progress(layer, n_samples_done)`` a few times per
            epoch of each layer.

        Returns
        -------
        self : DBN

        Everything is checked before the first layer trains. Ctrl-C and
        divergence behave as for one RBM: the layer being trained keeps its
        last completed chunk, the layers below stay trained, those above
        untouched.
        """
        settings = self._layer_settings(layers, epochs)
        if inputs not in _INPUTS:
            raise ValueError(f"inputs must be one of {_INPUTS}, got {inputs!r}")
        data = np.asarray(X) if not isinstance(X, np.ndarray) else X
        if data.ndim != 2 or data.shape[1] != self.layer_sizes[0]:
            raise ValueError(f"X must have shape (n_samples, {self.layer_sizes[0]}), "
                             f"got {data.shape}")
        if self.n_labels:
            labels = _labels.check_labels(labels, len(data), self.n_labels)
        elif labels is not None:
            raise ValueError("labels needs a DBN with label units: DBN(..., n_labels=K)")
        top = len(self.rbms) - 1
        self._rehearse(settings)
        for i, (rbm, options) in enumerate(zip(self.rbms, settings)):
            report = None if progress is None else (lambda n, i=i: progress(i, n))
            extra = {"labels": labels} if i == top and self.n_labels else {}
            rbm.train(data, progress=report, **extra, **options)
            if i < top:
                data = (rbm.sample_hidden(data) if inputs == "states"
                        else rbm.hidden_probabilities(data))
        return self

    def _rehearse(self, settings: list[dict]) -> None:
        """Each layer's settings tried on a parameters-only copy and two rows
        of zeros: a bad value raises here, before any layer has changed."""
        for rbm, options in zip(self.rbms, settings):
            probe = rbm.copy(parameters_only=True)
            rows = np.zeros((2, rbm.n_visible), dtype=rbm.dtype)
            extra = {"labels": np.zeros(2, dtype=np.intp)} if rbm.n_labels else {}
            probe.train(rows, **{**options, "epochs": 1}, **extra)

    def _layer_settings(self, layers: Any, epochs: Optional[int]) -> list[dict]:
        if layers is None:
            layers = {}
        if isinstance(layers, Mapping):
            layers = [layers] * len(self.rbms)
        elif isinstance(layers, Sequence) and not isinstance(layers, (str, bytes)):
            layers = list(layers)
            if len(layers) != len(self.rbms):
                raise ValueError(f"layers must be one dict or {len(self.rbms)} dicts (one "
                                 f"per RBM), got {len(layers)}")
        else:
            raise TypeError(f"layers must be a dict or a sequence of dicts, got "
                            f"{type(layers).__name__}")
        if epochs is not None:
            epochs = check_int("epochs", epochs, 1)
        out = []
        for i, options in enumerate(layers):
            if not isinstance(options, Mapping):
                raise TypeError(f"layers[{i}] must be a dict, got {type(options).__name__}")
            unknown = sorted(set(options) - _TRAIN_KEYS)
            if unknown:
                raise ValueError(f"layers[{i}]: unknown training settings {unknown}")
            options = dict(options)
            if epochs is not None:
                options.setdefault("epochs", epochs)
            out.append(options)
        return out

    # -- inference ----------------------------------------------------------------

    def transform(self, X: Any, layer: int = -1) -> np.ndarray:
        """Features of ``X``: the up pass of ``p(h | v)`` through the first
        ``layer`` RBMs (1..L, or negative from the top: -1 is every layer).
        A labelled top RBM's features sum the label out, ``E[h | v] =
        sum_k p(k | v) p(h | v, k)`` (float64)."""
        L = len(self.rbms)
        layer = check_int("layer", layer, -L, L)
        if layer == 0:
            raise ValueError(f"layer must be in 1..{L} or -{L}..-1, got 0")
        count = layer if layer > 0 else L + 1 + layer
        data = X
        for rbm in self.rbms[:count]:
            data = rbm._expected_hidden(data) if rbm.n_labels else rbm.hidden_probabilities(data)
        return data

    def predict_proba(self, X: Any) -> np.ndarray:
        """``p(y | x)`` by the top RBM of the features below it, shape
        (n, n_labels)."""
        self._require_labels("predict_proba")
        return self.rbms[-1].predict_proba(self._top_inputs(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row of ``X``."""
        self._require_labels("predict")
        return self.rbms[-1].predict(self._top_inputs(X))

    def _top_inputs(self, X: Any) -> np.ndarray:
        return X if len(self.rbms) == 1 else self.transform(X, layer=len(self.rbms) - 1)

    def _require_labels(self, name: str) -> None:
        if not self.n_labels:
            raise ValueError(f"{name} needs a DBN with label units: DBN(..., n_labels=K)")

    # -- generation ---------------------------------------------------------------

    def generate(self, n_samples: Optional[int] = None, *, label: Any = None,
                 down: str = "probabilities", return_probabilities: bool = False,
                 random_state: RandomState = None, **top_options: Any) -> np.ndarray:
        """Samples of the bottom layer: the top RBM's sampler, then one pass down.

        Parameters
        ----------
        n_samples : int, optional
            None: one sample of shape ``(n_visible,)``.
        label : int or array of int, optional
            A labelled DBN's class (one, or one per sample): the top RBM's
            label units are clamped to it.
        down : {"probabilities", "states"}
            What each directed layer hands to the one below: ``E[v | h]`` (a
            deterministic pass) or states drawn from it.
        return_probabilities : bool
            Return the bottom layer's means instead of states drawn from them.
        random_state : None, int, SeedSequence or Generator
            One generator for the top sampler and the draws of the pass
            down (default: the top RBM's, then each layer's own).
        **top_options
            Passed to the top RBM's :meth:`crbm.RBM.generate`: ``n_steps``,
            ``method`` ("gibbs" or "tempering"), ``n_temperatures``, ``beta``,
            ``label_strength`` (with ``label``), ``progress``...
        """
        if down not in _INPUTS:
            raise ValueError(f"down must be one of {_INPUTS}, got {down!r}")
        for key in ("init", "clamp", "thin"):
            if key in top_options:
                raise TypeError(f"generate() of a DBN takes no {key!r}")
        rng = None if random_state is None else as_generator(random_state)
        x = self.rbms[-1].generate(n_samples, label=label, random_state=rng, **top_options)
        for i in range(len(self.rbms) - 2, -1, -1):
            rbm = self.rbms[i]
            last = i == 0
            if (last and return_probabilities) or (not last and down == "probabilities"):
                x = rbm.visible_means(x)
            else:
                x = rbm.sample_visible(x, random_state=rng)
        return x

    # -- files and copies ---------------------------------------------------------

    def save(self, path: Any) -> None:
        """Write the whole stack to one ``.npz`` (atomically, no pickle):
        each layer as an RBM file holds it."""
        path = check_path("path", path)
        layers, arrays = [], {}
        for i, rbm in enumerate(self.rbms):
            with rbm._train_lock:
                meta, layer_arrays = _files.model_record(rbm)
            layers.append(meta)
            arrays.update({f"layer{i}.{name}": value for name, value in layer_arrays.items()})
        write_model_file(path, {"format": FORMAT_NAME, "version": FORMAT_VERSION,
                                "layers": layers}, arrays)

    @classmethod
    def load(cls, path: Any) -> "DBN":
        """Read a stack written by :meth:`save`, every layer checked as
        :meth:`crbm.RBM.load` checks a model file."""
        path = check_path("path", path)
        meta, arrays, _ = read_model_file(path, FORMAT_NAME, FORMAT_VERSION, (), None)
        layers = meta.get("layers")
        if not isinstance(layers, list) or not layers or not all(
                isinstance(m, dict) for m in layers):
            raise ModelFileError(f"{path}: corrupt metadata (layers)")
        rbms = []
        for i, layer_meta in enumerate(layers):
            prefix = f"layer{i}."
            layer_arrays = {name[len(prefix):]: value for name, value in arrays.items()
                            if name.startswith(prefix)}
            if layer_meta.get("format") != _files.FORMAT_NAME or not isinstance(
                    layer_meta.get("version"), int) or not (
                    1 <= layer_meta["version"] <= _files.FORMAT_VERSION):
                raise ModelFileError(f"{path}: layer {i} is not an RBM record")
            rbms.append(_files.model_from_record(RBM, layer_meta, layer_arrays,
                                                 layer_meta["version"], path))
        try:
            return cls.from_rbms(rbms)
        except (TypeError, ValueError) as exc:
            raise ModelFileError(f"{path}: the layers do not stack ({exc})") from exc

    def copy(self) -> "DBN":
        """An independent copy (parameters, training state, generators)."""
        return DBN.from_rbms([rbm.copy() for rbm in self.rbms])


def _check_sizes(layer_sizes: Any) -> list[int]:
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, Sequence):
        raise TypeError(f"layer_sizes must be a sequence of ints, got "
                        f"{type(layer_sizes).__name__}")
    sizes = [check_int(f"layer_sizes[{i}]", n, 1) for i, n in enumerate(layer_sizes)]
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes needs at least two sizes (visible, hidden), got {sizes}")
    return sizes


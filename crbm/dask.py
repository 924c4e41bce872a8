"""Transform, score and sample over Dask arrays, partition by partition.

Needs the ``crbm[dask]`` extra. A trained model is shipped to the workers
once per graph (only its parameters: no training state), and every
partition that draws random numbers gets its own stream, spawned from one
``SeedSequence``, so results depend on the seed and the partitioning --
never on the number of workers or the order the partitions run in::

    import crbm.dask
    features = crbm.dask.transform(model, X)          # X: dask array of rows
    samples = crbm.dask.generate(model, 100_000, chunk_size=10_000, random_state=0)

Every function returns a lazy ``dask.array.Array``; call ``.compute()``.
"""
from __future__ import annotations

import numbers
from typing import Any, Callable, Optional, Union

import numpy as np

try:
    import dask
    import dask.array as da
except ImportError as exc:  # pragma: no cover - exercised without the extra only
    raise ImportError("crbm.dask needs Dask: pip install 'crbm[dask]'") from exc

from crbm._validation import INT_MAX, check_int
from crbm.models._sampling import (
    DEFAULT_STEPS, check_beta, check_clamp, check_method, initial_chains)
from crbm.models.dbn import DBN
from crbm.models.rbm import RBM

__all__ = ["transform", "free_energy", "sample_hidden", "generate", "partition_generators"]

SeedLike = Union[None, int, np.random.SeedSequence]


def _parameters_only(model: Any) -> RBM:
    """A copy of ``model`` with its parameters and nothing else (no chains,
    velocity, history or generator state): what the workers need."""
    if not isinstance(model, RBM):
        raise TypeError(f"model must be a crbm.RBM, got {type(model).__name__}")
    return model.copy(parameters_only=True)


def _rows(X: Any, width: int) -> da.Array:
    """``X`` as a 2-D dask array of rows ``width`` wide, one chunk across."""
    if not isinstance(X, da.Array):
        raise TypeError(f"X must be a dask.array.Array, got {type(X).__name__}")
    if X.ndim != 2 or X.shape[1] != width:
        raise ValueError(f"X must have shape (n, {width}), got {X.shape}")
    return X.rechunk({1: -1}) if len(X.chunks[1]) > 1 else X


def _seed_sequence(random_state: SeedLike) -> np.random.SeedSequence:
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if random_state is None or (isinstance(random_state, numbers.Integral)
                                and not isinstance(random_state, bool) and random_state >= 0):
        return np.random.SeedSequence(random_state)
    raise TypeError("random_state must be None, a non-negative int or a numpy SeedSequence "
                    f"(a Generator cannot be split reproducibly), got {random_state!r}")


def partition_generators(random_state: SeedLike, n_partitions: int) -> list[np.random.Generator]:
    """The generators partitions ``0 .. n_partitions - 1`` use.

    ``SeedSequence(random_state).spawn(n_partitions)``, each child driving a
    PCG64: independent streams, the same whoever computes them. A
    single-machine loop over these reproduces any of this module's random
    results exactly.
    """
    n_partitions = check_int("n_partitions", n_partitions, 0, INT_MAX)
    return [_stream(child) for child in _seed_sequence(random_state).spawn(n_partitions)]


def _stream(seed: np.random.SeedSequence) -> np.random.Generator:
    """The generator of one partition: a PCG64 on its spawned seed."""
    return np.random.Generator(np.random.PCG64(seed))


def _map_rows(model: Any, X: Any, function: Callable, *, hidden: bool,
              streams: Optional[np.random.SeedSequence] = None) -> da.Array:
    """``function(block, parameters_only_model[, seeds])`` on every row block
    of ``X``: blocks of ``n_hidden`` columns if ``hidden``, else 1-D. With
    ``streams``, ``seeds[i]`` is the ``i``-th child spawned from it."""
    small = _parameters_only(model)
    rows = _rows(X, small.n_visible)
    args: list = [small]
    if streams is not None:
        # SeedSequences travel as a small object array, indexed by partition.
        seeds = np.empty(len(rows.chunks[0]), dtype=object)
        seeds[:] = streams.spawn(len(seeds))
        args.append(seeds)
    if hidden:
        return rows.map_blocks(function, *args, dtype=small.dtype,
                               chunks=(rows.chunks[0], (small.n_hidden,)))
    return rows.map_blocks(function, *args, dtype=small.dtype,
                           chunks=(rows.chunks[0],), drop_axis=1)


def _hidden_probabilities(block: np.ndarray, model: RBM) -> np.ndarray:
    return model.hidden_probabilities(block)


def _free_energy(block: np.ndarray, model: RBM) -> np.ndarray:
    return model.free_energy(block).astype(model.dtype, copy=False)


def _stack_features(block: np.ndarray, dbn: DBN, layer: int) -> np.ndarray:
    return dbn.transform(block, layer=layer).astype(dbn.dtype, copy=False)


def transform(model: Any, X: Any, *, layer: Optional[int] = None) -> da.Array:
    """``p(h = 1 | v)`` for every row of ``X`` (n, n_visible): (n, n_hidden).
    For a :class:`crbm.DBN`, its features after ``layer`` RBMs (default -1,
    all of them; see :meth:`crbm.DBN.transform`), in the stack's dtype."""
    if not isinstance(model, DBN):
        if layer is not None:
            raise ValueError("layer is for a crbm.DBN")
        return _map_rows(model, X, _hidden_probabilities, hidden=True)
    layer = -1 if layer is None else layer
    small = DBN.from_rbms([_parameters_only(rbm) for rbm in model.rbms])
    width = small.transform(np.zeros((1, small.layer_sizes[0]), small.dtype), layer).shape[1]
    rows = _rows(X, small.layer_sizes[0])
    return rows.map_blocks(_stack_features, small, layer, dtype=small.dtype,
                           chunks=(rows.chunks[0], (width,)))


def free_energy(model: Any, X: Any) -> da.Array:
    """The free energy ``F(v)`` of every row of ``X`` (lower is more probable): (n,)."""
    return _map_rows(model, X, _free_energy, hidden=False)


def _sample_hidden(block: np.ndarray, model: RBM, seeds: np.ndarray,
                   block_info: Any = None) -> np.ndarray:
    index = block_info[0]["chunk-location"][0]
    return model.sample_hidden(block, random_state=_stream(seeds[index]))


def sample_hidden(model: Any, X: Any, *, random_state: SeedLike = None) -> da.Array:
    """Draw ``h ~ p(h | v)`` for every row of ``X``: partition ``i`` uses
    ``partition_generators(random_state, n_partitions)[i]``."""
    return _map_rows(model, X, _sample_hidden, hidden=True,
                     streams=_seed_sequence(random_state))


def _generate(model: RBM, n: int, n_steps: int, seed: np.random.SeedSequence,
              steering: dict) -> np.ndarray:
    return model.generate(n, n_steps=n_steps, random_state=_stream(seed), **steering)


def _rows_of(x: Optional[np.ndarray], start: int, stop: int) -> Optional[np.ndarray]:
    """A partition's rows of a per-chain array (2-D); a shared one (1-D) whole."""
    return x if x is None or x.ndim == 1 else x[start:stop]


def generate(model: Any, n_samples: int, *, n_steps: Optional[int] = None,
             chunk_size: int = 1000, init: Any = None, clamp: Any = None, beta: float = 1.0,
             method: str = "gibbs", n_temperatures: Optional[int] = None,
             label: Any = None, label_strength: Optional[float] = None,
             random_state: SeedLike = None) -> da.Array:
    """``n_samples`` independent Gibbs chains of ``n_steps`` sweeps, in
    partitions of ``chunk_size`` chains: partition ``i`` is
    ``model.generate(size_i, n_steps=n_steps, random_state=g_i, ...)`` with
    ``g_i = partition_generators(random_state, n_partitions)[i]``.

    ``n_steps`` (by default the model's own), ``init``, ``clamp=(mask,
    values)``, ``beta``, ``method``, ``n_temperatures``, ``label`` and
    ``label_strength`` are
    :meth:`crbm.RBM.generate`'s (with tempering, each partition tunes its
    own ladder); a per-chain ``init``, mask, values or label (``n_samples``
    rows or labels) is split with the partitions, a single one is shared.
    They are checked here, before the graph is built.
    """
    small = _parameters_only(model)
    n_samples = check_int("n_samples", n_samples, 0, INT_MAX)
    if n_steps is None:
        n_steps = DEFAULT_STEPS if model.sampling_steps is None else model.sampling_steps
    n_steps = check_int("n_steps", n_steps, 0, INT_MAX)
    check_method(method, n_temperatures)
    chunk_size = check_int("chunk_size", chunk_size, 1, INT_MAX)
    beta = check_beta(beta)
    if isinstance(init, str):
        raise ValueError("crbm.dask.generate takes init rows, not 'data': the graph ships "
                         "the model's parameters only, not its PCD chains")
    if init is not None:
        shared_init = np.ndim(init) == 1
        init = initial_chains(None if shared_init else n_samples, init, small)
        if shared_init:
            init = init[0]
    mask, values = check_clamp(clamp, n_samples, small)
    # The label and its strength checked as generate checks them.
    small._steering(n_samples, None, None, label, label_strength)
    if label is not None and not isinstance(label, numbers.Integral):
        label = np.asarray(label)  # one per chain: split with the partitions below
    if mask is not None:
        mask = mask != 0
        if values.shape[0] == 1 and n_samples != 1:
            values = values[0]
    sizes = [min(chunk_size, n_samples - start) for start in range(0, n_samples, chunk_size)]
    if not sizes:
        return da.zeros((0, model.n_visible), dtype=model.dtype)
    seeds = _seed_sequence(random_state).spawn(len(sizes))
    shared = dask.delayed(small, pure=True)  # one copy in the graph
    parts = []
    for i, (size, seed) in enumerate(zip(sizes, seeds)):
        start = i * chunk_size
        steering = {"beta": beta, "init": _rows_of(init, start, start + size),
                    "method": method, "n_temperatures": n_temperatures,
                    "label_strength": label_strength,
                    "label": label if not isinstance(label, np.ndarray)
                    else label[start:start + size]}
        if mask is not None:
            steering["clamp"] = (_rows_of(mask, start, start + size),
                                 _rows_of(values, start, start + size))
        parts.append(da.from_delayed(dask.delayed(_generate)(shared, size, n_steps, seed,
                                                             steering),
                                     shape=(size, model.n_visible), dtype=model.dtype))
    return da.concatenate(parts, axis=0)

"""Saving and loading models as ``.npz`` files, atomically and without pickle."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from crbm._atomic import atomic_write
from crbm._validation import check_path

FORMAT_NAME = "crbm.RBM"
# 2: optional training state (chains, velocity, offsets) and history.
FORMAT_VERSION = 2
_ARRAYS = ("W", "visible_bias", "hidden_bias")
# Optional training state: PCD chains, momentum velocity, centering offsets.
_STATE = ("chains", "velocity", "offsets")
# The bit generators a file may name: nothing else in np.random is called.
_BIT_GENERATORS = {cls.__name__: cls for cls in (
    np.random.PCG64, np.random.PCG64DXSM, np.random.MT19937, np.random.Philox, np.random.SFC64)}


class ModelFileError(ValueError):
    """A model file is missing parts, corrupt, foreign or from a newer crbm."""


def _encode_state(state: Any) -> Any:
    """Make a bit generator's state JSON-serialisable (arrays become tagged lists)."""
    if isinstance(state, dict):
        return {key: _encode_state(value) for key, value in state.items()}
    if isinstance(state, np.ndarray):
        return {"__ndarray__": state.tolist(), "dtype": state.dtype.str}
    if isinstance(state, np.integer):
        return int(state)
    return state


def _decode_state(state: Any) -> Any:
    if isinstance(state, dict):
        if "__ndarray__" in state:
            return np.asarray(state["__ndarray__"], dtype=np.dtype(state["dtype"]))
        return {key: _decode_state(value) for key, value in state.items()}
    return state


def save_model(model: Any, path: Any) -> None:
    """Write ``model`` to ``path`` (an ``.npz``); a crash never leaves half a file there."""
    path = check_path("path", path)
    for name in _ARRAYS:
        if not np.all(np.isfinite(getattr(model, name))):
            raise ValueError(f"cannot save: the model's {name} contains NaN or infinite values")
    meta = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "dtype": model.dtype.name,
        "n_visible": model.n_visible,
        "n_hidden": model.n_hidden,
        "init": model.init,
        "visible_bias_from_data": model._visible_bias_from_data,
        "epochs_trained": model.epochs_trained,
        "history": model.history,
        "bit_generator": type(model.random_state.bit_generator).__name__,
        "rng_state": _encode_state(model.random_state.bit_generator.state),
    }
    state = {name: getattr(model, "_" + name) for name in _STATE
             if getattr(model, "_" + name) is not None}
    with atomic_write(path) as f:
        np.savez(f, meta=np.array(json.dumps(meta)), W=model.W,
                 visible_bias=model.visible_bias, hidden_bias=model.hidden_bias, **state)


def _read(path: Path) -> tuple[dict, dict]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            names = set(npz.files)
            missing = {"meta", *_ARRAYS} - names
            if missing:
                raise ModelFileError(f"{path}: not a crbm model file (missing {sorted(missing)})")
            arrays = {name: npz[name] for name in _ARRAYS + _STATE if name in names}
            meta_raw = npz["meta"]
    except ModelFileError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ModelFileError(f"{path}: not a readable .npz model file ({exc})") from exc
    try:
        meta = json.loads(str(meta_raw[()]))
        if not isinstance(meta, dict):
            raise TypeError("metadata is not a JSON object")
    except (ValueError, TypeError, IndexError) as exc:
        raise ModelFileError(f"{path}: corrupt metadata ({exc})") from exc
    return meta, arrays


def load_model(cls: type, path: Any) -> Any:
    """Read a model written by :func:`save_model`, checking everything it reads."""
    path = check_path("path", path)
    meta, arrays = _read(path)
    if meta.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path}: not a crbm model file (format {meta.get('format')!r})")
    version = meta.get("version")
    if type(version) is not int or version < 1:
        raise ModelFileError(f"{path}: invalid format version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: written by a newer crbm (format version {version}, this crbm reads "
            f"up to {FORMAT_VERSION}); upgrade crbm to load it")
    try:
        dtype = np.dtype(meta["dtype"])
        n_visible, n_hidden = meta["n_visible"], meta["n_hidden"]
        init = meta["init"]
        bit_generator = _BIT_GENERATORS[meta["bit_generator"]]
        rng_state = _decode_state(meta["rng_state"])
        pending = meta["visible_bias_from_data"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: corrupt metadata ({exc!r})") from exc
    if not (type(n_visible) is int and type(n_hidden) is int and type(pending) is bool):
        raise ModelFileError(f"{path}: corrupt metadata (sizes must be ints, "
                             "visible_bias_from_data a bool)")
    expected = {"W": (n_visible, n_hidden), "visible_bias": (n_visible,),
                "hidden_bias": (n_hidden,)}
    for name, shape in expected.items():
        arr = arrays[name]
        if arr.shape != shape or arr.dtype != dtype:
            raise ModelFileError(
                f"{path}: {name} has shape {arr.shape} and dtype {arr.dtype}, "
                f"expected {shape} and {dtype}")
        if not np.all(np.isfinite(arr)):
            raise ModelFileError(f"{path}: {name} contains NaN or infinite values")
    try:
        generator = bit_generator()
        generator.state = rng_state
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise ModelFileError(f"{path}: corrupt generator state ({exc!r})") from exc
    try:
        model = cls(n_visible, n_hidden, dtype=dtype, init=init,
                    random_state=np.random.Generator(generator))
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: invalid settings ({exc})") from exc
    # The constructor's "normal" draw advanced the generator: restore it after.
    generator.state = rng_state
    model.W = arrays["W"]
    model.visible_bias = arrays["visible_bias"]
    model.hidden_bias = arrays["hidden_bias"]
    model._visible_bias_from_data = pending
    epochs_trained, history = meta.get("epochs_trained", 0), meta.get("history", [])
    keys = {"epoch", "reconstruction_error", "validation_reconstruction_error",
            "pseudo_likelihood", "free_energy_gap"}
    if (type(epochs_trained) is not int or epochs_trained < 0 or not isinstance(history, list)
            or not all(isinstance(r, dict) and set(r) == keys
                       and all(isinstance(v, (int, float)) for v in r.values())
                       for r in history)):
        raise ModelFileError(f"{path}: corrupt metadata (training history)")
    model.epochs_trained, model.history = epochs_trained, history
    state_shapes = {"chains": (None, n_visible),
                    "velocity": (n_visible * n_hidden + n_visible + n_hidden,),
                    "offsets": (n_visible + n_hidden,)}
    for name, shape in state_shapes.items():
        if name not in arrays:
            continue
        arr = arrays[name]
        if (arr.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, arr.shape))
                or arr.dtype != dtype or arr.size == 0 or not np.all(np.isfinite(arr))
                or (name == "chains" and not np.all((arr == 0) | (arr == 1)))
                or (name == "offsets" and not np.all((arr >= 0) & (arr <= 1)))):
            raise ModelFileError(f"{path}: training state {name!r} is invalid (shape "
                                 f"{arr.shape}, dtype {arr.dtype}, or values out of range)")
        setattr(model, "_" + name, np.ascontiguousarray(arr))
    return model

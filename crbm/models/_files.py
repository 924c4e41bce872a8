"""What an RBM's model file holds, and the checks that make a model of it.

The file format itself (``.npz``, JSON metadata, no pickle, atomic writes)
is :mod:`crbm.io.persist`'s. Format versions: 1, the parameters; 2, the
training state (chains, velocity, offsets) and history; 3, the unit types
and a Gaussian layer's ``visible_log_var``; 4, label units (``n_labels``,
``label_weights``, ``label_bias``, and ``label_strength``, 1 when a file
has none), written only for models that have them
(so that other models' files stay readable by earlier crbm). Files of every
version load.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from crbm._validation import check_path
from crbm.io.persist import (
    ModelFileError, check_float_dtype, decode_generator, encode_generator, read_model_file,
    write_model_file)
from crbm.models.units import Bernoulli, from_spec

FORMAT_NAME = "crbm.RBM"
FORMAT_VERSION = 4
_PARAMETERS = ("W", "visible_bias", "hidden_bias")
# visible_log_var (Gaussian units), label units, then the optional training state.
_OPTIONAL = ("visible_log_var", "label_weights", "label_bias", "chains", "velocity", "offsets")
_HISTORY_KEYS = {"epoch", "reconstruction_error", "validation_reconstruction_error",
                 "pseudo_likelihood", "free_energy_gap"}


def save_model(model: Any, path: Any) -> None:
    """Write ``model`` to ``path`` (an ``.npz``); the caller holds its training lock."""
    path = check_path("path", path)
    write_model_file(path, *model_record(model))


def model_record(model: Any) -> tuple[dict, dict]:
    """``(meta, arrays)``: what a model file holds of ``model`` (a stack's
    file holds one of these per layer)."""
    arrays = {"W": model.W, "visible_bias": model.visible_bias, "hidden_bias": model.hidden_bias}
    if model._visible_log_var is not None:
        arrays["visible_log_var"] = model._visible_log_var
    if model.n_labels:
        arrays["label_weights"], arrays["label_bias"] = model.label_weights, model.label_bias
    for name, value in arrays.items():
        if not np.all(np.isfinite(value)):
            raise ValueError(f"cannot save: the model's {name} contains NaN or infinite values")
    arrays.update({name: value for name, value in model.training_state.items()
                   if value is not None})
    meta = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION if model.n_labels else 3,
        "dtype": model.dtype.name,
        "n_visible": model.n_visible,
        "n_hidden": model.n_hidden,
        **({"n_labels": model.n_labels, "label_strength": model.label_strength}
           if model.n_labels else {}),
        "visible": model.visible.spec(),
        "hidden": model.hidden.spec(),
        "init": model.init,
        "visible_bias_from_data": model._visible_bias_from_data,
        "epochs_trained": model.epochs_trained,
        "history": model.history,
        "sampling_steps": model.sampling_steps,
        **encode_generator(model.random_state),
    }
    return meta, arrays


def _history_ok(epochs_trained: Any, history: Any) -> bool:
    # A record holds the monitor's figures; Gaussian models have no pseudo-likelihood.
    return (type(epochs_trained) is int and epochs_trained >= 0 and isinstance(history, list)
            and all(isinstance(r, dict) and set(r) in (_HISTORY_KEYS,
                                                       _HISTORY_KEYS - {"pseudo_likelihood"})
                    and all(isinstance(v, (int, float)) for v in r.values()) for r in history))


def load_model(cls: type, path: Any) -> Any:
    """Read a model written by :func:`save_model`, checking everything it reads."""
    path = check_path("path", path)
    meta, arrays, version = read_model_file(path, FORMAT_NAME, FORMAT_VERSION, _PARAMETERS,
                                            _OPTIONAL)
    return model_from_record(cls, meta, arrays, version, path)


def model_from_record(cls: type, meta: dict, arrays: dict, version: int, path: Path) -> Any:
    """The model that :func:`model_record`'s ``(meta, arrays)`` describe, as
    of format ``version``, every value checked; problems name ``path``."""
    dtype = check_float_dtype(meta, path)
    try:
        n_visible, n_hidden = meta["n_visible"], meta["n_hidden"]
        init = meta["init"]
        pending = meta["visible_bias_from_data"]
        n_labels = meta.get("n_labels", 0) if version >= 4 else 0
        label_strength = meta.get("label_strength", 1.0) if n_labels else 1.0
        # Files before version 3 are Bernoulli-Bernoulli.
        visible = from_spec(meta["visible"]) if version >= 3 else Bernoulli()
        hidden = from_spec(meta["hidden"]) if version >= 3 else Bernoulli()
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: corrupt metadata ({exc!r})") from exc
    if not (type(n_visible) is int and type(n_hidden) is int and type(pending) is bool
            and type(n_labels) is int and type(label_strength) in (int, float)):
        raise ModelFileError(f"{path}: corrupt metadata (sizes must be ints, "
                             "visible_bias_from_data a bool, label_strength a number)")
    expected = {"W": (n_visible, n_hidden), "visible_bias": (n_visible,),
                "hidden_bias": (n_hidden,)}
    if visible.has_variance:
        expected["visible_log_var"] = (n_visible,)
    elif "visible_log_var" in arrays:
        raise ModelFileError(f"{path}: visible_log_var for {visible.name} units")
    if n_labels:
        expected["label_weights"], expected["label_bias"] = (n_labels, n_hidden), (n_labels,)
    elif "label_weights" in arrays or "label_bias" in arrays:
        raise ModelFileError(f"{path}: label arrays for a model without label units")
    for name, shape in expected.items():
        arr = arrays.get(name)
        if arr is None:
            raise ModelFileError(f"{path}: not a crbm model file (missing {name!r})")
        if arr.shape != shape or arr.dtype != dtype:
            raise ModelFileError(
                f"{path}: {name} has shape {arr.shape} and dtype {arr.dtype}, "
                f"expected {shape} and {dtype}")
        if not np.all(np.isfinite(arr)):
            raise ModelFileError(f"{path}: {name} contains NaN or infinite values")
    generator = decode_generator(meta, path)
    rng_state = generator.state
    try:
        model = cls(n_visible, n_hidden, visible=visible, hidden=hidden, dtype=dtype, init=init,
                    random_state=np.random.Generator(generator), n_labels=n_labels,
                    label_strength=label_strength)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: invalid settings ({exc})") from exc
    # The constructor's "normal" draw advanced the generator: restore it after.
    generator.state = rng_state
    model.W = arrays["W"]
    model.visible_bias = arrays["visible_bias"]
    model.hidden_bias = arrays["hidden_bias"]
    if n_labels:
        model.label_weights, model.label_bias = arrays["label_weights"], arrays["label_bias"]
    if visible.has_variance:
        log_var = arrays["visible_log_var"]
        if not np.all(log_var >= visible.min_log_var - 1e-6):
            raise ModelFileError(f"{path}: visible_log_var below its floor 2 log(min_std)")
        model._visible_log_var = np.ascontiguousarray(log_var)
    model._visible_bias_from_data = pending
    epochs_trained, history = meta.get("epochs_trained", 0), meta.get("history", [])
    if not _history_ok(epochs_trained, history):
        raise ModelFileError(f"{path}: corrupt metadata (training history)")
    model.epochs_trained, model.history = epochs_trained, history
    sampling_steps = meta.get("sampling_steps")
    if sampling_steps is not None and not (type(sampling_steps) is int and sampling_steps >= 0):
        raise ModelFileError(f"{path}: corrupt metadata (sampling_steps)")
    model.sampling_steps = sampling_steps
    state = {name: arrays[name] for name in ("chains", "velocity", "offsets") if name in arrays}
    for name, arr in state.items():
        if arr.dtype != dtype:
            raise ModelFileError(f"{path}: training state {name!r} has dtype {arr.dtype}, "
                                 f"expected {dtype}")
    try:
        model.training_state = state
    except ValueError as exc:
        raise ModelFileError(f"{path}: {exc}") from exc
    return model

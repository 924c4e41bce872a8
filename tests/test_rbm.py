"""The RBM facade: construction, validation, sampling API, persistence."""
import contextlib
import io
import json
import os
import re
import stat
import tracemalloc
import zipfile

import numpy as np
import pytest

import crbm


def trained_model(dtype=np.float64, init="normal"):
    data = (np.random.default_rng(0).random((30, 8)) < 0.3).astype(np.uint8)
    return crbm.RBM(8, 5, dtype=dtype, random_state=1, init=init).train(data, 0.1, 2), data


def snapshot(model):
    return (model.W.copy(), model.visible_bias.copy(), model.hidden_bias.copy(),
            model.random_state.bit_generator.state)


def assert_unchanged(model, before):
    W, b, c, state = before
    assert np.array_equal(model.W, W) and np.array_equal(model.visible_bias, b)
    assert np.array_equal(model.hidden_bias, c)
    assert model.random_state.bit_generator.state == state


def test_defaults_reproduce_reference_start():
    model = crbm.RBM(784, 100)
    assert model.W.shape == (784, 100) and model.W.dtype == np.float64
    assert model.visible_bias.shape == (784,) and model.hidden_bias.shape == (100,)
    assert not model.W.any() and not model.visible_bias.any() and not model.hidden_bias.any()
    assert repr(model) == "RBM(n_visible=784, n_hidden=100, dtype=float64, init='zeros')"


def test_normal_init_draws_small_weights_and_data_logit_bias():
    model = crbm.RBM(50, 40, init="normal", random_state=0)
    assert 0.008 < model.W.std() < 0.012 and abs(model.W.mean()) < 0.002
    data = np.zeros((200, 50), np.uint8)
    data[:50, 0] = 1  # marginal of unit 0 is 0.25; the others are always off
    model.train(data, 0.01, 1)
    assert not model._visible_bias_from_data
    bias_before_training = np.log(0.25 / 0.75)
    assert abs(model.visible_bias[0] - bias_before_training) < 0.5
    assert np.all(model.visible_bias[1:] < -5)


def test_training_is_reproducible_from_a_seed():
    data = (np.random.default_rng(0).random((40, 6)) < 0.5)
    a = crbm.RBM(6, 3, random_state=7).train(data)
    b = crbm.RBM(6, 3, random_state=7).train(data)
    c = crbm.RBM(6, 3, random_state=8).train(data)
    assert np.array_equal(a.W, b.W) and not np.array_equal(a.W, c.W)
    gen = np.random.default_rng(3)
    d = crbm.RBM(6, 3, random_state=gen).train(data)
    assert d.random_state is gen


def test_generate_shapes_values_and_seeds():
    model, _ = trained_model()
    one = model.generate(n_steps=10)
    many = model.generate(7, n_steps=10, random_state=4)
    assert one.shape == (8,) and many.shape == (7, 8)
    assert set(np.unique(many)) <= {0.0, 1.0}
    assert np.array_equal(many, model.generate(7, n_steps=10, random_state=4))
    assert model.generate(0).shape == (0, 8)
    float32_model, _ = trained_model(np.float32)
    assert float32_model.generate(2, n_steps=3).dtype == np.float32


def test_generate_samples_follow_the_model_distribution():
    # A model with no weights: visible units are independent with
    # p = sigmoid(bias); frequencies over many chains must match.
    model = crbm.RBM(3, 2)
    model.visible_bias = [-2.0, 0.0, 1.5]
    samples = model.generate(20000, n_steps=2, random_state=0)
    p = 1 / (1 + np.exp(-model.visible_bias))
    sigma = np.sqrt(p * (1 - p) / 20000)
    assert np.all(np.abs(samples.mean(axis=0) - p) < 5 * sigma)


BAD_SAMPLES = [
    (np.zeros((4, 7)), ValueError, "8 columns"),
    (np.zeros(8), ValueError, "2-D"),
    (np.zeros((2, 4, 8)), ValueError, "2-D"),
    (np.zeros((0, 8)), ValueError, "empty"),
    (np.full((3, 8), np.nan), ValueError, "NaN"),
    (np.full((3, 8), np.inf), ValueError, "NaN or infinite"),
    (np.full((3, 8), 1.5), ValueError, r"\[0, 1\]"),
    (np.full((3, 8), 2, np.int64), ValueError, r"\[0, 1\]"),
    (np.full((3, 8), 255, np.uint8), ValueError, r"\[0, 1\]"),
    (-np.ones((3, 8), np.float32), ValueError, r"\[0, 1\]"),
    (np.zeros((3, 8), complex), TypeError, "numeric"),
    (np.array([["a"] * 8]), TypeError, "numeric"),
    (np.zeros((3, 8), object), TypeError, "numeric"),
    ([np.zeros(8), np.zeros(7)], ValueError, "8 columns"),
    ([[0, 1], [1]], ValueError, "rectangular"),
]


@pytest.mark.parametrize("samples,error,match", BAD_SAMPLES)
def test_bad_samples_are_rejected_before_any_change(samples, error, match):
    model, _ = trained_model()
    before = snapshot(model)
    with pytest.raises(error, match=match):
        model.train(samples)
    assert_unchanged(model, before)


BAD_SETTINGS = [
    ({"learning_rate": 0}, ValueError, "learning_rate"),
    ({"learning_rate": -0.1}, ValueError, "learning_rate"),
    ({"learning_rate": float("nan")}, ValueError, "learning_rate"),
    ({"learning_rate": "0.1"}, TypeError, "learning_rate"),
    ({"epochs": 0}, ValueError, "epochs"),
    ({"epochs": 1.5}, TypeError, "epochs"),
    ({"epochs": True}, TypeError, "epochs"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"batch_size": 2.0}, TypeError, "batch_size"),
    ({"k": 0}, ValueError, "k"),
    ({"k": None}, TypeError, "k"),
    ({"k": 2**31}, ValueError, "k"),  # would overflow the kernels' C int
]


@pytest.mark.parametrize("kwargs,error,match", BAD_SETTINGS)
def test_bad_settings_are_rejected_before_any_change(kwargs, error, match):
    model, data = trained_model(init="normal")
    fresh = crbm.RBM(8, 5, init="normal", random_state=2)
    for m in (model, fresh):
        before = snapshot(m)
        with pytest.raises(error, match=match):
            m.train(data, **kwargs)
        assert_unchanged(m, before)
    assert fresh._visible_bias_from_data  # the pending data init did not run


def test_learning_rate_must_be_representable_in_the_model_dtype():
    data = np.ones((3, 8), np.uint8)
    for lr in (1e39, 1e-50):
        model = crbm.RBM(8, 5, dtype=np.float32, random_state=0)
        with pytest.raises(ValueError, match="float32"):
            model.train(data, learning_rate=lr)
        assert not model.W.any()
    crbm.RBM(8, 5, dtype=np.float64).train(data, learning_rate=1e39, epochs=1)


def test_batch_size_larger_than_the_data_is_the_whole_data():
    data = (np.random.default_rng(0).random((30, 8)) < 0.5).astype(np.uint8)
    a = crbm.RBM(8, 5, random_state=3).train(data, 0.1, 2, batch_size=10**12)
    b = crbm.RBM(8, 5, random_state=3).train(data, 0.1, 2, batch_size=30)
    assert np.array_equal(a.W, b.W) and a.W.any()


@pytest.mark.parametrize("kwargs,error", [
    ({"n_visible": 2**31, "n_hidden": 3}, ValueError),  # BLAS takes C ints
    ({"n_visible": 3, "n_hidden": 2**31}, ValueError),
    ({"n_visible": 0, "n_hidden": 3}, ValueError),
    ({"n_visible": 3, "n_hidden": 2.5}, TypeError),
    ({"n_visible": 3, "n_hidden": 2, "dtype": np.int32}, TypeError),
    ({"n_visible": 3, "n_hidden": 2, "dtype": "nonsense"}, TypeError),
    ({"n_visible": 3, "n_hidden": 2, "init": "uniform"}, ValueError),
    ({"n_visible": 3, "n_hidden": 2, "random_state": "seed"}, TypeError),
    ({"n_visible": 3, "n_hidden": 2, "random_state": -1}, ValueError),
])
def test_bad_constructor_arguments(kwargs, error):
    with pytest.raises(error):
        crbm.RBM(**kwargs)


def test_bad_generate_and_inference_arguments_leave_model_unchanged():
    model, _ = trained_model()
    before = snapshot(model)
    for call, error in [
        (lambda: model.generate(-1), ValueError),
        (lambda: model.generate(2.0), TypeError),
        (lambda: model.generate(2, n_steps=-1), ValueError),
        (lambda: model.generate(2, n_steps=2**31), ValueError),
        (lambda: model.generate(2**31), ValueError),
        (lambda: model.generate(2, random_state="x"), TypeError),
        (lambda: model.hidden_probabilities(np.zeros(5)), ValueError),
        (lambda: model.visible_probabilities(np.zeros((2, 8))), ValueError),
        (lambda: model.sample_hidden(np.full(8, 2.0)), ValueError),
        (lambda: model.sample_visible(np.full(5, np.nan)), ValueError),
    ]:
        with pytest.raises(error):
            call()
    assert_unchanged(model, before)


def test_parameter_assignment_is_checked_and_copied():
    model = crbm.RBM(4, 3, dtype=np.float32)
    W = np.arange(12.0).reshape(4, 3)
    model.W = W
    W[0, 0] = 99
    assert model.W.dtype == np.float32 and model.W[0, 0] == 0 and model.W.flags.c_contiguous
    model.W = np.asfortranarray(np.ones((4, 3)))
    assert model.W.flags.c_contiguous
    with pytest.raises(ValueError, match="shape"):
        model.W = np.zeros((3, 4))
    with pytest.raises(ValueError, match="NaN"):
        model.hidden_bias = [0, np.nan, 0]
    with pytest.raises(TypeError):
        model.visible_bias = ["a"] * 4


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("init", ["zeros", "normal"])
def test_save_load_round_trip_is_exact(tmp_path, dtype, init):
    model, data = trained_model(dtype, init)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = crbm.RBM.load(path)
    assert loaded.dtype == dtype and loaded.init == init
    for name in ("W", "visible_bias", "hidden_bias"):
        assert np.array_equal(getattr(loaded, name), getattr(model, name))
    # The generator state travels too: both continue identically.
    assert np.array_equal(loaded.train(data, 0.1, 1).W, model.train(data, 0.1, 1).W)
    assert np.array_equal(loaded.generate(3, n_steps=5), model.generate(3, n_steps=5))


def test_generate_progress_does_not_change_result():
    model, _ = trained_model()
    steps = []
    a = model.generate(4, n_steps=120, random_state=5, progress=steps.append)
    b = model.generate(4, n_steps=120, random_state=5)
    assert np.array_equal(a, b) and sum(steps) == 120 and len(steps) > 2


def test_save_refuses_a_non_finite_model(tmp_path):
    model, _ = trained_model()
    model._W[0, 0] = np.nan  # as a diverged training run would leave it
    with pytest.raises(ValueError, match="NaN"):
        model.save(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_save_into_a_missing_directory_names_the_target(tmp_path):
    model, _ = trained_model()
    with pytest.raises(FileNotFoundError) as info:
        model.save(tmp_path / "nowhere" / "m.npz")
    assert info.value.filename == str(tmp_path / "nowhere" / "m.npz")


def test_save_keeps_a_pending_data_init(tmp_path):
    model = crbm.RBM(6, 2, init="normal", random_state=0)
    model.save(tmp_path / "m.npz")
    loaded = crbm.RBM.load(tmp_path / "m.npz")
    data = np.zeros((10, 6), np.uint8)
    loaded.train(data, 0.01, 1)
    model.train(data, 0.01, 1)
    assert np.array_equal(loaded.visible_bias, model.visible_bias)
    assert np.all(model.visible_bias < -5)


def test_save_is_atomic_and_respects_umask(tmp_path, monkeypatch):
    model, _ = trained_model()
    path = tmp_path / "model.npz"
    model.save(path)
    original = path.read_bytes()
    if os.name == "posix":  # Windows has no permission bits to compare
        umask = os.umask(0o022)
        os.umask(umask)
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    model.W = model.W + 1
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_load_rejects_bad_files(tmp_path):
    model, _ = trained_model()
    good = tmp_path / "good.npz"
    model.save(good)
    raw = good.read_bytes()
    cases = {
        "truncated.npz": raw[: len(raw) // 2],
        "garbage.npz": b"not a zip file at all",
        "empty.npz": b"",
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
    np.savez(tmp_path / "foreign.npz", x=np.zeros(3))
    np.savez(tmp_path / "pickled.npz", meta=np.array([{"a": 1}], dtype=object),
             W=model.W, visible_bias=model.visible_bias, hidden_bias=model.hidden_bias)
    import json
    meta = json.loads(str(np.load(good)["meta"]))
    for name, change in {
        "future.npz": {"version": 99},
        "bool-version.npz": {"version": True},
        "float-size.npz": {"n_visible": 8.0},
        "string-flag.npz": {"visible_bias_from_data": "false"},
        "global-seed.npz": {"bit_generator": "seed"},
        "not-a-bitgen.npz": {"bit_generator": "default_rng"},
        "bad-state.npz": {"rng_state": {**meta["rng_state"], "state": {"state": -1, "inc": 1}}},
        "other-format.npz": {"format": "something.else"},
        "mismatch.npz": {"n_hidden": 4},
        "bad-dtype.npz": {"dtype": "float32"},
    }.items():
        np.savez(tmp_path / name, meta=np.array(json.dumps({**meta, **change})), W=model.W,
                 visible_bias=model.visible_bias, hidden_bias=model.hidden_bias)
    np.savez(tmp_path / "nan.npz", meta=np.array(json.dumps(meta)), W=model.W * np.nan,
             visible_bias=model.visible_bias, hidden_bias=model.hidden_bias)
    expected = {
        "truncated.npz": "not a readable", "garbage.npz": "not a readable",
        "empty.npz": "not a readable", "foreign.npz": "missing",
        "pickled.npz": "not a readable|corrupt metadata", "future.npz": "newer crbm",
        "other-format.npz": "not a crbm model", "mismatch.npz": "shape",
        "bad-dtype.npz": "dtype", "nan.npz": "NaN", "bool-version.npz": "version",
        "float-size.npz": "ints", "string-flag.npz": "bool", "global-seed.npz": "corrupt",
        "not-a-bitgen.npz": "corrupt", "bad-state.npz": "generator state",
    }
    global_state = np.random.get_state()[1].copy()
    for name, match in expected.items():
        with pytest.raises(crbm.ModelFileError, match=match) as info:
            crbm.RBM.load(tmp_path / name)
        assert name in str(info.value)
    assert np.array_equal(np.random.get_state()[1], global_state)  # nothing was called
    with pytest.raises(FileNotFoundError):
        crbm.RBM.load(tmp_path / "missing.npz")



# --- hostile model files (minimal inputs found by tests/test_fuzz.py) --------


def npy_bytes(array):
    out = io.BytesIO()
    np.lib.format.write_array(out, array, allow_pickle=False)
    return out.getvalue()


def shape_header(shape):
    """A bare .npy 1.0 header of float64 data with `shape` as its raw text."""
    text = "{'descr': '<f8', 'fortran_order': False, 'shape': %s, }" % shape
    text += " " * (-(len(text) + 11) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode()


def meta_json(**changes):
    """The metadata of a saved RBM(2, 1), with keys replaced."""
    return json.dumps({
        "format": "crbm.RBM", "version": 2, "dtype": "float64", "n_visible": 2,
        "n_hidden": 1, "init": "zeros", "visible_bias_from_data": False, "epochs_trained": 0,
        "history": [], "bit_generator": "PCG64", "rng_state": np.random.PCG64(0).state,
        **changes})


def model_file(meta=None, meta_text=None, compression=zipfile.ZIP_STORED, **members):
    """A saved RBM(2, 1) with metadata keys, or its whole text, and members replaced."""
    text = meta_text or meta_json(**(meta or {}))
    members = {"meta": npy_bytes(np.array(text)), "W": npy_bytes(np.zeros((2, 1))),
               "visible_bias": npy_bytes(np.zeros(2)), "hidden_bias": npy_bytes(np.zeros(1)),
               **members}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(f"{name}.npy", content)
    return out.getvalue()


def patched(data, field, value):
    """`data` with `value` written at `field` of W.npy's central directory entry."""
    entry = data.index(b"PK\x01\x02", zipfile.ZipFile(io.BytesIO(data)).start_dir)
    while data[entry + 46:entry + 51] != b"W.npy":
        entry = data.index(b"PK\x01\x02", entry + 4)
    return data[:entry + field] + value + data[entry + field + len(value):]


def bad_deflate():
    data = model_file(compression=zipfile.ZIP_DEFLATED)
    start = data.index(b"W.npy") + len("W.npy")  # where W's deflate stream starts
    return data[:start] + b"\x07" + data[start + 1:]  # a block of the reserved type 3


# Each made RBM.load raise something other than ModelFileError, or allocate
# far more than the file holds, before it read the .npy members itself.
HOSTILE_MODELS = {
    "npy-not-npz": lambda: npy_bytes(np.zeros((2, 1))),  # TypeError
    "member-not-npy": lambda: model_file(W=b"hello"),  # AttributeError
    "huge-shape": lambda: model_file(W=shape_header("(100000000,)")),  # 800 MB
    "overflow-shape": lambda: model_file(W=shape_header(f"({2**70},)")),  # OverflowError
    "deep-header": lambda: model_file(W=shape_header("-" * 5000 + "1")),  # RecursionError
    "header-tokens": lambda: model_file(  # tokenize.TokenError
        W=b"\0".join(npy_bytes(np.zeros((2, 1))).split(b"{", 1))),
    "bad-deflate": bad_deflate,  # zlib.error
    "method-99": lambda: patched(model_file(), 10, b"\x63\0"),  # NotImplementedError
    "zip-version": lambda: patched(model_file(), 6, b"\x7f\0"),  # NotImplementedError
    "encrypted": lambda: patched(model_file(), 8, b"\x01\0"),  # RuntimeError
    "lzma": lambda: model_file(compression=zipfile.ZIP_LZMA),  # 8 MiB decoder state
    "deep-json": lambda: model_file(  # RecursionError
        meta_text="[" * 100000, compression=zipfile.ZIP_DEFLATED),
    "deep-state": lambda: model_file(  # RecursionError
        meta_text=meta_json(rng_state="@").replace('"@"', '{"a":' * 900 + "1" + "}" * 900),
        compression=zipfile.ZIP_DEFLATED),
    "state-dtype": lambda: model_file(  # 500 MB
        {"rng_state": {"__ndarray__": [0], "dtype": "S500000000"}}),
    "state-overflow": lambda: model_file({  # OverflowError
        "bit_generator": "SFC64", "rng_state": {
            "bit_generator": "SFC64", "has_uint32": 0, "uinteger": 0,
            "state": {"state": {"__ndarray__": [2**70] * 4, "dtype": "<u8"}}}}),
    "short-key": lambda: model_file({  # IndexError
        "bit_generator": "MT19937",
        "rng_state": {"bit_generator": "MT19937", "state": {"key": [1, 2], "pos": 0}}}),
    "dtype-overflow": lambda: model_file({"dtype": {  # OverflowError
        "names": ["a"], "formats": ["f8"], "offsets": [2**70]}}),
    "string-dtype": lambda: model_file(  # TypeError from isfinite
        {"dtype": "<U1"}, W=npy_bytes(np.zeros((2, 1), "U1")),
        visible_bias=npy_bytes(np.zeros(2, "U1")), hidden_bias=npy_bytes(np.zeros(1, "U1"))),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_MODELS))
def test_load_rejects_hostile_files(tmp_path, name):
    """A ModelFileError naming the file, with no allocation beyond what it holds."""
    content = HOSTILE_MODELS[name]()
    path = tmp_path / f"{name}.npz"
    path.write_bytes(content)
    tracemalloc.start()
    try:
        with pytest.raises(crbm.ModelFileError, match=re.escape(str(path))):
            crbm.RBM.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    held = len(content)  # and what its members unpack to (deep-json: 400 kB)
    with contextlib.suppress(Exception), zipfile.ZipFile(path) as archive:  # some do not open
        held += sum(info.file_size for info in archive.infolist())
    assert peak < 2**19 + 4 * held


@pytest.mark.parametrize("visible", ["bernoulli", "gaussian"])
def test_copies_are_independent_and_exact(visible):
    data = (np.random.default_rng(0).random((40, 8)) < 0.4).astype(float)
    model = crbm.RBM(8, 3, visible=visible, random_state=1, init="normal")
    model.train(data, 0.05, 2, batch_size=10, persistent=True, validation=data[:5])
    full, bare = model.copy(), model.copy(parameters_only=True)
    for copy in (full, bare):
        np.testing.assert_array_equal(copy.W, model.W)
        assert copy.visible == model.visible and copy.W is not model.W
        if visible == "gaussian":
            np.testing.assert_array_equal(copy.visible_std, model.visible_std)
    assert full.history == model.history and full.training_state["chains"] is not None
    assert bare.history == [] and bare.training_state["chains"] is None
    np.testing.assert_array_equal(full.generate(3, n_steps=5), model.copy().generate(3, n_steps=5))
    full.train(data, 0.01, 1, batch_size=10)
    assert not np.array_equal(full.W, model.W)

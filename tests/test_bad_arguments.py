"""Bad arguments everywhere: every public function and CLI command, tried with
wrong shapes, dtypes, values and layouts, gives the correct result or a clear
TypeError/ValueError -- and a failed call leaves the model bit for bit as it was.
"""
import copy
import os

import numpy as np
import pytest

import crbm
from crbm import cli, evaluate, recipes, synthetic
from crbm.io import images

N, M = 12, 5
RNG = np.random.default_rng(0)
DATA = (RNG.random((30, N)) < 0.4).astype(np.float64)
ROWS = (RNG.random((7, N)) < 0.4).astype(np.float64)
HIDDEN = (RNG.random((7, M)) < 0.4).astype(np.float64)


def model_for(dtype):
    model = crbm.RBM(N, M, dtype=dtype, random_state=0, init="normal")
    return model.train(DATA, 0.05, 2, batch_size=5, persistent=True, momentum=0.5)


def state(model):
    """Everything a call could change: parameters, training state, generator."""
    arrays = [a.tobytes() for a in model._training_arrays()]
    return (arrays, model.random_state.bit_generator.state, model.epochs_trained,
            copy.deepcopy(model.history), model._visible_bias_from_data)


def assert_close(result, expected, dtype):
    """Equal up to rounding, through the lists and dicts the API returns."""
    if isinstance(expected, (list, dict)):
        assert type(result) is type(expected) and len(result) == len(expected)
        keys = expected.keys() if isinstance(expected, dict) else range(len(expected))
        for key in keys:
            assert_close(result[key], expected[key], dtype)
    elif not (isinstance(expected, crbm.RBM) or expected is None):
        tolerance = 1e-6 if dtype == np.float32 else 1e-13
        np.testing.assert_allclose(result, expected, rtol=tolerance, atol=tolerance)


def read_only(x):
    x = x.copy()
    x.flags.writeable = False
    return x


# Inputs that must be refused, with the error type, for rows of width ``w``.
def bad_rows(base):
    return {
        "object": (base.astype(object), TypeError),
        "complex": (base.astype(complex), TypeError),
        "str": (base.astype(str), TypeError),
        "bytes": (base.astype("S1"), TypeError),
        "datetime": (np.zeros(base.shape, "datetime64[s]"), TypeError),
        "None": (None, TypeError),
        "text": ("0101", TypeError),
        "nan": (np.where(base > 0, np.nan, 0.0), ValueError),
        "inf": (np.where(base > 0, np.inf, 0.0), ValueError),
        "above_one": (base * 2, ValueError),
        "negative": (-base, ValueError),
        "too_narrow": (base[:, :-1], ValueError),
        "too_wide": (np.hstack([base, base[:, :1]]), ValueError),
        "3-D": (base[None], ValueError),
        "0-D": (np.float64(1.0), ValueError),
        "no_rows": (base[:0], ValueError),
        "no_columns": (base[:, :0], ValueError),
    }


# Inputs that must give exactly the result of the C-contiguous float64 rows.
def good_layouts(base):
    return {
        "fortran": np.asfortranarray(base),
        "strided": np.repeat(base, 2, axis=1)[:, ::2],
        "reversed": base[::-1][::-1],
        "read_only": read_only(base),
        "bool": base.astype(bool),
        "uint8": base.astype(np.uint8),
        "int64": base.astype(np.int64),
        "float32": base.astype(np.float32),
        "float16": base.astype(np.float16),
        "list": base.tolist(),
    }


# Calls that read rows: name -> (call(model, x), base rows).
ROW_CALLS = {
    "train": (lambda m, x: m.train(x, 0.01, 1), DATA),
    "train_minibatch_pcd": (lambda m, x: m.train(x, 0.01, 1, batch_size=4, persistent=True,
                                                 momentum=0.5), DATA),
    "train_validation": (lambda m, x: m.train(DATA, 0.01, 1, validation=x), ROWS),
    "hidden_probabilities": (lambda m, x: m.hidden_probabilities(x), ROWS),
    "visible_probabilities": (lambda m, x: m.visible_probabilities(x), HIDDEN),
    "sample_hidden": (lambda m, x: m.sample_hidden(x, random_state=1), ROWS),
    "sample_visible": (lambda m, x: m.sample_visible(x, random_state=1), HIDDEN),
    "sample_hidden_own_rng": (lambda m, x: m.sample_hidden(x), ROWS),
    "free_energy": (lambda m, x: m.free_energy(x), ROWS),
    "reconstruction_error": (lambda m, x: m.reconstruction_error(x), ROWS),
    "pseudo_likelihood": (lambda m, x: m.pseudo_likelihood(x, random_state=1), ROWS),
    "log_likelihood": (lambda m, x: m.log_likelihood(x, method="exact"), ROWS),
    "evaluate.monitor": (lambda m, x: evaluate.monitor(m, np.asarray(ROWS), x), ROWS),
    "set_W": (lambda m, x: setattr(m, "W", x), (RNG.random((N, M)) < 0.5).astype(float)),
}
# Any finite weight is a valid W; validation=None means no validation.
VALID_FOR = {("set_W", "above_one"), ("set_W", "negative"), ("train_validation", "None")}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("call, bad", [(call, bad) for call in sorted(ROW_CALLS)
                                       for bad in sorted(bad_rows(DATA))
                                       if (call, bad) not in VALID_FOR])
def test_bad_rows_are_refused_and_change_nothing(dtype, call, bad):
    function, base = ROW_CALLS[call]
    x, error = bad_rows(base)[bad]
    model = model_for(dtype)
    before = state(model)
    with pytest.raises(error):
        function(model, x)
    assert state(model) == before


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("call", sorted(ROW_CALLS))
@pytest.mark.parametrize("layout", sorted(good_layouts(DATA)))
def test_any_layout_gives_the_contiguous_result(dtype, call, layout):
    function, base = ROW_CALLS[call]
    x = good_layouts(base)[layout]  # 0/1 values: every dtype holds them exactly
    expected_model, model = model_for(dtype), model_for(dtype)
    expected = function(expected_model, np.ascontiguousarray(base, dtype=np.float64))
    result = function(model, x)
    # Kernels copy rows into their own buffers: bit-identical. numpy's
    # matmul (evaluation, monitoring) may sum in another order for another
    # layout: equal to rounding.
    assert_close(result, expected, dtype)
    assert state(model)[:3] == state(expected_model)[:3]
    assert_close(model.history, expected_model.history, dtype)
    if isinstance(x, np.ndarray) and not x.flags.writeable:
        assert not x.flags.writeable  # never written to, never made writable


# Every scalar argument of the RBM API: name -> call(model, value).
SCALAR_CALLS = {
    "learning_rate": lambda m, v: m.train(DATA, learning_rate=v),
    "epochs": lambda m, v: m.train(DATA, epochs=v),
    "batch_size": lambda m, v: m.train(DATA, batch_size=v),
    "k": lambda m, v: m.train(DATA, k=v),
    "n_chains": lambda m, v: m.train(DATA, persistent=True, n_chains=v),
    "momentum": lambda m, v: m.train(DATA, momentum=v),
    "weight_decay": lambda m, v: m.train(DATA, weight_decay=v),
    "sparsity_target": lambda m, v: m.train(DATA, sparsity_target=v, sparsity_cost=0.1),
    "sparsity_cost": lambda m, v: m.train(DATA, sparsity_cost=v),
    "offset_rate": lambda m, v: m.train(DATA, centering=True, offset_rate=v),
    "learning_rate_decay": lambda m, v: m.train(DATA, learning_rate_decay=v),
    "statistics": lambda m, v: m.train(DATA, statistics=v, batch_size=5),
    "persistent": lambda m, v: m.train(DATA, persistent=v),
    "centering": lambda m, v: m.train(DATA, centering=v),
    "shuffle": lambda m, v: m.train(DATA, shuffle=v),
    "random_state": lambda m, v: m.generate(2, n_steps=2, random_state=v),
    "n_samples": lambda m, v: m.generate(v, n_steps=2),
    "n_steps": lambda m, v: m.generate(2, n_steps=v),
    "method": lambda m, v: m.log_partition(v),
    "n_runs": lambda m, v: m.log_partition("ais", n_runs=v, n_betas=10),
    "n_betas": lambda m, v: m.log_partition("ais", n_runs=2, n_betas=v),
    "base_rate": lambda m, v: m.log_partition("ais", n_runs=2, n_betas=10, base_rate=v),
    "log_z": lambda m, v: m.log_likelihood(ROWS, log_z=v),
}


# value -> which arguments accept it (all others must refuse it).
BAD_SCALARS = {
    "None": None, "str": "1", "list": [0.5], "complex": 1j, "nan": float("nan"),
    "inf": float("inf"), "-inf": float("-inf"), "negative": -1, "zero": 0,
    "fraction": 0.5, "huge": 2**63, "true": True,
}
ACCEPTED = {
    ("None", "random_state"), ("None", "n_samples"), ("None", "base_rate"), ("None", "log_z"),
    ("None", "n_chains"), ("None", "offset_rate"),
    ("None", "n_steps"),  # generate: the model's sampling_steps, else 1000
    ("None", "learning_rate"),  # the visible units' default
    ("huge", "batch_size"),  # a batch larger than the data is the whole data
    ("huge", "learning_rate"), ("huge", "learning_rate_decay"), ("huge", "log_z"),
    ("huge", "random_state"), ("list", "momentum"),
    ("zero", "momentum"), ("zero", "weight_decay"), ("zero", "sparsity_target"),
    ("zero", "sparsity_cost"), ("zero", "offset_rate"), ("zero", "learning_rate_decay"),
    ("zero", "random_state"), ("zero", "n_samples"), ("zero", "n_steps"),
    ("zero", "log_z"), ("negative", "log_z"), ("fraction", "log_z"),
    ("fraction", "learning_rate"), ("fraction", "momentum"), ("fraction", "weight_decay"),
    ("fraction", "sparsity_target"), ("fraction", "sparsity_cost"),
    ("fraction", "offset_rate"), ("fraction", "learning_rate_decay"),
    ("true", "persistent"), ("true", "centering"), ("true", "shuffle"),
}


@pytest.mark.parametrize("argument", sorted(SCALAR_CALLS))
@pytest.mark.parametrize("value", sorted(BAD_SCALARS))
def test_scalar_arguments_are_checked_before_any_change(argument, value):
    call = SCALAR_CALLS[argument]
    model = model_for(np.float64)
    before = state(model)
    if (value, argument) in ACCEPTED:
        call(model, BAD_SCALARS[value])
        return
    with pytest.raises((TypeError, ValueError, crbm.DivergenceError)) as info:
        call(model, BAD_SCALARS[value])
    if (value, argument) == ("huge", "weight_decay"):
        # Valid, but W -> (1 - lr * 2**63) W overflows in the first chunk.
        assert info.type is crbm.DivergenceError
    else:
        assert argument in str(info.value)  # the message names the argument
    assert state(model) == before


@pytest.mark.parametrize("function", ["RBM.save", "RBM.load", "read_idx", "write_idx",
                                      "load_mnist", "images.save_png", "images.save_each"])
@pytest.mark.parametrize("path", [0, 1.5, None, b"file", ["file"]])
def test_paths_must_be_paths(function, path, tmp_path, monkeypatch):
    # An int would be a file descriptor to open(): 0 is stdin.
    monkeypatch.chdir(tmp_path)
    model = model_for(np.float64)
    calls = {
        "RBM.save": lambda: model.save(path),
        "RBM.load": lambda: crbm.RBM.load(path),
        "read_idx": lambda: crbm.read_idx(path),
        "write_idx": lambda: crbm.write_idx(path, np.zeros(3, np.uint8)),
        "load_mnist": lambda: crbm.load_mnist(path),
        "images.save_png": lambda: images.save_png(path, np.zeros((4, 4), np.uint8)),
        "images.save_each": lambda: images.save_each(path, np.zeros((2, 16), np.uint8)),
    }
    with pytest.raises(TypeError, match="path|directory"):
        calls[function]()
    assert os.listdir(tmp_path) == []


def test_failed_writes_leave_existing_files_as_they_were(tmp_path):
    target = tmp_path / "model.npz"
    model = model_for(np.float64)
    model.save(target)
    saved = target.read_bytes()
    broken = model_for(np.float64)
    broken._W[0, 0] = np.nan  # only reachable by writing into the array in place
    with pytest.raises(ValueError, match="NaN"):
        broken.save(target)
    assert target.read_bytes() == saved
    idx = tmp_path / "data.idx"
    crbm.write_idx(idx, np.arange(6, dtype=np.uint8))
    written = idx.read_bytes()
    for array in (np.zeros(3, object), np.zeros(3, complex), np.zeros(3, "U2"),
                  np.zeros(3, np.int64), np.zeros(3, np.float16), "abc"):
        with pytest.raises((TypeError, ValueError)):
            crbm.write_idx(idx, array)
        assert idx.read_bytes() == written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.idx", "model.npz"]


@pytest.mark.parametrize("array", [
    np.arange(6, dtype=np.uint8).reshape(2, 3),
    np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3)),
    np.arange(12, dtype=np.float32)[::3],
    read_only(np.arange(4, dtype=np.int32)),
    np.zeros((0, 5), dtype=np.float64),
    np.arange(6, dtype=">i4").reshape(3, 2),
    np.array([True, False]).view(np.uint8),
], ids=["uint8", "fortran", "strided", "read_only", "zero_size", "big_endian", "bool_view"])
def test_write_idx_takes_any_layout(array, tmp_path):
    crbm.write_idx(tmp_path / "a.idx", array)
    back = crbm.read_idx(tmp_path / "a.idx")
    assert back.shape == array.shape and back.dtype == array.dtype.newbyteorder("=")
    np.testing.assert_array_equal(back, array)


@pytest.mark.parametrize("case, error", [
    ((np.zeros((2, 3), object), 0), TypeError),
    ((np.zeros((2, 3), complex), 0), TypeError),
    ((np.zeros((2, 3), "U1"), 0), TypeError),
    ((np.zeros(3), 0), ValueError),
    ((np.full((2, 3), np.nan), 0), ValueError),
    ((np.zeros((2, 3)), "0"), TypeError),
    ((np.zeros((2, 3)), None), TypeError),
    ((np.zeros((2, 3)), float("nan")), ValueError),
])
def test_binarize_refuses_bad_input(case, error):
    with pytest.raises(error):
        crbm.binarize(*case)


def test_binarize_takes_any_layout():
    pixels = RNG.integers(0, 256, size=(5, 4, 4)).astype(np.uint8)
    expected = crbm.binarize(pixels, 100)
    for x in (np.asfortranarray(pixels), read_only(pixels), pixels.astype(np.float32),
              pixels.tolist(), pixels.astype(np.int64)):
        np.testing.assert_array_equal(crbm.binarize(x, 100), expected)
    assert crbm.binarize(np.zeros((0, 4, 4))).shape == (0, 16)


@pytest.mark.parametrize("call", [
    lambda: crbm.RBM(0, 3), lambda: crbm.RBM(3, 2**31), lambda: crbm.RBM("3", 3),
    lambda: crbm.RBM(3, 3, dtype=np.float16), lambda: crbm.RBM(3, 3, dtype="complex128"),
    lambda: crbm.RBM(3, 3, init="ones"), lambda: crbm.RBM(3, 3, random_state=-1),
    lambda: crbm.RBM(3, 3, random_state="seed"),
    lambda: crbm.load_mnist(".", split="test"),
    lambda: synthetic.glyph_digits(-1), lambda: synthetic.glyph_digits(2.0),
    lambda: synthetic.bars_and_stripes(0),
    lambda: images.tile_images(np.zeros((4, 15))),
    lambda: images.tile_images(np.zeros((4, 16)), n_cols=0),
    lambda: images.tile_images(np.zeros((4, 16), complex)),
    lambda: recipes.split("default"), lambda: recipes.split(None),
    lambda: evaluate.free_energy(crbm.RBM(N + 1, M), ROWS),
    lambda: evaluate.reconstruction_error(crbm.RBM(N, M), ROWS[:, :-1]),
], ids=lambda _: "")
def test_module_functions_refuse_bad_arguments(call):
    with pytest.raises((TypeError, ValueError)):
        call()


@pytest.mark.parametrize("argv", [
    ["train", "--hidden", "0"], ["train", "--hidden", "x"], ["train", "--epochs", "-1"],
    ["train", "--learning-rate", "nan"], ["train", "--learning-rate", "0"],
    ["train", "--learning-rate", "inf"], ["train", "--momentum", "1.5"],
    ["train", "--sparsity-cost", "1"], ["train", "--weight-decay", "-0.1"],
    ["train", "--batch-size", "2.5"], ["train", "--chains", "0"], ["train", "-k", "0"],
    ["train", "--dtype", "float16"], ["train", "--split", "test"],
    ["train", "--recipe", "fast"], ["train", "--statistics", "mean"],
    ["train", "--hidden", "99999999999999999999"],
    ["generate", "-n", "0"], ["generate", "--steps", "-1"], ["generate", "--shape", "3x"],
    ["generate", "--shape", "0x4"], ["generate", "--seed", "x"],
    ["evaluate", "--ais-betas", "3"], ["evaluate", "--ais-runs", "0"],
    ["evaluate", "--limit", "0"], ["demo", "--seed", "1.5"],
])
def test_cli_usage_errors_exit_2_and_write_nothing(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    required = {"train": ["--mnist", "data", "--hidden", "4", "--out", "m.npz"],
                "generate": ["--model", "m.npz", "--out", "s.png"],
                "evaluate": ["--model", "m.npz", "--mnist", "data"],
                "demo": ["--out", "demo"]}[argv[0]]
    with pytest.raises(SystemExit) as info:
        cli.main([argv[0], "--quiet", *required, *argv[1:]])
    assert info.value.code == 2
    assert argv[-2].lstrip("-") in capsys.readouterr().err.replace("_", "-")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("argv, message", [
    (["train", "--mnist", "nowhere", "--hidden", "4", "--out", "m.npz"], "nowhere"),
    (["train", "--mnist", ".", "--hidden", "4", "--out", "m.npz"], "MNIST"),
    (["train", "--mnist", ".", "--hidden", "4", "--out", "sub/m.npz"], "sub"),
    (["generate", "--model", "missing.npz", "--out", "s.png"], "missing.npz"),
    (["generate", "--model", "junk.npz", "--out", "s.png"], "junk.npz"),
    (["generate", "--model", "m.npz"], "nothing to write"),
    (["generate", "--model", "m.npz", "--out", "s.png", "--seed", "-1"], "random_state"),
    (["generate", "--model", "m.npz", "--out", "s.png", "--shape", "5x5"], "shape"),
    (["evaluate", "--model", "m.npz", "--mnist", "nowhere"], "nowhere"),
])
def test_cli_user_errors_exit_1_and_change_nothing(argv, message, tmp_path, monkeypatch,
                                                   capsys):
    monkeypatch.chdir(tmp_path)
    crbm.RBM(16, 4, random_state=0).save(tmp_path / "m.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a model")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert cli.main([argv[0], "--quiet", *argv[1:]]) == 1
    err = capsys.readouterr().err
    assert err.startswith("crbm: error:") and err.count("\n") == 1 and message in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before

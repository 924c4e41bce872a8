"""The Cython training and sampling paths against the numpy reference.

Both consume the same generator in the same order, so they draw the same
samples; parameters must then agree to rounding.
"""
import numpy as np
import pytest

import crbm
from crbm import reference
from crbm._core import _loops, _policy

RTOL = {np.float32: 1e-5, np.float64: 1e-12}


def relative_error(a, b):
    return np.linalg.norm(np.asarray(a, float) - b) / max(np.linalg.norm(b), 1e-300)


def make_data(n=60, width=12, seed=0):
    rng = np.random.default_rng(seed)
    # Correlated binary data, so the weights move in structured directions.
    prototypes = rng.random((3, width)) < 0.5
    rows = prototypes[rng.integers(0, 3, n)] ^ (rng.random((n, width)) < 0.1)
    return rows.astype(np.uint8)


def assert_close(model, W, b, c, dtype):
    for got, expected in ((model.W, W), (model.visible_bias, b), (model.hidden_bias, c)):
        assert relative_error(got, expected) <= RTOL[dtype]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 3])
def test_per_sample_cd_matches_reference(dtype, k):
    data = make_data()
    model = crbm.RBM(12, 7, dtype=dtype, random_state=11).train(data, 0.05, 4, k=k)
    W, b, c = np.zeros((12, 7), dtype), np.zeros(12, dtype), np.zeros(7, dtype)
    reference.train(np.random.default_rng(11), data, W, b, c, 0.05, 4, 1, k)
    assert np.abs(W).max() > 0.1  # training really moved the weights
    assert_close(model, W, b, c, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_size,k", [(10, 1), (7, 2), (60, 1)])
def test_minibatch_cd_matches_reference(dtype, batch_size, k):
    data = make_data()
    rng = np.random.default_rng(3)
    W0 = rng.normal(0, 0.1, (12, 7)).astype(dtype)
    model = crbm.RBM(12, 7, dtype=dtype, random_state=5)
    model.W = W0
    model.train(data, 0.1, 5, batch_size=batch_size, k=k)
    W, b, c = W0.copy(), np.zeros(12, dtype), np.zeros(7, dtype)
    reference.train(np.random.default_rng(5), data, W, b, c, 0.1, 5, batch_size, k)
    assert np.abs(W - W0).max() > 0.01
    assert_close(model, W, b, c, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_chains", [3, 40])  # active-row sums / gemm
def test_generate_matches_reference(dtype, n_chains):
    rng = np.random.default_rng(0)
    model = crbm.RBM(15, 6, dtype=dtype)
    model.W = rng.normal(0, 1, (15, 6))
    model.visible_bias = rng.normal(0, 1, 15)
    model.hidden_bias = rng.normal(0, 1, 6)
    got = model.generate(n_chains, n_steps=25, random_state=9)
    expected = reference.generate(np.random.default_rng(9), model.W, model.visible_bias,
                                  model.hidden_bias, n_chains, 25)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_chains", [3, 40])  # a few-chain workspace / the gemm one
@pytest.mark.parametrize("visible", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("clamped", [False, "shared", "per row"])
def test_tempered_and_clamped_sweeps_match_reference(dtype, n_chains, visible, clamped):
    # The sampling kernel's beta and clamp (crbm.kernels.sample), as the
    # sampling issue's generate will use them, draw for draw.
    rng = np.random.default_rng(0)
    N, M = 15, 6
    W = rng.normal(0, 1, (N, M)).astype(dtype)
    b, c = rng.normal(0, 1, N).astype(dtype), rng.normal(0, 1, M).astype(dtype)
    log_var = rng.normal(0, 0.3, N).astype(dtype) if visible == "gaussian" else None
    start = (rng.random((n_chains, N)) < 0.5).astype(dtype)
    mask = values = None
    if clamped:
        rows = 1 if clamped == "shared" else n_chains
        mask = (rng.random((rows, N)) < 0.4).astype(np.uint8)
        values = rng.normal(0, 1, (rows, N)).astype(dtype)
        if visible == "bernoulli":
            values = (values > 0).astype(dtype)
    beta = 0.6
    got = start.copy()
    kind = 0 if visible == "bernoulli" else 1
    _loops.gibbs_chains(np.random.default_rng(9), got, W, b, c, log_var, kind, 7, beta,
                        None if mask is None else (mask[0] if clamped == "shared" else mask),
                        None if values is None else (values[0] if clamped == "shared" else values))
    generator, expected = np.random.default_rng(9), start.copy()
    for _ in range(7):
        expected = reference.gibbs_sweep(generator, expected, W, b, c, log_var=log_var,
                                         beta=beta, mask=mask, values=values)
    if visible == "bernoulli":
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-5 if dtype == np.float32 else 1e-12,
                                   atol=1e-5 if dtype == np.float32 else 1e-12)
    if clamped:
        held = np.broadcast_to(mask, got.shape) != 0
        np.testing.assert_array_equal(got[held], np.broadcast_to(values, got.shape)[held])
        assert np.any(got[~held] != start[~held])


def test_few_chains_clamped_to_fractions_take_the_general_sweep():
    # The block sweeps sum the rows of W their 0/1 units pick; a clamp to
    # 0.5 (possible through crbm.kernels) must not go there.
    rng = np.random.default_rng(4)
    W, b, c = rng.normal(0, 1, (15, 6)), rng.normal(0, 1, 15), rng.normal(0, 1, 6)
    start = (rng.random((3, 15)) < 0.5).astype(np.float64)
    mask = (np.arange(15) < 5).astype(np.uint8)
    values = np.full(15, 0.5)
    got = start.copy()
    paths = _loops.gibbs_chains(np.random.default_rng(2), got, W, b, c, None, 0, 4, 1.0, mask,
                                values)
    expected, generator = start.copy(), np.random.default_rng(2)
    for _ in range(4):
        expected = reference.gibbs_sweep(generator, expected, W, b, c, mask=mask, values=values)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert np.all(got[:, :5] == 0.5)
    names = _policy.path_report(paths)
    assert set(names) == {"Gibbs sweeps by BLAS"}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conditionals_match_reference(dtype):
    rng = np.random.default_rng(4)
    model = crbm.RBM(9, 5, dtype=dtype)
    model.W = rng.normal(0, 2, (9, 5))
    model.hidden_bias = rng.normal(0, 1, 5)
    model.visible_bias = rng.normal(0, 1, 9)
    v = (rng.random((8, 9)) < 0.5).astype(dtype)
    h = (rng.random((8, 5)) < 0.5).astype(dtype)
    ph = reference.sigmoid(v @ model.W + model.hidden_bias)
    pv = reference.sigmoid(h @ model.W.T + model.visible_bias)
    np.testing.assert_allclose(model.hidden_probabilities(v), ph, rtol=RTOL[dtype])
    np.testing.assert_allclose(model.visible_probabilities(h), pv, rtol=RTOL[dtype])
    np.testing.assert_allclose(model.hidden_probabilities(v[0]), ph[0], rtol=RTOL[dtype])
    np.testing.assert_array_equal(
        model.sample_hidden(v, random_state=2),
        reference.bernoulli(np.random.default_rng(2), ph.astype(dtype)))
    np.testing.assert_array_equal(
        model.sample_visible(h[1], random_state=2),
        reference.bernoulli(np.random.default_rng(2), pv[1].astype(dtype)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_input_dtypes_and_layouts_give_identical_training(dtype):
    # Rows whose entries are adjacent convert in one vectorised loop per
    # row, the others entry by entry: the same values either way.
    data = make_data(40, 10)
    variants = {
        "uint8": data,
        "bool": data.astype(bool),
        "float32": data.astype(np.float32),
        "float64": data.astype(np.float64),
        "int64 (converted)": data.astype(np.int64),
        "fortran": np.asfortranarray(data),
        "strided": np.repeat(data, 2, axis=1)[:, ::2],
        "list of rows": list(data),
        "read-only": np.frombuffer(data.tobytes(), np.uint8).reshape(data.shape),
    }
    results = {name: crbm.RBM(10, 4, dtype=dtype, random_state=1).train(x, 0.1, 2,
                                                                        batch_size=4).W
               for name, x in variants.items()}
    for name, W in results.items():
        np.testing.assert_array_equal(W, results["uint8"], err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_greyscale_rows_convert_to_the_model_precision_like_numpy(dtype):
    # Values in [0, 1] that float32 cannot hold exactly: the vectorised
    # conversion of adjacent entries must round as numpy's astype does, and
    # as the entry-by-entry loop for strided rows.
    data = np.random.default_rng(4).random((30, 10))
    expected = crbm.RBM(10, 4, dtype=dtype, random_state=1).train(
        data.astype(dtype), 0.1, 2, batch_size=4).W
    for x in (data, np.repeat(data, 2, axis=1)[:, ::2], data.astype(np.float32)):
        W = crbm.RBM(10, 4, dtype=dtype, random_state=1).train(x, 0.1, 2, batch_size=4).W
        if x.dtype == np.float32 and dtype == np.float64:
            W_want = crbm.RBM(10, 4, dtype=dtype, random_state=1).train(
                x.astype(np.float64), 0.1, 2, batch_size=4).W
            np.testing.assert_array_equal(W, W_want)
        else:
            np.testing.assert_array_equal(W, expected)


def test_progress_callback_does_not_change_result():
    data = make_data(5000, 8)
    seen = []
    a = crbm.RBM(8, 3, random_state=2).train(data, 0.01, 2, batch_size=3, progress=seen.append)
    b = crbm.RBM(8, 3, random_state=2).train(data, 0.01, 2, batch_size=3)
    np.testing.assert_array_equal(a.W, b.W)
    assert sum(seen) == 2 * 5000 and len(seen) > 2


def run_epochs(data, dtype, binary, epochs, M=20, seed=0):
    """Per-sample CD-1 through the binary (active-units) or the dense kernel."""
    from crbm._core import _loops
    N = data.shape[1]
    W = np.ascontiguousarray(np.random.default_rng(1).normal(0, 0.01, (N, M)).astype(dtype))
    b, c = np.zeros(N, dtype), np.zeros(M, dtype)
    rng = np.random.default_rng(seed)
    snapshots = []
    settings = {"k": 1, "learning_rate": 0.05, "momentum": 0, "weight_decay": 0,
                "sparsity_target": 0, "sparsity_cost": 0, "centered": False, "offset_rate": 0,
                "sampled_statistics": False}
    none = np.empty(0, dtype)
    for _ in range(epochs):
        _loops.train_epoch(rng, data, np.empty(0, np.intp), 0, len(data), W, b, c, none, 0, 1,
                           settings, True, binary, none.reshape(0, 1), none, none)
        snapshots.append((W.copy(), b.copy(), c.copy()))
    return snapshots


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_per_sample_kernel_equals_dense_blas_kernel(dtype):
    data = make_data(200, 30)
    sparse = run_epochs(data, dtype, True, 3)
    dense = run_epochs(data, dtype, False, 3)
    for (Ws, bs, cs), (Wd, bd, cd) in zip(sparse, dense):
        assert relative_error(Ws, Wd) <= RTOL[dtype]
        assert relative_error(bs, bd) <= RTOL[dtype] and relative_error(cs, cd) <= RTOL[dtype]
    assert np.abs(sparse[-1][0] - sparse[0][0]).max() > 0.05


def test_binary_kernel_keeps_learning_curve_and_held_out_quality(mnist_dir):
    images, _ = crbm.load_mnist(mnist_dir, split="t10k")
    X = crbm.binarize(images[:1200])
    train, held_out = X[:1000], X[1000:].astype(np.float64)

    curves = {binary: [(reference.reconstruction_error(W, b, c, train.astype(float)),
                        reference.reconstruction_error(W, b, c, held_out))
                       for W, b, c in run_epochs(train, np.float64, binary, 4, M=50)]
              for binary in (True, False)}
    np.testing.assert_allclose(curves[True], curves[False], rtol=1e-9)
    held_out_curve = [held for _, held in curves[True]]
    # The untrained model's error is 0.25; it keeps falling epoch after epoch.
    assert held_out_curve[0] < 0.1 and np.all(np.diff(held_out_curve) < 0)


def numpy_value_range(x):
    x = np.asarray(x, float)
    finite = np.isfinite(x)
    kept = x[finite]
    lo, hi = (kept.min(), kept.max()) if kept.size else (np.inf, -np.inf)
    return lo, hi, bool(finite.all()), bool(np.isin(kept, (0, 1)).all())


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "strided", "reversed", "row"])
@pytest.mark.parametrize("content", ["binary", "grey", "nan", "inf", "all_nan", "empty"])
def test_value_range_equals_numpy_for_every_layout(dtype, layout, content):
    # The data check before training: contiguous data in one vectorised
    # pass, rows one at a time, any other layout element by element.
    rng = np.random.default_rng(11)
    x = (rng.random((37, 29)) < 0.3).astype(dtype)
    if content == "grey":
        scale, shift = (200, 0) if dtype == np.uint8 else (3, 1)
        x = (rng.random((37, 29)) * scale - shift).astype(dtype)
    if dtype != np.uint8 and content in ("nan", "inf", "all_nan"):
        x = x * 5 - 2
        if content == "all_nan":
            x[:] = np.nan
        else:
            x[3, 4] = np.nan if content == "nan" else -np.inf
            x[30, 1] = np.inf
    if content == "empty":
        x = x[:0]
    view = {"C": x, "F": np.asfortranarray(x), "strided": x[::2, ::3], "reversed": x[::-1, ::-1],
            "row": x[5:6]}[layout]
    got = _loops.value_range(view)
    expected = numpy_value_range(view)
    assert got[2:] == expected[2:]
    np.testing.assert_array_equal(got[:2], expected[:2])

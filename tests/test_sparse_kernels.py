"""cd_batch_update_sparse (products that skip the zeros of visible rows)
against the all-BLAS cd_batch_update and the numpy reference.

The same generator gives the same draws on every path, so parameters and
chains must agree to rounding.
"""
import numpy as np
import pytest

import crbm
from crbm import reference
from crbm._core import _loops, _policy, _rows

RTOL = {np.float32: 1e-5, np.float64: 1e-12}
ALWAYS_SPARSE, ALWAYS_DENSE = 1.0, -1.0
SETTINGS = {"k": 1, "learning_rate": 0.1, "momentum": 0.0, "weight_decay": 0.0,
            "sparsity_target": 0.0, "sparsity_cost": 0.0, "centered": False,
            "offset_rate": 0.0, "sampled_statistics": False}


def relative_error(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300) if b.size else 0.0


def binary_data(n, N, density=0.2, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.random((n, N)) < density).astype(np.uint8)
    X[1] = 0  # an all-zero row
    X[4] = 1  # an all-one row
    return X


def start(N, M, dtype, n_chains):
    rng = np.random.default_rng(1)
    W = np.ascontiguousarray(rng.normal(0, 0.3, (N, M)).astype(dtype))
    b = rng.normal(0, 0.5, N).astype(dtype)
    c = rng.normal(0, 0.5, M).astype(dtype)
    chains = (rng.random((n_chains, N)) < 0.5).astype(dtype)
    return W, b, c, chains


def products_limit(max_density):
    """The policy under which minibatch products skip zeros up to
    ``max_density`` (>= 1: always; < 0: never, all BLAS; None: the default)."""
    if max_density is None:
        return _policy.override()
    return _policy.override(sparse_max_density_small=max_density,
                            sparse_max_density_large=max_density)


def train_epoch(rng, data, W, b, c, B, settings, chains, velocity, offsets, max_density=None,
                per_sample=False, binary=True):
    none = np.empty(0, W.dtype)
    with products_limit(max_density):
        return _loops.train_epoch(rng, data, np.empty(0, np.intp), 0, len(data), W, b, c, none,
                                  0, B, settings, per_sample, binary, chains, velocity, offsets)


def run_kernel(data, M, B, dtype, max_density, n_chains=0, epochs=2, seed=7, **options):
    """``epochs`` passes of train_epoch; returns W, b, c, chains (and velocity,
    offsets when the options use them)."""
    N = data.shape[1]
    W, b, c, chains = start(N, M, dtype, n_chains)
    settings = dict(SETTINGS, **options)
    none = np.empty(0, dtype)
    velocity = np.zeros(N * M + N + M, dtype) if settings["momentum"] else none
    offsets = (np.concatenate([data.mean(axis=0), np.full(M, 0.5)]).astype(dtype)
               if settings["centered"] else none)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        train_epoch(rng, data, W, b, c, B, settings, chains if n_chains else none.reshape(0, 1),
                    velocity, offsets, max_density)
    return W, b, c, chains, velocity, offsets


def run_reference(data, M, B, dtype, n_chains=0, epochs=2, seed=7, k=1, from_noise=False):
    N = data.shape[1]
    W, b, c, chains = start(N, M, dtype, n_chains)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        for pos in range(0, len(data), B):
            reference.cd_batch_update(rng, data[pos:pos + B].astype(dtype), W, b, c, 0.1, k,
                                      chains=chains if n_chains else None,
                                      chains_from_noise=from_noise)
    return W, b, c, chains


CASES = [  # N, M, n, B, k, n_chains
    (30, 7, 53, 10, 1, 0),    # B does not divide n
    (30, 7, 53, 10, 3, 0),
    (30, 7, 53, 10, 1, 7),    # PCD, fewer chains than rows
    (25, 12, 40, 8, 2, 13),   # PCD-2, more chains than rows
    (64, 20, 45, 45, 1, 0),   # one batch
    (17, 5, 30, 1, 1, 0),     # batches of one row
    (30, 123, 40, 10, 1, 7),  # rows summed in chunks of 256, 128 and 64 bytes, then a tail
    (90, 100, 30, 10, 1, 0),  # H @ W.T in blocks of W's rows, the last one short
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N,M,n,B,k,n_chains", CASES)
def test_sparse_kernel_equals_dense_kernel_and_reference(dtype, N, M, n, B, k, n_chains):
    data = binary_data(n, N)
    sparse = run_kernel(data, M, B, dtype, ALWAYS_SPARSE, n_chains, k=k)
    dense = run_kernel(data, M, B, dtype, ALWAYS_DENSE, n_chains, k=k)
    expected = run_reference(data, M, B, dtype, n_chains, k=k)
    start_W = start(N, M, dtype, n_chains)[0]
    assert np.abs(sparse[0] - start_W).max() > 0.01  # training moved the weights
    for got, want, ref in zip(sparse[:4], dense[:4], expected):
        assert got.dtype == dtype
        assert relative_error(got, want) <= RTOL[dtype]
        assert relative_error(got, ref) <= RTOL[dtype]
    if n_chains:  # the chains took the same draws
        np.testing.assert_array_equal(sparse[3], expected[3])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k, n_chains", [(1, 7), (3, 13)])
def test_chains_from_noise_equal_the_reference(dtype, k, n_chains):
    # Non-equilibrium CD-k: every update's chains restart from fresh coin
    # flips (one key), on the sparse and the BLAS paths alike.
    data = binary_data(53, 30)
    sparse = run_kernel(data, 7, 10, dtype, ALWAYS_SPARSE, n_chains, k=k,
                        chains_from_noise=True)
    dense = run_kernel(data, 7, 10, dtype, ALWAYS_DENSE, n_chains, k=k, chains_from_noise=True)
    expected = run_reference(data, 7, 10, dtype, n_chains, k=k, from_noise=True)
    persistent = run_reference(data, 7, 10, dtype, n_chains, k=k)
    assert relative_error(expected[0], persistent[0]) > 0.01  # not PCD by another name
    for got, want, ref in zip(sparse[:4], dense[:4], expected):
        assert relative_error(got, want) <= RTOL[dtype]
        assert relative_error(got, ref) <= RTOL[dtype]
    np.testing.assert_array_equal(sparse[3], expected[3])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [
    {"momentum": 0.5}, {"weight_decay": 0.01}, {"centered": True, "offset_rate": 0.1},
    {"sampled_statistics": True}, {"sparsity_cost": 0.1, "sparsity_target": 0.05},
    {"momentum": 0.9, "weight_decay": 0.001, "centered": True, "offset_rate": 0.05, "k": 2},
])
@pytest.mark.parametrize("n_chains", [0, 6])
def test_sparse_kernel_equals_dense_kernel_for_every_setting(dtype, options, n_chains):
    data = binary_data(47, 30, seed=3)
    sparse = run_kernel(data, 9, 10, dtype, ALWAYS_SPARSE, n_chains, **options)
    dense = run_kernel(data, 9, 10, dtype, ALWAYS_DENSE, n_chains, **options)
    for got, want in zip(sparse, dense):
        assert relative_error(got, want) <= RTOL[dtype]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("max_density", [ALWAYS_SPARSE, 0.5, None])
def test_greyscale_data_skips_zeros_with_the_same_result(dtype, max_density):
    # Values in [0, 1] with zeros: the data's nonzero entries are weights.
    rng = np.random.default_rng(5)
    data = np.where(rng.random((50, 24)) < 0.4, rng.random((50, 24)), 0).astype(dtype)
    sparse = run_kernel(data, 8, 10, dtype, max_density, n_chains=10)
    dense = run_kernel(data, 8, 10, dtype, ALWAYS_DENSE, n_chains=10)
    for got, want in zip(sparse, dense):
        assert relative_error(got, want) <= RTOL[dtype]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("M", [5, 16, 37, 100, 123, 128, 256, 264])
def test_avx512_loops_give_the_bits_of_the_others(dtype, M):
    # The AVX-512 copies of the row sums and the row index must add the same
    # columns in the same order as the AVX2/baseline ones: results may not
    # depend on the CPU. Greyscale rows, so each picked row is scaled.
    if not _rows._use_avx512(True):
        pytest.skip("this CPU has no AVX-512")
    rng = np.random.default_rng(6)
    data = np.where(rng.random((50, 70)) < 0.4, rng.random((50, 70)), 0).astype(dtype)
    try:
        wide = run_kernel(data, M, 10, dtype, ALWAYS_SPARSE, n_chains=10)
        assert not _rows._use_avx512(False)
        narrow = run_kernel(data, M, 10, dtype, ALWAYS_SPARSE, n_chains=10)
    finally:
        _rows._use_avx512(True)
    for got, want in zip(wide, narrow):
        np.testing.assert_array_equal(got, want)


def row_dots(A, X):
    out = np.empty((len(X), len(A)), A.dtype)
    _rows._row_dots(A, X, out)
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("vectors", [1, 2, 6.25, 7, 12.5, 16, 16.5])
@pytest.mark.parametrize("rows", [13, 1027])
def test_avx512_row_dots_give_the_bits_of_the_others(dtype, vectors, rows):
    # With AVX-512 the row dots hold x in registers, in one copy per number
    # of 64-byte vectors up to 16, and take four rows side by side, or one
    # row at a time when W is bigger than L1 (1027 rows) and its rows are 4
    # vectors or more; each row's dot must still be summed as in the
    # AVX2/baseline loop. p(v | h) for 5 rows of h takes crbm's dots of W's
    # rows (three past the last group of four) with each; h's width M and
    # W's row count are the parameters.
    if not _rows._use_avx512(True):
        pytest.skip("this CPU has no AVX-512")
    M = int(vectors * 64 // np.dtype(dtype).itemsize)
    rng = np.random.default_rng(M)
    H, W = (rng.normal(0, 1, shape).astype(dtype) for shape in ((5, M), (rows, M)))
    b, c, none = np.zeros(rows, dtype), np.zeros(M, dtype), np.empty(0, dtype)
    try:
        wide = _loops.conditional_means(H, W, b, c, none, 0, False), row_dots(W, H)
        assert not _rows._use_avx512(False)
        narrow = _loops.conditional_means(H, W, b, c, none, 0, False), row_dots(W, H)
    finally:
        _rows._use_avx512(True)
    np.testing.assert_allclose(wide[0], reference.sigmoid(H @ W.T), rtol=0, atol=RTOL[dtype])
    np.testing.assert_allclose(wide[1], H @ W.T, rtol=0, atol=100 * RTOL[dtype])
    for got, want in zip(wide, narrow):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("vectors", [0.25, 1, 2.5, 6.25, 12.5, 16, 16.5])
@pytest.mark.parametrize("n_rows", [0, 1, 4, 7])
def test_avx512_row_sums_of_0_1_products_give_the_bits_of_the_others(dtype, vectors, n_rows):
    # With AVX-512 the sums of picked rows (for a 0/1 vector times W) hold
    # the output in registers, with the last part vector under a lane mask,
    # in one copy per number of full vectors up to 16; each entry must get
    # the same sums as in the AVX2/baseline loop.
    if not _rows._use_avx512(True):
        pytest.skip("this CPU has no AVX-512")
    M = int(vectors * 64 // np.dtype(dtype).itemsize)
    rng = np.random.default_rng(M + n_rows)
    A = rng.normal(0, 1, (9, M)).astype(dtype)
    rows = np.sort(rng.choice(9, n_rows, replace=False)).astype(np.intc)
    try:
        wide = _rows._sum_rows(A, rows)
        assert not _rows._use_avx512(False)
        narrow = _rows._sum_rows(A, rows)
    finally:
        _rows._use_avx512(True)
    np.testing.assert_allclose(wide, A[rows].sum(axis=0), rtol=0, atol=RTOL[dtype])
    np.testing.assert_array_equal(wide, narrow)


@pytest.mark.parametrize("density", [0.0, 0.3, 0.9, 1.0])
def test_density_threshold_picks_a_path_with_the_same_result(density):
    # All-zero, sparse, dense and all-one data, the default threshold.
    data = binary_data(40, 20, density=density)
    data[:] = data if 0 < density < 1 else density
    default = run_kernel(data, 6, 10, np.float64, None, n_chains=5)
    dense = run_kernel(data, 6, 10, np.float64, ALWAYS_DENSE, n_chains=5)
    for got, want in zip(default, dense):
        assert relative_error(got, want) <= RTOL[np.float64]


def test_sparse_kernel_keeps_learning_curve_and_held_out_quality(mnist_dir):
    images, _ = crbm.load_mnist(mnist_dir, split="t10k")
    X = crbm.binarize(images[:1200])
    train, held_out = X[:1000], X[1000:].astype(np.float64)

    curves = {}
    for max_density in (ALWAYS_SPARSE, ALWAYS_DENSE):
        N, M = 784, 50
        W = np.ascontiguousarray(np.random.default_rng(1).normal(0, 0.01, (N, M)))
        b, c = np.zeros(N), np.zeros(M)
        rng, none = np.random.default_rng(0), np.empty(0)
        curve = []
        for _ in range(4):
            train_epoch(rng, train, W, b, c, 10, SETTINGS, none.reshape(0, 1), none, none,
                        max_density)
            curve.append((reference.reconstruction_error(W, b, c, train.astype(float)),
                          reference.reconstruction_error(W, b, c, held_out)))
        curves[max_density] = curve
    np.testing.assert_allclose(curves[ALWAYS_SPARSE], curves[ALWAYS_DENSE], rtol=1e-9)
    held_out_curve = [held for _, held in curves[ALWAYS_SPARSE]]
    # The untrained model's error is 0.25; it keeps falling epoch after epoch.
    assert held_out_curve[0] < 0.1 and np.all(np.diff(held_out_curve) < 0)


def test_rbm_train_uses_the_sparse_kernel_with_the_reference_result():
    # RBM.train's default path (sparse for this 20%-dense data) still matches
    # the numpy reference draw for draw.
    data = binary_data(60, 40)
    W0 = np.random.default_rng(2).normal(0, 0.1, (40, 10))
    model = crbm.RBM(40, 10, random_state=4)
    model.W = W0
    model.train(data, 0.1, 3, batch_size=7)
    W, b, c = W0.copy(), np.zeros(40), np.zeros(10)
    reference.train(np.random.default_rng(4), data, W, b, c, 0.1, 3, 7)
    assert relative_error(model.W, W) <= 1e-12
    assert relative_error(model.visible_bias, b) <= 1e-12
    assert relative_error(model.hidden_bias, c) <= 1e-12


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_chains", [3, 40])
@pytest.mark.parametrize("max_density", [None, ALWAYS_SPARSE, 0.3, ALWAYS_DENSE])
def test_gibbs_chains_on_every_path_equal_the_reference(dtype, n_chains, max_density):
    # Negative visible biases keep the chains sparse (about 0.15 nonzero),
    # so the 0.3 limit takes the sparse path on some sweeps.
    N, M, steps = 60, 20, 30
    W, b, c, _ = start(N, M, dtype, 0)
    b = (b - 2).astype(dtype)
    V = (np.random.default_rng(3).random((n_chains, N)) < 0.5).astype(dtype)
    got = V.copy()
    policy = (_policy.override() if max_density is None else
              _policy.override(binary_max_chains=0, sampling_max_density=max_density))
    with policy:
        _loops.gibbs_chains(np.random.default_rng(5), got, W, b, c, np.empty(0, dtype), 0, steps)
    rng, expected = np.random.default_rng(5), V
    for _ in range(steps):
        expected = reference.gibbs_sweep(rng, expected, W, b, c)
    assert 0.05 < got.mean() < 0.3
    np.testing.assert_array_equal(got, expected)


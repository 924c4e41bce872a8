"""RBMs with Gaussian visible units: training and sampling against
crbm.reference draw for draw, exact likelihoods, learning, files, errors."""
import pickle

import numpy as np
import pytest

import crbm
from crbm import reference
from crbm._core import _loops, _policy

RTOL = {np.float32: 1e-5, np.float64: 1e-12}
MIN_LOG_VAR = 2 * np.log(0.01)


def relative_error(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)


def real_data(n=60, N=12, seed=0, zeros=True):
    """Correlated real rows of several scales; with ``zeros``, a third of the
    entries exactly 0 (as greyscale images have), so the products' sparse
    path is taken too."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) @ rng.normal(size=(3, N)) + rng.normal(0, 0.3, (n, N))
    X *= np.linspace(0.5, 2.0, N)
    if zeros:
        X[X < -0.4] = 0
    return X


def gaussian_model(N, M, dtype, seed=5, W0=None, **units):
    model = crbm.RBM(N, M, visible=crbm.units.Gaussian(**units), dtype=dtype, random_state=seed)
    if W0 is not None:
        model.W = W0
    return model


OPTIONS = {
    "cd-1": dict(),
    "cd-3": dict(k=3),
    "pcd": dict(persistent=True, n_chains=7),
    "from noise": dict(from_noise=True, n_chains=7, k=2),
    "momentum": dict(momentum=[0.5, 0.9]),
    "weight decay": dict(weight_decay=1e-3),
    "sparsity": dict(sparsity_cost=0.3),
    "sampled statistics": dict(statistics="states"),
    "centering, pcd": dict(centering=True, persistent=True),
    "all at once": dict(momentum=[0.5, 0.9], centering=True, weight_decay=1e-3, k=2,
                        persistent=True, n_chains=13),
}


def reference_training(data, W0, dtype, options, epochs, batch_size, lr, learn_std=True,
                       min_log_var=MIN_LOG_VAR):
    """The same training in crbm.reference, draw for draw."""
    N, M = W0.shape
    W, b, c = W0.astype(dtype), np.zeros(N, dtype), np.zeros(M, dtype)
    z = np.zeros(N, dtype)
    rng = np.random.default_rng(5)
    chains = velocity = offsets = None
    momenta = options.get("momentum", 0.0)
    momenta = momenta if isinstance(momenta, list) else [momenta]
    for epoch in range(epochs):
        momentum = momenta[min(epoch, len(momenta) - 1)]
        if (options.get("persistent") or options.get("from_noise")) and chains is None:
            chains = reference.initial_states(rng, options.get("n_chains", batch_size), b, z)
        if any(momenta) and velocity is None:
            velocity = [np.zeros((N, M), dtype), np.zeros(N, dtype), np.zeros(M, dtype),
                        np.zeros(N, dtype)]
        if options.get("centering") and offsets is None:
            offsets = [np.zeros(N, dtype), np.full(M, 0.5, dtype)]
        for start in range(0, len(data), batch_size):
            reference.cd_batch_update(
                rng, data[start:start + batch_size].astype(dtype), W, b, c, lr,
                options.get("k", 1), chains=chains, velocity=velocity, offsets=offsets,
                momentum=momentum, weight_decay=options.get("weight_decay", 0.0),
                sparsity_target=0.1, sparsity_cost=options.get("sparsity_cost", 0.0),
                offset_rate=0.01 if offsets is not None else 0.0,
                sampled_statistics=options.get("statistics") == "states", log_var=z,
                learn_variance=learn_std, min_log_var=min_log_var,
                chains_from_noise=options.get("from_noise", False))
    return W, b, c, z


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_minibatch_training_matches_the_reference(dtype, name):
    options = OPTIONS[name]
    data = real_data()
    W0 = np.random.default_rng(3).normal(0, 0.1, (12, 5))
    model = gaussian_model(12, 5, dtype, W0=W0)
    model.train(data, 0.01, 3, batch_size=10, **options)
    W, b, c, z = reference_training(data, W0, dtype, options, 3, 10, 0.01)
    assert np.abs(model.W - W0).max() > 0.005 and np.abs(z).max() > 1e-3
    for got, want in ((model.W, W), (model.visible_bias, b), (model.hidden_bias, c),
                      (2 * np.log(model.visible_std.astype(np.float64)), z)):
        assert relative_error(got, want) <= 10 * RTOL[dtype]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("limit", [1.0, -1.0])
def test_every_product_path_gives_the_reference_result(dtype, limit):
    # Rows with zeros sum picked rows of W (scaled by v / sigma^2) below the
    # limit, or go to BLAS: the same algorithm and draws either way.
    data = real_data()
    W0 = np.random.default_rng(3).normal(0, 0.1, (12, 5))
    model = gaussian_model(12, 5, dtype, W0=W0)
    with _policy.override(sparse_max_density_small=limit, sparse_max_density_large=limit):
        model.train(data, 0.01, 2, batch_size=10, persistent=True)
    W, b, c, z = reference_training(data, W0, dtype, dict(persistent=True), 2, 10, 0.01)
    assert relative_error(model.W, W) <= 10 * RTOL[dtype]
    assert relative_error(model.visible_bias, b) <= 10 * RTOL[dtype]


def test_one_sample_batches_are_minibatch_steps():
    # Gaussian units have no per-sample reference update: batch_size 1 is a
    # minibatch step of one row.
    data = real_data(20)
    W0 = np.random.default_rng(3).normal(0, 0.1, (12, 5))
    model = gaussian_model(12, 5, np.float64, W0=W0)
    model.train(data, 0.01, 2)
    W, b, c, z = reference_training(data, W0, np.float64, {}, 2, 1, 0.01)
    assert relative_error(model.W, W) <= 1e-12


def test_fixed_std_stays_fixed_and_is_assignable():
    data = real_data()
    model = gaussian_model(12, 5, np.float64, learn_std=False)
    model.visible_std = np.linspace(0.5, 2, 12)
    model.train(data, 0.01, 2, batch_size=10)
    np.testing.assert_allclose(model.visible_std, np.linspace(0.5, 2, 12), rtol=1e-15)
    W0 = np.random.default_rng(3).normal(0, 0.1, (12, 5))
    fixed = gaussian_model(12, 5, np.float64, W0=W0, learn_std=False)
    fixed.train(data, 0.01, 2, batch_size=10)
    W, b, c, z = reference_training(data, W0, np.float64, {}, 2, 10, 0.01, learn_std=False)
    assert relative_error(fixed.W, W) <= 1e-12 and np.all(z == 0)


def test_std_never_falls_below_its_floor():
    # A column at its bias has no spread: its sigma shrinks as fast as the
    # learning rate lets it, and stops at min_std, as in the reference.
    data = real_data()
    data[:, 3] = 0
    W0 = np.random.default_rng(3).normal(0, 0.01, (12, 5))
    model = gaussian_model(12, 5, np.float64, W0=W0, min_std=0.9)
    model.train(data, 0.05, 3, batch_size=10)
    W, b, c, z = reference_training(data, W0, np.float64, {}, 3, 10, 0.05,
                                    min_log_var=2 * np.log(0.9))
    assert model.visible_std.min() >= 0.9 * (1 - 1e-12)
    assert model.visible_std[3] == pytest.approx(0.9, rel=1e-12)
    np.testing.assert_allclose(2 * np.log(model.visible_std), z, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_chains", [3, 40])
def test_generate_matches_the_reference(dtype, n_chains):
    rng = np.random.default_rng(0)
    model = gaussian_model(15, 6, dtype)
    model.W = rng.normal(0, 0.5, (15, 6))
    model.visible_bias = rng.normal(0, 1, 15)
    model.hidden_bias = rng.normal(0, 1, 6)
    model.visible_std = rng.uniform(0.5, 2, 15)
    got = model.generate(n_chains, n_steps=20, random_state=9)
    log_var = (2 * np.log(model.visible_std.astype(np.float64))).astype(dtype)
    expected = reference.generate(np.random.default_rng(9), model.W, model.visible_bias,
                                  model.hidden_bias, n_chains, 20, log_var=log_var)
    assert got.dtype == dtype and len(np.unique(got)) == got.size  # real-valued states
    np.testing.assert_allclose(got, expected, rtol=0, atol=100 * RTOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conditionals_and_half_steps(dtype):
    rng = np.random.default_rng(4)
    model = gaussian_model(9, 5, dtype)
    model.W = rng.normal(0, 1, (9, 5))
    model.visible_bias, model.hidden_bias = rng.normal(0, 1, 9), rng.normal(0, 1, 5)
    model.visible_std = rng.uniform(0.5, 2, 9)
    std = model.visible_std.astype(np.float64)
    v = rng.normal(0, 2, (8, 9))
    h = (rng.random((8, 5)) < 0.5).astype(dtype)
    ph = reference.sigmoid((v / std ** 2) @ model.W + model.hidden_bias)
    np.testing.assert_allclose(model.hidden_probabilities(v), ph, rtol=RTOL[dtype])
    means = h @ model.W.T + model.visible_bias
    np.testing.assert_allclose(model.visible_means(h), means, rtol=RTOL[dtype], atol=RTOL[dtype])
    np.testing.assert_allclose(model.visible_means(h[0]), means[0], rtol=RTOL[dtype],
                               atol=RTOL[dtype])
    drawn = model.sample_visible(h, random_state=2)
    expected = reference.gaussian(np.random.default_rng(2), means.astype(dtype),
                                  std.astype(dtype))
    np.testing.assert_allclose(drawn, expected, rtol=0, atol=50 * RTOL[dtype])
    with pytest.raises(ValueError, match="visible_means"):
        model.visible_probabilities(h)


def test_samples_follow_the_model_distribution():
    # One visible unit, two hidden: p(v) is a mixture of four Gaussians with
    # weights from exact enumeration; compare its mean and variance.
    model = gaussian_model(1, 2, np.float64)
    model.W = np.array([[1.5, -2.0]])
    model.visible_bias, model.hidden_bias = np.array([0.3]), np.array([0.5, -0.2])
    model.visible_std = np.array([0.7])
    H = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    means = 0.3 + H @ model.W[0]
    # p(h) ~ exp(c.h + log partition of v given h).
    log_p = H @ model.hidden_bias + ((means ** 2 - 0.3 ** 2) / (2 * 0.49))
    p = np.exp(log_p - log_p.max())
    p /= p.sum()
    mean = p @ means
    variance = p @ (means ** 2 + 0.49) - mean ** 2
    samples = model.generate(4000, n_steps=200, random_state=1)[:, 0]
    assert abs(samples.mean() - mean) < 5 * np.sqrt(variance / 4000)
    assert abs(samples.var() / variance - 1) < 0.1


def exact_log_partition_by_quadrature(model):
    """log Z of a model with one or two visible units, integrating over v."""
    from scipy import integrate
    from scipy.special import logsumexp
    N = model.n_visible
    W, b, c = model.W, model.visible_bias, model.hidden_bias
    s2 = model.visible_std ** 2
    H = ((np.arange(2 ** model.n_hidden)[:, None] >> np.arange(model.n_hidden)) & 1).astype(float)

    def density(*v):
        v = np.array(v)
        return np.exp(logsumexp(-((v - b) ** 2 / (2 * s2)).sum() + (v / s2) @ W @ H.T
                                + H @ c))
    lo, hi = -20, 20
    if N == 1:
        value, _ = integrate.quad(density, lo, hi, limit=200)
    else:
        value, _ = integrate.dblquad(lambda y, x: density(x, y), lo, hi, lo, hi)
    return np.log(value)


@pytest.mark.parametrize("N, M, seed", [(1, 3, 0), (2, 2, 1), (2, 4, 2)])
def test_exact_log_partition_is_the_integral(N, M, seed):
    rng = np.random.default_rng(seed)
    model = gaussian_model(N, M, np.float64)
    model.W = rng.normal(0, 1, (N, M))
    model.visible_bias, model.hidden_bias = rng.normal(0, 1, N), rng.normal(0, 1, M)
    model.visible_std = rng.uniform(0.5, 1.5, N)
    assert model.log_partition() == pytest.approx(exact_log_partition_by_quadrature(model),
                                                  abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ais_agrees_with_the_exact_log_partition(seed):
    rng = np.random.default_rng(seed)
    model = gaussian_model(20, 8, np.float64)
    model.W = rng.normal(0, 0.4, (20, 8))
    model.visible_bias, model.hidden_bias = rng.normal(0, 1, 20), rng.normal(0, 1, 8)
    model.visible_std = rng.uniform(0.5, 1.5, 20)
    exact = model.log_partition()
    estimate, (low, high) = model.log_partition("ais", n_runs=200, n_betas=2000,
                                                random_state=seed, return_interval=True)
    assert abs(estimate - exact) < 0.5
    assert low - 0.2 < exact < high + 0.2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_free_energy_is_the_formula(dtype):
    rng = np.random.default_rng(6)
    model = gaussian_model(10, 4, dtype)
    model.W = rng.normal(0, 1, (10, 4))
    model.visible_bias, model.hidden_bias = rng.normal(0, 1, 10), rng.normal(0, 1, 4)
    model.visible_std = rng.uniform(0.5, 1.5, 10)
    V = rng.normal(0, 1, (6, 10)).astype(dtype)
    log_var = (2 * np.log(model.visible_std.astype(np.float64))).astype(dtype)
    compiled = _loops.free_energy(V, model.W, model.visible_bias, model.hidden_bias, log_var,
                                  crbm.units.Gaussian.kind)
    np.testing.assert_allclose(compiled, model.free_energy(V), rtol=100 * RTOL[dtype])
    # The log-likelihood of a density integrates to 1: exp(log p) over a
    # fine grid, for a model with one visible unit.
    small = gaussian_model(1, 3, np.float64)
    small.W, small.visible_std = rng.normal(0, 1, (1, 3)), np.array([0.8])
    grid = np.linspace(-12, 12, 24001)[:, None]
    log_p = -small.free_energy(grid) - small.log_partition()
    assert np.exp(log_p).sum() * (grid[1, 0] - grid[0, 0]) == pytest.approx(1, abs=1e-6)


def teacher(seed=0):
    """A known Gaussian-Bernoulli RBM with visible units of different scales."""
    rng = np.random.default_rng(seed)
    model = gaussian_model(6, 3, np.float64)
    model.W = rng.normal(0, 1.2, (6, 3))
    model.visible_bias = rng.normal(0, 0.5, 6)
    model.hidden_bias = rng.normal(0, 0.5, 3)
    model.visible_std = np.array([0.3, 0.5, 0.8, 1.0, 1.5, 2.0])
    return model


def test_learning_reaches_the_generating_models_likelihood():
    # Data drawn from a known model; a model trained on it reaches the
    # generating model's exact test log-likelihood within 0.5 nats a
    # dimension, and its sigma come to the data's scale.
    source = teacher()
    data = source.generate(6000, n_steps=100, random_state=1)
    train, test = data[:5000], data[5000:]
    truth = source.log_likelihood(test, method="exact")
    model = crbm.RBM(6, 3, visible="gaussian", init="normal", random_state=2)
    model.train(train, 0.01, 100, batch_size=50, persistent=True, momentum=0.5)
    learned = model.log_likelihood(test, method="exact")
    assert truth - learned < 0.5 * 6
    # The untrained start (sigma 1, biases at the data means) is worse.
    start = crbm.RBM(6, 3, visible="gaussian", init="normal", random_state=2)
    start.train(train, 1e-9, 1, batch_size=5000)
    assert learned > start.log_likelihood(test, method="exact") + 1
    ratio = model.visible_std / source.visible_std
    assert np.all((ratio > 0.6) & (ratio < 1.6))
    assert np.corrcoef(np.log(model.visible_std), np.log(source.visible_std))[0, 1] > 0.9


def test_sigma_follows_the_data_scale():
    # The same data times 10: the learned sigma are ten times larger.
    data = teacher().generate(3000, n_steps=100, random_state=1)
    stds = []
    for scale in (1.0, 10.0):
        model = crbm.RBM(6, 3, visible="gaussian", init="normal", random_state=2)
        model.train(data * scale, 0.01, 60, batch_size=50, persistent=True)
        stds.append(model.visible_std)
    ratio = stds[1] / stds[0]
    assert np.all((ratio > 7) & (ratio < 14))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_load_and_pickle_round_trips(tmp_path, dtype):
    data = real_data()
    model = gaussian_model(12, 5, dtype, min_std=0.05)
    model.train(data, 0.01, 2, batch_size=10, persistent=True, momentum=0.5, centering=True,
                validation=data[:10])
    path = tmp_path / "gaussian.npz"
    model.save(path)
    for copy in (crbm.RBM.load(path), pickle.loads(pickle.dumps(model))):
        assert copy.visible == crbm.units.Gaussian(min_std=0.05) and copy.dtype == dtype
        np.testing.assert_array_equal(copy.visible_std, model.visible_std)
        np.testing.assert_array_equal(copy.W, model.W)
        assert copy.history == model.history and "pseudo_likelihood" not in copy.history[0]
        for name, value in model.training_state.items():
            np.testing.assert_array_equal(copy.training_state[name], value)
        a = copy.train(data, 0.01, 1, batch_size=10, persistent=True, momentum=0.5,
                       centering=True)
        b = pickle.loads(pickle.dumps(model)).train(data, 0.01, 1, batch_size=10,
                                                     persistent=True, momentum=0.5,
                                                     centering=True)
        np.testing.assert_array_equal(a.W, b.W)
        np.testing.assert_array_equal(a.visible_std, b.visible_std)


def test_version_2_files_load_as_bernoulli_models(tmp_path):
    import json
    model = crbm.RBM(6, 3, random_state=0).train(np.eye(6), 0.1, 2)
    path = tmp_path / "v3.npz"
    model.save(path)
    with np.load(path) as f:
        meta = json.loads(str(f["meta"]))
        arrays = {name: f[name] for name in ("W", "visible_bias", "hidden_bias")}
    for version in (1, 2):
        old = {k: v for k, v in meta.items() if k not in ("visible", "hidden")}
        old["version"] = version
        np.savez(tmp_path / f"v{version}.npz", meta=np.array(json.dumps(old)), **arrays)
        loaded = crbm.RBM.load(tmp_path / f"v{version}.npz")
        assert loaded.visible == crbm.units.Bernoulli()
        np.testing.assert_array_equal(loaded.W, model.W)


def test_training_is_thread_count_independent():
    data = real_data(200, 30)
    results = []
    for threads in (1, 2):
        with crbm.num_threads(threads):
            model = gaussian_model(30, 20, np.float64)
            model.train(data, 0.01, 2, batch_size=50, persistent=True)
            results.append((model.W.copy(), model.visible_std))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_divergence_restores_the_last_finite_state():
    data = real_data() * 1e3
    model = gaussian_model(12, 5, np.float64)
    model.train(data[:10], 1e-6, 1, batch_size=10)
    before = (model.W.copy(), model.visible_std.copy())
    with pytest.raises(crbm.DivergenceError):
        model.train(data, 1e6, 5, batch_size=10)
    np.testing.assert_array_equal(model.W, before[0])
    np.testing.assert_array_equal(model.visible_std, before[1])


def test_bad_arguments_are_refused_before_any_change():
    with pytest.raises(ValueError, match="visible"):
        crbm.RBM(4, 2, visible="potts")
    with pytest.raises(ValueError, match="hidden"):
        crbm.RBM(4, 2, hidden="gaussian")
    model = gaussian_model(4, 2, np.float64, min_std=0.1)
    before = model.W.copy()
    with pytest.raises(ValueError, match="min_std"):
        model.visible_std = [0.05, 1, 1, 1]
    with pytest.raises(ValueError, match="shape"):
        model.visible_std = [1, 1]
    with pytest.raises(ValueError, match="NaN"):
        model.train(np.full((5, 4), np.nan))
    with pytest.raises(ValueError, match="pseudo-likelihood"):
        model.pseudo_likelihood(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="base_rate"):
        model.log_partition("ais", base_rate=np.full(4, 0.5))
    with pytest.raises(AttributeError, match="visible_std"):
        crbm.RBM(4, 2).visible_std
    np.testing.assert_array_equal(model.W, before)
    assert np.all(model.visible_std == 1)
    # Real-valued data outside [0, 1] is data for Gaussian units.
    model.train(np.linspace(-5, 5, 20).reshape(5, 4), epochs=1, batch_size=5)

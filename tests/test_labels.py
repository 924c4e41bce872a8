"""Softmax label units (RBM(..., n_labels=K)): the compiled softmax group
against crbm.reference draw for draw, exact distributions on models small
enough to enumerate, class-conditional generation, prediction, files and
errors."""
import itertools
import pickle

import numpy as np
import pytest
from scipy.special import logsumexp, softmax

import crbm
from crbm import reference
from crbm._core import _units
from crbm.io.persist import ModelFileError, read_model_file, write_model_file
from crbm.models import _files

RTOL = {np.float32: 1e-5, np.float64: 1e-12}


def labelled_data(n=400, N=12, K=3, seed=0):
    """Rows of K noisy prototypes (each class turns on its own block of
    pixels) and their classes."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, n)
    block = np.arange(N) * K // N
    X = (rng.random((n, N)) < np.where(block[None, :] == y[:, None], 0.9, 0.1)).astype(np.uint8)
    return X, y


def random_model(N, M, K, dtype=np.float64, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    model = crbm.RBM(N, M, n_labels=K, dtype=dtype, random_state=seed)
    model.W = rng.normal(0, scale, (N, M))
    model.label_weights = rng.normal(0, scale, (K, M))
    model.visible_bias = rng.normal(0, 0.5, N)
    model.label_bias = rng.normal(0, 0.5, K)
    model.hidden_bias = rng.normal(0, 0.5, M)
    return model


def all_states(n):
    return np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.float64)


def one_hots(K):
    return np.eye(K)


def exact_joint(model):
    """p(v, y) over every 0/1 v and every class y (rows: v-major), by
    enumerating h too: the definition, not the free-energy formula."""
    N, M, K = model.n_visible, model.n_hidden, model.n_labels
    W, U = model.W.astype(float), model.label_weights.astype(float)
    b, d, c = (model.visible_bias.astype(float), model.label_bias.astype(float),
               model.hidden_bias.astype(float))
    V, Y, H = all_states(N), one_hots(K), all_states(M)
    log_p = np.empty((len(V), K))
    for i, v in enumerate(V):
        for k, y in enumerate(Y):
            log_p[i, k] = logsumexp(v @ b + y @ d + H @ c + H @ (v @ W + y @ U))
    return log_p


# -- the compiled softmax group ---------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("beta", [1.0, 0.4])
def test_the_softmax_group_matches_the_reference(dtype, beta):
    rng = np.random.default_rng(1)
    field = (3 * rng.normal(size=(9, 14))).astype(dtype)
    bias = rng.normal(size=14).astype(dtype)
    means = field.copy()
    _units.mean(0, means, bias, beta, n_softmax=5)
    np.testing.assert_allclose(means, reference.grouped_means(field, bias, 5, beta),
                               rtol=RTOL[dtype], atol=RTOL[dtype])
    np.testing.assert_allclose(means[:, -5:].sum(axis=1), 1, rtol=10 * RTOL[dtype])
    states = field.copy()
    _units.sample(0, 77, 3, states, bias, bias[:0], beta, n_softmax=5)
    np.testing.assert_array_equal(
        states, reference.units_sample("bernoulli", 77, 3, field, bias, beta=beta, n_softmax=5))
    drawn = means.copy()
    _units.draw(0, 77, 3, drawn, bias, bias[:0], beta, n_softmax=5)
    np.testing.assert_array_equal(drawn, states)
    np.testing.assert_array_equal(states[:, -5:].sum(axis=1), 1)


def test_the_softmax_group_draws_its_distribution():
    logits = np.log([0.1, 0.2, 0.3, 0.4])
    states = np.zeros((40_000, 4))
    _units.sample(0, 5, 0, states, logits, logits[:0], 1.0, n_softmax=4)
    counts = states.sum(axis=0)
    expected = len(states) * np.array([0.1, 0.2, 0.3, 0.4])
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 16.3  # 3 degrees of freedom, p = 0.001


def test_the_layer_log_partition_sums_the_group_as_one_softmax():
    rng = np.random.default_rng(2)
    field, bias = rng.normal(size=(6, 7)), rng.normal(size=7)
    got = _units.log_partition(0, field, bias, bias[:0], n_softmax=3)
    z = field + bias
    want = np.logaddexp(0, z[:, :4]).sum(axis=1) + logsumexp(z[:, 4:], axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-12)


# -- training and sampling against the reference ------------------------------


OPTIONS = {
    "cd-1": dict(),
    "cd-3": dict(k=3),
    "from noise": dict(from_noise=True, n_chains=7, k=2),
    "pcd": dict(persistent=True, n_chains=7),
    "centering, momentum": dict(centering=True, momentum=0.5, persistent=True),
    "cd-2, labels held": dict(k=2, clamp_labels=True),
    "from noise, labels held": dict(from_noise=True, n_chains=13, k=2, clamp_labels=True),
    "pcd, labels held": dict(persistent=True, n_chains=7, clamp_labels=True),
    "hybrid": dict(discriminative=0.7),
    "hybrid, from noise, labels held": dict(discriminative=3.0, from_noise=True, n_chains=10,
                                            k=2, clamp_labels=True),
    "hybrid, pcd, momentum": dict(discriminative=1.5, persistent=True, momentum=0.5),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_labelled_training_matches_the_reference(dtype, name):
    options = OPTIONS[name]
    X, y = labelled_data(n=60)
    N, M, K = 12, 5, 3
    W0 = np.random.default_rng(3).normal(0, 0.1, (N + K, M))
    model = crbm.RBM(N, M, n_labels=K, dtype=dtype, random_state=5)
    model.W, model.label_weights = W0[:N], W0[N:]
    model.train(X, 0.05, 2, batch_size=10, labels=y, **options)
    data = np.concatenate([X, np.eye(K)[y]], axis=1).astype(dtype)
    W, b, c = W0.astype(dtype), np.zeros(N + K, dtype), np.zeros(M, dtype)
    rng = np.random.default_rng(5)
    chains = velocity = offsets = None
    if options.get("persistent") or options.get("from_noise"):
        chains = reference.initial_states(rng, options.get("n_chains", 10), b, n_labels=K)
    if options.get("momentum"):
        velocity = [np.zeros((N + K, M), dtype), np.zeros(N + K, dtype), np.zeros(M, dtype)]
    if options.get("centering"):
        offsets = [data.mean(axis=0).astype(dtype), np.full(M, 0.5, dtype)]
    for _ in range(2):
        for start in range(0, len(data), 10):
            reference.cd_batch_update(
                rng, data[start:start + 10], W, b, c, 0.05, options.get("k", 1), chains=chains,
                velocity=velocity, offsets=offsets, momentum=options.get("momentum", 0.0),
                offset_rate=0.01 if offsets is not None else 0.0,
                chains_from_noise=options.get("from_noise", False), n_labels=K,
                clamp_labels=options.get("clamp_labels", False),
                discriminative=options.get("discriminative", 0.0))
    assert np.abs(model.label_weights - W0[N:]).max() > 1e-3
    for got, want in ((model.W, W[:N]), (model.label_weights, W[N:]),
                      (model.visible_bias, b[:N]), (model.label_bias, b[N:]),
                      (model.hidden_bias, c)):
        np.testing.assert_allclose(got, want, rtol=0, atol=100 * RTOL[dtype])
    if chains is not None:
        kept = model.training_state["chains"]
        np.testing.assert_array_equal(kept[:, N:].sum(axis=1), 1)
        if options.get("clamp_labels"):  # the last batch's labels, row i % n
            last = data[len(data) - 10:, N:]
            np.testing.assert_array_equal(kept[:, N:], last[np.arange(len(kept)) % 10])


def test_the_hybrid_gradient_is_that_of_the_exact_class_posterior():
    X, y = labelled_data(n=7)
    model = random_model(12, 4, 3, scale=0.5, seed=4)
    V0 = model.join_labels(X, y)
    W, b, c = model._W.copy(), model._visible_bias.copy(), model.hidden_bias.copy()
    gW, gb, gc = reference.label_posterior_gradient(V0, W, b, c, 3)

    def mean_log_posterior(W, b, c):
        probe = crbm.RBM(12, 4, n_labels=3)
        probe._W[...], probe._visible_bias[...], probe.hidden_bias = W, b, c
        return np.log(probe.predict_proba(X)[np.arange(len(y)), y]).mean()

    eps = 1e-6
    for array, grad in ((W, gW), (b, gb), (c, gc)):
        numeric = np.empty_like(array)
        for i in np.ndindex(array.shape):
            up, down = array.copy(), array.copy()
            up[i] += eps
            down[i] -= eps
            args = [up if a is array else a for a in (W, b, c)]
            low = [down if a is array else a for a in (W, b, c)]
            numeric[i] = (mean_log_posterior(*args) - mean_log_posterior(*low)) / (2 * eps)
        np.testing.assert_allclose(grad, numeric, atol=1e-7)


def test_the_hybrid_objective_raises_the_class_posterior():
    X, y = labelled_data(n=300, N=12, K=3, seed=6)
    X = np.where(np.random.default_rng(1).random(X.shape) < 0.25, 1 - X, X)  # harder
    results = {}
    for weight in (0.0, 1.0):
        model = crbm.RBM(12, 8, n_labels=3, init="normal", random_state=0)
        model.train(X, 0.1, 20, batch_size=20, labels=y, discriminative=weight)
        results[weight] = np.log(model.predict_proba(X)[np.arange(len(y)), y]).mean()
    # Seen: -1.09 generative only (log 3 = 1.10), -0.84 with the hybrid term.
    assert results[1.0] > results[0.0] + 0.1


def test_held_labels_give_the_label_bias_no_gradient():
    X, y = labelled_data()
    model = crbm.RBM(12, 5, n_labels=3, init="normal", random_state=0)
    options = dict(batch_size=20, labels=y, from_noise=True, k=3, clamp_labels=True)
    model.train(X, 0.05, 1, **options)  # sets the biases from the data first
    label_bias, label_weights = model.label_bias.copy(), model.label_weights.copy()
    model.train(X, 0.05, 2, **options)
    np.testing.assert_array_equal(model.label_bias, label_bias)
    assert np.abs(model.label_weights - label_weights).max() > 1e-3  # U still learns


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("label", [None, 1])
def test_generate_matches_the_reference(dtype, label):
    model = random_model(10, 6, 4, dtype)
    got = model.generate(30, n_steps=15, label=label, random_state=9)
    N, K = 10, 4
    mask = values = None
    if label is not None:
        mask = np.r_[np.zeros(N), np.ones(K)].astype(np.uint8)
        values = np.r_[np.zeros(N), np.eye(K)[label]].astype(dtype)
    joint = reference.generate(
        np.random.default_rng(9), model._W, model._visible_bias, model.hidden_bias, 30, 15,
        mask=mask, values=values, n_labels=K)
    np.testing.assert_array_equal(got, joint[:, :N])
    assert got.shape == (30, N) and got.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_label_strength_clamps_the_label_at_that_value(dtype):
    # The kernels see a clamp of the label units at s e_k: the reference's
    # draws with those values, and the model's default strength alike.
    model = random_model(10, 6, 4, dtype)
    got = model.generate(30, n_steps=15, label=1, label_strength=2.5, random_state=9)
    mask = np.r_[np.zeros(10), np.ones(4)].astype(np.uint8)
    values = np.r_[np.zeros(10), 2.5 * np.eye(4)[1]].astype(dtype)
    joint = reference.generate(
        np.random.default_rng(9), model._W, model._visible_bias, model.hidden_bias, 30, 15,
        mask=mask, values=values, n_labels=4)
    np.testing.assert_array_equal(got, joint[:, :10])
    model.label_strength = 2.5
    np.testing.assert_array_equal(model.generate(30, n_steps=15, label=1, random_state=9), got)
    np.testing.assert_array_equal(
        model.sampler(30, label=1, random_state=9).next(15), got)


def test_training_gives_the_same_bits_on_any_thread_count():
    X, y = labelled_data(n=300, N=40, K=4)
    results = []
    for threads in (1, 2):
        with crbm.num_threads(threads):
            model = crbm.RBM(40, 300, n_labels=4, init="normal", dtype=np.float32,
                             random_state=3)
            # the hybrid term splits its rows across threads above the policy's
            # parallel_min_work (2^20 operations): here 2.4e6
            model.train(X, 0.05, 2, batch_size=100, k=2, from_noise=True, labels=y,
                        clamp_labels=True, discriminative=2.0)
            results.append((model._W.copy(), model.generate(50, label=2, random_state=1)))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


# -- exact distributions ----------------------------------------------------


def test_exact_log_partition_and_free_energy_sum_the_joint():
    model = random_model(4, 3, 3)
    log_p = exact_joint(model)
    assert model.log_partition() == pytest.approx(logsumexp(log_p), rel=1e-12)
    V = all_states(4)
    for k in range(3):
        F = model.free_energy(model.join_labels(V, np.full(len(V), k)))
        np.testing.assert_allclose(-F, log_p[:, k], rtol=1e-12)


def test_predict_proba_is_the_exact_class_posterior():
    model = random_model(5, 4, 3, scale=1.5)
    log_p = exact_joint(model)
    V = all_states(5)
    np.testing.assert_allclose(model.predict_proba(V), softmax(log_p, axis=1), rtol=1e-10)
    np.testing.assert_array_equal(model.predict(V), log_p.argmax(axis=1))


@pytest.mark.parametrize("method", ["gibbs", "tempering"])
def test_generate_with_a_label_samples_the_class_conditional(method):
    model = random_model(3, 2, 3, scale=1.0)
    p = np.exp(exact_joint(model))
    conditional = p[:, 2] / p[:, 2].sum()
    samples = model.generate(20_000, n_steps=30, label=2, method=method, random_state=4,
                             **({"n_temperatures": 3} if method == "tempering" else {}))
    codes = (samples.astype(int) * (1 << np.arange(3))[::-1]).sum(axis=1)
    counts = np.bincount(codes, minlength=8)
    expected = conditional * len(samples)
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 24.3  # 7 degrees of freedom, p = 0.001


@pytest.mark.parametrize("method", ["gibbs", "tempering"])
def test_label_strength_samples_the_weighted_conditional(method):
    # p_s(v | k) is proportional to sum_h exp(-E(v, h) + s U_k . h): the
    # label's pull on the hidden units s times as strong.
    model = random_model(3, 2, 3, scale=1.0)
    s, k = 2.5, 2
    W, U, b, c = model.W, model.label_weights, model.visible_bias, model.hidden_bias
    V, H = all_states(3), all_states(2)
    log_p = np.array([logsumexp(v @ b + H @ c + H @ (v @ W + s * U[k])) for v in V])
    weighted = softmax(log_p)
    samples = model.generate(20_000, n_steps=30, label=k, label_strength=s, method=method,
                             random_state=4,
                             **({"n_temperatures": 3} if method == "tempering" else {}))
    codes = (samples.astype(int) * (1 << np.arange(3))[::-1]).sum(axis=1)
    counts = np.bincount(codes, minlength=8)
    expected = weighted * len(samples)
    assert ((counts - expected) ** 2 / expected).sum() < 24.3  # 7 d.o.f., p = 0.001
    # ... and not the plain conditional, which this model's weights move far from
    plain = softmax(exact_joint(model)[:, k]) * len(samples)
    assert ((counts - plain) ** 2 / plain).sum() > 100


def test_free_labels_sample_the_joint_distribution():
    model = random_model(3, 2, 2, scale=1.0)
    p = np.exp(exact_joint(model))
    marginal = p.sum(axis=1) / p.sum()
    samples = model.generate(20_000, n_steps=30, random_state=6)
    codes = (samples.astype(int) * (1 << np.arange(3))[::-1]).sum(axis=1)
    counts = np.bincount(codes, minlength=8)
    expected = marginal * len(samples)
    assert ((counts - expected) ** 2 / expected).sum() < 24.3


def test_clamped_units_and_the_label_never_change():
    model = random_model(10, 5, 3)
    sampler = model.sampler(20, label=[0, 1] * 10, clamp=(np.arange(10) < 4, np.ones(10)),
                            random_state=2)
    for _ in range(5):
        sampler.next(3)
        chains = sampler._chains
        np.testing.assert_array_equal(chains[:, :4], 1)
        np.testing.assert_array_equal(chains[:, 10:], np.eye(3)[[0, 1] * 10])


# -- learning ---------------------------------------------------------------


def test_a_trained_joint_model_classifies_and_generates_its_classes():
    X, y = labelled_data(n=3000, N=24, K=3)
    model = crbm.RBM(24, 16, n_labels=3, init="normal", random_state=0)
    model.train(X, 0.05, 10, batch_size=50, labels=y)
    X_test, y_test = labelled_data(n=500, N=24, K=3, seed=1)
    assert np.mean(model.predict(X_test) == y_test) > 0.95
    block = np.arange(24) * 3 // 24
    for d in range(3):
        samples = model.generate(300, n_steps=50, label=d, random_state=d)
        on = samples[:, block == d].mean()
        off = samples[:, block != d].mean()
        assert on > 0.7 and off < 0.3


# -- files, copies, repr ------------------------------------------------------


def version_of(path):
    return read_model_file(path, _files.FORMAT_NAME, _files.FORMAT_VERSION, _files._PARAMETERS,
                           _files._OPTIONAL)[2]


def test_files_pickles_and_copies_keep_the_label_units(tmp_path):
    model = random_model(6, 4, 3, dtype=np.float32)
    path = tmp_path / "m.npz"
    model.save(path)
    for other in (crbm.RBM.load(path), pickle.loads(pickle.dumps(model)),
                  model.copy(parameters_only=True)):
        assert other.n_labels == 3 and other.n_visible == 6
        np.testing.assert_array_equal(other._W, model._W)
        np.testing.assert_array_equal(other._visible_bias, model._visible_bias)
        np.testing.assert_array_equal(other.generate(5, label=1, random_state=0),
                                      model.generate(5, label=1, random_state=0))
    assert "n_labels=3" in repr(model)
    assert version_of(path) == 4
    model.label_strength = 1.5
    model.save(path)
    for other in (crbm.RBM.load(path), pickle.loads(pickle.dumps(model)),
                  model.copy(parameters_only=True), model.copy()):
        assert other.label_strength == 1.5
    crbm.RBM(6, 4).save(tmp_path / "plain.npz")
    assert version_of(tmp_path / "plain.npz") == 3  # readable by crbm before label units


def test_a_saved_sampler_with_a_label_continues(tmp_path):
    model = random_model(8, 4, 3)
    a = model.sampler(6, label=2, random_state=1)
    a.next(4)
    a.save(tmp_path / "s.npz")
    b = model.load_sampler(tmp_path / "s.npz")
    np.testing.assert_array_equal(a.next(5), b.next(5))


# -- errors -------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, error", [
    (dict(n_labels=1), ValueError),
    (dict(n_labels=-2), ValueError),
    (dict(n_labels=2.5), TypeError),
    (dict(n_labels=3, visible="gaussian"), ValueError),
])
def test_bad_label_units_are_refused(kwargs, error):
    with pytest.raises(error):
        crbm.RBM(6, 4, **kwargs)


@pytest.mark.parametrize("labels, error", [
    (None, ValueError),
    (np.zeros(5, int), ValueError),          # wrong length
    (np.full(400, 3), ValueError),           # out of range
    (np.full(400, -1), ValueError),
    (np.full(400, 0.5), TypeError),
    (np.zeros(400, bool), TypeError),
])
def test_bad_labels_change_nothing(labels, error):
    X, _ = labelled_data()
    model = crbm.RBM(12, 4, n_labels=3, init="normal", random_state=0)
    before = model._W.copy(), model.random_state.bit_generator.state
    with pytest.raises(error):
        model.train(X, 0.05, 1, batch_size=10, labels=labels)
    np.testing.assert_array_equal(model._W, before[0])
    assert model.random_state.bit_generator.state == before[1]


def test_files_without_a_label_strength_load_at_one(tmp_path):
    # Version-4 files written before label_strength existed.
    model = random_model(6, 4, 3)
    model.label_strength = 2.0
    meta, arrays = _files.model_record(model)
    del meta["label_strength"]
    write_model_file(tmp_path / "old.npz", meta, arrays)
    assert crbm.RBM.load(tmp_path / "old.npz").label_strength == 1.0
    meta["label_strength"] = "strong"
    write_model_file(tmp_path / "bad.npz", meta, arrays)
    with pytest.raises(ModelFileError, match="label_strength"):
        crbm.RBM.load(tmp_path / "bad.npz")


@pytest.mark.parametrize("strength, error", [
    (0, ValueError), (-1.0, ValueError), (np.inf, ValueError), (np.nan, ValueError),
    ("2", TypeError), (True, TypeError), (None, TypeError)])
def test_bad_label_strengths_change_nothing(strength, error):
    model = random_model(6, 4, 3)
    before = model.random_state.bit_generator.state
    with pytest.raises(error, match="label_strength"):
        model.label_strength = strength
    if strength is not None:
        with pytest.raises(error, match="label_strength"):
            model.generate(3, label=1, label_strength=strength)
        with pytest.raises(error, match="label_strength"):
            model.sampler(3, label=1, label_strength=strength)
        with pytest.raises(error, match="label_strength"):
            crbm.RBM(6, 4, n_labels=3, label_strength=strength)
    assert model.label_strength == 1.0
    assert model.random_state.bit_generator.state == before


def test_label_strength_needs_a_label_and_label_units():
    with pytest.raises(ValueError, match="needs label="):
        random_model(6, 4, 3).generate(3, label_strength=2.0)
    plain = crbm.RBM(6, 4)
    for call in (lambda: plain.generate(3, label_strength=2.0),
                 lambda: crbm.RBM(6, 4, label_strength=2.0)):
        with pytest.raises(ValueError, match="label units"):
            call()
    with pytest.raises(ValueError, match="label units"):
        plain.label_strength = 2.0
    plain.label_strength = 1.0  # what it is: allowed


def test_label_arguments_need_label_units():
    X, y = labelled_data()
    plain = crbm.RBM(12, 4, random_state=0)
    with pytest.raises(ValueError, match="label units"):
        plain.train(X, labels=y)
    with pytest.raises(ValueError, match="label units"):
        plain.generate(3, label=1)
    with pytest.raises(ValueError, match="label units"):
        plain.predict(X)
    model = crbm.RBM(12, 4, n_labels=3, random_state=0)
    for bad in (3, -1, [0, 1]):
        with pytest.raises(ValueError):
            model.generate(3, label=bad)
    with pytest.raises(ValueError, match="label units"):
        plain.train(X, clamp_labels=True)
    with pytest.raises(ValueError, match="label units"):
        plain.train(X, discriminative=1.0)
    with pytest.raises(ValueError, match="centering"):
        model.train(X, labels=y, batch_size=10, discriminative=1.0, centering=True)
    with pytest.raises(ValueError, match="discriminative"):
        model.train(X, labels=y, batch_size=10, discriminative=-1.0)
    for what in (lambda: model.log_partition(method="ais"),
                 lambda: model.pseudo_likelihood(model.join_labels(X, y)),
                 lambda: model.train(X, labels=y, validation=X)):
        with pytest.raises(ValueError, match="label units"):
            what()

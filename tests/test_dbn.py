"""Deep belief networks (crbm.DBN): greedy training equal to RBMs trained one
by one, the generative distribution of a stack small enough to enumerate,
features, prediction, files and errors."""
import itertools
import pickle

import numpy as np
import pytest
from scipy.special import expit, logsumexp

import crbm
from crbm.io.persist import ModelFileError


def data(n=300, N=12, K=3, seed=0):
    """Rows of K noisy prototypes and their classes."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, n)
    block = np.arange(N) * K // N
    X = (rng.random((n, N)) < np.where(block[None, :] == y[:, None], 0.85, 0.1)).astype(np.uint8)
    return X, y


SETTINGS = [dict(batch_size=10, learning_rate=0.05, epochs=2),
            dict(batch_size=20, k=2, persistent=True, epochs=3),
            dict(batch_size=10, epochs=2, from_noise=True, k=3, clamp_labels=True)]


@pytest.mark.parametrize("inputs", ["probabilities", "states"])
def test_layers_equal_rbms_trained_one_by_one(inputs):
    X, y = data()
    dbn = crbm.DBN([12, 8, 6, 5], n_labels=3, random_state=7).train(
        X, y, layers=SETTINGS, inputs=inputs)
    generators = np.random.default_rng(7).spawn(3)
    rbms = [crbm.RBM(12, 8, init="normal", random_state=generators[0]),
            crbm.RBM(8, 6, init="normal", random_state=generators[1]),
            crbm.RBM(6, 5, init="normal", random_state=generators[2], n_labels=3)]
    rows = X
    for i, rbm in enumerate(rbms):
        rbm.train(rows, labels=y if i == 2 else None, **SETTINGS[i])
        if i < 2:
            rows = (rbm.sample_hidden(rows) if inputs == "states"
                    else rbm.hidden_probabilities(rows))
    for got, want in zip(dbn.rbms, rbms):
        np.testing.assert_array_equal(got._W, want._W)
        np.testing.assert_array_equal(got._visible_bias, want._visible_bias)
        np.testing.assert_array_equal(got.hidden_bias, want.hidden_bias)
    assert dbn.rbms[2].sampling_steps == 3 and dbn.layer_sizes == [12, 8, 6, 5]


def random_dbn(sizes, n_labels=0, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    dbn = crbm.DBN(sizes, n_labels=n_labels, random_state=seed)
    for rbm in dbn.rbms:
        rbm.W = rng.normal(0, scale, rbm.W.shape)
        rbm.visible_bias = rng.normal(0, 0.5, rbm.n_visible)
        rbm.hidden_bias = rng.normal(0, 0.5, rbm.n_hidden)
        if rbm.n_labels:
            rbm.label_weights = rng.normal(0, scale, rbm.label_weights.shape)
            rbm.label_bias = rng.normal(0, 0.5, rbm.n_labels)
    return dbn


def all_states(n):
    return np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.float64)


def test_generate_samples_the_stack_distribution():
    """p(v) = sum_h1 p_top(h1) p(v | h1), the top RBM's marginal enumerated."""
    dbn = random_dbn([4, 3, 3], seed=2, scale=1.5)
    bottom, top = dbn.rbms
    H1, H2 = all_states(3), all_states(3)
    log_top = np.array([logsumexp(h1 @ top.visible_bias + H2 @ top.hidden_bias
                                  + H2 @ (h1 @ top.W)) for h1 in H1])
    p_top = np.exp(log_top - logsumexp(log_top))
    V = all_states(4)
    means = expit(H1 @ bottom.W.T + bottom.visible_bias)          # p(v_i = 1 | h1)
    p_v = np.array([(p_top * np.prod(np.where(v == 1, means, 1 - means), axis=1)).sum()
                    for v in V])
    samples = dbn.generate(20_000, n_steps=30, down="states", random_state=3)
    index = samples.astype(int) @ (1 << np.arange(3, -1, -1))
    counts = np.bincount(index, minlength=16)
    expected = len(samples) * p_v
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 37.7  # 15 degrees of freedom, p = 0.001


def test_generate_is_the_top_sampler_then_the_pass_down():
    dbn = random_dbn([10, 6, 5], n_labels=3, seed=4)
    got = dbn.generate(7, label=2, n_steps=9, random_state=11)
    rng = np.random.default_rng(11)
    top = dbn.rbms[1].generate(7, label=2, n_steps=9, random_state=rng)
    want = dbn.rbms[0].sample_visible(top, random_state=rng)
    np.testing.assert_array_equal(got, want)
    means = dbn.generate(7, label=2, n_steps=9, random_state=11, return_probabilities=True)
    np.testing.assert_allclose(means, dbn.rbms[0].visible_means(top))
    tempered = dbn.generate(3, method="tempering", n_temperatures=4, n_steps=6, random_state=1)
    assert tempered.shape == (3, 10) and set(np.unique(tempered)) <= {0.0, 1.0}
    assert dbn.generate(label=0, n_steps=2).shape == (10,)


def test_transform_and_predict_through_the_stack():
    dbn = random_dbn([8, 5, 4], n_labels=3, seed=5, scale=0.7)
    X, _ = data(n=20, N=8)
    below = dbn.rbms[0].hidden_probabilities(X)
    np.testing.assert_allclose(dbn.transform(X, layer=1), below)
    np.testing.assert_allclose(dbn.transform(X, layer=-2), below)
    top = dbn.rbms[1]
    posterior = top.predict_proba(below)
    np.testing.assert_allclose(dbn.predict_proba(X), posterior)
    np.testing.assert_array_equal(dbn.predict(X), posterior.argmax(axis=1))
    # The top features sum the label out: E[h | x] = sum_k p(k | x) p(h | x, k).
    joint = [top.hidden_probabilities(top.join_labels(below, np.full(len(X), k)))
             for k in range(3)]
    want = sum(posterior[:, [k]] * joint[k] for k in range(3))
    np.testing.assert_allclose(dbn.transform(X), want, rtol=1e-10)


def test_files_pickles_and_copies_keep_the_stack(tmp_path):
    X, y = data()
    dbn = crbm.DBN([12, 7, 5], n_labels=3, dtype=np.float32, random_state=1).train(
        X, y, layers={"batch_size": 25, "persistent": True}, epochs=1)
    dbn.save(tmp_path / "dbn.npz")
    for other in (crbm.DBN.load(tmp_path / "dbn.npz"), pickle.loads(pickle.dumps(dbn)),
                  dbn.copy()):
        assert other.layer_sizes == dbn.layer_sizes and other.n_labels == 3
        for a, b in zip(other.rbms, dbn.rbms):
            np.testing.assert_array_equal(a._W, b._W)
            np.testing.assert_array_equal(a.training_state["chains"], b.training_state["chains"])
            assert a.dtype == np.float32
        np.testing.assert_array_equal(other.generate(5, label=1, random_state=2),
                                      dbn.generate(5, label=1, random_state=2))
    with pytest.raises(ModelFileError):
        crbm.RBM.load(tmp_path / "dbn.npz")          # a stack is not one RBM
    dbn.rbms[0].save(tmp_path / "rbm.npz")
    with pytest.raises(ModelFileError):
        crbm.DBN.load(tmp_path / "rbm.npz")


def test_bad_arguments_change_nothing():
    X, y = data()
    dbn = crbm.DBN([12, 6, 4], n_labels=3, random_state=0)
    before = [r._W.copy() for r in dbn.rbms]
    bad = [
        (dict(labels=None), ValueError),
        (dict(labels=y[:5]), ValueError),
        (dict(labels=y, layers={"learning_rat": 0.1}), ValueError),
        (dict(labels=y, layers=[{}]), ValueError),
        (dict(labels=y, layers="fast"), TypeError),
        (dict(labels=y, inputs="means"), ValueError),
        (dict(labels=y, epochs=0), ValueError),
        # found only when the top layer would train: nothing trains before it
        (dict(labels=y, layers=[{}, {"learning_rate": -1.0}]), ValueError),
        (dict(labels=y, layers=[{}, {"persistent": True, "from_noise": True}]), ValueError),
    ]
    for kwargs, error in bad:
        with pytest.raises(error):
            dbn.train(X, **kwargs)
    with pytest.raises(ValueError):
        dbn.train(X[:, :5], y)
    for rbm, W in zip(dbn.rbms, before):
        np.testing.assert_array_equal(rbm._W, W)
    plain = crbm.DBN([12, 6], random_state=0)
    with pytest.raises(ValueError, match="label units"):
        plain.train(X, y)
    with pytest.raises(ValueError, match="label units"):
        plain.predict(X)
    with pytest.raises(ValueError):
        plain.transform(X, layer=0)
    with pytest.raises(TypeError):
        dbn.generate(3, init=X[:3])
    for sizes, error in (([12], ValueError), ("12,6", TypeError), ([12, 0], ValueError)):
        with pytest.raises(error):
            crbm.DBN(sizes)
    with pytest.raises(ValueError, match="visible units"):
        crbm.DBN.from_rbms([crbm.RBM(12, 6), crbm.RBM(5, 3)])

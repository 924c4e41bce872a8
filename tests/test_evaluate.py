"""Evaluation: free energy, partition function (exact and AIS), likelihoods."""
import numpy as np
import pytest
from scipy.special import logsumexp

import crbm
from crbm import evaluate


def states(n):
    return ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(np.float64)


def random_model(n_visible, n_hidden, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    model = crbm.RBM(n_visible, n_hidden)
    model.W = rng.normal(0, scale, (n_visible, n_hidden))
    model.visible_bias = rng.normal(0, 1, n_visible)
    model.hidden_bias = rng.normal(0, 1, n_hidden)
    return model


def brute_force_log_joint(model):
    """log p*(v, h) = -E(v, h) over all (v, h): rows index v, columns h."""
    V, H = states(model.n_visible), states(model.n_hidden)
    return V @ model.W @ H.T + (V @ model.visible_bias)[:, None] + H @ model.hidden_bias


@pytest.mark.parametrize("shape", [(5, 3), (3, 6)])  # enumerate hidden / visible
def test_exact_log_partition_and_free_energy_match_brute_force(shape):
    model = random_model(*shape)
    log_joint = brute_force_log_joint(model)
    assert model.log_partition() == pytest.approx(logsumexp(log_joint), abs=1e-10)
    V = states(shape[0])
    np.testing.assert_allclose(-model.free_energy(V), logsumexp(log_joint, axis=1), atol=1e-10)
    log_p = logsumexp(log_joint, axis=1) - logsumexp(log_joint)
    assert model.log_likelihood(V[[1, 4]], method="exact") == pytest.approx(log_p[[1, 4]].mean())
    assert model.free_energy(V[2]) == pytest.approx(-logsumexp(log_joint[2]))


def test_exact_log_partition_refuses_large_layers():
    with pytest.raises(ValueError, match="ais"):
        crbm.RBM(30, 26).log_partition()


@pytest.fixture(scope="module")
def mnist_model(mnist_dir):
    images, _ = crbm.load_mnist(mnist_dir, split="t10k")
    data = crbm.binarize(images[:2000])
    model = crbm.RBM(784, 15, init="normal", random_state=0)
    model.train(data, 0.05, 10, batch_size=20)
    return model, data


def test_ais_agrees_with_exact_log_partition(mnist_model):
    model, data = mnist_model
    exact = model.log_partition("exact")
    estimate, (low, high) = model.log_partition(
        "ais", n_runs=100, n_betas=3000, base_rate=data.mean(axis=0), random_state=0,
        return_interval=True)
    assert abs(estimate - exact) < 0.5
    assert low <= estimate <= high and high - low < 2
    # Reproducible from the seed.
    assert model.log_partition("ais", n_runs=100, n_betas=3000, base_rate=data.mean(axis=0),
                               random_state=0) == estimate


def test_ais_schedule_runs_from_zero_to_one():
    for n in (4, 5, 29, 10000):
        betas = evaluate.ais_betas(n)
        assert len(betas) == n and betas[0] == 0 and betas[-1] == 1
        assert np.all(np.diff(betas) > 0)


def test_ais_agrees_with_exact_on_a_random_model():
    model = random_model(12, 8, scale=0.5, seed=3)
    exact = model.log_partition("exact")
    estimate = model.log_partition("ais", n_runs=200, n_betas=2000, random_state=1)
    assert abs(estimate - exact) < 0.5


def test_trained_model_is_more_likely_than_untrained(mnist_model):
    model, data = mnist_model
    held_out = data[1500:]
    untrained = crbm.RBM(784, 15)
    assert untrained.log_likelihood(held_out, method="exact") == pytest.approx(-784 * np.log(2))
    assert model.log_likelihood(held_out, method="exact") > -784 * np.log(2) + 300


def test_reconstruction_error_formula_and_training(mnist_model):
    model, data = mnist_model
    V = data[:50].astype(float)
    sig = lambda x: 1 / (1 + np.exp(-x))
    expected = np.mean((V - sig(sig(V @ model.W + model.hidden_bias) @ model.W.T
                                + model.visible_bias)) ** 2)
    assert model.reconstruction_error(V) == pytest.approx(expected)
    assert crbm.RBM(784, 15).reconstruction_error(V) == pytest.approx(0.25)
    assert model.reconstruction_error(V) < 0.12


def test_pseudo_likelihood_is_seedable_and_rewards_training(mnist_model):
    model, data = mnist_model
    a = model.pseudo_likelihood(data[:500], random_state=4)
    assert a == model.pseudo_likelihood(data[:500], random_state=4)
    assert a != model.pseudo_likelihood(data[:500], random_state=5)
    assert crbm.RBM(784, 15).pseudo_likelihood(data[:500], random_state=4) == pytest.approx(np.log(0.5))
    assert a > np.log(0.5) + 0.3
    with pytest.raises(ValueError, match="binary"):
        model.pseudo_likelihood(np.full((2, 784), 0.5))


def test_evaluation_validates_input_and_never_changes_the_model(mnist_model):
    model, _ = mnist_model
    W = model.W.copy()
    with pytest.raises(ValueError):
        model.free_energy(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="method"):
        model.log_partition("magic")
    with pytest.raises(ValueError, match="base_rate"):
        model.log_partition("ais", base_rate=np.full(3, 0.5), n_betas=10)
    with pytest.raises(ValueError, match="base_rate"):
        model.log_partition("ais", base_rate=np.full(784, np.nan), n_betas=10)
    with pytest.raises(ValueError, match="n_betas"):
        model.log_partition("ais", n_betas=3)
    with pytest.raises(ValueError, match="binary"):
        model.log_likelihood(np.full((2, 784), 0.5), method="exact")
    assert np.array_equal(model.W, W)

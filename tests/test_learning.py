"""Training really learns: exact likelihood on bars-and-stripes, MNIST reconstruction."""
import numpy as np
import pytest
from scipy.special import logsumexp

import crbm
from crbm.synthetic import bars_and_stripes

PATTERNS = bars_and_stripes(3).astype(np.float64)  # 14 patterns of 9 pixels
# The best any model can do is the uniform distribution over the 14 patterns.
OPTIMUM = -np.log(len(PATTERNS))


def exact_log_likelihood(model, V):
    """Mean log p(v) over rows of V, enumerating all 2**n_hidden hidden states."""
    M = model.n_hidden
    H = ((np.arange(2**M)[:, None] >> np.arange(M)) & 1).astype(np.float64)
    log_z = logsumexp(H @ model.hidden_bias
                      + np.logaddexp(0, H @ model.W.T + model.visible_bias).sum(axis=1))
    free_energy = -(V @ model.visible_bias) - np.logaddexp(0, V @ model.W + model.hidden_bias).sum(axis=1)
    return np.mean(-free_energy) - log_z


def test_exact_log_likelihood_helper_is_right_on_a_tiny_model():
    # Cross-check the hidden-layer enumeration against brute force over (v, h).
    rng = np.random.default_rng(0)
    model = crbm.RBM(3, 2)
    model.W, model.visible_bias, model.hidden_bias = rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=2)
    states = lambda n: ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(float)
    Vs, Hs = states(3), states(2)
    energy = -(Vs @ model.W @ Hs.T) - (Vs @ model.visible_bias)[:, None] - Hs @ model.hidden_bias
    log_p = logsumexp(-energy, axis=1) - logsumexp(-energy)
    assert exact_log_likelihood(model, Vs[[5]]) == pytest.approx(log_p[5], abs=1e-12)


@pytest.mark.parametrize("init", ["zeros", "normal"])
def test_reference_cd1_raises_exact_likelihood_on_bars_and_stripes(init):
    model = crbm.RBM(9, 8, init=init, random_state=0)
    before = exact_log_likelihood(model, PATTERNS)
    model.train(PATTERNS, learning_rate=0.05, epochs=1000)
    after = exact_log_likelihood(model, PATTERNS)
    assert before == pytest.approx(-9 * np.log(2), abs=0.01)
    assert after > before + 1.5


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_minibatch_cdk_raises_exact_likelihood_on_bars_and_stripes(dtype):
    model = crbm.RBM(9, 8, init="normal", dtype=dtype, random_state=0)
    before = exact_log_likelihood(model, PATTERNS)
    model.train(PATTERNS, learning_rate=0.2, epochs=5000, batch_size=7, k=5)
    after = exact_log_likelihood(model, PATTERNS)
    assert after > before + 2.5
    assert after > OPTIMUM - 0.6


@pytest.fixture(scope="module")
def mnist_2000(mnist_dir):
    images, _ = crbm.load_mnist(mnist_dir, split="t10k")
    return crbm.binarize(images[:2000])


def reconstruction_error(model, X):
    return np.mean((X - model.visible_probabilities(model.hidden_probabilities(X))) ** 2)


@pytest.mark.parametrize("batch_size,learning_rate,epochs", [(1, 0.01, 1), (20, 0.1, 5)])
def test_training_on_mnist_lowers_reconstruction_error(mnist_2000, batch_size, learning_rate, epochs):
    model = crbm.RBM(784, 100, init="normal", random_state=0)
    untrained = reconstruction_error(model, mnist_2000)
    model.train(mnist_2000, learning_rate, epochs, batch_size=batch_size)
    trained = reconstruction_error(model, mnist_2000)
    assert untrained > 0.2
    assert trained < 0.3 * untrained

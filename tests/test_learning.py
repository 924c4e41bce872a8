"""Training really learns: exact likelihood on bars-and-stripes, MNIST reconstruction."""
import numpy as np
import pytest

import crbm
from crbm.synthetic import bars_and_stripes

PATTERNS = bars_and_stripes(3).astype(np.float64)  # 14 patterns of 9 pixels
# The best any model can do is the uniform distribution over the 14 patterns.
OPTIMUM = -np.log(len(PATTERNS))


def exact_log_likelihood(model, V):
    return model.log_likelihood(V, method="exact")


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

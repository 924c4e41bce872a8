"""Uniform streams, Bernoulli sampling and the stable sigmoid."""
import numpy as np
import pytest

from crbm import reference
from crbm._core import _random
from crbm._core._loops import conditional_means


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_uniforms_are_numpys_stream(dtype):
    out = np.empty(1001, dtype=dtype)
    _random.uniform_memview(np.random.default_rng(42), out)
    expected = np.random.default_rng(42).random(1001, dtype=dtype)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bernoulli_matches_reference_draws(dtype):
    p = np.random.default_rng(0).random(500).astype(dtype)
    out = np.empty_like(p)
    _random.bernoulli_memview(np.random.default_rng(7), p, out)
    np.testing.assert_array_equal(out, reference.bernoulli(np.random.default_rng(7), p))
    assert set(np.unique(out)) <= {0.0, 1.0}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bernoulli_frequencies(dtype):
    # Each p drawn n times: the count is Binomial(n, p); allow 5 sigma.
    n = 20000
    probs = np.array([0.0, 0.01, 0.25, 0.5, 0.9, 1.0], dtype=dtype)
    p = np.repeat(probs, n)
    out = np.empty_like(p)
    _random.bernoulli_memview(np.random.default_rng(123), p, out)
    counts = out.reshape(len(probs), n).sum(axis=1)
    expected = n * probs.astype(float)
    sigma = np.sqrt(n * probs * (1 - probs))
    assert counts[0] == 0 and counts[-1] == n
    assert np.all(np.abs(counts - expected) <= 5 * sigma + 1e-9)


def test_same_seed_same_draws_other_seed_differs():
    p = np.full(256, 0.5)
    a, b, c = np.empty_like(p), np.empty_like(p), np.empty_like(p)
    _random.bernoulli_memview(np.random.default_rng(5), p, a)
    _random.bernoulli_memview(np.random.default_rng(5), p, b)
    _random.bernoulli_memview(np.random.default_rng(6), p, c)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stream_uniforms_are_uniform_and_uncorrelated(dtype):
    u = reference.stream_uniforms(12345, 200_000, dtype).astype(np.float64)
    assert u.min() >= 0 and u.max() < 1
    # Mean and variance of U(0, 1) within 5 standard errors.
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / u.size)
    assert abs(u.var() - 1 / 12) < 5 * np.sqrt(1 / 180 / u.size)
    # Chi-square over 100 equal bins: 99 degrees of freedom, p ~ 1e-6 cut-off.
    counts = np.bincount((u * 100).astype(int), minlength=100)
    assert np.sum((counts - u.size / 100) ** 2 / (u.size / 100)) < 170
    # Neighbours and neighbouring keys are uncorrelated.
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 5 / np.sqrt(u.size)
    other = reference.stream_uniforms(12346, 200_000, dtype)
    assert abs(np.corrcoef(u, other)[0, 1]) < 5 / np.sqrt(u.size)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stream_ranges_split_anywhere(dtype):
    # Element i depends only on (key, i): computing a stream in pieces, as
    # threads or SIMD lanes do, gives the same draws as computing it whole.
    p = np.random.default_rng(0).random(1003).astype(dtype)
    whole, parts = np.empty_like(p), np.empty_like(p)
    _random.bernoulli_stream_memview(99, 0, p, whole)
    for start, stop in [(0, 5), (5, 512), (512, 1003)]:
        piece = np.empty(stop - start, dtype)
        _random.bernoulli_stream_memview(99, start, p[start:stop], piece)
        parts[start:stop] = piece
    np.testing.assert_array_equal(whole, parts)
    u = reference.stream_uniforms(99, p.size, dtype)
    np.testing.assert_array_equal(whole, (u < p).astype(dtype))


def test_wrong_generator_type():
    with pytest.raises(TypeError, match="Generator"):
        _random.uniform_memview(np.random.RandomState(0), np.empty(3))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_stable_and_accurate(dtype):
    # Through hidden_probabilities with W = 1 and c = 0, p = sigmoid(x).
    x = np.concatenate([np.linspace(-1e4, 1e4, 2001), [-745.0, -88.0, -30.0, 0.0, 30.0]])
    X = x.reshape(-1, 1).astype(dtype)
    p = conditional_means(X, np.ones((1, 1), dtype), np.zeros(1, dtype), np.zeros(1, dtype),
                          np.empty(0, dtype), 0, True)[:, 0]
    assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1))
    assert p[x == 1e4][0] == 1 and p[x == -1e4][0] == 0
    assert p[x == 0][0] == 0.5
    exact = 1 / (1 + np.exp(-np.longdouble(x)))
    rel = np.abs(p - exact) / np.maximum(exact, np.finfo(dtype).tiny)
    assert np.max(rel[exact > np.finfo(dtype).tiny]) < 8 * np.finfo(dtype).eps
    # Results below the smallest normal number are flushed to zero.
    np.testing.assert_allclose(reference.sigmoid(X[:, 0]), p, rtol=8 * np.finfo(dtype).eps,
                               atol=np.finfo(dtype).tiny)

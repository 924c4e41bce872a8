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


def splitmix64(key: int, i: int) -> int:
    """SplitMix64 output i of seed ``key`` (Steele, Lea & Flood 2014), in Python ints."""
    mask = (1 << 64) - 1
    z = (key + (i + 1) * 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def test_streams_are_splitmix64():
    # The published first output of SplitMix64 seeded with 0.
    assert splitmix64(0, 0) == 0xE220A8397B1DCDAF
    for key in (0, 1, 2**63 + 12345, 2**64 - 1):
        raw = [splitmix64(key, i) for i in range(50)]
        np.testing.assert_array_equal(_random.stream_uniforms(key, 0, 50, np.float64),
                                      [(z >> 12) * 2.0**-52 for z in raw])
        np.testing.assert_array_equal(_random.stream_uniforms(key, 0, 50, np.float32),
                                      np.array([(z >> 40) * 2.0**-24 for z in raw], np.float32))
        np.testing.assert_array_equal(_random.stream_uniforms(key, 20, 30, np.float64),
                                      [(z >> 12) * 2.0**-52 for z in raw[20:]])
    # The finaliser alone, as crbm.sklearn hashes rows with it.
    values = np.array([0, 1, 2**40 + 7, 2**64 - 1], dtype=np.uint64)
    golden = 0x9E3779B97F4A7C15
    expected = [splitmix64((int(v) - golden) % 2**64, 0) for v in values]
    np.testing.assert_array_equal(_random.mix64_array(values), np.array(expected, np.uint64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stream_normals_are_box_muller_of_the_uniforms(dtype):
    z = _random.stream_normals(777, 3, 20000, dtype)
    if dtype == np.float64:
        u = _random.stream_uniforms(777, 6, 40000, dtype).astype(np.float64)
        u1, u2 = u[0::2], u[1::2]
    else:  # two 24-bit fields of one SplitMix64 output each
        raw = [splitmix64(777, i) for i in range(3, 20003)]
        u1 = np.array([(r >> 40) * 2.0**-24 for r in raw])
        u2 = np.array([((r >> 16) & 0xFFFFFF) * 2.0**-24 for r in raw])
    exact = np.sqrt(-2 * np.log1p(-u1)) * np.cos(2 * np.pi * u2)
    # crbm's own log and cos, in the dtype's precision: a few ulps of |z| <= 9.
    assert np.max(np.abs(z - exact)) < 16 * np.finfo(dtype).eps * 4
    np.testing.assert_allclose(reference.stream_normals(777, 20000, dtype, offset=3), z,
                               rtol=0, atol=16 * np.finfo(dtype).eps * 4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stream_normals_are_standard_normal_and_split_anywhere(dtype):
    from scipy import stats
    z = _random.stream_normals(4242, 0, 200_000, dtype).astype(np.float64)
    assert abs(z.mean()) < 5 / np.sqrt(z.size)
    assert abs(z.var() - 1) < 5 * np.sqrt(2 / z.size)
    assert stats.kstest(z, "norm").pvalue > 1e-4
    assert abs(np.corrcoef(z[:-1], z[1:])[0, 1]) < 5 / np.sqrt(z.size)
    parts = np.concatenate([_random.stream_normals(4242, start, stop - start, dtype)
                            for start, stop in [(0, 7), (7, 1000), (1000, 200_000)]])
    np.testing.assert_array_equal(parts, z.astype(dtype))

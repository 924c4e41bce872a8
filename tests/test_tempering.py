"""Parallel tempering: the kernel against crbm.reference draw for draw, the
distributions it samples against exact ones, the ladder, the arguments."""
import itertools

import numpy as np
import pytest

import crbm
from crbm import reference
from crbm._core import _loops
from crbm.models.tempering import Tempering, adapted_betas, initial_betas

from _models import small_model


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("gaussian", [False, True])
@pytest.mark.parametrize("clamped", [False, True])
def test_kernel_equals_reference(dtype, gaussian, clamped):
    rng = np.random.default_rng(0)
    N, M, R, n = 13, 7, 4, 5
    W, b, c, log_var = small_model(rng, N, M, dtype, gaussian)
    V0 = (rng.random((R, n, N)) < 0.5).astype(dtype)
    mask = values = None
    if clamped:
        mask = (rng.random((n, N)) < 0.3).astype(np.uint8)
        values = (rng.random((n, N)) < 0.5).astype(dtype)
        V0 = np.where(mask != 0, values, V0).astype(dtype)
    betas = np.array([1.0, 0.7, 0.4, 0.2])
    expected, parity, accepted, attempted = reference.tempering_sweeps(
        np.random.default_rng(5), V0, W, b, c, betas, 7, 1, log_var=log_var, mask=mask,
        values=values)
    V, acc, att = V0.copy(), np.zeros(R - 1, np.int64), np.zeros(R - 1, np.int64)
    got_parity = _loops.tempering_chains(
        np.random.default_rng(5), V, W, b, c, np.empty(0, dtype) if log_var is None else log_var,
        int(gaussian), 7, betas, 1, acc, att, mask, values)
    tol = 0 if not gaussian else (1e-12 if dtype == np.float64 else 1e-5)
    np.testing.assert_allclose(V, expected, rtol=tol, atol=tol)
    assert got_parity == parity == 0
    np.testing.assert_array_equal(acc, accepted)
    np.testing.assert_array_equal(att, attempted)
    assert att.tolist() == [3 * n, 4 * n, 3 * n]  # the odd pair first, then the even ones, ...
    assert 0 < acc.sum() < att.sum()
    if clamped:
        held = np.broadcast_to(mask != 0, V.shape)
        np.testing.assert_array_equal(V[held], np.broadcast_to(values, V.shape)[held])


def enumerate_tempered(W, b, c, beta):
    """Exact p_beta(v) = sum_h exp(-beta E(v, h)) / Z_beta over all 0/1 v."""
    N = len(b)
    states = np.array(list(itertools.product([0, 1], repeat=N)), float)
    log_p = beta * states @ b + np.logaddexp(0, beta * (states @ W + c)).sum(axis=1)
    return np.exp(log_p - np.logaddexp.reduce(log_p))


def histogram(V):
    N = V.shape[-1]
    index = (V.reshape(-1, N) @ (2 ** np.arange(N)[::-1])).astype(int)
    return np.bincount(index, minlength=2 ** N) / len(index)


def test_every_replica_samples_its_tempered_distribution():
    # Detailed balance of the sweeps and the swaps: after many sweeps, the
    # states of each block are draws of that block's exact p_beta(v).
    rng = np.random.default_rng(1)
    N, M = 5, 3
    W = rng.normal(size=(N, M)) * 2
    b, c = rng.normal(size=N), rng.normal(size=M)
    rbm = crbm.RBM.from_parameters(W, b, c, random_state=2)
    betas = np.array([1.0, 0.6, 0.3, 0.0])
    n = 6000
    replicas = (np.random.default_rng(3).random((4, n, N)) < 0.5).astype(np.float64)
    ladder = Tempering(rbm, np.random.default_rng(4), replicas, betas, None, None, 0)
    ladder.run(40, 40)
    for r, beta in enumerate(betas):
        p = enumerate_tempered(W, b, c, beta)
        counts = histogram(ladder.replicas[r]) * n
        chi2 = ((counts - n * p) ** 2 / (n * p)).sum()
        assert chi2 < 2 ** N + 5 * np.sqrt(2 * 2 ** N), (r, chi2)  # ~ chi2(31) + 5 sd
    assert np.all(ladder.swap_rates > 0.2)


def bimodal_model():
    # Two modes, v mostly 0 (with h = 0) and mostly 1 (h = 1), with a barrier
    # between them that a Gibbs chain crosses about once in 10^4 sweeps; the
    # mostly-1 mode has e^2 times the weight of the other.
    N, w = 10, 6.0
    return crbm.RBM.from_parameters(np.full((N, 1), w), np.full(N, -w / 2),
                                    np.array([-N * w / 2 + 2]), random_state=0)


def test_tempering_weighs_modes_that_gibbs_cannot_cross():
    rbm = bimodal_model()
    N = rbm.n_visible
    exact = enumerate_tempered(rbm.W, rbm.visible_bias, rbm.hidden_bias, 1.0)
    states = np.array(list(itertools.product([0, 1], repeat=N)))
    high_exact = exact[states.sum(axis=1) > N / 2].sum()
    assert high_exact == pytest.approx(0.881, abs=1e-3)
    kw = dict(n_steps=200, random_state=5)
    high = lambda S: np.mean(S.sum(axis=1) > N / 2)
    # Gibbs keeps each chain in the mode its random start fell into...
    assert high(rbm.generate(2000, **kw)) < high_exact - 0.2
    # ...tempering moves chains between modes (binomial sd 0.007).
    tempered = rbm.generate(2000, method="tempering", n_temperatures=8, **kw)
    assert abs(high(tempered) - high_exact) < 0.025


def test_clamped_tempering_samples_the_conditional():
    rng = np.random.default_rng(7)
    N, M = 5, 3
    W, b, c = rng.normal(size=(N, M)) * 2, rng.normal(size=N), rng.normal(size=M)
    rbm = crbm.RBM.from_parameters(W, b, c, random_state=1)
    mask = np.array([True, False, True, False, False])
    values = np.array([1.0, 0, 0, 0, 0])
    S = rbm.generate(6000, n_steps=30, clamp=(mask, values), method="tempering",
                     n_temperatures=4, random_state=2)
    assert np.all(S[:, 0] == 1) and np.all(S[:, 2] == 0)
    p = enumerate_tempered(W, b, c, 1.0)
    states = np.array(list(itertools.product([0, 1], repeat=N)))
    keep = (states[:, 0] == 1) & (states[:, 2] == 0)
    conditional = np.where(keep, p, 0) / p[keep].sum()
    q = histogram(S)
    assert 0.5 * np.abs(q - conditional).sum() < 0.03


def test_adaptation_evens_the_swap_rates():
    rbm = bimodal_model()
    sampler = rbm.sampler(500, method="tempering", n_temperatures=8, adapt_steps=300,
                          random_state=3)
    sampler.next(300)
    sampler.next(200)
    rates = sampler.swap_rates
    assert np.all(np.isfinite(rates)) and rates.min() > 0.3
    assert rates.max() - rates.min() < 0.25, rates
    betas = sampler.betas
    assert betas[0] == 1 and betas[-1] == 0 and np.all(np.diff(betas) < 0)


def test_adapted_betas_even_out_the_barrier():
    betas = np.linspace(1, 0, 5)
    rejection = np.array([0.9, 0.1, 0.1, 0.1])
    new = adapted_betas(betas, rejection)
    assert new[0] == 1 and new[-1] == 0 and np.all(np.diff(new) < 0)
    # the first gap rejected most: it is split, so the top rungs crowd together
    assert new[1] > betas[1]
    np.testing.assert_array_equal(adapted_betas(betas[:2], rejection[:1]), betas[:2])
    assert initial_betas(2.0, 3, gaussian=True)[-1] == pytest.approx(0.2)


def test_sampler_next_continues_like_generate():
    rbm = bimodal_model()
    kw = dict(method="tempering", n_temperatures=4, adapt_steps=20, random_state=9)
    one = rbm.generate(30, n_steps=50, **kw)
    sampler = rbm.sampler(30, **kw)
    sampler.next(35)
    np.testing.assert_array_equal(sampler.next(15), one)


def test_thin_and_probabilities_with_tempering():
    rbm = bimodal_model()
    kw = dict(method="tempering", n_temperatures=3, random_state=4)
    kept = rbm.generate(7, n_steps=20, thin=5, **kw)
    final = rbm.generate(7, n_steps=20, **kw)
    assert kept.shape == (4, 7, 10)
    np.testing.assert_array_equal(kept[-1], final)
    means = rbm.generate(7, n_steps=20, return_probabilities=True, **kw)
    assert means.shape == (7, 10) and np.all((means > 0) & (means < 1))


@pytest.mark.parametrize("kwargs, error", [
    (dict(method="metropolis"), ValueError),
    (dict(n_temperatures=4), ValueError),
    (dict(method="tempering", n_temperatures=1), ValueError),
    (dict(method="tempering", n_temperatures=2.0), TypeError),
    (dict(adapt_steps=3), ValueError),
    (dict(method="tempering", adapt_steps=-1), ValueError),
])
def test_bad_tempering_arguments(kwargs, error):
    rbm = bimodal_model()
    W = rbm.W.copy()
    state = rbm.random_state.bit_generator.state
    with pytest.raises(error):
        rbm.generate(3, n_steps=5, **kwargs)
    np.testing.assert_array_equal(rbm.W, W)
    assert rbm.random_state.bit_generator.state == state


def test_gaussian_tempering_runs_above_zero():
    rbm = crbm.RBM(6, 3, visible="gaussian", random_state=0)
    sampler = rbm.sampler(20, method="tempering", n_temperatures=4, random_state=1)
    S = sampler.next(10)
    assert np.all(np.isfinite(S)) and sampler.betas[-1] > 0


@pytest.mark.parametrize("gaussian", [False, True])
def test_same_bits_on_any_number_of_threads(gaussian):
    # Enough rows that the elementwise work is split across threads.
    rng = np.random.default_rng(3)
    N, M, R, n = 60, 40, 3, 400
    W, b, c, log_var = small_model(rng, N, M, np.float32, gaussian)
    V0 = (rng.random((R, n, N)) < 0.5).astype(np.float32)
    mask = np.zeros((n, N), np.uint8)
    mask[:, :10] = 1
    values = (rng.random((n, N)) < 0.5).astype(np.float32)
    V0 = np.where(mask != 0, values, V0).astype(np.float32)
    betas = np.array([1.0, 0.5, 0.1])
    results = []
    for threads in (1, 2):
        V, acc, att = V0.copy(), np.zeros(R - 1, np.int64), np.zeros(R - 1, np.int64)
        with crbm.num_threads(threads):
            _loops.tempering_chains(np.random.default_rng(8), V, W, b, c,
                                    np.empty(0, np.float32) if log_var is None else log_var,
                                    int(gaussian), 5, betas, 0, acc, att, mask, values)
        results.append((V, acc))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    expected, _, accepted, _ = reference.tempering_sweeps(
        np.random.default_rng(8), V0, W, b, c, betas, 5, 0, log_var=log_var, mask=mask,
        values=values)
    tol = 0 if not gaussian else 1e-5
    np.testing.assert_allclose(results[0][0], expected, rtol=tol, atol=tol)
    np.testing.assert_array_equal(results[0][1], accepted)

"""generate's init, clamp and beta: draw for draw as crbm.reference, exact
conditional distributions on a model small enough to enumerate, and bad
arguments refused before anything is drawn."""
import itertools
import logging

import numpy as np
import pytest

import crbm
from crbm import reference


def small_model(dtype=np.float64, visible="bernoulli", N=6, M=3, seed=0):
    rng = np.random.default_rng(seed)
    model = crbm.RBM(N, M, visible=visible, dtype=dtype, random_state=seed)
    model.W = rng.normal(0, 1.5, (N, M))
    model.visible_bias = rng.normal(0, 1, N)
    model.hidden_bias = rng.normal(0, 1, M)
    if visible == "gaussian":
        model.visible_std = rng.uniform(0.5, 1.5, N)
    return model


def log_var_of(model):
    return None if model.visible.binary else 2 * np.log(model.visible_std).astype(model.dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("visible", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("n_chains", [4, 40])  # few-chain workspace / gemm
def test_clamped_tempered_generate_matches_reference(dtype, visible, n_chains):
    model = small_model(dtype, visible)
    rng = np.random.default_rng(1)
    mask = rng.random(6) < 0.5
    values = (rng.random(6) < 0.5).astype(dtype)
    got = model.generate(n_chains, n_steps=9, clamp=(mask, values), beta=0.7, random_state=3)
    expected = reference.generate(np.random.default_rng(3), model.W, model.visible_bias,
                                  model.hidden_bias, n_chains, 9, log_var=log_var_of(model),
                                  beta=0.7, mask=mask, values=values)
    tolerance = 0 if visible == "bernoulli" else (1e-5 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)
    np.testing.assert_array_equal(got[:, mask], np.broadcast_to(values[mask], (n_chains, mask.sum())))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_few_clamped_tempered_chains_take_the_block_sweeps_on_any_thread_count(dtype, caplog):
    # Up to 16 0/1 chains with a 0/1 clamp sum rows of W in blocks, as
    # unclamped ones do; a clamp to values other than 0/1 takes gemm.
    rng = np.random.default_rng(3)
    model = crbm.RBM(300, 40, dtype=dtype, init="normal", random_state=0)
    model.W = rng.normal(0, 0.3, (300, 40))
    mask = np.zeros((5, 300), bool)
    mask[:, :100] = True
    values = (rng.random((5, 300)) < 0.3).astype(dtype)
    with caplog.at_level(logging.DEBUG, logger="crbm"):
        with crbm.num_threads(1):
            one = model.generate(5, n_steps=70, clamp=(mask, values), beta=0.6, random_state=1)
        for threads in (2, 3):
            with crbm.num_threads(threads):
                np.testing.assert_array_equal(
                    model.generate(5, n_steps=70, clamp=(mask, values), beta=0.6,
                                   random_state=1), one)
    reports = [r.getMessage() for r in caplog.records if r.getMessage().startswith("generate:")]
    assert len(reports) == 3 and all("blocks of W" in r and "BLAS" not in r for r in reports)
    np.testing.assert_array_equal(one[mask], values[mask])
    expected = reference.generate(np.random.default_rng(1), model.W, model.visible_bias,
                                  model.hidden_bias, 5, 70, beta=0.6, mask=mask, values=values)
    np.testing.assert_array_equal(one, expected)
    gaussian = crbm.RBM(300, 40, visible="gaussian", dtype=dtype, random_state=0)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="crbm"):
        gaussian.generate(5, n_steps=2, clamp=(mask, values * 0.5))
    assert "Gibbs sweeps by BLAS" in caplog.records[-1].getMessage()


def test_init_rows_and_per_row_clamps_match_reference():
    model = small_model()
    rng = np.random.default_rng(2)
    init = (rng.random((5, 6)) < 0.5).astype(np.float64)
    before = init.copy()
    mask = rng.random((5, 6)) < 0.4
    values = (rng.random((5, 6)) < 0.5).astype(np.float64)
    got = model.generate(n_steps=6, init=init, clamp=(mask, values), random_state=4)
    expected = reference.generate(np.random.default_rng(4), model.W, model.visible_bias,
                                  model.hidden_bias, 5, 6, init=init, mask=mask, values=values)
    np.testing.assert_array_equal(got, expected)
    assert got.shape == (5, 6)
    # One row of init serves n_samples chains; a 1-D init gives one vector back.
    repeated = model.generate(3, n_steps=2, init=init[0], random_state=4)
    np.testing.assert_array_equal(
        repeated, reference.generate(np.random.default_rng(4), model.W, model.visible_bias,
                                     model.hidden_bias, 3, 2, init=np.tile(init[0], (3, 1))))
    assert model.generate(n_steps=2, init=init[0], random_state=4).shape == (6,)
    np.testing.assert_array_equal(init, before)  # the chains ran on a copy


def test_init_data_continues_the_pcd_chains():
    data = (np.random.default_rng(0).random((60, 6)) < 0.5).astype(np.uint8)
    model = small_model()
    model.train(data, 0.05, 1, batch_size=10, persistent=True, n_chains=7)
    chains = model.training_state["chains"].copy()
    got = model.generate(n_steps=3, init="data", random_state=5)
    expected = reference.generate(np.random.default_rng(5), model.W, model.visible_bias,
                                  model.hidden_bias, 7, 3, init=chains)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(model.training_state["chains"], chains)  # left as they were


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("visible", ["bernoulli", "gaussian"])
def test_return_probabilities_gives_the_last_half_steps_means(dtype, visible):
    model = small_model(dtype, visible)
    mask = np.array([True, False, False, False, True, False])
    values = np.array([1, 0, 0, 0, 0, 0], dtype)
    got = model.generate(30, n_steps=5, clamp=(mask, values), beta=0.8,
                         return_probabilities=True, random_state=6)
    expected = reference.generate(np.random.default_rng(6), model.W, model.visible_bias,
                                  model.hidden_bias, 30, 5, log_var=log_var_of(model), beta=0.8,
                                  mask=mask, values=values, return_probabilities=True)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)
    assert got.dtype == dtype and np.all(got[:, mask] == values[mask])
    if visible == "bernoulli":
        assert np.all((got > 0) & (got < 1) | np.broadcast_to(mask, got.shape))


def test_thin_keeps_every_thin_th_state_of_the_same_chains():
    model = small_model()
    kept = model.generate(8, n_steps=10, thin=3, random_state=2)
    assert kept.shape == (3, 8, 6)
    for i in range(3):
        np.testing.assert_array_equal(
            kept[i], model.generate(8, n_steps=3 * (i + 1), random_state=2))
    clamped = model.generate(8, n_steps=6, thin=2, clamp=(np.eye(6, dtype=bool)[0], np.ones(6)),
                             random_state=2)
    assert clamped.shape == (3, 8, 6) and np.all(clamped[:, :, 0] == 1)
    assert model.generate(8, n_steps=0, thin=2).shape == (0, 8, 6)


def exact_visible_distribution(model, beta, mask=None, values=None):
    """p_beta(v) over every 0/1 visible state (that agrees with the clamp)."""
    states = np.array(list(itertools.product([0.0, 1.0], repeat=model.n_visible)))
    if mask is not None:
        states = states[np.all(states[:, mask] == values[mask], axis=1)]
    fields = beta * (states @ model.W + model.hidden_bias)
    log_p = beta * states @ model.visible_bias + np.logaddexp(0, fields).sum(axis=1)
    p = np.exp(log_p - log_p.max())
    return states, p / p.sum()


@pytest.mark.parametrize("beta", [1.0, 0.4])
@pytest.mark.parametrize("clamped", [False, True])
def test_chains_sample_the_exact_tempered_conditional_distribution(beta, clamped):
    model = small_model(seed=7)
    mask = values = None
    if clamped:
        mask = np.array([True, False, False, True, False, False])
        values = np.array([1.0, 0, 0, 0.0, 0, 0])
    states, p = exact_visible_distribution(model, beta, mask, values)
    samples = model.generate(4000, n_steps=60, clamp=None if mask is None else (mask, values),
                             beta=beta, random_state=11)
    codes = {tuple(s): i for i, s in enumerate(states)}
    counts = np.bincount([codes[tuple(s)] for s in samples], minlength=len(states))
    # Total variation of 4,000 draws from the exact law: about
    # sqrt(K / (2 pi n)) for K states, 0.03 for 64, 0.016 for 16.
    assert 0.5 * np.abs(counts / counts.sum() - p).sum() < 0.06
    if clamped:
        assert len(counts) == 16 and counts.sum() == 4000  # every sample kept the clamp


def test_bad_steering_arguments_are_refused_before_any_draw():
    model = small_model()
    state = model._rng.bit_generator.state
    bad = [
        (dict(beta=0), ValueError, "beta"), (dict(beta=float("nan")), ValueError, "beta"),
        (dict(beta="1"), TypeError, "beta"), (dict(init="noise"), ValueError, "init"),
        (dict(init="data"), ValueError, "PCD chains"),
        (dict(init=np.zeros(5)), ValueError, "6 columns"),
        (dict(init=np.full(6, 0.5)), ValueError, "0/1"),
        (dict(n_samples=3, init=np.zeros((2, 6))), ValueError, "2 rows"),
        (dict(clamp=np.zeros(6, bool)), TypeError, "pair"),
        (dict(clamp=(np.zeros(6), np.zeros(6))), TypeError, "bool"),
        (dict(clamp=(np.zeros(5, bool), np.zeros(6))), ValueError, "shape"),
        (dict(n_samples=2, clamp=(np.zeros((3, 6), bool), np.zeros(6))), ValueError, "shape"),
        (dict(clamp=(np.zeros(6, bool), np.full(6, 2.0))), ValueError, r"\[0, 1\]"),
        (dict(thin=0), ValueError, "thin"),
        (dict(return_probabilities=True, thin=2), ValueError, "return_probabilities"),
        (dict(return_probabilities=True, n_steps=0), ValueError, "return_probabilities"),
        (dict(return_probabilities=1), TypeError, "return_probabilities"),
    ]
    for kwargs, error, match in bad:
        with pytest.raises(error, match=match):
            model.generate(**{"n_steps": 2, **kwargs})
    assert model._rng.bit_generator.state == state

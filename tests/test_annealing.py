"""Annealed importance sampling: the compiled steps against crbm.reference
draw for draw, forward and reverse estimates against exact log Z on models
small enough to enumerate, the bracket, and the arguments."""
import itertools

import numpy as np
import pytest
from scipy.special import expit, logsumexp

import crbm
from crbm import annealing, evaluate, reference
from crbm._core import _loops

from _models import small_model


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("gaussian", [False, True])
@pytest.mark.parametrize("transition_at_end", [False, True])
def test_steps_equal_reference(dtype, gaussian, transition_at_end):
    rng = np.random.default_rng(0)
    N, M, n = 13, 7, 5
    W, b, c, log_var = small_model(rng, N, M, dtype, gaussian)
    base = None if gaussian else rng.normal(size=N).astype(dtype)
    V0 = (rng.random((n, N)) < 0.5).astype(dtype)
    betas = np.array([0.0, 0.1, 0.3, 0.6, 0.8, 1.0])
    expected_V, expected_w = reference.annealing(
        np.random.default_rng(5), V0, W, b, c, betas, base, log_var=log_var,
        transition_at_end=transition_at_end)
    V, log_w = V0.copy(), np.zeros(n)
    _loops.annealing(np.random.default_rng(5), V, W, b, c,
                     np.empty(0, dtype) if log_var is None else log_var, int(gaussian),
                     np.empty(0, dtype) if base is None else base, betas, log_w,
                     transition_at_end)
    tol = 0 if not gaussian else (1e-12 if dtype == np.float64 else 1e-5)
    np.testing.assert_allclose(V, expected_V, rtol=tol, atol=tol)
    np.testing.assert_allclose(log_w, expected_w, rtol=1e-12 if dtype == np.float64 else 1e-6,
                               atol=1e-12 if dtype == np.float64 else 1e-5)
    if not transition_at_end:  # the last step only weighs
        np.testing.assert_array_equal(
            reference.annealing(np.random.default_rng(5), V0, W, b, c, betas[:-1], base,
                                log_var=log_var, transition_at_end=True)[0], expected_V)


def test_chunks_equal_one_run_and_any_thread_count():
    # anneal() splits a run into chunks that share their end points; the
    # result is the same as one call, on one thread or two.
    model = crbm.RBM.from_parameters(*small_model(np.random.default_rng(1), 30, 20,
                                                  np.float64)[:3])
    base = annealing.Base(model, None)
    betas = evaluate.ais_betas(300)
    V0 = base.draw(200, np.random.default_rng(2))
    whole_V, whole_w = V0.copy(), np.zeros(200)
    model._anneal(np.random.default_rng(3), whole_V, betas, base.bias, whole_w, False)
    for threads in (1, 2):
        with crbm.num_threads(threads):
            V = V0.copy()
            chunked = annealing.anneal(model, V, betas, base, np.random.default_rng(3))
        np.testing.assert_array_equal(chunked, whole_w)
        np.testing.assert_array_equal(V, whole_V)


def exact_samples(model, n, rng):
    """Exact draws of p(v): h from its marginal (enumerated), then v | h."""
    W, b, c = (x.astype(np.float64) for x in (model.W, model.visible_bias, model.hidden_bias))
    states = np.array(list(itertools.product([0, 1], repeat=W.shape[1])), float)
    log_p = states @ c + np.logaddexp(0, states @ W.T + b).sum(axis=1)
    H = states[rng.choice(len(states), n, p=np.exp(log_p - logsumexp(log_p)))]
    return (rng.random((n, W.shape[0])) < expit(H @ W.T + b)).astype(np.float64)


def random_model(N, M, scale, seed):
    rng = np.random.default_rng(seed)
    return crbm.RBM.from_parameters(rng.normal(size=(N, M)) * scale, rng.normal(size=N) * 0.5,
                                    rng.normal(size=M) * 0.5)


def two_modes(N, a, ratio, seed):
    """A broad mode (v uniform, hidden unit 0 off) and a sharp one (v = P,
    unit 0 on) holding ``ratio`` times its mass, which Gibbs chains at
    high beta cannot cross between."""
    rng = np.random.default_rng(seed)
    P = (rng.random(N) < 0.5).astype(float)
    W = rng.normal(size=(N, 3)) * 0.05
    W[:, 0] = a * (2 * P - 1)
    c = np.zeros(3)
    c[0] = N * np.log(2) - a * P.sum() + np.log(ratio)
    return crbm.RBM.from_parameters(W, np.zeros(N), c)


@pytest.mark.parametrize("model", [random_model(20, 10, 0.5, 0), random_model(16, 12, 1.5, 1),
                                   two_modes(30, 6.0, 3, 2), two_modes(40, 8.0, 3, 3)],
                         ids=["random-20x10", "random-16x12-strong", "two-modes-30",
                              "two-modes-40"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bracket_holds_the_exact_log_likelihood(model, seed):
    # Data drawn exactly from the model, so that reverse AIS starts from the
    # model's own states; 0.15 nats is three standard deviations of either
    # estimate at 400 runs of 1,000 temperatures on the two-mode models, whose
    # runs split between the modes at random (0.05; 0.02 on the others).
    data = exact_samples(model, 1000, np.random.default_rng(seed + 10))
    exact = model.log_likelihood(data, method="exact")
    conservative, optimistic = model.log_likelihood_bracket(data, n_runs=400, n_betas=1000,
                                                            random_state=seed)
    assert conservative - 0.15 <= exact <= optimistic + 0.15
    assert abs(optimistic - conservative) < 0.3


def test_each_estimate_errs_its_own_way():
    # With few temperatures each run's weight is noisy, and Jensen's
    # inequality shows: forward AIS's log Z falls short on average, reverse
    # AIS's overshoots.
    model = crbm.RBM.from_parameters(np.random.default_rng(2).normal(size=(20, 8)) * 2.0,
                                     np.zeros(20), np.zeros(8))
    exact = model.log_partition("exact")
    data = exact_samples(model, 2000, np.random.default_rng(0))
    forward = [model.log_partition("ais", n_runs=20, n_betas=10, random_state=s)
               for s in range(30)]
    reverse = [model.log_partition("reverse_ais", n_runs=20, n_betas=10, data=data,
                                   random_state=s) for s in range(30)]
    assert np.mean(forward) < exact - 1 and np.mean(reverse) > exact + 1
    # ...and with many temperatures both find it.
    assert model.log_partition("ais", n_runs=100, n_betas=3000, random_state=0) == (
        pytest.approx(exact, abs=0.1))
    assert model.log_partition("reverse_ais", n_runs=100, n_betas=3000, data=data,
                               random_state=0) == pytest.approx(exact, abs=0.1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gaussian_bracket_holds_the_exact_log_likelihood(dtype):
    rng = np.random.default_rng(4)
    model = crbm.RBM.from_parameters((rng.normal(size=(10, 8)) * 0.3).astype(dtype),
                                     rng.normal(size=10), rng.normal(size=8),
                                     visible="gaussian",
                                     visible_std=np.exp(rng.normal(size=10) * 0.2))
    data = model.generate(500, n_steps=200, random_state=5)
    exact = model.log_likelihood(data, method="exact")
    conservative, optimistic = model.log_likelihood_bracket(data, n_runs=100, n_betas=1000,
                                                            random_state=6)
    assert conservative - 0.1 <= exact <= optimistic + 0.1


def test_bracket_reports_progress_and_is_reproducible():
    model = random_model(20, 10, 0.5, 0)
    data = exact_samples(model, 200, np.random.default_rng(0))
    done = []
    first = model.log_likelihood_bracket(data, n_runs=50, n_betas=200, random_state=3,
                                         progress=done.append)
    assert sum(done) == 2 * 199 and len(done) > 2
    assert model.log_likelihood_bracket(data, n_runs=50, n_betas=200, random_state=3) == first


def test_log_likelihood_by_reverse_ais_starts_from_its_rows():
    model = random_model(20, 10, 0.5, 0)
    data = exact_samples(model, 300, np.random.default_rng(0))
    by_reverse = model.log_likelihood(data, method="reverse_ais", n_runs=50, n_betas=500,
                                      random_state=1)
    assert by_reverse == pytest.approx(model.log_likelihood(data, method="exact"), abs=0.1)


def test_bad_arguments_change_nothing():
    model = random_model(20, 10, 0.5, 0)
    W = model.W.copy()
    data = exact_samples(model, 50, np.random.default_rng(0))
    with pytest.raises(ValueError, match="data="):
        model.log_partition("reverse_ais", n_betas=10)
    with pytest.raises(ValueError, match="data"):
        model.log_partition("reverse_ais", n_betas=10, data=np.zeros((3, 5)))
    with pytest.raises(ValueError, match="binary"):
        model.log_partition("reverse_ais", n_betas=10, data=np.full((3, 20), 0.5))
    with pytest.raises(ValueError, match="no rows"):
        model.log_partition("reverse_ais", n_betas=10, data=np.zeros((0, 20)))
    with pytest.raises(ValueError, match="n_runs"):
        model.log_likelihood_bracket(data, n_runs=1)
    with pytest.raises(ValueError, match="n_betas"):
        model.log_likelihood_bracket(data, n_betas=3)
    with pytest.raises(ValueError, match="base_rate"):
        model.log_likelihood_bracket(data, base_rate=np.full(20, 2.0))
    with pytest.raises(ValueError, match="'exact', 'ais' or 'reverse_ais'"):
        model.log_partition("forward")
    labelled = crbm.RBM(20, 5, n_labels=3)
    with pytest.raises(ValueError, match="label units"):
        labelled.log_likelihood_bracket(np.zeros((2, 23)))
    np.testing.assert_array_equal(model.W, W)

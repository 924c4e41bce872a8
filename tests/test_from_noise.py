"""Non-equilibrium CD-k (train(from_noise=True)) through the facade: what the
model remembers about the dynamics it learned, and the arguments."""
import pickle

import numpy as np
import pytest

import crbm


def data(n=60, N=20, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((n, N)) < 0.3).astype(np.uint8)


def test_from_noise_sets_sampling_steps_and_generate_uses_them(tmp_path):
    rbm = crbm.RBM(20, 8, random_state=1)
    assert rbm.sampling_steps is None
    rbm.train(data(), 0.05, 2, batch_size=10, k=7, from_noise=True)
    assert rbm.sampling_steps == 7
    assert rbm.training_state["chains"].shape == (10, 20)
    explicit = rbm.generate(5, n_steps=7, random_state=3)
    np.testing.assert_array_equal(rbm.generate(5, random_state=3), explicit)
    assert not np.array_equal(rbm.generate(5, n_steps=8, random_state=3), explicit)
    path = tmp_path / "m.npz"
    rbm.save(path)
    assert crbm.RBM.load(path).sampling_steps == 7
    assert pickle.loads(pickle.dumps(rbm)).sampling_steps == 7
    assert rbm.copy(parameters_only=True).sampling_steps == 7
    # Training to an equilibrium again (PCD here) makes 1000 sweeps the default.
    rbm.train(data(), 0.05, 1, batch_size=10, persistent=True)
    assert rbm.sampling_steps is None


def test_from_noise_differs_from_pcd_with_the_same_draws():
    a = crbm.RBM(20, 8, random_state=1).train(data(), 0.05, 2, batch_size=10, k=3,
                                              from_noise=True)
    b = crbm.RBM(20, 8, random_state=1).train(data(), 0.05, 2, batch_size=10, k=3,
                                              persistent=True)
    assert np.abs(a.W - b.W).max() > 1e-3


@pytest.mark.parametrize("kwargs", [dict(from_noise=True, persistent=True),
                                    dict(from_noise="yes")])
def test_bad_from_noise_arguments_change_nothing(kwargs):
    rbm = crbm.RBM(20, 8, random_state=1)
    W = rbm.W.copy()
    with pytest.raises((ValueError, TypeError)):
        rbm.train(data(), 0.05, 1, batch_size=10, **kwargs)
    np.testing.assert_array_equal(rbm.W, W)
    assert rbm.sampling_steps is None and rbm.training_state["chains"] is None

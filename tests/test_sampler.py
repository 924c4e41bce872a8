"""RBM.sampler: chains that continue where the last next() stopped."""
import threading

import numpy as np
import pytest

import crbm


def model_and_steering(dtype=np.float64):
    rng = np.random.default_rng(0)
    model = crbm.RBM(12, 5, dtype=dtype, random_state=3)
    model.W = rng.normal(0, 1, (12, 5))
    mask = np.arange(12) < 4
    values = (rng.random(12) < 0.5).astype(dtype)
    return model, dict(clamp=(mask, values), beta=0.8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_chains", [3, 30])
def test_next_continues_the_chains_of_one_generate_call(dtype, n_chains):
    model, steering = model_and_steering(dtype)
    sampler = model.sampler(n_chains, random_state=5, **steering)
    first, second = sampler.next(4), sampler.next(7)
    np.testing.assert_array_equal(first, model.generate(n_chains, n_steps=4, random_state=5,
                                                        **steering))
    np.testing.assert_array_equal(second, model.generate(n_chains, n_steps=11, random_state=5,
                                                         **steering))
    assert sampler.steps_done == 11
    np.testing.assert_array_equal(sampler.chains, second)
    second[:] = 7  # next returns a copy
    assert np.all(sampler.chains != 7)


def test_a_sampler_without_a_seed_is_reproducible_from_the_models_state():
    model, _ = model_and_steering()
    state = model._rng.bit_generator.state
    a = model.sampler(4).next(5)
    model._rng.bit_generator.state = state
    np.testing.assert_array_equal(model.sampler(4).next(5), a)


def test_threads_take_turns_and_every_sweep_counts():
    model, steering = model_and_steering()
    sampler = model.sampler(6, random_state=2, **steering)
    threads = [threading.Thread(target=lambda: [sampler.next(3) for _ in range(10)])
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sampler.steps_done == 120
    # Whole calls in turn: the chains are those of one run of 120 sweeps.
    np.testing.assert_array_equal(sampler.chains, model.generate(6, n_steps=120, random_state=2,
                                                                 **steering))


def test_bad_arguments_are_refused():
    model, _ = model_and_steering()
    with pytest.raises(ValueError, match="n_chains"):
        model.sampler(0)
    with pytest.raises(ValueError, match="beta"):
        model.sampler(3, beta=-1)
    sampler = model.sampler(3, random_state=1)
    before = sampler.chains
    with pytest.raises(ValueError, match="n_steps"):
        sampler.next(0)
    with pytest.raises(TypeError, match="n_steps"):
        sampler.next(1.5)
    np.testing.assert_array_equal(sampler.chains, before)
    assert sampler.steps_done == 0


@pytest.mark.parametrize("options", [
    dict(),
    dict(clamp=(np.arange(16) < 5, np.ones(16)), beta=0.7),
    dict(method="tempering", n_temperatures=4, adapt_steps=12),
])
def test_saved_sampler_continues_with_the_same_draws(tmp_path, options):
    rng = np.random.default_rng(0)
    rbm = crbm.RBM.from_parameters(rng.normal(size=(16, 6)), rng.normal(size=16),
                                   rng.normal(size=6), random_state=1)
    sampler = rbm.sampler(9, random_state=4, **options)
    sampler.next(7)  # mid-way through the ladder's tuning, for tempering
    sampler.save(tmp_path / "s.npz")
    expected = sampler.next(11)
    loaded = rbm.load_sampler(tmp_path / "s.npz")
    assert loaded.steps_done == 7
    np.testing.assert_array_equal(loaded.next(11), expected)
    if "method" in options:
        np.testing.assert_array_equal(loaded.betas, sampler.betas)
        np.testing.assert_array_equal(loaded.swap_rates, sampler.swap_rates)
    # a copy of the model loaded from its file continues the same way
    rbm.save(tmp_path / "m.npz")
    again = crbm.RBM.load(tmp_path / "m.npz").load_sampler(tmp_path / "s.npz")
    again.next(11)
    np.testing.assert_array_equal(again.chains, expected)


def test_a_sampler_file_only_loads_onto_a_model_it_fits(tmp_path):
    rbm = crbm.RBM(16, 4, random_state=0)
    rbm.sampler(3, random_state=1).save(tmp_path / "s.npz")
    with pytest.raises(ValueError, match="cannot run on"):
        crbm.RBM(17, 4).load_sampler(tmp_path / "s.npz")
    with pytest.raises(ValueError, match="cannot run on"):
        crbm.RBM(16, 4, dtype=np.float32).load_sampler(tmp_path / "s.npz")
    (tmp_path / "bad.npz").write_bytes(b"not a sampler")
    with pytest.raises(crbm.ModelFileError):
        rbm.load_sampler(tmp_path / "bad.npz")
    rbm.save(tmp_path / "model.npz")  # a model file is not a sampler file
    with pytest.raises(crbm.ModelFileError):
        rbm.load_sampler(tmp_path / "model.npz")

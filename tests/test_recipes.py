"""Training recipes (PCD, momentum, weight decay, sparsity, centering,
learning-rate decay, shuffling) against the numpy reference, draw for draw."""
import numpy as np
import pytest

import crbm
from crbm import reference

RTOL = {np.float32: 2e-5, np.float64: 1e-12}


def relative_error(a, b):
    return np.linalg.norm(np.asarray(a, float) - b) / max(np.linalg.norm(b), 1e-300)


def make_data(n=48, width=10, seed=0):
    rng = np.random.default_rng(seed)
    prototypes = rng.random((3, width)) < 0.5
    return (prototypes[rng.integers(0, 3, n)] ^ (rng.random((n, width)) < 0.1)).astype(np.uint8)


def reference_training(data, W0, dtype, seed, epochs, batch_size, k=1, persistent=False,
                       n_chains=None, momentum=0.0, weight_decay=0.0, sparsity_target=0.1,
                       sparsity_cost=0.0, centering=False, offset_rate=0.01,
                       learning_rate=0.1, learning_rate_decay=0.0, shuffle=False,
                       statistics="probabilities"):
    """What RBM.train does, spelled out in numpy with the same draws."""
    rng = np.random.default_rng(seed)
    N, M = W0.shape
    W, b, c = W0.astype(dtype), np.zeros(N, dtype), np.zeros(M, dtype)
    chains = (reference.bernoulli(rng, np.full((n_chains or batch_size, N), 0.5, dtype))
              if persistent else None)
    momenta = list(np.broadcast_to(momentum, (epochs,))) if np.ndim(momentum) == 0 else \
        [momentum[min(e, len(momentum) - 1)] for e in range(epochs)]
    velocity = ([np.zeros((N, M), dtype), np.zeros(N, dtype), np.zeros(M, dtype)]
                if any(momenta) else None)
    offsets = ([data.mean(axis=0).astype(dtype), np.full(M, 0.5, dtype)] if centering else None)
    for epoch in range(epochs):
        rows = rng.permutation(len(data)) if shuffle else np.arange(len(data))
        lr = learning_rate / (1 + learning_rate_decay * epoch)
        for start in range(0, len(data), batch_size):
            V0 = data[rows[start:start + batch_size]].astype(dtype)
            reference.cd_batch_update(
                rng, V0, W, b, c, lr, k, chains=chains, velocity=velocity, offsets=offsets,
                momentum=momenta[epoch], weight_decay=weight_decay,
                sparsity_target=sparsity_target, sparsity_cost=sparsity_cost,
                offset_rate=offset_rate, sampled_statistics=statistics == "states")
    return W, b, c, chains, velocity, offsets


RECIPES = {
    "cd-3": dict(k=3),
    "pcd": dict(persistent=True),
    "pcd-2, more chains than the batch": dict(persistent=True, n_chains=11, k=2),
    "momentum schedule": dict(momentum=[0.5, 0.9]),
    "weight decay": dict(weight_decay=0.01),
    "sparsity": dict(sparsity_target=0.05, sparsity_cost=0.3),
    "centering": dict(centering=True, offset_rate=0.1),
    "centering + momentum + decay": dict(centering=True, momentum=0.5, weight_decay=0.001),
    "shuffle + learning-rate decay": dict(shuffle=True, learning_rate_decay=0.5),
    "sampled statistics": dict(statistics="states"),
    "pcd-2, sampled statistics": dict(persistent=True, k=2, statistics="states"),
    "all at once": dict(persistent=True, n_chains=5, k=2, momentum=[0.5, 0.9], weight_decay=0.001,
                        sparsity_cost=0.1, centering=True, shuffle=True, learning_rate_decay=0.1),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(RECIPES))
def test_recipe_matches_reference(dtype, name):
    options = RECIPES[name]
    data = make_data()
    W0 = np.random.default_rng(1).normal(0, 0.1, (10, 6))
    model = crbm.RBM(10, 6, dtype=dtype, random_state=7)
    model.W = W0
    model.train(data, 0.1, 3, batch_size=8, **options)
    W, b, c, chains, velocity, offsets = reference_training(data, W0, dtype, 7, 3, 8, **options)
    assert np.abs(W - W0).max() > 0.01
    for got, expected in ((model.W, W), (model.visible_bias, b), (model.hidden_bias, c)):
        assert relative_error(got, expected) <= RTOL[dtype]
    if chains is not None:
        np.testing.assert_array_equal(model._chains, chains)
    if offsets is not None:
        assert relative_error(model._offsets, np.concatenate(offsets)) <= RTOL[dtype]


def test_per_sample_options_use_the_minibatch_step():
    # batch_size=1 with a recipe option is a minibatch step of one sample.
    data = make_data()
    W0 = np.random.default_rng(1).normal(0, 0.1, (10, 6))
    model = crbm.RBM(10, 6, random_state=3)
    model.W = W0
    model.train(data, 0.1, 1, batch_size=1, momentum=0.5)
    W, *_ = reference_training(data, W0, np.float64, 3, 1, 1, momentum=0.5)
    assert relative_error(model.W, W) <= 1e-12


def test_training_state_persists_across_calls_and_files(tmp_path):
    data = make_data()
    options = dict(persistent=True, n_chains=4, momentum=0.9, centering=True, batch_size=8)
    a = crbm.RBM(10, 6, random_state=2, init="normal").train(data, 0.05, 1, **options)
    a.save(tmp_path / "a.npz")
    b = crbm.RBM.load(tmp_path / "a.npz")
    for name in ("_chains", "_velocity", "_offsets"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    a.train(data, 0.05, 1, **options)
    b.train(data, 0.05, 1, **options)
    np.testing.assert_array_equal(a.W, b.W)
    # One call of two epochs is two calls of one epoch: the state carries over.
    c = crbm.RBM(10, 6, random_state=2, init="normal").train(data, 0.05, 2, **options)
    np.testing.assert_array_equal(c.W, a.W)


def test_pcd_and_centering_learn_bars_and_stripes_better_than_cd():
    from crbm.synthetic import bars_and_stripes
    patterns = bars_and_stripes(3)  # optimum: log(1/14) = -2.64 per pattern

    def fit(**options):
        model = crbm.RBM(9, 8, init="normal", random_state=0)
        model.train(np.tile(patterns, (4, 1)), 0.02, 5000, batch_size=14, **options)
        return model.log_likelihood(patterns, method="exact")

    cd = fit()
    pcd = fit(persistent=True, n_chains=100)
    centered = fit(persistent=True, n_chains=100, centering=True)
    assert cd < -3.2 and pcd > cd + 0.25 and centered > pcd


@pytest.mark.parametrize("options,error,match", [
    (dict(momentum=1.0), ValueError, "momentum"),
    (dict(momentum=[0.5, -0.1]), ValueError, "momentum"),
    (dict(momentum=[]), ValueError, "momentum"),
    (dict(momentum="fast"), TypeError, "momentum"),
    (dict(weight_decay=-1), ValueError, "weight_decay"),
    (dict(sparsity_target=1.5), ValueError, "sparsity_target"),
    (dict(sparsity_cost=float("nan")), ValueError, "sparsity_cost"),
    (dict(n_chains=5), ValueError, "persistent"),
    (dict(persistent=True, n_chains=0), ValueError, "n_chains"),
    (dict(learning_rate_decay=-0.5), ValueError, "learning_rate_decay"),
    (dict(offset_rate=2), ValueError, "offset_rate"),
    (dict(centering=True, offset_rate=2), ValueError, "offset_rate"),
    (dict(sparsity_cost=1.0), ValueError, "sparsity_cost"),
    (dict(statistics="samples"), ValueError, "statistics"),
    (dict(validation=np.full((3, 10), 0.5)), ValueError, "binary"),
])
def test_bad_recipe_options_change_nothing(options, error, match):
    model = crbm.RBM(10, 6, random_state=0, init="normal")
    W, state = model.W.copy(), model.random_state.bit_generator.state
    with pytest.raises(error, match=match):
        model.train(make_data(), 0.1, 2, batch_size=4, **options)
    assert np.array_equal(model.W, W) and model.random_state.bit_generator.state == state
    assert model._chains is None and model._velocity is None and model._offsets is None


def test_validation_records_learning_curves_that_survive_a_save(tmp_path):
    data = make_data(200, 10)
    records = []
    model = crbm.RBM(10, 6, random_state=1, init="normal")
    model.train(data[:150], 0.1, 4, batch_size=10, validation=data[150:], on_epoch=records.append)
    model.train(data[:150], 0.1, 1, batch_size=10)  # no validation: counted, not recorded
    model.train(data[:150], 0.1, 1, batch_size=10, validation=data[150:])
    assert [r["epoch"] for r in model.history] == [1, 2, 3, 4, 6] and records == model.history[:4]
    first, last = model.history[0], model.history[-1]
    assert last["validation_reconstruction_error"] < first["validation_reconstruction_error"]
    assert last["pseudo_likelihood"] > first["pseudo_likelihood"]
    assert set(first) == {"epoch", "reconstruction_error", "validation_reconstruction_error",
                          "pseudo_likelihood", "free_energy_gap"}
    model.save(tmp_path / "m.npz")
    loaded = crbm.RBM.load(tmp_path / "m.npz")
    assert loaded.history == model.history and loaded.epochs_trained == 6
    # Monitoring only reads the model: training with it gives the same weights.
    plain = crbm.RBM(10, 6, random_state=1, init="normal")
    plain.train(data[:150], 0.1, 4, batch_size=10)
    W_after_four = crbm.RBM(10, 6, random_state=1, init="normal").train(
        data[:150], 0.1, 4, batch_size=10, validation=data[150:]).W
    np.testing.assert_array_equal(plain.W, W_after_four)


def test_saved_training_state_is_checked_on_load(tmp_path):
    import json
    data = make_data()
    model = crbm.RBM(10, 6, random_state=2).train(
        data, 0.05, 1, batch_size=8, persistent=True, centering=True, validation=data[:8])
    model.save(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz") as npz:
        arrays = {name: npz[name] for name in npz.files}
    meta = json.loads(str(arrays["meta"]))
    broken = {
        "offsets": dict(arrays, offsets=np.full_like(arrays["offsets"], 1e300)),
        "chains": dict(arrays, chains=arrays["chains"] + 0.5),
        "no-chains": dict(arrays, chains=arrays["chains"][:0]),
        "epochs": dict(arrays, meta=np.array(json.dumps({**meta, "epochs_trained": -5}))),
        "history": dict(arrays, meta=np.array(json.dumps({**meta, "history": [{"bogus": 1}]}))),
    }
    for name, content in broken.items():
        np.savez(tmp_path / f"{name}.npz", **content)
        with pytest.raises(crbm.ModelFileError, match=f"{name}.npz"):
            crbm.RBM.load(tmp_path / f"{name}.npz")


def test_validation_is_checked_first():
    model = crbm.RBM(10, 6, random_state=1)
    with pytest.raises(ValueError, match="validation"):
        model.train(make_data(), validation=np.zeros((3, 9)))
    with pytest.raises(ValueError, match="on_epoch"):
        model.train(make_data(), on_epoch=print)
    assert not model.W.any() and model.epochs_trained == 0

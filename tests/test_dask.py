"""crbm.dask: partition-by-partition results equal the single-machine ones,
whatever runs them -- the synchronous scheduler or a process cluster."""
import cloudpickle
import dask
import dask.array as da
import numpy as np
import pytest
from distributed import Client, LocalCluster

import crbm
import crbm.dask as cdask

N, M = 20, 7


@pytest.fixture(scope="module", params=[np.float32, np.float64], ids=["float32", "float64"])
def model(request):
    rng = np.random.default_rng(0)
    data = (rng.random((200, N)) < 0.3).astype(np.uint8)
    rbm = crbm.RBM(N, M, dtype=request.param, random_state=0, init="normal")
    return rbm.train(data, 0.05, 2, batch_size=10, persistent=True, momentum=0.5)


@pytest.fixture(scope="module")
def rows():
    return (np.random.default_rng(1).random((230, N)) < 0.3).astype(np.uint8)


def blocks(x, size):
    return [x[i:i + size] for i in range(0, len(x), size)]


def expected_results(model, rows, seed=7, chunk=50, n_samples=130, sample_chunk=40):
    """The single-machine loops each crbm.dask function promises to equal."""
    parts = blocks(rows, chunk)
    generators = cdask.partition_generators(seed, len(parts))
    sample_sizes = [len(b) for b in blocks(np.empty(n_samples), sample_chunk)]
    chains = cdask.partition_generators(seed, len(sample_sizes))
    return {
        "transform": np.concatenate([model.hidden_probabilities(b) for b in parts]),
        "free_energy": np.concatenate([model.free_energy(b) for b in parts]),
        "sample_hidden": np.concatenate([model.sample_hidden(b, random_state=g)
                                         for b, g in zip(parts, generators)]),
        "generate": np.concatenate([model.generate(n, n_steps=30, random_state=g)
                                    for n, g in zip(sample_sizes, chains)]),
    }


def lazy_results(model, rows, seed=7, chunk=50, n_samples=130, sample_chunk=40):
    X = da.from_array(rows, chunks=(chunk, N))
    return {
        "transform": cdask.transform(model, X),
        "free_energy": cdask.free_energy(model, X),
        "sample_hidden": cdask.sample_hidden(model, X, random_state=seed),
        "generate": cdask.generate(model, n_samples, n_steps=30, chunk_size=sample_chunk,
                                   random_state=seed),
    }


def test_generate_with_init_clamp_and_beta_equals_the_partition_loop(model):
    rng = np.random.default_rng(5)
    init = (rng.random((70, N)) < 0.5).astype(model.dtype)
    mask = rng.random((70, N)) < 0.3
    shared_mask = mask[0]
    values = (rng.random(N) < 0.5).astype(model.dtype)
    for steering in (dict(init=init, clamp=(mask, init), beta=0.7),
                     dict(init=init[0], clamp=(shared_mask, values)),
                     dict(beta=1.5)):
        lazy = cdask.generate(model, 70, n_steps=12, chunk_size=30, random_state=3, **steering)
        chains = cdask.partition_generators(3, 3)
        expected = []
        for i, g in enumerate(chains):
            rows = slice(30 * i, min(70, 30 * (i + 1)))
            part = dict(steering)
            if "init" in part and np.ndim(part["init"]) == 2:
                part["init"] = part["init"][rows]
            if "clamp" in part and np.ndim(part["clamp"][0]) == 2:
                part["clamp"] = (part["clamp"][0][rows], part["clamp"][1][rows])
            expected.append(model.generate(len(range(70)[rows]), n_steps=12, random_state=g,
                                           **part))
        np.testing.assert_array_equal(lazy.compute(scheduler="synchronous"),
                                      np.concatenate(expected))
    with pytest.raises(ValueError, match="not 'data'"):
        cdask.generate(model, 10, init="data")
    with pytest.raises(ValueError, match="init has 3 rows"):
        cdask.generate(model, 10, init=init[:3])
    with pytest.raises(ValueError, match="shape"):
        cdask.generate(model, 10, clamp=(mask, init))
    with pytest.raises(ValueError, match="beta"):
        cdask.generate(model, 10, beta=-1)


def assert_same(results, expected, model):
    for name, value in expected.items():
        assert results[name].dtype == model.dtype, name
        np.testing.assert_array_equal(results[name], value.astype(model.dtype), err_msg=name)


def test_synchronous_results_equal_the_single_machine_loops(model, rows):
    lazy = lazy_results(model, rows)
    results = dict(zip(lazy, dask.compute(*lazy.values(), scheduler="synchronous")))
    assert_same(results, expected_results(model, rows), model)
    # Per-row results do not depend on the partitioning either (up to BLAS rounding).
    whole = model.hidden_probabilities(rows)
    np.testing.assert_allclose(results["transform"], whole, rtol=1e-5 if model.dtype ==
                               np.float32 else 1e-12)


def test_gaussian_models_work_partition_by_partition():
    rng = np.random.default_rng(3)
    data = rng.normal(size=(200, N))
    gaussian = crbm.RBM(N, M, visible="gaussian", random_state=0, init="normal")
    gaussian.train(data, 0.01, 2, batch_size=10, persistent=True)
    rows = rng.normal(size=(230, N))
    lazy = lazy_results(gaussian, rows)
    results = dict(zip(lazy, dask.compute(*lazy.values(), scheduler="synchronous")))
    assert_same(results, expected_results(gaussian, rows), gaussian)
    assert len(np.unique(results["generate"])) == results["generate"].size  # real-valued


def test_a_process_cluster_gives_the_same_results(model, rows):
    expected = expected_results(model, rows)
    for n_workers in (1, 2):
        with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=None) as cluster, \
                Client(cluster) as client:
            lazy = lazy_results(model, rows)
            results = dict(zip(lazy, client.compute(list(lazy.values()), sync=True)))
            assert_same(results, expected, model)


def test_the_graph_carries_one_copy_of_the_parameters():
    big = crbm.RBM(400, 100, random_state=0, init="normal")
    data = (np.random.default_rng(0).random((50, 400)) < 0.3).astype(np.uint8)
    big.train(data, 0.01, 1, batch_size=10, persistent=True, momentum=0.5)
    X = da.zeros((10_000, 400), chunks=(100, 400), dtype=np.uint8)  # 100 partitions
    graph = dict(cdask.transform(big, X).__dask_graph__())
    size = len(cloudpickle.dumps(graph))
    parameters = big.W.nbytes + big.visible_bias.nbytes + big.hidden_bias.nbytes
    # 100 partitions share one copy; the velocity (as large again) and the
    # chains stay home.
    assert parameters < size < 1.2 * parameters + 100_000


def test_seeds_select_streams(model, rows):
    X = da.from_array(rows, chunks=(50, N))
    a = cdask.sample_hidden(model, X, random_state=1).compute(scheduler="synchronous")
    b = cdask.sample_hidden(model, X, random_state=1).compute(scheduler="synchronous")
    c = cdask.sample_hidden(model, X, random_state=2).compute(scheduler="synchronous")
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # Partitions draw different streams: equal rows in two partitions differ.
    same = da.from_array(np.tile(rows[:50], (2, 1)), chunks=(50, N))
    twice = cdask.sample_hidden(model, same, random_state=1).compute(scheduler="synchronous")
    assert not np.array_equal(twice[:50], twice[50:])


def test_columns_split_across_chunks_are_joined(model, rows):
    X = da.from_array(rows, chunks=(50, 6))
    np.testing.assert_array_equal(cdask.transform(model, X).compute(scheduler="synchronous"),
                                  expected_results(model, rows)["transform"])


def test_no_samples_gives_an_empty_array(model):
    assert cdask.generate(model, 0).compute().shape == (0, N)


@pytest.mark.parametrize("call, error", [
    (lambda m: cdask.transform(m, np.zeros((4, N))), TypeError),
    (lambda m: cdask.transform(m, da.zeros((4, N + 1))), ValueError),
    (lambda m: cdask.free_energy(m, da.zeros((4, N, 1))), ValueError),
    (lambda m: cdask.transform("model", da.zeros((4, N))), TypeError),
    (lambda m: cdask.sample_hidden(m, da.zeros((4, N)), random_state=np.random.default_rng()),
     TypeError),
    (lambda m: cdask.generate(m, -1), ValueError),
    (lambda m: cdask.generate(m, 10, chunk_size=0), ValueError),
    (lambda m: cdask.generate(m, 10, n_steps=1.5), TypeError),
    (lambda m: cdask.generate(m, 10, random_state=-3), TypeError),
    (lambda m: cdask.partition_generators(0, -1), ValueError),
])
def test_bad_arguments(model, call, error):
    with pytest.raises(error):
        call(model)


def test_generate_with_labels_equals_the_partition_loop():
    rng = np.random.default_rng(2)
    data = (rng.random((200, N)) < 0.3).astype(np.uint8)
    model = crbm.RBM(N, M, n_labels=3, random_state=0, init="normal")
    model.train(data, 0.05, 2, batch_size=10, labels=rng.integers(0, 3, 200))
    labels = rng.integers(0, 3, 70)
    for label, strength in ((2, None), (labels, None), (labels, 2.5)):
        chains = cdask.partition_generators(4, 3)
        lazy = cdask.generate(model, 70, n_steps=12, chunk_size=30, random_state=4, label=label,
                              label_strength=strength)
        expected = [model.generate(len(range(70)[30 * i:30 * (i + 1)]), n_steps=12,
                                   random_state=g, label_strength=strength,
                                   label=label if np.ndim(label) == 0
                                   else label[30 * i:30 * (i + 1)])
                    for i, g in enumerate(chains)]
        np.testing.assert_array_equal(lazy.compute(scheduler="synchronous"),
                                      np.concatenate(expected))
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        cdask.generate(model, 10, label=3)
    with pytest.raises(ValueError, match="label_strength"):
        cdask.generate(model, 10, label=1, label_strength=0)
    with pytest.raises(ValueError, match="label units"):
        cdask.generate(crbm.RBM(N, M), 10, label=1)


def test_transform_of_a_deep_belief_network_equals_its_own():
    rng = np.random.default_rng(3)
    data = (rng.random((120, N)) < 0.3).astype(np.uint8)
    labels = rng.integers(0, 3, 120)
    dbn = crbm.DBN([N, 9, 7], n_labels=3, random_state=0).train(
        data, labels, layers={"batch_size": 20}, epochs=1)
    X = da.from_array(data, chunks=(50, N))
    for layer in (1, -1):
        lazy = cdask.transform(dbn, X, layer=layer)
        np.testing.assert_allclose(lazy.compute(scheduler="synchronous"),
                                   dbn.transform(data, layer=layer), rtol=1e-12)
    with pytest.raises(ValueError, match="DBN"):
        cdask.transform(dbn.rbms[0], X, layer=1)

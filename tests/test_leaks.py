"""Leaks: 10,000 calls of the main entry points keep resident memory flat."""
import gc
import resource
import sys

import numpy as np
import pytest

import crbm

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="resident memory is read from /proc/self/statm")

CALLS = 10_000
WINDOWS = 10
# A leak grows resident memory in every window of CALLS // WINDOWS calls; the
# allocator settling (arenas, pools) grows it in one or two windows only. So
# the typical (median) window may grow by at most 10 bytes a call -- any
# leaked array, buffer or memoryview is larger -- and all the calls together
# by at most 4 MB.
TYPICAL_GROWTH = 10 * CALLS // WINDOWS
TOTAL_GROWTH = 4 << 20


def resident_bytes():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize()


def is_flat(call):
    """Whether CALLS calls of ``call`` (after a warm-up) keep resident memory flat."""
    for _ in range(CALLS // WINDOWS):  # warm caches, pools, lazy imports
        call()
    gc.collect()
    sizes = [resident_bytes()]
    for _ in range(WINDOWS):
        for _ in range(CALLS // WINDOWS):
            call()
        gc.collect()
        sizes.append(resident_bytes())
    growth = np.diff(sizes)
    return np.median(growth) <= TYPICAL_GROWTH and sizes[-1] - sizes[0] <= TOTAL_GROWTH


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def setup(request, tmp_path):
    rng = np.random.default_rng(0)
    data = (rng.random((20, 16)) < 0.4).astype(np.uint8)
    model = crbm.RBM(16, 8, dtype=request.param, random_state=0, init="normal")
    model.train(data, learning_rate=0.05, epochs=1)
    path = tmp_path / "model.npz"
    model.save(path)
    return model, data, path


def test_training_does_not_leak(setup):
    model, data, _ = setup
    assert is_flat(lambda: model.train(data, learning_rate=0.01, epochs=1))
    assert is_flat(lambda: model.train(data, learning_rate=0.01, epochs=1, batch_size=5,
                                      persistent=True, momentum=0.5))


def test_sampling_does_not_leak(setup):
    model, data, _ = setup
    assert is_flat(lambda: model.generate(4, n_steps=5))
    assert is_flat(lambda: model.generate(40, n_steps=2))
    assert is_flat(lambda: model.sample_hidden(data))


def test_loading_does_not_leak(setup):
    _, _, path = setup
    assert is_flat(lambda: crbm.RBM.load(path))


def test_failed_calls_do_not_leak(setup):
    model, data, _ = setup

    def bad_train():
        with pytest.raises(ValueError):
            model.train(data[:, :3])

    assert is_flat(bad_train)


def test_the_check_sees_a_leak():
    kept = []
    assert not is_flat(lambda: kept.append(np.empty(32)))

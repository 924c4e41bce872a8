"""Leaks: 10,000 calls of the main entry points keep memory flat.

Resident memory alone can hide a leak: a leaked block may land in memory the
allocator already holds from earlier tests. So each window of calls is
measured three ways: Python's allocated blocks (objects, memoryviews), the C
heap's bytes in use (glibc ``mallinfo2``: array data, buffers) and resident
memory.
"""
import ctypes
import gc
import resource
import sys

import numpy as np
import pytest

import crbm

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads glibc's mallinfo2 and /proc/self/statm")

CALLS = 10_000
WINDOWS = 10
PER_WINDOW = CALLS // WINDOWS


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]


def _mallinfo():
    """glibc's malloc statistics function, its result typed (Linux only)."""
    libc = ctypes.CDLL(None)
    if hasattr(libc, "mallinfo2"):  # glibc >= 2.33
        libc.mallinfo2.restype = _MallInfo2
        return libc.mallinfo2

    class _MallInfo(ctypes.Structure):  # older glibc (manylinux2014): int fields suffice
        _fields_ = [(name, ctypes.c_int) for name, _ in _MallInfo2._fields_]
    libc.mallinfo.restype = _MallInfo
    return libc.mallinfo


# Collected on every platform, run on Linux only: look glibc up only there.
MALLINFO = _mallinfo() if sys.platform.startswith("linux") else None


def heap_bytes_in_use():
    info = MALLINFO()
    return info.uordblks + info.hblkhd


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def measure():
    gc.collect()
    return np.array([sys.getallocatedblocks(), heap_bytes_in_use(), resident_bytes()])


def is_flat(call):
    """Whether CALLS calls of ``call`` (after a warm-up) keep memory flat.

    A leak grows memory in every window of PER_WINDOW calls; caches and
    allocator pools settling grow it in one or two. So in the typical
    (median) window, Python may gain fewer than one block per 100 calls and
    the C heap at most 10 bytes a call (any leaked object, array or buffer
    is larger); resident memory may grow by at most 4 MB over all the calls.
    """
    for _ in range(PER_WINDOW):  # warm caches, pools, lazy imports
        call()
    sizes = [measure()]
    for _ in range(WINDOWS):
        for _ in range(PER_WINDOW):
            call()
        sizes.append(measure())
    growth = np.median(np.diff(sizes, axis=0), axis=0)
    blocks, heap, _ = growth
    resident = sizes[-1][2] - sizes[0][2]
    return blocks < PER_WINDOW / 100 and heap <= 10 * PER_WINDOW and resident <= 4 << 20


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


def test_loading_does_not_leak(tmp_path):
    path = tmp_path / "model.npz"  # the dtype does not matter to the reader
    crbm.RBM(16, 8, random_state=0, init="normal").save(path)
    assert is_flat(lambda: crbm.RBM.load(path))


def test_failed_calls_do_not_leak(setup):
    model, data, _ = setup

    def bad_train():
        with pytest.raises(ValueError):
            model.train(data[:, :3])

    assert is_flat(bad_train)


@pytest.mark.parametrize("leak", [
    lambda kept: kept.append(np.empty(32)),  # a small array: header and data
    lambda kept: kept.append(memoryview(b"")),  # a bare Python object
    lambda kept: kept.append(bytearray(600)),  # a C-heap buffer
], ids=["array", "object", "buffer"])
def test_the_check_sees_a_leak(leak):
    kept = []
    assert not is_flat(lambda: leak(kept))

"""Threads: the GIL is released in the kernels, concurrent sampling is
correct, concurrent training is serialised, models pickle."""
import copy
import pickle
import sys
import threading
import time

import numpy as np
import pytest

import crbm
from crbm._core import _loops

N_THREADS = 8


def trained_model(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    data = (rng.random((300, 36)) < 0.3).astype(np.uint8)
    return crbm.RBM(36, 12, dtype=dtype, random_state=seed, init="normal").train(
        data, learning_rate=0.05, epochs=2, batch_size=10), data


def run_in_threads(target, n=N_THREADS):
    """Run ``target(i)`` in ``n`` threads started together; return results by index."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def work(i):
        try:
            barrier.wait()
            results[i] = target(i)
        except BaseException as exc:  # reported below, with the thread's index
            errors.append((i, exc))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def progress_during(call):
    """How far a pure-Python counter thread got while ``call()`` ran in this thread.

    Between reading the counter before and after, this thread is inside one
    C call; the counter can only move if that call released the GIL. A
    huge switch interval keeps the interpreter from preempting us between
    the reads; the counter hands the GIL back by itself every 100 counts.
    """
    stop, counter = threading.Event(), [0]

    def count():
        while not stop.is_set():
            counter[0] += 1
            if counter[0] % 100 == 0:
                time.sleep(0)  # releases the GIL

    thread = threading.Thread(target=count)
    old = sys.getswitchinterval()
    sys.setswitchinterval(100.0)  # before the thread starts waiting for the GIL
    thread.start()
    try:
        while counter[0] == 0:  # wait until the counter runs
            time.sleep(0.001)
        before = counter[0]
        call()
        moved = counter[0] - before
    finally:
        sys.setswitchinterval(old)
        stop.set()
        thread.join()
    return moved


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_release_the_gil(dtype):
    model, data = trained_model(dtype)
    chains = np.zeros((200, 36), dtype=dtype)
    empty = np.empty(0, dtype=dtype)
    assert progress_during(lambda: _loops.gibbs_chains(
        np.random.default_rng(1), chains, model.W, model.visible_bias,
        model.hidden_bias, empty, 0, 300)) > 0
    settings = {"k": 1, "learning_rate": 0.01, "momentum": 0.0, "weight_decay": 0.0,
                "sparsity_target": 0.1, "sparsity_cost": 0.0, "centered": False,
                "offset_rate": 0.0, "sampled_statistics": False}
    big = np.tile(data, (40, 1))
    assert progress_during(lambda: _loops.train_epoch(
        np.random.default_rng(2), big, np.empty(0, dtype=np.intp), 0, len(big),
        model.W, model.visible_bias, model.hidden_bias, empty, 0, 1, settings, True, True,
        empty.reshape(0, 1), empty, empty)) > 0


def test_holding_the_gil_is_detected():
    # The check above can fail: a call that keeps the GIL shows no progress.
    assert progress_during(lambda: sum(range(2_000_000))) == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threads_generating_with_their_own_seeds_match_serial(dtype):
    model, _ = trained_model(dtype)
    serial = [model.generate(20, n_steps=200, random_state=seed) for seed in range(N_THREADS)]
    parallel = run_in_threads(lambda i: model.generate(20, n_steps=200, random_state=i))
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)


def test_threads_sharing_the_model_generator_draw_independent_samples():
    model, _ = trained_model()
    before = copy.deepcopy(model)
    results = run_in_threads(lambda i: model.generate(50, n_steps=100))
    # Each call took its own key from the shared generator: no two threads
    # saw the same random numbers ...
    flat = [r.tobytes() for r in results]
    assert len(set(flat)) == N_THREADS
    # ... the model is untouched ...
    for name in ("W", "visible_bias", "hidden_bias"):
        np.testing.assert_array_equal(getattr(model, name), getattr(before, name))
    # ... and the samples have the distribution of serial ones: the mean
    # activity of 400 samples per side, 36 units (binomial sd of a unit's
    # mean <= 0.025; 5 sd on the average over units is loose).
    serial = np.concatenate([before.generate(50, n_steps=100) for _ in range(N_THREADS)])
    assert abs(np.concatenate(results).mean() - serial.mean()) < 0.02


@pytest.mark.parametrize("options", [
    {"batch_size": 1},  # the reference per-sample path
    {"batch_size": 10, "persistent": True, "momentum": 0.5},  # chains + velocity
])
def test_threads_training_one_model_are_serialised(options):
    model, data = trained_model()
    expected = copy.deepcopy(model)
    for _ in range(N_THREADS):
        expected.train(data, learning_rate=0.05, epochs=1, **options)
    # All threads make the same call; any interleaving of their updates
    # would change the result, serialised ones give exactly the sequential one.
    run_in_threads(lambda i: model.train(data, learning_rate=0.05, epochs=1, **options))
    assert model.epochs_trained == expected.epochs_trained
    for name in ("W", "visible_bias", "hidden_bias", "_chains", "_velocity"):
        np.testing.assert_array_equal(getattr(model, name), getattr(expected, name))


def test_saving_and_assigning_during_training_see_whole_steps(tmp_path):
    model, data = trained_model()
    big = np.tile(data, (30, 1))
    started = threading.Event()

    def train():
        # progress() runs inside train(), with the model's lock held.
        model.train(big, learning_rate=0.05, epochs=1, progress=lambda n: started.set())

    thread = threading.Thread(target=train)
    thread.start()
    started.wait()
    model.save(tmp_path / "m.npz")  # waits for the training to finish
    thread.join()
    loaded = crbm.RBM.load(tmp_path / "m.npz")
    assert loaded.epochs_trained == model.epochs_trained
    np.testing.assert_array_equal(loaded.W, model.W)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_models_pickle_and_continue_identically(dtype):
    model, data = trained_model(dtype)
    model.train(data, learning_rate=0.05, epochs=1, batch_size=10, persistent=True,
                momentum=0.5, centering=True)
    clone = pickle.loads(pickle.dumps(model))
    assert repr(clone) == repr(model)
    np.testing.assert_array_equal(clone.generate(5, n_steps=10), model.generate(5, n_steps=10))
    clone.train(data, learning_rate=0.05, epochs=1, batch_size=10, persistent=True)
    model.train(data, learning_rate=0.05, epochs=1, batch_size=10, persistent=True)
    np.testing.assert_array_equal(clone.W, model.W)
    # The clone has its own lock: training it does not wait for the original.
    assert clone._train_lock is not model._train_lock


def test_sampling_during_training_sees_whole_chunks():
    model, data = trained_model()
    big = np.tile(data, (60, 1))  # 18,000 rows: several chunks of whole batches
    v = data[:5]
    # The parameters at every chunk boundary: progress() runs between chunks.
    snapshots = [(model.W.copy(), model.hidden_bias.copy())]
    done, read = threading.Event(), threading.Event()
    seen = []

    def sample():
        while not done.is_set():
            seen.append(model.hidden_probabilities(v))
            read.set()

    def boundary(n):
        snapshots.append((model.W.copy(), model.hidden_bias.copy()))
        # However fast training is, the reader gets in between every two chunks.
        assert read.wait(timeout=10)
        read.clear()

    reader = threading.Thread(target=sample)
    reader.start()
    try:
        model.train(big, learning_rate=0.05, epochs=2, progress=boundary)
    finally:
        done.set()
        reader.join()
    expected = []
    for W, c in snapshots:
        probe = crbm.RBM(36, 12)
        probe.W, probe.hidden_bias = W, c
        expected.append(probe.hidden_probabilities(v).tobytes())
    assert len(seen) >= len(snapshots) - 1  # the reader ran throughout
    # Every read saw the parameters of a chunk boundary, never a chunk half done.
    assert all(p.tobytes() in expected for p in seen)


def test_a_waiting_writer_holds_off_new_readers():
    from crbm.models._rwlock import ReadWriteLock
    lock, order = ReadWriteLock(), []
    first_reader_in, writer_waiting = threading.Event(), threading.Event()

    def reader(name, hold):
        with lock.reading():
            order.append(name)
            if hold:
                first_reader_in.set()
                writer_waiting.wait()
                time.sleep(0.05)  # give the late reader the chance to sneak in

    def writer():
        writer_waiting.set()
        with lock.writing():
            order.append("writer")

    first = threading.Thread(target=reader, args=("first", True))
    first.start()
    first_reader_in.wait()
    w = threading.Thread(target=writer)
    w.start()
    while lock._writers_waiting == 0:  # until the writer waits inside writing()
        time.sleep(0.001)
    late = threading.Thread(target=reader, args=("late", False))
    late.start()
    for t in (first, w, late):
        t.join()
    assert order == ["first", "writer", "late"]

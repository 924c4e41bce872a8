"""crbm's own worker threads (crbm.set_num_threads): large minibatches of
sparse data are split across them by rows, and the results must not depend
on how many there are, in any setting; the pool survives fork and
concurrent callers."""
import logging
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import crbm

SETTINGS = [
    {},
    {"k": 2},
    {"persistent": True, "n_chains": 60},
    {"persistent": True, "n_chains": 150, "k": 2},
    {"momentum": 0.5, "weight_decay": 0.001},
    {"centering": True},
    {"statistics": "states", "sparsity_cost": 0.1},
]


@pytest.fixture(scope="module")
def digits(mnist_dir):
    """400 binarised MNIST rows: about 0.19 of the values are 1."""
    images, _ = crbm.load_mnist(mnist_dir, "t10k")
    return crbm.binarize(images[:400])


def untrained(N, M, dtype):
    return crbm.RBM(N, M, dtype=dtype, random_state=3, init="normal")


def train(data, threads, dtype=np.float32, M=64, batch_size=32, **options):
    # 32 x 784 x 64 = 1.6e6 multiply-adds a product: large enough to split
    # across crbm's threads, and at small_batch rows, the limit of the looser
    # density rule.
    with crbm.num_threads(threads):
        return train_here(data, dtype, M, batch_size, **options)


def train_here(data, dtype=np.float32, M=64, batch_size=32, **options):
    """Train with the current number of threads."""
    return untrained(data.shape[1], M, dtype).train(data, 0.1, 2, batch_size=batch_size,
                                                    **options)


def assert_same_model(a, b):
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.visible_bias, b.visible_bias)
    np.testing.assert_array_equal(a.hidden_bias, b.hidden_bias)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", SETTINGS)
def test_training_gives_the_same_bits_on_any_number_of_threads(digits, dtype, options):
    one = train(digits, 1, dtype, **options)
    assert np.abs(one.W - untrained(784, 64, dtype).W).max() > 0.005  # it learned
    for threads in (3, 2):  # 2 after 3: more workers running than a step may use
        assert_same_model(train(digits, threads, dtype, **options), one)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("M", [64, 70])
def test_per_sample_training_gives_the_same_bits_on_any_number_of_threads(digits, dtype, k, M):
    # batch_size=1 on 0/1 data: W in two blocks of rows, one a thread, that
    # meet twice a step (three times for CD-2). M=70 is no whole number of
    # vectors.
    one = train(digits[:200], 1, dtype, M=M, batch_size=1, k=k)
    assert np.abs(one.W - untrained(784, M, dtype).W).max() > 0.005  # it learned
    for threads in (3, 2):
        assert_same_model(train(digits[:200], threads, dtype, M=M, batch_size=1, k=k), one)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N,M", [(257, 160), (1, 40000), (64, 16)])
def test_per_sample_blocks_of_any_size_give_the_same_bits(dtype, N, M):
    # Blocks of 128 and 129 rows; of 0 and 1 (block 0 empty); 32 and 32 in a
    # model too small to share, run on one thread.
    data = (np.random.default_rng(N).random((60, N)) < 0.3).astype(np.uint8)
    one = train(data, 1, dtype, M=M, batch_size=1, k=2)
    assert np.abs(one.W - untrained(N, M, dtype).W).max() > 0.005
    assert_same_model(train(data, 2, dtype, M=M, batch_size=1, k=2), one)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_chains", [1, 5])
def test_sampling_few_chains_gives_the_same_bits_on_any_number_of_threads(digits, dtype,
                                                                          n_chains):
    # Up to 16 chains: W in two blocks of rows, one a thread, that meet once
    # a sweep; 150 sweeps are two calls of 64 and one of 22.
    model = train(digits[:200], 1, dtype, M=70, batch_size=10)
    with crbm.num_threads(1):
        one = model.generate(n_chains, n_steps=150, random_state=4)
    assert 0.02 < one.mean() < 0.98
    for threads in (3, 2):
        with crbm.num_threads(threads):
            np.testing.assert_array_equal(
                model.generate(n_chains, n_steps=150, random_state=4), one)


def test_these_minibatches_run_on_crbms_threads(digits, caplog):
    # The tests above would prove nothing about crbm's threads if their
    # minibatches went to BLAS.
    with caplog.at_level(logging.DEBUG, logger="crbm"):
        train(digits, 2)
        train(digits, 2, M=70, batch_size=31)
        train(digits, 2, batch_size=100)
    reports = [r.getMessage() for r in caplog.records if r.getMessage().startswith("train:")]
    assert len(reports) == 3 and all("minibatch step on crbm's threads" in r for r in reports)


def test_uneven_splits_give_the_same_bits(digits):
    # 31-row batches over 3 threads: parts of 10 and 11 rows; M=70 is no
    # whole number of vectors.
    one = train(digits, 1, M=70, batch_size=31)
    assert_same_model(train(digits, 3, M=70, batch_size=31), one)


def test_dense_data_and_small_batches_give_the_same_bits(digits):
    # The paths that leave the threading to BLAS.
    dense = np.random.default_rng(0).random((300, 784))
    assert_same_model(train(dense, 2), train(dense, 1))
    assert_same_model(train(digits, 2, batch_size=10), train(digits, 1, batch_size=10))


def run_python(code, cwd, env=None, timeout=120):
    """Run ``code`` in a fresh interpreter, away from the source tree (which
    would shadow the installed crbm); returns its standard output."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr
    return result.stdout


TRAIN_SNIPPET = """
    import os, hashlib
    import numpy as np
    import crbm
    data = (np.random.default_rng(0).random((300, 784)) < 0.2).astype(np.uint8)
    def digest():
        model = crbm.RBM(784, 64, dtype=np.float32, random_state=0, init="normal")
        model.train(data, 0.05, 1, batch_size=BATCH_SIZE)
        return hashlib.sha256(model.W.tobytes()).hexdigest()
    def digest_in_child():
        # The exit status of a forked child and the digest it trained to.
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.write(write, digest().encode())
            os._exit(0)
        os.close(write)
        child = os.read(read, 100).decode()
        os.close(read)
        _, status = os.waitpid(pid, 0)
        return status, child
"""


ONLINE_SNIPPET = """
    import hashlib, sys
    import numpy as np
    import crbm
    crbm.set_num_threads(int(sys.argv[1]))
    data = (np.random.default_rng(0).random((3000, 784)) < 0.2).astype(np.uint8)
    model = crbm.RBM(784, 100, dtype=np.float32, random_state=0, init="normal")
    model.train(data, 0.05, 2, batch_size=1)
    print(hashlib.sha256(model.W.tobytes() + model.hidden_bias.tobytes()).hexdigest())
"""


def test_per_sample_training_in_busy_processes_gives_the_bits_of_one_thread(tmp_path):
    # Three processes train at once on two threads each: with the cores
    # busy, the two blocks are slow to meet and calls fall back to one
    # thread for a while, then try two again. Mixed so, the results stay
    # those of one thread.
    script = tmp_path / "online.py"
    script.write_text(textwrap.dedent(ONLINE_SNIPPET))
    one = subprocess.run([sys.executable, str(script), "1"], capture_output=True, text=True,
                         cwd=tmp_path, timeout=120)
    assert one.returncode == 0, one.stderr
    busy = [subprocess.Popen([sys.executable, str(script), "2"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=tmp_path)
            for _ in range(3)]
    for process in busy:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        assert out == one.stdout


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux's /proc")
def test_two_threads_start_a_worker_and_one_does_not(tmp_path):
    out = run_python(train_snippet() + """
    tasks = lambda: len(os.listdir("/proc/self/task"))
    crbm.set_num_threads(1)
    before = tasks()
    one = digest()
    after_one = tasks()
    crbm.set_num_threads(2)
    two = digest()
    print(after_one - before, tasks() - after_one, one == two)
    """, tmp_path)
    assert out.split() == ["0", "1", "True"]


def train_snippet(batch_size=32):
    # batch_size=32: minibatches on crbm's own threads; 1: per-sample CD, its
    # blocks on two threads.
    return TRAIN_SNIPPET.replace("BATCH_SIZE", str(batch_size))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("batch_size", [32, 1])
def test_forks_while_another_thread_trains_never_hang(tmp_path, batch_size):
    # A thread trains on both workers while the main thread forks 30 times;
    # each child trains on workers of its own, with the parent's result. A
    # child that inherited a held lock would hang (the timeout fails it).
    # batch_size=1: per-sample CD, its two blocks run together.
    out = run_python(train_snippet(batch_size) + """
    import threading
    crbm.set_num_threads(2)
    parent = digest()
    stop = threading.Event()
    def keep_training():
        while not stop.is_set():
            digest()
    trainer = threading.Thread(target=keep_training)
    trainer.start()
    same = sum(digest_in_child() == (0, parent) for _ in range(30))
    stop.set()
    trainer.join()
    print(same)
    """, tmp_path, timeout=120)
    assert out.split()[-1] == "30"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("batch_size", [32, 1])
def test_a_forked_child_trains_on_its_own_workers(tmp_path, batch_size):
    # The parent's workers do not exist in the child; the child must start
    # its own instead of waiting forever for them.
    out = run_python(train_snippet(batch_size) + """
    crbm.set_num_threads(2)
    parent = digest()
    status, child = digest_in_child()
    print(status, child == parent, digest() == parent)
    """, tmp_path, timeout=60)
    assert out.split() == ["0", "True", "True"]


@pytest.mark.parametrize("batch_size", [100, 1])
def test_concurrent_callers_get_the_results_of_one_at_a_time(digits, batch_size):
    # Several Python threads train their own models at once: one has the
    # pool, the others run their parts themselves (per-sample CD, whose two
    # blocks wait for each other, runs both blocks on the caller).
    # crbm.num_threads is process-wide: set it once, outside the threads.
    data = digits if batch_size > 1 else digits[:100]
    expected = [train(data, 2, M=40 + i, batch_size=batch_size) for i in range(4)]
    got = [None] * 4

    def work(i):
        got[i] = train_here(data, M=40 + i, batch_size=batch_size)

    with crbm.num_threads(2):
        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for a, b in zip(got, expected):
        assert_same_model(a, b)


def test_num_threads_restores_the_previous_number():
    previous = crbm.get_num_threads()
    with pytest.raises(RuntimeError):
        with crbm.num_threads(1) as used:
            assert used == crbm.get_num_threads() == 1
            raise RuntimeError
    assert crbm.get_num_threads() == previous


@pytest.mark.parametrize("bad,error", [(0, ValueError), (65, ValueError), (-1, ValueError),
                                       (2.0, TypeError), (True, TypeError), ("2", TypeError)])
def test_bad_thread_counts_are_refused_and_change_nothing(bad, error):
    previous = crbm.get_num_threads()
    with pytest.raises(error, match="n must"):
        crbm.set_num_threads(bad)
    assert crbm.get_num_threads() == previous


@pytest.mark.parametrize("value,expected", [("1", "1"), ("3", "3"), ("", None)])
def test_crbm_num_threads_sets_the_default(value, expected, tmp_path):
    out = run_python("import crbm; print(crbm.get_num_threads())", tmp_path,
                     env=dict(os.environ, CRBM_NUM_THREADS=value))
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if sys.platform == "win32":  # no worker threads: always 1
        expected = usable = 1
    assert out.strip() == str(expected or min(usable, 64))


@pytest.mark.parametrize("value", ["two", "0", "100"])
def test_a_bad_crbm_num_threads_is_reported_on_import(value, tmp_path):
    env = dict(os.environ, CRBM_NUM_THREADS=value)
    result = subprocess.run([sys.executable, "-c", "import crbm"], capture_output=True,
                            text=True, env=env, cwd=tmp_path, timeout=60)
    assert result.returncode != 0
    assert "CRBM_NUM_THREADS must be" in result.stderr


def test_threadpoolctl_sees_and_limits_crbms_threads():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with crbm.num_threads(2):
        pools = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "crbm"]
        assert len(pools) == 1 and pools[0]["internal_api"] == "crbm"
        assert pools[0]["num_threads"] == 2 and pools[0]["version"] == crbm.__version__
        with threadpoolctl.threadpool_limits(1):
            assert crbm.get_num_threads() == 1
        assert crbm.get_num_threads() == 2
        with threadpoolctl.threadpool_limits({"crbm": 1}):
            assert crbm.get_num_threads() == 1
        with threadpoolctl.threadpool_limits(1, user_api="blas"):  # BLAS's alone
            assert crbm.get_num_threads() == 2
        with threadpoolctl.ThreadpoolController().limit(limits=3, user_api="crbm"):
            assert crbm.get_num_threads() == 3
        assert crbm.get_num_threads() == 2

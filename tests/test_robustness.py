"""Divergence and Ctrl-C: training stops cleanly with the model intact."""
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import crbm


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_divergence_stops_with_the_last_finite_parameters(dtype):
    data = (np.random.default_rng(0).random((500, 20)) < 0.5).astype(np.uint8)
    model = crbm.RBM(20, 10, init="normal", random_state=0, dtype=dtype)
    model.train(data, 0.1, 1, batch_size=10)
    # W -> (1 - lr * decay) W = -9 W per batch: overflow within a few epochs.
    with pytest.raises(crbm.DivergenceError, match="learning_rate=10"):
        model.train(data, 10.0, 50, batch_size=10, weight_decay=1.0, momentum=0.5)
    assert all(np.all(np.isfinite(a)) for a in model._training_arrays())
    assert model.epochs_trained < 51
    model.train(data, 0.01, 1, batch_size=10)  # and it can go on training


CHILD = textwrap.dedent("""
    import signal, sys, time
    import numpy as np
    import crbm
    # A child inherits an ignored SIGINT from its parent (the test process may
    # have had it ignored by what ran before): Ctrl-C must raise here.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    what = sys.argv[1]
    model = crbm.RBM(784, 500, dtype=np.float32, init="normal", random_state=0)
    # 160,000 rows: one epoch takes seconds, so only chunking answers quickly.
    data = np.tile((np.random.default_rng(0).random((20000, 784)) < 0.2).astype(np.uint8), (8, 1))
    model.train(data[:200], 0.01, 1, batch_size=100)
    W = model.W.copy()
    ticks = [time.perf_counter()]  # the start, then when each chunk of nogil work ended
    def progress(n):  # after the first whole chunk: tell the parent once
        ticks.append(time.perf_counter())
        if len(ticks) == 2:
            print("ready", flush=True)
    try:
        if what == "train":
            model.train(data, 0.01, 1000, batch_size=100, progress=progress)
        elif what == "generate":
            model.generate(1000, n_steps=10**6, progress=progress)
        else:
            model.log_partition("ais", n_runs=100, n_betas=10**6, progress=progress)
    except KeyboardInterrupt:
        finite = all(np.all(np.isfinite(a)) for a in model._training_arrays())
        changed = not np.array_equal(model.W, W)
        chunk = max(b - a for a, b in zip(ticks, ticks[1:]))  # the longest whole chunk
        print(f"interrupted finite={finite} changed={changed}", flush=True)
        print(f"{chunk:.3f}", flush=True)
""")


@pytest.mark.skipif(sys.platform == "win32",
                    reason="Windows cannot send SIGINT to one child process")
@pytest.mark.parametrize("what", ["train", "generate", "ais"])
def test_ctrl_c_returns_promptly_with_a_consistent_model(what, tmp_path):
    # cwd outside the source tree: "python -c" imports from the working directory.
    child = subprocess.Popen([sys.executable, "-c", CHILD, what], stdout=subprocess.PIPE,
                             text=True, cwd=tmp_path)
    try:
        assert child.stdout.readline().strip() == "ready"
        time.sleep(0.3)  # into the next chunk of nogil work
        sent = time.perf_counter()
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=30)
        waited = time.perf_counter() - sent
    finally:
        child.kill()
    said, chunk = out.strip().splitlines()
    assert said == f"interrupted finite=True changed={what == 'train'}"
    # Interrupted within the chunk it landed in (plus the next, if it came as
    # one began), not at the end of 1000 epochs or 10**6 sweeps. The bound
    # scales with the chunks this run measured, so a loaded machine, where
    # every chunk is slower, does not fail it.
    assert waited < 1.0 + 3 * float(chunk), (waited, chunk)

"""Do crbm's special paths earn their place? Each one on and off, in one run.

A special path (hand-written AVX-512 sources, sums of rows of W instead of
gemm, crbm's own threads instead of BLAS's, the two-block split of W, row
dots for few rows) stays only where it is at least 10% faster on the
workload it serves. For each, this script times that workload with the
path on and with it off (the policy threshold set so the general path
runs, ``crbm._core._rows._use_avx512(False)``, or one crbm thread),
alternating the two ``--repeats`` times (each run after a pause, so that
none shares the cores with the spinning BLAS threads of the one before),
and prints the median ratio
off / on with its quartiles and the verdict. A path that serves several
workloads (the AVX-512 sources serve all the row loops) stays if it earns
its place on one of them; one kept below 10% is marked so. Workloads: the
first t10k images binarised (pixel > 0), N=784.

    python benchmarks/bench_paths.py [--repeats 7]
"""
from __future__ import annotations

import contextlib
import time
from typing import Callable, ContextManager

import numpy as np

import crbm
from crbm._core import _policy, _rows

from _common import mnist_rows, parser, table

KEEP = 1.10


@contextlib.contextmanager
def avx512_off():
    _rows._use_avx512(False)
    try:
        yield
    finally:
        _rows._use_avx512(True)


def one_thread() -> ContextManager:
    return crbm.num_threads(1)


def workloads(data: np.ndarray) -> dict[str, Callable[[], object]]:
    """Each workload as a function that runs it once from the same start."""
    def trainer(M: int, dtype, rows: int, **options):
        W0 = np.random.default_rng(0).normal(0, 0.01, (784, M)).astype(dtype)

        def run():
            model = crbm.RBM(784, M, dtype=dtype, random_state=0)
            model.W = W0
            model.train(data[:rows], 0.01, 1, **options)
        return run

    def sampler(M: int, n_chains: int, sweeps: int):
        model = crbm.RBM(784, M, dtype=np.float32, random_state=0)
        model.train(data[:2000], 0.05, 1, batch_size=100)
        return lambda: model.generate(n_chains, n_steps=sweeps, random_state=0)

    return {
        "per-sample CD-1, M=100, float32": trainer(100, np.float32, 2000),
        "per-sample CD-1, M=500, float64": trainer(500, np.float64, 1000),
        "Gibbs, 10 chains, M=500": sampler(500, 10, 200),
        "minibatch CD-1, batch 100, M=500, float32": trainer(500, np.float32, 5000,
                                                              batch_size=100),
        "minibatch CD-1, batch 100, M=500, float64": trainer(500, np.float64, 5000,
                                                              batch_size=100),
        "minibatch CD-1, batch 32, M=500, float32": trainer(500, np.float32, 5000,
                                                             batch_size=32),
        "minibatch CD-1, batch 10, M=100, float64": trainer(100, np.float64, 3000,
                                                             batch_size=10),
    }


# (special path, the workload it serves, how to turn it off)
CASES = [
    ("AVX-512 sources of the row loops", "per-sample CD-1, M=100, float32", avx512_off),
    ("AVX-512 sources of the row loops", "Gibbs, 10 chains, M=500", avx512_off),
    ("AVX-512 sources of the row loops", "minibatch CD-1, batch 100, M=500, float32", avx512_off),
    ("two blocks of W on two threads", "per-sample CD-1, M=100, float32", one_thread),
    ("two blocks of W on two threads", "per-sample CD-1, M=500, float64", one_thread),
    ("two blocks of W on two threads", "Gibbs, 10 chains, M=500", one_thread),
    ("few-chain Gibbs by sums of rows (not gemm)", "Gibbs, 10 chains, M=500",
     lambda: _policy.override(binary_max_chains=0)),
    ("large minibatches by sums of rows on crbm's threads (not gemm)",
     "minibatch CD-1, batch 100, M=500, float32",
     lambda: _policy.override(sparse_max_density_large=-1)),
    ("large minibatches by sums of rows on crbm's threads (not gemm)",
     "minibatch CD-1, batch 100, M=500, float64",
     lambda: _policy.override(sparse_max_density_large=-1)),
    ("minibatch step on crbm's threads (not BLAS's)", "minibatch CD-1, batch 32, M=500, float32",
     lambda: _policy.override(parallel_max_density=0.0)),
    ("small minibatches by sums of rows (not gemm)", "minibatch CD-1, batch 10, M=100, float64",
     lambda: _policy.override(sparse_max_density_small=0.0, gradient_max_density=0.0)),
    ("H @ W.T by row dots for few rows (not gemm)", "minibatch CD-1, batch 10, M=100, float64",
     lambda: _policy.override(dots_max_rows=0)),
]


def timed(fn: Callable[[], object]) -> float:
    time.sleep(0.3)
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    data = mnist_rows(args.mnist, 5000)
    runs = workloads(data)
    rows = []
    for path, workload, off in CASES:
        on_times, off_times = alternate(runs[workload], off, args.repeats)
        rows.append(row(path, workload, on_times, off_times))
    print(f"crbm threads {crbm.get_num_threads()}; {args.repeats} alternating runs each\n")
    print(table(["special path", "workload", "on (ms)", "off (ms)", "off / on", "verdict"], rows))


def alternate(fn: Callable[[], object], switch: Callable[[], ContextManager],
              repeats: int) -> tuple[list[float], list[float]]:
    """Times of ``fn`` as it is and inside ``switch()``, alternating."""
    fn()  # warm-up: page in W, start the worker threads
    with switch():
        fn()
    plain, switched = [], []
    for _ in range(repeats):
        # Each timed run starts after a pause: BLAS's threads spin for a
        # while after a call and would take the cores from crbm's threads.
        plain.append(timed(fn))
        with switch():
            switched.append(timed(fn))
    return plain, switched


def row(path: str, workload: str, on: list[float], off: list[float]) -> list[str]:
    ratios = np.array(off) / np.array(on)
    q1, median, q3 = np.percentile(ratios, [25, 50, 75])
    verdict = "keep" if median >= KEEP else "kept: below 10% here"
    return [path, workload, f"{np.median(on) * 1e3:.0f}", f"{np.median(off) * 1e3:.0f}",
            f"{median:.2f} ({q1:.2f}-{q3:.2f})", verdict]


if __name__ == "__main__":
    main()

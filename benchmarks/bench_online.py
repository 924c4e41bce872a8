"""Per-sample CD-1 (the reference algorithm): crbm against a numpy loop.

``batch_size=1`` training on binarised MNIST t10k images: microseconds per
sample for crbm (which updates only the active units' weights, since every
state is 0/1) on one thread and on all of crbm's threads (two blocks of W's
rows, one a thread, at most two), and for the plain numpy per-sample loop
of ``crbm.reference``, which makes the same draws, timed on one BLAS
thread and on BLAS's default threads: the faster of the two is the baseline
of both speed-ups. Also shown: one pass over W, the time of crbm's dense
``W @ h`` alone for one sample (row dots over all of W, which does not fit
in L1), the part of a one-thread step no reordering removes.

    python benchmarks/bench_online.py [--repeats 5]
"""
from __future__ import annotations

import numpy as np

import crbm
from crbm import reference
from crbm._core import _rows

from _common import median_time, mnist_rows, parser, table, threads

N_CRBM = 4000   # samples timed for crbm
N_NUMPY = 1000  # the numpy loop is slow: time fewer samples


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    data = mnist_rows(args.mnist, N_CRBM)
    rows = []
    for dtype in (np.float64, np.float32):
        for M in (100, 500):
            W0 = np.random.default_rng(0).normal(0, 0.01, (784, M)).astype(dtype)

            def run_crbm():
                model = crbm.RBM(784, M, dtype=dtype, random_state=0)
                model.W = W0
                model.train(data, 0.01, 1)

            def run_numpy():
                W, b, c = W0.copy(), np.zeros(784, dtype), np.zeros(M, dtype)
                reference.train(np.random.default_rng(0), data[:N_NUMPY], W, b, c, 0.01, 1,
                                sampler=reference.numpy_bernoulli)

            H = (np.random.default_rng(1).random((N_CRBM, M)) < 0.5).astype(dtype)
            dots = np.ones((N_CRBM, 784), dtype)
            with threads(1):
                us_one = median_time(run_crbm, args.repeats) / N_CRBM * 1e6
                us_numpy_one = median_time(run_numpy, args.repeats) / N_NUMPY * 1e6
                us_pass = median_time(lambda: _rows._row_dots(W0, H, dots),
                                      args.repeats) / N_CRBM * 1e6
            us_all = median_time(run_crbm, args.repeats) / N_CRBM * 1e6
            us_numpy_all = median_time(run_numpy, args.repeats) / N_NUMPY * 1e6
            us_numpy = min(us_numpy_one, us_numpy_all)
            rows.append([np.dtype(dtype).name, M, us_numpy_one, us_numpy_all,
                         us_one, f"{us_numpy / us_one:.1f}x",
                         us_all, f"{us_numpy / us_all:.1f}x", us_pass, f"{us_one / us_pass:.2f}"])
    print(f"per-sample CD-1 on MNIST, N=784, median of {args.repeats}; "
          "speed-ups over the faster numpy")
    print(table(["dtype", "M", "numpy us/sample, 1 thread", "numpy, BLAS threads",
                 "crbm 1 thread", "speed-up",
                 f"crbm {crbm.get_num_threads()} threads", "speed-up",
                 "one pass over W us", "1 thread / pass"], rows))


if __name__ == "__main__":
    main()

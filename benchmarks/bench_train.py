"""Minibatch CD-1 training: crbm against numpy and the GEMM floor.

One epoch over 8,000 binarised MNIST t10k images. The "GEMM floor" is the
five matrix products of minibatch CD-1 alone (three for the phases, two for
the gradient: about 10 N M flops per sample), timed with numpy on the same
shapes: no sigmoid, no random numbers, no bias updates. The numpy baseline
samples from numpy's own uniform stream. "2 threads vs 1" is crbm's time
with BLAS and crbm's own loops limited to one thread over its time with
both cores (crbm splits large minibatches of sparse data across its own
threads, see ``crbm.set_num_threads``).

    python benchmarks/bench_train.py [--repeats 5]
"""
from __future__ import annotations

import numpy as np

import crbm
from crbm import reference

from _common import median_time, mnist_rows, parser, table, threads

N_IMAGES = 8000
CONFIGS = [(500, 100), (100, 10)]  # (hidden units, batch size)


def gemm_floor(data: np.ndarray, W: np.ndarray, batch: int) -> None:
    """The five products of one epoch of minibatch CD-1, and nothing else."""
    N, M = W.shape
    PH, V = np.empty((batch, M), W.dtype), np.empty((batch, N), W.dtype)
    G = np.empty_like(W)
    for start in range(0, len(data), batch):
        V0 = data[start:start + batch]
        n = len(V0)
        np.matmul(V0, W, out=PH[:n])       # positive phase
        np.matmul(PH[:n], W.T, out=V[:n])  # visible reconstruction
        np.matmul(V[:n], W, out=PH[:n])    # negative phase
        np.matmul(V0.T, PH[:n], out=G)     # positive statistics
        np.matmul(V[:n].T, PH[:n], out=G)  # negative statistics


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    data = mnist_rows(args.mnist, N_IMAGES)
    rows = []
    for dtype in (np.float32, np.float64):
        data_f = data.astype(dtype)  # numpy and the floor get float data for free
        for M, batch in CONFIGS:
            rng = np.random.default_rng(0)
            W0 = rng.normal(0, 0.01, (784, M)).astype(dtype)

            def run_crbm():
                model = crbm.RBM(784, M, dtype=dtype, random_state=0)
                model.W = W0
                model.train(data, 0.05, 1, batch_size=batch)

            def run_numpy():
                W, b, c = W0.copy(), np.zeros(784, dtype), np.zeros(M, dtype)
                reference.train(np.random.default_rng(0), data_f, W, b, c, 0.05, 1, batch,
                                sampler=reference.numpy_bernoulli)

            t_crbm = median_time(run_crbm, args.repeats)
            with threads(1):
                t_one_thread = median_time(run_crbm, args.repeats)
            t_numpy = median_time(run_numpy, args.repeats)
            t_floor = median_time(lambda: gemm_floor(data_f, W0, batch), args.repeats)
            rows.append([np.dtype(dtype).name, M, batch, t_crbm, t_numpy, t_floor,
                         f"{t_crbm / t_floor:.2f}", f"{t_numpy / t_crbm:.1f}x",
                         f"{t_numpy / t_floor:.2f}", f"{t_one_thread / t_crbm:.2f}x"])
    print(f"one epoch of minibatch CD-1 over {N_IMAGES} MNIST images, N=784, "
          f"median of {args.repeats}")
    print(table(["dtype", "M", "batch", "crbm s", "numpy s", "GEMM floor s",
                 "crbm/floor", "numpy/crbm", "numpy/floor", "2 threads vs 1"], rows))


if __name__ == "__main__":
    main()

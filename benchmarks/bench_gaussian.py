"""Gaussian-Bernoulli minibatch CD-1 on greyscale MNIST against the GEMM floor.

One epoch over 8,000 greyscale MNIST t10k images, N=784, M=500, batch 100:
standardised (per-pixel centring, one global scale: every value nonzero)
and scaled to [0, 1] (81% zeros, whose positive phase skips them). The
"GEMM floor" is the same five matrix products as Bernoulli minibatch CD-1
(see bench_train.py), timed with numpy on the same shapes; what Gaussian
units add (v / sigma^2, the normal draws, the log-variance gradient) is
all above it. Also: the same epoch with sigma fixed, and plain numpy
(crbm.reference with numpy's own random streams).

Each ratio is a median (and quartiles) over ``--repeats`` runs of the
floor and crbm side by side.

    python benchmarks/bench_gaussian.py [--repeats 9]
"""
from __future__ import annotations

import time

import numpy as np

import crbm
from crbm import reference
from crbm.preprocessing import Standardizer

from _common import median_time, parser, table
from bench_train import gemm_floor

N_IMAGES, M, BATCH = 8000, 500, 100


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def spread(ratios: np.ndarray) -> str:
    """Median (first to third quartile) of a ratio's runs."""
    q1, median, q3 = np.percentile(ratios, [25, 50, 75])
    return f"{median:.2f} ({q1:.2f}-{q3:.2f})"


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    images, _ = crbm.load_mnist(args.mnist, split="t10k")
    unit = images[:N_IMAGES].reshape(N_IMAGES, -1).astype(np.float32) / 255
    data = {"standardised": Standardizer(scale="global").fit_transform(unit, np.float32),
            "[0, 1]": unit}
    rows = []
    for dtype in (np.float32, np.float64):
        W0 = np.random.default_rng(0).normal(0, 0.01, (784, M)).astype(dtype)
        for name, X in data.items():
            X = X.astype(dtype)

            def run_crbm(learn_std=True):
                model = crbm.RBM(784, M, visible=crbm.units.Gaussian(learn_std=learn_std),
                                 dtype=dtype, random_state=0)
                model.W = W0
                model.train(X, 0.001, 1, batch_size=BATCH)

            def run_numpy():
                W, b, c, z = W0.copy(), np.zeros(784, dtype), np.zeros(M, dtype), np.zeros(784, dtype)
                reference.train(np.random.default_rng(0), X, W, b, c, 0.001, 1, BATCH,
                                sampler=reference.numpy_bernoulli, log_var=z,
                                learn_variance=True, gaussian_sampler=reference.numpy_gaussian)

            # The floor, the learned and the fixed sigma in turn, repeats
            # times: each ratio is of neighbouring runs (the machine's speed
            # moves between them less than over the whole benchmark).
            times = np.array([[timed(lambda: gemm_floor(X, W0, BATCH)), timed(run_crbm),
                               timed(lambda: run_crbm(False))]
                              for _ in range(args.repeats + 1)])[1:]
            t_floor, t_crbm, t_fixed = np.median(times, axis=0)
            learned, fixed = times[:, 1] / times[:, 0], times[:, 2] / times[:, 0]
            t_numpy = median_time(run_numpy, max(1, args.repeats // 2))
            rows.append([np.dtype(dtype).name, name, t_crbm, t_fixed, t_floor, t_numpy,
                         spread(learned), spread(fixed), f"{t_numpy / t_crbm:.1f}x"])
    print(f"one epoch of Gaussian-Bernoulli minibatch CD-1 over {N_IMAGES} greyscale MNIST "
          f"images, N=784, M={M}, batch {BATCH}, median of {args.repeats}")
    print(table(["dtype", "data", "crbm s", "sigma fixed s", "GEMM floor s", "numpy s",
                 "crbm/floor", "fixed/floor", "numpy/crbm"], rows))


if __name__ == "__main__":
    main()

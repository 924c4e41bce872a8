"""Gaussian-Bernoulli minibatch CD-1 on greyscale MNIST against the GEMM floor.

One epoch over 8,000 greyscale MNIST t10k images, N=784, M=500, batch 100:
standardised (per-pixel centring, one global scale: every value nonzero)
and scaled to [0, 1] (81% zeros, which the positive phase skips). The
"GEMM floor" is the same five matrix products as Bernoulli minibatch CD-1
(see bench_train.py), timed with numpy on the same shapes, and again on
scipy's BLAS, the copy crbm calls (a different OpenBLAS build, which can
be slower than numpy's); what Gaussian
units add (v / sigma^2, the normal draws, the log-variance gradient) is
all above it. Also: the same epoch with sigma fixed, and plain numpy
(crbm.reference with numpy's own random streams).

Each ratio is a median (and quartiles) over ``--repeats`` runs of the
floor and crbm side by side, and beside it the ratio of the fastest run of
each ("best"): on a shared machine other work only ever adds time, so the
fastest runs are the ones it disturbed least.

    python benchmarks/bench_gaussian.py [--repeats 9]
"""
from __future__ import annotations

import numpy as np

import crbm
from crbm import reference
from crbm.preprocessing import Standardizer

from _common import median_time, neighbouring_times, parser, ratio_spread, table
from bench_train import gemm_floor
from crbm._core import _blas

N_IMAGES, M, BATCH = 8000, 500, 100


def scipy_gemm_floor(data: np.ndarray, W: np.ndarray, batch: int) -> None:
    """The same five products on scipy's BLAS (``scipy.linalg.cython_blas``,
    the copy of OpenBLAS crbm links to), which can be slower than numpy's."""
    gemm, plain, transposed = _blas._gemm_memview, 110, 116  # ord("n"), ord("t")
    N, M = W.shape
    PH, V, G = np.empty((batch, M), W.dtype), np.empty((batch, N), W.dtype), np.empty_like(W)
    for start in range(0, len(data) - batch + 1, batch):
        V0 = data[start:start + batch]
        gemm(plain, plain, 1.0, V0, W, 0.0, PH)
        gemm(plain, transposed, 1.0, PH, W, 0.0, V)
        gemm(plain, plain, 1.0, V, W, 0.0, PH)
        gemm(transposed, plain, 1.0, V0, PH, 0.0, G)
        gemm(transposed, plain, 1.0, V, PH, 0.0, G)


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

            times = neighbouring_times([lambda: gemm_floor(X, W0, BATCH),
                                        lambda: scipy_gemm_floor(X, W0, BATCH), run_crbm,
                                        lambda: run_crbm(False)], args.repeats)
            t_floor, t_scipy, t_crbm, t_fixed = np.median(times, axis=0)
            t_numpy = median_time(run_numpy, max(1, args.repeats // 2))
            rows.append([np.dtype(dtype).name, name, t_crbm, t_fixed, t_floor, t_scipy, t_numpy,
                         ratio_spread(times[:, 2], times[:, 0]),
                         ratio_spread(times[:, 3], times[:, 0]),
                         ratio_spread(times[:, 2], times[:, 1]),
                         ratio_spread(times[:, 3], times[:, 1]),
                         f"{t_numpy / t_crbm:.1f}x"])
    print(f"one epoch of Gaussian-Bernoulli minibatch CD-1 over {N_IMAGES} greyscale MNIST "
          f"images, N=784, M={M}, batch {BATCH}, median of {args.repeats}")
    print(table(["dtype", "data", "crbm s", "sigma fixed s", "floor s", "floor, scipy BLAS s",
                 "numpy s", "crbm/floor", "fixed/floor", "crbm/scipy floor",
                 "fixed/scipy floor", "numpy/crbm"], rows))


if __name__ == "__main__":
    main()

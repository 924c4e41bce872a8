"""Annealed importance sampling against the GEMM floor and plain numpy.

Forward and reverse AIS of a 784 x 500 model (trained for one epoch on the
first 10,000 binarised t10k images), 100 runs, in float32 and float64. A
step of AIS is two matrix products, X = V W (100 x 784 by 784 x 500) and
beta H W^T; the "GEMM floor" is those two products alone, as many times,
on scipy's BLAS (``scipy.linalg.cython_blas``, the copy crbm calls) and on
numpy's. Everything AIS adds (the log-weights' softplus sums in float64,
the Bernoulli draws) is above it. "numpy" is the same algorithm written
with numpy arrays (crbm's evaluation before the compiled kernel), timed
on a tenth of the temperatures and scaled: it costs the same per step.

Times are per run of ``--betas`` temperatures (Salakhutdinov & Murray use
14,500; the cost is linear in them). Each ratio is a median (quartiles)
over ``--repeats`` neighbouring runs, and the ratio of the fastest ones.

    python benchmarks/bench_ais.py [--betas 2000] [--repeats 5]
"""
from __future__ import annotations

import numpy as np
from scipy.special import expit

import crbm
from crbm import annealing, evaluate
from crbm._core import _blas

from _common import mnist_rows, neighbouring_times, parser, ratio_spread, table

N_RUNS, M = 100, 500


def gemm_floor(model: crbm.RBM, n_steps: int, blas: str) -> None:
    """The two products of each AIS step, ``n_steps`` times."""
    W = model.W
    V = (np.random.default_rng(0).random((N_RUNS, W.shape[0])) < 0.5).astype(W.dtype)
    X, F = np.empty((N_RUNS, M), W.dtype), np.empty_like(V)
    if blas == "numpy":
        for _ in range(n_steps):
            np.matmul(V, W, out=X)
            np.matmul(X, W.T, out=F)
        return
    gemm, plain, transposed = _blas._gemm_memview, 110, 116  # ord("n"), ord("t")
    for _ in range(n_steps):
        gemm(plain, plain, 1.0, V, W, 0.0, X)
        gemm(plain, transposed, 0.5, X, W, 0.0, F)


def numpy_ais(model: crbm.RBM, betas: np.ndarray, rate: np.ndarray, seed: int) -> float:
    """Forward AIS in numpy arrays, in float64 (Salakhutdinov & Murray's algorithm)."""
    rng = np.random.default_rng(seed)
    W, b, c = (x.astype(np.float64) for x in (model.W, model.visible_bias, model.hidden_bias))
    b_base = np.log(rate) - np.log1p(-rate)
    V = (rng.random((N_RUNS, len(b))) < expit(b_base)).astype(np.float64)

    def log_p_star(beta):
        return (1 - beta) * v_base + beta * v_bias + np.logaddexp(0.0, beta * X).sum(axis=1)

    X, v_base, v_bias = V @ W + c, V @ b_base, V @ b
    log_w = -log_p_star(betas[0])
    for beta in betas[1:-1]:
        log_w += log_p_star(beta)
        H = (rng.random((N_RUNS, M)) < expit(beta * X)).astype(np.float64)
        V = (rng.random(V.shape) < expit((1 - beta) * b_base + beta * (H @ W.T + b))).astype(
            np.float64)
        X, v_base, v_bias = V @ W + c, V @ b_base, V @ b
        log_w -= log_p_star(beta)
    log_w += log_p_star(betas[-1])
    return float(log_w.mean())


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--betas", type=int, default=2000, help="temperatures per run")
    args = p.parse_args()
    data = mnist_rows(args.mnist, 10000)
    rate = np.clip(data.mean(axis=0), 1e-3, 1 - 1e-3)
    betas = evaluate.ais_betas(args.betas)
    n_steps = args.betas - 1
    rows = []
    for dtype in (np.float32, np.float64):
        model = crbm.RBM(784, M, dtype=dtype, init="normal", random_state=0)
        model.train(data, 0.05, 1, batch_size=100)

        def forward():
            annealing.forward(model, N_RUNS, betas, rate, np.random.default_rng(1))

        def reverse():
            annealing.reverse(model, data[:N_RUNS], betas, rate, np.random.default_rng(1))

        tenth = evaluate.ais_betas(max(4, args.betas // 10))
        times = neighbouring_times([
            lambda: gemm_floor(model, n_steps, "scipy"), lambda: gemm_floor(model, n_steps, "numpy"),
            forward, reverse, lambda: numpy_ais(model, tenth, rate, 1)], args.repeats)
        scipy_floor, numpy_floor, fwd, rev, plain = times.T
        plain = plain * n_steps / (len(tenth) - 1)
        rows.append([np.dtype(dtype).name, f"{np.median(fwd):.2f} s",
                     ratio_spread(fwd, scipy_floor), ratio_spread(fwd, numpy_floor),
                     ratio_spread(rev, scipy_floor), ratio_spread(plain, fwd)])
    print(f"AIS of a 784 x {M} model, {N_RUNS} runs x {args.betas} temperatures, "
          f"{crbm.get_num_threads()} threads")
    print(table(["dtype", "forward", "forward / scipy floor", "forward / numpy floor",
                 "reverse / scipy floor", "numpy AIS / forward"], rows))


if __name__ == "__main__":
    main()

"""Block Gibbs sampling, M=500: crbm against a numpy loop and the GEMM floor.

Chain-steps per second (one step = one sweep v -> h -> v of one chain) for
1, 100 and 1,000 chains, with crbm's ``generate`` and the plain numpy loop of
``crbm.reference.generate`` (the same draws). For 1,000 chains the "GEMM
floor" is the sweep's two matrix products alone, timed with numpy. For one
chain the floor is memory: a sweep must read the rows of W that the active
visible units pick and the columns the active hidden units pick, and the
"read floor" is that fraction of W (the chains' mean activity) times the
time of a dense W.T @ x, the fastest way to stream all of W. Also shown:
crbm with BLAS (and crbm's own loops) limited to one thread, for the
two-core speed-up.

    python benchmarks/bench_sample.py [--repeats 5]
"""
from __future__ import annotations

import numpy as np

import crbm
from crbm import reference

from _common import median_time, mnist_rows, parser, table, threads

M = 500
CHAINS_AND_STEPS = [(1, 2000), (100, 100), (1000, 10)]


def trained_model(data: np.ndarray, dtype) -> crbm.RBM:
    model = crbm.RBM(784, M, dtype=dtype, init="normal", random_state=0)
    return model.train(data, 0.05, 1, batch_size=100)


def read_floor(model: crbm.RBM, n_steps: int, repeats: int) -> float:
    """Seconds for n_steps single-chain sweeps that read only the weights
    the active units pick, at the speed of streaming all of W."""
    V = model.generate(100, n_steps=200, random_state=1)
    active = V.mean() + model.hidden_probabilities(V).mean()
    W, x = model.W, np.ones(model.n_visible, model.dtype)
    stream = median_time(lambda: [W.T @ x for _ in range(200)], repeats) / 200
    return active * stream * n_steps


def gemm_floor(W: np.ndarray, n_chains: int, n_steps: int) -> None:
    V = np.zeros((n_chains, W.shape[0]), W.dtype)
    H = np.zeros((n_chains, W.shape[1]), W.dtype)
    for _ in range(n_steps):
        np.matmul(V, W, out=H)
        np.matmul(H, W.T, out=V)


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    data = mnist_rows(args.mnist, 2000)
    rows = []
    for dtype in (np.float32, np.float64):
        model = trained_model(data, dtype)
        W, b, c = model.W, model.visible_bias, model.hidden_bias
        for n_chains, n_steps in CHAINS_AND_STEPS:
            work = n_chains * n_steps
            t_crbm = median_time(lambda: model.generate(n_chains, n_steps=n_steps), args.repeats)
            with threads(1):
                t_one = median_time(lambda: model.generate(n_chains, n_steps=n_steps), args.repeats)
            rng = np.random.default_rng(0)
            t_numpy = median_time(lambda: reference.generate(rng, W, b, c, n_chains, n_steps,
                                                              reference.numpy_bernoulli),
                                  args.repeats)
            floor = ""
            if n_chains == 1:
                floor = f"{read_floor(model, n_steps, args.repeats) / t_crbm:.2f} (read)"
            if n_chains == 1000:
                t_floor = median_time(lambda: gemm_floor(W, n_chains, n_steps), args.repeats)
                floor = f"{t_floor / t_crbm:.2f} (GEMM)"
            rows.append([np.dtype(dtype).name, n_chains, f"{work / t_crbm:,.0f}",
                         f"{work / t_numpy:,.0f}", f"{t_numpy / t_crbm:.1f}x", floor,
                         f"{t_one / t_crbm:.2f}x"])
    print(f"Gibbs sampling, N=784, M={M}, chain-steps per second, median of {args.repeats}")
    print(table(["dtype", "chains", "crbm", "numpy", "crbm/numpy",
                 "crbm rate / floor rate", "2 threads vs 1"], rows))


if __name__ == "__main__":
    main()

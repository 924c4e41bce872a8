"""Gaussian visible units on real data: greyscale MNIST, the documented example.

Trains ``crbm.recipes.RECIPES["gaussian"]`` (PCD from each pixel's mean and
standard deviation, lr 1e-4, sigma learned with min_std 0.1, 20 epochs,
float32, M=500) on the
60,000 training images scaled to [0, 1] (pixel / 255, what ``crbm train
--visible gaussian`` does) and reports, on the 10,000 t10k images: the
reconstruction error (mean squared error of E[v | p(h | v)]), the learned
sigma, and the log-likelihood by AIS (a density on [0, 1]^784, in nats per
image), beside a diagonal Gaussian fitted to the training pixels with the
same lower bound on sigma. Writes PNG grids of the filters, test
reconstructions and samples to ``--out``.

    python benchmarks/gaussian_mnist.py [--out gaussian-mnist] [--hidden 500]
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import crbm
from crbm.io.images import save_png, tile_images
from crbm.recipes import RECIPES, split

from _common import parser


def diagonal_gaussian_log_likelihood(train: np.ndarray, test: np.ndarray,
                                     min_std: float) -> float:
    mean = train.mean(0)
    std = np.maximum(train.std(0), min_std)
    z = (test - mean) / std
    return float(np.mean(np.sum(-0.5 * z ** 2 - np.log(std) - 0.5 * np.log(2 * np.pi), axis=1)))


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("gaussian-mnist"))
    p.add_argument("--hidden", type=int, default=500)
    p.add_argument("--ais-runs", type=int, default=100)
    p.add_argument("--ais-betas", type=int, default=3000)
    p.add_argument("--ais-images", type=int, default=2000)
    args = p.parse_args()
    train_images, _ = crbm.load_mnist(args.mnist, split="train")
    test_images, _ = crbm.load_mnist(args.mnist, split="t10k")
    train = train_images.reshape(len(train_images), -1).astype(np.float32) / 255
    test = test_images.reshape(len(test_images), -1).astype(np.float32) / 255

    model_kw, train_kw = split(RECIPES["gaussian"])
    rbm = crbm.RBM(784, args.hidden, random_state=0, **model_kw)
    start = time.perf_counter()
    rbm.train(train, shuffle=True, **train_kw)
    seconds = time.perf_counter() - start

    def reconstruction_error(x: np.ndarray) -> float:
        return float(np.mean((x - rbm.visible_means(rbm.hidden_probabilities(x))) ** 2))

    std = rbm.visible_std
    min_std = rbm.visible.min_std
    ais_test = test[:args.ais_images]
    start = time.perf_counter()
    log_z = rbm.log_partition("ais", n_runs=args.ais_runs, n_betas=args.ais_betas,
                              random_state=0)
    ais_seconds = time.perf_counter() - start
    ll = float(np.mean(rbm.log_likelihood(ais_test, log_z=log_z)))
    baseline = diagonal_gaussian_log_likelihood(train, ais_test, min_std)

    print(f"train: 60,000 images in [0, 1], recipe 'gaussian', M={args.hidden}: "
          f"{seconds:.1f} s ({train_kw['epochs']} epochs)")
    print(f"reconstruction error (MSE per pixel): train {reconstruction_error(train[:10000]):.4f}, "
          f"test {reconstruction_error(test):.4f}; "
          f"predicting each pixel's training mean: {float(np.mean((test - train.mean(0)) ** 2)):.4f}")
    print(f"learned sigma: min {std.min():.3f}, median {np.median(std):.3f}, max {std.max():.3f} "
          f"(pixel std in the data: median {np.median(train.std(0)):.3f}); "
          f"{int(np.sum(std <= min_std * 1.001))} of 784 at min_std {min_std}")
    print(f"log-likelihood (AIS, {args.ais_runs} runs x {args.ais_betas} temperatures, "
          f"{ais_seconds:.0f} s), first {len(ais_test)} t10k images: {ll:.1f} nats per image; "
          f"diagonal Gaussian with the same min_std: {baseline:.1f}")

    args.out.mkdir(parents=True, exist_ok=True)
    filters = rbm.W.T[:100]
    filters = (filters - filters.min(1, keepdims=True)) / np.ptp(filters, 1, keepdims=True)
    save_png(args.out / "filters.png", tile_images(filters, (28, 28), n_cols=10))
    pairs = np.empty((20, 784), np.float32)
    pairs[0::2] = test[:10]
    pairs[1::2] = np.clip(rbm.visible_means(rbm.hidden_probabilities(test[:10])), 0, 1)
    save_png(args.out / "reconstructions.png", tile_images(pairs, (28, 28), n_cols=10))
    chains = rbm.generate(100, n_steps=1000, random_state=0)
    means = np.clip(rbm.visible_means(rbm.sample_hidden(chains, random_state=1)), 0, 1)
    save_png(args.out / "samples.png", tile_images(means, (28, 28), n_cols=10))
    print(f"wrote {args.out}/filters.png, reconstructions.png, samples.png")


if __name__ == "__main__":
    main()

"""Time the reference experiment: crbm against the plain numpy reference.

The experiment crbm started from: binarise 10,000 MNIST images (pixel > 0),
train an RBM(784, 100) by calling ``train`` on each batch of 100 images
(per-sample CD-1, learning rate 0.01, 3 epochs per batch), then generate 100
digits (1,000 Gibbs sweeps each). The numpy version draws from numpy's own
uniform stream (``crbm.reference.numpy_bernoulli``), its fastest sampler.

    python benchmarks/reference_experiment.py [--mnist DIR] [--out DIR]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import crbm
from crbm import reference

DEFAULT_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


def run_crbm(data: np.ndarray, seed: int) -> tuple[crbm.RBM, float, float]:
    model = crbm.RBM(784, 100, random_state=seed)
    start = time.perf_counter()
    for batch in np.split(data, len(data) // 100):
        model.train(batch)
    trained = time.perf_counter()
    model.generate(100)
    return model, trained - start, time.perf_counter() - trained


def run_numpy(data: np.ndarray, seed: int) -> tuple[np.ndarray, float, float]:
    rng = np.random.default_rng(seed)
    W, b, c = np.zeros((784, 100)), np.zeros(784), np.zeros(100)
    start = time.perf_counter()
    for batch in np.split(data, len(data) // 100):
        reference.train(rng, batch, W, b, c, 0.01, 3, sampler=reference.numpy_bernoulli)
    trained = time.perf_counter()
    reference.generate(rng, W, b, c, 100, 1000, sampler=reference.numpy_bernoulli)
    return W, trained - start, time.perf_counter() - trained


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", type=Path, default=DEFAULT_MNIST)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="also write the 100 digits as PNG here")
    args = parser.parse_args()

    images, _ = crbm.load_mnist(args.mnist, split="t10k")
    data = crbm.binarize(images[:10000])
    model, crbm_train, crbm_generate = run_crbm(data, args.seed)
    _, numpy_train, numpy_generate = run_numpy(data, args.seed)

    print(f"reference experiment: {len(data)} images, batches of 100, 3 epochs per batch, "
          "100 hidden units, then 100 samples x 1000 Gibbs sweeps")
    print(f"{'':12}{'train (s)':>12}{'generate (s)':>14}")
    print(f"{'crbm':12}{crbm_train:12.3f}{crbm_generate:14.3f}")
    print(f"{'numpy':12}{numpy_train:12.3f}{numpy_generate:14.3f}")
    print(f"{'speed-up':12}{numpy_train / crbm_train:11.1f}x{numpy_generate / crbm_generate:13.1f}x")
    if args.out is not None:
        from crbm.io.images import save_each, save_png, tile_images
        samples = model.generate(100, random_state=args.seed)
        args.out.mkdir(parents=True, exist_ok=True)
        save_png(args.out / "samples.png", tile_images(samples))
        save_each(args.out / "each", samples)
        print(f"wrote {args.out}/samples.png and {args.out}/each/0.png ... 99.png")


if __name__ == "__main__":
    main()

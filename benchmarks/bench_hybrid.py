"""The cost of the hybrid term: labelled training with and without ``discriminative``.

One epoch of the first 6,000 binarised MNIST training images and their
labels with the ``labelled`` recipe's settings (784-500 with 10 label units,
float32, CD-20 from noise, labels held, batches of 100), with the hybrid
term (weight 1) and without it, in one run: the ratio is the term's cost.

    python benchmarks/bench_hybrid.py
"""
from __future__ import annotations

import numpy as np

import crbm

from _common import median_time, parser, table, threads

N_IMAGES = 6000
SETTINGS = dict(learning_rate=0.02, batch_size=100, k=20, from_noise=True, clamp_labels=True)


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    args = p.parse_args()
    images, labels = crbm.load_mnist(args.mnist, split="train")
    X, y = crbm.binarize(images[:N_IMAGES]), labels[:N_IMAGES]
    rows = []
    for n_threads in (1, 2):
        times = {}
        with threads(n_threads):
            for weight in (0.0, 1.0):
                model = crbm.RBM(784, 500, n_labels=10, init="normal", dtype=np.float32,
                                 random_state=0)
                times[weight] = median_time(
                    lambda: model.train(X, epochs=1, labels=y, discriminative=weight,
                                        **SETTINGS), args.repeats)
        rows.append([n_threads, f"{times[0.0]:.2f}", f"{times[1.0]:.2f}",
                     f"{times[1.0] / times[0.0]:.2f}"])
    print(table(["threads", "generative s/epoch", "hybrid s/epoch", "hybrid / generative"],
                rows))


if __name__ == "__main__":
    main()

"""What models learn: test log-likelihood of several recipes on MNIST.

Train on the 8,000 t10k images whose index % 5 != 0, test on the 2,000 with
index % 5 == 0 (pixel > 0 binarisation, 500 hidden units). Every model is
scored by the same annealed importance sampling (crbm.evaluate, 100 runs,
10,000 inverse temperatures, base rates from the training data), whoever
trained it:

* crbm CD-1 and a plain numpy CD-1 of the same settings (lr 0.05, batch
  100, 50 epochs): they should agree within 2 nats;
* scikit-learn's BernoulliRBM with its defaults and n_components=500, if
  scikit-learn is installed;
* crbm's default recipe (crbm.recipes.RECIPES["default"]), what
  ``crbm train --hidden 500`` runs.

    python benchmarks/bench_quality.py [--betas 10000]
"""
from __future__ import annotations

import time

import numpy as np

import crbm
from crbm import reference
from crbm.recipes import RECIPES, split

from _common import mnist_rows, parser, table

M = 500


def split_data(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    index = np.arange(len(data))
    return data[index % 5 != 0], data[index % 5 == 0]


def numpy_cd1(train: np.ndarray, seed: int) -> crbm.RBM:
    """Plain numpy CD-1 (lr 0.05, batch 100, 50 epochs) wrapped in an RBM for scoring.

    Same start as crbm's ``init="normal"`` with the same seed; the training
    draws come from numpy's own stream.
    """
    rng = np.random.default_rng(seed)
    W, b, c = rng.normal(0, 0.01, (784, M)), np.zeros(784), np.zeros(M)
    p = np.clip(train.mean(axis=0), 1e-3, 1 - 1e-3)
    b[:] = np.log(p / (1 - p))
    reference.train(rng, train.astype(np.float64), W, b, c, 0.05, 50, 100,
                    sampler=reference.numpy_bernoulli)
    model = crbm.RBM(784, M)
    model.W, model.visible_bias, model.hidden_bias = W, b, c
    return model


def sklearn_rbm(train: np.ndarray) -> crbm.RBM:
    from sklearn.neural_network import BernoulliRBM
    rbm = BernoulliRBM(n_components=M, random_state=0).fit(train.astype(np.float64))
    model = crbm.RBM(784, M)
    model.W = rbm.components_.T
    model.visible_bias, model.hidden_bias = rbm.intercept_visible_, rbm.intercept_hidden_
    return model


def crbm_recipe(train: np.ndarray, seed: int = 0, **recipe) -> crbm.RBM:
    model_settings, train_settings = split(recipe)
    model = crbm.RBM(784, M, random_state=seed, **model_settings)
    return model.train(train, **train_settings)


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--betas", type=int, default=10000, help="AIS inverse temperatures")
    p.add_argument("--seeds", type=int, default=1,
                   help="CD-1 runs per implementation (seeds 0, 1, ...): AIS and training "
                        "noise are of the order of the 2-nat comparison")
    args = p.parse_args()
    train, test = split_data(mnist_rows(args.mnist, 10000))
    cd1 = dict(init="normal", dtype="float64", epochs=50, batch_size=100, learning_rate=0.05)
    runs = {}
    for seed in range(args.seeds):
        runs[f"crbm CD-1 (lr 0.05, batch 100, 50 epochs), seed {seed}"] = \
            lambda seed=seed: crbm_recipe(train, seed, **cd1)
        runs[f"numpy CD-1 (same settings), seed {seed}"] = lambda seed=seed: numpy_cd1(train, seed)
    runs.update({
        "scikit-learn BernoulliRBM, defaults, 500 units": lambda: sklearn_rbm(train),
        "crbm default recipe (crbm train --hidden 500)": lambda: crbm_recipe(train, **RECIPES["default"]),
    })
    rows = []
    for name, fit in runs.items():
        try:
            start = time.perf_counter()
            model = fit()
        except ImportError as exc:
            rows.append([name, "-", f"skipped: {exc}"])
            continue
        seconds = time.perf_counter() - start
        log_z = model.log_partition("ais", n_runs=100, n_betas=args.betas,
                                    base_rate=train.mean(axis=0), random_state=0)
        rows.append([name, f"{seconds:.1f}", f"{model.log_likelihood(test, log_z=log_z):.2f}"])
        print(rows[-1], flush=True)
    print(f"MNIST t10k: {len(train)} training / {len(test)} test images, {M} hidden units, "
          f"AIS with 100 runs x {args.betas} temperatures")
    print(table(["recipe", "training s", "test log-likelihood (nats)"], rows))


if __name__ == "__main__":
    main()

"""crbm.sklearn.BernoulliRBM against scikit-learn's BernoulliRBM: fit time and quality.

Two cases, both float32 (which both estimators keep), both with
scikit-learn's default minibatch of 10 rows and batch_size PCD chains:

* scikit-learn's example "Restricted Boltzmann Machine features for digit
  classification": the 8x8 digits and their 1-pixel shifts scaled to [0, 1]
  (7,188 training rows), n_components=100, learning_rate=0.06, n_iter=10,
  then LogisticRegression(C=6000, solver="newton-cg") on the features. The
  example's tol=1 stops newton-cg at iteration 0 in current scikit-learn
  (chance accuracy for either RBM), so tol=1e-3 is used. Accuracy is the
  mean over ``--seeds`` seeds.
* binarised MNIST t10k: 8,000 training rows, n_components=256,
  ``--mnist-iter`` passes; quality is the pseudo-likelihood per unit of the
  2,000 held-out rows, computed the same way for both models
  (crbm.evaluate.pseudo_likelihood, seeded).

"crbm.RBM.train" times crbm's own interface with the same settings
(persistent=True, n_chains=batch_size): the estimator adds nothing to it.
BLAS (and crbm's own loops) run on ``--threads`` threads (default 1) for
both: products of 10-row minibatches gain little from a second thread, and
on a machine whose other cores are busy, OpenBLAS threads waiting for each
other make both estimators several times slower (``--threads 0``: no
limit).

    python benchmarks/bench_sklearn.py [--repeats 3] [--seeds 3] [--mnist-iter 3]
"""
from __future__ import annotations

import time
import warnings

import numpy as np
from scipy.ndimage import convolve
from sklearn import datasets
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM as SklearnRBM
from sklearn.preprocessing import minmax_scale

import crbm
from crbm.sklearn import BernoulliRBM

from _common import median_time, mnist_rows, parser, table, threads


def nudged_digits() -> list:
    """The example's data: digits and their 1-pixel shifts, in [0, 1], split 80/20."""
    X, y = datasets.load_digits(return_X_y=True)
    X = np.asarray(X, "float32")
    shifts = [[[0, 1, 0], [0, 0, 0], [0, 0, 0]], [[0, 0, 0], [1, 0, 0], [0, 0, 0]],
              [[0, 0, 0], [0, 0, 1], [0, 0, 0]], [[0, 0, 0], [0, 0, 0], [0, 1, 0]]]
    moved = [np.array([convolve(x.reshape(8, 8), mode="constant", weights=w).ravel()
                       for x in X]) for w in shifts]
    X = minmax_scale(np.concatenate([X] + moved), feature_range=(0, 1))
    return train_test_split(X, np.tile(y, 5), test_size=0.2, random_state=0)


def crbm_train(X: np.ndarray, n_components: int, learning_rate: float, n_iter: int) -> None:
    """The same training through crbm's own interface."""
    model = crbm.RBM(X.shape[1], n_components, dtype=X.dtype, random_state=0)
    model.W = np.random.default_rng(0).normal(0, 0.01, model.W.shape)
    model.train(X, learning_rate, n_iter, batch_size=10, persistent=True, n_chains=10)


def fit_times(X: np.ndarray, params: dict, repeats: int) -> dict:
    return {
        "crbm.sklearn": median_time(lambda: BernoulliRBM(**params, random_state=0).fit(X),
                                    repeats),
        "crbm.RBM.train": median_time(lambda: crbm_train(X, params["n_components"],
                                                         params["learning_rate"],
                                                         params["n_iter"]), repeats),
        "scikit-learn": median_time(lambda: SklearnRBM(**params, random_state=0).fit(X),
                                    repeats),
    }


def digits_accuracy(rbm_class: type, params: dict, seeds: int, data: list) -> float:
    X_train, X_test, y_train, y_test = data
    scores = []
    for seed in range(seeds):
        rbm = rbm_class(**params, random_state=seed).fit(X_train)
        logistic = LogisticRegression(solver="newton-cg", tol=1e-3, C=6000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            logistic.fit(rbm.transform(X_train), y_train)
        scores.append(logistic.score(rbm.transform(X_test), y_test))
    return float(np.mean(scores))


def pseudo_likelihood(rbm: object, V: np.ndarray) -> float:
    """Per-unit pseudo-likelihood of binary rows, the same estimate for any RBM."""
    model = crbm.RBM(V.shape[1], rbm.components_.shape[0])
    model.W = rbm.components_.T
    model.visible_bias, model.hidden_bias = rbm.intercept_visible_, rbm.intercept_hidden_
    return model.pseudo_likelihood(V, random_state=0)


def report(case: str, X: np.ndarray, params: dict, times: dict, quality: dict) -> list:
    batches = params["n_iter"] * -(-len(X) // 10)
    rows = []
    for name, seconds in times.items():
        rows.append([case, name, seconds, f"{1e6 * seconds / batches:.0f}",
                     f"{times['scikit-learn'] / seconds:.1f}x", quality.get(name, "")])
    return rows


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=3, help="seeds for the digits accuracy")
    p.add_argument("--mnist-iter", type=int, default=3, help="passes over MNIST")
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS's and crbm's threads (0: no limit)")
    p.set_defaults(repeats=3)
    args = p.parse_args()
    with threads(args.threads or None):
        run(args)


def run(args) -> None:
    rows = []

    data = nudged_digits()
    params = dict(n_components=100, learning_rate=0.06, n_iter=10)
    start = time.perf_counter()
    times = fit_times(data[0], params, args.repeats)
    quality = {name: f"accuracy {digits_accuracy(cls, params, args.seeds, data):.3f}"
               for name, cls in [("crbm.sklearn", BernoulliRBM), ("scikit-learn", SklearnRBM)]}
    rows += report("digits 7188x64, 100 hidden", data[0], params, times, quality)
    print(f"digits done in {time.perf_counter() - start:.0f} s", flush=True)

    images = mnist_rows(args.mnist, 10000).astype(np.float32)
    train, test = images[:8000], images[8000:]
    params = dict(n_components=256, learning_rate=0.05, n_iter=args.mnist_iter)
    times = fit_times(train, params, args.repeats)
    quality = {name: f"pseudo-LL {pseudo_likelihood(cls(**params, random_state=0).fit(train), test):.4f}"
               for name, cls in [("crbm.sklearn", BernoulliRBM), ("scikit-learn", SklearnRBM)]}
    rows += report("MNIST 8000x784, 256 hidden", train, params, times, quality)

    print(f"fit time, median of {args.repeats}; minibatches of 10 rows; float32; "
          f"threads: {args.threads or 'all'}")
    print(table(["case", "fit", "seconds", "us/minibatch", "speed-up", "quality"], rows))


if __name__ == "__main__":
    main()

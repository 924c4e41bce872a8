"""The sample judge: a classifier of real binarised digits that reads samples.

A model's samples are judged as a person would judge them: does a classifier
trained on the real 60,000 binarised MNIST training images (pixel > 0)
recognise them confidently, do they cover all ten digits evenly, and are they
new (not copies of training images)? Every figure is printed beside the same
figure for real t10k digits, the ceiling.

The classifier is scikit-learn's ``MLPClassifier`` (one hidden layer of 256
ReLU units, Adam, fixed seed); its weights are cached in ``~/.cache/crbm``
(or ``$CRBM_CACHE``) so later runs skip its minute of training.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import softmax

import crbm

from _common import table

CONFIDENT = 0.9        # a sample is recognised when its top class has this probability
COPY_DISTANCE = 10     # a sample this close (in pixels) to a training image is a copy
_HIDDEN = 256
_EPOCHS = 20
_VERSION = 1


@dataclass
class Judge:
    """The classifier's weights; ``predict_proba`` reads 0/1 (or [0, 1]) rows."""
    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray
    train_images: np.ndarray   # the binarised training images (uint8), for copies
    test_accuracy: float

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32).reshape(len(X), -1)
        hidden = np.maximum(X @ self.W1 + self.b1, 0)
        return softmax(hidden @ self.W2 + self.b2, axis=1)

    def nearest_distance(self, X: np.ndarray, chunk: int = 500) -> np.ndarray:
        """Each row's Hamming distance to its nearest training image."""
        X = (np.asarray(X).reshape(len(X), -1) > 0.5).astype(np.float32)
        T = self.train_images.astype(np.float32)
        t_sums = T.sum(axis=1)
        out = np.empty(len(X), dtype=np.int64)
        for start in range(0, len(X), chunk):
            x = X[start:start + chunk]
            # |a - b| = |a| + |b| - 2 a.b for 0/1 rows, exact in float32 below 2^24
            d = x.sum(axis=1)[:, None] + t_sums[None, :] - 2 * (x @ T.T)
            out[start:start + chunk] = np.rint(d.min(axis=1)).astype(np.int64)
        return out


def _cache_path(images: np.ndarray) -> Path:
    root = Path(os.environ.get("CRBM_CACHE", Path.home() / ".cache" / "crbm"))
    digest = hashlib.sha256(images.tobytes()).hexdigest()[:16]
    return root / f"judge-v{_VERSION}-{digest}.npz"


def load_judge(mnist: Path, *, verbose: bool = True) -> Judge:
    """The judge for the MNIST in ``mnist`` (trained once, then cached)."""
    images, labels = crbm.load_mnist(mnist, split="train")
    X = crbm.binarize(images)
    test_images, test_labels = crbm.load_mnist(mnist, split="t10k")
    path = _cache_path(X)
    if path.exists():
        f = np.load(path)
        return Judge(f["W1"], f["b1"], f["W2"], f["b2"], X, float(f["test_accuracy"]))
    from sklearn.neural_network import MLPClassifier
    start = time.perf_counter()
    mlp = MLPClassifier(hidden_layer_sizes=(_HIDDEN,), max_iter=_EPOCHS, batch_size=200,
                        alpha=1e-4, random_state=0, tol=0, n_iter_no_change=_EPOCHS)
    import warnings
    from sklearn.exceptions import ConvergenceWarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X.astype(np.float32), labels)
    judge = Judge(*(a.astype(np.float32) for a in (mlp.coefs_[0], mlp.intercepts_[0],
                                                    mlp.coefs_[1], mlp.intercepts_[1])),
                  X, 0.0)
    predicted = judge.predict_proba(crbm.binarize(test_images)).argmax(axis=1)
    judge.test_accuracy = float(np.mean(predicted == test_labels))
    if verbose:
        print(f"judge: MLP {_HIDDEN} ReLU, {_EPOCHS} epochs in {time.perf_counter() - start:.0f} s, "
              f"t10k accuracy {judge.test_accuracy:.4f}; cached in {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, W1=judge.W1, b1=judge.b1, W2=judge.W2, b2=judge.b2,
             test_accuracy=judge.test_accuracy)
    os.replace(tmp, path)
    return judge


def scores(judge: Judge, samples: np.ndarray, labels: np.ndarray | None = None) -> dict:
    """The judge's figures for ``samples`` (rows of 784 values in [0, 1]).

    ``recognised``: fraction whose top class has probability >= 0.9;
    ``coverage``: entropy of the predicted classes over log 10 (1: all ten
    equally often); ``digits_3pct``: digits predicted for >= 3% of samples;
    ``new``: fraction at Hamming distance >= 10 from every training image;
    ``accuracy`` (with ``labels``): fraction predicted as their label.
    """
    p = judge.predict_proba(samples)
    predicted = p.argmax(axis=1)
    counts = np.bincount(predicted, minlength=10) / len(predicted)
    nonzero = counts[counts > 0]
    out = {"recognised": float(np.mean(p.max(axis=1) >= CONFIDENT)),
           "coverage": float(-(nonzero * np.log(nonzero)).sum() / np.log(10)),
           "digits_3pct": int(np.sum(counts >= 0.03)),
           "new": float(np.mean(judge.nearest_distance(samples) >= COPY_DISTANCE)),
           "counts": counts}
    if labels is not None:
        out["accuracy"] = float(np.mean(predicted == np.asarray(labels)))
    return out


def class_conditional(judge: Judge, generate, per_digit: int = 100) -> dict:
    """``generate(n, d)`` called for each digit d (``n = per_digit``), timed
    and judged: the figures of :func:`scores` with ``accuracy`` the share read
    as the asked-for digit, plus ``samples``, ``wanted`` (the asked digit of
    each sample), ``per_digit`` (the share of each digit read as itself) and
    ``seconds``."""
    start = time.perf_counter()
    samples = np.concatenate([generate(per_digit, d) for d in range(10)])
    seconds = time.perf_counter() - start
    wanted = np.repeat(np.arange(10), per_digit)
    out = scores(judge, samples, wanted)
    predicted = judge.predict_proba(samples).argmax(axis=1)
    out.update(samples=samples, wanted=wanted, seconds=seconds,
               per_digit=[float(np.mean(predicted[wanted == d] == d)) for d in range(10)])
    return out


def hamming_variety(samples: np.ndarray) -> float:
    """Mean Hamming distance between distinct pairs of rows."""
    x = samples.astype(np.float64)
    ones = x.sum(axis=1)
    distances = ones[:, None] + ones[None, :] - 2 * x @ x.T
    n = len(x)
    return float(distances.sum() / (n * (n - 1)))


def class_variety(samples: np.ndarray, wanted: np.ndarray, real: np.ndarray,
                  real_labels: np.ndarray) -> list[float]:
    """For each digit d, the variety (:func:`hamming_variety`) of the samples
    asked to be d over that of as many real digits d: 1 varies as the data
    does, lower values are samples more alike than real digits are."""
    return [hamming_variety(samples[wanted == d])
            / hamming_variety(real[real_labels == d][:int(np.sum(wanted == d))])
            for d in range(10)]


def print_label_strengths(judge: Judge, generate, default: float, strengths: list[float],
                          real: np.ndarray, real_labels: np.ndarray, what: str,
                          per_digit: int = 100) -> dict:
    """Print the judge's table of class-conditional samples at the model's
    default label strength and at each of ``strengths``, beside 1,000 real
    digits, then the default's figures per digit. ``generate(n, d, s)``
    makes ``n`` samples of digit ``d`` at strength ``s`` (None: the
    default); each row: ``what`` and the strength, read as asked, lowest
    digit, recognised, new, the range of the classes' variety over real
    digits', seconds. Returns the real digits' :func:`scores`."""
    ceiling = scores(judge, real[:1000], real_labels[:1000])
    rows = [["real t10k digits (the ceiling)", ceiling["accuracy"], "", ceiling["recognised"],
             ceiling["new"], "", ""]]
    for strength in [None] + strengths:
        s = class_conditional(judge, lambda n, d: generate(n, d, strength), per_digit)
        variety = class_variety(s["samples"], s["wanted"], real, real_labels)
        name = (f"the default, label_strength {default:g}" if strength is None
                else f"label_strength {strength:g}")
        rows.append([f"{what}, {name}", s["accuracy"], f"{min(s['per_digit']):.2f}",
                     s["recognised"], s["new"], f"{min(variety):.2f}-{max(variety):.2f}",
                     f"{s['seconds']:.1f}"])
        if strength is None:
            digits = [["read as d"] + s["per_digit"], ["variety / real"] + variety]
    print(table(["1,000 samples", "read as d", "lowest digit", "recognised", "new",
                 "variety / real", "seconds"], rows))
    print(f"the default, per digit (label_strength {default:g}):")
    print(table(["digit"] + [str(d) for d in range(10)], digits))
    return ceiling

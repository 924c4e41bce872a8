"""A deep belief network on MNIST: greedy training time, samples and classification.

Trains ``crbm.DBN([784, 500, 500, 2000], n_labels=10)`` on all 60,000
binarised training images (pixel > 0) and their labels, layer by layer
(``LAYERS`` below: the two lower RBMs by CD-1, the top one, joined to the
labels, learning to make its inputs in ``k`` sweeps from noise with the
label held), or reads a trained one from ``--model``. Then:

- each layer's time per epoch beside the GEMM floor of its products (the
  same products timed alone with numpy on a tenth of an epoch, times ten);
- class-conditional samples, ``generate(100, label=d)`` for each digit (the
  label clamped at the top RBM's ``label_strength``, the labelled recipe's
  for a DBN trained here, and at each of ``--strengths``), judged by the
  classifier of real digits (``_judge.py``): the share read as d, and
  within each class the mean pairwise Hamming distance of the samples over
  that of 100 real t10k digits of the class (variety);
- 1,000 unconditional samples by the same judge, beside real digits;
- t10k accuracy of the DBN's own ``predict``, and of logistic regression on
  the top features, on the first RBM's features and on raw pixels.

    python benchmarks/bench_dbn.py [--model DBN.npz] [--out DBN.npz]
"""
from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

import crbm

from _common import parser, table
from _judge import load_judge, print_label_strengths, scores

SIZES = [784, 500, 500, 2000]
LOWER = dict(learning_rate=0.05, batch_size=100, k=1, epochs=10, momentum=0.5, shuffle=True)
TOP = dict(learning_rate=0.02, batch_size=100, k=10, epochs=10, from_noise=True,
           clamp_labels=True, discriminative=1.0, learning_rate_decay=0.05, shuffle=True)
LAYERS = [LOWER, LOWER, TOP]
# generate(label=d) clamps the label at the labelled recipe's strength.
LABEL_STRENGTH = crbm.recipes.RECIPES["labelled"]["label_strength"]
PER_DIGIT = 100


def train(data: np.ndarray, labels: np.ndarray) -> tuple[crbm.DBN, list[float]]:
    """The stack, and the seconds each layer took (with the up pass after it)."""
    dbn = crbm.DBN(SIZES, n_labels=10, dtype=np.float32, random_state=0)
    marks = {}

    def progress(layer: int, _: int) -> None:
        marks[layer] = time.perf_counter()

    start = time.perf_counter()
    dbn.train(data, labels, layers=LAYERS, progress=progress)
    dbn.rbms[-1].label_strength = LABEL_STRENGTH
    ends = [marks[i] for i in range(len(dbn.rbms))]
    return dbn, list(np.diff([start] + ends))


def products_floor(rows: np.ndarray, rbm: crbm.RBM, settings: dict) -> float:
    """Seconds of one epoch's products of minibatch CD-k with ``batch_size``
    chains over ``rows`` (a tenth of the data, so times ten): the positive
    product, 2 k for the sweeps (chains from noise: one more, their first
    hidden layer), the negative one, and the two statistics."""
    k, batch = settings["k"], settings["batch_size"]
    W = np.ascontiguousarray(rbm._W, dtype=np.float32)
    M = W.shape[1]
    H, V = np.zeros((batch, M), np.float32), np.zeros((batch, W.shape[0]), np.float32)
    G = np.empty_like(W)
    start = time.perf_counter()
    for first in range(0, len(rows), batch):
        V0 = rows[first:first + batch]
        np.matmul(V0, W, out=H[:len(V0)])
        if settings.get("from_noise"):
            np.matmul(V, W, out=H)
        for _ in range(k):
            np.matmul(H, W.T, out=V)
            np.matmul(V, W, out=H)
        np.matmul(V0.T, H[:len(V0)], out=G)
        np.matmul(V.T, H, out=G)
    return 10 * (time.perf_counter() - start)


def speed_section(dbn: crbm.DBN, seconds: list[float] | None, data: np.ndarray,
                  labels: np.ndarray) -> None:
    inputs = [data]
    for rbm in dbn.rbms[:-1]:
        inputs.append(rbm.hidden_probabilities(inputs[-1]))
    tenth = len(data) // 10
    joint = dbn.rbms[-1].join_labels(inputs[-1][:tenth], labels[:tenth])
    rows = []
    for i, (rbm, settings) in enumerate(zip(dbn.rbms, LAYERS)):
        x = joint if rbm.n_labels else inputs[i][:tenth]
        floor = products_floor(np.ascontiguousarray(x, dtype=np.float32), rbm, settings)
        row = [f"{i + 1}: {rbm.n_visible + rbm.n_labels} x {rbm.n_hidden}",
               f"CD-{settings['k']}" + (" from noise, labels held" if rbm.n_labels else ""),
               settings["epochs"], f"{floor:.1f}"]
        if seconds is not None:
            per_epoch = seconds[i] / settings["epochs"]
            row += [f"{per_epoch:.1f}", f"{floor / per_epoch:.2f}"]
        rows.append(row)
    header = ["layer", "training", "epochs", "GEMM floor s/epoch"]
    if seconds is not None:
        header += ["crbm s/epoch", "floor / crbm"]
        print(f"greedy training of {dbn}: {sum(seconds):.0f} s")
    print(table(header, rows))


def samples_section(judge, dbn: crbm.DBN, test: np.ndarray, test_labels: np.ndarray,
                    strengths: list[float]) -> None:
    top = dbn.rbms[-1]
    steps = top.sampling_steps or 1000
    real = print_label_strengths(
        judge, lambda n, d, s: dbn.generate(n, label=d, label_strength=s, random_state=d),
        top.label_strength, strengths, test, test_labels,
        f"DBN generate(100, label=d), d = 0..9, {steps} sweeps", PER_DIGIT)
    u = scores(judge, dbn.generate(1000, random_state=10))
    print(table(["1,000 samples", "recognised", "coverage", "digits >= 3%", "new"], [
        ["real t10k digits (the ceiling)", real["recognised"], real["coverage"],
         real["digits_3pct"], real["new"]],
        [f"DBN generate(1000), labels free, {steps} sweeps", u["recognised"], u["coverage"],
         u["digits_3pct"], u["new"]]]))


def classification_section(dbn: crbm.DBN, train: np.ndarray, train_labels: np.ndarray,
                           test: np.ndarray, test_labels: np.ndarray) -> None:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    def logistic(features_train: np.ndarray, features_test: np.ndarray) -> tuple:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit = LogisticRegression(max_iter=200).fit(features_train, train_labels)
        accuracy = float(np.mean(fit.predict(features_test) == test_labels))
        return accuracy, time.perf_counter() - start

    start = time.perf_counter()
    own = float(np.mean(dbn.predict(test) == test_labels))
    rows = [["DBN predict (the top RBM's p(y | features))", own,
             f"{time.perf_counter() - start:.1f}"]]
    for name, layer in (("top features (2000, label summed out)", -1),
                        ("first RBM's features (500)", 1)):
        accuracy, seconds = logistic(dbn.transform(train, layer=layer).astype(np.float32),
                                     dbn.transform(test, layer=layer).astype(np.float32))
        rows.append([f"logistic regression on the {name}", accuracy, f"{seconds:.0f}"])
    accuracy, seconds = logistic(train.astype(np.float32), test.astype(np.float32))
    rows.append(["logistic regression on raw pixels", accuracy, f"{seconds:.0f}"])
    print(table(["t10k classification (10,000 images)", "accuracy", "seconds"], rows))


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, help="a trained DBN file (else train one)")
    p.add_argument("--out", type=Path, help="save the trained DBN here")
    p.add_argument("--strengths", default="1,1.5,2",
                   help="label strengths to compare with the top RBM's default (comma-separated)")
    args = p.parse_args()
    strengths = [float(x) for x in args.strengths.split(",") if x]
    train_images, train_labels = crbm.load_mnist(args.mnist, split="train")
    test_images, test_labels = crbm.load_mnist(args.mnist, split="t10k")
    train_rows, test = crbm.binarize(train_images), crbm.binarize(test_images)
    if args.model is not None:
        dbn, seconds = crbm.DBN.load(args.model), None
    else:
        dbn, seconds = train(train_rows, train_labels)
        if args.out is not None:
            dbn.save(args.out)
    speed_section(dbn, seconds, train_rows, train_labels)
    judge = load_judge(args.mnist)
    print(f"judge: t10k accuracy {judge.test_accuracy:.4f}")
    samples_section(judge, dbn, test, test_labels, strengths)
    classification_section(dbn, train_rows, train_labels, test, test_labels)


if __name__ == "__main__":
    main()

"""Class-conditional generation and classification by a joint model of digits and labels.

A model with ten softmax label units (``crbm train --mnist DIR --hidden 500
--recipe labelled``, all 60,000 training images and their labels) is read
from ``--model``. For each digit d it generates 100 samples with
``generate(100, label=d)`` (the label units clamped at the model's
``label_strength``, the model's default sweeps from noise), and the judge
(``_judge.py``, an MLP trained on the 60,000 binarised training images)
reports the share it reads as d, how many of the 1,000 it recognises
confidently, how many are new (Hamming distance >= 10 from every training
image) and, per digit, their variety over that of real digits d (mean
pairwise Hamming distance), beside 1,000 real t10k digits. The same for
each of ``--strengths`` (``generate(..., label_strength=s)``): how the label
strength trades variety for samples that look like their class.
Then ``predict`` (the class posterior, hidden units summed out) on the
10,000 t10k images, beside scikit-learn's logistic regression on the same
raw binarised pixels.

    python benchmarks/bench_labels.py --model labelled.npz
"""
from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

import crbm

from _common import parser, table
from _judge import load_judge, print_label_strengths

PER_DIGIT = 100


def conditional_section(judge, model: crbm.RBM, test: np.ndarray, test_labels: np.ndarray,
                        strengths: list[float]) -> None:
    print_label_strengths(
        judge, lambda n, d, s: model.generate(n, label=d, label_strength=s, random_state=d),
        model.label_strength, strengths, test, test_labels,
        f"generate(100, label=d), d = 0..9, {model.sampling_steps or 1000} sweeps", PER_DIGIT)


def predict_section(model: crbm.RBM, train: np.ndarray, train_labels: np.ndarray,
                    test: np.ndarray, test_labels: np.ndarray) -> None:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    start = time.perf_counter()
    joint = float(np.mean(model.predict(test) == test_labels))
    joint_seconds = time.perf_counter() - start
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        logistic = LogisticRegression(max_iter=200).fit(train.astype(np.float32), train_labels)
    logistic_accuracy = float(np.mean(logistic.predict(test.astype(np.float32)) == test_labels))
    logistic_seconds = time.perf_counter() - start
    print(table(["t10k classification (10,000 images)", "accuracy", "seconds"], [
        ["joint RBM, predict (p(y | v) by free energy)", joint, f"{joint_seconds:.1f}"],
        ["logistic regression on raw pixels (scikit-learn, lbfgs, 200 iterations)",
         logistic_accuracy, f"{logistic_seconds:.0f} (fit)"]]))


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, required=True,
                   help="a model with label units ('crbm train --recipe labelled')")
    p.add_argument("--strengths", default="1,1.5,1.75,2,3",
                   help="label strengths to compare with the model's default (comma-separated)")
    args = p.parse_args()
    strengths = [float(x) for x in args.strengths.split(",") if x]
    model = crbm.RBM.load(args.model)
    if model.n_labels != 10:
        raise SystemExit(f"{args.model}: a model with 10 label units is needed, "
                         f"this one has {model.n_labels}")
    judge = load_judge(args.mnist)
    print(f"judge: t10k accuracy {judge.test_accuracy:.4f}")
    train_images, train_labels = crbm.load_mnist(args.mnist, split="train")
    test_images, test_labels = crbm.load_mnist(args.mnist, split="t10k")
    test = crbm.binarize(test_images)
    conditional_section(judge, model, test, test_labels, strengths)
    predict_section(model, crbm.binarize(train_images), train_labels, test, test_labels)


if __name__ == "__main__":
    main()

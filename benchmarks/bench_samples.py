"""How good crbm's samples are, judged by a classifier of real digits, and how fast.

The judge (``_judge.py``) is an MLP trained on the 60,000 binarised MNIST
training images (pixel > 0). For 1,000 samples of each model it reports how
many it recognises confidently (top class >= 0.9), how evenly they cover the
ten digits (entropy of the predicted classes / log 10), how many digits have
>= 3% of the samples, and how many samples are new (Hamming distance >= 10
from every training image); the first row is 1,000 real t10k digits, the
ceiling. Sections:

* ``models``: the reference experiment's model (per-sample CD-1 on the first
  10,000 images, 100 hidden units) under Gibbs and tempering, and a model
  file (``--model``, e.g. from ``crbm train --mnist DIR --hidden 500``)
  under its default sampler and under tempering;
* ``inpaint``: the top 14 rows of the first 1,000 t10k images clamped, the
  rest sampled from noise: the share the judge reads as the true label,
  beside the true images and the top halves with a blank bottom; for a
  model with label units (``--labelled``) also with the label clamped at
  the model's own guess (the class of its mean ``predict_proba`` over 30
  completions with free labels), and at the true label (a ceiling);
* ``speed``: ratios in one run, 1,000 chains, M=500, float32: tempering's
  GEMM floor over its time per replica-sweep, clamped over unclamped
  sampling, and a streaming sampler's ``next`` over ``generate``. crbm calls
  scipy's BLAS (``scipy.linalg.cython_blas``), a separate OpenBLAS build from
  numpy's: both floors are shown. Tempering's ratios are medians (quartiles)
  over neighbouring runs of the floors and crbm, and the ratio of the
  fastest runs ("best").

    python benchmarks/bench_samples.py [--model MODEL.npz] [--labelled LABELLED.npz]
        [--sections models,inpaint,speed]
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from scipy.linalg.blas import sgemm

import crbm

from _common import median_time, neighbouring_times, parser, ratio_spread, table
from _judge import load_judge, scores

N_SAMPLES = 1000


def score_row(name: str, judge, samples: np.ndarray, seconds: float | None = None) -> list:
    s = scores(judge, samples)
    return [name, s["recognised"], s["coverage"], s["digits_3pct"], s["new"],
            "" if seconds is None else f"{seconds:.0f}"]


HEADER = ["samples (1,000)", "recognised", "coverage", "digits >= 3%", "new", "seconds"]


def reference_model(train: np.ndarray) -> crbm.RBM:
    """The reference experiment: RBM(784, 100), ``train`` (per-sample CD-1,
    lr 0.01, 3 epochs) on each batch of 100 of the first 10,000 images."""
    model = crbm.RBM(784, 100, random_state=0)
    for start in range(0, 10_000, 100):
        model.train(train[start:start + 100])
    return model


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def models_section(judge, test: np.ndarray, train: np.ndarray, model_path: Path | None) -> None:
    rows = [score_row("real t10k digits (the ceiling)", judge, test[:N_SAMPLES])]
    ref, seconds = timed(lambda: reference_model(train))
    for method, kw in (("gibbs", {}), ("tempering", dict(n_temperatures=20))):
        samples, seconds = timed(lambda: ref.generate(N_SAMPLES, n_steps=1000, method=method,
                                                      random_state=1, **kw))
        rows.append(score_row(f"reference model, {method}, 1,000 sweeps", judge, samples,
                              seconds))
    if model_path is not None:
        model = crbm.RBM.load(model_path)
        steps = model.sampling_steps or 1000
        samples, seconds = timed(lambda: model.generate(N_SAMPLES, random_state=1))
        rows.append(score_row(f"{model_path.name}, default generate ({steps} sweeps)", judge,
                              samples, seconds))
        samples, seconds = timed(lambda: model.generate(
            N_SAMPLES, n_steps=max(steps, 200), method="tempering", random_state=1))
        rows.append(score_row(f"{model_path.name}, tempering ({max(steps, 200)} sweeps)", judge,
                              samples, seconds))
    print(table(HEADER, rows))


def inferred_label_completions(model: crbm.RBM, X: np.ndarray, mask: np.ndarray,
                               n_guesses: int) -> tuple[np.ndarray, np.ndarray]:
    """Completions of a model with label units by its own guess of the class:
    ``n_guesses`` completions of each row with the labels sampled freely,
    the class of the largest mean ``predict_proba`` over them (a Monte Carlo
    estimate of ``p(y | the clamped pixels)``), then one completion with
    that label clamped at the model's ``label_strength``."""
    guesses = model.generate(len(X) * n_guesses, clamp=(mask, np.repeat(X, n_guesses, axis=0)),
                             random_state=5)
    posterior = model.predict_proba(guesses).reshape(len(X), n_guesses, -1).mean(axis=1)
    label = posterior.argmax(axis=1)
    return model.generate(len(X), clamp=(mask, X), label=label, random_state=3), label


def inpaint_section(judge, images: np.ndarray, labels: np.ndarray, model_paths: list[Path],
                    n_guesses: int = 30) -> None:
    X = images[:N_SAMPLES]
    y = labels[:N_SAMPLES]
    mask = np.zeros((28, 28), bool)
    mask[:14] = True
    mask = mask.reshape(-1)
    rows = [[name, scores(judge, S, y)["accuracy"]]
            for name, S in (("true images", X), ("top halves, bottom blank", np.where(mask, X, 0)))]
    for path in model_paths:
        model = crbm.RBM.load(path)
        rows_X = X.astype(model.dtype)
        completed = model.generate(N_SAMPLES, clamp=(mask, rows_X), random_state=2)
        assert np.array_equal(completed[:, mask], rows_X[:, mask])
        free = " (labels sampled)" if model.n_labels else ""
        rows.append([f"top halves, bottom sampled ({path.name}){free}",
                     scores(judge, completed, y)["accuracy"]])
        if model.n_labels:
            completed, guess = inferred_label_completions(model, rows_X, mask, n_guesses)
            rows.append([f"top halves, bottom sampled ({path.name}), the label its guess from "
                         f"{n_guesses} completions (right {np.mean(guess == y):.3f})",
                         scores(judge, completed, y)["accuracy"]])
            completed = model.generate(N_SAMPLES, clamp=(mask, rows_X), label=y, random_state=3)
            rows.append([f"top halves, bottom sampled ({path.name}), the true label "
                         "(a ceiling)", scores(judge, completed, y)["accuracy"]])
    print(table(["first 1,000 t10k images", "read as their label"], rows))


def speed_section(model_path: Path | None, repeats: int) -> None:
    if model_path is not None:
        model = crbm.RBM.load(model_path)
    else:
        model = crbm.RBM(784, 500, dtype="float32", init="normal", random_state=0)
    if model.dtype != np.float32 or model.n_hidden != 500:
        model = crbm.RBM.from_parameters(model.W.astype(np.float32),
                                         model.visible_bias.astype(np.float32),
                                         model.hidden_bias.astype(np.float32))
    n, R, steps = 1000, 10, 4
    W = model.W
    V = np.zeros((n, 784), np.float32)
    H = np.zeros((n, 500), np.float32)

    def floor():
        for _ in range(R * steps):
            np.matmul(V, W, out=H)
            np.matmul(H, W.T, out=V)
    WT = W.T  # scipy's sgemm on these F-ordered views needs no copies

    def scipy_floor():
        for _ in range(R * steps):
            h = sgemm(1.0, WT, V.T)   # (V W)^T
            sgemm(1.0, W, h)          # (H W^T)^T

    def tempering():
        model.generate(n, n_steps=steps, method="tempering", n_temperatures=R, adapt_steps=0,
                       random_state=1)
    # Neighbouring runs of both floors and tempering, each after a pause.
    times = neighbouring_times([floor, scipy_floor, tempering], repeats)
    t_floor, t_scipy, t_pt = np.median(times, axis=0)
    rows = [["tempering, per replica-sweep: numpy GEMM floor / crbm",
             ratio_spread(times[:, 0], times[:, 2]), f"{1e3 * t_pt / (R * steps):.2f} ms"],
            ["tempering, per replica-sweep: scipy BLAS (crbm's) floor / crbm",
             ratio_spread(times[:, 1], times[:, 2]), f"floor {1e3 * t_scipy / (R * steps):.2f} ms"]]
    time.sleep(0.3)
    mask = np.zeros(784, bool)
    mask[:392] = True
    values = np.zeros(784, np.float32)
    t_free = median_time(lambda: model.generate(n, n_steps=20, random_state=1), repeats)
    time.sleep(0.3)
    t_clamped = median_time(lambda: model.generate(n, n_steps=20, clamp=(mask, values),
                                                   random_state=1), repeats)
    rows.append(["clamped (top half) / unclamped sampling time", t_clamped / t_free,
                 f"{1e3 * t_clamped / 20:.2f} ms a sweep"])
    time.sleep(0.3)
    t_next = median_time(lambda: model.sampler(n, random_state=1).next(20), repeats)
    rows.append(["sampler(1000).next(20) / generate(1000, n_steps=20)", t_next / t_free,
                 f"{1e3 * t_next / 20:.2f} ms a sweep"])
    print(table(["1,000 chains, M=500, float32", "ratio", "time"], rows))


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, help="a model file to judge (and to inpaint with)")
    p.add_argument("--labelled", type=Path,
                   help="a model with label units to inpaint with, also by its own guess of "
                        "the label ('crbm train --recipe labelled')")
    p.add_argument("--sections", default="models,inpaint,speed")
    args = p.parse_args()
    sections = set(args.sections.split(","))
    judge = load_judge(args.mnist)
    print(f"judge: t10k accuracy {judge.test_accuracy:.4f}")
    test_images, test_labels = crbm.load_mnist(args.mnist, split="t10k")
    test = crbm.binarize(test_images)
    if "models" in sections:
        models_section(judge, test, judge.train_images, args.model)
    inpainters = [path for path in (args.model, args.labelled) if path is not None]
    if "inpaint" in sections and inpainters:
        inpaint_section(judge, test, test_labels, inpainters)
    if "speed" in sections:
        speed_section(args.model, args.repeats)


if __name__ == "__main__":
    main()

"""What models learn: MNIST log-likelihood brackets on the standard protocol.

Train on all 60,000 MNIST training images, test on all 10,000 t10k images,
for two binarisations: pixel > 0 (the reference experiment's) and pixel >=
128 (threshold 0.5 on [0, 1], PyDeep's protocol, so that its published
figures compare). Every model is scored by the same bracket
(``crbm.evaluate.log_likelihood_bracket``): reverse AIS started from the
rows scored (conservative) and forward AIS from the training images' base
rates (optimistic), 100 runs x 14,500 temperatures each by default. The
training log-likelihood is bracketed on the first 10,000 training images.

Recipes (500 hidden units):

* crbm's default recipe (``crbm.recipes.RECIPES["default"]``: CD-10, lr
  0.05, batch 100, 100 epochs, float32), what ``crbm train --hidden 500``
  runs;
* crbm CD-1 (lr 0.05, batch 100, ``--cd1-epochs`` epochs, float32), a
  quick baseline.

Published anchors are printed beside them, with their protocols.
``--save DIR`` keeps the trained models and ``--load DIR`` scores saved
ones again without training.

    python benchmarks/bench_quality.py [--betas 14500] [--save DIR | --load DIR]
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import crbm
from crbm.recipes import RECIPES, split

from _common import parser, table

M = 500
BINARISATIONS = {"pixel > 0": 0, "pixel >= 128": 127}  # binarize's strict threshold
ANCHORS = [
    ["Salakhutdinov & Murray 2008, CD-25, 500 units (stochastically binarised MNIST; AIS)",
     "", "-86.34", ""],
    ["PyDeep centered PCD, 500 units, 200 epochs (pixel >= 128)", "", "-84.86 (AIS)",
     "-96.61 (reverse AIS)"],
    ["PyDeep plain PCD, 500 units (pixel >= 128; AIS)", "", "-130.81", ""],
]


def recipes(cd1_epochs: int) -> dict[str, dict]:
    cd1 = dict(init="normal", dtype="float32", epochs=cd1_epochs, batch_size=100,
               learning_rate=0.05, k=1)
    runs = {"default recipe (CD-10, 100 epochs)": RECIPES["default"]}
    if cd1_epochs:
        runs[f"CD-1, {cd1_epochs} epochs"] = cd1
    return runs


def trained(name: str, recipe: dict, train: np.ndarray, path: Path | None,
            load: bool) -> tuple[crbm.RBM, float]:
    """The model of ``recipe``: loaded from ``path``, or trained (and saved there)."""
    if load:
        return crbm.RBM.load(path), float("nan")
    model_settings, train_settings = split(recipe)
    model = crbm.RBM(784, M, random_state=0, **model_settings)
    start = time.perf_counter()
    model.train(train, **train_settings)
    seconds = time.perf_counter() - start
    if path is not None:
        model.save(path)
    return model, seconds


def bracket(model: crbm.RBM, rows: np.ndarray, rate: np.ndarray, runs: int,
            betas: int) -> tuple[float, float, float]:
    start = time.perf_counter()
    low, high = model.log_likelihood_bracket(rows, n_runs=runs, n_betas=betas,
                                             base_rate=rate, random_state=0)
    return low, high, time.perf_counter() - start


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--betas", type=int, default=14500, help="AIS inverse temperatures")
    p.add_argument("--runs", type=int, default=100, help="runs of each AIS")
    p.add_argument("--cd1-epochs", type=int, default=20,
                   help="epochs of the CD-1 row (0: no CD-1 row)")
    p.add_argument("--only", choices=list(BINARISATIONS), help="one binarisation only")
    p.add_argument("--save", type=Path, help="directory to keep the trained models in")
    p.add_argument("--load", type=Path, help="directory of models saved by --save")
    args = p.parse_args()
    folder = args.load or args.save
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    train_images, _ = crbm.load_mnist(args.mnist, split="train")
    test_images, _ = crbm.load_mnist(args.mnist, split="t10k")
    rows = []
    for binarisation, threshold in BINARISATIONS.items():
        if args.only not in (None, binarisation):
            continue
        train = crbm.binarize(train_images, threshold)
        test = crbm.binarize(test_images, threshold)
        rate = train.mean(axis=0)
        for name, recipe in recipes(args.cd1_epochs).items():
            path = None if folder is None else folder / (
                f"{name.split(' (')[0].replace(' ', '-').replace(',', '')}-t{threshold}.npz")
            model, seconds = trained(name, recipe, train, path, args.load is not None)
            t_low, t_high, t_seconds = bracket(model, test, rate, args.runs, args.betas)
            r_low, r_high, _ = bracket(model, train[:10000], rate, args.runs, args.betas)
            rows.append([f"crbm {name}", binarisation,
                         "" if np.isnan(seconds) else f"{seconds / 60:.1f} min",
                         f"{t_low:.2f} to {t_high:.2f} ({t_high - t_low:.2f})",
                         f"{r_low:.2f} to {r_high:.2f}", f"{t_seconds:.0f} s"])
            print(rows[-1], flush=True)
    print(f"MNIST: 60,000 training / 10,000 test images, {M} hidden units; brackets by reverse "
          f"to forward AIS, {args.runs} runs x {args.betas} temperatures each "
          f"({crbm.get_num_threads()} threads)")
    print(table(["model", "binarisation", "training", "test log-likelihood (gap)",
                 "train log-likelihood (first 10,000)", "test bracket took"], rows))
    print("published anchors (their protocols):")
    print(table(["model", "", "forward AIS", "reverse AIS"], ANCHORS))


if __name__ == "__main__":
    main()

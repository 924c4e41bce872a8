"""The README's picture: generated and inpainted digits of one model.

Rows 1-4: 40 samples of ``generate`` (the model's default sampler, from
noise). Rows 5-7: the first 10 t10k images, their top 14 rows with the rest
blank, and those top halves completed by the model (the bottom sampled from
noise with the top clamped). A model with label units (the ``labelled``
recipe), or a DBN with labels (``bench_dbn.py --out``), gives instead one
row per digit d of ``generate(10, label=d)``.

    python benchmarks/sample_grid.py --model MODEL.npz --out docs/images/samples.png
    python benchmarks/sample_grid.py --model LABELLED.npz --out docs/images/labelled.png
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

import crbm
from crbm.cli import load_model
from crbm.images import save_png, tile_images

from _common import parser


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    model = load_model(args.model)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if model.n_labels:
        rows = np.concatenate([model.generate(10, label=d, random_state=d)
                               for d in range(model.n_labels)])
        save_png(args.out, tile_images(rows, n_cols=10))
        print(f"wrote {args.out}")
        return
    images, _ = crbm.load_mnist(args.mnist, split="t10k")
    truth = crbm.binarize(images[:10]).astype(model.dtype)
    mask = np.zeros((28, 28), bool)
    mask[:14] = True
    mask = mask.reshape(-1)
    generated = model.generate(40, random_state=0)
    completed = model.generate(10, clamp=(mask, truth), random_state=1)
    rows = np.concatenate([generated, truth, np.where(mask, truth, 0), completed])
    save_png(args.out, tile_images(rows, n_cols=10))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

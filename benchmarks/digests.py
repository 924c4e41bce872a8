"""SHA-256 digests of what crbm trains and samples, for A/B checks of a change.

Every path the training and sampling loops can take (per-sample CD on 0/1
and greyscale rows, minibatch CD-k and PCD-k with every extra, sparse and
dense data, few and many chains), in float32 and float64, from fixed seeds
on real MNIST rows. A change that must keep behaviour prints the same
digests before and after it on the same machine (products that go through
BLAS round as the BLAS build does, so digests from other machines may
differ; ``tests/test_digests.py`` pins those of the paths that use no BLAS).

    python benchmarks/digests.py > before.json     # on the old build
    python benchmarks/digests.py --compare before.json
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

import crbm

from _common import DEFAULT_MNIST, mnist_rows

TRAINING = {
    "per-sample k1": dict(),
    "per-sample k2": dict(k=2),
    "batch10": dict(batch_size=10),
    "batch100 k3": dict(batch_size=100, k=3),
    "pcd batch20": dict(batch_size=20, persistent=True, n_chains=30),
    "extras batch25": dict(batch_size=25, momentum=[0.5, 0.9], weight_decay=1e-3,
                           sparsity_target=0.1, sparsity_cost=0.2),
    "centering pcd": dict(batch_size=50, persistent=True, centering=True, momentum=0.5),
    "states shuffle": dict(batch_size=16, statistics="states", shuffle=True),
    "decay cd2": dict(batch_size=40, k=2, learning_rate_decay=0.5, weight_decay=2e-4),
}
SAMPLING = {"1 chain": 1, "5 chains": 5, "40 chains": 40, "300 chains": 300}


def digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def training_digests(binary: np.ndarray, grey: np.ndarray, uniform: np.ndarray) -> dict:
    out = {}
    for dtype in (np.float32, np.float64):
        name = np.dtype(dtype).name
        for data_name, data in (("binary", binary), ("grey", grey), ("uniform", uniform)):
            for label, options in TRAINING.items():
                if data_name != "binary" and label not in ("per-sample k1", "batch10",
                                                           "batch100 k3", "pcd batch20"):
                    continue
                model = crbm.RBM(784, 64 if "per-sample" in label else 120, dtype=dtype,
                                 init="normal", random_state=3)
                model.train(data, learning_rate=0.05, epochs=2, **options)
                out[f"train {name} {data_name} {label}"] = digest(
                    model.W, model.visible_bias, model.hidden_bias)
    return out


def sampling_digests(binary: np.ndarray) -> dict:
    out = {}
    for dtype in (np.float32, np.float64):
        name = np.dtype(dtype).name
        model = crbm.RBM(784, 200, dtype=dtype, init="normal", random_state=1)
        model.train(binary[:1000], learning_rate=0.05, epochs=1, batch_size=20)
        for label, n in SAMPLING.items():
            out[f"sample {name} {label}"] = digest(model.generate(n, n_steps=30, random_state=7))
        out[f"conditionals {name}"] = digest(model.hidden_probabilities(binary[:50]),
                                             model.visible_probabilities(binary[:50, :200]))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mnist", type=Path, default=DEFAULT_MNIST)
    p.add_argument("--compare", type=Path, help="digests printed by an earlier run")
    args = p.parse_args()
    binary = mnist_rows(args.mnist, 600)
    images, _ = crbm.load_mnist(args.mnist, split="t10k")
    grey = images[:300].reshape(300, -1).astype(np.float32) / 255
    uniform = np.random.default_rng(0).random((200, 784))
    digests = {**training_digests(binary, grey, uniform), **sampling_digests(binary)}
    if args.compare is None:
        print(json.dumps(digests, indent=1))
        return
    before = json.loads(args.compare.read_text())
    changed = [k for k in sorted(set(before) | set(digests)) if before.get(k) != digests.get(k)]
    for key in changed:
        print(f"changed: {key}: {before.get(key)} -> {digests.get(key)}")
    print(f"{len(digests) - len(changed)} of {len(digests)} digests unchanged")
    sys.exit(1 if changed else 0)


if __name__ == "__main__":
    main()

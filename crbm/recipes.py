"""Named training recipes: settings for :meth:`crbm.RBM` and :meth:`crbm.RBM.train`.

``RECIPES["reference"]`` is the reference experiment's algorithm (per-sample
CD-1 from zero weights). ``RECIPES["default"]``, what ``crbm train`` runs
without tuning flags, is the best recipe measured on MNIST so far (see
``benchmarks/bench_quality.py`` and the README's quality table).
``RECIPES["sampling"]`` trains a model whose samples look like all of the
data (``benchmarks/bench_samples.py``), and ``RECIPES["labelled"]`` the same
with ten softmax label units, a joint model of digits and their classes
that generates a chosen digit (``benchmarks/bench_labels.py``).
``RECIPES["gaussian"]`` trains
Gaussian visible units on greyscale MNIST (``crbm train --visible
gaussian``; ``benchmarks/bench_gaussian.py``).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crbm.models.units import from_spec

# "visible", "init", "dtype", "n_labels" and "label_strength" go to the RBM
# constructor; the rest to RBM.train.
MODEL_KEYS = ("visible", "init", "dtype", "n_labels", "label_strength")

RECIPES: dict[str, dict[str, Any]] = {
    "reference": dict(init="zeros", dtype="float64", epochs=3, batch_size=1,
                      learning_rate=0.01),
    # CD-10 beat CD-1, CD-3, CD-5, PCD (with or without momentum, decay,
    # centering) and weight decay in this project's MNIST runs (README).
    "default": dict(init="normal", dtype="float32", epochs=100, batch_size=100,
                    learning_rate=0.05, k=10),
    # Samples that look like all of the data (benchmarks/bench_samples.py): the
    # model learns to turn noise into digits in k = 20 sweeps (non-equilibrium
    # CD-k, Decelle et al. 2021), and generate then runs those 20 sweeps. Its
    # equilibrium is no model of the data (held-out log-likelihood far below
    # the default's; README, "Sampling"), so it is a recipe for sampling only.
    "sampling": dict(init="normal", dtype="float32", epochs=30, batch_size=100,
                     learning_rate=0.02, learning_rate_decay=0.05, k=20, from_noise=True,
                     shuffle=True),
    # The sampling recipe on images and their one-hot labels (train(X, labels=y)),
    # the chains' labels held at the data's: the model learns to make digit d in
    # k sweeps from noise with the label clamped, as generate(n, label=d) runs.
    # Held labels teach p(x | y) but not p(y | x); the hybrid term restores the
    # classifier (t10k predict 0.59 without it, 0.93 with it; README). The
    # label clamped at 1.75 instead of 1 lifts the samples read as the asked
    # digit from 0.76 to 0.97, keeping 0.74-0.93 of real digits' variety
    # within each class (benchmarks/bench_labels.py).
    "labelled": dict(init="normal", dtype="float32", epochs=30, batch_size=100,
                     learning_rate=0.02, learning_rate_decay=0.05, k=20, from_noise=True,
                     shuffle=True, n_labels=10, label_strength=1.75, clamp_labels=True,
                     discriminative=1.0),
    # Greyscale pixels in [0, 1] on Gaussian visible units (README, "Gaussian visible
    # units"; benchmarks/gaussian_mnist.py): PCD from the best model without hidden
    # units (each pixel's mean and standard deviation), sigma learned, at least 0.1
    # (a smaller sigma makes 1 / sigma^2 amplify the steps of pixels that hardly
    # vary). From sigma = 1 instead, training ends far below that starting model's
    # log-likelihood; from the data's sigma, steps of 3e-4 already blow up.
    "gaussian": dict(visible={"type": "gaussian", "learn_std": True, "min_std": 0.1,
                              "std_from_data": True},
                     init="normal", dtype="float32", epochs=20, batch_size=100,
                     learning_rate=1e-4, persistent=True),
}


def split(recipe: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a recipe into (constructor keywords, train keywords)."""
    if not isinstance(recipe, Mapping):
        raise TypeError(f"recipe must be a dict of settings, got {type(recipe).__name__}")
    model = {key: value for key, value in recipe.items() if key in MODEL_KEYS}
    train = {key: value for key, value in recipe.items() if key not in MODEL_KEYS}
    if isinstance(model.get("visible"), dict):
        model["visible"] = from_spec(model["visible"])
    return model, train

"""The exact bits of training and sampling paths that use no BLAS.

Per-sample CD on 0/1 rows and the sampling of up to 16 chains run only
crbm's own loops (its exp polynomial, counter-based draws and sums in a
fixed order, compiled with no fused multiply-adds), so their results are the
same bits on every CPU, SIMD width and thread count. These digests were
recorded before the kernels were restructured into unit types; a change
that alters them changes what crbm computes and must say so. Paths that go
through BLAS round as the BLAS build does: ``benchmarks/digests.py``
compares those before and after a change on one machine.
"""
import hashlib

import numpy as np
import pytest

import crbm

PER_SAMPLE = {
    ("float32", 1): "7c249a04b6fcdca5",
    ("float32", 2): "a265c79a12986cd9",
    ("float64", 1): "6e5df401246f83a4",
    ("float64", 2): "274e6a8db9920b79",
}
SAMPLING = {
    ("float32", 1): "01a8182b56507e03",
    ("float32", 5): "776e8922955b2f4a",
    ("float64", 1): "4239c6e02a55319b",
    ("float64", 5): "fe1a2037702db553",
}


def digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


@pytest.fixture(scope="module")
def digits(mnist_dir):
    images, _ = crbm.load_mnist(mnist_dir, split="t10k")
    return crbm.binarize(images[:400])


@pytest.mark.parametrize("dtype, k", sorted(PER_SAMPLE))
def test_per_sample_training_keeps_its_bits(digits, dtype, k):
    model = crbm.RBM(784, 64, dtype=dtype, random_state=11)
    model.train(digits, learning_rate=0.05, epochs=2, k=k)
    assert digest(model.W, model.visible_bias, model.hidden_bias) == PER_SAMPLE[dtype, k]


@pytest.mark.parametrize("dtype, n_chains", sorted(SAMPLING))
def test_few_chain_sampling_keeps_its_bits(dtype, n_chains):
    rng = np.random.default_rng(4)
    model = crbm.RBM(300, 120, dtype=dtype)
    model.W = rng.normal(0, 0.3, (300, 120))
    model.visible_bias = rng.normal(-1, 0.5, 300)
    model.hidden_bias = rng.normal(0, 0.5, 120)
    samples = model.generate(n_chains, n_steps=50, random_state=9)
    assert digest(samples) == SAMPLING[dtype, n_chains]

"""crbm's .pxd kernels from another Cython extension, built against the install."""
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import crbm
from crbm import reference

EXAMPLE = Path(__file__).parent / "downstream"


def test_get_include_holds_the_public_pxd():
    assert (Path(crbm.get_include()) / "crbm" / "kernels.pxd").is_file()


@pytest.fixture(scope="module")
def downstream(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("downstream")
    for name in ("downstream_gibbs.pyx", "setup.py"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    build = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout + build.stderr
    module_path = next(tmp_path.glob("downstream_gibbs*.so"), None) or next(tmp_path.glob("downstream_gibbs*.pyd"))
    spec = importlib.util.spec_from_file_location("downstream_gibbs", module_path)
    downstream = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(downstream)
    return downstream


def test_downstream_extension_runs_nogil_gibbs_chains(downstream):
    rng = np.random.default_rng(0)
    model = crbm.RBM(20, 7)
    model.W, model.visible_bias, model.hidden_bias = (
        rng.normal(0, 1, (20, 7)), rng.normal(0, 1, 20), rng.normal(0, 1, 7))
    generator = np.random.default_rng(5)
    # generate() starts its chains with one Bernoulli(0.5) draw, then sweeps.
    chains = reference.bernoulli(generator, np.full((40, 20), 0.5))
    downstream.run_chains(generator, chains, model.W, model.visible_bias, model.hidden_bias, 30)
    np.testing.assert_array_equal(chains, model.generate(40, n_steps=30, random_state=5))


def test_downstream_extension_trains_as_rbm_train_does(downstream):
    data = (np.random.default_rng(1).random((50, 12)) < 0.4).astype(np.float64)
    W0 = np.random.default_rng(2).normal(0, 0.1, (12, 5))
    W, b, c = W0.copy(), np.zeros(12), np.zeros(5)
    downstream.train_minibatches(np.random.default_rng(3), data, W, b, c, 8, 0.1, 2)
    model = crbm.RBM(12, 5, random_state=3)
    model.W = W0
    model.train(data, 0.1, 1, batch_size=8, k=2)
    assert np.abs(W - W0).max() > 0.01
    np.testing.assert_array_equal(W, model.W)
    np.testing.assert_array_equal(b, model.visible_bias)
    np.testing.assert_array_equal(c, model.hidden_bias)

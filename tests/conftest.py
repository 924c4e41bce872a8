"""Shared fixtures. The suite tests the installed crbm, never the source tree."""
import os
from pathlib import Path

import pytest

import crbm

REPO = Path(__file__).resolve().parents[1]

if Path(crbm.__file__).resolve().parent == REPO / "crbm":
    raise RuntimeError(
        f"crbm was imported from the source tree ({crbm.__file__}); install it "
        "(pip install '.[test]') and run pytest from outside an in-place build")


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The real MNIST idx files: $CRBM_MNIST_DIR or ../shared/data/mnist."""
    path = Path(os.environ.get("CRBM_MNIST_DIR", REPO.parent / "shared" / "data" / "mnist"))
    if not (path / "t10k-images-idx3-ubyte.gz").is_file():
        raise FileNotFoundError(
            f"MNIST t10k files not found in {path}; set CRBM_MNIST_DIR")
    return path

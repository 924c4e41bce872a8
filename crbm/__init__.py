"""crbm: fast restricted Boltzmann machines for the CPU.

RBMs with binary hidden units and binary or Gaussian visible units
(:mod:`crbm.units`), trained by contrastive divergence, with their hot loops
in Cython (BLAS through ``scipy.linalg.cython_blas``, random numbers from
numpy's C API, the GIL released), plus an MNIST idx reader and downloader
(``crbm.io.datasets``, loaded on first use).
"""
from pathlib import Path

from crbm import evaluate, recipes
from crbm.config import show_config
from crbm.models import units
from crbm.threads import get_num_threads, num_threads, set_num_threads
from crbm.io.persist import ModelFileError
from crbm.io.idx import IdxFormatError, binarize, load_mnist, read_idx, write_idx
from crbm.models.rbm import RBM, DivergenceError
from crbm.models.dbn import DBN

__version__ = "0.1.0"

__all__ = [
    "RBM", "DBN", "DivergenceError", "units", "ModelFileError", "IdxFormatError", "read_idx", "write_idx",
    "load_mnist", "binarize", "get_include", "evaluate", "recipes", "datasets", "__version__",
    "get_num_threads", "set_num_threads", "num_threads", "show_config",
]


def __getattr__(name: str):
    # crbm.io.datasets pulls in urllib and http.client: load it only when used.
    if name == "datasets":
        import importlib
        return importlib.import_module("crbm.io.datasets")
    raise AttributeError(f"module 'crbm' has no attribute {name!r}")


def get_include() -> str:
    """Directory to put on a downstream build's include path to ``cimport crbm``.

    The ``.pxd`` files live in the package itself, so this is the directory
    that contains the ``crbm`` package. Downstream builds also need
    ``numpy.get_include()``, since crbm's declarations use numpy's random C API.
    """
    return str(Path(__file__).resolve().parent.parent)

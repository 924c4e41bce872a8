"""Model parameters the kernel tests share (imported by name: pytest puts
this directory on sys.path)."""
import numpy as np


def small_model(rng: np.random.Generator, N: int, M: int, dtype, gaussian: bool = False):
    """Random ``(W, b, c, log_var)`` of an N x M model in ``dtype``;
    ``log_var`` is None unless ``gaussian``."""
    W = (rng.normal(size=(N, M)) * 0.5).astype(dtype)
    b, c = rng.normal(size=N).astype(dtype), rng.normal(size=M).astype(dtype)
    log_var = (rng.normal(size=N) * 0.1).astype(dtype) if gaussian else None
    return W, b, c, log_var

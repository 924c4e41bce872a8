"""The row-major BLAS wrappers against numpy, in both precisions."""
import numpy as np
import pytest

from crbm._core import _blas
from crbm._core._blas import BLAS_Trans

DTYPES = [np.float32, np.float64]
RTOL = {np.float32: 1e-5, np.float64: 1e-12}


def rand(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dot_and_axpy(dtype):
    rng = np.random.default_rng(0)
    x, y = rand(rng, 37, dtype), rand(rng, 37, dtype)
    assert _blas._dot_memview(x, y) == pytest.approx(float(x.astype(float) @ y), rel=RTOL[dtype])
    expected = y + dtype(0.5) * x
    _blas._axpy_memview(dtype(0.5), x, y)
    np.testing.assert_allclose(y, expected, rtol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans", [BLAS_Trans.NoTrans, BLAS_Trans.Trans])
def test_gemv(dtype, trans):
    rng = np.random.default_rng(1)
    A = rand(rng, (7, 5), dtype)
    op = A if trans == BLAS_Trans.NoTrans else A.T
    x, y = rand(rng, op.shape[1], dtype), rand(rng, op.shape[0], dtype)
    expected = 2 * op @ x + 3 * y
    _blas._gemv_memview(trans, dtype(2), A, x, dtype(3), y)
    np.testing.assert_allclose(y, expected, rtol=RTOL[dtype], atol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_ger(dtype):
    rng = np.random.default_rng(2)
    A, x, y = rand(rng, (6, 4), dtype), rand(rng, 6, dtype), rand(rng, 4, dtype)
    expected = A - 0.25 * np.outer(x, y)
    _blas._ger_memview(dtype(-0.25), x, y, A)
    np.testing.assert_allclose(A, expected, rtol=RTOL[dtype], atol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta", [BLAS_Trans.NoTrans, BLAS_Trans.Trans])
@pytest.mark.parametrize("tb", [BLAS_Trans.NoTrans, BLAS_Trans.Trans])
def test_gemm(dtype, ta, tb):
    rng = np.random.default_rng(3)
    m, n, k = 5, 3, 4
    A = rand(rng, (m, k) if ta == BLAS_Trans.NoTrans else (k, m), dtype)
    B = rand(rng, (k, n) if tb == BLAS_Trans.NoTrans else (n, k), dtype)
    C = rand(rng, (m, n), dtype)
    opA = A if ta == BLAS_Trans.NoTrans else A.T
    opB = B if tb == BLAS_Trans.NoTrans else B.T
    expected = 1.5 * opA @ opB - 2 * C
    _blas._gemm_memview(ta, tb, dtype(1.5), A, B, dtype(-2), C)
    np.testing.assert_allclose(C, expected, rtol=RTOL[dtype], atol=RTOL[dtype])

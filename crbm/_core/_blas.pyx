# cython: language_level=3
"""Row-major BLAS wrappers (see ``_blas.pxd``) and memoryview shims for tests.

Every wrapper works on C-contiguous matrices: ``A`` is ``m x n`` with leading
dimension ``lda`` (the row stride, in elements), exactly as numpy stores it.
"""
from scipy.linalg.cython_blas cimport (
    ddot, sdot, daxpy, saxpy, dgemv, sgemv, dger, sger, dgemm, sgemm)


cdef floating dot(int n, const floating *x, int incx,
                  const floating *y, int incy) noexcept nogil:
    """Return ``x . y``."""
    if floating is double:
        return ddot(&n, <double *> x, &incx, <double *> y, &incy)
    else:
        return sdot(&n, <float *> x, &incx, <float *> y, &incy)


cdef void axpy(int n, floating alpha, const floating *x, int incx,
               floating *y, int incy) noexcept nogil:
    """``y += alpha * x``."""
    if floating is double:
        daxpy(&n, &alpha, <double *> x, &incx, y, &incy)
    else:
        saxpy(&n, &alpha, <float *> x, &incx, y, &incy)


cdef void gemv(BLAS_Trans ta, int m, int n, floating alpha,
               const floating *A, int lda, const floating *x, int incx,
               floating beta, floating *y, int incy) noexcept nogil:
    """``y = alpha * op(A) @ x + beta * y`` for a row-major ``m x n`` ``A``."""
    # Row-major A is column-major A.T (n x m): flip the transpose flag.
    cdef char trans = b't' if ta == NoTrans else b'n'
    if floating is double:
        dgemv(&trans, &n, &m, &alpha, <double *> A, &lda,
              <double *> x, &incx, &beta, y, &incy)
    else:
        sgemv(&trans, &n, &m, &alpha, <float *> A, &lda,
              <float *> x, &incx, &beta, y, &incy)


cdef void ger(int m, int n, floating alpha, const floating *x, int incx,
              const floating *y, int incy, floating *A, int lda) noexcept nogil:
    """``A += alpha * outer(x, y)`` for a row-major ``m x n`` ``A``."""
    # Column-major A.T += alpha * outer(y, x).
    if floating is double:
        dger(&n, &m, &alpha, <double *> y, &incy, <double *> x, &incx, A, &lda)
    else:
        sger(&n, &m, &alpha, <float *> y, &incy, <float *> x, &incx, A, &lda)


cdef void gemm(BLAS_Trans ta, BLAS_Trans tb, int m, int n, int k,
               floating alpha, const floating *A, int lda,
               const floating *B, int ldb,
               floating beta, floating *C, int ldc) noexcept nogil:
    """``C = alpha * op(A) @ op(B) + beta * C``; ``C`` is row-major ``m x n``."""
    # Row-major C is column-major C.T = op(B).T @ op(A).T: swap the operands.
    cdef char transa = ta
    cdef char transb = tb
    if floating is double:
        dgemm(&transb, &transa, &n, &m, &k, &alpha, <double *> B, &ldb,
              <double *> A, &lda, &beta, C, &ldc)
    else:
        sgemm(&transb, &transa, &n, &m, &k, &alpha, <float *> B, &ldb,
              <float *> A, &lda, &beta, C, &ldc)


# ---------------------------------------------------------------------------
# Memoryview shims: Python-callable so the tests can check each wrapper in
# both precisions against numpy. Not used by the kernels.

def _dot_memview(const floating[::1] x, const floating[::1] y):
    return dot(<int> x.shape[0], &x[0], 1, &y[0], 1)


def _axpy_memview(double alpha, const floating[::1] x, floating[::1] y):
    axpy(<int> x.shape[0], <floating> alpha, &x[0], 1, &y[0], 1)


def _gemv_memview(BLAS_Trans ta, double alpha, const floating[:, ::1] A,
                  const floating[::1] x, double beta, floating[::1] y):
    gemv(ta, <int> A.shape[0], <int> A.shape[1], <floating> alpha, &A[0, 0],
         <int> A.shape[1], &x[0], 1, <floating> beta, &y[0], 1)


def _ger_memview(double alpha, const floating[::1] x, const floating[::1] y,
                 floating[:, ::1] A):
    ger(<int> A.shape[0], <int> A.shape[1], <floating> alpha, &x[0], 1, &y[0], 1,
        &A[0, 0], <int> A.shape[1])


def _gemm_memview(BLAS_Trans ta, BLAS_Trans tb, double alpha,
                  const floating[:, ::1] A, const floating[:, ::1] B,
                  double beta, floating[:, ::1] C):
    cdef int m = <int> C.shape[0], n = <int> C.shape[1]
    cdef int k = <int> (A.shape[1] if ta == NoTrans else A.shape[0])
    gemm(ta, tb, m, n, k, <floating> alpha, &A[0, 0], <int> A.shape[1],
         &B[0, 0], <int> B.shape[1], <floating> beta, &C[0, 0], <int> C.shape[1])

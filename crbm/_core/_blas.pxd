# Fused float/double wrappers around scipy.linalg.cython_blas for C-contiguous
# (row-major) arrays. BLAS itself is column-major; a row-major matrix is the
# transpose of a column-major one, so each wrapper swaps operands or the
# transpose flag instead of copying.
from cython cimport floating

cpdef enum BLAS_Trans:
    NoTrans = 110  # ord('n')
    Trans = 116    # ord('t')

cdef floating dot(int n, const floating *x, int incx,
                  const floating *y, int incy) noexcept nogil

cdef void axpy(int n, floating alpha, const floating *x, int incx,
               floating *y, int incy) noexcept nogil

cdef void gemv(BLAS_Trans ta, int m, int n, floating alpha,
               const floating *A, int lda, const floating *x, int incx,
               floating beta, floating *y, int incy) noexcept nogil

cdef void ger(int m, int n, floating alpha, const floating *x, int incx,
              const floating *y, int incy, floating *A, int lda) noexcept nogil

cdef void gemm(BLAS_Trans ta, BLAS_Trans tb, int m, int n, int k,
               floating alpha, const floating *A, int lda,
               const floating *B, int ldb,
               floating beta, floating *C, int ldc) noexcept nogil

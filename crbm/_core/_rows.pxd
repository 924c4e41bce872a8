# Products that read rows of a matrix (_rows.h): the building blocks of
# every product with W that crbm computes itself instead of calling BLAS.
# Matrices are row-major; a row index lists, for each row of a sparse
# matrix X, the columns of its nonzero entries.
from cython cimport floating

# List the i < n with x[i * stride] != 0 in out (room for n); return how many.
cdef int nonzero_indices(const floating *x, int n, Py_ssize_t stride,
                         int *out) noexcept nogil

# The number of nonzero entries of x[0:n].
cdef Py_ssize_t count_nonzero(const floating *x, Py_ssize_t n) noexcept nogil

# out[:width] += A[rows].sum(axis=0), A's rows stride apart.
cdef void add_rows(floating *out, const floating *A, const int *rows, int n_rows,
                   int width, Py_ssize_t stride) noexcept nogil

# out[:width] += sum_t x[rows[t] * x_stride] * A[rows[t], :width]; x NULL
# takes every scale as 1 (the same sums, without the multiplies).
cdef void add_scaled_rows(floating *out, const floating *A, const int *rows, int n_rows,
                          int width, Py_ssize_t stride, const floating *x,
                          Py_ssize_t x_stride) noexcept nogil

# out = A @ x for a row-major n_rows x width A.
cdef void row_dots(floating *out, const floating *A, const floating *x, int n_rows,
                   int width) noexcept nogil

# out = A[:, :width].T @ x for a 0/1 x of n entries and A of n rows stride
# apart: list x's active units in `active`, sum their rows; returns how many.
cdef int sum_active_rows(const floating *x, int n, const floating *A, int width,
                         Py_ssize_t stride, int *active, floating *out) noexcept nogil

# Index the nonzero entries of X (n x width) by row: row r's count[r]
# columns, increasing, go to idx[r * width:]. Returns how many there are.
cdef Py_ssize_t index_rows(const floating *X, int n, int width, int *count,
                           int *idx) noexcept nogil

# Whether every entry that index_rows found is exactly 1.
cdef bint indexed_values_are_one(const floating *X, int n, int width, const int *count,
                                 const int *idx) noexcept nogil

# The column index of a row index: column i's rows, increasing, go to
# tidx[tptr[i]:tptr[i + 1]] (tptr has width + 1 entries).
cdef void transpose_index(const int *count, const int *idx, int n, int width,
                          int *tptr, int *tidx) noexcept nogil

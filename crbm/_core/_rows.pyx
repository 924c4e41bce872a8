# cython: language_level=3
"""The row products of ``_rows.h``, compiled once for every module.

This module alone includes ``_rows.h``, so the choice between its AVX-512
and other sources (``crbm_cpu_v4``) is made in one place; the other
modules call these functions through ``_rows.pxd``.
"""
import numpy as np

from libc.string cimport memset


cdef extern from "_rows.h":
    const char *SIMD_BUILD "CRBM_SIMD_BUILD"
    int V4_SOURCES "CRBM_V4_SOURCES"
    int cpu_v4 "crbm_cpu_v4"
    int use_v4 "crbm_use_v4"(int on) nogil
    Py_ssize_t count_nonzero_d "crbm_count_nonzero_d"(const double *x, Py_ssize_t n) noexcept nogil
    Py_ssize_t count_nonzero_f "crbm_count_nonzero_f"(const float *x, Py_ssize_t n) noexcept nogil
    void add_rows_d "crbm_add_rows_d"(
        double *out, const double *A, const int *rows, int n_rows,
        Py_ssize_t width, Py_ssize_t stride) noexcept nogil
    void add_rows_f "crbm_add_rows_f"(
        float *out, const float *A, const int *rows, int n_rows,
        Py_ssize_t width, Py_ssize_t stride) noexcept nogil
    void add_scaled_rows_d "crbm_add_scaled_rows_d"(
        double *out, const double *A, const int *rows, int n_rows, Py_ssize_t width,
        Py_ssize_t stride, const double *x, Py_ssize_t x_stride) noexcept nogil
    void add_scaled_rows_f "crbm_add_scaled_rows_f"(
        float *out, const float *A, const int *rows, int n_rows, Py_ssize_t width,
        Py_ssize_t stride, const float *x, Py_ssize_t x_stride) noexcept nogil
    int nonzero_indices_d "crbm_nonzero_indices_d"(
        const double *x, int n, Py_ssize_t stride, int *out) noexcept nogil
    int nonzero_indices_f "crbm_nonzero_indices_f"(
        const float *x, int n, Py_ssize_t stride, int *out) noexcept nogil
    void row_dots_d "crbm_row_dots_d"(
        double *out, const double *A, const double *x, Py_ssize_t n_rows,
        Py_ssize_t width, Py_ssize_t stride) noexcept nogil
    void row_dots_f "crbm_row_dots_f"(
        float *out, const float *A, const float *x, Py_ssize_t n_rows,
        Py_ssize_t width, Py_ssize_t stride) noexcept nogil


cdef int nonzero_indices(const floating *x, int n, Py_ssize_t stride,
                         int *out) noexcept nogil:
    if floating is double:
        return nonzero_indices_d(x, n, stride, out)
    else:
        return nonzero_indices_f(x, n, stride, out)


cdef Py_ssize_t count_nonzero(const floating *x, Py_ssize_t n) noexcept nogil:
    if floating is double:
        return count_nonzero_d(x, n)
    else:
        return count_nonzero_f(x, n)


cdef void add_rows(floating *out, const floating *A, const int *rows, int n_rows,
                   int width, Py_ssize_t stride) noexcept nogil:
    if floating is double:
        add_rows_d(out, A, rows, n_rows, width, stride)
    else:
        add_rows_f(out, A, rows, n_rows, width, stride)


cdef void add_scaled_rows(floating *out, const floating *A, const int *rows, int n_rows,
                          int width, Py_ssize_t stride, const floating *x,
                          Py_ssize_t x_stride) noexcept nogil:
    if floating is double:
        add_scaled_rows_d(out, A, rows, n_rows, width, stride, x, x_stride)
    else:
        add_scaled_rows_f(out, A, rows, n_rows, width, stride, x, x_stride)


cdef void row_dots(floating *out, const floating *A, const floating *x, int n_rows,
                   int width) noexcept nogil:
    if floating is double:
        row_dots_d(out, A, x, n_rows, width, width)
    else:
        row_dots_f(out, A, x, n_rows, width, width)


cdef int sum_active_rows(const floating *x, int n, const floating *A, int width,
                         Py_ssize_t stride, int *active, floating *out) noexcept nogil:
    cdef int n_active = nonzero_indices(x, n, 1, active)
    memset(out, 0, width * sizeof(floating))
    add_rows(out, A, active, n_active, width, stride)
    return n_active


cdef Py_ssize_t index_rows(const floating *X, int n, int width, int *count,
                           int *idx) noexcept nogil:
    cdef int r
    cdef Py_ssize_t total = 0
    for r in range(n):
        count[r] = nonzero_indices(X + <Py_ssize_t> r * width, width, 1,
                                   idx + <Py_ssize_t> r * width)
        total += count[r]
    return total


cdef bint indexed_values_are_one(const floating *X, int n, int width, const int *count,
                                 const int *idx) noexcept nogil:
    cdef int r, t, other = 0
    cdef const int *row
    for r in range(n):
        row = idx + <Py_ssize_t> r * width
        for t in range(count[r]):
            other += X[<Py_ssize_t> r * width + row[t]] != 1
    return other == 0


cdef void transpose_index(const int *count, const int *idx, int n, int width,
                          int *tptr, int *tidx) noexcept nogil:
    # A counting sort.
    cdef int r, t, i
    cdef const int *row
    memset(tptr, 0, (width + 1) * sizeof(int))
    for r in range(n):
        row = idx + <Py_ssize_t> r * width
        for t in range(count[r]):
            tptr[row[t] + 1] += 1
    for i in range(width):
        tptr[i + 1] += tptr[i]
    for r in range(n):  # tptr[i] is column i's next free slot while filling
        row = idx + <Py_ssize_t> r * width
        for t in range(count[r]):
            i = row[t]
            tidx[tptr[i]] = r
            tptr[i] += 1
    for i in range(width, 0, -1):  # each slot now holds the next column's start
        tptr[i] = tptr[i - 1]
    tptr[0] = 0


def _simd() -> dict:
    """How the vectorised loops were compiled and which copies run."""
    return {"loops": SIMD_BUILD.decode(),
            "avx512_sources": V4_SOURCES > 0,
            "avx512_sources_in_use": V4_SOURCES > 0 and bool(cpu_v4)}


def _use_avx512(bint on) -> bool:
    """Turn off (or back on) the loops written separately for AVX-512
    (``crbm_add_rows``, ``crbm_add_scaled_rows``, ``crbm_row_dots``,
    ``crbm_nonzero_indices``), which otherwise run wherever the CPU has it;
    returns whether they are on. For tests and benchmarks: the results must
    not depend on it."""
    return bool(use_v4(on))


def _row_dots(const floating[:, ::1] A, const floating[:, ::1] X, floating[:, ::1] out):
    """``out = X @ A.T`` by crbm's row dots, a pass over all of ``A`` for
    each row of ``X``: for the benchmarks' time of one pass over W, and
    tests."""
    cdef Py_ssize_t r, n = X.shape[0]
    if X.shape[1] != A.shape[1] or out.shape[0] != n or out.shape[1] != A.shape[0]:
        raise ValueError(f"shapes do not match: A {A.shape[0]} x {A.shape[1]}, "
                         f"X {X.shape[0]} x {X.shape[1]}, out {out.shape[0]} x {out.shape[1]}")
    if n == 0 or A.shape[0] == 0 or A.shape[1] == 0:
        return
    with nogil:
        for r in range(n):
            row_dots(&out[r, 0], &A[0, 0], &X[r, 0], <int> A.shape[0], <int> A.shape[1])


def _sum_rows(const floating[:, ::1] A, const int[::1] rows):
    """``A[rows].sum(axis=0)`` as the 0/1 products sum it (``add_rows``),
    for tests that compare its copies."""
    if rows.shape[0] > 0 and not 0 <= min(rows) <= max(rows) < A.shape[0]:
        raise ValueError(f"rows must lie in [0, {A.shape[0]})")
    out = np.zeros(A.shape[1], dtype=np.float64 if floating is double else np.float32)
    cdef floating[::1] sums = out
    if A.shape[1] > 0:
        add_rows(&sums[0], &A[0, 0], &rows[0] if rows.shape[0] > 0 else NULL,
                 <int> rows.shape[0], <int> A.shape[1], A.shape[1])
    return out

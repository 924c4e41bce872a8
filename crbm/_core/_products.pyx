# cython: language_level=3
"""Products of layers with the weights, by BLAS or by crbm's row loops.

Design. crbm's own products (``_rows``) beat BLAS where a product has few
rows (BLAS packs ``W`` on every call) or rows with many zeros (binarised
data and sampled binary states are mostly zeros); ``_policy`` says where.
They are split by rows across crbm's worker threads as jobs (``RowsJob``):
a job names what each row gets, and every row is computed alone, in the
same order and with the same draws whichever thread takes it. What a
product's result becomes (means, samples) is the unit layer's business
(``_units``), applied to each thread's rows as they are done.
"""
from libc.stdint cimport uint64_t
from libc.string cimport memset

from crbm._core._blas cimport NoTrans, Trans, gemm, gemv
from crbm._core._policy cimport (
    PATH_GRADIENT_BLAS, PATH_GRADIENT_SUMS, PATH_HIDDEN_BLAS, PATH_HIDDEN_SUMS,
    PATH_VISIBLE_BLAS, PATH_VISIBLE_DOTS, dots_block_rows, parallel_parts, policy, took,
    visible_dots)
from crbm._core._rows cimport add_scaled_rows, index_rows, row_dots, transpose_index
from crbm._core._threads cimport num_threads, rest, run_parts
from crbm._core._units cimport (
    sum_row_products, units_draw, units_draw_cost, units_mean, units_sample)


cdef enum:
    JOB_PRODUCT          # out[r] = X[r] @ A by X[r]'s row index, then the means of units
                         # (unless NULL)
    JOB_DRAW             # out[r] = states of units drawn from means X[r], at stream
                         # positions r * width on
    JOB_WEIGHT_ROWS      # out[i] += sum of X[t, i] * A[t] over column i's rows t
    JOB_DOTS_MEAN        # out[r] = the means of units for X[r] @ A.T
    JOB_DOTS_SAMPLE      # out[r] = states of units for X[r] @ A.T, at stream positions r * width on
    JOB_SAMPLE           # out[r] = states of units for the fields out[r]
    JOB_ROW_PRODUCTS     # bias[r] = sum_j out[r, j] X[r, j]; with `binary` also out[r] += X[r]


cdef struct RowsJob:
    int kind
    bint is_double
    int n                # rows to split
    int width            # of X
    int out_width        # of out and A
    const void *X
    const void *A
    const Units *units
    void *bias           # JOB_ROW_PRODUCTS's sums
    void *out
    const int *count     # row index of X (JOB_PRODUCT)
    const int *idx
    const int *tptr      # column index of X (JOB_WEIGHT_ROWS)
    const int *tidx
    uint64_t key         # JOB_DRAW's stream
    bint binary          # X holds only 0s and 1s: sum rows without scaling them


cdef inline bint sparse_enough(Py_ssize_t count, Py_ssize_t size,
                               double max_density) noexcept nogil:
    return count <= max_density * size


cdef inline void rows_part(floating *of_type, const RowsJob *job, int r0,
                           int r1) noexcept nogil:
    cdef const floating *X = <const floating *> job.X
    cdef const floating *A = <const floating *> job.A
    cdef floating *out = <floating *> job.out
    cdef Py_ssize_t width = job.width, out_width = job.out_width
    cdef int r, i, block
    if job.kind == JOB_PRODUCT:
        for r in range(r0, r1):
            memset(out + r * out_width, 0, out_width * sizeof(floating))
            add_scaled_rows(out + r * out_width, A, job.idx + r * width, job.count[r],
                            job.out_width, out_width, NULL if job.binary else X + r * width, 1)
        if job.units != NULL:
            units_mean(job.units, 0, out + r0 * out_width, r1 - r0, job.out_width, 1.0)
    elif job.kind == JOB_DOTS_MEAN or job.kind == JOB_DOTS_SAMPLE:
        # A (out_width x width) in blocks of rows that stay in L1 while each
        # row of X is dotted with them: A is read from L2 or memory once.
        block = dots_block_rows(job.width, sizeof(floating))
        i = 0
        while i < job.out_width:
            for r in range(r0, r1):
                row_dots(out + r * out_width + i, A + i * width, X + r * width,
                         min(block, job.out_width - i), job.width)
            i += block
        if job.kind == JOB_DOTS_MEAN:
            units_mean(job.units, 0, out + r0 * out_width, r1 - r0, job.out_width, 1.0)
        else:
            units_sample(job.units, 0, job.key, r0 * out_width, out + r0 * out_width, r1 - r0,
                         job.out_width, 1.0, NULL)
    elif job.kind == JOB_ROW_PRODUCTS:
        sum_row_products(out + r0 * width, X + r0 * width, r1 - r0, width,
                         <floating *> job.bias + r0, job.binary)
    elif job.kind == JOB_SAMPLE:
        units_sample(job.units, 0, job.key, r0 * out_width, out + r0 * out_width, r1 - r0,
                     job.out_width, 1.0, NULL)
    elif job.kind == JOB_DRAW:
        units_draw(job.units, 0, job.key, r0 * width, X + r0 * width, out + r0 * width,
                   r1 - r0, job.width, 1.0, NULL)
    else:
        for r in range(r0, r1):
            if job.tptr[r + 1] > job.tptr[r]:
                add_scaled_rows(out + r * out_width, A, job.tidx + job.tptr[r],
                                job.tptr[r + 1] - job.tptr[r], job.out_width, out_width,
                                NULL if job.binary else X + r, width)


cdef void rows_task(void *context, int part, int parts) noexcept nogil:
    cdef const RowsJob *job = <const RowsJob *> context
    cdef int r0 = <int> (<Py_ssize_t> job.n * part // parts)
    cdef int r1 = <int> (<Py_ssize_t> job.n * (part + 1) // parts)
    if r1 <= r0:
        return
    if job.is_double:
        rows_part(<double *> NULL, job, r0, r1)
    else:
        rows_part(<float *> NULL, job, r0, r1)


cdef inline void run_rows(RowsJob *job, Py_ssize_t work, int threads) noexcept nogil:
    """Run ``job`` over its rows, split across up to ``threads`` of crbm's
    threads when its ``work`` is worth it."""
    cdef int parts = parallel_parts(work, job.n, threads)
    if parts <= 1:
        rows_task(job, 0, 1)
    else:
        run_parts(rows_task, job, parts)


cdef inline RowsJob rows_job(floating *of_type, int kind, int n, int width, int out_width,
                             const floating *X, const floating *A, const Units *units,
                             floating *out) noexcept nogil:
    cdef RowsJob job
    memset(&job, 0, sizeof(RowsJob))
    job.kind = kind
    job.is_double = floating is double
    job.n, job.width, job.out_width = n, width, out_width
    job.X, job.A, job.units, job.out = X, A, units, out
    return job


cdef void draw_rows(bitgen_t *rng, const Units *u, const floating *means, floating *out,
                    int n, int width, int threads) noexcept nogil:
    cdef RowsJob job = rows_job(out, JOB_DRAW, n, width, width, means, NULL, u, out)
    job.key = rng.next_uint64(rng.state)
    run_rows(&job, units_draw_cost(u) * n * width, threads)


cdef inline void blas_hidden_field(const floating *VI, int n, const floating *W,
                                   floating *PH, int N, int M) noexcept nogil:
    rest()
    if n == 1:
        gemv(Trans, N, M, 1, W, M, VI, 1, 0, PH, 1)
    else:
        gemm(NoTrans, NoTrans, n, M, N, 1, VI, N, W, M, 0, PH, M)


cdef void hidden_means(const floating *VI, int n, const floating *W, const Units *u,
                       floating *PH, int N, int M) noexcept nogil:
    blas_hidden_field(VI, n, W, PH, N, M)
    units_mean(u, 0, PH, n, M, 1.0)


cdef void visible_means(const floating *H, int n, const floating *W, const Units *u,
                        floating *PV, int N, int M, bint own, int threads,
                        PathCounts *paths) noexcept nogil:
    cdef RowsJob job
    if n == 1:
        took(paths, PATH_VISIBLE_BLAS, 1)
        gemv(NoTrans, N, M, 1, W, M, H, 1, 0, PV, 1)
        units_mean(u, 0, PV, n, N, 1.0)
    elif own or visible_dots(n, N, M, sizeof(floating)):
        took(paths, PATH_VISIBLE_DOTS, 1)
        job = rows_job(PV, JOB_DOTS_MEAN, n, M, N, H, W, u, PV)
        run_rows(&job, <Py_ssize_t> n * N * M, threads)
    else:
        took(paths, PATH_VISIBLE_BLAS, 1)
        rest()
        gemm(NoTrans, Trans, n, N, M, 1, H, M, W, M, 0, PV, N)
        units_mean(u, 0, PV, n, N, 1.0)


cdef void visible_states(bitgen_t *rng, const floating *H, int n, const floating *W,
                         const Units *u, floating *V, int N, int M, bint own, int threads,
                         PathCounts *paths) noexcept nogil:
    cdef RowsJob job
    cdef uint64_t key = rng.next_uint64(rng.state)
    if n > 1 and (own or visible_dots(n, N, M, sizeof(floating))):
        took(paths, PATH_VISIBLE_DOTS, 1)
        job = rows_job(V, JOB_DOTS_SAMPLE, n, M, N, H, W, u, V)
        job.key = key
        run_rows(&job, <Py_ssize_t> n * N * M, threads)
        return
    took(paths, PATH_VISIBLE_BLAS, 1)
    if n == 1:
        gemv(NoTrans, N, M, 1, W, M, H, 1, 0, V, 1)
    else:
        rest()
        gemm(NoTrans, Trans, n, N, M, 1, H, M, W, M, 0, V, N)
    job = rows_job(V, JOB_SAMPLE, n, N, N, NULL, NULL, u, V)
    job.key = key
    run_rows(&job, units_draw_cost(u) * n * N, threads)


cdef void hidden_products(const floating *VI, int n, const floating *W, const Units *u,
                          floating *PH, int N, int M, int *count, int *idx,
                          double max_density, Py_ssize_t nonzero, bint binary,
                          int threads, PathCounts *paths) noexcept nogil:
    cdef RowsJob job
    if count != NULL:
        if nonzero < 0:
            nonzero = index_rows(VI, n, N, count, idx)
        if sparse_enough(nonzero, <Py_ssize_t> n * N, max_density):
            took(paths, PATH_HIDDEN_SUMS, 1)
            job = rows_job(PH, JOB_PRODUCT, n, N, M, VI, W, u, PH)
            job.count, job.idx, job.binary = count, idx, binary
            run_rows(&job, nonzero * M, threads)
            return
    took(paths, PATH_HIDDEN_BLAS, 1)
    blas_hidden_field(VI, n, W, PH, N, M)
    if u != NULL:
        units_mean(u, 0, PH, n, M, 1.0)


cdef void weight_step(const floating *VV, int rows, floating *PP, int N, int M,
                      floating lr, floating beta, floating *step_W,
                      const int *count, const int *idx, int *tptr, int *tidx,
                      double max_density, bint binary, int threads,
                      PathCounts *paths) noexcept nogil:
    cdef Py_ssize_t size = <Py_ssize_t> rows * M, NM = <Py_ssize_t> N * M
    cdef Py_ssize_t t, nonzero = 0
    cdef int i
    cdef RowsJob job
    if count != NULL:
        for i in range(rows):
            nonzero += count[i]
    if max_density < 1:
        max_density = min(max_density, policy().gradient_max_density)
    if count == NULL or not sparse_enough(nonzero, <Py_ssize_t> rows * N, max_density):
        took(paths, PATH_GRADIENT_BLAS, 1)
        rest()
        gemm(Trans, NoTrans, N, M, rows, lr, VV, N, PP, M, beta, step_W, M)
        return
    took(paths, PATH_GRADIENT_SUMS, 1)
    transpose_index(count, idx, rows, N, tptr, tidx)
    for t in range(size):
        PP[t] *= lr
    if beta == 0:
        memset(step_W, 0, NM * sizeof(floating))
    elif beta != 1:
        for t in range(NM):
            step_W[t] *= beta
    job = rows_job(step_W, JOB_WEIGHT_ROWS, N, N, M, VV, PP, NULL, step_W)
    job.tptr, job.tidx, job.binary = tptr, tidx, binary
    run_rows(&job, nonzero * M, threads)


cdef void row_products(floating *A, const floating *B, int rows, int width, floating *sums,
                       bint add, int threads) noexcept nogil:
    # A pass that reads (and writes) arrays costs about as much per entry as
    # a few multiply-adds of a product.
    cdef RowsJob job = rows_job(A, JOB_ROW_PRODUCTS, rows, width, width, B, NULL, NULL, A)
    job.bias, job.binary = sums, add
    run_rows(&job, 3 * <Py_ssize_t> rows * width, threads)


cdef void column_means(const floating *X, int n, int width, floating scale,
                       floating *out) noexcept nogil:
    cdef Py_ssize_t i, j
    for j in range(width):
        out[j] = 0
    for i in range(n):
        for j in range(width):
            out[j] += X[i * width + j]
    for j in range(width):
        out[j] *= scale

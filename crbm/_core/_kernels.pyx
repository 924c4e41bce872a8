# cython: language_level=3
"""RBM kernels: sigmoid, conditional probabilities, CD updates, Gibbs sweeps.

Conventions are in ``_kernels.pxd``. The order in which each kernel draws its
uniforms is part of its contract, so that a numpy reference fed the same
generator reproduces it exactly:

* ``cd_sample_update`` and ``cd_sample_update_binary``: h0 (M), then per
  step v (N), h (M); ``cd_samples_update_binary`` the same for each sample.
* ``cd_batch_update`` and ``cd_batch_update_sparse``: H0 (n x M, row-major), then for CD per step V (n x N)
  and, except after the last step, H (n x M); for PCD per step H then V
  (C x M, C x N) on the persistent chains.
* ``gibbs_sweep``: H (n x M), then V (n x N).
"""
import numpy as np

from libc.stdint cimport uint64_t, uintptr_t
from libc.string cimport memcpy, memset

from crbm._blas cimport NoTrans, Trans, axpy, gemm, gemv, ger
from crbm._random cimport bernoulli, bernoulli_stream


cdef extern from "_simd.h":
    int use_v4 "crbm_use_v4"(int on) nogil
    void sigmoid_d "crbm_sigmoid_d"(double *x, Py_ssize_t n) noexcept nogil
    void sigmoid_f "crbm_sigmoid_f"(float *x, Py_ssize_t n) noexcept nogil
    void sigmoid_bias_d "crbm_sigmoid_bias_d"(
        double *x, const double *bias, Py_ssize_t rows, Py_ssize_t width) noexcept nogil
    void sigmoid_bias_f "crbm_sigmoid_bias_f"(
        float *x, const float *bias, Py_ssize_t rows, Py_ssize_t width) noexcept nogil
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
    void binary_cd_step_d "crbm_binary_cd_step_d"(
        double *W, double *b, double *c, const double *v, const double *vk,
        const double *h0, const double *hk, double lr, Py_ssize_t N, Py_ssize_t M,
        const int *v_active, int n_v, const int *vk_active, int n_vk,
        double *steps, int *rows) noexcept nogil
    void binary_cd_step_f "crbm_binary_cd_step_f"(
        float *W, float *b, float *c, const float *v, const float *vk,
        const float *h0, const float *hk, float lr, Py_ssize_t N, Py_ssize_t M,
        const int *v_active, int n_v, const int *vk_active, int n_vk,
        float *steps, int *rows) noexcept nogil
    void sample_logits_d "crbm_sample_logits_d"(
        uint64_t key, uint64_t offset, double *x, const double *bias, Py_ssize_t rows,
        Py_ssize_t width) noexcept nogil
    void sample_logits_f "crbm_sample_logits_f"(
        uint64_t key, uint64_t offset, float *x, const float *bias, Py_ssize_t rows,
        Py_ssize_t width) noexcept nogil


cdef extern from "_pool.h":
    ctypedef void (*crbm_task)(void *context, int part, int parts) noexcept nogil
    int pool_threads "crbm_pool_threads"
    int set_threads "crbm_set_threads"(int n) nogil
    void run_parts "crbm_run_parts"(crbm_task task, void *context, int parts) nogil
    bint run_together "crbm_run_together"(crbm_task task, void *context, int parts) nogil
    void crbm_reach(long *phase, long value) nogil
    long crbm_await(const long *phase, long value) nogil
    long CRBM_SPIN_YIELD
    void pool_rest "crbm_pool_rest"() nogil


def _set_num_threads(int n) -> int:
    """Threads crbm's own loops may use (the caller's included); returns the
    number now in use. See ``crbm.set_num_threads``."""
    with nogil:
        n = set_threads(n)
    return n


def _get_num_threads() -> int:
    return pool_threads


def _use_avx512(bint on) -> bool:
    """Turn off (or back on) the loops written separately for AVX-512
    (``crbm_add_rows``, ``crbm_add_scaled_rows``, ``crbm_row_dots``,
    ``crbm_nonzero_indices``), which otherwise run wherever the CPU has it;
    returns whether they are on. For tests: the results must not depend on
    it."""
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


cdef void sigmoid(floating *x, Py_ssize_t n) noexcept nogil:
    """In-place logistic function, stable for any finite input; vectorised."""
    if floating is double:
        sigmoid_d(x, n)
    else:
        sigmoid_f(x, n)


cdef inline void sigmoid_bias(floating *x, const floating *bias, int n,
                              int width) noexcept nogil:
    """``x[r] = sigmoid(x[r] + bias)`` for each of the ``n`` rows of ``x``."""
    if floating is double:
        sigmoid_bias_d(x, bias, n, width)
    else:
        sigmoid_bias_f(x, bias, n, width)


cdef inline void sample_logits(bitgen_t *rng, floating *x, const floating *bias,
                               int n, int width) noexcept nogil:
    """``x[r] = bernoulli(sigmoid(x[r] + bias))`` in one pass; the same draws
    and results as ``sigmoid_bias`` followed by ``bernoulli``."""
    sample_logits_at(rng.next_uint64(rng.state), 0, x, bias, n, width)


cdef inline void sample_logits_at(uint64_t key, uint64_t offset, floating *x,
                                  const floating *bias, int n, int width) noexcept nogil:
    """``sample_logits`` with the stream ``key`` from its uniform ``offset``
    on: the entries of one draw split into parts, each at its own offset."""
    if floating is double:
        sample_logits_d(key, offset, x, bias, n, width)
    else:
        sample_logits_f(key, offset, x, bias, n, width)


# Row-parallel steps of a minibatch: each splits its rows into one range
# per thread (crbm_run_parts); a row is computed the same way, with the same
# draws, whichever thread takes it, so results do not depend on the count.
cdef enum:
    JOB_PRODUCT          # out[r] = X[r] @ A by X[r]'s row index; then sigmoid(out[r] + bias)
                         # unless bias is NULL
    JOB_SAMPLE           # out[r, j] = u(key, r * width + j) < X[r, j]
    JOB_WEIGHT_ROWS      # out[i] += sum of X[t, i] * A[t] over column i's rows t
    JOB_DOTS_SIGMOID     # out[r] = sigmoid(X[r] @ A.T + bias)

cdef struct RowsJob:
    int kind
    bint is_double
    int n                # rows to split
    int width            # of X
    int out_width        # of out and A
    const void *X
    const void *A
    const void *bias
    void *out
    const int *count     # row index of X (JOB_PRODUCT)
    const int *idx
    const int *tptr      # column index of X (JOB_WEIGHT_ROWS)
    const int *tidx
    uint64_t key         # JOB_SAMPLE's stream
    bint binary          # X holds only 0s and 1s: sum rows without scaling them

# Below this many multiply-adds (or samples) a step runs on the caller: the
# hand-off to a worker costs a few microseconds.
cdef Py_ssize_t PARALLEL_MIN_WORK = 1 << 20
# Data denser than this goes to BLAS's threads, not crbm's: summing rows
# costs in proportion to the density, gemm does not (MNIST, M=500, batch 100,
# 2 threads: 0.097 s an epoch in crbm's threads against 0.146 in BLAS's at
# density 0.19; 0.31 against 0.22 for dense data).
cdef double PARALLEL_MAX_DENSITY = 0.45


cdef inline void rows_part(floating *of_type, const RowsJob *job, int r0,
                           int r1) noexcept nogil:
    cdef const floating *X = <const floating *> job.X
    cdef const floating *A = <const floating *> job.A
    cdef const floating *bias = <const floating *> job.bias
    cdef floating *out = <floating *> job.out
    cdef Py_ssize_t width = job.width, out_width = job.out_width
    cdef int r, i, block
    if job.kind == JOB_PRODUCT:
        for r in range(r0, r1):
            memset(out + r * out_width, 0, out_width * sizeof(floating))
            add_scaled_rows(out + r * out_width, A, job.idx + r * width, job.count[r],
                            job.out_width, out_width, NULL if job.binary else X + r * width, 1)
        if bias != NULL:
            sigmoid_bias(out + r0 * out_width, bias, r1 - r0, job.out_width)
    elif job.kind == JOB_DOTS_SIGMOID:
        # A (out_width x width) in blocks of 32 KB of rows, which stay in L1
        # while each row of X is dotted with them: A is read from L2 or
        # memory once (8 to 40 KB tried: 32 best, MNIST batch 10, float64
        # M=100: 0.077 s an epoch with 8, 0.067 with 32).
        block = max(4, (32 * 1024) // (job.width * <int> sizeof(floating)))
        i = 0
        while i < job.out_width:
            for r in range(r0, r1):
                row_dots(out + r * out_width + i, A + i * width, X + r * width,
                         min(block, job.out_width - i), job.width)
            i += block
        sigmoid_bias(out + r0 * out_width, bias, r1 - r0, job.out_width)
    elif job.kind == JOB_SAMPLE:
        bernoulli_stream(job.key, r0 * width, X + r0 * width, out + r0 * width,
                         (r1 - r0) * width)
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
    cdef int parts = threads if work >= PARALLEL_MIN_WORK else 1
    if parts > job.n:
        parts = job.n
    if parts <= 1:
        rows_task(job, 0, 1)
    else:
        run_parts(rows_task, job, parts)


cdef inline RowsJob rows_job(floating *of_type, int kind, int n, int width, int out_width,
                             const floating *X, const floating *A, const floating *bias,
                             floating *out) noexcept nogil:
    cdef RowsJob job
    memset(&job, 0, sizeof(RowsJob))
    job.kind = kind
    job.is_double = floating is double
    job.n, job.width, job.out_width = n, width, out_width
    job.X, job.A, job.bias, job.out = X, A, bias, out
    return job


cdef inline void sample_rows(bitgen_t *rng, const floating *P, floating *out,
                             int n, int width, int threads) noexcept nogil:
    """``bernoulli(rng, P, out, n * width)`` for n rows of ``width``: the same
    draws, split across threads by rows."""
    cdef RowsJob job = rows_job(out, JOB_SAMPLE, n, width, width, P, NULL, NULL, out)
    job.key = rng.next_uint64(rng.state)
    run_rows(&job, 4 * <Py_ssize_t> n * width, threads)


cdef inline void blas_hidden_logits(const floating *V, int n, const floating *W,
                                    floating *PH, int N, int M) noexcept nogil:
    """``PH = V @ W`` in BLAS; ``V`` is n x N, ``PH`` n x M."""
    pool_rest()
    if n == 1:
        gemv(Trans, N, M, 1, W, M, V, 1, 0, PH, 1)
    else:
        gemm(NoTrans, NoTrans, n, M, N, 1, V, N, W, M, 0, PH, M)


cdef void hidden_probabilities(const floating *V, int n, const floating *W,
                               const floating *c, floating *PH,
                               int N, int M) noexcept nogil:
    """``PH = sigmoid(V @ W + c)``; ``V`` is n x N, ``PH`` n x M."""
    blas_hidden_logits(V, n, W, PH, N, M)
    sigmoid_bias(PH, c, n, M)


cdef void visible_probabilities(const floating *H, int n, const floating *W,
                                const floating *b, floating *PV,
                                int N, int M) noexcept nogil:
    """``PV = sigmoid(H @ W.T + b)``; ``H`` is n x M, ``PV`` n x N."""
    visible_probabilities_split(H, n, W, b, PV, N, M, False, 1)


cdef inline void visible_probabilities_split(const floating *H, int n, const floating *W,
                                             const floating *b, floating *PV, int N, int M,
                                             bint own, int threads) noexcept nogil:
    """``visible_probabilities``; with ``own``, in crbm's own dots split
    across up to ``threads`` threads by rows of H."""
    cdef RowsJob job
    if n == 1:
        gemv(NoTrans, N, M, 1, W, M, H, 1, 0, PV, 1)
        sigmoid_bias(PV, b, n, N)
    elif own or (n <= 16 and <Py_ssize_t> N * M * sizeof(floating) <= 1024 * 1024):
        # crbm's dots, in blocks of W's rows (see rows_part). For a few rows
        # against a W in L2, gemm would spend as long packing W on every
        # call as multiplying (digits, M=100: 12.5 against 14.2 us a
        # minibatch; MNIST, M=100, batch 10, float64: 0.077 against 0.10 s
        # an epoch). For large batches (own) they run as fast per thread
        # as single-threaded gemm (MNIST, M=500, batch 100) and split across
        # crbm's threads with no BLAS threads to share the cores with.
        job = rows_job(PV, JOB_DOTS_SIGMOID, n, M, N, H, W, b, PV)
        run_rows(&job, <Py_ssize_t> n * N * M, threads)
    else:
        pool_rest()
        gemm(NoTrans, Trans, n, N, M, 1, H, M, W, M, 0, PV, N)
        sigmoid_bias(PV, b, n, N)


cdef Py_ssize_t cd_sample_work_size(int N, int M) noexcept nogil:
    """Length of the ``work`` buffer ``cd_sample_update`` and
    ``cd_sample_update_binary`` need."""
    return max(5 * <Py_ssize_t> M + N, cd_samples_work_size(N, M))


cdef void cd_sample_update(bitgen_t *rng, const floating *v,
                           floating *W, floating *b, floating *c,
                           int N, int M, int k, floating learning_rate,
                           floating *work) noexcept nogil:
    """One per-sample CD-k step (the reference algorithm for k = 1).

    h0 ~ p(h | v); then k times v' ~ p(v | h), h' ~ p(h | v'), all states
    sampled; ``W += lr (v h0^T - v' h'^T)`` as two rank-1 ``ger`` updates,
    ``b += lr (v - v')``, ``c += lr (h0 - h')``.
    """
    cdef floating *h0 = work
    cdef floating *h = work + M
    cdef floating *vk = work + 2 * M
    cdef floating *hk = h0
    cdef int step
    hidden_probabilities(v, 1, W, c, h0, N, M)
    bernoulli(rng, h0, h0, M)
    for step in range(k):
        visible_probabilities(hk, 1, W, b, vk, N, M)
        bernoulli(rng, vk, vk, N)
        hidden_probabilities(vk, 1, W, c, h, N, M)
        bernoulli(rng, h, h, M)
        hk = h
    ger(N, M, learning_rate, v, 1, h0, 1, W, M)
    ger(N, M, -learning_rate, vk, 1, h, 1, W, M)
    axpy(N, learning_rate, v, 1, b, 1)
    axpy(N, -learning_rate, vk, 1, b, 1)
    axpy(M, learning_rate, h0, 1, c, 1)
    axpy(M, -learning_rate, h, 1, c, 1)


cdef inline int nonzero_indices(const floating *x, int n, Py_ssize_t stride,
                                int *out) noexcept nogil:
    """List the i < n with ``x[i * stride] != 0`` in ``out``; return how many."""
    if floating is double:
        return nonzero_indices_d(x, n, stride, out)
    else:
        return nonzero_indices_f(x, n, stride, out)


cdef inline void add_rows(floating *out, const floating *A, const int *rows,
                          int n_rows, int width, Py_ssize_t stride) noexcept nogil:
    """``out[:width] += A[rows, :width].sum(axis=0)`` for a row-major ``A``
    whose rows are ``stride`` apart."""
    if floating is double:
        add_rows_d(out, A, rows, n_rows, width, stride)
    else:
        add_rows_f(out, A, rows, n_rows, width, stride)


cdef inline void row_dots(floating *out, const floating *A, const floating *x,
                          int n_rows, int width) noexcept nogil:
    """``out = A @ x`` for a row-major n_rows x width ``A``."""
    if floating is double:
        row_dots_d(out, A, x, n_rows, width, width)
    else:
        row_dots_f(out, A, x, n_rows, width, width)


cdef Py_ssize_t cd_sample_index_work_size(int N, int M) noexcept nogil:
    """Length of the ``index_work`` buffer ``cd_sample_update_binary`` and
    ``cd_samples_update_binary`` need: for each block of W's rows, the
    active lists of v and vk and the list of changed rows."""
    return 3 * <Py_ssize_t> N


# Per-sample CD on 0/1 data splits W into two blocks of rows, whatever the
# number of threads: each block's part of every step (the sums of its active
# rows, its rows' dots with h, its share of vk's draws, its rows' update)
# is computed alone, and the two parts of W.T @ v are added, block 0's
# first. Two threads then take a block each, exchanging only those sums
# (M values, twice a sample for CD-1) and each reading half of W, which
# per-sample CD streams from L2 once a sample; one thread takes both blocks
# in turn, with the same results. Up to 16 Gibbs chains are sampled the
# same way (gibbs_sweeps_binary). There are always two blocks: the code
# below spells the 2 out.
#
# Below this much work, N (M + 32) a sample or n N (M + 32) a sweep of n
# chains, a step (under 0.7 us) is too short to share: the threads meet
# once or twice in it, at about 0.1 us each. Drawing a visible unit costs
# about as much as 32 weights. Measured for per-sample CD on 0/1 rows,
# float32, 1 thread against 2: N=64 M=64 0.48 against 0.55 us; N=64 M=100
# 0.70 against 0.68; N=256 M=32 0.86 against 0.76; MNIST M=8 2.3 against
# 1.5 (one run).
cdef Py_ssize_t TWO_BLOCKS_MIN_WORK = 8192


cdef struct BlockProgress:
    # Written by one block's thread only, run together.
    long phase             # the last phase the block has finished
    long slow              # meetings it waited long for (it yielded its CPU)
    char pad[112]          # 128 bytes a block: no cache line holds both blocks'


cdef struct BlockPair:
    # How the two blocks of W's rows of a job run: together, a thread each
    # (meeting through phase counters), or in turn on one thread.
    bint together
    bitgen_t *rng          # keys drawn as they are needed, when keys is NULL
    const uint64_t *keys   # else all drawn beforehand, in order
    char pad[128]          # keeps the fields above off the blocks' cache lines
    BlockProgress blocks[2]


cdef struct OnlineJob:
    bint is_double
    int n, N, M, k
    int split              # block 0 has W's rows [0, split), block 1 [split, N)
    const void *V          # n x N visible rows, 0/1
    void *W
    void *b
    void *c
    double learning_rate
    void *work
    int *index_work
    BlockPair pair         # 1 + 2 k keys a sample


cdef inline Py_ssize_t padded(Py_ssize_t n) noexcept nogil:
    """n rounded up to 16: arrays of that length stay 64 bytes apart."""
    return (n + 15) // 16 * 16


cdef Py_ssize_t cd_samples_work_size(int N, int M) noexcept nogil:
    """Length of the ``work`` buffer ``cd_samples_update_binary`` needs."""
    # vk; the block sums (2 phases x 2 blocks); each block's h0, h, c, steps;
    # room to start at a 64-byte boundary.
    return padded(N) + 4 * padded(M) + 2 * 6 * padded(M) + 16


cdef inline uint64_t pair_key(BlockPair *pair, Py_ssize_t index) noexcept nogil:
    """The job's key number ``index``."""
    if pair.keys != NULL:
        return pair.keys[index]
    return pair.rng.next_uint64(pair.rng.state)


cdef inline void pair_meet(BlockPair *pair, int first, long phase) noexcept nogil:
    """Run together, mark block ``first``'s phase done and wait for the
    other block's; in turn, both blocks are done already."""
    if pair.together:
        crbm_reach(&pair.blocks[first].phase, phase)
        if crbm_await(&pair.blocks[1 - first].phase, phase) >= CRBM_SPIN_YIELD:
            pair.blocks[first].slow += 1


cdef inline bint pair_contended(const BlockPair *pair) noexcept nogil:
    """Whether the two threads of a job run together were slow to meet: at
    least 2 meetings in 16 (each waits a few spins, here 1 in 5,000 long
    enough to yield), as when the cores are shared with other busy threads
    (two processes training at once on two cores: 14-18 in 100)."""
    cdef long slow = pair.blocks[0].slow + pair.blocks[1].slow
    return pair.together and slow >= 2 and 16 * slow >= pair.blocks[0].phase


cdef inline bint pair_run(BlockPair *pair, crbm_task task, void *job, bitgen_t *rng,
                          uint64_t *keys, Py_ssize_t n_keys, bint worth_it,
                          int threads) noexcept nogil:
    """Run the job's two blocks: ``task(job, p, 2)`` for block p on two
    threads when ``worth_it`` and there are two to be had, with its
    ``n_keys`` keys drawn into ``keys`` first; else ``task(job, 0, 1)``,
    both blocks in turn on the caller, reading the keys already drawn if
    any, else drawing them from ``rng`` as it goes: the same keys either
    way. Returns whether two threads ran and were slow to meet
    (``pair_contended``)."""
    cdef Py_ssize_t i
    pair.rng = rng
    if threads >= 2 and keys != NULL and worth_it:
        for i in range(n_keys):
            keys[i] = rng.next_uint64(rng.state)
        pair.keys = keys
        pair.together = True
        if run_together(task, job, 2):
            return pair_contended(pair)
        pair.together = False
    task(job, 0, 1)
    return False


cdef inline floating *block_sums(floating *sums, long phase, int p, int n,
                                 int M) noexcept nogil:
    """Where block ``p`` puts its sums of W.T @ x (n rows, ``padded(M)``
    apart) in phase ``phase``: two buffers, by the phase's parity, so that a
    block can write the next phase's while the other still reads these."""
    return sums + (phase % 2 * 2 + p) * <Py_ssize_t> n * padded(M)


cdef inline void sample_summed(BlockPair *pair, int first, int last, floating *sums,
                               long phase, int n, int M, uint64_t key, floating **h,
                               floating **c) noexcept nogil:
    """``h ~ p(h | x)`` (n x M) from the two blocks' sums of W.T @ x in phase
    ``phase``, block 0's first, into h[p] of each block that samples its own
    (block 0, and block 1 run together), with hidden bias c[p]."""
    cdef const floating *sums0 = block_sums(sums, phase, 0, n, M)
    cdef const floating *sums1 = block_sums(sums, phase, 1, n, M)
    cdef Py_ssize_t Mp = padded(M)
    cdef int p, r, j
    for p in range(first, last):
        if p == 0 or pair.together:
            for r in range(n):
                for j in range(M):
                    h[p][r * M + j] = sums0[r * Mp + j] + sums1[r * Mp + j]
            sample_logits_at(key, 0, h[p], c[p], n, M)


cdef inline int sum_active_rows(const floating *x, int n, const floating *A, int width,
                                Py_ssize_t stride, int *active, floating *out) noexcept nogil:
    """``out = A[:, :width].T @ x`` for a 0/1 ``x`` of n entries and a
    row-major ``A`` of n rows ``stride`` apart: list x's active units in
    ``active``, sum their rows; returns how many there are."""
    cdef int n_active = nonzero_indices(x, n, 1, active)
    memset(out, 0, width * sizeof(floating))
    add_rows(out, A, active, n_active, width, stride)
    return n_active


cdef void online_run(floating *of_type, OnlineJob *job, int first, int last) noexcept nogil:
    """Blocks ``first`` to ``last - 1`` of per-sample CD-k over the job's
    samples (see ``cd_samples_update_binary``), phase by phase."""
    cdef int N = job.N, M = job.M, k = job.k, s, step, p
    cdef floating lr = <floating> job.learning_rate
    cdef floating *W = <floating *> job.W
    cdef floating *b = <floating *> job.b
    cdef const floating *v
    # At a 64-byte boundary, so that the padded arrays below share no line.
    cdef floating *vk = <floating *> ((<uintptr_t> job.work + 63) & ~(<uintptr_t> 63))
    cdef floating *sums = vk + padded(N)              # see block_sums
    cdef floating *blocks = sums + 4 * padded(M)
    cdef floating *h0[2]
    cdef floating *h[2]
    cdef floating *hk[2]
    cdef floating *cs[2]          # the c a block samples h with and adds its step to
    cdef floating *steps[2]
    cdef int *v_active[2]
    cdef int *vk_active[2]
    cdef int *changed[2]
    cdef int lo[2]
    cdef int rows[2]
    cdef int n_v[2]
    cdef int n_vk[2]
    cdef uint64_t key
    cdef Py_ssize_t draws = 1 + 2 * <Py_ssize_t> k   # keys a sample
    cdef long phase = 0
    lo[0], lo[1] = 0, job.split
    rows[0], rows[1] = job.split, N - job.split
    for p in range(2):
        h0[p] = blocks + p * 6 * padded(M)
        h[p] = h0[p] + padded(M)
        cs[p] = h[p] + padded(M)
        steps[p] = cs[p] + padded(M)     # 3 x M
        v_active[p] = job.index_work + 3 * lo[p]
        vk_active[p] = v_active[p] + rows[p]
        changed[p] = vk_active[p] + rows[p]
    # Block 0 updates the model's c. Block 1 keeps a copy of it, updated the
    # same way: on its own thread it samples h with it; otherwise it takes
    # block 0's h0 and h, and the copy only keeps its c step off garbage.
    cs[0] = <floating *> job.c
    if first == 1 or not job.pair.together:
        memcpy(cs[1], job.c, M * sizeof(floating))
    if not job.pair.together:
        h0[1], h[1] = h0[0], h[0]
    for s in range(job.n):
        v = <const floating *> job.V + <Py_ssize_t> s * N
        for p in range(first, last):
            n_v[p] = sum_active_rows(v + lo[p], rows[p], W + <Py_ssize_t> lo[p] * M, M, M,
                                     v_active[p], block_sums(sums, phase, p, 1, M))
        phase += 1
        pair_meet(&job.pair, first, phase)
        sample_summed(&job.pair, first, last, sums, phase - 1, 1, M,
                      pair_key(&job.pair, s * draws), h0, cs)
        hk[0], hk[1] = h0[0], h0[1]
        for step in range(k):
            key = pair_key(&job.pair, s * draws + 1 + 2 * step)
            for p in range(first, last):
                row_dots(vk + lo[p], W + <Py_ssize_t> lo[p] * M, hk[p], rows[p], M)
                sample_logits_at(key, lo[p], vk + lo[p], b + lo[p], 1, rows[p])
                n_vk[p] = sum_active_rows(vk + lo[p], rows[p], W + <Py_ssize_t> lo[p] * M, M, M,
                                          vk_active[p], block_sums(sums, phase, p, 1, M))
            phase += 1
            pair_meet(&job.pair, first, phase)
            sample_summed(&job.pair, first, last, sums, phase - 1, 1, M,
                          pair_key(&job.pair, s * draws + 2 + 2 * step), h, cs)
            hk[0], hk[1] = h[0], h[1]
        # W += lr (v h0^T - vk hk^T) row by row on the rows v or vk turns on.
        for p in range(first, last):
            if floating is double:
                binary_cd_step_d(W + <Py_ssize_t> lo[p] * M, b + lo[p], cs[p], v + lo[p],
                                 vk + lo[p], h0[p], hk[p], lr, rows[p], M, v_active[p], n_v[p],
                                 vk_active[p], n_vk[p], steps[p], changed[p])
            else:
                binary_cd_step_f(W + <Py_ssize_t> lo[p] * M, b + lo[p], cs[p], v + lo[p],
                                 vk + lo[p], h0[p], hk[p], lr, rows[p], M, v_active[p], n_v[p],
                                 vk_active[p], n_vk[p], steps[p], changed[p])


cdef void online_task(void *context, int part, int parts) noexcept nogil:
    # parts 2: block `part`, on its own thread; parts 1: both blocks in turn
    cdef OnlineJob *job = <OnlineJob *> context
    cdef int last = part + 1 if parts == 2 else 2
    if job.is_double:
        online_run(<double *> NULL, job, part, last)
    else:
        online_run(<float *> NULL, job, part, last)


cdef bint cd_samples_update_binary(bitgen_t *rng, const floating *V, int n,
                                   floating *W, floating *b, floating *c,
                                   int N, int M, int k, floating learning_rate,
                                   floating *work, int *index_work,
                                   uint64_t *keys, int threads) noexcept nogil:
    """``cd_sample_update_binary`` on each of the ``n`` rows of ``V`` in turn,
    on up to ``threads`` threads (two at most; one when the model is small).

    The rows are 0/1. ``work`` has ``cd_samples_work_size(N, M)`` entries,
    ``index_work`` ``cd_sample_index_work_size(N, M)``; ``keys`` room for
    ``n * (1 + 2 k)`` numbers (NULL: one thread), filled with the draws
    from ``rng``. The results do not depend on ``threads``. Returns whether
    two threads ran and were slow to meet (``pair_contended``: the cores are
    busy with other work), when the next calls had better use one.
    """
    cdef OnlineJob job
    memset(&job, 0, sizeof(OnlineJob))
    job.is_double = floating is double
    job.n, job.N, job.M, job.k, job.split = n, N, M, k, N // 2
    job.V, job.W, job.b, job.c = V, W, b, c
    job.learning_rate = learning_rate
    job.work, job.index_work = work, index_work
    return pair_run(&job.pair, online_task, &job, rng, keys,
                    <Py_ssize_t> n * (1 + 2 * <Py_ssize_t> k),
                    n > 0 and <Py_ssize_t> N * (M + 32) >= TWO_BLOCKS_MIN_WORK, threads)


cdef void cd_sample_update_binary(bitgen_t *rng, const floating *v,
                                  floating *W, floating *WT,
                                  floating *b, floating *c,
                                  int N, int M, int k, floating learning_rate,
                                  floating *work, int *index_work) noexcept nogil:
    """``cd_sample_update`` for a visible vector ``v`` of exact 0s and 1s.

    Every state in per-sample CD is then 0/1, so ``W.T @ v`` is the sum of
    the rows of W the active units pick (``W @ h`` is a dense product,
    ``crbm_row_dots``: for this size BLAS's call overhead dominates),
    and the update ``lr (v h0^T - vk hk^T)`` only changes the rows of W whose
    unit is on in ``v`` or ``vk``: each such row gets ``lr * h0``,
    ``-lr * hk`` or ``lr * (h0 - hk)``, so every entry changes by exactly
    ``+lr``, ``-lr`` or 0, as with ``ger`` (except that entries where both
    terms are 1 get 0 instead of ``+lr - lr``). Results equal
    ``cd_sample_update``'s to rounding, with the same draws. One thread;
    ``cd_samples_update_binary`` runs many samples on up to two.

    ``WT`` is neither read nor written (it may be NULL); it was a transposed
    copy of W in earlier versions and stays in the signature for callers.
    ``work`` has ``cd_sample_work_size(N, M)`` entries, ``index_work``
    ``cd_sample_index_work_size(N, M)``.
    """
    cd_samples_update_binary(rng, v, 1, W, b, c, N, M, k, learning_rate, work, index_work,
                             NULL, 1)


cdef inline bint needs_step_buffer(const CDSettings *s) noexcept nogil:
    # The weight step is formed apart from W when something beyond the plain
    # gradient acts on it; with momentum the velocity holds it.
    return s.momentum == 0 and (s.weight_decay != 0 or s.centered)


cdef Py_ssize_t cd_batch_work_size(int n, int n_chains, int N, int M,
                                   const CDSettings *s) noexcept nogil:
    """Length of the ``work`` buffer ``cd_batch_update`` needs; ``n_chains``
    is 0 for CD (the chains start at the data) or the number of PCD chains."""
    cdef Py_ssize_t C = n_chains if n_chains > 0 else n
    cdef Py_ssize_t size = (n + C) * (<Py_ssize_t> N + M) + max(<Py_ssize_t> n, C) * M
    size += 2 * (<Py_ssize_t> N + M)
    if needs_step_buffer(s):
        size += <Py_ssize_t> N * M
    return size


cdef inline void column_means(const floating *X, int n, int width, floating scale,
                              floating *out) noexcept nogil:
    """``out = scale * X.sum(axis=0)`` for a row-major n x width ``X``."""
    cdef Py_ssize_t i, j
    for j in range(width):
        out[j] = 0
    for i in range(n):
        for j in range(width):
            out[j] += X[i * width + j]
    for j in range(width):
        out[j] *= scale


cdef inline void add_scaled_rows(floating *out, const floating *A, const int *rows,
                                 int n_rows, int width, Py_ssize_t stride,
                                 const floating *x, Py_ssize_t x_stride) noexcept nogil:
    """``out[:width] += sum_t x[rows[t] * x_stride] * A[rows[t], :width]``
    (``A`` row-major with rows ``stride`` apart); ``x`` NULL takes every
    scale as 1 (the same sums, without the multiplies)."""
    if floating is double:
        add_scaled_rows_d(out, A, rows, n_rows, width, stride, x, x_stride)
    else:
        add_scaled_rows_f(out, A, rows, n_rows, width, stride, x, x_stride)


cdef inline Py_ssize_t index_rows(const floating *X, int n, int width,
                                  int *count, int *idx) noexcept nogil:
    """Index the nonzero entries of X (n x width) by row: row r's
    ``count[r]`` columns, increasing, go to ``idx[r * width:]``. Returns
    the number of nonzero entries."""
    cdef int r
    cdef Py_ssize_t total = 0
    for r in range(n):
        count[r] = nonzero_indices(X + <Py_ssize_t> r * width, width, 1,
                                   idx + <Py_ssize_t> r * width)
        total += count[r]
    return total


cdef inline bint indexed_values_are_one(const floating *X, int n, int width,
                                       const int *count, const int *idx) noexcept nogil:
    """Whether every nonzero entry of X (indexed by ``index_rows``) is 1."""
    cdef int r, t, other = 0
    cdef const int *row
    for r in range(n):
        row = idx + <Py_ssize_t> r * width
        for t in range(count[r]):
            other += X[<Py_ssize_t> r * width + row[t]] != 1
    return other == 0


cdef inline void transpose_index(const int *count, const int *idx, int n, int width,
                                 int *tptr, int *tidx) noexcept nogil:
    """The column index of a row index: column i's rows, increasing, go to
    ``tidx[tptr[i]:tptr[i + 1]]`` (a counting sort; ``tptr`` has width + 1
    entries)."""
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


# The weight step's sparse form goes up to this density at most.
cdef double GRADIENT_MAX_DENSITY = 0.3


cdef inline bint sparse_enough(Py_ssize_t count, Py_ssize_t size,
                               double max_density) noexcept nogil:
    return count <= max_density * size


cdef inline void hidden_activations(const floating *V, int n, const floating *W,
                                    const floating *c, floating *PH, int N, int M,
                                    int *count, int *idx, double max_density,
                                    Py_ssize_t nonzero, bint binary, int threads) noexcept nogil:
    """``PH = V @ W``, then ``PH = sigmoid(PH + c)`` unless ``c`` is NULL.

    With an index (``count`` not NULL), V's rows are first indexed there
    (see ``index_rows``; ``nonzero`` >= 0 says they already are, with that
    many nonzero entries) and, when at most ``max_density`` of V is
    nonzero, the product sums rows of W (unscaled if V is ``binary``),
    split with the sigmoid across up to ``threads`` threads by rows;
    otherwise it is a BLAS call.
    """
    cdef RowsJob job
    if count != NULL:
        if nonzero < 0:
            nonzero = index_rows(V, n, N, count, idx)
        if sparse_enough(nonzero, <Py_ssize_t> n * N, max_density):
            job = rows_job(PH, JOB_PRODUCT, n, N, M, V, W, c, PH)
            job.count, job.idx, job.binary = count, idx, binary
            run_rows(&job, nonzero * M, threads)
            return
    blas_hidden_logits(V, n, W, PH, N, M)
    if c != NULL:
        sigmoid_bias(PH, c, n, M)


cdef inline void weight_step(const floating *VV, int rows, floating *PP, int N, int M,
                             floating lr, floating beta, floating *step_W,
                             const int *count, const int *idx, int *tptr, int *tidx,
                             double max_density, bint binary, int threads) noexcept nogil:
    """``step_W = beta * step_W + lr * VV^T PP`` (VV rows x N, PP rows x M).

    Sparse form (``count``/``idx``, VV's row index, not NULL and at most
    ``max_density`` of VV nonzero): row i of step_W gets the rows of
    ``lr * PP`` picked by the nonzero entries of column i of VV (found in
    the column index built in ``tptr``/``tidx``), each times that entry;
    rows of W whose column is all zero are not touched. Scales PP by lr in
    place.
    """
    cdef Py_ssize_t size = <Py_ssize_t> rows * M, NM = <Py_ssize_t> N * M
    cdef Py_ssize_t t, nonzero = 0
    cdef int i
    cdef RowsJob job
    if count != NULL:
        for i in range(rows):
            nonzero += count[i]
    if max_density < 1:
        # The sparse step also pays for the column index and a scaling
        # pass, so it wins at a lower density than the products (10-row
        # batches: digits, about 0.4 nonzero, gemm 11.7 against 12.5 us a
        # minibatch; MNIST at 0.19, sums 0.067 against 0.075 s an epoch).
        max_density = min(max_density, GRADIENT_MAX_DENSITY)
    if count == NULL or not sparse_enough(nonzero, <Py_ssize_t> rows * N, max_density):
        pool_rest()
        gemm(Trans, NoTrans, N, M, rows, lr, VV, N, PP, M, beta, step_W, M)
        return
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


cdef inline void cd_batch_step(bitgen_t *rng, const floating *V0, int n,
                               floating *W, floating *b, floating *c, int N, int M,
                               const CDSettings *s, floating *chains, int n_chains,
                               floating *velocity, floating *offsets,
                               floating *work, int *index_work,
                               double max_density) noexcept nogil:
    # The body of cd_batch_update (index_work NULL: every product in BLAS)
    # and cd_batch_update_sparse.
    cdef bint persistent = n_chains > 0
    cdef int C = n_chains if persistent else n
    cdef Py_ssize_t nN = <Py_ssize_t> n * N, nM = <Py_ssize_t> n * M
    cdef Py_ssize_t cN = <Py_ssize_t> C * N, cM = <Py_ssize_t> C * M
    cdef floating *VV = work                      # [V0; Vk], (n + C) x N
    cdef floating *V = VV + nN
    cdef floating *PP = VV + nN + cN              # [PH0 / n; -PHk / C], (n + C) x M
    cdef floating *PH0 = PP
    cdef floating *PH = PP + nM
    cdef floating *H = PP + nM + cM               # max(n, C) x M
    cdef floating *dv = H + max(nM, cM)           # mean(V0) - mean(Vk), N
    cdef floating *dh = dv + N                    # mean(PH0) - mean(PHk), M
    cdef floating *mean_v0 = dh + M               # N
    cdef floating *mean_h0 = mean_v0 + N          # M
    cdef floating *step_W = W
    cdef floating *step_b
    cdef floating *step_c
    cdef floating lr = <floating> s.learning_rate
    cdef floating momentum = <floating> s.momentum
    cdef floating beta = 1
    cdef floating *mu = offsets
    cdef floating *lam = offsets + N if s.centered else NULL
    cdef Py_ssize_t i, j, nonzero = -1
    cdef int step, threads = 1
    cdef bint own = False, binary = False  # binary: V0 (like the chains) is all 0/1
    # Row index of VV = [V0; Vk] (the V0 rows, then the chains' current
    # states), and the column index the weight step builds from it.
    cdef int *count = NULL
    cdef int *idx = NULL
    cdef int *tptr = NULL
    cdef int *tidx = NULL
    cdef int *chain_count = NULL
    cdef int *chain_idx = NULL
    if index_work != NULL:
        count = index_work
        idx = count + n + C
        tptr = idx + <Py_ssize_t> (n + C) * N
        tidx = tptr + N + 1
        chain_count = count + n
        chain_idx = idx + nN
    memcpy(VV, V0, nN * sizeof(floating))
    if count != NULL:
        nonzero = index_rows(V0, n, N, count, idx)
        binary = indexed_values_are_one(V0, n, N, count, idx)
        if (<Py_ssize_t> max(n, C) * N * M >= PARALLEL_MIN_WORK
                and sparse_enough(nonzero, nN, min(max_density, PARALLEL_MAX_DENSITY))):
            # A large minibatch of sparse data: every product in crbm's own
            # loops (BLAS threads would compete with crbm's for the cores),
            # split across its threads. The choice does not depend on the
            # number of threads, so neither do the results.
            own, threads = True, pool_threads
            max_density = 1
    hidden_activations(V0, n, W, c, PH0, N, M, count, idx, max_density, nonzero, binary,
                       threads)
    column_means(PH0, n, M, <floating> 1 / n, mean_h0)  # offsets follow p(h | v0)
    if persistent:
        if s.sampled_statistics:
            sample_rows(rng, PH0, PH0, n, M, threads)
        memcpy(V, chains, cN * sizeof(floating))
        for step in range(s.k):
            hidden_activations(V, C, W, c, H, N, M, chain_count, chain_idx, max_density, -1,
                               True, threads)
            sample_rows(rng, H, H, C, M, threads)
            visible_probabilities_split(H, C, W, b, V, N, M, own, threads)
            sample_rows(rng, V, V, C, N, threads)
        memcpy(chains, V, cN * sizeof(floating))
        hidden_activations(V, C, W, c, PH, N, M, chain_count, chain_idx, max_density, -1,
                               True, threads)
    else:
        sample_rows(rng, PH0, H, n, M, threads)
        if s.sampled_statistics:
            memcpy(PH0, H, nM * sizeof(floating))
        for step in range(s.k):
            visible_probabilities_split(H, n, W, b, V, N, M, own, threads)
            sample_rows(rng, V, V, n, N, threads)
            hidden_activations(V, n, W, c, PH, N, M, chain_count, chain_idx, max_density, -1,
                               True, threads)
            if step + 1 < s.k:
                sample_rows(rng, PH, H, n, M, threads)
    if s.sampled_statistics:
        sample_rows(rng, PH, PH, C, M, threads)
    column_means(V0, n, N, <floating> 1 / n, mean_v0)
    # From here on PH0 and PH are the positive and negative hidden statistics.
    if s.sampled_statistics:
        column_means(PH0, n, M, <floating> 1 / n, dh)
    else:  # PH0 is still p(h | v0), whose means are mean_h0
        memcpy(dh, mean_h0, M * sizeof(floating))
    if s.sparsity_cost != 0:
        for i in range(nM):
            PH0[i] += <floating> s.sparsity_cost * (<floating> s.sparsity_target - PH0[i])
    for j in range(M):  # dh: positive mean, moved like PH0 by the sparsity term
        dh[j] += <floating> s.sparsity_cost * (<floating> s.sparsity_target - dh[j])
    column_means(V, C, N, <floating> 1 / C, dv)
    for j in range(N):
        dv[j] = mean_v0[j] - dv[j]
    for i in range(C):
        for j in range(M):
            dh[j] -= PH[i * M + j] / C
    for i in range(nM):
        PH0[i] *= <floating> 1 / n
    for i in range(cM):
        PH[i] *= <floating> -1 / C
    # step_W = beta * step_W + lr * G, where step_W is W itself (plain
    # gradient), the velocity (momentum) or a separate buffer.
    if velocity != NULL:
        step_W, beta = velocity, momentum
    elif needs_step_buffer(s):
        step_W, beta = mean_h0 + M, 0
    weight_step(VV, n + C, PP, N, M, lr, beta, step_W, count, idx, tptr, tidx,
                max_density, binary, threads)
    if step_W == W:
        axpy(N, lr, dv, 1, b, 1)
        axpy(M, lr, dh, 1, c, 1)
        return
    pool_rest()  # what follows may call multithreaded BLAS (ger, gemv)
    if s.weight_decay != 0:
        for i in range(N):
            axpy(M, -lr * <floating> s.weight_decay, W + i * M, 1, step_W + i * M, 1)
    if s.centered:
        # Centered gradient: G - mu dh^T - dv lambda^T.
        ger(N, M, -lr, mu, 1, dh, 1, step_W, M)
        ger(N, M, -lr, dv, 1, lam, 1, step_W, M)
    for i in range(N):
        axpy(M, 1, step_W + i * M, 1, W + i * M, 1)
    # Bias steps: lr * (dv, dh), with momentum when there is a velocity.
    if velocity != NULL:
        step_b = velocity + <Py_ssize_t> N * M
        step_c = step_b + N
        for j in range(N):
            step_b[j] = momentum * step_b[j] + lr * dv[j]
        for j in range(M):
            step_c[j] = momentum * step_c[j] + lr * dh[j]
    else:
        step_b, step_c = dv, dh
        for j in range(N):
            dv[j] *= lr
        for j in range(M):
            dh[j] *= lr
    axpy(N, 1, step_b, 1, b, 1)
    axpy(M, 1, step_c, 1, c, 1)
    if s.centered:
        # The ordinary biases of the centered model: b -= dW lambda, c -= dW^T mu.
        gemv(NoTrans, N, M, -1, step_W, M, lam, 1, 1, b, 1)
        gemv(Trans, N, M, -1, step_W, M, mu, 1, 1, c, 1)
        for j in range(N):
            mu[j] += <floating> s.offset_rate * (mean_v0[j] - mu[j])
        for j in range(M):
            lam[j] += <floating> s.offset_rate * (mean_h0[j] - lam[j])


cdef void cd_batch_update(bitgen_t *rng, const floating *V0, int n,
                          floating *W, floating *b, floating *c, int N, int M,
                          const CDSettings *s, floating *chains, int n_chains,
                          floating *velocity, floating *offsets,
                          floating *work) noexcept nogil:
    """One minibatch CD-k or PCD-k step on the ``n`` rows of ``V0`` (n x N).

    Positive statistics from ``PH0 = p(h | v0)``; negative ones from
    ``p(h | vk)`` (or, with ``s.sampled_statistics``, hidden states sampled
    from both) with ``vk`` the sampled visible states after ``s.k`` Gibbs
    steps, started at the data (CD, ``n_chains == 0``, ``chains`` NULL) or
    at the ``n_chains`` persistent chains in ``chains`` (PCD, updated in
    place). Both sums are averaged over their own rows:
    ``G = V0^T PH0 / n - Vk^T PHk / C``, computed as one ``gemm``
    ``[V0; Vk]^T [PH0 / n; -PHk / C]``.

    ``s`` adds, each off at 0: a sparsity target (positive hidden statistics
    moved by ``sparsity_cost * (target - PH0)``), L2 weight decay
    (``G -= weight_decay * W``), momentum (``velocity``: N*M + N + M values,
    ``step = momentum * step + learning_rate * gradient``) and centering
    (Melchior et al., JMLR 2016: ``offsets`` holds the visible offsets mu
    (N) then the hidden offsets lambda (M); the gradient is that of the
    centered energy, applied to the ordinary parameters, and the offsets
    then move towards the batch means by ``offset_rate``).

    Draws: H0 (n x M), then per step V (C x N) and, except after the last
    step, H (C x M) for CD; for PCD (H0 only with sampled statistics) per
    step H (C x M) then V (C x N); with sampled statistics, finally the
    negative hidden states (C x M).
    """
    cd_batch_step(rng, V0, n, W, b, c, N, M, s, chains, n_chains, velocity, offsets,
                  work, NULL, 0)


cdef Py_ssize_t cd_batch_index_work_size(int n, int n_chains, int N, int M) noexcept nogil:
    """Length of the ``index_work`` buffer (ints) ``cd_batch_update_sparse`` needs:
    a row and a column index of the n + C visible rows."""
    cdef Py_ssize_t rows = n + (n_chains if n_chains > 0 else n)
    return 2 * rows * N + rows + N + 1


cdef void cd_batch_update_sparse(bitgen_t *rng, const floating *V0, int n,
                                 floating *W, floating *b, floating *c, int N, int M,
                                 const CDSettings *s, floating *chains, int n_chains,
                                 floating *velocity, floating *offsets,
                                 floating *work, int *index_work,
                                 double max_density) noexcept nogil:
    """``cd_batch_update`` with the products that have visible rows on the
    left skipping the zeros of those rows: exactly the same algorithm, the
    same draws, results equal to rounding, for any settings.

    Visible rows are the data ``V0`` (zeros skipped for binary or any other
    data) and the chains' sampled 0/1 states, so ``V @ W`` sums the rows of
    ``W`` the 1s pick, and the weight gradient ``[V0; Vk]^T [PH0 / n;
    -PHk / C]`` adds to row i of the weight step only the hidden-statistics
    rows of the samples whose visible unit i is on (rows with no active
    sample are not touched). ``H @ W.T`` (hidden states on the left) stays
    a dense ``gemm``. Each product checks the density of its visible rows
    and uses ``gemm`` when more than ``max_density`` of the entries are
    nonzero (``max_density`` >= 1: always sparse; < 0: always ``gemm``);
    the weight gradient uses ``gemm`` above 0.3 nonzero whatever a
    ``max_density`` below 1 says.

    ``work`` as for ``cd_batch_update``; ``index_work`` has
    ``cd_batch_index_work_size(n, n_chains, N, M)`` ints.
    """
    cd_batch_step(rng, V0, n, W, b, c, N, M, s, chains, n_chains, velocity, offsets,
                  work, index_work, max_density)


cdef void gibbs_sweep(bitgen_t *rng, floating *V, int n,
                      const floating *W, const floating *b, const floating *c,
                      int N, int M, floating *H) noexcept nogil:
    """One Gibbs sweep v -> h -> v over ``n`` chains, in place on ``V``.

    ``H`` (n x M) is scratch space and ends holding the sampled hidden states.
    Each half draws as ``bernoulli`` on its probabilities would.
    """
    gemm(NoTrans, NoTrans, n, M, N, 1, V, N, W, M, 0, H, M)
    sample_logits(rng, H, c, n, M)
    gemm(NoTrans, Trans, n, N, M, 1, H, M, W, M, 0, V, N)
    sample_logits(rng, V, b, n, N)


cdef Py_ssize_t gibbs_index_work_size(int n, int N) noexcept nogil:
    """Length of the ``index_work`` buffer (ints) ``gibbs_sweep_sparse`` needs."""
    return <Py_ssize_t> n * N + n


cdef void gibbs_sweep_sparse(bitgen_t *rng, floating *V, int n,
                             const floating *W, const floating *b, const floating *c,
                             int N, int M, floating *H, int *index_work,
                             double max_density) noexcept nogil:
    """``gibbs_sweep`` with ``V @ W`` summing the rows of W that each
    chain's 1s pick, when at most ``max_density`` of V is nonzero (else
    ``gemm``); ``H @ W.T`` stays ``gemm``. Same draws as ``gibbs_sweep``,
    results equal to rounding. ``index_work`` holds
    ``gibbs_index_work_size(n, N)`` ints.
    """
    hidden_activations(V, n, W, <floating *> NULL, H, N, M, index_work, index_work + n,
                       max_density, -1, True, 1)
    sample_logits(rng, H, c, n, M)
    gemm(NoTrans, Trans, n, N, M, 1, H, M, W, M, 0, V, N)
    sample_logits(rng, V, b, n, N)


cdef inline void propagate_active(const floating *X, int n, int width,
                                  const floating *A, floating *out, int out_width,
                                  int *index_work) noexcept nogil:
    """``out = X @ A`` for 0/1 rows ``X`` (n x width): each output row is the
    sum of the rows of ``A`` (width x out_width) that X selects."""
    cdef int r
    for r in range(n):
        sum_active_rows(X + <Py_ssize_t> r * width, width, A, out_width, out_width, index_work,
                        out + <Py_ssize_t> r * out_width)


cdef void gibbs_sweep_binary(bitgen_t *rng, floating *V, int n,
                             const floating *W, const floating *WT,
                             const floating *b, const floating *c,
                             int N, int M, floating *H,
                             int *index_work) noexcept nogil:
    """``gibbs_sweep`` for chains whose visible states ``V`` are all 0/1.

    Each product with the weights becomes a sum of the rows picked by the
    active units (rows of ``W`` for ``V @ W``, of ``WT = W.T`` for
    ``H @ W.T``), which reads far less memory than ``gemm`` when there are
    few chains. Draws exactly as ``gibbs_sweep`` does, so results equal its
    results to rounding. ``index_work`` holds ``max(N, M)`` ints.
    """
    propagate_active(V, n, N, W, H, M, index_work)
    sample_logits(rng, H, c, n, M)
    propagate_active(H, n, M, WT, V, N, index_work)
    sample_logits(rng, V, b, n, N)


cdef struct SweepJob:
    bint is_double
    int n, N, M, sweeps
    int split              # block 0 has W's rows (V's columns) [0, split), block 1 the rest
    void *V                # n x N chains, 0/1, in place
    const void *W
    const void *WT         # W.T, M x N
    const void *b
    const void *c
    void *H                # n x M: the hidden states of the last sweep
    void *work
    int *index_work
    BlockPair pair         # 2 keys a sweep (H, then V)


cdef Py_ssize_t gibbs_sweeps_work_size(int n, int N, int M) noexcept nogil:
    """Length of the ``work`` buffer ``gibbs_sweeps_binary`` needs."""
    # the block sums (2 phases x 2 blocks x n chains); block 1's H; room to
    # start at a 64-byte boundary
    return 5 * <Py_ssize_t> n * padded(M) + 16


cdef void sweep_run(floating *of_type, SweepJob *job, int first, int last) noexcept nogil:
    """Blocks ``first`` to ``last - 1`` of the job's Gibbs sweeps (see
    ``gibbs_sweeps_binary``), phase by phase."""
    cdef int n = job.n, N = job.N, M = job.M, t, p, r
    cdef floating *V = <floating *> job.V
    cdef const floating *W = <const floating *> job.W
    cdef const floating *WT = <const floating *> job.WT
    cdef const floating *b = <const floating *> job.b
    cdef floating *sums = <floating *> ((<uintptr_t> job.work + 63) & ~(<uintptr_t> 63))
    cdef floating *H[2]
    cdef floating *cs[2]          # c for each block (sample_summed only reads it)
    cdef int *active[2]
    cdef int lo[2]
    cdef int rows[2]
    cdef uint64_t key
    cdef long phase = 0
    lo[0], lo[1] = 0, job.split
    rows[0], rows[1] = job.split, N - job.split
    H[0] = <floating *> job.H
    # Run together, block 1 samples its own copy of H; in turn it takes block 0's.
    H[1] = sums + 4 * n * padded(M) if job.pair.together else H[0]
    cs[0] = cs[1] = <floating *> job.c
    active[0] = job.index_work
    active[1] = job.index_work + max(N, M)
    for t in range(job.sweeps):
        # Each block's part of V @ W: the sums of its rows of W each chain picks.
        for p in range(first, last):
            for r in range(n):
                sum_active_rows(V + <Py_ssize_t> r * N + lo[p], rows[p],
                                W + <Py_ssize_t> lo[p] * M, M, M, active[p],
                                block_sums(sums, phase, p, n, M) + r * padded(M))
        phase += 1
        pair_meet(&job.pair, first, phase)
        sample_summed(&job.pair, first, last, sums, phase - 1, n, M,
                      pair_key(&job.pair, 2 * <Py_ssize_t> t), H, cs)
        # Each block's columns of H @ W.T: sums of those columns of the
        # rows of W.T each chain's hidden units pick.
        key = pair_key(&job.pair, 2 * <Py_ssize_t> t + 1)
        for p in range(first, last):
            for r in range(n):
                sum_active_rows(H[p] + <Py_ssize_t> r * M, M, WT + lo[p], rows[p], N, active[p],
                                V + <Py_ssize_t> r * N + lo[p])
                sample_logits_at(key, <uint64_t> r * N + lo[p], V + <Py_ssize_t> r * N + lo[p],
                                 b + lo[p], 1, rows[p])


cdef void sweep_task(void *context, int part, int parts) noexcept nogil:
    # as online_task
    cdef SweepJob *job = <SweepJob *> context
    cdef int last = part + 1 if parts == 2 else 2
    if job.is_double:
        sweep_run(<double *> NULL, job, part, last)
    else:
        sweep_run(<float *> NULL, job, part, last)


cdef bint gibbs_sweeps_binary(bitgen_t *rng, floating *V, int n, int sweeps,
                              const floating *W, const floating *WT,
                              const floating *b, const floating *c,
                              int N, int M, floating *H, floating *work,
                              int *index_work, uint64_t *keys, int threads) noexcept nogil:
    """``sweeps`` of ``gibbs_sweep_binary`` on up to ``threads`` threads (two
    at most; one for small models), with results that do not depend on the
    count: W's rows (and V's columns) are taken in two blocks either way,
    and H's activations are the sum of the two blocks' sums, block 0's
    first. Run together, the blocks meet once a sweep, to add those sums;
    each thread reads half of W and of W.T.

    Draws as ``gibbs_sweep`` does each sweep. ``work`` has
    ``gibbs_sweeps_work_size(n, N, M)`` entries, ``index_work``
    ``2 * max(N, M)`` ints, ``keys`` room for ``2 * sweeps`` (NULL: one
    thread). ``H`` gets the last sweep's hidden states. Returns whether two
    threads ran and were slow to meet, as ``cd_samples_update_binary``.
    """
    cdef SweepJob job
    memset(&job, 0, sizeof(SweepJob))
    job.is_double = floating is double
    job.n, job.N, job.M, job.sweeps, job.split = n, N, M, sweeps, N // 2
    job.V, job.W, job.WT, job.b, job.c, job.H = V, W, WT, b, c, H
    job.work, job.index_work = work, index_work
    return pair_run(&job.pair, sweep_task, &job, rng, keys, 2 * <Py_ssize_t> sweeps,
                    n > 0 and <Py_ssize_t> n * N * (M + 32) >= TWO_BLOCKS_MIN_WORK, threads)

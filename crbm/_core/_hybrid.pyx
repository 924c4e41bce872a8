# cython: language_level=3
"""The gradient of log p(y | x) for a joint model of pixels and a label.

With pixel rows x (P = N - K units), label units y (the layer's last K, one
on), hidden units h and parameters W (pixel rows), U (label rows), b, d
(visible and label biases) and c, the hidden units and the label sum out in
closed form (Larochelle & Bengio 2008, section 3):

    p(y | x) = softmax_k(F_k),  F_k = d_k + sum_j softplus(o_kj),
    o_kj = c_j + U_kj + (x W)_j,

and, with s_kj = sigmoid(o_kj), p_k = p(k | x) and S_j = sum_k p_k s_kj,
the gradient of log p(y | x) is

    dW_ij = x_i (s_yj - S_j),   dc_j = s_yj - S_j,
    dU_kj = [k = y] s_yj - p_k s_kj,   dd_k = [k = y] - p_k.

Design: the minibatch step already holds the statistics whose product with
the data rows is the weight gradient, so ``weight * (s_y - S) / n`` joins the
positive hidden statistics: that one product then carries dW for the pixels,
and for the label rows it carries ``[k = y] (s_y - S)``; what the label rows
still need, ``[k = y] S - p_k s_k``, is returned apart in ``label_rows``
(K x M) for the update to add. The K x M sigmoids and softplus terms of each
row dominate the cost: the rows are split across crbm's threads (each row's
results do not depend on which thread computes it; a row's ``x W`` sums the
rows of W its nonzeros pick, so no multithreaded BLAS call spins beside
them), and the sums over rows run afterwards in row order, so nothing
depends on the thread count.
"""
from cython cimport floating
from libc.math cimport exp
from libc.string cimport memcpy

from crbm._core._policy cimport parallel_parts
from crbm._core._threads cimport num_threads, run_parts
from crbm._core._units cimport Units, units_log_partition, units_mean
from crbm.kernels cimport UNITS_BERNOULLI


cdef Py_ssize_t hybrid_work_size(int n, int K, int M) noexcept nogil:
    # the rows' hidden inputs and their D = s_y - S (2 n x M), every row's
    # K x M means, p (n x K), then 2 n K + n + 2 elements that hold n K
    # aligned doubles (the rows' F) and n ints (their labels)
    cdef Py_ssize_t nK = <Py_ssize_t> n * K
    return 2 * <Py_ssize_t> n * M + nK * M + nK + 2 * nK + n + 2


cdef struct Rows:
    # One minibatch's rows for the parallel part (see posterior_rows).
    bint is_double
    const void *V0
    const void *W
    const void *c
    const void *U
    const void *d
    void *base
    void *D
    void *means
    void *p
    double *F
    int *y
    int n, N, K, M


cdef inline void posterior_rows_typed(floating *of_type, const Rows *job, int r0,
                                      int r1) noexcept nogil:
    """Rows r0..r1 - 1: their label y, p(k | x), the means s_kj and D = s_y - S."""
    cdef int N = job.N, K = job.K, M = job.M, P = job.N - job.K, r, k, j, y, i
    cdef Py_ssize_t KM = <Py_ssize_t> K * M
    cdef const floating *x
    cdef const floating *w
    cdef floating *row
    cdef const floating *d = <const floating *> job.d
    cdef floating *means
    cdef floating *D
    cdef floating *p
    cdef double *F
    cdef double top, total
    cdef Units hidden
    hidden.kind, hidden.n, hidden.std, hidden.precision = UNITS_BERNOULLI, M, NULL, NULL
    hidden.log_norm, hidden.n_softmax = 0, 0
    for r in range(r0, r1):
        x = <const floating *> job.V0 + <Py_ssize_t> r * N
        # base = c + x W, summing the rows of W the row's nonzeros pick (the
        # data are mostly zeros, and no BLAS call competes with the threads)
        row = <floating *> job.base + <Py_ssize_t> r * M
        memcpy(row, job.c, M * sizeof(floating))
        for i in range(P):
            if x[i] != 0:
                w = <const floating *> job.W + <Py_ssize_t> i * M
                for j in range(M):
                    row[j] += x[i] * w[j]
        means = <floating *> job.means + r * KM
        D = <floating *> job.D + <Py_ssize_t> r * M
        p = <floating *> job.p + <Py_ssize_t> r * K
        F = job.F + <Py_ssize_t> r * K
        y = 0
        for k in range(K):
            if x[P + k] != 0:
                y = k
        job.y[r] = y
        # F_k = d_k + sum_j softplus(U_kj + base_j), then p = softmax(F).
        hidden.bias = <floating *> job.base + <Py_ssize_t> r * M
        units_log_partition(&hidden, <const floating *> job.U, K, F)
        top = F[0] + d[0]
        for k in range(K):
            F[k] += d[k]
            top = max(top, F[k])
        total = 0
        for k in range(K):
            F[k] = exp(F[k] - top)
            total += F[k]
        for k in range(K):
            p[k] = <floating> (F[k] / total)
        memcpy(means, job.U, KM * sizeof(floating))
        units_mean(&hidden, 0, means, K, M, 1.0)
        for j in range(M):
            D[j] = means[y * M + j]
        for k in range(K):
            for j in range(M):
                D[j] -= p[k] * means[k * M + j]


cdef void posterior_rows_task(void *context, int part, int parts) noexcept nogil:
    cdef const Rows *job = <const Rows *> context
    cdef int r0 = <int> (<Py_ssize_t> job.n * part // parts)
    cdef int r1 = <int> (<Py_ssize_t> job.n * (part + 1) // parts)
    if r1 <= r0:
        return
    if job.is_double:
        posterior_rows_typed(<double *> NULL, job, r0, r1)
    else:
        posterior_rows_typed(<float *> NULL, job, r0, r1)


cdef void add_label_posterior_gradient(
        const floating *V0, int n, int N, int K, const floating *W, const floating *b,
        const floating *c, int M, floating weight, floating *positive, floating *dh,
        floating *dv, floating *label_rows, floating *work) noexcept nogil:
    """Add ``weight`` times the mean gradient of log p(y | x) over the ``n``
    joint rows ``V0`` (n x N, their last K columns one-hot): into the
    positive hidden statistics (n x M, already scaled by 1/n), dh (M) and
    the label part of dv (N); ``label_rows`` (K x M) receives the rest of the
    label weights' gradient (see the module's docstring)."""
    cdef int P = N - K, r, k, j, y, parts
    cdef Py_ssize_t nM = <Py_ssize_t> n * M, KM = <Py_ssize_t> K * M
    cdef floating *base = work
    cdef floating *D = base + nM
    cdef floating *means = D + nM
    cdef floating *p = means + n * KM
    cdef double *F = <double *> ((<size_t> (p + <Py_ssize_t> n * K) + 7) & ~(<size_t> 7))
    cdef floating scale = weight / n
    cdef const floating *mean_row
    cdef Rows job
    job.is_double = floating is double
    job.V0, job.W, job.c, job.U, job.d = V0, W, c, W + <Py_ssize_t> P * M, b + P
    job.base, job.D, job.means, job.p, job.F = base, D, means, p, F
    job.y = <int *> (F + <Py_ssize_t> n * K)
    job.n, job.N, job.K, job.M = n, N, K, M
    # softplus and sigmoid of every row's K x M inputs: the cost
    parts = parallel_parts(20 * n * KM, n, num_threads())
    if parts <= 1:
        posterior_rows_task(&job, 0, 1)
    else:
        run_parts(posterior_rows_task, &job, parts)
    # The sums over rows, in row order.
    for j in range(KM):
        label_rows[j] = 0
    for r in range(n):
        y = job.y[r]
        mean_row = means + r * KM
        for j in range(M):
            positive[<Py_ssize_t> r * M + j] += scale * D[<Py_ssize_t> r * M + j]
            dh[j] += scale * D[<Py_ssize_t> r * M + j]
            # [k = y] S_j, with S = s_y - D
            label_rows[y * M + j] += scale * (mean_row[y * M + j] - D[<Py_ssize_t> r * M + j])
        for k in range(K):
            dv[P + k] += scale * ((k == y) - p[r * K + k])
            for j in range(M):
                label_rows[k * M + j] -= scale * p[r * K + k] * mean_row[k * M + j]

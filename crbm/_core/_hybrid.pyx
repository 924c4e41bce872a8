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
(K x M) for the update to add. Each data row's K x M fields go through the
units layer's vectorised sigmoid and softplus sums.
"""
from cython cimport floating
from libc.math cimport exp
from libc.string cimport memcpy

from crbm._core._blas cimport NoTrans, gemm
from crbm._core._units cimport Units, units_log_partition, units_mean
from crbm.kernels cimport UNITS_BERNOULLI


cdef Py_ssize_t hybrid_work_size(int n, int K, int M) noexcept nogil:
    # the rows' pixel inputs (n x M), one row's K x M means and row sums
    # S (M), and 2 K + 2 elements that hold K aligned doubles
    return <Py_ssize_t> n * M + <Py_ssize_t> K * M + M + 2 * K + 2


cdef void add_label_posterior_gradient(
        const floating *V0, int n, int N, int K, const floating *W, const floating *b,
        const floating *c, int M, floating weight, floating *positive, floating *dh,
        floating *dv, floating *label_rows, floating *work) noexcept nogil:
    """Add ``weight`` times the mean gradient of log p(y | x) over the ``n``
    joint rows ``V0`` (n x N, their last K columns one-hot): into the
    positive hidden statistics (n x M, already scaled by 1/n), dh (M) and
    the label part of dv (N); ``label_rows`` (K x M) receives the rest of the
    label weights' gradient (see the module's docstring)."""
    cdef int P = N - K, r, k, j, y
    cdef floating *base = work                       # n x M: c + x W
    cdef floating *means = base + <Py_ssize_t> n * M  # K x M: s_kj of one row
    cdef floating *S = means + <Py_ssize_t> K * M
    cdef double *F = <double *> ((<size_t> (S + M) + 7) & ~(<size_t> 7))
    cdef const floating *U = W + <Py_ssize_t> P * M
    cdef const floating *x
    cdef floating *row
    cdef floating scale = weight / n, p_k
    cdef double top, total
    cdef Units hidden
    hidden.kind, hidden.n, hidden.std, hidden.precision = UNITS_BERNOULLI, M, NULL, NULL
    hidden.log_norm, hidden.n_softmax = 0, 0
    for j in range(K * M):
        label_rows[j] = 0
    gemm(NoTrans, NoTrans, n, M, P, 1, V0, N, W, M, 0, base, M)
    for r in range(n):
        x = V0 + <Py_ssize_t> r * N
        row = base + <Py_ssize_t> r * M
        for j in range(M):
            row[j] += c[j]
        y = 0
        for k in range(K):
            if x[P + k] != 0:
                y = k
        # F_k - d_k = sum_j softplus(U_kj + row_j), then p = softmax(F).
        hidden.bias = row
        units_log_partition(&hidden, U, K, F)
        top = F[0] + b[P]
        for k in range(K):
            F[k] += b[P + k]
            top = max(top, F[k])
        total = 0
        for k in range(K):
            F[k] = exp(F[k] - top)
            total += F[k]
        memcpy(means, U, <Py_ssize_t> K * M * sizeof(floating))
        units_mean(&hidden, 0, means, K, M, 1.0)
        for j in range(M):
            S[j] = 0
        for k in range(K):
            p_k = <floating> (F[k] / total)
            for j in range(M):
                S[j] += p_k * means[k * M + j]
            dv[P + k] += scale * ((k == y) - p_k)
            for j in range(M):
                label_rows[k * M + j] -= scale * p_k * means[k * M + j]
        for j in range(M):
            positive[<Py_ssize_t> r * M + j] += scale * (means[y * M + j] - S[j])
            dh[j] += scale * (means[y * M + j] - S[j])
            label_rows[y * M + j] += scale * S[j]

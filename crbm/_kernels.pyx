# cython: language_level=3
"""RBM kernels: sigmoid, conditional probabilities, CD updates, Gibbs sweeps.

Conventions are in ``_kernels.pxd``. The order in which each kernel draws its
uniforms is part of its contract, so that a numpy reference fed the same
generator reproduces it exactly:

* ``cd_sample_update``: h0 (M), then per step v (N), h (M).
* ``cd_batch_update``: H0 (n x M, row-major), then per step V (n x N) and,
  except after the last step, H (n x M).
* ``gibbs_sweep``: H (n x M), then V (n x N).
"""
from libc.math cimport exp, expf, fabs, fabsf
from libc.string cimport memcpy

from crbm._blas cimport NoTrans, Trans, axpy, gemm, gemv, ger
from crbm._random cimport bernoulli


cdef void sigmoid(floating *x, Py_ssize_t n) noexcept nogil:
    """In-place logistic function, stable for any finite input.

    ``exp`` only ever sees ``-|x|``, so it cannot overflow; for x < 0 the
    result is ``e / (1 + e)`` rather than ``1 - 1 / (1 + e)``, which keeps
    full relative precision for tiny probabilities.
    """
    cdef Py_ssize_t i
    cdef floating e, r
    for i in range(n):
        if floating is double:
            e = exp(-fabs(x[i]))
        else:
            e = expf(-fabsf(x[i]))
        r = 1 / (1 + e)
        x[i] = r if x[i] >= 0 else e * r


cdef inline void broadcast_rows(floating *out, const floating *row, int n,
                                int width) noexcept nogil:
    """Copy ``row`` into each of the ``n`` rows of ``out``."""
    cdef Py_ssize_t i
    for i in range(n):
        memcpy(out + i * width, row, width * sizeof(floating))


cdef void hidden_probabilities(const floating *V, int n, const floating *W,
                               const floating *c, floating *PH,
                               int N, int M) noexcept nogil:
    """``PH = sigmoid(V @ W + c)``; ``V`` is n x N, ``PH`` n x M."""
    broadcast_rows(PH, c, n, M)
    if n == 1:
        gemv(Trans, N, M, 1, W, M, V, 1, 1, PH, 1)
    else:
        gemm(NoTrans, NoTrans, n, M, N, 1, V, N, W, M, 1, PH, M)
    sigmoid(PH, <Py_ssize_t> n * M)


cdef void visible_probabilities(const floating *H, int n, const floating *W,
                                const floating *b, floating *PV,
                                int N, int M) noexcept nogil:
    """``PV = sigmoid(H @ W.T + b)``; ``H`` is n x M, ``PV`` n x N."""
    broadcast_rows(PV, b, n, N)
    if n == 1:
        gemv(NoTrans, N, M, 1, W, M, H, 1, 1, PV, 1)
    else:
        gemm(NoTrans, Trans, n, N, M, 1, H, M, W, M, 1, PV, N)
    sigmoid(PV, <Py_ssize_t> n * N)


cdef Py_ssize_t cd_sample_work_size(int N, int M) noexcept nogil:
    """Length of the ``work`` buffer ``cd_sample_update`` needs."""
    return 2 * <Py_ssize_t> M + N


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


cdef Py_ssize_t cd_batch_work_size(int n, int N, int M) noexcept nogil:
    """Length of the ``work`` buffer ``cd_batch_update`` needs."""
    return <Py_ssize_t> n * (3 * <Py_ssize_t> M + N)


cdef void cd_batch_update(bitgen_t *rng, const floating *V0, int n,
                          floating *W, floating *b, floating *c,
                          int N, int M, int k, floating learning_rate,
                          floating *work) noexcept nogil:
    """One minibatch CD-k step on the ``n`` rows of ``V0`` (n x N).

    Positive statistics from p(h | v0), negative from p(h | vk) with vk the
    sampled visible states after k Gibbs steps; the gradient is averaged over
    the batch: ``W += lr / n (V0^T PH0 - Vk^T PHk)``.
    """
    cdef Py_ssize_t nM = <Py_ssize_t> n * M
    cdef floating *PH0 = work
    cdef floating *H = work + nM
    cdef floating *PH = work + 2 * nM
    cdef floating *V = work + 3 * nM
    cdef floating scale = learning_rate / n
    cdef Py_ssize_t i, j
    cdef int step
    hidden_probabilities(V0, n, W, c, PH0, N, M)
    bernoulli(rng, PH0, H, nM)
    for step in range(k):
        visible_probabilities(H, n, W, b, V, N, M)
        bernoulli(rng, V, V, <Py_ssize_t> n * N)
        hidden_probabilities(V, n, W, c, PH, N, M)
        if step + 1 < k:
            bernoulli(rng, PH, H, nM)
    gemm(Trans, NoTrans, N, M, n, scale, V0, N, PH0, M, 1, W, M)
    gemm(Trans, NoTrans, N, M, n, -scale, V, N, PH, M, 1, W, M)
    for i in range(n):
        for j in range(N):
            b[j] += scale * (V0[i * N + j] - V[i * N + j])
        for j in range(M):
            c[j] += scale * (PH0[i * M + j] - PH[i * M + j])


cdef void gibbs_sweep(bitgen_t *rng, floating *V, int n,
                      const floating *W, const floating *b, const floating *c,
                      int N, int M, floating *H) noexcept nogil:
    """One Gibbs sweep v -> h -> v over ``n`` chains, in place on ``V``.

    ``H`` (n x M) is scratch space and ends holding the sampled hidden states.
    """
    hidden_probabilities(V, n, W, c, H, N, M)
    bernoulli(rng, H, H, <Py_ssize_t> n * M)
    visible_probabilities(H, n, W, b, V, N, M)
    bernoulli(rng, V, V, <Py_ssize_t> n * N)

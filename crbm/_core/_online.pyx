# cython: language_level=3
"""Per-sample CD-k on real-valued rows, in BLAS (``gemv`` and ``ger``).

One sample is too little work for crbm's threads or for skipping zeros
(the rows are not 0/1), so every product is one BLAS call.
"""
from libc.string cimport memset

from crbm._core._blas cimport axpy, ger
from crbm._core._products cimport hidden_means, visible_means
from crbm._core._random cimport bernoulli
from crbm._core._units cimport Units
from crbm.kernels cimport UNITS_BERNOULLI


cdef Py_ssize_t dense_online_work_size(int N, int M) noexcept nogil:
    return 3 * <Py_ssize_t> M + N


cdef inline Units bernoulli_units(const floating *bias, int n) noexcept nogil:
    cdef Units u
    memset(&u, 0, sizeof(Units))
    u.kind, u.n, u.bias, u.std, u.precision, u.log_norm = UNITS_BERNOULLI, n, bias, NULL, NULL, 0
    return u


cdef void dense_online_step(bitgen_t *rng, const floating *v, floating *W, floating *b,
                            floating *c, int N, int M, int k, floating learning_rate,
                            floating *work) noexcept nogil:
    cdef floating *h0 = work
    cdef floating *h = work + M
    cdef floating *vk = work + 2 * M
    cdef floating *hk = h0
    cdef Units visible = bernoulli_units(b, N), hidden = bernoulli_units(c, M)
    cdef int step
    hidden_means(v, 1, W, &hidden, h0, N, M)
    bernoulli(rng, h0, h0, M)
    for step in range(k):
        visible_means(hk, 1, W, &visible, vk, N, M, False, 1, NULL)
        bernoulli(rng, vk, vk, N)
        hidden_means(vk, 1, W, &hidden, h, N, M)
        bernoulli(rng, h, h, M)
        hk = h
    ger(N, M, learning_rate, v, 1, h0, 1, W, M)
    ger(N, M, -learning_rate, vk, 1, h, 1, W, M)
    axpy(N, learning_rate, v, 1, b, 1)
    axpy(N, -learning_rate, vk, 1, b, 1)
    axpy(M, learning_rate, h0, 1, c, 1)
    axpy(M, -learning_rate, h, 1, c, 1)

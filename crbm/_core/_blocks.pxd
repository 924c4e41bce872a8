# Per-sample CD and few-chain Gibbs sampling on 0/1 visible and hidden
# units, with W's rows in a fixed number of blocks (see _blocks.pyx). The
# results do not depend on `threads`: up to min(threads, blocks) threads
# share the work when there is enough of it (the policy says) and that many
# can be had. Each returns whether threads ran together and were slow to
# meet (the cores busy with other work), when the next calls had better
# run on one.
from cython cimport floating
from libc.stdint cimport uint64_t
from numpy.random cimport bitgen_t

from crbm._core._policy cimport PathCounts
from crbm.kernels cimport Clamp

cdef enum:
    MAX_BLOCKS = 8

# Buffer sizes: work in the model's precision, index_work in ints.
cdef Py_ssize_t online_work_size(int N, int M) noexcept nogil
cdef Py_ssize_t online_index_size(int N, int M) noexcept nogil
cdef Py_ssize_t sweeps_work_size(int n, int N, int M) noexcept nogil
cdef Py_ssize_t sweeps_index_size(int N, int M) noexcept nogil

# Per-sample CD-k (k >= 1) on each of the n 0/1 rows of V in turn, sampled
# states throughout: h0 ~ p(h|v), then k times vk ~ p(v|h), h ~ p(h|vk);
# W += lr (v h0^T - vk hk^T), b += lr (v - vk), c += lr (h0 - hk). Each
# entry of W moves by exactly +lr, -lr or 0. Draws per sample: h0 (M), then
# per step vk (N), h (M). keys: room for n (1 + 2 k), or NULL (one thread).
cdef bint online_steps(bitgen_t *rng, const floating *V, int n, floating *W, floating *b,
                       floating *c, int N, int M, int k, floating learning_rate,
                       floating *work, int *index_work, uint64_t *keys, int threads,
                       PathCounts *paths) noexcept nogil

# `sweeps` Gibbs sweeps v -> h -> v of the n 0/1 chains in V (n x N), in
# place, at inverse temperature beta, with V @ W and H @ W.T as sums of the
# rows of W and WT = W.T the active units pick; clamp (or NULL) holds
# visible units at 0/1 values. Draws per sweep: H (n x M), then V (n x N).
# H gets the last sweep's hidden states. keys: room for 2 sweeps, or NULL
# (one thread).
cdef bint block_sweeps(bitgen_t *rng, floating *V, int n, int sweeps, const floating *W,
                       const floating *WT, const floating *b, const floating *c, int N, int M,
                       floating *H, floating *work, int *index_work, uint64_t *keys,
                       int threads, double beta, const Clamp *clamp,
                       PathCounts *paths) noexcept nogil

# cython: language_level=3
"""Parallel tempering (Swendsen & Wang 1986; Geyer 1991) of RBM chains.

Design. The replicas of chain i live in R blocks of V, one per inverse
temperature, so that each block's sweep is two GEMMs of n rows, as
``_gibbs.gibbs_sweep`` runs them; the swaps then move rows between blocks.
A swap uses the joint energy E(v, h) of the state a sweep ends in: the
sweep computes the visible field F = h W^T anyway, so E = E_v(v) - c . h -
input(v) . F costs one pass over the rows, and no product. Sweeps at beta
sample exp(-beta E(v, h)) (every unit's field times beta), so swapping joint
states with the usual Metropolis ratio keeps each replica's distribution;
the next sweep draws h afresh from v. Swaps alternate between even and odd
pairs (Okabe et al. 2001; the non-reversible scheme of Syed et al. 2022),
which lets a state cross the ladder in about R sweeps instead of R^2.
"""
from libc.math cimport exp
from libc.stdint cimport uint64_t
from libc.string cimport memcpy

from crbm._core._blas cimport NoTrans, Trans, gemm
from crbm._core._threads cimport rest
from crbm._core._units cimport units_energy, units_input, units_sample


cdef extern from "_stream.h":
    double crbm_uniform_d(uint64_t key, uint64_t i) noexcept nogil


cdef inline void swap_rows(floating *a, floating *b, int width) noexcept nogil:
    cdef int j
    cdef floating t
    for j in range(width):
        t = a[j]
        a[j] = b[j]
        b[j] = t


cdef inline void block_sweep(bitgen_t *rng, const Units *visible, const Units *hidden,
                             floating *V, int n, const floating *W, int N, int M,
                             double beta, const Clamp *clamp, floating *H, floating *F,
                             floating *VI, double *energy, double *scratch) noexcept nogil:
    """One sweep of the n chains in V at ``beta``, and each one's E(v, h)."""
    cdef Py_ssize_t i, j
    cdef double s
    cdef const floating *inputs = units_input(visible, V, n, VI)
    gemm(NoTrans, NoTrans, n, M, N, 1, inputs, N, W, M, 0, H, M)
    units_sample(hidden, 0, rng.next_uint64(rng.state), 0, H, n, M, beta, NULL)
    gemm(NoTrans, Trans, n, N, M, 1, H, M, W, M, 0, F, N)
    memcpy(V, F, <Py_ssize_t> n * N * sizeof(floating))
    units_sample(visible, 0, rng.next_uint64(rng.state), 0, V, n, N, beta, clamp)
    # E(v, h) = E_v(v) + E_h(h) - input(v) . (W h)
    units_energy(visible, V, n, energy)
    inputs = units_input(visible, V, n, VI)
    for i in range(n):
        s = 0
        for j in range(N):
            s += <double> inputs[i * N + j] * <double> F[i * N + j]
        energy[i] -= s
    units_energy(hidden, H, n, scratch)
    for i in range(n):
        energy[i] += scratch[i]


cdef void tempering_sweeps(bitgen_t *rng, const Units *visible, const Units *hidden,
                           floating *V, int n, int R, const floating *W, int N, int M,
                           const double *betas, int sweeps, const Clamp *clamp, int *parity,
                           long *accepted, long *attempted, floating *H, floating *F,
                           floating *VI, double *energies) noexcept nogil:
    cdef int sweep, r, i
    cdef Py_ssize_t block = <Py_ssize_t> n * N
    cdef uint64_t key
    cdef double log_ratio, t
    cdef long taken
    rest()  # BLAS may use every core
    for sweep in range(sweeps):
        for r in range(R):
            block_sweep(rng, visible, hidden, V + r * block, n, W, N, M, betas[r], clamp, H, F,
                        VI, energies + <Py_ssize_t> r * n, energies + <Py_ssize_t> R * n)
        key = rng.next_uint64(rng.state)
        for r in range(parity[0], R - 1, 2):
            taken = 0
            for i in range(n):
                log_ratio = (betas[r] - betas[r + 1]) * (
                    energies[<Py_ssize_t> r * n + i] - energies[<Py_ssize_t> (r + 1) * n + i])
                if log_ratio >= 0 or crbm_uniform_d(key, <uint64_t> r * n + i) < exp(log_ratio):
                    swap_rows(V + r * block + <Py_ssize_t> i * N,
                              V + (r + 1) * block + <Py_ssize_t> i * N, N)
                    t = energies[<Py_ssize_t> r * n + i]
                    energies[<Py_ssize_t> r * n + i] = energies[<Py_ssize_t> (r + 1) * n + i]
                    energies[<Py_ssize_t> (r + 1) * n + i] = t
                    taken += 1
            accepted[r] += taken
            attempted[r] += n
        parity[0] = 1 - parity[0]

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
which lets a state cross the ladder in about R sweeps instead of R^2. The
elementwise work between the GEMMs (sampling, energies) is split by rows
across crbm's threads, each row at its own stream positions, so that it
does not leave a core idle while BLAS rests and the results do not depend
on the thread count.
"""
from libc.math cimport exp
from libc.stdint cimport uint64_t
from libc.string cimport memcpy, memset

from crbm._core._blas cimport NoTrans, Trans, gemm
from crbm._core._policy cimport parallel_parts
from crbm._core._threads cimport num_threads, rest, run_parts
from crbm._core._units cimport (
    units_draw_cost, units_energy, units_field_energy, units_input, units_sample)


cdef extern from "_stream.h":
    double crbm_uniform_d(uint64_t key, uint64_t i) noexcept nogil


cdef inline void swap_rows(floating *a, floating *b, int width) noexcept nogil:
    cdef int j
    cdef floating t
    for j in range(width):
        t = a[j]
        a[j] = b[j]
        b[j] = t


cdef struct SweepRows:
    # The elementwise work of one block's sweep, split by rows across crbm's
    # threads: each row is sampled at its own stream positions (r * width
    # on) and its energy summed alone, so no result depends on the split.
    bint is_double
    bint visible_half        # False: sample H; True: V from F, then energies
    const Units *visible
    const Units *hidden
    void *V
    void *H
    void *F
    int n, N, M
    double beta
    const Clamp *clamp
    uint64_t key
    double *energy
    double *scratch


cdef inline void sweep_rows_typed(floating *of_type, const SweepRows *job, int r0,
                                  int r1) noexcept nogil:
    cdef int N = job.N, M = job.M, rows = r1 - r0, i
    cdef Py_ssize_t first = <Py_ssize_t> r0 * N
    cdef floating *V = <floating *> job.V + first
    cdef const floating *F = <const floating *> job.F + first
    cdef floating *H = <floating *> job.H + <Py_ssize_t> r0 * M
    cdef Clamp shifted
    cdef const Clamp *clamp = NULL
    if not job.visible_half:
        units_sample(job.hidden, 0, job.key, <uint64_t> r0 * M, H, rows, M, job.beta, NULL)
        return
    if job.clamp != NULL:  # the clamp's rows from r0 on
        shifted = job.clamp[0]
        shifted.mask = shifted.mask + r0 * shifted.mask_stride
        shifted.values = <const floating *> shifted.values + r0 * shifted.values_stride
        clamp = &shifted
    memcpy(V, F, <Py_ssize_t> rows * N * sizeof(floating))
    units_sample(job.visible, 0, job.key, <uint64_t> first, V, rows, N, job.beta, clamp)
    # E(v, h) = E_v(v) - input(v) . (W h) + E_h(h)
    units_field_energy(job.visible, V, F, rows, job.energy + r0)
    units_energy(job.hidden, H, rows, job.scratch + r0)
    for i in range(rows):
        job.energy[r0 + i] += job.scratch[r0 + i]


cdef void sweep_rows_task(void *context, int part, int parts) noexcept nogil:
    cdef const SweepRows *job = <const SweepRows *> context
    cdef int r0 = <int> (<Py_ssize_t> job.n * part // parts)
    cdef int r1 = <int> (<Py_ssize_t> job.n * (part + 1) // parts)
    if r1 <= r0:
        return
    if job.is_double:
        sweep_rows_typed(<double *> NULL, job, r0, r1)
    else:
        sweep_rows_typed(<float *> NULL, job, r0, r1)


cdef inline void run_sweep_rows(SweepRows *job, Py_ssize_t work) noexcept nogil:
    cdef int parts = parallel_parts(work, job.n, num_threads())
    if parts <= 1:
        sweep_rows_task(job, 0, 1)
    else:
        run_parts(sweep_rows_task, job, parts)


cdef inline void block_sweep(bitgen_t *rng, const Units *visible, const Units *hidden,
                             floating *V, int n, const floating *W, int N, int M,
                             double beta, const Clamp *clamp, floating *H, floating *F,
                             floating *VI, double *energy, double *scratch) noexcept nogil:
    """One sweep of the n chains in V at ``beta``, and each one's E(v, h)."""
    cdef SweepRows job
    cdef const floating *inputs = units_input(visible, V, n, VI)
    memset(&job, 0, sizeof(SweepRows))
    job.is_double = floating is double
    job.visible, job.hidden = visible, hidden
    job.V, job.H, job.F = V, H, F
    job.n, job.N, job.M = n, N, M
    job.beta, job.clamp, job.energy, job.scratch = beta, clamp, energy, scratch
    rest()
    gemm(NoTrans, NoTrans, n, M, N, 1, inputs, N, W, M, 0, H, M)
    job.key = rng.next_uint64(rng.state)
    run_sweep_rows(&job, units_draw_cost(hidden) * n * M)
    rest()
    gemm(NoTrans, Trans, n, N, M, 1, H, M, W, M, 0, F, N)
    job.visible_half = True
    job.key = rng.next_uint64(rng.state)
    run_sweep_rows(&job, (units_draw_cost(visible) + 4) * n * N)


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

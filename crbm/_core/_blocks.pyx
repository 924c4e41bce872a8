# cython: language_level=3
"""Per-sample CD and few-chain Gibbs sampling on 0/1 units, with W's rows in blocks.

Design. Per-sample CD and the sampling of a few chains do little work per
step (a pass over W), too little for BLAS's threads, and every state in
them is 0/1, so each product with W is a sum of the rows that the active
units pick. These kernels split W into a fixed number of blocks of rows
(``policy().blocks``), whatever the number of threads: each block's part
of a step (the sums of its active rows, its rows' dots with h, its share of
the visible draws, its rows' update) is computed alone, and the blocks'
sums of ``W.T @ v`` are added in block order. Up to that many threads then
take a contiguous range of blocks each, exchanging only those sums (M
values a phase) through phase counters (``_phase.h``) and each streaming
its share of W from its own cache; one thread takes every block in turn,
with the same results. The block count sets the bits (the sums' order),
the thread count never does.

A block keeps its own copy of the hidden bias c, updated exactly as block
0 updates the model's, and the first block of each thread samples h into
its own buffer, so that threads share nothing they write.
"""
from libc.stdint cimport uint64_t, uintptr_t
from libc.string cimport memcpy, memset

from crbm._core._policy cimport (
    PATH_ONLINE_BLOCKS_IN_TURN, PATH_ONLINE_BLOCKS_TOGETHER, PATH_SWEEPS_BLOCKS_IN_TURN,
    PATH_SWEEPS_BLOCKS_TOGETHER, blocks_together, policy, took)
from crbm._core._rows cimport row_dots, sum_active_rows
from crbm._core._threads cimport run_together, task_fn
from crbm._core._units cimport Units, logistic_sample, units_sample
from crbm.kernels cimport UNITS_BERNOULLI, Clamp, PathCounts


cdef extern from "_phase.h":
    void crbm_reach(long *phase, long value) nogil
    bint crbm_await(const long *phase, long value) nogil


cdef extern from "_online.h":
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


cdef struct ThreadProgress:
    # Written by one thread only, run together.
    long phase             # the last phase the thread has finished
    long slow              # meetings it waited long for (it yielded its CPU)
    char pad[112]          # 128 bytes a thread: no cache line holds two threads'


cdef struct BlockGroup:
    # How a job's blocks run: together, a range of blocks a thread (meeting
    # through phase counters), or in turn on one thread.
    int blocks
    int threads            # threads run together (1: in turn)
    bint together
    bitgen_t *rng          # keys drawn as they are needed, when keys is NULL
    const uint64_t *keys   # else all drawn beforehand, in order
    char pad[128]          # keeps the fields above off the threads' cache lines
    ThreadProgress progress[MAX_BLOCKS]


cdef struct OnlineJob:
    bint is_double
    int n, N, M, k
    const void *V          # n x N visible rows, 0/1
    void *W
    void *b
    void *c
    double learning_rate
    void *work
    int *index_work
    BlockGroup group       # 1 + 2 k keys a sample


cdef struct SweepJob:
    bint is_double
    int n, N, M, sweeps
    void *V                # n x N chains, 0/1, in place
    const void *W
    const void *WT         # W.T, M x N
    const void *b
    const void *c
    void *H                # n x M: the hidden states of the last sweep
    void *work
    int *index_work
    double beta            # inverse temperature
    const Clamp *clamp     # visible units held at 0/1 values, or NULL
    BlockGroup group       # 2 keys a sweep (H, then V)


cdef inline Py_ssize_t padded(Py_ssize_t n) noexcept nogil:
    """n rounded up to 16: arrays of that length stay 64 bytes apart."""
    return (n + 15) // 16 * 16


cdef inline int block_start(int N, int p, int blocks) noexcept nogil:
    """The first of W's rows in block p."""
    return <int> (<Py_ssize_t> N * p // blocks)


cdef inline int current_blocks() noexcept nogil:
    return min(max(policy().blocks, 1), <int> MAX_BLOCKS)


cdef inline floating *aligned(void *work, floating *of_type) noexcept nogil:
    # At a 64-byte boundary, so that padded arrays after it share no line.
    return <floating *> ((<uintptr_t> work + 63) & ~(<uintptr_t> 63))


cdef inline uint64_t group_key(BlockGroup *group, Py_ssize_t index) noexcept nogil:
    """The job's key number ``index``."""
    if group.keys != NULL:
        return group.keys[index]
    return group.rng.next_uint64(group.rng.state)


cdef inline void group_meet(BlockGroup *group, int thread, long phase) noexcept nogil:
    """Run together, mark this thread's phase done and wait for every other
    thread's; in turn, every block is done already."""
    cdef int t
    if not group.together:
        return
    crbm_reach(&group.progress[thread].phase, phase)
    for t in range(group.threads):
        if t != thread and crbm_await(&group.progress[t].phase, phase):
            group.progress[thread].slow += 1


cdef inline bint group_contended(const BlockGroup *group) noexcept nogil:
    """Whether the threads of a job run together were slow to meet: two
    meetings or more made a thread wait for one that was not running (see
    CRBM_SLOW_WAIT_NS), as when the cores are shared with other busy
    threads, which cost the job more than its second thread saves."""
    cdef long slow = 0
    cdef int t
    for t in range(group.threads):
        slow += group.progress[t].slow
    return group.together and slow >= 1


cdef inline bint group_run(BlockGroup *group, task_fn task, void *job, bitgen_t *rng,
                           uint64_t *keys, Py_ssize_t n_keys, bint worth_it,
                           int threads) noexcept nogil:
    """Run the job's blocks: ``task(job, t, T)`` for thread t of T = min(threads,
    blocks) when ``worth_it`` and T >= 2 threads can be had, with its
    ``n_keys`` keys drawn into ``keys`` first; else ``task(job, 0, 1)``,
    every block in turn on the caller, reading the keys already drawn if
    any, else drawing them from ``rng`` as it goes: the same keys either
    way. Returns whether threads ran together and were slow to meet."""
    cdef Py_ssize_t i
    cdef int together = min(threads, group.blocks)
    group.rng = rng
    if together >= 2 and keys != NULL and worth_it:
        for i in range(n_keys):
            keys[i] = rng.next_uint64(rng.state)
        group.keys = keys
        group.together, group.threads = True, together
        if run_together(task, job, together):
            return group_contended(group)
        group.together = False
    group.threads = 1
    task(job, 0, 1)
    return False


cdef inline floating *block_sums(floating *sums, long phase, int p, int blocks, int n,
                                 int M) noexcept nogil:
    """Where block ``p`` puts its sums of W.T @ x (n rows, ``padded(M)``
    apart) in phase ``phase``: two buffers, by the phase's parity, so that a
    thread can write the next phase's while another still reads these."""
    return sums + (phase % 2 * blocks + p) * <Py_ssize_t> n * padded(M)


cdef inline Units bernoulli_layer(const floating *bias, int n) noexcept nogil:
    cdef Units layer
    memset(&layer, 0, sizeof(Units))
    layer.kind, layer.n, layer.bias = UNITS_BERNOULLI, n, bias
    return layer


cdef inline void sample_summed(int blocks, floating *sums, long phase, int n, int M,
                               uint64_t key, floating *h, const floating *c,
                               double beta) noexcept nogil:
    """``h ~ p(h | x)`` (n x M) at inverse temperature ``beta`` from the
    blocks' sums of W.T @ x in phase ``phase``, added in block order, with
    hidden bias ``c``."""
    cdef Units hidden
    cdef const floating *part = block_sums(sums, phase, 0, blocks, n, M)
    cdef Py_ssize_t Mp = padded(M)
    cdef int p, r, j
    for r in range(n):
        for j in range(M):
            h[r * M + j] = part[r * Mp + j]
    for p in range(1, blocks):
        part = block_sums(sums, phase, p, blocks, n, M)
        for r in range(n):
            for j in range(M):
                h[r * M + j] += part[r * Mp + j]
    if beta == 1:
        logistic_sample(key, 0, h, c, n, M)
    else:
        hidden = bernoulli_layer(c, M)
        units_sample(&hidden, 0, key, 0, h, n, M, beta, NULL)


# -- per-sample CD ------------------------------------------------------------

cdef Py_ssize_t online_work_size(int N, int M) noexcept nogil:
    # vk; the block sums (2 phases x the blocks); each block's h0, h, c and
    # steps; room to start at a 64-byte boundary.
    cdef Py_ssize_t blocks = MAX_BLOCKS
    return padded(N) + 2 * blocks * padded(M) + blocks * 6 * padded(M) + 16


cdef Py_ssize_t online_index_size(int N, int M) noexcept nogil:
    # For each block: the active lists of v and vk and the list of changed rows.
    return 3 * <Py_ssize_t> N


cdef void online_run(floating *of_type, OnlineJob *job, int thread, int first,
                     int last) noexcept nogil:
    """Blocks ``first`` to ``last - 1`` of per-sample CD-k over the job's
    samples (see ``online_steps``), phase by phase."""
    cdef int N = job.N, M = job.M, k = job.k, B = job.group.blocks, s, step, p
    cdef floating lr = <floating> job.learning_rate
    cdef floating *W = <floating *> job.W
    cdef floating *b = <floating *> job.b
    cdef const floating *v
    cdef floating *vk = aligned(job.work, of_type)
    cdef floating *sums = vk + padded(N)              # see block_sums
    cdef floating *regions = sums + 2 * B * padded(M)
    cdef floating *h0[MAX_BLOCKS]
    cdef floating *h[MAX_BLOCKS]
    cdef floating *hk[MAX_BLOCKS]
    cdef floating *cs[MAX_BLOCKS]   # the c a block adds its step to (and samples h with)
    cdef floating *steps[MAX_BLOCKS]
    cdef int *v_active[MAX_BLOCKS]
    cdef int *vk_active[MAX_BLOCKS]
    cdef int *changed[MAX_BLOCKS]
    cdef int lo[MAX_BLOCKS]
    cdef int rows[MAX_BLOCKS]
    cdef int n_v[MAX_BLOCKS]
    cdef int n_vk[MAX_BLOCKS]
    cdef uint64_t key
    cdef Py_ssize_t draws = 1 + 2 * <Py_ssize_t> k   # keys a sample
    cdef long phase = 0
    for p in range(B):
        lo[p] = block_start(N, p, B)
        rows[p] = block_start(N, p + 1, B) - lo[p]
        h0[p] = regions + p * 6 * padded(M)
        h[p] = h0[p] + padded(M)
        cs[p] = h[p] + padded(M)
        steps[p] = cs[p] + padded(M)     # 3 x M
        v_active[p] = job.index_work + 3 * lo[p]
        vk_active[p] = v_active[p] + rows[p]
        changed[p] = vk_active[p] + rows[p]
    # Block 0 updates the model's c; every other block a copy of it, updated
    # the same way. The thread's first block samples h, the others read it.
    cs[0] = <floating *> job.c
    for p in range(max(first, 1), last):
        memcpy(cs[p], job.c, M * sizeof(floating))
    for p in range(first + 1, last):
        h0[p], h[p] = h0[first], h[first]
    for s in range(job.n):
        v = <const floating *> job.V + <Py_ssize_t> s * N
        for p in range(first, last):
            n_v[p] = sum_active_rows(v + lo[p], rows[p], W + <Py_ssize_t> lo[p] * M, M, M,
                                     v_active[p], block_sums(sums, phase, p, B, 1, M))
        phase += 1
        group_meet(&job.group, thread, phase)
        sample_summed(B, sums, phase - 1, 1, M, group_key(&job.group, s * draws),
                      h0[first], cs[first], 1)
        for p in range(first, last):
            hk[p] = h0[p]
        for step in range(k):
            key = group_key(&job.group, s * draws + 1 + 2 * step)
            for p in range(first, last):
                row_dots(vk + lo[p], W + <Py_ssize_t> lo[p] * M, hk[p], rows[p], M)
                logistic_sample(key, lo[p], vk + lo[p], b + lo[p], 1, rows[p])
                n_vk[p] = sum_active_rows(vk + lo[p], rows[p], W + <Py_ssize_t> lo[p] * M, M, M,
                                          vk_active[p], block_sums(sums, phase, p, B, 1, M))
            phase += 1
            group_meet(&job.group, thread, phase)
            sample_summed(B, sums, phase - 1, 1, M,
                          group_key(&job.group, s * draws + 2 + 2 * step), h[first], cs[first],
                          1)
            for p in range(first, last):
                hk[p] = h[p]
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
    # Thread `part` of `parts` takes its contiguous range of the blocks.
    cdef OnlineJob *job = <OnlineJob *> context
    cdef int B = job.group.blocks
    cdef int first = part * B // parts, last = (part + 1) * B // parts
    if job.is_double:
        online_run(<double *> NULL, job, part, first, last)
    else:
        online_run(<float *> NULL, job, part, first, last)


cdef bint online_steps(bitgen_t *rng, const floating *V, int n, floating *W, floating *b,
                       floating *c, int N, int M, int k, floating learning_rate,
                       floating *work, int *index_work, uint64_t *keys, int threads,
                       PathCounts *paths) noexcept nogil:
    cdef OnlineJob job
    cdef bint contended
    memset(&job, 0, sizeof(OnlineJob))
    job.is_double = floating is double
    job.n, job.N, job.M, job.k = n, N, M, k
    job.V, job.W, job.b, job.c = V, W, b, c
    job.learning_rate = learning_rate
    job.work, job.index_work = work, index_work
    job.group.blocks = current_blocks()
    contended = group_run(&job.group, online_task, &job, rng, keys,
                          <Py_ssize_t> n * (1 + 2 * <Py_ssize_t> k),
                          n > 0 and blocks_together(<Py_ssize_t> N * (M + 32)), threads)
    took(paths, PATH_ONLINE_BLOCKS_TOGETHER if job.group.together else PATH_ONLINE_BLOCKS_IN_TURN,
         n)
    return contended


# -- Gibbs sampling of a few chains -------------------------------------------

cdef Py_ssize_t sweeps_work_size(int n, int N, int M) noexcept nogil:
    # the block sums (2 phases x the blocks x n chains); the H of every
    # thread but the first; room to start at a 64-byte boundary
    cdef Py_ssize_t blocks = MAX_BLOCKS
    return (2 * blocks + blocks - 1) * <Py_ssize_t> n * padded(M) + 16


cdef Py_ssize_t sweeps_index_size(int N, int M) noexcept nogil:
    # an active list for each block
    return MAX_BLOCKS * <Py_ssize_t> max(N, M)


cdef void sweep_run(floating *of_type, SweepJob *job, int thread, int first,
                    int last) noexcept nogil:
    """Blocks ``first`` to ``last - 1`` of the job's Gibbs sweeps (see
    ``block_sweeps``), phase by phase."""
    cdef int n = job.n, N = job.N, M = job.M, B = job.group.blocks, t, p, r
    cdef floating *V = <floating *> job.V
    cdef const floating *W = <const floating *> job.W
    cdef const floating *WT = <const floating *> job.WT
    cdef const floating *b = <const floating *> job.b
    cdef floating *sums = aligned(job.work, of_type)
    cdef floating *H                # this thread's hidden states
    cdef int *active[MAX_BLOCKS]
    cdef int lo[MAX_BLOCKS]
    cdef int rows[MAX_BLOCKS]
    cdef uint64_t key
    cdef long phase = 0
    cdef bint plain = job.beta == 1 and job.clamp == NULL
    cdef Units visible = bernoulli_layer(b, N)
    cdef Clamp row_clamp
    for p in range(B):
        lo[p] = block_start(N, p, B)
        rows[p] = block_start(N, p + 1, B) - lo[p]
        active[p] = job.index_work + p * max(N, M)
    H = <floating *> job.H
    if thread > 0:
        H = sums + (2 * B + thread - 1) * <Py_ssize_t> n * padded(M)
    for t in range(job.sweeps):
        # Each block's part of V @ W: the sums of its rows of W each chain picks.
        for p in range(first, last):
            for r in range(n):
                sum_active_rows(V + <Py_ssize_t> r * N + lo[p], rows[p],
                                W + <Py_ssize_t> lo[p] * M, M, M, active[p],
                                block_sums(sums, phase, p, B, n, M) + r * padded(M))
        phase += 1
        group_meet(&job.group, thread, phase)
        sample_summed(B, sums, phase - 1, n, M, group_key(&job.group, 2 * <Py_ssize_t> t),
                      H, <const floating *> job.c, job.beta)
        # Each block's columns of H @ W.T: sums of those columns of the
        # rows of W.T each chain's hidden units pick.
        key = group_key(&job.group, 2 * <Py_ssize_t> t + 1)
        for p in range(first, last):
            for r in range(n):
                sum_active_rows(H + <Py_ssize_t> r * M, M, WT + lo[p], rows[p], N, active[p],
                                V + <Py_ssize_t> r * N + lo[p])
                if plain:
                    logistic_sample(key, <uint64_t> r * N + lo[p],
                                    V + <Py_ssize_t> r * N + lo[p], b + lo[p], 1, rows[p])
                else:
                    if job.clamp != NULL:
                        row_clamp = job.clamp[0]  # chain r's row of the mask and values
                        row_clamp.mask += r * row_clamp.mask_stride
                        row_clamp.values = <const floating *> row_clamp.values + (
                            r * row_clamp.values_stride)
                    units_sample(&visible, lo[p], key, <uint64_t> r * N + lo[p],
                                 V + <Py_ssize_t> r * N + lo[p], 1, rows[p], job.beta,
                                 &row_clamp if job.clamp != NULL else NULL)


cdef void sweep_task(void *context, int part, int parts) noexcept nogil:
    cdef SweepJob *job = <SweepJob *> context
    cdef int B = job.group.blocks
    cdef int first = part * B // parts, last = (part + 1) * B // parts
    if job.is_double:
        sweep_run(<double *> NULL, job, part, first, last)
    else:
        sweep_run(<float *> NULL, job, part, first, last)


cdef bint block_sweeps(bitgen_t *rng, floating *V, int n, int sweeps, const floating *W,
                       const floating *WT, const floating *b, const floating *c, int N, int M,
                       floating *H, floating *work, int *index_work, uint64_t *keys,
                       int threads, double beta, const Clamp *clamp,
                       PathCounts *paths) noexcept nogil:
    cdef SweepJob job
    cdef bint contended
    memset(&job, 0, sizeof(SweepJob))
    job.is_double = floating is double
    job.beta, job.clamp = beta, clamp if clamp != NULL and clamp.mask != NULL else NULL
    job.n, job.N, job.M, job.sweeps = n, N, M, sweeps
    job.V, job.W, job.WT, job.b, job.c, job.H = V, W, WT, b, c, H
    job.work, job.index_work = work, index_work
    job.group.blocks = current_blocks()
    contended = group_run(&job.group, sweep_task, &job, rng, keys, 2 * <Py_ssize_t> sweeps,
                          n > 0 and blocks_together(<Py_ssize_t> n * N * (M + 32)), threads)
    took(paths, PATH_SWEEPS_BLOCKS_TOGETHER if job.group.together else PATH_SWEEPS_BLOCKS_IN_TURN,
         sweeps)
    return contended

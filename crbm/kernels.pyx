# cython: language_level=3
"""crbm's public Cython API (declared in ``kernels.pxd``).

Each entry point checks its arguments, carves nothing itself (the
workspace holds every buffer) and dispatches on the model's precision to
the fused kernels of ``crbm._core``; the Python facade trains and samples
through these same functions.
"""
from cython cimport floating
from libc.math cimport INFINITY, log, M_PI
from libc.stdint cimport uint64_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcpy, memset

from crbm._core._blocks cimport (
    block_sweeps, online_index_size, online_steps, online_work_size, sweeps_index_size,
    sweeps_work_size)
from crbm._core._annealing cimport annealing_steps
from crbm._core._gibbs cimport gibbs_sweep
from crbm._core._tempering cimport tempering_sweeps
from crbm._core._minibatch cimport minibatch_index_size, minibatch_step, minibatch_work_size
from crbm._core._online cimport dense_online_step, dense_online_work_size
from crbm._core._policy cimport (
    PATH_ONLINE_DENSE, block_sampling, policy, products_max_density, took)
from crbm._core._products cimport hidden_means, hidden_products, visible_means
from crbm._core._random cimport bitgen_of as random_bitgen_of
from crbm._core._threads cimport num_threads
from crbm._core._units cimport (
    Units, exp_scaled_d, exp_scaled_f, units_energy, units_input, units_log_partition)


cdef bitgen_t *bitgen_of(object generator) except NULL:
    return random_bitgen_of(generator)


cdef const char *status_message(int status) noexcept nogil:
    if status == STATUS_OK:
        return "ok"
    if status == STATUS_NO_MEMORY:
        return "out of memory"
    if status == STATUS_BAD_MODEL:
        return "invalid model: sizes, precision, unit types or missing arrays"
    if status == STATUS_BAD_SETTINGS:
        return "invalid settings for this call"
    if status == STATUS_TOO_MANY_ROWS:
        return "more rows or chains than the workspace was made for"
    return "unknown status"


cdef inline Py_ssize_t itemsize(int precision) noexcept nogil:
    return sizeof(double) if precision == FLOAT64 else sizeof(float)


cdef inline bint valid_model(const Model *m) noexcept nogil:
    if m == NULL or m.precision not in (FLOAT32, FLOAT64):
        return False
    if m.n_visible < 1 or m.n_hidden < 1 or m.W == NULL or m.visible_bias == NULL:
        return False
    if m.hidden_bias == NULL or m.hidden_units != UNITS_BERNOULLI:
        return False
    if m.n_labels != 0 and not (m.visible_units == UNITS_BERNOULLI and m.n_labels >= 2
                                and m.n_labels <= m.n_visible):
        return False
    if m.visible_units == UNITS_GAUSSIAN:
        return m.visible_log_var != NULL
    return m.visible_units == UNITS_BERNOULLI


cdef inline bint valid_settings(const Model *m, const Settings *s) noexcept nogil:
    if s == NULL or s.k < 1 or not s.learning_rate > 0:
        return False
    if (s.clamp_labels or s.discriminative != 0) and m.n_labels == 0:
        return False
    if not (s.discriminative >= 0 and s.discriminative < INFINITY) or (
            s.discriminative != 0 and s.centered):
        return False
    return not (s.per_sample and (m.visible_units != UNITS_BERNOULLI or m.n_labels != 0))


cdef inline bint fits(const Workspace *ws, const Model *m) noexcept nogil:
    return (ws != NULL and ws.precision == m.precision and ws.n_visible == m.n_visible
            and ws.n_hidden == m.n_hidden and ws.visible_units == m.visible_units
            and ws.hidden_units == m.hidden_units and ws.n_labels == m.n_labels)


cdef inline bint keys_for_threads(int threads) noexcept nogil:
    # Block jobs draw their keys beforehand only to hand them to other threads.
    return threads >= 2


cdef inline int chunk_threads(Workspace *ws, int threads) noexcept nogil:
    """The threads for the next chunk of a block job: one while the
    workspace counts down the chunks after one whose threads were slow to
    meet (the cores busy with other work), else ``threads``."""
    if ws.solo_calls > 0:
        ws.solo_calls -= 1
        return 1
    return threads


cdef inline void after_chunk(Workspace *ws, bint contended, int threads) noexcept nogil:
    """After a chunk given ``threads``: one whose threads were slow to meet
    starts a run of one-thread chunks, twice as long as the last run if
    the cores stayed busy (up to 64 times the policy's), so that a
    machine busy for long pays for a retry rarely; a chunk that met in
    time ends that doubling."""
    cdef int base = policy().contended_solo_calls
    if contended:
        ws.solo_period = min(2 * ws.solo_period, 64 * base) if ws.solo_period > 0 else base
        ws.solo_calls = ws.solo_period
    elif threads > 1:
        ws.solo_period = 0


cdef Workspace *new_workspace(const Model *m) noexcept nogil:
    cdef Workspace *ws = <Workspace *> calloc(1, sizeof(Workspace))
    if ws != NULL:
        ws.precision, ws.n_visible, ws.n_hidden = m.precision, m.n_visible, m.n_hidden
        ws.visible_units, ws.hidden_units = m.visible_units, m.hidden_units
        ws.n_labels = m.n_labels
    return ws


cdef void workspace_free(Workspace *ws) noexcept nogil:
    if ws == NULL:
        return
    free(ws.work)
    free(ws.index_work)
    free(ws.keys)
    free(ws.WT)
    free(ws.H)
    free(ws.VI)
    free(ws)


cdef Workspace *workspace_new(const Model *m, const Settings *s, int rows,
                              int n_chains) noexcept nogil:
    cdef Workspace *ws
    cdef int N, M
    cdef Py_ssize_t work_size, index_size, n_keys
    if not valid_model(m) or not valid_settings(m, s) or rows < 1 or n_chains < 0:
        return NULL
    N, M = m.n_visible, m.n_hidden
    ws = new_workspace(m)
    if ws == NULL:
        return NULL
    ws.rows, ws.n_chains = rows, n_chains
    if s.per_sample:
        work_size = max(online_work_size(N, M), dense_online_work_size(N, M))
        index_size = online_index_size(N, M)
        n_keys = policy().online_chunk * (1 + 2 * <Py_ssize_t> s.k)
        ws.keys = <uint64_t *> malloc(n_keys * sizeof(uint64_t))
    else:
        work_size = minibatch_work_size(rows, n_chains, N, M, s, m.visible_units, m.n_labels)
        index_size = minibatch_index_size(rows, n_chains, N, M)
        ws.max_density = products_max_density(max(rows, n_chains))
    ws.work = malloc(work_size * itemsize(m.precision))
    ws.index_work = <int *> malloc(index_size * sizeof(int))
    if ws.work == NULL or ws.index_work == NULL or (s.per_sample and ws.keys == NULL):
        workspace_free(ws)
        return NULL
    return ws


cdef inline void transpose(const floating *W, floating *WT, int N, int M) noexcept nogil:
    cdef Py_ssize_t i, j
    for i in range(N):
        for j in range(M):
            WT[j * <Py_ssize_t> N + i] = W[i * <Py_ssize_t> M + j]


cdef Workspace *sampler_workspace_new(const Model *m, int n_chains) noexcept nogil:
    cdef Workspace *ws
    cdef int N, M
    cdef Py_ssize_t item
    if not valid_model(m) or n_chains < 1:
        return NULL
    N, M, item = m.n_visible, m.n_hidden, itemsize(m.precision)
    ws = new_workspace(m)
    if ws == NULL:
        return NULL
    ws.sampler, ws.rows, ws.n_chains = True, n_chains, n_chains
    ws.max_density = policy().sampling_max_density
    ws.H = malloc(<Py_ssize_t> n_chains * M * item)
    if m.visible_units == UNITS_BERNOULLI and m.n_labels == 0 and block_sampling(n_chains):
        # Few 0/1 chains: sums of rows of W and of W.T in blocks (whose
        # column splits have no softmax groups); VI and an
        # index big enough for gibbs_sweep too, for tempered or clamped sweeps.
        ws.WT = malloc(<Py_ssize_t> N * M * item)
        ws.work = malloc(sweeps_work_size(n_chains, N, M) * item)
        ws.VI = malloc(<Py_ssize_t> n_chains * N * item)
        ws.index_work = <int *> malloc(max(<Py_ssize_t> sweeps_index_size(N, M),
                                           <Py_ssize_t> n_chains * N + n_chains) * sizeof(int))
        ws.keys = <uint64_t *> malloc(2 * <Py_ssize_t> policy().sweeps_chunk * sizeof(uint64_t))
        if (ws.WT == NULL or ws.work == NULL or ws.VI == NULL or ws.index_work == NULL
                or ws.keys == NULL):
            workspace_free(ws)
            return NULL
        if m.precision == FLOAT64:
            transpose(<const double *> m.W, <double *> ws.WT, N, M)
        else:
            transpose(<const float *> m.W, <float *> ws.WT, N, M)
    else:
        ws.VI = malloc(<Py_ssize_t> n_chains * N * item)
        ws.work = malloc(N * 2 * item)    # the Gaussian layer's 1/sigma^2 and sigma
        if ws.max_density >= 0:
            ws.index_work = <int *> malloc((<Py_ssize_t> n_chains * N + n_chains) * sizeof(int))
        if (ws.VI == NULL or ws.work == NULL
                or (ws.max_density >= 0 and ws.index_work == NULL)):
            workspace_free(ws)
            return NULL
    if ws.H == NULL:
        workspace_free(ws)
        return NULL
    return ws


cdef const PathCounts *workspace_paths(const Workspace *ws) noexcept nogil:
    return &ws.paths if ws != NULL else NULL


cdef inline void layer_views(const Model *m, floating *gaussian, Units *visible,
                             Units *hidden) noexcept nogil:
    """The model's layers as Units; a Gaussian layer's 1/sigma^2 and sigma go
    to ``gaussian`` (2 N entries)."""
    cdef int N = m.n_visible, i
    cdef double log_norm = 0
    memset(visible, 0, sizeof(Units))
    memset(hidden, 0, sizeof(Units))
    visible.kind, visible.n, visible.bias = m.visible_units, N, m.visible_bias
    hidden.kind, hidden.n, hidden.bias = m.hidden_units, m.n_hidden, m.hidden_bias
    visible.n_softmax = m.n_labels
    if m.visible_units == UNITS_GAUSSIAN:
        if floating is double:
            exp_scaled_d(<const double *> m.visible_log_var, -1.0, gaussian, N)
            exp_scaled_d(<const double *> m.visible_log_var, 0.5, gaussian + N, N)
        else:
            exp_scaled_f(<const float *> m.visible_log_var, -1.0, gaussian, N)
            exp_scaled_f(<const float *> m.visible_log_var, 0.5, gaussian + N, N)
        for i in range(N):
            log_norm += 0.5 * (log(2 * M_PI) + <double> (<const floating *> m.visible_log_var)[i])
        visible.precision, visible.std, visible.log_norm = gaussian, gaussian + N, log_norm


cdef int train_typed(floating *of_type, Workspace *ws, bitgen_t *rng, Model *m,
                     const Settings *s, TrainingState *st, const floating *V, int n,
                     bint binary) noexcept nogil:
    cdef int N = m.n_visible, M = m.n_hidden, chunk, done = 0, r, given
    cdef int threads = num_threads()
    cdef bint contended
    cdef floating lr = <floating> s.learning_rate
    cdef floating *W = <floating *> m.W
    cdef floating *b = <floating *> m.visible_bias
    cdef floating *c = <floating *> m.hidden_bias
    if not s.per_sample:
        minibatch_step(rng, V, n, m, s, st, <floating *> ws.work,
                       ws.index_work if ws.max_density >= 0 else NULL, ws.max_density,
                       &ws.paths)
        return STATUS_OK
    if not binary:
        for r in range(n):
            dense_online_step(rng, V + <Py_ssize_t> r * N, W, b, c, N, M, s.k, lr,
                              <floating *> ws.work)
        took(&ws.paths, PATH_ONLINE_DENSE, n)
        return STATUS_OK
    # 0/1 rows a chunk at a time: the keys of a chunk fill the key buffer.
    while done < n:
        chunk = min(policy().online_chunk, n - done)
        given = chunk_threads(ws, threads)
        contended = online_steps(rng, V + <Py_ssize_t> done * N, chunk, W, b, c, N, M, s.k, lr,
                                 <floating *> ws.work, ws.index_work,
                                 ws.keys if keys_for_threads(threads) else NULL,
                                 given, &ws.paths)
        after_chunk(ws, contended, given)
        done += chunk
    return STATUS_OK


cdef int train(Workspace *ws, bitgen_t *rng, Model *m, const Settings *s,
               TrainingState *st, const void *V, int n, bint binary) noexcept nogil:
    if not valid_model(m) or not fits(ws, m) or ws.sampler:
        return STATUS_BAD_MODEL
    if not valid_settings(m, s) or (st.n_chains > 0 and st.chains == NULL) or (
            s.per_sample and (st.n_chains > 0 or s.momentum != 0 or s.centered
                              or s.weight_decay != 0 or s.sparsity_cost != 0
                              or s.sampled_statistics)):
        return STATUS_BAD_SETTINGS
    if (s.momentum != 0 and st.velocity == NULL) or (s.centered and st.offsets == NULL) or (
            s.chains_from_noise and st.n_chains == 0):
        return STATUS_BAD_SETTINGS
    if n < 1 or V == NULL:
        return STATUS_OK if n == 0 else STATUS_BAD_SETTINGS
    if not s.per_sample and (n > ws.rows or st.n_chains > ws.n_chains
                             or (st.n_chains == 0 and ws.n_chains > 0)):
        return STATUS_TOO_MANY_ROWS
    if m.precision == FLOAT64:
        return train_typed(<double *> NULL, ws, rng, m, s, st, <const double *> V, n, binary)
    return train_typed(<float *> NULL, ws, rng, m, s, st, <const float *> V, n, binary)


cdef inline bint clamped_to_bits(const Clamp *clamp, int n, int N,
                                 const floating *of_type) noexcept nogil:
    """Whether every clamped value is 0 or 1 (no clamp: True), as the
    few-chain sweeps, which sum the rows their units pick, need."""
    cdef const floating *values
    cdef floating value
    cdef Py_ssize_t r, j
    cdef int rows
    if clamp == NULL or clamp.mask == NULL:
        return True
    values = <const floating *> clamp.values
    rows = n if clamp.values_stride != 0 else 1
    for r in range(rows):
        for j in range(N):
            value = values[r * clamp.values_stride + j]
            if value != 0 and value != 1:
                return False
    return True


cdef int sample_typed(floating *of_type, Workspace *ws, bitgen_t *rng, const Model *m,
                      floating *V, int n, int sweeps, double beta,
                      const Clamp *clamp) noexcept nogil:
    cdef int N = m.n_visible, M = m.n_hidden, done = 0, chunk, step, given
    cdef int threads = num_threads()
    cdef bint contended
    cdef Units visible, hidden
    if ws.WT != NULL and clamped_to_bits(clamp, n, N, of_type):
        while done < sweeps:
            chunk = min(policy().sweeps_chunk, sweeps - done)
            given = chunk_threads(ws, threads)
            contended = block_sweeps(rng, V, n, chunk, <const floating *> m.W,
                                     <const floating *> ws.WT,
                                     <const floating *> m.visible_bias,
                                     <const floating *> m.hidden_bias, N, M,
                                     <floating *> ws.H, <floating *> ws.work, ws.index_work,
                                     ws.keys, given, beta, clamp, &ws.paths)
            after_chunk(ws, contended, given)
            done += chunk
        return STATUS_OK
    layer_views(m, <floating *> ws.work, &visible, &hidden)
    for step in range(sweeps):
        gibbs_sweep(rng, &visible, &hidden, V, n, <const floating *> m.W, N, M,
                    <floating *> ws.H, <floating *> ws.VI, beta, clamp,
                    ws.index_work if ws.max_density >= 0 else NULL, ws.max_density, &ws.paths)
    return STATUS_OK


cdef int sample(Workspace *ws, bitgen_t *rng, const Model *m, void *V, int n, int sweeps,
                double beta, const Clamp *clamp) noexcept nogil:
    if not valid_model(m) or not fits(ws, m) or not ws.sampler:
        return STATUS_BAD_MODEL
    if n > ws.n_chains:
        return STATUS_TOO_MANY_ROWS
    if not beta > 0 or sweeps < 0:
        return STATUS_BAD_SETTINGS
    if n < 1 or sweeps == 0:
        return STATUS_OK
    if m.precision == FLOAT64:
        return sample_typed(<double *> NULL, ws, rng, m, <double *> V, n, sweeps, beta, clamp)
    return sample_typed(<float *> NULL, ws, rng, m, <float *> V, n, sweeps, beta, clamp)


cdef int temper_typed(floating *of_type, bitgen_t *rng, const Model *m, floating *V, int n,
                      int sweeps, Ladder *ladder, const Clamp *clamp) noexcept nogil:
    cdef int N = m.n_visible, M = m.n_hidden, R = ladder.n_temperatures
    cdef Py_ssize_t rows = n
    cdef Units visible, hidden
    cdef floating *work = <floating *> malloc(
        (2 * <Py_ssize_t> N + rows * (M + 2 * <Py_ssize_t> N)) * sizeof(floating))
    cdef double *energies = <double *> malloc((R + 1) * rows * sizeof(double))
    if work == NULL or energies == NULL:
        free(work)
        free(energies)
        return STATUS_NO_MEMORY
    layer_views(m, work, &visible, &hidden)
    tempering_sweeps(rng, &visible, &hidden, V, n, R, <const floating *> m.W, N, M,
                     ladder.betas, sweeps, clamp, &ladder.parity, ladder.accepted,
                     ladder.attempted, work + 2 * N, work + 2 * N + rows * M,
                     work + 2 * N + rows * (M + N), energies)
    free(work)
    free(energies)
    return STATUS_OK


cdef int temper(bitgen_t *rng, const Model *m, void *V, int n, int sweeps, Ladder *ladder,
                const Clamp *clamp) noexcept nogil:
    cdef int r
    if not valid_model(m):
        return STATUS_BAD_MODEL
    if sweeps < 0 or ladder.n_temperatures < 1 or ladder.betas == NULL or not (
            ladder.parity == 0 or ladder.parity == 1):
        return STATUS_BAD_SETTINGS
    for r in range(ladder.n_temperatures):
        if not (ladder.betas[r] >= 0 and ladder.betas[r] <= ladder.betas[0]) or (
                m.visible_units == UNITS_GAUSSIAN and not ladder.betas[r] > 0):
            return STATUS_BAD_SETTINGS
    if not ladder.betas[0] > 0:
        return STATUS_BAD_SETTINGS
    if n < 1 or sweeps == 0:
        return STATUS_OK
    if m.precision == FLOAT64:
        return temper_typed(<double *> NULL, rng, m, <double *> V, n, sweeps, ladder, clamp)
    return temper_typed(<float *> NULL, rng, m, <float *> V, n, sweeps, ladder, clamp)


cdef int anneal_typed(floating *of_type, bitgen_t *rng, const Model *m, floating *V, int n,
                      const Annealing *a, double *log_w) noexcept nogil:
    cdef int N = m.n_visible, M = m.n_hidden
    cdef Py_ssize_t rows = n
    cdef Units visible, hidden
    # The Gaussian layer's 1/sigma^2 and sigma (2 N), the steps' scratch
    # (2 N + n), X (n x M) and VI (n x N).
    cdef floating *work = <floating *> malloc(
        (4 * <Py_ssize_t> N + rows * (M + <Py_ssize_t> N + 1)) * sizeof(floating))
    if work == NULL:
        return STATUS_NO_MEMORY
    layer_views(m, work, &visible, &hidden)
    annealing_steps(rng, &visible, &hidden, V, n, <const floating *> m.W, N, M,
                    <const floating *> a.base_bias, a.betas, a.n_betas, a.transition_at_end,
                    log_w, work + 4 * N + rows, work + 4 * N + rows * (M + 1), work + 2 * N)
    free(work)
    return STATUS_OK


cdef int anneal(bitgen_t *rng, const Model *m, void *V, int n, const Annealing *a,
                double *log_weights) noexcept nogil:
    cdef int k
    if not valid_model(m) or m.n_labels != 0:
        return STATUS_BAD_MODEL
    if a == NULL or a.betas == NULL or a.n_betas < 2 or log_weights == NULL or (
            (a.base_bias == NULL) != (m.visible_units == UNITS_GAUSSIAN)):
        return STATUS_BAD_SETTINGS
    for k in range(a.n_betas):
        if not (a.betas[k] >= 0 and a.betas[k] <= 1):
            return STATUS_BAD_SETTINGS
    if n < 1:
        return STATUS_OK
    if m.precision == FLOAT64:
        return anneal_typed(<double *> NULL, rng, m, <double *> V, n, a, log_weights)
    return anneal_typed(<float *> NULL, rng, m, <float *> V, n, a, log_weights)


cdef int conditional_typed(floating *of_type, const Model *m, const floating *X, int n,
                           floating *out, bint hidden) noexcept nogil:
    cdef int N = m.n_visible, M = m.n_hidden
    cdef Units visible_units, hidden_units
    cdef floating *scratch = <floating *> malloc(
        (2 * <Py_ssize_t> N + (<Py_ssize_t> n * N if hidden else 0)) * sizeof(floating))
    cdef const floating *inputs
    if scratch == NULL:
        return STATUS_NO_MEMORY
    layer_views(m, scratch, &visible_units, &hidden_units)
    if hidden:
        inputs = units_input(&visible_units, X, n, scratch + 2 * N)
        hidden_means(inputs, n, <const floating *> m.W, &hidden_units, out, N, M)
    else:
        visible_means(X, n, <const floating *> m.W, &visible_units, out, N, M, False, 1, NULL)
    free(scratch)
    return STATUS_OK


cdef int conditional_means(const Model *m, const void *X, int n, void *out,
                           bint hidden) noexcept nogil:
    if not valid_model(m):
        return STATUS_BAD_MODEL
    if n < 1:
        return STATUS_OK
    if m.precision == FLOAT64:
        return conditional_typed(<double *> NULL, m, <const double *> X, n, <double *> out, hidden)
    return conditional_typed(<float *> NULL, m, <const float *> X, n, <float *> out, hidden)


cdef int free_energy_typed(floating *of_type, const Model *m, const floating *V, int n,
                           double *out) noexcept nogil:
    cdef int N = m.n_visible, M = m.n_hidden, r
    cdef Units visible_units, hidden_units
    cdef floating *scratch = <floating *> malloc(
        (2 * <Py_ssize_t> N + <Py_ssize_t> n * (N + M)) * sizeof(floating))
    cdef double *partition = <double *> malloc(n * sizeof(double))
    cdef floating *field
    cdef const floating *inputs
    if scratch == NULL or partition == NULL:
        free(scratch)
        free(partition)
        return STATUS_NO_MEMORY
    layer_views(m, scratch, &visible_units, &hidden_units)
    field = scratch + 2 * N + <Py_ssize_t> n * N
    inputs = units_input(&visible_units, V, n, scratch + 2 * N)
    hidden_products(inputs, n, <const floating *> m.W, NULL, field, N, M, NULL, NULL, -1, -1,
                    False, 1, NULL)
    units_energy(&visible_units, V, n, out)
    units_log_partition(&hidden_units, field, n, partition)
    for r in range(n):
        out[r] -= partition[r]
    free(scratch)
    free(partition)
    return STATUS_OK


cdef int free_energy(const Model *m, const void *V, int n, double *out) noexcept nogil:
    if not valid_model(m):
        return STATUS_BAD_MODEL
    if n < 1:
        return STATUS_OK
    if m.precision == FLOAT64:
        return free_energy_typed(<double *> NULL, m, <const double *> V, n, out)
    return free_energy_typed(<float *> NULL, m, <const float *> V, n, out)

# cython: language_level=3
"""One minibatch step of CD-k or PCD-k, in four phases.

Design. ``minibatch_step`` carves its buffers once (``carve``), picks its
paths once (``plan``), then runs the phases as short functions:

* ``positive_phase``: the data's inputs into the products and ``p(h | v0)``;
* ``negative_phase``: k Gibbs steps from the data (CD) or from the
  persistent chains (PCD), ending in the negative hidden statistics;
* ``gradient``: the statistics averaged into the gradient's parts, with the
  sparsity term;
* ``update``: the weight step (one product ``[V0; Vk]^T [PH0 / n; -PHk /
  C]``), weight decay, momentum and centering applied to the parameters,
  and a Gaussian layer's log-variance step.

Everything that depends on the kind of unit goes through ``_units``; every
product through ``_products``, which runs it by BLAS or by crbm's row sums
(skipping the zeros of visible rows) as the policy says. The order of the
random draws is part of the contract (``crbm.reference.cd_batch_update``
makes the same draws): H0 (n x M), then for CD per step V (n x N) and,
except after the last step, H (n x M); for PCD per step H then V (C x M,
C x N) on the chains, which with ``chains_from_noise`` first get fresh
random states (one key, after the positive sampled states); with sampled
statistics, the positive hidden states first (PCD) and the negative ones last.
"""
from libc.stdint cimport uint64_t
from libc.string cimport memcpy

from crbm._core._blas cimport NoTrans, Trans, axpy, gemv, ger
from crbm._core._hybrid cimport add_label_posterior_gradient, hybrid_work_size
from crbm._core._policy cimport PATH_STEP_OWN_THREADS, own_threads, took


cdef inline bint sparse_enough(Py_ssize_t count, Py_ssize_t size,
                               double max_density) noexcept nogil:
    return count <= max_density * size
from crbm._core._random cimport bernoulli_stream, normal_stream
from crbm._core._products cimport (
    column_means, draw_rows, hidden_products, row_products, visible_states, weight_step)
from crbm._core._rows cimport count_nonzero, index_rows, indexed_values_are_one
from crbm._core._threads cimport num_threads, rest
from crbm._core._units cimport (
    Units, exp_scaled_d, exp_scaled_f, square_deviations_d, square_deviations_f, units_binary,
    units_input)
from crbm.kernels cimport (
    UNITS_BERNOULLI, UNITS_GAUSSIAN, Model, PathCounts, Settings, TrainingState)



cdef struct Step:
    # The step's buffers (carved from work and index_work) and choices.
    int n, C, N, M
    bint persistent
    Units visible, hidden
    void *VV                 # [VI0; VIk], (n + C) x N: the inputs into the products
    void *states             # C x N: the negative visible states (VV + n N for 0/1 units)
    void *PP                 # [PH0; PHk], (n + C) x M
    void *H                  # max(n, C) x M
    void *dv                 # N: mean input of the data minus that of the chains
    void *dh                 # M: the same for the hidden statistics
    void *mean_v0            # N
    void *mean_h0            # M
    void *gradient           # N x M: the weight step before momentum, when kept apart
    void *label_rows         # K x M: the hybrid objective's rest of the label rows' step
    void *hybrid             # the hybrid objective's work (hybrid_work_size)
    void *gaussian           # 6 N: 1/sigma^2, sigma, the squared deviations of
                             # data and chains, the log-variance step, row sums
    int *count               # row index of VV, and the column index built from it
    int *idx
    int *tptr
    int *tidx
    double max_density       # products skip zeros of visible rows up to this density
    Py_ssize_t nonzero       # nonzero inputs of the data (-1: not counted)
    bint binary              # the data is all 0/1 (the chains are, for Bernoulli units)
    bint own                 # every product in crbm's threads
    int threads              # for crbm's products and draws
    PathCounts *paths


cdef inline bint keeps_gradient(const Settings *s, int visible) noexcept nogil:
    # The weight step is formed apart from W when something beyond the plain
    # gradient acts on it (with momentum the velocity holds it), or when a
    # learned variance needs the gradient itself.
    return ((s.momentum == 0 and (s.weight_decay != 0 or s.centered))
            or (visible == UNITS_GAUSSIAN and s.learn_variance))


cdef Py_ssize_t minibatch_work_size(int n, int n_chains, int N, int M, const Settings *s,
                                    int visible, int n_labels) noexcept nogil:
    cdef Py_ssize_t C = n_chains if n_chains > 0 else n
    cdef Py_ssize_t size = (n + C) * (<Py_ssize_t> N + M) + max(<Py_ssize_t> n, C) * M
    size += 2 * (<Py_ssize_t> N + M)
    if keeps_gradient(s, visible):
        size += <Py_ssize_t> N * M
    if visible == UNITS_GAUSSIAN:
        size += C * N + 6 * <Py_ssize_t> N
    if s.discriminative != 0:
        size += <Py_ssize_t> n_labels * M + hybrid_work_size(n, n_labels, M)
    return size


cdef Py_ssize_t minibatch_index_size(int n, int n_chains, int N, int M) noexcept nogil:
    # a row and a column index of the n + C visible rows
    cdef Py_ssize_t rows = n + (n_chains if n_chains > 0 else n)
    return 2 * rows * N + rows + N + 1


cdef inline Step carve(floating *work, int *index_work, int n, const Model *m,
                       const Settings *s, const TrainingState *st) noexcept nogil:
    """The step's buffers, laid out in ``work`` and ``index_work``, and its
    layers' views (Gaussian units get 1/sigma^2 and sigma from log sigma^2)."""
    cdef Step step
    cdef int N = m.n_visible, M = m.n_hidden, C
    cdef Py_ssize_t nN, nM, cN, cM, i
    cdef floating *p
    cdef floating *gaussian
    cdef double log_norm = 0
    step.persistent = st.n_chains > 0
    C = st.n_chains if step.persistent else n
    step.n, step.C, step.N, step.M = n, C, N, M
    nN, nM, cN, cM = <Py_ssize_t> n * N, <Py_ssize_t> n * M, <Py_ssize_t> C * N, <Py_ssize_t> C * M
    p = work
    step.VV = p
    step.states = p + nN
    p += nN + cN
    step.PP = p
    p += nM + cM
    step.H = p
    p += max(nM, cM)
    step.dv = p
    step.dh = p + N
    step.mean_v0 = p + N + M
    step.mean_h0 = p + 2 * N + M
    p += 2 * (<Py_ssize_t> N + M)
    step.gradient = NULL
    if keeps_gradient(s, m.visible_units):
        step.gradient = p
        p += <Py_ssize_t> N * M
    step.label_rows = step.hybrid = NULL
    if s.discriminative != 0:
        step.label_rows = p
        p += <Py_ssize_t> m.n_labels * M
        step.hybrid = p
        p += hybrid_work_size(n, m.n_labels, M)
    step.gaussian = NULL
    step.visible.kind, step.visible.n = m.visible_units, N
    step.visible.bias, step.visible.std, step.visible.precision = m.visible_bias, NULL, NULL
    step.visible.log_norm = 0
    step.visible.n_softmax = m.n_labels
    step.hidden.kind, step.hidden.n = m.hidden_units, M
    step.hidden.bias, step.hidden.std, step.hidden.precision = m.hidden_bias, NULL, NULL
    step.hidden.log_norm = 0
    step.hidden.n_softmax = 0
    if m.visible_units == UNITS_GAUSSIAN:
        step.states = p              # real-valued states apart from their inputs
        p += cN
        gaussian = p
        step.gaussian = gaussian
        if floating is double:
            exp_scaled_d(<const double *> m.visible_log_var, -1.0, gaussian, N)
            exp_scaled_d(<const double *> m.visible_log_var, 0.5, gaussian + N, N)
        else:
            exp_scaled_f(<const float *> m.visible_log_var, -1.0, gaussian, N)
            exp_scaled_f(<const float *> m.visible_log_var, 0.5, gaussian + N, N)
        step.visible.precision, step.visible.std = gaussian, gaussian + N
    step.count = step.idx = step.tptr = step.tidx = NULL
    if index_work != NULL:
        step.count = index_work
        step.idx = index_work + n + C
        step.tptr = step.idx + <Py_ssize_t> (n + C) * N
        step.tidx = step.tptr + N + 1
    return step


cdef inline void plan(Step *step, const floating *VI0, double max_density,
                      PathCounts *paths) noexcept nogil:
    """Index the data's inputs and pick the step's paths."""
    cdef Py_ssize_t nN = <Py_ssize_t> step.n * step.N
    step.max_density, step.nonzero, step.binary = max_density, -1, False
    step.own, step.threads, step.paths = False, 1, paths
    if step.count == NULL:
        return
    if not units_binary(&step.visible) and not sparse_enough(
            count_nonzero(VI0, nN), nN, max_density):
        # Real-valued data is often dense: count before building an index
        # that only the sparse products use.
        step.count = NULL
        return
    step.nonzero = index_rows(VI0, step.n, step.N, step.count, step.idx)
    step.binary = indexed_values_are_one(VI0, step.n, step.N, step.count, step.idx)
    if units_binary(&step.visible) and own_threads(
            <Py_ssize_t> max(step.n, step.C) * step.N * step.M, step.nonzero, nN, max_density):
        # A large minibatch of sparse 0/1 data: every product in crbm's own
        # loops (BLAS threads would compete with crbm's for the cores),
        # split across its threads. The choice does not depend on the
        # number of threads, so neither do the results.
        step.own, step.threads, step.max_density = True, num_threads(), 1
        took(paths, PATH_STEP_OWN_THREADS, 1)


cdef inline int *chain_count(const Step *step) noexcept nogil:
    # The chains' rows are indexed (for sums of rows) when their states are 0/1.
    if step.count == NULL or not units_binary(&step.visible):
        return NULL
    return step.count + step.n


cdef inline int *chain_idx(const Step *step) noexcept nogil:
    return step.idx + <Py_ssize_t> step.n * step.N


cdef inline floating *chain_inputs(const Step *step, floating *of_type) noexcept nogil:
    """The inputs of the chains' current states, in VV after the data's."""
    cdef floating *VI = <floating *> step.VV + <Py_ssize_t> step.n * step.N
    return <floating *> units_input(&step.visible, <const floating *> step.states, step.C, VI)


cdef inline void positive_phase(Step *step, const floating *V0, const floating *W,
                                double max_density, PathCounts *paths) noexcept nogil:
    cdef floating *VV = <floating *> step.VV
    cdef floating *PH0 = <floating *> step.PP
    if step.visible.kind == UNITS_GAUSSIAN:
        units_input(&step.visible, V0, step.n, VV)
    else:
        memcpy(VV, V0, <Py_ssize_t> step.n * step.N * sizeof(floating))
    plan(step, VV, max_density, paths)
    hidden_products(VV, step.n, W, &step.hidden, PH0, step.N, step.M, step.count, step.idx,
                    step.max_density, step.nonzero, step.binary, step.threads, step.paths)
    column_means(PH0, step.n, step.M, <floating> 1 / step.n,
                 <floating *> step.mean_h0)  # offsets follow p(h | v0)


cdef inline void random_states(uint64_t key, const Units *visible, floating *V,
                               int rows) noexcept nogil:
    """Chains' starting states, as ``RBM.generate`` draws them: fair coin
    flips (uniform i of stream ``key`` below 1/2) for Bernoulli units,
    ``b + sigma z`` (normal i) for Gaussian ones; a softmax group starts
    with no unit on."""
    cdef Py_ssize_t i, j, N = visible.n, size = <Py_ssize_t> rows * visible.n
    cdef const floating *b = <const floating *> visible.bias
    cdef const floating *std = <const floating *> visible.std
    if visible.kind == UNITS_GAUSSIAN:
        normal_stream(key, 0, V, size)
        for i in range(rows):
            for j in range(N):
                V[i * N + j] = b[j] + std[j] * V[i * N + j]
        return
    for i in range(size):
        V[i] = 0.5
    bernoulli_stream(key, 0, V, V, size)
    if visible.n_softmax > 0:  # a softmax group starts off, no label on
        for i in range(rows):
            for j in range(N - visible.n_softmax, N):
                V[i * N + j] = 0


cdef inline void hold_labels(const Step *step, floating *V, int rows) noexcept nogil:
    """Chain i's label units (the layer's softmax group) at the label of data
    row i % n: negative chains that sample p(v | y), the dynamics of
    ``generate(label=y)``."""
    cdef int K = step.visible.n_softmax, N = step.N, i
    cdef const floating *data = <const floating *> step.VV
    for i in range(rows):
        memcpy(V + <Py_ssize_t> i * N + N - K, data + <Py_ssize_t> (i % step.n) * N + N - K,
               K * sizeof(floating))


cdef inline void negative_phase(Step *step, bitgen_t *rng, const floating *W,
                                const Settings *s, floating *chains) noexcept nogil:
    cdef int n = step.n, C = step.C, N = step.N, M = step.M, k
    cdef floating *PH0 = <floating *> step.PP
    cdef floating *PH = PH0 + <Py_ssize_t> n * M
    cdef floating *H = <floating *> step.H
    cdef floating *V = <floating *> step.states
    cdef floating *VI
    cdef int *counts = chain_count(step)
    cdef int *idx = chain_idx(step)
    if step.persistent:
        if s.sampled_statistics:
            draw_rows(rng, &step.hidden, PH0, PH0, n, M, step.threads)
        if s.chains_from_noise:
            random_states(rng.next_uint64(rng.state), &step.visible, V, C)
        else:
            memcpy(V, chains, <Py_ssize_t> C * N * sizeof(floating))
        if s.clamp_labels:
            hold_labels(step, V, C)
        for k in range(s.k):
            VI = chain_inputs(step, V)
            hidden_products(VI, C, W, &step.hidden, H, N, M, counts, idx, step.max_density, -1,
                            True, step.threads, step.paths)
            draw_rows(rng, &step.hidden, H, H, C, M, step.threads)
            visible_states(rng, H, C, W, &step.visible, V, N, M, step.own, step.threads,
                           step.paths)
            if s.clamp_labels:
                hold_labels(step, V, C)
        memcpy(chains, V, <Py_ssize_t> C * N * sizeof(floating))
        VI = chain_inputs(step, V)
        hidden_products(VI, C, W, &step.hidden, PH, N, M, counts, idx, step.max_density, -1,
                        True, step.threads, step.paths)
    else:
        draw_rows(rng, &step.hidden, PH0, H, n, M, step.threads)
        if s.sampled_statistics:
            memcpy(PH0, H, <Py_ssize_t> n * M * sizeof(floating))
        for k in range(s.k):
            visible_states(rng, H, n, W, &step.visible, V, N, M, step.own, step.threads,
                           step.paths)
            if s.clamp_labels:
                hold_labels(step, V, n)
            VI = chain_inputs(step, V)
            hidden_products(VI, n, W, &step.hidden, PH, N, M, counts, idx, step.max_density, -1,
                            True, step.threads, step.paths)
            if k + 1 < s.k:
                draw_rows(rng, &step.hidden, PH, H, n, M, step.threads)
    if s.sampled_statistics:
        draw_rows(rng, &step.hidden, PH, PH, C, M, step.threads)


cdef inline void gradient(Step *step, const floating *V0, const Settings *s) noexcept nogil:
    """The statistics into the parts of the gradient: dv, dh, and PP scaled
    so that the weight step is one product; Gaussian units' deviations."""
    cdef int n = step.n, C = step.C, N = step.N, M = step.M
    cdef Py_ssize_t nM = <Py_ssize_t> n * M, cM = <Py_ssize_t> C * M, i, j
    cdef floating *VV = <floating *> step.VV
    cdef floating *PH0 = <floating *> step.PP
    cdef floating *PH = PH0 + nM
    cdef floating *dv = <floating *> step.dv
    cdef floating *dh = <floating *> step.dh
    cdef floating *mean_v0 = <floating *> step.mean_v0
    cdef floating *mean_h0 = <floating *> step.mean_h0
    cdef floating *squares
    column_means(VV, n, N, <floating> 1 / n, mean_v0)
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
    column_means(VV + <Py_ssize_t> n * N, C, N, <floating> 1 / C, dv)
    for j in range(N):
        dv[j] = mean_v0[j] - dv[j]
    for i in range(C):
        for j in range(M):
            dh[j] -= PH[i * M + j] / C
    for i in range(nM):
        PH0[i] *= <floating> 1 / n
    for i in range(cM):
        PH[i] *= <floating> -1 / C
    if step.gaussian != NULL and s.learn_variance:
        # The data's and the chains' mean squared deviations from b.
        squares = <floating *> step.gaussian + 2 * N
        for j in range(2 * N):
            squares[j] = 0
        if floating is double:
            square_deviations_d(V0, <const double *> step.visible.bias, n, N, squares)
            square_deviations_d(<const double *> step.states, <const double *> step.visible.bias,
                                C, N, squares + N)
        else:
            square_deviations_f(V0, <const float *> step.visible.bias, n, N, squares)
            square_deviations_f(<const float *> step.states, <const float *> step.visible.bias,
                                C, N, squares + N)
        for j in range(N):
            squares[j] = squares[j] / n - squares[N + j] / C


cdef inline void log_variance_step(Step *step, const Model *m, const Settings *s,
                                   floating *velocity, const floating *sums) noexcept nogil:
    """The step of log sigma^2 (Cho, Ilin & Raiko 2011): the energy's
    derivative is (v - b)^2 / 2 sigma^2 - v (W h) / sigma^2, so the gradient
    is the data's minus the chains' mean squared deviation from b over
    2 sigma^2, minus sum_j W_ij G_ij with G the weight gradient: ``sums``
    holds sum_j W_ij lr G_ij, of W before its update. Centering leaves it
    alone: its change of variables fixes b - W lambda, not sigma."""
    cdef int N = step.N, M = step.M, j
    cdef floating lr = <floating> s.learning_rate
    cdef floating *precision = <floating *> step.gaussian
    cdef floating *squares = precision + 2 * N
    cdef floating *dz = precision + 4 * N
    cdef floating *z = <floating *> m.visible_log_var
    cdef floating floor = <floating> s.min_log_var
    for j in range(N):
        dz[j] = lr * (<floating> 0.5 * precision[j] * squares[j]) - sums[j]
    if velocity != NULL:
        velocity += <Py_ssize_t> N * M + N + M
        for j in range(N):
            velocity[j] = <floating> s.momentum * velocity[j] + dz[j]
        dz = velocity
    for j in range(N):
        z[j] = max(z[j] + dz[j], floor)


cdef inline void update(Step *step, floating *W, const Model *m, const Settings *s,
                        const TrainingState *st) noexcept nogil:
    """Apply the gradient, with weight decay, momentum and centering."""
    cdef int n = step.n, C = step.C, N = step.N, M = step.M
    cdef Py_ssize_t i, j, NM = <Py_ssize_t> N * M
    cdef floating *b = <floating *> m.visible_bias
    cdef floating *c = <floating *> m.hidden_bias
    cdef floating *velocity = <floating *> st.velocity
    cdef floating *offsets = <floating *> st.offsets
    cdef floating *dv = <floating *> step.dv
    cdef floating *dh = <floating *> step.dh
    cdef floating *mean_v0 = <floating *> step.mean_v0
    cdef floating *mean_h0 = <floating *> step.mean_h0
    cdef floating *step_W = W
    cdef floating *step_b
    cdef floating *step_c
    cdef floating lr = <floating> s.learning_rate
    cdef floating momentum = <floating> s.momentum
    cdef floating beta = 1
    # Centered visible offsets are for 0/1 units; Gaussian units are
    # centered by standardising the data, and only the hidden offsets move.
    cdef bint center_visible = s.centered and step.visible.kind == UNITS_BERNOULLI
    cdef floating *mu = offsets
    cdef floating *lam = offsets + N if s.centered else NULL
    cdef bint learn_variance = step.gaussian != NULL and s.learn_variance
    cdef floating *sums
    cdef bint applied = False
    cdef int *count = step.count if chain_count(step) != NULL else NULL
    # step_W = beta * step_W + lr * G, where step_W is W itself (plain
    # gradient), the velocity (momentum) or a separate buffer; a learned
    # variance reads lr * G apart, which then joins the velocity.
    if learn_variance:
        step_W, beta = <floating *> step.gradient, 0
    elif velocity != NULL:
        step_W, beta = velocity, momentum
    elif step.gradient != NULL:
        step_W, beta = <floating *> step.gradient, 0
    weight_step(<const floating *> step.VV, n + C, <floating *> step.PP, N, M, lr, beta, step_W,
                count, step.idx, step.tptr, step.tidx, step.max_density, step.binary,
                step.threads, step.paths)
    if step.label_rows != NULL:  # the label rows' part of the hybrid step
        axpy(<int> (step.visible.n_softmax * M), lr, <floating *> step.label_rows, 1,
             step_W + <Py_ssize_t> (N - step.visible.n_softmax) * M, 1)
    if learn_variance:
        # With nothing but the gradient acting on W, the sums of W * lr G
        # and W += lr G share one pass.
        applied = velocity == NULL and s.weight_decay == 0 and not s.centered
        sums = <floating *> step.gaussian + 5 * N
        row_products(W, step_W, N, M, sums, applied, step.threads)
        log_variance_step(step, m, s, velocity, sums)
        if velocity != NULL:
            for i in range(NM):
                velocity[i] = momentum * velocity[i] + step_W[i]
            step_W = velocity
    if step_W == W or applied:
        axpy(N, lr, dv, 1, b, 1)
        axpy(M, lr, dh, 1, c, 1)
        return
    rest()  # what follows may call multithreaded BLAS (ger, gemv)
    if s.weight_decay != 0:
        for i in range(N):
            axpy(M, -lr * <floating> s.weight_decay, W + i * M, 1, step_W + i * M, 1)
    if s.centered:
        # Centered gradient: G - mu dh^T - dv lambda^T.
        if center_visible:
            ger(N, M, -lr, mu, 1, dh, 1, step_W, M)
        ger(N, M, -lr, dv, 1, lam, 1, step_W, M)
    for i in range(N):
        axpy(M, 1, step_W + i * M, 1, W + i * M, 1)
    # Bias steps: lr * (dv, dh), with momentum when there is a velocity.
    if velocity != NULL:
        step_b = velocity + NM
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
        if center_visible:
            gemv(Trans, N, M, -1, step_W, M, mu, 1, 1, c, 1)
            for j in range(N):
                mu[j] += <floating> s.offset_rate * (mean_v0[j] - mu[j])
        for j in range(M):
            lam[j] += <floating> s.offset_rate * (mean_h0[j] - lam[j])


cdef void minibatch_step(bitgen_t *rng, const floating *V0, int n, const Model *m,
                         const Settings *s, TrainingState *st, floating *work,
                         int *index_work, double max_density,
                         PathCounts *paths) noexcept nogil:
    cdef Step step = carve(work, index_work, n, m, s, st)
    positive_phase(&step, V0, <const floating *> m.W, max_density, paths)
    negative_phase(&step, rng, <const floating *> m.W, s, <floating *> st.chains)
    gradient(&step, V0, s)
    if s.discriminative != 0:
        add_label_posterior_gradient(
            V0, n, step.N, m.n_labels, <const floating *> m.W,
            <const floating *> m.visible_bias, <const floating *> m.hidden_bias, step.M,
            <floating> s.discriminative, <floating *> step.PP, <floating *> step.dh,
            <floating *> step.dv, <floating *> step.label_rows, <floating *> step.hybrid)
    update(&step, <floating *> m.W, m, s, st)

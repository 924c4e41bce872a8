# cython: language_level=3
"""The steps of annealed importance sampling (AIS), compiled.

Design. A run's states are visible rows only: the hidden layer is summed
out of every log p*_beta(v), and drawn afresh by each transition. A step
is two GEMMs (X = input(V) W for the weight and the hidden draw, then
beta H W^T straight into V for the visible draw) and two row-parallel
passes: one adds the step's log-weight change and draws H from X in
place, the other draws V. The weights are summed in double from the
fields: a step's change is a small difference of large sums, which float32
sums would drown. Each row draws at its own stream positions, so that the
results do not depend on how the rows are split across crbm's threads.
The same steps run reverse AIS (Burda, Grosse & Salakhutdinov 2015): the
caller passes betas from 1 down to 0 and rows of data as the start.
"""
from libc.stdint cimport uint64_t
from libc.string cimport memset

from crbm._core._blas cimport NoTrans, Trans, gemm
from crbm._core._policy cimport parallel_parts
from crbm._core._threads cimport num_threads, rest, run_parts
from crbm._core._units cimport (
    sum_row_products, units_anneal, units_draw_cost, units_input, units_sample)


cdef struct StepRows:
    # One step's elementwise work, split by rows across crbm's threads.
    bint is_double
    bint visible_half        # False: the weights, then H from X; True: V from its field
    const Units *visible     # with the step's mixed biases
    const Units *hidden
    void *V
    void *X
    int N, M, n
    double beta, beta_before
    bint transition
    const void *shift        # b - base_bias (Bernoulli visible units), else NULL
    void *sums               # n: each row's v . shift
    uint64_t key
    double *log_w


cdef inline void step_rows_typed(floating *of_type, const StepRows *job, int r0,
                                 int r1) noexcept nogil:
    cdef int N = job.N, M = job.M, rows = r1 - r0, r
    cdef floating *V = <floating *> job.V + <Py_ssize_t> r0 * N
    cdef floating *X = <floating *> job.X + <Py_ssize_t> r0 * M
    cdef floating *sums = <floating *> job.sums + r0
    cdef double step = job.beta - job.beta_before
    if job.visible_half:
        units_sample(job.visible, 0, job.key, <uint64_t> r0 * N, V, rows, N, 1.0, NULL)
        return
    if job.shift != NULL:  # the visible energies' change: (beta - beta_before) (b - b_base) . v
        for r in range(rows):
            sum_row_products(V + <Py_ssize_t> r * N, <const floating *> job.shift, 1, N,
                             sums + r, False)
            job.log_w[r0 + r] += step * <double> sums[r]
    units_anneal(job.hidden, job.key, <uint64_t> r0 * M, X, rows, job.beta, job.beta_before,
                 job.transition, job.log_w + r0)


cdef void step_rows_task(void *context, int part, int parts) noexcept nogil:
    cdef const StepRows *job = <const StepRows *> context
    cdef int r0 = <int> (<Py_ssize_t> job.n * part // parts)
    cdef int r1 = <int> (<Py_ssize_t> job.n * (part + 1) // parts)
    if r1 <= r0:
        return
    if job.is_double:
        step_rows_typed(<double *> NULL, job, r0, r1)
    else:
        step_rows_typed(<float *> NULL, job, r0, r1)


cdef inline void run_step_rows(StepRows *job, Py_ssize_t work) noexcept nogil:
    cdef int parts = parallel_parts(work, job.n, num_threads())
    if parts <= 1:
        step_rows_task(job, 0, 1)
    else:
        run_parts(step_rows_task, job, parts)


cdef void annealing_steps(bitgen_t *rng, const Units *visible, const Units *hidden,
                          floating *V, int n, const floating *W, int N, int M,
                          const floating *base_bias, const double *betas, int L,
                          bint transition_at_end, double *log_w, floating *X, floating *VI,
                          floating *scratch) noexcept nogil:
    cdef StepRows job
    cdef Units mixed = visible[0]
    cdef const floating *b = <const floating *> visible.bias
    cdef floating *mixed_bias = scratch
    cdef floating *shift = scratch + N
    cdef const floating *inputs
    cdef int k, j
    cdef double beta
    memset(&job, 0, sizeof(StepRows))
    job.is_double = floating is double
    job.visible, job.hidden = &mixed, hidden
    job.V, job.X, job.N, job.M, job.n, job.log_w = V, X, N, M, n, log_w
    job.sums = scratch + 2 * N
    if base_bias != NULL:
        # In the model's precision: the sums run in 16 lanes over at most a
        # few thousand units, and each is multiplied by a step of beta.
        for j in range(N):
            shift[j] = <floating> (<double> b[j] - <double> base_bias[j])
        job.shift = shift
        mixed.bias = mixed_bias
    for k in range(1, L):
        beta = betas[k]
        job.beta, job.beta_before = beta, betas[k - 1]
        job.transition = k < L - 1 or transition_at_end
        inputs = units_input(visible, V, n, VI)
        rest()
        gemm(NoTrans, NoTrans, n, M, N, 1, inputs, N, W, M, 0, X, M)
        job.visible_half = False
        job.key = rng.next_uint64(rng.state) if job.transition else 0
        run_step_rows(&job, (units_draw_cost(hidden) + 8) * <Py_ssize_t> n * M)
        if not job.transition:
            break
        # p_beta(v | h): fields beta h W^T, biases (1 - beta) b_base + beta b
        # (Gaussian units: b, their base being N(b, sigma^2)).
        if base_bias != NULL:
            for j in range(N):
                mixed_bias[j] = <floating> ((1 - beta) * <double> base_bias[j]
                                            + beta * <double> b[j])
        rest()
        gemm(NoTrans, Trans, n, N, M, <floating> beta, X, M, W, M, 0, V, N)
        job.visible_half = True
        job.key = rng.next_uint64(rng.state)
        run_step_rows(&job, units_draw_cost(visible) * <Py_ssize_t> n * N)

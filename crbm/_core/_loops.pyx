# cython: language_level=3
"""Whole-epoch and whole-chain loops: one call from Python, GIL released.

These are the entry points the Python facade uses for heavy work. Each takes
the model's arrays and a ``numpy.random.Generator``, holds the bit
generator's lock and runs every batch or sweep without the GIL, through
crbm's public Cython API (``crbm/kernels.pxd``), which downstream Cython
code calls the same way. Each returns the paths its kernels took
(``crbm._core._policy.path_report`` names them).
"""
import numpy as np

from cython cimport floating
from libc.math cimport INFINITY
from libc.stdint cimport uint8_t, uint64_t
from libc.string cimport memcpy, memset

from crbm._core._random cimport bitgen_of, bitgen_t, bernoulli, normal_stream
from crbm._core._units cimport UNITS_GAUSSIAN, exp_scaled_d, exp_scaled_f
from crbm._core._policy cimport PathCounts, policy
from crbm.kernels cimport (
    FLOAT32, FLOAT64, STATUS_OK, Annealing, Clamp, Ladder, Model, Settings, TrainingState, Workspace,
    anneal, conditional_means as kernel_conditional_means, free_energy as kernel_free_energy,
    sample, sampler_workspace_new, status_message, temper, train, workspace_free, workspace_new,
    workspace_paths)


def _indices_checked() -> bool:
    """Whether this module's memoryview indices are checked: one past the
    end of a view, inside the buffer it views, raises ``IndexError``."""
    cdef double[::1] buffer = np.zeros(2)
    cdef double[::1] view = buffer[:1]
    cdef Py_ssize_t past_end = 1
    try:
        view[past_end] = 1.0
    except IndexError:
        return True
    return False


#: Whether this build has Cython's bounds checks on (``CRBM_DEBUG=1`` at
#: build time), found by trying one rather than from a build flag.
DEBUG_BUILD = _indices_checked()

# Training data is read in its own dtype, a batch at a time, so a uint8 or
# bool dataset is never copied whole into floating point.
ctypedef fused data_t:
    uint8_t
    float
    double


cdef extern from "_data.h":
    void convert_u8_d "crbm_convert_u8_d"(const uint8_t *x, double *out, Py_ssize_t n) noexcept nogil
    void convert_u8_f "crbm_convert_u8_f"(const uint8_t *x, float *out, Py_ssize_t n) noexcept nogil
    void convert_f_d "crbm_convert_f_d"(const float *x, double *out, Py_ssize_t n) noexcept nogil
    void convert_d_f "crbm_convert_d_f"(const double *x, float *out, Py_ssize_t n) noexcept nogil
    void value_range_d "crbm_value_range_d"(
        const double *x, Py_ssize_t n, double *lo, double *hi,
        int *nonfinite, int *nonbinary) noexcept nogil
    void value_range_f "crbm_value_range_f"(
        const float *x, Py_ssize_t n, float *lo, float *hi,
        int *nonfinite, int *nonbinary) noexcept nogil
    void value_range_u8 "crbm_value_range_u8"(
        const uint8_t *x, Py_ssize_t n, uint8_t *lo, uint8_t *hi,
        int *nonfinite, int *nonbinary) noexcept nogil


class KernelError(RuntimeError):
    """A kernel refused its arguments: a bug in the caller, which checks them first."""


cdef inline void check(int status) except *:
    if status != STATUS_OK:
        raise KernelError(status_message(status).decode())


cdef inline void convert_row(const data_t *x, floating *out, Py_ssize_t n) noexcept nogil:
    """``out[:n] = x[:n]`` in the model's precision, vectorised."""
    if data_t is uint8_t:
        if floating is double:
            convert_u8_d(x, out, n)
        else:
            convert_u8_f(x, out, n)
    elif data_t is double:
        if floating is double:
            memcpy(out, x, n * sizeof(double))
        else:
            convert_d_f(x, out, n)
    else:
        if floating is double:
            convert_f_d(x, out, n)
        else:
            memcpy(out, x, n * sizeof(float))


cdef inline void load_rows(const data_t[:, :] data, const Py_ssize_t *order,
                           Py_ssize_t start, Py_ssize_t n,
                           floating *out) noexcept nogil:
    """Convert rows ``start:start+n`` of ``data`` (taken in ``order`` when it
    is not NULL) into C-contiguous ``out``."""
    cdef Py_ssize_t i, j, row, width = data.shape[1]
    # A row whose entries are adjacent (any C-ordered array or row slice)
    # converts in one vectorised loop; others go entry by entry.
    cdef bint adjacent = data.strides[1] == sizeof(data_t)
    for i in range(n):
        row = start + i if order == NULL else order[start + i]
        if adjacent and width > 0:
            convert_row(&data[row, 0], out + i * width, width)
        else:
            for j in range(width):
                out[i * width + j] = <floating> data[row, j]


cdef inline Model model_of(const floating[:, ::1] W, const floating[::1] b,
                           const floating[::1] c, const floating[::1] log_var,
                           int visible, int n_labels) noexcept:
    """The Model view of a model's arrays (``log_var`` empty unless Gaussian;
    ``n_labels`` of the visible units a softmax group, or 0)."""
    cdef Model m
    memset(&m, 0, sizeof(Model))
    m.precision = FLOAT64 if floating is double else FLOAT32
    m.n_visible, m.n_hidden = <int> W.shape[0], <int> W.shape[1]
    m.visible_units, m.hidden_units = visible, 0
    m.n_labels = n_labels
    m.W = <void *> &W[0, 0]
    m.visible_bias = <void *> &b[0]
    m.hidden_bias = <void *> &c[0]
    m.visible_log_var = <void *> &log_var[0] if log_var.shape[0] > 0 else NULL
    return m


cdef inline Settings settings_of(dict d, bint per_sample):
    cdef Settings s
    memset(&s, 0, sizeof(Settings))
    s.per_sample = per_sample
    s.k = d["k"]
    s.learning_rate = d["learning_rate"]
    s.momentum = d.get("momentum", 0.0)
    s.weight_decay = d.get("weight_decay", 0.0)
    s.sparsity_target = d.get("sparsity_target", 0.0)
    s.sparsity_cost = d.get("sparsity_cost", 0.0)
    s.centered = d.get("centered", False)
    s.offset_rate = d.get("offset_rate", 0.0)
    s.sampled_statistics = d.get("sampled_statistics", False)
    s.learn_variance = d.get("learn_variance", False)
    s.min_log_var = d.get("min_log_var", -INFINITY)
    s.chains_from_noise = d.get("chains_from_noise", False)
    s.clamp_labels = d.get("clamp_labels", False)
    s.discriminative = d.get("discriminative", 0.0)
    return s


cdef object path_counts(const PathCounts *paths):
    return np.array([paths.counts[i] for i in range(16)], dtype=np.int64)


def train_epoch(generator, const data_t[:, :] data, const Py_ssize_t[::1] order,
                Py_ssize_t start, Py_ssize_t stop, floating[:, ::1] W,
                floating[::1] b, floating[::1] c, floating[::1] log_var, int visible,
                Py_ssize_t batch_size, dict settings, bint per_sample, bint binary,
                floating[:, ::1] chains, floating[::1] velocity, floating[::1] offsets,
                int n_labels=0):
    """Train on rows ``start:stop`` of ``data`` (in ``order`` if it is not
    empty), in place; return the path counts.

    ``per_sample`` runs the per-sample CD-k update (the reference algorithm
    for k = 1), a chunk of 0/1 rows at a time when ``binary`` says every
    value in ``data`` is 0 or 1. Otherwise each batch (the last one
    possibly shorter) makes one minibatch update with ``settings`` (the
    fields of ``Settings``); ``chains`` (PCD), ``velocity`` (momentum) and
    ``offsets`` (centering) are used when they are not empty. ``log_var``
    holds log sigma^2 of Gaussian visible units (``visible`` 1), else it is
    empty. The last ``n_labels`` visible units are a softmax group (or
    none, 0). The arguments are validated by the caller.
    """
    cdef Model m = model_of(W, b, c, log_var, visible, n_labels)
    cdef Settings s = settings_of(settings, per_sample)
    cdef TrainingState state
    cdef int N = m.n_visible, n_chains = <int> chains.shape[0]
    cdef bitgen_t *rng = bitgen_of(generator)
    cdef Py_ssize_t pos = start, n
    cdef object dtype = np.float64 if floating is double else np.float32
    cdef Py_ssize_t step = policy().online_chunk if per_sample and binary else batch_size
    cdef floating[::1] batch = np.empty(step * N, dtype=dtype)
    cdef const Py_ssize_t *order_ptr = &order[0] if order.shape[0] > 0 else NULL
    cdef Workspace *ws
    cdef int status = STATUS_OK
    memset(&state, 0, sizeof(TrainingState))
    state.n_chains = n_chains
    state.chains = &chains[0, 0] if n_chains > 0 else NULL
    state.velocity = &velocity[0] if velocity.shape[0] > 0 else NULL
    state.offsets = &offsets[0] if offsets.shape[0] > 0 else NULL
    if stop <= start:
        return path_counts(workspace_paths(NULL)) if False else np.zeros(16, np.int64)
    ws = workspace_new(&m, &s, <int> step, n_chains)
    if ws == NULL:
        raise MemoryError("cannot allocate the training workspace")
    try:
        with generator.bit_generator.lock, nogil:
            while pos < stop and status == STATUS_OK:
                n = min(step, stop - pos)
                load_rows(data, order_ptr, pos, n, &batch[0])
                status = train(ws, rng, &m, &s, &state, &batch[0], <int> n, binary)
                pos += n
        check(status)
        return path_counts(workspace_paths(ws))
    finally:
        workspace_free(ws)


cdef tuple point_clamp(Clamp *clamp, clamp_mask, clamp_values, int N, dtype):
    """Point ``clamp`` at the mask (uint8) and values (the model's dtype), each
    of one row (every chain's: stride 0) or one per chain; no clamp for a
    None mask. Returns the arrays, which must outlive the clamp's use."""
    memset(clamp, 0, sizeof(Clamp))
    if clamp_mask is None:
        return ()
    if np.asarray(clamp_values).dtype != dtype:
        raise TypeError(f"clamp_values must have the model's dtype {dtype}")
    mask = np.ascontiguousarray(np.atleast_2d(clamp_mask), dtype=np.uint8)
    values = np.ascontiguousarray(np.atleast_2d(clamp_values))
    clamp.mask = <const uint8_t *> <size_t> mask.ctypes.data
    clamp.mask_stride = N if mask.shape[0] > 1 else 0
    clamp.values = <const void *> <size_t> values.ctypes.data
    clamp.values_stride = N if values.shape[0] > 1 else 0
    return mask, values


def gibbs_chains(generator, floating[:, ::1] V, const floating[:, ::1] W,
                 const floating[::1] b, const floating[::1] c, const floating[::1] log_var,
                 int visible, int n_steps, double beta=1.0, clamp_mask=None,
                 clamp_values=None, int n_labels=0):
    """Run ``n_steps`` Gibbs sweeps on the chains in ``V`` (n x N), in place,
    at inverse temperature ``beta``; where ``clamp_mask`` (uint8, n x N or
    N) is nonzero the units keep ``clamp_values`` (the same shape, the
    model's dtype). Returns the path counts."""
    cdef Model m = model_of(W, b, c, log_var, visible, n_labels)
    cdef int n = <int> V.shape[0]
    cdef bitgen_t *rng = bitgen_of(generator)
    cdef Clamp clamp
    cdef Workspace *ws
    cdef int status
    held = point_clamp(&clamp, clamp_mask, clamp_values, m.n_visible, np.asarray(W).dtype)
    if n == 0 or n_steps == 0:
        return np.zeros(16, np.int64)
    ws = sampler_workspace_new(&m, n)
    if ws == NULL:
        raise MemoryError("cannot allocate the sampling workspace")
    try:
        with generator.bit_generator.lock, nogil:
            status = sample(ws, rng, &m, &V[0, 0], n, n_steps, beta,
                            &clamp if clamp.mask != NULL else NULL)
        check(status)
        return path_counts(workspace_paths(ws))
    finally:
        workspace_free(ws)


def tempering_chains(generator, floating[:, :, ::1] V, const floating[:, ::1] W,
                     const floating[::1] b, const floating[::1] c,
                     const floating[::1] log_var, int visible, int n_steps,
                     const double[::1] betas, int parity, long[::1] accepted,
                     long[::1] attempted, clamp_mask=None, clamp_values=None,
                     int n_labels=0):
    """Run ``n_steps`` sweeps of parallel tempering on ``V`` (R x n x N:
    block r holds the chains at ``betas[r]``), in place, adding each
    neighbouring pair's swaps to ``accepted`` and ``attempted`` (R - 1
    each); clamping as :func:`gibbs_chains`. Returns the parity the next
    call starts with."""
    cdef Model m = model_of(W, b, c, log_var, visible, n_labels)
    cdef bitgen_t *rng = bitgen_of(generator)
    cdef Clamp clamp
    cdef Ladder ladder
    cdef int status
    if (V.shape[0] != betas.shape[0] or accepted.shape[0] < V.shape[0] - 1
            or attempted.shape[0] < V.shape[0] - 1):
        raise ValueError("V, betas, accepted and attempted disagree on the number of "
                         "temperatures")
    held = point_clamp(&clamp, clamp_mask, clamp_values, m.n_visible, np.asarray(W).dtype)
    if V.shape[1] == 0 or n_steps == 0:
        return parity
    ladder.n_temperatures = <int> V.shape[0]
    ladder.betas = &betas[0]
    ladder.parity = parity
    ladder.accepted = &accepted[0] if accepted.shape[0] > 0 else NULL
    ladder.attempted = &attempted[0] if attempted.shape[0] > 0 else NULL
    with generator.bit_generator.lock, nogil:
        status = temper(rng, &m, &V[0, 0, 0], <int> V.shape[1], n_steps, &ladder,
                        &clamp if clamp.mask != NULL else NULL)
    check(status)
    return ladder.parity


def annealing(generator, floating[:, ::1] V, const floating[:, ::1] W, const floating[::1] b,
              const floating[::1] c, const floating[::1] log_var, int visible,
              const floating[::1] base_bias, const double[::1] betas, double[::1] log_w,
              bint transition_at_end):
    """AIS steps through ``betas`` on the runs in ``V`` (n x N), in place,
    adding to ``log_w`` (n); ``base_bias`` (N) is the base model's visible
    biases, empty for Gaussian visible units (see ``crbm.kernels.anneal``)."""
    cdef Model m = model_of(W, b, c, log_var, visible, 0)
    cdef bitgen_t *rng = bitgen_of(generator)
    cdef Annealing a
    cdef int status
    if log_w.shape[0] != V.shape[0] or betas.shape[0] < 2 or (
            base_bias.shape[0] not in (0, V.shape[1])):
        raise ValueError("V, log_w, betas and base_bias disagree on their sizes")
    if V.shape[0] == 0:
        return
    memset(&a, 0, sizeof(Annealing))
    a.betas, a.n_betas = &betas[0], <int> betas.shape[0]
    a.base_bias = <const void *> &base_bias[0] if base_bias.shape[0] > 0 else NULL
    a.transition_at_end = transition_at_end
    with generator.bit_generator.lock, nogil:
        status = anneal(rng, &m, &V[0, 0], <int> V.shape[0], &a, &log_w[0])
    check(status)


def random_binary(generator, floating[:, ::1] out):
    """Fill ``out`` with independent fair coin flips (0 or 1)."""
    cdef Py_ssize_t i, size = out.shape[0] * out.shape[1]
    if size == 0:
        return
    cdef floating *p = &out[0, 0]
    cdef bitgen_t *rng = bitgen_of(generator)
    with generator.bit_generator.lock, nogil:
        for i in range(size):
            p[i] = 0.5
        bernoulli(rng, p, p, size)


def random_gaussian(generator, floating[:, ::1] out, const floating[::1] mean,
                    const floating[::1] log_var):
    """Fill each row of ``out`` with independent draws of N(mean, exp(log_var)),
    one key for all of them (positions r * N + j of its normal stream)."""
    cdef Py_ssize_t i, j, rows = out.shape[0], N = out.shape[1]
    if rows == 0 or N == 0:
        return
    cdef bitgen_t *rng = bitgen_of(generator)
    cdef floating[::1] std = np.empty(N, dtype=np.float64 if floating is double else np.float32)
    cdef uint64_t key
    if floating is double:
        exp_scaled_d(&log_var[0], 0.5, &std[0], N)
    else:
        exp_scaled_f(&log_var[0], 0.5, &std[0], N)
    with generator.bit_generator.lock, nogil:
        key = rng.next_uint64(rng.state)
        normal_stream(key, 0, &out[0, 0], rows * N)
        for i in range(rows):
            for j in range(N):
                out[i, j] = mean[j] + std[j] * out[i, j]


def conditional_means(const floating[:, ::1] X, const floating[:, ::1] W,
                      const floating[::1] b, const floating[::1] c,
                      const floating[::1] log_var, int visible, bint hidden,
                      int n_labels=0):
    """p(h = 1 | v) for visible rows ``X`` if ``hidden``, else the visible
    means E[v | h] for hidden rows ``X``."""
    cdef Model m = model_of(W, b, c, log_var, visible, n_labels)
    cdef int n = <int> X.shape[0]
    out = np.empty((n, m.n_hidden if hidden else m.n_visible),
                   dtype=np.float64 if floating is double else np.float32)
    cdef floating[:, ::1] P = out
    cdef int status
    if n == 0:
        return out
    with nogil:
        status = kernel_conditional_means(&m, &X[0, 0], n, &P[0, 0], hidden)
    check(status)
    return out


def free_energy(const floating[:, ::1] V, const floating[:, ::1] W, const floating[::1] b,
                const floating[::1] c, const floating[::1] log_var, int visible,
                int n_labels=0):
    """``F(v)`` of each row of ``V``, in float64."""
    cdef Model m = model_of(W, b, c, log_var, visible, n_labels)
    cdef int n = <int> V.shape[0]
    out = np.empty(n, dtype=np.float64)
    cdef double[::1] F = out
    cdef int status
    if n == 0:
        return out
    with nogil:
        status = kernel_free_energy(&m, &V[0, 0], n, &F[0])
    check(status)
    return out


def sample_in_place(generator, floating[:, ::1] P):
    """Replace probabilities ``P`` by Bernoulli draws ``u < P``."""
    cdef Py_ssize_t size = P.shape[0] * P.shape[1]
    if size == 0:
        return
    cdef bitgen_t *rng = bitgen_of(generator)
    with generator.bit_generator.lock, nogil:
        bernoulli(rng, &P[0, 0], &P[0, 0], size)


def add_gaussian_noise(generator, floating[:, ::1] means, const floating[::1] log_var):
    """Replace the means of Gaussian units by draws: ``means + sigma z``, as
    the kernels draw them from means."""
    cdef Py_ssize_t i, j, rows = means.shape[0], N = means.shape[1]
    if rows == 0 or N == 0:
        return
    cdef bitgen_t *rng = bitgen_of(generator)
    cdef floating[::1] std = np.empty(N, dtype=np.float64 if floating is double else np.float32)
    cdef floating[::1] z = np.empty(rows * N, dtype=np.float64 if floating is double else np.float32)
    cdef uint64_t key
    if floating is double:
        exp_scaled_d(&log_var[0], 0.5, &std[0], N)
    else:
        exp_scaled_f(&log_var[0], 0.5, &std[0], N)
    with generator.bit_generator.lock, nogil:
        key = rng.next_uint64(rng.state)
        normal_stream(key, 0, &z[0], rows * N)
        for i in range(rows):
            for j in range(N):
                means[i, j] = means[i, j] + std[j] * z[i * N + j]


cdef inline void range_of_run(const data_t *x, Py_ssize_t n, data_t *lo, data_t *hi,
                              int *nonfinite, int *nonbinary) noexcept nogil:
    if data_t is double:
        value_range_d(x, n, lo, hi, nonfinite, nonbinary)
    elif data_t is float:
        value_range_f(x, n, lo, hi, nonfinite, nonbinary)
    else:
        value_range_u8(x, n, lo, hi, nonfinite, nonbinary)


def value_range(const data_t[:, :] data):
    """Return ``(min, max, all_finite, all_binary)`` of ``data`` in one pass.

    Non-finite values are left out of min and max; ``all_binary`` says every
    value is exactly 0 or 1. Empty data gives ``(inf, -inf, True, True)``.
    """
    cdef Py_ssize_t i, j, rows = data.shape[0], width = data.shape[1]
    cdef Py_ssize_t item = sizeof(data_t)
    cdef int nonfinite = 0, nonbinary = 0
    cdef data_t lo, hi
    if rows == 0 or width == 0:
        return INFINITY, -INFINITY, True, True
    if data_t is uint8_t:
        lo, hi = 255, 0
    else:
        lo, hi = INFINITY, -INFINITY
    with nogil:
        if data.strides[1] == item and data.strides[0] == width * item:
            range_of_run(&data[0, 0], rows * width, &lo, &hi, &nonfinite, &nonbinary)
        elif data.strides[1] == item:
            for i in range(rows):
                range_of_run(&data[i, 0], width, &lo, &hi, &nonfinite, &nonbinary)
        else:
            for i in range(rows):
                for j in range(width):
                    range_of_run(&data[i, j], 1, &lo, &hi, &nonfinite, &nonbinary)
    return <double> lo, <double> hi, nonfinite == 0, nonbinary == 0

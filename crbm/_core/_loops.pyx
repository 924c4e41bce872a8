# cython: language_level=3
"""Whole-epoch and whole-chain loops: one call from Python, GIL released.

These are the only entry points the Python facade uses for heavy work. Each
takes the model's arrays and a ``numpy.random.Generator``, holds the bit
generator's lock, and runs every batch or sweep without the GIL.
"""
import numpy as np

from crbm._kernels import _get_num_threads

from cython cimport floating

from crbm._kernels cimport (
    CDSettings, cd_batch_index_work_size, cd_batch_update, cd_batch_update_sparse,
    cd_batch_work_size, cd_sample_index_work_size,
    cd_sample_update, cd_sample_work_size, cd_samples_update_binary, cd_samples_work_size,
    gibbs_index_work_size, gibbs_sweep, gibbs_sweep_sparse, gibbs_sweeps_binary,
    gibbs_sweeps_work_size,
    hidden_probabilities, visible_probabilities)
from crbm._random cimport bernoulli, bitgen_of, bitgen_t
from libc.math cimport INFINITY
from libc.stdint cimport uint8_t, uint64_t
from libc.string cimport memcpy


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


cdef extern from "_simd.h":
    void convert_u8_d "crbm_convert_u8_d"(const uint8_t *x, double *out, Py_ssize_t n) noexcept nogil
    void convert_u8_f "crbm_convert_u8_f"(const uint8_t *x, float *out, Py_ssize_t n) noexcept nogil
    void convert_f_d "crbm_convert_f_d"(const float *x, double *out, Py_ssize_t n) noexcept nogil
    void convert_d_f "crbm_convert_d_f"(const double *x, float *out, Py_ssize_t n) noexcept nogil


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


# Minibatch products skip the zeros of visible rows with at most this
# fraction of nonzero entries, denser ones go to gemm: gemm gains on the
# sparse sums as the batch grows (crossover measured at ~0.8 nonzero for
# 10-row batches, ~0.4 for 100-row ones; N=784, M=100..500).
SPARSE_MAX_DENSITY_SMALL = 0.75
SPARSE_MAX_DENSITY_LARGE = 0.4
SMALL_BATCH = 32
# Samples per call of per-sample CD on 0/1 data: enough that handing them
# to crbm's threads costs little, few enough that their float rows take
# little of L2 beside W (16 x 784 float64 = 100 KB).
cdef Py_ssize_t ONLINE_CHUNK = 16
# After a call whose two threads were slow to meet (the cores busy with
# other work: two processes training per-sample CD at once on two cores
# took 20.7 us a sample each on two threads, 4.9 on one), this many calls
# run on one thread before two are tried again.
cdef int CONTENDED_SOLO_CALLS = 64


cdef inline int next_threads(bint contended, int threads, int *solo_calls) noexcept nogil:
    """The threads for the next two-block call after one that was (or was
    not) ``contended``, counting down ``solo_calls`` one-thread calls."""
    if contended:
        solo_calls[0] = CONTENDED_SOLO_CALLS
    if solo_calls[0] > 0:
        solo_calls[0] -= 1
        return 1
    return threads


def train_epoch(generator, const data_t[:, :] data, const Py_ssize_t[::1] order,
                Py_ssize_t start, Py_ssize_t stop, floating[:, ::1] W,
                floating[::1] b, floating[::1] c, Py_ssize_t batch_size, dict settings,
                bint reference, bint binary, floating[:, ::1] chains,
                floating[::1] velocity, floating[::1] offsets,
                max_density=None):
    """Train on rows ``start:stop`` of ``data`` (in ``order`` if it is not
    empty), in place.

    ``reference`` runs the per-sample CD-k update (batch_size 1, the
    reference algorithm for k = 1), on active units only when ``binary``
    says every value in ``data`` is 0 or 1 (then 16 samples a call of
    ``cd_samples_update_binary``, on up to two of crbm's threads, as many as
    are set when this call starts). Otherwise each batch (the last
    one possibly shorter) makes one ``cd_batch_update`` with ``settings``
    (the fields of ``CDSettings``); ``chains`` (PCD), ``velocity``
    (momentum) and ``offsets`` (centering) are used when they are not empty.
    With ``max_density`` >= 0 batches go through ``cd_batch_update_sparse``
    (products skip the zeros of visible rows no denser than that), with
    ``max_density`` < 0 through ``cd_batch_update`` (all BLAS); None picks
    the measured threshold for the batch size.
    Arguments are validated by the caller.
    """
    cdef int N = <int> W.shape[0], M = <int> W.shape[1]
    cdef int n_chains = <int> chains.shape[0]
    cdef bitgen_t *rng = bitgen_of(generator)
    cdef Py_ssize_t pos = start, n
    cdef CDSettings s = settings
    cdef double density_limit
    if max_density is None:
        density_limit = (SPARSE_MAX_DENSITY_SMALL
                         if max(batch_size, n_chains) <= SMALL_BATCH else SPARSE_MAX_DENSITY_LARGE)
    else:
        density_limit = max_density
    cdef floating lr = <floating> s.learning_rate
    cdef object dtype = np.float64 if floating is double else np.float32
    # Per-sample CD on 0/1 data takes its samples a chunk at a time.
    cdef Py_ssize_t step = ONLINE_CHUNK if reference and binary else batch_size
    cdef floating[::1] batch = np.empty(step * N, dtype=dtype)
    cdef int threads = _get_num_threads(), now_threads = threads, solo_calls = 0
    # Keys for two threads only: on one, the kernel draws them as it goes.
    cdef Py_ssize_t n_keys = (step * (1 + 2 * <Py_ssize_t> s.k)
                              if reference and binary and threads >= 2 else 1)
    cdef uint64_t[::1] keys = np.empty(n_keys, dtype=np.uint64)
    cdef bint contended
    cdef Py_ssize_t work_size = (
        cd_samples_work_size(N, M) if reference and binary
        else cd_sample_work_size(N, M) if reference
        else cd_batch_work_size(<int> batch_size, n_chains, N, M, &s))
    cdef floating[::1] work = np.empty(work_size, dtype=dtype)
    cdef int[::1] index_work = np.empty(
        cd_sample_index_work_size(N, M) if reference
        else cd_batch_index_work_size(<int> batch_size, n_chains, N, M), dtype=np.intc)
    # The kernel reads these buffers whenever the settings ask for them.
    if not reference and s.momentum != 0 and velocity.shape[0] != <Py_ssize_t> N * M + N + M:
        raise ValueError("momentum needs a velocity buffer of N*M + N + M values")
    if not reference and s.centered and offsets.shape[0] != N + M:
        raise ValueError("centering needs an offsets buffer of N + M values")
    cdef const Py_ssize_t *order_ptr = &order[0] if order.shape[0] > 0 else NULL
    cdef floating *chains_ptr = &chains[0, 0] if n_chains > 0 else NULL
    cdef floating *velocity_ptr = &velocity[0] if velocity.shape[0] > 0 else NULL
    cdef floating *offsets_ptr = &offsets[0] if offsets.shape[0] > 0 else NULL
    if stop <= start:
        return
    with generator.bit_generator.lock, nogil:
        while pos < stop:
            n = min(step, stop - pos)
            load_rows(data, order_ptr, pos, n, &batch[0])
            if reference and binary:
                contended = cd_samples_update_binary(
                    rng, &batch[0], <int> n, &W[0, 0], &b[0], &c[0], N, M, s.k, lr,
                    &work[0], &index_work[0], &keys[0] if threads >= 2 else NULL,
                    now_threads)
                now_threads = next_threads(contended, threads, &solo_calls)
            elif reference:
                cd_sample_update(rng, &batch[0], &W[0, 0], &b[0], &c[0],
                                 N, M, s.k, lr, &work[0])
            elif density_limit >= 0:
                cd_batch_update_sparse(rng, &batch[0], <int> n, &W[0, 0], &b[0], &c[0], N, M,
                                       &s, chains_ptr, n_chains, velocity_ptr, offsets_ptr,
                                       &work[0], &index_work[0], density_limit)
            else:
                cd_batch_update(rng, &batch[0], <int> n, &W[0, 0], &b[0], &c[0], N, M,
                                &s, chains_ptr, n_chains, velocity_ptr, offsets_ptr,
                                &work[0])
            pos += n


# Up to this many chains, sampling sums active rows of W and of W.T instead
# of calling gemm, in two blocks of W's rows (one a thread on two threads).
cdef int BINARY_MAX_CHAINS = 16
# Sweeps a call of gibbs_sweeps_binary: a hand-off to the second thread
# (and a buffer of keys) every this many.
cdef int SWEEPS_CHUNK = 64


def gibbs_chains(generator, floating[:, ::1] V, const floating[:, ::1] W,
                 const floating[::1] b, const floating[::1] c, int n_steps,
                 max_density=None):
    """Run ``n_steps`` Gibbs sweeps on the 0/1 chains in ``V`` (n x N), in place.

    ``max_density`` None picks the kernel: sums of rows of W and W.T
    (``gibbs_sweeps_binary``) for up to 16 chains, else ``gibbs_sweep`` (all
    BLAS). A number >= 0 runs ``gibbs_sweep_sparse`` with that limit, < 0
    ``gibbs_sweep``. Every choice draws the same numbers.
    """
    cdef int n = <int> V.shape[0], N = <int> W.shape[0], M = <int> W.shape[1]
    cdef bitgen_t *rng = bitgen_of(generator)
    cdef object dtype = np.float64 if floating is double else np.float32
    cdef floating[::1] H = np.empty(<Py_ssize_t> n * M, dtype=dtype)
    cdef bint binary = max_density is None and n <= BINARY_MAX_CHAINS
    # Many chains: BLAS's threads beat the single-threaded sums of rows
    # (1,000 chains, M=500: 0.076 s against 0.089 s on two cores, though
    # 0.14 s against 0.12 s on one).
    cdef double density_limit = -1 if max_density is None else max_density
    cdef floating[:, ::1] WT = np.ascontiguousarray(np.asarray(W).T) if binary else W
    cdef int[::1] index_work = np.empty(
        2 * max(N, M) if binary else (gibbs_index_work_size(n, N) if density_limit >= 0 else 1),
        dtype=np.intc)
    cdef floating[::1] work = np.empty(gibbs_sweeps_work_size(n, N, M) if binary else 1,
                                       dtype=dtype)
    cdef uint64_t[::1] keys = np.empty(2 * SWEEPS_CHUNK, dtype=np.uint64)
    cdef int step, sweeps, threads = _get_num_threads(), now_threads = threads, solo_calls = 0
    cdef bint contended
    if n == 0 or n_steps == 0:
        return
    with generator.bit_generator.lock, nogil:
        if binary:
            step = 0
            while step < n_steps:
                sweeps = min(SWEEPS_CHUNK, n_steps - step)
                contended = gibbs_sweeps_binary(
                    rng, &V[0, 0], n, sweeps, &W[0, 0], &WT[0, 0], &b[0], &c[0], N, M,
                    &H[0], &work[0], &index_work[0], &keys[0], now_threads)
                now_threads = next_threads(contended, threads, &solo_calls)
                step += sweeps
        else:
            for step in range(n_steps):
                if density_limit >= 0:
                    gibbs_sweep_sparse(rng, &V[0, 0], n, &W[0, 0], &b[0], &c[0], N, M, &H[0],
                                       &index_work[0], density_limit)
                else:
                    gibbs_sweep(rng, &V[0, 0], n, &W[0, 0], &b[0], &c[0], N, M, &H[0])


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


def conditional_probabilities(const floating[:, ::1] X,
                              const floating[:, ::1] W,
                              const floating[::1] bias, bint hidden):
    """p(h | v) for visible rows ``X`` if ``hidden`` else p(v | h)."""
    cdef int n = <int> X.shape[0], N = <int> W.shape[0], M = <int> W.shape[1]
    out = np.empty((n, M if hidden else N), 
                   dtype=np.float64 if floating is double else np.float32)
    cdef floating[:, ::1] P = out
    if n == 0:
        return out
    with nogil:
        if hidden:
            hidden_probabilities(&X[0, 0], n, &W[0, 0], &bias[0], &P[0, 0], N, M)
        else:
            visible_probabilities(&X[0, 0], n, &W[0, 0], &bias[0], &P[0, 0], N, M)
    return out


def sample_in_place(generator, floating[:, ::1] P):
    """Replace probabilities ``P`` by Bernoulli draws ``u < P``."""
    cdef Py_ssize_t size = P.shape[0] * P.shape[1]
    if size == 0:
        return
    cdef bitgen_t *rng = bitgen_of(generator)
    with generator.bit_generator.lock, nogil:
        bernoulli(rng, &P[0, 0], &P[0, 0], size)


cdef extern from "_simd.h":
    void value_range_d "crbm_value_range_d"(
        const double *x, Py_ssize_t n, double *lo, double *hi,
        Py_ssize_t *nonfinite, Py_ssize_t *nonbinary) noexcept nogil
    void value_range_f "crbm_value_range_f"(
        const float *x, Py_ssize_t n, float *lo, float *hi,
        Py_ssize_t *nonfinite, Py_ssize_t *nonbinary) noexcept nogil
    void value_range_u8 "crbm_value_range_u8"(
        const uint8_t *x, Py_ssize_t n, uint8_t *lo, uint8_t *hi,
        Py_ssize_t *nonfinite, Py_ssize_t *nonbinary) noexcept nogil


cdef inline void range_of_run(const data_t *x, Py_ssize_t n, data_t *lo, data_t *hi,
                              Py_ssize_t *nonfinite, Py_ssize_t *nonbinary) noexcept nogil:
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
    cdef Py_ssize_t item = sizeof(data_t), nonfinite = 0, nonbinary = 0
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

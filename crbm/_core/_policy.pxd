# Every rule that picks how a kernel runs: which products go to BLAS and
# which to crbm's own loops, when crbm's threads share the work, how work is
# split and chunked. The thresholds live in one Policy (their reasons are in
# _policy.pyx, and crbm.show_config() prints them); none of them depends on
# the number of threads, so neither do results. Kernels count the paths
# they take in a PathCounts, which the Python facade reports.
from crbm.kernels cimport PathCounts

cdef struct Policy:
    double sparse_max_density_small   # products skip zeros up to this density...
    double sparse_max_density_large   # ...or this one, for larger minibatches
    int small_batch                   # rows up to which a minibatch is small
    double gradient_max_density       # the sparse weight step's own limit
    Py_ssize_t parallel_min_work      # multiply-adds below which a step stays on one thread
    double parallel_max_density       # data above this density leaves threads to BLAS
    int dots_max_rows                 # crbm's dots for H @ W.T up to this many rows...
    Py_ssize_t dots_max_bytes         # ...against a W of at most this size
    Py_ssize_t dots_block_bytes       # rows of W the dots keep in L1 at a time
    int blocks                        # blocks of W's rows in per-sample CD and few-chain sampling
    Py_ssize_t blocks_min_work        # work per step below which blocks stay on one thread
    int binary_max_chains             # chains up to which sampling sums rows in blocks
    double sampling_max_density       # more chains: V @ W skips zeros up to this (< 0: BLAS)
    int online_chunk                  # 0/1 samples per call of per-sample CD
    int sweeps_chunk                  # sweeps per call of block sampling
    int contended_solo_calls          # one-thread calls after slow meetings

cdef const Policy *policy() noexcept nogil

# The limit on the density of the visible rows below which minibatch
# products with them skip their zeros, for a minibatch of `rows` rows.
cdef double products_max_density(int rows) noexcept nogil

# Whether a minibatch step of `work` multiply-adds on data with `nonzero`
# of `size` entries nonzero runs every product in crbm's own threads.
cdef bint own_threads(Py_ssize_t work, Py_ssize_t nonzero, Py_ssize_t size,
                      double max_density) noexcept nogil

# Parts to split a row-parallel step of `work` over `rows` rows into.
cdef int parallel_parts(Py_ssize_t work, int rows, int threads) noexcept nogil

# Whether H @ W.T for n rows (W N x M of `itemsize` bytes) goes to crbm's dots.
cdef bint visible_dots(int n, int N, int M, Py_ssize_t itemsize) noexcept nogil

# Rows of W (of `width` entries) the dots take per block.
cdef int dots_block_rows(int width, Py_ssize_t itemsize) noexcept nogil

# Whether block jobs of `work` per step run on two threads when there are two.
cdef bint blocks_together(Py_ssize_t work) noexcept nogil

# Whether Gibbs sampling of n chains of 0/1 visible states sums rows in blocks.
cdef bint block_sampling(int n) noexcept nogil

cdef enum Path:
    PATH_ONLINE_DENSE            # per-sample CD on real rows: BLAS gemv and ger
    PATH_ONLINE_BLOCKS_TOGETHER  # per-sample CD on 0/1 rows: W's row blocks on several threads
    PATH_ONLINE_BLOCKS_IN_TURN   # ... the same blocks in turn on one thread
    PATH_STEP_OWN_THREADS        # a minibatch step whose products all run on crbm's threads
    PATH_HIDDEN_SUMS             # V @ W as sums of the rows of W the nonzeros pick
    PATH_HIDDEN_BLAS             # V @ W by BLAS
    PATH_VISIBLE_DOTS            # H @ W.T by crbm's row dots
    PATH_VISIBLE_BLAS            # H @ W.T by BLAS
    PATH_GRADIENT_SUMS           # the weight step as sums of picked rows
    PATH_GRADIENT_BLAS           # the weight step by BLAS gemm
    PATH_SWEEPS_BLOCKS_TOGETHER  # Gibbs sweeps of few 0/1 chains: row blocks on several threads
    PATH_SWEEPS_BLOCKS_IN_TURN   # ... the same blocks in turn on one thread
    PATH_SWEEPS_BLAS             # Gibbs sweeps by BLAS
    PATH_SWEEPS_SUMS             # Gibbs sweeps with V @ W as sums of picked rows
    N_PATHS

cdef inline void took(PathCounts *paths, int path, long times) noexcept nogil:
    if paths != NULL:
        paths.counts[path] += times

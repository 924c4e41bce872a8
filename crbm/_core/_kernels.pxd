# The RBM kernels: the stable contract for other Cython code.
#
# All matrices are C-contiguous (row-major). For a model with N visible and
# M hidden units: W is N x M, b (visible bias) has N entries, c (hidden bias)
# has M. A batch of n visible rows V is n x N, hidden rows H are n x M.
# Every function is noexcept nogil; randomness comes from a numpy bitgen_t
# (see crbm._random.bitgen_of) whose lock the caller holds.
from cython cimport floating
from libc.stdint cimport uint64_t
from numpy.random cimport bitgen_t

cdef void sigmoid(floating *x, Py_ssize_t n) noexcept nogil

cdef void hidden_probabilities(const floating *V, int n, const floating *W,
                               const floating *c, floating *PH,
                               int N, int M) noexcept nogil

cdef void visible_probabilities(const floating *H, int n, const floating *W,
                                const floating *b, floating *PV,
                                int N, int M) noexcept nogil

cdef Py_ssize_t cd_sample_work_size(int N, int M) noexcept nogil

cdef void cd_sample_update(bitgen_t *rng, const floating *v,
                           floating *W, floating *b, floating *c,
                           int N, int M, int k, floating learning_rate,
                           floating *work) noexcept nogil

cdef Py_ssize_t cd_sample_index_work_size(int N, int M) noexcept nogil

# cd_sample_update for a visible vector of exact 0s and 1s: the same draws,
# results equal to rounding; W.T @ v sums the rows of W the active units
# pick and the weight step only touches the rows on in v or vk. WT is not
# used (pass NULL); it held a transposed copy of W in earlier versions.
# work: cd_sample_work_size(N, M); index_work: cd_sample_index_work_size(N, M) ints.
cdef void cd_sample_update_binary(bitgen_t *rng, const floating *v,
                                  floating *W, floating *WT,
                                  floating *b, floating *c,
                                  int N, int M, int k, floating learning_rate,
                                  floating *work, int *index_work) noexcept nogil
# cd_sample_update_binary (k >= 1) on each of the n 0/1 rows of V in turn, on up to
# `threads` threads (two at most, one for small models), with results that
# do not depend on the count: W is taken in two blocks of rows either way.
# work: cd_samples_work_size(N, M); index_work: cd_sample_index_work_size(N, M)
# ints; keys: room for n * (1 + 2 k) (NULL: one thread). Returns whether two
# threads ran and were slow to meet (cores busy with other work): the next
# calls had better use one.
cdef Py_ssize_t cd_samples_work_size(int N, int M) noexcept nogil
cdef bint cd_samples_update_binary(bitgen_t *rng, const floating *V, int n,
                                   floating *W, floating *b, floating *c,
                                   int N, int M, int k, floating learning_rate,
                                   floating *work, int *index_work,
                                   uint64_t *keys, int threads) noexcept nogil

# Settings of a minibatch step; a zero switches each extra off.
cdef struct CDSettings:
    int k                    # Gibbs steps (CD-k / PCD-k), >= 1
    double learning_rate
    double momentum          # needs a velocity buffer when != 0
    double weight_decay      # L2 penalty on W
    double sparsity_target   # target mean hidden activation
    double sparsity_cost     # 0: no sparsity term
    bint centered            # centering with offsets (see cd_batch_update)
    double offset_rate       # how fast the offsets follow the batch means
    bint sampled_statistics  # hidden statistics from sampled states, not p(h|v)

cdef Py_ssize_t cd_batch_work_size(int n, int n_chains, int N, int M,
                                   const CDSettings *s) noexcept nogil

cdef void cd_batch_update(bitgen_t *rng, const floating *V0, int n,
                          floating *W, floating *b, floating *c, int N, int M,
                          const CDSettings *s, floating *chains, int n_chains,
                          floating *velocity, floating *offsets,
                          floating *work) noexcept nogil

# cd_batch_update where every product with visible rows on the left skips
# their zeros (the data's, and the chains' sampled 0/1 states): V @ W sums
# the rows of W picked by the nonzero entries, the weight gradient adds to
# each row of W only the statistics of the samples whose unit is on. The
# same algorithm and draws as cd_batch_update for every setting, results
# equal to rounding. A product whose visible rows have more than
# max_density nonzero entries uses gemm instead (>= 1: never; < 0: always;
# the weight gradient also above 0.3 when max_density < 1).
# index_work holds cd_batch_index_work_size(n, n_chains, N, M) ints.
cdef Py_ssize_t cd_batch_index_work_size(int n, int n_chains, int N, int M) noexcept nogil

cdef void cd_batch_update_sparse(bitgen_t *rng, const floating *V0, int n,
                                 floating *W, floating *b, floating *c, int N, int M,
                                 const CDSettings *s, floating *chains, int n_chains,
                                 floating *velocity, floating *offsets,
                                 floating *work, int *index_work,
                                 double max_density) noexcept nogil

cdef void gibbs_sweep(bitgen_t *rng, floating *V, int n,
                      const floating *W, const floating *b, const floating *c,
                      int N, int M, floating *H) noexcept nogil

# gibbs_sweep for many chains: V @ W sums the rows of W each chain's 1s
# pick when at most max_density of V is nonzero (else gemm). Same draws,
# results equal to rounding; index_work holds gibbs_index_work_size(n, N) ints.
cdef Py_ssize_t gibbs_index_work_size(int n, int N) noexcept nogil

cdef void gibbs_sweep_sparse(bitgen_t *rng, floating *V, int n,
                             const floating *W, const floating *b, const floating *c,
                             int N, int M, floating *H, int *index_work,
                             double max_density) noexcept nogil

cdef void gibbs_sweep_binary(bitgen_t *rng, floating *V, int n,
                             const floating *W, const floating *WT,
                             const floating *b, const floating *c,
                             int N, int M, floating *H,
                             int *index_work) noexcept nogil
# `sweeps` of gibbs_sweep_binary on up to `threads` threads (two at most,
# one for small models), with results that do not depend on the count: W's
# rows are taken in two blocks either way. work: gibbs_sweeps_work_size(n,
# N, M); index_work: 2 * max(N, M) ints; keys: room for 2 * sweeps (NULL:
# one thread). Returns as cd_samples_update_binary.
cdef Py_ssize_t gibbs_sweeps_work_size(int n, int N, int M) noexcept nogil
cdef bint gibbs_sweeps_binary(bitgen_t *rng, floating *V, int n, int sweeps,
                              const floating *W, const floating *WT,
                              const floating *b, const floating *c,
                              int N, int M, floating *H, floating *work,
                              int *index_work, uint64_t *keys, int threads) noexcept nogil

# crbm's public Cython API: train and sample RBMs from other Cython code,
# without the GIL.
#
# Stability: the names declared here keep their meaning and signatures
# within a major version; new fields are added only at the end of a struct,
# so code that fills a struct by name keeps working (fill every struct with
# memset(&s, 0, sizeof(s)) first: a zero turns each extra off). Everything
# under crbm._core is private and may change in any release.
#
# A model is a Model struct of views of the caller's arrays: C-contiguous,
# all in one precision (float32 or float64). For N visible and M hidden
# units W is N x M, visible_bias has N entries, hidden_bias M; visible rows
# are n x N. Randomness comes from a numpy bit generator (bitgen_of); the
# caller holds generator.bit_generator.lock while a function draws, and the
# same draws give the same results on any number of threads.
#
# Every function is noexcept nogil and returns a Status; on an error
# nothing has changed.
from libc.stdint cimport uint8_t, uint64_t
from numpy.random cimport bitgen_t

cdef enum Precision:
    FLOAT32 = 0
    FLOAT64 = 1

cdef enum UnitKind:
    UNITS_BERNOULLI = 0      # 0/1 units: mean sigmoid(field + b)
    UNITS_GAUSSIAN = 1       # real units: N(b + field, sigma^2), coupled as v / sigma^2

cdef struct Model:
    int precision            # FLOAT32 or FLOAT64: the type of every array below
    int n_visible            # N
    int n_hidden             # M
    int visible_units        # UNITS_BERNOULLI or UNITS_GAUSSIAN
    int hidden_units         # UNITS_BERNOULLI
    void *W                  # N x M
    void *visible_bias       # N
    void *hidden_bias        # M
    void *visible_log_var    # N: log sigma^2 of Gaussian visible units; else NULL
    int n_labels             # Bernoulli visible units: the last n_labels of the N form
                             # one softmax group, a one-hot label (Larochelle & Bengio
                             # 2008); 0 for none, else >= 2. Not with per-sample CD.

cdef struct Settings:
    # One training update; a zero switches each extra off.
    bint per_sample          # the reference update: per-sample CD-k, sampled states
    int k                    # Gibbs steps (CD-k, PCD-k), >= 1
    double learning_rate
    double momentum          # needs TrainingState.velocity when != 0
    double weight_decay      # L2 penalty on W
    double sparsity_target   # target mean hidden activation
    double sparsity_cost     # 0: no sparsity term
    bint centered            # centered gradient; needs TrainingState.offsets
    double offset_rate       # how fast the offsets follow the batch means
    bint sampled_statistics  # hidden statistics from sampled states, not p(h|v)
    bint learn_variance      # Gaussian visible units: learn log sigma^2...
    double min_log_var       # ...never below this
    bint chains_from_noise   # PCD's chains restart from random states every update
                             # (non-equilibrium CD-k); TrainingState.chains ends
                             # holding the last update's negative states
    bint clamp_labels        # Model.n_labels: negative chain i keeps the label of
                             # data row i % n, so the chains sample p(v | y)
    double discriminative    # Model.n_labels, not centered: add this weight times
                             # the gradient of log p(y | x) (Larochelle & Bengio
                             # 2008's hybrid objective); 0: off

cdef struct TrainingState:
    void *chains             # PCD: n_chains x N visible states, updated; NULL for CD
    int n_chains
    void *velocity           # momentum: the steps of W, b, c (and log sigma^2): N M + N + M (+ N)
    void *offsets            # centering: visible offsets (N; unused by Gaussian units), hidden (M)

cdef struct Clamp:
    # Visible units held at given values: where mask[r * mask_stride + j] is
    # nonzero, state (r, j) is values[r * values_stride + j]. A stride of 0
    # gives every row the same mask or values.
    const uint8_t *mask
    Py_ssize_t mask_stride
    const void *values       # in the model's precision
    Py_ssize_t values_stride

cdef struct PathCounts:
    long counts[16]          # times each path ran (crbm._core._policy.PATH_NAMES)

cdef enum Status:
    STATUS_OK = 0
    STATUS_NO_MEMORY = 1      # a buffer could not be allocated
    STATUS_BAD_MODEL = 2      # a size, precision, unit type or array the model lacks
    STATUS_BAD_SETTINGS = 3   # settings this call cannot run (k < 1, per-sample CD
                              # of units that are not Bernoulli, ...)
    STATUS_TOO_MANY_ROWS = 4  # more rows or chains than the workspace was made for

cdef struct Workspace:
    # Made by workspace_new or sampler_workspace_new, freed by workspace_free;
    # one workspace serves one call at a time. Its fields are private.
    int precision, n_visible, n_hidden, visible_units, hidden_units
    int rows, n_chains
    bint sampler
    double max_density
    int solo_calls, solo_period
    void *work
    int *index_work
    uint64_t *keys
    void *WT
    void *H
    void *VI
    PathCounts paths
    int n_labels

cdef struct Ladder:
    # Parallel tempering's replicas: n_temperatures inverse temperatures,
    # betas[0] that of the distribution sampled, then decreasing (> 0 for
    # Gaussian visible units), and the swaps between neighbours r, r + 1.
    int n_temperatures
    const double *betas
    int parity               # pairs with r of this parity swap first; updated
    long *accepted           # per pair (n_temperatures - 1), added to
    long *attempted

cdef struct Annealing:
    # Annealed importance sampling between a base model (no weights, uniform
    # hidden units, visible biases base_bias) and the model, through
    # p_beta(v, h) ~ exp(-(1 - beta) E_base(v) - beta E(v, h)). Gaussian
    # visible units take base_bias NULL: their base is their own N(b, sigma^2).
    const double *betas      # n_betas inverse temperatures in [0, 1], visited in order
    int n_betas              # >= 2
    const void *base_bias    # N, in the model's precision (Bernoulli visible units)
    bint transition_at_end   # a transition at the last beta too (a run split across calls)

# The bit generator behind a numpy.random.Generator (a Python call: with the GIL).
cdef bitgen_t *bitgen_of(object generator) except NULL

cdef const char *status_message(int status) noexcept nogil

# A workspace for train() calls of up to `rows` rows with these settings (and
# n_chains PCD chains, 0 for CD); NULL if out of memory or invalid.
cdef Workspace *workspace_new(const Model *model, const Settings *settings, int rows,
                              int n_chains) noexcept nogil

# A workspace for sample() calls on up to n_chains chains of this model. It
# keeps a transposed copy of W when few-chain sampling needs one: make a new
# workspace after W changes.
cdef Workspace *sampler_workspace_new(const Model *model, int n_chains) noexcept nogil

cdef void workspace_free(Workspace *workspace) noexcept nogil

# Train on the n rows of V (in the model's precision): with
# settings.per_sample, one per-sample CD-k update per row in turn (the
# reference algorithm; Bernoulli units); otherwise one minibatch CD-k or
# PCD-k update on all n rows (state.chains for PCD). `binary` promises that
# every value of V is exactly 0 or 1, which lets the kernels skip zeros.
cdef int train(Workspace *workspace, bitgen_t *rng, Model *model, const Settings *settings,
               TrainingState *state, const void *V, int n, bint binary) noexcept nogil

# `sweeps` Gibbs sweeps v -> h -> v over the n chains in V, in place, at
# inverse temperature beta (1: the model itself); clamp (or NULL) holds
# chosen visible units at given values.
cdef int sample(Workspace *workspace, bitgen_t *rng, const Model *model, void *V, int n,
                int sweeps, double beta, const Clamp *clamp) noexcept nogil

# `sweeps` sweeps of parallel tempering, in place, over the chains in V:
# ladder.n_temperatures blocks of n rows (block r at ladder.betas[r]). Each
# sweep is a Gibbs sweep of every block, then swaps of chain i's joint state
# between blocks r and r + 1 for the r of one parity (alternating), accepted
# by the Metropolis ratio of their energies. Block 0 samples the model at
# betas[0]; clamp (or NULL) holds the same units in every block.
cdef int temper(bitgen_t *rng, const Model *model, void *V, int n, int sweeps,
                Ladder *ladder, const Clamp *clamp) noexcept nogil

# Annealed importance sampling of the n runs in V (n x N), in place: for each
# step from betas[k - 1] to betas[k], log_weights[r] += log p*_{betas[k]}(v_r)
# - log p*_{betas[k - 1]}(v_r) (the hidden units summed out), then one Gibbs
# transition v -> h -> v that leaves p_{betas[k]} invariant, none after the
# last step unless annealing.transition_at_end. Betas from 0 up to 1 from
# exact base draws give forward AIS (mean exp(log_weights) estimates
# Z / Z_base); from 1 down to 0 from model draws, reverse AIS (it estimates
# Z_base / Z). Not for models with label units.
cdef int anneal(bitgen_t *rng, const Model *model, void *V, int n,
                const Annealing *annealing, double *log_weights) noexcept nogil

# out = p(h = 1 | v) for visible rows X (hidden=True, out n x M), or the
# visible means E[v | h] for hidden rows X (hidden=False, out n x N).
cdef int conditional_means(const Model *model, const void *X, int n, void *out,
                           bint hidden) noexcept nogil

# out[r] = F(v_r), the free energy of visible row r (p(v) = exp(-F(v)) / Z),
# in double whatever the model's precision.
cdef int free_energy(const Model *model, const void *V, int n, double *out) noexcept nogil

# The paths a workspace's calls took so far, counted by crbm._core._policy.Path.
cdef const PathCounts *workspace_paths(const Workspace *workspace) noexcept nogil

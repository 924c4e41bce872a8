# Annealed importance sampling (Neal 2001): the steps of a run, forward
# (beta from 0 up to 1) or reverse (from 1 down to 0).
from cython cimport floating
from numpy.random cimport bitgen_t

from crbm._core._units cimport Units

# The intermediate distributions join a base model with no weights, uniform
# hidden units and visible biases `base_bias` (Bernoulli visible units; NULL
# for Gaussian ones, whose base is their own N(b, sigma^2)) to the model:
#   log p*_beta(v) = -(1 - beta) E_base(v) - beta E_v(v) + log sum_h exp(beta (input(v) W + c) . h).
# For k = 1 .. L - 1, log_w[r] += log p*_{betas[k]}(v_r) - log p*_{betas[k-1]}(v_r),
# then one Gibbs transition v -> h -> v that leaves p_{betas[k]} invariant
# (draws: H then V, one key each), except after the last step unless
# `transition_at_end` (a run split across calls). V (n x N) is updated.
# Scratch: X (n x M), VI (n x N, Gaussian units), scratch (2 N + n).
cdef void annealing_steps(bitgen_t *rng, const Units *visible, const Units *hidden,
                          floating *V, int n, const floating *W, int N, int M,
                          const floating *base_bias, const double *betas, int L,
                          bint transition_at_end, double *log_w, floating *X, floating *VI,
                          floating *scratch) noexcept nogil

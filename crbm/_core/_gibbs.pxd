# One Gibbs sweep v -> h -> v over n chains, for any unit types.
from cython cimport floating
from numpy.random cimport bitgen_t

from crbm._core._policy cimport PathCounts
from crbm._core._units cimport Clamp, Units

# V (n x N) in place; H (n x M) ends holding the hidden states; VI (n x N)
# is scratch for the inputs of units that transform their states (Gaussian).
# Draws: H, then V, one key each. At inverse temperature beta; clamped
# visible units keep their values. With index_work (n N + n ints) and 0/1
# visible units, V @ W sums the rows of W each chain picks when at most
# max_density of V is nonzero; otherwise every product is BLAS.
cdef void gibbs_sweep(bitgen_t *rng, const Units *visible, const Units *hidden, floating *V,
                      int n, const floating *W, int N, int M, floating *H, floating *VI,
                      double beta, const Clamp *clamp, int *index_work, double max_density,
                      PathCounts *paths) noexcept nogil

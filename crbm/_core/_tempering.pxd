# Parallel tempering: Gibbs sweeps of replicas at a ladder of inverse
# temperatures, with swaps of whole states between neighbouring replicas.
from cython cimport floating
from numpy.random cimport bitgen_t

from crbm._core._units cimport Clamp, Units

# V holds R blocks of n chains (R x n x N): block r samples exp(-betas[r] E).
# Each sweep runs a Gibbs sweep v -> h -> v of every block (draws: H then V,
# one key each, block by block), then proposes to swap the states of chain i
# of blocks r and r + 1 for every r of one parity, alternating (deterministic
# even-odd swaps; the first sweep swaps pairs of parity `*parity`, updated
# for the next call), accepted with probability min(1, exp((betas[r] -
# betas[r + 1]) (E_r - E_{r + 1}))) on the joint energies E(v, h) of the
# sweep's states (one key for all of a sweep's swaps: uniform r n + i of its
# stream). accepted[r] and attempted[r] count the swaps of pair r.
# Scratch: H (n x M), F (n x N), VI (n x N), energies ((R + 1) n doubles).
cdef void tempering_sweeps(bitgen_t *rng, const Units *visible, const Units *hidden,
                           floating *V, int n, int R, const floating *W, int N, int M,
                           const double *betas, int sweeps, const Clamp *clamp, int *parity,
                           long *accepted, long *attempted, floating *H, floating *F,
                           floating *VI, double *energies) noexcept nogil

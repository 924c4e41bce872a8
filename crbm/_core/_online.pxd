# Per-sample CD-k on real-valued rows in [0, 1] (Bernoulli units), the
# reference algorithm for rows that are not all 0/1; _blocks.online_steps
# serves 0/1 rows.
from cython cimport floating
from numpy.random cimport bitgen_t

cdef Py_ssize_t dense_online_work_size(int N, int M) noexcept nogil

# h0 ~ p(h | v); then k times v' ~ p(v | h), h' ~ p(h | v'), all states
# sampled; W += lr (v h0^T - v' h'^T) as two rank-1 ger updates, b += lr
# (v - v'), c += lr (h0 - h'). Draws: h0 (M), then per step v' (N), h' (M).
cdef void dense_online_step(bitgen_t *rng, const floating *v, floating *W, floating *b,
                            floating *c, int N, int M, int k, floating learning_rate,
                            floating *work) noexcept nogil

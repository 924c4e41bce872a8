# Products of layers with the weights, each by the path the policy picks:
# BLAS, or crbm's own row sums and row dots split by rows across crbm's
# threads. A row is computed the same way, with the same draws, whichever
# thread takes it, so results do not depend on the thread count.
#
# Shapes: W is N x M; visible rows n x N, hidden rows n x M; "input" rows
# are what a layer's units send into the product (units_input).
from cython cimport floating
from numpy.random cimport bitgen_t

from crbm._core._policy cimport PathCounts
from crbm._core._units cimport Units

# out = the states of units u drawn from means (n rows of `width`), with one
# key from rng, split across up to `threads` threads by rows.
cdef void draw_rows(bitgen_t *rng, const Units *u, const floating *means, floating *out,
                    int n, int width, int threads) noexcept nogil

# PH = means of the hidden units u for input rows VI, all in BLAS.
cdef void hidden_means(const floating *VI, int n, const floating *W, const Units *u,
                       floating *PH, int N, int M) noexcept nogil

# PV = means of the visible units u for hidden rows H: BLAS, or crbm's dots
# (own: split across `threads`; else for few rows and a W in L2).
cdef void visible_means(const floating *H, int n, const floating *W, const Units *u,
                        floating *PV, int N, int M, bint own, int threads,
                        PathCounts *paths) noexcept nogil

# V = states of the visible units u drawn for hidden rows H, with one key
# from rng: visible_means then draw_rows in one pass (the same draws and
# results), split across up to `threads` threads.
cdef void visible_states(bitgen_t *rng, const floating *H, int n, const floating *W,
                         const Units *u, floating *V, int N, int M, bint own, int threads,
                         PathCounts *paths) noexcept nogil

# PH = VI @ W and, unless u is NULL, the hidden means of it. With a row index
# (count not NULL), VI's rows are first indexed there (nonzero >= 0 says
# they already are, with that many nonzero entries) and, when at most
# max_density of VI is nonzero, the product sums rows of W (unscaled if
# `binary`), split across up to `threads` threads; otherwise BLAS.
cdef void hidden_products(const floating *VI, int n, const floating *W, const Units *u,
                          floating *PH, int N, int M, int *count, int *idx,
                          double max_density, Py_ssize_t nonzero, bint binary,
                          int threads, PathCounts *paths) noexcept nogil

# step_W = beta * step_W + lr * VV^T PP (VV rows x N, PP rows x M); sparse
# (rows of lr * PP added by VV's column index) when VV's row index is given
# and at most max_density (and the policy's gradient limit) of VV is nonzero.
# Scales PP by lr in place on that path.
cdef void weight_step(const floating *VV, int rows, floating *PP, int N, int M,
                      floating lr, floating beta, floating *step_W,
                      const int *count, const int *idx, int *tptr, int *tidx,
                      double max_density, bint binary, int threads,
                      PathCounts *paths) noexcept nogil

# sums[i] = sum_j A[i, j] B[i, j] over rows x width A and B; with `add` also
# A += B in the same pass; split by rows across up to `threads` threads.
cdef void row_products(floating *A, const floating *B, int rows, int width, floating *sums,
                       bint add, int threads) noexcept nogil

# out = scale * X.sum(axis=0) for a row-major n x width X.
cdef void column_means(const floating *X, int n, int width, floating scale,
                       floating *out) noexcept nogil

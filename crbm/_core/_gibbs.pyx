# cython: language_level=3
"""Gibbs sweeps for any unit types: the products by BLAS (or, for many 0/1
chains that are mostly zeros, by sums of rows), the rest by the unit layer.
Few 0/1 chains are sampled by ``_blocks.block_sweeps`` instead."""
from crbm._core._blas cimport NoTrans, Trans, gemm
from crbm._core._policy cimport PATH_SWEEPS_BLAS, PATH_SWEEPS_SUMS, took
from crbm._core._products cimport hidden_products
from crbm._core._threads cimport rest
from crbm._core._units cimport units_binary, units_input, units_sample


cdef void gibbs_sweep(bitgen_t *rng, const Units *visible, const Units *hidden, floating *V,
                      int n, const floating *W, int N, int M, floating *H, floating *VI,
                      double beta, const Clamp *clamp, int *index_work, double max_density,
                      PathCounts *paths) noexcept nogil:
    cdef const floating *inputs = units_input(visible, V, n, VI)
    if index_work != NULL and units_binary(visible):
        took(paths, PATH_SWEEPS_SUMS, 1)
        hidden_products(inputs, n, W, NULL, H, N, M, index_work, index_work + n, max_density,
                        -1, True, 1, NULL)
    else:
        took(paths, PATH_SWEEPS_BLAS, 1)
        rest()
        gemm(NoTrans, NoTrans, n, M, N, 1, inputs, N, W, M, 0, H, M)
    units_sample(hidden, 0, rng.next_uint64(rng.state), 0, H, n, M, beta, NULL)
    gemm(NoTrans, Trans, n, N, M, 1, H, M, W, M, 0, V, N)
    units_sample(visible, 0, rng.next_uint64(rng.state), 0, V, n, N, beta, clamp)

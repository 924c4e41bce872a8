# cython: language_level=3
"""A downstream extension: crbm's kernels cimported and run without the GIL."""
import numpy as np

from crbm._core._kernels cimport gibbs_sweep
from crbm._core._random cimport bitgen_of, bitgen_t


def run_chains(generator, double[:, ::1] V, const double[:, ::1] W,
               const double[::1] b, const double[::1] c, int n_steps):
    cdef bitgen_t *rng = bitgen_of(generator)
    cdef double[::1] H = np.empty(V.shape[0] * W.shape[1])
    cdef int step
    with generator.bit_generator.lock, nogil:
        for step in range(n_steps):
            gibbs_sweep(rng, &V[0, 0], <int> V.shape[0], &W[0, 0], &b[0], &c[0],
                        <int> W.shape[0], <int> W.shape[1], &H[0])

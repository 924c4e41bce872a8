/* The thread count of crbm's parallel loops: OpenMP's current limit (set by
 * OMP_NUM_THREADS, omp_set_num_threads or threadpoolctl), or 1 in a build
 * without OpenMP, where Cython's prange loops run serially. */
#ifndef CRBM_THREADS_H
#define CRBM_THREADS_H

#ifdef _OPENMP
#include <omp.h>
static inline int crbm_max_threads(void) { return omp_get_max_threads(); }
#else
static inline int crbm_max_threads(void) { return 1; }
#endif

#endif /* CRBM_THREADS_H */

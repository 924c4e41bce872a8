# One minibatch step of CD-k or PCD-k (see _minibatch.pyx), for any unit types.
from cython cimport floating
from numpy.random cimport bitgen_t

from crbm.kernels cimport Model, PathCounts, Settings, TrainingState

# Buffer sizes for up to n data rows and n_chains PCD chains (0: CD), for a
# visible layer of the given unit type whose last n_labels units are a
# label: work in the model's precision, index_work in ints.
cdef Py_ssize_t minibatch_work_size(int n, int n_chains, int N, int M, const Settings *s,
                                    int visible, int n_labels) noexcept nogil
cdef Py_ssize_t minibatch_index_size(int n, int n_chains, int N, int M) noexcept nogil

# One update of the model from the n rows of V0 (n x N). index_work NULL:
# every product in BLAS; else products whose visible rows have at most
# max_density nonzero entries skip the zeros (>= 1: always).
cdef void minibatch_step(bitgen_t *rng, const floating *V0, int n, const Model *m,
                         const Settings *s, TrainingState *st, floating *work,
                         int *index_work, double max_density,
                         PathCounts *paths) noexcept nogil

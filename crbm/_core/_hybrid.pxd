# The discriminative half of Larochelle & Bengio's (2008) hybrid objective
# for a joint model of pixels x and a one-hot label y: the exact gradient of
# log p(y | x), the hidden units and the label summed out. See _hybrid.pyx.
from cython cimport floating


cdef Py_ssize_t hybrid_work_size(int n, int K, int M) noexcept nogil

cdef void add_label_posterior_gradient(
    const floating *V0, int n, int N, int K, const floating *W, const floating *b,
    const floating *c, int M, floating weight, floating *positive, floating *dh,
    floating *dv, floating *label_rows, floating *work) noexcept nogil

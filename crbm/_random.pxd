# Uniform and Bernoulli draws from a numpy BitGenerator without the GIL.
#
# The streams are numpy's own: uniform_fill[double] gives exactly
# Generator.random(n), uniform_fill[float] exactly Generator.random(n,
# dtype=np.float32), so a numpy reference fed the same generator sees the
# same draws.
from cython cimport floating
from numpy.random cimport bitgen_t

cdef bitgen_t *bitgen_of(object generator) except NULL

cdef floating uniform(bitgen_t *rng, floating zero) noexcept nogil

cdef void uniform_fill(bitgen_t *rng, floating *out,
                       Py_ssize_t n) noexcept nogil

cdef void bernoulli(bitgen_t *rng, const floating *p, floating *out,
                    Py_ssize_t n) noexcept nogil

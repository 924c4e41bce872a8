# Random numbers from a numpy BitGenerator, without the GIL.
#
# uniform_fill gives numpy's own stream: uniform_fill[double] is exactly
# Generator.random(n), uniform_fill[float] exactly Generator.random(n,
# dtype=np.float32).
#
# The kernels draw from counter-based streams (_stream.h): a sampling step
# takes one 64-bit key from the generator (bitgen.next_uint64, i.e.
# BitGenerator.random_raw()) and element i of its stream is a function of
# the key and i alone (SplitMix64 output i), so any range of a stream can
# be computed on its own: the loops vectorise and can be split across
# threads without changing the result. bernoulli_stream compares p with the
# stream's uniforms; normal_stream makes standard normals from them
# (Box-Muller on uniforms 2 i and 2 i + 1).
from cython cimport floating
from libc.stdint cimport uint64_t
from numpy.random cimport bitgen_t

cdef bitgen_t *bitgen_of(object generator) except NULL

cdef floating uniform(bitgen_t *rng, floating zero) noexcept nogil

cdef void uniform_fill(bitgen_t *rng, floating *out,
                       Py_ssize_t n) noexcept nogil

cdef void bernoulli_stream(uint64_t key, uint64_t offset, const floating *p,
                           floating *out, Py_ssize_t n) noexcept nogil

cdef void normal_stream(uint64_t key, uint64_t offset, floating *out,
                        Py_ssize_t n) noexcept nogil

cdef void bernoulli(bitgen_t *rng, const floating *p, floating *out,
                    Py_ssize_t n) noexcept nogil

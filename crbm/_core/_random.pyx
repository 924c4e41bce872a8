# cython: language_level=3
"""Random numbers from a numpy ``Generator``'s ``bitgen_t``: numpy's own
uniforms and crbm's counter-based streams (``_stream.h``).

Follows numpy's ``random/_examples/cython/extending.pyx``: take the
``bitgen_t*`` from the bit generator's capsule, then draw with the bit
generator's lock held and the GIL released. The Python functions at the end
are the one way Python code computes crbm's streams (``crbm.reference``,
``crbm.sklearn``'s row hashes), so there is one SplitMix64 in crbm.
"""
from cpython.pycapsule cimport PyCapsule_GetPointer, PyCapsule_IsValid

cdef extern from "_stream.h":
    void bernoulli_stream_d "crbm_bernoulli_d"(
        uint64_t key, uint64_t offset, const double *p, double *out,
        Py_ssize_t n) noexcept nogil
    void bernoulli_stream_f "crbm_bernoulli_f"(
        uint64_t key, uint64_t offset, const float *p, float *out,
        Py_ssize_t n) noexcept nogil
    void normals_d "crbm_normals_d"(uint64_t key, uint64_t offset, double *out,
                                    Py_ssize_t n) noexcept nogil
    void normals_f "crbm_normals_f"(uint64_t key, uint64_t offset, float *out,
                                    Py_ssize_t n) noexcept nogil
    double uniform_d "crbm_uniform_d"(uint64_t key, uint64_t i) noexcept nogil
    float uniform_f "crbm_uniform_f"(uint64_t key, uint64_t i) noexcept nogil
    uint64_t mix64 "crbm_mix64"(uint64_t z) noexcept nogil

import numpy as np


cdef bitgen_t *bitgen_of(object generator) except NULL:
    """Return the ``bitgen_t*`` behind a ``numpy.random.Generator``.

    The caller keeps ``generator`` alive and holds
    ``generator.bit_generator.lock`` while drawing.
    """
    if not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"expected a numpy.random.Generator, got {type(generator).__name__}")
    capsule = generator.bit_generator.capsule
    if not PyCapsule_IsValid(capsule, "BitGenerator"):
        raise ValueError("the generator's bit generator has no valid capsule")
    return <bitgen_t *> PyCapsule_GetPointer(capsule, "BitGenerator")


cdef inline floating uniform(bitgen_t *rng, floating zero) noexcept nogil:
    """One uniform draw in [0, 1); ``zero`` only selects the precision."""
    if floating is double:
        return rng.next_double(rng.state)
    else:
        # numpy's next_float: the top 24 bits of a 32-bit draw.
        return (rng.next_uint32(rng.state) >> 8) * (1.0 / 16777216.0)


cdef void uniform_fill(bitgen_t *rng, floating *out,
                       Py_ssize_t n) noexcept nogil:
    """Fill ``out[:n]`` with uniforms in [0, 1)."""
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = uniform(rng, <floating> 0)


cdef void bernoulli_stream(uint64_t key, uint64_t offset, const floating *p,
                           floating *out, Py_ssize_t n) noexcept nogil:
    """``out[i] = 1 if u[offset + i] < p[i] else 0`` with ``u`` the uniforms of
    the counter-based stream ``key`` (see ``_simd.h``); ``out`` may be ``p``."""
    if floating is double:
        bernoulli_stream_d(key, offset, p, out, n)
    else:
        bernoulli_stream_f(key, offset, p, out, n)


cdef void normal_stream(uint64_t key, uint64_t offset, floating *out,
                        Py_ssize_t n) noexcept nogil:
    """``out[i]`` = standard normal number ``offset + i`` of stream ``key``."""
    if floating is double:
        normals_d(key, offset, out, n)
    else:
        normals_f(key, offset, out, n)


cdef void bernoulli(bitgen_t *rng, const floating *p, floating *out,
                    Py_ssize_t n) noexcept nogil:
    """``out[i] = 1 if u[i] < p[i] else 0``, a fresh uniform per element.

    Takes one 64-bit key from ``rng`` and uses the stream it names, so each
    call consumes exactly one ``next_uint64`` whatever ``n`` is. ``out`` may
    be ``p`` (in-place sampling).
    """
    bernoulli_stream(rng.next_uint64(rng.state), 0, p, out, n)


# ---------------------------------------------------------------------------
# Python-callable shims (tests, and the facade's one-off half-steps).

def uniform_memview(generator, floating[::1] out):
    """Fill ``out`` with uniforms drawn from ``generator``."""
    cdef bitgen_t *rng = bitgen_of(generator)
    if out.shape[0] == 0:
        return
    with generator.bit_generator.lock, nogil:
        uniform_fill(rng, &out[0], out.shape[0])


def bernoulli_stream_memview(uint64_t key, uint64_t offset, const floating[::1] p,
                             floating[::1] out):
    """``out = (u[offset:offset + n] < p)`` for the stream named ``key``."""
    if p.shape[0] != out.shape[0]:
        raise ValueError("p and out must have the same length")
    if p.shape[0] == 0:
        return
    with nogil:
        bernoulli_stream(key, offset, &p[0], &out[0], p.shape[0])


def bernoulli_memview(generator, const floating[::1] p, floating[::1] out):
    """``out = (u < p)`` with uniforms drawn from ``generator``."""
    if p.shape[0] != out.shape[0]:
        raise ValueError("p and out must have the same length")
    cdef bitgen_t *rng = bitgen_of(generator)
    if p.shape[0] == 0:
        return
    with generator.bit_generator.lock, nogil:
        bernoulli(rng, &p[0], &out[0], p.shape[0])


def stream_uniforms(uint64_t key, uint64_t offset, Py_ssize_t n, dtype=np.float64):
    """Uniforms ``offset`` to ``offset + n - 1`` of stream ``key``: float32
    uniforms are the top 24 bits of SplitMix64 output ``i`` times 2**-24,
    float64 ones its top 52 bits times 2**-52."""
    cdef Py_ssize_t i
    out = np.empty(n, dtype=dtype)
    cdef double[::1] d
    cdef float[::1] f
    if out.dtype == np.float64:
        d = out
        with nogil:
            for i in range(n):
                d[i] = uniform_d(key, offset + <uint64_t> i)
    elif out.dtype == np.float32:
        f = out
        with nogil:
            for i in range(n):
                f[i] = uniform_f(key, offset + <uint64_t> i)
    else:
        raise TypeError(f"dtype must be float32 or float64, got {out.dtype}")
    return out


def stream_normals(uint64_t key, uint64_t offset, Py_ssize_t n, dtype=np.float64):
    """Standard normals ``offset`` to ``offset + n - 1`` of stream ``key``, as
    the kernels draw them: number ``i`` is ``sqrt(-2 log(1 - u1)) cos(2 pi
    u2)``, computed by crbm's vectorised log and cos in the dtype's
    precision, with ``u1, u2`` the stream's uniforms ``2 i`` and ``2 i + 1``
    (float64) or the top two 24-bit fields of SplitMix64 output ``i``
    (float32; see ``crbm.reference.stream_normals``)."""
    out = np.empty(n, dtype=dtype)
    cdef double[::1] d
    cdef float[::1] f
    if out.dtype == np.float64:
        d = out
        if n > 0:
            with nogil:
                normal_stream(key, offset, &d[0], n)
    elif out.dtype == np.float32:
        f = out
        if n > 0:
            with nogil:
                normal_stream(key, offset, &f[0], n)
    else:
        raise TypeError(f"dtype must be float32 or float64, got {out.dtype}")
    return out


def mix64_array(z):
    """SplitMix64's finaliser applied to each element of a uint64 array:
    the hash behind crbm's streams (output ``i`` of key ``k`` is the
    finaliser of ``k + (i + 1) * 0x9E3779B97F4A7C15``)."""
    cdef const uint64_t[::1] values = np.ascontiguousarray(z, dtype=np.uint64).ravel()
    out = np.empty(values.shape[0], dtype=np.uint64)
    cdef uint64_t[::1] o = out
    cdef Py_ssize_t i
    with nogil:
        for i in range(values.shape[0]):
            o[i] = mix64(values[i])
    return out.reshape(np.shape(z))

# cython: language_level=3
"""Uniform and Bernoulli sampling from a numpy ``Generator``'s ``bitgen_t``.

Follows numpy's ``random/_examples/cython/extending.pyx``: take the
``bitgen_t*`` from the bit generator's capsule, then draw with the bit
generator's lock held and the GIL released.
"""
from cpython.pycapsule cimport PyCapsule_GetPointer, PyCapsule_IsValid

cdef extern from "_simd.h":
    void bernoulli_stream_d "crbm_bernoulli_d"(
        uint64_t key, uint64_t offset, const double *p, double *out,
        Py_ssize_t n) noexcept nogil
    void bernoulli_stream_f "crbm_bernoulli_f"(
        uint64_t key, uint64_t offset, const float *p, float *out,
        Py_ssize_t n) noexcept nogil

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

# cython: language_level=3
"""Python shims over the unit-type layer (``_units.pxd``), for the tests that
compare each unit type with ``crbm.reference``. Arrays are C-contiguous, all
in one precision; per-unit arrays cover the layer's columns ``first:first +
width`` of a layer of ``n`` units."""
import numpy as np

from cython cimport floating
from libc.stdint cimport uint8_t, uint64_t
from libc.string cimport memset

from crbm.kernels cimport Clamp


cdef Units layer(int kind, const floating[::1] bias, const floating[::1] std,
                 const floating[::1] precision, double log_norm, int n_softmax=0):
    cdef Units u
    memset(&u, 0, sizeof(Units))
    u.kind, u.n, u.bias, u.log_norm = kind, <int> bias.shape[0], &bias[0], log_norm
    u.n_softmax = n_softmax
    if std.shape[0] > 0:
        u.std = &std[0]
    if precision.shape[0] > 0:
        u.precision = &precision[0]
    return u


def sample(int kind, uint64_t key, uint64_t offset, floating[:, ::1] x,
           const floating[::1] bias, const floating[::1] std, double beta, int first=0,
           mask=None, values=None, int n_softmax=0):
    """units_sample in place on ``x``: fields in, states out. ``mask`` (uint8)
    and ``values`` span the whole layer, one row or one per row of ``x``:
    the kernels index them by the layer's column. ``n_softmax``: the last
    units of the layer that form a softmax group."""
    cdef Units u = layer(kind, bias, std, std, 0, n_softmax)
    cdef Clamp clamp
    cdef const uint8_t[:, ::1] m
    cdef const floating[:, ::1] v
    memset(&clamp, 0, sizeof(Clamp))
    if mask is not None:
        m = mask
        v = values
        clamp.mask, clamp.values = &m[0, 0], &v[0, 0]
        clamp.mask_stride = m.shape[1] if m.shape[0] > 1 else 0
        clamp.values_stride = v.shape[1] if v.shape[0] > 1 else 0
    if x.shape[0] > 0 and x.shape[1] > 0:
        units_sample(&u, first, key, offset, &x[0, 0], <int> x.shape[0], <int> x.shape[1], beta,
                     &clamp)


def mean(int kind, floating[:, ::1] x, const floating[::1] bias, double beta, int first=0,
         int n_softmax=0):
    """units_mean in place on ``x``: fields in, means out."""
    cdef Units u = layer(kind, bias, bias[:0], bias[:0], 0, n_softmax)
    if x.shape[0] > 0 and x.shape[1] > 0:
        units_mean(&u, first, &x[0, 0], <int> x.shape[0], <int> x.shape[1], beta)


def draw(int kind, uint64_t key, uint64_t offset, floating[:, ::1] x, const floating[::1] bias,
         const floating[::1] std, double beta, int first=0, int n_softmax=0):
    """units_draw in place on ``x``: means in, states out."""
    cdef Units u = layer(kind, bias, std, std, 0, n_softmax)
    if x.shape[0] > 0 and x.shape[1] > 0:
        units_draw(&u, first, key, offset, &x[0, 0], &x[0, 0], <int> x.shape[0],
                   <int> x.shape[1], beta, NULL)


def inputs(int kind, const floating[:, ::1] x, const floating[::1] bias,
           const floating[::1] precision):
    """units_input: what the products with W take from states ``x``."""
    cdef Units u = layer(kind, bias, precision, precision, 0)
    out = np.array(x, copy=True)
    cdef floating[:, ::1] o = out
    cdef const floating *result
    if x.shape[0] > 0:
        result = units_input(&u, &x[0, 0], <int> x.shape[0], &o[0, 0])
        if result != &o[0, 0]:
            return np.asarray(x).copy()
    return out


def energy(int kind, const floating[:, ::1] x, const floating[::1] bias,
           const floating[::1] precision):
    """units_energy of each row of states ``x``, in float64."""
    cdef Units u = layer(kind, bias, precision, precision, 0)
    out = np.empty(x.shape[0])
    cdef double[::1] o = out
    if x.shape[0] > 0:
        units_energy(&u, &x[0, 0], <int> x.shape[0], &o[0])
    return out


def log_partition(int kind, const floating[:, ::1] field, const floating[::1] bias,
                  const floating[::1] precision, double log_norm=0, int n_softmax=0):
    """units_log_partition of each row of fields, in float64."""
    cdef Units u = layer(kind, bias, precision, precision, log_norm, n_softmax)
    out = np.empty(field.shape[0])
    cdef double[::1] o = out
    if field.shape[0] > 0:
        units_log_partition(&u, &field[0, 0], <int> field.shape[0], &o[0])
    return out

# cython: language_level=3
"""How crbm's kernels choose their paths: the thresholds, their reasons,
and the names of the paths they count.

Each threshold was measured with the scripts in ``benchmarks/`` (the
performance page of the docs has the figures); a rule never looks at the
number of threads, so results do not depend on it. Tests and benchmarks
may change a threshold for a while with :func:`override`; the kernels read
the policy when a call starts.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Iterator

from libc.string cimport memset

cdef Policy _POLICY
memset(&_POLICY, 0, sizeof(Policy))
_POLICY.sparse_max_density_small = 0.75
_POLICY.sparse_max_density_large = 0.4
_POLICY.small_batch = 32
_POLICY.gradient_max_density = 0.3
_POLICY.parallel_min_work = 1 << 20
_POLICY.parallel_max_density = 0.45
_POLICY.dots_max_rows = 16
_POLICY.dots_max_bytes = 1024 * 1024
_POLICY.dots_block_bytes = 32 * 1024
_POLICY.blocks = 2
_POLICY.blocks_min_work = 8192
_POLICY.binary_max_chains = 16
_POLICY.sampling_max_density = -1
_POLICY.online_chunk = 16
_POLICY.sweeps_chunk = 64
_POLICY.contended_solo_calls = 64

#: Why each threshold has its value.
REASONS = {
    "sparse_max_density_small":
        "minibatches of up to small_batch rows sum the rows of W their nonzeros pick up "
        "to this density; gemm packs W on every call, which small products do not repay",
    "sparse_max_density_large":
        "larger minibatches, where gemm's packing pays off, skip zeros only below this",
    "small_batch": "the rows below which a minibatch counts as small",
    "gradient_max_density":
        "the sparse weight step also builds a column index and scales its rows, so it "
        "wins only at a lower density than the products",
    "parallel_min_work":
        "multiply-adds below which a row-parallel step runs on the caller: handing it to "
        "a worker costs microseconds",
    "parallel_max_density":
        "denser data goes to BLAS's threads: crbm's sums cost in proportion to the "
        "density, gemm does not",
    "dots_max_rows": "H @ W.T for up to this many rows uses crbm's row dots, not gemm...",
    "dots_max_bytes": "...when W fits in L2, where gemm would spend as long packing W",
    "dots_block_bytes": "rows of W the dots keep in L1 while every row of H passes",
    "blocks":
        "per-sample CD and few-chain sampling split W's rows into this many blocks, "
        "whatever the thread count (the count sets the order of the blocks' sums, so the "
        "bits), and up to this many threads share them; 2, the cores of the machines "
        "this was measured on",
    "blocks_min_work":
        "per-sample CD and few-chain sampling share a step between two threads only "
        "above this much work (N (M + 32) a sample, n N (M + 32) a sweep of n chains): "
        "below it the one or two meetings a step cost as much as they save",
    "binary_max_chains":
        "up to this many 0/1 chains sample by sums of rows of W and W.T, which read only "
        "the rows their active units pick; more chains go to gemm",
    "sampling_max_density":
        "more chains sample by BLAS (-1): summing rows for V @ W beats one BLAS thread "
        "but not BLAS's threads on two cores",
    "online_chunk":
        "0/1 samples per call of per-sample CD: enough that handing them to a second "
        "thread costs little, few enough that they stay in L2 beside W",
    "sweeps_chunk": "sweeps per call of block sampling (and its buffer of keys)",
    "contended_solo_calls":
        "after a call whose two threads were slow to meet (the cores busy with other "
        "work), this many calls run on one thread before two are tried again",
}

#: Names of the paths kernels count (see ``Path`` in ``_policy.pxd``), by number.
PATH_NAMES = [
    "per-sample CD, BLAS (real-valued rows)",
    "per-sample CD, blocks of W on several threads",
    "per-sample CD, blocks of W in turn",
    "minibatch step on crbm's threads",
    "V @ W by sums of rows",
    "V @ W by BLAS",
    "H @ W.T by crbm's row dots",
    "H @ W.T by BLAS",
    "weight step by sums of rows",
    "weight step by BLAS",
    "Gibbs sweeps, blocks of W on several threads",
    "Gibbs sweeps, blocks of W in turn",
    "Gibbs sweeps by BLAS",
    "Gibbs sweeps with V @ W by sums of rows",
]
assert len(PATH_NAMES) == N_PATHS <= 16

_lock = threading.Lock()


cdef const Policy *policy() noexcept nogil:
    return &_POLICY


cdef double products_max_density(int rows) noexcept nogil:
    return (_POLICY.sparse_max_density_small if rows <= _POLICY.small_batch
            else _POLICY.sparse_max_density_large)


cdef bint own_threads(Py_ssize_t work, Py_ssize_t nonzero, Py_ssize_t size,
                      double max_density) noexcept nogil:
    return (work >= _POLICY.parallel_min_work
            and nonzero <= min(max_density, _POLICY.parallel_max_density) * size)


cdef int parallel_parts(Py_ssize_t work, int rows, int threads) noexcept nogil:
    cdef int parts = threads if work >= _POLICY.parallel_min_work else 1
    return max(1, min(parts, rows))


cdef bint visible_dots(int n, int N, int M, Py_ssize_t itemsize) noexcept nogil:
    return n <= _POLICY.dots_max_rows and <Py_ssize_t> N * M * itemsize <= _POLICY.dots_max_bytes


cdef int dots_block_rows(int width, Py_ssize_t itemsize) noexcept nogil:
    return max(4, <int> (_POLICY.dots_block_bytes // (width * itemsize)))


cdef bint blocks_together(Py_ssize_t work) noexcept nogil:
    return work >= _POLICY.blocks_min_work


cdef bint block_sampling(int n) noexcept nogil:
    return n <= _POLICY.binary_max_chains


def thresholds() -> dict:
    """The thresholds now in force, by name."""
    return dict(_POLICY)


def _set(values: dict) -> None:
    global _POLICY
    current = dict(_POLICY)
    unknown = set(values) - set(current)
    if unknown:
        raise ValueError(f"unknown thresholds: {sorted(unknown)}")
    current.update(values)
    if not 1 <= current["blocks"] <= 8:
        raise ValueError(f"blocks must be between 1 and 8, got {current['blocks']}")
    _POLICY = current


@contextlib.contextmanager
def override(**values) -> Iterator[dict]:
    """Change thresholds inside a ``with`` block (tests and benchmarks):
    ``with override(binary_max_chains=0): ...`` samples every chain count
    by BLAS. Process-wide; calls that start inside the block use them."""
    with _lock:
        before = dict(_POLICY)
        _set(values)
    try:
        yield dict(_POLICY)
    finally:
        with _lock:
            _set(before)


def path_report(counts) -> dict:
    """``{path name: times}`` for the nonzero entries of a path count array."""
    return {PATH_NAMES[i]: int(c) for i, c in enumerate(counts[:N_PATHS]) if c}

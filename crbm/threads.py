"""How many threads crbm's own loops use.

Large minibatches of sparse data (MNIST-like: at most 0.45 of the visible
values nonzero, 0.4 above 32 rows; batch x visible x hidden of 2**20 or
more) are trained with every product in crbm's own loops, split by rows
across its threads.
Per-sample CD on 0/1 data and sampling of up to 16 chains take W in two
blocks of rows, one on each of two threads. Other work leaves the threading
to BLAS. Results do not depend on the number of threads: each row is
computed the same way, with the same random draws, whichever thread takes
it. A training or sampling call reads the number when it starts.

The default is the number of CPUs this process may run on, or
``$CRBM_NUM_THREADS`` when it is set when crbm is imported. With
threadpoolctl installed, ``threadpoolctl.threadpool_limits(n)`` limits
crbm's threads too (``user_api="crbm"``), and ``threadpool_info()`` lists
them.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from crbm._core import _threads

__all__ = ["get_num_threads", "set_num_threads", "num_threads"]

MAX_THREADS = 64


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def get_num_threads() -> int:
    """The number of threads crbm's own loops use (the caller's included)."""
    return _threads._get_num_threads()


def set_num_threads(n: int) -> int:
    """Use ``n`` threads (1 to 64, the caller's included) from now on.

    Returns the number in use, which is 1 on Windows (crbm's worker threads
    are POSIX threads). Takes effect for the next minibatch; a call made
    while another thread trains waits for the current step to finish.

    Raises
    ------
    TypeError
        If ``n`` is not an integer.
    ValueError
        If ``n`` is not between 1 and 64.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if not 1 <= n <= MAX_THREADS:
        raise ValueError(f"n must be between 1 and {MAX_THREADS}, got {n}")
    return _threads._set_num_threads(n)


@contextmanager
def num_threads(n: int) -> Iterator[int]:
    """Use ``n`` threads inside a ``with`` block, then go back to the
    previous number; yields the number in use.

    The number is process-wide, like BLAS's: blocks entered by several
    threads at once restore each other's numbers in whatever order they
    leave. Set it once instead when several threads train."""
    previous = get_num_threads()
    used = set_num_threads(n)
    try:
        yield used
    finally:
        set_num_threads(previous)


def _default_threads() -> int:
    value = os.environ.get("CRBM_NUM_THREADS", "").strip()
    if value:
        try:
            n = int(value)
        except ValueError:
            raise ValueError(f"CRBM_NUM_THREADS must be an integer, got {value!r}") from None
        if not 1 <= n <= MAX_THREADS:
            raise ValueError(f"CRBM_NUM_THREADS must be between 1 and {MAX_THREADS}, got {n}")
        return n
    return min(_usable_cpus(), MAX_THREADS)


def _register_with_threadpoolctl() -> None:
    """Make threadpoolctl see crbm's pool, as scikit-learn users expect:
    ``threadpool_info()`` lists it (``user_api`` "crbm") and
    ``threadpool_limits(n)`` limits it. Nothing happens without threadpoolctl
    (an optional dependency) or with one too old to take controllers."""
    try:
        import threadpoolctl
    except ImportError:
        return
    if not hasattr(threadpoolctl, "register"):  # threadpoolctl < 3.5
        return

    class CrbmController(threadpoolctl.LibController):
        user_api = "crbm"
        internal_api = "crbm"
        # The compiled module that holds the pool; the symbols tell it apart
        # from any other library whose file name starts the same way.
        filename_prefixes = ("_threads",)
        check_symbols = ("crbm_threadpool_get_num_threads", "crbm_threadpool_set_num_threads")

        def get_num_threads(self) -> int:
            return self.dynlib.crbm_threadpool_get_num_threads()

        def set_num_threads(self, num_threads: int) -> int:
            return self.dynlib.crbm_threadpool_set_num_threads(int(num_threads))

        def get_version(self) -> str:
            from crbm import __version__
            return __version__

    threadpoolctl.register(CrbmController)


set_num_threads(_default_threads())
_register_with_threadpoolctl()

# cython: language_level=3
"""crbm's worker pool: the only module that includes ``_pool.h``, so there
is one pool per process. ``crbm.threads`` is its Python face."""


cdef extern from "_pool.h":
    int pool_threads "crbm_pool_threads"
    int set_threads "crbm_set_threads"(int n) nogil
    void pool_run_parts "crbm_run_parts"(task_fn task, void *context, int parts) nogil
    bint pool_run_together "crbm_run_together"(task_fn task, void *context, int parts) nogil
    void pool_rest "crbm_pool_rest"() nogil


cdef int num_threads() noexcept nogil:
    return pool_threads


cdef void run_parts(task_fn task, void *context, int parts) noexcept nogil:
    pool_run_parts(task, context, parts)


cdef bint run_together(task_fn task, void *context, int parts) noexcept nogil:
    return pool_run_together(task, context, parts)


cdef void rest() noexcept nogil:
    pool_rest()


def _set_num_threads(int n) -> int:
    """Threads crbm's own loops may use (the caller's included); returns the
    number now in use. See ``crbm.set_num_threads``."""
    with nogil:
        n = set_threads(n)
    return n


def _get_num_threads() -> int:
    return pool_threads

# crbm's worker threads (_pool.h), for the other compiled modules.
#
# A task is split into parts, part 0 on the caller; a part is a fixed range
# of work whose results do not depend on which thread runs it, so results
# never depend on the number of threads.

ctypedef void (*task_fn)(void *context, int part, int parts) noexcept nogil

# Threads crbm's loops may use now, the caller's included.
cdef int num_threads() noexcept nogil

# task(context, p, parts) for every p < parts, at most num_threads() at a
# time; returns when all are done.
cdef void run_parts(task_fn task, void *context, int parts) noexcept nogil

# Every part on its own thread at once (for parts that wait for each other);
# False, with nothing run, when that many threads cannot be had.
cdef bint run_together(task_fn task, void *context, int parts) noexcept nogil

# Send spinning workers to sleep before something else wants the cores
# (a multithreaded BLAS call).
cdef void rest() noexcept nogil

/* crbm's worker threads: run a task split into parts, part 0 on the caller
 * and the others on long-lived workers, and wait for all of them.
 *
 * A part is a fixed range of rows, computed by one thread in the same order
 * whoever runs it, and random draws come from counter-based streams at
 * offsets fixed by the row, so results do not depend on the thread count.
 *
 * Workers wait for work spinning briefly, then on a condition variable, so
 * an idle pool costs no CPU (unlike OpenMP's default busy wait, which fought
 * OpenBLAS's threads for the cores). They block asynchronous signals, so
 * Python's handlers keep running on its own threads, and are forgotten in
 * a forked child (pthread_atfork), which starts its own when it needs them.
 * One caller uses the pool at a time; a second concurrent caller runs its
 * parts itself, one after the other, with the same results.
 *
 * On Windows every part runs on the caller.
 * Included by crbm/_core/_threads.pyx only: one pool per process.
 */
#ifndef CRBM_POOL_H
#define CRBM_POOL_H

#include "_phase.h"

typedef void (*crbm_task)(void *context, int part, int parts);

#define CRBM_MAX_THREADS 64

/* Iterations of the spin before a wait sleeps: enough to outlast the gap
   between two parallel steps of a minibatch, so that a worker is still
   awake for the next; every CRBM_SPIN_YIELD of them the spinner yields, so
   that with more threads than cores the thread it waits for gets one. */
#define CRBM_SPIN 20000

#if defined(_WIN32)

static int crbm_pool_threads = 1;
static int crbm_set_threads(int n) { (void)n; return crbm_pool_threads; }
static void crbm_pool_rest(void) {}
static void crbm_run_parts(crbm_task task, void *context, int parts) {
    for (int p = 0; p < parts; p++) task(context, p, parts);
}
static int crbm_run_together(crbm_task task, void *context, int parts) {
    (void)task; (void)context; (void)parts;
    return 0;
}

#else

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>

static struct {
    pthread_mutex_t lock;       /* guards everything below but `generation` reads */
    pthread_cond_t wake, done;
    pthread_mutex_t user;       /* held by the caller using the pool */
    int threads;                /* threads a task may use, the caller included */
    int started;                /* workers running */
    uint64_t generation;        /* bumped for each task */
    int pending;                /* worker parts not yet finished */
    crbm_task task;
    void *context;
    int parts;                  /* of the task */
    int active;                 /* workers 1 .. active take parts 1 .. active */
    int resting;                /* workers should sleep, not spin, until the next task */
} crbm_pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
               PTHREAD_MUTEX_INITIALIZER, 1, 0, 0, 0, NULL, NULL, 0, 0, 0};

/* A new worker's number and the generation it was started in (it owes
   nothing to tasks up to that one). */
typedef struct {
    int id;
    uint64_t seen;
} crbm_worker_start;
#define crbm_pool_threads (__atomic_load_n(&crbm_pool.threads, __ATOMIC_RELAXED))

static void *crbm_worker(void *arg) {
    const int id = ((crbm_worker_start *)arg)->id;
    uint64_t seen = ((crbm_worker_start *)arg)->seen;
    int needed = 1;  /* had a part in the last task: spin for the next one */
    free(arg);
    for (;;) {
        for (int i = 0; needed && i < CRBM_SPIN &&
                        __atomic_load_n(&crbm_pool.generation, __ATOMIC_ACQUIRE) == seen &&
                        !__atomic_load_n(&crbm_pool.resting, __ATOMIC_RELAXED); i++)
            crbm_pause(i);
        pthread_mutex_lock(&crbm_pool.lock);
        while (crbm_pool.generation == seen) pthread_cond_wait(&crbm_pool.wake, &crbm_pool.lock);
        seen = crbm_pool.generation;
        crbm_task task = crbm_pool.task;
        void *context = crbm_pool.context;
        const int parts = crbm_pool.parts, active = crbm_pool.active;
        pthread_mutex_unlock(&crbm_pool.lock);
        /* A worker the task does not need sleeps until the next one:
           tasks that want fewer threads than are running (per-sample CD
           and few-chain sampling take up to policy().blocks, in short
           tasks one after another) keep the others off the cores. */
        needed = id <= active;
        if (!needed) continue;
        task(context, id, parts);
        pthread_mutex_lock(&crbm_pool.lock);
        if (__atomic_sub_fetch(&crbm_pool.pending, 1, __ATOMIC_RELEASE) == 0)
            pthread_cond_signal(&crbm_pool.done);
        pthread_mutex_unlock(&crbm_pool.lock);
    }
    return NULL;
}

/* fork: the parent holds both locks across it, so no task is half-posted
   and no lock is held by a thread the child lacks; the child, whose
   workers are gone, starts over with fresh locks and starts its own
   workers when it needs them. */
static void crbm_pool_before_fork(void) {
    pthread_mutex_lock(&crbm_pool.user);
    pthread_mutex_lock(&crbm_pool.lock);
}
static void crbm_pool_after_fork_parent(void) {
    pthread_mutex_unlock(&crbm_pool.lock);
    pthread_mutex_unlock(&crbm_pool.user);
}
static void crbm_pool_after_fork_child(void) {
    pthread_mutex_t fresh_lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t fresh_cond = PTHREAD_COND_INITIALIZER;
    crbm_pool.lock = fresh_lock;
    crbm_pool.user = fresh_lock;
    crbm_pool.wake = fresh_cond;
    crbm_pool.done = fresh_cond;
    crbm_pool.started = 0;
    crbm_pool.pending = 0;
}
static pthread_once_t crbm_pool_once = PTHREAD_ONCE_INIT;
static int crbm_pool_forkable;  /* the fork handlers are registered */
static void crbm_pool_register_fork(void) {
    crbm_pool_forkable = pthread_atfork(crbm_pool_before_fork, crbm_pool_after_fork_parent,
                                        crbm_pool_after_fork_child) == 0;
}

/* Use n threads (the caller included) from now on, 1 <= n <= CRBM_MAX_THREADS;
   returns the number now in use: 1 if the fork handlers could not be
   registered, since a child could then inherit a held lock. */
static int crbm_set_threads(int n) {
    pthread_once(&crbm_pool_once, crbm_pool_register_fork);
    n = n < 1 ? 1 : n > CRBM_MAX_THREADS ? CRBM_MAX_THREADS : n;
    if (!crbm_pool_forkable) n = 1;
    pthread_mutex_lock(&crbm_pool.user);
    __atomic_store_n(&crbm_pool.threads, n, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&crbm_pool.user);
    return n;
}

/* Tell spinning workers to sleep: the caller is about to run something
   else that wants the cores, such as a multithreaded BLAS call. */
static inline void crbm_pool_rest(void) {
    __atomic_store_n(&crbm_pool.resting, 1, __ATOMIC_RELAXED);
}

/* Start workers up to number n - 1 (lock held); returns how many threads
   there are, the caller included (not fewer than n unless a start failed). */
static int crbm_start_workers(int n) {
    while (crbm_pool.started < n - 1) {
        pthread_t thread;
        pthread_attr_t attr;
        crbm_worker_start *start = malloc(sizeof *start);
        if (start == NULL) break;
        start->id = crbm_pool.started + 1;
        start->seen = crbm_pool.generation;
        sigset_t blocked, previous;
        /* Workers leave asynchronous signals (Ctrl-C...) to the threads
           Python runs; they inherit this mask from the start. */
        sigfillset(&blocked);
        sigdelset(&blocked, SIGSEGV);
        sigdelset(&blocked, SIGBUS);
        sigdelset(&blocked, SIGFPE);
        sigdelset(&blocked, SIGILL);
        sigdelset(&blocked, SIGABRT);
        sigdelset(&blocked, SIGTRAP);
        pthread_sigmask(SIG_BLOCK, &blocked, &previous);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&thread, &attr, crbm_worker, start);
        pthread_attr_destroy(&attr);
        pthread_sigmask(SIG_SETMASK, &previous, NULL);
        if (failed) {
            free(start);
            break;
        }
        crbm_pool.started++;
    }
    return crbm_pool.started + 1;
}

/* Hand parts 1 .. workers of a task to the workers (both locks held). */
static void crbm_post(crbm_task task, void *context, int parts, int workers) {
    crbm_pool.task = task;
    crbm_pool.context = context;
    crbm_pool.parts = parts;
    crbm_pool.active = workers;
    crbm_pool.pending = workers;
    __atomic_store_n(&crbm_pool.resting, 0, __ATOMIC_RELAXED);
    __atomic_add_fetch(&crbm_pool.generation, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&crbm_pool.wake);
}

/* Wait until the posted parts are done (the user lock held). */
static void crbm_wait_posted(void) {
    for (int i = 0; i < CRBM_SPIN && __atomic_load_n(&crbm_pool.pending, __ATOMIC_ACQUIRE) > 0;
         i++)
        crbm_pause(i);
    pthread_mutex_lock(&crbm_pool.lock);
    while (crbm_pool.pending > 0) pthread_cond_wait(&crbm_pool.done, &crbm_pool.lock);
    pthread_mutex_unlock(&crbm_pool.lock);
}

/* task(context, p, parts) for every p < parts, at most crbm_pool_threads at
   a time; returns when all are done. */
static void crbm_run_parts(crbm_task task, void *context, int parts) {
    int p = 1, workers;
    if (parts <= 1 || crbm_pool_threads <= 1 || pthread_mutex_trylock(&crbm_pool.user) != 0) {
        for (p = 0; p < parts; p++) task(context, p, parts);
        return;
    }
    pthread_mutex_lock(&crbm_pool.lock);
    const int threads = crbm_pool_threads;
    const int wanted = parts < threads ? parts : threads;
    const int running = crbm_start_workers(wanted);  /* more may run from an earlier call */
    workers = (running < wanted ? running : wanted) - 1;
    if (workers > 0) crbm_post(task, context, parts, workers);
    pthread_mutex_unlock(&crbm_pool.lock);
    /* The caller takes part 0 and the parts no worker got. */
    task(context, 0, parts);
    for (p = workers + 1; p < parts; p++) task(context, p, parts);
    if (workers > 0) crbm_wait_posted();
    pthread_mutex_unlock(&crbm_pool.user);
}

/* For a task whose parts wait for each other (crbm_await): every part on
   its own thread at the same time, part 0 on the caller; returns 1 when
   all are done. Returns 0 at once, having run nothing, when there are not
   that many threads to be had (fewer allowed, the pool in use by another
   caller, a worker that could not start): the caller then does the work
   another way. */
static int crbm_run_together(crbm_task task, void *context, int parts) {
    if (parts < 2 || pthread_mutex_trylock(&crbm_pool.user) != 0) return 0;
    pthread_mutex_lock(&crbm_pool.lock);
    if (crbm_pool_threads < parts || crbm_start_workers(parts) < parts) {
        pthread_mutex_unlock(&crbm_pool.lock);
        pthread_mutex_unlock(&crbm_pool.user);
        return 0;
    }
    crbm_post(task, context, parts, parts - 1);
    pthread_mutex_unlock(&crbm_pool.lock);
    task(context, 0, parts);
    crbm_wait_posted();
    pthread_mutex_unlock(&crbm_pool.user);
    return 1;
}

#endif

/* threadpoolctl's handle on the pool: crbm/threads.py registers a
   controller that finds this module among the loaded libraries by these
   two symbols and calls them through ctypes, so threadpool_info() lists
   crbm's threads and threadpool_limits() limits them as it does BLAS's. */
#if defined(_WIN32)
#define CRBM_EXPORT __declspec(dllexport)
#else
#define CRBM_EXPORT __attribute__((visibility("default")))
#endif
CRBM_EXPORT int crbm_threadpool_get_num_threads(void) { return crbm_pool_threads; }
CRBM_EXPORT int crbm_threadpool_set_num_threads(int n) {
    return crbm_set_threads(n < 1 ? 1 : n > CRBM_MAX_THREADS ? CRBM_MAX_THREADS : n);
}

#endif /* CRBM_POOL_H */

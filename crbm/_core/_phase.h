/* Phase counters: how parts of a task run together on several threads
 * (crbm_run_together in _pool.h) wait for each other. A part publishes that
 * it has reached a phase, its writes before it visible to a part that sees
 * it, and waits until another part has reached one, spinning and yielding
 * now and then so that with more threads than cores the awaited part gets
 * a core.
 */
#ifndef CRBM_PHASE_H
#define CRBM_PHASE_H

/* Every CRBM_SPIN_YIELD iterations of a spin the spinner yields. */
#define CRBM_SPIN_YIELD 256

/* A wait at least this long (in nanoseconds) means that the awaited part
   was not running, its core taken by other work: parts of one task differ
   in length by far less, and a scheduler's time slice is far longer.
   Counted in time, not spins, because a pause instruction lasts from a few
   cycles to over a hundred, by CPU. */
#define CRBM_SLOW_WAIT_NS 1000000L

#if defined(_WIN32)

/* No part runs together with another on Windows (crbm_run_together
   refuses), so nothing waits. */
static void crbm_reach(long *phase, long value) { *phase = value; }
static int crbm_await(const long *phase, long value) { (void)phase; (void)value; return 0; }

#else

#include <sched.h>
#include <time.h>

static inline void crbm_pause(int i) {
    if (i % CRBM_SPIN_YIELD == CRBM_SPIN_YIELD - 1) {
        sched_yield();
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static inline long crbm_now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000000000L + t.tv_nsec;
}

/* Publish that this part has reached `value`; wait until another part's
   counter has, and return whether that was a slow wait (CRBM_SLOW_WAIT_NS).
   The clock is read only where the spin yields, from the first yield on,
   so short waits never read it. */
static inline void crbm_reach(long *phase, long value) {
    __atomic_store_n(phase, value, __ATOMIC_RELEASE);
}
static inline int crbm_await(const long *phase, long value) {
    long since = 0;
    int slow = 0;
    for (int i = 0; __atomic_load_n(phase, __ATOMIC_ACQUIRE) < value;
         i = (i + 1) % CRBM_SPIN_YIELD) {
        if (i == CRBM_SPIN_YIELD - 1 && !slow) {
            const long now = crbm_now_ns();
            if (since == 0)
                since = now;
            else
                slow = now - since >= CRBM_SLOW_WAIT_NS;
        }
        crbm_pause(i);
    }
    return slow;
}

#endif
#endif /* CRBM_PHASE_H */

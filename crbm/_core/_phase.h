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

#if defined(_WIN32)

/* No part runs together with another on Windows (crbm_run_together
   refuses), so nothing waits. */
static void crbm_reach(long *phase, long value) { *phase = value; }
static long crbm_await(const long *phase, long value) { (void)phase; (void)value; return 0; }

#else

#include <sched.h>

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

/* Publish that this part has reached `value`; wait until another part's
   counter has, and return how long that took, in spins. */
static inline void crbm_reach(long *phase, long value) {
    __atomic_store_n(phase, value, __ATOMIC_RELEASE);
}
static inline long crbm_await(const long *phase, long value) {
    long spins = 0;
    for (int i = 0; __atomic_load_n(phase, __ATOMIC_ACQUIRE) < value;
         i = (i + 1) % CRBM_SPIN_YIELD, spins++)
        crbm_pause(i);
    return spins; /* how long it waited, in spins */
}

#endif
#endif /* CRBM_PHASE_H */

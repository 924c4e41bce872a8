/* Loops over training data: its value range, and its rows converted to the
 * model's precision (crbm/_core/_loops.pyx). */
#ifndef CRBM_DATA_H
#define CRBM_DATA_H

#include <math.h>
#include <stdint.h>
#include "_dispatch.h"

/* One pass of statistics over x[0:n]: the smallest and largest finite
   values into *lo and *hi (which hold the running values on entry), and
   *nonfinite and *nonbinary set to 1 when some value is not finite, or is
   finite but neither 0 nor 1 (left as they are otherwise). Branch-free:
   x - x is 0 exactly for finite x. Each of CRBM_LANES lanes keeps its own
   minimum and maximum, and the flags are integer ORs of x's width (I), so
   the compiler vectorises the loop without reassociating floating-point
   operations, which it may not do for a single running minimum. */
#define CRBM_LANES 16
#define CRBM_VALUE_RANGE(NAME, T, I, INF, NEG_INF)                                        \
    CRBM_SIMD_CLONES static void NAME(const T *x, ptrdiff_t n, T *lo, T *hi,              \
                                      int *nonfinite, int *nonbinary) {                   \
        T l[CRBM_LANES], h[CRBM_LANES];                                                   \
        I bad[CRBM_LANES], other[CRBM_LANES];                                             \
        for (int k = 0; k < CRBM_LANES; k++) {                                            \
            l[k] = *lo;                                                                   \
            h[k] = *hi;                                                                   \
            bad[k] = other[k] = 0;                                                        \
        }                                                                                 \
        ptrdiff_t i = 0;                                                                  \
        for (; i + CRBM_LANES <= n; i += CRBM_LANES)                                      \
            for (int k = 0; k < CRBM_LANES; k++)                                          \
                CRBM_RANGE_STEP(T, I, INF, NEG_INF, x[i + k], l[k], h[k], bad[k], other[k]) \
        for (; i < n; i++)                                                                \
            CRBM_RANGE_STEP(T, I, INF, NEG_INF, x[i], l[0], h[0], bad[0], other[0])       \
        for (int k = 0; k < CRBM_LANES; k++) {                                            \
            *lo = l[k] < *lo ? l[k] : *lo;                                                \
            *hi = h[k] > *hi ? h[k] : *hi;                                                \
            if (bad[k]) *nonfinite = 1;                                                   \
            if (other[k]) *nonbinary = 1;                                                 \
        }                                                                                 \
    }
#define CRBM_RANGE_STEP(T, I, INF, NEG_INF, X, L, H, BAD, OTHER)                          \
    {                                                                                     \
        const T v = (X);                                                                  \
        const I finite = (I)(v - v == 0);                                                 \
        const T low = finite ? v : INF, high = finite ? v : NEG_INF;                      \
        L = low < L ? low : L;                                                            \
        H = high > H ? high : H;                                                          \
        BAD |= (I)!finite;                                                                \
        OTHER |= (I)(finite & (v != 0) & (v != 1));                                       \
    }
CRBM_VALUE_RANGE(crbm_value_range_d, double, int64_t, (double)INFINITY, -(double)INFINITY)
CRBM_VALUE_RANGE(crbm_value_range_f, float, int32_t, INFINITY, -INFINITY)
CRBM_VALUE_RANGE(crbm_value_range_u8, uint8_t, uint8_t, 255, 0)

/* out[i] = x[i] for i < n, converted to the model's precision: a row of
   training data (uint8, float32 or float64) into the minibatch buffer. */
#define CRBM_CONVERT(NAME, S, T)                                                           \
    CRBM_SIMD_CLONES static void NAME(const S *CRBM_RESTRICT x, T *CRBM_RESTRICT out,     \
                                      ptrdiff_t n) {                                      \
        for (ptrdiff_t i = 0; i < n; i++) out[i] = (T)x[i];                               \
    }
CRBM_CONVERT(crbm_convert_u8_d, uint8_t, double)
CRBM_CONVERT(crbm_convert_u8_f, uint8_t, float)
CRBM_CONVERT(crbm_convert_f_d, float, double)
CRBM_CONVERT(crbm_convert_d_f, double, float)

#endif /* CRBM_DATA_H */

/* Loops over training data: its value range, and its rows converted to the
 * model's precision (crbm/_core/_loops.pyx). */
#ifndef CRBM_DATA_H
#define CRBM_DATA_H

#include <math.h>
#include "_dispatch.h"

/* One pass of statistics over x[0:n]: the smallest and largest finite
   values into *lo and *hi (which hold the running values on entry), and
   the counts of non-finite values and of finite values other than 0 and 1
   added to *nonfinite and *nonbinary. Branch-free, so it vectorises: x - x
   is 0 exactly for finite x. */
#define CRBM_VALUE_RANGE(NAME, T, INF, NEG_INF)                                           \
    CRBM_SIMD_CLONES static void NAME(const T *x, ptrdiff_t n, T *lo, T *hi,              \
                                      ptrdiff_t *nonfinite, ptrdiff_t *nonbinary) {       \
        T l = *lo, h = *hi;                                                               \
        ptrdiff_t bad = 0, other = 0;                                                     \
        for (ptrdiff_t i = 0; i < n; i++) {                                               \
            const T v = x[i];                                                             \
            const int finite = v - v == 0;                                                \
            const T low = finite ? v : INF, high = finite ? v : NEG_INF;                  \
            l = low < l ? low : l;                                                        \
            h = high > h ? high : h;                                                      \
            bad += !finite;                                                               \
            other += finite & (v != 0) & (v != 1);                                        \
        }                                                                                 \
        *lo = l;                                                                          \
        *hi = h;                                                                          \
        *nonfinite += bad;                                                                \
        *nonbinary += other;                                                              \
    }
CRBM_VALUE_RANGE(crbm_value_range_d, double, (double)INFINITY, -(double)INFINITY)
CRBM_VALUE_RANGE(crbm_value_range_f, float, INFINITY, -INFINITY)
CRBM_VALUE_RANGE(crbm_value_range_u8, uint8_t, 255, 0)

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

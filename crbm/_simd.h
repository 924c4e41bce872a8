/* crbm's element-wise loops in plain C, written so that the compiler
 * vectorises them: no calls, no branches (with -fno-trapping-math).
 * On x86-64 Linux with GCC each loop also gets an AVX2 clone, picked at load
 * time for the CPU it runs on (function multiversioning); elsewhere the
 * baseline build is used. Included by _kernels.pyx and _random.pyx.
 */
#ifndef CRBM_SIMD_H
#define CRBM_SIMD_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* MSVC's C compiler spells C99's restrict __restrict. */
#if defined(_MSC_VER)
#define CRBM_RESTRICT __restrict
#else
#define CRBM_RESTRICT restrict
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CRBM_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CRBM_SIMD_CLONES
#endif

/* exp(x) for x <= 0 in branch-free arithmetic the compiler vectorises
   (libm's exp is an opaque call that it cannot). Cody-Waite reduction
   x = n ln2 + r, |r| <= ln2/2, a Taylor polynomial for e^r (degree 13
   for double, 7 for float: truncation below half an ulp), and 2^n built
   in the exponent bits. Results below the smallest normal number are
   flushed to zero. */
static inline double crbm_exp_nonpositive(double x) {
    const double log2e = 1.4426950408889634, ln2_hi = 6.93147180369123816490e-01,
                 ln2_lo = 1.90821492927058770002e-10, shifter = 6755399441055744.0;
    double t, n, r, p, scale, xc = x < -708.0 ? -708.0 : x;
    uint64_t bits;
    t = xc * log2e + shifter;         /* round(x log2 e) in the low bits */
    n = t - shifter;
    r = (xc - n * ln2_hi) - n * ln2_lo;
    p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + 1023u) << 52;      /* 2^n: n sits in t's low bits */
    memcpy(&scale, &bits, sizeof scale);
    return x < -708.0 ? 0.0 : p * scale;
}
static inline float crbm_expf_nonpositive(float x) {
    const float log2e = 1.44269504f, ln2_hi = 0.693145752f,
                ln2_lo = 1.42860677e-06f, shifter = 12582912.0f;
    float t, n, r, p, scale, xc = x < -87.0f ? -87.0f : x;
    uint32_t bits;
    t = xc * log2e + shifter;
    n = t - shifter;
    r = (xc - n * ln2_hi) - n * ln2_lo;
    p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + 127u) << 23;
    memcpy(&scale, &bits, sizeof scale);
    return x < -87.0f ? 0.0f : p * scale;
}
/* The logistic function in place. exp only sees -|x|, so it cannot
   overflow; for x < 0 the result is e / (1 + e), not 1 - 1 / (1 + e),
   which keeps full relative precision for small probabilities. */
static inline double crbm_sigmoid1_d(double a) {
    double e = crbm_exp_nonpositive(-fabs(a)), r = 1.0 / (1.0 + e);
    return a >= 0.0 ? r : e * r;
}
static inline float crbm_sigmoid1_f(float a) {
    float e = crbm_expf_nonpositive(-fabsf(a)), r = 1.0f / (1.0f + e);
    return a >= 0.0f ? r : e * r;
}

CRBM_SIMD_CLONES static void crbm_sigmoid_d(double *x, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) x[i] = crbm_sigmoid1_d(x[i]);
}
CRBM_SIMD_CLONES static void crbm_sigmoid_f(float *x, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) x[i] = crbm_sigmoid1_f(x[i]);
}

/* x[r, j] = sigmoid(x[r, j] + bias[j]) for a row-major rows x width x: the
   bias is added in the same pass, so a product can be computed with
   beta = 0 instead of over a copy of the bias in every row. */
CRBM_SIMD_CLONES static void crbm_sigmoid_bias_d(double *x, const double *bias,
                                                 ptrdiff_t rows, ptrdiff_t width) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        double *row = x + r * width;
        for (ptrdiff_t j = 0; j < width; j++) row[j] = crbm_sigmoid1_d(row[j] + bias[j]);
    }
}
CRBM_SIMD_CLONES static void crbm_sigmoid_bias_f(float *x, const float *bias,
                                                 ptrdiff_t rows, ptrdiff_t width) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        float *row = x + r * width;
        for (ptrdiff_t j = 0; j < width; j++) row[j] = crbm_sigmoid1_f(row[j] + bias[j]);
    }
}

/* out += A[rows].sum(axis=0) for a row-major A with `width` columns: the
   product of a 0/1 vector with A, summing only the rows its 1s pick. Four
   rows per pass over out: a quarter of the loads and stores of out, which
   otherwise bound the loop. out must not overlap A. */
#define CRBM_ADD_ROWS(NAME, T)                                                        \
    CRBM_SIMD_CLONES static void NAME(T *CRBM_RESTRICT out, const T *CRBM_RESTRICT A,           \
                                      const int *rows, int n_rows, ptrdiff_t width) { \
        int t = 0;                                                                    \
        for (; t + 4 <= n_rows; t += 4) {                                             \
            const T *r0 = A + (ptrdiff_t)rows[t] * width;                             \
            const T *r1 = A + (ptrdiff_t)rows[t + 1] * width;                         \
            const T *r2 = A + (ptrdiff_t)rows[t + 2] * width;                         \
            const T *r3 = A + (ptrdiff_t)rows[t + 3] * width;                         \
            for (ptrdiff_t j = 0; j < width; j++)                                     \
                out[j] += (r0[j] + r1[j]) + (r2[j] + r3[j]);                          \
        }                                                                             \
        for (; t < n_rows; t++) {                                                     \
            const T *r0 = A + (ptrdiff_t)rows[t] * width;                             \
            for (ptrdiff_t j = 0; j < width; j++) out[j] += r0[j];                    \
        }                                                                             \
    }
CRBM_ADD_ROWS(crbm_add_rows_d, double)
CRBM_ADD_ROWS(crbm_add_rows_f, float)

/* out += sum_t x[rows[t] * x_stride] * A[rows[t]] for a row-major A with
   `width` columns: a product that skips the zero entries of x (rows lists
   the others). The scale of each row is read from x with a stride, so x can
   be a row of a matrix (stride 1) or a column of one (stride = its width).
   Four rows per pass over out, as in crbm_add_rows. out must not overlap A. */
#define CRBM_ADD_SCALED_ROWS(NAME, T)                                                 \
    CRBM_SIMD_CLONES static void NAME(T *CRBM_RESTRICT out, const T *CRBM_RESTRICT A, \
                                      const int *rows, int n_rows, ptrdiff_t width,   \
                                      const T *x, ptrdiff_t x_stride) {               \
        int t = 0;                                                                    \
        for (; t + 4 <= n_rows; t += 4) {                                             \
            const T *r0 = A + (ptrdiff_t)rows[t] * width;                             \
            const T *r1 = A + (ptrdiff_t)rows[t + 1] * width;                         \
            const T *r2 = A + (ptrdiff_t)rows[t + 2] * width;                         \
            const T *r3 = A + (ptrdiff_t)rows[t + 3] * width;                         \
            const T s0 = x[(ptrdiff_t)rows[t] * x_stride];                            \
            const T s1 = x[(ptrdiff_t)rows[t + 1] * x_stride];                        \
            const T s2 = x[(ptrdiff_t)rows[t + 2] * x_stride];                        \
            const T s3 = x[(ptrdiff_t)rows[t + 3] * x_stride];                        \
            for (ptrdiff_t j = 0; j < width; j++)                                     \
                out[j] += (s0 * r0[j] + s1 * r1[j]) + (s2 * r2[j] + s3 * r3[j]);      \
        }                                                                             \
        for (; t < n_rows; t++) {                                                     \
            const T *r0 = A + (ptrdiff_t)rows[t] * width;                             \
            const T s0 = x[(ptrdiff_t)rows[t] * x_stride];                            \
            for (ptrdiff_t j = 0; j < width; j++) out[j] += s0 * r0[j];               \
        }                                                                             \
    }
CRBM_ADD_SCALED_ROWS(crbm_add_scaled_rows_d, double)
CRBM_ADD_SCALED_ROWS(crbm_add_scaled_rows_f, float)

/* The number of nonzero entries of x[0:n]. */
#define CRBM_COUNT_NONZERO(NAME, T)                                                   \
    CRBM_SIMD_CLONES static ptrdiff_t NAME(const T *x, ptrdiff_t n) {                 \
        ptrdiff_t count = 0;                                                          \
        for (ptrdiff_t i = 0; i < n; i++) count += x[i] != 0;                         \
        return count;                                                                 \
    }
CRBM_COUNT_NONZERO(crbm_count_nonzero_d, double)
CRBM_COUNT_NONZERO(crbm_count_nonzero_f, float)

/* Write the indices i < n with x[i * stride] != 0 to out, in increasing
   order, and return how many there are. Branch-free (every index is stored,
   the count only moves past the nonzero ones), so random 0/1 patterns cost
   no mispredictions; out needs room for n indices. */
#define CRBM_NONZERO_INDICES(NAME, T)                                                 \
    static inline int NAME(const T *x, int n, ptrdiff_t stride, int *out) {           \
        int count = 0;                                                                \
        for (int i = 0; i < n; i++) {                                                 \
            out[count] = i;                                                           \
            count += x[(ptrdiff_t)i * stride] != 0;                                   \
        }                                                                             \
        return count;                                                                 \
    }
CRBM_NONZERO_INDICES(crbm_nonzero_indices_d, double)
CRBM_NONZERO_INDICES(crbm_nonzero_indices_f, float)

/* Counter-based uniforms: the i-th uniform of the stream with 64-bit key k
   is built from SplitMix64's output number i (Steele, Lea & Flood 2014):
   z = k + (i + 1) * golden, then two xor-shift-multiply rounds. Any element
   can be computed on its own, so a stream can be split across threads or
   SIMD lanes and still give the same numbers, and the loops vectorise. Float
   uniforms are the top 24 bits times 2^-24 (as numpy makes them); double
   uniforms put the top 52 bits in the mantissa of a number in [1, 2) and
   subtract 1, which needs no int64-to-double conversion (none in AVX2). */
static inline uint64_t crbm_splitmix64(uint64_t key, uint64_t i) {
    uint64_t z = key + (i + 1) * UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static inline double crbm_uniform_d(uint64_t key, uint64_t i) {
    uint64_t bits = (crbm_splitmix64(key, i) >> 12) | UINT64_C(0x3FF0000000000000);
    double u;
    memcpy(&u, &bits, sizeof u);
    return u - 1.0;
}
static inline float crbm_uniform_f(uint64_t key, uint64_t i) {
    return (float)(int32_t)(crbm_splitmix64(key, i) >> 40) * (1.0f / 16777216.0f);
}

/* out[i] = 1 if u(key, offset + i) < p[i] else 0; out may alias p. */
CRBM_SIMD_CLONES static void crbm_bernoulli_d(uint64_t key, uint64_t offset, const double *p,
                                              double *out, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++)
        out[i] = crbm_uniform_d(key, offset + (uint64_t)i) < p[i] ? 1.0 : 0.0;
}

CRBM_SIMD_CLONES static void crbm_bernoulli_f(uint64_t key, uint64_t offset, const float *p,
                                              float *out, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++)
        out[i] = crbm_uniform_f(key, offset + (uint64_t)i) < p[i] ? 1.0f : 0.0f;
}

/* x[r, j] = 1 if u(key, r * width + j) < sigmoid(x[r, j] + bias[j]) else 0:
   crbm_sigmoid_bias followed by crbm_bernoulli with offset 0, in one pass
   and with exactly the same result. */
CRBM_SIMD_CLONES static void crbm_sample_logits_d(uint64_t key, double *x, const double *bias,
                                                  ptrdiff_t rows, ptrdiff_t width) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        double *row = x + r * width;
        uint64_t base = (uint64_t)(r * width);
        for (ptrdiff_t j = 0; j < width; j++)
            row[j] = crbm_uniform_d(key, base + (uint64_t)j) < crbm_sigmoid1_d(row[j] + bias[j])
                     ? 1.0 : 0.0;
    }
}
CRBM_SIMD_CLONES static void crbm_sample_logits_f(uint64_t key, float *x, const float *bias,
                                                  ptrdiff_t rows, ptrdiff_t width) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        float *row = x + r * width;
        uint64_t base = (uint64_t)(r * width);
        for (ptrdiff_t j = 0; j < width; j++)
            row[j] = crbm_uniform_f(key, base + (uint64_t)j) < crbm_sigmoid1_f(row[j] + bias[j])
                     ? 1.0f : 0.0f;
    }
}

#endif /* CRBM_SIMD_H */

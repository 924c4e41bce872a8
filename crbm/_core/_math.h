/* Elementary functions in branch-free C that compilers vectorise: exp,
 * log and cos(2 pi u), the logistic function and the standard normal
 * transform of two uniforms. Each is a short polynomial after an exact
 * range reduction; float versions work in float. Accurate to a few ulps,
 * which is all sampling and the gradient need; none sets errno or traps.
 */
#ifndef CRBM_MATH_H
#define CRBM_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* exp(x) in branch-free arithmetic the compiler vectorises (libm's exp is
   an opaque call that it cannot). Cody-Waite reduction x = n ln2 + r,
   |r| <= ln2/2, a Taylor polynomial for e^r (degree 13 for double, 7 for
   float: truncation below half an ulp), and 2^n built in the exponent
   bits; the core takes x already clamped to the range where 2^n is a
   normal number. Results below the smallest normal number are flushed to
   zero. */
static inline double crbm_exp_core(double xc) {
    const double log2e = 1.4426950408889634, ln2_hi = 6.93147180369123816490e-01,
                 ln2_lo = 1.90821492927058770002e-10, shifter = 6755399441055744.0;
    double t, n, r, p, scale;
    uint64_t bits;
    t = xc * log2e + shifter;         /* round(x log2 e) in the low bits */
    n = t - shifter;
    r = (xc - n * ln2_hi) - n * ln2_lo;
    /* e^r = 1 + r (1 + r P(r)), P's 12 terms by Estrin's scheme: the pairs
       c_k + c_k+1 r side by side, joined by r^2, r^4 and r^8. The chain of
       dependent steps is 6 multiply-adds long instead of Horner's 13; the
       last two steps are Horner's, which keep the rounding error of the
       terms that matter most as small. */
    const double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    const double q0 = 0.5 + r * (1.0 / 6.0), q1 = 1.0 / 24.0 + r * (1.0 / 120.0),
                 q2 = 1.0 / 720.0 + r * (1.0 / 5040.0),
                 q3 = 1.0 / 40320.0 + r * (1.0 / 362880.0),
                 q4 = 1.0 / 3628800.0 + r * (1.0 / 39916800.0),
                 q5 = 1.0 / 479001600.0 + r * (1.0 / 6227020800.0);
    p = ((q0 + q1 * r2) + (q2 + q3 * r2) * r4) + (q4 + q5 * r2) * r8;
    p = p * r + 1.0;
    p = p * r + 1.0;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + 1023u) << 52;      /* 2^n: n sits in t's low bits */
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}
static inline double crbm_exp_nonpositive(double x) {
    return x < -708.0 ? 0.0 : crbm_exp_core(x < -708.0 ? -708.0 : x);
}
/* exp(x) for any x: the same arithmetic, flushed to zero below -708 and
   held at exp(709) above 709 (never inf). */
static inline double crbm_exp_d(double x) {
    return x < -708.0 ? 0.0 : crbm_exp_core(x < -708.0 ? -708.0 : x > 709.0 ? 709.0 : x);
}
static inline float crbm_expf_core(float xc) {
    const float log2e = 1.44269504f, ln2_hi = 0.693145752f,
                ln2_lo = 1.42860677e-06f, shifter = 12582912.0f;
    float t, n, r, p, scale;
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
    return p * scale;
}
static inline float crbm_expf_nonpositive(float x) {
    return x < -87.0f ? 0.0f : crbm_expf_core(x < -87.0f ? -87.0f : x);
}
static inline float crbm_exp_f(float x) {
    return x < -87.0f ? 0.0f : crbm_expf_core(x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x);
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


/* log(x) for a positive normal x: x = 2^e m with m in [sqrt(1/2), sqrt(2)),
   t = (m - 1) / (m + 1), log m = 2 atanh t = 2 t (1 + t^2/3 + t^4/5 + ...)
   (|t| <= 0.172: 10 terms for double, 5 for float reach half an ulp), and
   log x = e ln2 + log m with ln2 in two parts. */
static inline double crbm_log_d(double x) {
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    uint64_t bits, exponent_bits;
    memcpy(&bits, &x, sizeof bits);
    /* The exponent as a double without an int64 -> double conversion, which
       AVX2 lacks (it would keep the loop scalar): its bits under those of
       2^52 give 2^52 + biased exponent, exactly. */
    exponent_bits = (bits >> 52) | UINT64_C(0x4330000000000000);
    double e;
    memcpy(&e, &exponent_bits, sizeof e);
    e -= 4503599627370496.0 + 1023.0;
    bits = (bits & UINT64_C(0x000FFFFFFFFFFFFF)) | UINT64_C(0x3FF0000000000000);
    double m;
    memcpy(&m, &bits, sizeof m);
    const int high = m > 1.4142135623730951;
    m = high ? 0.5 * m : m;
    e += high ? 1.0 : 0.0;
    const double t = (m - 1.0) / (m + 1.0), t2 = t * t;
    double p = 1.0 / 19.0;
    p = p * t2 + 1.0 / 17.0;
    p = p * t2 + 1.0 / 15.0;
    p = p * t2 + 1.0 / 13.0;
    p = p * t2 + 1.0 / 11.0;
    p = p * t2 + 1.0 / 9.0;
    p = p * t2 + 1.0 / 7.0;
    p = p * t2 + 1.0 / 5.0;
    p = p * t2 + 1.0 / 3.0;
    const double log_m = 2.0 * t + 2.0 * t * (t2 * p);
    return e * ln2_hi + (log_m + e * ln2_lo);
}
static inline float crbm_log_f(float x) {
    const float ln2_hi = 0.693145752f, ln2_lo = 1.42860677e-06f;
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    int32_t e = (int32_t)(bits >> 23) - 127;
    bits = (bits & 0x007FFFFFu) | 0x3F800000u;
    float m;
    memcpy(&m, &bits, sizeof m);
    const int high = m > 1.41421356f;
    m = high ? 0.5f * m : m;
    e += high;
    const float t = (m - 1.0f) / (m + 1.0f), t2 = t * t;
    float p = 1.0f / 9.0f;
    p = p * t2 + 1.0f / 7.0f;
    p = p * t2 + 1.0f / 5.0f;
    p = p * t2 + 1.0f / 3.0f;
    const float log_m = 2.0f * t + 2.0f * t * (t2 * p);
    return (float)e * ln2_hi + (log_m + (float)e * ln2_lo);
}

/* cos(2 pi u) for u in [0, 1): by symmetry cos(2 pi a) with a = |u or
   u - 1| in [0, 1/2], then -cos(2 pi (1/2 - a)) past a = 1/4 (both
   reductions exact), and a Taylor polynomial in x = 2 pi a <= pi/2 (11
   terms for double, 7 for float: truncation below half an ulp of 1). */
static inline double crbm_cos_turns_d(double u) {
    const double two_pi = 6.283185307179586;
    double a = u <= 0.5 ? u : 1.0 - u;
    const int flip = a > 0.25;
    a = flip ? 0.5 - a : a;
    const double x = two_pi * a, x2 = x * x;
    double p = 1.0 / 2432902008176640000.0;      /* 1/20! */
    p = p * x2 - 1.0 / 6402373705728000.0;       /* 1/18! */
    p = p * x2 + 1.0 / 20922789888000.0;
    p = p * x2 - 1.0 / 87178291200.0;
    p = p * x2 + 1.0 / 479001600.0;
    p = p * x2 - 1.0 / 3628800.0;
    p = p * x2 + 1.0 / 40320.0;
    p = p * x2 - 1.0 / 720.0;
    p = p * x2 + 1.0 / 24.0;
    p = p * x2 - 0.5;
    p = p * x2 + 1.0;
    return flip ? -p : p;
}
static inline float crbm_cos_turns_f(float u) {
    const float two_pi = 6.28318531f;
    float a = u <= 0.5f ? u : 1.0f - u;
    const int flip = a > 0.25f;
    a = flip ? 0.5f - a : a;
    const float x = two_pi * a, x2 = x * x;
    float p = 1.0f / 479001600.0f;               /* 1/12! */
    p = p * x2 - 1.0f / 3628800.0f;
    p = p * x2 + 1.0f / 40320.0f;
    p = p * x2 - 1.0f / 720.0f;
    p = p * x2 + 1.0f / 24.0f;
    p = p * x2 - 0.5f;
    p = p * x2 + 1.0f;
    return flip ? -p : p;
}

/* A standard normal draw from two uniforms in [0, 1) (Box & Muller 1958):
   sqrt(-2 log(1 - u1)) cos(2 pi u2). 1 - u1 is exact and never 0. */
static inline double crbm_box_muller_d(double u1, double u2) {
    return sqrt(-2.0 * crbm_log_d(1.0 - u1)) * crbm_cos_turns_d(u2);
}
static inline float crbm_box_muller_f(float u1, float u2) {
    return sqrtf(-2.0f * crbm_log_f(1.0f - u1)) * crbm_cos_turns_f(u2);
}

/* log(1 + exp(x)), the softplus, for any x: max(x, 0) + log(1 + e^-|x|). */
static inline double crbm_softplus_d(double x) {
    return (x > 0.0 ? x : 0.0) + crbm_log_d(1.0 + crbm_exp_nonpositive(-fabs(x)));
}
static inline float crbm_softplus_f(float x) {
    return (x > 0.0f ? x : 0.0f) + crbm_log_f(1.0f + crbm_expf_nonpositive(-fabsf(x)));
}

#endif /* CRBM_MATH_H */

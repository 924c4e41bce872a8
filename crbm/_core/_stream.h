/* crbm's random streams: counter-based uniforms, Bernoulli and normal draws.
 *
 * A stream is named by a 64-bit key (one draw from a numpy bit generator);
 * its element i depends on the key and i alone, so any range of a stream
 * can be computed on its own, by any thread or SIMD lane, with the same
 * result. This is the one implementation of SplitMix64 in crbm: Python
 * code (crbm.reference, crbm.sklearn) reaches it through crbm._core._random.
 */
#ifndef CRBM_STREAM_H
#define CRBM_STREAM_H

#include "_dispatch.h"
#include "_math.h"

/* Counter-based uniforms: the i-th uniform of the stream with 64-bit key k
   is built from SplitMix64's output number i (Steele, Lea & Flood 2014):
   z = k + (i + 1) * golden, then two xor-shift-multiply rounds. Any element
   can be computed on its own, so a stream can be split across threads or
   SIMD lanes and still give the same numbers, and the loops vectorise. Float
   uniforms are the top 24 bits times 2^-24 (as numpy makes them); double
   uniforms put the top 52 bits in the mantissa of a number in [1, 2) and
   subtract 1, which needs no int64-to-double conversion (none in AVX2).
   crbm_mix64 is SplitMix64's finaliser alone, for hashing. */
static inline uint64_t crbm_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}
static inline uint64_t crbm_splitmix64(uint64_t key, uint64_t i) {
    return crbm_mix64(key + (i + 1) * UINT64_C(0x9E3779B97F4A7C15));
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


/* The i-th standard normal of stream `key`: Box-Muller on two uniforms of
   its own, so that element i is again computed on its own. A double takes
   uniforms 2 i and 2 i + 1 (52 bits each); a float the top 24 bits of
   SplitMix64 output i and the 24 below them, one output for both. */
static inline double crbm_normal_d(uint64_t key, uint64_t i) {
    return crbm_box_muller_d(crbm_uniform_d(key, 2 * i), crbm_uniform_d(key, 2 * i + 1));
}
static inline float crbm_normal_f(uint64_t key, uint64_t i) {
    const uint64_t z = crbm_splitmix64(key, i);
    const float u1 = (float)(int32_t)(z >> 40) * (1.0f / 16777216.0f);
    const float u2 = (float)(int32_t)((z >> 16) & 0xFFFFFF) * (1.0f / 16777216.0f);
    return crbm_box_muller_f(u1, u2);
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

/* out[i] = the standard normal number offset + i of stream key. */
CRBM_SIMD_CLONES static void crbm_normals_d(uint64_t key, uint64_t offset, double *out,
                                            ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) out[i] = crbm_normal_d(key, offset + (uint64_t)i);
}
CRBM_SIMD_CLONES static void crbm_normals_f(uint64_t key, uint64_t offset, float *out,
                                            ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) out[i] = crbm_normal_f(key, offset + (uint64_t)i);
}

#endif /* CRBM_STREAM_H */

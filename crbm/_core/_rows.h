/* Products that read rows of a weight matrix: sums of picked rows (a 0/1
 * or sparse vector times W), dense row dots (W times a vector) and the
 * index of a vector's nonzero entries. They run at the speed of the cache
 * W lives in, and several have a second source for AVX-512 (CRBM_V4),
 * picked when the module loads; each adds the same terms in the same order
 * as the other copies, so results do not depend on the CPU.
 *
 * Included by crbm/_core/_rows.pyx only: crbm_cpu_v4 is that module's, and
 * the others call these loops through it.
 */
#ifndef CRBM_ROWS_H
#define CRBM_ROWS_H

#include "_dispatch.h"

#if CRBM_V4_SOURCES == 1
static int crbm_cpu_v4;
__attribute__((constructor)) static void crbm_detect_v4(void) {
    __builtin_cpu_init();
    crbm_cpu_v4 = __builtin_cpu_supports("x86-64-v4");
}
/* Turn the CRBM_V4 loops off (0) or back on where the CPU has AVX-512;
   returns whether they are on. For tests that compare them with the rest. */
static int crbm_use_v4(int on) {
    crbm_cpu_v4 = on && __builtin_cpu_supports("x86-64-v4");
    return crbm_cpu_v4;
}
#elif CRBM_V4_SOURCES == 2
static int crbm_cpu_v4 = 1;
static int crbm_use_v4(int on) {
    crbm_cpu_v4 = on != 0;
    return crbm_cpu_v4;
}
#else
static const int crbm_cpu_v4 = 0;
static int crbm_use_v4(int on) { (void)on; return 0; }
#endif

/* out[:width] += sum_t x[rows[t] * x_stride] * A[rows[t], :width] for a
   row-major A whose rows are `stride` apart: a product that skips the zero
   entries of x (rows lists the others; CRBM_UNIT_SCALE takes every scale as
   1, the product of a 0/1 vector). The scale of each row is read from x
   with a stride, so x can be a row of a matrix (x_stride 1) or a column of
   one (x_stride = its width); width < stride gives a block of A's columns.
   Two loop orders:
   - crbm_add_rows streams four whole rows per pass over out: each row is
     read front to back, which the hardware prefetcher follows, so a
     product with wide rows of a W that lives in L3 (one Gibbs chain) runs
     at the memory's speed;
   - crbm_add_scaled_rows (with GCC or clang) takes out 256 bytes at a time
     and keeps it in eight 32-byte vector registers while every picked row
     is added to it, one load per vector multiply-add, for the minibatch
     products that read the same rows over and over; the rest of out (all
     of it with other compilers) is done as in crbm_add_rows.
   With AVX-512 (CRBM_V4) both keep an out of up to 16 vectors in registers
   for a single pass over the rows, adding in the same order.
   out must not overlap A. */
#if defined(__GNUC__) || defined(__clang__)
typedef float crbm_vf __attribute__((vector_size(32), aligned(4)));
typedef double crbm_vd __attribute__((vector_size(32), aligned(8)));
typedef float crbm_vf64 __attribute__((vector_size(64), aligned(4)));
typedef double crbm_vd64 __attribute__((vector_size(64), aligned(8)));
/* out[j:j + K L] in K vectors of L lanes, kept in registers while every
   picked row is added to it. */
#define CRBM_ADD_ROWS_CHUNK(T, V, SCALE, K)                                               \
    for (; j + K * L <= width; j += K * L) {                                              \
        V a[K];                                                                           \
        for (int k = 0; k < K; k++) memcpy(&a[k], out + j + k * L, sizeof(V));            \
        for (int t = 0; t < n_rows; t++) {                                                \
            const T *row = A + (ptrdiff_t)rows[t] * stride + j;                           \
            const T s = SCALE(t);                                                         \
            for (int k = 0; k < K; k++) {                                                 \
                V r;                                                                      \
                memcpy(&r, row + k * L, sizeof(V));                                       \
                a[k] += s * r;                                                            \
            }                                                                             \
        }                                                                                 \
        for (int k = 0; k < K; k++) memcpy(out + j + k * L, &a[k], sizeof(V));            \
    }
/* Chunks of 256 bytes, then one of 128 and one of 64 bytes, in vectors of
   V (32 or 64 bytes): the same columns, each summed in the same order,
   whatever the vector width. */
#define CRBM_ADD_ROWS_CHUNKS(T, V, SCALE)                                                 \
    enum { L = sizeof(V) / sizeof(T), K = 256 / sizeof(V) };                              \
    CRBM_ADD_ROWS_CHUNK(T, V, SCALE, K)                                                   \
    CRBM_ADD_ROWS_CHUNK(T, V, SCALE, K / 2)                                               \
    CRBM_ADD_ROWS_CHUNK(T, V, SCALE, K / 4)
#else
#define CRBM_ADD_ROWS_CHUNKS(T, V, SCALE)
#endif

#define CRBM_ADD_ROWS_BODY(T, V, SCALE, CHUNKS)                                           \
    ptrdiff_t j = 0;                                                                      \
    CHUNKS(T, V, SCALE)                                                                   \
    if (j == width) return;                                                               \
    out += j;                                                                             \
    A += j;                                                                               \
    width -= j;                                                                           \
    int t = 0;                                                                            \
    for (; t + 4 <= n_rows; t += 4) {                                                     \
        const T *r0 = A + (ptrdiff_t)rows[t] * stride;                                    \
        const T *r1 = A + (ptrdiff_t)rows[t + 1] * stride;                                \
        const T *r2 = A + (ptrdiff_t)rows[t + 2] * stride;                                \
        const T *r3 = A + (ptrdiff_t)rows[t + 3] * stride;                                \
        const T s0 = SCALE(t), s1 = SCALE(t + 1), s2 = SCALE(t + 2), s3 = SCALE(t + 3);   \
        for (ptrdiff_t i = 0; i < width; i++)                                             \
            out[i] += (s0 * r0[i] + s1 * r1[i]) + (s2 * r2[i] + s3 * r3[i]);              \
    }                                                                                     \
    for (; t < n_rows; t++) {                                                             \
        const T *r0 = A + (ptrdiff_t)rows[t] * stride;                                    \
        const T s0 = SCALE(t);                                                            \
        for (ptrdiff_t i = 0; i < width; i++) out[i] += s0 * r0[i];                       \
    }

#define CRBM_UNIT_SCALE(t) 1
#define CRBM_NO_CHUNKS(T, V, SCALE)
#define CRBM_X_SCALE(t) x[(ptrdiff_t)rows[t] * x_stride]
#define CRBM_ADD_ROWS_FN(NAME, T, V, TARGET, HELD)                                        \
    TARGET static void NAME(T *CRBM_RESTRICT out, const T *CRBM_RESTRICT A,               \
                            const int *rows, int n_rows, ptrdiff_t width, ptrdiff_t stride) { \
        HELD(T)                                                                           \
        CRBM_ADD_ROWS_BODY(T, V, CRBM_UNIT_SCALE, CRBM_NO_CHUNKS)                         \
    }
#define CRBM_NOT_HELD(...)
/* CASE(..., F) for F = 1 to 16: the copies of a held loop, one per count of
   whole vectors held in registers. */
#define CRBM_EACH_1_TO_16(CASE, ...)                                                      \
    CASE(__VA_ARGS__, 1) CASE(__VA_ARGS__, 2) CASE(__VA_ARGS__, 3) CASE(__VA_ARGS__, 4)   \
    CASE(__VA_ARGS__, 5) CASE(__VA_ARGS__, 6) CASE(__VA_ARGS__, 7) CASE(__VA_ARGS__, 8)   \
    CASE(__VA_ARGS__, 9) CASE(__VA_ARGS__, 10) CASE(__VA_ARGS__, 11)                      \
    CASE(__VA_ARGS__, 12) CASE(__VA_ARGS__, 13) CASE(__VA_ARGS__, 14)                     \
    CASE(__VA_ARGS__, 15) CASE(__VA_ARGS__, 16)
#ifdef CRBM_V4
/* With AVX-512, an out of at most 16 vectors and a part one is held in
   registers while every row is added (one load per vector of a row instead
   of 1.5 loads and stores), in a copy for each count F of full vectors;
   the part vector is loaded and stored under a lane mask. Each entry gets
   the same sums as in CRBM_ADD_ROWS_BODY (with the chunks, for
   crbm_add_scaled_rows). */
CRBM_V4 static inline crbm_vf64 crbm_load_part_float(const float *p, int n) {
    return (crbm_vf64)_mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p);
}
CRBM_V4 static inline void crbm_store_part_float(float *p, crbm_vf64 a, int n) {
    _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), (__m512)a);
}
CRBM_V4 static inline crbm_vd64 crbm_load_part_double(const double *p, int n) {
    return (crbm_vd64)_mm512_maskz_loadu_pd((__mmask8)((1u << n) - 1), p);
}
CRBM_V4 static inline void crbm_store_part_double(double *p, crbm_vd64 a, int n) {
    _mm512_mask_storeu_pd(p, (__mmask8)((1u << n) - 1), (__m512d)a);
}
/* The whole vectors take each group of four rows as FOURS says:
   CRBM_FOURS_PAIRED as crbm_add_rows's loop, CRBM_FOURS_IN_TURN as the
   chunks of crbm_add_scaled_rows. The part vector takes them paired, as
   the loop for the columns past the chunks does. */
#define CRBM_FOURS_PAIRED(a, w0, w1, w2, w3) a += (s0 * w0 + s1 * w1) + (s2 * w2 + s3 * w3);
#define CRBM_FOURS_IN_TURN(a, w0, w1, w2, w3)                                             \
    a += s0 * w0; a += s1 * w1; a += s2 * w2; a += s3 * w3;
#define CRBM_ROWS_HELD_F(T, V, SCALE, FOURS, F)                                           \
    case F: {                                                                             \
        V a[F + 1], w0, w1, w2, w3;                                                       \
        _Pragma("GCC unroll 16") for (int k = 0; k < F; k++)                              \
            memcpy(&a[k], out + k * L, 64);                                               \
        a[F] = crbm_load_part_##T(out + F * L, part); /* zeros if part is 0 */          \
        int t = 0;                                                                        \
        for (; t + 4 <= n_rows; t += 4) {                                                 \
            const T *r0 = A + (ptrdiff_t)rows[t] * stride;                                \
            const T *r1 = A + (ptrdiff_t)rows[t + 1] * stride;                            \
            const T *r2 = A + (ptrdiff_t)rows[t + 2] * stride;                            \
            const T *r3 = A + (ptrdiff_t)rows[t + 3] * stride;                            \
            const T s0 = SCALE(t), s1 = SCALE(t + 1), s2 = SCALE(t + 2), s3 = SCALE(t + 3); \
            _Pragma("GCC unroll 16") for (int k = 0; k < F; k++) {                        \
                memcpy(&w0, r0 + k * L, 64); memcpy(&w1, r1 + k * L, 64);                 \
                memcpy(&w2, r2 + k * L, 64); memcpy(&w3, r3 + k * L, 64);                 \
                FOURS(a[k], w0, w1, w2, w3)                                               \
            }                                                                             \
            if (part) {                                                                   \
                w0 = crbm_load_part_##T(r0 + F * L, part);                                \
                w1 = crbm_load_part_##T(r1 + F * L, part);                                \
                w2 = crbm_load_part_##T(r2 + F * L, part);                                \
                w3 = crbm_load_part_##T(r3 + F * L, part);                                \
                CRBM_FOURS_PAIRED(a[F], w0, w1, w2, w3)                                   \
            }                                                                             \
        }                                                                                 \
        for (; t < n_rows; t++) {                                                         \
            const T *r0 = A + (ptrdiff_t)rows[t] * stride;                                \
            const T s0 = SCALE(t);                                                        \
            _Pragma("GCC unroll 16") for (int k = 0; k < F; k++) {                        \
                memcpy(&w0, r0 + k * L, 64);                                              \
                a[k] += s0 * w0;                                                          \
            }                                                                             \
            if (part) a[F] += s0 * crbm_load_part_##T(r0 + F * L, part);                  \
        }                                                                                 \
        _Pragma("GCC unroll 16") for (int k = 0; k < F; k++)                              \
            memcpy(out + k * L, &a[k], 64);                                               \
        if (part) crbm_store_part_##T(out + F * L, a[F], part);                           \
        return;                                                                           \
    }
#define CRBM_ROWS_HELD(T, SCALE, FOURS)                                                   \
    {                                                                                     \
        enum { L = 64 / sizeof(T) };                                                      \
        typedef T V __attribute__((vector_size(64), aligned(sizeof(T))));                 \
        const int part = (int)(width % L);                                                \
        if (width <= 16 * L) {                                                            \
            switch (width / L) {                                                          \
                CRBM_ROWS_HELD_F(T, V, SCALE, FOURS, 0)                                   \
                CRBM_EACH_1_TO_16(CRBM_ROWS_HELD_F, T, V, SCALE, FOURS)                   \
            }                                                                             \
        }                                                                                 \
    }
#define CRBM_ADD_ROWS_HELD(T) CRBM_ROWS_HELD(T, CRBM_UNIT_SCALE, CRBM_FOURS_PAIRED)
#define CRBM_ADD_ROWS(NAME, T, V)                                                         \
    CRBM_ADD_ROWS_FN(NAME##_base, T, V, CRBM_BELOW_V4_CLONES, CRBM_NOT_HELD)              \
    CRBM_ADD_ROWS_FN(NAME##_v4, T, V, CRBM_V4, CRBM_ADD_ROWS_HELD)                        \
    static inline void NAME(T *CRBM_RESTRICT out, const T *CRBM_RESTRICT A, const int *rows, \
                            int n_rows, ptrdiff_t width, ptrdiff_t stride) {              \
        (crbm_cpu_v4 ? NAME##_v4 : NAME##_base)(out, A, rows, n_rows, width, stride);     \
    }
#else
#define CRBM_ADD_ROWS(NAME, T, V) CRBM_ADD_ROWS_FN(NAME, T, V, CRBM_SIMD_CLONES, CRBM_NOT_HELD)
#endif
#define CRBM_ADD_SCALED_ROWS_FN(NAME, T, V, TARGET, HELD)                                  \
    TARGET static void NAME(T *CRBM_RESTRICT out, const T *CRBM_RESTRICT A,               \
                            const int *rows, int n_rows, ptrdiff_t width,                 \
                            ptrdiff_t stride, const T *x, ptrdiff_t x_stride) {           \
        if (x == NULL) { /* every scale 1: no multiplies, the same sums */                \
            HELD(T, CRBM_UNIT_SCALE)                                                      \
            CRBM_ADD_ROWS_BODY(T, V, CRBM_UNIT_SCALE, CRBM_ADD_ROWS_CHUNKS)               \
        } else {                                                                          \
            HELD(T, CRBM_X_SCALE)                                                         \
            CRBM_ADD_ROWS_BODY(T, V, CRBM_X_SCALE, CRBM_ADD_ROWS_CHUNKS)                  \
        }                                                                                 \
    }
#ifdef CRBM_V4
/* AVX-512 gets its own copy in 64-byte vectors (half the instructions of
   the 32-byte ones, which GCC does not merge); 64-byte generic vectors in
   the AVX2 clone would live on the stack. An out of at most 16 vectors and
   a part one is held in registers through one pass over the rows, instead
   of one pass per chunk and one more for the columns past the last whole
   64 bytes, with each entry's sums as there (CRBM_ROWS_HELD). */
#define CRBM_ADD_SCALED_ROWS_HELD(T, SCALE) CRBM_ROWS_HELD(T, SCALE, CRBM_FOURS_IN_TURN)
#define CRBM_ADD_SCALED_ROWS(NAME, T, V)                                                  \
    CRBM_ADD_SCALED_ROWS_FN(NAME##_base, T, V, CRBM_BELOW_V4_CLONES, CRBM_NOT_HELD)       \
    CRBM_ADD_SCALED_ROWS_FN(NAME##_v4, T, V##64, CRBM_V4, CRBM_ADD_SCALED_ROWS_HELD)      \
    static inline void NAME(T *CRBM_RESTRICT out, const T *CRBM_RESTRICT A,               \
                            const int *rows, int n_rows, ptrdiff_t width,                 \
                            ptrdiff_t stride, const T *x, ptrdiff_t x_stride) {           \
        (crbm_cpu_v4 ? NAME##_v4 : NAME##_base)(out, A, rows, n_rows, width, stride, x,   \
                                                x_stride);                                \
    }
#else
#define CRBM_ADD_SCALED_ROWS(NAME, T, V)                                                  \
    CRBM_ADD_SCALED_ROWS_FN(NAME, T, V, CRBM_SIMD_CLONES, CRBM_NOT_HELD)
#endif
CRBM_ADD_ROWS(crbm_add_rows_d, double, crbm_vd)
CRBM_ADD_ROWS(crbm_add_rows_f, float, crbm_vf)
CRBM_ADD_SCALED_ROWS(crbm_add_scaled_rows_d, double, crbm_vd)
CRBM_ADD_SCALED_ROWS(crbm_add_scaled_rows_f, float, crbm_vf)

/* out[i] = sum_j A[i * stride + j] * x[j] for i < n_rows, j < width: a
   matrix-vector product on a row-major A, for the small sizes where BLAS's
   call and threading overhead dominate. With GCC or clang (and width at
   least 64 bytes), each row is summed in 64 bytes of lanes, held as P
   vectors of V (32 bytes: AVX2's registers; GCC splits wider generic
   vectors there through the stack), ROWS rows side by side, x's vectors
   loaded once for them. The lanes are summed front to back; the columns
   past the last whole 64 bytes are then covered by 64 more ending at the
   row's end, dotted with a copy of x's last 64 bytes whose lanes already
   counted are zero (no scalar tail, no read past the row; none when the
   width is whole vectors). Each sum is then reduced by halves. So a row's
   result depends neither on where a block of rows starts nor on the
   vector width: the AVX-512 copy below gives the same bits. Elsewhere, a
   plain loop. */
#if defined(__GNUC__) || defined(__clang__)
#define CRBM_ROW_DOTS_ROWS(T, V, HSUM, ROWS)                                              \
    for (; i + ROWS <= n_rows; i += ROWS) {                                               \
        const T *r = A + i * stride;                                                      \
        V a[ROWS][P], w, xv;                                                              \
        _Pragma("GCC unroll 4") for (int q = 0; q < ROWS; q++)                            \
            _Pragma("GCC unroll 4") for (int p = 0; p < P; p++) {                         \
                memcpy(&w, r + q * stride + p * H, sizeof(V));                            \
                a[q][p] = w * x0[p];                                                      \
            }                                                                             \
        for (ptrdiff_t j = L; j < full; j += L)                                           \
            _Pragma("GCC unroll 4") for (int p = 0; p < P; p++) {                         \
                memcpy(&xv, x + j + p * H, sizeof(V));                                    \
                _Pragma("GCC unroll 4") for (int q = 0; q < ROWS; q++) {                  \
                    memcpy(&w, r + q * stride + j + p * H, sizeof(V));                    \
                    a[q][p] += w * xv;                                                    \
                }                                                                         \
            }                                                                             \
        if (full < width)                                                                 \
            _Pragma("GCC unroll 4") for (int p = 0; p < P; p++)                           \
                _Pragma("GCC unroll 4") for (int q = 0; q < ROWS; q++) {                  \
                    memcpy(&w, r + q * stride + last + p * H, sizeof(V));                 \
                    a[q][p] += w * xt[p];                                                 \
                }                                                                         \
        _Pragma("GCC unroll 4") for (int q = 0; q < ROWS; q++) out[i + q] = HSUM(a[q]);   \
    }
#define CRBM_ROW_DOTS_VECTORS(T, V, HSUM)                                                 \
    enum { L = 64 / sizeof(T), H = sizeof(V) / sizeof(T), P = 64 / sizeof(V) };           \
    if (width >= L) {                                                                     \
        const ptrdiff_t full = width - width % L, last = width - L;                       \
        T tail[L];                                                                        \
        V xt[P], x0[P];                                                                   \
        for (int l = 0; l < L; l++) tail[l] = last + l < full ? (T)0 : x[last + l];       \
        memcpy(xt, tail, 64);                                                             \
        memcpy(x0, x, 64);                                                                \
        CRBM_ROW_DOTS_ROWS(T, V, HSUM, 4)                                                 \
        CRBM_ROW_DOTS_ROWS(T, V, HSUM, 1) /* the last rows alone, summed the same way */  \
    }
/* The sum of 64 bytes of lanes (one AVX-512 vector or two of 32 bytes):
   halves added until 16 bytes are left (each step one extract and one
   add), then those lanes pairwise. The lanes are passed by address: these
   helpers have no target attribute, and passing a 64-byte vector by value
   from an AVX-512 clone to them is an ABI mismatch (in a register against
   on the stack) wherever they are not inlined, as at -O0. */
typedef float crbm_vf16 __attribute__((vector_size(16), aligned(4)));
typedef double crbm_vd16 __attribute__((vector_size(16), aligned(8)));
static inline double crbm_hsum_d(const void *a) {
    crbm_vd lo, hi;
    crbm_vd16 lo2, hi2;
    memcpy(&lo, a, 32); memcpy(&hi, (const char *)a + 32, 32);
    lo += hi;
    memcpy(&lo2, &lo, 16); memcpy(&hi2, (const char *)&lo + 16, 16);
    lo2 += hi2;
    return lo2[0] + lo2[1];
}
static inline float crbm_hsum_f(const void *a) {
    crbm_vf lo, hi;
    crbm_vf16 lo2, hi2;
    memcpy(&lo, a, 32); memcpy(&hi, (const char *)a + 32, 32);
    lo += hi;
    memcpy(&lo2, &lo, 16); memcpy(&hi2, (const char *)&lo + 16, 16);
    lo2 += hi2;
    return (lo2[0] + lo2[1]) + (lo2[2] + lo2[3]);
}
#else
#define CRBM_ROW_DOTS_VECTORS(T, V, HSUM)
#endif
#define CRBM_ROW_DOTS_FN(NAME, T, V, HSUM, TARGET, HELD)                                  \
    TARGET static void NAME(T *CRBM_RESTRICT out, const T *A, const T *x,                 \
                            ptrdiff_t n_rows, ptrdiff_t width, ptrdiff_t stride) {        \
        ptrdiff_t i = 0;                                                                  \
        HELD(T, HSUM)                                                                     \
        CRBM_ROW_DOTS_VECTORS(T, V, HSUM)                                                 \
        for (; i < n_rows; i++) {                                                         \
            T s = 0;                                                                      \
            for (ptrdiff_t j = 0; j < width; j++) s += A[i * stride + j] * x[j];          \
            out[i] = s;                                                                   \
        }                                                                                 \
    }
#ifdef CRBM_V4
/* The sums of four vectors' lanes into out[0:4], each as crbm_hsum_f or
   crbm_hsum_d adds them (halves, then pairs), but the four side by side:
   two vectors' halves in one shuffle. */
CRBM_V4 static inline void crbm_hsum4_float(crbm_vf64 a0, crbm_vf64 a1, crbm_vf64 a2,
                                            crbm_vf64 a3, float *out) {
    const __m512 x0 = (__m512)a0, x1 = (__m512)a1, x2 = (__m512)a2, x3 = (__m512)a3;
    /* lanes of 16 bytes: s01 = [a0 0+2, a0 1+3, a1 0+2, a1 1+3], the same for s23 */
    const __m512 s01 = _mm512_add_ps(_mm512_shuffle_f32x4(x0, x1, _MM_SHUFFLE(1, 0, 1, 0)),
                                     _mm512_shuffle_f32x4(x0, x1, _MM_SHUFFLE(3, 2, 3, 2)));
    const __m512 s23 = _mm512_add_ps(_mm512_shuffle_f32x4(x2, x3, _MM_SHUFFLE(1, 0, 1, 0)),
                                     _mm512_shuffle_f32x4(x2, x3, _MM_SHUFFLE(3, 2, 3, 2)));
    /* lane k = the 16 bytes left of a_k */
    const __m512 t = _mm512_add_ps(_mm512_shuffle_f32x4(s01, s23, _MM_SHUFFLE(2, 0, 2, 0)),
                                   _mm512_shuffle_f32x4(s01, s23, _MM_SHUFFLE(3, 1, 3, 1)));
    /* entry 0 of each lane: (e0 + e1) + (e2 + e3) */
    const __m512 p = _mm512_add_ps(t, _mm512_permute_ps(t, _MM_SHUFFLE(2, 3, 0, 1)));
    const __m512 q = _mm512_add_ps(p, _mm512_permute_ps(p, _MM_SHUFFLE(1, 0, 3, 2)));
    const __m512 sums = _mm512_permutexvar_ps(
        _mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), q);
    _mm_storeu_ps(out, _mm512_castps512_ps128(sums));
}
CRBM_V4 static inline void crbm_hsum4_double(crbm_vd64 a0, crbm_vd64 a1, crbm_vd64 a2,
                                             crbm_vd64 a3, double *out) {
    const __m512d x0 = (__m512d)a0, x1 = (__m512d)a1, x2 = (__m512d)a2, x3 = (__m512d)a3;
    const __m512d s01 = _mm512_add_pd(_mm512_shuffle_f64x2(x0, x1, _MM_SHUFFLE(1, 0, 1, 0)),
                                      _mm512_shuffle_f64x2(x0, x1, _MM_SHUFFLE(3, 2, 3, 2)));
    const __m512d s23 = _mm512_add_pd(_mm512_shuffle_f64x2(x2, x3, _MM_SHUFFLE(1, 0, 1, 0)),
                                      _mm512_shuffle_f64x2(x2, x3, _MM_SHUFFLE(3, 2, 3, 2)));
    const __m512d t = _mm512_add_pd(_mm512_shuffle_f64x2(s01, s23, _MM_SHUFFLE(2, 0, 2, 0)),
                                    _mm512_shuffle_f64x2(s01, s23, _MM_SHUFFLE(3, 1, 3, 1)));
    /* entry 0 of each lane: e0 + e1 */
    const __m512d p = _mm512_add_pd(t, _mm512_permute_pd(t, 0x55));
    const __m512d sums = _mm512_permutexvar_pd(_mm512_setr_epi64(0, 2, 4, 6, 0, 0, 0, 0), p);
    _mm256_storeu_pd(out, _mm512_castpd512_pd256(sums));
}
/* With AVX-512's 32 vector registers, an x of at most 16 full vectors is
   held in registers for all the rows (one load per vector of A instead of
   1.25): the rows of CRBM_ROW_DOTS_VECTORS summed the same way, in a copy
   for each count F of full vectors, whose loops over them are unrolled.
   An A of more than CRBM_STREAMED_BYTES (above L1: it comes from L2) with
   rows of 4 or more vectors is read one row at a time, front to back, the
   order the hardware prefetcher streams fastest from L2; smaller ones take
   four rows side by side. There the four rows' end vectors are loaded
   first (the empty asm keeps GCC from moving the loads to their use), so
   that short rows do not wait on them at the end. */
#define CRBM_STREAMED_BYTES 65536
#define CRBM_ROW_DOT_HELD(V, a, r, F)                                                     \
    {                                                                                     \
        V w_;                                                                             \
        memcpy(&w_, (r), 64);                                                             \
        a = w_ * xs[0];                                                                   \
        _Pragma("GCC unroll 16") for (int k = 1; k < F; k++) {                            \
            memcpy(&w_, (r) + k * L, 64);                                                 \
            a += w_ * xs[k];                                                              \
        }                                                                                 \
        if (part) {                                                                       \
            memcpy(&w_, (r) + last, 64);                                                  \
            a += w_ * xt;                                                                 \
        }                                                                                 \
    }
#define CRBM_ROW_DOTS_HELD_F(T, V, HSUM, F)                                               \
    case F: {                                                                             \
        V xs[F];                                                                          \
        _Pragma("GCC unroll 16") for (int k = 0; k < F; k++)                              \
            memcpy(&xs[k], x + k * L, 64);                                                \
        if (four) for (; i + 4 <= n_rows; i += 4) {                                       \
            const T *r0 = A + i * stride, *r1 = r0 + stride, *r2 = r1 + stride,           \
                    *r3 = r2 + stride;                                                    \
            V a0, a1, a2, a3, w0, w1, w2, w3, t0, t1, t2, t3;                             \
            memcpy(&t0, r0 + last, 64); memcpy(&t1, r1 + last, 64);                       \
            memcpy(&t2, r2 + last, 64); memcpy(&t3, r3 + last, 64);                       \
            __asm__ volatile("" : "+v"(t0), "+v"(t1), "+v"(t2), "+v"(t3));                \
            memcpy(&w0, r0, 64); memcpy(&w1, r1, 64);                                     \
            memcpy(&w2, r2, 64); memcpy(&w3, r3, 64);                                     \
            a0 = w0 * xs[0]; a1 = w1 * xs[0]; a2 = w2 * xs[0]; a3 = w3 * xs[0];           \
            _Pragma("GCC unroll 16") for (int k = 1; k < F; k++) {                        \
                memcpy(&w0, r0 + k * L, 64); memcpy(&w1, r1 + k * L, 64);                 \
                memcpy(&w2, r2 + k * L, 64); memcpy(&w3, r3 + k * L, 64);                 \
                a0 += w0 * xs[k]; a1 += w1 * xs[k]; a2 += w2 * xs[k]; a3 += w3 * xs[k];   \
            }                                                                             \
            if (part) { a0 += t0 * xt; a1 += t1 * xt; a2 += t2 * xt; a3 += t3 * xt; }     \
            crbm_hsum4_##T(a0, a1, a2, a3, out + i);                                      \
        }                                                                                 \
        for (; i < n_rows; i++) {                                                         \
            V a0;                                                                         \
            CRBM_ROW_DOT_HELD(V, a0, A + i * stride, F)                                   \
            out[i] = HSUM(&a0);                                                           \
        }                                                                                 \
        return;                                                                           \
    }
#define CRBM_ROW_DOTS_HELD(T, HSUM)                                                       \
    {                                                                                     \
        typedef T V __attribute__((vector_size(64), aligned(sizeof(T))));                 \
        enum { L = 64 / sizeof(T) };                                                      \
        if (width >= L && width <= 16 * L) {                                              \
            const ptrdiff_t full = width - width % L, last = width - L;                   \
            const int part = full < width;                                                \
            const int four = full / L < 4                                                 \
                             || n_rows * stride * (ptrdiff_t)sizeof(T) <= CRBM_STREAMED_BYTES; \
            T tail[L];                                                                    \
            V xt;                                                                         \
            for (int l = 0; l < L; l++) tail[l] = last + l < full ? (T)0 : x[last + l];   \
            memcpy(&xt, tail, 64);                                                        \
            switch (full / L) {                                                           \
                CRBM_EACH_1_TO_16(CRBM_ROW_DOTS_HELD_F, T, V, HSUM)                       \
            }                                                                             \
        }                                                                                 \
    }
#define CRBM_ROW_DOTS(NAME, T, V, HSUM)                                                   \
    CRBM_ROW_DOTS_FN(NAME##_base, T, V, HSUM, CRBM_BELOW_V4_CLONES, CRBM_NOT_HELD)        \
    CRBM_ROW_DOTS_FN(NAME##_v4, T, V, HSUM, CRBM_V4, CRBM_ROW_DOTS_HELD)                  \
    static inline void NAME(T *CRBM_RESTRICT out, const T *A, const T *x, ptrdiff_t n_rows, \
                            ptrdiff_t width, ptrdiff_t stride) {                          \
        (crbm_cpu_v4 ? NAME##_v4 : NAME##_base)(out, A, x, n_rows, width, stride);        \
    }
#else
#define CRBM_ROW_DOTS(NAME, T, V, HSUM)                                                   \
    CRBM_ROW_DOTS_FN(NAME, T, V, HSUM, CRBM_SIMD_CLONES, CRBM_NOT_HELD)
#endif
CRBM_ROW_DOTS(crbm_row_dots_d, double, crbm_vd, crbm_hsum_d)
CRBM_ROW_DOTS(crbm_row_dots_f, float, crbm_vf, crbm_hsum_f)

/* Write the indices i < n with x[i * stride] != 0 to out, in increasing
   order, and return how many there are. Branch-free (every index is stored,
   the count only moves past the nonzero ones), so random 0/1 patterns cost
   no mispredictions; out needs room for n indices. */
#define CRBM_NONZERO_INDICES(NAME, T)                                                     \
    static inline int NAME(const T *x, int n, ptrdiff_t stride, int *out) {               \
        int count = 0;                                                                    \
        for (int i = 0; i < n; i++) {                                                     \
            out[count] = i;                                                               \
            count += x[(ptrdiff_t)i * stride] != 0;                                       \
        }                                                                                 \
        return count;                                                                     \
    }
#ifdef CRBM_V4
/* With AVX-512 a vector of entries at a time: their nonzero mask (NaN
   counts as nonzero, as x != 0 does) compresses a vector of indices, stored
   whole at out + count, which stays within out[0:n] since count <= i. */
CRBM_V4 static int crbm_nonzero_indices_f_v4(const float *x, int n, int *out) {
    int count = 0, i = 0;
    __m512i index = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (; i + 16 <= n; i += 16) {
        const __mmask16 on =
            _mm512_cmp_ps_mask(_mm512_loadu_ps(x + i), _mm512_setzero_ps(), _CMP_NEQ_UQ);
        _mm512_storeu_si512(out + count, _mm512_maskz_compress_epi32(on, index));
        count += __builtin_popcount(on);
        index = _mm512_add_epi32(index, _mm512_set1_epi32(16));
    }
    for (; i < n; i++) {
        out[count] = i;
        count += x[i] != 0;
    }
    return count;
}
CRBM_V4 static int crbm_nonzero_indices_d_v4(const double *x, int n, int *out) {
    int count = 0, i = 0;
    __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (; i + 8 <= n; i += 8) {
        const __mmask8 on =
            _mm512_cmp_pd_mask(_mm512_loadu_pd(x + i), _mm512_setzero_pd(), _CMP_NEQ_UQ);
        _mm256_storeu_si256((__m256i *)(out + count), _mm256_maskz_compress_epi32(on, index));
        count += __builtin_popcount(on);
        index = _mm256_add_epi32(index, _mm256_set1_epi32(8));
    }
    for (; i < n; i++) {
        out[count] = i;
        count += x[i] != 0;
    }
    return count;
}
CRBM_NONZERO_INDICES(crbm_nonzero_indices_d_base, double)
CRBM_NONZERO_INDICES(crbm_nonzero_indices_f_base, float)
static inline int crbm_nonzero_indices_d(const double *x, int n, ptrdiff_t stride, int *out) {
    return crbm_cpu_v4 && stride == 1 ? crbm_nonzero_indices_d_v4(x, n, out)
                                      : crbm_nonzero_indices_d_base(x, n, stride, out);
}
static inline int crbm_nonzero_indices_f(const float *x, int n, ptrdiff_t stride, int *out) {
    return crbm_cpu_v4 && stride == 1 ? crbm_nonzero_indices_f_v4(x, n, out)
                                      : crbm_nonzero_indices_f_base(x, n, stride, out);
}
#else
CRBM_NONZERO_INDICES(crbm_nonzero_indices_d, double)
CRBM_NONZERO_INDICES(crbm_nonzero_indices_f, float)
#endif

/* The number of nonzero entries of x[0:n] (NaN counts as nonzero, as x != 0 does). */
#define CRBM_COUNT_NONZERO(NAME, T)                                                       \
    CRBM_SIMD_CLONES static ptrdiff_t NAME(const T *x, ptrdiff_t n) {                     \
        ptrdiff_t count = 0;                                                              \
        for (ptrdiff_t i = 0; i < n; i++) count += x[i] != 0;                             \
        return count;                                                                     \
    }
CRBM_COUNT_NONZERO(crbm_count_nonzero_d, double)
CRBM_COUNT_NONZERO(crbm_count_nonzero_f, float)

#endif /* CRBM_ROWS_H */

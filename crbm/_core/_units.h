/* The element loops of crbm's unit types, for float (_f) and double (_d).
 *
 * A layer's "field" is what the other layer sends it, the product with W
 * before the layer's own bias. Each unit type turns a field into means and
 * samples, at an inverse temperature beta (the whole energy times beta),
 * and some feed a transformed state back into the products (Gaussian units
 * send v / sigma^2). Element (r, j) of a sample takes the stream position
 * offset + r * width + j, so rows, columns and threads can be split freely.
 *
 * Bernoulli: mean sigmoid(beta (x + b)), state 1 if u < mean.
 * Gaussian (Cho, Ilin & Raiko 2011): mean b + x, state mean + sigma z / sqrt(beta).
 */
#ifndef CRBM_UNITS_H
#define CRBM_UNITS_H

#include "_dispatch.h"
#include "_math.h"
#include "_stream.h"

/* Bernoulli units ---------------------------------------------------------- */

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

/* x[r, j] = 1 if u(key, offset + r * width + j) < sigmoid(x[r, j] + bias[j])
   else 0: crbm_sigmoid_bias followed by crbm_bernoulli with that offset, in
   one pass and with exactly the same result. */
CRBM_SIMD_CLONES static void crbm_sample_logits_d(uint64_t key, uint64_t offset, double *x,
                                                  const double *bias, ptrdiff_t rows,
                                                  ptrdiff_t width) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        double *row = x + r * width;
        uint64_t base = offset + (uint64_t)(r * width);
        for (ptrdiff_t j = 0; j < width; j++)
            row[j] = crbm_uniform_d(key, base + (uint64_t)j) < crbm_sigmoid1_d(row[j] + bias[j])
                     ? 1.0 : 0.0;
    }
}
CRBM_SIMD_CLONES static void crbm_sample_logits_f(uint64_t key, uint64_t offset, float *x,
                                                  const float *bias, ptrdiff_t rows,
                                                  ptrdiff_t width) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        float *row = x + r * width;
        uint64_t base = offset + (uint64_t)(r * width);
        for (ptrdiff_t j = 0; j < width; j++)
            row[j] = crbm_uniform_f(key, base + (uint64_t)j) < crbm_sigmoid1_f(row[j] + bias[j])
                     ? 1.0f : 0.0f;
    }
}

#define CRBM_BERNOULLI_BETA(S, T)                                                          \
    /* x = sigmoid(beta (x + bias)), row by row */                                        \
    CRBM_SIMD_CLONES static void crbm_sigmoid_bias_beta_##S(T *x, const T *bias, T beta,   \
                                                           ptrdiff_t rows, ptrdiff_t width) { \
        for (ptrdiff_t r = 0; r < rows; r++) {                                             \
            T *row = x + r * width;                                                        \
            for (ptrdiff_t j = 0; j < width; j++)                                          \
                row[j] = crbm_sigmoid1_##S(beta * (row[j] + bias[j]));                     \
        }                                                                                  \
    }                                                                                      \
    /* x = 1 if u(key, offset + r * width + j) < sigmoid(beta (x + bias)) else 0 */        \
    CRBM_SIMD_CLONES static void crbm_sample_logits_beta_##S(                              \
        uint64_t key, uint64_t offset, T *x, const T *bias, T beta, ptrdiff_t rows,        \
        ptrdiff_t width) {                                                                 \
        for (ptrdiff_t r = 0; r < rows; r++) {                                             \
            T *row = x + r * width;                                                        \
            uint64_t base = offset + (uint64_t)(r * width);                                \
            for (ptrdiff_t j = 0; j < width; j++)                                          \
                row[j] = crbm_uniform_##S(key, base + (uint64_t)j)                         \
                         < crbm_sigmoid1_##S(beta * (row[j] + bias[j])) ? (T)1 : (T)0;     \
        }                                                                                  \
    }
CRBM_BERNOULLI_BETA(d, double)
CRBM_BERNOULLI_BETA(f, float)

/* Softmax groups ------------------------------------------------------------
 * A Bernoulli layer's last K units may form one softmax group, of which
 * exactly one unit is on (a one-hot label, Larochelle & Bengio 2008): its
 * mean is softmax(beta (x + bias)) over the group, and its state takes one
 * uniform, at the position of the group's first unit (offset + r * width +
 * width - K), against the running sum of the means. The other units of the
 * row are Bernoulli, as above. */

#define CRBM_SOFTMAX(S, T)                                                                 \
    /* x[0:K] = softmax(beta (x + bias)), the exponentials in double */                   \
    static inline void crbm_softmax_group_##S(T *x, const T *bias, T beta, ptrdiff_t K) { \
        double top = -INFINITY, sum = 0;                                                   \
        for (ptrdiff_t k = 0; k < K; k++) {                                                \
            x[k] = beta * (x[k] + bias[k]);                                                \
            if ((double)x[k] > top) top = (double)x[k];                                    \
        }                                                                                  \
        for (ptrdiff_t k = 0; k < K; k++) {                                                \
            x[k] = (T)exp((double)x[k] - top);                                             \
            sum += (double)x[k];                                                           \
        }                                                                                  \
        for (ptrdiff_t k = 0; k < K; k++) x[k] = (T)((double)x[k] / sum);                  \
    }                                                                                      \
    /* out[0:K] = one-hot at the first k whose running sum of p exceeds u */              \
    static inline void crbm_one_hot_draw_##S(const T *p, T *out, ptrdiff_t K, T u) {      \
        double c = 0;                                                                      \
        ptrdiff_t pick = K - 1;                                                            \
        for (ptrdiff_t k = 0; k + 1 < K; k++) {                                            \
            c += (double)p[k];                                                             \
            if ((double)u < c) {                                                           \
                pick = k;                                                                  \
                break;                                                                     \
            }                                                                              \
        }                                                                                  \
        for (ptrdiff_t k = 0; k < K; k++) out[k] = k == pick ? (T)1 : (T)0;                \
    }                                                                                      \
    /* means of rows whose last K units are a softmax group: fields in */                 \
    CRBM_SIMD_CLONES static void crbm_grouped_mean_##S(T *x, const T *bias, T beta,        \
                                                       ptrdiff_t rows, ptrdiff_t width,    \
                                                       ptrdiff_t K) {                      \
        for (ptrdiff_t r = 0; r < rows; r++) {                                             \
            T *row = x + r * width;                                                        \
            for (ptrdiff_t j = 0; j < width - K; j++)                                      \
                row[j] = crbm_sigmoid1_##S(beta * (row[j] + bias[j]));                     \
            crbm_softmax_group_##S(row + width - K, bias + width - K, beta, K);            \
        }                                                                                  \
    }                                                                                      \
    /* states from means: u < mean for the Bernoulli units, one draw for the group */     \
    CRBM_SIMD_CLONES static void crbm_grouped_draw_##S(uint64_t key, uint64_t offset,      \
                                                       const T *mean, T *out,              \
                                                       ptrdiff_t rows, ptrdiff_t width,    \
                                                       ptrdiff_t K) {                      \
        for (ptrdiff_t r = 0; r < rows; r++) {                                             \
            const T *m = mean + r * width;                                                 \
            T *row = out + r * width;                                                      \
            uint64_t base = offset + (uint64_t)(r * width);                                \
            for (ptrdiff_t j = 0; j < width - K; j++)                                      \
                row[j] = crbm_uniform_##S(key, base + (uint64_t)j) < m[j] ? (T)1 : (T)0;   \
            crbm_one_hot_draw_##S(m + width - K, row + width - K, K,                       \
                                  crbm_uniform_##S(key, base + (uint64_t)(width - K)));    \
        }                                                                                  \
    }                                                                                      \
    /* states from fields: crbm_grouped_mean then crbm_grouped_draw, in place */          \
    static void crbm_grouped_sample_##S(uint64_t key, uint64_t offset, T *x, const T *bias,  \
                                        T beta, ptrdiff_t rows, ptrdiff_t width,            \
                                        ptrdiff_t K) {                                      \
        crbm_grouped_mean_##S(x, bias, beta, rows, width, K);                              \
        crbm_grouped_draw_##S(key, offset, x, x, rows, width, K);                          \
    }                                                                                      \
    /* out[r] = sum of softplus(x + bias) over the Bernoulli units plus the log-sum-exp  \
       of x + bias over the group: the layer summed out */                                 \
    static void crbm_grouped_partition_rows_##S(const T *x, const T *bias, ptrdiff_t rows, \
                                                ptrdiff_t width, ptrdiff_t K, double *out) { \
        for (ptrdiff_t r = 0; r < rows; r++) {                                             \
            const T *row = x + r * width;                                                  \
            double s = 0, top = -INFINITY, sum = 0;                                        \
            for (ptrdiff_t j = 0; j < width - K; j++)                                      \
                s += (double)crbm_softplus_##S(row[j] + bias[j]);                          \
            for (ptrdiff_t j = width - K; j < width; j++)                                  \
                if ((double)row[j] + (double)bias[j] > top)                                \
                    top = (double)row[j] + (double)bias[j];                                \
            for (ptrdiff_t j = width - K; j < width; j++)                                  \
                sum += exp((double)row[j] + (double)bias[j] - top);                        \
            out[r] = s + top + log(sum);                                                   \
        }                                                                                  \
    }
CRBM_SOFTMAX(d, double)
CRBM_SOFTMAX(f, float)

/* Gaussian units ----------------------------------------------------------- */

#define CRBM_GAUSSIAN(S, T)                                                                \
    /* means: x = x + bias */                                                              \
    CRBM_SIMD_CLONES static void crbm_add_bias_##S(T *x, const T *bias, ptrdiff_t rows,    \
                                                   ptrdiff_t width) {                      \
        for (ptrdiff_t r = 0; r < rows; r++) {                                             \
            T *row = x + r * width;                                                        \
            for (ptrdiff_t j = 0; j < width; j++) row[j] += bias[j];                       \
        }                                                                                  \
    }                                                                                      \
    /* states from means: out = mean + (std scale) z(offset + r * width + j); out may   \
       be mean */                                                                          \
    CRBM_SIMD_CLONES static void crbm_gaussian_draw_##S(uint64_t key, uint64_t offset,     \
                                                        const T *mean, T *out,             \
                                                        const T *std, T scale,             \
                                                        ptrdiff_t rows, ptrdiff_t width) { \
        for (ptrdiff_t r = 0; r < rows; r++) {                                             \
            const T *m = mean + r * width;                                                 \
            T *row = out + r * width;                                                      \
            uint64_t base = offset + (uint64_t)(r * width);                                \
            for (ptrdiff_t j = 0; j < width; j++)                                          \
                row[j] = m[j] + (std[j] * scale) * crbm_normal_##S(key, base + (uint64_t)j); \
        }                                                                                  \
    }                                                                                      \
    /* states from fields in one pass: x = (x + bias) + (std scale) z */                   \
    CRBM_SIMD_CLONES static void crbm_gaussian_sample_##S(uint64_t key, uint64_t offset,   \
                                                          T *x, const T *bias, const T *std, \
                                                          T scale, ptrdiff_t rows,         \
                                                          ptrdiff_t width) {               \
        for (ptrdiff_t r = 0; r < rows; r++) {                                             \
            T *row = x + r * width;                                                        \
            uint64_t base = offset + (uint64_t)(r * width);                                \
            for (ptrdiff_t j = 0; j < width; j++)                                          \
                row[j] = (row[j] + bias[j])                                                \
                         + (std[j] * scale) * crbm_normal_##S(key, base + (uint64_t)j);    \
        }                                                                                  \
    }                                                                                      \
    /* out = x * s column by column: the states v / sigma^2 the products take */           \
    CRBM_SIMD_CLONES static void crbm_scale_columns_##S(const T *CRBM_RESTRICT x,          \
                                                        const T *CRBM_RESTRICT s,          \
                                                        T *CRBM_RESTRICT out,              \
                                                        ptrdiff_t rows, ptrdiff_t width) { \
        for (ptrdiff_t r = 0; r < rows; r++)                                               \
            for (ptrdiff_t j = 0; j < width; j++)                                          \
                out[r * width + j] = x[r * width + j] * s[j];                              \
    }                                                                                      \
    /* out[j] += sum over rows of (x - bias)^2: the variance's statistics */               \
    CRBM_SIMD_CLONES static void crbm_square_deviations_##S(const T *CRBM_RESTRICT x,      \
                                                            const T *CRBM_RESTRICT bias,   \
                                                            ptrdiff_t rows, ptrdiff_t width, \
                                                            T *CRBM_RESTRICT out) {        \
        for (ptrdiff_t r = 0; r < rows; r++)                                               \
            for (ptrdiff_t j = 0; j < width; j++) {                                        \
                const T d = x[r * width + j] - bias[j];                                    \
                out[j] += d * d;                                                           \
            }                                                                              \
    }                                                                                      \
    /* out[i] = exp(scale z[i]): 1 / sigma^2 (scale -1) or sigma (scale 1/2) from log sigma^2 */ \
    CRBM_SIMD_CLONES static void crbm_exp_scaled_##S(const T *CRBM_RESTRICT z, T scale,    \
                                                     T *CRBM_RESTRICT out, ptrdiff_t n) {  \
        for (ptrdiff_t i = 0; i < n; i++) out[i] = crbm_exp_##S(scale * z[i]);             \
    }
CRBM_GAUSSIAN(d, double)
CRBM_GAUSSIAN(f, float)

/* Any unit type ------------------------------------------------------------ */

/* out[i] = sum_j A[i, j] B[i, j] for row-major rows x width A and B, and with
   crbm_row_products_add also A[i, j] += B[i, j] in the same pass (after the
   product is taken). Each row is summed in 16 interleaved lanes (entry j in
   lane j % 16), which are then added pairwise: a fixed order, the same bits
   whatever vector width the compiler gives the lanes. */
#define CRBM_ROW_LANES 16
#define CRBM_CHANGE_BLOCK 256  /* terms of crbm_anneal_hidden made per block */
static inline double crbm_exp_nonpositive_d(double x) { return crbm_exp_nonpositive(x); }
static inline float crbm_exp_nonpositive_f(float x) { return crbm_expf_nonpositive(x); }
#define CRBM_ROW_PRODUCTS_BODY(T, UPDATE)                                                  \
    for (ptrdiff_t i = 0; i < rows; i++) {                                                 \
        T *a = A + i * width;                                                              \
        const T *b = B + i * width;                                                        \
        T acc[CRBM_ROW_LANES] = {0};                                                       \
        ptrdiff_t j = 0;                                                                   \
        for (; j + CRBM_ROW_LANES <= width; j += CRBM_ROW_LANES)                           \
            for (int l = 0; l < CRBM_ROW_LANES; l++) {                                     \
                const T x = a[j + l];                                                      \
                acc[l] += x * b[j + l];                                                    \
                UPDATE(a[j + l], x, b[j + l]);                                             \
            }                                                                              \
        for (int l = 0; j + l < width; l++) {                                              \
            const T x = a[j + l];                                                          \
            acc[l] += x * b[j + l];                                                        \
            UPDATE(a[j + l], x, b[j + l]);                                                 \
        }                                                                                  \
        for (int w = CRBM_ROW_LANES / 2; w >= 1; w /= 2)                                   \
            for (int l = 0; l < w; l++) acc[l] += acc[l + w];                              \
        out[i] = acc[0];                                                                   \
    }
#define CRBM_KEEP(target, x, y)
#define CRBM_ADD(target, x, y) target = x + y
#define CRBM_ROW_PRODUCTS(S, T)                                                            \
    CRBM_SIMD_CLONES static void crbm_row_products_##S(const T *A_, const T *B,            \
                                                       ptrdiff_t rows, ptrdiff_t width,    \
                                                       T *out) {                           \
        T *A = (T *)A_; /* only read */                                                    \
        CRBM_ROW_PRODUCTS_BODY(T, CRBM_KEEP)                                               \
    }                                                                                      \
    CRBM_SIMD_CLONES static void crbm_row_products_add_##S(T *CRBM_RESTRICT A,             \
                                                           const T *CRBM_RESTRICT B,       \
                                                           ptrdiff_t rows, ptrdiff_t width, \
                                                           T *out) {                       \
        CRBM_ROW_PRODUCTS_BODY(T, CRBM_ADD)                                                \
    }
CRBM_ROW_PRODUCTS(d, double)
CRBM_ROW_PRODUCTS(f, float)

#define CRBM_ANY_UNITS(S, T)                                                               \
    /* x[r, j] = values[r, j] where mask[r, j]: clamped units keep given values. A        \
       stride of 0 gives every row the same mask or values. */                            \
    CRBM_SIMD_CLONES static void crbm_clamp_##S(T *x, const uint8_t *mask,                 \
                                                ptrdiff_t mask_stride, const T *values,    \
                                                ptrdiff_t values_stride, ptrdiff_t rows,   \
                                                ptrdiff_t width) {                         \
        for (ptrdiff_t r = 0; r < rows; r++) {                                             \
            T *row = x + r * width;                                                        \
            const uint8_t *m = mask + r * mask_stride;                                     \
            const T *v = values + r * values_stride;                                       \
            for (ptrdiff_t j = 0; j < width; j++) row[j] = m[j] ? v[j] : row[j];           \
        }                                                                                  \
    }                                                                                      \
    /* out[r] = sum_j softplus(x[r, j] + bias[j]): Bernoulli units summed out */            \
    CRBM_SIMD_CLONES static void crbm_softplus_rows_##S(const T *x, const T *bias,          \
                                                        ptrdiff_t rows, ptrdiff_t width,   \
                                                        double *out) {                     \
        for (ptrdiff_t r = 0; r < rows; r++) {                                             \
            double s = 0;                                                                  \
            for (ptrdiff_t j = 0; j < width; j++)                                          \
                s += (double)crbm_softplus_##S(x[r * width + j] + bias[j]);                \
            out[r] = s;                                                                    \
        }                                                                                  \
    }                                                                                      \
    /* Annealing's step for a Bernoulli layer: out[r] += sum_j softplus(b1 z) -            \
       softplus(b0 z), z = x[r, j] + bias[j], summed in double: how log sum_h exp(beta z . \
       h) changes from beta b0 to b1 (a small difference of large sums, never taken as     \
       one). Then, with draw, x[r, j] = 1 if u(key, offset + r * width + j) < sigmoid(b1   \
       z) else 0, exactly as crbm_sample_logits_beta. A term is (b1 - b0) max(z, 0) +      \
       log((1 + e^-b1|z|) / (1 + e^-b0|z|)): one logarithm, not two, and the exponentials  \
       in T (for float, errors of about an ulp of 1 per term, independent from term to     \
       term). Terms go to a block of t first, so that the loop making them vectorises, and \
       the block's draws follow while it is in cache; eight partial sums add the terms up. */\
    CRBM_SIMD_CLONES static void crbm_anneal_hidden_##S(                                   \
        uint64_t key, uint64_t offset, T *x, const T *bias, double b1, double b0, int draw, \
        ptrdiff_t rows, ptrdiff_t width, double *out) {                                    \
        double t[CRBM_CHANGE_BLOCK];                                                       \
        const double step = b1 - b0;                                                       \
        const T beta = (T)b1;                                                              \
        for (ptrdiff_t r = 0; r < rows; r++) {                                             \
            T *xr = x + r * width;                                                         \
            const uint64_t base = offset + (uint64_t)(r * width);                          \
            double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                     \
            for (ptrdiff_t j0 = 0; j0 < width; j0 += CRBM_CHANGE_BLOCK) {                  \
                const ptrdiff_t n = width - j0 < CRBM_CHANGE_BLOCK ? width - j0            \
                                                                   : CRBM_CHANGE_BLOCK;    \
                T *xb = xr + j0;                                                           \
                const T *bb = bias + j0;                                                   \
                for (ptrdiff_t j = 0; j < n; j++) {                                        \
                    const double z = (double)xb[j] + (double)bb[j];                        \
                    const double a = fabs(z);                                              \
                    const double e1 = (double)crbm_exp_nonpositive_##S((T)(-b1 * a));      \
                    const double e0 = (double)crbm_exp_nonpositive_##S((T)(-b0 * a));      \
                    t[j] = step * (z > 0.0 ? z : 0.0) + crbm_log_d((1.0 + e1) / (1.0 + e0)); \
                }                                                                          \
                ptrdiff_t j = 0;                                                           \
                for (; j + 8 <= n; j += 8)                                                 \
                    for (int k = 0; k < 8; k++) part[k] += t[j + k];                       \
                for (; j < n; j++) part[0] += t[j];                                        \
                if (draw)                                                                  \
                    for (j = 0; j < n; j++)                                                \
                        xb[j] = crbm_uniform_##S(key, base + (uint64_t)(j0 + j))           \
                                < crbm_sigmoid1_##S(beta * (xb[j] + bb[j])) ? (T)1 : (T)0; \
            }                                                                              \
            out[r] += ((part[0] + part[1]) + (part[2] + part[3]))                          \
                      + ((part[4] + part[5]) + (part[6] + part[7]));                       \
        }                                                                                  \
    }                                                                                      \
    /* out[r] = the layer's own energy of x[r] minus input(x[r]) . field[r]: with p NULL \
       (Bernoulli) -sum_j x (bias + field), else sum_j ((x - bias)^2 / 2 - x field) p[j]. \
       Eight partial sums, so that the double reduction vectorises. */                     \
    CRBM_SIMD_CLONES static void crbm_field_energy_rows_##S(                               \
        const T *x, const T *bias, const T *field, const T *p, ptrdiff_t rows,             \
        ptrdiff_t width, double *out) {                                                    \
        for (ptrdiff_t r = 0; r < rows; r++) {                                             \
            const T *xr = x + r * width, *fr = field + r * width;                          \
            double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                     \
            ptrdiff_t j = 0;                                                               \
            if (p == NULL) {                                                               \
                for (; j + 8 <= width; j += 8)                                             \
                    for (int k = 0; k < 8; k++)                                            \
                        part[k] -= (double)xr[j + k] *                                     \
                                   ((double)bias[j + k] + (double)fr[j + k]);              \
                for (; j < width; j++)                                                     \
                    part[0] -= (double)xr[j] * ((double)bias[j] + (double)fr[j]);          \
            } else {                                                                       \
                for (; j + 8 <= width; j += 8)                                             \
                    for (int k = 0; k < 8; k++) {                                          \
                        const double d = (double)xr[j + k] - (double)bias[j + k];          \
                        part[k] += (0.5 * d * d - (double)xr[j + k] * (double)fr[j + k])   \
                                   * (double)p[j + k];                                     \
                    }                                                                      \
                for (; j < width; j++) {                                                   \
                    const double d = (double)xr[j] - (double)bias[j];                      \
                    part[0] += (0.5 * d * d - (double)xr[j] * (double)fr[j]) * (double)p[j]; \
                }                                                                          \
            }                                                                              \
            out[r] = ((part[0] + part[1]) + (part[2] + part[3]))                           \
                     + ((part[4] + part[5]) + (part[6] + part[7]));                        \
        }                                                                                  \
    }                                                                                      \
    /* out[r] = sum_j (x[r, j] - bias[j])^2 p[j] / 2: Gaussian units' energy */            \
    CRBM_SIMD_CLONES static void crbm_quadratic_rows_##S(const T *x, const T *bias,         \
                                                         const T *p, ptrdiff_t rows,       \
                                                         ptrdiff_t width, double *out) {   \
        for (ptrdiff_t r = 0; r < rows; r++) {                                             \
            double s = 0;                                                                  \
            for (ptrdiff_t j = 0; j < width; j++) {                                        \
                const double d = (double)x[r * width + j] - (double)bias[j];               \
                s += d * d * (double)p[j];                                                 \
            }                                                                              \
            out[r] = 0.5 * s;                                                              \
        }                                                                                  \
    }                                                                                      \
    /* out[r] = sum_j ((a + bias)^2 - bias^2) p[j] / 2 for fields a: the log of the       \
       Gaussian integral over v, without its constant */                                   \
    CRBM_SIMD_CLONES static void crbm_gaussian_partition_rows_##S(                         \
        const T *a, const T *bias, const T *p, ptrdiff_t rows, ptrdiff_t width,            \
        double *out) {                                                                     \
        for (ptrdiff_t r = 0; r < rows; r++) {                                             \
            double s = 0;                                                                  \
            for (ptrdiff_t j = 0; j < width; j++) {                                        \
                const double m = (double)a[r * width + j] + (double)bias[j];               \
                s += (m * m - (double)bias[j] * (double)bias[j]) * (double)p[j];           \
            }                                                                              \
            out[r] = 0.5 * s;                                                              \
        }                                                                                  \
    }
CRBM_ANY_UNITS(d, double)
CRBM_ANY_UNITS(f, float)

#endif /* CRBM_UNITS_H */

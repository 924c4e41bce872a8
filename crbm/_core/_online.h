/* The parameter step of per-sample CD on 0/1 data (crbm/_core/_blocks.pyx). */
#ifndef CRBM_ONLINE_H
#define CRBM_ONLINE_H

#include "_dispatch.h"

/* The parameter step of per-sample CD on 0/1 states v, h0 (positive) and
   vk, hk (negative): W += lr (v h0^T - vk hk^T), b += lr (v - vk),
   c += lr (h0 - hk), on W (N x M, row-major). Only the rows of W whose unit
   is on in v or vk change; each gets one of three step rows, lr h0 (v
   only), -lr hk (vk only) or lr (h0 - hk) (both), built in `steps` (3 x M),
   so every entry moves by exactly +lr, -lr or 0 (entries where both terms
   are 1 are left alone instead of getting +lr - lr). The rows come from the
   active lists of v and vk (v_active, vk_active, as crbm_nonzero_indices
   makes them); `rows` has room for n_vk ints, for the units on in vk only,
   listed branch-free. */
#define CRBM_BINARY_CD_STEP(NAME, T)                                                       \
    CRBM_SIMD_CLONES static void NAME(T *CRBM_RESTRICT W, T *CRBM_RESTRICT b,             \
                                      T *CRBM_RESTRICT c, const T *v, const T *vk,        \
                                      const T *h0, const T *hk, T lr, ptrdiff_t N,        \
                                      ptrdiff_t M, const int *v_active, int n_v,          \
                                      const int *vk_active, int n_vk,                     \
                                      T *CRBM_RESTRICT steps, int *CRBM_RESTRICT rows) {  \
        int n_rows = 0;                                                                   \
        for (ptrdiff_t j = 0; j < M; j++) {                                               \
            steps[j] = lr * h0[j];                                                        \
            steps[M + j] = -lr * hk[j];                                                   \
            steps[2 * M + j] = lr * (h0[j] - hk[j]);                                      \
            c[j] += steps[2 * M + j];                                                     \
        }                                                                                 \
        for (ptrdiff_t i = 0; i < N; i++) b[i] += lr * (v[i] - vk[i]);                    \
        for (int t = 0; t < n_v; t++) { /* step 0 or, if on in vk too, 2 */               \
            const ptrdiff_t i = v_active[t];                                              \
            T *CRBM_RESTRICT row = W + i * M;                                             \
            const T *CRBM_RESTRICT step = steps + 2 * (ptrdiff_t)vk[i] * M;               \
            for (ptrdiff_t j = 0; j < M; j++) row[j] += step[j];                          \
        }                                                                                 \
        for (int t = 0; t < n_vk; t++) {                                                  \
            rows[n_rows] = vk_active[t];                                                  \
            n_rows += v[vk_active[t]] == 0;                                               \
        }                                                                                 \
        for (int t = 0; t < n_rows; t++) { /* step 1 */                                   \
            T *CRBM_RESTRICT row = W + (ptrdiff_t)rows[t] * M;                            \
            for (ptrdiff_t j = 0; j < M; j++) row[j] += steps[M + j];                     \
        }                                                                                 \
    }
CRBM_BINARY_CD_STEP(crbm_binary_cd_step_d, double)
CRBM_BINARY_CD_STEP(crbm_binary_cd_step_f, float)

#endif /* CRBM_ONLINE_H */

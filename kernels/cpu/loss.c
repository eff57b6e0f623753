/* Softmax cross-entropy over the vocabulary with logit soft-cap, label
 * smoothing and z-loss, fused with its gradient (the logits buffer is
 * overwritten by dlogits, so the largest activation is stored once). */
#include "kcpu.h"

#include <math.h>

K_HOT static float ce_row(float *z, int target, int V, float cap, float ls, float zl,
                          float dscale)
{
    if (cap > 0.0f) {
        float inv = 1.0f / cap;
        #pragma omp simd
        for (int j = 0; j < V; j++)
            z[j] = cap * k_tanhf(z[j] * inv);
    }
    float mx = -INFINITY;
    #pragma omp simd reduction(max : mx)
    for (int j = 0; j < V; j++)
        mx = z[j] > mx ? z[j] : mx;
    float sum = 0.0f, zsum = 0.0f;
    #pragma omp simd reduction(+ : sum, zsum)
    for (int j = 0; j < V; j++) {
        sum += k_expf(z[j] - mx);
        zsum += z[j];
    }
    float lse = mx + logf(sum);
    float loss = (1.0f - ls) * (lse - z[target]) + ls * (lse - zsum / V) + zl * lse * lse;
    if (dscale != 0.0f) {
        /* d/dz_j = p_j (1 + 2 zl lse) - (1 - ls) [j = t] - ls / V, then
         * through the cap: dz_raw = dz (1 - (z / cap)^2) */
        float pm = (1.0f + 2.0f * zl * lse) * dscale, off = ls / V * dscale;
        float inv2 = cap > 0.0f ? 1.0f / (cap * cap) : 0.0f;
        float zt = z[target];
        #pragma omp simd
        for (int j = 0; j < V; j++) {
            float g = k_expf(z[j] - lse) * pm - off;
            z[j] = g * (1.0f - z[j] * z[j] * inv2);
        }
        float gt = (k_expf(zt - lse) * pm - off - (1.0f - ls) * dscale);
        z[target] = gt * (1.0f - zt * zt * inv2);
    }
    return loss;
}

void k_crossentropy(float *losses, float *logits, const uint16_t *targets, int N, int V,
                    float softcap, float label_smoothing, float z_loss, float dscale)
{
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++)
        losses[n] = ce_row(logits + (size_t)n * V, targets[n], V, softcap, label_smoothing,
                           z_loss, dscale);
}

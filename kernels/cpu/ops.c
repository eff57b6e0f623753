/* Elementwise and row kernels on the CPU: memory, embeddings, RMSNorm,
 * RoPE, residual mix, value-embedding gate, MLP activations. Rows are split
 * statically across OpenMP threads; reductions are summed per thread and
 * combined in thread order, so results do not depend on scheduling. */
#include "kcpu.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define RMS_EPS 1e-6f

/* ---------------------------------------------------------------------------
 * Memory (host memory on the CPU) */

float *k_alloc(size_t n)
{
    if (n == 0)
        n = 1;
    void *p = NULL;
    if (posix_memalign(&p, 64, n * sizeof(float)) != 0)
        return NULL;
    memset(p, 0, n * sizeof(float));
    return p;
}

void k_free(float *p) { free(p); }

void k_zero(float *p, size_t n)
{
    #pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++)
        p[i] = 0.0f;
}

void k_copy(float *dst, const float *src, size_t n) { memmove(dst, src, n * sizeof(float)); }
void k_add(float *y, const float *x, size_t n)
{
    #pragma omp parallel for simd schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++)
        y[i] += x[i];
}

void k_upload(float *dst, const float *host, size_t n) { k_copy(dst, host, n); }
void k_download(float *host, const float *src, size_t n) { k_copy(host, src, n); }

/* ---------------------------------------------------------------------------
 * Embedding */

void k_embedding_forward(float *out, const uint16_t *idx, const float *table, int N, int C)
{
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++)
        memcpy(out + (size_t)n * C, table + (size_t)idx[n] * C, sizeof(float) * C);
}

/* Rows of the table may repeat, so threads own column ranges, not rows. */
void k_embedding_backward(float *dtable, const float *dout, const uint16_t *idx, int N, int C,
                          int V)
{
    (void)V;
    int nt = kernels_threads();
    int chunk = (C + nt - 1) / nt;
    #pragma omp parallel for schedule(static, 1)
    for (int p = 0; p < nt; p++) {
        int c0 = p * chunk, c1 = c0 + chunk < C ? c0 + chunk : C;
        for (int n = 0; n < N; n++) {
            float *d = dtable + (size_t)idx[n] * C;
            const float *g = dout + (size_t)n * C;
            for (int c = c0; c < c1; c++)
                d[c] += g[c];
        }
    }
}

/* ---------------------------------------------------------------------------
 * RMSNorm, parameter-free */

K_HOT static void rmsnorm_row(float *out, float *rstd, const float *x, int C)
{
    float ss = 0.0f;
    #pragma omp simd reduction(+ : ss)
    for (int c = 0; c < C; c++)
        ss += x[c] * x[c];
    float r = 1.0f / sqrtf(ss / C + RMS_EPS);
    *rstd = r;
    #pragma omp simd
    for (int c = 0; c < C; c++)
        out[c] = x[c] * r;
}

void k_rmsnorm_forward(float *out, float *rstd, const float *inp, int N, int C)
{
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++)
        rmsnorm_row(out + (size_t)n * C, rstd + n, inp + (size_t)n * C, C);
}

/* y = x r: dx = r (dy - y mean(dy y)) */
K_HOT static void rmsnorm_back_row(float *dx, const float *dy, const float *y, float r, int C)
{
    float dot = 0.0f;
    #pragma omp simd reduction(+ : dot)
    for (int c = 0; c < C; c++)
        dot += dy[c] * y[c];
    dot /= C;
    #pragma omp simd
    for (int c = 0; c < C; c++)
        dx[c] += r * (dy[c] - y[c] * dot);
}

void k_rmsnorm_backward(float *dinp, const float *dout, const float *out, const float *rstd,
                        int N, int C)
{
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        size_t o = (size_t)n * C;
        rmsnorm_back_row(dinp + o, dout + o, out + o, rstd[n], C);
    }
}

/* ---------------------------------------------------------------------------
 * Rotary embedding, split halves: (x1, x2) -> (x1 c + x2 s, -x1 s + x2 c) */

K_HOT static void rope_rows(float *x, const float *cs, const float *sn, int H, int D)
{
    int h2 = D / 2;
    for (int h = 0; h < H; h++) {
        float *a = x + (size_t)h * D, *b = a + h2;
        #pragma omp simd
        for (int i = 0; i < h2; i++) {
            float x1 = a[i], x2 = b[i], s = sn[i];
            a[i] = x1 * cs[i] + x2 * s;
            b[i] = x2 * cs[i] - x1 * s;
        }
    }
}

void k_rope_forward(float *x, const float *cos, const float *sin, int B, int T, int H, int D)
{
    #pragma omp parallel for schedule(static)
    for (int bt = 0; bt < B * T; bt++) {
        int t = bt % T;
        rope_rows(x + (size_t)bt * H * D, cos + (size_t)t * (D / 2), sin + (size_t)t * (D / 2),
                  H, D);
    }
}

/* The transpose of a rotation is the rotation by the opposite angle:
 * dx += R(-angle) dy. */
K_HOT static void rope_back_rows(float *dx, const float *dy, const float *cs, const float *sn,
                                 int H, int D)
{
    int h2 = D / 2;
    for (int h = 0; h < H; h++) {
        float *a = dx + (size_t)h * D, *b = a + h2;
        const float *ya = dy + (size_t)h * D, *yb = ya + h2;
        #pragma omp simd
        for (int i = 0; i < h2; i++) {
            float y1 = ya[i], y2 = yb[i], s = -sn[i];
            a[i] += y1 * cs[i] + y2 * s;
            b[i] += y2 * cs[i] - y1 * s;
        }
    }
}

void k_rope_backward(float *dinp, const float *dout, const float *cos, const float *sin, int B,
                     int T, int H, int D)
{
    #pragma omp parallel for schedule(static)
    for (int bt = 0; bt < B * T; bt++) {
        int t = bt % T;
        size_t o = (size_t)bt * H * D;
        rope_back_rows(dinp + o, dout + o, cos + (size_t)t * (D / 2), sin + (size_t)t * (D / 2),
                       H, D);
    }
}

/* ---------------------------------------------------------------------------
 * Residual mix: out = lambda x + x0_lambda x0 */

void k_residual_mix_forward(float *out, const float *x, const float *x0, const float *lambda,
                            const float *x0_lambda, int l, int N, int C)
{
    float a = lambda[l], b = x0_lambda[l];
    size_t n = (size_t)N * C;
    #pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++)
        out[i] = a * x[i] + b * x0[i];
}

void k_residual_mix_backward(float *dx, float *dx0, float *dlambda, float *dx0_lambda,
                             const float *dout, const float *x, const float *x0,
                             const float *lambda, const float *x0_lambda, int l, int N, int C)
{
    float a = lambda[l], b = x0_lambda[l];
    int nt = kernels_threads();
    double part_a[256] = {0}, part_b[256] = {0};
    if (nt > 256)
        nt = 256;
    int chunk = (N + nt - 1) / nt;
    #pragma omp parallel for schedule(static, 1) num_threads(nt)
    for (int p = 0; p < nt; p++) {
        int n0 = p * chunk, n1 = n0 + chunk < N ? n0 + chunk : N;
        double sa = 0, sb = 0;
        for (int n = n0; n < n1; n++) {
            size_t o = (size_t)n * C;
            float ra = 0, rb = 0;
            #pragma omp simd reduction(+ : ra, rb)
            for (int c = 0; c < C; c++) {
                float g = dout[o + c];
                ra += g * x[o + c];
                rb += g * x0[o + c];
                dx[o + c] += g * a;
                dx0[o + c] += g * b;
            }
            sa += ra;
            sb += rb;
        }
        part_a[p] = sa;
        part_b[p] = sb;
    }
    double sa = 0, sb = 0;
    for (int p = 0; p < nt; p++) {
        sa += part_a[p];
        sb += part_b[p];
    }
    dlambda[l] += (float)sa;
    dx0_lambda[l] += (float)sb;
}

/* ---------------------------------------------------------------------------
 * Value-embedding gate: v += 2 sigmoid(pre) ve, per kv head */

void k_ve_gate_forward(float *v, const float *pre, const float *ve, int N, int Hk, int D)
{
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++)
        for (int h = 0; h < Hk; h++) {
            float g = 2.0f * k_sigmoidf(pre[(size_t)n * Hk + h]);
            size_t o = ((size_t)n * Hk + h) * D;
            #pragma omp simd
            for (int d = 0; d < D; d++)
                v[o + d] += g * ve[o + d];
        }
}

void k_ve_gate_backward(float *dpre, float *dve, const float *dv, const float *pre,
                        const float *ve, int N, int Hk, int D)
{
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++)
        for (int h = 0; h < Hk; h++) {
            float s = k_sigmoidf(pre[(size_t)n * Hk + h]), g = 2.0f * s;
            size_t o = ((size_t)n * Hk + h) * D;
            float dot = 0.0f;
            #pragma omp simd reduction(+ : dot)
            for (int d = 0; d < D; d++) {
                dot += dv[o + d] * ve[o + d];
                dve[o + d] += dv[o + d] * g;
            }
            dpre[(size_t)n * Hk + h] += dot * 2.0f * s * (1.0f - s);
        }
}

/* ---------------------------------------------------------------------------
 * MLP activations */

#define GELU_K 0.7978845608028654f   /* sqrt(2/pi) */

K_HOT static void act_row(float *out, const float *u, int F, enum k_act kind)
{
    if (kind == K_ACT_RELU2) {
        #pragma omp simd
        for (int i = 0; i < F; i++) {
            float r = u[i] > 0.0f ? u[i] : 0.0f;
            out[i] = r * r;
        }
    } else if (kind == K_ACT_GELU) {
        #pragma omp simd
        for (int i = 0; i < F; i++) {
            float x = u[i];
            out[i] = 0.5f * x * (1.0f + k_tanhf(GELU_K * (x + 0.044715f * x * x * x)));
        }
    } else {
        const float *gate = u, *up = u + F;
        #pragma omp simd
        for (int i = 0; i < F; i++)
            out[i] = gate[i] * k_sigmoidf(gate[i]) * up[i];
    }
}

K_HOT static void act_back_row(float *du, const float *dout, const float *u, int F,
                               enum k_act kind)
{
    if (kind == K_ACT_RELU2) {
        #pragma omp simd
        for (int i = 0; i < F; i++)
            du[i] += u[i] > 0.0f ? 2.0f * u[i] * dout[i] : 0.0f;
    } else if (kind == K_ACT_GELU) {
        #pragma omp simd
        for (int i = 0; i < F; i++) {
            float x = u[i], th = k_tanhf(GELU_K * (x + 0.044715f * x * x * x));
            float dth = (1.0f - th * th) * GELU_K * (1.0f + 3.0f * 0.044715f * x * x);
            du[i] += dout[i] * (0.5f * (1.0f + th) + 0.5f * x * dth);
        }
    } else {
        const float *gate = u, *up = u + F;
        float *dgate = du, *dup = du + F;
        #pragma omp simd
        for (int i = 0; i < F; i++) {
            float s = k_sigmoidf(gate[i]), silu = gate[i] * s;
            dup[i] += dout[i] * silu;
            dgate[i] += dout[i] * up[i] * s * (1.0f + gate[i] * (1.0f - s));
        }
    }
}

void k_act_forward(float *out, const float *u, int N, int F, enum k_act kind)
{
    size_t in_w = kind == K_ACT_SWIGLU ? 2 * (size_t)F : (size_t)F;
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++)
        act_row(out + (size_t)n * F, u + n * in_w, F, kind);
}

void k_act_backward(float *du, const float *dout, const float *u, int N, int F,
                    enum k_act kind)
{
    size_t in_w = kind == K_ACT_SWIGLU ? 2 * (size_t)F : (size_t)F;
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++)
        act_back_row(du + n * in_w, dout + (size_t)n * F, u + n * in_w, F, kind);
}

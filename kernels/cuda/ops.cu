/* Elementwise and row kernels on a CUDA GPU: embeddings, RMSNorm, RoPE,
 * residual mix, value-embedding gate, MLP activations, the fused
 * soft-capped cross-entropy. Row kernels give each row one warp (norms,
 * gates) or one block (the vocabulary-wide loss). Gradients accumulate, as
 * kernels.h says; where rows share an output (embedding rows, the lambda
 * scalars) they add with atomics, so those sums are not bit-reproducible
 * run to run (differences at float rounding). */
#include "kcuda_internal.cuh"

#define RMS_EPS 1e-6f
#define GELU_K 0.7978845608028654f

#define GRID_STRIDE(i, n)                                                   \
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); \
         i += (size_t)gridDim.x * blockDim.x)

__device__ inline float sigmoidf_(float x) { return 1.0f / (1.0f + __expf(-x)); }

/* ---------------------------------------------------------------------------
 * Embedding */

__global__ void embedding_fwd(float *out, const uint16_t *idx, const float *table, int N, int C)
{
    GRID_STRIDE(i, (size_t)N * C) {
        size_t n = i / C, c = i % C;
        out[i] = table[(size_t)idx[n] * C + c];
    }
}

__global__ void embedding_bwd(float *dtable, const float *dout, const uint16_t *idx, int N,
                              int C)
{
    GRID_STRIDE(i, (size_t)N * C) {
        size_t n = i / C, c = i % C;
        atomicAdd(dtable + (size_t)idx[n] * C + c, dout[i]);
    }
}

extern "C" void kcuda_embedding_forward(float *out, const uint16_t *idx, const float *table,
                                        int N, int C)
{
    const uint16_t *d = kcuda_tokens(idx, (size_t)N, 0);
    embedding_fwd<<<kcuda_blocks((size_t)N * C, 256), 256>>>(out, d, table, N, C);
    CU_LAUNCHED();
}

extern "C" void kcuda_embedding_backward(float *dtable, const float *dout, const uint16_t *idx,
                                         int N, int C, int V)
{
    (void)V;
    const uint16_t *d = kcuda_tokens(idx, (size_t)N, 0);
    embedding_bwd<<<kcuda_blocks((size_t)N * C, 256), 256>>>(dtable, dout, d, N, C);
    CU_LAUNCHED();
}

/* ---------------------------------------------------------------------------
 * RMSNorm: one warp per row */

__device__ inline float warp_sum(float v)
{
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__global__ void rmsnorm_fwd(float *out, float *rstd, const float *inp, int N, int C)
{
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x & 31;
    if (row >= N)
        return;
    const float *x = inp + (size_t)row * C;
    float ss = 0.0f;
    for (int c = lane; c < C; c += 32)
        ss += x[c] * x[c];
    ss = warp_sum(ss);
    float r = rsqrtf(ss / C + RMS_EPS);
    if (lane == 0)
        rstd[row] = r;
    float *y = out + (size_t)row * C;
    for (int c = lane; c < C; c += 32)
        y[c] = x[c] * r;
}

__global__ void rmsnorm_bwd(float *dinp, const float *dout, const float *out, const float *rstd,
                            int N, int C)
{
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x & 31;
    if (row >= N)
        return;
    size_t o = (size_t)row * C;
    float dot = 0.0f;
    for (int c = lane; c < C; c += 32)
        dot += dout[o + c] * out[o + c];
    dot = warp_sum(dot) / C;
    float r = rstd[row];
    for (int c = lane; c < C; c += 32)
        dinp[o + c] += r * (dout[o + c] - out[o + c] * dot);
}

static unsigned warp_rows_blocks(int rows) { return (unsigned)((rows + 7) / 8); }

extern "C" void kcuda_rmsnorm_forward(float *out, float *rstd, const float *inp, int N, int C)
{
    rmsnorm_fwd<<<warp_rows_blocks(N), 256>>>(out, rstd, inp, N, C);
    CU_LAUNCHED();
}

extern "C" void kcuda_rmsnorm_backward(float *dinp, const float *dout, const float *out,
                                       const float *rstd, int N, int C)
{
    rmsnorm_bwd<<<warp_rows_blocks(N), 256>>>(dinp, dout, out, rstd, N, C);
    CU_LAUNCHED();
}

/* ---------------------------------------------------------------------------
 * RoPE, split halves; one thread per rotated pair */

/* dst (+)= R(sign * angle) src over rows (B*T, H, D); in place when the
 * forward pass rotates x itself (dst == src, no accumulation) */
__global__ void rope_kernel(float *dst, const float *src, const float *cs, const float *sn,
                            size_t rows, int T, int H, int D, float sign, int accumulate)
{
    int h2 = D / 2;
    GRID_STRIDE(i, rows * H * h2) {
        size_t bt = i / ((size_t)H * h2);
        int rest = (int)(i % ((size_t)H * h2)), h = rest / h2, j = rest % h2;
        int t = (int)(bt % T);
        size_t o = (bt * H + h) * D;
        float c = cs[(size_t)t * h2 + j], s = sign * sn[(size_t)t * h2 + j];
        float x1 = src[o + j], x2 = src[o + j + h2];
        float y1 = x1 * c + x2 * s, y2 = x2 * c - x1 * s;
        if (accumulate) {
            dst[o + j] += y1;
            dst[o + j + h2] += y2;
        } else {
            dst[o + j] = y1;
            dst[o + j + h2] = y2;
        }
    }
}

extern "C" void kcuda_rope_forward(float *x, const float *cos, const float *sin, int B, int T,
                                   int H, int D)
{
    size_t rows = (size_t)B * T;
    rope_kernel<<<kcuda_blocks(rows * H * (D / 2), 256), 256>>>(x, x, cos, sin, rows, T, H, D,
                                                                1.0f, 0);
    CU_LAUNCHED();
}

extern "C" void kcuda_rope_backward(float *dinp, const float *dout, const float *cos,
                                    const float *sin, int B, int T, int H, int D)
{
    size_t rows = (size_t)B * T;
    rope_kernel<<<kcuda_blocks(rows * H * (D / 2), 256), 256>>>(dinp, dout, cos, sin, rows, T,
                                                                H, D, -1.0f, 1);
    CU_LAUNCHED();
}

/* ---------------------------------------------------------------------------
 * Residual mix */

__global__ void mix_fwd(float *out, const float *x, const float *x0, const float *lambda,
                        const float *x0_lambda, int l, size_t n)
{
    float a = lambda[l], b = x0_lambda[l];
    GRID_STRIDE(i, n)
        out[i] = a * x[i] + b * x0[i];
}

__global__ void mix_bwd(float *dx, float *dx0, float *dlambda, float *dx0_lambda,
                        const float *dout, const float *x, const float *x0, const float *lambda,
                        const float *x0_lambda, int l, size_t n)
{
    __shared__ float sh[32];
    float a = lambda[l], b = x0_lambda[l], sa = 0.0f, sb = 0.0f;
    GRID_STRIDE(i, n) {
        float g = dout[i];
        sa += g * x[i];
        sb += g * x0[i];
        dx[i] += g * a;
        dx0[i] += g * b;
    }
    sa = kcuda_block_sum(sa, sh);
    sb = kcuda_block_sum(sb, sh);
    if (threadIdx.x == 0) {
        atomicAdd(dlambda + l, sa);
        atomicAdd(dx0_lambda + l, sb);
    }
}

extern "C" void kcuda_residual_mix_forward(float *out, const float *x, const float *x0,
                                           const float *lambda, const float *x0_lambda, int l,
                                           int N, int C)
{
    size_t n = (size_t)N * C;
    mix_fwd<<<kcuda_blocks(n, 256), 256>>>(out, x, x0, lambda, x0_lambda, l, n);
    CU_LAUNCHED();
}

extern "C" void kcuda_residual_mix_backward(float *dx, float *dx0, float *dlambda,
                                            float *dx0_lambda, const float *dout, const float *x,
                                            const float *x0, const float *lambda,
                                            const float *x0_lambda, int l, int N, int C)
{
    size_t n = (size_t)N * C;
    unsigned b = kcuda_blocks(n, 256);
    mix_bwd<<<b < 1024 ? b : 1024, 256>>>(dx, dx0, dlambda, dx0_lambda, dout, x, x0, lambda,
                                          x0_lambda, l, n);
    CU_LAUNCHED();
}

/* ---------------------------------------------------------------------------
 * Value-embedding gate: v += 2 sigmoid(pre) ve per kv head */

__global__ void ve_gate_fwd(float *v, const float *pre, const float *ve, int Hk, int D,
                            size_t n)
{
    GRID_STRIDE(i, n) {
        float g = 2.0f * sigmoidf_(pre[i / D]);
        v[i] += g * ve[i];
    }
    (void)Hk;
}

/* one warp per (row, head) */
__global__ void ve_gate_bwd(float *dpre, float *dve, const float *dv, const float *pre,
                            const float *ve, int rows, int D)
{
    int r = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x & 31;
    if (r >= rows)
        return;
    float s = sigmoidf_(pre[r]), g = 2.0f * s, dot = 0.0f;
    size_t o = (size_t)r * D;
    for (int d = lane; d < D; d += 32) {
        dot += dv[o + d] * ve[o + d];
        dve[o + d] += dv[o + d] * g;
    }
    dot = warp_sum(dot);
    if (lane == 0)
        dpre[r] += dot * 2.0f * s * (1.0f - s);
}

extern "C" void kcuda_ve_gate_forward(float *v, const float *pre, const float *ve, int N, int Hk,
                                      int D)
{
    size_t n = (size_t)N * Hk * D;
    ve_gate_fwd<<<kcuda_blocks(n, 256), 256>>>(v, pre, ve, Hk, D, n);
    CU_LAUNCHED();
}

extern "C" void kcuda_ve_gate_backward(float *dpre, float *dve, const float *dv,
                                       const float *pre, const float *ve, int N, int Hk, int D)
{
    ve_gate_bwd<<<warp_rows_blocks(N * Hk), 256>>>(dpre, dve, dv, pre, ve, N * Hk, D);
    CU_LAUNCHED();
}

/* ---------------------------------------------------------------------------
 * MLP activations */

__global__ void act_fwd(float *out, const float *u, int F, size_t n, int kind)
{
    GRID_STRIDE(i, n) {
        size_t row = i / F, j = i % F;
        if (kind == K_ACT_RELU2) {
            float r = fmaxf(u[i], 0.0f);
            out[i] = r * r;
        } else if (kind == K_ACT_GELU) {
            float x = u[i];
            out[i] = 0.5f * x * (1.0f + tanhf(GELU_K * (x + 0.044715f * x * x * x)));
        } else {
            const float *r = u + row * 2 * F;
            float g = r[j];
            out[i] = g * sigmoidf_(g) * r[F + j];
        }
    }
}

__global__ void act_bwd(float *du, const float *dout, const float *u, int F, size_t n, int kind)
{
    GRID_STRIDE(i, n) {
        size_t row = i / F, j = i % F;
        float d = dout[i];
        if (kind == K_ACT_RELU2) {
            du[i] += u[i] > 0.0f ? 2.0f * u[i] * d : 0.0f;
        } else if (kind == K_ACT_GELU) {
            float x = u[i], th = tanhf(GELU_K * (x + 0.044715f * x * x * x));
            float dth = (1.0f - th * th) * GELU_K * (1.0f + 3.0f * 0.044715f * x * x);
            du[i] += d * (0.5f * (1.0f + th) + 0.5f * x * dth);
        } else {
            size_t o = row * 2 * F;
            float g = u[o + j], up = u[o + F + j], s = sigmoidf_(g);
            du[o + F + j] += d * g * s;
            du[o + j] += d * up * s * (1.0f + g * (1.0f - s));
        }
    }
}

extern "C" void kcuda_act_forward(float *out, const float *u, int N, int F, enum k_act kind)
{
    size_t n = (size_t)N * F;
    act_fwd<<<kcuda_blocks(n, 256), 256>>>(out, u, F, n, (int)kind);
    CU_LAUNCHED();
}

extern "C" void kcuda_act_backward(float *du, const float *dout, const float *u, int N, int F,
                                   enum k_act kind)
{
    size_t n = (size_t)N * F;
    act_bwd<<<kcuda_blocks(n, 256), 256>>>(du, dout, u, F, n, (int)kind);
    CU_LAUNCHED();
}

/* ---------------------------------------------------------------------------
 * Cross-entropy with soft-cap, label smoothing and z-loss, fused with its
 * gradient (kernels/cpu/loss.c): one block per row, three passes over the
 * row in global memory (cap, max / sum, gradient). */

#define CE_THREADS 512

__global__ void ce_kernel(float *losses, float *logits, const uint16_t *targets, int V,
                          float cap, float ls, float zl, float dscale)
{
    __shared__ float sh[32];
    float *z = logits + (size_t)blockIdx.x * V;
    int target = targets[blockIdx.x];
    float mx = -INFINITY;
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
        float x = z[j];
        if (cap > 0.0f) {
            x = cap * tanhf(x / cap);
            z[j] = x;
        }
        mx = fmaxf(mx, x);
    }
    mx = kcuda_block_max(mx, sh);
    float sum = 0.0f, zsum = 0.0f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
        sum += expf(z[j] - mx);
        zsum += z[j];
    }
    sum = kcuda_block_sum(sum, sh);
    zsum = kcuda_block_sum(zsum, sh);
    float lse = mx + logf(sum);
    if (threadIdx.x == 0)
        losses[blockIdx.x] =
            (1.0f - ls) * (lse - z[target]) + ls * (lse - zsum / V) + zl * lse * lse;
    if (dscale == 0.0f)
        return;
    __syncthreads();   /* z[target] is read before anyone overwrites it */
    float pm = (1.0f + 2.0f * zl * lse) * dscale, off = ls / V * dscale;
    float inv2 = cap > 0.0f ? 1.0f / (cap * cap) : 0.0f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
        float x = z[j];
        float g = expf(x - lse) * pm - off - (j == target ? (1.0f - ls) * dscale : 0.0f);
        z[j] = g * (1.0f - x * x * inv2);
    }
}

extern "C" void kcuda_crossentropy(float *losses, float *logits, const uint16_t *targets, int N,
                                   int V, float softcap, float label_smoothing, float z_loss,
                                   float dscale)
{
    const uint16_t *d = kcuda_tokens(targets, (size_t)N, 1);
    ce_kernel<<<N, CE_THREADS>>>(losses, logits, d, V, softcap, label_smoothing, z_loss, dscale);
    CU_LAUNCHED();
}

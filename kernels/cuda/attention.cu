/* Causal sliding-window attention on a CUDA GPU, fused in the
 * FlashAttention manner: no T x T matrix is ever stored.
 *
 * Precision bf16 (the default) runs attention_bf16.cu: the same scheme
 * with its matrix products on tensor cores (wmma bf16 fragments, fp32
 * accumulation, softmax in fp32) when head_dim is a multiple of 16 and
 * the GPU is sm_80 or newer. Everything else (precision fp32 or tf32, any
 * other head_dim) runs the fp32 kernels below, which are also the
 * reference the bf16 path is tested against.
 *
 * Forward: one block per (tile of BQ queries, batch, head). The query tile
 * stays in shared memory while the key/value tiles the window lets it see
 * stream through; the softmax is computed online (running max and sum per
 * row, earlier output rescaled when the max grows) and each row's
 * log-sum-exp is kept for the backward pass.
 *
 * Backward: one block per (tile of BK keys, batch, kv head). The block
 * owns those keys' dk and dv (accumulated in shared memory, all query
 * heads of the group included, then added to the outputs), walks the
 * query tiles that can see its keys, recomputes p = exp(s - lse) and
 * ds = p (dp - rowsum(dout * out)), and adds its share of dq with atomics.
 *
 * Arithmetic here is fp32 (scores, softmax and products) and SIMT. Tiles
 * are padded by one float per row so that the dot products read shared
 * memory without bank conflicts. D up to 256 (the shared memory the GPU
 * has sets the limit; a larger D is a run-time error). */
#include "kcuda_internal.cuh"
#include "attention.cuh"

#define BQ 32
#define BK 32
#define THREADS 128

static int clamp_window(int T, int window) { return window > T || window <= 0 ? T : window; }

extern "C" size_t kcuda_attention_scratch(int T, int window, int threads)
{
    (void)T;
    (void)window;
    (void)threads;
    return 1;   /* everything lives in shared memory */
}

__global__ void attn_fwd(float *out, float *lse, const float *q, const float *k, const float *v,
                         int T, int H, int Hk, int D, int window, float scale)
{
    extern __shared__ float smem[];
    const int LD = D + 1, tid = threadIdx.x;
    float *Qs = smem, *Ks = Qs + BQ * LD, *Vs = Ks + BK * LD, *Os = Vs + BK * LD;
    float *S = Os + BQ * LD, *mrow = S + BQ * (BK + 1), *lrow = mrow + BQ, *alpha = lrow + BQ;

    const int i0 = blockIdx.x * BQ, b = blockIdx.y / H, h = blockIdx.y % H;
    const int kh = h / (H / Hk), ldq = H * D, ldk = Hk * D;
    const float *qb = q + (size_t)b * T * ldq + (size_t)h * D;
    const float *kb = k + (size_t)b * T * ldk + (size_t)kh * D;
    const float *vb = v + (size_t)b * T * ldk + (size_t)kh * D;

    for (int x = tid; x < BQ * D; x += THREADS) {
        int r = x / D, d = x % D, i = i0 + r;
        Qs[r * LD + d] = i < T ? qb[(size_t)i * ldq + d] : 0.0f;
        Os[r * LD + d] = 0.0f;
    }
    if (tid < BQ) {
        mrow[tid] = -INFINITY;
        lrow[tid] = 0.0f;
    }
    int ilast = min(i0 + BQ, T) - 1;
    int jlo = max(0, i0 - window + 1);
    for (int j0 = jlo; j0 <= ilast; j0 += BK) {
        __syncthreads();
        for (int x = tid; x < BK * D; x += THREADS) {
            int c = x / D, d = x % D, j = j0 + c;
            Ks[c * LD + d] = j < T ? kb[(size_t)j * ldk + d] : 0.0f;
            Vs[c * LD + d] = j < T ? vb[(size_t)j * ldk + d] : 0.0f;
        }
        __syncthreads();
        for (int x = tid; x < BQ * BK; x += THREADS) {
            int r = x / BK, c = x % BK, i = i0 + r, j = j0 + c;
            float s = -INFINITY;
            if (i < T && j <= i && j > i - window) {
                float acc = 0.0f;
                for (int d = 0; d < D; d++)
                    acc += Qs[r * LD + d] * Ks[c * LD + d];
                s = acc * scale;
            }
            S[r * (BK + 1) + c] = s;
        }
        __syncthreads();
        if (tid < BQ) {
            int r = tid;
            float mx = mrow[r];
            for (int c = 0; c < BK; c++)
                mx = fmaxf(mx, S[r * (BK + 1) + c]);
            float a = 1.0f, sum = 0.0f;
            if (mx == -INFINITY) {   /* nothing visible yet */
                for (int c = 0; c < BK; c++)
                    S[r * (BK + 1) + c] = 0.0f;
            } else {
                a = __expf(mrow[r] - mx);   /* 0 for the first visible tile */
                for (int c = 0; c < BK; c++) {
                    float p = __expf(S[r * (BK + 1) + c] - mx);
                    S[r * (BK + 1) + c] = p;
                    sum += p;
                }
                mrow[r] = mx;
            }
            lrow[r] = lrow[r] * a + sum;
            alpha[r] = a;
        }
        __syncthreads();
        for (int x = tid; x < BQ * D; x += THREADS) {
            int r = x / D, d = x % D;
            float acc = Os[r * LD + d] * alpha[r];
            for (int c = 0; c < BK; c++)
                acc += S[r * (BK + 1) + c] * Vs[c * LD + d];
            Os[r * LD + d] = acc;
        }
    }
    __syncthreads();
    float *ob = out + (size_t)b * T * ldq + (size_t)h * D;
    for (int x = tid; x < BQ * D; x += THREADS) {
        int r = x / D, d = x % D, i = i0 + r;
        if (i < T)
            ob[(size_t)i * ldq + d] = Os[r * LD + d] / lrow[r];
    }
    if (tid < BQ && i0 + tid < T)
        lse[((size_t)b * H + h) * T + i0 + tid] = mrow[tid] + logf(lrow[tid]);
}

__global__ void attn_bwd(float *dq, float *dk, float *dv, const float *dout, const float *out,
                         const float *lse, const float *q, const float *k, const float *v,
                         int T, int H, int Hk, int D, int window, float scale)
{
    extern __shared__ float smem[];
    const int LD = D + 1, tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    float *Ks = smem, *Vs = Ks + BK * LD, *Qs = Vs + BK * LD, *dOs = Qs + BQ * LD;
    float *dKs = dOs + BQ * LD, *dVs = dKs + BK * LD, *P = dVs + BK * LD;
    float *dS = P + BQ * (BK + 1), *lses = dS + BQ * (BK + 1), *Di = lses + BQ;

    const int j0 = blockIdx.x * BK, b = blockIdx.y / Hk, kh = blockIdx.y % Hk;
    const int group = H / Hk, ldq = H * D, ldk = Hk * D;
    const size_t kvo = (size_t)b * T * ldk + (size_t)kh * D;

    for (int x = tid; x < BK * D; x += THREADS) {
        int c = x / D, d = x % D, j = j0 + c;
        Ks[c * LD + d] = j < T ? k[kvo + (size_t)j * ldk + d] : 0.0f;
        Vs[c * LD + d] = j < T ? v[kvo + (size_t)j * ldk + d] : 0.0f;
        dKs[c * LD + d] = 0.0f;
        dVs[c * LD + d] = 0.0f;
    }
    int jlast = min(j0 + BK, T) - 1;
    int ilast = min(T - 1, jlast + window - 1);
    for (int h = kh * group; h < (kh + 1) * group; h++) {
        const size_t qo = (size_t)b * T * ldq + (size_t)h * D;
        const float *lb = lse + ((size_t)b * H + h) * T;
        for (int i0 = j0; i0 <= ilast; i0 += BQ) {
            __syncthreads();
            for (int x = tid; x < BQ * D; x += THREADS) {
                int r = x / D, d = x % D, i = i0 + r;
                Qs[r * LD + d] = i < T ? q[qo + (size_t)i * ldq + d] : 0.0f;
                dOs[r * LD + d] = i < T ? dout[qo + (size_t)i * ldq + d] : 0.0f;
            }
            for (int r = warp; r < BQ; r += THREADS / 32) {
                int i = i0 + r;
                float s = 0.0f;
                if (i < T)
                    for (int d = lane; d < D; d += 32)
                        s += dout[qo + (size_t)i * ldq + d] * out[qo + (size_t)i * ldq + d];
                for (int o = 16; o > 0; o >>= 1)
                    s += __shfl_xor_sync(0xffffffffu, s, o);
                if (lane == 0) {
                    Di[r] = s;
                    lses[r] = i < T ? lb[i] : 0.0f;
                }
            }
            __syncthreads();
            for (int x = tid; x < BQ * BK; x += THREADS) {
                int r = x / BK, c = x % BK, i = i0 + r, j = j0 + c;
                float p = 0.0f, ds = 0.0f;
                if (i < T && j < T && j <= i && j > i - window) {
                    float s = 0.0f, dp = 0.0f;
                    for (int d = 0; d < D; d++) {
                        s += Qs[r * LD + d] * Ks[c * LD + d];
                        dp += dOs[r * LD + d] * Vs[c * LD + d];
                    }
                    p = __expf(s * scale - lses[r]);
                    ds = p * (dp - Di[r]);
                }
                P[r * (BK + 1) + c] = p;
                dS[r * (BK + 1) + c] = ds;
            }
            __syncthreads();
            for (int x = tid; x < BK * D; x += THREADS) {
                int c = x / D, d = x % D;
                float av = 0.0f, ak = 0.0f;
                for (int r = 0; r < BQ; r++) {
                    av += P[r * (BK + 1) + c] * dOs[r * LD + d];
                    ak += dS[r * (BK + 1) + c] * Qs[r * LD + d];
                }
                dVs[c * LD + d] += av;
                dKs[c * LD + d] += ak * scale;
            }
            for (int x = tid; x < BQ * D; x += THREADS) {
                int r = x / D, d = x % D, i = i0 + r;
                if (i >= T)
                    continue;
                float acc = 0.0f;
                for (int c = 0; c < BK; c++)
                    acc += dS[r * (BK + 1) + c] * Ks[c * LD + d];
                if (acc != 0.0f)
                    atomicAdd(dq + qo + (size_t)i * ldq + d, acc * scale);
            }
        }
    }
    __syncthreads();
    for (int x = tid; x < BK * D; x += THREADS) {
        int c = x / D, d = x % D, j = j0 + c;
        if (j < T) {
            dk[kvo + (size_t)j * ldk + d] += dKs[c * LD + d];
            dv[kvo + (size_t)j * ldk + d] += dVs[c * LD + d];
        }
    }
}

static size_t fwd_smem(int D)
{
    return sizeof(float) * ((size_t)(2 * BQ + 2 * BK) * (D + 1) + BQ * (BK + 1) + 3 * BQ);
}

static size_t bwd_smem(int D)
{
    return sizeof(float) * ((size_t)(2 * BQ + 4 * BK) * (D + 1) + 2 * BQ * (BK + 1) + 2 * BQ);
}

/* Allows a kernel the shared memory it needs (beyond the default 48 KB). */
static void allow_smem(const void *fn, size_t bytes, int D)
{
    int dev = 0, optin = 0;
    CU(cudaGetDevice(&dev));
    CU(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
    if (bytes > (size_t)optin) {
        char msg[160];
        snprintf(msg, sizeof msg, "attention: head_dim %d needs %zu bytes of shared memory, "
                 "the GPU has %d", D, bytes, optin);
        kcuda_fatal(msg, __FILE__, __LINE__);
    }
    CU(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes));
}

extern "C" void kcuda_attention_forward(float *out, float *lse, const float *q, const float *k,
                                        const float *v, float *scratch, size_t scratch_floats,
                                        int B, int T, int H, int Hk, int D, int window)
{
    (void)scratch;
    (void)scratch_floats;
    window = clamp_window(T, window);
    if (kcuda_attention_forward_tc(out, lse, q, k, v, B, T, H, Hk, D, window))
        return;
    size_t sm = fwd_smem(D);
    allow_smem((const void *)attn_fwd, sm, D);
    dim3 grid((unsigned)((T + BQ - 1) / BQ), (unsigned)(B * H));
    attn_fwd<<<grid, THREADS, sm>>>(out, lse, q, k, v, T, H, Hk, D, window,
                                    1.0f / sqrtf((float)D));
    CU_LAUNCHED();
}

extern "C" void kcuda_attention_backward(float *dq, float *dk, float *dv, const float *dout,
                                         const float *out, const float *lse, const float *q,
                                         const float *k, const float *v, float *scratch,
                                         size_t scratch_floats, int B, int T, int H, int Hk,
                                         int D, int window)
{
    (void)scratch;
    (void)scratch_floats;
    window = clamp_window(T, window);
    if (kcuda_attention_backward_tc(dq, dk, dv, dout, out, lse, q, k, v, B, T, H, Hk, D, window))
        return;
    size_t sm = bwd_smem(D);
    allow_smem((const void *)attn_bwd, sm, D);
    dim3 grid((unsigned)((T + BK - 1) / BK), (unsigned)(B * Hk));
    attn_bwd<<<grid, THREADS, sm>>>(dq, dk, dv, dout, out, lse, q, k, v, T, H, Hk, D, window,
                                    1.0f / sqrtf((float)D));
    CU_LAUNCHED();
}

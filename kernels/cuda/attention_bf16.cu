/* Causal sliding-window attention on tensor cores, for precision bf16:
 * the same fused FlashAttention scheme as attention.cu, with every matrix
 * product (Q K^T and P V forward; S, dP = dO V^T, dV += P^T dO,
 * dK += dS^T Q, dQ += dS K backward) on nvcuda::wmma 16x16x16 bf16
 * fragments with fp32 accumulation. The inputs of the products (q, k, v,
 * and dout backward) are first copied to bf16 in a workspace of this
 * file's (kernels.h's interface is fp32), so that the tiles the kernels
 * read again and again cost half the memory traffic and go to shared
 * memory 16 bytes a thread, unconverted. The softmax (scores, running max
 * and sum, log-sum-exp) and rowsum(dO * O) stay in fp32, as do the
 * outputs and gradients.
 *
 * A block has four warps and each warp owns 16 rows of the block's tile,
 * so between the block's tile loads a warp only waits for itself
 * (__syncwarp): its scores go to its own slice of shared memory, where
 * each pair of lanes owns one row for the softmax.
 *
 * Forward: one block per (64 queries, batch, head); 64-key tiles of K
 * and V stream through. The output accumulates in the warps' fragments.
 * A fragment does not say which row an element is in, so rescaling rows
 * when their max grows goes through shared memory; it is kept rare by
 * moving a row's reference max only when the max passes it by RESCALE.
 *
 * Backward: two kernels and no atomics. attn_dq_tc, one block per
 * (64 queries, batch, head), recomputes P and dS for the keys the queries
 * see and keeps dQ in the warps' fragments; it also writes
 * rowsum(dO * O) for the second, attn_dkdv_tc, one block per (64 keys,
 * batch, kv head), which walks the query tiles (64 rows, every head of
 * the group) that see its keys and keeps dK and dV in fragments. Each
 * output row has exactly one writer.
 *
 * The fragment counts are template parameters (head_dim up to 64, 128 or
 * 256), so the accumulators are registers; head_dim must be a multiple
 * of 16. */
#include "kcuda_internal.cuh"
#include "attention.cuh"

#include <cuda_bf16.h>
#include <mma.h>

using namespace nvcuda;
typedef __nv_bfloat16 bf16;

#define TQ 64          /* query rows per block (forward, dq) and per streamed query tile */
#define TK 64          /* key rows per block (dk, dv) and per streamed key tile */
#define WARPS 4
#define NT (WARPS * 32)
#define PADH 8         /* bf16 elements added to a row: 16 bytes, no bank conflicts */
#define PADF 4         /* floats added to a row: 16 bytes */
#define RESCALE 8.0f   /* forward: how far a row's max may pass its reference first */
static_assert(TQ == TK, "the backward kernels share one shared-memory layout");
/* NO_TC: bf16 wmma needs sm_80; built for an older GPU too (CUDA_ARCH),
 * the kernels are empty there and tc_fits never launches them */

typedef wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> FragA;
typedef wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major> FragB;
/* the transpose of a row-major tile, read as a column-major B operand */
typedef wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major> FragBt;
typedef wmma::fragment<wmma::accumulator, 16, 16, 16, float> FragC;

/* ---------------------------------------------------------------------------
 * Shared memory: each region starts on 128 bytes (wmma wants 32). One
 * function per kernel gives the offsets to the host (for the launch size)
 * and to the kernel. */

__host__ __device__ static inline size_t carve(size_t *at, size_t bytes)
{
    size_t o = *at;
    *at += (bytes + 127) & ~(size_t)127;
    return o;
}

struct FwdSmem { size_t q, k, v, o, s, p, l, bytes; };
__host__ __device__ static inline FwdSmem fwd_smem(int D)
{
    FwdSmem m;
    size_t at = 0, LH = D + PADH, LF = D + PADF;
    m.q = carve(&at, TQ * LH * sizeof(bf16));
    m.k = carve(&at, TK * LH * sizeof(bf16));
    m.v = carve(&at, TK * LH * sizeof(bf16));
    m.o = carve(&at, TQ * LF * sizeof(float));
    m.s = carve(&at, TQ * (TK + PADF) * sizeof(float));
    m.p = carve(&at, TQ * (TK + PADH) * sizeof(bf16));
    m.l = carve(&at, TQ * sizeof(float));
    m.bytes = at;
    return m;
}

/* a: the rows the block owns (q, dO or k, v), b: the streamed tiles. The
 * a regions come first and are contiguous (their sizes are multiples of
 * 128 bytes), so at the end they hold one fp32 tile of TQ x (D + PADF)
 * for the results. */
struct BwdSmem { size_t a0, a1, b0, b1, s, p, ds, lse, di, bytes; };
__host__ __device__ static inline BwdSmem bwd_smem(int D)
{
    BwdSmem m;
    size_t at = 0, LH = D + PADH;
    m.a0 = carve(&at, TQ * LH * sizeof(bf16));
    m.a1 = carve(&at, TQ * LH * sizeof(bf16));
    m.b0 = carve(&at, TK * LH * sizeof(bf16));
    m.b1 = carve(&at, TK * LH * sizeof(bf16));
    m.s = carve(&at, TQ * (TK + PADF) * sizeof(float));
    m.p = carve(&at, TQ * (TK + PADH) * sizeof(bf16));
    m.ds = carve(&at, TQ * (TK + PADH) * sizeof(bf16));
    m.lse = carve(&at, TK * sizeof(float));
    m.di = carve(&at, TK * sizeof(float));
    m.bytes = at;
    return m;
}

/* ---------------------------------------------------------------------------
 * Tile helpers (warp-collective where they use wmma) */

/* rows r0..r0+R-1 of src (row stride ld) into dst, zero beyond T: 8
 * elements (16 bytes) a thread, as D, ld and ldd are multiples of 8 */
__device__ inline void tile_in(bf16 *dst, int ldd, const bf16 *src, size_t ld, int r0,
                               int R, int T, int D)
{
    const int per_row = D / 8;
    for (int x = threadIdx.x; x < R * per_row; x += NT) {
        int r = x / per_row, d = (x - r * per_row) * 8, i = r0 + r;
        uint4 u = make_uint4(0u, 0u, 0u, 0u);
        if (i < T)
            u = *(const uint4 *)(src + (size_t)i * ld + d);
        *(uint4 *)(dst + r * ldd + d) = u;
    }
}

/* dst = src rounded to bf16, n even */
__global__ void attn_to_bf16(bf16 *dst, const float *src, size_t n)
{
    for (size_t x = 2 * ((size_t)blockIdx.x * blockDim.x + threadIdx.x); x < n;
         x += 2 * (size_t)gridDim.x * blockDim.x) {
        dst[x] = __float2bfloat16(src[x]);
        dst[x + 1] = __float2bfloat16(src[x + 1]);
    }
}

__device__ inline bool sees(int i, int j, int T, int window)
{
    return i < T && j <= i && j > i - window;
}

/* S (16 x 16 NN fp32, lds) = A (16 x D) times the transpose of B's first
 * 16 NN rows (each D long) */
template <int NN>
__device__ static inline void mm_abt(float *S, int lds, const bf16 *A, int lda, const bf16 *B,
                                     int ldb, int D)
{
    FragC acc[NN];
#pragma unroll
    for (int n = 0; n < NN; n++)
        wmma::fill_fragment(acc[n], 0.0f);
    for (int kk = 0; kk < D; kk += 16) {
        FragA a;
        wmma::load_matrix_sync(a, A + kk, lda);
#pragma unroll
        for (int n = 0; n < NN; n++) {
            FragBt bt;
            wmma::load_matrix_sync(bt, B + n * 16 * ldb + kk, ldb);
            wmma::mma_sync(acc[n], a, bt, acc[n]);
        }
    }
#pragma unroll
    for (int n = 0; n < NN; n++)
        wmma::store_matrix_sync(S + n * 16, acc[n], lds, wmma::mem_row_major);
}

/* acc[n] (columns 16n.. of a 16 x D tile) += P (16 x 16 NK) V (16 NK x D) */
template <int NDM, int NK>
__device__ static inline void mm_ab_acc(FragC *acc, const bf16 *P, int ldp, const bf16 *V,
                                        int ldv, int D)
{
    FragA a[NK];
#pragma unroll
    for (int kk = 0; kk < NK; kk++)
        wmma::load_matrix_sync(a[kk], P + kk * 16, ldp);
#pragma unroll
    for (int n = 0; n < NDM; n++) {
        if (n * 16 >= D)
            continue;
#pragma unroll
        for (int kk = 0; kk < NK; kk++) {
            FragB b;
            wmma::load_matrix_sync(b, V + kk * 16 * ldv + n * 16, ldv);
            wmma::mma_sync(acc[n], a[kk], b, acc[n]);
        }
    }
}

/* dst rows row0.. (< T, stride ld) += scale times the warp's 16 x D tile
 * in acc, staged through F (16 x (D + PADF) fp32) */
template <int NDM>
__device__ static inline void rows_add(float *dst, size_t ld, int row0, int T, float scale,
                                       const FragC *acc, float *F, int D)
{
    const int LF = D + PADF, lane = threadIdx.x & 31;
#pragma unroll
    for (int n = 0; n < NDM; n++)
        if (n * 16 < D)
            wmma::store_matrix_sync(F + n * 16, acc[n], LF, wmma::mem_row_major);
    __syncwarp();
    for (int x = lane; x < 16 * D; x += 32) {
        int r = x / D, d = x - r * D;
        if (row0 + r < T)
            dst[(size_t)(row0 + r) * ld + d] += scale * F[r * LF + d];
    }
    __syncwarp();
}

/* ---------------------------------------------------------------------------
 * Forward */

template <int NDM>
__global__ void __launch_bounds__(NT)
attn_fwd_tc(float *out, float *lse, const bf16 *q, const bf16 *k, const bf16 *v, int T,
            int H, int Hk, int D, int window, float scale)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
    __trap();   /* not launched: see NO_TC */
#else
    extern __shared__ __align__(128) float smem[];
    const FwdSmem L = fwd_smem(D);
    char *sm = (char *)smem;
    const int LH = D + PADH, LF = D + PADF, LS = TK + PADF, LP = TK + PADH;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    bf16 *Qs = (bf16 *)(sm + L.q), *Ks = (bf16 *)(sm + L.k), *Vs = (bf16 *)(sm + L.v);
    float *Ow = (float *)(sm + L.o) + warp * 16 * LF;
    float *Sw = (float *)(sm + L.s) + warp * 16 * LS, *Lw = (float *)(sm + L.l) + warp * 16;
    bf16 *Pw = (bf16 *)(sm + L.p) + warp * 16 * LP;
    const bf16 *Qw = Qs + warp * 16 * LH;

    const int i0 = blockIdx.x * TQ, b = blockIdx.y / H, h = blockIdx.y % H;
    const int kh = h / (H / Hk);
    const size_t ldq = (size_t)H * D, ldk = (size_t)Hk * D;
    const bf16 *kb = k + (size_t)b * T * ldk + (size_t)kh * D;
    const bf16 *vb = v + (size_t)b * T * ldk + (size_t)kh * D;

    tile_in(Qs, LH, q + (size_t)b * T * ldq + (size_t)h * D, ldq, i0, TQ, T, D);
    FragC o[NDM];
#pragma unroll
    for (int n = 0; n < NDM; n++)
        wmma::fill_fragment(o[n], 0.0f);
    /* this warp's rows wi0..wi1; lanes 2r and 2r+1 own row r, whose
     * probabilities are exp(s - m) with m at most RESCALE below the row's
     * running max (see below) and sum l */
    const int wi0 = i0 + warp * 16, wi1 = min(wi0 + 15, T - 1);
    const int r = lane >> 1, half = lane & 1, i = wi0 + r;
    float m = -INFINITY, l = 0.0f;
    for (int j0 = max(0, i0 - window + 1); j0 < min(i0 + TQ, T); j0 += TK) {
        __syncthreads();
        tile_in(Ks, LH, kb, ldk, j0, TK, T, D);
        tile_in(Vs, LH, vb, ldk, j0, TK, T, D);
        __syncthreads();
        if (wi0 > wi1 || j0 > wi1 || j0 + TK - 1 <= wi0 - window)
            continue;   /* warp-uniform: none of the warp's queries sees these keys */
        mm_abt<TK / 16>(Sw, LS, Qw, LH, Ks, LH, D);
        __syncwarp();
        float mx = -INFINITY;
        for (int c = half; c < TK; c += 2) {
            float s = sees(i, j0 + c, T, window) ? Sw[r * LS + c] * scale : -INFINITY;
            Sw[r * LS + c] = s;
            mx = fmaxf(mx, s);
        }
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        /* m moves only when the tile's max exceeds it by RESCALE (p then
         * stays below e^RESCALE, far from overflow): the output, in the
         * warp's fragments, is rescaled by rows through shared memory,
         * which rarely happens after a row's first keys. The first
         * visible tile sets m with nothing to rescale (o and l are 0); a
         * row that sees nothing yet gets p = exp(-inf) = 0. */
        float alpha = 1.0f;
        if (m == -INFINITY)
            m = mx;
        else if (mx > m + RESCALE) {
            alpha = __expf(m - mx);
            m = mx;
        }
        float mref = m == -INFINITY ? 0.0f : m, sum = 0.0f;
        for (int c = half; c < TK; c += 2) {
            float p = __expf(Sw[r * LS + c] - mref);
            Pw[r * LP + c] = __float2bfloat16(p);
            sum += p;
        }
        sum += __shfl_xor_sync(0xffffffffu, sum, 1);
        l = l * alpha + sum;
        if (__any_sync(0xffffffffu, alpha != 1.0f)) {
#pragma unroll
            for (int n = 0; n < NDM; n++)
                if (n * 16 < D)
                    wmma::store_matrix_sync(Ow + n * 16, o[n], LF, wmma::mem_row_major);
            __syncwarp();
            for (int d = half; d < D; d += 2)
                Ow[r * LF + d] *= alpha;
            __syncwarp();
#pragma unroll
            for (int n = 0; n < NDM; n++)
                if (n * 16 < D)
                    wmma::load_matrix_sync(o[n], Ow + n * 16, LF, wmma::mem_row_major);
        }
        __syncwarp();
        mm_ab_acc<NDM, TK / 16>(o, Pw, LP, Vs, LH, D);
    }
    if (wi0 > wi1)
        return;
    if (half == 0) {
        Lw[r] = l;
        if (i < T)
            lse[((size_t)b * H + h) * T + i] = m + logf(l);
    }
#pragma unroll
    for (int n = 0; n < NDM; n++)
        if (n * 16 < D)
            wmma::store_matrix_sync(Ow + n * 16, o[n], LF, wmma::mem_row_major);
    __syncwarp();
    float *ob = out + (size_t)b * T * ldq + (size_t)h * D;
    for (int x = lane; x < 16 * D; x += 32) {
        int rr = x / D, d = x - rr * D;
        if (wi0 + rr < T)
            ob[(size_t)(wi0 + rr) * ldq + d] = Ow[rr * LF + d] / Lw[rr];
    }
#endif
}

/* ---------------------------------------------------------------------------
 * Backward */

/* dq, and di = rowsum(dout * out) (B,H,T) for attn_dkdv_tc */
template <int NDM>
__global__ void __launch_bounds__(NT)
attn_dq_tc(float *dq, float *di, const bf16 *dout16, const float *dout, const float *out,
           const float *lse, const bf16 *q, const bf16 *k, const bf16 *v, int T, int H, int Hk,
           int D, int window, float scale)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
    __trap();   /* not launched: see NO_TC */
#else
    extern __shared__ __align__(128) float smem[];
    const BwdSmem L = bwd_smem(D);
    char *sm = (char *)smem;
    const int LH = D + PADH, LF = D + PADF, LS = TK + PADF, LP = TK + PADH;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    bf16 *Qs = (bf16 *)(sm + L.a0), *dOs = (bf16 *)(sm + L.a1);
    bf16 *Ks = (bf16 *)(sm + L.b0), *Vs = (bf16 *)(sm + L.b1);
    float *Sw = (float *)(sm + L.s) + warp * 16 * LS;
    bf16 *Pw = (bf16 *)(sm + L.p) + warp * 16 * LP;
    float *Lr = (float *)(sm + L.lse), *Dr = (float *)(sm + L.di);

    const int i0 = blockIdx.x * TQ, b = blockIdx.y / H, h = blockIdx.y % H;
    const int kh = h / (H / Hk);
    const size_t ldq = (size_t)H * D, ldk = (size_t)Hk * D;
    const size_t qo = (size_t)b * T * ldq + (size_t)h * D;
    const size_t ko = (size_t)b * T * ldk + (size_t)kh * D;
    const size_t lo = ((size_t)b * H + h) * T;

    tile_in(Qs, LH, q + qo, ldq, i0, TQ, T, D);
    tile_in(dOs, LH, dout16 + qo, ldq, i0, TQ, T, D);
    for (int rr = warp; rr < TQ; rr += WARPS) {   /* in fp32, from the fp32 arrays */
        int ii = i0 + rr;
        float s = 0.0f;
        if (ii < T)
            for (int d = lane; d < D; d += 32)
                s += dout[qo + (size_t)ii * ldq + d] * out[qo + (size_t)ii * ldq + d];
        for (int o = 16; o > 0; o >>= 1)
            s += __shfl_xor_sync(0xffffffffu, s, o);
        if (lane == 0) {
            Dr[rr] = s;
            Lr[rr] = ii < T ? lse[lo + ii] : 0.0f;
            if (ii < T)
                di[lo + ii] = s;
        }
    }
    FragC acc[NDM];
#pragma unroll
    for (int n = 0; n < NDM; n++)
        wmma::fill_fragment(acc[n], 0.0f);
    const int wi0 = i0 + warp * 16, wi1 = min(wi0 + 15, T - 1);
    const int r = lane >> 1, half = lane & 1, i = wi0 + r;
    for (int j0 = max(0, i0 - window + 1); j0 < min(i0 + TQ, T); j0 += TK) {
        __syncthreads();
        tile_in(Ks, LH, k + ko, ldk, j0, TK, T, D);
        tile_in(Vs, LH, v + ko, ldk, j0, TK, T, D);
        __syncthreads();
        if (wi0 > wi1 || j0 > wi1 || j0 + TK - 1 <= wi0 - window)
            continue;   /* warp-uniform */
        const float lr = Lr[warp * 16 + r], dr = Dr[warp * 16 + r];
        mm_abt<TK / 16>(Sw, LS, Qs + warp * 16 * LH, LH, Ks, LH, D);
        __syncwarp();
        for (int c = half; c < TK; c += 2) {
            float p = sees(i, j0 + c, T, window) ? __expf(Sw[r * LS + c] * scale - lr) : 0.0f;
            Pw[r * LP + c] = __float2bfloat16(p);
        }
        __syncwarp();
        mm_abt<TK / 16>(Sw, LS, dOs + warp * 16 * LH, LH, Vs, LH, D);   /* dP */
        __syncwarp();
        for (int c = half; c < TK; c += 2) {   /* dS = P (dP - di), in place of P */
            float p = __bfloat162float(Pw[r * LP + c]);
            Pw[r * LP + c] = __float2bfloat16(p * (Sw[r * LS + c] - dr));
        }
        __syncwarp();
        mm_ab_acc<NDM, TK / 16>(acc, Pw, LP, Ks, LH, D);
    }
    __syncthreads();   /* the q and dO tiles become the output tile */
    if (wi0 <= wi1)
        rows_add<NDM>(dq + qo, ldq, wi0, T, scale, acc, (float *)(sm + L.a0) + warp * 16 * LF, D);
#endif
}

/* dk, dv from the di that attn_dq_tc wrote */
template <int NDM>
__global__ void __launch_bounds__(NT)
attn_dkdv_tc(float *dk, float *dv, const bf16 *dout, const float *di, const float *lse,
             const bf16 *q, const bf16 *k, const bf16 *v, int T, int H, int Hk, int D,
             int window, float scale)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
    __trap();   /* not launched: see NO_TC */
#else
    extern __shared__ __align__(128) float smem[];
    const BwdSmem L = bwd_smem(D);
    char *sm = (char *)smem;
    const int LH = D + PADH, LF = D + PADF, LS = TQ + PADF, LP = TQ + PADH;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    bf16 *Ks = (bf16 *)(sm + L.a0), *Vs = (bf16 *)(sm + L.a1);
    bf16 *Qs = (bf16 *)(sm + L.b0), *dOs = (bf16 *)(sm + L.b1);
    float *Sw = (float *)(sm + L.s) + warp * 16 * LS;
    bf16 *Pw = (bf16 *)(sm + L.p) + warp * 16 * LP, *dSw = (bf16 *)(sm + L.ds) + warp * 16 * LP;
    float *Lr = (float *)(sm + L.lse), *Dr = (float *)(sm + L.di);

    const int j0 = blockIdx.x * TK, b = blockIdx.y / Hk, kh = blockIdx.y % Hk;
    const int group = H / Hk;
    const size_t ldq = (size_t)H * D, ldk = (size_t)Hk * D;
    const size_t ko = (size_t)b * T * ldk + (size_t)kh * D;

    tile_in(Ks, LH, k + ko, ldk, j0, TK, T, D);
    tile_in(Vs, LH, v + ko, ldk, j0, TK, T, D);
    FragC dka[NDM], dva[NDM];
#pragma unroll
    for (int n = 0; n < NDM; n++) {
        wmma::fill_fragment(dka[n], 0.0f);
        wmma::fill_fragment(dva[n], 0.0f);
    }
    /* this warp's keys wj0..wj1; lanes 2c and 2c+1 own key c */
    const int wj0 = j0 + warp * 16, wj1 = min(wj0 + 15, T - 1);
    const int c = lane >> 1, half = lane & 1, j = wj0 + c;
    const int ilast = min(T - 1, min(j0 + TK, T) - 1 + window - 1);
    for (int h = kh * group; h < (kh + 1) * group; h++) {
        const size_t qo = (size_t)b * T * ldq + (size_t)h * D, lo = ((size_t)b * H + h) * T;
        for (int i0 = j0; i0 <= ilast; i0 += TQ) {
            __syncthreads();
            tile_in(Qs, LH, q + qo, ldq, i0, TQ, T, D);
            tile_in(dOs, LH, dout + qo, ldq, i0, TQ, T, D);
            for (int x = threadIdx.x; x < TQ; x += NT) {
                Lr[x] = i0 + x < T ? lse[lo + i0 + x] : 0.0f;
                Dr[x] = i0 + x < T ? di[lo + i0 + x] : 0.0f;
            }
            __syncthreads();
            if (wj0 > wj1 || min(i0 + TQ - 1, T - 1) < wj0 || i0 > wj1 + window - 1)
                continue;   /* warp-uniform: no query here sees the warp's keys */
            mm_abt<TQ / 16>(Sw, LS, Ks + warp * 16 * LH, LH, Qs, LH, D);   /* S^T */
            __syncwarp();
            for (int rq = half; rq < TQ; rq += 2) {
                float p = sees(i0 + rq, j, T, window) ? __expf(Sw[c * LS + rq] * scale - Lr[rq])
                                                      : 0.0f;
                Pw[c * LP + rq] = __float2bfloat16(p);
            }
            __syncwarp();
            mm_abt<TQ / 16>(Sw, LS, Vs + warp * 16 * LH, LH, dOs, LH, D);   /* dP^T */
            __syncwarp();
            for (int rq = half; rq < TQ; rq += 2) {
                float p = __bfloat162float(Pw[c * LP + rq]);
                dSw[c * LP + rq] = __float2bfloat16(p * (Sw[c * LS + rq] - Dr[rq]));
            }
            __syncwarp();
            mm_ab_acc<NDM, TQ / 16>(dva, Pw, LP, dOs, LH, D);
            mm_ab_acc<NDM, TQ / 16>(dka, dSw, LP, Qs, LH, D);
        }
    }
    __syncthreads();   /* the k and v tiles become the output tile */
    if (wj0 > wj1)
        return;
    float *F = (float *)(sm + L.a0) + warp * 16 * LF;
    rows_add<NDM>(dk + ko, ldk, wj0, T, scale, dka, F, D);
    rows_add<NDM>(dv + ko, ldk, wj0, T, 1.0f, dva, F, D);
#endif
}

/* ---------------------------------------------------------------------------
 * Launch */

/* whether the GPU runs bf16 wmma (sm_80 on) and gives a block that much
 * shared memory */
static int tc_fits(size_t bytes)
{
    static int optin = -1, major;
    if (optin < 0) {
        int dev = 0;
        CU(cudaGetDevice(&dev));
        CU(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
        CU(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
    }
    return major >= 8 && bytes <= (size_t)optin;
}

static int tc_shape(int D) { return kcuda_prec == K_PREC_BF16 && D % 16 == 0 && D <= 256; }

/* lets fn have bytes of shared memory, and asks for the largest carveout:
 * two blocks of a kernel (110 KB each at head_dim 128) fit an H100's SM
 * only with all of it */
static void allow_smem(const void *fn, size_t bytes)
{
    CU(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes));
    CU(cudaFuncSetAttribute(fn, cudaFuncAttributePreferredSharedMemoryCarveout,
                            cudaSharedmemCarveoutMaxShared));
}

/* The workspace: di (B,H,T) floats, then the bf16 copies; grown as
 * needed, NULL when the GPU has no room (the caller then runs fp32). */
static void *workspace(size_t bytes)
{
    static float *ws;
    static size_t ws_bytes;
    if (bytes > ws_bytes) {
        if (ws)
            k_free(ws);
        ws = k_alloc((bytes + sizeof(float) - 1) / sizeof(float));
        ws_bytes = ws ? bytes : 0;
    }
    return ws;
}

static const bf16 *to_bf16(bf16 *dst, const float *src, size_t n)
{
    attn_to_bf16<<<kcuda_blocks(n / 16, 256), 256>>>(dst, src, n);   /* 8 pairs a thread */
    CU_LAUNCHED();
    return dst;
}

int kcuda_attention_forward_tc(float *out, float *lse, const float *q, const float *k,
                               const float *v, int B, int T, int H, int Hk, int D, int window)
{
    size_t sm = fwd_smem(D).bytes, nq = (size_t)B * T * H * D, nk = (size_t)B * T * Hk * D;
    if (!tc_shape(D) || !tc_fits(sm))
        return 0;
    bf16 *ws = (bf16 *)workspace((nq + 2 * nk) * sizeof(bf16));
    if (!ws)
        return 0;
    const bf16 *q16 = to_bf16(ws, q, nq), *k16 = to_bf16(ws + nq, k, nk);
    const bf16 *v16 = to_bf16(ws + nq + nk, v, nk);
    int nd = D / 16;
    auto fwd_kernel = nd <= 4 ? attn_fwd_tc<4> : nd <= 8 ? attn_fwd_tc<8> : attn_fwd_tc<16>;
    allow_smem((const void *)fwd_kernel, sm);
    dim3 grid((unsigned)((T + TQ - 1) / TQ), (unsigned)(B * H));
    fwd_kernel<<<grid, NT, sm>>>(out, lse, q16, k16, v16, T, H, Hk, D, window,
                                 1.0f / sqrtf((float)D));
    CU_LAUNCHED();
    return 1;
}

int kcuda_attention_backward_tc(float *dq, float *dk, float *dv, const float *dout,
                                const float *out, const float *lse, const float *q,
                                const float *k, const float *v, int B, int T, int H, int Hk,
                                int D, int window)
{
    size_t sm = bwd_smem(D).bytes, nq = (size_t)B * T * H * D, nk = (size_t)B * T * Hk * D;
    size_t nl = (size_t)B * H * T;
    if (!tc_shape(D) || !tc_fits(sm))
        return 0;
    /* di, then the bf16 arrays from a 256-byte boundary */
    size_t di_bytes = (nl * sizeof(float) + 255) & ~(size_t)255;
    char *ws = (char *)workspace(di_bytes + (2 * nq + 2 * nk) * sizeof(bf16));
    if (!ws)
        return 0;
    float *di = (float *)ws;
    bf16 *w16 = (bf16 *)(ws + di_bytes);
    const bf16 *q16 = to_bf16(w16, q, nq), *do16 = to_bf16(w16 + nq, dout, nq);
    const bf16 *k16 = to_bf16(w16 + 2 * nq, k, nk), *v16 = to_bf16(w16 + 2 * nq + nk, v, nk);
    int nd = D / 16;
    auto dq_kernel = nd <= 4 ? attn_dq_tc<4> : nd <= 8 ? attn_dq_tc<8> : attn_dq_tc<16>;
    auto dkdv_kernel = nd <= 4 ? attn_dkdv_tc<4> : nd <= 8 ? attn_dkdv_tc<8> : attn_dkdv_tc<16>;
    allow_smem((const void *)dq_kernel, sm);
    allow_smem((const void *)dkdv_kernel, sm);
    float scale = 1.0f / sqrtf((float)D);
    dim3 qgrid((unsigned)((T + TQ - 1) / TQ), (unsigned)(B * H));
    dq_kernel<<<qgrid, NT, sm>>>(dq, di, do16, dout, out, lse, q16, k16, v16, T, H, Hk, D,
                                 window, scale);
    CU_LAUNCHED();
    dim3 kgrid((unsigned)((T + TK - 1) / TK), (unsigned)(B * Hk));
    dkdv_kernel<<<kgrid, NT, sm>>>(dk, dv, do16, di, lse, q16, k16, v16, T, H, Hk, D, window,
                                   scale);
    CU_LAUNCHED();
    return 1;
}

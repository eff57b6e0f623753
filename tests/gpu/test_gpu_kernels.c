/* Every function of kernels/kernels.h on the GPU (kernels/cuda) against
 * the CPU implementation (kernels/cpu) on the same random inputs, forward
 * and backward, on several shapes; then 50 training steps of a small GPT
 * on each device from the same seed, whose loss curves must agree.
 *
 * Errors are measured relative to the largest magnitude of the CPU result
 * (max |gpu - cpu| / max |cpu|). Tolerances: 1e-4 for fp32 kernels (the
 * CPU's polynomial exp and the GPU's differ by a few ulp, and sums run in
 * other orders), 1e-5 for exact-fp32 products, 2e-3 for TF32 and 1.5e-2
 * for bf16 products (8 mantissa bits); Muon's five quintic iterations
 * amplify rounding: 2e-3 in fp32, 1e-1 in bf16 (a wrong kernel is off by
 * the size of the entries themselves).
 *
 * Runs where a CUDA GPU is visible and the binary has the CUDA kernels;
 * elsewhere it prints "skipped: no GPU" and runs no check (tests/run.sh
 * counts it neither passed nor failed). Check does not fork here: a CUDA
 * context does not survive fork(). */
#include "unit.h"
#include "kernels.h"
#include "config.h"
#include "gpt.h"
#include "base/err.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TOL_FP32 1e-4
#define TOL_EXACT 1e-5
#define TOL_TF32 2e-3
#define TOL_BF16 1.5e-2

static void use_cpu(void) { ck_assert_int_eq(kernels_select("cpu"), 0); }
static void use_gpu(void)
{
    ck_assert_msg(kernels_select("cuda") == 0, "cuda: %s", ar_last_error());
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float frand(void)   /* uniform in [-1, 1) */
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 40) * (2.0 / 16777216.0) - 1.0);
}

static float *hrand(size_t n, float scale)
{
    float *h = malloc(n * sizeof *h);
    ck_assert_ptr_nonnull(h);
    for (size_t i = 0; i < n; i++)
        h[i] = scale * frand();
    return h;
}

static float *hcopy(const float *x, size_t n)
{
    float *h = malloc(n * sizeof *h);
    ck_assert_ptr_nonnull(h);
    memcpy(h, x, n * sizeof *h);
    return h;
}

static uint16_t *hidx(size_t n, int V)
{
    uint16_t *t = malloc(n * sizeof *t);
    ck_assert_ptr_nonnull(t);
    for (size_t i = 0; i < n; i++)
        t[i] = (uint16_t)(((uint32_t)(frand() * 1e6f + 2e6f)) % (uint32_t)V);
    return t;
}

/* a device copy of a host array */
static float *dev(const float *h, size_t n)
{
    use_gpu();
    float *d = k_alloc(n);
    ck_assert_ptr_nonnull(d);
    k_upload(d, h, n);
    return d;
}

/* the device array back on the host (malloc'd), the device copy freed */
static float *back(float *d, size_t n)
{
    use_gpu();
    float *h = malloc(n * sizeof *h);
    ck_assert_ptr_nonnull(h);
    k_download(h, d, n);
    k_free(d);
    return h;
}

static double rel_err(const float *got, const float *want, size_t n)
{
    double big = 0, err = 0;
    for (size_t i = 0; i < n; i++) {
        big = fmax(big, fabs(want[i]));
        double e = fabs((double)got[i] - want[i]);
        err = isnan(got[i]) ? INFINITY : fmax(err, e);
    }
    return err / (big > 1e-30 ? big : 1e-30);
}

#define EXPECT_CLOSE(got, want, n, tol, what)                                      \
    do {                                                                           \
        double e_ = rel_err(got, want, n);                                         \
        ck_assert_msg(e_ <= (tol), "%s: relative error %.3g > %.3g", what, e_,     \
                      (double)(tol));                                              \
    } while (0)

/* ---------------------------------------------------------------------------
 * Device and memory */

START_TEST(memory_round_trip_copy_add_zero)
{
    size_t n = 100003;
    float *a = hrand(n, 1), *b = hrand(n, 1);
    use_gpu();
    float *da = dev(a, n), *db = dev(b, n), *dc = k_alloc(n);
    ck_assert_uint_ge(kernels_peak_bytes(), 3 * n * sizeof(float));   /* the high-water mark */
    k_copy(dc, da, n);
    k_add(dc, db, n);   /* c = a + b */
    float *c = back(dc, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_float_eq(c[i], a[i] + b[i]);
    k_zero(da, n);
    float *z = back(da, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_float_eq(z[i], 0.0f);
    k_free(db);
    char name[256];
    double gb = 0;
    ck_assert_int_eq(kernels_gpu_info(name, sizeof name, &gb), 0);
    ck_assert_msg(name[0] && gb > 0, "gpu %s, %g GB", name, gb);
    ck_assert_str_eq(kernels_device_name(), "cuda");
    free(a), free(b), free(c), free(z);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Matrix products, at each precision */

static const enum k_precision precs[] = { K_PREC_FP32, K_PREC_TF32, K_PREC_BF16 };
static const double prec_tol[] = { TOL_EXACT, TOL_TF32, TOL_BF16 };

START_TEST(gemm_all_transposes_strides_and_precisions)
{
    kernels_set_precision(precs[_i]);
    static const int shapes[][3] = { { 64, 48, 32 }, { 129, 70, 257 }, { 1, 300, 17 } };
    for (int s = 0; s < 3; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 1, ldc = N + 2;
                size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb;
                size_t nc = (size_t)M * ldc;
                float *A = hrand(na, 1), *B = hrand(nb, 1), *C = hrand(nc, 1);
                float *dA = dev(A, na), *dB = dev(B, nb), *dC = dev(C, nc);
                k_gemm(ta, tb, M, N, K, 0.7f, dA, lda, dB, ldb, 0.3f, dC, ldc);
                float *g = back(dC, nc);
                use_cpu();
                k_gemm(ta, tb, M, N, K, 0.7f, A, lda, B, ldb, 0.3f, C, ldc);
                char what[64];
                snprintf(what, sizeof what, "gemm %dx%dx%d ta %d tb %d", M, N, K, ta, tb);
                EXPECT_CLOSE(g, C, nc, prec_tol[_i], what);
                use_gpu();
                k_free(dA), k_free(dB);
                free(A), free(B), free(C), free(g);
            }
    kernels_set_precision(K_PREC_BF16);
}
END_TEST

START_TEST(matmul_forward_backward_and_precisions)
{
    kernels_set_precision(precs[_i]);
    int M = 96, K = 80, N = 72;
    float *inp = hrand((size_t)M * K, 1), *w = hrand((size_t)N * K, 0.3f);
    float *out = hrand((size_t)M * N, 1), *dout = hrand((size_t)M * N, 1);
    float *dinp = hrand((size_t)M * K, 1), *dw = hrand((size_t)N * K, 1);
    float *di = dev(inp, (size_t)M * K), *dwt = dev(w, (size_t)N * K);
    float *dout_d = dev(dout, (size_t)M * N), *out_d = dev(out, (size_t)M * N);
    float *dinp_d = dev(dinp, (size_t)M * K), *dw_d = dev(dw, (size_t)N * K);
    k_matmul_forward(out_d, di, dwt, M, K, N, 1);
    k_matmul_backward(dinp_d, dw_d, dout_d, di, dwt, M, K, N);
    float *go = back(out_d, (size_t)M * N), *gi = back(dinp_d, (size_t)M * K);
    float *gw = back(dw_d, (size_t)N * K), *gd = back(dout_d, (size_t)M * N);
    use_cpu();
    k_matmul_forward(out, inp, w, M, K, N, 1);
    k_matmul_backward(dinp, dw, dout, inp, w, M, K, N);
    EXPECT_CLOSE(go, out, (size_t)M * N, prec_tol[_i], "matmul forward (accumulate)");
    EXPECT_CLOSE(gi, dinp, (size_t)M * K, prec_tol[_i], "matmul dinp");
    EXPECT_CLOSE(gw, dw, (size_t)N * K, prec_tol[_i], "matmul dw");
    EXPECT_CLOSE(gd, dout, (size_t)M * N, 0, "matmul leaves dout alone");
    use_gpu();
    k_free(di), k_free(dwt);
    free(inp), free(w), free(out), free(dout), free(dinp), free(dw);
    free(go), free(gi), free(gw), free(gd);
    kernels_set_precision(K_PREC_BF16);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Row and elementwise kernels */

START_TEST(embedding_lookup_and_scatter)
{
    int N = 500, C = 96, V = 37;   /* rows repeat: the scatter must add them all */
    uint16_t *idx = hidx(N, V);
    float *table = hrand((size_t)V * C, 1), *dout = hrand((size_t)N * C, 1);
    float *dtable = hrand((size_t)V * C, 1), *out = malloc(sizeof(float) * N * C);
    float *dt = dev(table, (size_t)V * C), *dd = dev(dout, (size_t)N * C);
    float *ddt = dev(dtable, (size_t)V * C), *dout_o = k_alloc((size_t)N * C);
    k_embedding_forward(dout_o, idx, dt, N, C);
    k_embedding_backward(ddt, dd, idx, N, C, V);
    float *go = back(dout_o, (size_t)N * C), *gt = back(ddt, (size_t)V * C);
    use_cpu();
    k_embedding_forward(out, idx, table, N, C);
    k_embedding_backward(dtable, dout, idx, N, C, V);
    EXPECT_CLOSE(go, out, (size_t)N * C, 0, "embedding forward");
    EXPECT_CLOSE(gt, dtable, (size_t)V * C, TOL_FP32, "embedding backward");
    use_gpu();
    k_free(dt), k_free(dd);
    free(idx), free(table), free(dout), free(dtable), free(out), free(go), free(gt);
}
END_TEST

START_TEST(rmsnorm_forward_backward)
{
    static const int shapes[][2] = { { 300, 64 }, { 17, 512 }, { 1000, 100 }, { 4, 1536 } };
    int N = shapes[_i][0], C = shapes[_i][1];
    size_t n = (size_t)N * C;
    float *x = hrand(n, 2), *dy = hrand(n, 1), *dx = hrand(n, 1);
    float *y = malloc(n * sizeof *y), *r = malloc(N * sizeof *r);
    float *dxd = dev(x, n), *dyd = dev(dy, n), *ddx = dev(dx, n);
    float *dyo = k_alloc(n), *dr = k_alloc(N);
    k_rmsnorm_forward(dyo, dr, dxd, N, C);
    k_rmsnorm_forward(dxd, dr, dxd, N, C);   /* in place gives the same */
    k_rmsnorm_backward(ddx, dyd, dyo, dr, N, C);
    float *gy = back(dyo, n), *gr = back(dr, N), *gx = back(ddx, n), *gin = back(dxd, n);
    use_cpu();
    k_rmsnorm_forward(y, r, x, N, C);
    k_rmsnorm_backward(dx, dy, y, r, N, C);
    EXPECT_CLOSE(gy, y, n, TOL_FP32, "rmsnorm out");
    EXPECT_CLOSE(gin, y, n, TOL_FP32, "rmsnorm in place");
    EXPECT_CLOSE(gr, r, N, TOL_FP32, "rmsnorm rstd");
    EXPECT_CLOSE(gx, dx, n, TOL_FP32, "rmsnorm dinp");
    use_gpu();
    k_free(dyd);
    free(x), free(dy), free(dx), free(y), free(r), free(gy), free(gr), free(gx), free(gin);
}
END_TEST

START_TEST(rope_forward_backward)
{
    int B = 2, T = 33, H = 3, D = 64;
    size_t n = (size_t)B * T * H * D, nt = (size_t)T * D / 2;
    float *x = hrand(n, 1), *cs = hrand(nt, 1), *sn = hrand(nt, 1);
    float *dy = hrand(n, 1), *dx = hrand(n, 1);
    float *dxd = dev(x, n), *dc = dev(cs, nt), *ds = dev(sn, nt);
    float *dyd = dev(dy, n), *ddx = dev(dx, n);
    k_rope_forward(dxd, dc, ds, B, T, H, D);
    k_rope_backward(ddx, dyd, dc, ds, B, T, H, D);
    float *gx = back(dxd, n), *gdx = back(ddx, n), *gdy = back(dyd, n);
    use_cpu();
    k_rope_forward(x, cs, sn, B, T, H, D);
    k_rope_backward(dx, dy, cs, sn, B, T, H, D);
    EXPECT_CLOSE(gx, x, n, TOL_FP32, "rope forward");
    EXPECT_CLOSE(gdx, dx, n, TOL_FP32, "rope backward");
    EXPECT_CLOSE(gdy, dy, n, 0, "rope backward leaves dout alone");
    use_gpu();
    k_free(dc), k_free(ds);
    free(x), free(cs), free(sn), free(dy), free(dx), free(gx), free(gdx), free(gdy);
}
END_TEST

START_TEST(residual_mix_forward_backward)
{
    int N = 700, C = 96, L = 3, l = 1;
    size_t n = (size_t)N * C;
    float *x = hrand(n, 1), *x0 = hrand(n, 1), *lam = hrand(L, 1), *lam0 = hrand(L, 1);
    float *dout = hrand(n, 1), *dx = hrand(n, 1), *dx0 = hrand(n, 1);
    float *dl = hrand(L, 1), *dl0 = hrand(L, 1), *out = malloc(n * sizeof *out);
    float *X = dev(x, n), *X0 = dev(x0, n), *LM = dev(lam, L), *LM0 = dev(lam0, L);
    float *DO = dev(dout, n), *DX = dev(dx, n), *DX0 = dev(dx0, n), *DL = dev(dl, L);
    float *DL0 = dev(dl0, L), *O = k_alloc(n);
    k_residual_mix_forward(O, X, X0, LM, LM0, l, N, C);
    k_residual_mix_backward(DX, DX0, DL, DL0, DO, X, X0, LM, LM0, l, N, C);
    float *go = back(O, n), *gx = back(DX, n), *gx0 = back(DX0, n);
    float *gl = back(DL, L), *gl0 = back(DL0, L);
    use_cpu();
    k_residual_mix_forward(out, x, x0, lam, lam0, l, N, C);
    k_residual_mix_backward(dx, dx0, dl, dl0, dout, x, x0, lam, lam0, l, N, C);
    EXPECT_CLOSE(go, out, n, TOL_FP32, "mix forward");
    EXPECT_CLOSE(gx, dx, n, TOL_FP32, "mix dx");
    EXPECT_CLOSE(gx0, dx0, n, TOL_FP32, "mix dx0");
    EXPECT_CLOSE(gl, dl, L, TOL_FP32, "mix dlambda");
    EXPECT_CLOSE(gl0, dl0, L, TOL_FP32, "mix dx0_lambda");
    use_gpu();
    k_free(X), k_free(X0), k_free(LM), k_free(LM0), k_free(DO);
    free(x), free(x0), free(lam), free(lam0), free(dout), free(dx), free(dx0), free(dl);
    free(dl0), free(out), free(go), free(gx), free(gx0), free(gl), free(gl0);
}
END_TEST

START_TEST(ve_gate_forward_backward)
{
    int N = 300, Hk = 3, D = 48;
    size_t n = (size_t)N * Hk * D, np = (size_t)N * Hk;
    float *v = hrand(n, 1), *pre = hrand(np, 3), *ve = hrand(n, 1), *dv = hrand(n, 1);
    float *dpre = hrand(np, 1), *dve = hrand(n, 1);
    float *V = dev(v, n), *P = dev(pre, np), *VE = dev(ve, n), *DV = dev(dv, n);
    float *DP = dev(dpre, np), *DVE = dev(dve, n);
    k_ve_gate_forward(V, P, VE, N, Hk, D);
    k_ve_gate_backward(DP, DVE, DV, P, VE, N, Hk, D);
    float *gv = back(V, n), *gp = back(DP, np), *gve = back(DVE, n);
    use_cpu();
    k_ve_gate_forward(v, pre, ve, N, Hk, D);
    k_ve_gate_backward(dpre, dve, dv, pre, ve, N, Hk, D);
    EXPECT_CLOSE(gv, v, n, TOL_FP32, "ve gate forward");
    EXPECT_CLOSE(gp, dpre, np, TOL_FP32, "ve gate dpre");
    EXPECT_CLOSE(gve, dve, n, TOL_FP32, "ve gate dve");
    use_gpu();
    k_free(P), k_free(VE), k_free(DV);
    free(v), free(pre), free(ve), free(dv), free(dpre), free(dve), free(gv), free(gp), free(gve);
}
END_TEST

START_TEST(activations_forward_backward)
{
    enum k_act kind = (enum k_act)_i;
    int N = 200, F = 130;
    size_t w = kind == K_ACT_SWIGLU ? 2 * (size_t)F : (size_t)F;
    float *u = hrand(N * w, 3), *dout = hrand((size_t)N * F, 1), *du = hrand(N * w, 1);
    float *out = malloc(sizeof(float) * N * F);
    float *U = dev(u, N * w), *DO = dev(dout, (size_t)N * F), *DU = dev(du, N * w);
    float *O = k_alloc((size_t)N * F);
    k_act_forward(O, U, N, F, kind);
    k_act_backward(DU, DO, U, N, F, kind);
    float *go = back(O, (size_t)N * F), *gu = back(DU, N * w);
    use_cpu();
    k_act_forward(out, u, N, F, kind);
    k_act_backward(du, dout, u, N, F, kind);
    EXPECT_CLOSE(go, out, (size_t)N * F, TOL_FP32, "activation forward");
    EXPECT_CLOSE(gu, du, N * w, TOL_FP32, "activation backward");
    use_gpu();
    k_free(U), k_free(DO);
    free(u), free(dout), free(du), free(out), free(go), free(gu);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Attention, in fp32 and in bf16. bf16 runs the tensor-core kernels
 * (attention_bf16.cu) where head_dim is a multiple of 16: q, k, v, dout
 * and the probabilities are rounded to bf16 (8 mantissa bits) before each
 * product, and backward's ds = p (dp - rowsum(dout * out)) subtracts
 * nearly equal numbers, so its tolerance is TOL_ATT_BF16, wider than a
 * single product's TOL_BF16; a wrong mask, tile or scale is off by the
 * size of the result. Its output must also differ from fp32 by more than
 * TOL_FP32, which says the tensor-core path ran; any other head_dim runs
 * the fp32 kernels in bf16 too, and is held to TOL_FP32. */

#define TOL_ATT_BF16 2e-2

/* rising: scores that grow by about 16 over each 64 keys, for the
 * forward's rescaling of rows when their max grows. q and k are then
 * multiples of 1/8 under 16, exact in bf16, so that the scores are exact
 * on both sides and only p, v and dout are rounded; k's random part
 * (up to 4) is kept comparable with its rise (about 12 at the end),
 * because ds sums to zero over a row only exactly: its bf16 rounding
 * times k's common part shows in dq as an error of about 2^-9 times
 * (common part / spread of the keys a query attends to), so its
 * gradients are held to twice TOL_ATT_BF16 (dq is 1.97e-2 off under the
 * emulator). */
static const struct { int B, T, H, Hk, D, window, rising; } att_shapes[] = {
    { 2, 100, 4, 2, 32, 100, 0 },  /* full causal, grouped queries, partial tiles */
    { 1, 257, 2, 2, 128, 64, 0 },  /* sliding window, head_dim 128 */
    { 2, 64, 3, 1, 64, 16, 0 },    /* short window, 3 queries per kv head */
    { 1, 40, 2, 2, 16, 1000, 0 },  /* window beyond T */
    { 1, 150, 4, 2, 128, 150, 0 }, /* head_dim 128, full causal over three tiles */
    { 1, 70, 2, 1, 40, 24, 0 },    /* head_dim not a multiple of 16: fp32 in bf16 too */
    { 3, 9, 4, 1, 16, 3, 0 },      /* fewer rows than one warp's 16, 4 queries per kv head */
    { 1, 200, 2, 1, 16, 1000, 1 }, /* rising scores, full causal */
};
#define N_ATT_SHAPES (int)(sizeof att_shapes / sizeof att_shapes[0])

/* _i: shape (_i / 2), precision (_i % 2: fp32, bf16) */
START_TEST(attention_forward_backward)
{
    int s = _i / 2, bf16 = _i % 2;
    int B = att_shapes[s].B, T = att_shapes[s].T, H = att_shapes[s].H;
    int Hk = att_shapes[s].Hk, D = att_shapes[s].D, win = att_shapes[s].window;
    int tensor_cores = bf16 && D % 16 == 0;
    double tol = tensor_cores ? TOL_ATT_BF16 : TOL_FP32;
    double gtol = tensor_cores && att_shapes[s].rising ? 2 * TOL_ATT_BF16 : tol;
    size_t nq = (size_t)B * T * H * D, nk = (size_t)B * T * Hk * D, nl = (size_t)B * H * T;
    float *q = hrand(nq, 1.5f), *k = hrand(nk, 1.5f), *v = hrand(nk, 1), *dout = hrand(nq, 1);
    if (att_shapes[s].rising) {   /* q about 1, k about t / 16 at position t */
        for (size_t x = 0; x < nq; x++)
            q[x] = 1 + roundf(4 * q[x]) / 8;
        for (size_t x = 0; x < nk; x++)
            k[x] = (float)(x / ((size_t)Hk * D) % T / 2) / 8 + roundf(32 * k[x] / 1.5f) / 8;
    }
    float *dq = hrand(nq, 1), *dk = hrand(nk, 1), *dv = hrand(nk, 1);
    float *dq0 = hcopy(dq, nq), *dk0 = hcopy(dk, nk), *dv0 = hcopy(dv, nk);
    float *out = malloc(nq * sizeof *out), *lse = malloc(nl * sizeof *lse);
    float *Q = dev(q, nq), *K = dev(k, nk), *Vv = dev(v, nk), *DO = dev(dout, nq);
    float *DQ = dev(dq, nq), *DK = dev(dk, nk), *DV = dev(dv, nk);
    float *O = k_alloc(nq), *LS = k_alloc(nl);
    size_t gs = k_attention_scratch(T, win, 1);
    float *GS = k_alloc(gs);
    kernels_set_precision(bf16 ? K_PREC_BF16 : K_PREC_FP32);
    k_attention_forward(O, LS, Q, K, Vv, GS, gs, B, T, H, Hk, D, win);
    k_attention_backward(DQ, DK, DV, DO, O, LS, Q, K, Vv, GS, gs, B, T, H, Hk, D, win);
    kernels_set_precision(K_PREC_BF16);
    float *go = back(O, nq), *gl = back(LS, nl), *gq = back(DQ, nq), *gk = back(DK, nk);
    float *gv = back(DV, nk);
    use_cpu();
    size_t cs = k_attention_scratch(T, win, kernels_threads());
    float *scratch = malloc(cs * sizeof *scratch);
    k_attention_forward(out, lse, q, k, v, scratch, cs, B, T, H, Hk, D, win);
    k_attention_backward(dq, dk, dv, dout, out, lse, q, k, v, scratch, cs, B, T, H, Hk, D, win);
    /* backward adds to the gradients: compare what each side added */
    for (size_t x = 0; x < nq; x++)
        gq[x] -= dq0[x], dq[x] -= dq0[x];
    for (size_t x = 0; x < nk; x++)
        gk[x] -= dk0[x], dk[x] -= dk0[x], gv[x] -= dv0[x], dv[x] -= dv0[x];
    EXPECT_CLOSE(go, out, nq, tol, "attention out");
    EXPECT_CLOSE(gl, lse, nl, tol, "attention lse");
    EXPECT_CLOSE(gq, dq, nq, gtol, "attention dq");
    EXPECT_CLOSE(gk, dk, nk, gtol, "attention dk");
    EXPECT_CLOSE(gv, dv, nk, gtol, "attention dv");
    if (tensor_cores)
        ck_assert_msg(rel_err(go, out, nq) > TOL_FP32,
                      "attention out in bf16 is fp32-exact: the tensor-core path did not run");
    use_gpu();
    k_free(Q), k_free(K), k_free(Vv), k_free(DO), k_free(GS);
    free(q), free(k), free(v), free(dout), free(dq), free(dk), free(dv), free(out), free(lse);
    free(go), free(gl), free(gq), free(gk), free(gv), free(scratch);
    free(dq0), free(dk0), free(dv0);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Loss */

START_TEST(crossentropy_losses_and_gradients)
{
    static const struct { int N, V; float cap, ls, z, dscale; } c[] = {
        { 64, 300, 15.0f, 0.1f, 1e-4f, 0.01f },
        { 33, 4096, 0.0f, 0.0f, 0.0f, 1.0f / 33 },
        { 16, 8192, 30.0f, 0.0f, 0.0f, 0.0f },   /* evaluation: losses only, capped logits */
    };
    int N = c[_i].N, V = c[_i].V;
    size_t n = (size_t)N * V;
    float *logits = hrand(n, 20), *losses = malloc(N * sizeof *losses);
    uint16_t *t = hidx(N, V);
    float *Lg = dev(logits, n), *Ls = k_alloc(N);
    k_crossentropy(Ls, Lg, t, N, V, c[_i].cap, c[_i].ls, c[_i].z, c[_i].dscale);
    float *gl = back(Ls, N), *gg = back(Lg, n);
    use_cpu();
    k_crossentropy(losses, logits, t, N, V, c[_i].cap, c[_i].ls, c[_i].z, c[_i].dscale);
    EXPECT_CLOSE(gl, losses, N, TOL_FP32, "cross-entropy losses");
    EXPECT_CLOSE(gg, logits, n, TOL_FP32, "cross-entropy dlogits (or capped logits)");
    free(logits), free(losses), free(t), free(gl), free(gg);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Optimizer */

START_TEST(sum_squares_scale_adamw)
{
    size_t n = 1000003;
    float *x = hrand(n, 1), *g = hrand(n, 1), *m = hrand(n, 0.1f), *v = hrand(n, 0.1f);
    for (size_t i = 0; i < n; i++)
        v[i] = fabsf(v[i]);
    float *X = dev(x, n), *G = dev(g, n), *M = dev(m, n), *Vv = dev(v, n);
    double ss = k_sum_squares(X, n);
    k_scale(G, 0.5f, n);
    k_adamw(X, G, M, Vv, n, 0.01f, 0.8f, 0.95f, 1e-10f, 0.1f, 3);
    float *gx = back(X, n), *gg = back(G, n), *gm = back(M, n), *gv = back(Vv, n);
    use_cpu();
    double ref = k_sum_squares(x, n);
    k_scale(g, 0.5f, n);
    k_adamw(x, g, m, v, n, 0.01f, 0.8f, 0.95f, 1e-10f, 0.1f, 3);
    ck_assert_msg(fabs(ss - ref) <= 1e-6 * ref, "sum of squares %.9g, cpu %.9g", ss, ref);
    EXPECT_CLOSE(gg, g, n, 0, "scale");
    EXPECT_CLOSE(gx, x, n, TOL_FP32, "adamw p");
    EXPECT_CLOSE(gm, m, n, TOL_FP32, "adamw m");
    EXPECT_CLOSE(gv, v, n, TOL_FP32, "adamw v");
    free(x), free(g), free(m), free(v), free(gx), free(gg), free(gm), free(gv);
}
END_TEST

/* _i: precision (fp32, bf16) x orthogonalisation (newton_schulz, polar) */
START_TEST(orthogonalisations_wide_and_tall)
{
    int bf16 = _i / 2, polar = _i % 2;
    kernels_set_precision(bf16 ? K_PREC_BF16 : K_PREC_FP32);
    double tol = bf16 ? 1e-1 : 2e-3;   /* a wrong kernel is off by O(1) */
    static const int shapes[][2] = { { 64, 192 }, { 256, 96 }, { 128, 128 } };
    for (int s = 0; s < 3; s++) {
        int r = shapes[s][0], c = shapes[s][1];
        size_t n = (size_t)r * c, ns = k_muon_scratch(r, c);
        float *x = hrand(n, 1), *X = dev(x, n);
        use_gpu();
        float *S = k_alloc(k_muon_scratch(r, c));
        if (polar)
            k_polar_express(X, S, r, c, 5);
        else
            k_newton_schulz(X, S, r, c, 5);
        float *g = back(X, n);
        k_free(S);
        use_cpu();
        float *scratch = malloc(ns * sizeof *scratch);
        if (polar)
            k_polar_express(x, scratch, r, c, 5);
        else
            k_newton_schulz(x, scratch, r, c, 5);
        char what[64];
        snprintf(what, sizeof what, "%s %dx%d", polar ? "polar express" : "newton-schulz", r, c);
        EXPECT_CLOSE(g, x, n, tol, what);
        free(x), free(g), free(scratch);
    }
    kernels_set_precision(K_PREC_BF16);
}
END_TEST

START_TEST(normuon_rows_and_columns)
{
    static const int shapes[][2] = { { 200, 64 }, { 48, 160 } };
    int r = shapes[_i][0], c = shapes[_i][1];
    size_t n = (size_t)r * c, nv = k_normuon_size(r, c);
    float *u = hrand(n, 1), *v = hrand(nv, 0.5f), *q = malloc(nv * sizeof *q);
    for (size_t i = 0; i < nv; i++)
        v[i] = fabsf(v[i]);
    float *U = dev(u, n), *Vv = dev(v, nv), *Q = k_alloc(nv);
    k_normuon(U, Vv, Q, r, c, 0.95f);
    float *gu = back(U, n), *gv = back(Vv, nv);
    use_gpu();
    k_free(Q);
    use_cpu();
    k_normuon(u, v, q, r, c, 0.95f);
    EXPECT_CLOSE(gu, u, n, TOL_FP32, "normuon u");
    EXPECT_CLOSE(gv, v, nv, TOL_FP32, "normuon v");
    free(u), free(v), free(q), free(gu), free(gv);
}
END_TEST

START_TEST(muon_full_step)
{
    kernels_set_precision(K_PREC_FP32);
    struct k_muon_opts o = { 5, _i & 1, (_i >> 1) & 1, 0.95f };
    int r = 96, c = 160;
    size_t n = (size_t)r * c, ns = k_muon_scratch(r, c), nv = k_normuon_size(r, c);
    float *p = hrand(n, 0.1f), *g = hrand(n, 1), *buf = hrand(n, 0.1f), *v = hrand(nv, 0.1f);
    for (size_t i = 0; i < nv; i++)
        v[i] = fabsf(v[i]);
    float *P = dev(p, n), *G = dev(g, n), *BF = dev(buf, n), *Vv = dev(v, nv);
    float *S = k_alloc(ns);
    k_muon(P, G, BF, Vv, S, r, c, 0.02f, 0.9f, 0.2f, &o);
    float *gp = back(P, n), *gb = back(BF, n), *gv = back(Vv, nv);
    use_gpu();
    k_free(G), k_free(S);
    use_cpu();
    float *scratch = malloc(ns * sizeof *scratch);
    float *p0 = hcopy(p, n);
    k_muon(p, g, buf, v, scratch, r, c, 0.02f, 0.9f, 0.2f, &o);
    for (size_t i = 0; i < n; i++) {   /* compare the updates, not the weights */
        gp[i] -= p0[i];
        p[i] -= p0[i];
    }
    EXPECT_CLOSE(gp, p, n, 2e-3, "muon update");
    EXPECT_CLOSE(gb, buf, n, TOL_FP32, "muon momentum");
    EXPECT_CLOSE(gv, v, nv, 2e-3, "muon normuon v");
    free(p), free(g), free(buf), free(v), free(gp), free(gb), free(gv), free(scratch), free(p0);
    kernels_set_precision(K_PREC_BF16);
}
END_TEST

/* ---------------------------------------------------------------------------
 * The whole model: 50 training steps on each device from one seed */

static void train_losses(const char *device, enum k_precision prec, int mlp, float *losses,
                         int steps)
{
    ck_assert_int_eq(kernels_select(device), 0);
    kernels_set_precision(prec);
    struct train_config c;
    config_defaults(&c);
    c.depth = 2;
    c.aspect_ratio = 64;
    c.head_dim = 32;
    c.seq_len = 64;
    c.device_batch = 4;
    c.total_batch_tokens = 256;
    c.ve_gate_channels = 16;
    c.mlp = mlp;
    c.threads = 1;
    int V = 512;
    struct gpt *m = gpt_create(&c, V, 1234);
    ck_assert_msg(m != NULL, "gpt_create: %s", ar_last_error());
    int N = c.device_batch * c.seq_len;
    uint16_t *in = malloc(N * sizeof *in), *tg = malloc(N * sizeof *tg);
    uint64_t s = 77;
    for (int step = 0; step < steps; step++) {
        for (int i = 0; i < N; i++) {   /* a learnable sequence: next = f(current) */
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            in[i] = (uint16_t)((s >> 33) % V);
            tg[i] = (uint16_t)((in[i] * 7 + 3) % V);
        }
        losses[step] = gpt_step_loss(m, in, tg, 1, 1.0f);
        gpt_optimizer_step(m, 1.0, 0.0, step);
        gpt_zero_grad(m);
    }
    gpt_free(m);
    free(in), free(tg);
    kernels_set_precision(K_PREC_BF16);
}

START_TEST(training_50_steps_matches_cpu)
{
    int steps = 50, mlp = _i;   /* relu2, gelu, swiglu */
    float cpu[50], gpu[50], bf[50];
    train_losses("cpu", K_PREC_FP32, mlp, cpu, steps);
    train_losses("cuda", K_PREC_FP32, mlp, gpu, steps);
    train_losses("cuda", K_PREC_BF16, mlp, bf, steps);
    ck_assert_msg(cpu[steps - 1] < cpu[0] - 0.5f, "the CPU run learns: %g -> %g", cpu[0],
                  cpu[steps - 1]);
    for (int i = 0; i < steps; i++) {
        ck_assert_msg(fabsf(gpu[i] - cpu[i]) <= 2e-2f * fabsf(cpu[i]) + 1e-3f,
                      "step %d: fp32 gpu loss %g, cpu %g", i, gpu[i], cpu[i]);
        ck_assert_msg(fabsf(bf[i] - cpu[i]) <= 6e-2f * fabsf(cpu[i]) + 1e-2f,
                      "step %d: bf16 gpu loss %g, cpu %g", i, bf[i], cpu[i]);
    }
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("gpu_kernels");
    setenv("CK_FORK", "no", 1);   /* a CUDA context does not survive fork() */
    if (kernels_select("cuda") < 0) {
        printf("skipped: no GPU (%s)\n", ar_last_error());
        return s;
    }
    kernels_select("cpu");
    TCase *tc = tcase_create("memory");
    tcase_add_test(tc, memory_round_trip_copy_add_zero);
    suite_add_tcase(s, tc);
    tc = tcase_create("blas");
    tcase_add_loop_test(tc, gemm_all_transposes_strides_and_precisions, 0, 3);
    tcase_add_loop_test(tc, matmul_forward_backward_and_precisions, 0, 3);
    suite_add_tcase(s, tc);
    tc = tcase_create("layers");
    tcase_add_test(tc, embedding_lookup_and_scatter);
    tcase_add_loop_test(tc, rmsnorm_forward_backward, 0, 4);
    tcase_add_test(tc, rope_forward_backward);
    tcase_add_test(tc, residual_mix_forward_backward);
    tcase_add_test(tc, ve_gate_forward_backward);
    tcase_add_loop_test(tc, activations_forward_backward, K_ACT_RELU2, K_ACT_SWIGLU + 1);
    tcase_add_loop_test(tc, attention_forward_backward, 0, 2 * N_ATT_SHAPES);
    tcase_add_loop_test(tc, crossentropy_losses_and_gradients, 0, 3);
    suite_add_tcase(s, tc);
    tc = tcase_create("optimizer");
    tcase_add_test(tc, sum_squares_scale_adamw);
    tcase_add_loop_test(tc, orthogonalisations_wide_and_tall, 0, 4);
    tcase_add_loop_test(tc, normuon_rows_and_columns, 0, 2);
    tcase_add_loop_test(tc, muon_full_step, 0, 4);
    suite_add_tcase(s, tc);
    tc = tcase_create("model");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, training_50_steps_matches_cpu, 0, 3);
    suite_add_tcase(s, tc);
    return s;
}

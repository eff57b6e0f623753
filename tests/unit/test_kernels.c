/* Every kernel of kernels/kernels.h against a plain double-precision
 * reference: forward outputs directly, backward outputs against central
 * finite differences of the reference (in double) of the scalar
 * sum(dy * forward). Backward gradient outputs start from random values
 * (gc_start), so the checks also hold each kernel to adding into them and
 * leaving dy alone. Also the BLAS set-up: selftest, core type, threads. */
#include "unit.h"
#include "gradcheck.h"
#include "kernels.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * BLAS set-up */

START_TEST(blas_selftest_passes_and_names_kernel)
{
    ck_assert_int_eq(kernels_blas_selftest(), 1);
    const char *info = kernels_blas_info();
    ck_assert_msg(strstr(info, "OpenBLAS") != NULL, "info: %s", info);
    ck_assert_msg(strstr(info, kernels_blas_coretype()) != NULL, "info: %s", info);
}
END_TEST

START_TEST(blas_selftest_reports_a_broken_kernel)
{
    setenv("AR_BLAS_TEST_BAD", kernels_blas_coretype(), 1);
    ck_assert_int_eq(kernels_blas_selftest(), 0);
    unsetenv("AR_BLAS_TEST_BAD");
}
END_TEST

static void expect_decision(const char *want, const char *loaded, const char *tried, int works,
                            const char *expect)
{
    const char *got = kernels_blas_decide(want, loaded, tried, works);
    if (!expect)
        ck_assert_msg(got == NULL, "want %s loaded %s tried %s works %d: got %s", want, loaded,
                      tried, works, got);
    else
        ck_assert_msg(got && strcmp(got, expect) == 0,
                      "want %s loaded %s tried %s works %d: got %s, expected %s", want, loaded,
                      tried, works, got ? got : "(stay)", expect);
}

START_TEST(blas_coretype_decisions)
{
    /* first run: switch to the wanted kernel, whatever loaded */
    expect_decision("SkylakeX", "Haswell", NULL, 1, "SkylakeX");
    expect_decision("SkylakeX", "Prescott", NULL, 0, "SkylakeX");
    /* the wanted kernel runs and works: stay */
    expect_decision("SkylakeX", "SkylakeX", "SkylakeX", 1, NULL);
    expect_decision("SkylakeX", "SkylakeX", NULL, 1, NULL);
    /* it computes wrongly: the next safer one not yet tried */
    expect_decision("SkylakeX", "SkylakeX", "SkylakeX", 0, "Haswell");
    expect_decision("SkylakeX", "Haswell", "SkylakeX,Haswell", 0, "Prescott");
    expect_decision("SkylakeX", "Prescott", "SkylakeX,Haswell,Prescott", 0, NULL);
    expect_decision(NULL, "Cooperlake", NULL, 0, "Haswell");
    /* AR_BLAS_CORETYPE=env: keep what loaded */
    expect_decision(NULL, "Haswell", NULL, 1, NULL);
    /* a name OpenBLAS does not know: it loaded its own choice, no loop */
    expect_decision("Bogus", "Cooperlake", "Bogus", 1, NULL);
}
END_TEST

/* Products split across threads give the same result as one thread, and
 * match the reference for all transposes. */
START_TEST(gemm_matches_reference_any_threads)
{
    int M = 70, N = 45, K = 33;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            double *a = gc_random((size_t)M * K, 1), *b = gc_random((size_t)K * N, 1);
            double *c = gc_random((size_t)M * N, 1);
            gc_round(a, (size_t)M * K);
            gc_round(b, (size_t)K * N);
            gc_round(c, (size_t)M * N);
            float *fa = gc_to_float(a, (size_t)M * K), *fb = gc_to_float(b, (size_t)K * N);
            float *f1 = gc_to_float(c, (size_t)M * N), *f2 = gc_to_float(c, (size_t)M * N);
            int lda = ta ? M : K, ldb = tb ? K : N;
            kernels_set_threads(1);
            k_gemm(ta, tb, M, N, K, 0.5f, fa, lda, fb, ldb, 2.0f, f1, N);
            kernels_set_threads(2);
            k_gemm(ta, tb, M, N, K, 0.5f, fa, lda, fb, ldb, 2.0f, f2, N);
            double *want = malloc(sizeof(double) * M * N);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    double s = 0;
                    for (int k = 0; k < K; k++)
                        s += (ta ? a[k * lda + i] : a[i * lda + k]) *
                             (tb ? b[j * ldb + k] : b[k * ldb + j]);
                    want[i * N + j] = 0.5 * s + 2.0 * c[i * N + j];
                }
            gc_assert_close(f1, want, (size_t)M * N, 1e-5, "gemm 1 thread");
            gc_assert_close(f2, want, (size_t)M * N, 1e-5, "gemm 2 threads");
            free(a), free(b), free(c), free(fa), free(fb), free(f1), free(f2), free(want);
        }
    kernels_set_threads(0);
}
END_TEST

/* ---------------------------------------------------------------------------
 * matmul */

struct mm_ctx {
    double *inp, *w, *dy;
    int M, K, N;
};

static double mm_loss(void *p)
{
    struct mm_ctx *c = p;
    double s = 0;
    for (int i = 0; i < c->M; i++)
        for (int n = 0; n < c->N; n++) {
            double o = 0;
            for (int k = 0; k < c->K; k++)
                o += c->inp[i * c->K + k] * c->w[n * c->K + k];
            s += c->dy[i * c->N + n] * o;
        }
    return s;
}

START_TEST(matmul_gradients)
{
    struct mm_ctx c = {.M = 37, .K = 20, .N = 17};
    c.inp = gc_random(c.M * c.K, 1);
    c.w = gc_random(c.N * c.K, 1);
    c.dy = gc_random(c.M * c.N, 1);
    gc_round(c.inp, c.M * c.K), gc_round(c.w, c.N * c.K), gc_round(c.dy, c.M * c.N);
    float *inp = gc_to_float(c.inp, c.M * c.K), *w = gc_to_float(c.w, c.N * c.K);
    float *dy = gc_to_float(c.dy, c.M * c.N), *out = calloc(c.M * c.N, 4);
    float *dinp = gc_start(c.M * c.K), *dw = gc_start(c.N * c.K);
    float *dinp0 = gc_copy(dinp, c.M * c.K), *dw0 = gc_copy(dw, c.N * c.K);
    k_matmul_forward(out, inp, w, c.M, c.K, c.N, 0);
    k_matmul_backward(dinp, dw, dy, inp, w, c.M, c.K, c.N);
    gc_added(dinp, dinp0, c.M * c.K);
    gc_added(dw, dw0, c.N * c.K);
    double *g = malloc(sizeof(double) * c.M * c.K);
    gc_numeric(g, c.inp, c.M * c.K, mm_loss, &c);
    gc_assert_close(dinp, g, c.M * c.K, 1e-5, "dinp");
    free(g);
    g = malloc(sizeof(double) * c.N * c.K);
    gc_numeric(g, c.w, c.N * c.K, mm_loss, &c);
    gc_assert_close(dw, g, c.N * c.K, 1e-5, "dw");
    /* accumulate adds to what is there */
    float before = out[5];
    k_matmul_forward(out, inp, w, c.M, c.K, c.N, 1);
    ck_assert_float_eq_tol(out[5], 2 * before, 1e-5 * (1 + fabsf(before)));
    free(g), free(inp), free(w), free(dy), free(out), free(dinp), free(dw);
    free(c.inp), free(c.w), free(c.dy);
}
END_TEST

/* ---------------------------------------------------------------------------
 * RMSNorm */

#define EPS 1e-6

struct rn_ctx {
    double *x, *dy;
    int N, C;
};

static void rmsnorm_ref(double *out, const double *x, int N, int C)
{
    for (int n = 0; n < N; n++) {
        double ss = 0;
        for (int c = 0; c < C; c++)
            ss += x[n * C + c] * x[n * C + c];
        double r = 1 / sqrt(ss / C + EPS);
        for (int c = 0; c < C; c++)
            out[n * C + c] = x[n * C + c] * r;
    }
}

static double rn_loss(void *p)
{
    struct rn_ctx *c = p;
    double *o = malloc(sizeof(double) * c->N * c->C), s = 0;
    rmsnorm_ref(o, c->x, c->N, c->C);
    for (int i = 0; i < c->N * c->C; i++)
        s += o[i] * c->dy[i];
    free(o);
    return s;
}

START_TEST(rmsnorm_forward_and_gradients)
{
    struct rn_ctx c = {.N = 7, .C = 24};
    size_t n = c.N * c.C;
    c.x = gc_random(n, 2), c.dy = gc_random(n, 1);
    gc_round(c.x, n), gc_round(c.dy, n);
    float *x = gc_to_float(c.x, n), *dy = gc_to_float(c.dy, n), *out = calloc(n, 4);
    float *rstd = calloc(c.N, 4), *dx = gc_start(n), *dx0 = gc_copy(dx, n);
    k_rmsnorm_forward(out, rstd, x, c.N, c.C);
    double *want = malloc(sizeof(double) * n);
    rmsnorm_ref(want, c.x, c.N, c.C);
    gc_assert_close(out, want, n, 1e-6, "rmsnorm out");
    float *dy_before = gc_copy(dy, n);
    k_rmsnorm_backward(dx, dy, out, rstd, c.N, c.C);
    ck_assert_mem_eq(dy, dy_before, n * 4);
    free(dy_before);
    gc_added(dx, dx0, n);
    gc_numeric(want, c.x, n, rn_loss, &c);
    gc_assert_close(dx, want, n, 1e-5, "rmsnorm dx");
    /* in place gives the same */
    k_rmsnorm_forward(x, rstd, x, c.N, c.C);
    ck_assert_mem_eq(x, out, n * 4);
    free(x), free(dy), free(out), free(rstd), free(dx), free(want), free(c.x), free(c.dy);
}
END_TEST

/* ---------------------------------------------------------------------------
 * RoPE */

struct rope_ctx {
    double *x, *dy, *cs, *sn;
    int B, T, H, D;
};

static void rope_ref(double *out, const struct rope_ctx *c)
{
    int h2 = c->D / 2;
    for (int bt = 0; bt < c->B * c->T; bt++)
        for (int h = 0; h < c->H; h++)
            for (int i = 0; i < h2; i++) {
                int t = bt % c->T;
                size_t o = ((size_t)bt * c->H + h) * c->D;
                double x1 = c->x[o + i], x2 = c->x[o + i + h2];
                double cs = c->cs[t * h2 + i], sn = c->sn[t * h2 + i];
                out[o + i] = x1 * cs + x2 * sn;
                out[o + i + h2] = -x1 * sn + x2 * cs;
            }
}

static double rope_loss(void *p)
{
    struct rope_ctx *c = p;
    size_t n = (size_t)c->B * c->T * c->H * c->D;
    double *o = malloc(sizeof(double) * n), s = 0;
    rope_ref(o, c);
    for (size_t i = 0; i < n; i++)
        s += o[i] * c->dy[i];
    free(o);
    return s;
}

START_TEST(rope_forward_and_gradients)
{
    struct rope_ctx c = {.B = 2, .T = 5, .H = 3, .D = 8};
    size_t n = (size_t)c.B * c.T * c.H * c.D, nt = (size_t)c.T * c.D / 2;
    c.x = gc_random(n, 1), c.dy = gc_random(n, 1);
    c.cs = malloc(sizeof(double) * nt), c.sn = malloc(sizeof(double) * nt);
    for (int t = 0; t < c.T; t++)
        for (int i = 0; i < c.D / 2; i++) {
            double f = pow(10000.0, -2.0 * i / c.D);
            c.cs[t * c.D / 2 + i] = (float)cos(t * f);
            c.sn[t * c.D / 2 + i] = (float)sin(t * f);
        }
    gc_round(c.x, n), gc_round(c.dy, n);
    float *x = gc_to_float(c.x, n), *dy = gc_to_float(c.dy, n);
    float *dx = gc_start(n), *dx0 = gc_copy(dx, n);
    float *cs = gc_to_float(c.cs, nt), *sn = gc_to_float(c.sn, nt);
    double *want = malloc(sizeof(double) * n);
    k_rope_forward(x, cs, sn, c.B, c.T, c.H, c.D);
    rope_ref(want, &c);
    gc_assert_close(x, want, n, 1e-6, "rope out");
    float *dy_before = gc_copy(dy, n);
    k_rope_backward(dx, dy, cs, sn, c.B, c.T, c.H, c.D);
    ck_assert_mem_eq(dy, dy_before, n * 4);   /* no longer in place */
    free(dy_before);
    gc_added(dx, dx0, n);
    gc_numeric(want, c.x, n, rope_loss, &c);
    gc_assert_close(dx, want, n, 1e-5, "rope dx");
    free(x), free(dy), free(dx), free(cs), free(sn), free(want);
    free(c.x), free(c.dy), free(c.cs), free(c.sn);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Residual mix */

struct mix_ctx {
    double *x, *x0, *lam, *lam0, *dy;
    int N, C, l;
};

static double mix_loss(void *p)
{
    struct mix_ctx *c = p;
    double s = 0;
    for (int i = 0; i < c->N * c->C; i++)
        s += c->dy[i] * (c->lam[c->l] * c->x[i] + c->lam0[c->l] * c->x0[i]);
    return s;
}

START_TEST(residual_mix_gradients)
{
    struct mix_ctx c = {.N = 9, .C = 16, .l = 1};
    size_t n = c.N * c.C;
    c.x = gc_random(n, 1), c.x0 = gc_random(n, 1), c.dy = gc_random(n, 1);
    c.lam = gc_random(3, 1), c.lam0 = gc_random(3, 1);
    gc_round(c.x, n), gc_round(c.x0, n), gc_round(c.dy, n), gc_round(c.lam, 3);
    gc_round(c.lam0, 3);
    float *x = gc_to_float(c.x, n), *x0 = gc_to_float(c.x0, n), *dy = gc_to_float(c.dy, n);
    float *lam = gc_to_float(c.lam, 3), *lam0 = gc_to_float(c.lam0, 3);
    float *out = calloc(n, 4), *dx = gc_start(n), *dx0 = gc_start(n);
    float *dlam = gc_start(3), *dlam0 = gc_start(3);
    float *start[4] = {gc_copy(dx, n), gc_copy(dx0, n), gc_copy(dlam, 3), gc_copy(dlam0, 3)};
    k_residual_mix_forward(out, x, x0, lam, lam0, c.l, c.N, c.C);
    k_residual_mix_backward(dx, dx0, dlam, dlam0, dy, x, x0, lam, lam0, c.l, c.N, c.C);
    gc_added(dx, start[0], n);
    gc_added(dx0, start[1], n);
    gc_added(dlam, start[2], 3);
    gc_added(dlam0, start[3], 3);
    double *g = malloc(sizeof(double) * n);
    gc_numeric(g, c.x, n, mix_loss, &c);
    gc_assert_close(dx, g, n, 1e-6, "dx");
    gc_numeric(g, c.x0, n, mix_loss, &c);
    gc_assert_close(dx0, g, n, 1e-6, "dx0");
    gc_numeric(g, c.lam, 3, mix_loss, &c);
    gc_assert_close(dlam, g, 3, 1e-5, "dlambda");
    gc_numeric(g, c.lam0, 3, mix_loss, &c);
    gc_assert_close(dlam0, g, 3, 1e-5, "dx0_lambda");
    free(x), free(x0), free(dy), free(lam), free(lam0), free(out), free(dx), free(dx0), free(g);
    free(dlam), free(dlam0);
    free(c.x), free(c.x0), free(c.dy), free(c.lam), free(c.lam0);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Value-embedding gate */

struct ve_ctx {
    double *v, *pre, *ve, *dy;
    int N, Hk, D;
};

static double ve_loss(void *p)
{
    struct ve_ctx *c = p;
    double s = 0;
    for (int n = 0; n < c->N; n++)
        for (int h = 0; h < c->Hk; h++) {
            double g = 2 / (1 + exp(-c->pre[n * c->Hk + h]));
            for (int d = 0; d < c->D; d++) {
                size_t i = ((size_t)n * c->Hk + h) * c->D + d;
                s += c->dy[i] * (c->v[i] + g * c->ve[i]);
            }
        }
    return s;
}

START_TEST(ve_gate_gradients)
{
    struct ve_ctx c = {.N = 6, .Hk = 2, .D = 8};
    size_t n = (size_t)c.N * c.Hk * c.D, np = (size_t)c.N * c.Hk;
    c.v = gc_random(n, 1), c.pre = gc_random(np, 2), c.ve = gc_random(n, 1);
    c.dy = gc_random(n, 1);
    gc_round(c.v, n), gc_round(c.pre, np), gc_round(c.ve, n), gc_round(c.dy, n);
    float *v = gc_to_float(c.v, n), *pre = gc_to_float(c.pre, np), *ve = gc_to_float(c.ve, n);
    float *dy = gc_to_float(c.dy, n), *dpre = gc_start(np), *dve = gc_start(n);
    float *dpre0 = gc_copy(dpre, np), *dve0 = gc_copy(dve, n);
    k_ve_gate_forward(v, pre, ve, c.N, c.Hk, c.D);
    double *want = malloc(sizeof(double) * n);
    for (size_t i = 0; i < n; i++)
        want[i] = c.v[i] + 2 / (1 + exp(-c.pre[i / c.D])) * c.ve[i];
    gc_assert_close(v, want, n, 1e-6, "v");
    k_ve_gate_backward(dpre, dve, dy, pre, ve, c.N, c.Hk, c.D);
    gc_added(dpre, dpre0, np);
    gc_added(dve, dve0, n);
    gc_numeric(want, c.pre, np, ve_loss, &c);
    gc_assert_close(dpre, want, np, 1e-5, "dpre");
    gc_numeric(want, c.ve, n, ve_loss, &c);
    gc_assert_close(dve, want, n, 1e-5, "dve");
    free(v), free(pre), free(ve), free(dy), free(dpre), free(dve), free(want);
    free(c.v), free(c.pre), free(c.ve), free(c.dy);
}
END_TEST

/* ---------------------------------------------------------------------------
 * MLP activations */

struct act_ctx {
    double *u, *dy;
    int N, F;
    enum k_act kind;
};

static void act_ref(double *out, const struct act_ctx *c)
{
    int w = c->kind == K_ACT_SWIGLU ? 2 * c->F : c->F;
    for (int n = 0; n < c->N; n++)
        for (int i = 0; i < c->F; i++) {
            double x = c->u[n * w + i], y;
            if (c->kind == K_ACT_RELU2)
                y = x > 0 ? x * x : 0;
            else if (c->kind == K_ACT_GELU)
                y = 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
            else
                y = x / (1 + exp(-x)) * c->u[n * w + c->F + i];
            out[n * c->F + i] = y;
        }
}

static double act_loss(void *p)
{
    struct act_ctx *c = p;
    double *o = malloc(sizeof(double) * c->N * c->F), s = 0;
    act_ref(o, c);
    for (int i = 0; i < c->N * c->F; i++)
        s += o[i] * c->dy[i];
    free(o);
    return s;
}

START_TEST(activation_gradients)
{
    enum k_act kind = (enum k_act)_i;
    struct act_ctx c = {.N = 5, .F = 12, .kind = kind};
    int w = kind == K_ACT_SWIGLU ? 2 * c.F : c.F;
    size_t nu = (size_t)c.N * w, no = (size_t)c.N * c.F;
    c.u = gc_random(nu, 3), c.dy = gc_random(no, 1);
    gc_round(c.u, nu), gc_round(c.dy, no);
    for (size_t i = 0; i < nu; i++)   /* keep relu^2 away from its kink */
        if (fabs(c.u[i]) < 1e-3)
            c.u[i] = 0.5;
    float *u = gc_to_float(c.u, nu), *dy = gc_to_float(c.dy, no);
    float *out = calloc(no, 4), *du = gc_start(nu), *du0 = gc_copy(du, nu);
    k_act_forward(out, u, c.N, c.F, kind);
    double *want = malloc(sizeof(double) * nu);
    act_ref(want, &c);
    gc_assert_close(out, want, no, 1e-5, "activation out");
    k_act_backward(du, dy, u, c.N, c.F, kind);
    gc_added(du, du0, nu);
    gc_numeric(want, c.u, nu, act_loss, &c);
    gc_assert_close(du, want, nu, 1e-5, "activation du");
    free(u), free(dy), free(out), free(du), free(want), free(c.u), free(c.dy);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Attention */

struct att_ctx {
    double *q, *k, *v, *dy;
    int B, T, H, Hk, D, window;
};

static void attention_ref(double *out, const struct att_ctx *c)
{
    int group = c->H / c->Hk;
    double *s = malloc(sizeof(double) * c->T);
    for (int b = 0; b < c->B; b++)
        for (int h = 0; h < c->H; h++)
            for (int i = 0; i < c->T; i++) {
                int kh = h / group, j0 = i - c->window + 1 > 0 ? i - c->window + 1 : 0;
                const double *qi = c->q + (((size_t)b * c->T + i) * c->H + h) * c->D;
                double mx = -INFINITY, sum = 0;
                for (int j = j0; j <= i; j++) {
                    const double *kj = c->k + (((size_t)b * c->T + j) * c->Hk + kh) * c->D;
                    double d = 0;
                    for (int e = 0; e < c->D; e++)
                        d += qi[e] * kj[e];
                    s[j] = d / sqrt(c->D);
                    mx = fmax(mx, s[j]);
                }
                for (int j = j0; j <= i; j++)
                    sum += exp(s[j] - mx);
                double *o = out + (((size_t)b * c->T + i) * c->H + h) * c->D;
                for (int e = 0; e < c->D; e++)
                    o[e] = 0;
                for (int j = j0; j <= i; j++) {
                    const double *vj = c->v + (((size_t)b * c->T + j) * c->Hk + kh) * c->D;
                    for (int e = 0; e < c->D; e++)
                        o[e] += exp(s[j] - mx) / sum * vj[e];
                }
            }
    free(s);
}

static double att_loss(void *p)
{
    struct att_ctx *c = p;
    size_t n = (size_t)c->B * c->T * c->H * c->D;
    double *o = malloc(sizeof(double) * n), s = 0;
    attention_ref(o, c);
    for (size_t i = 0; i < n; i++)
        s += o[i] * c->dy[i];
    free(o);
    return s;
}

/* _i picks: 0 full causal, 1 sliding window, 2 grouped kv heads + window,
 * 3 long sequence crossing several query blocks with a window */
START_TEST(attention_forward_and_gradients)
{
    static const int shapes[][6] = {
        {2, 9, 2, 2, 4, 100}, {2, 11, 2, 2, 4, 3}, {1, 10, 4, 2, 8, 4}, {1, 150, 2, 1, 4, 70}};
    const int *s = shapes[_i];
    struct att_ctx c = {.B = s[0], .T = s[1], .H = s[2], .Hk = s[3], .D = s[4], .window = s[5]};
    size_t nq = (size_t)c.B * c.T * c.H * c.D, nk = (size_t)c.B * c.T * c.Hk * c.D;
    c.q = gc_random(nq, 1.5), c.k = gc_random(nk, 1.5), c.v = gc_random(nk, 1);
    c.dy = gc_random(nq, 1);
    gc_round(c.q, nq), gc_round(c.k, nk), gc_round(c.v, nk), gc_round(c.dy, nq);
    float *q = gc_to_float(c.q, nq), *k = gc_to_float(c.k, nk), *v = gc_to_float(c.v, nk);
    float *dy = gc_to_float(c.dy, nq), *out = calloc(nq, 4);
    float *lse = calloc((size_t)c.B * c.H * c.T, 4);
    float *dq = gc_start(nq), *dk = gc_start(nk), *dv = gc_start(nk);
    float *dq0 = gc_copy(dq, nq), *dk0 = gc_copy(dk, nk), *dv0 = gc_copy(dv, nk);
    size_t nscr = k_attention_scratch(c.T, c.window, kernels_threads());
    float *scr = malloc(sizeof(float) * nscr);
    k_attention_forward(out, lse, q, k, v, scr, nscr, c.B, c.T, c.H, c.Hk, c.D, c.window);
    double *want = malloc(sizeof(double) * nq);
    attention_ref(want, &c);
    gc_assert_close(out, want, nq, 1e-5, "attention out");
    float *dy_before = gc_copy(dy, nq);
    k_attention_backward(dq, dk, dv, dy, out, lse, q, k, v, scr, nscr, c.B, c.T, c.H, c.Hk, c.D,
                         c.window);
    ck_assert_mem_eq(dy, dy_before, nq * 4);
    free(dy_before);
    gc_added(dq, dq0, nq);
    gc_added(dk, dk0, nk);
    gc_added(dv, dv0, nk);
    /* long case: check a sample of coordinates, not all, to stay fast */
    size_t step = _i == 3 ? 37 : 1;
    double *g = malloc(sizeof(double) * nq);
    double *x[3] = {c.q, c.k, c.v};
    float *got[3] = {dq, dk, dv};
    size_t len[3] = {nq, nk, nk};
    const char *name[3] = {"dq", "dk", "dv"};
    for (int t = 0; t < 3; t++) {
        size_t m = 0;
        float *sel = malloc(sizeof(float) * len[t]);
        double *gs = malloc(sizeof(double) * len[t]);
        for (size_t i = 0; i < len[t]; i += step) {
            gc_numeric(g, x[t] + i, 1, att_loss, &c);
            sel[m] = got[t][i];
            gs[m++] = g[0];
        }
        gc_assert_close(sel, gs, m, 2e-5, name[t]);
        free(sel), free(gs);
    }
    free(q), free(k), free(v), free(dy), free(out), free(lse), free(dq), free(dk), free(dv), free(scr);
    free(want), free(g), free(c.q), free(c.k), free(c.v), free(c.dy);
}
END_TEST

/* The kernels run as many threads as the scratch has slots for; the
 * result is the same bit for bit with one slot, two, or more than needed. */
START_TEST(attention_same_result_whatever_the_scratch)
{
    int B = 2, T = 150, H = 4, Hk = 2, D = 8, window = 70;
    size_t nq = (size_t)B * T * H * D, nk = (size_t)B * T * Hk * D, nl = (size_t)B * H * T;
    double *q = gc_random(nq, 1.5), *k = gc_random(nk, 1.5), *v = gc_random(nk, 1);
    double *dy = gc_random(nq, 1);
    float *fq = gc_to_float(q, nq), *fk = gc_to_float(k, nk), *fv = gc_to_float(v, nk);
    float *fdy = gc_to_float(dy, nq);
    kernels_set_threads(2);
    size_t sizes[3] = {k_attention_scratch(T, window, 1), k_attention_scratch(T, window, 2),
                       k_attention_scratch(T, window, 5)};
    float *ref[5] = {NULL};
    for (int r = 0; r < 3; r++) {
        float *scr = malloc(sizeof(float) * sizes[r]);
        float *out = calloc(nq, 4), *lse = calloc(nl, 4);
        float *dq = calloc(nq, 4), *dk = calloc(nk, 4), *dv = calloc(nk, 4);
        k_attention_forward(out, lse, fq, fk, fv, scr, sizes[r], B, T, H, Hk, D, window);
        k_attention_backward(dq, dk, dv, fdy, out, lse, fq, fk, fv, scr, sizes[r], B, T, H, Hk,
                             D, window);
        float *got[5] = {out, lse, dq, dk, dv};
        size_t len[5] = {nq, nl, nq, nk, nk};
        for (int i = 0; i < 5; i++) {
            if (r == 0)
                ref[i] = got[i];
            else {
                ck_assert_msg(memcmp(ref[i], got[i], len[i] * 4) == 0,
                              "output %d differs with scratch for %zu floats", i, sizes[r]);
                free(got[i]);
            }
        }
        free(scr);
    }
    for (int i = 0; i < 5; i++)
        free(ref[i]);
    kernels_set_threads(0);
    free(q), free(k), free(v), free(dy), free(fq), free(fk), free(fv), free(fdy);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Cross-entropy with soft-cap, label smoothing, z-loss */

struct ce_ctx {
    double *z;
    const uint16_t *t;
    int N, V;
    double cap, ls, zl;
};

static double ce_ref_row(const double *z0, int t, int V, double cap, double ls, double zl)
{
    double mx = -INFINITY, sum = 0, zsum = 0, zt = 0;
    for (int j = 0; j < V; j++) {
        double z = cap > 0 ? cap * tanh(z0[j] / cap) : z0[j];
        mx = fmax(mx, z);
    }
    for (int j = 0; j < V; j++) {
        double z = cap > 0 ? cap * tanh(z0[j] / cap) : z0[j];
        sum += exp(z - mx);
        zsum += z;
        if (j == t)
            zt = z;
    }
    double lse = mx + log(sum);
    return (1 - ls) * (lse - zt) + ls * (lse - zsum / V) + zl * lse * lse;
}

static double ce_loss(void *p)
{
    struct ce_ctx *c = p;
    double s = 0;
    for (int n = 0; n < c->N; n++)
        s += ce_ref_row(c->z + (size_t)n * c->V, c->t[n], c->V, c->cap, c->ls, c->zl);
    return s;
}

/* _i: 0 plain, 1 soft-cap, 2 soft-cap + label smoothing + z-loss */
START_TEST(crossentropy_losses_and_gradients)
{
    static const double opts[][3] = {{0, 0, 0}, {3, 0, 0}, {3, 0.1, 1e-2}};
    uint16_t t[6] = {0, 5, 12, 3, 3, 9};
    struct ce_ctx c = {.t = t, .N = 6, .V = 13, .cap = opts[_i][0], .ls = opts[_i][1],
                       .zl = opts[_i][2]};
    size_t n = (size_t)c.N * c.V;
    c.z = gc_random(n, 4);
    gc_round(c.z, n);
    float *z = gc_to_float(c.z, n), *losses = calloc(c.N, 4);
    double want[6];
    for (int i = 0; i < c.N; i++)
        want[i] = ce_ref_row(c.z + i * c.V, t[i], c.V, c.cap, c.ls, c.zl);
    k_crossentropy(losses, z, t, c.N, c.V, (float)c.cap, (float)c.ls, (float)c.zl, 0.5f);
    gc_assert_close(losses, want, c.N, 1e-5, "losses");
    double *g = malloc(sizeof(double) * n);
    gc_numeric(g, c.z, n, ce_loss, &c);
    for (size_t i = 0; i < n; i++)
        g[i] *= 0.5;
    gc_assert_close(z, g, n, 1e-5, "dlogits");
    free(z), free(losses), free(g), free(c.z);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Embedding */

START_TEST(embedding_lookup_and_scatter)
{
    int V = 5, C = 7, N = 6;
    uint16_t idx[6] = {1, 4, 1, 0, 4, 1};
    float table[35], out[42], dout[42], dtable[35];
    for (int i = 0; i < V * C; i++)
        dtable[i] = 0.25f * (float)(i % 3);   /* backward adds to what is there */
    for (int i = 0; i < V * C; i++)
        table[i] = (float)i;
    for (int i = 0; i < N * C; i++)
        dout[i] = (float)(i % 5) - 2.0f;
    k_embedding_forward(out, idx, table, N, C);
    k_embedding_backward(dtable, dout, idx, N, C, V);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            ck_assert_float_eq(out[n * C + c], table[idx[n] * C + c]);
    for (int v = 0; v < V; v++)
        for (int c = 0; c < C; c++) {
            float want = 0.25f * (float)((v * C + c) % 3);
            for (int n = 0; n < N; n++)
                if (idx[n] == v)
                    want += dout[n * C + c];
            ck_assert_float_eq(dtable[v * C + c], want);
        }
}
END_TEST

/* ---------------------------------------------------------------------------
 * Optimizer kernels */

START_TEST(adamw_matches_formula)
{
    float p[3] = {1.0f, -2.0f, 0.5f}, g[3] = {0.1f, -0.3f, 2.0f}, m[3] = {0}, v[3] = {0};
    double pd[3] = {1.0, -2.0, 0.5}, md[3] = {0}, vd[3] = {0};
    for (long t = 1; t <= 3; t++) {
        k_adamw(p, g, m, v, 3, 0.01f, 0.8f, 0.95f, 1e-8f, 0.1f, t);
        for (int i = 0; i < 3; i++) {
            md[i] = 0.8 * md[i] + 0.2 * g[i];
            vd[i] = 0.95 * vd[i] + 0.05 * (double)g[i] * g[i];
            double mh = md[i] / (1 - pow(0.8, t)), vh = vd[i] / (1 - pow(0.95, t));
            pd[i] = pd[i] * (1 - 0.01 * 0.1) - 0.01 * mh / (sqrt(vh) + 1e-8);
        }
    }
    gc_assert_close(p, pd, 3, 1e-6, "adamw p");
}
END_TEST

/* The same Newton-Schulz iteration in double, on the wide orientation. */
static void ns_ref(double *x, int r, int c, int steps)
{
    int tall = r > c;
    if (tall) {   /* transpose to wide */
        double *t = malloc(sizeof(double) * r * c);
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++)
                t[j * r + i] = x[i * c + j];
        ns_ref(t, c, r, steps);
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++)
                x[i * c + j] = t[j * r + i];
        free(t);
        return;
    }
    double norm = 0;
    for (int i = 0; i < r * c; i++)
        norm += x[i] * x[i];
    norm = sqrt(norm);
    for (int i = 0; i < r * c; i++)
        x[i] /= norm + 1e-7;
    double *A = malloc(sizeof(double) * r * r), *Bm = malloc(sizeof(double) * r * r);
    double *y = malloc(sizeof(double) * r * c);
    for (int it = 0; it < steps; it++) {
        for (int i = 0; i < r; i++)
            for (int j = 0; j < r; j++) {
                double s = 0;
                for (int k = 0; k < c; k++)
                    s += x[i * c + k] * x[j * c + k];
                A[i * r + j] = s;
            }
        for (int i = 0; i < r; i++)
            for (int j = 0; j < r; j++) {
                double s = 0;
                for (int k = 0; k < r; k++)
                    s += A[i * r + k] * A[k * r + j];
                Bm[i * r + j] = -4.7750 * A[i * r + j] + 2.0315 * s;
            }
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++) {
                double s = 0;
                for (int k = 0; k < r; k++)
                    s += Bm[i * r + k] * x[k * c + j];
                y[i * c + j] = 3.4445 * x[i * c + j] + s;
            }
        memcpy(x, y, sizeof(double) * r * c);
    }
    free(A), free(Bm), free(y);
}

START_TEST(newton_schulz_orthogonalises)
{
    int shapes[2][2] = {{12, 30}, {30, 12}};
    for (int s = 0; s < 2; s++) {
        int r = shapes[s][0], c = shapes[s][1], m = r < c ? r : c;
        double *x = gc_random((size_t)r * c, 1);
        gc_round(x, (size_t)r * c);
        float *f = gc_to_float(x, (size_t)r * c);
        float *scratch = calloc(k_muon_scratch(r, c), 4);
        k_newton_schulz(f, scratch, r, c, 5);
        ns_ref(x, r, c, 5);
        gc_assert_close(f, x, (size_t)r * c, 1e-4, "newton-schulz");
        /* singular values pushed towards 1: the mean square is near 1, far
         * from the 1/m of the merely normalised input */
        double ss = 0;
        for (int i = 0; i < r * c; i++)
            ss += (double)f[i] * f[i];
        ck_assert_msg(ss / m > 0.5 && ss / m < 1.5, "mean square singular value %g", ss / m);
        free(x), free(f), free(scratch);
    }
}
END_TEST

START_TEST(muon_step_moves_against_gradient)
{
    const struct k_muon_opts quintic = { 5, 0, 0, 0.95f };
    int r = 8, c = 16;
    float p[128], g[128], buf[128] = {0};
    float *scratch = calloc(k_muon_scratch(r, c), 4);
    for (int i = 0; i < r * c; i++) {
        p[i] = (float)gc_uniform();
        g[i] = (float)gc_uniform();
    }
    float p0[128];
    memcpy(p0, p, sizeof p);
    k_muon(p, g, buf, NULL, scratch, r, c, 0.01f, 0.9f, 0.0f, &quintic);
    double dot = 0;
    for (int i = 0; i < r * c; i++)
        dot += (p[i] - p0[i]) * g[i];
    ck_assert_msg(dot < 0, "update . gradient = %g", dot);
    /* a zero update agrees in sign with every weight: all of them decay */
    memcpy(p, p0, sizeof p);
    memset(buf, 0, sizeof buf);
    memset(g, 0, sizeof g);
    k_muon(p, g, buf, NULL, scratch, r, c, 0.1f, 0.9f, 0.5f, &quintic);
    for (int i = 0; i < r * c; i++)
        ck_assert_float_eq_tol(p[i], p0[i] * 0.95f, 1e-6f);
    free(scratch);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("blas");
    tcase_add_test(tc, blas_selftest_passes_and_names_kernel);
    tcase_add_test(tc, blas_selftest_reports_a_broken_kernel);
    tcase_add_test(tc, blas_coretype_decisions);
    tcase_add_test(tc, gemm_matches_reference_any_threads);
    suite_add_tcase(s, tc);
    tc = tcase_create("layers");
    tcase_add_test(tc, matmul_gradients);
    tcase_add_test(tc, rmsnorm_forward_and_gradients);
    tcase_add_test(tc, rope_forward_and_gradients);
    tcase_add_test(tc, residual_mix_gradients);
    tcase_add_test(tc, ve_gate_gradients);
    tcase_add_loop_test(tc, activation_gradients, K_ACT_RELU2, K_ACT_SWIGLU + 1);
    tcase_add_loop_test(tc, attention_forward_and_gradients, 0, 4);
    tcase_add_test(tc, attention_same_result_whatever_the_scratch);
    tcase_add_loop_test(tc, crossentropy_losses_and_gradients, 0, 3);
    tcase_add_test(tc, embedding_lookup_and_scatter);
    suite_add_tcase(s, tc);
    tc = tcase_create("optimizer");
    tcase_add_test(tc, adamw_matches_formula);
    tcase_add_test(tc, newton_schulz_orthogonalises);
    tcase_add_test(tc, muon_step_moves_against_gradient);
    suite_add_tcase(s, tc);
    return s;
}

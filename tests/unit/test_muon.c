/* Muon's orthogonalisations and NorMuon (kernels/cpu/update.c): Polar
 * Express against a double-precision reference and as an orthogonaliser,
 * the fixed quintic path of k_muon unchanged, NorMuon's row scales. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "gradcheck.h"
#include "unit.h"

/* train.py's coefficients, in double */
static const double pe[5][3] = {
    { 8.156554524902461, -22.48329292557795, 15.878769915207462 },
    { 4.042929935166739, -2.808917465908714, 0.5000178451051316 },
    { 3.8916678022926607, -2.772484153217685, 0.5060648178503393 },
    { 3.285753657755655, -2.3681294933425376, 0.46449024233003106 },
    { 2.3465413258596377, -1.7097828382687081, 0.42323551169305323 },
};

/* n uniform floats in [-1, 1) (malloc'd) */
static float *rand_floats(size_t n)
{
    double *x = gc_random(n, 1);
    float *f = gc_to_float(x, n);
    free(x);
    return f;
}

/* x (r, c) as its wide orientation w (m = min(r, c) rows); back again */
static double *wide(const double *x, int r, int c)
{
    double *w = malloc(sizeof(double) * r * c);
    for (int i = 0; i < r; i++)
        for (int j = 0; j < c; j++)
            if (r > c)
                w[j * r + i] = x[i * c + j];
            else
                w[i * c + j] = x[i * c + j];
    return w;
}

static void unwide(double *x, const double *w, int r, int c)
{
    for (int i = 0; i < r; i++)
        for (int j = 0; j < c; j++)
            x[i * c + j] = r > c ? w[j * r + i] : w[i * c + j];
}

/* Polar Express in double on the wide orientation (m, n): x <- a x + (b A + c A^2) x */
static void pe_ref(double *x, int r, int c, int steps)
{
    double *w = wide(x, r, c);
    int m = r < c ? r : c, n = r < c ? c : r;
    double norm = 0;
    for (int i = 0; i < m * n; i++)
        norm += w[i] * w[i];
    norm = sqrt(norm) * 1.02 + 1e-6;
    for (int i = 0; i < m * n; i++)
        w[i] /= norm;
    double *A = malloc(sizeof(double) * m * m), *P = malloc(sizeof(double) * m * m);
    double *y = malloc(sizeof(double) * m * n);
    for (int it = 0; it < steps; it++) {
        const double *k = pe[it < 5 ? it : 4];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++) {
                double s = 0;
                for (int q = 0; q < n; q++)
                    s += w[i * n + q] * w[j * n + q];
                A[i * m + j] = s;
            }
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++) {
                double s = 0;
                for (int q = 0; q < m; q++)
                    s += A[i * m + q] * A[q * m + j];
                P[i * m + j] = k[1] * A[i * m + j] + k[2] * s + (i == j ? k[0] : 0);
            }
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int q = 0; q < m; q++)
                    s += P[i * m + q] * w[q * n + j];
                y[i * n + j] = s;
            }
        memcpy(w, y, sizeof(double) * m * n);
    }
    unwide(x, w, r, c);
    free(w), free(A), free(P), free(y);
}

/* max |x x^T - I| over the wide orientation: how far from orthogonal rows */
static double off_orthogonal(const float *f, int r, int c)
{
    double *x = malloc(sizeof(double) * r * c);
    for (int i = 0; i < r * c; i++)
        x[i] = f[i];
    double *w = wide(x, r, c);
    int m = r < c ? r : c, n = r < c ? c : r;
    double worst = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) {
            double s = 0;
            for (int q = 0; q < n; q++)
                s += w[i * n + q] * w[j * n + q];
            double e = fabs(s - (i == j));
            worst = e > worst ? e : worst;
        }
    free(x), free(w);
    return worst;
}

START_TEST(polar_express_matches_its_reference)
{
    int shapes[3][2] = {{12, 30}, {30, 12}, {16, 16}};
    for (int s = 0; s < 3; s++) {
        int r = shapes[s][0], c = shapes[s][1];
        for (int steps = 1; steps <= 7; steps += 3) {
            double *x = gc_random((size_t)r * c, 1);
            gc_round(x, (size_t)r * c);
            float *f = gc_to_float(x, (size_t)r * c);
            float *scratch = calloc(k_muon_scratch(r, c), 4);
            k_polar_express(f, scratch, r, c, steps);
            pe_ref(x, r, c, steps);
            gc_assert_close(f, x, (size_t)r * c, 1e-3, "polar express");
            free(x), free(f), free(scratch);
        }
    }
}
END_TEST

/* Five Polar Express steps bring a random matrix's singular values near 1
 * (its rows orthonormal to within 0.3 in X X^T; about 0.1 to 0.2 seen),
 * as five of the fixed quintic do more loosely. */
START_TEST(polar_express_orthogonalises)
{
    int shapes[3][2] = {{12, 30}, {30, 12}, {24, 64}};
    for (int s = 0; s < 3; s++) {
        int r = shapes[s][0], c = shapes[s][1];
        size_t n = (size_t)r * c;
        double *x = gc_random(n, 1);
        float *f = gc_to_float(x, n), *q = gc_to_float(x, n);
        float *scratch = calloc(k_muon_scratch(r, c), 4);
        k_polar_express(f, scratch, r, c, 5);
        k_newton_schulz(q, scratch, r, c, 5);
        double pe_err = off_orthogonal(f, r, c), q_err = off_orthogonal(q, r, c);
        ck_assert_msg(pe_err < 0.3, "%dx%d: polar express max |XX^T - I| = %g", r, c, pe_err);
        ck_assert_msg(q_err < 0.6, "%dx%d: quintic max |XX^T - I| = %g", r, c, q_err);
        free(x), free(f), free(q), free(scratch);
    }
}
END_TEST

/* k_muon with the fixed quintic and no NorMuon is today's Muon bit for bit:
 * momentum, k_newton_schulz, the cautious update; v is left alone. */
START_TEST(quintic_path_unchanged)
{
    int r = 24, c = 40;
    size_t n = (size_t)r * c;
    const struct k_muon_opts quintic = { 5, 0, 0, 0.95f };
    float *p = rand_floats(n), *g = rand_floats(n);
    float *p2 = gc_copy(p, n), *buf = calloc(n, 4), *buf2 = calloc(n, 4), *u = calloc(n, 4);
    float *v = calloc(k_normuon_size(r, c), 4);
    float *scratch = calloc(k_muon_scratch(r, c), 4), *scratch2 = calloc(k_muon_scratch(r, c), 4);
    float lr = 0.02f, wd = 0.2f;
    for (int step = 0; step < 3; step++) {
        float mu = 0.85f + 0.05f * step;
        k_muon(p, g, buf, v, scratch, r, c, lr, mu, wd, &quintic);
        for (size_t i = 0; i < n; i++) {
            buf2[i] = mu * buf2[i] + (1.0f - mu) * g[i];
            u[i] = (1.0f - mu) * g[i] + mu * buf2[i];
        }
        k_newton_schulz(u, scratch2, r, c, 5);
        for (size_t i = 0; i < n; i++) {
            float decay = u[i] * p2[i] >= 0.0f ? wd * p2[i] : 0.0f;
            p2[i] -= lr * (u[i] + decay);
        }
        ck_assert_msg(memcmp(p, p2, n * 4) == 0, "step %d: parameters differ", step);
        ck_assert_msg(memcmp(buf, buf2, n * 4) == 0, "step %d: momentum differs", step);
        for (size_t j = 0; j < k_normuon_size(r, c); j++)
            ck_assert_float_eq(v[j], 0.0f);
    }
    free(p), free(g), free(p2), free(buf), free(buf2), free(u), free(v), free(scratch),
        free(scratch2);
}
END_TEST

/* NorMuon: from v = 0, v becomes (1 - beta2) q and every row (tall or
 * square: per row; wide: per column) comes out with the same RMS, the
 * whole update keeping its Frobenius norm. */
START_TEST(normuon_evens_the_rows)
{
    int shapes[3][2] = {{20, 8}, {8, 20}, {12, 12}};
    for (int s = 0; s < 3; s++) {
        int r = shapes[s][0], c = shapes[s][1], per_row = r >= c;
        int nv = per_row ? r : c, len = per_row ? c : r;
        size_t n = (size_t)r * c;
        float *u = rand_floats(n);
        for (int i = 0; i < r; i++)   /* rows and columns of very different scale */
            for (int j = 0; j < c; j++)
                u[i * c + j] *= (float)((i + 1) * (j % 3 + 1));
        double *q = calloc(nv, sizeof *q);
        double before = 0;
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++) {
                double e = (double)u[i * c + j] * u[i * c + j];
                q[per_row ? i : j] += e / len;
                before += e;
            }
        float *v = calloc(nv, 4), *scratch = calloc(nv, 4);
        k_normuon(u, v, scratch, r, c, 0.95f);
        for (int k = 0; k < nv; k++)
            ck_assert_double_eq_tol(v[k], 0.05 * q[k], 1e-5 * q[k]);
        double after = 0, *rms = calloc(nv, sizeof *rms);
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++) {
                double e = (double)u[i * c + j] * u[i * c + j];
                rms[per_row ? i : j] += e / len;
                after += e;
            }
        ck_assert_double_eq_tol(after, before, 1e-5 * before);
        double want = after / (double)n;   /* equal rows: each has the mean square */
        for (int k = 0; k < nv; k++)
            ck_assert_msg(fabs(rms[k] - want) < 1e-4 * want, "%dx%d row %d: mean square %g, wanted %g",
                          r, c, k, rms[k], want);
        free(u), free(q), free(v), free(scratch), free(rms);
    }
}
END_TEST

/* With a history, the scales follow the second moments, not this step
 * alone: a row whose v is 4 times another's gets half its scale. */
START_TEST(normuon_follows_the_second_moments)
{
    int r = 4, c = 2;   /* tall: per row */
    float u[8] = {1, 1, 1, 1, 1, 1, 1, 1}, v[4] = {1.0f, 4.0f, 1.0f, 1.0f}, q[4];
    k_normuon(u, v, q, r, c, 1.0f);   /* beta2 = 1: v stays */
    ck_assert_float_eq(v[0], 1.0f);
    ck_assert_float_eq(v[1], 4.0f);
    ck_assert_float_eq_tol(u[2] / u[0], 0.5f, 1e-6f);
    ck_assert_float_eq_tol(u[3] / u[5], 0.5f, 1e-6f);
    double ss = 0;
    for (int i = 0; i < 8; i++)
        ss += u[i] * u[i];
    ck_assert_double_eq_tol(ss, 8.0, 1e-5);
}
END_TEST

/* k_muon with both: a step against the gradient, NorMuon's v filled. */
START_TEST(muon_with_polar_express_and_normuon)
{
    int r = 16, c = 8;
    size_t n = (size_t)r * c;
    const struct k_muon_opts o = { 5, 1, 1, 0.95f };
    float *p = rand_floats(n), *g = rand_floats(n);
    float *p0 = gc_copy(p, n), *buf = calloc(n, 4), *v = calloc(k_normuon_size(r, c), 4);
    float *scratch = calloc(k_muon_scratch(r, c), 4);
    k_muon(p, g, buf, v, scratch, r, c, 0.01f, 0.9f, 0.0f, &o);
    double dot = 0;
    for (size_t i = 0; i < n; i++)
        dot += (double)(p[i] - p0[i]) * g[i];
    ck_assert_msg(dot < 0, "update . gradient = %g", dot);
    for (int j = 0; j < r; j++)
        ck_assert(v[j] > 0);
    free(p), free(g), free(p0), free(buf), free(v), free(scratch);
}
END_TEST

Suite *make_suite(void)
{
    kernels_set_threads(1);
    Suite *s = suite_create("muon");
    TCase *t = tcase_create("muon");
    tcase_add_test(t, polar_express_matches_its_reference);
    tcase_add_test(t, polar_express_orthogonalises);
    tcase_add_test(t, quintic_path_unchanged);
    tcase_add_test(t, normuon_evens_the_rows);
    tcase_add_test(t, normuon_follows_the_second_moments);
    tcase_add_test(t, muon_with_polar_express_and_normuon);
    suite_add_tcase(s, t);
    return s;
}

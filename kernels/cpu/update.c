/* Optimizer kernels: norms, AdamW, and Muon's momentum, Newton-Schulz
 * orthogonalisation (through sgemm) and cautious weight decay. */
#include "kcpu.h"

#include <math.h>
#include <omp.h>

double k_sum_squares(const float *x, size_t n)
{
    int nt = kernels_threads();
    double part[256] = {0};
    if (nt > 256)
        nt = 256;
    size_t chunk = (n + nt - 1) / nt;
    #pragma omp parallel for schedule(static, 1) num_threads(nt) if (n > 65536)
    for (int p = 0; p < nt; p++) {
        size_t lo = p * chunk, hi = lo + chunk < n ? lo + chunk : n;
        double s = 0;
        for (size_t i = lo; i < hi; i += 1024) {
            size_t e = i + 1024 < hi ? i + 1024 : hi;
            float f = 0.0f;
            #pragma omp simd reduction(+ : f)
            for (size_t j = i; j < e; j++)
                f += x[j] * x[j];
            s += f;
        }
        part[p] = s;
    }
    double s = 0;
    for (int p = 0; p < nt; p++)
        s += part[p];
    return s;
}

void k_scale(float *x, float s, size_t n)
{
    #pragma omp parallel for simd schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++)
        x[i] *= s;
}

void k_adamw(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
             float beta2, float eps, float wd, long t)
{
    float c1 = 1.0f / (1.0f - powf(beta1, (float)t));
    float c2 = 1.0f / (1.0f - powf(beta2, (float)t));
    float decay = 1.0f - lr * wd;
    #pragma omp parallel for simd schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
        v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
        p[i] = p[i] * decay - lr * (m[i] * c1) / (sqrtf(v[i] * c2) + eps);
    }
}

/* ---------------------------------------------------------------------------
 * Muon */

/* Quintic Newton-Schulz coefficients of Keller Jordan's Muon: they push all
 * singular values of a normalised matrix towards ~1 in few steps. */
#define NS_A 3.4445f
#define NS_B (-4.7750f)
#define NS_C 2.0315f

size_t k_muon_scratch(int rows, int cols)
{
    size_t m = rows < cols ? rows : cols;
    return 2 * m * m + 2 * (size_t)rows * cols;
}

/* x (rows, cols) -> approximately U V^T of its SVD. Works on the Gram
 * matrix of the smaller side, A = x x^T (wide) or x^T x (tall): each step
 * is x <- (a I + b A + c A^2) x (wide) or x (a I + b A + c A^2) (tall),
 * written to the other buffer so no copy is needed between steps. */
/* Shared by both orthogonalisations: x / (scale |x|_F + eps), then steps
 * of the quintic above with step i's coefficients (a, b, c) =
 * coeffs[min(i, ncoeffs - 1)]. */
static void quintic_orthogonalise(float *x, float *scratch, int rows, int cols, int steps, float scale,
                                  float eps, const float (*coeffs)[3], int ncoeffs)
{
    int m = rows < cols ? rows : cols;
    int tall = rows > cols;
    size_t n = (size_t)rows * cols, mm = (size_t)m * m;
    float *A = scratch, *P = A + mm, *cur = x, *next = P + mm;
    float norm = (float)sqrt(k_sum_squares(x, n));
    k_scale(x, 1.0f / (norm * scale + eps), n);
    for (int it = 0; it < steps; it++) {
        const float *k = coeffs[it < ncoeffs ? it : ncoeffs - 1];
        float a = k[0], b = k[1], c = k[2];
        if (tall)
            k_gemm(1, 0, m, m, rows, 1.0f, cur, cols, cur, cols, 0.0f, A, m);
        else
            k_gemm(0, 1, m, m, cols, 1.0f, cur, cols, cur, cols, 0.0f, A, m);
        k_gemm(0, 0, m, m, m, 1.0f, A, m, A, m, 0.0f, P, m);
        #pragma omp parallel for simd schedule(static) if (mm > 65536)
        for (size_t i = 0; i < mm; i++)
            P[i] = b * A[i] + c * P[i];
        for (int i = 0; i < m; i++)
            P[(size_t)i * m + i] += a;
        if (tall)
            k_gemm(0, 0, rows, cols, cols, 1.0f, cur, cols, P, m, 0.0f, next, cols);
        else
            k_gemm(0, 0, rows, cols, rows, 1.0f, P, m, cur, cols, 0.0f, next, cols);
        float *t = cur;
        cur = next;
        next = t;
    }
    if (cur != x)
        k_copy(x, cur, n);
}

void k_newton_schulz(float *x, float *scratch, int rows, int cols, int steps)
{
    static const float quintic[1][3] = {{NS_A, NS_B, NS_C}};
    quintic_orthogonalise(x, scratch, rows, cols, steps, 1.0f, 1e-7f, quintic, 1);
}

/* Polar Express (Amsel, Persson, Musco, Gower, arXiv 2505.16932): the
 * coefficients of train.py, 5 iterations, safety factor 2e-2, cushion 2. */
static const float polar_express_coeffs[5][3] = {
    { 8.156554524902461f, -22.48329292557795f, 15.878769915207462f },
    { 4.042929935166739f, -2.808917465908714f, 0.5000178451051316f },
    { 3.8916678022926607f, -2.772484153217685f, 0.5060648178503393f },
    { 3.285753657755655f, -2.3681294933425376f, 0.46449024233003106f },
    { 2.3465413258596377f, -1.7097828382687081f, 0.42323551169305323f },
};

void k_polar_express(float *x, float *scratch, int rows, int cols, int steps)
{
    quintic_orthogonalise(x, scratch, rows, cols, steps, 1.02f, 1e-6f, polar_express_coeffs, 5);
}

size_t k_normuon_size(int rows, int cols)
{
    return (size_t)(rows >= cols ? rows : cols);
}

void k_normuon(float *u, float *v, float *q, int rows, int cols, float beta2)
{
    int per_row = rows >= cols;
    int nv = per_row ? rows : cols, len = per_row ? cols : rows;
    /* q[j]: the mean square of row (or column) j, then its factor */
    double total = 0, scaled = 0;
    for (int j = 0; j < nv; j++)
        q[j] = 0.0f;
    for (int r = 0; r < rows; r++) {
        const float *row = u + (size_t)r * cols;
        if (per_row) {
            double s = 0;
            for (int c = 0; c < cols; c++)
                s += (double)row[c] * row[c];
            q[r] = (float)(s / len);
        } else {
            for (int c = 0; c < cols; c++)
                q[c] += row[c] * row[c];
        }
    }
    if (!per_row)
        for (int j = 0; j < nv; j++)
            q[j] /= (float)len;
    for (int j = 0; j < nv; j++) {
        v[j] += (1.0f - beta2) * (q[j] - v[j]);
        float step = 1.0f / sqrtf(v[j] > 1e-10f ? v[j] : 1e-10f);
        total += (double)q[j] * len;
        scaled += (double)q[j] * len * step * step;
        q[j] = step;
    }
    double keep = sqrt(total) / (sqrt(scaled) > 1e-10 ? sqrt(scaled) : 1e-10);
    for (int j = 0; j < nv; j++)
        q[j] = (float)(q[j] * keep);
    for (int r = 0; r < rows; r++) {
        float *row = u + (size_t)r * cols;
        if (per_row) {
            for (int c = 0; c < cols; c++)
                row[c] *= q[r];
        } else {
            for (int c = 0; c < cols; c++)
                row[c] *= q[c];
        }
    }
}

void k_muon(float *p, const float *g, float *buf, float *v, float *scratch, int rows, int cols,
            float lr, float mu, float wd, const struct k_muon_opts *o)
{
    size_t n = (size_t)rows * cols;
    float *u = scratch + k_muon_scratch(rows, cols) - n;
    /* buf <- lerp(buf, g, 1 - mu); u <- lerp(g, buf, mu) (Nesterov) */
    #pragma omp parallel for simd schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        buf[i] = mu * buf[i] + (1.0f - mu) * g[i];
        u[i] = (1.0f - mu) * g[i] + mu * buf[i];
    }
    if (o->polar_express)
        k_polar_express(u, scratch, rows, cols, o->ns_steps);
    else
        k_newton_schulz(u, scratch, rows, cols, o->ns_steps);
    if (o->normuon) {   /* past A and P, scratch is free once u is orthogonalised */
        size_t m = rows < cols ? rows : cols;
        k_normuon(u, v, scratch + 2 * m * m, rows, cols, o->beta2);
    }
    #pragma omp parallel for simd schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        float decay = u[i] * p[i] >= 0.0f ? wd * p[i] : 0.0f;
        p[i] -= lr * (u[i] + decay);
    }
}

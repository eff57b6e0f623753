/* Causal sliding-window attention on the CPU.
 *
 * Work is split over (batch, kv head) pairs across OpenMP threads; each
 * pair owns its rows of dk and dv (all query heads of a group run in the
 * same task), so the backward pass is parallel without atomics. Inside a
 * task, queries go in blocks of QBLOCK rows against the keys the block can
 * see (from the window's start for the first row to the diagonal), and the
 * three products per block run as single-threaded sgemm. The backward pass
 * recomputes the scores from q, k and the saved log-sum-exp instead of
 * storing T x T probabilities (as FlashAttention does).
 *
 * Scratch: each thread needs two score blocks (QBLOCK rows by the keys a
 * block sees); the caller's scratch is cut into per-thread slots and only
 * as many threads run as there are slots. Every task's arithmetic is the
 * same whichever thread runs it, so the thread count does not change the
 * result. */
#include "kcpu.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#define QBLOCK 64

/* Scores of queries [i0, i0 + nq) against keys [j0, j0 + nk) are in s;
 * turns them into probabilities p = exp(s - lse) with the causal and window
 * mask applied. With lse_out, computes each row's lse first. */
K_HOT static void softmax_rows(float *s, float *lse_rows, int compute_lse, int i0, int nq, int j0,
                               int nk, int window)
{
    for (int r = 0; r < nq; r++) {
        int i = i0 + r;
        int lo = i - window + 1 - j0, hi = i - j0;   /* allowed columns [lo, hi] */
        if (lo < 0)
            lo = 0;
        float *row = s + (size_t)r * nk;
        for (int c = 0; c < lo; c++)
            row[c] = 0.0f;
        if (compute_lse) {
            float mx = -INFINITY, sum = 0.0f;
            for (int c = lo; c <= hi; c++)
                mx = row[c] > mx ? row[c] : mx;
            #pragma omp simd reduction(+ : sum)
            for (int c = lo; c <= hi; c++) {
                row[c] = k_expf(row[c] - mx);
                sum += row[c];
            }
            lse_rows[r] = mx + logf(sum);
            float inv = 1.0f / sum;
            #pragma omp simd
            for (int c = lo; c <= hi; c++)
                row[c] *= inv;
        } else {
            float lse = lse_rows[r];
            #pragma omp simd
            for (int c = lo; c <= hi; c++)
                row[c] = k_expf(row[c] - lse);
        }
        for (int c = hi + 1; c < nk; c++)
            row[c] = 0.0f;
    }
}

/* ds = p * (dp - rowsum(dout * out)), in place on dp. */
K_HOT static void softmax_back_rows(float *dp, const float *p, const float *dout, const float *out,
                                    int ld, int nq, int nk, int D)
{
    for (int r = 0; r < nq; r++) {
        const float *a = dout + (size_t)r * ld, *b = out + (size_t)r * ld;
        float di = 0.0f;
        #pragma omp simd reduction(+ : di)
        for (int d = 0; d < D; d++)
            di += a[d] * b[d];
        float *row = dp + (size_t)r * nk;
        const float *prow = p + (size_t)r * nk;
        #pragma omp simd
        for (int c = 0; c < nk; c++)
            row[c] = prow[c] * (row[c] - di);
    }
}

static void block_range(int i0, int T, int window, int *nq, int *j0, int *nk)
{
    *nq = T - i0 < QBLOCK ? T - i0 : QBLOCK;
    *j0 = i0 - window + 1 > 0 ? i0 - window + 1 : 0;
    *nk = i0 + *nq - *j0;
}

static int clamp_window(int T, int window)
{
    return window > T || window <= 0 ? T : window;
}

/* One score block: QBLOCK queries by the most keys a block sees. */
static size_t block_floats(int T, int window)
{
    int keys = window < T ? window + QBLOCK : T;
    return (size_t)QBLOCK * (keys < T ? keys : T);
}

size_t k_attention_scratch(int T, int window, int threads)
{
    return 2 * block_floats(T, clamp_window(T, window)) * (size_t)(threads > 0 ? threads : 1);
}

/* Threads the scratch has slots for, at most kernels_threads(); at least
 * one slot is the caller's part of the contract. */
static int slots(size_t scratch_floats, int T, int window)
{
    size_t per = 2 * block_floats(T, window), n = scratch_floats / per;
    int nt = kernels_threads();
    if (n < 1) {
        fprintf(stderr, "k_attention: scratch of %zu floats is under one thread's %zu\n",
                scratch_floats, per);
        abort();
    }
    return n < (size_t)nt ? (int)n : nt;
}

void k_attention_forward(float *out, float *lse, const float *q, const float *k, const float *v,
                         float *scratch, size_t scratch_floats, int B, int T, int H, int Hk,
                         int D, int window)
{
    window = clamp_window(T, window);
    const float scale = 1.0f / sqrtf((float)D);
    const int group = H / Hk, ldq = H * D, ldk = Hk * D;
    const size_t per = 2 * block_floats(T, window);
    #pragma omp parallel num_threads(slots(scratch_floats, T, window))
    {
        float *s = scratch + per * (size_t)omp_get_thread_num();
        #pragma omp for schedule(dynamic, 1)
        for (int task = 0; task < B * Hk; task++) {
            int b = task / Hk, kh = task % Hk;
            const float *kb = k + (size_t)b * T * ldk + kh * D;
            const float *vb = v + (size_t)b * T * ldk + kh * D;
            for (int h = kh * group; h < (kh + 1) * group; h++) {
                const float *qb = q + (size_t)b * T * ldq + h * D;
                float *ob = out + (size_t)b * T * ldq + h * D;
                float *lb = lse + ((size_t)b * H + h) * T;
                for (int i0 = 0; i0 < T; i0 += QBLOCK) {
                    int nq, j0, nk;
                    block_range(i0, T, window, &nq, &j0, &nk);
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, nk, D, scale,
                                qb + (size_t)i0 * ldq, ldq, kb + (size_t)j0 * ldk, ldk, 0.0f, s,
                                nk);
                    softmax_rows(s, lb + i0, 1, i0, nq, j0, nk, window);
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nq, D, nk, 1.0f, s,
                                nk, vb + (size_t)j0 * ldk, ldk, 0.0f, ob + (size_t)i0 * ldq, ldq);
                }
            }
        }
    }
}

void k_attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *out,
                          const float *lse, const float *q, const float *k, const float *v,
                          float *scratch, size_t scratch_floats, int B, int T, int H, int Hk,
                          int D, int window)
{
    window = clamp_window(T, window);
    const float scale = 1.0f / sqrtf((float)D);
    const int group = H / Hk, ldq = H * D, ldk = Hk * D;
    const size_t half = block_floats(T, window);
    #pragma omp parallel num_threads(slots(scratch_floats, T, window))
    {
        float *p = scratch + 2 * half * (size_t)omp_get_thread_num(), *dp = p + half;
        #pragma omp for schedule(dynamic, 1)
        for (int task = 0; task < B * Hk; task++) {
            int b = task / Hk, kh = task % Hk;
            size_t kvo = (size_t)b * T * ldk + kh * D;
            for (int h = kh * group; h < (kh + 1) * group; h++) {
                size_t qo = (size_t)b * T * ldq + h * D;
                const float *lb = lse + ((size_t)b * H + h) * T;
                for (int i0 = 0; i0 < T; i0 += QBLOCK) {
                    int nq, j0, nk;
                    block_range(i0, T, window, &nq, &j0, &nk);
                    size_t qi = qo + (size_t)i0 * ldq, kj = kvo + (size_t)j0 * ldk;
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, nk, D, scale,
                                q + qi, ldq, k + kj, ldk, 0.0f, p, nk);
                    softmax_rows(p, (float *)lb + i0, 0, i0, nq, j0, nk, window);
                    /* dp = dout v^T; ds = p (dp - di) */
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, nk, D, 1.0f,
                                dout + qi, ldq, v + kj, ldk, 0.0f, dp, nk);
                    softmax_back_rows(dp, p, dout + qi, out + qi, ldq, nq, nk, D);
                    /* dq += scale ds k; dk += scale ds^T q; dv += p^T dout */
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nq, D, nk, scale, dp,
                                nk, k + kj, ldk, 1.0f, dq + qi, ldq);
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nk, D, nq, scale, dp,
                                nk, q + qi, ldq, 1.0f, dk + kj, ldk);
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nk, D, nq, 1.0f, p, nk,
                                dout + qi, ldq, 1.0f, dv + kj, ldk);
                }
            }
        }
    }
}

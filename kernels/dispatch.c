/* The k_* functions of kernels.h: each sends its call to the backend of
 * the device kernels_select chose, kernels/cpu (kcpu_*) or, in a build with
 * CUDA (AR_CUDA defined), kernels/cuda (kcuda_*). The CPU is the device
 * until something else is selected, so a CPU run calls exactly the
 * functions it called before this layer existed. */
#include "kernels.h"
#include "base/err.h"

#include <stdio.h>
#include <string.h>

#ifdef AR_CUDA
#include "cuda/kcuda.h"
#endif

static enum k_device device = K_DEVICE_CPU;
static enum k_precision precision = K_PREC_BF16;

int kernels_cuda_built(void)
{
#ifdef AR_CUDA
    return 1;
#else
    return 0;
#endif
}

int kernels_select(const char *name)
{
    if (!name || strcmp(name, "cpu") == 0) {
        device = K_DEVICE_CPU;
        return 0;
    }
    int want = strcmp(name, "cuda") == 0;
    if (!want && strcmp(name, "auto") != 0)
        return ar_fail(AR_EINPUT, "device: '%s' is not auto, cpu or cuda", name);
#ifdef AR_CUDA
    char why[256];
    if (kcuda_open(why, sizeof why) == 0) {
        device = K_DEVICE_CUDA;
        kcuda_set_precision(precision);
        return 0;
    }
    if (want)
        return ar_fail(AR_EINPUT, "device cuda: %s", why);
#else
    if (want)
        return ar_fail(AR_EINPUT, "device cuda: this ar-train was built without CUDA "
                       "(build with `make cuda`)");
#endif
    device = K_DEVICE_CPU;
    return 0;
}

enum k_device kernels_device(void) { return device; }

const char *kernels_device_name(void) { return device == K_DEVICE_CUDA ? "cuda" : "cpu"; }

int kernels_gpu_info(char *name, size_t n, double *mem_gb)
{
#ifdef AR_CUDA
    if (device == K_DEVICE_CUDA)
        return kcuda_info(name, n, mem_gb);
#endif
    (void)name;
    (void)n;
    (void)mem_gb;
    return -1;
}

void kernels_set_precision(enum k_precision p)
{
    precision = p;
#ifdef AR_CUDA
    if (device == K_DEVICE_CUDA)
        kcuda_set_precision(p);
#endif
}

enum k_precision kernels_precision(void) { return precision; }

size_t kernels_peak_bytes(void)
{
#ifdef AR_CUDA
    if (device == K_DEVICE_CUDA)
        return kcuda_peak_bytes();
#endif
    return 0;
}

void kernels_sync(void)
{
#ifdef AR_CUDA
    if (device == K_DEVICE_CUDA)
        kcuda_sync();
#endif
}

/* One wrapper per function: KF returns a value, KV does not. */
#ifdef AR_CUDA
#define KF(ret, name, params, args)                                         \
    ret kcpu_##name params;                                                 \
    ret kcuda_##name params;                                                \
    ret k_##name params                                                     \
    {                                                                       \
        return device == K_DEVICE_CUDA ? kcuda_##name args : kcpu_##name args; \
    }
#define KV(name, params, args)                                              \
    void kcpu_##name params;                                                \
    void kcuda_##name params;                                               \
    void k_##name params                                                    \
    {                                                                       \
        if (device == K_DEVICE_CUDA)                                        \
            kcuda_##name args;                                              \
        else                                                                \
            kcpu_##name args;                                               \
    }
#else
#define KF(ret, name, params, args)                                         \
    ret kcpu_##name params;                                                 \
    ret k_##name params { return kcpu_##name args; }
#define KV(name, params, args)                                              \
    void kcpu_##name params;                                                \
    void k_##name params { kcpu_##name args; }
#endif

KF(float *, alloc, (size_t n), (n))
KV(free, (float *p), (p))
KV(zero, (float *p, size_t n), (p, n))
KV(upload, (float *dst, const float *host, size_t n), (dst, host, n))
KV(download, (float *host, const float *src, size_t n), (host, src, n))
KV(copy, (float *dst, const float *src, size_t n), (dst, src, n))
KV(add, (float *y, const float *x, size_t n), (y, x, n))

KV(matmul_forward, (float *out, const float *inp, const float *w, int M, int K, int N,
                    int accumulate), (out, inp, w, M, K, N, accumulate))
KV(matmul_backward, (float *dinp, float *dw, const float *dout, const float *inp,
                     const float *w, int M, int K, int N), (dinp, dw, dout, inp, w, M, K, N))
KV(gemm, (int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
          const float *B, int ldb, float beta, float *C, int ldc),
   (trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc))

KV(embedding_forward, (float *out, const uint16_t *idx, const float *table, int N, int C),
   (out, idx, table, N, C))
KV(embedding_backward, (float *dtable, const float *dout, const uint16_t *idx, int N, int C,
                        int V), (dtable, dout, idx, N, C, V))
KV(rmsnorm_forward, (float *out, float *rstd, const float *inp, int N, int C),
   (out, rstd, inp, N, C))
KV(rmsnorm_backward, (float *dinp, const float *dout, const float *out, const float *rstd,
                      int N, int C), (dinp, dout, out, rstd, N, C))
KV(rope_forward, (float *x, const float *cos, const float *sin, int B, int T, int H, int D),
   (x, cos, sin, B, T, H, D))
KV(rope_backward, (float *dinp, const float *dout, const float *cos, const float *sin, int B,
                   int T, int H, int D), (dinp, dout, cos, sin, B, T, H, D))
KV(residual_mix_forward, (float *out, const float *x, const float *x0, const float *lambda,
                          const float *x0_lambda, int l, int N, int C),
   (out, x, x0, lambda, x0_lambda, l, N, C))
KV(residual_mix_backward, (float *dx, float *dx0, float *dlambda, float *dx0_lambda,
                           const float *dout, const float *x, const float *x0,
                           const float *lambda, const float *x0_lambda, int l, int N, int C),
   (dx, dx0, dlambda, dx0_lambda, dout, x, x0, lambda, x0_lambda, l, N, C))
KV(ve_gate_forward, (float *v, const float *pre, const float *ve, int N, int Hk, int D),
   (v, pre, ve, N, Hk, D))
KV(ve_gate_backward, (float *dpre, float *dve, const float *dv, const float *pre,
                      const float *ve, int N, int Hk, int D), (dpre, dve, dv, pre, ve, N, Hk, D))
KV(act_forward, (float *out, const float *u, int N, int F, enum k_act kind),
   (out, u, N, F, kind))
KV(act_backward, (float *du, const float *dout, const float *u, int N, int F, enum k_act kind),
   (du, dout, u, N, F, kind))

KF(size_t, attention_scratch, (int T, int window, int threads), (T, window, threads))
KV(attention_forward, (float *out, float *lse, const float *q, const float *k, const float *v,
                       float *scratch, size_t scratch_floats, int B, int T, int H, int Hk,
                       int D, int window),
   (out, lse, q, k, v, scratch, scratch_floats, B, T, H, Hk, D, window))
KV(attention_backward, (float *dq, float *dk, float *dv, const float *dout, const float *out,
                        const float *lse, const float *q, const float *k, const float *v,
                        float *scratch, size_t scratch_floats, int B, int T, int H, int Hk,
                        int D, int window),
   (dq, dk, dv, dout, out, lse, q, k, v, scratch, scratch_floats, B, T, H, Hk, D, window))

KV(crossentropy, (float *losses, float *logits, const uint16_t *targets, int N, int V,
                  float softcap, float label_smoothing, float z_loss, float dscale),
   (losses, logits, targets, N, V, softcap, label_smoothing, z_loss, dscale))

KF(double, sum_squares, (const float *x, size_t n), (x, n))
KV(scale, (float *x, float s, size_t n), (x, s, n))
KV(adamw, (float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
           float beta2, float eps, float wd, long t), (p, g, m, v, n, lr, beta1, beta2, eps, wd, t))
KF(size_t, muon_scratch, (int rows, int cols), (rows, cols))
KV(muon, (float *p, const float *g, float *buf, float *v, float *scratch, int rows, int cols,
          float lr, float mu, float wd, const struct k_muon_opts *o),
   (p, g, buf, v, scratch, rows, cols, lr, mu, wd, o))
KV(newton_schulz, (float *x, float *scratch, int rows, int cols, int steps),
   (x, scratch, rows, cols, steps))
KV(polar_express, (float *x, float *scratch, int rows, int cols, int steps),
   (x, scratch, rows, cols, steps))
KF(size_t, normuon_size, (int rows, int cols), (rows, cols))
KV(normuon, (float *u, float *v, float *q, int rows, int cols, float beta2),
   (u, v, q, rows, cols, beta2))

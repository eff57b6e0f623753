/* Matrix products through cuBLAS, and Muon: momentum, the Newton-Schulz /
 * Polar Express iterations (cuBLAS products on the Gram matrix of the
 * smaller side, as kernels/cpu/update.c), NorMuon's rescaling and the
 * cautious weight decay.
 *
 * Tensors are row-major; cuBLAS is column-major, so C = op(A) op(B) is
 * computed as C^T = op(B)^T op(A)^T, which is the same memory. Precision
 * (kernels_set_precision): bf16 runs cublasGemmEx with fp32 storage and
 * CUBLAS_COMPUTE_32F_FAST_16BF (inputs rounded to bf16 on the tensor
 * cores, fp32 accumulation and output: train.py's autocast over fp32
 * master weights), tf32 with CUBLAS_COMPUTE_32F_FAST_TF32, fp32 exactly. */
#include "kcuda_internal.cuh"

static cublasComputeType_t compute_type(void)
{
    switch (kcuda_prec) {
    case K_PREC_BF16: return CUBLAS_COMPUTE_32F_FAST_16BF;
    case K_PREC_TF32: return CUBLAS_COMPUTE_32F_FAST_TF32;
    default: return CUBLAS_COMPUTE_32F;
    }
}

extern "C" void kcuda_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
                           const float *A, int lda, const float *B, int ldb, float beta,
                           float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0) {   /* C = beta C: cuBLAS is not asked about an empty product */
        if (beta != 1.0f)
            for (int r = 0; r < M; r++)
                kcuda_scale(C + (size_t)r * ldc, beta, (size_t)N);
        return;
    }
    CUBLAS(cublasGemmEx(kcuda_blas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                        trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, B, CUDA_R_32F,
                        ldb, A, CUDA_R_32F, lda, &beta, C, CUDA_R_32F, ldc, compute_type(),
                        CUBLAS_GEMM_DEFAULT));
}

extern "C" void kcuda_matmul_forward(float *out, const float *inp, const float *w, int M, int K,
                                     int N, int accumulate)
{
    kcuda_gemm(0, 1, M, N, K, 1.0f, inp, K, w, K, accumulate ? 1.0f : 0.0f, out, N);
}

extern "C" void kcuda_matmul_backward(float *dinp, float *dw, const float *dout,
                                      const float *inp, const float *w, int M, int K, int N)
{
    if (dinp)
        kcuda_gemm(0, 0, M, K, N, 1.0f, dout, N, w, K, 1.0f, dinp, K);
    if (dw)
        kcuda_gemm(1, 0, N, K, M, 1.0f, dout, N, inp, K, 1.0f, dw, K);
}

/* ---------------------------------------------------------------------------
 * Muon */

extern "C" size_t kcuda_muon_scratch(int rows, int cols)
{
    size_t m = rows < cols ? rows : cols;
    return 2 * m * m + 2 * (size_t)rows * cols;
}

/* x /= scale sqrt(*ss) + eps, the norm read on the device */
__global__ void normalise_kernel(float *x, const double *ss, float scale, float eps, size_t n)
{
    float f = 1.0f / ((float)sqrt(*ss) * scale + eps);
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        x[i] *= f;
}

/* P = b A + c P, plus a on the diagonal */
__global__ void poly_kernel(float *P, const float *A, float a, float b, float c, int m)
{
    size_t mm = (size_t)m * m;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < mm;
         i += (size_t)gridDim.x * blockDim.x) {
        float v = b * A[i] + c * P[i];
        if (i / m == i % m)
            v += a;
        P[i] = v;
    }
}

static void quintic(float *x, float *scratch, int rows, int cols, int steps, float scale,
                    float eps, const float (*coeffs)[3], int ncoeffs)
{
    int m = rows < cols ? rows : cols;
    int tall = rows > cols;
    size_t n = (size_t)rows * cols, mm = (size_t)m * m;
    float *A = scratch, *P = A + mm, *cur = x, *next = P + mm;
    double *ss = kcuda_scalar(1);
    void kcuda_sum_squares_dev(double *out, const float *x, size_t n);
    kcuda_sum_squares_dev(ss, x, n);
    normalise_kernel<<<kcuda_blocks(n, 256), 256>>>(x, ss, scale, eps, n);
    CU_LAUNCHED();
    for (int it = 0; it < steps; it++) {
        const float *k = coeffs[it < ncoeffs ? it : ncoeffs - 1];
        if (tall)
            kcuda_gemm(1, 0, m, m, rows, 1.0f, cur, cols, cur, cols, 0.0f, A, m);
        else
            kcuda_gemm(0, 1, m, m, cols, 1.0f, cur, cols, cur, cols, 0.0f, A, m);
        kcuda_gemm(0, 0, m, m, m, 1.0f, A, m, A, m, 0.0f, P, m);
        poly_kernel<<<kcuda_blocks(mm, 256), 256>>>(P, A, k[0], k[1], k[2], m);
        CU_LAUNCHED();
        if (tall)
            kcuda_gemm(0, 0, rows, cols, cols, 1.0f, cur, cols, P, m, 0.0f, next, cols);
        else
            kcuda_gemm(0, 0, rows, cols, rows, 1.0f, P, m, cur, cols, 0.0f, next, cols);
        float *t = cur;
        cur = next;
        next = t;
    }
    if (cur != x)
        kcuda_copy(x, cur, n);
}

extern "C" void kcuda_newton_schulz(float *x, float *scratch, int rows, int cols, int steps)
{
    static const float k[1][3] = {{3.4445f, -4.7750f, 2.0315f}};
    quintic(x, scratch, rows, cols, steps, 1.0f, 1e-7f, k, 1);
}

/* the coefficients of kernels/cpu/update.c (train.py's) */
static const float polar_express_coeffs[5][3] = {
    { 8.156554524902461f, -22.48329292557795f, 15.878769915207462f },
    { 4.042929935166739f, -2.808917465908714f, 0.5000178451051316f },
    { 3.8916678022926607f, -2.772484153217685f, 0.5060648178503393f },
    { 3.285753657755655f, -2.3681294933425376f, 0.46449024233003106f },
    { 2.3465413258596377f, -1.7097828382687081f, 0.42323551169305323f },
};

extern "C" void kcuda_polar_express(float *x, float *scratch, int rows, int cols, int steps)
{
    quintic(x, scratch, rows, cols, steps, 1.02f, 1e-6f, polar_express_coeffs, 5);
}

extern "C" size_t kcuda_normuon_size(int rows, int cols)
{
    return (size_t)(rows >= cols ? rows : cols);
}

/* q[j] = mean square of row j (per_row) or column j, one block per j */
__global__ void mean_squares_kernel(float *q, const float *u, int rows, int cols, int per_row)
{
    __shared__ double sh[32];
    int j = blockIdx.x, len = per_row ? cols : rows;
    double s = 0;
    for (int i = threadIdx.x; i < len; i += blockDim.x) {
        float x = per_row ? u[(size_t)j * cols + i] : u[(size_t)i * cols + j];
        s += (double)x * x;
    }
    s = kcuda_block_sum(s, sh);
    if (threadIdx.x == 0)
        q[j] = (float)(s / len);
}

/* v's EMA, each row's step, and the factor that keeps the Frobenius norm;
 * one block: q[j] becomes the scale of row (column) j */
__global__ void normuon_factors_kernel(float *q, float *v, int nv, int len, float beta2)
{
    __shared__ double sh[32];
    double total = 0, scaled = 0;
    for (int j = threadIdx.x; j < nv; j += blockDim.x) {
        float vj = v[j] + (1.0f - beta2) * (q[j] - v[j]);
        v[j] = vj;
        float step = 1.0f / sqrtf(vj > 1e-10f ? vj : 1e-10f);
        total += (double)q[j] * len;
        scaled += (double)q[j] * len * step * step;
        q[j] = step;
    }
    total = kcuda_block_sum(total, sh);
    scaled = kcuda_block_sum(scaled, sh);
    double keep = sqrt(total) / (sqrt(scaled) > 1e-10 ? sqrt(scaled) : 1e-10);
    __syncthreads();
    for (int j = threadIdx.x; j < nv; j += blockDim.x)
        q[j] = (float)(q[j] * keep);
}

__global__ void normuon_apply_kernel(float *u, const float *q, int rows, int cols, int per_row)
{
    size_t n = (size_t)rows * cols;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        u[i] *= per_row ? q[i / cols] : q[i % cols];
}

extern "C" void kcuda_normuon(float *u, float *v, float *q, int rows, int cols, float beta2)
{
    int per_row = rows >= cols;
    int nv = per_row ? rows : cols, len = per_row ? cols : rows;
    mean_squares_kernel<<<nv, 128>>>(q, u, rows, cols, per_row);
    CU_LAUNCHED();
    normuon_factors_kernel<<<1, 1024>>>(q, v, nv, len, beta2);
    CU_LAUNCHED();
    normuon_apply_kernel<<<kcuda_blocks((size_t)rows * cols, 256), 256>>>(u, q, rows, cols,
                                                                          per_row);
    CU_LAUNCHED();
}

__global__ void momentum_kernel(float *buf, float *u, const float *g, float mu, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        float b = mu * buf[i] + (1.0f - mu) * g[i];
        buf[i] = b;
        u[i] = (1.0f - mu) * g[i] + mu * b;
    }
}

__global__ void cautious_update_kernel(float *p, const float *u, float lr, float wd, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        float decay = u[i] * p[i] >= 0.0f ? wd * p[i] : 0.0f;
        p[i] -= lr * (u[i] + decay);
    }
}

extern "C" void kcuda_muon(float *p, const float *g, float *buf, float *v, float *scratch,
                           int rows, int cols, float lr, float mu, float wd,
                           const struct k_muon_opts *o)
{
    size_t n = (size_t)rows * cols;
    float *u = scratch + kcuda_muon_scratch(rows, cols) - n;
    momentum_kernel<<<kcuda_blocks(n, 256), 256>>>(buf, u, g, mu, n);
    CU_LAUNCHED();
    if (o->polar_express)
        kcuda_polar_express(u, scratch, rows, cols, o->ns_steps);
    else
        kcuda_newton_schulz(u, scratch, rows, cols, o->ns_steps);
    if (o->normuon) {
        size_t m = rows < cols ? rows : cols;
        kcuda_normuon(u, v, scratch + 2 * m * m, rows, cols, o->beta2);
    }
    cautious_update_kernel<<<kcuda_blocks(n, 256), 256>>>(p, u, lr, wd, n);
    CU_LAUNCHED();
}

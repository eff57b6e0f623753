/* The CUDA device: opening it, memory (with a high-water mark for the
 * card's peak_mem_mb), copies, and the reductions and elementwise updates
 * the optimizer uses. Everything runs on the default stream, so kernels
 * run in issue order and a download waits for what came before it. */
#include "kcuda_internal.cuh"

#include <string.h>

cublasHandle_t kcuda_blas;
enum k_precision kcuda_prec = K_PREC_BF16;

static int opened;
static size_t held, peak;

/* live allocations and their sizes, for the high-water mark */
#define MAX_ALLOCS 4096
static struct { void *p; size_t bytes; } allocs[MAX_ALLOCS];

void kcuda_fatal(const char *what, const char *file, int line)
{
    fprintf(stderr, "ar-train: cuda: %s (%s:%d)\n", what, file, line);
    exit(1);
}

extern "C" int kcuda_open(char *why, size_t n)
{
    if (opened)
        return 0;
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count < 1) {
        snprintf(why, n, "no CUDA GPU visible (%s)",
                 e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
        return -1;
    }
    if ((e = cudaSetDevice(0)) != cudaSuccess) {
        snprintf(why, n, "cannot open GPU 0: %s", cudaGetErrorString(e));
        return -1;
    }
    if (cublasCreate(&kcuda_blas) != CUBLAS_STATUS_SUCCESS) {
        snprintf(why, n, "cannot start cuBLAS");
        return -1;
    }
    opened = 1;
    return 0;
}

extern "C" int kcuda_info(char *name, size_t n, double *mem_gb)
{
    cudaDeviceProp p;
    if (!opened || cudaGetDeviceProperties(&p, 0) != cudaSuccess)
        return -1;
    snprintf(name, n, "%s", p.name);
    if (mem_gb)
        *mem_gb = p.totalGlobalMem / 1e9;
    return 0;
}

extern "C" void kcuda_set_precision(enum k_precision p)
{
    kcuda_prec = p;
    /* TF32 for cuBLAS's own fp32 routines as well, when chosen */
    if (opened)
        CUBLAS(cublasSetMathMode(kcuda_blas, p == K_PREC_FP32 ? CUBLAS_DEFAULT_MATH
                                                               : CUBLAS_TF32_TENSOR_OP_MATH));
}

extern "C" size_t kcuda_peak_bytes(void) { return peak; }

extern "C" void kcuda_sync(void) { CU(cudaDeviceSynchronize()); }

/* ---------------------------------------------------------------------------
 * Memory */

extern "C" float *kcuda_alloc(size_t n)
{
    void *p = NULL;
    size_t bytes = (n ? n : 1) * sizeof(float);
    if (cudaMalloc(&p, bytes) != cudaSuccess) {
        cudaGetLastError();   /* clears the sticky error of a failed cudaMalloc */
        return NULL;
    }
    CU(cudaMemset(p, 0, bytes));
    for (int i = 0; i < MAX_ALLOCS; i++)
        if (!allocs[i].p) {
            allocs[i].p = p;
            allocs[i].bytes = bytes;
            break;
        }
    held += bytes;
    peak = held > peak ? held : peak;
    return (float *)p;
}

extern "C" void kcuda_free(float *p)
{
    if (!p)
        return;
    for (int i = 0; i < MAX_ALLOCS; i++)
        if (allocs[i].p == p) {
            held -= allocs[i].bytes;
            allocs[i].p = NULL;
            break;
        }
    CU(cudaFree(p));
}

extern "C" void kcuda_zero(float *p, size_t n) { CU(cudaMemsetAsync(p, 0, n * sizeof(float))); }

extern "C" void kcuda_upload(float *dst, const float *host, size_t n)
{
    CU(cudaMemcpy(dst, host, n * sizeof(float), cudaMemcpyHostToDevice));
}

extern "C" void kcuda_download(float *host, const float *src, size_t n)
{
    CU(cudaMemcpy(host, src, n * sizeof(float), cudaMemcpyDeviceToHost));
}

extern "C" void kcuda_copy(float *dst, const float *src, size_t n)
{
    if (dst != src)
        CU(cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyDeviceToDevice));
}

__global__ void add_kernel(float *y, const float *x, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        y[i] += x[i];
}

extern "C" void kcuda_add(float *y, const float *x, size_t n)
{
    add_kernel<<<kcuda_blocks(n, 256), 256>>>(y, x, n);
    CU_LAUNCHED();
}

static uint16_t *tok[2];
static size_t tok_n[2];

const uint16_t *kcuda_tokens(const uint16_t *host, size_t n, int slot)
{
    if (n > tok_n[slot]) {
        if (tok[slot])
            CU(cudaFree(tok[slot]));
        CU(cudaMalloc(&tok[slot], n * sizeof(uint16_t)));
        tok_n[slot] = n;
    }
    CU(cudaMemcpy(tok[slot], host, n * sizeof(uint16_t), cudaMemcpyHostToDevice));
    return tok[slot];
}

static double *scalars;

double *kcuda_scalar(int i)
{
    if (!scalars)
        CU(cudaMalloc(&scalars, 8 * sizeof(double)));
    return scalars + i;
}

/* ---------------------------------------------------------------------------
 * Reductions and elementwise optimizer updates */

/* *out += sum of x^2, per block in double, one atomic per block */
__global__ void sum_squares_kernel(double *out, const float *x, size_t n)
{
    __shared__ double sh[32];
    double s = 0;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        s += (double)x[i] * x[i];
    s = kcuda_block_sum(s, sh);
    if (threadIdx.x == 0)
        atomicAdd(out, s);
}

void kcuda_sum_squares_dev(double *out, const float *x, size_t n)
{
    CU(cudaMemsetAsync(out, 0, sizeof(double)));
    unsigned b = kcuda_blocks(n, 256);
    sum_squares_kernel<<<b < 1024 ? b : 1024, 256>>>(out, x, n);
    CU_LAUNCHED();
}

extern "C" double kcuda_sum_squares(const float *x, size_t n)
{
    double *d = kcuda_scalar(0), h = 0;
    kcuda_sum_squares_dev(d, x, n);
    CU(cudaMemcpy(&h, d, sizeof h, cudaMemcpyDeviceToHost));
    return h;
}

__global__ void scale_kernel(float *x, float s, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        x[i] *= s;
}

extern "C" void kcuda_scale(float *x, float s, size_t n)
{
    scale_kernel<<<kcuda_blocks(n, 256), 256>>>(x, s, n);
    CU_LAUNCHED();
}

__global__ void adamw_kernel(float *p, const float *g, float *m, float *v, size_t n, float lr,
                             float beta1, float beta2, float eps, float decay, float c1,
                             float c2)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        float mi = beta1 * m[i] + (1.0f - beta1) * g[i];
        float vi = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay - lr * (mi * c1) / (sqrtf(vi * c2) + eps);
    }
}

extern "C" void kcuda_adamw(float *p, const float *g, float *m, float *v, size_t n, float lr,
                            float beta1, float beta2, float eps, float wd, long t)
{
    float c1 = 1.0f / (1.0f - powf(beta1, (float)t));
    float c2 = 1.0f / (1.0f - powf(beta2, (float)t));
    adamw_kernel<<<kcuda_blocks(n, 256), 256>>>(p, g, m, v, n, lr, beta1, beta2, eps,
                                                1.0f - lr * wd, c1, c2);
    CU_LAUNCHED();
}

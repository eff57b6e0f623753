/* The emulation behind include/cuda_emu.h. */
#include "cuda_emu.h"
#include <mutex>
#include <vector>
thread_local dim3 threadIdx, blockIdx;
dim3 blockDim, gridDim;
float *emu_dyn_smem;
alignas(1024) static char dyn[256 * 1024];   // as aligned as the GPU's
static pthread_barrier_t block_bar;
static pthread_barrier_t warp_bar[32];
static double warp_buf[32][32];
static std::mutex amu;

void __syncthreads() { pthread_barrier_wait(&block_bar); }
void emu_warp_sync() { pthread_barrier_wait(&warp_bar[threadIdx.x >> 5]); }
template <typename T> static T shfl(T v, int o)
{
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    pthread_barrier_wait(&warp_bar[w]);
    warp_buf[w][lane] = (double)v;
    pthread_barrier_wait(&warp_bar[w]);
    T r = (T)warp_buf[w][lane ^ o];
    pthread_barrier_wait(&warp_bar[w]);
    return r;
}
float emu_shfl_f(float v, int o) { return shfl(v, o); }
double emu_shfl_d(double v, int o) { return shfl(v, o); }
int emu_any(int pred)
{
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, any = 0;
    pthread_barrier_wait(&warp_bar[w]);
    warp_buf[w][lane] = pred != 0;
    pthread_barrier_wait(&warp_bar[w]);
    for (int i = 0; i < 32; i++)
        any |= warp_buf[w][i] != 0;
    pthread_barrier_wait(&warp_bar[w]);
    return any;
}
float atomicAdd(float *p, float v) { std::lock_guard<std::mutex> g(amu); float o = *p; *p += v; return o; }
double atomicAdd(double *p, double v) { std::lock_guard<std::mutex> g(amu); double o = *p; *p += v; return o; }

struct targ { std::function<void()> *f; dim3 b; unsigned t; };
static void *run_thread(void *a)
{
    targ *ta = (targ *)a;
    threadIdx = dim3(ta->t, 0, 0);
    blockIdx = ta->b;
    (*ta->f)();
    return NULL;
}

void emu_launch(dim3 g, dim3 b, size_t smem, std::function<void()> f)
{
    if (b.x % 32 || b.x > 1024 || smem > sizeof dyn) { fprintf(stderr, "emu: bad launch\n"); abort(); }
    gridDim = g; blockDim = b;
    emu_dyn_smem = (float *)dyn;
    unsigned n = b.x;
    std::vector<pthread_t> th(n);
    std::vector<targ> args(n);
    pthread_attr_t at; pthread_attr_init(&at); pthread_attr_setstacksize(&at, 128 * 1024);
    for (unsigned by = 0; by < g.y; by++)
        for (unsigned bx = 0; bx < g.x; bx++) {
            pthread_barrier_init(&block_bar, NULL, n);
            for (unsigned w = 0; w < n / 32; w++) pthread_barrier_init(&warp_bar[w], NULL, 32);
            memset(dyn, 0xff, smem);   // garbage, as on a GPU
            for (unsigned t = 0; t < n; t++) {
                args[t] = targ{&f, dim3(bx, by, 0), t};
                if (pthread_create(&th[t], &at, run_thread, &args[t])) { perror("pthread"); abort(); }
            }
            for (unsigned t = 0; t < n; t++) pthread_join(th[t], NULL);
            pthread_barrier_destroy(&block_bar);
            for (unsigned w = 0; w < n / 32; w++) pthread_barrier_destroy(&warp_bar[w]);
        }
}

cudaError_t cudaGetDeviceCount(int *n) { *n = 1; return 0; }
cudaError_t cudaSetDevice(int) { return 0; }
cudaError_t cudaGetDevice(int *d) { *d = 0; return 0; }
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int) { strcpy(p->name, "Emulated GPU"); p->totalGlobalMem = 1ull << 34; return 0; }
cudaError_t cudaDeviceGetAttribute(int *v, cudaDeviceAttr a, int)   // an H100's
{
    *v = a == cudaDevAttrComputeCapabilityMajor ? 9 : 227 * 1024;
    return 0;
}
cudaError_t cudaFuncSetAttribute(const void *, cudaFuncAttribute, int) { return 0; }
cudaError_t cudaMalloc(void **p, size_t n) { *p = malloc(n); memset(*p, 0xff, n); return *p ? 0 : 2; }
cudaError_t cudaFree(void *p) { free(p); return 0; }
cudaError_t cudaMemset(void *p, int v, size_t n) { memset(p, v, n); return 0; }
cudaError_t cudaMemsetAsync(void *p, int v, size_t n) { memset(p, v, n); return 0; }
cudaError_t cudaMemcpy(void *d, const void *s, size_t n, cudaMemcpyKind) { memmove(d, s, n); return 0; }
cudaError_t cudaMemcpyAsync(void *d, const void *s, size_t n, cudaMemcpyKind) { memmove(d, s, n); return 0; }
cudaError_t cudaDeviceSynchronize() { return 0; }
cudaError_t cudaGetLastError() { return 0; }
const char *cudaGetErrorString(cudaError_t) { return "emu error"; }
cublasStatus_t cublasCreate(cublasHandle_t *h) { *h = (void *)1; return 0; }
const char *cublasGetStatusString(cublasStatus_t) { return "emu cublas error"; }
cublasStatus_t cublasSetMathMode(cublasHandle_t, cublasMath_t) { return 0; }
static float bf16(float x) { uint32_t u; memcpy(&u, &x, 4); u += 0x7fff + ((u >> 16) & 1); u &= 0xffff0000u; memcpy(&x, &u, 4); return x; }
cublasStatus_t cublasGemmEx(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                            const void *alpha, const void *A, cudaDataType, int lda, const void *B,
                            cudaDataType, int ldb, const void *beta, void *C, cudaDataType, int ldc,
                            cublasComputeType_t ct, cublasGemmAlgo_t)
{
    const float *a = (const float *)A, *b = (const float *)B;
    std::vector<float> ca, cb;
    if (ct == CUBLAS_COMPUTE_32F_FAST_16BF) {   // operands rounded to bf16
        size_t na = (size_t)lda * (ta == CUBLAS_OP_N ? k : m), nb = (size_t)ldb * (tb == CUBLAS_OP_N ? n : k);
        ca.assign(a, a + na); cb.assign(b, b + nb);
        for (auto &x : ca) x = bf16(x);
        for (auto &x : cb) x = bf16(x);
        a = ca.data(); b = cb.data();
    }
    cblas_sgemm(CblasColMajor, ta == CUBLAS_OP_N ? CblasNoTrans : CblasTrans, tb == CUBLAS_OP_N ? CblasNoTrans : CblasTrans,
                m, n, k, *(const float *)alpha, a, lda, b, ldb, *(const float *)beta, (float *)C, ldc);
    return 0;
}

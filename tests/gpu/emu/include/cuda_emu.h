/* A CPU emulation of the part of CUDA and cuBLAS that kernels/cuda uses, to
 * check the kernels' logic where there is no GPU (tests/gpu/emu/run.sh):
 * every thread of a block is a pthread, __syncthreads a barrier of the
 * block, __syncwarp a barrier of the warp, warp shuffles and __any_sync go
 * through a buffer between barriers of the warp, static __shared__ arrays
 * are shared by the block's threads (blocks run one at a time), atomics
 * take a lock, cuBLAS products are OpenBLAS sgemm (inputs rounded to bf16
 * for CUBLAS_COMPUTE_32F_FAST_16BF); nvcuda::wmma is in mma.h, bf16 in
 * cuda_bf16.h. It says nothing about speed, memory coalescing or the
 * hardware's own limits; kernel launches are rewritten by launch.py. Not a
 * GPU test. */
#pragma once
#include <pthread.h>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <algorithm>
#include <cblas.h>
using std::min; using std::max;
#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __align__(n) alignas(n)
#define __launch_bounds__(n)
struct uint4 { unsigned x, y, z, w; };
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }
struct dim3 { unsigned x, y, z; dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {} };
extern thread_local dim3 threadIdx, blockIdx;
extern dim3 blockDim, gridDim;
extern float *emu_dyn_smem;
void __syncthreads();
void emu_warp_sync();
inline void __syncwarp(unsigned = 0xffffffffu) { emu_warp_sync(); }
float emu_shfl_f(float v, int o);
double emu_shfl_d(double v, int o);
inline float __shfl_xor_sync(unsigned, float v, int o) { return emu_shfl_f(v, o); }
inline double __shfl_xor_sync(unsigned, double v, int o) { return emu_shfl_d(v, o); }
int emu_any(int pred);
inline int __any_sync(unsigned, int pred) { return emu_any(pred); }
float atomicAdd(float *p, float v);
double atomicAdd(double *p, double v);
inline float __expf(float x) { return expf(x); }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
void emu_launch(dim3 g, dim3 b, size_t smem, std::function<void()> f);
/* kernel<<<g, b[, smem]>>>(args) becomes emu_cfg_pick(g, b[, smem], [=] { kernel(args); }) */
inline void emu_cfg_pick(dim3 g, dim3 b, std::function<void()> f) { emu_launch(g, b, 0, f); }
inline void emu_cfg_pick(dim3 g, dim3 b, size_t s, std::function<void()> f) { emu_launch(g, b, s, f); }

typedef int cudaError_t;
enum { cudaSuccess = 0, cudaErrorMemoryAllocation = 2 };
enum cudaMemcpyKind { cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice };
enum cudaDeviceAttr { cudaDevAttrMaxSharedMemoryPerBlockOptin, cudaDevAttrComputeCapabilityMajor };
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize, cudaFuncAttributePreferredSharedMemoryCarveout };
enum { cudaSharedmemCarveoutMaxShared = 100 };
struct cudaDeviceProp { char name[256]; size_t totalGlobalMem; };
cudaError_t cudaGetDeviceCount(int *n);
cudaError_t cudaSetDevice(int);
cudaError_t cudaGetDevice(int *d);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int);
cudaError_t cudaDeviceGetAttribute(int *v, cudaDeviceAttr, int);
cudaError_t cudaFuncSetAttribute(const void *, cudaFuncAttribute, int);
cudaError_t cudaMalloc(void **p, size_t n);
template <typename T> cudaError_t cudaMalloc(T **p, size_t n) { return cudaMalloc((void **)p, n); }
cudaError_t cudaFree(void *p);
cudaError_t cudaMemset(void *p, int v, size_t n);
cudaError_t cudaMemsetAsync(void *p, int v, size_t n);
cudaError_t cudaMemcpy(void *d, const void *s, size_t n, cudaMemcpyKind);
cudaError_t cudaMemcpyAsync(void *d, const void *s, size_t n, cudaMemcpyKind);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaGetLastError();
const char *cudaGetErrorString(cudaError_t);

typedef void *cublasHandle_t;
typedef int cublasStatus_t;
enum { CUBLAS_STATUS_SUCCESS = 0 };
enum cublasMath_t { CUBLAS_DEFAULT_MATH, CUBLAS_TF32_TENSOR_OP_MATH };
enum cublasOperation_t { CUBLAS_OP_N, CUBLAS_OP_T };
enum cublasComputeType_t { CUBLAS_COMPUTE_32F, CUBLAS_COMPUTE_32F_FAST_16BF, CUBLAS_COMPUTE_32F_FAST_TF32 };
enum cudaDataType { CUDA_R_32F };
enum cublasGemmAlgo_t { CUBLAS_GEMM_DEFAULT };
cublasStatus_t cublasCreate(cublasHandle_t *h);
const char *cublasGetStatusString(cublasStatus_t);
cublasStatus_t cublasSetMathMode(cublasHandle_t, cublasMath_t);
cublasStatus_t cublasGemmEx(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                            const void *alpha, const void *A, cudaDataType, int lda, const void *B,
                            cudaDataType, int ldb, const void *beta, void *C, cudaDataType, int ldc,
                            cublasComputeType_t ct, cublasGemmAlgo_t);

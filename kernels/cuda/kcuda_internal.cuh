/* Shared by the CUDA kernel files: the renaming to kcuda_* (knames.h),
 * error checks, the cuBLAS handle, launch helpers. Not part of kernels.h. */
#ifndef AR_KERNELS_KCUDA_INTERNAL_CUH
#define AR_KERNELS_KCUDA_INTERNAL_CUH

#define K_BACKEND(name) kcuda_##name
#include "knames.h"
#include "kernels.h"
#include "kcuda.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* A failing CUDA or cuBLAS call is a run-time failure of the whole run. */
void kcuda_fatal(const char *what, const char *file, int line);
#define CU(call)                                                            \
    do {                                                                    \
        cudaError_t e_ = (call);                                            \
        if (e_ != cudaSuccess)                                              \
            kcuda_fatal(cudaGetErrorString(e_), __FILE__, __LINE__);        \
    } while (0)
#define CUBLAS(call)                                                        \
    do {                                                                    \
        cublasStatus_t s_ = (call);                                         \
        if (s_ != CUBLAS_STATUS_SUCCESS)                                    \
            kcuda_fatal(cublasGetStatusString(s_), __FILE__, __LINE__);     \
    } while (0)
#define CU_LAUNCHED() CU(cudaGetLastError())

extern cublasHandle_t kcuda_blas;
extern enum k_precision kcuda_prec;

/* Device copies of host token ids (embedding and loss take host arrays):
 * slot 0 and 1 hold two different arrays at once; grown as needed. */
const uint16_t *kcuda_tokens(const uint16_t *host, size_t n, int slot);

/* A device double for reductions (zeroed by the caller when needed). */
double *kcuda_scalar(int i);

static inline unsigned kcuda_blocks(size_t n, unsigned threads)
{
    size_t b = (n + threads - 1) / threads;
    return b > 65535u * 16u ? 65535u * 16u : (unsigned)(b ? b : 1);
}

/* Sum of v over the block (blockDim.x a multiple of 32, at most 1024);
 * every thread gets the total. sh holds 32 values. */
template <typename T> __device__ inline T kcuda_block_sum(T v, T *sh)
{
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    __syncthreads();
    if (lane == 0)
        sh[w] = v;
    __syncthreads();
    v = lane < nw ? sh[lane] : (T)0;
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

template <typename T> __device__ inline T kcuda_block_max(T v, T *sh)
{
    for (int o = 16; o > 0; o >>= 1) {
        T u = __shfl_xor_sync(0xffffffffu, v, o);
        v = u > v ? u : v;
    }
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    __syncthreads();
    if (lane == 0)
        sh[w] = v;
    __syncthreads();
    v = lane < nw ? sh[lane] : sh[0];
    for (int o = 16; o > 0; o >>= 1) {
        T u = __shfl_xor_sync(0xffffffffu, v, o);
        v = u > v ? u : v;
    }
    return v;
}

#endif

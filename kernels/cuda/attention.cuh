/* The tensor-core attention of attention_bf16.cu, called by attention.cu's
 * kcuda_attention_forward / _backward when the precision is bf16. Each
 * returns 1 when it ran, 0 when it cannot (head_dim not a multiple of 16,
 * a GPU older than sm_80, too little shared memory, no room for its
 * buffer): then nothing was launched and the caller runs the fp32 path.
 * window is already clamped to 1..T. */
#ifndef AR_KERNELS_CUDA_ATTENTION_CUH
#define AR_KERNELS_CUDA_ATTENTION_CUH

int kcuda_attention_forward_tc(float *out, float *lse, const float *q, const float *k,
                               const float *v, int B, int T, int H, int Hk, int D, int window);
int kcuda_attention_backward_tc(float *dq, float *dk, float *dv, const float *dout,
                                const float *out, const float *lse, const float *q,
                                const float *k, const float *v, int B, int T, int H, int Hk,
                                int D, int window);

#endif

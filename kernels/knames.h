/* Renames every compute function of kernels.h to one backend's: a backend's
 * files define K_BACKEND(name) (kcpu_##name, kcuda_##name) and include this
 * before kernels.h, so they define kcpu_matmul_forward and so on with the
 * interface's own prototypes, and both backends link into one binary;
 * kernels/dispatch.c defines the k_* functions the trainer calls. */
#ifndef AR_KERNELS_KNAMES_H
#define AR_KERNELS_KNAMES_H

#ifndef K_BACKEND
#error "define K_BACKEND(name) before including knames.h"
#endif

#define k_alloc K_BACKEND(alloc)
#define k_free K_BACKEND(free)
#define k_zero K_BACKEND(zero)
#define k_upload K_BACKEND(upload)
#define k_download K_BACKEND(download)
#define k_copy K_BACKEND(copy)
#define k_add K_BACKEND(add)
#define k_matmul_forward K_BACKEND(matmul_forward)
#define k_matmul_backward K_BACKEND(matmul_backward)
#define k_gemm K_BACKEND(gemm)
#define k_embedding_forward K_BACKEND(embedding_forward)
#define k_embedding_backward K_BACKEND(embedding_backward)
#define k_rmsnorm_forward K_BACKEND(rmsnorm_forward)
#define k_rmsnorm_backward K_BACKEND(rmsnorm_backward)
#define k_rope_forward K_BACKEND(rope_forward)
#define k_rope_backward K_BACKEND(rope_backward)
#define k_residual_mix_forward K_BACKEND(residual_mix_forward)
#define k_residual_mix_backward K_BACKEND(residual_mix_backward)
#define k_ve_gate_forward K_BACKEND(ve_gate_forward)
#define k_ve_gate_backward K_BACKEND(ve_gate_backward)
#define k_act_forward K_BACKEND(act_forward)
#define k_act_backward K_BACKEND(act_backward)
#define k_attention_scratch K_BACKEND(attention_scratch)
#define k_attention_forward K_BACKEND(attention_forward)
#define k_attention_backward K_BACKEND(attention_backward)
#define k_crossentropy K_BACKEND(crossentropy)
#define k_sum_squares K_BACKEND(sum_squares)
#define k_scale K_BACKEND(scale)
#define k_adamw K_BACKEND(adamw)
#define k_muon_scratch K_BACKEND(muon_scratch)
#define k_muon K_BACKEND(muon)
#define k_newton_schulz K_BACKEND(newton_schulz)
#define k_polar_express K_BACKEND(polar_express)
#define k_normuon_size K_BACKEND(normuon_size)
#define k_normuon K_BACKEND(normuon)

#endif

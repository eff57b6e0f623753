/* The device a run trains on, as the card's platform object and the MFU
 * peak say it: a CPU run keeps ar_platform_detect's object; a GPU run
 * (kernels_device() is K_DEVICE_CUDA) gets device "cuda", the GPU's name
 * as the CUDA runtime reports it, its class (ar_gpu_class: "h100", ...)
 * and gpu_mem_gb, with the host CPU's name kept as "cpu". */
#ifndef AR_TRAINER_DEVICE_H
#define AR_TRAINER_DEVICE_H

#include <jv.h>

/* The platform object of this run; blas describes the CPU's BLAS (kept on
 * a GPU run too: the host still runs the loader and the tokenizer). */
jv train_platform(const char *blas);

/* A GPU run's platform object built over a CPU run's (consumed): what
 * train_platform does on a GPU, with the GPU given. Exposed for tests. */
jv train_platform_gpu(jv cpu, const char *gpu_name, double gpu_mem_gb);

/* FLOP/s for MFU of a run on gpu_name: its class's published dense bf16
 * peak (lib/host/gpu.h), 0 when the class is unknown (no MFU then). cls
 * (n bytes) gets the class. */
double train_gpu_peak_flops(const char *gpu_name, char *cls, size_t n);

#endif

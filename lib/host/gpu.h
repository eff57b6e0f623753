/* NVIDIA GPUs: the platform class of a GPU from the name its driver reports,
 * the class's published dense bf16 tensor peak (for MFU), and the first GPU
 * of this machine as nvidia-smi sees it. */
#ifndef AR_GPU_H
#define AR_GPU_H

#include <stddef.h>

/* The class of a GPU from its name: "NVIDIA H100 80GB HBM3" -> "h100",
 * "NVIDIA H100 PCIe" -> "h100-pcie", "NVIDIA A100-SXM4-40GB" -> "a100",
 * "NVIDIA GeForce RTX 4090" -> "rtx4090", "NVIDIA GeForce RTX 4070 Ti" ->
 * "rtx4070-ti", "NVIDIA RTX A6000" -> "a6000", "Tesla T4" -> "t4",
 * "NVIDIA GB10" -> "gb10". A name with no model in it gives
 * "gpu-<slug of the name>". Always [a-z0-9-], NUL-terminated within n. */
void ar_gpu_class(const char *name, char *out, size_t n);

/* The published dense (no sparsity) bf16 tensor peak of a class in
 * TFLOP/s, with FP32 accumulation as training uses; 0 when the class is
 * unknown or has no bf16 tensor cores (v100, t4). */
double ar_gpu_bf16_peak_tflops(const char *cls);

/* The first NVIDIA GPU per `nvidia-smi --query-gpu=name,memory.total
 * --format=csv,noheader,nounits` found on PATH: its name and memory in GB
 * (0 when the driver reports none, as on unified-memory GB10). Returns 0
 * when found, -1 when there is no nvidia-smi or it lists no GPU. */
int ar_gpu_detect(char *name, size_t n, double *mem_gb);

#endif

/* What kernels/cuda offers besides the kcuda_* compute functions of
 * kernels.h (kernels/knames.h): opening the GPU and asking about it. Plain
 * C; kernels/dispatch.c calls it in a build with CUDA. */
#ifndef AR_KERNELS_KCUDA_H
#define AR_KERNELS_KCUDA_H

#include <stddef.h>

#include "kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opens the first CUDA device and cuBLAS; 0, or -1 with the reason in why. */
int kcuda_open(char *why, size_t n);
int kcuda_info(char *name, size_t n, double *mem_gb);
void kcuda_set_precision(enum k_precision p);
size_t kcuda_peak_bytes(void);
void kcuda_sync(void);

#ifdef __cplusplus
}
#endif

#endif

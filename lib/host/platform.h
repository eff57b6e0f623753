/* What the run ran on, for the card's platform object and the results'
 * comparability key: device, name, class (cpu-avx512, cpu-avx2, cpu-neon,
 * cpu, or a GPU class such as h100), cores, mem_gb, gpu_mem_gb, os,
 * compiler, blas. */
#ifndef AR_PLATFORM_H
#define AR_PLATFORM_H

#include <jv.h>
#include <stddef.h>

/* The CPU's class from its instruction set: "cpu-avx512", "cpu-avx2",
 * "cpu-neon" or "cpu". */
const char *ar_platform_cpu_class(void);

/* CPU model name ("AMD EPYC 9B45"), or the architecture when unknown. */
void ar_platform_cpu_name(char *buf, size_t n);

/* Logical CPUs this process may run on. */
int ar_platform_cores(void);

/* The platform object of a CPU run. blas (may be NULL) describes the BLAS
 * library and kernel; a GPU seen on the machine is named in "gpu" though
 * the run used the CPU. */
jv ar_platform_detect(const char *blas);

#endif

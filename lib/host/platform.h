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

/* The class of an Apple Silicon chip from its brand string (sysctl
 * machdep.cpu.brand_string): "Apple M2 Pro" -> "apple-m2-pro", "Apple M1"
 * -> "apple-m1", "Apple M3 Max" -> "apple-m3-max". -1 (out empty) when the
 * brand is not Apple Silicon. */
int ar_platform_apple_class(const char *brand, char *out, size_t n);

/* The platform object of a run on this machine by a trainer that uses the
 * best device there is (train.py): the first NVIDIA GPU that nvidia-smi
 * lists (device "cuda", name, class from the name by ar_gpu_class,
 * gpu_mem_gb), else Apple Silicon (device "mps", class apple-...), else
 * ar_platform_detect(NULL); cores, mem_gb, os and the CPU's name ("cpu")
 * in every case. */
jv ar_platform_detect_run(void);

/* A platform class as a user types it ("H100", "Apple-M2-Pro"), lower-cased
 * into out. AR_EINPUT naming what (the option) when it is empty, longer
 * than 64 bytes or holds other than [a-z0-9_.-]. */
int ar_platform_class_arg(const char *text, const char *what, char *out, size_t n);

#endif

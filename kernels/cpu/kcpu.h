/* Helpers shared by the CPU kernels (not part of the kernels.h interface).
 * Every CPU kernel file includes this first: the functions of kernels.h
 * are defined here as kcpu_* (kernels/knames.h), and kernels/dispatch.c
 * calls them when the CPU is the device. */
#ifndef AR_KERNELS_CPU_H
#define AR_KERNELS_CPU_H

#define K_BACKEND(name) kcpu_##name
#include "knames.h"
#include "kernels.h"

#include <stdint.h>
#include <string.h>

/* Hot loops are compiled for AVX-512 and AVX2 besides the baseline, and the
 * loader picks the best clone for the CPU (the Makefile does not use
 * -march=native, so binaries stay portable). */
#if defined(__x86_64__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define K_HOT __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define K_HOT
#endif

/* exp(x) to about 2 ulp in plain arithmetic the compiler can vectorise:
 * x = n ln2 + r, |r| <= ln2/2, exp(r) by its degree-6 Taylor polynomial,
 * then 2^n through the exponent bits. Inputs below -87 give ~0. */
static inline float k_expf(float x)
{
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    float t = x * 1.44269504088896341f;
    float n = (t + 12582912.0f) - 12582912.0f;   /* round to nearest */
    float r = x - n * 0.693145751953125f;        /* ln2 in two parts */
    r = r - n * 1.428606765330187e-06f;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float k_tanhf(float x)
{
    return 1.0f - 2.0f / (k_expf(2.0f * x) + 1.0f);
}

static inline float k_sigmoidf(float x)
{
    return 1.0f / (1.0f + k_expf(-x));
}

#endif

/* Helpers for gradient checks: random data, central finite differences in
 * double precision, and float-versus-double comparisons that name what
 * differs. Included by test_kernels.c and test_gpt.c. */
#ifndef AR_TESTS_GRADCHECK_H
#define AR_TESTS_GRADCHECK_H

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t gc_state = 88172645463325252ull;

static inline double gc_uniform(void)   /* [-1, 1) */
{
    gc_state ^= gc_state << 13;
    gc_state ^= gc_state >> 7;
    gc_state ^= gc_state << 17;
    return (double)(gc_state >> 11) / 4503599627370496.0 - 1.0;
}

static inline double *gc_random(size_t n, double scale)
{
    double *x = malloc(sizeof(double) * n);
    for (size_t i = 0; i < n; i++)
        x[i] = scale * gc_uniform();
    return x;
}

static inline float *gc_to_float(const double *x, size_t n)
{
    float *f = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        f[i] = (float)x[i];
    return f;
}

/* Rounds a double array to float precision in place, so the float kernel
 * and the double reference see the very same inputs. */
static inline void gc_round(double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)x[i];
}

/* A gradient output that starts from random values instead of zero:
 * kernels named *_backward add into their outputs (kernels.h), so a test
 * checks out - start against the finite differences (gc_added), which
 * fails both for a wrong gradient and for one that overwrites. */
static inline float *gc_start(size_t n)
{
    float *f = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        f[i] = (float)(0.5 * gc_uniform());
    return f;
}

static inline float *gc_copy(const float *x, size_t n)
{
    float *f = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        f[i] = x[i];
    return f;
}

/* What a kernel added to a gradient that started as start (frees start). */
static inline void gc_added(float *out, float *start, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] -= start[i];
    free(start);
}

/* A scalar function of all the inputs reachable from ctx. */
typedef double (*gc_fn)(void *ctx);

/* g = d f / d x by central differences, perturbing x (one of f's inputs)
 * in place. */
static inline void gc_numeric(double *g, double *x, size_t n, gc_fn f, void *ctx)
{
    for (size_t i = 0; i < n; i++) {
        double save = x[i], h = 1e-6 * (fabs(save) > 1 ? fabs(save) : 1);
        x[i] = save + h;
        double up = f(ctx);
        x[i] = save - h;
        double down = f(ctx);
        x[i] = save;
        g[i] = (up - down) / (2 * h);
    }
}

/* |got - want| <= rtol (|want| + max |want|) everywhere. */
static inline void gc_assert_close(const float *got, const double *want, size_t n, double rtol,
                            const char *what)
{
    double scale = 0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(want[i]));
    for (size_t i = 0; i < n; i++) {
        double err = fabs(got[i] - want[i]);
        if (!(err <= rtol * (fabs(want[i]) + scale) + 1e-30))
            ck_abort_msg("%s[%zu]: got %.9g, want %.9g (scale %.3g)", what, i, got[i], want[i],
                         scale);
    }
}

#endif

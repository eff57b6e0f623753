/* Measured sgemm peak of this machine through kernels.h (OpenBLAS with the
 * core type kernels_init picks, split across OpenMP threads): best GFLOP/s
 * over a few shapes, all threads and one thread.
 *
 *   bench-sgemm [--quick]
 *
 * Built by bench/build.sh; run by bench/sgemm.sh; not installed. */
#include "kernels.h"
#include "base/err.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double cpu_best;   /* best GFLOP per CPU second seen */

/* Best GFLOP/s of out (M,N) = a (M,K) b (N,K)^T over reps timed runs. */
static double measure(int M, int N, int K, int reps)
{
    float *a = k_alloc((size_t)M * K), *b = k_alloc((size_t)N * K), *c = k_alloc((size_t)M * N);
    if (!a || !b || !c)
        ar_die(AR_EFAIL, "out of memory");
    for (size_t i = 0; i < (size_t)M * K; i++)
        a[i] = (float)(i % 13) * 0.01f;
    for (size_t i = 0; i < (size_t)N * K; i++)
        b[i] = (float)(i % 7) * 0.01f;
    k_matmul_forward(c, a, b, M, K, N, 0);
    double best = 0;
    for (int r = 0; r < reps; r++) {
        int it = 0;
        double t = now(), c0 = cpu_now(), dt;
        do {
            k_matmul_forward(c, a, b, M, K, N, 0);
            it++;
        } while ((dt = now() - t) < 0.1);
        double g = 2.0 * M * N * K * it / dt / 1e9;
        double gc = 2.0 * M * N * K * it / (cpu_now() - c0) / 1e9;
        cpu_best = gc > cpu_best ? gc : cpu_best;
        best = g > best ? g : best;
    }
    k_free(a), k_free(b), k_free(c);
    return best;
}

int main(int argc, char **argv)
{
    ar_set_prog("bench-sgemm");
    if (kernels_init(argv) < 0)
        ar_die_last();
    int quick = argc > 1 && !strcmp(argv[1], "--quick");
    static const int shapes[][3] = {
        {1024, 1024, 1024}, {4096, 256, 256}, {4096, 1024, 256}, {4096, 4096, 256}};
    int nshapes = quick ? 1 : 4, reps = quick ? 3 : 5;
    int all = kernels_threads();
    printf("blas: %s\n", kernels_blas_info());
    double peak = 0, peak1 = 0;
    for (int s = 0; s < nshapes; s++) {
        const int *d = shapes[s];
        kernels_set_threads(all);
        double g = measure(d[0], d[1], d[2], reps);
        kernels_set_threads(1);
        double g1 = measure(d[0], d[1], d[2], reps);
        printf("sgemm %4dx%4dx%4d: %6.1f GFLOP/s on %d threads, %6.1f on 1\n", d[0], d[1], d[2],
               g, all, g1);
        peak = g > peak ? g : peak;
        peak1 = g1 > peak1 ? g1 : peak1;
    }
    printf("sgemm peak: %.1f GFLOP/s (%d threads), %.1f GFLOP/s (1 thread)\n", peak, all, peak1);
    printf("sgemm per CPU second: %.1f GFLOP (best; independent of other load)\n", cpu_best);
    return ar_finish_stdout(0);
}

/* Compute benchmark of the GPT: training steps (forward, backward,
 * optimizer) on random tokens at a given configuration, reporting tokens/s,
 * achieved GFLOP/s and MFU against a measured sgemm peak, plus the time
 * split between forward, backward and optimizer.
 *
 *   bench-model [--steps N] [--vocab V] [--peak GFLOPS] [--split] [--set key=value]...
 *
 * --split runs each forward pass twice to time forward, backward and
 * optimizer apart (it slows the run; tokens/s leave the extra pass out).
 *
 * Built by bench/build.sh; run by bench/train.sh; not installed. */
#include "config.h"
#include "gpt.h"
#include "kernels.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double now(void) { return clock_s(CLOCK_MONOTONIC); }

/* Best of a few large products, all threads. */
static double sgemm_peak(void)
{
    int n = 1024;
    float *a = k_alloc((size_t)n * n), *b = k_alloc((size_t)n * n), *c = k_alloc((size_t)n * n);
    for (size_t i = 0; i < (size_t)n * n; i++)
        a[i] = b[i] = (float)(i % 7) * 0.1f;
    double best = 0;
    for (int r = 0; r < 5; r++) {
        double t = now();
        k_gemm(0, 1, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double g = 2.0 * n * n * n / (now() - t) / 1e9;
        best = g > best ? g : best;
    }
    k_free(a), k_free(b), k_free(c);
    return best;
}

int main(int argc, char **argv)
{
    ar_set_prog("bench-model");
    if (kernels_init(argv) < 0)
        ar_die_last();
    struct train_config cfg;
    config_defaults(&cfg);
    int steps = 5, vocab = 4096, split = 0;
    double peak = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--vocab") && i + 1 < argc)
            vocab = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--split"))
            split = 1;
        else if (!strcmp(argv[i], "--peak") && i + 1 < argc)
            peak = atof(argv[++i]);
        else if (!strcmp(argv[i], "--set") && i + 1 < argc) {
            if (config_set(&cfg, argv[++i]) < 0)
                ar_die_last();
        } else
            ar_die(AR_EINPUT, "usage: bench-model [--steps N] [--vocab V] [--peak GFLOPS] "
                   "[--split] [--set key=value]...");
    }
    if (config_check(&cfg) < 0)
        ar_die_last();
    kernels_set_threads(cfg.threads);
    if (peak <= 0)
        peak = sgemm_peak();
    struct gpt *m = gpt_create(&cfg, vocab, 1);
    if (!m)
        ar_die_last();
    int N = cfg.device_batch * cfg.seq_len, accum = cfg.total_batch_tokens / N;
    uint16_t *in = malloc(sizeof(uint16_t) * N), *tg = malloc(sizeof(uint16_t) * N);
    uint32_t s = 1;
    double t_fwd = 0, t_bwd = 0, t_opt = 0, t0 = 0, cpu0 = 0;
    for (int step = -1; step < steps; step++) {   /* step -1 warms up */
        if (step == 0) {
            t0 = now();
            cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        }
        gpt_zero_grad(m);
        for (int a = 0; a < accum; a++) {
            for (int i = 0; i < N; i++) {
                s = s * 1664525u + 1013904223u;
                in[i] = (uint16_t)((s >> 8) % vocab);
                tg[i] = (uint16_t)((s >> 20) % vocab);
            }
            double t = now();
            if (split)
                gpt_step_loss(m, in, tg, 0, 1.0f);
            double t1 = now();
            gpt_step_loss(m, in, tg, 1, 1.0f / accum);
            double t2 = now();
            if (step >= 0 && split) {
                t_fwd += t1 - t;
                t_bwd += (t2 - t1) - (t1 - t);   /* forward + backward minus forward */
            }
        }
        double t = now();
        gpt_optimizer_step(m, 1.0, 0.5, step + 1);
        if (step >= 0)
            t_opt += now() - t;
    }
    /* with --split the loop ran each forward twice to time it alone */
    double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    double elapsed = now() - t0 - t_fwd;
    double tokens = (double)steps * cfg.total_batch_tokens;
    double tps = tokens / elapsed, gflops = tps * gpt_flops_per_token(m) / 1e9;
    printf("config: depth %d width %d heads %d seq_len %d batch %d x %d vocab %d params %.2fM\n",
           cfg.depth, config_width(&cfg), config_heads(&cfg), cfg.seq_len, cfg.device_batch,
           accum, vocab, gpt_num_params(m) / 1e6);
    printf("blas: %s, threads %d\n", kernels_blas_info(), kernels_threads());
    printf("sgemm peak: %.1f GFLOP/s\n", peak);
    printf("tokens/s: %.0f\n", tps);
    printf("GFLOP/s: %.1f (%.1f MFLOP/token)\n", gflops, gpt_flops_per_token(m) / 1e6);
    printf("MFU: %.1f%% of measured sgemm peak\n", 100 * gflops / peak);
    /* with one thread, CPU time leaves out time the machine gave to others */
    if (!split)
        printf("per CPU second: %.1f GFLOP (CPU time of all threads)\n",
               tokens * gpt_flops_per_token(m) / cpu / 1e9);
    else
        printf("time split: forward %.0f%%, backward %.0f%%, optimizer %.0f%%\n",
           100 * t_fwd / elapsed, 100 * t_bwd / elapsed, 100 * t_opt / elapsed);
    gpt_free(m);
    free(in), free(tg);
    return ar_finish_stdout(0);
}

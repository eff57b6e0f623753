#include "train.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "kernels.h"

double train_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------------ */
/* signals */

volatile sig_atomic_t train_stop_signal;

static void on_stop_signal(int sig)
{
    if (train_stop_signal) {   /* the second one: die of it now */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        signal(sig, SIG_DFL);
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);   /* it is blocked in its handler */
        raise(sig);
        _exit(128 + sig);
    }
    train_stop_signal = sig;
}

void train_catch_signals(void)
{
    static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old, sa;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_stop_signal;
        sa.sa_flags = SA_RESTART;   /* reads and writes go on; the loop looks at the flag */
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

const char *train_signal_name(int sig)
{
    static char buf[24];
    switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    }
    snprintf(buf, sizeof buf, "signal %d", sig);
    return buf;
}

double train_lr_mult(const struct train_config *cfg, double p)
{
    if (p < 0)
        p = 0;
    if (p > 1)
        p = 1;
    if (cfg->warmup_frac > 0 && p < cfg->warmup_frac)
        return p / cfg->warmup_frac;
    if (cfg->warmdown_frac <= 0 || p <= 1 - cfg->warmdown_frac)
        return 1;
    double cool = (1 - p) / cfg->warmdown_frac;   /* 1 -> 0 over the warm-down */
    return cool + (1 - cool) * cfg->final_lr_frac;
}

double train_bpb(double nats, double bytes)
{
    return bytes > 0 ? nats / (M_LN2 * bytes) : NAN;
}

double train_peak_mem_mb(void)
{
    if (kernels_device() != K_DEVICE_CPU)   /* the device allocator's high-water mark */
        return kernels_peak_bytes() / 1048576.0;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) < 0)
        return 0;
    return ru.ru_maxrss / 1024.0;   /* ru_maxrss is in KiB on Linux */
}

/* ------------------------------------------------------------------------ */
/* progress */

struct progress {
    enum train_progress mode;
    double every, last;
    int drawn;                 /* a bar is on the terminal */
};

static void progress_report(struct progress *p, long step, double loss, double lr,
                            double tok_s, double mfu, double trained, double budget, int last)
{
    if (p->mode == PROGRESS_NONE)
        return;
    double now = train_now();
    double left = budget - trained > 0 ? budget - trained : 0;
    if (p->mode == PROGRESS_BAR) {
        if (!last && now - p->last < 0.2)
            return;
        p->last = now;
        int width = 24, fill = budget > 0 ? (int)(width * trained / budget) : 0;
        char bar[32];
        for (int i = 0; i < width; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[width] = '\0';
        fprintf(stderr, "\r[%s] step %ld | loss %.4f | %.0f tok/s | mfu %.1f%% | %.0fs left\033[K",
                bar, step, loss, tok_s, mfu, left);
        if (last)
            fputc('\n', stderr);
        p->drawn = !last;
        fflush(stderr);
        return;
    }
    if (!last && step > 1 && now - p->last < p->every)
        return;
    p->last = now;
    fprintf(stderr, "step %05ld | loss %.6f | lrm %.3f | %.0f tok/s | mfu %.2f%% | %.1fs left\n",
            step, loss, lr, tok_s, mfu, left);
}

/* ------------------------------------------------------------------------ */
/* the loop */

static void fill_static(struct gpt *m, const struct train_config *cfg, struct train_result *r)
{
    r->val_bpb = NAN;
    r->num_params_M = gpt_num_params(m) / 1e6;
    r->flops_per_token = gpt_flops_per_token(m);
    r->depth = cfg->depth;
}

static int crash(struct train_result *r, const char *fmt, double a, long b)
{
    r->crashed = 1;
    snprintf(r->crash_reason, sizeof r->crash_reason, fmt, a, b);
    return 0;
}

/* Stopped by train_stop_signal after step steps. */
static void killed(struct train_result *r, const struct train_options *o, long step,
                   double trained)
{
    int sig = train_stop_signal;
    r->crashed = 1;
    r->signal = sig;
    char steps[64];
    if (o->max_steps > 0)
        snprintf(steps, sizeof steps, "%ld of %ld steps", step, o->max_steps);
    else
        snprintf(steps, sizeof steps, "%ld steps", step);
    snprintf(r->crash_reason, sizeof r->crash_reason, "killed by %s after %s (%.1f of %g s trained)",
             train_signal_name(sig), steps, trained, o->budget_s);
    fprintf(stderr, "%s%s: %s: stopping (%s); a second signal exits at once\n",
            o->progress == PROGRESS_BAR ? "\n" : "", ar_prog(), train_signal_name(sig),
            r->crash_reason);
}

int train_run(struct gpt *m, const struct train_config *cfg, const struct train_data *d,
              const struct train_options *o, struct train_result *r)
{
    memset(r, 0, sizeof *r);
    fill_static(m, cfg, r);
    int B = cfg->device_batch, T = cfg->seq_len, accum = config_grad_accum(cfg);
    size_t n = (size_t)B * T;
    uint16_t *inputs = malloc(n * sizeof *inputs), *targets = malloc(n * sizeof *targets);
    if (!inputs || !targets) {
        free(inputs);
        free(targets);
        return ar_fail(AR_EFAIL, "out of memory for batches of %zu tokens", n);
    }
    struct progress prog = { o->progress, o->log_every_s > 0 ? o->log_every_s : 10, 0, 0 };
    double trained = 0, ema = 0, beta = 0.9, counted_tokens = 0;
    double peak = o->peak_flops > 0 ? o->peak_flops : 0;   /* raised by a faster step */
    long step = 0;
    int rc = 0;
    for (;;) {
        double t0 = train_now(), loss = 0;
        int stop = 0;
        for (int a = 0; a < accum && rc == 0 && !(stop = train_stop_signal != 0); a++) {
            rc = d->next_batch(d->ctx, inputs, targets);
            if (rc == 0)
                loss += gpt_step_loss(m, inputs, targets, 1, 1.0f / accum) / accum;
        }
        if (rc < 0)
            break;
        if (stop) {   /* the step is not finished: it is not counted */
            killed(r, o, step, trained);
            prog.drawn = 0;
            gpt_zero_grad(m);
            break;
        }
        if (!isfinite(loss) || loss > 100) {
            crash(r, isfinite(loss) ? "loss %.4g at step %ld" : "loss %g at step %ld", loss, step + 1);
            break;
        }
        double progress = o->budget_s > 0 ? trained / o->budget_s : 1;
        double lrm = train_lr_mult(cfg, progress);
        double gnorm = gpt_optimizer_step(m, lrm, progress < 1 ? progress : 1, step);
        gpt_zero_grad(m);
        kernels_sync();   /* a GPU step ends when its kernels have run */
        if (!isfinite(gnorm)) {
            crash(r, "gradient norm %g at step %ld", gnorm, step + 1);
            break;
        }
        double dt = train_now() - t0;
        if (step >= cfg->warmup_steps_uncounted) {
            trained += dt;
            counted_tokens += cfg->total_batch_tokens;
        }
        step++;
        ema = beta * ema + (1 - beta) * loss;
        double smooth = ema / (1 - pow(beta, (double)step));
        double tok_s = cfg->total_batch_tokens / dt;
        double rate = r->flops_per_token * tok_s;
        if (peak > 0 && rate > peak) {   /* the measured peak was low */
            peak = rate;
            r->peak_raised = 1;
        }
        double mfu = peak > 0 ? 100 * rate / peak : 0;
        int done = (step > cfg->warmup_steps_uncounted && trained >= o->budget_s) ||
                   (o->max_steps > 0 && step >= o->max_steps);
        progress_report(&prog, step, smooth, lrm, tok_s, mfu, trained, o->budget_s, done);
        r->final_loss = smooth;
        if (done)
            break;
    }
    if (prog.drawn)
        fputc('\n', stderr);
    free(inputs);
    free(targets);
    r->num_steps = step;
    r->training_seconds = trained;
    r->total_tokens_M = (double)step * cfg->total_batch_tokens / 1e6;
    r->tokens_per_s = trained > 0 ? counted_tokens / trained : 0;
    r->peak_flops = peak;
    r->mfu_percent = peak > 0 && trained > 0 ? 100 * r->flops_per_token * r->tokens_per_s / peak : 0;
    if (r->mfu_percent > 100)   /* only by rounding: the mean rate is at most the fastest step's */
        r->mfu_percent = 100;
    r->peak_mem_mb = train_peak_mem_mb();
    return rc;
}

int train_evaluate(struct gpt *m, const struct train_config *cfg, const struct train_data *d,
                   struct train_result *r)
{
    int B = cfg->device_batch, T = cfg->seq_len;
    size_t n = (size_t)B * T;
    uint16_t *inputs = malloc(n * sizeof *inputs), *targets = malloc(n * sizeof *targets);
    double *nats = malloc(n * sizeof *nats);
    if (!inputs || !targets || !nats) {
        free(inputs);
        free(targets);
        free(nats);
        return ar_fail(AR_EFAIL, "out of memory for evaluation batches");
    }
    double sum_nats = 0, sum_bytes = 0;
    long want = cfg->eval_tokens, seen = 0, scored = 0;
    int rc = 0;
    for (long b = 0; b < d->val_batches && seen < want; b++) {
        if (train_stop_signal) {
            int sig = train_stop_signal;
            r->crashed = 1;
            r->signal = sig;
            snprintf(r->crash_reason, sizeof r->crash_reason,
                     "killed by %s during the evaluation after %ld steps (%.1f s trained)",
                     train_signal_name(sig), r->num_steps, r->training_seconds);
            fprintf(stderr, "%s: %s: stopping (%s); a second signal exits at once\n", ar_prog(),
                    train_signal_name(sig), r->crash_reason);
            free(inputs);
            free(targets);
            free(nats);
            return 0;
        }
        if ((rc = d->val_batch(d->ctx, b, inputs, targets)) < 0)
            break;
        gpt_eval_nats(m, inputs, targets, nats);
        size_t use = want - seen < (long)n ? (size_t)(want - seen) : n;
        for (size_t i = 0; i < use; i++) {
            uint32_t bytes = targets[i] < d->vocab_size ? d->byte_lens[targets[i]] : 0;
            if (bytes == 0)
                continue;
            sum_nats += nats[i];
            sum_bytes += bytes;
            scored++;
        }
        seen += (long)use;
    }
    free(inputs);
    free(targets);
    free(nats);
    if (rc < 0)
        return rc;
    if (seen == 0)
        return ar_fail(AR_EINPUT, "validation set is empty");
    r->val_nats = sum_nats;
    r->val_bytes = sum_bytes;
    r->val_tokens = seen;
    r->val_scored = scored;
    r->val_bpb = train_bpb(sum_nats, sum_bytes);
    return 0;
}

double train_measure_peak_gflops(void)
{
    const char *env = getenv("AR_PEAK_GFLOPS");
    if (env && atof(env) > 0)
        return atof(env);
    static const int sizes[] = { 1024, 1536, 2048 };
    const int NMAX = 2048;
    size_t nn = (size_t)NMAX * NMAX;
    float *a = k_alloc(nn), *b = k_alloc(nn), *c = k_alloc(nn);
    double best = 0;
    if (a && b && c) {
        float *h = malloc(nn * sizeof *h);   /* finite inputs: no denormal or NaN slow paths */
        if (h) {
            for (size_t i = 0; i < nn; i++)
                h[i] = (float)(i % 13) * 0.01f;
            k_upload(a, h, nn);
            k_upload(b, h, nn);
            free(h);
        }
        for (int s = 0; s < 3; s++) {
            int N = sizes[s];
            for (int rep = s == 0 ? -1 : 0; rep < 3; rep++) {   /* -1: warms the threads */
                double t0 = train_now();
                k_gemm(0, 1, N, N, N, 1.0f, a, N, b, N, 0.0f, c, N);
                float one;
                k_download(&one, c, 1);   /* waits for a device that computes asynchronously */
                double g = 2.0 * N * N * N / (train_now() - t0) / 1e9;
                if (rep >= 0 && g > best)
                    best = g;
            }
        }
    }
    k_free(a);
    k_free(b);
    k_free(c);
    return best;
}

void train_print_summary(FILE *f, const struct train_result *r, const char *card_id)
{
    fprintf(f, "---\n");
    if (r->crashed) {
        fprintf(f, "status:           crash\n");
        fprintf(f, "reason:           %s\n", r->crash_reason);
    } else {
        fprintf(f, "val_bpb:          %.6f\n", r->val_bpb);
    }
    fprintf(f, "training_seconds: %.1f\n", r->training_seconds);
    fprintf(f, "total_seconds:    %.1f\n", r->total_seconds);
    fprintf(f, "peak_mem_mb:      %.1f\n", r->peak_mem_mb);
    fprintf(f, "mfu_percent:      %.2f\n", r->mfu_percent);
    fprintf(f, "total_tokens_M:   %.1f\n", r->total_tokens_M);
    fprintf(f, "num_steps:        %ld\n", r->num_steps);
    fprintf(f, "num_params_M:     %.1f\n", r->num_params_M);
    fprintf(f, "depth:            %d\n", r->depth);
    if (card_id)
        fprintf(f, "card:             %s\n", card_id);
}

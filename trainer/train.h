/* The training loop: a fixed wall-clock budget of training steps, the LR
 * schedule by fraction of the budget, gradient accumulation, progress on
 * stderr, crash detection, and the final val_bpb.
 *
 * MFU = model FLOPs per token (gpt_flops_per_token) x tokens per second of
 * the counted steps / peak FLOP/s, where the peak is the machine's: the
 * best single-precision sgemm rate measured at start-up
 * (train_measure_peak_gflops), raised to the fastest step's own FLOP rate
 * when a step went faster (the measurement was then low, e.g. taken while
 * other work shared the cores). So MFU is never above 100%, and a run whose
 * steps all ran at one speed reads 100% only if its measured peak was low.
 *
 * Budget accounting follows autoresearch: only optimizer steps count, and
 * only from step warmup_steps_uncounted on; start-up and evaluation are
 * outside the budget. Training stops at the first step that ends with the
 * counted time at or past the budget.
 *
 * val_bpb = sum of cross-entropy in nats over the target tokens /
 *           (ln 2 * sum of those tokens' byte lengths);
 * tokens of 0 bytes (BOS) drop out of both sums. */
#ifndef AR_TRAINER_TRAIN_H
#define AR_TRAINER_TRAIN_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "gpt.h"

/* What the loop needs from the data: batches of B x T token ids
 * (B = device_batch, T = seq_len) and each token's byte length. */
struct train_data {
    int vocab_size;
    const uint32_t *byte_lens;     /* vocab_size entries; 0 for BOS */
    void *ctx;
    /* The next training micro-batch; returns 0 or -1 with an error recorded. */
    int (*next_batch)(void *ctx, uint16_t *inputs, uint16_t *targets);
    /* Fixed validation batch i < val_batches; returns 0 or -1. */
    long val_batches;
    int (*val_batch)(void *ctx, long i, uint16_t *inputs, uint16_t *targets);
};

enum train_progress { PROGRESS_NONE, PROGRESS_LINES, PROGRESS_BAR };

struct train_options {
    double budget_s;
    enum train_progress progress;
    double log_every_s;     /* seconds between progress lines; <= 0: 10 */
    long max_steps;         /* stop after this many steps; 0: no limit */
    double peak_flops;      /* measured peak for MFU (train_measure_peak_gflops); <= 0: none */
    double t_start;         /* train_now() when the process started */
};

struct train_result {
    int crashed;
    char crash_reason[160];
    int signal;              /* the signal that stopped the run (crashed); 0: none */
    double val_bpb;          /* NaN when not evaluated */
    double val_nats, val_bytes;
    long val_tokens;         /* target positions evaluated (including 0-byte ones) */
    long val_scored;         /* of those, targets with bytes (in both sums) */
    double training_seconds, total_seconds, peak_mem_mb, mfu_percent;
    /* the peak MFU is against: the larger of the measured peak and the
     * fastest step's FLOP rate (peak_raised: the step's), so MFU <= 100 */
    double peak_flops;
    int peak_raised;
    double total_tokens_M, num_params_M, flops_per_token, tokens_per_s;
    long num_steps;
    int depth;
    double final_loss;       /* smoothed training loss at the end */
};

/* A stop asked by a signal: SIGTERM (timeout(1)), SIGINT (^C) and SIGHUP
 * set train_stop_signal, and nothing else happens in the handler; the
 * training loop looks at it before each micro-batch and the evaluation
 * before each batch, and stops as a crash ("killed by SIGTERM after N
 * steps..."), so the caller records the card from normal code and exits
 * 128 + signal. A second signal while that happens ends the process at once
 * (the default action of that signal: a card is written whole or not at
 * all). train_catch_signals installs the handler; a signal ignored when it
 * is called (nohup's SIGHUP, a shell's background SIGINT) stays ignored. */
extern volatile sig_atomic_t train_stop_signal;
void train_catch_signals(void);

/* "SIGTERM", "SIGINT", "SIGHUP", else "signal N" (a static buffer). */
const char *train_signal_name(int sig);

/* Monotonic seconds. */
double train_now(void);

/* The LR multiplier at progress in [0,1]: linear warm-up over warmup_frac,
 * flat, then linear warm-down over the last warmdown_frac to final_lr_frac. */
double train_lr_mult(const struct train_config *cfg, double progress);

/* val_bpb from the two sums; NaN when bytes is 0. */
double train_bpb(double nats, double bytes);

/* Trains m in place for the budget; fills r. Returns 0 (a crashed run is a
 * success of this function with r->crashed set, as is one stopped by a
 * signal, with r->signal set too), or -1 when the data fails. */
int train_run(struct gpt *m, const struct train_config *cfg, const struct train_data *d,
              const struct train_options *o, struct train_result *r);

/* Evaluates m over cfg->eval_tokens validation target positions (fewer when
 * the validation set is smaller), filling the val_* fields of r. A signal
 * (train_stop_signal) stops it between batches: r->crashed and r->signal
 * are set, val_bpb stays NaN, and it returns 0. */
int train_evaluate(struct gpt *m, const struct train_config *cfg, const struct train_data *d,
                   struct train_result *r);

/* Peak single-precision GFLOP/s of this machine's matrix products through
 * the same BLAS (k_gemm, all compute threads): the best of three products
 * at each of 1024^3, 1536^3 and 2048^3 after one to warm the threads up
 * (about 0.3 to 1 s); AR_PEAK_GFLOPS overrides (bench/sgemm.sh measures
 * it more thoroughly, over shapes and longer). */
double train_measure_peak_gflops(void);

/* Peak resident memory of the process in MB. */
double train_peak_mem_mb(void);

/* The summary block of DESIGN.md ("---" then aligned "key: value" lines);
 * card_id may be NULL. A crashed run prints status and reason instead of
 * val_bpb. */
void train_print_summary(FILE *f, const struct train_result *r, const char *card_id);

#endif

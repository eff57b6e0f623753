#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "base/err.h"
#include "gpt.h"
#include "kernels.h"
#include "train.h"
#include "unit.h"

/* A synthetic dataset: a repeating pattern of V - 1 tokens after BOS (id
 * V - 1), token i being i % 3 + 1 bytes long. */
#define V 64
static uint32_t byte_lens[V];

struct synth {
    int B, T;
    long pos;
};

static void fill(int B, int T, long start, uint16_t *in, uint16_t *tg)
{
    for (long i = 0; i < (long)B * T; i++) {
        long p = start + i;
        in[i] = (uint16_t)(p % 17 == 0 ? V - 1 : (p * 7) % (V - 1));
        long q = p + 1;
        tg[i] = (uint16_t)(q % 17 == 0 ? V - 1 : (q * 7) % (V - 1));
    }
}

static int next_batch(void *ctx, uint16_t *in, uint16_t *tg)
{
    struct synth *s = ctx;
    fill(s->B, s->T, s->pos, in, tg);
    s->pos += (long)s->B * s->T;
    return 0;
}

static int val_batch(void *ctx, long i, uint16_t *in, uint16_t *tg)
{
    struct synth *s = ctx;
    fill(s->B, s->T, 1000003 + i * s->B * s->T, in, tg);
    return 0;
}

static void tiny(struct train_config *c)
{
    config_defaults(c);
    c->depth = 2;
    c->aspect_ratio = 16;
    c->head_dim = 16;
    c->seq_len = 16;
    c->device_batch = 2;
    c->total_batch_tokens = 64;
    c->eval_tokens = 100;   /* not a multiple of B*T = 32 */
    c->ve_gate_channels = 8;
    c->threads = 1;
    c->warmup_steps_uncounted = 1;
}

static struct train_data data(struct synth *s, const struct train_config *c)
{
    for (int i = 0; i < V; i++)
        byte_lens[i] = i == V - 1 ? 0 : (uint32_t)(i % 3 + 1);
    s->B = c->device_batch;
    s->T = c->seq_len;
    s->pos = 0;
    struct train_data d = { V, byte_lens, s, next_batch, 10, val_batch };
    return d;
}

START_TEST(lr_schedule)
{
    struct train_config c;
    config_defaults(&c);
    c.warmup_frac = 0.1;
    c.warmdown_frac = 0.5;
    c.final_lr_frac = 0.2;
    ck_assert_double_eq_tol(train_lr_mult(&c, 0), 0, 1e-12);
    ck_assert_double_eq_tol(train_lr_mult(&c, 0.05), 0.5, 1e-12);
    ck_assert_double_eq_tol(train_lr_mult(&c, 0.3), 1, 1e-12);
    ck_assert_double_eq_tol(train_lr_mult(&c, 0.5), 1, 1e-12);
    ck_assert_double_eq_tol(train_lr_mult(&c, 0.75), 0.6, 1e-12);
    ck_assert_double_eq_tol(train_lr_mult(&c, 1), 0.2, 1e-12);
    ck_assert_double_eq_tol(train_lr_mult(&c, 2), 0.2, 1e-12);
    c.warmup_frac = 0;
    c.warmdown_frac = 0;
    ck_assert_double_eq_tol(train_lr_mult(&c, 0.99), 1, 1e-12);
}
END_TEST

START_TEST(bpb_formula)
{
    ck_assert_double_eq_tol(train_bpb(M_LN2 * 8, 4), 2, 1e-12);
    ck_assert(isnan(train_bpb(1, 0)));
}
END_TEST

/* With every parameter zero the logits are all 0, so each target costs
 * exactly ln V nats: val_bpb = log2(V) * counted / bytes. */
START_TEST(val_bpb_of_a_zero_model)
{
    struct train_config c;
    tiny(&c);
    struct synth s;
    struct train_data d = data(&s, &c);
    struct gpt *m = gpt_create(&c, V, 1);
    ck_assert_ptr_nonnull(m);
    k_zero(gpt_params(m), gpt_num_params(m));
    struct train_result r = { 0 };
    ck_assert_int_eq(train_evaluate(m, &c, &d, &r), 0);
    ck_assert_int_eq(r.val_tokens, 100);
    /* count by hand over the first 100 validation targets */
    uint16_t in[4 * 32], tg[4 * 32];
    long counted = 0, bytes = 0;
    for (int b = 0; b < 4; b++)
        val_batch(&s, b, in + 32 * b, tg + 32 * b);
    for (int i = 0; i < 100; i++)
        if (byte_lens[tg[i]]) {
            counted++;
            bytes += byte_lens[tg[i]];
        }
    ck_assert_double_eq_tol(r.val_bytes, (double)bytes, 1e-9);
    double want = log2(V) * counted / bytes;
    ck_assert_double_eq_tol(r.val_bpb, want, 1e-5);
    gpt_free(m);
}
END_TEST

START_TEST(budget_and_steps)
{
    struct train_config c;
    tiny(&c);
    struct synth s;
    struct train_data d = data(&s, &c);
    struct gpt *m = gpt_create(&c, V, 1);
    struct train_options o = { .budget_s = 0.3, .progress = PROGRESS_NONE };
    struct train_result r;
    double t0 = train_now();
    ck_assert_int_eq(train_run(m, &c, &d, &o, &r), 0);
    double wall = train_now() - t0;
    ck_assert_int_eq(r.crashed, 0);
    ck_assert(r.training_seconds >= 0.3);
    ck_assert(r.training_seconds < wall + 1e-9);
    ck_assert(r.num_steps >= 2);
    ck_assert_double_eq_tol(r.total_tokens_M, r.num_steps * 64 / 1e6, 1e-12);
    /* each step reads total_batch / (B*T) = 2 micro-batches */
    ck_assert_int_eq(s.pos, r.num_steps * 64);
    gpt_free(m);

    m = gpt_create(&c, V, 1);
    o.budget_s = 1000;
    o.max_steps = 3;
    ck_assert_int_eq(train_run(m, &c, &d, &o, &r), 0);
    ck_assert_int_eq(r.num_steps, 3);
    gpt_free(m);

    /* a measured peak far below what the steps reach is raised to the
     * fastest step's rate: MFU stays in (0, 100] */
    m = gpt_create(&c, V, 1);
    o.peak_flops = 1;
    o.max_steps = 5;
    ck_assert_int_eq(train_run(m, &c, &d, &o, &r), 0);
    ck_assert_int_eq(r.peak_raised, 1);
    ck_assert(r.peak_flops > 1);
    ck_assert_msg(r.mfu_percent > 0 && r.mfu_percent <= 100, "mfu %g", r.mfu_percent);
    /* a peak no step reaches stays */
    o.peak_flops = 1e18;
    ck_assert_int_eq(train_run(m, &c, &d, &o, &r), 0);
    ck_assert_int_eq(r.peak_raised, 0);
    ck_assert(r.peak_flops == 1e18);
    ck_assert(r.mfu_percent < 1e-3);
    gpt_free(m);
}
END_TEST

/* Memorising the synthetic pattern lowers val_bpb; the same seed on one
 * thread gives the same result bit for bit once nothing depends on the
 * clock (the LR schedule and the weight-decay decay follow elapsed time). */
START_TEST(training_lowers_val_bpb_deterministically)
{
    struct train_config c;
    tiny(&c);
    c.warmdown_frac = 0;
    c.muon_weight_decay = 0;
    double got[2];
    for (int k = 0; k < 2; k++) {
        struct synth s;
        struct train_data d = data(&s, &c);
        struct gpt *m = gpt_create(&c, V, 5);
        struct train_result before = { 0 }, r;
        ck_assert_int_eq(train_evaluate(m, &c, &d, &before), 0);
        struct train_options o = { .budget_s = 1000, .max_steps = 40 };
        ck_assert_int_eq(train_run(m, &c, &d, &o, &r), 0);
        ck_assert_int_eq(train_evaluate(m, &c, &d, &r), 0);
        ck_assert_msg(r.val_bpb < 0.5 * before.val_bpb, "val_bpb %g -> %g", before.val_bpb,
                      r.val_bpb);
        got[k] = r.val_bpb;
        gpt_free(m);
    }
    ck_assert_msg(memcmp(&got[0], &got[1], sizeof got[0]) == 0, "%.17g vs %.17g", got[0], got[1]);
}
END_TEST

/* A data source that "receives" SIGTERM while it reads micro-batch n (the
 * flag set as the handler would), so where the loop stops is exact. */
struct stopping {
    struct synth s;
    long reads, stop_at;
};

static int next_batch_stopping(void *ctx, uint16_t *in, uint16_t *tg)
{
    struct stopping *st = ctx;
    if (++st->reads == st->stop_at)
        train_stop_signal = SIGTERM;
    return next_batch(&st->s, in, tg);
}

static int val_batch_stopping(void *ctx, long i, uint16_t *in, uint16_t *tg)
{
    return val_batch(&((struct stopping *)ctx)->s, i, in, tg);
}

START_TEST(a_signal_stops_training_as_a_crash)
{
    struct train_config c;
    tiny(&c);   /* 2 micro-batches a step */
    struct stopping st = { .stop_at = 7 };   /* the first of step 4: 3 done */
    struct train_data d = data(&st.s, &c);
    d.ctx = &st;
    d.next_batch = next_batch_stopping;
    d.val_batch = val_batch_stopping;
    struct gpt *m = gpt_create(&c, V, 1);
    struct train_options o = { .budget_s = 1000, .max_steps = 10, .progress = PROGRESS_NONE };
    struct train_result r;
    train_stop_signal = 0;
    ck_assert_int_eq(train_run(m, &c, &d, &o, &r), 0);
    ck_assert_int_eq(r.crashed, 1);
    ck_assert_int_eq(r.signal, SIGTERM);
    ck_assert_int_eq(r.num_steps, 3);
    ck_assert_msg(strncmp(r.crash_reason, "killed by SIGTERM after 3 of 10 steps (", 39) == 0,
                  "reason: %s", r.crash_reason);
    /* the half-read step 4 reads one micro-batch more, then stops */
    ck_assert_int_eq(st.reads, 7);
    /* the evaluation stops before its first batch */
    ck_assert_int_eq(train_evaluate(m, &c, &d, &r), 0);
    ck_assert(isnan(r.val_bpb));
    ck_assert_int_eq(r.val_tokens, 0);
    ck_assert_msg(strstr(r.crash_reason, "killed by SIGTERM during the evaluation after 3 steps"),
                  "reason: %s", r.crash_reason);

    /* a signal in the evaluation of a run that trained to its end */
    train_stop_signal = 0;
    st.stop_at = -1;
    o.max_steps = 2;
    ck_assert_int_eq(train_run(m, &c, &d, &o, &r), 0);
    ck_assert_int_eq(r.crashed, 0);
    ck_assert_int_eq(r.signal, 0);
    train_stop_signal = SIGHUP;
    ck_assert_int_eq(train_evaluate(m, &c, &d, &r), 0);
    ck_assert_int_eq(r.crashed, 1);
    ck_assert_int_eq(r.signal, SIGHUP);
    ck_assert_msg(strstr(r.crash_reason, "killed by SIGHUP during the evaluation after 2 steps"),
                  "reason: %s", r.crash_reason);
    train_stop_signal = 0;
    gpt_free(m);
}
END_TEST

/* The handler only records the signal; an ignored signal stays ignored. */
START_TEST(the_handler_records_the_signal)
{
    train_stop_signal = 0;
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_DFL);
    train_catch_signals();
    struct sigaction sa;
    sigaction(SIGHUP, NULL, &sa);
    ck_assert(sa.sa_handler == SIG_IGN);
    raise(SIGHUP);
    ck_assert_int_eq(train_stop_signal, 0);
    raise(SIGINT);
    ck_assert_int_eq(train_stop_signal, SIGINT);
    ck_assert_str_eq(train_signal_name(SIGTERM), "SIGTERM");
    ck_assert_str_eq(train_signal_name(SIGUSR1), "signal 10");
    train_stop_signal = 0;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
}
END_TEST

/* A second signal ends the process at once, of that signal. */
START_TEST(a_second_signal_kills)
{
    train_stop_signal = 0;
    train_catch_signals();
    raise(SIGTERM);
    ck_assert_int_eq(train_stop_signal, SIGTERM);
    raise(SIGTERM);
    ck_abort_msg("still alive after a second SIGTERM");
}
END_TEST

Suite *make_suite(void)
{
    kernels_set_threads(1);
    Suite *s = suite_create("train");
    TCase *t = tcase_create("train");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, lr_schedule);
    tcase_add_test(t, bpb_formula);
    tcase_add_test(t, val_bpb_of_a_zero_model);
    tcase_add_test(t, budget_and_steps);
    tcase_add_test(t, training_lowers_val_bpb_deterministically);
    tcase_add_test(t, a_signal_stops_training_as_a_crash);
    tcase_add_test(t, the_handler_records_the_signal);
    tcase_add_test_raise_signal(t, a_second_signal_kills, SIGTERM);
    suite_add_tcase(s, t);
    return s;
}

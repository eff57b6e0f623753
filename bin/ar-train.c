/* ar-train: prepare the data, train a GPT for a fixed wall-clock budget,
 * print val_bpb and the summary block, record an experiment card.
 *
 *     ar-train prepare [...]          the data (trainer/prepare.c builds it)
 *     ar-train [options]              one experiment
 *     ar-train eval --init-from FILE  val_bpb of saved weights
 *
 * A thin front end: the config is trainer/config.c, the loop
 * trainer/train.c, the card trainer/record.c. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "checkpoint.h"
#include "config.h"
#include "corpus.h"
#include "device.h"
#include "base/err.h"
#include "host/gitinfo.h"
#include "gpt.h"
#include "base/json.h"
#include "facts/kb.h"
#include "kernels.h"
#include "loader.h"
#include "base/opt.h"
#include "facts/patch.h"
#include "facts/card.h"
#include "host/platform.h"
#include "queue/queue_job.h"
#include "prepare.h"
#include "record.h"
#include "tokenizer.h"
#include "train.h"

#ifndef NLP_CORPUS_VERSION
#define NLP_CORPUS_VERSION "4.4.0"
#endif

static const char usage_run[] =
    "usage: ar-train [options]              train for the budget, record a card\n"
    "       ar-train prepare [options]      build the data (ar-train prepare --help)\n"
    "       ar-train eval --init-from FILE  val_bpb of saved weights\n"
    "\n"
    "Trains the GPT of the config for a fixed wall-clock budget (start-up and\n"
    "evaluation excluded), prints progress on stderr and the summary block on\n"
    "stdout, and records an experiment card. Exit status: 0 trained, 1 run-time\n"
    "failure or crashed training, 2 invalid input, 128+N stopped by signal N\n"
    "(SIGTERM, SIGINT, SIGHUP: a crash card is recorded). See ar-train(1).\n";

static const char usage_eval[] =
    "usage: ar-train eval --init-from FILE [--data DIR] [--set KEY=VALUE]...\n"
    "\n"
    "Prints val_bpb of saved weights over the fixed validation tokens\n"
    "(eval_tokens of the saved config, which --set may change).\n";

static const char usage_prepare[] =
    "usage: ar-train prepare [--input FILE]... [--vocab N] [--val-frac F] [--data DIR] [--json]\n"
    "\n"
    "Builds the training data once: reads the corpus (default: the npm package\n"
    "nlp-corpus@" NLP_CORPUS_VERSION ", fetched with `npm pack`; or --input files: .txt\n"
    "paragraphs (lines, when a file has no blank line), .jsonl lines (strings\n"
    "or objects with a \"text\" field), JSON arrays of the same),\n"
    "splits documents into train and a fixed validation set by content hash,\n"
    "trains a byte-level BPE tokenizer on train, and writes tokenizer.bin,\n"
    "train.bin, val.bin and manifest.json to the data directory ($AR_DATA,\n"
    "default ~/.cache/ar). The same input gives the same bytes.\n";

struct args {
    double budget, seed, max_steps;
    const char *config, *data, *hypothesis, *category, *session, *status, *kb, *save, *init;
    const char *verify, *device;
    struct ar_strlist sets, tags;
    char **queue_sets;   /* the queue entry's overrides (owned), in sets too */
    int nqueue_sets;
    int no_card, quiet, keys, queue;
    int seed_given, budget_given;
};

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

static void check_device_option(const char *device)
{
    static const char *const devices[] = { "auto", "cpu", "cuda", NULL };
    if (device && !in_list(device, devices))
        ar_die(AR_EINPUT, "option '--device': '%s' is not auto, cpu or cuda", device);
}

/* Chooses the device (--device over the config's device key) and its
 * precision before anything is allocated; exits 2 when the device cannot
 * be had (--device cuda without a GPU or in a build without CUDA). */
static void open_device(const struct train_config *cfg, const char *option)
{
    static const char *const names[] = { "auto", "cpu", "cuda" };
    const char *want = option ? option : names[cfg->device];
    kernels_set_precision(cfg->precision == PRECISION_FP32 ? K_PREC_TF32 : K_PREC_BF16);
    if (kernels_select(want) < 0)
        ar_die_last();
}

static void parse_run_args(int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof *a);
    a->budget = 300;
    a->seed = 42;
    const struct ar_opt opts[] = {
        AR_OPT_NUM("budget", &a->budget, "SECONDS", "training time budget (300)"),
        AR_OPT_NUM("seed", &a->seed, "N", "seed of the init and the batch order (42)"),
        AR_OPT_STR("config", &a->config, "FILE", "the config (trainer/config.yaml)"),
        AR_OPT_LIST("set", &a->sets, "KEY=VALUE", "override one config key"),
        AR_OPT_BOOL("keys", &a->keys, "list the config keys: type, default, range"),
        AR_OPT_STR("data", &a->data, "DIR", "prepared data ($AR_DATA, else ~/.cache/ar)"),
        AR_OPT_STR("hypothesis", &a->hypothesis, "TEXT", "what the run tests (the commit's subject)"),
        AR_OPT_STR("category", &a->category, "C", "card category (baseline first, then other)"),
        AR_OPT_LIST("tag", &a->tags, "T", "a tag for the card"),
        AR_OPT_STR("session", &a->session, "TAG", "run tag ($AR_SESSION, autoresearch/TAG)"),
        AR_OPT_STR("status", &a->status, "S", "set the status instead of comparing"),
        AR_OPT_BOOL("no-card", &a->no_card, "record no card"),
        AR_OPT_STR("kb", &a->kb, "DIR", "knowledge base ($AR_KB, else ./knowledge)"),
        AR_OPT_STR("save", &a->save, "FILE", "write the trained weights"),
        AR_OPT_STR("init-from", &a->init, "FILE", "start from saved weights"),
        AR_OPT_NUM("max-steps", &a->max_steps, "N", "stop after N steps within the budget"),
        AR_OPT_BOOL("quiet", &a->quiet, "no progress on stderr"),
        AR_OPT_STR("verify", &a->verify, "ID", "re-run that card's config with a new seed (verifies)"),
        AR_OPT_BOOL("queue", &a->queue, "claim a queue entry, run it with its overrides, mark it done"),
        AR_OPT_STR("device", &a->device, "D", "auto, cpu or cuda (the config's device: auto)"),
        AR_OPT_END,
    };
    ar_opt_parse_none(opts, argc, argv, usage_run, NULL);
    check_device_option(a->device);
    if (a->verify && (a->config || a->sets.n))
        ar_die(AR_EINPUT, "option '--verify': runs the card's config; --config and --set do not go with it");
    if (a->verify && a->no_card)
        ar_die(AR_EINPUT, "option '--verify': records a card; --no-card does not go with it");
    if (a->queue && (a->no_card || a->verify))
        ar_die(AR_EINPUT, "option '--queue': records a card and takes the entry's config; "
               "--no-card and --verify do not go with it");
    a->seed_given = ar_opt_given(opts, &a->seed);
    a->budget_given = ar_opt_given(opts, &a->budget);
    if (a->keys) {
        config_print_keys(stdout);
        exit(ar_finish_stdout(AR_OK));
    }
    if (!(a->budget > 0 && a->budget <= 1e7))
        ar_die(AR_EINPUT, "option '--budget': %g is not in (0, 1e7]", a->budget);
    if (a->seed < 0 || a->seed > 9007199254740991.0 || a->seed != floor(a->seed))
        ar_die(AR_EINPUT, "option '--seed': %g is not a whole number >= 0", a->seed);
    if (a->max_steps < 0 || a->max_steps != floor(a->max_steps))
        ar_die(AR_EINPUT, "option '--max-steps': %g is not a whole number >= 0", a->max_steps);
    if (a->status && !in_list(a->status, ar_card_statuses))
        ar_die(AR_EINPUT, "option '--status': '%s' is not one of keep, discard, crash, "
               "inconclusive, baseline", a->status);
    if (a->category && !in_list(a->category, ar_card_categories))
        ar_die(AR_EINPUT, "option '--category': '%s' is not a card category (see ar-train(1))",
               a->category);
    for (int i = 0; i < a->tags.n; i++) {
        const char *t = a->tags.v[i];
        if (!*t || strlen(t) > 64 || strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != strlen(t))
            ar_die(AR_EINPUT, "option '--tag': '%s' is not of the form [a-z0-9_.-]{1,64}", t);
    }
    if (a->hypothesis && (!*a->hypothesis || strlen(a->hypothesis) > AR_HYPOTHESIS_MAX))
        ar_die(AR_EINPUT, "option '--hypothesis': must be 1 to %d bytes", AR_HYPOTHESIS_MAX);
}

static void parse_eval_args(int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof *a);
    const struct ar_opt opts[] = {
        AR_OPT_STR("init-from", &a->init, "FILE", "the saved weights (required)"),
        AR_OPT_STR("data", &a->data, "DIR", "prepared data ($AR_DATA, else ~/.cache/ar)"),
        AR_OPT_LIST("set", &a->sets, "KEY=VALUE", "override a key of the saved config"),
        AR_OPT_STR("device", &a->device, "D", "auto, cpu or cuda (the saved config's device)"),
        AR_OPT_END,
    };
    ar_opt_parse_none(opts, argc, argv, usage_eval, "eval");
    check_device_option(a->device);
    if (!a->init)
        ar_die(AR_EINPUT, "eval: --init-from FILE is required (see --help)");
}

/* ------------------------------------------------------------------------ */
/* the data: trainer/loader.c behind struct train_data */

static int next_batch(void *ctx, uint16_t *inputs, uint16_t *targets)
{
    loader_next_batch(ctx, inputs, targets);
    return 0;
}

static int val_batch(void *ctx, long i, uint16_t *inputs, uint16_t *targets)
{
    loader_val_batch(ctx, (int)i, inputs, targets);
    return 0;
}

static const char *data_dir(const char *given, char buf[PATH_MAX])
{
    if (given)
        return given;
    const char *env = getenv("AR_DATA");
    if (env && *env)
        return env;
    const char *home = getenv("HOME");
    snprintf(buf, PATH_MAX, "%s/.cache/ar", home && *home ? home : ".");
    return buf;
}

static struct loader *open_data(const char *dir, const struct train_config *cfg, uint64_t seed,
                                struct train_data *d)
{
    struct loader *L = loader_open(dir, cfg->device_batch, cfg->seq_len, seed);
    if (!L)
        return NULL;
    memset(d, 0, sizeof *d);
    d->vocab_size = loader_vocab_size(L);
    d->byte_lens = loader_byte_lens(L);
    d->ctx = L;
    d->next_batch = next_batch;
    d->val_batches = loader_val_batches(L, cfg->eval_tokens);
    d->val_batch = val_batch;
    return L;
}


/* ------------------------------------------------------------------------ */
/* the verdict, after the summary block (man/ar-train.1, "STATUS") */

static void print_verdict(FILE *f, const struct ar_verdict *v, const char *given, const char *id)
{
    if (strcmp(v->status, "crash") == 0)
        return;   /* the summary said so */
    fprintf(f, "status:           %s%s\n", given ? given : v->status, given ? " (given by --status)" : "");
    if (isfinite(v->delta))
        fprintf(f, "delta:            %+.6f (vs %s)\n", v->delta, v->best_id);
    if (v->verify[0]) {
        if (isfinite(v->verify_delta))
            fprintf(f, "verify:           %s with %s (%+.6f)\n", v->verify, v->verified_id, v->verify_delta);
        else
            fprintf(f, "verify:           %s (%s)\n", v->verify, v->verified_id);
    }
    if (strcmp(v->sigma_from, "prior") == 0)
        fprintf(f, "sigma:            %.4f (prior: no replicates on this platform class yet)\n", v->sigma);
    else
        fprintf(f, "sigma:            %.4f (%s)\n", v->sigma, v->sigma_from);
    /* the advice names the card to replicate: this one */
    const char *card = strstr(v->advice, "--verify CARD");
    if (card && id)
        fprintf(f, "advice:           %.*s--verify %s%s\n", (int)(card - v->advice), v->advice, id,
                card + strlen("--verify CARD"));
    else
        fprintf(f, "advice:           %s\n", v->advice);
}

/* ------------------------------------------------------------------------ */
/* commands */

static void load_config(struct train_config *cfg, const struct args *a)
{
    config_defaults(cfg);
    if (config_load_yaml(cfg, a->config ? a->config : "trainer/config.yaml") < 0)
        ar_die_last();
    for (int i = 0; i < a->sets.n; i++)
        if (config_set(cfg, a->sets.v[i]) < 0)
            ar_die_last();
    if (config_check(cfg) < 0)
        ar_die_last();
}

/* autoresearch/TAG -> TAG */
static const char *session_name(const struct args *a, const struct ar_gitinfo *git)
{
    if (a->session)
        return a->session;
    const char *env = getenv("AR_SESSION");
    if (env && *env)
        return env;
    if (git && strncmp(git->branch, "autoresearch/", 13) == 0 && git->branch[13])
        return git->branch + 13;
    return NULL;
}

/* --verify ID: the card's config, budget and category, a new seed, and a
 * warning when the code here is not the card's patch (ar-card checkout). */
static void verify_setup(struct args *a, const struct ar_kb *kb, struct train_config *cfg,
                         const struct ar_patch *patch, char *hyp, size_t hyp_size)
{
    jv card;
    if (ar_card_load(kb, a->verify, &card) != 0)
        ar_die_last();
    jv config = ar_jv_get(card, "config");
    if (jv_get_kind(config) != JV_KIND_OBJECT)
        ar_die(AR_EINPUT, "card %s: has no config to verify", a->verify);
    config_defaults(cfg);
    if (config_from_json(cfg, config) < 0 || config_check(cfg) < 0)   /* consumes config */
        ar_die(AR_EINPUT, "card %s: config: %s", a->verify, ar_last_error());
    if (!a->seed_given)
        a->seed = ar_jv_num(card, "seed", 42) + 1;
    if (!a->budget_given)
        a->budget = ar_jv_num(card, "budget_s", a->budget);
    static char category[32];
    if (!a->category) {
        snprintf(category, sizeof category, "%s", ar_jv_str(card, "category"));
        a->category = category;
    }
    if (!a->hypothesis) {
        snprintf(hyp, hyp_size, "verify %s: %s", a->verify, ar_jv_str(card, "hypothesis"));
        a->hypothesis = hyp;
    }
    jv extra = ar_jv_get(card, "extra");
    jv info = ar_jv_get(extra, "patch");
    const char *want = ar_jv_str(info, "sha256");
    if (want && (!patch || strcmp(want, patch->sha256) != 0))
        ar_warn("the code here is not card %s's patch: run 'ar-card checkout %s' for an exact replication",
                a->verify, a->verify);
    jv_free(info);
    jv_free(extra);
    jv_free(card);
}

/* --queue: claim an entry (heartbeats run in the background) and take its
 * overrides (before the worker's own --set), hypothesis and category, or
 * for a replication its card and seed. */
static struct ar_queue_job *queue_setup(struct args *a)
{
    struct ar_kb kb;
    struct ar_queue_job *job;
    if (ar_kb_open(&kb, a->kb, AR_KB_CREATE) < 0)
        ar_die_last();
    int rc = ar_queue_job_start(&kb, NULL, 0, &job);
    if (rc != 0)
        ar_die(AR_EFAIL, "queue: %s", rc > 0 ? "no pending entry" : ar_last_error());
    jv e = ar_queue_job_entry(job);
    fprintf(stderr, "queue entry %s: %s\n", ar_jv_str(e, "id"), ar_jv_str(e, "hypothesis"));
    if (!a->hypothesis)
        a->hypothesis = ar_jv_str(e, "hypothesis");
    if (!a->category)
        a->category = ar_jv_str(e, "category");
    if (ar_jv_str(e, "verifies")) {
        a->verify = ar_jv_str(e, "verifies");
        double seed = ar_jv_num(e, "seed", -1);
        if (seed >= 0) {
            a->seed = seed;
            a->seed_given = 1;
        }
        return job;
    }
    int n;
    char **sets = ar_queue_job_sets(job, &n);
    a->sets.v = ar_xrealloc(a->sets.v, (size_t)(a->sets.n + n) * sizeof *a->sets.v);
    memmove(a->sets.v + n, a->sets.v, (size_t)a->sets.n * sizeof *a->sets.v);
    for (int i = 0; i < n; i++)
        a->sets.v[i] = sets[i];
    a->sets.n += n;
    a->queue_sets = sets;
    a->nqueue_sets = n;
    return job;
}

/* The config a queue entry's overrides apply to: the file and the worker's
 * own --set (after the entry's in a->sets). */
static int queue_base(const struct args *a, struct train_config *base)
{
    config_defaults(base);
    if (config_load_yaml(base, a->config ? a->config : "trainer/config.yaml") < 0)
        return -1;
    for (int i = a->nqueue_sets; i < a->sets.n; i++)
        if (config_set(base, a->sets.v[i]) < 0)
            return -1;
    return config_check(base);
}

static int cmd_run(int argc, char **argv)
{
    double t_start = train_now();
    struct args a;
    parse_run_args(argc, argv, &a);
    struct ar_queue_job *job = a.queue ? queue_setup(&a) : NULL;
    struct train_config cfg, base;
    int have_base = 0;
    if (!a.verify) {
        load_config(&cfg, &a);
        have_base = job && queue_base(&a, &base) == 0;
        open_device(&cfg, a.device);   /* before the data and the knowledge base */
    }

    struct ar_gitinfo git;
    int have_git = ar_git_info(".", &git) == 0;
    /* a missing dataset fails before the knowledge base is touched */
    char dbuf[PATH_MAX], manifest[PATH_MAX + 16];
    const char *ddir = data_dir(a.data, dbuf);
    snprintf(manifest, sizeof manifest, "%s/manifest.json", ddir);
    if (access(manifest, F_OK) != 0)
        ar_die(AR_EFAIL, "no prepared data in %s; run `ar-train prepare` first", ddir);
    struct ar_kb kb;
    /* the code that runs, against upstream: stored beside the card */
    struct ar_patch patch = {0};
    int have_patch = 0;
    char verify_hyp[AR_HYPOTHESIS_MAX + 1];
    if (!a.no_card) {
        if (!have_git)
            ar_warn("no git commit for the card: %s", ar_last_error());
        if (ar_kb_open(&kb, a.kb, AR_KB_CREATE) < 0)
            ar_die_last();
        if (have_git && !(have_patch = ar_patch_make(".", &patch) == 0))
            ar_warn("no patch recorded: %s", ar_last_error());
        if (a.verify)
            verify_setup(&a, &kb, &cfg, have_patch ? &patch : NULL, verify_hyp, sizeof verify_hyp);
    }

    struct train_data d;
    struct loader *L = open_data(ddir, &cfg, (uint64_t)a.seed, &d);
    if (!L)
        ar_die_last();

    kernels_set_threads(cfg.threads);
    if (a.verify)   /* the card's config is known only now */
        open_device(&cfg, a.device);
    struct gpt *m = gpt_create(&cfg, d.vocab_size, (uint64_t)a.seed);
    if (!m)
        ar_die_last();
    if (a.init && checkpoint_load(a.init, m) < 0)
        ar_die_last();

    struct train_options o = { 0 };
    o.budget_s = a.budget;
    o.progress = a.quiet ? PROGRESS_NONE : isatty(2) ? PROGRESS_BAR : PROGRESS_LINES;
    o.max_steps = (long)a.max_steps;
    char gpu[256] = "";
    if (kernels_device() == K_DEVICE_CUDA) {   /* MFU against the GPU's published peak */
        char cls[64];
        double gpu_mem;
        kernels_gpu_info(gpu, sizeof gpu, &gpu_mem);
        o.peak_flops = train_gpu_peak_flops(gpu, cls, sizeof cls);
        if (o.peak_flops <= 0)
            ar_warn("GPU '%s' (class %s): no published bf16 peak known, so no MFU", gpu, cls);
    } else {
        o.peak_flops = train_measure_peak_gflops() * 1e9;
    }
    o.t_start = t_start;
    /* a signal from here on stops training and records a crash card; a
     * queue worker keeps the queue's rule instead (the entry is released) */
    if (!job)
        train_catch_signals();
    struct train_result r;
    if (train_run(m, &cfg, &d, &o, &r) < 0)
        ar_die_last();
    if (!r.crashed && !a.quiet)
        fprintf(stderr, "evaluating val_bpb on %d validation tokens\n", cfg.eval_tokens);
    if (!r.crashed && train_evaluate(m, &cfg, &d, &r) < 0)
        ar_die_last();
    r.total_seconds = train_now() - t_start;
    r.peak_mem_mb = train_peak_mem_mb();
    if (!a.quiet)
        fprintf(stderr, "throughput: %.0f tok/s, %.1f GFLOP/s, mfu %.2f%% of %.1f GFLOP/s%s, %s\n",
                r.tokens_per_s, r.tokens_per_s * r.flops_per_token / 1e9, r.mfu_percent,
                r.peak_flops / 1e9,
                r.peak_raised ? " (the fastest step's: the start-up sgemm measured less)" : "",
                gpu[0] ? gpu : kernels_blas_info());

    if (a.save && !r.crashed && checkpoint_save(a.save, m, &cfg, d.vocab_size) < 0)
        ar_die_last();

    char id[AR_ID_LEN + 1] = "";
    struct ar_verdict verdict;
    if (!a.no_card) {
        jv extra = jv_object();
        ar_jv_set(&extra, "dirty", jv_bool(!have_git || git.dirty));
        ar_jv_set(&extra, "tokens_per_s", jv_number(round(r.tokens_per_s)));
        ar_jv_set(&extra, "peak_gflops", jv_number(round(r.peak_flops / 1e8) / 10));
        ar_jv_set(&extra, "peak_measured_gflops", jv_number(round(o.peak_flops / 1e8) / 10));
        ar_jv_set(&extra, "peak_from", jv_string(r.peak_raised ? "fastest step"
                                                 : gpu[0] ? "published bf16" : "sgemm"));
        ar_jv_set(&extra, "train_loss", jv_number(round(r.final_loss * 1e6) / 1e6));
        ar_jv_set(&extra, "eval_tokens", jv_number((double)r.val_tokens));
        if (r.crashed)
            ar_jv_set(&extra, "crash", jv_string(r.crash_reason));
        if (a.init)
            ar_jv_set(&extra, "init_from", jv_string(a.init));
        if (a.max_steps > 0)   /* the run may stop short of its budget: then not a replicate */
            ar_jv_set(&extra, "max_steps", jv_number(a.max_steps));
        if (have_patch)
            ar_jv_set(&extra, "patch", ar_patch_info(&patch));
        jv tags = jv_invalid();
        if (a.tags.n) {
            tags = jv_array();
            for (int i = 0; i < a.tags.n; i++)
                tags = jv_array_append(tags, jv_string(a.tags.v[i]));
        }
        struct record rec = {
            .session = session_name(&a, have_git ? &git : NULL),
            .hypothesis = a.hypothesis,
            .category = a.category,
            .status = a.status,
            .verifies = a.verify,
            .tags = tags,
            .git = have_git ? &git : NULL,
            .seed = (uint64_t)a.seed,
            .budget_s = a.budget,
            .cfg = &cfg,
            .base = have_base ? &base : NULL,
            .res = &r,
            .platform = train_platform(kernels_blas_info()),
            .data = loader_card_data(L),
            .extra = extra,
            .verdict = &verdict,
        };
        int rc = record_card(&kb, &rec, id);
        if (rc == 0 && have_patch && ar_patch_store(&kb, id, &patch) < 0)
            rc = -1;
        jv_free(tags);
        if (rc < 0) {
            train_print_summary(stdout, &r, NULL);
            ar_die_last();
        }
        if (job && ar_queue_job_end(job, id, r.crashed ? "training crashed" : NULL) < 0)
            ar_warn("queue: %s", ar_last_error());
    }
    train_print_summary(stdout, &r, id[0] ? id : NULL);
    if (id[0])
        print_verdict(stdout, &verdict, r.crashed ? NULL : a.status, id);
    gpt_free(m);
    loader_free(L);
    ar_strlist_free(&a.tags);
    ar_strlist_free(&a.sets);
    for (int i = 0; i < a.nqueue_sets; i++)
        free(a.queue_sets[i]);
    free(a.queue_sets);
    ar_patch_free(&patch);
    /* stopped by a signal (or one came while recording): 128 + signal */
    int sig = r.signal ? r.signal : (int)train_stop_signal;
    return ar_finish_stdout(sig ? 128 + sig : r.crashed ? AR_EFAIL : AR_OK);
}

static int cmd_eval(int argc, char **argv)
{
    struct args a;
    parse_eval_args(argc, argv, &a);
    struct train_config cfg;
    int vocab;
    if (checkpoint_read_config(a.init, &cfg, &vocab) < 0)
        ar_die_last();
    for (int i = 0; i < a.sets.n; i++)
        if (config_set(&cfg, a.sets.v[i]) < 0)
            ar_die_last();
    if (config_check(&cfg) < 0)
        ar_die_last();
    char dbuf[PATH_MAX];
    struct train_data d;
    struct loader *L = open_data(data_dir(a.data, dbuf), &cfg, 0, &d);
    if (!L)
        ar_die_last();
    if (d.vocab_size != vocab)
        ar_die(AR_EINPUT, "%s: vocabulary of %d tokens, the data has %d", a.init, vocab,
               d.vocab_size);
    kernels_set_threads(cfg.threads);
    open_device(&cfg, a.device);
    struct gpt *m = gpt_create(&cfg, vocab, 0);
    if (!m || checkpoint_load(a.init, m) < 0)
        ar_die_last();
    struct train_result r = { 0 };
    if (train_evaluate(m, &cfg, &d, &r) < 0)
        ar_die_last();
    printf("val_bpb:          %.6f\n", r.val_bpb);
    printf("val_tokens:       %ld\n", r.val_tokens);
    printf("val_scored:       %ld\n", r.val_scored);
    printf("val_bytes:        %.0f\n", r.val_bytes);
    gpt_free(m);
    loader_free(L);
    ar_strlist_free(&a.sets);
    return ar_finish_stdout(AR_OK);
}

/* argv[0] is "prepare" */
static int cmd_prepare(int argc, char **argv)
{
    struct ar_strlist inputs = {0};
    long vocab = PREPARE_DEFAULT_VOCAB;
    double val_frac = PREPARE_DEFAULT_VAL_FRAC;
    const char *data = NULL;
    int json = 0;
    struct ar_opt opts[] = {
        AR_OPT_LIST("input", &inputs, "FILE", "read FILE (.txt, .jsonl, .json) instead of nlp-corpus"),
        AR_OPT_INT("vocab", &vocab, "N", "vocabulary size with 256 bytes and BOS (default 4096, 257-65536)"),
        AR_OPT_NUM("val-frac", &val_frac, "F", "fraction of documents for validation (default 0.1)"),
        AR_OPT_STR("data", &data, "DIR", "data directory (default $AR_DATA or ~/.cache/ar)"),
        AR_OPT_BOOL("json", &json, "print the manifest as one JSON line"),
        AR_OPT_END,
    };
    int npos = ar_opt_parse(opts, argc, argv, usage_prepare);
    if (npos > 0)       /* positionals are moved to argv[0..npos) */
        ar_die(AR_EINPUT, "prepare: unexpected argument '%s' (see --help)", argv[0]);
    if (vocab < TOKENIZER_MIN_VOCAB || vocab > TOKENIZER_MAX_VOCAB)
        ar_die(AR_EINPUT, "prepare: --vocab %ld is out of range [%d, %d]", vocab,
               TOKENIZER_MIN_VOCAB, TOKENIZER_MAX_VOCAB);
    if (!(val_frac > 0 && val_frac < 1))
        ar_die(AR_EINPUT, "prepare: --val-frac %g is out of range (0, 1)", val_frac);
    char dir[PATH_MAX];
    if (data) {
        if (snprintf(dir, sizeof dir, "%s", data) >= (int)sizeof dir)
            ar_die(AR_EINPUT, "prepare: --data: path too long");
    } else if (corpus_data_dir(dir, sizeof dir) < 0) {
        ar_die_last();
    }
    struct prepare_options o = {
        .inputs = inputs.v,
        .n_inputs = inputs.n,
        .vocab = (int)vocab,
        .val_frac = val_frac,
        .data_dir = dir,
        .json = json,
        .report = stdout,
        .progress = isatty(2),
    };
    int rc = prepare_run(&o);
    ar_strlist_free(&inputs);
    if (rc < 0) {
        ar_fail_prefix("prepare");
        ar_die_last();
    }
    return ar_finish_stdout(AR_OK);
}

int main(int argc, char **argv)
{
    ar_set_prog(argv[0]);
    if (argc > 1 && strcmp(argv[1], "prepare") == 0)
        return cmd_prepare(argc - 1, argv + 1);
    int help = 0;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") || !strcmp(argv[i], "--keys"))
            help = 1;
    if (!help && kernels_init(argv) < 0)   /* before any thread: may re-exec */
        ar_die_last();
    if (argc > 1 && strcmp(argv[1], "eval") == 0)
        return cmd_eval(argc - 1, argv + 1);
    return cmd_run(argc, argv);
}

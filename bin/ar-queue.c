/* ar-queue: the director's locked experiment queue. Add (one entry, a
 * grid, a replication), claim, heartbeat, done, fail, release, cancel,
 * status, show, plan and SkyPilot export. A thin front end over
 * lib/queue (queue.h, grid.h) and lib/analysis/suggest.h; `--set` keys are
 * checked against the config key table (facts/config_keys.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "facts/card.h"
#include "base/cli.h"
#include "facts/config_keys.h"
#include "base/err.h"
#include "base/json.h"
#include "facts/kb.h"
#include "base/opt.h"
#include "analysis/plan_pass.h"
#include "analysis/suggest.h"
#include "host/platform.h"
#include "queue/grid.h"
#include "queue/queue.h"
#include "facts/schema.h"
#include "queue/skypilot.h"
#include "sync/sync.h"

static const char *kb_dir;        /* --kb */
static int json_out;              /* --json of status, show and plan */
static double lock_timeout = -1;  /* --lock-timeout, seconds */
static double stale_min = 0;      /* --stale, minutes */

#define OPT_COMMON                                                                        \
    AR_OPT_STR("kb", &kb_dir, "DIR", "knowledge base (default $AR_KB or ./knowledge)"),   \
    AR_OPT_NUM("lock-timeout", &lock_timeout, "S", "wait at most S seconds for the lock (default 10)"), \
    AR_OPT_NUM("stale", &stale_min, "MIN", "claims without heartbeat for MIN minutes go back (default 15)")

static struct ar_queue *open_queue(struct ar_kb *kb, int flags)
{
    if (ar_opt_given(NULL, &lock_timeout) && lock_timeout < 0)
        ar_die(AR_EINPUT, "option '--lock-timeout': must not be negative");
    if (stale_min < 0)
        ar_die(AR_EINPUT, "option '--stale': must not be negative");
    if (ar_kb_open(kb, kb_dir, flags) != 0)
        ar_die_last();
    return ar_queue_open(kb, lock_timeout, stale_min * 60.0);
}

/* Closes the queue at the end of a command that went well. */
static int finish(struct ar_queue *q)
{
    ar_queue_close(q);
    return AR_OK;
}

static void print_json(jv v, int flags)
{
    char *s = ar_json_dump(v, flags);
    puts(s);
    free(s);
}

/* ----------------------------------------------------------------- add */

static const char usage_add[] =
    "usage: ar-queue add --hypothesis TEXT --category C [--priority 1-9] [--set KEY=VALUE ...]\n"
    "       ar-queue add --replicate CARD [--hypothesis TEXT] [--priority 1-9]\n"
    "\n"
    "Adds an entry and prints its id. Priority 1 runs first, 9 last (default 5).\n"
    "An entry with the same normalised hypothesis and overrides as a pending,\n"
    "claimed or done entry is refused unless --force is given. --replicate\n"
    "queues a re-run of that card's full config with a new seed (a verification).\n";

/* The fields of an entry that add and grid take. */
struct entry_opts {
    const char *hyp, *cat;
    double priority;
    int force;
    struct ar_strlist sets;
};

#define OPT_ENTRY(e, what, cat_help, set_arg, set_help, force_help)                    \
    AR_OPT_STR("hypothesis", &(e).hyp, "TEXT", what),                                  \
    AR_OPT_STR("category", &(e).cat, "C", cat_help),                                   \
    AR_OPT_NUM("priority", &(e).priority, "1-9", "1 runs first, 9 last (default 5)"),  \
    AR_OPT_LIST("set", &(e).sets, set_arg, set_help),                                  \
    AR_OPT_BOOL("force", &(e).force, force_help)

/* Unless ok: the help when none of the entry's fields was given (some == 0),
 * else the message; both exit 2. */
static void entry_needs(const struct ar_opt *opts, const char *usage, int ok, int some, const char *msg)
{
    if (ok)
        return;
    if (some)
        ar_die(AR_EINPUT, "%s", msg);
    ar_opt_help(opts, usage, 1);
    exit(ar_finish_stdout(AR_EINPUT));
}

static struct entry_opts new_entry;   /* add, grid */
static const char *replicate;         /* add --replicate */

static void check_priority(const struct ar_opt *opts, double *priority)
{
    if (!ar_opt_given(opts, priority))
        *priority = AR_QUEUE_PRIORITY_DEFAULT;
    else if (!(*priority >= 1 && *priority <= 9 && *priority == floor(*priority)))
        ar_die(AR_EINPUT, "option '--priority': %g is not an integer from 1 to 9", *priority);
}

static const struct ar_opt add_opts[] = {
    OPT_ENTRY(new_entry, "what the experiment tests", "architecture, optimizer, hyperparameter, ...",
              "KEY=VALUE", "a config override (see ar-train --keys)",
              "add even when it duplicates an entry"),
    AR_OPT_STR("replicate", &replicate, "CARD", "re-run this card's config with a new seed"),
    OPT_COMMON,
    AR_OPT_END,
};

static int run_add(int nargs, char **args)
{
    (void)nargs, (void)args;
    entry_needs(add_opts, usage_add, replicate || (new_entry.hyp && new_entry.cat),
                new_entry.hyp || new_entry.cat || new_entry.sets.n,
                "add: --hypothesis and --category are required");
    if (replicate && new_entry.sets.n)
        ar_die(AR_EINPUT, "add: --set does not go with --replicate (a replication runs the card's config)");
    check_priority(add_opts, &new_entry.priority);
    jv fields;
    struct ar_kb kb;
    struct ar_queue *q;
    if (replicate) {
        jv id = jv_string(replicate);
        if (ar_check_id(id, "replicate") != 0)
            ar_die_last();
        jv_free(id);
        q = open_queue(&kb, 0);
        jv entries;
        if (ar_queue_list(q, &entries) != 0)
            ar_die_last();
        fields = ar_replicate_fields(&kb, entries, replicate, new_entry.hyp, new_entry.cat);
        jv_free(entries);
        if (!jv_is_valid(fields))
            ar_die_last();
    } else {
        jv ov;
        if (ar_set_overrides(new_entry.sets.v, new_entry.sets.n, &ov) != 0)
            ar_die_last();
        fields = jv_object();
        ar_jv_set(&fields, "hypothesis", jv_string(new_entry.hyp));
        ar_jv_set(&fields, "category", jv_string(new_entry.cat));
        ar_jv_set(&fields, "overrides", ov);
        q = open_queue(&kb, AR_KB_CREATE);
    }
    ar_jv_set(&fields, "priority", jv_number(new_entry.priority));
    ar_strlist_free(&new_entry.sets);
    jv ids;
    if (ar_queue_add(q, &fields, 1, new_entry.force, &ids) != 0)
        ar_die_last();
    jv_free(fields);
    jv id = jv_array_get(ids, 0);
    puts(jv_string_value(id));
    jv_free(id);
    return finish(q);
}

static const struct ar_subcmd add_cmd = {
    .name = "add", .summary = "add an entry (or a replication of a card)",
    .opts = add_opts, .usage = usage_add, .min = 0, .max = 0, .run = run_add,
};

/* ---------------------------------------------------------------- grid */

static const char usage_grid[] =
    "usage: ar-queue grid --hypothesis TEXT --category C --set KEY=V1,V2,... [--set ...]\n\n"
    "Adds the factorial product of the values as entries (all or none) and\n"
    "prints one line per entry: its id and its overrides.\n";

static const struct ar_opt grid_opts[] = {
    OPT_ENTRY(new_entry, "what the sweep tests", "category (default hyperparameter)", "KEY=V1,V2",
              "a config key and its values", "add even when entries duplicate others"),
    OPT_COMMON,
    AR_OPT_END,
};

static int run_grid(int nargs, char **args)
{
    (void)nargs, (void)args;
    entry_needs(grid_opts, usage_grid, new_entry.hyp && new_entry.sets.n, new_entry.hyp || new_entry.sets.n,
                "grid: --hypothesis and at least one --set are required");
    check_priority(grid_opts, &new_entry.priority);
    jv base = jv_object(), fields, keys;
    ar_jv_set(&base, "hypothesis", jv_string(new_entry.hyp));
    ar_jv_set(&base, "category", jv_string(new_entry.cat ? new_entry.cat : "hyperparameter"));
    ar_jv_set(&base, "priority", jv_number(new_entry.priority));
    int rc = ar_grid_entries(new_entry.sets.v, new_entry.sets.n, base, &fields, &keys);
    jv_free(base);
    ar_strlist_free(&new_entry.sets);
    if (rc != 0)
        ar_die_last();
    size_t n = (size_t)jv_array_length(jv_copy(fields));
    jv *batch = ar_xmalloc(n * sizeof *batch);
    for (size_t i = 0; i < n; i++)
        batch[i] = jv_array_get(jv_copy(fields), (int)i);
    jv_free(fields);
    struct ar_kb kb;
    struct ar_queue *q = open_queue(&kb, AR_KB_CREATE);
    jv ids;
    if (ar_queue_add(q, batch, n, new_entry.force, &ids) != 0)
        ar_die_last();
    for (size_t i = 0; i < n; i++) {
        jv id = jv_array_get(jv_copy(ids), (int)i);
        jv ov = ar_jv_get(batch[i], "overrides");
        printf("%s", jv_string_value(id));
        jv_array_foreach(keys, a, key) {
            (void)a;
            char text[256];
            jv v = ar_jv_get(ov, jv_string_value(key));
            ar_config_value_text(v, text, sizeof text);
            printf(" %s=%s", jv_string_value(key), text);
            jv_free(v);
            jv_free(key);
        }
        putchar('\n');
        jv_free(ov);
        jv_free(id);
        jv_free(batch[i]);
    }
    free(batch);
    jv_free(ids);
    jv_free(keys);
    return finish(q);
}

static const struct ar_subcmd grid_cmd = {
    .name = "grid", .summary = "add the factorial product of config values",
    .opts = grid_opts, .usage = usage_grid, .min = 0, .max = 0, .run = run_grid,
};

/* ------------------------------------------------------- claim and co. */

static const char *worker;   /* claim --worker */

static int run_claim(int nargs, char **args)
{
    (void)nargs, (void)args;
    struct ar_kb kb;
    struct ar_queue *q = open_queue(&kb, 0);
    jv entry;
    int rc = ar_queue_claim(q, worker, &entry);
    if (rc < 0)
        ar_die_last();
    if (rc == 1)
        ar_die(AR_EFAIL, "no pending entry");
    print_json(entry, AR_JSON_COMPACT);
    jv_free(entry);
    return finish(q);
}

static const struct ar_subcmd claim_cmd = {
    .name = "claim", .summary = "take the best pending entry; print it as JSON",
    .opts = (const struct ar_opt[]){
        AR_OPT_STR("worker", &worker, "ID", "who claims (default $AR_AGENT or user@host)"),
        OPT_COMMON, AR_OPT_END},
    .min = 0, .max = 0, .run = run_claim,
    .usage = "usage: ar-queue claim [--worker ID]\n\n"
             "Takes the best pending entry (lowest priority number, then oldest) and\n"
             "prints it as one JSON line. Exits 1 when nothing is pending.\n",
};

/* heartbeat, fail, release, cancel: an id and at most one option */
static int one_entry(int argc, char **argv, const char *usage, const char *optname,
                     const char *arg, const char *help, int required,
                     int (*fn)(struct ar_queue *, const char *, const char *))
{
    const char *name = argv[0], *value = NULL;
    struct ar_opt opts[] = {
        AR_OPT_STR(optname, &value, arg, help),
        OPT_COMMON,
        AR_OPT_END,
    };
    opts[0].required = required;
    ar_opt_parse_n(opts + (optname ? 0 : 1), argc, argv, usage, name, 1, 1);
    struct ar_kb kb;
    struct ar_queue *q = open_queue(&kb, 0);
    if (fn(q, argv[0], value) != 0)
        ar_die_last();
    return finish(q);
}

static int do_heartbeat(struct ar_queue *q, const char *id, const char *v)
{
    return ar_queue_heartbeat(q, id, v);
}

static int do_fail(struct ar_queue *q, const char *id, const char *v)
{
    return ar_queue_fail(q, id, v);
}

static int do_release(struct ar_queue *q, const char *id, const char *v)
{
    (void)v;
    return ar_queue_release(q, id);
}

static int do_cancel(struct ar_queue *q, const char *id, const char *v)
{
    return ar_queue_cancel(q, id, v);
}

static int cmd_heartbeat(int argc, char **argv)
{
    return one_entry(argc, argv,
                     "usage: ar-queue heartbeat ID [--worker ID]\n\n"
                     "Tells the queue that the claim's owner is alive.\n",
                     "worker", "ID", "fail unless this worker holds the claim", 0, do_heartbeat);
}

static int cmd_fail(int argc, char **argv)
{
    return one_entry(argc, argv,
                     "usage: ar-queue fail ID --reason TEXT\n\n"
                     "Marks a pending or claimed entry failed.\n",
                     "reason", "TEXT", "why it failed (required)", 1, do_fail);
}

static int cmd_release(int argc, char **argv)
{
    return one_entry(argc, argv,
                     "usage: ar-queue release ID\n\n"
                     "Returns a claimed entry to pending; the claim is not counted as an attempt.\n",
                     NULL, NULL, NULL, 0, do_release);
}

static int cmd_cancel(int argc, char **argv)
{
    return one_entry(argc, argv,
                     "usage: ar-queue cancel ID [--reason TEXT]\n\n"
                     "Withdraws a pending or claimed entry.\n",
                     "reason", "TEXT", "why it was withdrawn", 0, do_cancel);
}

static const char *card;   /* done --card */

static int run_done(int n, char **ids)
{
    (void)n;
    jv cid = jv_string(card);
    if (ar_check_id(cid, "card") != 0)
        ar_die_last();
    jv_free(cid);
    struct ar_kb kb;
    struct ar_queue *q = open_queue(&kb, 0);
    char path[PATH_MAX];
    if (access(ar_kb_card_path(&kb, card, path), F_OK) != 0)
        ar_die(AR_EINPUT, "card %s: not found", card);
    if (ar_queue_done(q, ids[0], card) != 0)
        ar_die_last();
    return finish(q);
}

static const struct ar_subcmd done_cmd = {
    .name = "done", .summary = "mark an entry done with its card",
    .opts = (const struct ar_opt[]){
        AR_OPT_STR_REQ("card", &card, "CARD", "the card that records the run (required)"),
        OPT_COMMON, AR_OPT_END},
    .min = 1, .max = 1, .run = run_done,
    .usage = "usage: ar-queue done ID --card CARD\n\n"
             "Marks a pending or claimed entry done with the card of its run.\n",
};

/* ------------------------------------------------------- status, show */

static void print_row(jv e)
{
    const char *who = ar_jv_str(e, "claimed_by");
    char ov[512] = "";
    size_t used = 0;
    jv o = ar_jv_get(e, "overrides");
    jv_object_foreach(o, k, v) {
        char text[128];
        ar_config_value_text(v, text, sizeof text);
        if (used < sizeof ov)
            used += (size_t)snprintf(ov + used, sizeof ov - used, "%s%s=%s", used ? " " : "",
                                     jv_string_value(k), text);
        jv_free(k);
        jv_free(v);
    }
    jv_free(o);
    if (used >= sizeof ov)
        memcpy(ov + sizeof ov - 4, "...", 4);
    const char *hyp = ar_jv_str(e, "hypothesis");
    printf("%-29s  %-9s %3g %3g  %-16.16s  %.60s%s%s\n", ar_jv_str(e, "id"),
           ar_jv_str(e, "status"), ar_jv_num(e, "priority", 0), ar_jv_num(e, "attempts", 0),
           who ? who : "-", hyp ? hyp : "", ov[0] ? "  " : "", ov);
}

/* Table order: claimed, then pending in the order claims take them, then
 * the rest by id. */
static int status_rank(jv e)
{
    const char *st = ar_jv_str(e, "status");
    return !strcmp(st, "claimed") ? 0 : !strcmp(st, "pending") ? 1 : 2;
}

static int cmp_rows(const void *a, const void *b)
{
    jv x = *(const jv *)a, y = *(const jv *)b;
    int rx = status_rank(x), ry = status_rank(y);
    if (rx != ry)
        return rx - ry;
    if (rx == 1) {
        double px = ar_jv_num(x, "priority", 5), py = ar_jv_num(y, "priority", 5);
        if (px != py)
            return px < py ? -1 : 1;
        int c = strcmp(ar_jv_str(x, "created"), ar_jv_str(y, "created"));
        if (c)
            return c;
    }
    return strcmp(ar_jv_str(x, "id"), ar_jv_str(y, "id"));
}

static int all;   /* status --all */

static int run_status(int nargs, char **args)
{
    (void)nargs, (void)args;
    struct ar_kb kb;
    struct ar_queue *q = open_queue(&kb, 0);
    jv status;
    if (ar_queue_status(q, all, &status) != 0)
        ar_die_last();
    ar_queue_close(q);
    if (json_out) {
        print_json(status, AR_JSON_COMPACT);
        jv_free(status);
        return AR_OK;
    }
    jv counts = ar_jv_get(status, "counts"), shown = ar_jv_get(status, "entries");
    jv_free(status);
    for (int i = 0; ar_queue_statuses[i]; i++)
        printf("%s%s %g", i ? "  " : "", ar_queue_statuses[i],
               ar_jv_num(counts, ar_queue_statuses[i], 0));
    putchar('\n');
    int n = jv_array_length(jv_copy(shown));
    if (n > 0) {
        jv *rows = ar_xmalloc((size_t)n * sizeof *rows);
        for (int i = 0; i < n; i++)
            rows[i] = jv_array_get(jv_copy(shown), i);
        qsort(rows, (size_t)n, sizeof *rows, cmp_rows);
        printf("\n%-29s  %-9s %3s %3s  %-16s  %s\n", "ID", "STATUS", "PRI", "TRY", "WORKER",
               "HYPOTHESIS  OVERRIDES");
        for (int i = 0; i < n; i++) {
            print_row(rows[i]);
            jv_free(rows[i]);
        }
        free(rows);
    }
    jv_free(counts);
    jv_free(shown);
    return AR_OK;
}

static const struct ar_subcmd status_cmd = {
    .name = "status", .summary = "counts and a table of entries",
    .opts = (const struct ar_opt[]){AR_OPT_BOOL("all", &all, "list entries in every status"),
        AR_OPT_BOOL("json", &json_out, "one JSON object {counts, entries}"), OPT_COMMON, AR_OPT_END},
    .min = 0, .max = 0, .run = run_status,
    .usage = "usage: ar-queue status [--all] [--json]\n\n"
             "Prints the count of entries in each status and a table of the claimed\n"
             "and pending ones, pending in the order claims will take them (--all:\n"
             "every entry). --json prints one object {counts, entries (id order)}.\n",
};

static int run_show(int n, char **ids)
{
    struct ar_kb kb;
    struct ar_queue *q = open_queue(&kb, 0);
    for (int i = 0; i < n; i++) {
        jv entry;
        if (ar_queue_get(q, ids[i], &entry) != 0)
            ar_die_last();
        print_json(entry, json_out ? AR_JSON_COMPACT : AR_JSON_PRETTY);
        jv_free(entry);
    }
    return finish(q);
}

static const struct ar_subcmd show_cmd = {
    .name = "show", .summary = "print entries as JSON",
    .opts = (const struct ar_opt[]){AR_OPT_BOOL("json", &json_out, "one compact JSON line per entry"),
        OPT_COMMON, AR_OPT_END},
    .min = 1, .max = AR_OPT_ANY, .run = run_show,
    .usage = "usage: ar-queue show [--json] ID...\n\n"
             "Prints each entry as JSON.\n",
};

/* ---------------------------------------------------------------- plan */

static void print_suggestion(int i, jv s)
{
    printf("%d. [%s, priority %g] %s\n", i, ar_jv_str(s, "kind"), ar_jv_num(s, "priority", 0),
           ar_jv_str(s, "hypothesis"));
    jv ov = ar_jv_get(s, "overrides");
    if (!ar_jv_has(s, "replicate") && jv_object_length(jv_copy(ov)) > 0) {
        printf("   set:");
        jv_object_foreach(ov, k, v) {
            char text[256];
            ar_config_value_text(v, text, sizeof text);
            printf(" %s=%s", jv_string_value(k), text);
            jv_free(k);
            jv_free(v);
        }
        putchar('\n');
    }
    jv_free(ov);
    printf("   why: %s\n", ar_jv_str(s, "reason"));
    jv cards = ar_jv_get(s, "cards");
    if (jv_array_length(jv_copy(cards)) > 0) {
        printf("   cards:");
        jv_array_foreach(cards, k, c) {
            (void)k;
            printf(" %s", jv_string_value(c));
            jv_free(c);
        }
        putchar('\n');
    }
    jv_free(cards);
}

static int apply;
static long max = 10;
static const char *platform, *config_file;

static int run_plan(int nargs, char **args)
{
    (void)nargs, (void)args;
    if (max < 0)
        ar_die(AR_EINPUT, "option '--max': %ld is negative", max);
    jv config;
    if (ar_suggest_config(config_file, &config) != 0)
        ar_die_last();
    jv detected;
    static char cls[80];
    int asked = platform != NULL;
    if (!(platform = ar_plan_platform(platform, "--platform", cls, sizeof cls, &detected)))
        ar_die_last();
    struct ar_kb kb;
    struct ar_queue *q = open_queue(&kb, 0);
    jv entries;
    if (ar_queue_list(q, &entries) != 0)
        ar_die_last();
    /* every suggestion; --max counts the new ones only */
    struct ar_plan_queue pq = {ar_queue_duplicate_of, ar_queue_add_one, q};
    struct ar_plan_pass pass;
    if (ar_plan_pass_run(&kb, platform, asked, config, &entries, max, apply, &pq, &pass) != 0)
        ar_die_last();
    int number = 0;
    jv_array_foreach(pass.items, i, s) {
        enum ar_plan_kind kind = pass.kinds[i];
        if (json_out)
            print_json(s, AR_JSON_COMPACT);
        else if (kind == AR_PLAN_NEW && apply)
            printf("%s  %s  %s\n", ar_jv_str(s, "queued"), ar_jv_str(s, "kind"), ar_jv_str(s, "hypothesis"));
        else if (kind == AR_PLAN_NEW)
            print_suggestion(++number, s);
        else if (kind == AR_PLAN_ADVICE) {
            print_suggestion(++number, s);
            printf("   advice only (not queueable here: %s)\n", ar_jv_str(s, "skipped"));
        }
        jv_free(s);
    }
    if (!json_out) {
        if (apply)
            printf("queued %d suggestion%s", pass.added, pass.added == 1 ? "" : "s");
        else
            printf(pass.fresh ? "%d suggestion%s" : "nothing new to suggest", pass.fresh, pass.fresh == 1 ? "" : "s");
        if (pass.queued || pass.advice)
            printf(" (%d already queued, %d advice only)", pass.queued, pass.advice);
        putchar('\n');
    }
    ar_plan_pass_free(&pass);
    jv_free(entries);
    jv_free(config);
    jv_free(detected);
    return finish(q);
}

static const struct ar_subcmd plan_cmd = {
    .name = "plan", .summary = "suggest experiments from the findings (--apply queues them)",
    .opts = (const struct ar_opt[]){AR_OPT_BOOL("apply", &apply, "add the suggestions to the queue"),
        AR_OPT_INT("max", &max, "N", "at most N suggestions (default 10; 0: all)"),
        AR_OPT_BOOL("json", &json_out, "one JSON line per suggestion"),
        AR_OPT_STR("platform", &platform, "CLASS", "this platform class (default: detected)"),
        AR_OPT_STR("config", &config_file, "FILE", "the current config (default trainer/config.yaml)"),
        OPT_COMMON, AR_OPT_END},
    .min = 0, .max = 0, .run = run_plan,
    .usage = "usage: ar-queue plan [--apply] [--max N] [--json] [--platform CLASS] [--config FILE]\n\n"
             "Suggests experiments from the findings, coverage and noise floors, each\n"
             "with its reason and the cards behind it (see ar-queue(1), PLAN): noise\n"
             "floor replicates, replications of tentative claims with large effects,\n"
             "platform-specific claims on this platform class, the best confirmed\n"
             "changes stacked, and under-explored categories and config keys. On a class\n"
             "of imported cards (another trainer) stack and explore start from its best\n"
             "card's configuration. Without --apply it only prints; --apply adds each\n"
             "suggestion that is not queued yet. One that cannot run here (another class,\n"
             "another trainer's card or configuration, values the trainer refuses) is\n"
             "printed as advice only and never queued.\n",
};

/* -------------------------------------------------------------- export */

static const char *dir, *gpu, *remote;   /* export --skypilot, --gpu, --remote */

static int run_export(int nargs, char **args)
{
    (void)nargs, (void)args;
    if (gpu && !ar_skypilot_gpu_valid(gpu))
        ar_die(AR_EINPUT, "option '--gpu': '%s' is not of the form TYPE[:COUNT] (H100:1)", gpu);
    struct ar_kb kb;
    struct ar_queue *q = open_queue(&kb, 0);
    jv entries;
    if (ar_queue_list(q, &entries) != 0)
        ar_die_last();
    ar_queue_close(q);
    /* the remote the tasks push their cards through: knowledge/ does not
     * travel with the workdir (lib/queue/skypilot.c) */
    struct ar_sync_status sst;
    if (!remote && ar_sync_status(&kb, NULL, 0, &sst) == 0 && sst.url[0])
        remote = sst.url;
    if (ar_mkdir(dir) != 0)
        ar_die_last();
    int n = 0;
    jv_array_foreach(entries, i, e) {
        (void)i;
        const char *st = ar_jv_str(e, "status");
        if (st && strcmp(st, "pending") == 0) {
            struct ar_buf yaml = {0};
            char path[PATH_MAX];
            if (snprintf(path, sizeof path, "%s/%s.yaml", dir, ar_jv_str(e, "id")) >= (int)sizeof path)
                ar_die(AR_EINPUT, "%s: path too long", dir);
            if (ar_skypilot_task_remote(e, gpu, remote, &yaml) != 0 || ar_write_atomic(path, yaml.data, yaml.len) != 0)
                ar_die_last();
            puts(path);
            ar_buf_free(&yaml);
            n++;
        }
        jv_free(e);
    }
    jv_free(entries);
    if (n == 0)
        ar_warn("no pending entry to export");
    else if (!remote || !*remote)
        ar_warn("the knowledge base has no git remote: the tasks stop before training, as their cards "
                "could not return (ar-sync init --remote URL, or --remote URL)");
    return AR_OK;
}

static const struct ar_subcmd export_cmd = {
    .name = "export", .summary = "write a SkyPilot task per pending entry",
    .opts = (const struct ar_opt[]){
        AR_OPT_STR_REQ("skypilot", &dir, "DIR", "where to write the task files (required)"),
        AR_OPT_STR("gpu", &gpu, "TYPE:N", "accelerators of each task, e.g. H100:1 (default: a CPU task)"),
        AR_OPT_STR("remote", &remote, "URL", "the knowledge base's git remote for the tasks (default: its origin)"),
        OPT_COMMON, AR_OPT_END},
    .min = 0, .max = 0, .run = run_export,
    .usage = "usage: ar-queue export --skypilot DIR [--gpu TYPE:N] [--remote URL]\n\n"
             "Writes one SkyPilot task YAML per pending entry, DIR/<entry id>.yaml, that\n"
             "builds ar, prepares the data if needed, clones the knowledge base from its\n"
             "git remote (knowledge/ is gitignored and SkyPilot does not upload it), runs\n"
             "ar-train with the entry's overrides and pushes the card back through the\n"
             "remote with ar-sync, and prints the paths. Launch them with\n"
             "`sky launch DIR/<id>.yaml` or `sky jobs launch`. Exported entries stay\n"
             "pending here: cancel them, or export from a queue of their own.\n",
};

/* ---------------------------------------------------------------- main */

static const struct ar_subcmd *const commands[] = {
    &add_cmd,
    &grid_cmd,
    &claim_cmd,
    &(const struct ar_subcmd){.name = "heartbeat", .summary = "say a claim is alive", .fn = cmd_heartbeat},
    &done_cmd,
    &(const struct ar_subcmd){.name = "fail", .summary = "mark an entry failed with a reason",
                              .fn = cmd_fail},
    &(const struct ar_subcmd){.name = "release", .summary = "return a claimed entry to pending",
                              .fn = cmd_release},
    &(const struct ar_subcmd){.name = "cancel", .summary = "withdraw an entry", .fn = cmd_cancel},
    &status_cmd,
    &show_cmd,
    &plan_cmd,
    &export_cmd,
    NULL,
};

int main(int argc, char **argv)
{
    ar_set_prog(argv[0]);
    return ar_cli_run(commands, argc, argv,
                      "usage: ar-queue COMMAND [OPTIONS]\n\n"
                      "The experiment queue of a knowledge base: a director adds entries,\n"
                      "workers claim them, run them and mark them done. Every change is taken\n"
                      "under a lock and written crash-safely; stale claims return to pending.\n");
}

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
#include "analysis/suggest.h"
#include "host/platform.h"
#include "queue/grid.h"
#include "queue/queue.h"
#include "facts/schema.h"
#include "queue/skypilot.h"

static const char *kb_dir;        /* --kb */
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

static void check_priority(const struct ar_opt *opts, double *priority)
{
    if (!ar_opt_given(opts, priority))
        *priority = AR_QUEUE_PRIORITY_DEFAULT;
    else if (!(*priority >= 1 && *priority <= 9 && *priority == floor(*priority)))
        ar_die(AR_EINPUT, "option '--priority': %g is not an integer from 1 to 9", *priority);
}

static int cmd_add(int argc, char **argv)
{
    const char *replicate = NULL;
    struct entry_opts e = {0};
    struct ar_opt opts[] = {
        OPT_ENTRY(e, "what the experiment tests", "architecture, optimizer, hyperparameter, ...",
                  "KEY=VALUE", "a config override (see ar-train --keys)",
                  "add even when it duplicates an entry"),
        AR_OPT_STR("replicate", &replicate, "CARD", "re-run this card's config with a new seed"),
        OPT_COMMON,
        AR_OPT_END,
    };
    ar_opt_parse_none(opts, argc, argv, usage_add, "add");
    const char *hyp = e.hyp, *cat = e.cat;
    int force = e.force;
    struct ar_strlist sets = e.sets;
    entry_needs(opts, usage_add, replicate || (hyp && cat), hyp || cat || sets.n,
                "add: --hypothesis and --category are required");
    if (replicate && sets.n)
        ar_die(AR_EINPUT, "add: --set does not go with --replicate (a replication runs the card's config)");
    check_priority(opts, &e.priority);
    double priority = e.priority;
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
        fields = ar_replicate_fields(&kb, entries, replicate, hyp, cat);
        jv_free(entries);
        if (!jv_is_valid(fields))
            ar_die_last();
    } else {
        jv ov;
        if (ar_set_overrides(sets.v, sets.n, &ov) != 0)
            ar_die_last();
        fields = jv_object();
        ar_jv_set(&fields, "hypothesis", jv_string(hyp));
        ar_jv_set(&fields, "category", jv_string(cat));
        ar_jv_set(&fields, "overrides", ov);
        q = open_queue(&kb, AR_KB_CREATE);
    }
    ar_jv_set(&fields, "priority", jv_number(priority));
    ar_strlist_free(&sets);
    jv ids;
    if (ar_queue_add(q, &fields, 1, force, &ids) != 0)
        ar_die_last();
    jv_free(fields);
    jv id = jv_array_get(ids, 0);
    puts(jv_string_value(id));
    jv_free(id);
    ar_queue_close(q);
    return AR_OK;
}

/* ---------------------------------------------------------------- grid */

static const char usage_grid[] =
    "usage: ar-queue grid --hypothesis TEXT --category C --set KEY=V1,V2,... [--set ...]\n"
    "\n"
    "Adds the factorial product of the values as entries (all or none) and\n"
    "prints one line per entry: its id and its overrides.\n";

static int cmd_grid(int argc, char **argv)
{
    struct entry_opts e = {0};
    struct ar_opt opts[] = {
        OPT_ENTRY(e, "what the sweep tests", "category (default hyperparameter)", "KEY=V1,V2",
                  "a config key and its values", "add even when entries duplicate others"),
        OPT_COMMON,
        AR_OPT_END,
    };
    ar_opt_parse_none(opts, argc, argv, usage_grid, "grid");
    const char *hyp = e.hyp, *cat = e.cat;
    int force = e.force;
    struct ar_strlist sets = e.sets;
    entry_needs(opts, usage_grid, hyp && sets.n, hyp || sets.n,
                "grid: --hypothesis and at least one --set are required");
    check_priority(opts, &e.priority);
    double priority = e.priority;
    jv base = jv_object(), fields, keys;
    ar_jv_set(&base, "hypothesis", jv_string(hyp));
    ar_jv_set(&base, "category", jv_string(cat ? cat : "hyperparameter"));
    ar_jv_set(&base, "priority", jv_number(priority));
    int rc = ar_grid_entries(sets.v, sets.n, base, &fields, &keys);
    jv_free(base);
    ar_strlist_free(&sets);
    if (rc != 0)
        ar_die_last();
    size_t n = (size_t)jv_array_length(jv_copy(fields));
    jv *batch = ar_xmalloc(n * sizeof *batch);
    for (size_t i = 0; i < n; i++)
        batch[i] = jv_array_get(jv_copy(fields), (int)i);
    struct ar_kb kb;
    struct ar_queue *q = open_queue(&kb, AR_KB_CREATE);
    jv ids;
    if (ar_queue_add(q, batch, n, force, &ids) != 0)
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
    jv_free(fields);
    jv_free(keys);
    ar_queue_close(q);
    return AR_OK;
}

/* ------------------------------------------------------- claim and co. */

static const char usage_claim[] =
    "usage: ar-queue claim [--worker ID]\n"
    "\n"
    "Takes the best pending entry (lowest priority number, then oldest) and\n"
    "prints it as one JSON line. Exits 1 when nothing is pending.\n";

static int cmd_claim(int argc, char **argv)
{
    const char *worker = NULL;
    struct ar_opt opts[] = {
        AR_OPT_STR("worker", &worker, "ID", "who claims (default $AR_AGENT or user@host)"),
        OPT_COMMON,
        AR_OPT_END,
    };
    ar_opt_parse_none(opts, argc, argv, usage_claim, "claim");
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
    ar_queue_close(q);
    return AR_OK;
}

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
    ar_queue_close(q);
    return AR_OK;
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

static const char usage_done[] =
    "usage: ar-queue done ID --card CARD\n"
    "\n"
    "Marks a pending or claimed entry done with the card of its run.\n";

static int cmd_done(int argc, char **argv)
{
    const char *card = NULL;
    struct ar_opt opts[] = {
        AR_OPT_STR_REQ("card", &card, "CARD", "the card that records the run (required)"),
        OPT_COMMON,
        AR_OPT_END,
    };
    ar_opt_parse_n(opts, argc, argv, usage_done, "done", 1, 1);
    jv cid = jv_string(card);
    if (ar_check_id(cid, "card") != 0)
        ar_die_last();
    jv_free(cid);
    struct ar_kb kb;
    struct ar_queue *q = open_queue(&kb, 0);
    char path[PATH_MAX];
    if (access(ar_kb_card_path(&kb, card, path), F_OK) != 0)
        ar_die(AR_EINPUT, "card %s: not found", card);
    if (ar_queue_done(q, argv[0], card) != 0)
        ar_die_last();
    ar_queue_close(q);
    return AR_OK;
}

/* ------------------------------------------------------- status, show */

static const char usage_status[] =
    "usage: ar-queue status [--all] [--json]\n"
    "\n"
    "Prints the count of entries in each status and a table of the claimed\n"
    "and pending ones, pending in the order claims will take them (--all:\n"
    "every entry). --json prints one object {counts, entries (id order)}.\n";

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

static int cmd_status(int argc, char **argv)
{
    int json_out = 0, all = 0;
    struct ar_opt opts[] = {
        AR_OPT_BOOL("all", &all, "list entries in every status"),
        AR_OPT_BOOL("json", &json_out, "one JSON object {counts, entries}"),
        OPT_COMMON,
        AR_OPT_END,
    };
    ar_opt_parse_none(opts, argc, argv, usage_status, "status");
    struct ar_kb kb;
    struct ar_queue *q = open_queue(&kb, 0);
    jv entries;
    if (ar_queue_list(q, &entries) != 0)
        ar_die_last();
    ar_queue_close(q);
    jv counts = jv_object(), shown = jv_array();
    for (int i = 0; ar_queue_statuses[i]; i++)
        ar_jv_set(&counts, ar_queue_statuses[i], jv_number(0));
    jv_array_foreach(entries, i, e) {
        (void)i;
        const char *st = ar_jv_str(e, "status");
        ar_jv_set(&counts, st, jv_number(ar_jv_num(counts, st, 0) + 1));
        if (all || !strcmp(st, "pending") || !strcmp(st, "claimed"))
            shown = jv_array_append(shown, e);
        else
            jv_free(e);
    }
    jv_free(entries);
    if (json_out) {
        jv out = jv_object();
        ar_jv_set(&out, "counts", counts);
        ar_jv_set(&out, "entries", shown);
        print_json(out, AR_JSON_COMPACT);
        jv_free(out);
        return AR_OK;
    }
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

static const char usage_show[] =
    "usage: ar-queue show [--json] ID...\n"
    "\n"
    "Prints each entry as JSON.\n";

static int cmd_show(int argc, char **argv)
{
    int json_out = 0;
    struct ar_opt opts[] = {
        AR_OPT_BOOL("json", &json_out, "one compact JSON line per entry"),
        OPT_COMMON,
        AR_OPT_END,
    };
    int n = ar_opt_parse_n(opts, argc, argv, usage_show, "show", 1, AR_OPT_ANY);
    struct ar_kb kb;
    struct ar_queue *q = open_queue(&kb, 0);
    for (int i = 0; i < n; i++) {
        jv e;
        if (ar_queue_get(q, argv[i], &e) != 0)
            ar_die_last();
        print_json(e, json_out ? AR_JSON_COMPACT : AR_JSON_PRETTY);
        jv_free(e);
    }
    ar_queue_close(q);
    return AR_OK;
}

/* ---------------------------------------------------------------- plan */

static const char usage_plan[] =
    "usage: ar-queue plan [--apply] [--max N] [--json] [--platform CLASS] [--config FILE]\n"
    "\n"
    "Suggests experiments from the findings, coverage and noise floors, each\n"
    "with its reason and the cards behind it (see ar-queue(1), PLAN): noise\n"
    "floor replicates, replications of tentative claims with large effects,\n"
    "platform-specific claims on this platform class, the best confirmed\n"
    "changes stacked, and under-explored categories and config keys. Without\n"
    "--apply it only prints; --apply adds each suggestion that is not queued yet.\n";

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

static int cmd_plan(int argc, char **argv)
{
    int apply = 0, json_out = 0;
    long max = 10;
    const char *platform = NULL, *config_file = NULL;
    struct ar_opt opts[] = {
        AR_OPT_BOOL("apply", &apply, "add the suggestions to the queue"),
        AR_OPT_INT("max", &max, "N", "at most N suggestions (default 10; 0: all)"),
        AR_OPT_BOOL("json", &json_out, "one JSON line per suggestion"),
        AR_OPT_STR("platform", &platform, "CLASS", "this platform class (default: detected)"),
        AR_OPT_STR("config", &config_file, "FILE", "the current config (default trainer/config.yaml)"),
        OPT_COMMON,
        AR_OPT_END,
    };
    ar_opt_parse_none(opts, argc, argv, usage_plan, "plan");
    if (max < 0)
        ar_die(AR_EINPUT, "option '--max': %ld is negative", max);
    jv config;
    if (ar_suggest_config(config_file, &config) != 0)
        ar_die_last();
    jv detected = jv_invalid();
    if (!platform) {
        detected = ar_platform_detect(NULL);
        platform = ar_jv_str(detected, "class");
        if (!platform)
            ar_die(AR_EFAIL, "platform: cannot tell this machine's class (use --platform)");
    }
    struct ar_kb kb;
    struct ar_queue *q = open_queue(&kb, 0);
    jv entries, plan;
    if (ar_queue_list(q, &entries) != 0)
        ar_die_last();
    /* every suggestion; --max counts the new ones only */
    if (ar_suggest(&kb, platform, config, entries, &plan) != 0)
        ar_die_last();
    int added = 0, shown = 0, already = 0, skipped = 0;
    jv_array_foreach(plan, idx, s) {
        (void)idx;
        char skip[512] = "", dupid[AR_ID_LEN + 1];
        const char *dup = NULL;
        jv fields = jv_invalid();
        if (max == 0 || shown < max)
            fields = ar_suggestion_fields(&kb, entries, config, &s, skip, sizeof skip);
        if (jv_is_valid(fields) && (dup = ar_queue_duplicate_of(entries, fields, dupid, sizeof dupid)))
            ar_jv_set(&s, "queued", jv_string(dup));
        if (skip[0])
            ar_jv_set(&s, "skipped", jv_string(skip));
        int fresh = jv_is_valid(fields) && !dup;
        already += dup != NULL;
        skipped += skip[0] != 0;
        if (fresh) {
            shown++;
            if (apply) {
                jv ids;
                if (ar_queue_add(q, &fields, 1, 0, &ids) != 0)
                    ar_die_last();
                ar_jv_set(&s, "queued", jv_array_get(ids, 0));
                added++;
                jv_free(entries);   /* replications after this one see it */
                if (ar_queue_list(q, &entries) != 0)
                    ar_die_last();
            }
        }
        if (json_out && (fresh || dup || skip[0]))
            print_json(s, AR_JSON_COMPACT);
        else if (!json_out && fresh && apply)
            printf("%s  %s  %s\n", ar_jv_str(s, "queued"), ar_jv_str(s, "kind"),
                   ar_jv_str(s, "hypothesis"));
        else if (!json_out && fresh)
            print_suggestion(shown, s);
        jv_free(fields);
        jv_free(s);
    }
    if (!json_out) {
        if (apply)
            printf("queued %d suggestion%s", added, added == 1 ? "" : "s");
        else
            printf(shown ? "%d suggestion%s" : "nothing new to suggest", shown, shown == 1 ? "" : "s");
        if (already || skipped)
            printf(" (%d already queued, %d not accepted by the trainer)", already, skipped);
        putchar('\n');
    }
    jv_free(plan);
    jv_free(entries);
    jv_free(config);
    jv_free(detected);
    ar_queue_close(q);
    return AR_OK;
}

/* -------------------------------------------------------------- export */

static const char usage_export[] =
    "usage: ar-queue export --skypilot DIR [--gpu TYPE:N]\n"
    "\n"
    "Writes one SkyPilot task YAML per pending entry, DIR/<entry id>.yaml, that\n"
    "builds ar, prepares the data if needed, runs ar-train with the entry's\n"
    "overrides and records the card (synced with ar-sync when knowledge/ is a\n"
    "git repository), and prints the paths. Launch them with\n"
    "`sky launch DIR/<id>.yaml` or `sky jobs launch`. Exported entries stay\n"
    "pending here: cancel them, or export from a queue of their own.\n";

static int cmd_export(int argc, char **argv)
{
    const char *dir = NULL, *gpu = NULL;
    struct ar_opt opts[] = {
        AR_OPT_STR_REQ("skypilot", &dir, "DIR", "where to write the task files (required)"),
        AR_OPT_STR("gpu", &gpu, "TYPE:N", "accelerators of each task, e.g. H100:1 (default: a CPU task)"),
        OPT_COMMON,
        AR_OPT_END,
    };
    ar_opt_parse_none(opts, argc, argv, usage_export, "export");
    if (gpu && !ar_skypilot_gpu_valid(gpu))
        ar_die(AR_EINPUT, "option '--gpu': '%s' is not of the form TYPE[:COUNT] (H100:1)", gpu);
    struct ar_kb kb;
    struct ar_queue *q = open_queue(&kb, 0);
    jv entries;
    if (ar_queue_list(q, &entries) != 0)
        ar_die_last();
    ar_queue_close(q);
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
            if (ar_skypilot_task(e, gpu, &yaml) != 0 || ar_write_atomic(path, yaml.data, yaml.len) != 0)
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
    return AR_OK;
}

/* ---------------------------------------------------------------- main */

static const struct ar_cmd commands[] = {
    { "add", cmd_add, "add an entry (or a replication of a card)" },
    { "grid", cmd_grid, "add the factorial product of config values" },
    { "claim", cmd_claim, "take the best pending entry; print it as JSON" },
    { "heartbeat", cmd_heartbeat, "say a claim is alive" },
    { "done", cmd_done, "mark an entry done with its card" },
    { "fail", cmd_fail, "mark an entry failed with a reason" },
    { "release", cmd_release, "return a claimed entry to pending" },
    { "cancel", cmd_cancel, "withdraw an entry" },
    { "status", cmd_status, "counts and a table of entries" },
    { "show", cmd_show, "print entries as JSON" },
    { "plan", cmd_plan, "suggest experiments from the findings (--apply queues them)" },
    { "export", cmd_export, "write a SkyPilot task per pending entry" },
    { NULL, NULL, NULL },
};

static const char overview[] =
    "usage: ar-queue COMMAND [OPTIONS]\n"
    "\n"
    "The experiment queue of a knowledge base: a director adds entries,\n"
    "workers claim them, run them and mark them done. Every change is taken\n"
    "under a lock and written crash-safely; stale claims return to pending.\n";

int main(int argc, char **argv)
{
    ar_set_prog(argv[0]);
    return ar_cli_dispatch(commands, argc, argv, overview);
}

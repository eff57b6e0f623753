/* ar-card: write, show, list, query, annotate, retract, validate, index,
 * import and export experiment cards. A thin front end over lib/: each
 * subcommand is one struct (base/cli.h ar_subcmd) with its usage, options
 * and positionals, and a run function that calls lib/ and prints. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/record.h"
#include "base/atomic.h"
#include "base/cli.h"
#include "base/err.h"
#include "base/json.h"
#include "base/opt.h"
#include "facts/card.h"
#include "facts/card_flags.h"
#include "facts/kb.h"
#include "facts/note.h"
#include "facts/patch.h"
#include "facts/schema.h"
#include "host/platform.h"
#include "index/card_batch.h"
#include "index/import.h"
#include "index/index.h"
#include "index/query.h"
#include "index/store.h"
#include "index/validate.h"

static const char *kb_dir;   /* --kb */
static int json_out;         /* --json of write, show and list */

#define OPT_KB AR_OPT_STR("kb", &kb_dir, "DIR", "knowledge base (default $AR_KB or ./knowledge)")

static void open_kb(struct ar_kb *kb, int flags)
{
    if (ar_kb_open(kb, kb_dir, flags) != 0)
        ar_die_last();
}

/* The knowledge base of this run, opened with flags. */
static const struct ar_kb *the_kb(int flags)
{
    static struct ar_kb kb;
    open_kb(&kb, flags);
    return &kb;
}

/* What a run returns after a call to lib/: exits on its failure. */
static int done(int rc)
{
    if (rc != 0)
        ar_die_last();
    return AR_OK;
}

/* ------------------------------------------------------------------ write */

static const char usage_write[] =
    "usage: ar-card write [--stdin] [--hypothesis TEXT --category C --status S ...]\n\n"
    "Validates a card, fills id, created, agent and schema, stores it in\n"
    "cards/<id>.json, updates the index and prints the id. Fields come from a\n"
    "JSON object on stdin (--stdin), from flags, or both (flags win); with\n"
    "--jsonl, many cards from stdin, one object per line, all checked first and\n"
    "stored as one batch (all or none). Without --platform the card gets this\n"
    "machine's; without --commit, the HEAD commit (and its parent) of the git\n"
    "repository around the current directory.\n";

static int use_stdin, jsonl;
static const char *lesson;
static struct ar_card_flags wf;

static const struct ar_opt write_opts[] = {
    AR_OPT_BOOL("stdin", &use_stdin, "read the card as a JSON object from stdin"),
    AR_OPT_BOOL("jsonl", &jsonl, "read many cards from stdin, one JSON object per line"),
    AR_OPT_STR("hypothesis", &wf.hypothesis, "TEXT", "what the experiment tests"),
    AR_OPT_STR("category", &wf.category, "C", "architecture, optimizer, hyperparameter, schedule, ..."),
    AR_OPT_STR("status", &wf.status, "S", "keep, discard, crash, inconclusive, baseline"),
    AR_OPT_STR("tags", &wf.tags, "A,B", "comma-separated tags"),
    AR_OPT_STR("commit", &wf.commit, "HEX", "git commit of the experiment"),
    AR_OPT_STR("parent-commit", &wf.parent_commit, "HEX", "commit it started from"),
    AR_OPT_STR("session", &wf.session, "TAG", "run tag"),
    AR_OPT_STR("agent", &wf.agent, "NAME", "who ran it (default $AR_AGENT or user@host)"),
    AR_OPT_NUM("val-bpb", &wf.val_bpb, "X", "validation bits per byte"),
    AR_OPT_LIST("metric", &wf.metrics, "K=V", "another metric (training_seconds=300, ...)"),
    AR_OPT_NUM("delta", &wf.delta, "X", "val_bpb minus the baseline card's"),
    AR_OPT_STR("baseline", &wf.baseline, "ID", "the baseline card"),
    AR_OPT_STR("prior-cards", &wf.prior_cards, "ID,ID", "cards that inspired this one"),
    AR_OPT_STR("verifies", &wf.verifies, "ID", "the card this run replicates"),
    AR_OPT_NUM("seed", &wf.seed, "N", "random seed"),
    AR_OPT_NUM("budget", &wf.budget_s, "S", "training budget in seconds"),
    AR_OPT_STR("config", &wf.config, "JSON|@FILE", "full hyperparameter snapshot"),
    AR_OPT_STR("changes", &wf.changes, "JSON|@FILE", "[{key, from, to}] against the parent config"),
    AR_OPT_STR("platform", &wf.platform, "CLASS|JSON|@FILE", "platform class, or object (class is required)"),
    AR_OPT_STR("data", &wf.data, "JSON|@FILE", "data object (corpus, fingerprint, ...)"),
    AR_OPT_STR("extra", &wf.extra, "JSON|@FILE", "free-form object, at most 16 KiB"),
    AR_OPT_STR("created", &wf.created, "TIME", "creation time (default now)"),
    AR_OPT_STR("lesson", &lesson, "TEXT", "also record a lesson note on the new card"),
    AR_OPT_BOOL("json", &json_out, "print the stored card instead of its id"),
    OPT_KB,
    AR_OPT_END,
};

/* stdin, read whole (at most max bytes) */
static char *read_stdin(size_t max, size_t *len)
{
    char *text;
    if (ar_read_stream(0, "stdin", max, &text, len) != 0)
        ar_die_last();
    return text;
}

/* write --jsonl: every line of stdin is a card; all are checked before
 * the first is stored. */
static int write_jsonl(void)
{
    for (const struct ar_opt *o = write_opts; o->type != AR_OPT_T_END; o++)
        if (ar_opt_given(write_opts, o->target) && strcmp(o->name, "kb") && strcmp(o->name, "json") &&
            strcmp(o->name, "jsonl"))
            ar_die(AR_EINPUT, "write: --jsonl takes whole cards; --%s cannot be used with it", o->name);
    size_t len;
    char *text = read_stdin((size_t)1 << 30, &len);
    jv cards;
    int rc = ar_cards_check_jsonl(text, len, "stdin", &cards);
    free(text);
    if (rc)
        ar_die_last();
    return done(ar_store_cards(the_kb(AR_KB_CREATE), cards, NULL, json_out, stdout));
}

/* the card of stdin (--stdin), or an empty one */
static jv stdin_card(void)
{
    if (!use_stdin)
        return jv_object();
    size_t len;
    char *text = read_stdin(AR_CARD_TEXT_MAX, &len);
    jv card;
    int rc = ar_json_parse(text, len, "stdin", &card);
    free(text);
    if (rc)
        ar_die_last();
    if (jv_get_kind(card) != JV_KIND_OBJECT)
        ar_die(AR_EINPUT, "stdin: must be a JSON object, not %s", ar_kind_name(card));
    return card;
}

static int run_write(int n, char **args)
{
    (void)n, (void)args;
    if (jsonl)
        return write_jsonl();
    /* a missing field is named, not answered with the whole usage */
    if (!use_stdin && !wf.hypothesis)
        ar_die(AR_EINPUT, "write: field 'hypothesis': required (--hypothesis TEXT, or a card on --stdin)");
    /* --platform H100: a plain class (any case) is {"class": "h100"} */
    static char plat_json[128];
    if (wf.platform && wf.platform[0] != '{' && wf.platform[0] != '@') {
        char cls[80];
        if (ar_platform_class_arg(wf.platform, "--platform", cls, sizeof cls) != 0)
            ar_die_last();
        snprintf(plat_json, sizeof plat_json, "{\"class\":\"%s\"}", cls);
        wf.platform = plat_json;
    }
    jv card = stdin_card();
    wf.has_val_bpb = ar_opt_given(write_opts, &wf.val_bpb);
    wf.has_delta = ar_opt_given(write_opts, &wf.delta);
    wf.has_seed = ar_opt_given(write_opts, &wf.seed);
    wf.has_budget_s = ar_opt_given(write_opts, &wf.budget_s);
    int rc = ar_card_set_flags(&card, &wf);
    ar_strlist_free(&wf.metrics);
    /* every check before touching the disk */
    if (rc || ar_card_check(&card, NULL) != 0)
        ar_die_last();
    jv cards = jv_array_append(jv_array(), card);
    return done(ar_store_cards(the_kb(AR_KB_CREATE), cards, lesson, json_out, stdout));
}

static const struct ar_subcmd write_cmd = {
    .name = "write", .summary = "validate and store a new card; print its id",
    .opts = write_opts, .usage = usage_write, .min = 0, .max = 0, .run = run_write,
};

/* ------------------------------------------------------------------- show */

static int run_show(int n, char **ids)
{
    return done(ar_query_show(the_kb(0), ids, n, json_out, stdout));
}

static const struct ar_subcmd show_cmd = {
    .name = "show", .summary = "print cards with their notes",
    .opts = (const struct ar_opt[]){AR_OPT_BOOL("json", &json_out, "one compact JSON line per card"), OPT_KB,
        AR_OPT_END},
    .min = 1, .max = AR_OPT_ANY, .run = run_show,
    .usage = "usage: ar-card show [--json] ID...\n\n"
             "Prints each card's view: the card, its notes in id order, the status as\n"
             "it counts after status notes, and whether it was retracted.\n",
};

/* ------------------------------------------------------------ list/export */

static struct ar_filter filter;   /* the card filter of list and export */

/* their usage line from the filter on, the second line indented by indent */
#define FILTER_USAGE(indent) \
    "[--status S] [--category C] [--tag T] [--session TAG]\n" indent "[--platform CLASS] [--since TIME]\n"

#define OPT_FILTER                                                                                      \
    AR_OPT_STR("status", &filter.status, "S", "only cards whose status (after notes) is S"),            \
    AR_OPT_STR("category", &filter.category, "C", "only this category"),                               \
    AR_OPT_STR("tag", &filter.tag, "T", "only cards with this tag"),                                    \
    AR_OPT_STR("session", &filter.session, "TAG", "only this session"),                                 \
    AR_OPT_STR("platform", &filter.platform, "CLASS", "only this platform class"),                      \
    AR_OPT_STR("since", &filter.since, "TIME", "only cards created at or after TIME (2026-11-23[T10:00])")

/* the knowledge base, once the filter is checked */
static const struct ar_kb *filtered_kb(void)
{
    static char cls[80];   /* --platform H100 is class h100 */
    if (filter.platform && ar_platform_class_arg(filter.platform, "--platform", cls, sizeof cls) != 0)
        ar_die_last();
    if (filter.platform)
        filter.platform = cls;
    if (ar_filter_check(&filter) != 0)
        ar_die_last();
    return the_kb(0);
}

static int run_list(int n, char **args)
{
    (void)n, (void)args;
    return done(ar_query_list(filtered_kb(), &filter, json_out, stdout));
}

static const struct ar_subcmd list_cmd = {
    .name = "list", .summary = "list cards (table or --json), with filters",
    .opts = (const struct ar_opt[]){AR_OPT_BOOL("json", &json_out, "print JSON lines (card views)"),
        OPT_FILTER, OPT_KB, AR_OPT_END},
    .min = 0, .max = 0, .run = run_list,
    .usage = "usage: ar-card list [--json] " FILTER_USAGE("                    ")
             "\n"
             "Lists cards in id (time) order: a table, or with --json one view per line.\n",
};

static int tsv;   /* export --tsv: required, the only format */

static int run_export(int n, char **args)
{
    (void)n, (void)args;
    return done(ar_export_tsv(filtered_kb(), &filter, stdout));
}

static const struct ar_subcmd export_cmd = {
    .name = "export", .summary = "write the cards as results.tsv",
    .opts = (const struct ar_opt[]){AR_OPT_BOOL_REQ("tsv", &tsv, "results.tsv (the only format)"), OPT_FILTER,
        OPT_KB, AR_OPT_END},
    .min = 0, .max = 0, .run = run_export,
    .usage = "usage: ar-card export --tsv " FILTER_USAGE("                      ")
             "\n"
             "Writes the cards as autoresearch's results.tsv on stdout (retracted cards\n"
             "left out): commit, val_bpb, memory_gb, status (keep, discard, crash) and\n"
             "the hypothesis' first line as the description.\n",
};

/* ------------------------------------------------------------------ query */

static int run_query(int n, char **args)
{
    (void)n;
    return done(ar_query_jq(the_kb(0), args[0], stdout));
}

static const struct ar_subcmd query_cmd = {
    .name = "query", .summary = "run a jq filter over every card view",
    .opts = (const struct ar_opt[]){OPT_KB, AR_OPT_END},
    .min = 1, .max = 1, .run = run_query,
    .usage = "usage: ar-card query FILTER\n\n"
             "Runs the jq program FILTER over every card view, like `jq -c`, and prints\n"
             "each output as one JSON line. Example: ar-card query 'select(.status==\"keep\") | .id'\n",
};

/* ------------------------------------------------------------ note/retract */

static const char usage_note[] =
    "usage: ar-card note ID (--lesson TEXT | --status S [--comment TEXT] | --comment TEXT)\n\n"
    "Appends an annotation to a card: a lesson learned, a status override, or\n"
    "a comment. Notes are facts: they are never changed or removed.\n";

static const char *status, *comment, *reason;   /* lesson: as in write */

static const struct ar_opt note_opts[] = {
    AR_OPT_STR("lesson", &lesson, "TEXT", "the lesson learned"),
    AR_OPT_STR("status", &status, "S", "override the card's status"),
    AR_OPT_STR("comment", &comment, "TEXT", "a comment (with --status: the reason)"),
    OPT_KB,
    AR_OPT_END,
};

/* Stores a note on card and prints its id. */
static int add_note(const char *card, const char *kind, const char *text)
{
    char id[AR_ID_LEN + 1];
    if (ar_store_note(the_kb(0), card, kind, text, status, id) != 0)
        ar_die_last();
    puts(id);
    return AR_OK;
}

static int run_note(int n, char **ids)
{
    (void)n;
    const char *kind, *text;
    int rc = ar_note_kind_of(lesson, status, comment, &kind, &text);
    if (rc < 0)
        ar_die_last();
    if (rc == 1) {
        ar_opt_help(note_opts, usage_note, 1);
        return AR_EINPUT;
    }
    return add_note(ids[0], kind, text);
}

static const struct ar_subcmd note_cmd = {
    .name = "note", .summary = "add a lesson, status override or comment to a card",
    .opts = note_opts, .usage = usage_note, .min = 1, .max = 1, .run = run_note,
};

static int run_retract(int n, char **ids)
{
    (void)n;
    return add_note(ids[0], "retract", reason);
}

static const struct ar_subcmd retract_cmd = {
    .name = "retract", .summary = "retract a card (it leaves all statistics)",
    .opts = (const struct ar_opt[]){
        AR_OPT_STR_REQ("reason", &reason, "TEXT", "why the card is retracted (required)"),
        OPT_KB, AR_OPT_END},
    .min = 1, .max = 1, .run = run_retract,
    .usage = "usage: ar-card retract ID --reason TEXT\n\n"
             "Retracts a card: it leaves all statistics but stays visible.\n",
};

/* --------------------------------------------------------------- validate */

static int run_validate(int n, char **files)
{
    int total, bad = ar_validate_files(n ? NULL : the_kb(0), files, n, stdout, &total);
    if (bad) {
        fprintf(stderr, "%s: %d of %d files invalid\n", ar_prog(), bad, total);
        return AR_EINPUT;
    }
    return AR_OK;
}

static const struct ar_subcmd validate_cmd = {
    .name = "validate", .summary = "check card and note files against the schema",
    .opts = (const struct ar_opt[]){OPT_KB, AR_OPT_END},
    .min = 0, .max = AR_OPT_ANY, .run = run_validate,
    .usage = "usage: ar-card validate [FILE...]\n\n"
             "Checks card and note files against the schema (every fact in the\n"
             "knowledge base when no file is given). Prints one line per problem and\n"
             "exits 2 if any file is invalid.\n",
};

/* ------------------------------------------------------------------ index */

static const char usage_index[] =
    "usage: ar-card index [--check]\n"
    "\n"
    "Rebuilds index.db from the facts (taking in facts put in cards/ or\n"
    "notes/ by hand); with --check, takes in what killed writers left (as\n"
    "any reader does) and reports (exit 1) how the index disagrees with them.\n";

static int cmd_index(int argc, char **argv)
{
    int check = 0;
    struct ar_opt opts[] = {
        AR_OPT_BOOL("check", &check, "only compare the index with the facts"),
        OPT_KB,
        AR_OPT_END,
    };
    ar_opt_parse_none(opts, argc, argv, usage_index, "index");
    struct ar_kb kb;
    open_kb(&kb, 0);
    if ((check ? ar_index_check(&kb) : ar_index_rebuild(&kb)) != 0)
        ar_die_last();
    return AR_OK;
}

/* ----------------------------------------------------------------- import */

static struct ar_import_opts import_opts;

static void print_import(const struct ar_import_stats *st)
{
    if (json_out) {
        jv o = jv_object();
        ar_jv_set(&o, "imported", jv_number(st->imported));
        ar_jv_set(&o, "notes", jv_number(st->notes));
        ar_jv_set(&o, "existing", jv_number(st->existing));
        ar_jv_set(&o, "skipped", jv_number(st->skipped));
        ar_jv_set(&o, "structured", jv_number(st->structured));
        ar_jv_set(&o, "free_text", jv_is_valid(st->free_rows) ? jv_copy(st->free_rows) : jv_array());
        ar_jv_set(&o, "files", jv_is_valid(st->files) ? jv_copy(st->files) : jv_array());
        char *s = ar_json_dump(o, AR_JSON_PRETTY);
        puts(s);
        free(s);
        jv_free(o);
        return;
    }
    printf("imported %d cards and %d notes; %d already there; %d skipped\n", st->imported, st->notes,
           st->existing, st->skipped);
    if (st->structured + st->free_text > 0)
        printf("%d rows structured (changes, baseline or replicate), %d free text\n", st->structured,
               st->free_text);
    if (jv_is_valid(st->files))
        jv_array_foreach(st->files, i, f) {
            jv base = ar_jv_get(f, "baseline"), best = ar_jv_get(f, "best"), d = ar_jv_get(f, "best_delta");
            printf("%s: %d rows, session %s", ar_jv_str(f, "file"), (int)ar_jv_num(f, "rows", 0),
                   ar_jv_str(f, "session"));
            if (jv_get_kind(base) == JV_KIND_NUMBER)
                printf("; baseline %.6f", jv_number_value(base));
            if (jv_get_kind(best) == JV_KIND_NUMBER)
                printf("; best %.6f", jv_number_value(best));
            if (jv_get_kind(d) == JV_KIND_NUMBER)
                printf(" (%+.4f vs baseline)", jv_number_value(d));
            putchar('\n');
            jv_free(base), jv_free(best), jv_free(d), jv_free(f);
        }
}

static int run_import(int n, char **paths)
{
    if (ar_import_check(&import_opts, paths, n) != 0)
        ar_die_last();
    /* created only when there is something to store: a refused file leaves nothing */
    static struct ar_kb ikb;
    if (ar_kb_open(&ikb, kb_dir, 0) != 0 && access(ikb.root, F_OK) == 0)
        ar_die_last();
    const struct ar_kb *kb = &ikb;
    struct ar_import_stats st = {.collect = 1};
    st.free_rows = st.files = jv_invalid();
    for (int i = 0; i < n; i++)
        if (ar_import_path(kb, paths[i], &import_opts, &st) != 0)
            ar_die_last();
    print_import(&st);
    ar_import_stats_free(&st);
    return AR_OK;
}

static const struct ar_subcmd import_cmd = {
    .name = "import", .summary = "import results.tsv or autoresearch-commons cards",
    .opts = (const struct ar_opt[]){
        AR_OPT_STR("platform", &import_opts.platform, "CLASS", "platform class of the runs, any case (required for results.tsv)"),
        AR_OPT_STR("session", &import_opts.session, "TAG", "session of the cards (default: the file's name, or the repository's branch)"),
        AR_OPT_STR("category", &import_opts.category, "C", "category where the vocabulary finds none (default other)"),
        AR_OPT_STR("agent", &import_opts.agent, "NAME", "who ran them (default $AR_AGENT or user@host)"),
        AR_OPT_NUM("budget", &import_opts.budget_s, "S", "time budget of each run in seconds (default 300)"),
        AR_OPT_STR("data", &import_opts.data, "NAME", "the data set (part of the comparability key)"),
        AR_OPT_STR("repo", &import_opts.repo, "DIR", "the fork's git repository: commit times, changes from train.py diffs"),
        AR_OPT_STR("format", &import_opts.format, "F", "tsv or commons (default: from the file)"),
        AR_OPT_BOOL("json", &json_out, "print the summary as JSON (with the free-text rows)"), OPT_KB,
        AR_OPT_END},
    .min = 1, .max = AR_OPT_ANY, .run = run_import,
    .usage = "usage: ar-card import [--platform CLASS] [--budget S] [--data NAME] [--repo DIR] FILE...\n\n"
             "Imports autoresearch's results.tsv (tab-separated, columns matched by name:\n"
             "commit, val_bpb, memory_gb, status, description, and extras such as\n"
             "timestamp or mfu; --platform is required) or autoresearch-commons cards\n"
             "(a card file, or a directory such as knowledge/cards). The baseline row is\n"
             "kept, each row's delta is against the best kept row before it, changes come\n"
             "from the descriptions (or with --repo from each commit's diff of train.py),\n"
             "seed-only reruns become replicates. Rows that do not convert are reported\n"
             "as FILE:LINE and skipped (exit 2 when all are); commits already in the\n"
             "knowledge base are skipped too. Prints a summary (--json: with the rows\n"
             "that stayed free text).\n",
};

/* --------------------------------------------------------------- checkout */

static const char *branch;
static int checkout_yes;

static int run_checkout(int n, char **ids)
{
    (void)n;
    char out[256];
    const struct ar_kb *kb = the_kb(0);
    jv card;
    char *text;
    size_t len;
    /* the patch checked (hash, scope) and consented to before any change */
    int rc = ar_patch_load(kb, ids[0], &card, &text, &len);
    if (rc == 0)
        rc = ar_patch_consent(card, text, len, checkout_yes, "checkout applies");
    jv_free(card);
    free(text);
    if (rc != 0 || ar_patch_checkout(".", kb, ids[0], branch, out) != 0)
        ar_die_last();
    puts(out);
    return AR_OK;
}

static const struct ar_subcmd checkout_cmd = {
    .name = "checkout", .summary = "rebuild a card's code on a new branch from its patch",
    .opts = (const struct ar_opt[]){
        AR_OPT_STR("branch", &branch, "NAME", "branch to create (default reproduce/ID)"),
        AR_OPT_BOOL("yes", &checkout_yes, "apply a peer's patch (its code runs here)"),
        OPT_KB, AR_OPT_END},
    .min = 1, .max = 1, .run = run_checkout,
    .usage = "usage: ar-card checkout ID [--branch NAME] [--yes]\n\n"
             "Rebuilds the code a card ran: creates a branch (reproduce/ID) at the\n"
             "card's upstream commit, applies its patch (knowledge/patches/ID.patch)\n"
             "to trainer/ and kernels/ and commits it. Prints the branch.\n"
             "A patch that touches anything outside trainer/ and kernels/ is refused.\n"
             "A card from another agent is code from a peer: checkout shows its diff\n"
             "stat and applies it only with --yes (or AR_TRUST_PATCHES=1).\n",
};

/* ----------------------------------------------------------------- record */

static struct ar_record_opts rec;
static const struct ar_opt record_opts[] = {
    AR_OPT_STR("platform", &rec.platform, "CLASS", "platform class (h100, apple-m2-pro; default: detected)"),
    AR_OPT_STR("session", &rec.session, "TAG", "session ($AR_SESSION, else TAG of branch autoresearch/TAG)"),
    AR_OPT_STR("agent", &rec.agent, "NAME", "who ran it (default $AR_AGENT or user@host)"),
    AR_OPT_STR("data", &rec.data, "NAME", "the data set (part of the comparability key)"),
    AR_OPT_NUM("budget", &rec.budget_s, "S", "training budget in seconds (default: the log's, else 300)"),
    AR_OPT_STR("hypothesis", &rec.hypothesis, "TEXT", "what the run tested (default: the commit's subject)"),
    AR_OPT_STR("repo", &rec.repo, "DIR", "the trainer's git repository (default: around .)"),
    AR_OPT_STR("tsv", &rec.tsv, "FILE", "also append the run's row to this results.tsv"),
    AR_OPT_BOOL("json", &json_out, "print the card instead of its id"),
    OPT_KB,
    AR_OPT_END,
};

static int run_record(int n, char **args)
{
    rec.log = n > 0 ? args[0] : NULL;
    if ((!rec.log || !strcmp(rec.log, "-")) && isatty(0))
        ar_die(AR_EINPUT, "record: no LOG given and stdin is a terminal (ar-card record run.log)");
    if (ar_opt_given(record_opts, &rec.budget_s) && !(rec.budget_s > 0))
        ar_die(AR_EINPUT, "record: --budget: must be more than 0 seconds");
    /* a knowledge base that is not there yet is created by record once the
     * log and the commit are known good, not before */
    static struct ar_kb kb;
    if (ar_kb_open(&kb, kb_dir, 0) != 0 && access(kb.root, F_OK) == 0)
        ar_die_last();
    jv card;
    int rc = ar_record_log(&kb, &rec, &card);
    if (rc < 0)
        ar_die_last();
    const char *id = ar_jv_str(card, "id");
    if (rc == AR_RECORD_EXISTS)
        fprintf(stderr, "ar-card: %s: ar-train recorded this run already, as card %s\n",
                rec.log && strcmp(rec.log, "-") ? rec.log : "stdin", id);
    if (json_out) {
        char *text = ar_json_dump(card, AR_JSON_COMPACT);
        puts(text);
        free(text);
    } else {
        puts(id);
    }
    if (rc == 0) {
        jv v = ar_jv_get(card, "extra"), verdict = ar_jv_get(v, "verdict");
        double delta = ar_jv_num(card, "delta", NAN);
        fprintf(stderr, "status: %s", ar_jv_str(card, "status"));
        if (isfinite(delta))
            fprintf(stderr, " (delta %+.6f against %s, 2 sigma %.4f)", delta, ar_jv_str(card, "baseline"),
                    2 * ar_jv_num(verdict, "sigma", NAN));
        fputc('\n', stderr);
        jv_free(verdict);
        jv_free(v);
    }
    jv_free(card);
    return AR_OK;
}

static const struct ar_subcmd record_cmd = {
    .name = "record", .summary = "record the card of a finished run from its log (train.py or ar-train)",
    .opts = record_opts, .min = 0, .max = 1, .run = run_record,
    .usage = "usage: ar-card record [LOG] [--platform CLASS] [--session TAG] [--data NAME]\n"
             "                      [--budget S] [--tsv results.tsv] [--json]\n\n"
             "Turns one finished run into a card: metrics from the summary block after\n"
             "the log's last '---' line (stdin without LOG; train.py's or ar-train's\n"
             "names), commit, parent and hypothesis (the subject) from git, changes from\n"
             "the commit's diff of train.py's constants (or trainer/config.yaml), the\n"
             "platform detected (an NVIDIA GPU by nvidia-smi, Apple Silicon, else the\n"
             "CPU), and the status by the keep rule against the session's best on the\n"
             "same data, budget and platform class. A log without val_bpb is a crash\n"
             "card. Code changes that are not constants are kept as the card's patch.\n"
             "Prints the id (the status on stderr); an ar-train log that names its\n"
             "card is not recorded twice.\n",
};

/* ------------------------------------------------------------------- main */

static const struct ar_subcmd index_cmd = {
    .name = "index", .summary = "rebuild or check index.db", .fn = cmd_index,
};

static const struct ar_subcmd *const commands[] = {
    &write_cmd, &record_cmd, &show_cmd, &list_cmd, &query_cmd, &note_cmd, &retract_cmd,
    &validate_cmd, &index_cmd, &import_cmd, &export_cmd, &checkout_cmd, NULL,
};

int main(int argc, char **argv)
{
    ar_set_prog(argv[0]);
    return ar_cli_run(commands, argc, argv,
                      "usage: ar-card COMMAND [OPTIONS]\n\n"
                      "Experiment cards: the unit of shared knowledge. Cards and notes are\n"
                      "immutable facts under the knowledge base (--kb DIR, $AR_KB, ./knowledge).\n");
}

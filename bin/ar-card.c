/* ar-card: write, show, list, query, annotate, retract, validate, index,
 * import and export experiment cards. A thin front end over lib/. */
#include <errno.h>
#include <jq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "facts/card.h"
#include "index/store.h"
#include "base/cli.h"
#include "base/err.h"
#include "host/gitinfo.h"
#include "index/import.h"
#include "index/index.h"
#include "base/json.h"
#include "facts/kb.h"
#include "facts/note.h"
#include "base/opt.h"
#include "facts/patch.h"
#include "host/platform.h"
#include "index/query.h"
#include "facts/schema.h"

#define STDIN_MAX (AR_CARD_MAX_BYTES * 4)

static const char *kb_dir;   /* --kb */

#define OPT_KB AR_OPT_STR("kb", &kb_dir, "DIR", "knowledge base (default $AR_KB or ./knowledge)")

static void open_kb(struct ar_kb *kb, int flags)
{
    if (ar_kb_open(kb, kb_dir, flags) != 0)
        ar_die_last();
}

/* A command on one card: its ID, one option of its own (o) and --kb; opens
 * the knowledge base and returns the ID. */
static const char *one_card(int argc, char **argv, const char *usage, struct ar_opt o, struct ar_kb *kb)
{
    struct ar_opt opts[] = {o, OPT_KB, AR_OPT_END};
    ar_opt_parse_n(opts, argc, argv, usage, argv[0], 1, 1);
    open_kb(kb, 0);
    return argv[0];
}

/* ------------------------------------------------------------------ write */

static const char usage_write[] =
    "usage: ar-card write [--stdin] [--hypothesis TEXT --category C --status S ...]\n"
    "\n"
    "Validates a card, fills id, created, agent and schema, stores it in\n"
    "cards/<id>.json, updates the index and prints the id. Fields come from a\n"
    "JSON object on stdin (--stdin), from flags, or both (flags win); with\n"
    "--jsonl, many cards from stdin, one object per line, all checked first. Without\n"
    "--platform the card gets this machine's; without --commit, the HEAD commit\n"
    "(and its parent) of the git repository around the current directory.\n";

static jv parse_json_arg(const char *opt, const char *text)
{
    jv v;
    char what[64];
    snprintf(what, sizeof what, "option '--%s'", opt);
    if (text[0] == '@') {
        char *buf;
        size_t len;
        if (ar_read_file(text + 1, STDIN_MAX, &buf, &len) != 0)
            ar_die_last();
        int rc = ar_json_parse(buf, len, text + 1, &v);
        free(buf);
        if (rc)
            ar_die_last();
        return v;
    }
    if (ar_json_parse(text, strlen(text), what, &v) != 0)
        ar_die_last();
    return v;
}

/* "key=value" with value as JSON when it parses, else as a string */
static void split_assign(const char *opt, const char *s, jv *key, jv *val)
{
    const char *eq = strchr(s, '=');
    if (!eq || eq == s)
        ar_die(AR_EINPUT, "option '--%s': '%s' is not KEY=VALUE", opt, s);
    *key = jv_string_sized(s, (int)(eq - s));
    jv v;
    const char *text = eq + 1;
    if (*text && ar_json_parse(text, strlen(text), opt, &v) == 0)
        *val = v;
    else
        *val = jv_string(text);
}

/* What the writer may leave out: the platform of this machine, and the
 * commit (and its parent) of the git repository around the current
 * directory. */
static void fill_defaults(jv *card)
{
    if (!ar_jv_has(*card, "platform"))
        ar_jv_set(card, "platform", ar_platform_detect(NULL));
    if (ar_jv_has(*card, "commit"))
        return;
    struct ar_gitinfo git;
    if (ar_git_info(".", &git) != 0)
        ar_die(AR_EINPUT, "field 'commit': not given, and %s (use --commit HEX)", ar_last_error());
    ar_jv_set(card, "commit", jv_string(git.commit));
    if (git.parent[0] && !ar_jv_has(*card, "parent_commit"))
        ar_jv_set(card, "parent_commit", jv_string(git.parent));
}

/* write --jsonl: every line of stdin is a card; all are checked before
 * the first is stored, then each is stored and indexed in turn. */
static int write_jsonl(int json_out)
{
    char *text;
    size_t len;
    if (ar_read_stream(0, "stdin", (size_t)1 << 30, &text, &len) != 0)
        ar_die_last();
    jv cards = jv_array();
    int line = 0;
    for (char *p = text, *end = text + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        line++;
        if (n > 0) {
            char what[32];
            snprintf(what, sizeof what, "stdin:%d", line);
            jv card;
            if (n > STDIN_MAX)
                ar_die(AR_EINPUT, "%s: larger than %d bytes", what, STDIN_MAX);
            if (ar_json_parse(p, n, what, &card) != 0)
                ar_die_last();
            if (jv_get_kind(card) != JV_KIND_OBJECT)
                ar_die(AR_EINPUT, "%s: must be a JSON object, not %s", what, ar_kind_name(card));
            fill_defaults(&card);
            if (ar_card_complete(&card) != 0) {
                ar_fail_prefix("%s", what);
                ar_die_last();
            }
            cards = jv_array_append(cards, card);
        }
        p += n + 1;
    }
    free(text);
    struct ar_kb kb;
    open_kb(&kb, AR_KB_CREATE);
    jv_array_foreach(cards, i, card) {
        char id[AR_ID_LEN + 1];
        if (ar_store_card(&kb, card, id) != 0)
            ar_die_last();
        if (json_out) {
            char *s = ar_json_dump(card, AR_JSON_COMPACT);
            puts(s);
            free(s);
        } else {
            puts(id);
        }
        jv_free(card);
    }
    jv_free(cards);
    return AR_OK;
}

static int cmd_write(int argc, char **argv)
{
    int use_stdin = 0, json_out = 0, jsonl = 0;
    const char *hyp = NULL, *cat = NULL, *status = NULL, *commit = NULL, *parent = NULL;
    const char *session = NULL, *agent = NULL, *tags = NULL, *prior = NULL, *verifies = NULL;
    const char *baseline = NULL, *lesson = NULL, *config = NULL, *changes = NULL;
    const char *platform = NULL, *data = NULL, *extra = NULL, *created = NULL;
    double val_bpb = 0, delta = 0, seed = 0, budget = 0;
    struct ar_strlist metrics = {0};
    struct ar_opt opts[] = {
        AR_OPT_BOOL("stdin", &use_stdin, "read the card as a JSON object from stdin"),
        AR_OPT_BOOL("jsonl", &jsonl, "read many cards from stdin, one JSON object per line"),
        AR_OPT_STR("hypothesis", &hyp, "TEXT", "what the experiment tests"),
        AR_OPT_STR("category", &cat, "C", "architecture, optimizer, hyperparameter, schedule, ..."),
        AR_OPT_STR("status", &status, "S", "keep, discard, crash, inconclusive, baseline"),
        AR_OPT_STR("tags", &tags, "A,B", "comma-separated tags"),
        AR_OPT_STR("commit", &commit, "HEX", "git commit of the experiment"),
        AR_OPT_STR("parent-commit", &parent, "HEX", "commit it started from"),
        AR_OPT_STR("session", &session, "TAG", "run tag"),
        AR_OPT_STR("agent", &agent, "NAME", "who ran it (default $AR_AGENT or user@host)"),
        AR_OPT_NUM("val-bpb", &val_bpb, "X", "validation bits per byte"),
        AR_OPT_LIST("metric", &metrics, "K=V", "another metric (training_seconds=300, ...)"),
        AR_OPT_NUM("delta", &delta, "X", "val_bpb minus the baseline card's"),
        AR_OPT_STR("baseline", &baseline, "ID", "the baseline card"),
        AR_OPT_STR("prior-cards", &prior, "ID,ID", "cards that inspired this one"),
        AR_OPT_STR("verifies", &verifies, "ID", "the card this run replicates"),
        AR_OPT_NUM("seed", &seed, "N", "random seed"),
        AR_OPT_NUM("budget", &budget, "S", "training budget in seconds"),
        AR_OPT_STR("config", &config, "JSON|@FILE", "full hyperparameter snapshot"),
        AR_OPT_STR("changes", &changes, "JSON|@FILE", "[{key, from, to}] against the parent config"),
        AR_OPT_STR("platform", &platform, "JSON|@FILE", "platform object (class is required)"),
        AR_OPT_STR("data", &data, "JSON|@FILE", "data object (corpus, fingerprint, ...)"),
        AR_OPT_STR("extra", &extra, "JSON|@FILE", "free-form object, at most 16 KiB"),
        AR_OPT_STR("created", &created, "TIME", "creation time (default now)"),
        AR_OPT_STR("lesson", &lesson, "TEXT", "also record a lesson note on the new card"),
        AR_OPT_BOOL("json", &json_out, "print the stored card instead of its id"),
        OPT_KB,
        AR_OPT_END,
    };
    ar_opt_parse_none(opts, argc, argv, usage_write, "write");
    if (jsonl) {
        for (const struct ar_opt *o = opts; o->type != AR_OPT_T_END; o++)
            if (ar_opt_given(opts, o->target) && strcmp(o->name, "kb") && strcmp(o->name, "json") &&
                strcmp(o->name, "jsonl"))
                ar_die(AR_EINPUT, "write: --jsonl takes whole cards; --%s cannot be used with it", o->name);
        return write_jsonl(json_out);
    }

    jv card = jv_object();
    if (use_stdin) {
        char *text;
        size_t len;
        if (ar_read_stream(0, "stdin", STDIN_MAX, &text, &len) != 0)
            ar_die_last();
        jv_free(card);
        int rc = ar_json_parse(text, len, "stdin", &card);
        free(text);
        if (rc)
            ar_die_last();
        if (jv_get_kind(card) != JV_KIND_OBJECT)
            ar_die(AR_EINPUT, "stdin: must be a JSON object, not %s", ar_kind_name(card));
    } else if (!hyp && !cat) {
        ar_opt_help(opts, usage_write, 1);
        return AR_EINPUT;
    }
#define SET_STR(field, v) if (v) ar_jv_set(&card, field, jv_string(v))
    SET_STR("hypothesis", hyp);
    SET_STR("category", cat);
    SET_STR("status", status);
    SET_STR("commit", commit);
    SET_STR("parent_commit", parent);
    SET_STR("session", session);
    SET_STR("agent", agent);
    SET_STR("baseline", baseline);
    SET_STR("verifies", verifies);
    SET_STR("created", created);
#undef SET_STR
    if (tags)
        ar_jv_set(&card, "tags", ar_split_commas(tags));
    if (prior)
        ar_jv_set(&card, "prior_cards", ar_split_commas(prior));
    if (ar_opt_given(opts, &delta))
        ar_jv_set(&card, "delta", jv_number(delta));
    if (ar_opt_given(opts, &seed))
        ar_jv_set(&card, "seed", jv_number(seed));
    if (ar_opt_given(opts, &budget))
        ar_jv_set(&card, "budget_s", jv_number(budget));
    if (config)
        ar_jv_set(&card, "config", parse_json_arg("config", config));
    if (changes)
        ar_jv_set(&card, "changes", parse_json_arg("changes", changes));
    if (platform)
        ar_jv_set(&card, "platform", parse_json_arg("platform", platform));
    if (data)
        ar_jv_set(&card, "data", parse_json_arg("data", data));
    if (extra)
        ar_jv_set(&card, "extra", parse_json_arg("extra", extra));
    if (ar_opt_given(opts, &val_bpb) || metrics.n) {
        jv m = ar_jv_get(card, "metrics");
        if (jv_get_kind(m) != JV_KIND_OBJECT) {
            jv_free(m);
            m = jv_object();
        }
        if (ar_opt_given(opts, &val_bpb))
            m = jv_object_set(m, jv_string("val_bpb"), jv_number(val_bpb));
        for (int i = 0; i < metrics.n; i++) {
            jv k, v;
            split_assign("metric", metrics.v[i], &k, &v);
            m = jv_object_set(m, k, v);
        }
        ar_jv_set(&card, "metrics", m);
    }
    ar_strlist_free(&metrics);

    fill_defaults(&card);
    /* validate before touching the disk */
    if (ar_card_complete(&card) != 0)
        ar_die_last();
    struct ar_kb kb;
    open_kb(&kb, AR_KB_CREATE);
    char id[AR_ID_LEN + 1];
    if (ar_store_card(&kb, card, id) != 0)
        ar_die_last();
    if (lesson) {
        char nid[AR_ID_LEN + 1];
        if (ar_store_note(&kb, id, "lesson", lesson, NULL, nid) != 0)
            ar_die_last();
    }
    if (json_out) {
        char *s = ar_json_dump(card, AR_JSON_COMPACT);
        puts(s);
        free(s);
    } else {
        puts(id);
    }
    jv_free(card);
    return AR_OK;
}

/* ------------------------------------------------------------------- show */

static const char usage_show[] =
    "usage: ar-card show [--json] ID...\n"
    "\n"
    "Prints each card's view: the card, its notes in id order, the status as\n"
    "it counts after status notes, and whether it was retracted.\n";

static int cmd_show(int argc, char **argv)
{
    int json_out = 0;
    struct ar_opt opts[] = {
        AR_OPT_BOOL("json", &json_out, "one compact JSON line per card"),
        OPT_KB,
        AR_OPT_END,
    };
    int n = ar_opt_parse_n(opts, argc, argv, usage_show, "show", 1, AR_OPT_ANY);
    struct ar_kb kb;
    open_kb(&kb, 0);
    for (int i = 0; i < n; i++) {
        jv view;
        if (ar_query_view(&kb, argv[i], &view) != 0)
            ar_die_last();
        char *s = ar_json_dump(view, json_out ? AR_JSON_COMPACT : AR_JSON_PRETTY);
        puts(s);
        free(s);
        jv_free(view);
    }
    return AR_OK;
}

/* the card filter of list and export (struct ar_filter f) */
#define OPT_FILTER(f)                                                                                   \
    AR_OPT_STR("status", &(f).status, "S", "only cards whose status (after notes) is S"),               \
    AR_OPT_STR("category", &(f).category, "C", "only this category"),                                  \
    AR_OPT_STR("tag", &(f).tag, "T", "only cards with this tag"),                                       \
    AR_OPT_STR("session", &(f).session, "TAG", "only this session"),                                    \
    AR_OPT_STR("platform", &(f).platform, "CLASS", "only this platform class"),                         \
    AR_OPT_STR("since", &(f).since, "TIME", "only cards created at or after TIME (2026-11-23[T10:00])")

/* ------------------------------------------------------------------- list */

static const char usage_list[] =
    "usage: ar-card list [--json] [--status S] [--category C] [--tag T] [--session TAG]\n"
    "                    [--platform CLASS] [--since TIME]\n"
    "\n"
    "Lists cards in id (time) order: a table, or with --json one view per line.\n";

static int cmd_list(int argc, char **argv)
{
    int json_out = 0;
    struct ar_filter f = {0};
    struct ar_opt opts[] = {
        AR_OPT_BOOL("json", &json_out, "print JSON lines (card views)"),
        OPT_FILTER(f),
        OPT_KB,
        AR_OPT_END,
    };
    ar_opt_parse_none(opts, argc, argv, usage_list, "list");
    if (ar_filter_check(&f) != 0)
        ar_die_last();
    struct ar_kb kb;
    open_kb(&kb, 0);
    if (ar_query_list(&kb, &f, json_out, stdout) != 0)
        ar_die_last();
    return AR_OK;
}

/* ------------------------------------------------------------------ query */

static const char usage_query[] =
    "usage: ar-card query FILTER\n"
    "\n"
    "Runs the jq program FILTER over every card view, like `jq -c`, and prints\n"
    "each output as one JSON line. Example: ar-card query 'select(.status==\"keep\") | .id'\n";

static int cmd_query(int argc, char **argv)
{
    struct ar_opt opts[] = {OPT_KB, AR_OPT_END};
    ar_opt_parse_n(opts, argc, argv, usage_query, "query", 1, 1);
    struct ar_kb kb;
    open_kb(&kb, 0);
    if (ar_query_jq(&kb, argv[0], stdout) != 0)
        ar_die_last();
    return AR_OK;
}

/* ------------------------------------------------------------ note/retract */

static const char usage_note[] =
    "usage: ar-card note ID (--lesson TEXT | --status S [--comment TEXT] | --comment TEXT)\n"
    "\n"
    "Appends an annotation to a card: a lesson learned, a status override, or\n"
    "a comment. Notes are facts: they are never changed or removed.\n";

static int cmd_note(int argc, char **argv)
{
    const char *lesson = NULL, *status = NULL, *comment = NULL;
    struct ar_opt opts[] = {
        AR_OPT_STR("lesson", &lesson, "TEXT", "the lesson learned"),
        AR_OPT_STR("status", &status, "S", "override the card's status"),
        AR_OPT_STR("comment", &comment, "TEXT", "a comment (with --status: the reason)"),
        OPT_KB,
        AR_OPT_END,
    };
    ar_opt_parse_n(opts, argc, argv, usage_note, "note", 1, 1);
    int kinds = !!lesson + !!status + (!!comment && !status);
    if (kinds > 1)
        ar_die(AR_EINPUT, "note: give one of --lesson, --status, --comment");
    if (kinds == 0) {
        ar_opt_help(opts, usage_note, 1);
        return AR_EINPUT;
    }
    const char *kind = lesson ? "lesson" : status ? "status" : "comment";
    const char *text = lesson ? lesson : comment ? comment : "";
    if (status) {
        jv s = jv_string(status);
        int rc = ar_check_enum(s, "status", ar_card_statuses);
        jv_free(s);
        if (rc)
            ar_die_last();
    }
    struct ar_kb kb;
    open_kb(&kb, 0);
    char id[AR_ID_LEN + 1];
    if (ar_store_note(&kb, argv[0], kind, text, status, id) != 0)
        ar_die_last();
    puts(id);
    return AR_OK;
}

static const char usage_retract[] =
    "usage: ar-card retract ID --reason TEXT\n"
    "\n"
    "Retracts a card: it leaves all statistics but stays visible.\n";

static int cmd_retract(int argc, char **argv)
{
    const char *reason = NULL;
    struct ar_kb kb;
    const char *card = one_card(argc, argv, usage_retract,
        (struct ar_opt)AR_OPT_STR_REQ("reason", &reason, "TEXT", "why the card is retracted (required)"), &kb);
    char id[AR_ID_LEN + 1];
    if (ar_store_note(&kb, card, "retract", reason, NULL, id) != 0)
        ar_die_last();
    puts(id);
    return AR_OK;
}

/* --------------------------------------------------------------- validate */

static const char usage_validate[] =
    "usage: ar-card validate [FILE...]\n"
    "\n"
    "Checks card and note files against the schema (every fact in the\n"
    "knowledge base when no file is given). Prints one line per problem and\n"
    "exits 2 if any file is invalid.\n";

static int validate_one(const char *path)
{
    char *text;
    size_t len;
    jv v;
    if (ar_read_file(path, AR_CARD_MAX_BYTES + 4096, &text, &len) != 0)
        return -1;
    int rc = ar_json_parse(text, len, path, &v);
    free(text);
    if (rc)
        return -1;
    const char *schema = ar_jv_str(v, "schema");
    int stored = ar_jv_has(v, "id");
    if (schema && strcmp(schema, AR_NOTE_SCHEMA) == 0)
        rc = ar_note_validate(v, 1);
    else
        rc = ar_card_validate(v, stored ? AR_CARD_STORED : 0);
    if (rc == 0 && stored) {
        /* a stored fact's file name is its id */
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        char want[AR_ID_LEN + 8];
        snprintf(want, sizeof want, "%s.json", ar_jv_str(v, "id"));
        if (strncmp(base, want, sizeof want) != 0 && (strstr(path, "/cards/") || strstr(path, "/notes/")))
            rc = ar_fail(AR_EINPUT, "file name does not match id %s", ar_jv_str(v, "id"));
    }
    jv_free(v);
    if (rc)
        ar_fail_prefix("%s", path);
    return rc;
}

static int cmd_validate(int argc, char **argv)
{
    struct ar_opt opts[] = {OPT_KB, AR_OPT_END};
    int n = ar_opt_parse(opts, argc, argv, usage_validate);
    int bad = 0, total = 0;
    if (n > 0) {
        for (int i = 0; i < n; i++, total++)
            if (validate_one(argv[i]) != 0) {
                fprintf(stdout, "%s\n", ar_last_error());
                bad++;
            }
    } else {
        struct ar_kb kb;
        open_kb(&kb, 0);
        const char *dirs[] = {kb.cards, kb.notes};
        for (int d = 0; d < 2; d++) {
            size_t m;
            char **ids = ar_list_ids(dirs[d], &m);
            for (size_t i = 0; i < m; i++, total++) {
                char path[PATH_MAX + 64];
                snprintf(path, sizeof path, "%s/%s.json", dirs[d], ids[i]);
                if (validate_one(path) != 0) {
                    fprintf(stdout, "%s\n", ar_last_error());
                    bad++;
                }
            }
            ar_free_ids(ids, m);
        }
    }
    if (bad) {
        fprintf(stderr, "%s: %d of %d files invalid\n", ar_prog(), bad, total);
        return AR_EINPUT;
    }
    return AR_OK;
}

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

/* ----------------------------------------------------------- import/export */

static const char usage_import[] =
    "usage: ar-card import [--platform CLASS] [--session TAG] [--category C] FILE...\n"
    "\n"
    "Imports autoresearch's results.tsv (columns commit, val_bpb, memory_gb,\n"
    "status, description; --platform is required) or autoresearch-commons cards\n"
    "(a card file, or a directory such as knowledge/cards). Rows and cards that\n"
    "do not convert are reported with their line or file and skipped; commits\n"
    "and cards already in the knowledge base are skipped too. Prints a summary.\n";

static int is_tsv(const char *path)
{
    size_t n = strlen(path);
    if (n > 4 && strcmp(path + n - 4, ".tsv") == 0)
        return 1;
    FILE *f = fopen(path, "r");
    char head[8] = "";
    if (f) {
        size_t got = fread(head, 1, 7, f);
        head[got] = '\0';
        fclose(f);
    }
    return strcmp(head, "commit\t") == 0;
}

static int cmd_import(int argc, char **argv)
{
    struct ar_import_opts o = {0};
    const char *format = NULL;
    struct ar_opt opts[] = {
        AR_OPT_STR("platform", &o.platform, "CLASS", "platform class of the runs (required for results.tsv)"),
        AR_OPT_STR("session", &o.session, "TAG", "session tag of the imported cards"),
        AR_OPT_STR("category", &o.category, "C", "category of the cards (default other)"),
        AR_OPT_STR("format", &format, "F", "tsv or commons (default: from the file)"),
        OPT_KB,
        AR_OPT_END,
    };
    int n = ar_opt_parse_n(opts, argc, argv, usage_import, "import", 1, AR_OPT_ANY);
    if (format && strcmp(format, "tsv") && strcmp(format, "commons"))
        ar_die(AR_EINPUT, "option '--format': unknown value '%s' (one of: tsv, commons)", format);
    if (o.category) {
        jv c = jv_string(o.category);
        int rc = ar_check_enum(c, "category", ar_card_categories);
        jv_free(c);
        if (rc)
            ar_die_last();
    }
    if (o.session) {
        jv c = jv_string(o.session);
        int rc = ar_check_text(c, "session", 1, 128, 0);
        jv_free(c);
        if (rc)
            ar_die_last();
    }
    for (int i = 0; i < n; i++)
        if (access(argv[i], R_OK) != 0)
            ar_die(AR_EINPUT, "%s: cannot read: %s", argv[i], strerror(errno));
    struct ar_kb kb;
    open_kb(&kb, AR_KB_CREATE);
    struct ar_import_stats st = {0};
    for (int i = 0; i < n; i++) {
        int tsv = format ? strcmp(format, "tsv") == 0 : !ar_is_dir(argv[i]) && is_tsv(argv[i]);
        if ((tsv ? ar_import_tsv(&kb, argv[i], &o, &st) : ar_import_commons(&kb, argv[i], &o, &st)) != 0)
            ar_die_last();
    }
    printf("imported %d cards and %d notes; %d already there; %d skipped\n", st.imported, st.notes,
           st.existing, st.skipped);
    return AR_OK;
}

static const char usage_export[] =
    "usage: ar-card export --tsv [--status S] [--category C] [--tag T] [--session TAG]\n"
    "                      [--platform CLASS] [--since TIME]\n"
    "\n"
    "Writes the cards as autoresearch's results.tsv on stdout (retracted cards\n"
    "left out): commit, val_bpb, memory_gb, status (keep, discard, crash) and\n"
    "the hypothesis' first line as the description.\n";

static int cmd_export(int argc, char **argv)
{
    int tsv = 0;   /* required: the only format */
    struct ar_filter f = {0};
    struct ar_opt opts[] = {
        AR_OPT_BOOL_REQ("tsv", &tsv, "results.tsv (the only format)"),
        OPT_FILTER(f),
        OPT_KB,
        AR_OPT_END,
    };
    ar_opt_parse_none(opts, argc, argv, usage_export, "export");
    if (ar_filter_check(&f) != 0)
        ar_die_last();
    struct ar_kb kb;
    open_kb(&kb, 0);
    if (ar_export_tsv(&kb, &f, stdout) != 0)
        ar_die_last();
    return AR_OK;
}

/* --------------------------------------------------------------- checkout */

static const char usage_checkout[] =
    "usage: ar-card checkout ID [--branch NAME]\n"
    "\n"
    "Rebuilds the code a card ran: creates a branch (reproduce/ID) at the\n"
    "card's upstream commit, applies its patch (knowledge/patches/ID.patch)\n"
    "to trainer/ and kernels/ and commits it. Prints the branch.\n";

static int cmd_checkout(int argc, char **argv)
{
    const char *branch = NULL;
    struct ar_kb kb;
    const char *card = one_card(argc, argv, usage_checkout,
        (struct ar_opt)AR_OPT_STR("branch", &branch, "NAME", "branch to create (default reproduce/ID)"), &kb);
    char out[256];
    if (ar_patch_checkout(".", &kb, card, branch, out) != 0)
        ar_die_last();
    puts(out);
    return AR_OK;
}

/* ------------------------------------------------------------------- main */

static const struct ar_cmd commands[] = {
    {"write", cmd_write, "validate and store a new card; print its id"},
    {"show", cmd_show, "print cards with their notes"},
    {"list", cmd_list, "list cards (table or --json), with filters"},
    {"query", cmd_query, "run a jq filter over every card view"},
    {"note", cmd_note, "add a lesson, status override or comment to a card"},
    {"retract", cmd_retract, "retract a card (it leaves all statistics)"},
    {"validate", cmd_validate, "check card and note files against the schema"},
    {"index", cmd_index, "rebuild or check index.db"},
    {"import", cmd_import, "import results.tsv or autoresearch-commons cards"},
    {"export", cmd_export, "write the cards as results.tsv"},
    {"checkout", cmd_checkout, "rebuild a card's code on a new branch from its patch"},
    {NULL, NULL, NULL},
};

static const char overview[] =
    "usage: ar-card COMMAND [OPTIONS]\n"
    "\n"
    "Experiment cards: the unit of shared knowledge. Cards and notes are\n"
    "immutable facts under the knowledge base (--kb DIR, $AR_KB, ./knowledge).\n";

int main(int argc, char **argv)
{
    ar_set_prog(argv[0]);
    return ar_cli_dispatch(commands, argc, argv, overview);
}

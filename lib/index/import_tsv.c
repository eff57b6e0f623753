/* results.tsv of autoresearch (lib/index/import.h ar_import_tsv), with its
 * meaning kept:
 *
 * - columns matched by name (commit, val_bpb, memory_gb, status,
 *   description; timestamp, peak_vram_mb, mfu, steps, ... as metrics;
 *   others kept in extra.columns); a metric column other than val_bpb is
 *   refused, naming it;
 * - the baseline: the row whose status or commit says "baseline" or whose
 *   description starts with it, else the first row with a val_bpb; a
 *   commit that is not hex is stored as absent, never a reason to drop a
 *   row;
 * - each row's delta is against the best kept row before it (the branch
 *   tip it was tried on, as autoresearch decides keep and discard), and
 *   `baseline` names that card;
 * - seed-only reruns become replicate cards: `verifies` the run they
 *   repeat, with its config_hash (an imported card's config_hash stands
 *   for its code state: the session and the commit, or the line);
 * - changes and category from the description through the vocabulary
 *   (index/vocab.h), or with --repo from the commit's diff of train.py;
 * - created keeps the rows' order: one second apart ending at the file's
 *   modification time, a timestamp column's times, or with --repo each
 *   commit's time; always increasing.
 *
 * All rows are converted before anything is stored; the cards go in as
 * one batch. */
#define _GNU_SOURCE   /* timegm, strcasestr */
#include "index/import_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/sha256.h"
#include "facts/card.h"
#include "facts/id.h"
#include "facts/schema.h"
#include "index/vocab.h"

#define TSV_MAX (64L << 20)
#define MAX_COLS 64

/* ---------------------------------------------------------------- columns */

enum col_kind { COL_OTHER, COL_COMMIT, COL_BPB, COL_MEM_GB, COL_MEM_MB, COL_STATUS, COL_DESC, COL_TIME,
                COL_METRIC };

struct column {
    const char *name;    /* as in the header, lower-cased */
    enum col_kind kind;
    const char *metric;  /* COL_METRIC: the card's metric name */
};

/* Column names (lower case) -> what they are. */
static const struct {
    const char *name;
    enum col_kind kind;
    const char *metric;
} known_columns[] = {
    {"commit", COL_COMMIT, NULL}, {"hash", COL_COMMIT, NULL}, {"sha", COL_COMMIT, NULL},
    {"val_bpb", COL_BPB, NULL}, {"bpb", COL_BPB, NULL},
    {"memory_gb", COL_MEM_GB, NULL}, {"memory", COL_MEM_GB, NULL}, {"mem_gb", COL_MEM_GB, NULL},
    {"vram_gb", COL_MEM_GB, NULL}, {"peak_vram_gb", COL_MEM_GB, NULL}, {"peak_memory_gb", COL_MEM_GB, NULL},
    {"peak_vram_mb", COL_MEM_MB, NULL}, {"peak_mem_mb", COL_MEM_MB, NULL}, {"memory_mb", COL_MEM_MB, NULL},
    {"status", COL_STATUS, NULL}, {"result", COL_STATUS, NULL}, {"decision", COL_STATUS, NULL},
    {"description", COL_DESC, NULL}, {"desc", COL_DESC, NULL}, {"hypothesis", COL_DESC, NULL},
    {"notes", COL_DESC, NULL}, {"change", COL_DESC, NULL}, {"experiment", COL_DESC, NULL},
    {"timestamp", COL_TIME, NULL}, {"time", COL_TIME, NULL}, {"date", COL_TIME, NULL},
    {"created", COL_TIME, NULL}, {"datetime", COL_TIME, NULL},
    {"training_seconds", COL_METRIC, "training_seconds"}, {"train_seconds", COL_METRIC, "training_seconds"},
    {"total_seconds", COL_METRIC, "total_seconds"},
    {"mfu", COL_METRIC, "mfu_percent"}, {"mfu_percent", COL_METRIC, "mfu_percent"},
    {"steps", COL_METRIC, "num_steps"}, {"num_steps", COL_METRIC, "num_steps"},
    {"params_m", COL_METRIC, "num_params_M"}, {"num_params_m", COL_METRIC, "num_params_M"},
    {"tokens_m", COL_METRIC, "total_tokens_M"}, {"total_tokens_m", COL_METRIC, "total_tokens_M"},
    {"depth", COL_METRIC, "depth"},
    {"tok_per_sec", COL_METRIC, "tokens_per_second"}, {"tokens_per_sec", COL_METRIC, "tokens_per_second"},
    {"tok_s", COL_METRIC, "tokens_per_second"},
};

/* A column that holds another metric than val_bpb: the log cannot compare
 * with val_bpb runs. */
static int other_metric(const char *name)
{
    static const char *const words[] = {"loss", "rmse", "mse", "mae", "score", "acc", "accuracy", "ppl",
                                        "perplexity", "metric", "f1", "auc", "error", NULL};
    if (strncmp(name, "val_", 4) == 0 || strncmp(name, "valid_", 6) == 0 || strncmp(name, "test_", 5) == 0)
        return 1;
    for (int i = 0; words[i]; i++)
        if (strstr(name, words[i]))
            return 1;
    return 0;
}

static void lower_trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    size_t k = 0;
    while (s[k] && isspace((unsigned char)s[k]))
        k++;
    memmove(s, s + k, n - k + 1);
    for (char *p = s; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

/* Splits line at tabs (in place) into at most max fields. */
static int split_tabs(char *line, char **f, int max)
{
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p; p++)
        if (*p == '\t') {
            *p = '\0';
            if (n == max)
                return max + 1;
            f[n++] = p + 1;
        }
    return n;
}

static char *p_empty(void)
{
    static char empty[1];
    return empty;
}

/* Splits line into n fields (in place); tabs past the n-1st stay in the
 * last field, as spaces (a description with tabs in it). */
static void split_fields(char *line, char **f, int n)
{
    int k = 0;
    f[k++] = line;
    for (char *p = line; *p; p++)
        if (*p == '\t') {
            if (k < n) {
                *p = '\0';
                f[k++] = p + 1;
            } else {
                *p = ' ';
            }
        }
    while (k < n)
        f[k++] = p_empty();
}

struct header {
    struct column col[MAX_COLS];
    int n;
    int at[COL_METRIC + 1];   /* the column of each kind but METRIC and OTHER, -1 when none */
};

static int parse_header(char *line, const char *path, struct header *h)
{
    char *f[MAX_COLS + 1];
    memset(h, 0, sizeof *h);
    for (int k = 0; k <= COL_METRIC; k++)
        h->at[k] = -1;
    if (!strchr(line, '\t') && strchr(line, ','))
        return ar_fail(AR_EINPUT, "%s:1: not tab-separated (a CSV?): results.tsv has a header of tab-separated "
                       "column names", path);
    h->n = split_tabs(line, f, MAX_COLS);
    if (h->n > MAX_COLS)
        return ar_fail(AR_EINPUT, "%s:1: more than %d columns", path, MAX_COLS);
    /* two names of one kind ("description" and "hypothesis"): the one
     * earlier in known_columns is it, the other an ordinary column */
    size_t rank[COL_METRIC + 1];
    for (int i = 0; i < h->n; i++) {
        lower_trim(f[i]);
        h->col[i].name = f[i];
        h->col[i].kind = COL_OTHER;
        size_t r = 0;
        for (size_t k = 0; k < sizeof known_columns / sizeof known_columns[0]; k++)
            if (strcmp(f[i], known_columns[k].name) == 0) {
                h->col[i].kind = known_columns[k].kind;
                h->col[i].metric = known_columns[k].metric;
                r = k;
                break;
            }
        for (int j = 0; j < i; j++)
            if (strcmp(h->col[j].name, f[i]) == 0)
                return ar_fail(AR_EINPUT, "%s:1: column '%s': given twice", path, f[i]);
        enum col_kind k = h->col[i].kind;
        if (k != COL_OTHER && k != COL_METRIC) {
            if (h->at[k] >= 0 && rank[k] < r) {
                h->col[i].kind = COL_OTHER;
                continue;
            }
            if (h->at[k] >= 0)
                h->col[h->at[k]].kind = COL_OTHER;
            h->at[k] = i;
            rank[k] = r;
        }
    }
    if (h->at[COL_BPB] < 0) {
        for (int i = 0; i < h->n; i++)
            if (h->col[i].kind == COL_OTHER && other_metric(h->col[i].name))
                return ar_fail(AR_EINPUT, "%s:1: column '%s': the log's metric is not val_bpb (ar compares "
                               "val_bpb only); nothing imported", path, h->col[i].name);
        return ar_fail(AR_EINPUT, "%s:1: not a results.tsv header (no val_bpb column; want commit, val_bpb, "
                       "memory_gb, status, description, tab-separated)", path);
    }
    if (h->at[COL_STATUS] < 0)
        return ar_fail(AR_EINPUT, "%s:1: no status column (keep, discard, crash per row)", path);
    if (h->at[COL_DESC] < 0)
        return ar_fail(AR_EINPUT, "%s:1: no description column", path);
    return 0;
}

/* ------------------------------------------------------------------- rows */

static int parse_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    while (isspace((unsigned char)*s))
        s++;
    *out = strtod(s, &end);
    while (isspace((unsigned char)*end))
        end++;
    return end != s && !*end && !errno && isfinite(*out) ? 0 : -1;
}

static int is_blank(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return !*s;
}

/* autoresearch's statuses and the synonyms logs use -> ar's */
static const char *status_of(const char *s)
{
    static const struct {
        const char *in, *out;
    } map[] = {
        {"keep", "keep"}, {"kept", "keep"}, {"best", "keep"}, {"improved", "keep"}, {"accept", "keep"},
        {"accepted", "keep"}, {"new best", "keep"},
        {"discard", "discard"}, {"discarded", "discard"}, {"revert", "discard"}, {"reverted", "discard"},
        {"reject", "discard"}, {"rejected", "discard"}, {"worse", "discard"},
        {"crash", "crash"}, {"crashed", "crash"}, {"fail", "crash"}, {"failed", "crash"}, {"error", "crash"},
        {"oom", "crash"}, {"timeout", "crash"},
        {"baseline", "baseline"}, {"inconclusive", "inconclusive"}, {"neutral", "inconclusive"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcasecmp(s, map[i].in) == 0)
            return map[i].out;
    return NULL;
}

/* "2026-03-08 12:00:00", "2026-03-08T12:00:00.5Z" or Unix seconds -> ms */
static int parse_time(const char *s, long long *ms)
{
    double secs;
    if (parse_number(s, &secs) == 0 && secs > 1e9 && secs < 1e11) {
        *ms = (long long)llround(secs * 1000);
        return 0;
    }
    struct tm tm = {0};
    int frac = 0, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &n) != 6)
        return -1;
    if (s[n] == '.') {
        int digits = 0;
        for (n++; isdigit((unsigned char)s[n]); n++)
            if (digits < 3)
                frac = frac * 10 + (s[n] - '0'), digits++;
        while (digits++ < 3)
            frac *= 10;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *ms = (long long)timegm(&tm) * 1000 + frac;
    return 0;
}

static void format_ms(long long ms, char out[AR_CREATED_LEN + 1])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[64];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    memcpy(out, buf, AR_CREATED_LEN);
    out[AR_CREATED_LEN] = '\0';
}

static int is_hex_commit(const char *s)
{
    size_t n = strlen(s);
    if (n < 7 || n > 40)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* 1 when the description starts with the word "baseline". */
static int says_baseline(const char *desc)
{
    while (isspace((unsigned char)*desc))
        desc++;
    return strncasecmp(desc, "baseline", 8) == 0 && !isalnum((unsigned char)desc[8]);
}

struct row {
    int line;
    char commit[41];          /* hex, lower case; "" when the log has none */
    const char *status;       /* ar's */
    const char *desc;
    int has_bpb;
    double bpb, mem_mb;
    int has_mem;
    long long t_ms;
    int has_t;
    int is_base;              /* recognised as a baseline */
    int replicate_of;         /* row index it repeats, -1 */
    long long seed;           /* -1 when not stated */
    jv metrics, other;        /* extra metrics, other columns */
    jv changes, code;         /* array (may be empty), code: array or invalid */
    jv dirs;                  /* {key: direction} of changes without a value, or invalid */
    jv described;             /* ar_vocab_describe of the description */
    const char *changes_from; /* "git", "description" or NULL */
    char category[32];
    const char *known_id;     /* its commit's card already in the knowledge base */
    char hash[65];            /* config_hash: its code state */
    jv card;                  /* completed; invalid when rejected */
    int rejected;
};

static void row_free(struct row *r)
{
    jv_free(r->metrics);
    jv_free(r->other);
    jv_free(r->changes);
    jv_free(r->code);
    jv_free(r->dirs);
    jv_free(r->described);
    jv_free(r->card);
}

/* Parses the fields of one data line into r; AR_EINPUT on a bad value. */
static int parse_row(const struct header *h, char **f, int nf, struct row *r)
{
    r->metrics = jv_object();
    r->other = jv_object();
    r->seed = -1;
    r->replicate_of = -1;
    const char *status = f[h->at[COL_STATUS]];
    char st[32];
    snprintf(st, sizeof st, "%s", status);
    lower_trim(st);
    r->status = status_of(st);
    if (!r->status)
        return ar_fail(AR_EINPUT, "status '%.40s' is not one of keep, discard, crash, baseline (or kept, best, "
                       "revert, reverted, fail)", status);
    r->desc = f[h->at[COL_DESC]];
    while (isspace((unsigned char)*r->desc))
        r->desc++;
    if (h->at[COL_COMMIT] >= 0) {
        char c[64];
        snprintf(c, sizeof c, "%s", f[h->at[COL_COMMIT]]);
        lower_trim(c);
        if (is_hex_commit(c))   /* at most 40 digits */
            memcpy(r->commit, c, strlen(c) + 1);
        r->is_base = strcmp(c, "baseline") == 0;
    }
    r->is_base |= strcmp(r->status, "baseline") == 0 || says_baseline(r->desc);
    const char *bpb = f[h->at[COL_BPB]];
    if (strcmp(r->status, "crash") != 0) {
        if (parse_number(bpb, &r->bpb) != 0)
            return ar_fail(AR_EINPUT, "val_bpb '%.40s' is not a number", bpb);
        r->has_bpb = 1;
    }
    for (int i = 0; i < h->n && i < nf; i++) {
        const struct column *c = &h->col[i];
        const char *v = f[i];
        double x;
        if (is_blank(v))
            continue;
        switch (c->kind) {
        case COL_MEM_GB:
        case COL_MEM_MB:
            if (parse_number(v, &x) != 0 || x < 0)
                return ar_fail(AR_EINPUT, "%s '%.40s' is not a number", c->name, v);
            if (x > 0) {
                r->mem_mb = c->kind == COL_MEM_GB ? round(x * 1024 * 10) / 10 : x;
                r->has_mem = 1;
            }
            break;
        case COL_TIME:
            if (parse_time(v, &r->t_ms) != 0)
                return ar_fail(AR_EINPUT, "%s '%.40s' is not a time (like 2026-03-08T12:00:00Z)", c->name, v);
            r->has_t = 1;
            break;
        case COL_METRIC:
            if (parse_number(v, &x) != 0)
                return ar_fail(AR_EINPUT, "%s '%.40s' is not a number", c->name, v);
            ar_jv_set(&r->metrics, c->metric, jv_number(x));
            break;
        case COL_OTHER:
            ar_jv_set(&r->other, c->name, jv_string(v));
            break;
        default:
            break;
        }
    }
    return 0;
}

/* ------------------------------------------------------------- replicates */

/* The description without a rerun marker into out; 1 when it had one. */
static int strip_rerun(const char *desc, char *out, size_t max)
{
    static const char *const marks[] = {"[re-run]", "[rerun]", "(re-run)", "(rerun)", "re-run of", "rerun of",
                                        "re-run", "rerun", "replicate of", "replicate", "repeat of", NULL};
    snprintf(out, max, "%s", desc);
    for (int i = 0; marks[i]; i++) {
        char *p = strcasestr(out, marks[i]);
        if (p) {
            size_t m = strlen(marks[i]);
            memmove(p, p + m, strlen(p + m) + 1);
            lower_trim(out);
            /* "control rerun of the baseline": the words around the marker */
            return 1;
        }
    }
    lower_trim(out);
    return 0;
}

/* "random seed 42 to 137", "seed=7", "seed 137": the seed run, or -1; *only
 * is 1 when the description is about nothing else. */
static long long seed_of(const char *desc, int *only)
{
    const char *p = strcasestr(desc, "seed");
    *only = 0;
    if (!p)
        return -1;
    const char *q = p + 4;
    while (*q && !isdigit((unsigned char)*q) && (isspace((unsigned char)*q) || *q == '=' || *q == ':'))
        q++;
    long long a = -1, b = -1;
    if (isdigit((unsigned char)*q)) {
        a = strtoll(q, (char **)&q, 10);
        while (isspace((unsigned char)*q))
            q++;
        if (strncasecmp(q, "to", 2) == 0 || strncmp(q, "->", 2) == 0) {
            q += 2;
            while (isspace((unsigned char)*q))
                q++;
            if (isdigit((unsigned char)*q))
                b = strtoll(q, (char **)&q, 10);
        }
    }
    /* seed-only: nothing but "random"/"change"/"set" before, nothing after */
    char before[64];
    snprintf(before, sizeof before, "%.*s", (int)(p - desc < 63 ? p - desc : 63), desc);
    lower_trim(before);
    while (isspace((unsigned char)*q) || *q == ')' || *q == '(')
        q++;
    *only = (!before[0] || !strcmp(before, "random") || !strcmp(before, "change") || !strcmp(before, "set") ||
             !strcmp(before, "different") || !strcmp(before, "new")) && !*q;
    return b >= 0 ? b : a;
}

/* 1 when the vocabulary finds no change but the seed in text. */
static int no_changes(const char *text)
{
    jv d = ar_vocab_describe(text);
    jv ch = ar_jv_get(d, "changes");
    int none = 1;
    if (jv_get_kind(ch) == JV_KIND_ARRAY)
        jv_array_foreach(ch, i, c) {
            const char *k = ar_jv_str(c, "key");
            if (!k || strcmp(k, "seed") != 0)
                none = 0;
            jv_free(c);
        }
    jv_free(ch);
    jv_free(d);
    return none;
}

/* Which earlier row row i repeats, or -1: a seed-only description, or a
 * rerun marker whose rest names an earlier row's description, the
 * baseline, or nothing new. */
static int replicate_of(struct row *rows, int i, int base, int tip)
{
    int only;
    long long seed = seed_of(rows[i].desc, &only);
    if (seed >= 0)
        rows[i].seed = seed;
    if (seed >= 0 && only)
        return tip;
    if (base >= 0 && says_baseline(rows[i].desc) && strcasecmp(rows[i].desc, rows[base].desc) == 0)
        return base;
    char rest[2048];
    if (!strip_rerun(rows[i].desc, rest, sizeof rest))
        return -1;
    for (int j = i - 1; j >= 0; j--) {
        char other[2048];
        strip_rerun(rows[j].desc, other, sizeof other);
        if (rest[0] && strcmp(rest, other) == 0 && !rows[j].rejected)
            return j;
    }
    if (strstr(rest, "baseline") && base >= 0)
        return base;
    return no_changes(rest) ? tip : -1;
}

/* ---------------------------------------------------------------- changes */

/* The changes of a vocabulary result (borrowed) in the card's form
 * {key, from, to}, resolved against the values at the branch tip (state,
 * borrowed: {key: value} of the kept changes so far; "halve batch" with
 * the batch known); one whose value is the tip's already is left out. A
 * change known only by a direction or a factor keeps
 * its key, and what is known of it goes to *dirs {key: "up"|"x0.5"|...}. */
static jv card_changes(jv described, jv state, jv *dirs)
{
    jv out = jv_array();
    jv ch = ar_jv_get(described, "changes");
    if (jv_get_kind(ch) == JV_KIND_ARRAY)
        jv_array_foreach(ch, i, c) {
            const char *k = ar_jv_str(c, "key");
            if (k && *k) {
                jv from = ar_jv_get(state, k);
                jv e = ar_vocab_card_change(c, jv_is_valid(from) ? from : (jv_free(from), jv_invalid()));
                if (!jv_is_valid(e)) {
                    jv_free(e);
                    e = jv_object();
                    ar_jv_set(&e, "key", jv_string(k));
                    char what[64] = "change";
                    const char *dir = ar_jv_str(c, "direction");
                    if (ar_jv_has(c, "factor"))
                        snprintf(what, sizeof what, "x%g", ar_jv_num(c, "factor", 1));
                    else if (dir)
                        snprintf(what, sizeof what, "%s", dir);
                    if (!jv_is_valid(*dirs))
                        *dirs = jv_object();
                    ar_jv_set(dirs, k, jv_string(what));
                }
                jv f = ar_jv_get(e, "from"), t = ar_jv_get(e, "to");
                int same = jv_is_valid(f) && jv_get_kind(f) != JV_KIND_NULL && jv_is_valid(t) &&
                           jv_equal(jv_copy(f), jv_copy(t));
                jv_free(f);
                jv_free(t);
                if (same)
                    jv_free(e);   /* "DEPTH=4" restating the value at the tip: no change */
                else
                    out = jv_array_append(out, e);
            }
            jv_free(c);
        }
    jv_free(ch);
    return out;
}

/* The values at the tip after a kept row's changes. */
static void advance_state(jv *state, jv changes)
{
    jv_array_foreach(changes, i, c) {
        const char *k = ar_jv_str(c, "key");
        jv to = ar_jv_get(c, "to");
        if (k && jv_is_valid(to))
            ar_jv_set(state, k, to);
        else
            jv_free(to);
        jv_free(c);
    }
}

static void category_of(jv described, const struct ar_import_opts *o, char out[32])
{
    const char *c = ar_jv_str(described, "category");
    snprintf(out, 32, "%s", c && *c ? c : o->category ? o->category : "other");
}

/* ---------------------------------------------------------------- session */

/* The session of a file: its name without .tsv, or where that says only
 * "results", the repository's branch or the file's folder. */
static void session_of(const char *path, const struct ar_import_opts *o, struct ix_repo *repo, char *out,
                       size_t max)
{
    if (o->session) {
        snprintf(out, max, "%s", o->session);
        return;
    }
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    snprintf(out, max, "%s", base);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = '\0';
    if (strcasecmp(out, "results") != 0 && out[0])
        return;
    if (repo && ix_repo_name(repo)[0]) {
        snprintf(out, max, "%s", ix_repo_name(repo));
        return;
    }
    char dir[PATH_MAX];
    if (!realpath(path, dir))
        snprintf(dir, sizeof dir, "%s", path);
    char *s = strrchr(dir, '/');
    if (s && s != dir) {
        *s = '\0';
        s = strrchr(dir, '/');
        const char *name = s ? s + 1 : dir;
        size_t l = strlen(name);
        if (l >= max)
            l = max - 1;
        memcpy(out, name, l);
        out[l] = '\0';
    }
    if (!out[0] || strcasecmp(out, "results") == 0)
        snprintf(out, max, "results");
}

/* --------------------------------------------------------------- the file */

struct file {
    const char *path;
    char *text;
    char **lines;
    size_t nlines;
    struct row *rows;
    int nrows;
};

static void file_free(struct file *f)
{
    for (int i = 0; i < f->nrows; i++)
        row_free(&f->rows[i]);
    free(f->rows);
    free(f->lines);
    free(f->text);
}

static int read_lines(struct file *f)
{
    size_t len;
    if (ar_read_file(f->path, TSV_MAX, &f->text, &len) != 0)
        return -1;
    if (!ar_utf8_valid(f->text, len))
        return ar_fail(AR_EINPUT, "%s: invalid UTF-8", f->path);
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += f->text[i] == '\n';
    f->lines = ar_xmalloc((n + 2) * sizeof *f->lines);
    for (char *p = f->text; p < f->text + len;) {
        char *nl = memchr(p, '\n', (size_t)(f->text + len - p));
        if (nl)
            *nl = '\0';
        size_t l = strlen(p);
        if (l && p[l - 1] == '\r')
            p[l - 1] = '\0';
        f->lines[f->nlines++] = p;
        p = nl ? nl + 1 : f->text + len;
    }
    if (f->nlines == 0)
        return ar_fail(AR_EINPUT, "%s: empty, not a results.tsv", f->path);
    return 0;
}

/* Times for every row: given ones kept, the others one second after the
 * row before (or before the row after), then made strictly increasing. */
static void fill_times(struct file *f)
{
    struct stat sb;
    long long end = stat(f->path, &sb) == 0 ? (long long)sb.st_mtime * 1000 : 0;
    long long now = (long long)time(NULL) * 1000, span = (long long)f->nrows * 1000;
    if (end - span < 1577836800000LL || end > now)   /* a copy dated before 2020 or ahead: now */
        end = now;
    int first = -1;
    for (int i = 0; i < f->nrows && first < 0; i++)
        if (f->rows[i].has_t)
            first = i;
    if (first < 0) {   /* none: one second apart, ending at the file's time */
        for (int i = 0; i < f->nrows; i++)
            f->rows[i].t_ms = end - (long long)(f->nrows - 1 - i) * 1000;
    } else {
        for (int i = first - 1; i >= 0; i--)
            f->rows[i].t_ms = f->rows[i + 1].t_ms - 1000;
        for (int i = first + 1; i < f->nrows; i++)
            if (!f->rows[i].has_t)
                f->rows[i].t_ms = f->rows[i - 1].t_ms + 1000;
    }
    for (int i = 1; i < f->nrows; i++)
        if (f->rows[i].t_ms <= f->rows[i - 1].t_ms)
            f->rows[i].t_ms = f->rows[i - 1].t_ms + 1;
}

static void code_hash(const char *session, const struct row *r, char out[65])
{
    char key[512];
    if (r->commit[0])
        snprintf(key, sizeof key, "results.tsv\n%s\ncommit %.7s", session, r->commit);
    else
        snprintf(key, sizeof key, "results.tsv\n%s\nline %d", session, r->line);
    ar_sha256_hex(key, strlen(key), out);
}

/* The card of row i, completed into r->card. tip: the row it was tried on
 * (its delta's reference), -1 when none. */
static int build_card(struct file *f, int i, int tip, const struct ar_import_opts *o, const char *cls,
                      const char *session, double budget)
{
    struct row *r = &f->rows[i];
    jv card = jv_object();
    char created[AR_CREATED_LEN + 1];
    format_ms(r->t_ms, created);
    ar_jv_set(&card, "created", jv_string(created));
    if (r->commit[0])
        ar_jv_set(&card, "commit", jv_string(r->commit));
    int base = r->is_base && r->replicate_of < 0;
    ar_jv_set(&card, "status", jv_string(base ? "baseline" : r->status));
    ar_jv_set(&card, "hypothesis", jv_string(r->desc[0] ? r->desc : "(no description in the log)"));
    ar_jv_set(&card, "category", jv_string(base ? "baseline" : r->category));
    ar_jv_set(&card, "tags", jv_array_append(jv_array(), jv_string("imported")));
    ar_jv_set(&card, "platform", ix_platform_of_class(cls));
    ar_jv_set(&card, "session", jv_string(session));
    if (o->agent)
        ar_jv_set(&card, "agent", jv_string(o->agent));
    ar_jv_set(&card, "budget_s", jv_number(budget));
    if (o->data) {
        jv d = jv_object();
        ar_jv_set(&d, "corpus", jv_string(o->data));
        ar_jv_set(&d, "fingerprint", jv_string(o->data));
        ar_jv_set(&card, "data", d);
    }
    jv m = jv_copy(r->metrics);
    if (r->has_bpb)
        ar_jv_set(&m, "val_bpb", jv_number(r->bpb));
    if (r->has_mem)
        ar_jv_set(&m, "peak_mem_mb", jv_number(r->mem_mb));
    ar_jv_set(&card, "metrics", m);
    if (jv_array_length(jv_copy(r->changes)) > 0)
        ar_jv_set(&card, "changes", jv_copy(r->changes));
    ar_jv_set(&card, "config_hash", jv_string(r->hash));
    if (r->seed >= 0)
        ar_jv_set(&card, "seed", jv_number((double)r->seed));
    if (r->replicate_of >= 0 && jv_is_valid(f->rows[r->replicate_of].card))
        ar_jv_set(&card, "verifies", jv_string(ar_jv_str(f->rows[r->replicate_of].card, "id")));
    if (tip >= 0 && tip != i && jv_is_valid(f->rows[tip].card)) {
        const struct row *t = &f->rows[tip];
        ar_jv_set(&card, "baseline", jv_string(t->known_id ? t->known_id : ar_jv_str(t->card, "id")));
        if (r->has_bpb && t->has_bpb)
            ar_jv_set(&card, "delta", jv_number(round((r->bpb - t->bpb) * 1e9) / 1e9));
    }
    jv extra = jv_object();
    ar_jv_set(&extra, "imported_from", jv_string("results.tsv"));
    const char *slash = strrchr(f->path, '/');
    ar_jv_set(&extra, "source", jv_string(slash ? slash + 1 : f->path));
    ar_jv_set(&extra, "line", jv_number(r->line));
    if (base && strcmp(r->status, "baseline") != 0)
        ar_jv_set(&extra, "status_in_log", jv_string(r->status));
    if (jv_is_valid(r->dirs))
        ar_jv_set(&extra, "change_directions", jv_copy(r->dirs));
    if (r->changes_from)
        ar_jv_set(&extra, "changes_from", jv_string(r->changes_from));
    if (jv_is_valid(r->code) && jv_array_length(jv_copy(r->code)) > 0)
        ar_jv_set(&extra, "code_changes", jv_copy(r->code));
    if (jv_object_length(jv_copy(r->other)) > 0)
        ar_jv_set(&extra, "columns", jv_copy(r->other));
    ar_jv_set(&card, "extra", extra);
    if (ar_card_complete(&card) != 0) {
        jv_free(card);
        return -1;
    }
    r->card = card;
    return 0;
}

/* What a row means, before its place in the branch is known: with a
 * repository that has its commit, the commit's time and its diff of
 * train.py (exact changes); its description through the vocabulary. */
static void row_meaning(struct row *r, struct ix_repo *repo, const struct ar_import_opts *o)
{
    r->described = ar_vocab_describe(r->desc);
    r->changes = jv_array();
    if (repo && r->commit[0]) {
        long long t;
        char full[41];
        jv diff;
        if (ix_repo_commit(repo, r->commit, &t, full, &diff) == 0) {
            snprintf(r->commit, sizeof r->commit, "%s", full);
            if (!r->has_t) {
                r->t_ms = t * 1000;
                r->has_t = 1;
            }
            if (jv_is_valid(diff)) {
                jv_free(r->changes);
                r->changes = ar_jv_get(diff, "changes");
                if (jv_get_kind(r->changes) != JV_KIND_ARRAY) {
                    jv_free(r->changes);
                    r->changes = jv_array();
                }
                r->code = ar_jv_get(diff, "code");
                r->changes_from = "git";
            }
            jv_free(diff);
        }
    }
    category_of(r->described, o, r->category);
    if (strcmp(r->category, "other") == 0 && jv_array_length(jv_copy(r->changes)) > 0) {
        jv c0 = jv_array_get(jv_copy(r->changes), 0);
        const char *k = ar_jv_str(c0, "key");
        snprintf(r->category, sizeof r->category, "%s", k ? ar_vocab_category(k) : "other");
        jv_free(c0);
    }
}

/* The changes of row r from its description where its commit gave none. */
static void row_changes(struct row *r, jv state)
{
    if (jv_array_length(jv_copy(r->changes)) > 0)
        return;
    jv_free(r->changes);
    r->changes = card_changes(r->described, state, &r->dirs);
    r->changes_from = jv_array_length(jv_copy(r->changes)) > 0 ? "description" : NULL;
}

int ar_import_tsv(const struct ar_kb *kb, const char *path, const struct ar_import_opts *o,
                  struct ar_import_stats *st)
{
    char cls[65];
    if (!o->platform)
        return ar_fail(AR_EINPUT, "import %s: --platform CLASS is required for results.tsv", path);
    if (ar_import_platform(o->platform, cls) != 0)
        return -1;
    struct file f = {.path = path};
    struct header h;
    if (read_lines(&f) != 0 || parse_header(f.lines[0], path, &h) != 0) {
        file_free(&f);
        return -1;
    }
    struct ix_repo *repo = NULL;
    if (o->repo && ix_repo_open(o->repo, &repo) != 0) {
        file_free(&f);
        return -1;
    }
    char session[129];
    session_of(path, o, repo, session, sizeof session);
    double budget = o->budget_s > 0 ? o->budget_s : AR_IMPORT_BUDGET_S;
    struct ix_commits known;
    if (ix_commits_load(kb, &known) != 0) {
        ix_repo_close(repo);
        file_free(&f);
        return -1;
    }

    /* parse every row */
    f.rows = ar_xmalloc((f.nlines + 1) * sizeof *f.rows);
    int data_rows = 0, rejected = 0;
    for (size_t i = 1; i < f.nlines; i++) {
        if (is_blank(f.lines[i]))
            continue;
        data_rows++;
        char *fields[MAX_COLS + 1];
        int nf = 1;
        for (const char *p = f.lines[i]; *p; p++)
            nf += *p == '\t';
        split_fields(f.lines[i], fields, h.n);
        struct row *r = &f.rows[f.nrows];
        memset(r, 0, sizeof *r);
        r->line = (int)(i + 1);
        r->metrics = r->other = r->changes = r->code = r->dirs = r->described = r->card = jv_invalid();
        int rc = 0;
        if (nf < h.n)
            rc = ar_fail(AR_EINPUT, "want %d tab-separated columns, got %d", h.n, nf);
        else if (nf > h.n && h.at[COL_DESC] != h.n - 1)
            rc = ar_fail(AR_EINPUT, "more than %d tab-separated columns", h.n);
        else
            rc = parse_row(&h, fields, h.n, r);
        if (rc == 0)
            row_meaning(r, repo, o);
        if (rc != 0) {
            ar_warn("%s:%d: %s; row skipped", path, r->line, ar_last_error());
            row_free(r);
            rejected++;
            continue;
        }
        f.nrows++;
    }
    fill_times(&f);

    /* the baseline, the tips, the replicates, the cards, in order */
    int base = -1, tip = -1;
    for (int i = 0; i < f.nrows && base < 0; i++)
        if (f.rows[i].is_base)
            base = i;
    for (int i = 0; i < f.nrows && base < 0; i++)
        if (f.rows[i].has_bpb) {
            base = i;
            f.rows[i].is_base = 1;
        }
    int rc = 0;
    jv state = jv_object();   /* the values at the tip, as far as the rows say */
    for (int i = 0; i < f.nrows && rc == 0; i++) {
        struct row *r = &f.rows[i];
        if (r->commit[0])
            r->known_id = ix_commits_find(&known, r->commit);
        if (i == base) {
            r->replicate_of = -1;
        } else {
            r->is_base = 0;   /* one baseline card per log; a later one repeats it or is an experiment */
            r->replicate_of = replicate_of(f.rows, i, base, tip);
        }
        row_changes(r, state);
        if (r->replicate_of >= 0) {
            memcpy(r->hash, f.rows[r->replicate_of].hash, sizeof r->hash);
            jv_free(r->changes);
            r->changes = jv_array();
            r->changes_from = NULL;
        } else {
            code_hash(session, r, r->hash);
        }
        if (build_card(&f, i, i == base ? -1 : tip, o, cls, session, budget) != 0) {
            ar_warn("%s:%d: %s; row skipped", path, r->line, ar_last_error());
            r->rejected = 1;
            rejected++;
            continue;
        }
        /* the branch tip: the best kept row so far */
        int kept = i == base || strcmp(r->status, "keep") == 0;
        if (kept && r->has_bpb && r->replicate_of < 0 && (tip < 0 || r->bpb < f.rows[tip].bpb)) {
            tip = i;
            advance_state(&state, r->changes);
        }
        if (r->is_base || r->replicate_of >= 0 || jv_array_length(jv_copy(r->changes)) > 0)
            st->structured++;
        else
            ix_free_row(st, path, r->line, r->desc);
    }
    jv_free(state);
    st->skipped += rejected;
    int accepted = 0;
    jv cards = jv_array();
    double best = INFINITY;
    for (int i = 0; i < f.nrows; i++) {
        struct row *r = &f.rows[i];
        if (r->rejected || !jv_is_valid(r->card))
            continue;
        accepted++;
        if (r->has_bpb && (i == base || strcmp(r->status, "keep") == 0) && r->bpb < best)
            best = r->bpb;
        if (r->known_id)
            st->existing++;
        else
            cards = jv_array_append(cards, jv_copy(r->card));
    }
    if (rc == 0 && data_rows > 0 && accepted == 0)
        rc = ar_fail(AR_EINPUT, "%s: every row was rejected (%d); nothing imported", path, data_rows);
    if (rc == 0)
        rc = ix_store_batch(kb, cards, st);
    else
        jv_free(cards);
    if (rc == 0 && st->collect) {
        if (!jv_is_valid(st->files))
            st->files = jv_array();
        jv s = jv_object();
        ar_jv_set(&s, "file", jv_string(path));
        ar_jv_set(&s, "rows", jv_number(accepted));
        ar_jv_set(&s, "session", jv_string(session));
        int have_base = base >= 0 && f.rows[base].has_bpb && !f.rows[base].rejected;
        ar_jv_set(&s, "baseline", have_base ? jv_number(f.rows[base].bpb) : jv_null());
        ar_jv_set(&s, "best", isfinite(best) ? jv_number(best) : jv_null());
        ar_jv_set(&s, "best_delta", have_base && isfinite(best)
                                        ? jv_number(round((best - f.rows[base].bpb) * 1e6) / 1e6)
                                        : jv_null());
        st->files = jv_array_append(st->files, s);
    }
    ix_commits_free(&known);
    ix_repo_close(repo);
    file_free(&f);
    return rc;
}

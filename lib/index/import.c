#define _GNU_SOURCE   /* timegm */
#include "index/import.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "facts/card.h"
#include "index/store.h"
#include "base/err.h"
#include "facts/id.h"
#include "index/index.h"
#include "base/json.h"
#include "base/jtext.h"
#include "facts/note.h"
#include "facts/schema.h"

#define TSV_MAX (64L << 20)
#define TSV_COLUMNS "commit\tval_bpb\tmemory_gb\tstatus\tdescription"

/* ------------------------------------------------------------------ common */

/* created + secs seconds, in the created form. */
static void time_add(const char *created, long secs, char out[AR_CREATED_LEN + 1])
{
    struct tm tm = {0};
    tm.tm_year = atoi(created) - 1900;
    tm.tm_mon = atoi(created + 5) - 1;
    tm.tm_mday = atoi(created + 8);
    tm.tm_hour = atoi(created + 11);
    tm.tm_min = atoi(created + 14);
    tm.tm_sec = atoi(created + 17);
    time_t t = timegm(&tm) + secs;
    gmtime_r(&t, &tm);
    char buf[64];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%.3sZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, created + 20);
    memcpy(out, buf, AR_CREATED_LEN);
    out[AR_CREATED_LEN] = '\0';
}

static jv platform_of_class(const char *cls)
{
    jv p = jv_object();
    ar_jv_set(&p, "class", jv_string(cls));
    return p;
}

/* The commits of the cards already in the knowledge base. */
struct commits {
    char **v;
    size_t n, cap;
};

static int collect_commit(char *line, size_t len, void *ctx)
{
    struct commits *c = ctx;
    struct ar_jmember m[64];
    int n = ar_jtext_members(line, len, m, 64);
    int i = n > 0 && n <= 64 ? ar_jtext_find(line, m, n, "commit") : -1;
    if (i < 0 || m[i].vallen < 3)
        return 0;
    if (c->n == c->cap)
        c->v = ar_xrealloc(c->v, (c->cap = c->cap ? 2 * c->cap : 256) * sizeof *c->v);
    char *s = ar_xmalloc(m[i].vallen - 1);
    memcpy(s, line + m[i].val + 1, m[i].vallen - 2);
    s[m[i].vallen - 2] = '\0';
    c->v[c->n++] = s;
    return 0;
}

/* 1 when one of the commits starts with commit, or commit with it. */
static int known_commit(const struct commits *c, const char *commit)
{
    size_t n = strlen(commit);
    for (size_t i = 0; i < c->n; i++) {
        size_t m = strlen(c->v[i]);
        if (strncmp(c->v[i], commit, m < n ? m : n) == 0)
            return 1;
    }
    return 0;
}

static void free_commits(struct commits *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i]);
    free(c->v);
}

/* Stores a completed card and the notes that go with it (created with the
 * card, so a re-import gives the same ids). */
static int store_with_notes(const struct ar_kb *kb, jv card, jv notes, struct ar_import_stats *st)
{
    char id[AR_ID_LEN + 1], path[PATH_MAX];
    ar_kb_card_path(kb, ar_jv_str(card, "id"), path);
    int existed = access(path, F_OK) == 0;
    if (ar_store_card(kb, card, id) != 0)
        return -1;
    if (existed)
        st->existing++;
    else
        st->imported++;
    jv_array_foreach(notes, i, n) {
        char nid[AR_ID_LEN + 1];
        const char *kind = ar_jv_str(n, "kind");
        int rc = 0;
        /* the note's time is the card's, so a re-import gives the same note */
        rc = ar_store_note_at(kb, id, kind, ar_jv_str(n, "text"), NULL, ar_jv_str(card, "created"), nid);
        jv_free(n);
        if (rc < 0)
            return -1;
        st->notes += rc == 0;
    }
    return 0;
}

/* ------------------------------------------------------------- results.tsv */

/* Splits line into exactly want tab-separated fields (in place). */
static int split_tabs(char *line, char **f, int want)
{
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p; p++) {
        if (*p == '\t') {
            *p = '\0';
            if (n == want)
                return -1;
            f[n++] = p + 1;
        }
    }
    return n == want ? 0 : -1;
}

static int parse_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return *s && !isspace((unsigned char)*s) && !*end && !errno && isfinite(*out) ? 0 : -1;
}

struct row {
    jv card;
    int line;
    int known;   /* its commit is in the knowledge base already */
};

/* Converts one row; on failure the message is recorded (AR_EINPUT). */
static int tsv_card(char **f, const struct ar_import_opts *o, const char *created, jv *out)
{
    const char *commit = f[0], *status = f[3], *desc = f[4];
    double bpb, mem;
    jv c = jv_string(commit);
    int rc = ar_check_hex(c, "commit", 7, 40);
    jv_free(c);
    if (rc)
        return -1;
    if (parse_number(f[1], &bpb) != 0)
        return ar_fail(AR_EINPUT, "val_bpb '%.40s' is not a number", f[1]);
    if (parse_number(f[2], &mem) != 0 || mem < 0)
        return ar_fail(AR_EINPUT, "memory_gb '%.40s' is not a number", f[2]);
    jv card = jv_object();
    ar_jv_set(&card, "created", jv_string(created));
    ar_jv_set(&card, "commit", jv_string(commit));
    ar_jv_set(&card, "status", jv_string(status));
    ar_jv_set(&card, "hypothesis", jv_string(desc));
    int baseline = strcasecmp(desc, "baseline") == 0;
    ar_jv_set(&card, "category", jv_string(baseline ? "baseline" : o->category ? o->category : "other"));
    ar_jv_set(&card, "platform", platform_of_class(o->platform));
    if (o->session)
        ar_jv_set(&card, "session", jv_string(o->session));
    jv m = jv_object();
    if (strcmp(status, "crash") != 0)
        ar_jv_set(&m, "val_bpb", jv_number(bpb));
    if (mem > 0)
        ar_jv_set(&m, "peak_mem_mb", jv_number(round(mem * 1024 * 10) / 10));
    ar_jv_set(&card, "metrics", m);
    ar_jv_set(&card, "extra", jv_object_set(jv_object(), jv_string("imported_from"), jv_string("results.tsv")));
    *out = card;
    return 0;
}

int ar_import_tsv(const struct ar_kb *kb, const char *path, const struct ar_import_opts *o,
                  struct ar_import_stats *st)
{
    if (!o->platform)
        return ar_fail(AR_EINPUT, "import %s: --platform CLASS is required for results.tsv", path);
    jv cls = jv_string(o->platform);
    int rc = ar_check_tag(cls, "platform.class");
    jv_free(cls);
    if (rc)
        return ar_fail_prefix("option '--platform'");
    char *text;
    size_t len;
    if (ar_read_file(path, TSV_MAX, &text, &len) != 0)
        return -1;
    if (!ar_utf8_valid(text, len)) {
        free(text);
        return ar_fail(AR_EINPUT, "%s: invalid UTF-8", path);
    }
    /* lines */
    size_t nlines = 0;
    for (size_t i = 0; i < len; i++)
        nlines += text[i] == '\n';
    char **lines = ar_xmalloc((nlines + 2) * sizeof *lines);
    size_t n = 0;
    for (char *p = text; p < text + len;) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        if (nl)
            *nl = '\0';
        size_t l = strlen(p);
        if (l && p[l - 1] == '\r')
            p[l - 1] = '\0';
        lines[n++] = p;
        p = nl ? nl + 1 : text + len;
    }
    if (n == 0 || strcmp(lines[0], TSV_COLUMNS) != 0) {
        free(lines);
        free(text);
        return ar_fail(AR_EINPUT, "%s:1: not a results.tsv header (want: commit, val_bpb, memory_gb, status, "
                       "description, tab-separated)", path);
    }
    struct commits known = {0};
    if (ar_is_dir(kb->cards) && ar_index_foreach(kb, collect_commit, &known) != 0) {
        free(lines);
        free(text);
        return -1;
    }
    /* rows get times one second apart, ending now, so ids keep their order */
    char now[AR_CREATED_LEN + 1];
    ar_now_iso(now);
    struct row *rows = ar_xmalloc((n + 1) * sizeof *rows);
    size_t nrows = 0;
    for (size_t i = 1; i < n; i++) {
        if (!lines[i][0])
            continue;
        char *f[5], created[AR_CREATED_LEN + 1];
        time_add(now, -(long)(n - i), created);
        jv card;
        if (split_tabs(lines[i], f, 5) != 0) {
            ar_warn("%s:%zu: want 5 tab-separated columns; row skipped", path, i + 1);
            st->skipped++;
            continue;
        }
        if (tsv_card(f, o, created, &card) != 0 || ar_card_complete(&card) != 0) {
            ar_warn("%s:%zu: %s; row skipped", path, i + 1, ar_last_error());
            st->skipped++;
            continue;
        }
        rows[nrows].card = card;
        rows[nrows].line = (int)(i + 1);
        rows[nrows].known = known_commit(&known, f[0]);
        nrows++;
    }
    /* deltas against the file's baseline: the first row named "baseline",
     * else the first row with a val_bpb */
    int base = -1;
    for (size_t i = 0; i < nrows && base < 0; i++)
        if (strcmp(ar_jv_str(rows[i].card, "category"), "baseline") == 0)
            base = (int)i;
    for (size_t i = 0; i < nrows && base < 0; i++)
        if (strcmp(ar_jv_str(rows[i].card, "status"), "crash") != 0)
            base = (int)i;
    rc = 0;
    if (base >= 0 && rows[base].known)
        base = -1;   /* imported before, under another id: no deltas */
    for (size_t i = 0; i < nrows; i++) {
        jv card = rows[i].card;
        if (base >= 0 && (int)i != base && !rows[i].known) {
            jv bm = ar_jv_get(rows[base].card, "metrics"), m = ar_jv_get(card, "metrics");
            card = jv_object_delete(card, jv_string("id"));
            ar_jv_set(&card, "baseline", jv_string(ar_jv_str(rows[base].card, "id")));
            if (ar_jv_has(m, "val_bpb") && ar_jv_has(bm, "val_bpb"))
                ar_jv_set(&card, "delta", jv_number(round((ar_jv_num(m, "val_bpb", 0) -
                                                          ar_jv_num(bm, "val_bpb", 0)) * 1e9) / 1e9));
            jv_free(bm);
            jv_free(m);
            if (ar_card_complete(&card) != 0)
                rc = ar_fail_prefix("%s:%d", path, rows[i].line);
        }
        rows[i].card = card;
    }
    for (size_t i = 0; i < nrows; i++) {
        if (rows[i].known)
            st->existing++;
        else if (rc == 0) {
            jv none = jv_array();
            rc = store_with_notes(kb, rows[i].card, none, st);
            jv_free(none);
        }
        jv_free(rows[i].card);
    }
    free(rows);
    free_commits(&known);
    free(lines);
    free(text);
    return rc;
}

/* ---------------------------------------------------- autoresearch-commons */

static const char *const metric_names[] = {
    "val_bpb", "training_seconds", "total_seconds", "peak_mem_mb", "mfu_percent", "total_tokens_M",
    "num_steps", "num_params_M", "depth", "flops_per_token", NULL,
};

/* config_diff {key: value} or {key: {from, to}} (also old/new) -> changes */
static int commons_changes(jv diff, jv *out)
{
    *out = jv_array();
    if (jv_get_kind(diff) == JV_KIND_NULL || !jv_is_valid(diff))
        return 0;
    if (jv_get_kind(diff) != JV_KIND_OBJECT)
        return ar_fail(AR_EINPUT, "field 'config_diff': must be an object, not %s", ar_kind_name(diff));
    jv keys = jv_keys(jv_copy(diff));
    jv_array_foreach(keys, i, k) {
        jv v = jv_object_get(jv_copy(diff), jv_copy(k));
        jv c = jv_object();
        ar_jv_set(&c, "key", jv_copy(k));
        if (jv_get_kind(v) == JV_KIND_OBJECT && (ar_jv_has(v, "to") || ar_jv_has(v, "new"))) {
            const char *from = ar_jv_has(v, "from") ? "from" : "old", *to = ar_jv_has(v, "to") ? "to" : "new";
            if (ar_jv_has(v, from))
                ar_jv_set(&c, "from", ar_jv_get(v, from));
            ar_jv_set(&c, "to", ar_jv_get(v, to));
        } else {
            ar_jv_set(&c, "to", jv_copy(v));
        }
        *out = jv_array_append(*out, c);
        jv_free(v);
        jv_free(k);
    }
    jv_free(keys);
    return 0;
}

/* "2026-03-05T12:00:00Z" or with milliseconds -> the created form */
static int commons_created(const char *ts, char out[AR_CREATED_LEN + 1])
{
    if (!ts)
        return ar_fail(AR_EINPUT, "field 'timestamp': required");
    if (strlen(ts) == 20 && ts[19] == 'Z')
        snprintf(out, AR_CREATED_LEN + 1, "%.19s.000Z", ts);
    else
        snprintf(out, AR_CREATED_LEN + 1, "%s", ts);
    if (!ar_created_valid(out))
        return ar_fail(AR_EINPUT, "field 'timestamp': '%.40s' is not like 2026-03-05T12:00:00Z", ts);
    return 0;
}

static void slug(const char *s, char *out, size_t max)
{
    size_t n = 0;
    int dash = 0;
    for (; *s && n + 1 < max; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c)) {
            if (dash && n)
                out[n++] = '-';
            out[n++] = (char)tolower(c);
            dash = 0;
        } else {
            dash = 1;
        }
    }
    out[n] = '\0';
}

/* platform {gpu, ram_gb, framework} -> ours; the class is --platform, else
 * the device name as a tag ("NVIDIA H100 80GB HBM3" -> nvidia-h100-80gb-hbm3) */
static jv commons_platform(jv p, const struct ar_import_opts *o)
{
    const char *gpu = ar_jv_str(p, "gpu"), *fw = ar_jv_str(p, "framework");
    char cls[65];
    if (o->platform)
        snprintf(cls, sizeof cls, "%s", o->platform);
    else
        slug(gpu && *gpu ? gpu : "unknown", cls, sizeof cls);
    jv out = platform_of_class(cls[0] ? cls : "unknown");
    if (gpu)
        ar_jv_set(&out, "name", jv_string(gpu));
    if (fw && strstr(fw, "cuda"))
        ar_jv_set(&out, "device", jv_string("cuda"));
    else if (fw && strstr(fw, "mps"))
        ar_jv_set(&out, "device", jv_string("mps"));
    else if (fw)
        ar_jv_set(&out, "device", jv_string("cpu"));
    double ram = ar_jv_num(p, "ram_gb", -1);
    if (ram >= 0)
        ar_jv_set(&out, (fw && strstr(fw, "cuda")) ? "gpu_mem_gb" : "mem_gb", jv_number(ram));
    return out;
}

/* Converts a commons card; *notes gets the lesson and retraction. */
static int commons_card(jv in, const struct ar_import_opts *o, jv *out, jv *notes)
{
    *notes = jv_array();
    if (jv_get_kind(in) != JV_KIND_OBJECT)
        return ar_fail(AR_EINPUT, "card: must be a JSON object, not %s", ar_kind_name(in));
    char created[AR_CREATED_LEN + 1];
    if (commons_created(ar_jv_str(in, "timestamp"), created) != 0)
        return -1;
    const char *status = ar_jv_str(in, "status");
    if (!status)
        return ar_fail(AR_EINPUT, "field 'status': required");
    int retracted = strcmp(status, "retracted") == 0;
    jv card = jv_object();
    ar_jv_set(&card, "created", jv_string(created));
    /* commons records the experiment's commit as parent_commit */
    jv commit = ar_jv_get(in, "parent_commit");
    if (jv_is_valid(commit))
        ar_jv_set(&card, "commit", commit);
    else
        jv_free(commit);
    jv hyp = ar_jv_get(in, "hypothesis");
    if (jv_is_valid(hyp))
        ar_jv_set(&card, "hypothesis", hyp);
    else
        jv_free(hyp);
    ar_jv_set(&card, "status", jv_string(retracted ? "inconclusive" : status));
    ar_jv_set(&card, "category", jv_string(o->category ? o->category : "other"));
    if (o->session)
        ar_jv_set(&card, "session", jv_string(o->session));
    jv tags = ar_jv_get(in, "tags");
    if (jv_is_valid(tags) && jv_get_kind(tags) != JV_KIND_NULL)
        ar_jv_set(&card, "tags", tags);
    else
        jv_free(tags);
    jv changes;
    jv diff = ar_jv_get(in, "config_diff");
    int rc = commons_changes(diff, &changes);
    jv_free(diff);
    if (rc) {
        jv_free(changes);
        jv_free(card);
        return -1;
    }
    ar_jv_set(&card, "changes", changes);
    jv results = ar_jv_get(in, "results");
    jv m = jv_object();
    if (jv_get_kind(results) == JV_KIND_OBJECT) {
        for (int i = 0; metric_names[i]; i++) {
            jv v = ar_jv_get(results, metric_names[i]);
            if (jv_get_kind(v) == JV_KIND_NULL || !jv_is_valid(v))
                jv_free(v);
            else
                ar_jv_set(&m, metric_names[i], v);
        }
        jv vram = ar_jv_get(results, "peak_vram_mb");
        if (jv_get_kind(vram) == JV_KIND_NUMBER && !ar_jv_has(m, "peak_mem_mb"))
            ar_jv_set(&m, "peak_mem_mb", vram);
        else
            jv_free(vram);
        jv delta = ar_jv_get(results, "delta");
        if (jv_get_kind(delta) == JV_KIND_NUMBER)
            ar_jv_set(&card, "delta", delta);
        else
            jv_free(delta);
    }
    jv_free(results);
    if (strcmp(status, "crash") == 0)
        m = jv_object_delete(m, jv_string("val_bpb"));
    ar_jv_set(&card, "metrics", m);
    jv plat = ar_jv_get(in, "platform");
    ar_jv_set(&card, "platform", commons_platform(plat, o));
    jv_free(plat);
    jv extra = jv_object();
    ar_jv_set(&extra, "imported_from", jv_string("autoresearch-commons"));
    jv cid = ar_jv_get(in, "id");
    if (jv_get_kind(cid) == JV_KIND_STRING)
        ar_jv_set(&extra, "commons_id", cid);
    else
        jv_free(cid);
    jv prior = ar_jv_get(in, "prior_knowledge_used");
    if (jv_get_kind(prior) == JV_KIND_ARRAY && jv_array_length(jv_copy(prior)) > 0)
        ar_jv_set(&extra, "prior_knowledge_used", prior);
    else
        jv_free(prior);
    ar_jv_set(&card, "extra", extra);

    const char *lesson = ar_jv_str(in, "lesson");
    if (lesson && *lesson) {
        jv n = jv_object();
        ar_jv_set(&n, "kind", jv_string("lesson"));
        ar_jv_set(&n, "text", jv_string(lesson));
        *notes = jv_array_append(*notes, n);
    }
    if (retracted) {
        const char *why = ar_jv_str(in, "retraction_reason");
        jv n = jv_object();
        ar_jv_set(&n, "kind", jv_string("retract"));
        ar_jv_set(&n, "text", jv_string(why && *why ? why : "retracted in autoresearch-commons"));
        *notes = jv_array_append(*notes, n);
    }
    if (ar_card_complete(&card) != 0) {
        jv_free(card);
        return -1;
    }
    /* the notes must be valid too, before anything is stored */
    jv_array_foreach(*notes, i, n) {
        jv t = ar_jv_get(n, "text");
        if (rc == 0)
            rc = ar_check_text(t, "lesson", 1, AR_NOTE_TEXT_MAX, AR_TEXT_MULTILINE);
        jv_free(t);
        jv_free(n);
    }
    if (rc) {
        jv_free(card);
        return -1;
    }
    *out = card;
    return 0;
}

static int import_commons_file(const struct ar_kb *kb, const char *path, const struct ar_import_opts *o,
                               struct ar_import_stats *st)
{
    char *text;
    size_t len;
    jv in, card, notes = jv_invalid();
    if (ar_read_file(path, AR_CARD_MAX_BYTES * 4, &text, &len) != 0) {
        ar_warn("%s; card skipped", ar_last_error());
        st->skipped++;
        return 0;
    }
    int rc = ar_json_parse(text, len, path, &in);
    free(text);
    if (rc == 0) {
        rc = commons_card(in, o, &card, &notes);
        jv_free(in);
        if (rc)
            ar_fail_prefix("%s", path);
    }
    if (rc) {
        ar_warn("%s; card skipped", ar_last_error());
        jv_free(notes);
        st->skipped++;
        return 0;
    }
    rc = store_with_notes(kb, card, notes, st);
    jv_free(card);
    jv_free(notes);
    return rc;
}

int ar_import_commons(const struct ar_kb *kb, const char *path, const struct ar_import_opts *o,
                      struct ar_import_stats *st)
{
    if (o->platform) {
        jv cls = jv_string(o->platform);
        int rc = ar_check_tag(cls, "platform.class");
        jv_free(cls);
        if (rc)
            return ar_fail_prefix("option '--platform'");
    }
    if (!ar_is_dir(path))
        return import_commons_file(kb, path, o, st);
    size_t n;
    char **names = ar_list_ids(path, &n);
    if (!names)
        return ar_fail(AR_EFAIL, "%s: cannot read directory", path);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char file[PATH_MAX];
        if (snprintf(file, sizeof file, "%s/%s.json", path, names[i]) >= (int)sizeof file)
            continue;
        rc = import_commons_file(kb, file, o, st);
    }
    ar_free_ids(names, n);
    return rc;
}

/* ------------------------------------------------------------------ export */

struct export_ctx {
    const struct ar_filter *f;
    FILE *out;
};

static const char *tsv_status(const char *s)
{
    if (!strcmp(s, "keep") || !strcmp(s, "baseline"))
        return "keep";
    return !strcmp(s, "crash") ? "crash" : "discard";
}

static int export_line(char *line, size_t len, void *ctx)
{
    struct export_ctx *x = ctx;
    jv v;
    if (ar_json_parse(line, len, "index line", &v) != 0)
        return -1;
    if (jv_get_kind(ar_jv_get(v, "retracted")) == JV_KIND_TRUE || !ar_filter_match(x->f, v)) {
        jv_free(v);
        return 0;
    }
    jv m = ar_jv_get(v, "metrics");
    const char *commit = ar_jv_str(v, "commit"), *hyp = ar_jv_str(v, "hypothesis");
    const char *status = tsv_status(ar_jv_str(v, "status"));
    double bpb = strcmp(status, "crash") ? ar_jv_num(m, "val_bpb", 0) : 0;
    double mem = ar_jv_num(m, "peak_mem_mb", 0) / 1024;
    fprintf(x->out, "%.7s\t%.6f\t%.1f\t%s\t", commit ? commit : "0000000", bpb, mem, status);
    for (const char *p = hyp ? hyp : ""; *p && *p != '\n'; p++)
        fputc(*p == '\t' || *p == '\r' ? ' ' : *p, x->out);
    fputc('\n', x->out);
    jv_free(m);
    jv_free(v);
    return 0;
}

int ar_export_tsv(const struct ar_kb *kb, const struct ar_filter *f, FILE *out)
{
    struct export_ctx x = {f, out};
    fprintf(out, "%s\n", TSV_COLUMNS);
    return ar_index_foreach(kb, export_line, &x);
}

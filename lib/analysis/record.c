#include "analysis/record.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/verdict.h"
#include "base/atomic.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/sha256.h"
#include "facts/card.h"
#include "facts/config_keys.h"
#include "facts/patch.h"
#include "host/gitinfo.h"
#include "host/platform.h"
#include "index/store.h"
#include "index/trainpy.h"
#include "index/vocab.h"

#define LOG_MAX ((size_t)256 << 20)
#define REASON_MAX 1000
#define REASON_LINES 5
#define DEFAULT_BUDGET 300

/* ------------------------------------------------------------------------ */
/* the log */

/* The lines of a log; '\r' ends a line too (train.py redraws its progress
 * line with it). */
struct lines {
    const char *p, *end;
    int line;   /* the line number of p, from 1 */
    int no;     /* the line number of the segment last returned */
};

static int next_line(struct lines *it, const char **s, size_t *n)
{
    if (it->p >= it->end)
        return 0;
    const char *q = it->p;
    while (q < it->end && *q != '\n' && *q != '\r')
        q++;
    *s = it->p;
    *n = (size_t)(q - it->p);
    it->no = it->line;
    if (q < it->end) {
        if (*q == '\r' && q + 1 < it->end && q[1] == '\n')
            q++;
        if (*q == '\n')
            it->line++;
        q++;
    }
    it->p = q;
    return 1;
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && isspace((unsigned char)**s))
        (*s)++, (*n)--;
    while (*n > 0 && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* The summary's names for the card's metrics: train.py's and ar-train's. */
static const struct {
    const char *name, *metric;
} metric_names[] = {
    {"val_bpb", "val_bpb"},
    {"training_seconds", "training_seconds"},
    {"total_seconds", "total_seconds"},
    {"peak_vram_mb", "peak_mem_mb"},
    {"peak_mem_mb", "peak_mem_mb"},
    {"mfu_percent", "mfu_percent"},
    {"total_tokens_M", "total_tokens_M"},
    {"num_steps", "num_steps"},
    {"num_params_M", "num_params_M"},
    {"depth", "depth"},
    {"flops_per_token", "flops_per_token"},
};

static const char *metric_of(const char *name)
{
    for (size_t i = 0; i < sizeof metric_names / sizeof metric_names[0]; i++)
        if (strcmp(metric_names[i].name, name) == 0)
            return metric_names[i].metric;
    return NULL;
}

struct run_log {
    jv metrics;
    int artrain;               /* ar-train's summary: it has a card:, status: or peak_mem_mb: line */
    int val_nonfinite;         /* val_bpb: nan */
    char card[64];             /* ar-train's card: line */
    char reason[REASON_MAX + 1];
    double budget;             /* what the log says; 0: nothing */
};

/* "NAME: value" with NAME an identifier; 0 when the line is not that. */
static int key_value(const char *s, size_t n, char *key, size_t ksize, const char **v, size_t *vn)
{
    size_t i = 0;
    if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '_'))
        i++;
    if (i >= ksize)
        return 0;
    memcpy(key, s, i);
    key[i] = '\0';
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i >= n || s[i] != ':')
        return 0;
    *v = s + i + 1;
    *vn = n - i - 1;
    trim(v, vn);
    return 1;
}

static int parse_number(const char *v, size_t vn, double *out)
{
    char buf[64];
    if (vn == 0 || vn >= sizeof buf)
        return -1;
    memcpy(buf, v, vn);
    buf[vn] = '\0';
    char *end;
    *out = strtod(buf, &end);
    return end == buf || *end ? -1 : 0;
}

/* Copies text into out as valid UTF-8 (other bytes become '?'). */
static void copy_text(char *out, size_t size, const char *s, size_t n)
{
    if (n >= size)
        n = size - 1;
    /* never cut a UTF-8 sequence in two */
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80 && n < size - 1)
        n--;
    memcpy(out, s, n);
    out[n] = '\0';
    if (!ar_utf8_valid(out, n))
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)out[i] >= 0x80)
                out[i] = '?';
}

/* The last REASON_LINES lines that are not blank: why a run crashed. */
static void last_lines(const char *text, size_t len, char *out, size_t size)
{
    const char *start[REASON_LINES];
    size_t lens[REASON_LINES];
    int n = 0;
    struct lines it = {text, text + len, 1, 0};
    const char *s;
    size_t sn;
    while (next_line(&it, &s, &sn)) {
        trim(&s, &sn);
        if (sn == 0)
            continue;
        if (n == REASON_LINES) {
            memmove(start, start + 1, sizeof start[0] * (REASON_LINES - 1));
            memmove(lens, lens + 1, sizeof lens[0] * (REASON_LINES - 1));
            n--;
        }
        start[n] = s;
        lens[n++] = sn;
    }
    struct ar_buf b = {0};
    for (int i = 0; i < n; i++) {
        if (i)
            ar_buf_putc(&b, '\n');
        ar_buf_add(&b, start[i], lens[i]);
    }
    if (n == 0)
        ar_buf_puts(&b, "the log has no output");
    copy_text(out, size, b.data, b.len);
    ar_buf_free(&b);
}

/* "Time budget: 300s" (train.py prints it before training). */
static void budget_line(const char *s, size_t n, double *budget)
{
    static const char tag[] = "Time budget:";
    if (n <= sizeof tag - 1 || strncmp(s, tag, sizeof tag - 1) != 0)
        return;
    const char *v = s + sizeof tag - 1;
    size_t vn = n - (sizeof tag - 1);
    trim(&v, &vn);
    if (vn > 0 && v[vn - 1] == 's')
        vn--;
    double b;
    if (parse_number(v, vn, &b) == 0 && b > 0 && b <= 1e7)
        *budget = b;
}

static int parse_log(const char *text, size_t len, const char *what, struct run_log *r)
{
    memset(r, 0, sizeof *r);
    r->metrics = jv_object();
    if (len == 0)
        return ar_fail(AR_EINPUT, "%s: the log is empty", what);
    if (memchr(text, '\0', len))
        return ar_fail(AR_EINPUT, "%s: not a text log (it holds NUL bytes)", what);
    /* the summary block: after the last "---" line that a metric follows
     * (a wrapper's "---" printed after the summary does not hide it), else
     * after the last "---" */
    struct lines it = {text, text + len, 1, 0};
    const char *s, *block = NULL, *with = NULL;
    size_t sn;
    int block_line = 0, with_line = 0, block_has = 0;
    while (next_line(&it, &s, &sn)) {
        const char *t = s, *v;
        size_t tn = sn, vn;
        char key[64];
        trim(&t, &tn);
        budget_line(t, tn, &r->budget);
        if (tn == 3 && memcmp(t, "---", 3) == 0) {
            block = it.p;
            block_line = it.line;
            block_has = 0;
        } else if (block && !block_has && key_value(t, tn, key, sizeof key, &v, &vn) && metric_of(key)) {
            block_has = 1;
            with = block;
            with_line = block_line;
        }
    }
    const char *summary = with ? with : block;
    int summary_line = with ? with_line : block_line;
    if (summary) {
        it = (struct lines){summary, text + len, summary_line, 0};
        while (next_line(&it, &s, &sn)) {
            char key[64];
            const char *v;
            size_t vn;
            trim(&s, &sn);
            if (sn == 3 && memcmp(s, "---", 3) == 0)
                break;   /* the next block */
            if (!key_value(s, sn, key, sizeof key, &v, &vn))
                continue;
            const char *metric = metric_of(key);
            double x;
            if (metric) {
                if (parse_number(v, vn, &x) != 0)
                    return ar_fail(AR_EINPUT, "%s:%d: %s: '%.*s' is not a number", what, it.no, key,
                                   (int)(vn > 40 ? 40 : vn), v);
                if (!isfinite(x)) {
                    if (strcmp(metric, "val_bpb") != 0)
                        return ar_fail(AR_EINPUT, "%s:%d: %s: '%.*s' is not a finite number", what, it.no,
                                       key, (int)vn, v);
                    r->val_nonfinite = 1;
                    snprintf(r->reason, sizeof r->reason, "val_bpb: %.*s", (int)(vn > 40 ? 40 : vn), v);
                    continue;
                }
                ar_jv_set(&r->metrics, metric, jv_number(x));
                if (!strcmp(key, "peak_mem_mb"))
                    r->artrain = 1;
            } else if (!strcmp(key, "card")) {
                r->artrain = 1;
                if (vn == 0 || vn >= sizeof r->card)
                    return ar_fail(AR_EINPUT, "%s:%d: card: '%.*s' is not a card id", what, it.no,
                                   (int)(vn > 40 ? 40 : vn), v);
                memcpy(r->card, v, vn);
                r->card[vn] = '\0';
            } else if (!strcmp(key, "status")) {
                r->artrain = 1;
            } else if (!strcmp(key, "reason")) {
                r->artrain = 1;
                copy_text(r->reason, sizeof r->reason, v, vn);
            } else if (!strcmp(key, "budget_s")) {
                if (parse_number(v, vn, &x) != 0 || !(x > 0 && x <= 1e7))
                    return ar_fail(AR_EINPUT, "%s:%d: budget_s: '%.*s' is not a budget in seconds", what,
                                   it.no, (int)(vn > 40 ? 40 : vn), v);
                r->budget = x;
            }
        }
    }
    if (!ar_jv_has(r->metrics, "val_bpb") && !r->reason[0])
        last_lines(text, len, r->reason, sizeof r->reason);
    return 0;
}

int ar_record_parse_metrics(const char *text, size_t len, const char *what, jv *metrics)
{
    struct run_log r;
    int rc = parse_log(text, len, what, &r);
    *metrics = rc == 0 ? r.metrics : jv_invalid();
    if (rc != 0)
        jv_free(r.metrics);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* what changed: the trainer at the commit against its parent */

struct diff {
    jv changes;   /* [{key, from, to}], or jv_invalid() without a parent */
    jv config;    /* the trainer's settings at the commit, or jv_invalid() */
    jv code;      /* [names of code changes that are not constants] */
    struct ar_patch patch;
    int have_patch;
};

/* A constant's name as Python writes constants: no lower-case letter
 * (TOTAL_BATCH_SIZE, not step or smooth_train_loss, which are the training
 * loop's state set at the top level). */
static int upper_name(const char *name)
{
    for (; *name; name++)
        if (islower((unsigned char)*name))
            return 0;
    return 1;
}

/* train.py's constants at the commit as a config: keys through the
 * vocabulary, a constant it does not know under its lower-cased name;
 * lower-case names only when the vocabulary knows them. */
static jv trainpy_config(const char *source)
{
    jv consts = ar_trainpy_constants(source);
    jv config = jv_object();
    if (jv_get_kind(consts) != JV_KIND_OBJECT) {
        jv_free(consts);
        return config;
    }
    jv_object_foreach(consts, k, v) {
        const char *name = jv_string_value(k);
        const char *key = ar_vocab_key(name);
        char lower[128];
        if (!key && !upper_name(name)) {
            jv_free(k);
            jv_free(v);
            continue;
        }
        if (!key) {
            size_t i = 0;
            for (; name[i] && i + 1 < sizeof lower; i++)
                lower[i] = (char)tolower((unsigned char)name[i]);
            lower[i] = '\0';
            key = lower;
        }
        config = jv_object_set(config, jv_string(key), v);
        jv_free(k);
    }
    jv_free(consts);
    return config;
}

static int trainpy_diff(const char *repo, const struct ar_gitinfo *g, const char *source, struct diff *d)
{
    d->config = trainpy_config(source);
    if (!g->parent[0])
        return 0;
    char *old;
    size_t olen;
    int rc = ar_git_file_at(repo, g->parent, "train.py", &old, &olen);
    if (rc < 0)
        return -1;
    if (rc == 1)
        return 0;   /* train.py is new in this commit: nothing to compare */
    jv ch = ar_trainpy_changes(old, source);
    free(old);
    if (jv_get_kind(ch) != JV_KIND_OBJECT) {
        jv_free(ch);
        return ar_fail(AR_EFAIL, "train.py: the diff of its constants failed");
    }
    d->changes = ar_jv_get(ch, "changes");
    jv code = ar_jv_get(ch, "code");
    jv_free(ch);
    if (jv_get_kind(d->changes) != JV_KIND_ARRAY) {
        jv_free(d->changes);
        d->changes = jv_array();
    }
    if (jv_get_kind(code) == JV_KIND_ARRAY && jv_array_length(jv_copy(code)) > 0) {
        jv_free(d->code);
        d->code = code;
        char *text;
        size_t len;
        if (ar_git_diff_file(repo, g->parent, g->commit, "train.py", &text, &len) < 0)
            return -1;
        snprintf(d->patch.upstream, sizeof d->patch.upstream, "%s", g->parent);
        ar_sha256_hex(text, len, d->patch.sha256);
        if (len > AR_PATCH_MAX) {
            d->patch.too_large = 1;
            free(text);
        } else {
            d->patch.text = text;
            d->patch.len = len;
        }
        d->have_patch = 1;
    } else {
        jv_free(code);
    }
    return 0;
}

/* ar's trainer: trainer/config.yaml over the defaults, as ar-train reads it. */
static int yaml_config(const char *text, size_t len, const char *what, jv *config)
{
    char path[] = "/tmp/ar-record-config-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return ar_fail(AR_EFAIL, "%s: cannot make a temporary file", what);
    int ok = write(fd, text, len) == (ssize_t)len;
    close(fd);
    *config = ar_config_defaults();
    int rc = ok ? ar_config_load_yaml(config, path) : ar_fail(AR_EFAIL, "%s: cannot write %s", what, path);
    unlink(path);
    if (rc != 0)
        ar_fail_prefix("%s", what);
    return rc;
}

/* [{key, from, to}] of the keys whose values differ, in key order. */
static jv config_changes(jv from, jv to)
{
    jv out = jv_array();
    jv keys = jv_keys(jv_copy(to));   /* sorted */
    jv_array_foreach(keys, i, k) {
        jv a = jv_object_get(jv_copy(from), jv_copy(k)), b = jv_object_get(jv_copy(to), jv_copy(k));
        if (!jv_equal(jv_copy(a), jv_copy(b))) {
            jv c = jv_object();
            c = jv_object_set(c, jv_string("key"), jv_copy(k));
            if (jv_is_valid(a))
                c = jv_object_set(c, jv_string("from"), jv_copy(a));
            c = jv_object_set(c, jv_string("to"), jv_copy(b));
            out = jv_array_append(out, c);
        }
        jv_free(a);
        jv_free(b);
        jv_free(k);
    }
    jv_free(keys);
    return out;
}

static int artrain_diff(const char *repo, const struct ar_gitinfo *g, const char *source, size_t len,
                        struct diff *d)
{
    if (yaml_config(source, len, "trainer/config.yaml", &d->config) != 0)
        return -1;
    if (!g->parent[0])
        return 0;
    char *old;
    size_t olen;
    int rc = ar_git_file_at(repo, g->parent, "trainer/config.yaml", &old, &olen);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    jv before;
    rc = yaml_config(old, olen, "trainer/config.yaml of the parent commit", &before);
    free(old);
    if (rc != 0) {
        jv_free(before);
        return -1;
    }
    d->changes = config_changes(before, d->config);
    jv_free(before);
    return 0;
}

static int trainer_diff(const char *repo, const struct ar_gitinfo *g, int artrain, struct diff *d)
{
    memset(d, 0, sizeof *d);
    d->changes = d->config = jv_invalid();
    d->code = jv_array();
    const char *file = artrain ? "trainer/config.yaml" : "train.py";
    char *source;
    size_t len;
    int rc = ar_git_file_at(repo, g->commit, file, &source, &len);
    if (rc != 0)
        return rc < 0 ? -1 : 0;   /* no such trainer in this commit: no changes */
    rc = artrain ? artrain_diff(repo, g, source, len, d) : trainpy_diff(repo, g, source, d);
    free(source);
    return rc;
}

static void diff_free(struct diff *d)
{
    jv_free(d->changes);
    jv_free(d->config);
    jv_free(d->code);
    ar_patch_free(&d->patch);
}

/* The category of the changed keys: the most frequent, the first on a tie. */
static const char *category_of(jv changes)
{
    const char *best = NULL;
    int best_n = 0, n = jv_is_valid(changes) ? jv_array_length(jv_copy(changes)) : 0;
    for (int i = 0; i < n; i++) {
        jv c = jv_array_get(jv_copy(changes), i);
        const char *cat = ar_vocab_category(ar_jv_str(c, "key") ? ar_jv_str(c, "key") : "");
        jv_free(c);
        int count = 0;
        for (int j = 0; j < n; j++) {
            jv e = jv_array_get(jv_copy(changes), j);
            const char *k = ar_jv_str(e, "key");
            count += k && strcmp(ar_vocab_category(k), cat) == 0;
            jv_free(e);
        }
        if (count > best_n && strcmp(cat, "other") != 0) {
            best = cat;
            best_n = count;
        }
    }
    return best ? best : "other";
}

/* ------------------------------------------------------------------------ */
/* results.tsv */

static const char tsv_header[] = "commit\tval_bpb\tmemory_gb\tstatus\tdescription\n";

/* The file's text now ("" when it does not exist); AR_EINPUT when it is
 * not a results.tsv. */
static int tsv_read(const char *path, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    if (access(path, F_OK) != 0) {
        /* a new file: its directory must be there, or the card would be
         * stored and the row lost */
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *(slash == dir ? slash + 1 : slash) = '\0';
        if (slash && !ar_is_dir(dir))
            return ar_fail(AR_EINPUT, "--tsv %s: no such directory %s", path, dir);
        *text = ar_xstrdup("");
        return 0;
    }
    if (ar_read_file(path, (size_t)64 << 20, text, len) != 0)
        return -1;
    if (*len > 0 && strncmp(*text, "commit\t", 7) != 0) {
        free(*text);
        *text = NULL;
        return ar_fail(AR_EINPUT, "--tsv %s: not a results.tsv (its first line is not the header \"commit\\tval_bpb\\t...\")",
                       path);
    }
    return 0;
}

static int tsv_append(const char *path, char *old, size_t len, jv card)
{
    struct ar_buf b = {0};
    if (len == 0)
        ar_buf_puts(&b, tsv_header);
    else
        ar_buf_add(&b, old, len);
    if (b.len > 0 && b.data[b.len - 1] != '\n')
        ar_buf_putc(&b, '\n');
    const char *status = ar_jv_str(card, "status");
    const char *st = !strcmp(status, "crash") ? "crash"
                     : !strcmp(status, "keep") || !strcmp(status, "baseline") ? "keep"
                     : "discard";
    jv m = ar_jv_get(card, "metrics");
    int crash = !strcmp(st, "crash");
    ar_buf_printf(&b, "%.7s\t%.6f\t%.1f\t%s\t", ar_jv_str(card, "commit"), crash ? 0 : ar_jv_num(m, "val_bpb", 0),
                  crash ? 0 : ar_jv_num(m, "peak_mem_mb", 0) / 1024, st);
    jv_free(m);
    for (const char *p = ar_jv_str(card, "hypothesis"); p && *p && *p != '\n'; p++)
        ar_buf_putc(&b, *p == '\t' || *p == '\r' ? ' ' : *p);
    ar_buf_putc(&b, '\n');
    int rc = ar_write_atomic(path, b.data, b.len);
    ar_buf_free(&b);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* the card */

static const char *session_of(const struct ar_record_opts *o, const struct ar_gitinfo *g)
{
    if (o->session)
        return o->session;
    const char *env = getenv("AR_SESSION");
    if (env && *env)
        return env;
    if (strncmp(g->branch, "autoresearch/", 13) == 0 && g->branch[13])
        return g->branch + 13;
    return NULL;
}

static int platform_of(const struct ar_record_opts *o, int artrain, jv config, jv *out)
{
    *out = jv_invalid();
    if (o->platform) {
        char cls[80];
        if (ar_platform_class_arg(o->platform, "--platform", cls, sizeof cls) != 0)
            return -1;
        *out = jv_object_set(jv_object(), jv_string("class"), jv_string(cls));
        return 0;
    }
    /* ar-train's summary says nothing of a GPU: the CPU, unless its config
     * asks for the GPU (device: cuda) */
    const char *device = ar_jv_str(config, "device");
    int gpu = !artrain || (device && !strcmp(device, "cuda"));
    *out = gpu ? ar_platform_detect_run() : ar_platform_detect(NULL);
    return 0;
}

static int read_log(const struct ar_record_opts *o, char **text, size_t *len, const char **what)
{
    if (o->log_text) {
        *what = "log";
        *len = o->log_len;
        *text = ar_xmalloc(o->log_len + 1);
        memcpy(*text, o->log_text, o->log_len);
        (*text)[o->log_len] = '\0';
        return 0;
    }
    if (!o->log || !strcmp(o->log, "-")) {
        *what = "stdin";
        return ar_read_stream(0, "stdin", LOG_MAX, text, len);
    }
    *what = o->log;
    return ar_read_file(o->log, LOG_MAX, text, len);
}

/* The card of an ar-train log that names its card. */
static int existing_card(const struct ar_kb *kb, const char *what, const char *id, jv *card)
{
    if (ar_card_load(kb, id, card) == 0)
        return AR_RECORD_EXISTS;
    *card = jv_invalid();
    return ar_fail(AR_EINPUT, "%s: ar-train recorded this run as card %s, which is not in %s (use --kb)", what,
                   id, kb->root);
}

static jv build_card(const struct ar_record_opts *o, const struct ar_gitinfo *g, struct run_log *r,
                     struct diff *d, jv platform, double budget)
{
    jv c = jv_object();
    const char *session = session_of(o, g);
    if (session)
        ar_jv_set(&c, "session", jv_string(session));
    if (o->agent)
        ar_jv_set(&c, "agent", jv_string(o->agent));
    ar_jv_set(&c, "commit", jv_string(g->commit));
    if (g->parent[0])
        ar_jv_set(&c, "parent_commit", jv_string(g->parent));
    const char *hyp = o->hypothesis ? o->hypothesis : g->subject;
    ar_jv_set(&c, "hypothesis", jv_string(hyp && *hyp ? hyp : "(no hypothesis given)"));
    if (jv_is_valid(d->changes))
        ar_jv_set(&c, "changes", jv_copy(d->changes));
    if (jv_is_valid(d->config))
        ar_jv_set(&c, "config", jv_copy(d->config));
    ar_jv_set(&c, "metrics", jv_copy(r->metrics));
    ar_jv_set(&c, "budget_s", jv_number(budget));
    ar_jv_set(&c, "platform", platform);
    if (o->data) {
        jv data = jv_object();
        ar_jv_set(&data, "corpus", jv_string(o->data));
        ar_jv_set(&data, "fingerprint", jv_string(o->data));
        ar_jv_set(&c, "data", data);
    }
    jv extra = jv_object();
    ar_jv_set(&extra, "recorded_from", jv_string(r->artrain ? "ar-train log" : "train.py log"));
    if (!ar_jv_has(r->metrics, "val_bpb"))
        ar_jv_set(&extra, "crash", jv_string(r->reason));
    if (jv_array_length(jv_copy(d->code)) > 0)
        ar_jv_set(&extra, "code", jv_copy(d->code));
    if (d->have_patch)
        ar_jv_set(&extra, "patch", ar_patch_info(&d->patch));
    ar_jv_set(&c, "extra", extra);
    return c;
}

/* Status, delta and baseline by the keep rule; the category from them. */
static int judge(const struct ar_kb *kb, jv *card, const struct diff *d)
{
    struct ar_verdict v;
    if (ar_verdict_of(kb, *card, &v) != 0)
        return -1;
    ar_jv_set(card, "status", jv_string(v.status));
    int crash = !strcmp(v.status, "crash");
    /* val_bpb has 6 decimals: 1e-9 keeps the delta exact without float noise */
    ar_jv_set(card, "delta", !crash && isfinite(v.delta) ? jv_number(round(v.delta * 1e9) / 1e9) : jv_null());
    ar_jv_set(card, "baseline", v.best_id[0] ? jv_string(v.best_id) : jv_null());
    if (v.best_id[0])
        ar_jv_set(card, "prior_cards", jv_array_append(jv_array(), jv_string(v.best_id)));
    const char *cat = !strcmp(v.status, "baseline") ? "baseline" : category_of(d->changes);
    ar_jv_set(card, "category", jv_string(cat));
    jv extra = ar_jv_get(*card, "extra");
    ar_jv_set(&extra, "verdict", ar_verdict_extra(&v));
    ar_jv_set(card, "extra", extra);
    return 0;
}

int ar_record_log(const struct ar_kb *kb, const struct ar_record_opts *o, jv *card_out)
{
    *card_out = jv_invalid();
    char *text = NULL, *tsv_old = NULL;
    size_t len = 0, tsv_len = 0;
    const char *what = "log";
    struct run_log r = {.metrics = jv_invalid()};
    struct diff d = {.changes = jv_invalid(), .config = jv_invalid(), .code = jv_invalid()};
    jv card = jv_invalid(), platform = jv_invalid();
    int rc = -1;

    if (o->budget_s < 0 || o->budget_s > 1e7) {
        ar_fail(AR_EINPUT, "--budget: %g is not a budget in seconds (0 < S <= 1e7)", o->budget_s);
        goto done;
    }
    if (read_log(o, &text, &len, &what) != 0 || parse_log(text, len, what, &r) != 0)
        goto done;
    if (r.card[0]) {
        rc = existing_card(kb, what, r.card, card_out);
        goto done;
    }
    if (o->tsv && tsv_read(o->tsv, &tsv_old, &tsv_len) != 0)
        goto done;
    struct ar_gitinfo g;
    const char *repo = o->repo ? o->repo : ".";
    if (ar_git_info(repo, &g) != 0) {
        char why[512];
        snprintf(why, sizeof why, "%s", ar_last_error());
        ar_fail(AR_EINPUT, "%s (record the run where its commit is, or give --repo)", why);
        goto done;
    }
    if (trainer_diff(repo, &g, r.artrain, &d) != 0 || platform_of(o, r.artrain, d.config, &platform) != 0)
        goto done;
    double budget = o->budget_s > 0 ? o->budget_s : r.budget > 0 ? r.budget : DEFAULT_BUDGET;
    card = build_card(o, &g, &r, &d, platform, budget);
    platform = jv_invalid();
    /* the input is good: now the knowledge base may be created */
    struct ar_kb created;
    if (ar_kb_open(&created, kb->root, AR_KB_CREATE) != 0)
        goto done;
    if (judge(kb, &card, &d) != 0 || ar_card_complete(&card) != 0)
        goto done;
    char id[AR_ID_LEN + 1];
    if (ar_store_card(kb, card, id) != 0)
        goto done;
    if (d.have_patch && ar_patch_store(kb, id, &d.patch) != 0)
        goto done;
    if (o->tsv && tsv_append(o->tsv, tsv_old, tsv_len, card) != 0) {
        ar_fail_prefix("card %s stored, but --tsv", id);
        goto done;
    }
    *card_out = card;
    card = jv_invalid();
    rc = 0;
done:
    free(text);
    free(tsv_old);
    jv_free(r.metrics);
    jv_free(card);
    jv_free(platform);
    diff_free(&d);
    return rc;
}

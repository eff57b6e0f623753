#define _GNU_SOURCE   /* memmem */
#include "index/query.h"

#include <ctype.h>
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jq.h>
#include <stdlib.h>
#include <string.h>

#include "base/bigmem.h"
#include "base/buf.h"
#include "facts/card.h"
#include "base/err.h"
#include "facts/id.h"
#include "index/index.h"
#include "base/json.h"
#include "facts/schema.h"

static int since_valid(const char *s)
{
    /* a prefix of 2026-11-23T10:00:00.000Z of at least the date */
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    size_t n = strlen(s);
    if (n < 10 || n > sizeof shape - 1)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
            return 0;
    return 1;
}

int ar_filter_check(const struct ar_filter *f)
{
    int rc = 0;
    if (f->status) {
        jv s = jv_string(f->status);
        rc = ar_check_enum(s, "status", ar_card_statuses);
        jv_free(s);
    }
    if (rc == 0 && f->category) {
        jv s = jv_string(f->category);
        rc = ar_check_enum(s, "category", ar_card_categories);
        jv_free(s);
    }
    if (rc)
        return ar_fail_prefix("option '--%s'", f->category && !f->status ? "category" : "status");
    if (f->since && !since_valid(f->since))
        return ar_fail(AR_EINPUT, "option '--since': '%s' is not a time like 2026-11-23 or 2026-11-23T10:00",
                       f->since);
    return 0;
}

static int has_tag(jv view, const char *tag)
{
    jv tags = ar_jv_get(view, "tags");
    int found = 0;
    if (jv_get_kind(tags) == JV_KIND_ARRAY) {
        jv_array_foreach(tags, i, t) {
            found |= jv_get_kind(t) == JV_KIND_STRING && strcmp(jv_string_value(t), tag) == 0;
            jv_free(t);
        }
    }
    jv_free(tags);
    return found;
}

int ar_filter_match(const struct ar_filter *f, jv view)
{
    const char *s;
    if (f->status && (!(s = ar_jv_str(view, "status")) ||
                      strcmp(s, ar_card_status_norm(f->status)) != 0))
        return 0;
    if (f->category && (!(s = ar_jv_str(view, "category")) || strcmp(s, f->category) != 0))
        return 0;
    if (f->session && (!(s = ar_jv_str(view, "session")) || strcmp(s, f->session) != 0))
        return 0;
    if (f->since && (!(s = ar_jv_str(view, "created")) || strcmp(s, f->since) < 0))
        return 0;
    if (f->platform) {
        jv p = ar_jv_get(view, "platform");
        const char *c = ar_jv_str(p, "class");
        int ok = c && strcmp(c, f->platform) == 0;
        jv_free(p);
        if (!ok)
            return 0;
    }
    if (f->tag && !has_tag(view, f->tag))
        return 0;
    return 1;
}

/* The filter's values as they must appear in a matching line's JSON text
 * ("status":"keep", ...): lines without them need not be parsed. */
struct needles {
    char *v[5];
    int n;
};

static void add_needle(struct needles *nd, const char *key, const char *val)
{
    if (!val)
        return;
    struct ar_buf b = {0};
    if (key)
        ar_buf_printf(&b, "\"%s\":", key);
    jv s = jv_string(val);
    ar_json_dump_buf(&b, s, AR_JSON_COMPACT);
    jv_free(s);
    nd->v[nd->n++] = ar_buf_take(&b);
}

static int may_match(const struct needles *nd, const char *line, size_t len)
{
    for (int i = 0; i < nd->n; i++)
        if (!memmem(line, len, nd->v[i], strlen(nd->v[i])))
            return 0;
    return 1;
}

static int no_filter(const struct ar_filter *f)
{
    return !f->status && !f->category && !f->tag && !f->session && !f->platform && !f->since;
}

int ar_query_view(const struct ar_kb *kb, const char *id, jv *view)
{
    *view = jv_invalid();
    if (!ar_id_valid(id))
        return ar_fail(AR_EINPUT, "card id '%.80s': not of the form YYYYMMDDTHHMMSSZ-<12 hex>", id);
    int rc = ar_index_view(kb, id, view);
    if (rc == 1)
        return ar_fail(AR_EINPUT, "card %s: not found in %s", id, kb->root);
    return rc;
}

static void print_row(FILE *out, jv v)
{
    const char *id = ar_jv_str(v, "id"), *status = ar_jv_str(v, "status");
    const char *cat = ar_jv_str(v, "category"), *hyp = ar_jv_str(v, "hypothesis");
    jv metrics = ar_jv_get(v, "metrics");
    jv bpb = ar_jv_get(metrics, "val_bpb"), delta = ar_jv_get(v, "delta");
    char bpbs[16] = "-", deltas[16] = "-";
    if (jv_get_kind(bpb) == JV_KIND_NUMBER)
        snprintf(bpbs, sizeof bpbs, "%.6f", jv_number_value(bpb));
    if (jv_get_kind(delta) == JV_KIND_NUMBER)
        snprintf(deltas, sizeof deltas, "%+.6f", jv_number_value(delta));
    int retracted = jv_get_kind(ar_jv_get(v, "retracted")) == JV_KIND_TRUE;
    char first[61];
    size_t n = 0;
    for (const char *p = hyp ? hyp : ""; *p && *p != '\n' && n < 60; p++)
        first[n++] = *p;
    /* do not cut a UTF-8 sequence in half */
    while (n > 0 && n == 60 && ((unsigned char)first[n - 1] & 0xC0) == 0x80)
        n--;
    if (n > 0 && n == 60 && ((unsigned char)first[n - 1] & 0xC0) == 0xC0)
        n--;
    first[n] = '\0';
    fprintf(out, "%-29s  %-12s %9s %10s  %-14s %s\n", id ? id : "?",
            retracted ? "retracted" : status ? status : "?", bpbs, deltas, cat ? cat : "?", first);
    jv_free(bpb);
    jv_free(delta);
    jv_free(metrics);
}

int ar_query_list(const struct ar_kb *kb, const struct ar_filter *f, int json, FILE *out)
{
    if (json && no_filter(f))
        return ar_index_write(kb, out);
    char *text;
    size_t len;
    if (ar_index_read(kb, &text, &len) != 0)
        return -1;
    if (!json)
        fprintf(out, "%-29s  %-12s %9s %10s  %-14s %s\n", "ID", "STATUS", "VAL_BPB", "DELTA",
                "CATEGORY", "HYPOTHESIS");
    struct needles nd = {{0}, 0};
    add_needle(&nd, "status", f->status ? ar_card_status_norm(f->status) : NULL);
    add_needle(&nd, "category", f->category);
    add_needle(&nd, "session", f->session);
    add_needle(&nd, "class", f->platform);
    add_needle(&nd, NULL, f->tag);
    int rc = 0;
    for (char *p = text, *end = text + len; p < end && rc == 0;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!may_match(&nd, p, (size_t)(nl - p))) {
            p = nl + 1;
            continue;
        }
        jv v = jv_parse_sized(p, (int)(nl - p));
        if (!jv_is_valid(v)) {
            jv_free(v);
            rc = ar_fail(AR_EFAIL, "%s/index.db: unreadable view (run ar-card index)", kb->root);
            break;
        }
        if (ar_filter_match(f, v)) {
            if (json) {
                fwrite(p, 1, (size_t)(nl - p) + 1, out);
            } else {
                print_row(out, v);
            }
        }
        jv_free(v);
        p = nl + 1;
    }
    for (int i = 0; i < nd.n; i++)
        free(nd.v[i]);
    ar_big_free(text);
    return rc;
}

struct jq_errors {
    char first[512];
};

static void on_jq_error(void *data, jv msg)
{
    struct jq_errors *e = data;
    if (!e->first[0]) {
        jv text = jv_get_kind(msg) == JV_KIND_STRING ? jv_copy(msg) : jv_dump_string(jv_copy(msg), 0);
        if (jv_get_kind(text) == JV_KIND_STRING) {
            const char *s = jv_string_value(text);
            if (strncmp(s, "jq: error: ", 11) == 0)
                s += 11;
            snprintf(e->first, sizeof e->first, "%s", s);
            char *nl = strchr(e->first, '\n');
            if (nl)
                *nl = '\0';
        }
        jv_free(text);
    }
    jv_free(msg);
}

/* Runs the program over the views in [p, end) (whole lines), printing each
 * output as a line; stops at the first error. */
static int jq_range(jq_state *jq, const char *root, char *p, char *end, FILE *out)
{
    int rc = 0;
    struct ar_buf b = {0};
    while (p < end && rc == 0) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        jv v = jv_parse_sized(p, (int)(nl - p));
        p = nl + 1;
        if (!jv_is_valid(v)) {
            jv_free(v);
            rc = ar_fail(AR_EFAIL, "%s/index.db: unreadable view (run ar-card index)", root);
            break;
        }
        jq_start(jq, v, 0);
        jv r;
        int full = 0;   /* a closed or bounded output: the rest is not run */
        while (!full && jv_is_valid(r = jq_next(jq))) {
            b.len = 0;
            ar_json_dump_buf(&b, r, AR_JSON_COMPACT);
            ar_buf_putc(&b, '\n');
            fwrite(b.data, 1, b.len, out);
            jv_free(r);
            full = ferror(out) != 0;
        }
        if (full)
            break;
        if (jv_invalid_has_msg(jv_copy(r))) {
            jv msg = jv_invalid_get_msg(r);
            jv s = jv_get_kind(msg) == JV_KIND_STRING ? msg : jv_dump_string(msg, 0);
            rc = ar_fail(AR_EINPUT, "query: %s", jv_string_value(s));
            jv_free(s);
        } else {
            jv_free(r);
        }
    }
    ar_buf_free(&b);
    return rc;
}

/* What a worker process reports back. */
struct worker_result {
    int rc, code;
    char msg[1024];
};

/* Copies a worker's output file to out. */
static void copy_out(FILE *from, FILE *out)
{
    char buf[65536];
    size_t n;
    rewind(from);
    while ((n = fread(buf, 1, sizeof buf, from)) > 0)
        fwrite(buf, 1, n, out);
}

/* libjq 1.6 may not be used from several threads, so a large index is
 * split over processes: each runs the compiled program on its share of
 * the lines into a temp file, and the outputs are joined in index order
 * (up to the first error, as one process would have stopped there). */
static int jq_parallel(jq_state *jq, const char *root, char *text, size_t len, int nproc, FILE *out)
{
    struct worker_result *res = mmap(NULL, (size_t)nproc * sizeof *res, PROT_READ | PROT_WRITE,
                                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (res == MAP_FAILED)
        return jq_range(jq, root, text, text + len, out);
    char *cut[65];
    cut[0] = text;
    for (int i = 1; i < nproc; i++) {
        char *c = text + len / (size_t)nproc * (size_t)i;
        while (c > cut[i - 1] && c[-1] != '\n')
            c--;
        cut[i] = c;
    }
    cut[nproc] = text + len;
    FILE *tmp[64] = {0};
    pid_t pid[64] = {0};
    int started = nproc;   /* workers 1..started-1 run; the rest is ours */
    fflush(out);
    for (int i = 1; i < nproc; i++) {
        tmp[i] = tmpfile();
        if (!tmp[i] || (pid[i] = fork()) < 0) {
            if (tmp[i])
                fclose(tmp[i]);
            started = i;
            break;
        }
        if (pid[i] == 0) {
            res[i].rc = jq_range(jq, root, cut[i], cut[i + 1], tmp[i]);
            res[i].code = ar_last_code();
            snprintf(res[i].msg, sizeof res[i].msg, "%s", res[i].rc ? ar_last_error() : "");
            fflush(tmp[i]);
            _exit(ferror(tmp[i]) ? 1 : 0);
        }
    }
    int rc = jq_range(jq, root, cut[0], cut[1], out);
    for (int i = 1; i < started; i++) {
        int status = 0;
        while (waitpid(pid[i], &status, 0) < 0 && errno == EINTR)
            ;
        if (rc == 0) {
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                rc = ar_fail(AR_EFAIL, "query: a worker process failed");
            } else {
                copy_out(tmp[i], out);
                if (res[i].rc)
                    rc = ar_fail(res[i].code, "%s", res[i].msg);
            }
        }
        fclose(tmp[i]);
    }
    if (rc == 0 && started < nproc)   /* fork failed: the rest here */
        rc = jq_range(jq, root, cut[started], text + len, out);
    munmap(res, (size_t)nproc * sizeof *res);
    return rc;
}

int ar_query_jq(const struct ar_kb *kb, const char *program, FILE *out)
{
    jq_state *jq = jq_init();
    if (!jq)
        return ar_fail(AR_EFAIL, "query: cannot start jq");
    struct jq_errors errs = {{0}};
    jq_set_error_cb(jq, on_jq_error, &errs);
    /* no module search path: libjq 1.6 aborts on import or include without
     * one, and a query has no modules to load */
    jq_set_attr(jq, jv_string("JQ_LIBRARY_PATH"), jv_array());
    if (!jq_compile(jq, program)) {
        jq_teardown(&jq);
        return ar_fail(AR_EINPUT, "query: %s", errs.first[0] ? errs.first : "does not compile");
    }
    char *text;
    size_t len;
    if (ar_index_read(kb, &text, &len) != 0) {
        jq_teardown(&jq);
        return -1;
    }
    int nproc = omp_get_max_threads();
    if (nproc > 64)
        nproc = 64;
    int rc = nproc > 1 && len > ((size_t)512 << 10) ? jq_parallel(jq, kb->root, text, len, nproc, out)
                                                : jq_range(jq, kb->root, text, text + len, out);
    ar_big_free(text);
    jq_teardown(&jq);
    return rc;
}

/* What the importers share (lib/index/import_int.h): the commits already
 * in the knowledge base, a file's cards stored as one batch, the stats;
 * and the export back to results.tsv. */
#include "index/import_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/jtext.h"
#include "facts/schema.h"
#include "index/index.h"
#include "index/store.h"

#define TSV_COLUMNS "commit\tval_bpb\tmemory_gb\tstatus\tdescription"

jv ix_platform_of_class(const char *cls)
{
    jv p = jv_object();
    ar_jv_set(&p, "class", jv_string(cls));
    return p;
}

int ar_import_platform(const char *given, char out[65])
{
    size_t n = strlen(given);
    if (n == 0 || n > 64)
        return ar_fail(AR_EINPUT, "option '--platform': '%.80s' is not a platform class (like h100, "
                       "apple-m2-pro)", given);
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)tolower((unsigned char)given[i]);
    jv cls = jv_string(out);
    int rc = ar_check_tag(cls, "platform.class");
    jv_free(cls);
    return rc ? ar_fail_prefix("option '--platform'") : 0;
}

void ar_import_stats_free(struct ar_import_stats *st)
{
    jv_free(st->free_rows);
    jv_free(st->files);
    st->free_rows = st->files = jv_invalid();
}

void ix_free_row(struct ar_import_stats *st, const char *file, int line, const char *description)
{
    st->free_text++;
    if (!st->collect)
        return;
    if (!jv_is_valid(st->free_rows))
        st->free_rows = jv_array();
    jv r = jv_object();
    ar_jv_set(&r, "file", jv_string(file));
    ar_jv_set(&r, "line", jv_number(line));
    ar_jv_set(&r, "description", jv_string(description));
    st->free_rows = jv_array_append(st->free_rows, r);
}

/* ---------------------------------------------------------------- commits */

/* the value of member key of a view line as a string into out, or "" */
static void member(const char *line, const struct ar_jmember *m, int n, const char *key, char *out, size_t max)
{
    int i = ar_jtext_find(line, m, n, key);
    out[0] = '\0';
    if (i >= 0 && m[i].vallen >= 2 && line[m[i].val] == '"')
        snprintf(out, max, "%.*s", (int)m[i].vallen - 2, line + m[i].val + 1);
}

static int collect_commit(char *line, size_t len, void *ctx)
{
    struct ix_commits *c = ctx;
    struct ar_jmember m[64];
    int n = ar_jtext_members(line, len, m, 64);
    if (n <= 0 || n > 64)
        return 0;
    char commit[48], id[AR_ID_LEN + 8];
    member(line, m, n, "commit", commit, sizeof commit);
    member(line, m, n, "id", id, sizeof id);
    if (strlen(commit) < 7 || strlen(id) != AR_ID_LEN)
        return 0;
    if (c->n == c->cap)
        c->v = ar_xrealloc(c->v, (c->cap = c->cap ? 2 * c->cap : 256) * sizeof *c->v);
    memcpy(c->v[c->n].commit, commit, 7);
    c->v[c->n].commit[7] = '\0';
    memcpy(c->v[c->n].id, id, AR_ID_LEN + 1);
    c->n++;
    return 0;
}

static int cmp7(const void *a, const void *b)
{
    return memcmp(((const struct ix_known *)a)->commit, ((const struct ix_known *)b)->commit, 7);
}

int ix_commits_load(const struct ar_kb *kb, struct ix_commits *c)
{
    memset(c, 0, sizeof *c);
    if (ar_is_dir(kb->cards) && ar_index_foreach(kb, collect_commit, c) != 0)
        return -1;
    if (c->n)
        qsort(c->v, c->n, sizeof *c->v, cmp7);
    return 0;
}

const char *ix_commits_find(const struct ix_commits *c, const char *commit)
{
    struct ix_known k;
    if (strlen(commit) < 7 || !c->n)
        return NULL;
    memcpy(k.commit, commit, 7);
    const struct ix_known *f = bsearch(&k, c->v, c->n, sizeof *c->v, cmp7);
    return f ? f->id : NULL;
}

void ix_commits_free(struct ix_commits *c)
{
    free(c->v);
    memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------------ store */

int ix_store_batch(const struct ar_kb *kb, jv cards, struct ar_import_stats *st)
{
    int n = jv_array_length(jv_copy(cards));
    struct ar_kb made;   /* the knowledge base, created now that there is something to store */
    if (n > 0 && ar_kb_open(&made, kb->root, AR_KB_CREATE) != 0) {
        jv_free(cards);
        return -1;
    }
    if (n > 0)
        kb = &made;
    int *existed = ar_xmalloc((size_t)(n ? n : 1) * sizeof *existed);
    int rc = ar_store_card_batch(kb, cards, existed);
    for (int i = 0; i < n && rc == 0; i++) {
        if (existed[i])
            st->existing++;
        else
            st->imported++;
    }
    free(existed);
    jv_free(cards);
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

/* Reading the fresh index: its version, one view, every view
 * (lib/index/index.h). */
#include "index/index_db.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/bigmem.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "facts/trust.h"

static int version_job(struct db *d, void *arg, int *delivered)
{
    char *out = arg;
    struct held h;
    (void)delivered;
    if (ix_read_held(d, &h) != 0)
        return -1;
    /* the views depend on the trust list too (the index was built with the
     * current one: ix_run_fresh) */
    snprintf(out, AR_INDEX_VERSION_LEN, "%d:%lld:%016llx:%lld:%016llx:%016llx", SCHEMA_VERSION, h.cards,
             (unsigned long long)h.cards_x, h.notes, (unsigned long long)h.notes_x,
             (unsigned long long)ar_trust_of(d->kb)->hash);
    return 0;
}

int ar_index_version(const struct ar_kb *kb, char out[AR_INDEX_VERSION_LEN])
{
    out[0] = '\0';
    return ix_run_fresh(kb, version_job, out) ? -1 : 0;
}

struct view_job {
    const char *id;
    jv *view;
    int found;
};

static int view_job(struct db *d, void *arg, int *delivered)
{
    struct view_job *j = arg;
    sqlite3_stmt *st;
    (void)delivered;
    j->found = 0;
    int rc = ix_prepare(d, "SELECT view FROM views WHERE id = ?1", &st);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, j->id, -1, SQLITE_STATIC);
        int s = sqlite3_step(st);
        if (s == SQLITE_ROW) {
            j->found = 1;
            rc = ar_json_parse((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                               "index view", j->view);
        } else if (s != SQLITE_DONE) {
            rc = ix_db_fail(d, "cannot read");
        }
    }
    sqlite3_finalize(st);
    return rc;
}

int ar_index_view(const struct ar_kb *kb, const char *id, jv *view)
{
    *view = jv_invalid();
    struct view_job j = {id, view, 0};
    if (ix_run_fresh(kb, view_job, &j) != 0)
        return -1;
    return j.found ? 0 : 1;
}

/* ar_index_read's lines: one block from ar_big_realloc (270 MB at 100,000
 * cards, on huge pages: filled once, it costs a fault per 2 MiB) */
struct text {
    char *p;
    size_t len;
};

static void text_add(struct text *t, const void *s, size_t n, char end)
{
    size_t need = t->len + n + 2, room = ar_big_room(t->p);
    if (need > room)
        t->p = ar_big_realloc(t->p, need > 2 * room ? need : 2 * room);
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len++] = end;
    t->p[t->len] = '\0';
}

struct foreach_job {
    ar_index_fn fn;
    void *ctx;
    struct text *all;   /* ar_index_read: the lines, instead of fn */
    FILE *out;          /* ar_index_write: the lines, instead of fn */
};

static int foreach_job(struct db *d, void *arg, int *delivered)
{
    struct foreach_job *j = arg;
    sqlite3_stmt *st;
    int rc = ix_prepare(d, "SELECT view FROM views ORDER BY id", &st) ? -1 : 0;
    struct ar_buf b = {0};
    int s = SQLITE_DONE;
    if (j->all)
        j->all->len = 0;
    while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
        const void *v = sqlite3_column_text(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        if (j->all) {
            text_add(j->all, v, len, '\n');
            continue;
        }
        b.len = 0;
        ar_buf_add(&b, v, len);
        if (j->out) {
            ar_buf_putc(&b, '\n');
            *delivered = 1;
            fwrite(b.data, 1, b.len, j->out);
            if (ferror(j->out))
                break;   /* a closed or full output: the caller reports it */
            continue;
        }
        ar_buf_putc(&b, '\0');
        *delivered = 1;
        rc = j->fn(b.data, b.len - 1, j->ctx);
    }
    if (rc == 0 && s != SQLITE_DONE && s != SQLITE_ROW)
        rc = ix_db_fail(d, "cannot read");
    sqlite3_finalize(st);
    ar_buf_free(&b);
    return rc;
}

int ar_index_foreach(const struct ar_kb *kb, ar_index_fn fn, void *ctx)
{
    struct foreach_job j = {fn, ctx, NULL, NULL};
    return ix_run_fresh(kb, foreach_job, &j);   /* fn's non-zero result is passed on as it is */
}

int ar_index_write(const struct ar_kb *kb, FILE *out)
{
    struct foreach_job j = {NULL, NULL, NULL, out};
    return ix_run_fresh(kb, foreach_job, &j) ? -1 : 0;
}

int ar_index_read(const struct ar_kb *kb, char **text, size_t *len)
{
    struct text t = {NULL, 0};
    struct foreach_job j = {NULL, NULL, &t, NULL};
    *text = NULL;
    *len = 0;
    if (ix_run_fresh(kb, foreach_job, &j) != 0) {
        ar_big_free(t.p);
        return -1;
    }
    if (!t.p)
        t.p = ar_big_realloc(NULL, 1), t.p[0] = '\0';
    *len = t.len;
    *text = t.p;
    return 0;
}

/* Rebuilding index.db from the facts (one transaction), replacing a
 * database SQLite cannot read, and opening it ready for use: of the current
 * schema, built when new or old (lib/index/index_db.h). */
#include "index/index_db.h"

#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/atomic.h"
#include "base/lock.h"
#include "facts/card.h"
#include "facts/trust.h"
#include "index/cardrow.h"
#include "index/index_render.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **ar_list_ids(const char *dir, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    size_t cap = 256;
    char **ids = ar_xmalloc(cap * sizeof *ids);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        if (*n == cap)
            ids = ar_xrealloc(ids, (cap *= 2) * sizeof *ids);
        ids[*n] = ar_xstrdup(e->d_name);
        ids[*n][len - 5] = '\0';
        (*n)++;
    }
    closedir(d);
    qsort(ids, *n, sizeof *ids, cmp_str);
    return ids;
}

void ar_free_ids(char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

static const struct ar_fact *sort_notes;

static int cmp_note(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(sort_notes[i].card, sort_notes[j].card);
    return c ? c : (i > j) - (i < j);
}

/* The cards are read (ar_facts_read, in parallel), their views spliced
 * and their rows read from the views a chunk ahead of the inserts, by a
 * thread of their own: reading the files and inserting the rows take
 * about as long each, and one core would otherwise wait while the other
 * inserts. The thread starts before the old tables are dropped. Two
 * chunks in flight: chunk k lives in f[k % 2], its rows in row[k % 2]
 * (strings in pool[k % 2]); a card read has its view as text. */
enum { CHUNK = 4096 };

struct reader {
    const struct ar_kb *kb;
    char **ids;
    size_t n, nchunks;
    struct ar_fact *f[2];
    struct ar_cardrow *row[2];
    struct ar_pool pool[2];
    char *row_error[2];            /* the first view a chunk could not read a row from */
    char **note_ids;
    size_t nnotes;
    struct ar_fact *notes;         /* read first (notes_ready), each card's by order[] */
    size_t *order;                 /* valid notes grouped by card, in id order within each card */
    size_t nvalid, at;             /* next note in order */
    int notes_ready;
    size_t *lo;                    /* the notes of a chunk's cards: order[lo[i]..lo[i+1]) */
    const struct ar_trust *trust;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t produced, consumed;   /* chunks */
    int stop, threaded;
    pthread_t t;
};

static size_t chunk_len(const struct reader *r, size_t k)
{
    return r->n - k * CHUNK < CHUNK ? r->n - k * CHUNK : CHUNK;
}

/* Reads chunk k into its buffer; each card read gets its view for text. */
static void read_chunk(struct reader *r, size_t k)
{
    size_t n = chunk_len(r, k);
    char **ids = r->ids + k * CHUNK;
    struct ar_fact *f = r->f[k % 2];
    ar_facts_read(r->kb, ids, n, 0, f);
    for (size_t i = 0; i < n; i++) {
        while (r->at < r->nvalid && strcmp(r->notes[r->order[r->at]].card, ids[i]) < 0)
            r->at++;   /* notes on cards that are not there */
        r->lo[i] = r->at;
        while (r->at < r->nvalid && strcmp(r->notes[r->order[r->at]].card, ids[i]) == 0)
            r->at++;
    }
    r->lo[n] = r->at;
#pragma omp parallel for schedule(dynamic, 64) if (n >= 256)
    for (size_t i = 0; i < n; i++) {
        if (f[i].warning)
            continue;
        struct ar_buf b = {0};
        ar_fact_splice_view(&b, &f[i], r->notes, r->order + r->lo[i], r->lo[i + 1] - r->lo[i], r->trust);
        ar_buf_putc(&b, '\0');
        free(f[i].text);
        f[i].len = b.len - 1;
        f[i].text = ar_buf_take(&b);
    }
    struct ar_pool *pool = &r->pool[k % 2];
    ar_pool_free(pool);
    memset(pool, 0, sizeof *pool);
    free(r->row_error[k % 2]);
    r->row_error[k % 2] = NULL;
    for (size_t i = 0; i < n; i++)
        if (!f[i].warning && ar_cardrow_parse(pool, f[i].text, f[i].len, &r->row[k % 2][i]) != 0) {
            r->row_error[k % 2] = ar_xstrdup(ar_last_error());
            break;
        }
}

/* Reads the notes, groups them by card. */
static void read_notes(struct reader *r)
{
    size_t nn = r->nnotes ? r->nnotes : 1;
    r->notes = ar_xmalloc(nn * sizeof *r->notes);
    ar_facts_read(r->kb, r->note_ids, r->nnotes, 1, r->notes);
    r->order = ar_xmalloc(nn * sizeof *r->order);
    for (size_t i = 0; i < r->nnotes; i++)
        if (!r->notes[i].warning)
            r->order[r->nvalid++] = i;
    sort_notes = r->notes;
    qsort(r->order, r->nvalid, sizeof *r->order, cmp_note);
}

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    read_notes(r);
    pthread_mutex_lock(&r->mu);
    r->notes_ready = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    for (size_t k = 0; k < r->nchunks; k++) {
        pthread_mutex_lock(&r->mu);
        while (r->produced - r->consumed == 2 && !r->stop)
            pthread_cond_wait(&r->cv, &r->mu);
        int stop = r->stop;
        pthread_mutex_unlock(&r->mu);
        if (stop)
            break;
        read_chunk(r, k);
        pthread_mutex_lock(&r->mu);
        r->produced++;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
    return NULL;
}

/* Starts the reader of the notes and cards; without a thread, the notes
 * are read now and the chunks when taken. */
static void reader_start(struct reader *r, const struct ar_kb *kb, char **ids, size_t n, char **note_ids,
                         size_t nnotes, const struct ar_trust *trust)
{
    memset(r, 0, sizeof *r);
    r->kb = kb;
    r->ids = ids;
    r->n = n;
    r->note_ids = note_ids;
    r->nnotes = nnotes;
    r->trust = trust;
    r->lo = ar_xmalloc((CHUNK + 1) * sizeof *r->lo);
    r->nchunks = (n + CHUNK - 1) / CHUNK;
    for (int i = 0; i < 2; i++) {
        r->f[i] = ar_xmalloc(CHUNK * sizeof *r->f[i]);
        r->row[i] = ar_xmalloc(CHUNK * sizeof *r->row[i]);
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->threaded = r->nchunks > 1 && pthread_create(&r->t, NULL, reader_main, r) == 0;
    if (!r->threaded) {
        read_notes(r);
        r->notes_ready = 1;
    }
}

/* The notes, once read. */
static const struct ar_fact *reader_notes(struct reader *r)
{
    if (r->threaded) {
        pthread_mutex_lock(&r->mu);
        while (!r->notes_ready)
            pthread_cond_wait(&r->cv, &r->mu);
        pthread_mutex_unlock(&r->mu);
    }
    return r->notes;
}

/* Chunk k, read. */
static struct ar_fact *reader_take(struct reader *r, size_t k)
{
    if (!r->threaded) {
        read_chunk(r, k);
        return r->f[k % 2];
    }
    pthread_mutex_lock(&r->mu);
    while (r->produced <= k)
        pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
    return r->f[k % 2];
}

/* Chunk k was taken in (its texts freed): its buffer is free again. */
static void reader_done(struct reader *r, size_t k)
{
    pthread_mutex_lock(&r->mu);
    r->consumed = k + 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* Stops the reader (when the inserts failed, before the end) and frees
 * what it read that was not taken. */
static void reader_stop(struct reader *r)
{
    if (!r->threaded)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->t, NULL);
    for (size_t k = r->consumed; k < r->produced; k++)
        for (size_t i = 0; i < chunk_len(r, k); i++) {
            free(r->f[k % 2][i].text);
            free(r->f[k % 2][i].warning);
        }
}

static void reader_free(struct reader *r)
{
    free(r->order);
    ar_facts_free(r->notes, r->nnotes);
    for (int i = 0; i < 2; i++) {
        free(r->f[i]);
        free(r->row[i]);
        free(r->row_error[i]);
        ar_pool_free(&r->pool[i]);
    }
    free(r->lo);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
}

/* A rebuild's facts: the ids, the notes and cards being read. */
struct fill {
    char **cards, **notes;
    size_t ncards, nnotes;
    int keep_ids;              /* fill_run leaves cards and notes to the caller */
    struct reader rd;
};

/* Lists the facts and starts reading them. */
static int fill_begin(struct db *d, struct fill *f)
{
    const struct ar_kb *kb = d->kb;
    memset(f, 0, sizeof *f);
    f->cards = ar_list_ids(kb->cards, &f->ncards);
    f->notes = ar_list_ids(kb->notes, &f->nnotes);
    if (!f->cards || !f->notes) {
        ar_free_ids(f->cards, f->cards ? f->ncards : 0);
        ar_free_ids(f->notes, f->notes ? f->nnotes : 0);
        return ar_fail(AR_EFAIL, "knowledge base %s: cannot read cards/ or notes/", kb->root);
    }
    reader_start(&f->rd, kb, f->cards, f->ncards, f->notes, f->nnotes, ar_trust_of(kb));
    return 0;
}

/* Fills the empty tables of d (in its open transaction) from f's facts,
 * then frees f; d->held is set to what they hold. */
static int fill_run(struct db *d, struct fill *f, int rc)
{
    struct reader *rd = &f->rd;
    memset(&d->held, 0, sizeof d->held);
    sqlite3_stmt *ins_note = NULL;
    if (rc == 0)
        rc = ix_prepare(d, ix_note_sql, &ins_note);
    const struct ar_fact *nf = reader_notes(rd);
    for (size_t i = 0; i < f->nnotes && rc == 0; i++) {
        d->held.notes++;
        d->held.notes_x ^= ix_id_hash(f->notes[i]);
        if (nf[i].warning) {
            ar_warn("index: skipping note: %s", nf[i].warning);
            rc = ix_put_skipped(d, "note", f->notes[i], nf[i].warning);
            continue;
        }
        rc = ix_put_note_text(d, ins_note, f->notes[i], nf[i].card, ix_note_kind_name(nf[i].kind), nf[i].status,
                              nf[i].text, nf[i].len);
    }
    sqlite3_finalize(ins_note);

    struct put p;
    if (rc == 0)
        rc = ix_put_open(d, &p, 0);
    else
        memset(&p, 0, sizeof p);
    for (size_t k = 0; k * CHUNK < f->ncards && rc == 0; k++) {
        size_t base = k * CHUNK;
        size_t n = f->ncards - base < CHUNK ? f->ncards - base : CHUNK;
        struct ar_fact *cf = reader_take(rd, k);
        const struct ar_cardrow *rows = rd->row[k % 2];
        if (rd->row_error[k % 2])
            rc = ar_fail(AR_EFAIL, "%s: cannot index a view: %s", d->path, rd->row_error[k % 2]);
        for (size_t i = 0; i < n; i++) {
            const char *id = f->cards[base + i];
            d->held.cards++;
            d->held.cards_x ^= ix_id_hash(id);
            if (rc != 0) {
            } else if (cf[i].warning) {
                ar_warn("index: skipping card: %s", cf[i].warning);
                rc = ix_put_skipped(d, "card", id, cf[i].warning);
            } else {
                rc = ix_put_row(d, &p, &rows[i], cf[i].text, cf[i].len);
            }
            free(cf[i].text);
            free(cf[i].warning);
            cf[i].text = cf[i].warning = NULL;
        }
        reader_done(rd, k);
    }
    reader_stop(rd);
    reader_free(rd);
    ix_put_close(&p);
    if (!f->keep_ids) {
        ar_free_ids(f->cards, f->ncards);
        ar_free_ids(f->notes, f->nnotes);
    }
    return rc;
}

int ix_fill_listed(struct db *d, char ***cards, size_t *ncards, char ***notes, size_t *nnotes)
{
    struct fill f;
    if (fill_begin(d, &f) != 0)
        return -1;
    f.keep_ids = 1;
    *cards = f.cards, *ncards = f.ncards, *notes = f.notes, *nnotes = f.nnotes;
    return fill_run(d, &f, 0);
}

/* Fills the empty tables of d (in its open transaction) from the facts;
 * d->held is set to what they hold. */
int ix_fill(struct db *d)
{
    struct fill f;
    if (fill_begin(d, &f) != 0)
        return -1;
    return fill_run(d, &f, 0);
}

/* Drops every table and view (of whichever schema). */
static int drop_all(struct db *d)
{
    sqlite3_stmt *st;
    if (ix_prepare(d, "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') AND"
                   " name NOT LIKE 'sqlite_%' ORDER BY type = 'table'", &st) != SQLITE_OK)
        return -1;
    struct ar_buf sql = {0};
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char *q = sqlite3_mprintf("DROP %s \"%w\";", strcmp((const char *)sqlite3_column_text(st, 0), "view") == 0
                                                        ? "VIEW" : "TABLE",
                                  (const char *)sqlite3_column_text(st, 1));
        ar_buf_add(&sql, q, strlen(q));
        sqlite3_free(q);
    }
    sqlite3_finalize(st);
    ar_buf_putc(&sql, '\0');
    rc = rc == SQLITE_DONE ? ix_exec(d, sql.data) : ix_db_fail(d, "cannot read");
    ar_buf_free(&sql);
    return rc;
}

/* Builds the whole index anew in d's open write transaction. The pending
 * rows of facts it did not find stay, unless no writer is at work. */
int ix_rebuild_in(struct db *d)
{
    char sql[64];
    int rc = ix_exec(d, "CREATE TABLE IF NOT EXISTS pending(kind TEXT NOT NULL, id TEXT NOT NULL,"
                     " PRIMARY KEY(kind, id)) WITHOUT ROWID;"
                     "DROP TABLE IF EXISTS temp.keep; CREATE TEMP TABLE keep AS SELECT kind, id FROM pending;");
    struct fill f;   /* the cards are read while the old tables go */
    if (rc != 0 || fill_begin(d, &f) != 0)
        return -1;
    rc = drop_all(d);
    if (rc == 0)
        rc = ix_exec(d, ix_schema_sql);
    rc = fill_run(d, &f, rc);   /* frees f whatever rc */
    if (rc == 0 && !ix_no_writers(d->kb))
        rc = ix_exec(d, "INSERT INTO pending SELECT kind, id FROM temp.keep k WHERE NOT EXISTS"
                     " (SELECT 1 FROM skipped s WHERE s.kind = k.kind AND s.id = k.id) AND"
                     " CASE k.kind WHEN 'card' THEN NOT EXISTS (SELECT 1 FROM card_rows c WHERE c.id = k.id)"
                     " ELSE NOT EXISTS (SELECT 1 FROM notes n WHERE n.id = k.id) END");
    if (rc == 0)
        rc = ix_exec(d, "DROP TABLE temp.keep");
    if (rc == 0)
        rc = ix_exec(d, ix_indexes_sql);
    if (rc == 0)
        rc = ix_write_held(d);
    if (rc == 0)
        rc = ix_write_trust(d);
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d", SCHEMA_VERSION);
    if (rc == 0)
        rc = ix_exec(d, sql);
    return rc;
}

/* Files of the index before index.db: gone at a rebuild. */
void ix_remove_old_files(const struct ar_kb *kb)
{
    static const char *const old[] = {"index.jsonl", "index.state", "index.journal"};
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof old / sizeof *old; i++)
        unlink(ar_kb_path(kb, old[i], path));
}

/* After a rebuild: the old format's files go, and the WAL (as large as the
 * database now) is copied into it and emptied here, rather than by the next
 * writer, and before readers read every page through it. Readers still in
 * the old snapshot are waited for a moment, else it is left to the next
 * checkpoint. */
static void after_rebuild(struct db *d)
{
    ix_remove_old_files(d->kb);
    sqlite3_busy_timeout(d->db, 2000);
    sqlite3_exec(d->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_busy_timeout(d->db, (int)(ar_lock_timeout_default() * 1000));
}

static int ix_rebuild_txn(struct db *d)
{
    ar_clean_temps(d->kb->root);
    ar_clean_temps(d->kb->cards);
    ar_clean_temps(d->kb->notes);
    int rc = ix_exec(d, "BEGIN IMMEDIATE");
    if (rc == 0)
        rc = ix_rebuild_in(d);
    if (rc == 0)
        rc = ix_exec(d, "COMMIT");
    if (rc != 0)
        ix_rollback(d);
    else
        after_rebuild(d);
    return rc;
}

/* Replaces a database SQLite cannot read: under the exclusive lock (no
 * other connection is open), the files are removed and built anew. */
int ix_replace_db(const struct ar_kb *kb)
{
    char lp[PATH_MAX], path[PATH_MAX], side[PATH_MAX + 16];
    ix_lock_path(kb, lp);
    int fd = ar_lock(lp, ar_lock_timeout_default(), 1);
    if (fd < 0)
        return -1;
    ar_kb_path(kb, DB_FILE, path);
    /* another process may have replaced it while we waited */
    sqlite3 *probe = NULL;
    int ok = 0;
    if (sqlite3_open_v2(path, &probe, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        ok = sqlite3_prepare_v2(probe, "PRAGMA quick_check", -1, &st, NULL) == SQLITE_OK &&
             sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) &&
             strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
        sqlite3_finalize(st);
    }
    sqlite3_close_v2(probe);
    int rc = 0;
    if (!ok) {
        ar_warn("%s: unreadable, rebuilt from the facts", path);
        static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
        for (size_t i = 0; i < 4; i++) {
            snprintf(side, sizeof side, "%s%s", path, sfx[i]);
            if (unlink(side) != 0 && errno != ENOENT) {
                rc = ar_fail(AR_EFAIL, "%s: cannot remove: %s", side, strerror(errno));
                break;
            }
        }
        struct db d;
        if (rc == 0) {
            memset(&d, 0, sizeof d);
            d.kb = kb;
            d.lock = -1;
            snprintf(d.path, sizeof d.path, "%s", path);
            rc = sqlite3_open_v2(path, &d.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) == SQLITE_OK
                     ? 0
                     : ar_fail(AR_EFAIL, "%s: cannot create: %s", path, sqlite3_errmsg(d.db));
            if (rc == 0)
                rc = ix_exec(&d, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                              " PRAGMA cache_size=-65536; PRAGMA secure_delete=OFF;");
            if (rc == 0)
                rc = ix_rebuild_txn(&d);
            ix_db_close(&d);
        }
    }
    ar_unlock(fd);
    return rc;
}

/* Opens the index ready for use: of the current schema, with its meta;
 * built when new or old, replaced when unreadable. *built: 1 when this
 * call built it (so it holds every fact on disk). */
int ix_open_ready(const struct ar_kb *kb, struct db *d, int *built)
{
    *built = 0;
    ar_clean_temps(kb->root);   /* a killed rebuild's file (ix_rebuild_aside): hundreds of MB */
    for (int attempt = 0; attempt < 2; attempt++) {
        int rc = ix_db_open(kb, d);
        int version = -1, trusted = 0;
        if (rc == 0)
            rc = ix_schema_version(d, &version);
        if (rc == 0 && version == SCHEMA_VERSION)
            rc = ix_trust_current(d, &trusted);
        if (rc == 0 && version == SCHEMA_VERSION && trusted)
            return 0;
        if (rc == 0) {
            /* new, of another schema or built with another trust list:
             * built in a transaction that checks again, as another process
             * may be at it too */
            rc = ix_exec(d, "BEGIN IMMEDIATE");
            if (rc == 0)
                rc = ix_schema_version(d, &version);
            if (rc == 0 && version == SCHEMA_VERSION)
                rc = ix_trust_current(d, &trusted);
            if (rc == 0 && version == SCHEMA_VERSION && trusted) {
                rc = ix_exec(d, "COMMIT");
                if (rc == 0)
                    return 0;
            } else if (rc == 0) {
                ar_clean_temps(kb->root);
                ar_clean_temps(kb->cards);
                ar_clean_temps(kb->notes);
                rc = ix_rebuild_in(d);
                if (rc == 0)
                    rc = ix_exec(d, "COMMIT");
                if (rc == 0) {
                    after_rebuild(d);
                    *built = 1;
                    return 0;
                }
            }
            ix_rollback(d);
        }
        int corrupt = d->corrupt;
        ix_db_close(d);
        if (!corrupt || ix_replace_db(kb) != 0)
            return -1;
        *built = 1;
    }
    return ar_fail(AR_EFAIL, "%s/" DB_FILE ": unreadable after a rebuild", kb->root);
}

/* An index in memory, built from the facts in one transaction, for a
 * reader that cannot write index.db (a read-only or full disk): the same
 * tables, so every query runs on it as on the file; gone at close. */
int ix_open_memory(const struct ar_kb *kb, struct db *d)
{
    static _Thread_local int warned;
    char why[512];
    memset(d, 0, sizeof *d);
    d->kb = kb;
    d->lock = -1;
    ar_kb_path(kb, DB_FILE, d->path);
    /* the reason, without the path it may start with */
    const char *e = ar_last_error();
    size_t pl = strlen(d->path);
    snprintf(why, sizeof why, "%s", strncmp(e, d->path, pl) == 0 && strncmp(e + pl, ": ", 2) == 0 ? e + pl + 2 : e);
    if (sqlite3_open_v2(":memory:", &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        ix_db_close(d);
        return ar_fail(AR_EFAIL, "%s: cannot open", d->path);
    }
    int rc = ix_exec(d, "BEGIN");
    if (rc == 0)
        rc = ix_rebuild_in(d);
    if (rc == 0)
        rc = ix_exec(d, "COMMIT");
    if (rc != 0) {
        ix_rollback(d);
        ix_db_close(d);
        return -1;
    }
    if (!warned++)
        ar_warn("%s cannot be written (%s): the facts were read into memory", d->path, why);
    return 0;
}

/* index.db (lib/index/index.h, man/ar-card.5): the write-ahead protocol
 * and the freshness of every read.
 *
 * Freshness without listing the directories: every writer of fact files
 * records the ids it is about to write in the pending table first (one
 * durable transaction, synchronous=FULL), then creates the files, then
 * indexes them and deletes their pending rows (one transaction); from its
 * intent to its end it holds a shared lock on index.pending.lock. A reader
 * selects the pending rows: one whose file exists it indexes itself (its
 * writer was killed or is not done yet) and deletes; one whose file does
 * not exist it leaves (its writer may be between intent and file). A
 * rebuild lists the directories and keeps only the rows of files it did
 * not find, none when it can take index.pending.lock exclusively (no
 * writer is at work: the rest are stale). Facts written by hand, without any ar
 * tool, are taken in by a rebuild (ar-card index).
 *
 * The meta table holds, for cards/ and for notes/, how many facts the
 * index took in (indexed or skipped as invalid) and the XOR of a 64-bit
 * hash of their ids: the version of the index, and what ar_index_check
 * compares with the directories. */
#include "index/index_db.h"

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
#include "base/lock.h"
#include "facts/id.h"

static int fact_exists(const struct ar_kb *kb, int is_note, const char *id)
{
    char path[PATH_MAX];
    if (!ar_id_valid(id))
        return 0;
    return access(is_note ? ar_kb_note_path(kb, id, path) : ar_kb_card_path(kb, id, path), F_OK) == 0;
}

/* The pending rows whose files exist (they are to be taken in) into *out
 * (malloc'd, *n of them); *stale gets the count of the others. */
int ix_pending_ready(struct db *d, struct pend **out, size_t *n, size_t *stale)
{
    sqlite3_stmt *st;
    *out = NULL;
    *n = 0;
    if (stale)
        *stale = 0;
    if (ix_prepare(d, "SELECT kind, id FROM pending", &st) != SQLITE_OK)
        return -1;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(st, 0), *id = (const char *)sqlite3_column_text(st, 1);
        int is_note = kind && strcmp(kind, "note") == 0;
        if (!id || !fact_exists(d->kb, is_note, id)) {
            if (stale)
                (*stale)++;
            continue;
        }
        if (*n == cap)
            *out = ar_xrealloc(*out, (cap = cap ? 2 * cap : 16) * sizeof **out);
        (*out)[*n].is_note = is_note;
        snprintf((*out)[*n].id, sizeof (*out)[*n].id, "%s", id);
        (*n)++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return ix_db_fail(d, "cannot read");
    }
    return 0;
}

static int delete_pending(struct db *d, int is_note, const char *id)
{
    sqlite3_stmt *st;
    int rc = ix_prepare(d, "DELETE FROM pending WHERE kind = ?1 AND id = ?2", &st);
    if (rc != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, is_note ? "note" : "card", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    rc = ix_step_done(d, st, "cannot write");
    sqlite3_finalize(st);
    return rc;
}

/* Takes in the pending facts whose files exist, in one transaction (a
 * rebuild when there are many); their rows go. */
int ix_take_pending(struct db *d)
{
    int rc = ix_exec(d, "BEGIN IMMEDIATE");
    if (rc != 0)
        return -1;
    struct pend *p = NULL;
    size_t n = 0;
    rc = ix_read_held(d, &d->held);
    if (rc == 0)
        rc = ix_pending_ready(d, &p, &n, NULL);   /* again: another reader may have been first */
    if (rc == 0 && n > CATCH_UP_MAX) {
        rc = ix_rebuild_in(d);
    } else if (rc == 0 && n > 0) {
        char (*touched)[AR_ID_LEN + 1] = ar_xmalloc(n * sizeof *touched);
        int *is_new = ar_xmalloc(n * sizeof *is_new);
        /* notes first, so that a card taken in with them has them in its view */
        for (int pass = 1; pass >= 0; pass--)
            for (size_t i = 0; i < n && rc == 0; i++) {
                if (p[i].is_note != pass)
                    continue;
                touched[i][0] = '\0';
                int there = ix_has_fact(d, pass, p[i].id);
                is_new[i] = there == 0;
                if (there < 0)
                    rc = -1;
                else if (!there)
                    rc = pass ? ix_catch_note(d, p[i].id, touched[i]) : ix_catch_card(d, p[i].id);
                if (rc == 0)
                    rc = delete_pending(d, pass, p[i].id);
            }
        /* cards that got a note and were not taken in now: their views again */
        for (size_t i = 0; i < n && rc == 0; i++) {
            if (!p[i].is_note || !is_new[i] || !touched[i][0])
                continue;
            int card_new = 0;
            for (size_t j = 0; j < n && !card_new; j++)
                card_new = !p[j].is_note && is_new[j] && strcmp(p[j].id, touched[i]) == 0;
            if (!card_new)
                rc = ix_refresh_card(d, touched[i]);
        }
        free(touched);
        free(is_new);
        if (rc == 0)
            rc = ix_write_held(d);
    }
    free(p);
    if (rc == 0)
        rc = ix_exec(d, "COMMIT");
    if (rc != 0)
        ix_rollback(d);
    return rc;
}

/* Opens the index, fresh: it holds every fact that a writer through this
 * library created (a rebuild takes in the others). One SELECT of the
 * pending rows, and a stat of each; no listing. */
static int open_fresh_file(const struct ar_kb *kb, struct db *d)
{
    int built;
    if (ix_open_ready(kb, d, &built) != 0)
        return -1;
    if (built)
        return 0;
    struct pend *p;
    size_t n;
    int rc = ix_pending_ready(d, &p, &n, NULL);
    free(p);
    if (rc == 0 && n > 0)
        rc = ix_take_pending(d);
    if (rc != 0) {
        ix_db_close(d);
        return -1;
    }
    return 0;
}

/* Readers need no write access: when index.db cannot be opened for
 * writing, brought up to date or built (a read-only knowledge base, a full
 * disk), the facts are read into an index in memory. */
int ix_open_fresh(const struct ar_kb *kb, struct db *d)
{
    ix_write_denied_clear();
    if (open_fresh_file(kb, d) == 0)
        return 0;
    if (!ix_write_denied())
        return -1;
    return ix_open_memory(kb, d);
}

int ar_index_intend(const struct ar_kb *kb, const int *is_note, const char *const *ids, size_t n,
                    struct ar_intent *in)
{
    char lp[PATH_MAX];
    in->lock = ar_lock(ar_kb_path(kb, PENDING_LOCK, lp), ar_lock_timeout_default(), 0);
    if (in->lock < 0)
        return -1;
    int rc = -1;
    for (int attempt = 0; attempt < 2 && rc != 0; attempt++) {
        struct db d;
        int built;
        if (ix_open_ready(kb, &d, &built) != 0)
            break;
        /* durable before the files are: else a power loss could keep a
         * file and lose the row that makes readers look for it */
        rc = ix_exec(&d, "PRAGMA synchronous=FULL");
        if (rc == 0)
            rc = ix_exec(&d, "BEGIN IMMEDIATE");
        sqlite3_stmt *st = NULL;
        if (rc == 0)
            rc = ix_prepare(&d, "INSERT OR IGNORE INTO pending(kind, id) VALUES(?1, ?2)", &st);
        for (size_t i = 0; i < n && rc == 0; i++) {
            if (!ids[i] || !ar_id_valid(ids[i])) {
                rc = ar_fail(AR_EINPUT, "index: a fact id that is not an id");
                break;
            }
            sqlite3_bind_text(st, 1, is_note[i] ? "note" : "card", -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, ids[i], -1, SQLITE_STATIC);
            rc = ix_step_done(&d, st, "cannot write");
        }
        sqlite3_finalize(st);
        if (rc == 0)
            rc = ix_exec(&d, "COMMIT");
        if (rc != 0)
            ix_rollback(&d);
        int corrupt = d.corrupt;
        ix_db_close(&d);
        if (rc != 0 && (!corrupt || ix_replace_db(kb) != 0))
            break;
    }
    if (rc != 0) {
        ar_unlock(in->lock);
        in->lock = -1;
        return -1;
    }
    return 0;
}

void ar_index_intent_end(struct ar_intent *in)
{
    ar_unlock(in->lock);
    in->lock = -1;
}

int ar_index_forget(const struct ar_kb *kb, int is_note, const char *id)
{
    struct db d;
    int built;
    if (ix_open_ready(kb, &d, &built) != 0)
        return -1;
    int rc = delete_pending(&d, is_note, id);
    ix_db_close(&d);
    return rc ? -1 : 0;
}

int ix_run_fresh(const struct ar_kb *kb, ix_job job, void *arg)
{
    for (int attempt = 0;; attempt++) {
        struct db d;
        int delivered = 0;
        int rc = ix_open_fresh(kb, &d);
        if (rc == 0)
            rc = job(&d, arg, &delivered);
        int corrupt = d.corrupt;
        ix_db_close(&d);
        if (rc == 0 || !corrupt || delivered || attempt > 0)
            return rc;
        if (ix_replace_db(kb) != 0)
            return -1;
    }
}

static int no_job(struct db *d, void *arg, int *delivered)
{
    (void)d, (void)arg, (void)delivered;
    return 0;
}

int ar_index_ensure(const struct ar_kb *kb)
{
    return ix_run_fresh(kb, no_job, NULL) ? -1 : 0;
}

/* Adds fact id with fn in one write transaction, unless the index has it
 * (a reader or a rebuild took it in since the file landed). */
static int add_fact(const struct ar_kb *kb, int is_note, const char *id, int (*fn)(struct db *, jv), jv fact)
{
    if (!id)
        return ar_fail(AR_EINPUT, "index: a fact without an id");
    struct db d;
    int built;
    if (ix_open_ready(kb, &d, &built) != 0)
        return -1;
    if (built) {
        ix_db_close(&d);
        return 0;
    }
    int rc = ix_exec(&d, "BEGIN IMMEDIATE");
    if (rc == 0)
        rc = ix_read_held(&d, &d.held);
    int there = rc == 0 ? ix_has_fact(&d, is_note, id) : -1;
    if (there < 0)
        rc = -1;
    if (rc == 0 && !there) {
        rc = fn(&d, fact);
        if (rc == 0) {
            if (is_note) {
                d.held.notes++;
                d.held.notes_x ^= ix_id_hash(id);
            } else {
                d.held.cards++;
                d.held.cards_x ^= ix_id_hash(id);
            }
            rc = ix_write_held(&d);
        }
    }
    if (rc == 0)
        rc = delete_pending(&d, is_note, id);
    if (rc == 0)
        rc = ix_exec(&d, "COMMIT");
    if (rc != 0)
        ix_rollback(&d);
    int corrupt = d.corrupt;
    ix_db_close(&d);
    if (rc != 0 && corrupt)
        return ix_replace_db(kb);   /* the fact's file is there: the new database has it */
    return rc ? -1 : 0;
}

int ar_index_add(const struct ar_kb *kb, jv card)
{
    return add_fact(kb, 0, ar_jv_str(card, "id"), ix_put_card, card);
}

int ar_index_add_note(const struct ar_kb *kb, jv note)
{
    return add_fact(kb, 1, ar_jv_str(note, "id"), ix_put_note, note);
}

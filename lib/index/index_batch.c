/* Adding many just-stored cards to the index in one write transaction
 * (lib/index/index.h ar_index_add_cards): what a batch writer (an import,
 * `ar-card write --jsonl`) calls once after its files landed, instead of
 * one transaction per card. Uses index_db.c and index_put.c, as
 * index_fresh.c does for one fact. */
#include "index/index_db.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "base/err.h"
#include "base/json.h"

struct batch_stmts {
    sqlite3_stmt *has, *notes, *unpend;
};

static void batch_close(struct batch_stmts *b)
{
    sqlite3_finalize(b->has);
    sqlite3_finalize(b->notes);
    sqlite3_finalize(b->unpend);
}

static int batch_open(struct db *d, struct batch_stmts *b)
{
    memset(b, 0, sizeof *b);
    int rc = ix_prepare(d, "SELECT 1 FROM card_rows WHERE id = ?1 UNION ALL "
                           "SELECT 1 FROM skipped WHERE kind = 'card' AND id = ?1", &b->has);
    if (rc == SQLITE_OK)
        rc = ix_prepare(d, "SELECT note FROM notes WHERE card = ?1 ORDER BY id", &b->notes);
    if (rc == SQLITE_OK)
        rc = ix_prepare(d, "DELETE FROM pending WHERE kind = 'card' AND id = ?1", &b->unpend);
    return rc == SQLITE_OK ? 0 : -1;
}

/* 1 when card id is in the index (indexed or skipped), 0 not, -1 error. */
static int has_card(struct db *d, struct batch_stmts *b, const char *id)
{
    sqlite3_bind_text(b->has, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(b->has);
    sqlite3_reset(b->has);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return ix_db_fail(d, "cannot read");
    return rc == SQLITE_ROW;
}

/* The notes the index holds on card id (usually none for a new card). */
static int notes_of(struct db *d, struct batch_stmts *b, const char *id, jv *out)
{
    *out = jv_array();
    sqlite3_bind_text(b->notes, 1, id, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(b->notes)) == SQLITE_ROW) {
        jv n;
        if (ar_json_parse((const char *)sqlite3_column_text(b->notes, 0),
                          (size_t)sqlite3_column_bytes(b->notes, 0), "index note", &n) != 0) {
            sqlite3_reset(b->notes);
            return -1;
        }
        *out = jv_array_append(*out, n);
    }
    sqlite3_reset(b->notes);
    return rc == SQLITE_DONE ? 0 : ix_db_fail(d, "cannot read");
}

static int add_all(struct db *d, jv cards)
{
    struct batch_stmts b;
    struct put p;
    int rc = batch_open(d, &b);
    int opened = rc == 0;
    if (opened && ix_put_open(d, &p, 1) != SQLITE_OK)
        rc = -1;
    jv_array_foreach(cards, i, card) {
        const char *id = ar_jv_str(card, "id");
        int there = rc == 0 ? (id ? has_card(d, &b, id) : ar_fail(AR_EINPUT, "index: a card without an id")) : 0;
        if (there < 0)
            rc = -1;
        if (rc == 0 && !there) {
            jv notes;
            rc = notes_of(d, &b, id, &notes);
            if (rc == 0) {
                jv view = ar_card_view(card, notes);
                char *text = ar_json_dump(view, AR_JSON_COMPACT);
                jv_free(view);
                rc = ix_put_view(d, &p, text, strlen(text));
                free(text);
            }
            jv_free(notes);
            if (rc == 0) {
                d->held.cards++;
                d->held.cards_x ^= ix_id_hash(id);
            }
        }
        if (rc == 0) {
            sqlite3_bind_text(b.unpend, 1, id, -1, SQLITE_STATIC);
            rc = ix_step_done(d, b.unpend, "cannot write");
        }
        jv_free(card);
    }
    if (opened)
        ix_put_close(&p);
    batch_close(&b);
    return rc ? -1 : 0;
}

int ar_index_add_cards(const struct ar_kb *kb, jv cards)
{
    struct db d;
    int built;
    if (ix_open_ready(kb, &d, &built) != 0)
        return -1;
    if (built) {   /* built from the files, which are there: it has them */
        ix_db_close(&d);
        return 0;
    }
    int rc = ix_exec(&d, "BEGIN IMMEDIATE");
    if (rc == 0)
        rc = ix_read_held(&d, &d.held);
    if (rc == 0)
        rc = add_all(&d, cards);
    if (rc == 0)
        rc = ix_write_held(&d);
    if (rc == 0)
        rc = ix_exec(&d, "COMMIT");
    if (rc != 0)
        ix_rollback(&d);
    int corrupt = d.corrupt;
    ix_db_close(&d);
    if (rc != 0 && corrupt)
        return ix_replace_db(kb);   /* the files are there: the new database has them */
    return rc ? -1 : 0;
}

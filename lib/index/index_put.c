/* Writing rows: a card's view, row and changes, a note, a skipped fact;
 * taking in one fact from its file (lib/index/index_db.h). */
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
#include "base/pool.h"
#include "facts/card.h"
#include "facts/note.h"
#include "facts/trust.h"
#include "index/index_render.h"

jv ar_card_view(jv card, jv notes)
{
    return ar_card_view_trust(card, notes, NULL);
}

jv ar_card_view_trust(jv card, jv notes, const struct ar_trust *trust)
{
    jv view = jv_copy(card);
    const char *status = ar_card_status_norm(ar_jv_str(card, "status"));
    const char *owner = ar_jv_str(card, "agent");
    jv effective = jv_string(status ? status : "");
    int retracted = 0;
    jv claims = jv_array();
    jv_array_foreach(notes, i, n) {
        const char *kind = ar_jv_str(n, "kind");
        int is_status = kind && strcmp(kind, "status") == 0 && ar_jv_str(n, "status");
        int is_retract = kind && strcmp(kind, "retract") == 0;
        if ((is_status || is_retract) && !ar_trust_authority(trust, owner, ar_jv_str(n, "agent"))) {
            claims = jv_array_append(claims, ar_note_claim(ar_jv_str(n, "agent"), kind, ar_jv_str(n, "id"),
                                                           is_status ? ar_card_status_norm(ar_jv_str(n, "status")) : NULL));
        } else if (is_status) {
            jv_free(effective);
            effective = jv_string(ar_card_status_norm(ar_jv_str(n, "status")));
        } else if (is_retract) {
            retracted = 1;
        }
        jv_free(n);
    }
    if (jv_array_length(jv_copy(claims)) > 0)
        ar_jv_set(&view, "claims", claims);
    else
        jv_free(claims);
    ar_jv_set(&view, "card_status", jv_string(status ? status : ""));
    ar_jv_set(&view, "status", effective);
    ar_jv_set(&view, "retracted", jv_bool(retracted));
    ar_jv_set(&view, "notes", jv_copy(notes));
    return view;
}

static void put_json_string(struct ar_buf *b, const char *s)
{
    jv v = jv_string(s);
    ar_json_dump_buf(b, v, AR_JSON_COMPACT);
    jv_free(v);
}

static void put_json_list(struct ar_buf *b, const char **v, int n)
{
    ar_buf_putc(b, '[');
    for (int i = 0; i < n; i++) {
        if (i)
            ar_buf_putc(b, ',');
        put_json_string(b, v[i]);
    }
    ar_buf_putc(b, ']');
}

int ix_put_open(struct db *d, struct put *p, int replace)
{
    memset(p, 0, sizeof *p);
    p->empty = !replace;
    const char *verb = replace ? "INSERT OR REPLACE" : "INSERT";
    char sql[1024];
    snprintf(sql, sizeof sql,
             "%s INTO card_rows(id, created, agent, session, \"commit\", category, hypothesis, status,"
             " card_status, retracted, platform, fingerprint, budget_s, seed, val_bpb, training_seconds,"
             " delta, baseline, config_hash, verifies, lesson, tags, prior_cards)"
             " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,"
             " ?20, ?21, ?22, ?23)",
             verb);
    int rc = ix_prepare(d, sql, &p->card);
    if (rc == SQLITE_OK) {
        snprintf(sql, sizeof sql, "%s INTO views(id, view) VALUES(?1, ?2)", verb);
        rc = ix_prepare(d, sql, &p->view);
    }
    if (rc == SQLITE_OK)
        rc = ix_prepare(d, "DELETE FROM change_rows WHERE card = ?1", &p->del_changes);
    if (rc == SQLITE_OK)
        rc = ix_prepare(d, "INSERT INTO change_rows(card, pos, key, from_value, to_value) VALUES(?1, ?2, ?3, ?4, ?5)",
                     &p->change);
    if (rc == SQLITE_OK)
        rc = ix_prepare(d, "SELECT id FROM strings WHERE s = ?1", &p->find_s);
    if (rc == SQLITE_OK)
        rc = ix_prepare(d, "INSERT INTO strings(s) VALUES(?1)", &p->add_s);
    return rc;
}

void ix_put_close(struct put *p)
{
    sqlite3_finalize(p->card);
    sqlite3_finalize(p->view);
    sqlite3_finalize(p->del_changes);
    sqlite3_finalize(p->change);
    sqlite3_finalize(p->find_s);
    sqlite3_finalize(p->add_s);
    ar_pool_free(&p->pool);
    ar_pool_free(&p->spool);
    ar_ptrmap_free(&p->sids);
    ar_buf_free(&p->tags);
    ar_buf_free(&p->prior);
}

/* The number of string s in the strings table (added when new); 0 for
 * NULL. */
static int string_id(struct db *d, struct put *p, const char *s, sqlite3_int64 *id)
{
    *id = 0;
    if (!s)
        return 0;
    const char *k = ar_pool_intern(&p->spool, s);
    long *slot = ar_ptrmap_at(&p->sids, k, NULL);
    if (*slot >= 0) {
        *id = *slot;
        return 0;
    }
    int rc = SQLITE_DONE;   /* into empty tables: every string met is new */
    if (!p->empty) {
        sqlite3_bind_text(p->find_s, 1, k, -1, SQLITE_STATIC);
        rc = sqlite3_step(p->find_s);
        if (rc == SQLITE_ROW)
            *id = sqlite3_column_int64(p->find_s, 0);
        sqlite3_reset(p->find_s);
    }
    if (rc == SQLITE_DONE) {
        sqlite3_bind_text(p->add_s, 1, k, -1, SQLITE_STATIC);
        if (ix_step_done(d, p->add_s, "cannot write") != 0)
            return -1;
        *id = sqlite3_last_insert_rowid(d->db);
    } else if (rc != SQLITE_ROW) {
        return ix_db_fail(d, "cannot read");
    }
    *slot = (long)*id;
    return 0;
}

static int bind_sid(struct db *d, struct put *p, sqlite3_stmt *st, int i, const char *s)
{
    sqlite3_int64 id;
    if (string_id(d, p, s, &id) != 0)
        return -1;
    if (id)
        sqlite3_bind_int64(st, i, id);
    else
        sqlite3_bind_null(st, i);
    return 0;
}

/* Stores the view (text of len bytes, NUL-terminated) and its row. */
int ix_put_view(struct db *d, struct put *p, const char *view, size_t len)
{
    struct ar_cardrow r;
    if (++p->uses % 4096 == 0) {
        ar_pool_free(&p->pool);
        memset(&p->pool, 0, sizeof p->pool);
    }
    if (ar_cardrow_parse(&p->pool, view, len, &r) != 0)
        return ar_fail(AR_EFAIL, "%s: cannot index a view: %s", d->path, ar_last_error());
    return ix_put_row(d, p, &r, view, len);
}

int ix_put_row(struct db *d, struct put *p, const struct ar_cardrow *rp, const char *view, size_t len)
{
    const struct ar_cardrow r = *rp;
    p->tags.len = p->prior.len = 0;
    put_json_list(&p->tags, r.tags, r.ntags);
    put_json_list(&p->prior, r.prior, r.nprior);
    sqlite3_stmt *c = p->card;
    ix_bind_text(c, 1, r.id);
    ix_bind_text(c, 2, r.created);
    ix_bind_text(c, 5, r.commit);
    ix_bind_text(c, 7, r.hypothesis);
    sqlite3_bind_int(c, 10, r.retracted);
    if (bind_sid(d, p, c, 3, r.agent) != 0 || bind_sid(d, p, c, 4, r.session) != 0 ||
        bind_sid(d, p, c, 6, r.category) != 0 || bind_sid(d, p, c, 8, r.status) != 0 ||
        bind_sid(d, p, c, 9, r.card_status) != 0 || bind_sid(d, p, c, 11, r.platform) != 0 ||
        bind_sid(d, p, c, 12, r.fingerprint) != 0 || bind_sid(d, p, c, 18, r.baseline) != 0 ||
        bind_sid(d, p, c, 19, r.config_hash) != 0)
        return -1;
    ix_bind_num(c, 13, r.has_budget, r.budget_s);
    ix_bind_num(c, 14, r.has_seed, r.seed);
    ix_bind_num(c, 15, r.has_bpb, r.val_bpb);
    ix_bind_num(c, 16, r.has_training, r.training_seconds);
    ix_bind_num(c, 17, r.has_delta, r.delta);
    ix_bind_text(c, 20, r.verifies);
    ix_bind_text(c, 21, r.lesson);
    sqlite3_bind_text(c, 22, p->tags.data, (int)p->tags.len, SQLITE_STATIC);
    sqlite3_bind_text(c, 23, p->prior.data, (int)p->prior.len, SQLITE_STATIC);
    int rc = ix_step_done(d, c, "cannot write");
    if (rc == 0) {
        sqlite3_bind_text(p->view, 1, r.id, -1, SQLITE_STATIC);
        sqlite3_bind_text(p->view, 2, view, (int)len, SQLITE_STATIC);
        rc = ix_step_done(d, p->view, "cannot write");
    }
    if (rc == 0 && !p->empty) {   /* a rebuild's tables hold no changes yet */
        sqlite3_bind_text(p->del_changes, 1, r.id, -1, SQLITE_STATIC);
        rc = ix_step_done(d, p->del_changes, "cannot write");
    }
    for (int i = 0; i < r.nchanges && rc == 0; i++) {
        sqlite3_bind_text(p->change, 1, r.id, -1, SQLITE_STATIC);
        sqlite3_bind_int(p->change, 2, i);
        if (bind_sid(d, p, p->change, 3, r.changes[i].key) != 0 ||
            bind_sid(d, p, p->change, 4, r.changes[i].from) != 0 ||
            bind_sid(d, p, p->change, 5, r.changes[i].to) != 0)
            rc = -1;
        else
            rc = ix_step_done(d, p->change, "cannot write");
    }
    sqlite3_clear_bindings(c);
    return rc;
}

int ix_put_note_text(struct db *d, sqlite3_stmt *st, const char *id, const char *card, const char *kind,
                         const char *status, const char *text, size_t len)
{
    ix_bind_text(st, 1, id);
    ix_bind_text(st, 2, card);
    ix_bind_text(st, 3, kind);
    ix_bind_text(st, 4, status && *status ? status : NULL);
    sqlite3_bind_text(st, 5, text, (int)len, SQLITE_STATIC);
    return ix_step_done(d, st, "cannot write");
}

const char ix_note_sql[] =
    "INSERT OR IGNORE INTO notes(id, card, kind, status, created, agent, text, note)"
    " VALUES(?1, ?2, ?3, ?4, json_extract(?5, '$.created'), json_extract(?5, '$.agent'),"
    " json_extract(?5, '$.text'), ?5)";

int ix_put_skipped(struct db *d, const char *kind, const char *id, const char *why)
{
    sqlite3_stmt *st;
    int rc = ix_prepare(d, "INSERT OR IGNORE INTO skipped(kind, id, why) VALUES(?1, ?2, ?3)", &st);
    if (rc != SQLITE_OK)
        return rc;
    ix_bind_text(st, 1, kind);
    ix_bind_text(st, 2, id);
    ix_bind_text(st, 3, why);
    rc = ix_step_done(d, st, "cannot write");
    sqlite3_finalize(st);
    return rc;
}

const char *ix_note_kind_name(char k)
{
    return k == 'l' ? "lesson" : k == 's' ? "status" : k == 'r' ? "retract" : "comment";
}

/* 1 when the index has fact id (indexed or skipped). */
int ix_has_fact(struct db *d, int is_note, const char *id)
{
    sqlite3_stmt *st;
    const char *sql = is_note ? "SELECT 1 FROM notes WHERE id = ?1 UNION ALL "
                                "SELECT 1 FROM skipped WHERE kind = 'note' AND id = ?1"
                              : "SELECT 1 FROM card_rows WHERE id = ?1 UNION ALL "
                                "SELECT 1 FROM skipped WHERE kind = 'card' AND id = ?1";
    if (ix_prepare(d, sql, &st) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return ix_db_fail(d, "cannot read");
    return rc == SQLITE_ROW;
}

/* The notes of card (JSON texts, id order) as a jv array. */
static int card_notes(struct db *d, const char *card, jv *out)
{
    sqlite3_stmt *st;
    *out = jv_array();
    if (ix_prepare(d, "SELECT note FROM notes WHERE card = ?1 ORDER BY id", &st) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, card, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        jv n;
        if (ar_json_parse((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                          "index note", &n) != 0) {
            sqlite3_finalize(st);
            return -1;
        }
        *out = jv_array_append(*out, n);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return ix_db_fail(d, "cannot read");
    return 0;
}

/* Stores the view and row of card (borrowed) with its notes in the index. */
int ix_put_card(struct db *d, jv card)
{
    jv notes;
    if (card_notes(d, ar_jv_str(card, "id"), &notes) != 0) {
        jv_free(notes);
        return -1;
    }
    jv view = ar_card_view_trust(card, notes, ar_trust_of(d->kb));
    jv_free(notes);
    char *text = ar_json_dump(view, AR_JSON_COMPACT);
    jv_free(view);
    struct put p;
    int rc = ix_put_open(d, &p, 1);
    if (rc == 0)
        rc = ix_put_view(d, &p, text, strlen(text));
    ix_put_close(&p);
    free(text);
    return rc;
}

/* Renders card id's view again from its stored view and the notes table
 * (after a note came in); nothing when the card is not indexed. */
int ix_refresh_card(struct db *d, const char *id)
{
    sqlite3_stmt *st;
    if (ix_prepare(d, "SELECT view FROM views WHERE id = ?1", &st) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? 0 : ix_db_fail(d, "cannot read");
    }
    jv view;
    rc = ar_json_parse((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                       "index view", &view);
    sqlite3_finalize(st);
    if (rc != 0)
        return -1;
    /* the card back from its view: the status as it was (normalised, which
     * is all a view looks at) */
    jv card = jv_copy(view);
    ar_jv_set(&card, "status", ar_jv_get(view, "card_status"));
    card = jv_object_delete(card, jv_string("card_status"));
    card = jv_object_delete(card, jv_string("retracted"));
    card = jv_object_delete(card, jv_string("claims"));
    card = jv_object_delete(card, jv_string("notes"));
    jv_free(view);
    rc = ix_put_card(d, card);
    jv_free(card);
    return rc;
}

int ix_put_note(struct db *d, jv note)
{
    const char *id = ar_jv_str(note, "id"), *card = ar_jv_str(note, "card"), *kind = ar_jv_str(note, "kind");
    if (!card || !kind)
        return ar_fail(AR_EINPUT, "index: note %s: no card or kind", id);
    const char *status = ar_jv_str(note, "status");
    char *text = ar_json_dump(note, AR_JSON_COMPACT);
    sqlite3_stmt *st;
    int rc = ix_prepare(d, ix_note_sql, &st);
    if (rc == 0)
        rc = ix_put_note_text(d, st, id, card, kind,
                           strcmp(kind, "status") == 0 && status ? ar_card_status_norm(status) : NULL, text,
                           strlen(text));
    sqlite3_finalize(st);
    free(text);
    if (rc == 0)
        rc = ix_refresh_card(d, card);
    return rc;
}

/* Takes in note fact id (read from its file), in d's write transaction;
 * *card gets the card it annotates ("" when skipped). */
int ix_catch_note(struct db *d, const char *id, char card[AR_ID_LEN + 1])
{
    char path[PATH_MAX];
    struct ar_fact f;
    memset(&f, 0, sizeof f);
    card[0] = '\0';
    d->held.notes++;
    d->held.notes_x ^= ix_id_hash(id);
    if (ar_fact_read(ar_kb_note_path(d->kb, id, path), id, 1, &f) != 0) {
        ar_warn("index: skipping note: %s", ar_last_error());
        return ix_put_skipped(d, "note", id, ar_last_error());
    }
    sqlite3_stmt *st;
    int rc = ix_prepare(d, ix_note_sql, &st);
    if (rc == 0)
        rc = ix_put_note_text(d, st, id, f.card, ix_note_kind_name(f.kind), f.status, f.text, f.len);
    sqlite3_finalize(st);
    snprintf(card, AR_ID_LEN + 1, "%s", f.card);
    free(f.text);
    return rc;
}

int ix_catch_card(struct db *d, const char *id)
{
    char path[PATH_MAX];
    struct ar_fact f;
    memset(&f, 0, sizeof f);
    d->held.cards++;
    d->held.cards_x ^= ix_id_hash(id);
    jv card;
    if (ar_fact_read(ar_kb_card_path(d->kb, id, path), id, 0, &f) != 0 ||
        ar_json_parse(f.text, f.len, path, &card) != 0) {
        free(f.text);
        ar_warn("index: skipping card: %s", ar_last_error());
        return ix_put_skipped(d, "card", id, ar_last_error());
    }
    free(f.text);
    int rc = ix_put_card(d, card);
    jv_free(card);
    return rc;
}

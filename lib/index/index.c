/* index.db (lib/index/index.h, man/ar-card.5).
 *
 * Every connection holds a shared lock on index.lock while it is open; only
 * replacing the database file (one that SQLite calls corrupt or not a
 * database) takes it exclusively, so that no process keeps writing to a
 * file that was replaced. Everything else is SQLite's own locking: WAL,
 * busy_timeout, BEGIN IMMEDIATE for every write, a rebuild in one
 * transaction.
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
 * not find, none when it can take index.pending.lock exclusively (no writer is
 * at work: the rest are stale). Facts written by hand, without any ar
 * tool, are taken in by a rebuild (ar-card index).
 *
 * The meta table holds, for cards/ and for notes/, how many facts the
 * index took in (indexed or skipped as invalid) and the XOR of a 64-bit
 * hash of their ids: the version of the index, and what ar_index_check
 * compares with the directories. */
#include "index/index.h"

#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/lock.h"
#include "base/pool.h"
#include "base/ptrmap.h"
#include "facts/card.h"
#include "facts/id.h"
#include "facts/note.h"
#include "index/index_render.h"

#define DB_FILE "index.db"
#define LOCK_FILE "index.lock"
#define PENDING_LOCK "index.pending.lock"
#define SCHEMA_VERSION 3
/* more facts missing than this: a rebuild is cheaper than one by one */
#define CATCH_UP_MAX 2000

/* The strings that repeat across cards (agents, sessions, classes,
 * statuses, hashes, baselines, config keys and values) are stored once, in
 * strings, and the rows hold their numbers: a reader of 100,000 rows reads
 * integers and converts each distinct string once. The views cards and
 * changes give the rows with their text (man/ar-card.5). */
static const char schema_sql[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
    "CREATE TABLE strings(id INTEGER PRIMARY KEY, s TEXT NOT NULL UNIQUE);"
    "CREATE TABLE card_rows("
    " id TEXT PRIMARY KEY, created TEXT, agent INTEGER, session INTEGER, \"commit\" TEXT,"
    " category INTEGER, hypothesis TEXT, status INTEGER, card_status INTEGER,"
    " retracted INTEGER NOT NULL, platform INTEGER, fingerprint INTEGER, budget_s REAL, seed REAL,"
    " val_bpb REAL, training_seconds REAL, delta REAL, baseline INTEGER, config_hash INTEGER,"
    " verifies TEXT, lesson TEXT, tags TEXT NOT NULL, prior_cards TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE change_rows(card TEXT NOT NULL, pos INTEGER NOT NULL, key INTEGER NOT NULL,"
    " from_value INTEGER NOT NULL, to_value INTEGER NOT NULL, PRIMARY KEY(card, pos)) WITHOUT ROWID;"
    "CREATE VIEW cards AS SELECT c.id, c.created, (SELECT s FROM strings WHERE id = c.agent) AS agent,"
    " (SELECT s FROM strings WHERE id = c.session) AS session, c.\"commit\","
    " (SELECT s FROM strings WHERE id = c.category) AS category, c.hypothesis,"
    " (SELECT s FROM strings WHERE id = c.status) AS status,"
    " (SELECT s FROM strings WHERE id = c.card_status) AS card_status, c.retracted,"
    " (SELECT s FROM strings WHERE id = c.platform) AS platform,"
    " (SELECT s FROM strings WHERE id = c.fingerprint) AS fingerprint, c.budget_s, c.seed, c.val_bpb,"
    " c.training_seconds, c.delta, (SELECT s FROM strings WHERE id = c.baseline) AS baseline,"
    " (SELECT s FROM strings WHERE id = c.config_hash) AS config_hash, c.verifies, c.lesson, c.tags,"
    " c.prior_cards FROM card_rows c;"
    "CREATE VIEW changes AS SELECT h.card, h.pos, (SELECT s FROM strings WHERE id = h.key) AS key,"
    " (SELECT s FROM strings WHERE id = h.from_value) AS from_value,"
    " (SELECT s FROM strings WHERE id = h.to_value) AS to_value FROM change_rows h;"
    "CREATE TABLE views(id TEXT PRIMARY KEY, view TEXT NOT NULL);"
    "CREATE TABLE notes(id TEXT PRIMARY KEY, card TEXT NOT NULL, kind TEXT NOT NULL, status TEXT,"
    " created TEXT, agent TEXT, text TEXT, note TEXT NOT NULL);"
    "CREATE TABLE skipped(kind TEXT NOT NULL, id TEXT NOT NULL, why TEXT NOT NULL,"
    " PRIMARY KEY(kind, id)) WITHOUT ROWID;"
    "CREATE TABLE pending(kind TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY(kind, id)) WITHOUT ROWID;";

/* created after a rebuild's rows: cheaper than keeping them up to date */
static const char indexes_sql[] =
    "CREATE INDEX cards_key ON card_rows(fingerprint, budget_s, platform);"
    "CREATE INDEX cards_status ON card_rows(status);"
    "CREATE INDEX cards_session ON card_rows(session);"
    "CREATE INDEX cards_platform ON card_rows(platform);"
    "CREATE INDEX cards_created ON card_rows(created);"
    "CREATE INDEX notes_card ON notes(card, id);";

/* which facts the index holds (see the top) */
struct held {
    long long cards, notes;
    uint64_t cards_x, notes_x;
};

struct db {
    sqlite3 *db;
    int lock;                /* fd of the shared lock on index.lock, -1 when none */
    const struct ar_kb *kb;
    char path[PATH_MAX];
    struct held held;        /* while a write transaction is open */
    int corrupt;             /* SQLite called it corrupt or not a database */
};

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

jv ar_card_view(jv card, jv notes)
{
    jv view = jv_copy(card);
    const char *status = ar_card_status_norm(ar_jv_str(card, "status"));
    jv effective = jv_string(status ? status : "");
    int retracted = 0;
    jv_array_foreach(notes, i, n) {
        const char *kind = ar_jv_str(n, "kind");
        if (kind && strcmp(kind, "status") == 0 && ar_jv_str(n, "status")) {
            jv_free(effective);
            effective = jv_string(ar_card_status_norm(ar_jv_str(n, "status")));
        } else if (kind && strcmp(kind, "retract") == 0) {
            retracted = 1;
        }
        jv_free(n);
    }
    ar_jv_set(&view, "card_status", jv_string(status ? status : ""));
    ar_jv_set(&view, "status", effective);
    ar_jv_set(&view, "retracted", jv_bool(retracted));
    ar_jv_set(&view, "notes", jv_copy(notes));
    return view;
}

static uint64_t id_hash(const char *id)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 1099511628211ULL;
    return h;
}

/* ---------------------------------------------------------------- sqlite */

static int is_corrupt(int rc)
{
    rc &= 0xff;
    return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

/* the last error of d as AR_EFAIL "PATH: WHAT: WHY"; corruption remembered */
static int db_fail(struct db *d, const char *what)
{
    if (is_corrupt(sqlite3_errcode(d->db)))
        d->corrupt = 1;
    return ar_fail(AR_EFAIL, "%s: %s: %s", d->path, what, sqlite3_errmsg(d->db));
}

static int exec(struct db *d, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(d->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        if (is_corrupt(rc))
            d->corrupt = 1;
        ar_fail(AR_EFAIL, "%s: %s", d->path, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

static int prepare(struct db *d, const char *sql, sqlite3_stmt **st)
{
    int rc = sqlite3_prepare_v2(d->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        db_fail(d, "cannot read");
        *st = NULL;
    }
    return rc;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_num(sqlite3_stmt *st, int i, int has, double v)
{
    if (has)
        sqlite3_bind_double(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* Runs a statement that returns no rows, then resets it. */
static int step_done(struct db *d, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        db_fail(d, what);
        return rc;
    }
    return 0;
}

static void db_close(struct db *d)
{
    if (d->db)
        sqlite3_close_v2(d->db);
    d->db = NULL;
    if (d->lock >= 0)
        ar_unlock(d->lock);
    d->lock = -1;
}

static int lock_path(const struct ar_kb *kb, char out[PATH_MAX])
{
    ar_kb_path(kb, LOCK_FILE, out);
    return 0;
}

/* Opens index.db (created when missing) under the shared lock. */
static int db_open(const struct ar_kb *kb, struct db *d)
{
    char lp[PATH_MAX];
    memset(d, 0, sizeof *d);
    d->kb = kb;
    d->lock = -1;
    ar_kb_path(kb, DB_FILE, d->path);
    lock_path(kb, lp);
    if ((d->lock = ar_lock(lp, ar_lock_timeout_default(), 0)) < 0)
        return -1;
    int rc = sqlite3_open_v2(d->path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        ar_fail(AR_EFAIL, "%s: cannot open: %s", d->path, d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(rc));
        db_close(d);
        return rc;
    }
    sqlite3_busy_timeout(d->db, (int)(ar_lock_timeout_default() * 1000));
    sqlite3_extended_result_codes(d->db, 0);
    /* the last connection to close leaves the WAL to the next checkpoint:
     * a write costs its own pages, not a checkpoint of every change */
    sqlite3_db_config(d->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    /* derived data: a commit need not reach the disk (synchronous=NORMAL
     * keeps WAL consistent after a crash; a lost commit is a fact the next
     * reader takes in again) */
    /* 16 KiB pages hold seven views of 2 KiB where 4 KiB pages hold one
     * (set before the first table; a no-op on an existing file) */
    rc = exec(d, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                 " PRAGMA mmap_size=1073741824;"
                 "PRAGMA journal_size_limit=67108864; PRAGMA cache_size=-65536;");
    if (rc != 0) {
        db_close(d);
        return rc;
    }
    return 0;
}

/* PRAGMA user_version: 0 for a new file. */
static int schema_version(struct db *d, int *version)
{
    sqlite3_stmt *st;
    int rc = prepare(d, "PRAGMA user_version", &st);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    if (rc != SQLITE_ROW)
        db_fail(d, "cannot read");
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : rc;
}

static int read_held(struct db *d, struct held *h)
{
    sqlite3_stmt *st;
    memset(h, 0, sizeof *h);
    int rc = prepare(d, "SELECT key, value FROM meta", &st);
    if (rc != SQLITE_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        sqlite3_int64 v = sqlite3_column_int64(st, 1);
        if (!k)
            continue;
        if (strcmp(k, "cards") == 0)
            h->cards = v;
        else if (strcmp(k, "cards_x") == 0)
            h->cards_x = (uint64_t)v;
        else if (strcmp(k, "notes") == 0)
            h->notes = v;
        else if (strcmp(k, "notes_x") == 0)
            h->notes_x = (uint64_t)v;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(d, "cannot read"), rc;
    return 0;
}

static int put_meta_int(struct db *d, const char *key, sqlite3_int64 v)
{
    sqlite3_stmt *st;
    int rc = prepare(d, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, v);
    rc = step_done(d, st, "cannot write");
    sqlite3_finalize(st);
    return rc;
}

/* Writes d->held. */
static int write_held(struct db *d)
{
    int rc = put_meta_int(d, "cards", d->held.cards);
    if (rc == 0)
        rc = put_meta_int(d, "cards_x", (sqlite3_int64)d->held.cards_x);
    if (rc == 0)
        rc = put_meta_int(d, "notes", d->held.notes);
    if (rc == 0)
        rc = put_meta_int(d, "notes_x", (sqlite3_int64)d->held.notes_x);
    return rc;
}

static void rollback(struct db *d)
{
    if (!sqlite3_get_autocommit(d->db))
        sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ------------------------------------------------------------ rows */

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

/* The statements that store a card, prepared once per transaction. */
struct put {
    sqlite3_stmt *card, *view, *del_changes, *change, *find_s, *add_s;
    struct ar_pool pool;
    struct ar_buf tags, prior;
    size_t uses;
    struct ar_pool spool;    /* the strings met, interned: keys of sids */
    struct ar_ptrmap sids;   /* their numbers in the strings table */
};

static int put_open(struct db *d, struct put *p, int replace)
{
    memset(p, 0, sizeof *p);
    const char *verb = replace ? "INSERT OR REPLACE" : "INSERT";
    char sql[1024];
    snprintf(sql, sizeof sql,
             "%s INTO card_rows(id, created, agent, session, \"commit\", category, hypothesis, status,"
             " card_status, retracted, platform, fingerprint, budget_s, seed, val_bpb, training_seconds,"
             " delta, baseline, config_hash, verifies, lesson, tags, prior_cards)"
             " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,"
             " ?20, ?21, ?22, ?23)",
             verb);
    int rc = prepare(d, sql, &p->card);
    if (rc == SQLITE_OK) {
        snprintf(sql, sizeof sql, "%s INTO views(id, view) VALUES(?1, ?2)", verb);
        rc = prepare(d, sql, &p->view);
    }
    if (rc == SQLITE_OK)
        rc = prepare(d, "DELETE FROM change_rows WHERE card = ?1", &p->del_changes);
    if (rc == SQLITE_OK)
        rc = prepare(d, "INSERT INTO change_rows(card, pos, key, from_value, to_value) VALUES(?1, ?2, ?3, ?4, ?5)",
                     &p->change);
    if (rc == SQLITE_OK)
        rc = prepare(d, "SELECT id FROM strings WHERE s = ?1", &p->find_s);
    if (rc == SQLITE_OK)
        rc = prepare(d, "INSERT INTO strings(s) VALUES(?1)", &p->add_s);
    return rc;
}

static void put_close(struct put *p)
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
    sqlite3_bind_text(p->find_s, 1, k, -1, SQLITE_STATIC);
    int rc = sqlite3_step(p->find_s);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(p->find_s, 0);
    sqlite3_reset(p->find_s);
    if (rc == SQLITE_DONE) {
        sqlite3_bind_text(p->add_s, 1, k, -1, SQLITE_STATIC);
        if (step_done(d, p->add_s, "cannot write") != 0)
            return -1;
        *id = sqlite3_last_insert_rowid(d->db);
    } else if (rc != SQLITE_ROW) {
        return db_fail(d, "cannot read");
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
static int put_view(struct db *d, struct put *p, const char *view, size_t len)
{
    struct ar_cardrow r;
    if (++p->uses % 4096 == 0) {
        ar_pool_free(&p->pool);
        memset(&p->pool, 0, sizeof p->pool);
    }
    if (ar_cardrow_parse(&p->pool, view, len, &r) != 0)
        return ar_fail(AR_EFAIL, "%s: cannot index a view: %s", d->path, ar_last_error());
    p->tags.len = p->prior.len = 0;
    put_json_list(&p->tags, r.tags, r.ntags);
    put_json_list(&p->prior, r.prior, r.nprior);
    sqlite3_stmt *c = p->card;
    bind_text(c, 1, r.id);
    bind_text(c, 2, r.created);
    bind_text(c, 5, r.commit);
    bind_text(c, 7, r.hypothesis);
    sqlite3_bind_int(c, 10, r.retracted);
    if (bind_sid(d, p, c, 3, r.agent) != 0 || bind_sid(d, p, c, 4, r.session) != 0 ||
        bind_sid(d, p, c, 6, r.category) != 0 || bind_sid(d, p, c, 8, r.status) != 0 ||
        bind_sid(d, p, c, 9, r.card_status) != 0 || bind_sid(d, p, c, 11, r.platform) != 0 ||
        bind_sid(d, p, c, 12, r.fingerprint) != 0 || bind_sid(d, p, c, 18, r.baseline) != 0 ||
        bind_sid(d, p, c, 19, r.config_hash) != 0)
        return -1;
    bind_num(c, 13, r.has_budget, r.budget_s);
    bind_num(c, 14, r.has_seed, r.seed);
    bind_num(c, 15, r.has_bpb, r.val_bpb);
    bind_num(c, 16, r.has_training, r.training_seconds);
    bind_num(c, 17, r.has_delta, r.delta);
    bind_text(c, 20, r.verifies);
    bind_text(c, 21, r.lesson);
    sqlite3_bind_text(c, 22, p->tags.data, (int)p->tags.len, SQLITE_STATIC);
    sqlite3_bind_text(c, 23, p->prior.data, (int)p->prior.len, SQLITE_STATIC);
    int rc = step_done(d, c, "cannot write");
    if (rc == 0) {
        sqlite3_bind_text(p->view, 1, r.id, -1, SQLITE_STATIC);
        sqlite3_bind_text(p->view, 2, view, (int)len, SQLITE_STATIC);
        rc = step_done(d, p->view, "cannot write");
    }
    if (rc == 0) {
        sqlite3_bind_text(p->del_changes, 1, r.id, -1, SQLITE_STATIC);
        rc = step_done(d, p->del_changes, "cannot write");
    }
    for (int i = 0; i < r.nchanges && rc == 0; i++) {
        sqlite3_bind_text(p->change, 1, r.id, -1, SQLITE_STATIC);
        sqlite3_bind_int(p->change, 2, i);
        if (bind_sid(d, p, p->change, 3, r.changes[i].key) != 0 ||
            bind_sid(d, p, p->change, 4, r.changes[i].from) != 0 ||
            bind_sid(d, p, p->change, 5, r.changes[i].to) != 0)
            rc = -1;
        else
            rc = step_done(d, p->change, "cannot write");
    }
    sqlite3_clear_bindings(c);
    return rc;
}

static int put_note_text(struct db *d, sqlite3_stmt *st, const char *id, const char *card, const char *kind,
                         const char *status, const char *text, size_t len)
{
    bind_text(st, 1, id);
    bind_text(st, 2, card);
    bind_text(st, 3, kind);
    bind_text(st, 4, status && *status ? status : NULL);
    sqlite3_bind_text(st, 5, text, (int)len, SQLITE_STATIC);
    return step_done(d, st, "cannot write");
}

static const char note_sql[] =
    "INSERT OR IGNORE INTO notes(id, card, kind, status, created, agent, text, note)"
    " VALUES(?1, ?2, ?3, ?4, json_extract(?5, '$.created'), json_extract(?5, '$.agent'),"
    " json_extract(?5, '$.text'), ?5)";

static int put_skipped(struct db *d, const char *kind, const char *id, const char *why)
{
    sqlite3_stmt *st;
    int rc = prepare(d, "INSERT OR IGNORE INTO skipped(kind, id, why) VALUES(?1, ?2, ?3)", &st);
    if (rc != SQLITE_OK)
        return rc;
    bind_text(st, 1, kind);
    bind_text(st, 2, id);
    bind_text(st, 3, why);
    rc = step_done(d, st, "cannot write");
    sqlite3_finalize(st);
    return rc;
}

/* ---------------------------------------------------------------- rebuild */

static const char *note_kind_name(char k)
{
    return k == 'l' ? "lesson" : k == 's' ? "status" : k == 'r' ? "retract" : "comment";
}

static const struct ar_fact *sort_notes;

static int cmp_note(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(sort_notes[i].card, sort_notes[j].card);
    return c ? c : (i > j) - (i < j);
}

/* Fills the empty tables of d (in its open transaction) from the facts;
 * d->held is set to what they hold. */
static int fill(struct db *d)
{
    const struct ar_kb *kb = d->kb;
    size_t ncards, nnotes;
    char **cards = ar_list_ids(kb->cards, &ncards);
    char **notes = ar_list_ids(kb->notes, &nnotes);
    if (!cards || !notes) {
        ar_free_ids(cards, cards ? ncards : 0);
        ar_free_ids(notes, notes ? nnotes : 0);
        return ar_fail(AR_EFAIL, "knowledge base %s: cannot read cards/ or notes/", kb->root);
    }
    memset(&d->held, 0, sizeof d->held);
    struct ar_fact *nf = ar_xmalloc((nnotes ? nnotes : 1) * sizeof *nf);
    ar_facts_read(kb, notes, nnotes, 1, nf);
    sqlite3_stmt *ins_note = NULL;
    int rc = prepare(d, note_sql, &ins_note);
    /* notes grouped by card, in id order within each card */
    size_t *order = ar_xmalloc((nnotes ? nnotes : 1) * sizeof *order), nvalid = 0;
    for (size_t i = 0; i < nnotes && rc == 0; i++) {
        d->held.notes++;
        d->held.notes_x ^= id_hash(notes[i]);
        if (nf[i].warning) {
            ar_warn("index: skipping note: %s", nf[i].warning);
            rc = put_skipped(d, "note", notes[i], nf[i].warning);
            continue;
        }
        order[nvalid++] = i;
        rc = put_note_text(d, ins_note, notes[i], nf[i].card, note_kind_name(nf[i].kind), nf[i].status,
                           nf[i].text, nf[i].len);
    }
    sqlite3_finalize(ins_note);
    sort_notes = nf;
    qsort(order, nvalid, sizeof *order, cmp_note);

    struct put p;
    if (rc == 0)
        rc = put_open(d, &p, 0);
    else
        memset(&p, 0, sizeof p);
    enum { CHUNK = 4096 };
    struct ar_fact *cf = ar_xmalloc(CHUNK * sizeof *cf);
    struct ar_buf b = {0};
    size_t at = 0;   /* next note in order */
    for (size_t base = 0; base < ncards && rc == 0; base += CHUNK) {
        size_t n = ncards - base < CHUNK ? ncards - base : CHUNK;
        ar_facts_read(kb, cards + base, n, 0, cf);
        for (size_t i = 0; i < n; i++) {
            const char *id = cards[base + i];
            while (at < nvalid && strcmp(nf[order[at]].card, id) < 0)
                at++;   /* notes on cards that are not there */
            size_t end = at;
            while (end < nvalid && strcmp(nf[order[end]].card, id) == 0)
                end++;
            d->held.cards++;
            d->held.cards_x ^= id_hash(id);
            if (rc != 0) {
            } else if (cf[i].warning) {
                ar_warn("index: skipping card: %s", cf[i].warning);
                rc = put_skipped(d, "card", id, cf[i].warning);
            } else {
                b.len = 0;
                ar_fact_splice_view(&b, &cf[i], nf, order + at, end - at);
                ar_buf_putc(&b, '\0');
                rc = put_view(d, &p, b.data, b.len - 1);
            }
            at = end;
            free(cf[i].text);
            free(cf[i].warning);
        }
    }
    ar_buf_free(&b);
    free(cf);
    put_close(&p);
    free(order);
    ar_facts_free(nf, nnotes);
    ar_free_ids(cards, ncards);
    ar_free_ids(notes, nnotes);
    return rc;
}

static int no_writers(const struct ar_kb *kb);

/* Drops every table and view (of whichever schema). */
static int drop_all(struct db *d)
{
    sqlite3_stmt *st;
    if (prepare(d, "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') AND"
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
    rc = rc == SQLITE_DONE ? exec(d, sql.data) : db_fail(d, "cannot read");
    ar_buf_free(&sql);
    return rc;
}

/* Builds the whole index anew in d's open write transaction. The pending
 * rows of facts it did not find stay, unless no writer is at work. */
static int rebuild_in(struct db *d)
{
    char sql[64];
    int rc = exec(d, "CREATE TABLE IF NOT EXISTS pending(kind TEXT NOT NULL, id TEXT NOT NULL,"
                     " PRIMARY KEY(kind, id)) WITHOUT ROWID;"
                     "DROP TABLE IF EXISTS temp.keep; CREATE TEMP TABLE keep AS SELECT kind, id FROM pending;");
    if (rc == 0)
        rc = drop_all(d);
    if (rc == 0)
        rc = exec(d, schema_sql);
    if (rc == 0)
        rc = fill(d);
    if (rc == 0 && !no_writers(d->kb))
        rc = exec(d, "INSERT INTO pending SELECT kind, id FROM temp.keep k WHERE NOT EXISTS"
                     " (SELECT 1 FROM skipped s WHERE s.kind = k.kind AND s.id = k.id) AND"
                     " CASE k.kind WHEN 'card' THEN NOT EXISTS (SELECT 1 FROM card_rows c WHERE c.id = k.id)"
                     " ELSE NOT EXISTS (SELECT 1 FROM notes n WHERE n.id = k.id) END");
    if (rc == 0)
        rc = exec(d, "DROP TABLE temp.keep");
    if (rc == 0)
        rc = exec(d, indexes_sql);
    if (rc == 0)
        rc = write_held(d);
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d", SCHEMA_VERSION);
    if (rc == 0)
        rc = exec(d, sql);
    return rc;
}

/* Files of the index before index.db: gone at a rebuild. */
static void remove_old_files(const struct ar_kb *kb)
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
    remove_old_files(d->kb);
    sqlite3_busy_timeout(d->db, 2000);
    sqlite3_exec(d->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_busy_timeout(d->db, (int)(ar_lock_timeout_default() * 1000));
}

static int rebuild_txn(struct db *d)
{
    ar_clean_temps(d->kb->root);
    ar_clean_temps(d->kb->cards);
    ar_clean_temps(d->kb->notes);
    int rc = exec(d, "BEGIN IMMEDIATE");
    if (rc == 0)
        rc = rebuild_in(d);
    if (rc == 0)
        rc = exec(d, "COMMIT");
    if (rc != 0)
        rollback(d);
    else
        after_rebuild(d);
    return rc;
}

/* Replaces a database SQLite cannot read: under the exclusive lock (no
 * other connection is open), the files are removed and built anew. */
static int replace_db(const struct ar_kb *kb)
{
    char lp[PATH_MAX], path[PATH_MAX], side[PATH_MAX + 16];
    lock_path(kb, lp);
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
                rc = exec(&d, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                              " PRAGMA cache_size=-65536;");
            if (rc == 0)
                rc = rebuild_txn(&d);
            db_close(&d);
        }
    }
    ar_unlock(fd);
    return rc;
}

/* Opens the index ready for use: of the current schema, with its meta;
 * built when new or old, replaced when unreadable. *built: 1 when this
 * call built it (so it holds every fact on disk). */
static int open_ready(const struct ar_kb *kb, struct db *d, int *built)
{
    *built = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        int rc = db_open(kb, d);
        int version = -1;
        if (rc == 0)
            rc = schema_version(d, &version);
        if (rc == 0 && version == SCHEMA_VERSION)
            return 0;
        if (rc == 0) {
            /* new or of another schema: built in a transaction that checks
             * again, as another process may be at it too */
            rc = exec(d, "BEGIN IMMEDIATE");
            if (rc == 0)
                rc = schema_version(d, &version);
            if (rc == 0 && version == SCHEMA_VERSION) {
                rc = exec(d, "COMMIT");
                if (rc == 0)
                    return 0;
            } else if (rc == 0) {
                ar_clean_temps(kb->root);
                ar_clean_temps(kb->cards);
                ar_clean_temps(kb->notes);
                rc = rebuild_in(d);
                if (rc == 0)
                    rc = exec(d, "COMMIT");
                if (rc == 0) {
                    after_rebuild(d);
                    *built = 1;
                    return 0;
                }
            }
            rollback(d);
        }
        int corrupt = d->corrupt;
        db_close(d);
        if (!corrupt || replace_db(kb) != 0)
            return -1;
        *built = 1;
    }
    return ar_fail(AR_EFAIL, "%s/" DB_FILE ": unreadable after a rebuild", kb->root);
}

/* ------------------------------------------------------------ freshness */

static int same_held(const struct held *a, const struct held *b)
{
    return a->cards == b->cards && a->notes == b->notes && a->cards_x == b->cards_x && a->notes_x == b->notes_x;
}

/* 1 when the index has fact id (indexed or skipped). */
static int has_fact(struct db *d, int is_note, const char *id)
{
    sqlite3_stmt *st;
    const char *sql = is_note ? "SELECT 1 FROM notes WHERE id = ?1 UNION ALL "
                                "SELECT 1 FROM skipped WHERE kind = 'note' AND id = ?1"
                              : "SELECT 1 FROM card_rows WHERE id = ?1 UNION ALL "
                                "SELECT 1 FROM skipped WHERE kind = 'card' AND id = ?1";
    if (prepare(d, sql, &st) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(d, "cannot read");
    return rc == SQLITE_ROW;
}

/* The notes of card (JSON texts, id order) as a jv array. */
static int card_notes(struct db *d, const char *card, jv *out)
{
    sqlite3_stmt *st;
    *out = jv_array();
    if (prepare(d, "SELECT note FROM notes WHERE card = ?1 ORDER BY id", &st) != SQLITE_OK)
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
        return db_fail(d, "cannot read");
    return 0;
}

/* Stores the view and row of card (borrowed) with its notes in the index. */
static int put_card(struct db *d, jv card)
{
    jv notes;
    if (card_notes(d, ar_jv_str(card, "id"), &notes) != 0) {
        jv_free(notes);
        return -1;
    }
    jv view = ar_card_view(card, notes);
    jv_free(notes);
    char *text = ar_json_dump(view, AR_JSON_COMPACT);
    jv_free(view);
    struct put p;
    int rc = put_open(d, &p, 1);
    if (rc == 0)
        rc = put_view(d, &p, text, strlen(text));
    put_close(&p);
    free(text);
    return rc;
}

/* Renders card id's view again from its stored view and the notes table
 * (after a note came in); nothing when the card is not indexed. */
static int refresh_card(struct db *d, const char *id)
{
    sqlite3_stmt *st;
    if (prepare(d, "SELECT view FROM views WHERE id = ?1", &st) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? 0 : db_fail(d, "cannot read");
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
    card = jv_object_delete(card, jv_string("notes"));
    jv_free(view);
    rc = put_card(d, card);
    jv_free(card);
    return rc;
}

/* Takes in note fact id (read from its file), in d's write transaction;
 * *card gets the card it annotates ("" when skipped). */
static int catch_note(struct db *d, const char *id, char card[AR_ID_LEN + 1])
{
    char path[PATH_MAX];
    struct ar_fact f;
    memset(&f, 0, sizeof f);
    card[0] = '\0';
    d->held.notes++;
    d->held.notes_x ^= id_hash(id);
    if (ar_fact_read(ar_kb_note_path(d->kb, id, path), id, 1, &f) != 0) {
        ar_warn("index: skipping note: %s", ar_last_error());
        return put_skipped(d, "note", id, ar_last_error());
    }
    sqlite3_stmt *st;
    int rc = prepare(d, note_sql, &st);
    if (rc == 0)
        rc = put_note_text(d, st, id, f.card, note_kind_name(f.kind), f.status, f.text, f.len);
    sqlite3_finalize(st);
    snprintf(card, AR_ID_LEN + 1, "%s", f.card);
    free(f.text);
    return rc;
}

static int catch_card(struct db *d, const char *id)
{
    char path[PATH_MAX];
    struct ar_fact f;
    memset(&f, 0, sizeof f);
    d->held.cards++;
    d->held.cards_x ^= id_hash(id);
    jv card;
    if (ar_fact_read(ar_kb_card_path(d->kb, id, path), id, 0, &f) != 0 ||
        ar_json_parse(f.text, f.len, path, &card) != 0) {
        free(f.text);
        ar_warn("index: skipping card: %s", ar_last_error());
        return put_skipped(d, "card", id, ar_last_error());
    }
    free(f.text);
    int rc = put_card(d, card);
    jv_free(card);
    return rc;
}

/* A pending row: a fact a writer said it would write. */
struct pend {
    int is_note;
    char id[AR_ID_LEN + 1];
};

static int fact_exists(const struct ar_kb *kb, int is_note, const char *id)
{
    char path[PATH_MAX];
    if (!ar_id_valid(id))
        return 0;
    return access(is_note ? ar_kb_note_path(kb, id, path) : ar_kb_card_path(kb, id, path), F_OK) == 0;
}

/* The pending rows whose files exist (they are to be taken in) into *out
 * (malloc'd, *n of them); *stale gets the count of the others. */
static int pending_ready(struct db *d, struct pend **out, size_t *n, size_t *stale)
{
    sqlite3_stmt *st;
    *out = NULL;
    *n = 0;
    if (stale)
        *stale = 0;
    if (prepare(d, "SELECT kind, id FROM pending", &st) != SQLITE_OK)
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
        return db_fail(d, "cannot read");
    }
    return 0;
}

static int delete_pending(struct db *d, int is_note, const char *id)
{
    sqlite3_stmt *st;
    int rc = prepare(d, "DELETE FROM pending WHERE kind = ?1 AND id = ?2", &st);
    if (rc != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, is_note ? "note" : "card", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    rc = step_done(d, st, "cannot write");
    sqlite3_finalize(st);
    return rc;
}

/* Takes in the pending facts whose files exist, in one transaction (a
 * rebuild when there are many); their rows go. */
static int take_pending(struct db *d)
{
    int rc = exec(d, "BEGIN IMMEDIATE");
    if (rc != 0)
        return -1;
    struct pend *p = NULL;
    size_t n = 0;
    rc = read_held(d, &d->held);
    if (rc == 0)
        rc = pending_ready(d, &p, &n, NULL);   /* again: another reader may have been first */
    if (rc == 0 && n > CATCH_UP_MAX) {
        rc = rebuild_in(d);
    } else if (rc == 0 && n > 0) {
        char (*touched)[AR_ID_LEN + 1] = ar_xmalloc(n * sizeof *touched);
        int *is_new = ar_xmalloc(n * sizeof *is_new);
        /* notes first, so that a card taken in with them has them in its view */
        for (int pass = 1; pass >= 0; pass--)
            for (size_t i = 0; i < n && rc == 0; i++) {
                if (p[i].is_note != pass)
                    continue;
                touched[i][0] = '\0';
                int there = has_fact(d, pass, p[i].id);
                is_new[i] = there == 0;
                if (there < 0)
                    rc = -1;
                else if (!there)
                    rc = pass ? catch_note(d, p[i].id, touched[i]) : catch_card(d, p[i].id);
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
                rc = refresh_card(d, touched[i]);
        }
        free(touched);
        free(is_new);
        if (rc == 0)
            rc = write_held(d);
    }
    free(p);
    if (rc == 0)
        rc = exec(d, "COMMIT");
    if (rc != 0)
        rollback(d);
    return rc;
}

/* Opens the index, fresh: it holds every fact that a writer through this
 * library created (a rebuild takes in the others). One SELECT of the
 * pending rows, and a stat of each; no listing. */
static int open_fresh(const struct ar_kb *kb, struct db *d)
{
    int built;
    if (open_ready(kb, d, &built) != 0)
        return -1;
    if (built)
        return 0;
    struct pend *p;
    size_t n;
    int rc = pending_ready(d, &p, &n, NULL);
    free(p);
    if (rc == 0 && n > 0)
        rc = take_pending(d);
    if (rc != 0) {
        db_close(d);
        return -1;
    }
    return 0;
}

/* 1 when no writer is between its intent and its end (index.pending.lock could
 * be taken exclusively), 0 otherwise. */
static int no_writers(const struct ar_kb *kb)
{
    char lp[PATH_MAX];
    int fd = ar_lock(ar_kb_path(kb, PENDING_LOCK, lp), 0, 1);
    if (fd < 0)
        return 0;
    ar_unlock(fd);
    return 1;
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
        if (open_ready(kb, &d, &built) != 0)
            break;
        /* durable before the files are: else a power loss could keep a
         * file and lose the row that makes readers look for it */
        rc = exec(&d, "PRAGMA synchronous=FULL");
        if (rc == 0)
            rc = exec(&d, "BEGIN IMMEDIATE");
        sqlite3_stmt *st = NULL;
        if (rc == 0)
            rc = prepare(&d, "INSERT OR IGNORE INTO pending(kind, id) VALUES(?1, ?2)", &st);
        for (size_t i = 0; i < n && rc == 0; i++) {
            if (!ids[i] || !ar_id_valid(ids[i])) {
                rc = ar_fail(AR_EINPUT, "index: a fact id that is not an id");
                break;
            }
            sqlite3_bind_text(st, 1, is_note[i] ? "note" : "card", -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, ids[i], -1, SQLITE_STATIC);
            rc = step_done(&d, st, "cannot write");
        }
        sqlite3_finalize(st);
        if (rc == 0)
            rc = exec(&d, "COMMIT");
        if (rc != 0)
            rollback(&d);
        int corrupt = d.corrupt;
        db_close(&d);
        if (rc != 0 && (!corrupt || replace_db(kb) != 0))
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
    if (open_ready(kb, &d, &built) != 0)
        return -1;
    int rc = delete_pending(&d, is_note, id);
    db_close(&d);
    return rc ? -1 : 0;
}

/* ---------------------------------------------------------------- the API */

/* Runs job on the fresh index. A database found corrupt on the way is
 * replaced and the job run again, unless it already handed out results
 * (*delivered) that cannot be taken back. */
typedef int (*db_job)(struct db *d, void *arg, int *delivered);

static int run_fresh(const struct ar_kb *kb, db_job job, void *arg)
{
    for (int attempt = 0;; attempt++) {
        struct db d;
        int delivered = 0;
        int rc = open_fresh(kb, &d);
        if (rc == 0)
            rc = job(&d, arg, &delivered);
        int corrupt = d.corrupt;
        db_close(&d);
        if (rc == 0 || !corrupt || delivered || attempt > 0)
            return rc;
        if (replace_db(kb) != 0)
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
    return run_fresh(kb, no_job, NULL) ? -1 : 0;
}

int ar_index_rebuild(const struct ar_kb *kb)
{
    struct db d;
    int built;
    if (open_ready(kb, &d, &built) != 0)
        return -1;
    int rc = built ? 0 : rebuild_txn(&d);
    int corrupt = d.corrupt;
    db_close(&d);
    if (rc != 0 && corrupt)
        return replace_db(kb);
    return rc ? -1 : 0;
}

/* Adds fact id with fn in one write transaction, unless the index has it
 * (a reader or a rebuild took it in since the file landed). */
static int add_fact(const struct ar_kb *kb, int is_note, const char *id, int (*fn)(struct db *, jv), jv fact)
{
    if (!id)
        return ar_fail(AR_EINPUT, "index: a fact without an id");
    struct db d;
    int built;
    if (open_ready(kb, &d, &built) != 0)
        return -1;
    if (built) {
        db_close(&d);
        return 0;
    }
    int rc = exec(&d, "BEGIN IMMEDIATE");
    if (rc == 0)
        rc = read_held(&d, &d.held);
    int there = rc == 0 ? has_fact(&d, is_note, id) : -1;
    if (there < 0)
        rc = -1;
    if (rc == 0 && !there) {
        rc = fn(&d, fact);
        if (rc == 0) {
            if (is_note) {
                d.held.notes++;
                d.held.notes_x ^= id_hash(id);
            } else {
                d.held.cards++;
                d.held.cards_x ^= id_hash(id);
            }
            rc = write_held(&d);
        }
    }
    if (rc == 0)
        rc = delete_pending(&d, is_note, id);
    if (rc == 0)
        rc = exec(&d, "COMMIT");
    if (rc != 0)
        rollback(&d);
    int corrupt = d.corrupt;
    db_close(&d);
    if (rc != 0 && corrupt)
        return replace_db(kb);   /* the fact's file is there: the new database has it */
    return rc ? -1 : 0;
}

int ar_index_add(const struct ar_kb *kb, jv card)
{
    return add_fact(kb, 0, ar_jv_str(card, "id"), put_card, card);
}

static int put_note(struct db *d, jv note)
{
    const char *id = ar_jv_str(note, "id"), *card = ar_jv_str(note, "card"), *kind = ar_jv_str(note, "kind");
    if (!card || !kind)
        return ar_fail(AR_EINPUT, "index: note %s: no card or kind", id);
    const char *status = ar_jv_str(note, "status");
    char *text = ar_json_dump(note, AR_JSON_COMPACT);
    sqlite3_stmt *st;
    int rc = prepare(d, note_sql, &st);
    if (rc == 0)
        rc = put_note_text(d, st, id, card, kind,
                           strcmp(kind, "status") == 0 && status ? ar_card_status_norm(status) : NULL, text,
                           strlen(text));
    sqlite3_finalize(st);
    free(text);
    if (rc == 0)
        rc = refresh_card(d, card);
    return rc;
}

int ar_index_add_note(const struct ar_kb *kb, jv note)
{
    return add_fact(kb, 1, ar_jv_str(note, "id"), put_note, note);
}

static int version_job(struct db *d, void *arg, int *delivered)
{
    char *out = arg;
    struct held h;
    (void)delivered;
    if (read_held(d, &h) != 0)
        return -1;
    snprintf(out, AR_INDEX_VERSION_LEN, "%d:%lld:%016llx:%lld:%016llx", SCHEMA_VERSION, h.cards,
             (unsigned long long)h.cards_x, h.notes, (unsigned long long)h.notes_x);
    return 0;
}

int ar_index_version(const struct ar_kb *kb, char out[AR_INDEX_VERSION_LEN])
{
    out[0] = '\0';
    return run_fresh(kb, version_job, out) ? -1 : 0;
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
    int rc = prepare(d, "SELECT view FROM views WHERE id = ?1", &st);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, j->id, -1, SQLITE_STATIC);
        int s = sqlite3_step(st);
        if (s == SQLITE_ROW) {
            j->found = 1;
            rc = ar_json_parse((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                               "index view", j->view);
        } else if (s != SQLITE_DONE) {
            rc = db_fail(d, "cannot read");
        }
    }
    sqlite3_finalize(st);
    return rc;
}

int ar_index_view(const struct ar_kb *kb, const char *id, jv *view)
{
    *view = jv_invalid();
    struct view_job j = {id, view, 0};
    if (run_fresh(kb, view_job, &j) != 0)
        return -1;
    return j.found ? 0 : 1;
}

struct foreach_job {
    ar_index_fn fn;
    void *ctx;
    struct ar_buf *all;   /* ar_index_read: the lines, instead of fn */
};

static int foreach_job(struct db *d, void *arg, int *delivered)
{
    struct foreach_job *j = arg;
    sqlite3_stmt *st;
    int rc = prepare(d, "SELECT view FROM views ORDER BY id", &st) ? -1 : 0;
    struct ar_buf b = {0};
    int s = SQLITE_DONE;
    if (j->all)
        j->all->len = 0;
    while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
        const void *v = sqlite3_column_text(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        if (j->all) {
            ar_buf_add(j->all, v, len);
            ar_buf_putc(j->all, '\n');
            continue;
        }
        b.len = 0;
        ar_buf_add(&b, v, len);
        ar_buf_putc(&b, '\0');
        *delivered = 1;
        rc = j->fn(b.data, b.len - 1, j->ctx);
    }
    if (rc == 0 && s != SQLITE_DONE)
        rc = db_fail(d, "cannot read");
    sqlite3_finalize(st);
    ar_buf_free(&b);
    return rc;
}

int ar_index_foreach(const struct ar_kb *kb, ar_index_fn fn, void *ctx)
{
    struct foreach_job j = {fn, ctx, NULL};
    struct db d;
    /* fn's non-zero result is passed on as it is */
    for (int attempt = 0;; attempt++) {
        int delivered = 0;
        int rc = open_fresh(kb, &d);
        if (rc == 0)
            rc = foreach_job(&d, &j, &delivered);
        int corrupt = d.corrupt;
        db_close(&d);
        if (rc == 0 || !corrupt || delivered || attempt > 0)
            return rc;
        if (replace_db(kb) != 0)
            return -1;
    }
}

int ar_index_read(const struct ar_kb *kb, char **text, size_t *len)
{
    struct ar_buf b = {0};
    struct foreach_job j = {NULL, NULL, &b};
    *text = NULL;
    *len = 0;
    if (run_fresh(kb, foreach_job, &j) != 0) {
        ar_buf_free(&b);
        return -1;
    }
    ar_buf_putc(&b, '\0');
    *len = b.len - 1;
    *text = ar_buf_take(&b);
    return 0;
}

/* ----------------------------------------------------------- rows back
 *
 * Reading 100,000 rows costs SQLite about as much as the caller spends on
 * them, so the two run side by side: a thread steps the statements and
 * copies rows into batches, the caller's thread hands each row of a full
 * batch to fn. */

#define BATCH_ROWS 1024
#define NBATCH 4
#define NO_STR ((size_t)-1)

/* the text columns, in the statement's order, then the strings' numbers
 * (of the strings table), then the numbers */
enum { S_ID, S_CREATED, S_COMMIT, S_HYPOTHESIS, S_VERIFIES, S_LESSON, S_TAGS, S_PRIOR, NSTR };
enum { D_AGENT, D_SESSION, D_CATEGORY, D_STATUS, D_CARD_STATUS, D_PLATFORM, D_FINGERPRINT, D_BASELINE,
       D_CONFIG_HASH, NDICT };
enum { N_BUDGET, N_SEED, N_BPB, N_TRAINING, N_DELTA, NNUM };

static const char rows_sql[] =
    "SELECT id, created, \"commit\", hypothesis, verifies, lesson, tags, prior_cards,"
    " agent, session, category, status, card_status, platform, fingerprint, baseline, config_hash,"
    " budget_s, seed, val_bpb, training_seconds, delta, retracted FROM card_rows ORDER BY id";

/* a row in a batch: this head (copied in and out, so unaligned is fine),
 * then its strings; then its changes, three string numbers each */
struct rowhead {
    size_t str[NSTR];   /* offsets into the batch, NO_STR for NULL */
    unsigned dict[NDICT];
    double num[NNUM];
    int has[NNUM];
    int retracted, nchanges;
    size_t changes;     /* offset of the first change */
};

struct batch {
    struct ar_buf data;
    size_t *heads;      /* offsets of the rows' heads */
    size_t n;
};

struct pipe {
    struct db *d;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct batch b[NBATCH];
    size_t produced, consumed;   /* batches; batch k lives in b[k % NBATCH] */
    int done, stop;              /* the producer ended; the consumer wants no more */
    int rc, code;                /* the producer's result, and its error */
    char msg[1024];
    int bad;                     /* the consumer met a string number not there */
    /* the strings table, read before the first batch */
    struct ar_buf dict;
    size_t *dict_off;            /* by number: offset in dict, NO_STR when none */
    size_t ndict;
};

static void put_col(struct ar_buf *b, sqlite3_stmt *st, int i, size_t *off)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    if (!t) {
        *off = NO_STR;
        return;
    }
    *off = b->len;
    ar_buf_add(b, t, (size_t)sqlite3_column_bytes(st, i) + 1);   /* with its NUL */
}

static int read_dict(struct pipe *p)
{
    struct db *d = p->d;
    sqlite3_stmt *st;
    if (prepare(d, "SELECT id, s FROM strings ORDER BY id", &st) != SQLITE_OK)
        return -1;
    size_t cap = 1024;
    p->dict_off = ar_xmalloc(cap * sizeof *p->dict_off);
    p->ndict = 1;
    p->dict_off[0] = NO_STR;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 id = sqlite3_column_int64(st, 0);
        if (id < (sqlite3_int64)p->ndict || id > (1 << 30)) {
            sqlite3_finalize(st);
            return ar_fail(AR_EFAIL, "%s: malformed strings table", d->path);
        }
        while ((size_t)id >= cap)
            p->dict_off = ar_xrealloc(p->dict_off, (cap *= 2) * sizeof *p->dict_off);
        while (p->ndict < (size_t)id)
            p->dict_off[p->ndict++] = NO_STR;
        put_col(&p->dict, st, 1, &p->dict_off[p->ndict++]);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_fail(d, "cannot read");
}

static unsigned col_sid(sqlite3_stmt *st, int i)
{
    sqlite3_int64 v = sqlite3_column_int64(st, i);   /* 0 for NULL */
    return v > 0 && v < (1 << 30) ? (unsigned)v : 0;
}

static int produce(struct pipe *p)
{
    struct db *d = p->d;
    sqlite3_stmt *st = NULL, *ch = NULL;
    if (read_dict(p) != 0)
        return -1;
    if (prepare(d, rows_sql, &st) != SQLITE_OK ||
        prepare(d, "SELECT card, key, from_value, to_value FROM change_rows ORDER BY card, pos", &ch) != SQLITE_OK) {
        sqlite3_finalize(st);
        return -1;
    }
    int rc = 0, s = SQLITE_ROW, cs = sqlite3_step(ch);
    while (rc == 0 && s == SQLITE_ROW) {
        pthread_mutex_lock(&p->mu);
        while (p->produced - p->consumed == NBATCH && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        int stop = p->stop;
        pthread_mutex_unlock(&p->mu);
        if (stop)
            break;
        struct batch *b = &p->b[p->produced % NBATCH];
        b->data.len = 0;
        b->n = 0;
        while (b->n < BATCH_ROWS && (s = sqlite3_step(st)) == SQLITE_ROW) {
            struct rowhead h;
            memset(&h, 0, sizeof h);
            size_t at = b->data.len;
            ar_buf_add(&b->data, &h, sizeof h);
            for (int i = 0; i < NSTR; i++)
                put_col(&b->data, st, i, &h.str[i]);
            if (h.str[S_ID] == NO_STR) {
                rc = ar_fail(AR_EFAIL, "%s: a card without an id", d->path);
                break;
            }
            for (int i = 0; i < NDICT; i++)
                h.dict[i] = col_sid(st, NSTR + i);
            for (int i = 0; i < NNUM; i++)
                if ((h.has[i] = sqlite3_column_type(st, NSTR + NDICT + i) != SQLITE_NULL))
                    h.num[i] = sqlite3_column_double(st, NSTR + NDICT + i);
            h.retracted = sqlite3_column_int(st, NSTR + NDICT + NNUM);
            /* changes are in card order too: a merge */
            const char *id = b->data.data + h.str[S_ID];
            int cmp = -1;
            while (cs == SQLITE_ROW && (cmp = strcmp((const char *)sqlite3_column_text(ch, 0), id)) < 0)
                cs = sqlite3_step(ch);
            h.changes = b->data.len;
            while (cs == SQLITE_ROW && cmp == 0) {
                unsigned v[3] = {col_sid(ch, 1), col_sid(ch, 2), col_sid(ch, 3)};
                ar_buf_add(&b->data, v, sizeof v);
                h.nchanges++;
                cs = sqlite3_step(ch);
                id = b->data.data + h.str[S_ID];
                cmp = cs == SQLITE_ROW ? strcmp((const char *)sqlite3_column_text(ch, 0), id) : 1;
            }
            memcpy(b->data.data + at, &h, sizeof h);
            b->heads[b->n++] = at;
        }
        if (s != SQLITE_ROW && s != SQLITE_DONE)
            rc = db_fail(d, "cannot read");
        else if (cs != SQLITE_ROW && cs != SQLITE_DONE)
            rc = db_fail(d, "cannot read");
        if (rc == 0 && b->n > 0) {
            pthread_mutex_lock(&p->mu);
            p->produced++;
            pthread_cond_broadcast(&p->cv);
            pthread_mutex_unlock(&p->mu);
        }
    }
    sqlite3_finalize(st);
    sqlite3_finalize(ch);
    return rc;
}

static void *producer(void *arg)
{
    struct pipe *p = arg;
    int rc = produce(p);
    pthread_mutex_lock(&p->mu);
    p->rc = rc;
    if (rc != 0) {
        p->code = ar_last_code();
        snprintf(p->msg, sizeof p->msg, "%s", ar_last_error());
    }
    p->done = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* The strings of a JSON array of strings (as put_json_list writes them) at
 * text, split in place (the quotes become NULs), into *v (capacity *cap).
 * Returns the count, -1 when malformed. Escapes are decoded into a copy. */
static int split_list(char *text, const char ***v, int *cap, struct ar_buf *esc)
{
    int n = 0;
    if (!text || !strchr(text, '"'))
        return 0;
    if (!strchr(text, '\\')) {
        for (char *p = text; (p = strchr(p, '"'));) {
            char *e = strchr(p + 1, '"');
            if (!e)
                return -1;
            *e = '\0';
            if (n == *cap)
                *v = ar_xrealloc(*v, (size_t)(*cap = *cap ? 2 * *cap : 8) * sizeof **v);
            (*v)[n++] = p + 1;
            p = e + 1;
        }
        return n;
    }
    jv a;
    if (ar_json_parse(text, strlen(text), "index list", &a) != 0)
        return -1;
    size_t start = esc->len;
    int first = n;
    jv_array_foreach(a, i, s) {
        if (jv_get_kind(s) == JV_KIND_STRING) {
            if (n == *cap)
                *v = ar_xrealloc(*v, (size_t)(*cap = *cap ? 2 * *cap : 8) * sizeof **v);
            (*v)[n++] = (const char *)(uintptr_t)(esc->len - start);   /* offsets until esc stops growing */
            ar_buf_add(esc, jv_string_value(s), strlen(jv_string_value(s)) + 1);
        }
        jv_free(s);
    }
    jv_free(a);
    for (int k = first; k < n; k++)
        (*v)[k] = esc->data + start + (size_t)(uintptr_t)(*v)[k];
    return n;
}

struct rows_job {
    ar_index_row_fn fn;
    void *ctx;
};

/* The text of string number id of the pipe's table; NULL for 0. *bad is
 * set for a number the table lacks. */
static const char *dict_str(const struct pipe *p, unsigned id, int *bad)
{
    if (!id)
        return NULL;
    if (id >= p->ndict || p->dict_off[id] == NO_STR) {
        *bad = 1;
        return NULL;
    }
    return p->dict.data + p->dict_off[id];
}

static int consume(struct pipe *p, struct rows_job *j, int *delivered)
{
    const char **tags = NULL, **prior = NULL;
    int tcap = 0, pcap = 0, chcap = 0, rc = 0;
    struct ar_rowchange *changes = NULL;
    struct ar_buf esc = {0};
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->consumed == p->produced && !p->done)
            pthread_cond_wait(&p->cv, &p->mu);
        int have = p->consumed < p->produced;
        pthread_mutex_unlock(&p->mu);
        if (!have)
            break;
        struct batch *b = &p->b[p->consumed % NBATCH];
        for (size_t i = 0; i < b->n && rc == 0; i++) {
            struct rowhead h;
            memcpy(&h, b->data.data + b->heads[i], sizeof h);
            const char *str[NSTR], *ds[NDICT];
            int bad = 0;
            for (int k = 0; k < NSTR; k++)
                str[k] = h.str[k] == NO_STR ? NULL : b->data.data + h.str[k];
            for (int k = 0; k < NDICT; k++)
                ds[k] = dict_str(p, h.dict[k], &bad);
            struct ar_cardrow r = {
                .id = str[S_ID], .created = str[S_CREATED], .agent = ds[D_AGENT], .session = ds[D_SESSION],
                .commit = str[S_COMMIT], .category = ds[D_CATEGORY], .hypothesis = str[S_HYPOTHESIS],
                .status = ds[D_STATUS], .card_status = ds[D_CARD_STATUS], .platform = ds[D_PLATFORM],
                .fingerprint = ds[D_FINGERPRINT], .config_hash = ds[D_CONFIG_HASH],
                .baseline = ds[D_BASELINE], .verifies = str[S_VERIFIES], .lesson = str[S_LESSON],
                .budget_s = h.num[N_BUDGET], .seed = h.num[N_SEED], .val_bpb = h.num[N_BPB],
                .delta = h.num[N_DELTA], .training_seconds = h.num[N_TRAINING],
                .has_budget = h.has[N_BUDGET], .has_seed = h.has[N_SEED], .has_bpb = h.has[N_BPB],
                .has_delta = h.has[N_DELTA], .has_training = h.has[N_TRAINING], .retracted = h.retracted,
                .sid = {[AR_SID_AGENT] = h.dict[D_AGENT], [AR_SID_SESSION] = h.dict[D_SESSION],
                        [AR_SID_CATEGORY] = h.dict[D_CATEGORY], [AR_SID_STATUS] = h.dict[D_STATUS],
                        [AR_SID_PLATFORM] = h.dict[D_PLATFORM], [AR_SID_FINGERPRINT] = h.dict[D_FINGERPRINT],
                        [AR_SID_CONFIG_HASH] = h.dict[D_CONFIG_HASH], [AR_SID_BASELINE] = h.dict[D_BASELINE]},
            };
            esc.len = 0;
            r.ntags = split_list(b->data.data + (h.str[S_TAGS] == NO_STR ? 0 : h.str[S_TAGS]), &tags, &tcap, &esc);
            r.nprior = split_list(b->data.data + (h.str[S_PRIOR] == NO_STR ? 0 : h.str[S_PRIOR]), &prior, &pcap, &esc);
            if (h.str[S_TAGS] == NO_STR || h.str[S_PRIOR] == NO_STR || r.ntags < 0 || r.nprior < 0) {
                rc = ar_fail(AR_EFAIL, "%s: card %s: unreadable tags or prior_cards", p->d->path, r.id);
                break;
            }
            if (h.nchanges > chcap)
                changes = ar_xrealloc(changes, (size_t)(chcap = 2 * h.nchanges) * sizeof *changes);
            const char *c = b->data.data + h.changes;
            for (int k = 0; k < h.nchanges; k++, c += 3 * sizeof(unsigned)) {
                unsigned v[3];
                memcpy(v, c, sizeof v);
                changes[k] = (struct ar_rowchange){dict_str(p, v[0], &bad), dict_str(p, v[1], &bad),
                                                   dict_str(p, v[2], &bad), v[0], v[1], v[2]};
                if (!changes[k].key || !changes[k].from || !changes[k].to)
                    bad = 1;
            }
            if (bad) {
                rc = ar_fail(AR_EFAIL, "%s: card %s: a string number the strings table lacks", p->d->path, r.id);
                p->bad = 1;
                break;
            }
            r.nchanges = h.nchanges;
            r.tags = tags;
            r.prior = prior;
            r.changes = changes;
            *delivered = 1;
            rc = j->fn(&r, j->ctx);
        }
        pthread_mutex_lock(&p->mu);
        p->consumed++;
        if (rc != 0)
            p->stop = 1;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        if (rc != 0)
            break;
    }
    free(tags);
    free(prior);
    free(changes);
    ar_buf_free(&esc);
    return rc;
}

static int rows_job(struct db *d, void *arg, int *delivered)
{
    if (exec(d, "BEGIN") != 0)   /* one snapshot for both statements */
        return -1;
    struct pipe p;
    memset(&p, 0, sizeof p);
    p.d = d;
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    for (int i = 0; i < NBATCH; i++)
        p.b[i].heads = ar_xmalloc(BATCH_ROWS * sizeof *p.b[i].heads);
    pthread_t t;
    int rc;
    if (pthread_create(&t, NULL, producer, &p) != 0) {
        rc = ar_fail(AR_EFAIL, "%s: cannot start a thread", d->path);
    } else {
        rc = consume(&p, arg, delivered);
        pthread_join(t, NULL);
        if (rc == 0 && p.rc != 0) {
            rc = ar_fail(p.code ? p.code : AR_EFAIL, "%s", p.msg);
            if (strstr(p.msg, "malformed") || strstr(p.msg, "not a database"))
                d->corrupt = 1;
        }
    }
    for (int i = 0; i < NBATCH; i++) {
        ar_buf_free(&p.b[i].data);
        free(p.b[i].heads);
    }
    if (p.bad)
        d->corrupt = 1;   /* rebuilt, and read again when nothing was handed out */
    ar_buf_free(&p.dict);
    free(p.dict_off);
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.cv);
    rollback(d);
    return rc;
}

int ar_index_rows(const struct ar_kb *kb, ar_index_row_fn fn, void *ctx)
{
    struct rows_job j = {fn, ctx};
    return run_fresh(kb, rows_job, &j);
}

/* ----------------------------------------------------------------- check */

static long long count_of(struct db *d, const char *sql)
{
    sqlite3_stmt *st;
    if (prepare(d, sql, &st) != SQLITE_OK)
        return -1;
    long long n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    if (n < 0)
        db_fail(d, "cannot read");
    sqlite3_finalize(st);
    return n;
}

/* The first fact of one kind in a but not in b (attached databases): its
 * id into first, the count returned; -1 on error. */
static long long facts_not_in(struct db *m, const char *kind, const char *a, const char *b, char *first,
                              size_t size)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*), min(id) FROM (SELECT id FROM %s.%ss UNION SELECT id FROM %s.skipped WHERE kind = '%s'"
             " EXCEPT SELECT id FROM %s.%ss EXCEPT SELECT id FROM %s.skipped WHERE kind = '%s')",
             a, kind, a, kind, b, kind, b, kind);
    sqlite3_stmt *st;
    if (prepare(m, sql, &st) != SQLITE_OK)
        return -1;
    long long n = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
        snprintf(first, size, "%s", sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
    } else {
        db_fail(m, "cannot read");
    }
    sqlite3_finalize(st);
    return n;
}

/* Which facts differ between the directories (main) and the index (cur). */
static int check_facts(struct db *m, const char *path)
{
    static const char *const kinds[] = {"card", "note"};
    for (int k = 0; k < 2; k++) {
        char first[AR_ID_LEN + 16];
        long long n = facts_not_in(m, kinds[k], "main", "cur", first, sizeof first);
        if (n < 0)
            return -1;
        if (n > 0)
            return ar_fail(AR_EFAIL,
                           "%s: lacks %lld %s%s (%ss/%s.json%s; put there without an ar tool?"
                           " 'ar-card index' takes them in)",
                           path, n, kinds[k], n == 1 ? "" : "s", kinds[k], first, n > 1 ? " and others" : "");
        n = facts_not_in(m, kinds[k], "cur", "main", first, sizeof first);
        if (n < 0)
            return -1;
        if (n > 0)
            return ar_fail(AR_EFAIL, "%s: holds %lld %s%s whose file is gone (%s%s; 'ar-card index' rebuilds it)",
                           path, n, kinds[k], n == 1 ? "" : "s", first, n > 1 ? " and others" : "");
    }
    return 0;
}

int ar_index_check(const struct ar_kb *kb)
{
    char path[PATH_MAX];
    ar_kb_path(kb, DB_FILE, path);
    if (access(path, F_OK) != 0)
        return ar_fail(AR_EFAIL, "%s: missing", path);
    /* first what the pending rows explain (writers killed after their
     * files): taken in, as a reader would; an index of another schema or
     * unreadable is reported below, not rebuilt */
    struct db cur;
    struct pend *p = NULL;
    size_t n = 0, stale = 0;
    int version = -1;
    int rc = db_open(kb, &cur);
    if (rc == 0 && schema_version(&cur, &version) == 0 && version == SCHEMA_VERSION &&
        pending_ready(&cur, &p, &n, &stale) == 0 && n > 0) {
        rc = take_pending(&cur);
        free(p);
        p = NULL;
        if (rc == 0)
            rc = pending_ready(&cur, &p, &n, &stale);
    }
    free(p);
    if (cur.db)
        db_close(&cur);
    if (rc != 0)
        return -1;
    if (stale)
        ar_warn("%s: %zu pending write%s without %s file (a writer stopped before it; 'ar-card index' clears %s)",
                path, stale, stale == 1 ? "" : "s", stale == 1 ? "its" : "their", stale == 1 ? "it" : "them");
    /* what the facts give, in a temporary database; then the two compared
     * table by table */
    struct db m;
    memset(&m, 0, sizeof m);
    m.kb = kb;
    m.lock = -1;
    snprintf(m.path, sizeof m.path, "%s", path);
    /* "": a temporary database, spilled to a temp file beyond its cache */
    if (sqlite3_open_v2("", &m.db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        db_close(&m);
        return ar_fail(AR_EFAIL, "index check: cannot open a temporary database");
    }
    char lp[PATH_MAX];
    lock_path(kb, lp);
    m.lock = ar_lock(lp, ar_lock_timeout_default(), 0);
    if (m.lock < 0) {
        db_close(&m);
        return -1;
    }
    sqlite3_busy_timeout(m.db, (int)(ar_lock_timeout_default() * 1000));
    rc = exec(&m, "BEGIN");
    if (rc == 0)
        rc = exec(&m, schema_sql);
    if (rc == 0)
        rc = fill(&m);
    if (rc == 0)
        rc = exec(&m, "COMMIT");
    struct held want = m.held;
    if (rc == 0) {
        sqlite3_stmt *st;
        rc = prepare(&m, "ATTACH ?1 AS cur", &st);
        if (rc == 0) {
            sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
            rc = step_done(&m, st, "cannot open");
            sqlite3_finalize(st);
        }
    }
    if (rc == 0) {
        long long v = count_of(&m, "PRAGMA cur.user_version");
        version = (int)v;
        rc = v < 0 ? -1 : 0;
    }
    if (rc == 0 && version != SCHEMA_VERSION)
        rc = ar_fail(AR_EFAIL, "%s: schema version %d, not %d (rebuild it with 'ar-card index')", path, version,
                     SCHEMA_VERSION);
    if (rc == 0)
        rc = check_facts(&m, path);
    static const char *const tables[] = {"cards", "views", "changes", "notes", "skipped"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables && rc == 0; i++) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT (SELECT count(*) FROM (SELECT * FROM main.%s EXCEPT SELECT * FROM cur.%s))"
                 " + (SELECT count(*) FROM (SELECT * FROM cur.%s EXCEPT SELECT * FROM main.%s))",
                 tables[i], tables[i], tables[i], tables[i]);
        long long diff = count_of(&m, sql);
        if (diff < 0) {
            rc = -1;
        } else if (diff > 0) {
            snprintf(sql, sizeof sql, "SELECT count(*) FROM cur.%s", tables[i]);
            long long have = count_of(&m, sql);
            snprintf(sql, sizeof sql, "SELECT count(*) FROM main.%s", tables[i]);
            rc = ar_fail(AR_EFAIL, "%s: disagrees with the facts (%s: %lld rows differ; %lld rows, %lld from the facts)",
                         path, tables[i], diff, have, count_of(&m, sql));
        }
    }
    if (rc == 0) {
        struct held have;
        sqlite3_stmt *st;
        rc = prepare(&m, "SELECT key, value FROM cur.meta", &st);
        memset(&have, 0, sizeof have);
        while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
            const char *k = (const char *)sqlite3_column_text(st, 0);
            sqlite3_int64 v = sqlite3_column_int64(st, 1);
            if (!k)
                continue;
            if (strcmp(k, "cards") == 0)
                have.cards = v;
            else if (strcmp(k, "cards_x") == 0)
                have.cards_x = (uint64_t)v;
            else if (strcmp(k, "notes") == 0)
                have.notes = v;
            else if (strcmp(k, "notes_x") == 0)
                have.notes_x = (uint64_t)v;
        }
        sqlite3_finalize(st);
        if (rc == 0 && !same_held(&have, &want))
            rc = ar_fail(AR_EFAIL, "%s: disagrees with the facts (holds %lld cards and %lld notes, the facts %lld and %lld)",
                         path, have.cards, have.notes, want.cards, want.notes);
    }
    db_close(&m);
    return rc ? -1 : 0;
}

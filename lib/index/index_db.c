/* index.db: opening it, its schema, the SQL helpers every part uses, and
 * what the meta table says the index holds (lib/index/index_db.h).
 *
 * Every connection holds a shared lock on index.lock while it is open; only
 * replacing the database file (one that SQLite calls corrupt or not a
 * database) takes it exclusively, so that no process keeps writing to a
 * file that was replaced. Everything else is SQLite's own locking: WAL,
 * busy_timeout, BEGIN IMMEDIATE for every write, a rebuild in one
 * transaction. */
#include "index/index_db.h"

#include <errno.h>
#include <fcntl.h>
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
#include "facts/trust.h"

/* The strings that repeat across cards (agents, sessions, classes,
 * statuses, hashes, baselines, config keys and values) are stored once, in
 * strings, and the rows hold their numbers: a reader of 100,000 rows reads
 * integers and converts each distinct string once. The views cards and
 * changes give the rows with their text (man/ar-card.5). */
const char ix_schema_sql[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
    "CREATE TABLE strings(id INTEGER PRIMARY KEY, s TEXT NOT NULL);"
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
    "CREATE TABLE views(id TEXT PRIMARY KEY, view TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE notes(id TEXT PRIMARY KEY, card TEXT NOT NULL, kind TEXT NOT NULL, status TEXT,"
    " created TEXT, agent TEXT, text TEXT, note TEXT NOT NULL);"
    "CREATE TABLE skipped(kind TEXT NOT NULL, id TEXT NOT NULL, why TEXT NOT NULL,"
    " PRIMARY KEY(kind, id)) WITHOUT ROWID;"
    "CREATE TABLE pending(kind TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY(kind, id)) WITHOUT ROWID;";

/* created after a rebuild's rows: cheaper than keeping them up to date
 * (strings_s too: a rebuild numbers its strings in memory, each once) */
const char ix_indexes_sql[] =
    "CREATE UNIQUE INDEX strings_s ON strings(s);"
    "CREATE INDEX cards_key ON card_rows(fingerprint, budget_s, platform);"
    "CREATE INDEX cards_status ON card_rows(status);"
    "CREATE INDEX cards_session ON card_rows(session);"
    "CREATE INDEX cards_platform ON card_rows(platform);"
    "CREATE INDEX cards_created ON card_rows(created);"
    "CREATE INDEX notes_card ON notes(card, id);";

uint64_t ix_id_hash(const char *id)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 1099511628211ULL;
    return h;
}

static int is_corrupt(int rc)
{
    rc &= 0xff;
    return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

/* Whether a failure since ix_write_denied_clear was the index's directory
 * refusing writes: a read-only file system or knowledge base, no
 * permission, a full disk (SQLite: read-only, full, cannot open, I/O
 * error). Readers then read the facts into memory (ix_open_memory). */
static _Thread_local int write_denied;

static void note_rc(int rc)
{
    rc &= 0xff;
    if (rc == SQLITE_READONLY || rc == SQLITE_FULL || rc == SQLITE_CANTOPEN || rc == SQLITE_IOERR ||
        rc == SQLITE_PERM)
        write_denied = 1;
}

static void note_errno(int e)
{
    if (e == EROFS || e == EACCES || e == EPERM || e == ENOSPC || e == EDQUOT)
        write_denied = 1;
}

void ix_write_denied_clear(void)
{
    write_denied = 0;
}

int ix_write_denied(void)
{
    return write_denied;
}

/* the last error of d as AR_EFAIL "PATH: WHAT: WHY"; corruption remembered */
int ix_db_fail(struct db *d, const char *what)
{
    if (is_corrupt(sqlite3_errcode(d->db)))
        d->corrupt = 1;
    note_rc(sqlite3_errcode(d->db));
    return ar_fail(AR_EFAIL, "%s: %s: %s", d->path, what, sqlite3_errmsg(d->db));
}

int ix_exec(struct db *d, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(d->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        if (is_corrupt(rc))
            d->corrupt = 1;
        note_rc(rc);
        ar_fail(AR_EFAIL, "%s: %s", d->path, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

int ix_prepare(struct db *d, const char *sql, sqlite3_stmt **st)
{
    int rc = sqlite3_prepare_v2(d->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        ix_db_fail(d, "cannot read");
        *st = NULL;
    }
    return rc;
}

void ix_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

void ix_bind_num(sqlite3_stmt *st, int i, int has, double v)
{
    if (has)
        sqlite3_bind_double(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* Runs a statement that returns no rows, then resets it. */
int ix_step_done(struct db *d, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        ix_db_fail(d, what);
        return rc;
    }
    return 0;
}

void ix_db_close(struct db *d)
{
    if (d->db)
        sqlite3_close_v2(d->db);
    d->db = NULL;
    if (d->lock >= 0)
        ar_unlock(d->lock);
    d->lock = -1;
}

int ix_lock_path(const struct ar_kb *kb, char out[PATH_MAX])
{
    ar_kb_path(kb, LOCK_FILE, out);
    return 0;
}

/* Opens index.db (created when missing) under the shared lock. */
int ix_db_open(const struct ar_kb *kb, struct db *d)
{
    char lp[PATH_MAX];
    memset(d, 0, sizeof *d);
    d->kb = kb;
    d->lock = -1;
    ar_kb_path(kb, DB_FILE, d->path);
    ix_lock_path(kb, lp);
    if ((d->lock = ar_lock(lp, ar_lock_timeout_default(), 0)) < 0) {
        /* why: ar_lock's message has it in words, this asks again */
        int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            note_errno(errno);
        else
            close(fd);
        return -1;
    }
    int rc = sqlite3_open_v2(d->path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        note_rc(rc);
        ar_fail(AR_EFAIL, "%s: cannot open: %s", d->path, d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(rc));
        ix_db_close(d);
        return rc;
    }
    sqlite3_busy_timeout(d->db, (int)(ar_lock_timeout_default() * 1000));
    sqlite3_extended_result_codes(d->db, 0);
    /* the last connection to close checkpoints and removes the WAL (as
     * SQLite does by default): a WAL left behind is read whole by the
     * next connection that opens it alone (recovery), so leaving it made
     * every command cost the size of the writes since the last checkpoint,
     * and a batch of N writes cost N^2 */
    /* derived data: a commit need not reach the disk (synchronous=NORMAL
     * keeps WAL consistent after a crash; a lost commit is a fact the next
     * reader takes in again) */
    /* 16 KiB pages hold seven views of 2 KiB where 4 KiB pages hold one
     * (set before the first table; a no-op on an existing file) */
    /* Debian's SQLite zeroes every page it frees (secure_delete): a
     * rebuild's DROP TABLE then writes the whole old database into the WAL
     * once more. The index is derived from facts that are files anyway. */
    rc = ix_exec(d, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                 " PRAGMA mmap_size=1073741824; PRAGMA secure_delete=OFF;"
                 "PRAGMA journal_size_limit=67108864; PRAGMA cache_size=-65536;");
    if (rc != 0) {
        ix_db_close(d);
        return rc;
    }
    return 0;
}

/* PRAGMA user_version: 0 for a new file. */
int ix_schema_version(struct db *d, int *version)
{
    sqlite3_stmt *st;
    int rc = ix_prepare(d, "PRAGMA user_version", &st);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    if (rc != SQLITE_ROW)
        ix_db_fail(d, "cannot read");
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : rc;
}

int ix_read_held(struct db *d, struct held *h)
{
    sqlite3_stmt *st;
    memset(h, 0, sizeof *h);
    int rc = ix_prepare(d, "SELECT key, value FROM meta", &st);
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
        return ix_db_fail(d, "cannot read"), rc;
    return 0;
}

static int put_meta_int(struct db *d, const char *key, sqlite3_int64 v)
{
    sqlite3_stmt *st;
    int rc = ix_prepare(d, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", &st);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, v);
    rc = ix_step_done(d, st, "cannot write");
    sqlite3_finalize(st);
    return rc;
}

/* Writes d->held. */
int ix_write_held(struct db *d)
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

/* The trust list the views are built with (facts/trust.h): its hash in
 * meta, written by a rebuild. */
int ix_write_trust(struct db *d)
{
    return put_meta_int(d, "trust", (sqlite3_int64)ar_trust_of(d->kb)->hash);
}

int ix_trust_current(struct db *d, int *current)
{
    sqlite3_stmt *st;
    *current = 0;
    int rc = ix_prepare(d, "SELECT value FROM meta WHERE key = 'trust'", &st);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *current = (uint64_t)sqlite3_column_int64(st, 0) == ar_trust_of(d->kb)->hash;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return ix_db_fail(d, "cannot read"), rc;
    return 0;
}

void ix_rollback(struct db *d)
{
    if (!sqlite3_get_autocommit(d->db))
        sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
}

int ix_same_held(const struct held *a, const struct held *b)
{
    return a->cards == b->cards && a->notes == b->notes && a->cards_x == b->cards_x && a->notes_x == b->notes_x;
}

/* 1 when no writer is between its intent and its end (index.pending.lock could
 * be taken exclusively), 0 otherwise. */
int ix_no_writers(const struct ar_kb *kb)
{
    char lp[PATH_MAX];
    int fd = ar_lock(ar_kb_path(kb, PENDING_LOCK, lp), 0, 1);
    if (fd < 0)
        return 0;
    ar_unlock(fd);
    return 1;
}

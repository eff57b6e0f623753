/* The parts of lib/index/index.h's implementation, one job each, and what
 * they share (internal to lib/index):
 *
 *   index_db.c       opening index.db, its schema, SQL helpers, meta
 *   index_put.c      writing the rows of a card, a note, a skipped fact
 *   index_rebuild.c  a rebuild from the facts, replacing an unreadable file,
 *                    opening the index ready for use
 *   index_fresh.c    the write-ahead protocol (pending) and the freshness of
 *                    every read (see its top)
 *   index_read.c     the version, a view, every view
 *   index_rows.c     every row for the statistics
 *   index_check.c    ar_index_check
 *
 * Each uses only those above it in this list. */
#ifndef AR_INDEX_DB_H
#define AR_INDEX_DB_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <jv.h>
#include <sqlite3.h>

#include "base/buf.h"
#include "base/pool.h"
#include "base/ptrmap.h"
#include "facts/id.h"
#include "facts/kb.h"

struct ar_cardrow;
#include "index/index.h"

#define DB_FILE "index.db"
#define LOCK_FILE "index.lock"
#define PENDING_LOCK "index.pending.lock"
#define SCHEMA_VERSION 4
/* more facts missing than this: a rebuild is cheaper than one by one */
#define CATCH_UP_MAX 2000

/* which facts the index holds: per directory the count of the facts taken
 * in (indexed or skipped) and the XOR of ix_id_hash of their ids */
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

/* ------------------------------------------------------------ index_db.c */

extern const char ix_schema_sql[], ix_indexes_sql[];

uint64_t ix_id_hash(const char *id);
/* the last error of d as AR_EFAIL "PATH: WHAT: WHY"; corruption remembered */
int ix_db_fail(struct db *d, const char *what);
int ix_exec(struct db *d, const char *sql);
int ix_prepare(struct db *d, const char *sql, sqlite3_stmt **st);
void ix_bind_text(sqlite3_stmt *st, int i, const char *s);
void ix_bind_num(sqlite3_stmt *st, int i, int has, double v);
/* Runs a statement that returns no rows, then resets it. */
int ix_step_done(struct db *d, sqlite3_stmt *st, const char *what);
int ix_lock_path(const struct ar_kb *kb, char out[PATH_MAX]);
/* Opens index.db (created when missing) under the shared lock. */
int ix_db_open(const struct ar_kb *kb, struct db *d);
/* Whether a failure since the last ix_write_denied_clear was the index's
 * directory refusing writes (read-only, no permission, full disk). */
void ix_write_denied_clear(void);
int ix_write_denied(void);
void ix_db_close(struct db *d);
/* PRAGMA user_version: 0 for a new file. */
int ix_schema_version(struct db *d, int *version);
int ix_read_held(struct db *d, struct held *h);
/* Writes d->held. */
int ix_write_held(struct db *d);
int ix_same_held(const struct held *a, const struct held *b);
void ix_rollback(struct db *d);
/* The trust list's hash into meta; *current: 1 when meta holds the hash of
 * the list as it is now (the views are built with it). */
int ix_write_trust(struct db *d);
int ix_trust_current(struct db *d, int *current);
/* 1 when no writer is between its intent and its end (index.pending.lock
 * could be taken exclusively), 0 otherwise. */
int ix_no_writers(const struct ar_kb *kb);

/* ----------------------------------------------------------- index_put.c */

/* The statements that store a card, prepared once per transaction. */
struct put {
    sqlite3_stmt *card, *view, *del_changes, *change, *find_s, *add_s;
    struct ar_pool pool;
    struct ar_buf tags, prior;
    size_t uses;
    struct ar_pool spool;    /* the strings met, interned: keys of sids */
    struct ar_ptrmap sids;   /* their numbers in the strings table */
    int empty;               /* opened on empty tables (a rebuild): sids has them all */
};

extern const char ix_note_sql[];

/* replace: rows may be there already (INSERT OR REPLACE); else the tables
 * are empty (a rebuild's fill). */
int ix_put_open(struct db *d, struct put *p, int replace);
void ix_put_close(struct put *p);
/* Stores the view (text of len bytes, NUL-terminated) and its row. */
int ix_put_view(struct db *d, struct put *p, const char *view, size_t len);
/* The same with the row already read from the view (ar_cardrow_parse). */
int ix_put_row(struct db *d, struct put *p, const struct ar_cardrow *r, const char *view, size_t len);
int ix_put_note_text(struct db *d, sqlite3_stmt *st, const char *id, const char *card, const char *kind,
                     const char *status, const char *text, size_t len);
int ix_put_skipped(struct db *d, const char *kind, const char *id, const char *why);
const char *ix_note_kind_name(char k);
/* 1 when the index has fact id (indexed or skipped). */
int ix_has_fact(struct db *d, int is_note, const char *id);
/* Stores the view and row of card (borrowed) with its notes in the index. */
int ix_put_card(struct db *d, jv card);
/* Renders card id's view again from its stored view and the notes table;
 * nothing when the card is not indexed. */
int ix_refresh_card(struct db *d, const char *id);
/* Stores a note (borrowed) and refreshes its card. */
int ix_put_note(struct db *d, jv note);
/* Take in fact id from its file, in d's write transaction (d->held
 * counts it); *card gets the card a note annotates ("" when skipped). */
int ix_catch_note(struct db *d, const char *id, char card[AR_ID_LEN + 1]);
int ix_catch_card(struct db *d, const char *id);

/* ------------------------------------------------------- index_rebuild.c */

/* The full rebuild of ar-card index: a new file built beside index.db while
 * others use the old one, then put in its place under the exclusive lock
 * with what came meanwhile (lib/index/index_rebuild.c). No connection of
 * this process may be open. */
int ix_rebuild_aside(const struct ar_kb *kb);
/* ix_fill, and the listings it filled from, sorted (freed with
 * ar_free_ids: also on failure, when not NULL). */
int ix_fill_listed(struct db *d, char ***cards, size_t *ncards, char ***notes, size_t *nnotes);
/* The files of the index before index.db (index.jsonl, ...): gone. */
void ix_remove_old_files(const struct ar_kb *kb);

/* Fills the empty tables of d (in its open transaction) from the facts;
 * d->held is set to what they hold. */
int ix_fill(struct db *d);
/* Builds the whole index anew in d's open write transaction. */
int ix_rebuild_in(struct db *d);
/* Replaces a database SQLite cannot read. */
int ix_replace_db(const struct ar_kb *kb);
/* Opens the index ready for use: of the current schema, with its meta;
 * built when new or old, replaced when unreadable. *built: 1 when this
 * call built it (so it holds every fact on disk). */
int ix_open_ready(const struct ar_kb *kb, struct db *d, int *built);
/* Opens an index in memory built from the facts, for a reader when
 * index.db cannot be written (ix_write_denied): one warning line per
 * process says so. Nothing is written to the knowledge base. */
int ix_open_memory(const struct ar_kb *kb, struct db *d);

/* --------------------------------------------------------- index_fresh.c */

/* A pending row: a fact a writer said it would write. */
struct pend {
    int is_note;
    char id[AR_ID_LEN + 1];
};

/* The pending rows whose files exist into *out (malloc'd, *n of them);
 * *stale (when not NULL) gets the count of the others. */
int ix_pending_ready(struct db *d, struct pend **out, size_t *n, size_t *stale);
/* Takes in the pending facts whose files exist, in one transaction. */
int ix_take_pending(struct db *d);
/* Opens the index, fresh; in memory (ix_open_memory) when index.db cannot
 * be opened for writing, brought up to date or built. */
int ix_open_fresh(const struct ar_kb *kb, struct db *d);
/* Runs job on the fresh index. A database found corrupt on the way is
 * replaced and the job run again, unless it already handed out results
 * (*delivered) that cannot be taken back. */
typedef int (*ix_job)(struct db *d, void *arg, int *delivered);
int ix_run_fresh(const struct ar_kb *kb, ix_job job, void *arg);

#endif

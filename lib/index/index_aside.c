/* ar-card index: the full rebuild, built aside and swapped in
 * (lib/index/index_db.h). Its own file because it takes in what came
 * during the build the way readers do (index_fresh.c), which itself
 * rebuilds (index_rebuild.c) when much is pending.
 *
 * A full rebuild (ar-card index) builds a new database file beside
 * index.db, with no journal, while readers and writers go on with the old
 * one; then, under the exclusive index.lock (no connection open), takes in
 * what changed meanwhile and puts the new file in place. The old pages are
 * neither read nor freed (a DROP TABLE of 340 MB read every page of it
 * back from disk) and the new ones are written once, not to the WAL and
 * then again at the checkpoint.
 *
 * What changed during the build is taken in by the pending protocol
 * (lib/index/index_fresh.c): the old database's pending rows and the ids
 * of facts that appeared in cards/ or notes/ since the build listed them
 * become pending rows of the new one, which ix_take_pending takes in (the
 * rows of files not there yet stay, for their writers). A rebuild killed
 * at any point leaves the old index in place and a temp file that the
 * next opener removes (ar_clean_temps: its process is gone). */
#define _GNU_SOURCE   /* sync_file_range */
#include "index/index_db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/lock.h"

/* The ids of b that a lacks (both sorted) */
static char **ids_missing(char **a, size_t na, char **b, size_t nb, size_t *n)
{
    char **out = ar_xmalloc((nb ? nb : 1) * sizeof *out);
    size_t i = 0;
    *n = 0;
    for (size_t j = 0; j < nb; j++) {
        while (i < na && strcmp(a[i], b[j]) < 0)
            i++;
        if (i == na || strcmp(a[i], b[j]) != 0)
            out[(*n)++] = b[j];
    }
    return out;
}

static int put_pending(struct db *d, sqlite3_stmt *st, const char *kind, const char *id)
{
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
    return ix_step_done(d, st, "cannot write");
}

/* Copies the pending rows of the old index.db (path; opened without the
 * shared lock, as the caller holds index.lock exclusively) into nd, then
 * empties the old WAL into its database (a crash after the WAL is removed
 * below then loses nothing of it). A database SQLite cannot read gives
 * none: it would have been replaced anyway. */
static int carry_pending(struct db *nd, const char *path)
{
    sqlite3 *old = NULL;
    sqlite3_stmt *rd = NULL, *ins = NULL;
    int rc = ix_prepare(nd, "INSERT OR IGNORE INTO pending(kind, id) VALUES(?1, ?2)", &ins);
    if (rc == 0 && access(path, F_OK) == 0 &&
        sqlite3_open_v2(path, &old, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(old, "SELECT kind, id FROM pending", -1, &rd, NULL) == SQLITE_OK) {
        while (rc == 0 && sqlite3_step(rd) == SQLITE_ROW) {
            const char *kind = (const char *)sqlite3_column_text(rd, 0), *id = (const char *)sqlite3_column_text(rd, 1);
            if (kind && id)
                rc = put_pending(nd, ins, kind, id);
        }
    }
    sqlite3_finalize(rd);
    sqlite3_finalize(ins);
    if (old)
        sqlite3_exec(old, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_close_v2(old);
    return rc;
}

/* Under the exclusive lock: nd (built from the listings cards/notes) takes
 * in the facts that came meanwhile; stale pending rows go when no writer
 * is at work. */
static int catch_up_aside(struct db *nd, const char *old_path, char **cards, size_t ncards, char **notes,
                          size_t nnotes)
{
    const struct ar_kb *kb = nd->kb;
    size_t nc2, nn2, nc, nn;
    char **cards2 = ar_list_ids(kb->cards, &nc2), **notes2 = ar_list_ids(kb->notes, &nn2);
    if (!cards2 || !notes2) {
        ar_free_ids(cards2, cards2 ? nc2 : 0);
        ar_free_ids(notes2, notes2 ? nn2 : 0);
        return ar_fail(AR_EFAIL, "knowledge base %s: cannot read cards/ or notes/", kb->root);
    }
    char **newc = ids_missing(cards, ncards, cards2, nc2, &nc), **newn = ids_missing(notes, nnotes, notes2, nn2, &nn);
    int rc = ix_exec(nd, "BEGIN");
    if (rc == 0)
        rc = carry_pending(nd, old_path);
    sqlite3_stmt *ins = NULL;
    if (rc == 0)
        rc = ix_prepare(nd, "INSERT OR IGNORE INTO pending(kind, id) VALUES(?1, ?2)", &ins);
    for (size_t i = 0; i < nc && rc == 0; i++)
        rc = put_pending(nd, ins, "card", newc[i]);
    for (size_t i = 0; i < nn && rc == 0; i++)
        rc = put_pending(nd, ins, "note", newn[i]);
    sqlite3_finalize(ins);
    rc = rc == 0 ? ix_exec(nd, "COMMIT") : (ix_rollback(nd), -1);
    free(newc);
    free(newn);
    ar_free_ids(cards2, nc2);
    ar_free_ids(notes2, nn2);
    if (rc == 0)
        rc = ix_take_pending(nd);
    if (rc == 0 && ix_no_writers(kb))
        rc = ix_exec(nd, "DELETE FROM pending");
    return rc;
}

static int sync_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return ar_fail(AR_EFAIL, "%s: cannot sync: %s", path, strerror(e));
    }
    close(fd);
    return 0;
}

/* Puts tmp (synced) in the place of path: the old WAL and shared memory go
 * first, as a new database beside an old WAL would read the old frames.
 * The old file keeps a second name, old, for the caller to remove once the
 * lock is released (freeing 300 MB of blocks takes a tenth of a second
 * that readers need not wait). */
static int swap_in(const char *tmp, const char *path, const char *old)
{
    char side[PATH_MAX + 16];
    if (sync_file(tmp) != 0)
        return -1;
    static const char *const sfx[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(side, sizeof side, "%s%s", path, sfx[i]);
        if (unlink(side) != 0 && errno != ENOENT)
            return ar_fail(AR_EFAIL, "%s: cannot remove: %s", side, strerror(errno));
    }
    unlink(old);
    if (link(path, old) != 0 && errno != ENOENT)
        unlink(old);   /* no second name: the rename frees the blocks */
    if (rename(tmp, path) != 0)
        return ar_fail(AR_EFAIL, "%s: cannot replace: %s", path, strerror(errno));
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    ar_fsync_dir(slash ? dir : ".");
    return 0;
}

/* Starts writing what SQLite wrote to tmp so far to the disk, without
 * waiting: the fsync before the swap then waits for less (300 MB at
 * 100,000 cards). */
static void start_writeback(const char *tmp)
{
#ifdef SYNC_FILE_RANGE_WRITE
    int fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
        close(fd);
    }
#else
    (void)tmp;
#endif
}

/* The new database at tmp: no journal, no other connection. */
static int open_aside(const struct ar_kb *kb, const char *tmp, struct db *nd)
{
    memset(nd, 0, sizeof *nd);
    nd->kb = kb;
    nd->lock = -1;
    snprintf(nd->path, sizeof nd->path, "%s", tmp);
    unlink(tmp);
    if (sqlite3_open_v2(tmp, &nd->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        int rc = ar_fail(AR_EFAIL, "%s: cannot create: %s", tmp, nd->db ? sqlite3_errmsg(nd->db) : "out of memory");
        ix_db_close(nd);
        return rc;
    }
    sqlite3_extended_result_codes(nd->db, 0);
    return ix_exec(nd, "PRAGMA page_size=16384; PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=OFF;"
                   " PRAGMA synchronous=OFF; PRAGMA secure_delete=OFF; PRAGMA temp_store=MEMORY;"
                   " PRAGMA cache_size=-16384;");
}

int ix_rebuild_aside(const struct ar_kb *kb)
{
    char tmp[PATH_MAX], old[PATH_MAX], path[PATH_MAX], lp[PATH_MAX];
    ar_kb_path(kb, DB_FILE, path);
    int len = snprintf(tmp, sizeof tmp, "%s/." DB_FILE ".tmp.%ld.build", kb->root, (long)getpid());
    int olen = snprintf(old, sizeof old, "%s/." DB_FILE ".tmp.%ld.old", kb->root, (long)getpid());
    if (len < 0 || (size_t)len >= sizeof tmp || olen < 0 || (size_t)olen >= sizeof old)
        return ar_fail(AR_EINPUT, "knowledge base %s: path too long", kb->root);
    ar_clean_temps(kb->root);
    ar_clean_temps(kb->cards);
    ar_clean_temps(kb->notes);
    struct db nd;
    char **cards = NULL, **notes = NULL;
    size_t nc = 0, nn = 0;
    int rc = open_aside(kb, tmp, &nd);
    if (rc == 0)
        rc = ix_exec(&nd, "BEGIN");
    if (rc == 0)
        rc = ix_exec(&nd, ix_schema_sql);
    if (rc == 0) {
        /* the listings stay for the catch-up */
        rc = ix_fill_listed(&nd, &cards, &nc, &notes, &nn);
        if (rc == 0)
            start_writeback(tmp);
        if (rc == 0)
            rc = ix_exec(&nd, ix_indexes_sql);
        if (rc == 0)
            rc = ix_write_held(&nd);
        if (rc == 0)
            rc = ix_write_trust(&nd);
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d", SCHEMA_VERSION);
        if (rc == 0)
            rc = ix_exec(&nd, sql);
        rc = rc == 0 ? ix_exec(&nd, "COMMIT") : (ix_rollback(&nd), -1);
        if (rc == 0)
            rc = sync_file(tmp);   /* the bulk, before others wait on the lock */
        /* from here no other connection is open until the swap */
        int lock = -1;
        ix_lock_path(kb, lp);
        if (rc == 0 && (lock = ar_lock(lp, ar_lock_timeout_default(), 1)) < 0)
            rc = -1;
        if (rc == 0)
            rc = catch_up_aside(&nd, path, cards, nc, notes, nn);
        if (rc == 0)
            rc = ix_exec(&nd, "PRAGMA journal_mode=WAL");
        ix_db_close(&nd);
        if (rc == 0)
            rc = swap_in(tmp, path, old);
        ar_unlock(lock);
        unlink(old);
    } else {
        ix_db_close(&nd);
    }
    if (cards)
        ar_free_ids(cards, nc);
    if (notes)
        ar_free_ids(notes, nn);
    if (rc != 0) {
        char side[PATH_MAX + 16];
        unlink(tmp);
        snprintf(side, sizeof side, "%s-wal", tmp);
        unlink(side);
    }
    ix_remove_old_files(kb);
    return rc ? -1 : 0;
}


int ar_index_rebuild(const struct ar_kb *kb)
{
    struct db d;
    int built;
    if (ix_open_ready(kb, &d, &built) != 0)
        return -1;
    ix_db_close(&d);   /* its shared lock too: the swap takes index.lock exclusively */
    return built ? 0 : ix_rebuild_aside(kb);
}

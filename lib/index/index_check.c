/* ar_index_check: the index against what the facts give, after taking in
 * what pending rows explain (lib/index/index.h). */
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

static long long count_of(struct db *d, const char *sql)
{
    sqlite3_stmt *st;
    if (ix_prepare(d, sql, &st) != SQLITE_OK)
        return -1;
    long long n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    if (n < 0)
        ix_db_fail(d, "cannot read");
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
    if (ix_prepare(m, sql, &st) != SQLITE_OK)
        return -1;
    long long n = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
        snprintf(first, size, "%s", sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
    } else {
        ix_db_fail(m, "cannot read");
    }
    sqlite3_finalize(st);
    return n;
}

/* Set when the check found the index and the facts apart (not an error
 * of its own): what a reader, or a writer at work, may explain. */
static int disagrees;

/* Which facts differ between the directories (main) and the index (cur). */
static int check_facts(struct db *m, const char *path)
{
    disagrees = 1;   /* the failures below are disagreements */
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
    disagrees = 0;
    return 0;
}

static int check_once(const struct ar_kb *kb, const char *path);

/* A disagreement that a reader heals (facts a killed writer left pending,
 * a trust list changed since the build) is healed here as a reader would,
 * and the check runs again; one that a writer at work explains (it holds
 * index.pending.lock: its facts are between their files and the index, or
 * a rebuild is under way) is reported as pending, not as a failure. */
int ar_index_check(const struct ar_kb *kb)
{
    char path[PATH_MAX];
    ar_kb_path(kb, DB_FILE, path);
    if (access(path, F_OK) != 0)
        return ar_fail(AR_EFAIL, "%s: missing", path);
    disagrees = 0;
    if (check_once(kb, path) == 0)
        return 0;
    if (!disagrees)
        return -1;
    char first[1024];
    snprintf(first, sizeof first, "%s", ar_last_error());
    disagrees = 0;
    if (ar_index_ensure(kb) == 0 && check_once(kb, path) == 0) {
        ar_warn("%s: healed, as the next reader would heal it (%s)", path, first);
        return 0;
    }
    if (disagrees && !ix_no_writers(kb)) {
        ar_warn("%s: a writer is at work, rebuild pending (%s)", path, first);
        return 0;
    }
    return ar_fail(AR_EFAIL, "%s", first);
}

static int check_once(const struct ar_kb *kb, const char *path)
{
    /* first what the pending rows explain (writers killed after their
     * files): taken in, as a reader would; an index of another schema or
     * unreadable is reported below, not rebuilt */
    struct db cur;
    struct pend *p = NULL;
    size_t n = 0, stale = 0;
    int version = -1;
    int rc = ix_db_open(kb, &cur);
    if (rc == 0 && ix_schema_version(&cur, &version) == 0 && version == SCHEMA_VERSION &&
        ix_pending_ready(&cur, &p, &n, &stale) == 0 && n > 0) {
        rc = ix_take_pending(&cur);
        free(p);
        p = NULL;
        if (rc == 0)
            rc = ix_pending_ready(&cur, &p, &n, &stale);
    }
    free(p);
    if (cur.db)
        ix_db_close(&cur);
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
        ix_db_close(&m);
        return ar_fail(AR_EFAIL, "index check: cannot open a temporary database");
    }
    char lp[PATH_MAX];
    ix_lock_path(kb, lp);
    m.lock = ar_lock(lp, ar_lock_timeout_default(), 0);
    if (m.lock < 0) {
        ix_db_close(&m);
        return -1;
    }
    sqlite3_busy_timeout(m.db, (int)(ar_lock_timeout_default() * 1000));
    rc = ix_exec(&m, "BEGIN");
    if (rc == 0)
        rc = ix_exec(&m, ix_schema_sql);
    if (rc == 0)
        rc = ix_fill(&m);
    if (rc == 0)
        rc = ix_exec(&m, "COMMIT");
    struct held want = m.held;
    if (rc == 0) {
        sqlite3_stmt *st;
        rc = ix_prepare(&m, "ATTACH ?1 AS cur", &st);
        if (rc == 0) {
            sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
            rc = ix_step_done(&m, st, "cannot open");
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
            disagrees = 1;
        }
    }
    if (rc == 0) {
        struct held have;
        sqlite3_stmt *st;
        rc = ix_prepare(&m, "SELECT key, value FROM cur.meta", &st);
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
        if (rc == 0 && !ix_same_held(&have, &want)) {
            rc = ar_fail(AR_EFAIL, "%s: disagrees with the facts (holds %lld cards and %lld notes, the facts %lld and %lld)",
                         path, have.cards, have.notes, want.cards, want.notes);
            disagrees = 1;
        }
    }
    ix_db_close(&m);
    return rc ? -1 : 0;
}

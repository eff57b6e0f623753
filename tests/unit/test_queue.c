#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/atomic.h"
#include "facts/config_keys.h"
#include "base/err.h"
#include "facts/id.h"
#include "base/json.h"
#include "facts/kb.h"
#include "base/lock.h"
#include "queue/queue.h"
#include "unit.h"

static char dir[64];
static struct ar_kb kb;

static void fresh_kb(void)
{
    strcpy(dir, "/tmp/ar-test-queue-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(ar_kb_open(&kb, dir, AR_KB_CREATE), 0);
    setenv("AR_AGENT", "tester", 1);
    unsetenv("AR_NOW");
}

static void cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void at(const char *iso)
{
    setenv("AR_NOW", iso, 1);
}

static jv fields(const char *hyp, int priority, const char *key, double value)
{
    jv f = jv_object();
    ar_jv_set(&f, "hypothesis", jv_string(hyp));
    ar_jv_set(&f, "category", jv_string("optimizer"));
    ar_jv_set(&f, "priority", jv_number(priority));
    jv ov = jv_object();
    if (key)
        ar_jv_set(&ov, key, jv_number(value));
    ar_jv_set(&f, "overrides", ov);
    return f;
}

/* Adds one entry; returns its id (static buffer per call site is enough). */
static void add(struct ar_queue *q, jv f, char id[AR_ID_LEN + 1])
{
    jv ids;
    ck_assert_msg(ar_queue_add(q, &f, 1, 0, &ids) == 0, "add: %s", ar_last_error());
    jv_free(f);
    jv one = jv_array_get(ids, 0);
    snprintf(id, AR_ID_LEN + 1, "%s", jv_string_value(one));
    jv_free(one);
}

static void claim_id(struct ar_queue *q, const char *worker, char id[AR_ID_LEN + 1])
{
    jv e;
    ck_assert_msg(ar_queue_claim(q, worker, &e) == 0, "claim: %s", ar_last_error());
    snprintf(id, AR_ID_LEN + 1, "%s", ar_jv_str(e, "id"));
    ck_assert_str_eq(ar_jv_str(e, "status"), "claimed");
    jv_free(e);
}

static const char *status_of(struct ar_queue *q, const char *id, jv *keep)
{
    ck_assert_int_eq(ar_queue_get(q, id, keep), 0);
    return ar_jv_str(*keep, "status");
}

static void expect_fail(int rc, int code, const char *want)
{
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(ar_last_code(), code);
    ck_assert_msg(strstr(ar_last_error(), want), "'%s' lacks '%s'", ar_last_error(), want);
}

START_TEST(claims_by_priority_then_age)
{
    fresh_kb();
    struct ar_queue *q = ar_queue_open(&kb, 1, 0);
    char a[30], b[30], c[30], d[30], got[30];
    at("2026-11-23T10:00:00.000Z");
    add(q, fields("old, low priority", 7, NULL, 0), a);
    at("2026-11-23T10:00:01.000Z");
    add(q, fields("urgent", 2, NULL, 0), b);
    at("2026-11-23T10:00:02.000Z");
    add(q, fields("normal, older", 5, NULL, 0), c);
    at("2026-11-23T10:00:03.000Z");
    add(q, fields("normal, newer", 5, NULL, 0), d);
    claim_id(q, "w", got);
    ck_assert_str_eq(got, b);
    claim_id(q, "w", got);
    ck_assert_str_eq(got, c);
    claim_id(q, "w", got);
    ck_assert_str_eq(got, d);
    claim_id(q, "w", got);
    ck_assert_str_eq(got, a);
    jv e;
    ck_assert_int_eq(ar_queue_claim(q, "w", &e), 1);
    ar_queue_close(q);
    cleanup();
}
END_TEST

START_TEST(duplicates_are_refused_unless_forced)
{
    fresh_kb();
    struct ar_queue *q = ar_queue_open(&kb, 1, 0);
    char a[30], b[30];
    add(q, fields("Raise the  LR.", 5, "matrix_lr", 0.04), a);
    jv f = fields("raise the lr", 3, "matrix_lr", 0.04), ids;
    expect_fail(ar_queue_add(q, &f, 1, 0, &ids), AR_EINPUT, a);
    /* other overrides: not a duplicate */
    add(q, fields("raise the lr", 5, "matrix_lr", 0.05), b);
    /* forced */
    ck_assert_int_eq(ar_queue_add(q, &f, 1, 1, &ids), 0);
    jv_free(ids);
    /* a cancelled entry does not block a new one */
    ck_assert_int_eq(ar_queue_cancel(q, b, NULL), 0);
    jv g = fields("raise the lr", 5, "matrix_lr", 0.05);
    ck_assert_int_eq(ar_queue_add(q, &g, 1, 0, &ids), 0);
    jv_free(ids);
    /* two equal entries in one request */
    jv two[2] = { fields("x", 5, "depth", 4), fields("x", 5, "depth", 4) };
    expect_fail(ar_queue_add(q, two, 2, 0, &ids), AR_EINPUT, "entries 1 and 2");
    jv list;
    ck_assert_int_eq(ar_queue_list(q, &list), 0);
    ck_assert_int_eq(jv_array_length(list), 4);   /* the refused request added nothing */
    jv_free(f);
    jv_free(g);
    jv_free(two[0]);
    jv_free(two[1]);
    ar_queue_close(q);
    cleanup();
}
END_TEST

START_TEST(normalises_hypotheses)
{
    char *n = ar_queue_norm_hypothesis("  Raise\tthe\n LR..  ");
    ck_assert_str_eq(n, "raise the lr");
    free(n);
    char buf[64];
    jv v = jv_number(0.04);
    ck_assert_int_eq(ar_config_value_text(v, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "0.04");
    ck_assert_int_eq(ar_config_value_text(jv_true(), buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "true");
    ck_assert_int_eq(ar_config_value_text(jv_null(), buf, sizeof buf), -1);
}
END_TEST

START_TEST(rejects_bad_fields)
{
    fresh_kb();
    struct ar_queue *q = ar_queue_open(&kb, 1, 0);
    jv ids, f = fields("h", 0, NULL, 0);
    expect_fail(ar_queue_add(q, &f, 1, 0, &ids), AR_EINPUT, "priority");
    jv_free(f);
    f = fields("", 5, NULL, 0);
    expect_fail(ar_queue_add(q, &f, 1, 0, &ids), AR_EINPUT, "hypothesis");
    jv_free(f);
    f = fields("h", 5, NULL, 0);
    ar_jv_set(&f, "category", jv_string("magic"));
    expect_fail(ar_queue_add(q, &f, 1, 0, &ids), AR_EINPUT, "category");
    ar_jv_set(&f, "category", jv_string("other"));
    ar_jv_set(&f, "colour", jv_string("red"));
    expect_fail(ar_queue_add(q, &f, 1, 0, &ids), AR_EINPUT, "'colour': unknown");
    jv_free(f);
    /* unknown and malformed ids */
    expect_fail(ar_queue_done(q, "20261123T100000Z-000000000000", "20261123T100000Z-000000000001"),
                AR_EINPUT, "not found");
    expect_fail(ar_queue_cancel(q, "../etc", NULL), AR_EINPUT, "'../etc'");
    struct stat st;
    char path[PATH_MAX];
    ck_assert_int_ne(stat(ar_kb_path(&kb, "queue.json", path), &st), 0);   /* nothing written */
    ar_queue_close(q);
    cleanup();
}
END_TEST

START_TEST(lifecycle_and_transitions)
{
    fresh_kb();
    struct ar_queue *q = ar_queue_open(&kb, 1, 0);
    char a[30], b[30], got[30];
    const char *card = "20261123T100000Z-0123456789ab";
    add(q, fields("a", 5, NULL, 0), a);
    add(q, fields("b", 6, NULL, 0), b);
    claim_id(q, "w1", got);
    ck_assert_str_eq(got, a);
    ck_assert_int_eq(ar_queue_heartbeat(q, a, "w1"), 0);
    ck_assert_int_eq(ar_queue_heartbeat(q, a, NULL), 0);
    expect_fail(ar_queue_heartbeat(q, a, "w2"), AR_EFAIL, "claimed by w1");
    expect_fail(ar_queue_heartbeat(q, b, NULL), AR_EFAIL, "is pending, not claimed");
    /* release does not count as an attempt */
    ck_assert_int_eq(ar_queue_release(q, a), 0);
    jv e;
    ck_assert_str_eq(status_of(q, a, &e), "pending");
    ck_assert_int_eq((int)ar_jv_num(e, "attempts", -1), 0);
    ck_assert_int_eq(jv_get_kind(ar_jv_get(e, "claimed_by")), JV_KIND_NULL);
    jv_free(e);
    claim_id(q, "w1", got);
    ck_assert_int_eq(ar_queue_done(q, a, card), 0);
    ck_assert_str_eq(status_of(q, a, &e), "done");
    ck_assert_str_eq(ar_jv_str(e, "card"), card);
    ck_assert_ptr_nonnull(ar_jv_str(e, "finished_at"));
    jv_free(e);
    expect_fail(ar_queue_done(q, a, card), AR_EFAIL, "already done");
    expect_fail(ar_queue_release(q, a), AR_EFAIL, "not claimed");
    ck_assert_int_eq(ar_queue_fail(q, b, "out of memory"), 0);
    ck_assert_str_eq(status_of(q, b, &e), "failed");
    ck_assert_str_eq(ar_jv_str(e, "reason"), "out of memory");
    jv_free(e);
    expect_fail(ar_queue_cancel(q, b, NULL), AR_EFAIL, "already failed");
    expect_fail(ar_queue_fail(q, b, ""), AR_EINPUT, "reason");
    ar_queue_close(q);
    cleanup();
}
END_TEST

START_TEST(stale_claims_return_then_fail)
{
    fresh_kb();
    struct ar_queue *q = ar_queue_open(&kb, 1, 60);   /* stale after a minute */
    char a[30], got[30];
    at("2026-11-23T10:00:00.000Z");
    add(q, fields("a", 5, NULL, 0), a);
    jv e;
    for (int attempt = 1; attempt <= AR_QUEUE_MAX_ATTEMPTS; attempt++) {
        char t0[48], t1[48], t2[48];   /* room for any int attempt (-Wformat-truncation) */
        snprintf(t0, sizeof t0, "2026-11-23T1%d:00:00.000Z", attempt);
        snprintf(t1, sizeof t1, "2026-11-23T1%d:00:59.000Z", attempt);
        snprintf(t2, sizeof t2, "2026-11-23T1%d:02:00.000Z", attempt);
        at(t0);
        claim_id(q, "w", got);
        ck_assert_str_eq(got, a);
        at(t1);   /* within the stale time: still claimed */
        ck_assert_str_eq(status_of(q, a, &e), "claimed");
        jv_free(e);
        ck_assert_int_eq(ar_queue_heartbeat(q, a, "w"), 0);
        at(t2);   /* 61 s after the heartbeat */
        const char *st = status_of(q, a, &e);
        ck_assert_int_eq((int)ar_jv_num(e, "attempts", -1), attempt);
        ck_assert_str_eq(st, attempt < AR_QUEUE_MAX_ATTEMPTS ? "pending" : "failed");
        ck_assert_ptr_nonnull(strstr(ar_jv_str(e, "reason"), "went stale"));
        jv_free(e);
    }
    ck_assert_int_eq(ar_queue_claim(q, "w", &e), 1);
    /* a worker whose claim went stale learns it on its next heartbeat */
    add(q, fields("b", 5, NULL, 0), a);
    at("2026-11-23T20:00:00.000Z");
    claim_id(q, "w1", got);
    at("2026-11-23T20:30:00.000Z");
    claim_id(q, "w2", got);
    ck_assert_str_eq(got, a);
    expect_fail(ar_queue_heartbeat(q, a, "w1"), AR_EFAIL, "claimed by w2");
    ar_queue_close(q);
    cleanup();
}
END_TEST

START_TEST(handles_see_each_other_and_compaction)
{
    fresh_kb();
    struct ar_queue *q1 = ar_queue_open(&kb, 1, 0), *q2 = ar_queue_open(&kb, 1, 0);
    char id[30];
    /* enough journal lines to fold it into new snapshots a few times */
    jv batch[300], ids;
    for (int i = 0; i < 300; i++) {
        char h[32];
        snprintf(h, sizeof h, "h%d", i);
        batch[i] = fields(h, 5, NULL, 0);
    }
    ck_assert_int_eq(ar_queue_add(q1, batch, 150, 0, &ids), 0);
    jv_free(ids);
    ck_assert_int_eq(ar_queue_add(q2, batch + 150, 150, 0, &ids), 0);
    jv_free(ids);
    for (int i = 0; i < 300; i++)
        jv_free(batch[i]);
    add(q1, fields("one more", 5, NULL, 0), id);
    int claimed = 0;
    jv e;
    while (ar_queue_claim(claimed % 3 ? q1 : q2, "w", &e) == 0) {
        const char *eid = ar_jv_str(e, "id");
        ck_assert_int_eq(ar_queue_done(claimed % 2 ? q1 : q2, eid,
                                       "20261123T100000Z-0123456789ab"), 0);
        jv_free(e);
        claimed++;
    }
    ck_assert_int_eq(claimed, 301);
    /* a fresh handle reads the same state from the files */
    struct ar_queue *q3 = ar_queue_open(&kb, 1, 0);
    jv l1, l3;
    ck_assert_int_eq(ar_queue_list(q1, &l1), 0);
    ck_assert_int_eq(ar_queue_list(q3, &l3), 0);
    ck_assert_int_eq(jv_array_length(jv_copy(l1)), 301);
    ck_assert(jv_equal(l1, l3));
    char path[PATH_MAX], *text;
    size_t len;
    ck_assert_int_eq(ar_read_file(ar_kb_path(&kb, "queue.json", path), 1 << 24, &text, &len), 0);
    jv snap;
    ck_assert_int_eq(ar_json_parse(text, len, "queue.json", &snap), 0);
    ck_assert(ar_jv_num(snap, "generation", 0) >= 2);
    jv_free(snap);
    free(text);
    ar_queue_close(q1);
    ar_queue_close(q2);
    ar_queue_close(q3);
    cleanup();
}
END_TEST

static void append_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
}

START_TEST(torn_journal_tail_is_ignored_and_cut)
{
    fresh_kb();
    struct ar_queue *q = ar_queue_open(&kb, 1, 0);
    char a[30], b[30];
    add(q, fields("a", 5, NULL, 0), a);
    ar_queue_close(q);
    char log[PATH_MAX];
    ar_kb_path(&kb, "queue.log", log);
    append_file(log, "{\"attempts\":0,\"card\":null,\"categ");
    q = ar_queue_open(&kb, 1, 0);
    jv e;
    ck_assert_str_eq(status_of(q, a, &e), "pending");
    jv_free(e);
    add(q, fields("b", 5, NULL, 0), b);
    ar_queue_close(q);
    char *text;
    size_t len;
    ck_assert_int_eq(ar_read_file(log, 1 << 20, &text, &len), 0);
    ck_assert_ptr_null(strstr(text, "categ\""));   /* the torn line is gone */
    ck_assert_ptr_null(strstr(text, "\"categ{"));
    ck_assert_int_eq(text[len - 1], '\n');
    free(text);
    q = ar_queue_open(&kb, 1, 0);
    jv list;
    ck_assert_int_eq(ar_queue_list(q, &list), 0);
    ck_assert_int_eq(jv_array_length(list), 2);
    ar_queue_close(q);
    cleanup();
}
END_TEST

static char *slurp(const char *path, size_t *len)
{
    char *text;
    ck_assert_int_eq(ar_read_file(path, 1 << 24, &text, len), 0);
    return text;
}

START_TEST(unparsable_files_stop_every_operation)
{
    fresh_kb();
    struct ar_queue *q = ar_queue_open(&kb, 1, 0);
    char a[30];
    add(q, fields("a", 5, NULL, 0), a);
    ar_queue_close(q);
    char json[PATH_MAX], log[PATH_MAX];
    ar_kb_path(&kb, "queue.json", json);
    ar_kb_path(&kb, "queue.log", log);
    /* a corrupt journal line in the middle */
    append_file(log, "{not json}\n");
    size_t len0, len1;
    char *before = slurp(log, &len0), *jbefore = slurp(json, &len1);
    q = ar_queue_open(&kb, 1, 0);
    jv e, ids;
    expect_fail(ar_queue_claim(q, "w", &e), AR_EFAIL, "queue.log:3: does not parse");
    jv f = fields("b", 5, NULL, 0);
    expect_fail(ar_queue_add(q, &f, 1, 0, &ids), AR_EFAIL, "does not parse");
    expect_fail(ar_queue_list(q, &e), AR_EFAIL, "does not parse");
    ar_queue_close(q);
    size_t l2;
    char *after = slurp(log, &l2);
    ck_assert(l2 == len0 && memcmp(before, after, len0) == 0);
    free(after);
    /* a snapshot that does not parse */
    ck_assert_int_eq(ar_write_atomic(json, "{\"entries\":[", 12), 0);
    q = ar_queue_open(&kb, 1, 0);
    expect_fail(ar_queue_add(q, &f, 1, 0, &ids), AR_EFAIL, "queue.json: does not parse");
    expect_fail(ar_queue_cancel(q, a, NULL), AR_EFAIL, "queue.json: does not parse");
    ar_queue_close(q);
    after = slurp(json, &l2);
    ck_assert(l2 == 12 && memcmp(after, "{\"entries\":[", 12) == 0);
    free(after);
    /* an entry with a bad field is as bad as bad syntax */
    ck_assert_int_eq(ar_write_atomic(json, jbefore, len1), 0);
    ck_assert_int_eq(ar_write_atomic(log, "{\"generation\":1}\n{\"id\":\"x\"}\n", 29), 0);
    q = ar_queue_open(&kb, 1, 0);
    expect_fail(ar_queue_list(q, &e), AR_EFAIL, "queue.log:2");
    ar_queue_close(q);
    /* a journal without its snapshot */
    ck_assert_int_eq(ar_write_atomic(log, "{\"generation\":1}\n", 17), 0);
    ck_assert_int_eq(unlink(json), 0);
    q = ar_queue_open(&kb, 1, 0);
    expect_fail(ar_queue_add(q, &f, 1, 0, &ids), AR_EFAIL, "queue.json: missing, but");
    ar_queue_close(q);
    ck_assert_int_ne(access(json, F_OK), 0);
    jv_free(f);
    free(before);
    free(jbefore);
    cleanup();
}
END_TEST

START_TEST(journal_of_an_older_generation_is_ignored)
{
    fresh_kb();
    struct ar_queue *q = ar_queue_open(&kb, 1, 0);
    char a[30], got[30];
    add(q, fields("a", 5, NULL, 0), a);
    claim_id(q, "w", got);
    ar_queue_close(q);
    /* as if a crash came between the new snapshot and the new journal:
     * the snapshot (generation 1) is current; a journal saying
     * generation 0 holds only what the snapshot already has */
    char log[PATH_MAX];
    ar_kb_path(&kb, "queue.log", log);
    ck_assert_int_eq(ar_write_atomic(log, "{\"generation\":0}\n{\"id\":\"x\"}\n", 29), 0);
    q = ar_queue_open(&kb, 1, 0);
    jv e;
    ck_assert_str_eq(status_of(q, a, &e), "pending");   /* the snapshot's state */
    jv_free(e);
    claim_id(q, "w", got);
    ar_queue_close(q);
    q = ar_queue_open(&kb, 1, 0);
    ck_assert_str_eq(status_of(q, a, &e), "claimed");
    jv_free(e);
    ar_queue_close(q);
    cleanup();
}
END_TEST

START_TEST(lock_timeout_is_an_error_not_a_hang)
{
    fresh_kb();
    struct ar_queue *q = ar_queue_open(&kb, 0.3, 0);
    char lock[PATH_MAX], a[30];
    add(q, fields("a", 5, NULL, 0), a);
    int fd = ar_lock(ar_kb_path(&kb, "queue.lock", lock), 1, 1);
    ck_assert_int_ge(fd, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    jv e;
    expect_fail(ar_queue_claim(q, "w", &e), AR_EFAIL, "timed out after 0.3s");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    ck_assert_msg(took >= 0.29 && took < 2, "waited %gs", took);
    ar_unlock(fd);
    ck_assert_int_eq(ar_queue_claim(q, "w", &e), 0);
    jv_free(e);
    ar_queue_close(q);
    cleanup();
}
END_TEST

/* 16 processes claim from 2,000 entries until none is left; each writes
 * the ids it got to its own file. */
#define WORKERS 16
#define ENTRIES 2000

START_TEST(concurrent_claims_take_each_entry_once)
{
    fresh_kb();
    struct ar_queue *q = ar_queue_open(&kb, 10, 0);
    jv *f = malloc(ENTRIES * sizeof *f), ids;
    for (int i = 0; i < ENTRIES; i++) {
        char h[32];
        snprintf(h, sizeof h, "entry %d", i);
        f[i] = fields(h, 1 + i % 9, NULL, 0);
    }
    ck_assert_int_eq(ar_queue_add(q, f, ENTRIES, 0, &ids), 0);
    for (int i = 0; i < ENTRIES; i++)
        jv_free(f[i]);
    free(f);
    ar_queue_close(q);
    pid_t pids[WORKERS];
    for (int w = 0; w < WORKERS; w++) {
        pids[w] = fork();
        ck_assert_int_ge(pids[w], 0);
        if (pids[w] == 0) {
            char path[PATH_MAX], name[32];
            snprintf(path, sizeof path, "%s/claims.%d", dir, w);
            snprintf(name, sizeof name, "w%d", w);
            FILE *out = fopen(path, "w");
            struct ar_queue *mine = ar_queue_open(&kb, 30, 0);
            jv e;
            int rc;
            while ((rc = ar_queue_claim(mine, name, &e)) == 0) {
                fprintf(out, "%s\n", ar_jv_str(e, "id"));
                jv_free(e);
            }
            fclose(out);
            ar_queue_close(mine);
            _exit(rc == 1 ? 0 : 1);
        }
    }
    for (int w = 0; w < WORKERS; w++) {
        int status;
        ck_assert_int_eq(waitpid(pids[w], &status, 0), pids[w]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    /* every id exactly once across the workers' files */
    jv seen = jv_object();
    int total = 0;
    for (int w = 0; w < WORKERS; w++) {
        char path[PATH_MAX], line[64];
        snprintf(path, sizeof path, "%s/claims.%d", dir, w);
        FILE *in = fopen(path, "r");
        ck_assert_ptr_nonnull(in);
        while (fgets(line, sizeof line, in)) {
            line[strcspn(line, "\n")] = '\0';
            ck_assert_msg(!ar_jv_has(seen, line), "%s claimed twice", line);
            ar_jv_set(&seen, line, jv_true());
            total++;
        }
        fclose(in);
    }
    ck_assert_int_eq(total, ENTRIES);
    q = ar_queue_open(&kb, 10, 0);
    jv list;
    ck_assert_int_eq(ar_queue_list(q, &list), 0);
    ck_assert_int_eq(jv_array_length(jv_copy(list)), ENTRIES);
    jv_array_foreach(list, i, e) {
        (void)i;
        ck_assert_str_eq(ar_jv_str(e, "status"), "claimed");
        ck_assert(ar_jv_has(seen, ar_jv_str(e, "id")));
        jv_free(e);
    }
    jv_free(list);
    jv_free(ids);
    jv_free(seen);
    ar_queue_close(q);
    cleanup();
}
END_TEST

/* The queue holds n entries, all of them parse, none is lost. */
static void expect_whole(int n)
{
    struct ar_queue *q = ar_queue_open(&kb, 10, 0);
    jv list;
    ck_assert_msg(ar_queue_list(q, &list) == 0, "%s", ar_last_error());
    ck_assert_int_eq(jv_array_length(list), n);
    ar_queue_close(q);
}

START_TEST(sigkill_holding_the_lock_mid_write_loses_nothing)
{
    fresh_kb();
    struct ar_queue *q = ar_queue_open(&kb, 10, 0);
    char id[30];
    for (int i = 0; i < 50; i++) {
        char h[32];
        snprintf(h, sizeof h, "h%d", i);
        add(q, fields(h, 5, NULL, 0), id);
    }
    ar_queue_close(q);
    /* a process that dies holding the lock, half-way through a journal line */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char lock[PATH_MAX], log[PATH_MAX];
        int fd = ar_lock(ar_kb_path(&kb, "queue.lock", lock), 10, 1);
        int lf = open(ar_kb_path(&kb, "queue.log", log), O_WRONLY | O_APPEND);
        if (fd < 0 || lf < 0 || write(lf, "{\"attempts\":1,\"card\"", 20) != 20)
            _exit(3);
        raise(SIGKILL);
    }
    int status;
    waitpid(pid, &status, 0);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    expect_whole(50);
    /* workers killed at random moments while claiming, finishing and adding */
    srand(7);
    for (int round = 0; round < 12; round++) {
        pid_t kids[4];
        for (int k = 0; k < 4; k++) {
            kids[k] = fork();
            if (kids[k] == 0) {
                struct ar_queue *mine = ar_queue_open(&kb, 10, 0);
                jv e;
                for (;;) {
                    if (ar_queue_claim(mine, "k", &e) == 0) {
                        ar_queue_release(mine, ar_jv_str(e, "id"));
                        jv_free(e);
                    }
                }
            }
        }
        usleep(2000 + rand() % 20000);
        for (int k = 0; k < 4; k++)
            kill(kids[k], SIGKILL);
        for (int k = 0; k < 4; k++)
            waitpid(kids[k], &status, 0);
        expect_whole(50);
    }
    cleanup();
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("queue");
    TCase *tc = tcase_create("queue");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, claims_by_priority_then_age);
    tcase_add_test(tc, duplicates_are_refused_unless_forced);
    tcase_add_test(tc, normalises_hypotheses);
    tcase_add_test(tc, rejects_bad_fields);
    tcase_add_test(tc, lifecycle_and_transitions);
    tcase_add_test(tc, stale_claims_return_then_fail);
    tcase_add_test(tc, handles_see_each_other_and_compaction);
    tcase_add_test(tc, torn_journal_tail_is_ignored_and_cut);
    tcase_add_test(tc, unparsable_files_stop_every_operation);
    tcase_add_test(tc, journal_of_an_older_generation_is_ignored);
    tcase_add_test(tc, lock_timeout_is_an_error_not_a_hang);
    tcase_add_test(tc, concurrent_claims_take_each_entry_once);
    tcase_add_test(tc, sigkill_holding_the_lock_mid_write_loses_nothing);
    suite_add_tcase(s, tc);
    return s;
}

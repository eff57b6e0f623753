#include "queue/queue.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "facts/card.h"
#include "facts/config_keys.h"
#include "base/err.h"
#include "facts/id.h"
#include "base/json.h"
#include "base/lock.h"
#include "facts/schema.h"

const char *const ar_queue_statuses[] = { "pending", "claimed", "done", "failed", "cancelled", NULL };
enum { ST_PENDING, ST_CLAIMED, ST_DONE, ST_FAILED, ST_CANCELLED };

#define SNAPSHOT_MAX ((size_t)1 << 30)
#define HEADER_FMT "{\"generation\":%ld}\n"
#define COMPACT_MIN_LINES 256

struct entry {
    jv obj;                   /* the entry as stored (owned) */
    char id[AR_ID_LEN + 1];
    int status, priority, attempts, dirty;
    double created, heartbeat;/* seconds since the epoch; NAN when unset */
    char *dupkey;             /* normalised hypothesis + overrides, lazily */
};

struct ar_queue {
    char json_path[PATH_MAX], log_path[PATH_MAX], lock_path[PATH_MAX];
    double lock_timeout, stale_s;
    int lock_fd;
    /* the parsed state, valid while both files are the ones we opened
     * (held open, so their inode numbers cannot be reused) */
    int snap_fd, log_fd;
    dev_t snap_dev, log_dev;
    ino_t snap_ino, log_ino;
    off_t log_off;            /* end of the last complete journal line read */
    long gen, log_line;       /* snapshot generation; journal lines read */
    int log_stale;            /* journal of another generation: replace it */
    int unlocked;             /* a read without the lock (its file cannot be opened for writing) */
    int reading;              /* the operation under way only reads */
    struct entry *e;
    size_t n, cap;
    uint32_t *slot;           /* id hash table: index + 1, 0 = empty */
    size_t nslot;
};

/* ------------------------------------------------------------ small helpers */

static double iso_seconds(const char *s)
{
    int y, mo, d, h, mi, sec, ms;
    if (!s || !ar_created_valid(s) ||
        sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &y, &mo, &d, &h, &mi, &sec, &ms) != 7)
        return NAN;
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                     .tm_hour = h, .tm_min = mi, .tm_sec = sec };
    return (double)timegm(&tm) + ms / 1000.0;
}

static double now_seconds(char iso[AR_CREATED_LEN + 1])
{
    ar_now_iso(iso);
    return iso_seconds(iso);
}

static void seconds_iso(double t, char out[AR_CREATED_LEN + 1])
{
    time_t s = (time_t)floor(t);
    int ms = (int)llround((t - (double)s) * 1000.0);
    if (ms >= 1000) { s++; ms -= 1000; }
    struct tm tm;
    gmtime_r(&s, &tm);
    char buf[96];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
             tm.tm_sec, ms);
    memcpy(out, buf, AR_CREATED_LEN);
    out[AR_CREATED_LEN] = '\0';
}

static int status_code(const char *s)
{
    for (int i = 0; s && ar_queue_statuses[i]; i++)
        if (strcmp(s, ar_queue_statuses[i]) == 0)
            return i;
    return -1;
}

char *ar_queue_norm_hypothesis(const char *text)
{
    struct ar_buf b = {0};
    ar_buf_puts(&b, "");
    int space = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            space = b.len > 0;
            continue;
        }
        if (space)
            ar_buf_putc(&b, ' ');
        space = 0;
        ar_buf_putc(&b, (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p));
    }
    while (b.len && b.data[b.len - 1] == '.')
        b.data[--b.len] = '\0';
    return ar_buf_take(&b);
}


/* ------------------------------------------------------------ the id table */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

static void table_put(struct ar_queue *q, size_t idx)
{
    size_t mask = q->nslot - 1, i = hash_str(q->e[idx].id) & mask;
    while (q->slot[i])
        i = (i + 1) & mask;
    q->slot[i] = (uint32_t)idx + 1;
}

static void table_rebuild(struct ar_queue *q)
{
    size_t want = 64;
    while (want < q->n * 2 + 2)
        want *= 2;
    if (want != q->nslot) {
        free(q->slot);
        q->nslot = want;
        q->slot = ar_xmalloc(want * sizeof *q->slot);
    }
    memset(q->slot, 0, q->nslot * sizeof *q->slot);
    for (size_t i = 0; i < q->n; i++)
        table_put(q, i);
}

static struct entry *find(struct ar_queue *q, const char *id)
{
    if (!q->nslot)
        return NULL;
    size_t mask = q->nslot - 1, i = hash_str(id) & mask;
    for (; q->slot[i]; i = (i + 1) & mask)
        if (strcmp(q->e[q->slot[i] - 1].id, id) == 0)
            return &q->e[q->slot[i] - 1];
    return NULL;
}

/* ------------------------------------------------------------ entries */

static void entry_refresh(struct entry *e)
{
    e->status = status_code(ar_jv_str(e->obj, "status"));
    e->priority = (int)ar_jv_num(e->obj, "priority", AR_QUEUE_PRIORITY_DEFAULT);
    e->attempts = (int)ar_jv_num(e->obj, "attempts", 0);
    e->created = iso_seconds(ar_jv_str(e->obj, "created"));
    e->heartbeat = iso_seconds(ar_jv_str(e->obj, "heartbeat_at"));
}

/* Checks an entry read from disk; msg gets the first problem. */
static int entry_check(jv o, char *msg, size_t n)
{
    if (jv_get_kind(o) != JV_KIND_OBJECT) {
        snprintf(msg, n, "entry is %s, not an object", ar_kind_name(o));
        return -1;
    }
    const char *id = ar_jv_str(o, "id");
    if (!id || !ar_id_valid(id)) {
        snprintf(msg, n, "entry without a valid id");
        return -1;
    }
    const char *why = NULL;
    jv pri = ar_jv_get(o, "priority"), ov = ar_jv_get(o, "overrides");
    double p = jv_get_kind(pri) == JV_KIND_NUMBER ? jv_number_value(pri) : 0;
    if (status_code(ar_jv_str(o, "status")) < 0)
        why = "status";
    else if (!ar_jv_str(o, "hypothesis"))
        why = "hypothesis";
    else if (!(p >= 1 && p <= 9 && p == floor(p)))
        why = "priority";
    else if (jv_get_kind(ov) != JV_KIND_OBJECT)
        why = "overrides";
    else if (isnan(iso_seconds(ar_jv_str(o, "created"))))
        why = "created";
    else if (status_code(ar_jv_str(o, "status")) == ST_CLAIMED &&
             isnan(iso_seconds(ar_jv_str(o, "heartbeat_at"))))
        why = "heartbeat_at";
    jv_free(pri);
    jv_free(ov);
    if (why) {
        snprintf(msg, n, "entry %s: bad field '%s'", id, why);
        return -1;
    }
    return 0;
}

/* Adds or replaces the entry with obj's id; consumes obj. */
static struct entry *upsert(struct ar_queue *q, jv obj)
{
    const char *id = ar_jv_str(obj, "id");
    struct entry *e = find(q, id);
    if (e) {
        jv_free(e->obj);
    } else {
        if (q->n == q->cap) {
            q->cap = q->cap ? q->cap * 2 : 256;
            q->e = ar_xrealloc(q->e, q->cap * sizeof *q->e);
        }
        e = &q->e[q->n++];
        memset(e, 0, sizeof *e);
        snprintf(e->id, sizeof e->id, "%s", id);
        if (q->n * 2 + 2 > q->nslot)
            table_rebuild(q);
        else
            table_put(q, q->n - 1);
    }
    e->obj = obj;
    entry_refresh(e);
    return e;
}

static void set(struct entry *e, const char *key, jv val)
{
    ar_jv_set(&e->obj, key, val);
    e->dirty = 1;
}

char *ar_queue_dupkey(jv fields)
{
    char *h = ar_queue_norm_hypothesis(ar_jv_str(fields, "hypothesis"));
    jv ov = ar_jv_get(fields, "overrides");
    struct ar_buf b = {0};
    ar_buf_puts(&b, h);
    ar_buf_putc(&b, '\n');
    ar_json_dump_buf(&b, ov, AR_JSON_COMPACT);
    jv_free(ov);
    free(h);
    return ar_buf_take(&b);
}

static const char *dupkey(struct entry *e)
{
    if (!e->dupkey)
        e->dupkey = ar_queue_dupkey(e->obj);
    return e->dupkey;
}

static int live(const char *status)
{
    return status && (!strcmp(status, "pending") || !strcmp(status, "claimed") || !strcmp(status, "done"));
}

const char *ar_queue_duplicate_of(jv entries, jv fields, char *id, size_t n)
{
    char *key = ar_queue_dupkey(fields);
    const char *found = NULL;
    jv_array_foreach(entries, i, e) {
        (void)i;
        if (!found && live(ar_jv_str(e, "status"))) {
            char *ek = ar_queue_dupkey(e);
            if (strcmp(ek, key) == 0) {
                snprintf(id, n, "%s", ar_jv_str(e, "id"));
                found = id;
            }
            free(ek);
        }
        jv_free(e);
    }
    free(key);
    return found;
}

static int cmp_entry_id(const void *a, const void *b)
{
    return strcmp(((const struct entry *const *)a)[0]->id, ((const struct entry *const *)b)[0]->id);
}

/* Entries in id order (an array of pointers into q->e; free it). */
static struct entry **sorted(struct ar_queue *q)
{
    struct entry **v = ar_xmalloc((q->n + 1) * sizeof *v);
    for (size_t i = 0; i < q->n; i++)
        v[i] = &q->e[i];
    qsort(v, q->n, sizeof *v, cmp_entry_id);
    return v;
}

/* ------------------------------------------------------------ loading */

static void forget(struct ar_queue *q)
{
    for (size_t i = 0; i < q->n; i++) {
        jv_free(q->e[i].obj);
        free(q->e[i].dupkey);
    }
    q->n = 0;
    if (q->nslot)
        memset(q->slot, 0, q->nslot * sizeof *q->slot);
    if (q->snap_fd >= 0)
        close(q->snap_fd);
    if (q->log_fd >= 0)
        close(q->log_fd);
    q->snap_fd = q->log_fd = -1;
    q->log_off = 0;
    q->gen = 0;
    q->log_line = 0;
    q->log_stale = 0;
}

static int corrupt(const char *path, long line, const char *reason)
{
    char why[512];   /* reason may be the recorded message itself */
    snprintf(why, sizeof why, "%s", reason);
    if (line > 0)
        return ar_fail(AR_EFAIL, "%s:%ld: does not parse: %s (the queue is left as it is)",
                       path, line, why);
    return ar_fail(AR_EFAIL, "%s: does not parse: %s (the queue is left as it is)", path, why);
}

static int read_at(int fd, off_t off, size_t len, char *buf, const char *path)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, buf + got, len - got, off + (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return ar_fail(AR_EFAIL, "%s: read: %s", path, strerror(errno));
        if (r == 0)
            return ar_fail(AR_EFAIL, "%s: changed while locked", path);
        got += (size_t)r;
    }
    return 0;
}

static int load_snapshot(struct ar_queue *q)
{
    int fd = open(q->json_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;   /* a new queue */
        return ar_fail(AR_EFAIL, "%s: %s", q->json_path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > SNAPSHOT_MAX) {
        close(fd);
        return ar_fail(AR_EFAIL, "%s: not a regular file of at most 1 GiB", q->json_path);
    }
    q->snap_fd = fd;
    q->snap_dev = st.st_dev;
    q->snap_ino = st.st_ino;
    char *text = ar_xmalloc((size_t)st.st_size + 1);
    if (read_at(fd, 0, (size_t)st.st_size, text, q->json_path) != 0) {
        free(text);
        return -1;
    }
    jv doc;
    int rc = ar_json_parse(text, (size_t)st.st_size, q->json_path, &doc);
    free(text);
    if (rc != 0)
        return corrupt(q->json_path, 0, ar_last_error());
    const char *schema = ar_jv_str(doc, "schema");
    jv entries = ar_jv_get(doc, "entries");
    double gen = ar_jv_num(doc, "generation", -1);
    char why[160] = "";
    if (!schema || strcmp(schema, AR_QUEUE_SCHEMA) != 0)
        snprintf(why, sizeof why, "schema is not %s", AR_QUEUE_SCHEMA);
    else if (!(gen >= 0 && gen == floor(gen) && gen < 1e15))
        snprintf(why, sizeof why, "bad generation");
    else if (jv_get_kind(entries) != JV_KIND_ARRAY)
        snprintf(why, sizeof why, "entries is not an array");
    jv_free(doc);
    if (why[0]) {
        jv_free(entries);
        return corrupt(q->json_path, 0, why);
    }
    q->gen = (long)gen;
    int n = jv_array_length(jv_copy(entries));
    for (int i = 0; i < n; i++) {
        jv o = jv_array_get(jv_copy(entries), i);
        if (entry_check(o, why, sizeof why) == 0 && find(q, ar_jv_str(o, "id")))
            snprintf(why, sizeof why, "entry %s appears twice", ar_jv_str(o, "id"));
        if (why[0]) {
            jv_free(o);
            jv_free(entries);
            return corrupt(q->json_path, 0, why);
        }
        upsert(q, o);
    }
    jv_free(entries);
    return 0;
}

/* Applies the complete journal lines in [q->log_off, size). */
static int read_journal(struct ar_queue *q, off_t size)
{
    size_t len = (size_t)(size - q->log_off);
    if (len == 0)
        return 0;
    char *buf = ar_xmalloc(len + 1);
    if (read_at(q->log_fd, q->log_off, len, buf, q->log_path) != 0) {
        free(buf);
        return -1;
    }
    buf[len] = '\0';
    char *p = buf, *end = buf + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;   /* a write cut short: ignored, and cut off by the next writer */
        q->log_line++;
        jv o;
        char why[160];
        if (ar_json_parse(p, (size_t)(nl - p), q->log_path, &o) != 0) {
            free(buf);
            return corrupt(q->log_path, q->log_line, ar_last_error());
        }
        if (q->log_line == 1) {
            double g = ar_jv_num(o, "generation", -1);
            int n = jv_get_kind(o) == JV_KIND_OBJECT ? jv_object_length(jv_copy(o)) : 0;
            jv_free(o);
            if (n != 1 || !(g >= 0 && g == floor(g))) {
                free(buf);
                return corrupt(q->log_path, 1, "first line is not {\"generation\":N}");
            }
            if ((long)g != q->gen) {
                /* already folded into the snapshot: a crash between the two writes */
                q->log_stale = 1;
                q->log_off = size;
                free(buf);
                return 0;
            }
        } else if (entry_check(o, why, sizeof why) != 0) {
            jv_free(o);
            free(buf);
            return corrupt(q->log_path, q->log_line, why);
        } else {
            upsert(q, o);
        }
        p = nl + 1;
    }
    q->log_off += (off_t)(p - buf);
    free(buf);
    return 0;
}

static int load_all(struct ar_queue *q)
{
    forget(q);
    if (load_snapshot(q) != 0)
        return -1;
    int fd = open(q->log_path, q->unlocked ? O_RDONLY | O_CLOEXEC : O_RDWR | O_APPEND | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            q->log_stale = 1;   /* none yet: the first write creates it */
            return 0;
        }
        return ar_fail(AR_EFAIL, "%s: %s", q->log_path, strerror(errno));
    }
    if (q->snap_fd < 0) {
        /* every journal follows a snapshot: entries would be lost */
        close(fd);
        return ar_fail(AR_EFAIL, "%s: missing, but %s is there (the queue is left as it is: "
                       "restore queue.json, or move queue.log away to start an empty queue)",
                       q->json_path, q->log_path);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return ar_fail(AR_EFAIL, "%s: %s", q->log_path, strerror(errno));
    }
    q->log_fd = fd;
    q->log_dev = st.st_dev;
    q->log_ino = st.st_ino;
    return read_journal(q, st.st_size);
}

static int same_file(const char *path, int fd, dev_t dev, ino_t ino, struct stat *st)
{
    if (fd < 0)
        return 0;
    if (stat(path, st) != 0)
        return 0;
    return st->st_dev == dev && st->st_ino == ino;
}

/* The generation a snapshot file says it is, from its last bytes (the
 * snapshot ends with ],"generation":G,"schema":"ar.queue/1"}); -1 if unsure. */
static long snapshot_generation(int fd)
{
    struct stat st;
    char tail[96];
    if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof tail)
        return -1;
    if (pread(fd, tail, sizeof tail - 1, st.st_size - (off_t)(sizeof tail - 1)) !=
        (ssize_t)(sizeof tail - 1))
        return -1;
    tail[sizeof tail - 1] = '\0';
    const char *g = strstr(tail, "],\"generation\":");
    char *end;
    long gen = g ? strtol(g + 15, &end, 10) : -1;
    return g && strcmp(end, ",\"schema\":\"" AR_QUEUE_SCHEMA "\"}\n") == 0 ? gen : -1;
}

/* Another process folded the journal we were reading into a new snapshot.
 * Nobody appends to a journal after it is folded, so once we have read the
 * rest of it our state is exactly the new snapshot's: adopt the new files
 * without parsing the snapshot. Returns -1 (nothing recorded) when that
 * does not hold, and the caller loads everything. */
static int follow_fold(struct ar_queue *q)
{
    struct stat st;
    if (q->log_fd < 0 || q->snap_fd < 0 || q->log_stale || fstat(q->log_fd, &st) != 0 ||
        read_journal(q, st.st_size) != 0 || q->log_stale)
        return -1;
    int sfd = open(q->json_path, O_RDONLY | O_CLOEXEC);
    int lfd = open(q->log_path, O_RDWR | O_APPEND | O_CLOEXEC);
    char head[64], want[64];
    int n = snprintf(want, sizeof want, HEADER_FMT, q->gen + 1);
    struct stat ss, ls;
    if (sfd < 0 || lfd < 0 || fstat(sfd, &ss) != 0 || fstat(lfd, &ls) != 0 ||
        snapshot_generation(sfd) != q->gen + 1 || ls.st_size < n ||
        pread(lfd, head, (size_t)n, 0) != n || memcmp(head, want, (size_t)n) != 0) {
        if (sfd >= 0)
            close(sfd);
        if (lfd >= 0)
            close(lfd);
        return -1;
    }
    close(q->snap_fd);
    close(q->log_fd);
    q->snap_fd = sfd;
    q->snap_dev = ss.st_dev;
    q->snap_ino = ss.st_ino;
    q->log_fd = lfd;
    q->log_dev = ls.st_dev;
    q->log_ino = ls.st_ino;
    q->gen++;
    q->log_off = n;
    q->log_line = 1;
    return read_journal(q, ls.st_size);
}

/* Brings the state up to date with the files (under the lock). */
static int refresh(struct ar_queue *q)
{
    struct stat ss, ls;
    int same_snap = same_file(q->json_path, q->snap_fd, q->snap_dev, q->snap_ino, &ss);
    if (same_snap && same_file(q->log_path, q->log_fd, q->log_dev, q->log_ino, &ls) &&
        !q->log_stale && ls.st_size >= q->log_off) {
        if (read_journal(q, ls.st_size) == 0)
            return 0;
        forget(q);
        return -1;
    }
    if (!same_snap && follow_fold(q) == 0)
        return 0;
    if (load_all(q) == 0)
        return 0;
    forget(q);
    return -1;
}

/* ------------------------------------------------------------ writing */

static int write_all(int fd, const char *data, size_t len, const char *path)
{
    while (len) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return ar_fail(AR_EFAIL, "%s: write: %s", path, strerror(errno));
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Writes a new journal for the current generation. */
static int new_journal(struct ar_queue *q)
{
    char head[64];
    int n = snprintf(head, sizeof head, HEADER_FMT, q->gen);
    if (ar_write_atomic(q->log_path, head, (size_t)n) != 0)
        return -1;
    if (q->log_fd >= 0)
        close(q->log_fd);
    q->log_fd = open(q->log_path, O_RDWR | O_APPEND | O_CLOEXEC);
    struct stat st;
    if (q->log_fd < 0 || fstat(q->log_fd, &st) != 0)
        return ar_fail(AR_EFAIL, "%s: %s", q->log_path, strerror(errno));
    q->log_dev = st.st_dev;
    q->log_ino = st.st_ino;
    q->log_off = n;
    q->log_line = 1;
    q->log_stale = 0;
    return 0;
}

/* Folds the journal into a new snapshot of generation + 1. */
static int compact(struct ar_queue *q)
{
    struct ar_buf b = {0};
    struct entry **v = sorted(q);
    ar_buf_puts(&b, "{\"entries\":[");
    for (size_t i = 0; i < q->n; i++) {
        ar_buf_puts(&b, i ? ",\n" : "\n");
        ar_json_dump_buf(&b, v[i]->obj, AR_JSON_COMPACT);
    }
    free(v);
    ar_buf_printf(&b, "\n],\"generation\":%ld,\"schema\":\"%s\"}\n", q->gen + 1, AR_QUEUE_SCHEMA);
    int rc = ar_write_atomic(q->json_path, b.data, b.len);
    ar_buf_free(&b);
    if (rc != 0)
        return -1;
    q->gen++;
    if (q->snap_fd >= 0)
        close(q->snap_fd);
    q->snap_fd = open(q->json_path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (q->snap_fd < 0 || fstat(q->snap_fd, &st) != 0)
        return ar_fail(AR_EFAIL, "%s: %s", q->json_path, strerror(errno));
    q->snap_dev = st.st_dev;
    q->snap_ino = st.st_ino;
    return new_journal(q);
}

/* Appends every changed entry in one write; folds when the journal has
 * grown as large as the queue. Sets *sync when the append still needs its
 * fdatasync, which end() does after releasing the lock. */
static int commit(struct ar_queue *q, int *sync)
{
    *sync = 0;
    struct ar_buf b = {0};
    long lines = 0;
    for (size_t i = 0; i < q->n; i++) {
        if (!q->e[i].dirty)
            continue;
        q->e[i].dirty = 0;
        ar_json_dump_buf(&b, q->e[i].obj, AR_JSON_COMPACT);
        ar_buf_putc(&b, '\n');
        lines++;
    }
    if (!lines)
        return 0;
    int rc = 0;
    if (q->log_stale || q->log_fd < 0) {
        /* the first write of a queue also gives it its snapshot */
        rc = q->snap_fd < 0 ? compact(q) : new_journal(q);
    }
    if (rc == 0) {
        struct stat st;
        /* cut off what a writer killed mid-write left */
        if (fstat(q->log_fd, &st) != 0 ||
            (st.st_size != q->log_off && ftruncate(q->log_fd, q->log_off) != 0))
            rc = ar_fail(AR_EFAIL, "%s: %s", q->log_path, strerror(errno));
    }
    if (rc == 0)
        rc = write_all(q->log_fd, b.data, b.len, q->log_path);
    size_t written = b.len;
    ar_buf_free(&b);
    if (rc != 0) {
        forget(q);   /* memory may be ahead of the disk: re-read next time */
        return -1;
    }
    q->log_off += (off_t)written;
    q->log_line += lines;
    long limit = (long)q->n > COMPACT_MIN_LINES ? (long)q->n : COMPACT_MIN_LINES;
    if (q->log_line - 1 >= limit) {
        if (compact(q) != 0) {   /* fsyncs the new snapshot itself */
            forget(q);
            return -1;
        }
    } else {
        *sync = 1;
    }
    return 0;
}

/* ------------------------------------------------------------ operations */

struct ar_queue *ar_queue_open(const struct ar_kb *kb, double lock_timeout_s, double stale_s)
{
    struct ar_queue *q = ar_xmalloc(sizeof *q);
    memset(q, 0, sizeof *q);
    ar_kb_path(kb, "queue.json", q->json_path);
    ar_kb_path(kb, "queue.log", q->log_path);
    ar_kb_path(kb, "queue.lock", q->lock_path);
    q->lock_timeout = lock_timeout_s >= 0 ? lock_timeout_s : ar_lock_timeout_default();
    q->stale_s = stale_s > 0 ? stale_s : AR_QUEUE_STALE_DEFAULT_S;
    q->lock_fd = q->snap_fd = q->log_fd = -1;
    return q;
}

void ar_queue_close(struct ar_queue *q)
{
    if (!q)
        return;
    forget(q);
    ar_unlock(q->lock_fd);
    free(q->e);
    free(q->slot);
    free(q);
}

static void clear_claim(struct entry *e)
{
    set(e, "claimed_by", jv_null());
    set(e, "claimed_at", jv_null());
    set(e, "heartbeat_at", jv_null());
}

static void set_status(struct entry *e, int status, const char *now)
{
    set(e, "status", jv_string(ar_queue_statuses[status]));
    if (status == ST_DONE || status == ST_FAILED || status == ST_CANCELLED)
        set(e, "finished_at", jv_string(now));
}

/* Stale claims go back to pending, or fail after the last attempt. */
static void sweep(struct ar_queue *q, double now, const char *now_iso)
{
    for (size_t i = 0; i < q->n; i++) {
        struct entry *e = &q->e[i];
        if (e->status != ST_CLAIMED || !(now - e->heartbeat > q->stale_s))
            continue;
        char why[512];
        snprintf(why, sizeof why, "claim by %.200s went stale (no heartbeat since %s)",
                 ar_jv_str(e->obj, "claimed_by") ? ar_jv_str(e->obj, "claimed_by") : "?",
                 ar_jv_str(e->obj, "heartbeat_at"));
        if (e->attempts >= AR_QUEUE_MAX_ATTEMPTS) {
            size_t n = strlen(why);
            snprintf(why + n, sizeof why - n, "; failed after %d attempts", e->attempts);
            set_status(e, ST_FAILED, now_iso);
        } else {
            set_status(e, ST_PENDING, now_iso);
            clear_claim(e);
        }
        set(e, "reason", jv_string(why));
        entry_refresh(e);
    }
}

/* 1 when path cannot be opened for writing because its file system or its
 * permissions refuse it. */
static int write_denied(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    return errno == EROFS || errno == EACCES || errno == EPERM;
}

/* What an operation does: adds; changes entries (a claim or a transition:
 * nothing to do in a queue never written); only reads (and may then read without the lock where its file
 * cannot be opened for writing). */
enum { BEGIN_WRITE, BEGIN_READ, BEGIN_CLAIM };

/* Takes the lock, brings the state up to date and sweeps stale claims. A
 * read or claim of a queue that was never written touches nothing, not
 * even the lock file. */
static int begin(struct ar_queue *q, double *now, char now_iso[AR_CREATED_LEN + 1], int kind)
{
    int reading = kind == BEGIN_READ;
    if (kind != BEGIN_WRITE && access(q->json_path, F_OK) != 0 && access(q->log_path, F_OK) != 0) {
        forget(q);
        *now = now_seconds(now_iso);
        return 0;
    }
    q->reading = reading;
    q->lock_fd = ar_lock(q->lock_path, q->lock_timeout, 1);
    if (q->lock_fd < 0) {
        ar_fail_prefix("queue");
        if (!reading || !write_denied(q->lock_path))
            return -1;
        /* a read-only knowledge base: read without the lock (no writer
         * can be at work through this file system; a snapshot is replaced
         * atomically and a journal line cut short is ignored), and write
         * nothing back: stale claims show as pending, as they would be */
        q->unlocked = 1;
        forget(q);
        if (load_all(q) != 0) {
            forget(q);
            q->unlocked = 0;
            return -1;
        }
        *now = now_seconds(now_iso);
        sweep(q, *now, now_iso);
        return 0;
    }
    if (refresh(q) != 0) {
        ar_unlock(q->lock_fd);
        q->lock_fd = -1;
        return -1;
    }
    *now = now_seconds(now_iso);
    sweep(q, *now, now_iso);
    return 0;
}

/* Writes what changed and releases the lock; returns rc, or -1 when the
 * write failed. The fdatasync comes after the unlock, so that other
 * processes append while this one waits for the disk, and one flush can
 * cover several appends; the caller still hears of success only once its
 * own line is on disk. A later line is only written by a process that read
 * this one, and its flush covers the whole file, so nothing durable ever
 * depends on something that is not. */
static int end(struct ar_queue *q, int rc)
{
    int sync;
    if (q->unlocked) {
        forget(q);   /* its files were opened read-only, and the sweep is not on disk */
        q->unlocked = 0;
        return rc;
    }
    if (commit(q, &sync) != 0) {
        if (q->reading) {
            /* a read on a full disk still answers: the sweep waits */
            ar_warn("%s; stale claims not returned", ar_last_error());
        } else {
            rc = -1;
        }
    }
    ar_unlock(q->lock_fd);
    q->lock_fd = -1;
    if (sync && fdatasync(q->log_fd) != 0) {
        ar_fail(AR_EFAIL, "%s: fdatasync: %s", q->log_path, strerror(errno));
        forget(q);
        rc = -1;
    }
    return rc;
}

static int check_id(const char *id)
{
    if (!id || !ar_id_valid(id))
        return ar_fail(AR_EINPUT, "entry id '%s': not of the form YYYYMMDDTHHMMSSZ-<12 hex>",
                       id ? id : "");
    return 0;
}

static struct entry *lookup(struct ar_queue *q, const char *id)
{
    struct entry *e = find(q, id);
    if (!e)
        ar_fail(AR_EINPUT, "entry %s: not found", id);
    return e;
}

/* Builds a new pending entry from the caller's fields (validated). */
static int build(jv fields, const char *created, jv *out)
{
    static const char *const known[] = { "hypothesis", "category", "priority", "overrides",
                                         "verifies", "seed", NULL };
    if (jv_get_kind(fields) != JV_KIND_OBJECT)
        return ar_fail(AR_EINPUT, "entry: must be an object, not %s", ar_kind_name(fields));
    jv keys = jv_keys(jv_copy(fields));
    for (int i = 0; i < jv_array_length(jv_copy(keys)); i++) {
        jv k = jv_array_get(jv_copy(keys), i);
        int ok = 0;
        for (int j = 0; known[j]; j++)
            ok |= strcmp(jv_string_value(k), known[j]) == 0;
        if (!ok) {
            ar_fail(AR_EINPUT, "field '%s': unknown", jv_string_value(k));
            jv_free(k);
            jv_free(keys);
            return -1;
        }
        jv_free(k);
    }
    jv_free(keys);
    jv hyp = ar_jv_get(fields, "hypothesis"), cat = ar_jv_get(fields, "category");
    jv pri = ar_jv_get(fields, "priority"), ov = ar_jv_get(fields, "overrides");
    jv ver = ar_jv_get(fields, "verifies"), seed = ar_jv_get(fields, "seed");
    if (!jv_is_valid(pri))
        pri = jv_number(AR_QUEUE_PRIORITY_DEFAULT);
    if (!jv_is_valid(ov))
        ov = jv_object();
    int rc = ar_check_text(hyp, "hypothesis", 1, AR_HYPOTHESIS_MAX, AR_TEXT_MULTILINE);
    if (rc == 0)
        rc = ar_check_enum(cat, "category", ar_card_categories);
    if (rc == 0)
        rc = ar_check_number(pri, "priority", 1, 9, 1);
    if (rc == 0 && jv_get_kind(ov) != JV_KIND_OBJECT)
        rc = ar_fail(AR_EINPUT, "field 'overrides': must be an object, not %s", ar_kind_name(ov));
    if (rc == 0)
        rc = ar_check_strings_deep(ov, "overrides");
    if (rc == 0 && jv_is_valid(ver))
        rc = ar_check_id(ver, "verifies");
    if (rc == 0 && jv_is_valid(seed))
        rc = ar_check_number(seed, "seed", 0, 9007199254740991.0, 1);
    if (rc == 0) {
        jv_object_foreach(ov, k, v) {
            char text[8];
            if (rc == 0 && jv_get_kind(v) != JV_KIND_STRING &&
                ar_config_value_text(v, text, sizeof text) != 0)
                rc = ar_fail(AR_EINPUT, "field 'overrides.%s': must be a number, boolean or string",
                             jv_string_value(k));
            jv_free(k);
            jv_free(v);
        }
    }
    if (rc != 0) {
        jv_free(hyp); jv_free(cat); jv_free(pri); jv_free(ov); jv_free(ver); jv_free(seed);
        return -1;
    }
    jv e = jv_object();
    ar_jv_set(&e, "hypothesis", hyp);
    ar_jv_set(&e, "category", cat);
    ar_jv_set(&e, "priority", pri);
    ar_jv_set(&e, "overrides", ov);
    ar_jv_set(&e, "status", jv_string("pending"));
    ar_jv_set(&e, "created", jv_string(created));
    ar_jv_set(&e, "created_by", jv_string(ar_agent_name()));
    ar_jv_set(&e, "claimed_by", jv_null());
    ar_jv_set(&e, "claimed_at", jv_null());
    ar_jv_set(&e, "heartbeat_at", jv_null());
    ar_jv_set(&e, "attempts", jv_number(0));
    ar_jv_set(&e, "card", jv_null());
    ar_jv_set(&e, "reason", jv_null());
    ar_jv_set(&e, "finished_at", jv_null());
    ar_jv_set(&e, "verifies", jv_is_valid(ver) ? ver : jv_null());
    ar_jv_set(&e, "seed", jv_is_valid(seed) ? seed : jv_null());
    *out = e;
    return 0;
}

/* Gives e its id; a clash with an entry already there (the same content
 * in the same millisecond, as with --force) moves created on by 1 ms. */
static void assign_id(struct ar_queue *q, jv *e, jv batch)
{
    for (;;) {
        char id[AR_ID_LEN + 1];
        ar_id_compute(*e, id);
        int clash = find(q, id) != NULL;
        for (int i = 0; !clash && i < jv_array_length(jv_copy(batch)); i++) {
            jv o = jv_array_get(jv_copy(batch), i);
            clash = strcmp(ar_jv_str(o, "id"), id) == 0;
            jv_free(o);
        }
        if (!clash) {
            ar_jv_set(e, "id", jv_string(id));
            return;
        }
        char next[AR_CREATED_LEN + 1];
        seconds_iso(iso_seconds(ar_jv_str(*e, "created")) + 0.001, next);
        ar_jv_set(e, "created", jv_string(next));
    }
}

int ar_queue_add(struct ar_queue *q, const jv *fields, size_t n, int force, jv *ids)
{
    char created[AR_CREATED_LEN + 1];
    ar_now_iso(created);
    jv batch = jv_array();
    for (size_t i = 0; i < n; i++) {
        jv e;
        if (build(fields[i], created, &e) != 0) {
            jv_free(batch);
            return -1;
        }
        batch = jv_array_append(batch, e);
    }
    double now;
    char now_iso[AR_CREATED_LEN + 1];
    if (begin(q, &now, now_iso, BEGIN_WRITE) != 0) {
        jv_free(batch);
        return -1;
    }
    /* duplicates: against live entries and within the batch */
    struct entry probe;
    int rc = 0;
    jv done = jv_array();
    for (size_t i = 0; rc == 0 && i < n; i++) {
        memset(&probe, 0, sizeof probe);
        probe.obj = jv_array_get(jv_copy(batch), (int)i);
        const char *key = dupkey(&probe);
        for (size_t j = 0; rc == 0 && !force && j < q->n; j++) {
            struct entry *e = &q->e[j];
            if (e->status != ST_PENDING && e->status != ST_CLAIMED && e->status != ST_DONE)
                continue;
            if (strcmp(dupkey(e), key) == 0)
                rc = ar_fail(AR_EINPUT, "duplicate of %s entry %s (same hypothesis and "
                             "overrides; --force adds it anyway)",
                             ar_queue_statuses[e->status], e->id);
        }
        for (size_t j = 0; rc == 0 && !force && j < i; j++) {
            jv o = jv_array_get(jv_copy(done), (int)j);
            if (strcmp(jv_string_value(o), key) == 0)
                rc = ar_fail(AR_EINPUT, "entries %zu and %zu of this request are the same", j + 1, i + 1);
            jv_free(o);
        }
        done = jv_array_append(done, jv_string(key));
        jv_free(probe.obj);
        free(probe.dupkey);
    }
    jv_free(done);
    if (rc != 0) {
        jv_free(batch);
        return end(q, -1);
    }
    jv out = jv_array(), placed = jv_array();
    for (size_t i = 0; i < n; i++) {
        jv e = jv_array_get(jv_copy(batch), (int)i);
        assign_id(q, &e, placed);
        placed = jv_array_append(placed, jv_copy(e));
        out = jv_array_append(out, jv_string(ar_jv_str(e, "id")));
        jv_free(e);
    }
    jv_free(batch);
    jv_array_foreach(placed, i, e) {
        (void)i;
        upsert(q, e)->dirty = 1;
    }
    jv_free(placed);
    if (end(q, 0) != 0) {
        jv_free(out);
        return -1;
    }
    *ids = out;
    return 0;
}

int ar_queue_claim(struct ar_queue *q, const char *worker, jv *entry)
{
    double now;
    char iso[AR_CREATED_LEN + 1];
    if (begin(q, &now, iso, BEGIN_CLAIM) != 0)
        return -1;
    struct entry *best = NULL;
    for (size_t i = 0; i < q->n; i++) {
        struct entry *e = &q->e[i];
        if (e->status != ST_PENDING)
            continue;
        if (!best || e->priority < best->priority ||
            (e->priority == best->priority &&
             (e->created < best->created ||
              (e->created == best->created && strcmp(e->id, best->id) < 0))))
            best = e;
    }
    if (!best)
        return end(q, 1);
    set(best, "status", jv_string("claimed"));
    set(best, "claimed_by", jv_string(worker && *worker ? worker : ar_agent_name()));
    set(best, "claimed_at", jv_string(iso));
    set(best, "heartbeat_at", jv_string(iso));
    set(best, "attempts", jv_number(best->attempts + 1));
    entry_refresh(best);
    jv copy = jv_copy(best->obj);
    if (end(q, 0) != 0) {
        jv_free(copy);
        return -1;
    }
    *entry = copy;
    return 0;
}

enum op { OP_HEARTBEAT, OP_DONE, OP_FAIL, OP_RELEASE, OP_CANCEL };

static int transition(struct ar_queue *q, enum op op, const char *id, const char *arg)
{
    if (check_id(id) != 0)
        return -1;
    if (op == OP_DONE && (check_id(arg) != 0))
        return ar_fail(AR_EINPUT, "card id '%s': not of the form YYYYMMDDTHHMMSSZ-<12 hex>", arg);
    if (op == OP_FAIL || (op == OP_CANCEL && arg)) {
        jv r = jv_string(arg ? arg : "");
        int bad = ar_check_text(r, "reason", 1, AR_QUEUE_REASON_MAX, AR_TEXT_MULTILINE);
        jv_free(r);
        if (bad)
            return -1;
    }
    double now;
    char iso[AR_CREATED_LEN + 1];
    if (begin(q, &now, iso, BEGIN_CLAIM) != 0)
        return -1;
    struct entry *e = lookup(q, id);
    if (!e)
        return end(q, -1);
    const char *st = ar_queue_statuses[e->status];
    int live = e->status == ST_PENDING || e->status == ST_CLAIMED;
    switch (op) {
    case OP_HEARTBEAT: {
        const char *owner = ar_jv_str(e->obj, "claimed_by");
        if (e->status != ST_CLAIMED)
            return end(q, ar_fail(AR_EFAIL, "entry %s: is %s, not claimed", id, st));
        if (arg && owner && strcmp(arg, owner) != 0)
            return end(q, ar_fail(AR_EFAIL, "entry %s: claimed by %s, not %s", id, owner, arg));
        set(e, "heartbeat_at", jv_string(iso));
        break;
    }
    case OP_RELEASE:
        if (e->status != ST_CLAIMED)
            return end(q, ar_fail(AR_EFAIL, "entry %s: is %s, not claimed", id, st));
        set_status(e, ST_PENDING, iso);
        clear_claim(e);
        set(e, "attempts", jv_number(e->attempts > 0 ? e->attempts - 1 : 0));
        break;
    case OP_DONE:
    case OP_FAIL:
    case OP_CANCEL:
        if (!live)
            return end(q, ar_fail(AR_EFAIL, "entry %s: is already %s", id, st));
        set_status(e, op == OP_DONE ? ST_DONE : op == OP_FAIL ? ST_FAILED : ST_CANCELLED, iso);
        if (op == OP_DONE)
            set(e, "card", jv_string(arg));
        if ((op == OP_FAIL || op == OP_CANCEL) && arg)
            set(e, "reason", jv_string(arg));
        break;
    }
    entry_refresh(e);
    return end(q, 0);
}

int ar_queue_heartbeat(struct ar_queue *q, const char *id, const char *worker)
{
    return transition(q, OP_HEARTBEAT, id, worker);
}

int ar_queue_done(struct ar_queue *q, const char *id, const char *card)
{
    return transition(q, OP_DONE, id, card);
}

int ar_queue_fail(struct ar_queue *q, const char *id, const char *reason)
{
    return transition(q, OP_FAIL, id, reason);
}

int ar_queue_release(struct ar_queue *q, const char *id)
{
    return transition(q, OP_RELEASE, id, NULL);
}

int ar_queue_cancel(struct ar_queue *q, const char *id, const char *reason)
{
    return transition(q, OP_CANCEL, id, reason);
}

int ar_queue_get(struct ar_queue *q, const char *id, jv *entry)
{
    if (check_id(id) != 0)
        return -1;
    double now;
    char iso[AR_CREATED_LEN + 1];
    if (begin(q, &now, iso, BEGIN_READ) != 0)
        return -1;
    struct entry *e = lookup(q, id);
    if (!e)
        return end(q, -1);
    *entry = jv_copy(e->obj);
    return end(q, 0);
}

int ar_queue_list(struct ar_queue *q, jv *entries)
{
    double now;
    char iso[AR_CREATED_LEN + 1];
    if (begin(q, &now, iso, BEGIN_READ) != 0)
        return -1;
    struct entry **v = sorted(q);
    jv out = jv_array();
    for (size_t i = 0; i < q->n; i++)
        out = jv_array_append(out, jv_copy(v[i]->obj));
    free(v);
    if (end(q, 0) != 0) {
        jv_free(out);
        return -1;
    }
    *entries = out;
    return 0;
}

int ar_queue_add_one(void *ctx, jv fields, jv *id, jv *entries)
{
    struct ar_queue *q = ctx;
    jv ids;
    if (ar_queue_add(q, &fields, 1, 0, &ids) != 0)
        return -1;
    *id = jv_array_get(ids, 0);
    jv_free(*entries);
    if (ar_queue_list(q, entries) != 0) {
        *entries = jv_array();
        return -1;
    }
    return 0;
}

#define _GNU_SOURCE   /* memmem */
#include "index/index.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "facts/card.h"
#include "base/err.h"
#include "facts/id.h"
#include "base/json.h"
#include "base/jtext.h"
#include "index/index_journal.h"
#include "base/lock.h"
#include "facts/note.h"

#define INDEX_FILE "index.jsonl"
#define STATE_FILE "index.state"
#define LOCK_FILE "index.lock"
#define STATE_SCHEMA "ar.index/1"
#define DIRS_LEN 96
/* a directory modified this long before it was looked at is settled: any
 * later change gives it another modification time */
#define SETTLED_S 2

struct state {
    long cards, notes;
    long long bytes;
    char last[AR_ID_LEN + 1];
    char epoch[AR_EPOCH_LEN + 1];   /* new at every rebuild */
    long gen;                       /* changes since (index_journal.h) */
    char dirs[DIRS_LEN];            /* settled mtimes of cards/ and notes/ */
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

static long count_facts(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] != '.' && len > 5 && strcmp(e->d_name + len - 5, ".json") == 0)
            n++;
    }
    closedir(d);
    return n;
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

static int read_state(const struct ar_kb *kb, struct state *st)
{
    char path[PATH_MAX], *text;
    size_t len;
    memset(st, 0, sizeof *st);
    if (access(ar_kb_path(kb, STATE_FILE, path), F_OK) != 0)
        return -1;
    if (ar_read_file(path, 4096, &text, &len) != 0)
        return -1;
    jv v;
    int rc = ar_json_parse(text, len, path, &v);
    free(text);
    if (rc != 0)
        return -1;
    const char *schema = ar_jv_str(v, "schema");
    const char *last = ar_jv_str(v, "last"), *epoch = ar_jv_str(v, "epoch"), *dirs = ar_jv_str(v, "dirs");
    /* a state without an epoch (an older ar) makes readers rebuild once */
    rc = schema && strcmp(schema, STATE_SCHEMA) == 0 && epoch && strlen(epoch) == AR_EPOCH_LEN ? 0 : -1;
    st->cards = (long)ar_jv_num(v, "cards", -1);
    st->notes = (long)ar_jv_num(v, "notes", -1);
    st->bytes = (long long)ar_jv_num(v, "bytes", -1);
    st->gen = (long)ar_jv_num(v, "gen", -1);
    rc = st->gen < 0 ? -1 : rc;
    snprintf(st->last, sizeof st->last, "%s", last ? last : "");
    snprintf(st->epoch, sizeof st->epoch, "%s", epoch ? epoch : "");
    snprintf(st->dirs, sizeof st->dirs, "%s", dirs ? dirs : "");
    jv_free(v);
    return rc;
}

/* The state is written atomically (temp + rename) but not fsync'd: it is
 * written after the index data it describes is on disk, and a state lost
 * or emptied by a power failure only makes the next reader rebuild. */
static int write_state(const struct ar_kb *kb, const struct state *st)
{
    char path[PATH_MAX], tmp[PATH_MAX + 64], text[512];
    int n = snprintf(text, sizeof text,
                     "{\"bytes\":%lld,\"cards\":%ld,\"dirs\":\"%s\",\"epoch\":\"%s\",\"gen\":%ld,"
                     "\"last\":\"%s\",\"notes\":%ld,\"schema\":\"%s\"}\n",
                     st->bytes, st->cards, st->dirs, st->epoch, st->gen, st->last, st->notes, STATE_SCHEMA);
    ar_kb_path(kb, STATE_FILE, path);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp.%ld", kb->root, STATE_FILE, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return ar_fail(AR_EFAIL, "%s: cannot write: %s", path, strerror(errno));
    int ok = write(fd, text, (size_t)n) == n;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return ar_fail(AR_EFAIL, "%s: cannot write: %s", path, strerror(e));
    }
    return 0;
}

static long long index_size(const struct ar_kb *kb)
{
    char path[PATH_MAX];
    struct stat s;
    return stat(ar_kb_path(kb, INDEX_FILE, path), &s) == 0 ? (long long)s.st_size : -1;
}

/* The modification times of cards/ and notes/ into out; -1 when they
 * cannot be read, or when either changed too recently to be trusted (a
 * change in the same clock tick could keep the time). */
static int dirs_stamp(const struct ar_kb *kb, char out[DIRS_LEN])
{
    struct stat c, n;
    struct timespec now;
    if (stat(kb->cards, &c) != 0 || stat(kb->notes, &n) != 0 || clock_gettime(CLOCK_REALTIME, &now) != 0 ||
        c.st_mtim.tv_sec > now.tv_sec - SETTLED_S || n.st_mtim.tv_sec > now.tv_sec - SETTLED_S)
        return -1;
    snprintf(out, DIRS_LEN, "%lld.%09ld:%lld.%09ld", (long long)c.st_mtim.tv_sec, c.st_mtim.tv_nsec,
             (long long)n.st_mtim.tv_sec, n.st_mtim.tv_nsec);
    return 0;
}

/* 1 when the index matches the facts on disk now. */
static int is_fresh(const struct ar_kb *kb, const struct state *st)
{
    return st->cards == count_facts(kb->cards) && st->notes == count_facts(kb->notes) &&
           st->bytes == index_size(kb);
}


/* ---------------------------------------------------------------- render
 *
 * A fact is read on a fast path when its bytes are the canonical form our
 * writers produce: white space stripped gives the canonical compact text,
 * and the id (a content hash) is checked on that text, which proves it
 * canonical too; the view line is then spliced from text, without jv. Any
 * other file takes the slow path: parse, validate against the schema, dump.
 * Facts are validated where they enter the knowledge base (write, import,
 * sync); `ar-card validate` checks every fact against the whole schema.
 * Cards and notes are read in parallel (OpenMP); each thread has its own jv
 * values and error message. */

struct fact {
    char *text;             /* canonical compact JSON, NULL when skipped */
    size_t len;
    char *warning;          /* why it was skipped */
    char card[AR_ID_LEN + 1];   /* notes: the card they annotate */
    char kind;              /* notes: l(esson) s(tatus) r(etract) c(omment) */
    char status[16];        /* status notes: the status, normalised */
};

/* The string value of member key of compact text s, unescaped only if it
 * needs no escapes; 0 on success. */
static int text_str(const char *s, const struct ar_jmember *m, int n, const char *key, char *out,
                    size_t max)
{
    int i = ar_jtext_find(s, m, n, key);
    if (i < 0 || m[i].vallen < 2 || s[m[i].val] != '"' || m[i].vallen - 2 >= max)
        return -1;
    size_t len = m[i].vallen - 2;
    if (memchr(s + m[i].val + 1, '\\', len))
        return -1;
    memcpy(out, s + m[i].val + 1, len);
    out[len] = '\0';
    return 0;
}

/* Reads a fact file; on the fast path its canonical text is the file's
 * bytes with white space removed. */
static int read_fact(const char *path, const char *id, int is_note, struct fact *f)
{
    char *data;
    size_t len;
    if (ar_read_file(path, AR_CARD_MAX_BYTES + 4096, &data, &len) != 0)
        return -1;
    len = ar_jtext_compact(data, data, len);
    data[len] = '\0';
    struct ar_jmember m[64];
    int n = ar_jtext_members(data, len, m, 64);
    char fid[AR_ID_LEN + 1];
    int fast = n > 0 && n <= 64 && text_str(data, m, n, "id", fid, sizeof fid) == 0 &&
               strcmp(fid, id) == 0 && ar_utf8_valid(data, len) && ar_id_matches_text(data, len);
    if (!fast) {
        /* slow path: anything not in the canonical form */
        free(data);
        jv v;
        if ((is_note ? ar_note_read_file(path, &v) : ar_card_read_file(path, &v, AR_CARD_STORED)) != 0)
            return -1;
        if (strcmp(ar_jv_str(v, "id"), id) != 0) {
            jv_free(v);
            return ar_fail(AR_EINPUT, "%s: file name does not match its id", path);
        }
        struct ar_buf b = {0};
        ar_json_dump_buf(&b, v, AR_JSON_COMPACT);
        jv_free(v);
        len = b.len;
        data = ar_buf_take(&b);
        n = ar_jtext_members(data, len, m, 64);
    }
    if (is_note) {
        char kind[16];
        if (text_str(data, m, n, "card", f->card, sizeof f->card) != 0 || !ar_id_valid(f->card) ||
            text_str(data, m, n, "kind", kind, sizeof kind) != 0) {
            free(data);
            return ar_fail(AR_EINPUT, "%s: not a note", path);
        }
        f->kind = kind[0];
        f->status[0] = '\0';
        char raw[16];
        if (strcmp(kind, "status") == 0 && text_str(data, m, n, "status", raw, sizeof raw) == 0)
            snprintf(f->status, sizeof f->status, "%s", ar_card_status_norm(raw));
    }
    f->text = data;
    f->len = len;
    return 0;
}

static void read_facts(const struct ar_kb *kb, char **ids, size_t n, int is_note, struct fact *out)
{
#pragma omp parallel for schedule(dynamic, 32) if (n >= 256)
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        memset(&out[i], 0, sizeof out[i]);
        if (is_note)
            ar_kb_note_path(kb, ids[i], path);
        else
            ar_kb_card_path(kb, ids[i], path);
        if (read_fact(path, ids[i], is_note, &out[i]) != 0)
            out[i].warning = ar_xstrdup(ar_last_error());
    }
}

static const struct fact *sort_notes;

static int cmp_note(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(sort_notes[i].card, sort_notes[j].card);
    return c ? c : (i > j) - (i < j);
}

/* Appends member "key":value to a view being spliced. */
static void put_member(struct ar_buf *b, int *first, const char *key, const char *val, size_t vlen)
{
    if (!*first)
        ar_buf_putc(b, ',');
    *first = 0;
    ar_buf_putc(b, '"');
    ar_buf_puts(b, key);
    ar_buf_puts(b, "\":");
    ar_buf_add(b, val, vlen);
}

/* The view line of a card from its canonical text and its notes (id order):
 * byte for byte what ar_json_dump(ar_card_view(card, notes)) gives. */
static void splice_view(struct ar_buf *b, const struct fact *card, const struct fact *notes,
                        const size_t *order, size_t nn)
{
    struct ar_jmember m[64];
    int n = ar_jtext_members(card->text, card->len, m, 64);
    char raw[16] = "", status[16];
    text_str(card->text, m, n, "status", raw, sizeof raw);
    snprintf(status, sizeof status, "%s", ar_card_status_norm(raw));
    const char *effective = status;
    int retracted = 0;
    struct ar_buf list = {0};
    ar_buf_putc(&list, '[');
    for (size_t i = 0; i < nn; i++) {
        const struct fact *f = &notes[order[i]];
        if (f->kind == 's' && f->status[0])
            effective = f->status;
        else if (f->kind == 'r')
            retracted = 1;
        if (i)
            ar_buf_putc(&list, ',');
        ar_buf_add(&list, f->text, f->len);
    }
    ar_buf_putc(&list, ']');
    char cs[24], es[24];
    int cslen = snprintf(cs, sizeof cs, "\"%s\"", status);
    int eslen = snprintf(es, sizeof es, "\"%s\"", effective);
    /* the view's own members, in key order; status replaces the card's */
    struct { const char *key; const char *val; size_t len; } add[] = {
        {"card_status", cs, (size_t)cslen},
        {"notes", list.data, list.len},
        {"retracted", retracted ? "true" : "false", retracted ? 4u : 5u},
        {"status", es, (size_t)eslen},
    };
    int na = 4, a = 0, first = 1;
    ar_buf_putc(b, '{');
    for (int i = 0; i < n && i < 64; i++) {
        const char *key = card->text + m[i].key;
        size_t kl = m[i].keylen;
        while (a < na) {
            size_t al = strlen(add[a].key);
            int c = memcmp(add[a].key, key, al < kl ? al : kl);
            if (c > 0 || (c == 0 && al >= kl))
                break;
            put_member(b, &first, add[a].key, add[a].val, add[a].len);
            a++;
        }
        if (a < na && kl == strlen(add[a].key) && memcmp(key, add[a].key, kl) == 0) {
            put_member(b, &first, add[a].key, add[a].val, add[a].len);
            a++;
            continue;
        }
        if (!first)
            ar_buf_putc(b, ',');
        first = 0;
        ar_buf_add(b, card->text + m[i].key - 1, m[i].val + m[i].vallen - (m[i].key - 1));
    }
    for (; a < na; a++)
        put_member(b, &first, add[a].key, add[a].val, add[a].len);
    ar_buf_putc(b, '}');
    ar_buf_free(&list);
}

static void free_facts(struct fact *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(f[i].text);
        free(f[i].warning);
    }
    free(f);
}

/* Renders the whole index from the facts into b; fills st. */
static int render(const struct ar_kb *kb, struct ar_buf *b, struct state *st)
{
    size_t ncards, nnotes;
    char **cards = ar_list_ids(kb->cards, &ncards);
    char **notes = ar_list_ids(kb->notes, &nnotes);
    if (!cards || !notes) {
        ar_free_ids(cards, cards ? ncards : 0);
        ar_free_ids(notes, notes ? nnotes : 0);
        return ar_fail(AR_EFAIL, "knowledge base %s: cannot read cards/ or notes/", kb->root);
    }
    struct fact *nf = ar_xmalloc((nnotes ? nnotes : 1) * sizeof *nf);
    read_facts(kb, notes, nnotes, 1, nf);
    /* notes grouped by card, in id order within each card */
    size_t *order = ar_xmalloc((nnotes ? nnotes : 1) * sizeof *order), nvalid = 0;
    for (size_t i = 0; i < nnotes; i++) {
        if (nf[i].warning)
            ar_warn("index: skipping note: %s", nf[i].warning);
        else
            order[nvalid++] = i;
    }
    sort_notes = nf;
    qsort(order, nvalid, sizeof *order, cmp_note);

    memset(st, 0, sizeof *st);
    ar_buf_puts(b, "");
    enum { CHUNK = 4096 };
    struct fact *cf = ar_xmalloc(CHUNK * sizeof *cf);
    size_t at = 0;   /* next note in order */
    for (size_t base = 0; base < ncards; base += CHUNK) {
        size_t n = ncards - base < CHUNK ? ncards - base : CHUNK;
        read_facts(kb, cards + base, n, 0, cf);
        for (size_t i = 0; i < n; i++) {
            const char *id = cards[base + i];
            while (at < nvalid && strcmp(nf[order[at]].card, id) < 0)
                at++;   /* notes on cards that are not there */
            size_t end = at;
            while (end < nvalid && strcmp(nf[order[end]].card, id) == 0)
                end++;
            if (cf[i].warning) {
                ar_warn("index: skipping card: %s", cf[i].warning);
            } else {
                splice_view(b, &cf[i], nf, order + at, end - at);
                ar_buf_putc(b, '\n');
                snprintf(st->last, sizeof st->last, "%s", id);
            }
            at = end;
            free(cf[i].text);
            free(cf[i].warning);
        }
    }
    free(cf);
    free(order);
    free_facts(nf, nnotes);
    st->cards = (long)ncards;
    st->notes = (long)nnotes;
    st->bytes = (long long)b->len;
    ar_free_ids(cards, ncards);
    ar_free_ids(notes, nnotes);
    return 0;
}

static int rebuild_locked(const struct ar_kb *kb)
{
    struct ar_buf b = {0};
    struct state st;
    char path[PATH_MAX];
    ar_clean_temps(kb->root);
    ar_clean_temps(kb->cards);
    ar_clean_temps(kb->notes);
    if (render(kb, &b, &st) != 0)
        return -1;
    ar_ijournal_new_epoch(st.epoch);
    /* the index and journal before the state: a crash between them leaves
     * a stale state, so the next reader rebuilds */
    int rc = ar_write_atomic(ar_kb_path(kb, INDEX_FILE, path), b.data, b.len);
    ar_buf_free(&b);
    if (rc == 0)
        rc = ar_ijournal_reset(kb, st.epoch);
    if (rc == 0)
        rc = write_state(kb, &st);
    return rc;
}

static int lock_index(const struct ar_kb *kb)
{
    char path[PATH_MAX];
    return ar_lock(ar_kb_path(kb, LOCK_FILE, path), ar_lock_timeout_default(), 1);
}

int ar_index_rebuild(const struct ar_kb *kb)
{
    int fd = lock_index(kb);
    if (fd < 0)
        return -1;
    int rc = rebuild_locked(kb);
    ar_unlock(fd);
    return rc;
}

/* Records the settled directory times dirs, taken before st was found
 * fresh, in the state, unless a writer holds the lock or changed the state
 * meanwhile; a reader that may not write just goes without. */
static void remember_dirs(const struct ar_kb *kb, const struct state *st, const char *dirs)
{
    char path[PATH_MAX];
    int fd = ar_lock(ar_kb_path(kb, LOCK_FILE, path), 0, 1);
    if (fd < 0)
        return;
    struct state now;
    if (read_state(kb, &now) == 0 && now.cards == st->cards && now.notes == st->notes &&
        now.bytes == st->bytes && now.gen == st->gen && strcmp(now.epoch, st->epoch) == 0) {
        snprintf(now.dirs, sizeof now.dirs, "%s", dirs);
        (void)write_state(kb, &now);
    }
    ar_unlock(fd);
}

int ar_index_ensure(const struct ar_kb *kb)
{
    struct state st;
    char dirs[DIRS_LEN];
    int settled = dirs_stamp(kb, dirs) == 0;   /* before the facts are counted */
    if (read_state(kb, &st) == 0) {
        /* neither facts directory changed since the state's stamp: the
         * facts are those it counted, without listing 100,000 files */
        if (settled && st.dirs[0] && strcmp(dirs, st.dirs) == 0 && st.bytes == index_size(kb))
            return 0;
        if (is_fresh(kb, &st)) {
            if (settled)
                remember_dirs(kb, &st, dirs);
            return 0;
        }
    }
    int fd = lock_index(kb);
    if (fd < 0)
        return -1;
    int rc = 0;
    if (read_state(kb, &st) != 0 || !is_fresh(kb, &st))
        rc = rebuild_locked(kb);
    ar_unlock(fd);
    return rc;
}

/* 1 when note's id sorts after every other note of the knowledge base, so
 * it belongs at the end of its card's notes. */
static int last_note_is(const struct ar_kb *kb, jv note)
{
    const char *id = ar_jv_str(note, "id");
    size_t n;
    char **ids = ar_list_ids(kb->notes, &n);
    int last = id && n > 0 && strcmp(ids[n - 1], id) == 0;
    ar_free_ids(ids, n);
    return last;
}

/* Journals the change of card id's line (after the index is written,
 * before the state): the state's generation moves on, and its directory
 * stamp no longer holds. */
static int journal_change(const struct ar_kb *kb, struct state *st, const char *id)
{
    if (ar_ijournal_put(kb, st->epoch, st->gen + 1, id) != 0)
        return -1;
    st->gen++;
    st->dirs[0] = '\0';
    return 0;
}

/* The id of the line at text (the line's top-level "id"), into id. */
static int line_id(const char *text, size_t len, char id[AR_ID_LEN + 1])
{
    struct ar_jmember m[64];
    int n = ar_jtext_members(text, len, m, 64);
    return n > 0 && n <= 64 ? text_str(text, m, n, "id", id, AR_ID_LEN + 1) : -1;
}

int ar_index_version(const struct ar_kb *kb, struct ar_index_version *v)
{
    struct state st;
    memset(v, 0, sizeof *v);
    if (read_state(kb, &st) != 0)
        return -1;
    memcpy(v->epoch, st.epoch, sizeof v->epoch);
    v->gen = st.gen;
    v->bytes = st.bytes;
    return 0;
}

int ar_index_find_sorted(const char *text, size_t len, const char *id, size_t *start, size_t *end)
{
    size_t lo = 0, hi = len;   /* both at line starts (or the end) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *nl = memrchr(text + lo, '\n', mid - lo);
        size_t s = nl ? (size_t)(nl - text) + 1 : lo;
        const char *en = memchr(text + s, '\n', hi - s);
        size_t e = en ? (size_t)(en - text) : hi;
        char line[AR_ID_LEN + 1];
        if (line_id(text + s, e - s, line) != 0)
            return -1;
        int c = strcmp(line, id);
        if (c == 0) {
            *start = s;
            *end = e;
            return 0;
        }
        if (c < 0)
            lo = e < hi ? e + 1 : hi;
        else
            hi = s;
    }
    return -1;
}

/* Inserts the view line of a card whose id does not sort last: the index
 * is rewritten (atomically), the facts are not read again. */
static int insert_line(const struct ar_kb *kb, const char *id, const struct ar_buf *line, struct state *st)
{
    char path[PATH_MAX], *text;
    size_t len;
    if (ar_read_file(ar_kb_path(kb, INDEX_FILE, path), (size_t)1 << 40, &text, &len) != 0)
        return -1;
    /* binary search over line starts for the first line with a larger id */
    size_t n = 0, cap = 1024;
    size_t *starts = ar_xmalloc(cap * sizeof *starts);
    for (size_t p = 0; p < len;) {
        if (n == cap)
            starts = ar_xrealloc(starts, (cap *= 2) * sizeof *starts);
        starts[n++] = p;
        char *nl = memchr(text + p, '\n', len - p);
        p = nl ? (size_t)(nl - text) + 1 : len;
    }
    size_t lo = 0, hi = n;
    int rc = 0;
    while (lo < hi && rc == 0) {
        size_t mid = (lo + hi) / 2, end = mid + 1 < n ? starts[mid + 1] - 1 : len;
        char mid_id[AR_ID_LEN + 1];
        if (line_id(text + starts[mid], end - starts[mid], mid_id) != 0)
            rc = -1;
        else if (strcmp(mid_id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t at = lo < n ? starts[lo] : len;
    if (rc == 0 && lo < n) {
        /* already there: a rebuild took the card in, and the fact the
         * counts miss is another one, so the index must be rebuilt */
        char at_id[AR_ID_LEN + 1];
        size_t end = lo + 1 < n ? starts[lo + 1] - 1 : len;
        if (line_id(text + at, end - at, at_id) != 0 || strcmp(at_id, id) == 0)
            rc = -1;
    }
    if (rc == 0) {
        struct ar_buf b = {0};
        ar_buf_add(&b, text, at);
        ar_buf_add(&b, line->data, line->len);
        ar_buf_add(&b, text + at, len - at);
        rc = ar_write_atomic(path, b.data, b.len);
        if (rc == 0)
            rc = journal_change(kb, st, id);
        if (rc == 0) {
            st->cards++;
            st->bytes = (long long)b.len;
            rc = write_state(kb, st);
        }
        ar_buf_free(&b);
    }
    free(starts);
    free(text);
    return rc;
}

/* Adds the line of a new card (no notes yet): appended when its id sorts
 * last, else inserted in order. The counts only say one card is missing;
 * an id after the last cannot be in the index, and an insert checks the
 * card is not there, else it fails and the caller rebuilds. */
static int add_line(const struct ar_kb *kb, jv card, struct state *st)
{
    struct ar_buf b = {0};
    jv notes = jv_array();
    jv view = ar_card_view(card, notes);
    ar_json_dump_buf(&b, view, AR_JSON_COMPACT);
    ar_buf_putc(&b, '\n');
    jv_free(view);
    jv_free(notes);
    const char *id = ar_jv_str(card, "id");
    if (strcmp(id, st->last) < 0) {
        int rc = insert_line(kb, id, &b, st);
        ar_buf_free(&b);
        return rc;
    }
    char path[PATH_MAX];
    int fd = open(ar_kb_path(kb, INDEX_FILE, path), O_WRONLY | O_APPEND | O_CLOEXEC);
    int rc = -1;
    if (fd >= 0) {
        ssize_t w = write(fd, b.data, b.len);
        /* no fsync: the index is derived, and its state (written next)
         * makes readers rebuild when the two disagree */
        rc = w == (ssize_t)b.len ? 0 : -1;
        close(fd);
    }
    if (rc == 0)
        rc = journal_change(kb, st, id);
    if (rc == 0) {
        st->cards++;
        st->bytes += (long long)b.len;
        snprintf(st->last, sizeof st->last, "%s", id);
        rc = write_state(kb, st);
    }
    ar_buf_free(&b);
    return rc;
}

int ar_index_add(const struct ar_kb *kb, jv card)
{
    int fd = lock_index(kb);
    if (fd < 0)
        return -1;
    struct state st;
    int rc = 0;
    const char *id = ar_jv_str(card, "id");
    if (read_state(kb, &st) != 0) {
        rc = rebuild_locked(kb);
    } else {
        long cards = count_facts(kb->cards), notes = count_facts(kb->notes);
        long long size = index_size(kb);
        int sizes_ok = st.notes == notes && st.bytes == size;
        if (sizes_ok && st.cards == cards)
            rc = 0;   /* a rebuild since the card landed already holds it */
        else if (sizes_ok && st.cards == cards - 1 && id && strcmp(id, st.last) != 0)
            rc = add_line(kb, card, &st) == 0 ? 0 : rebuild_locked(kb);
        else
            rc = rebuild_locked(kb);
    }
    ar_unlock(fd);
    return rc;
}

int ar_index_find_line(const char *text, size_t len, const char *id, size_t *start, size_t *end)
{
    char needle[AR_ID_LEN + 16];
    int nl = snprintf(needle, sizeof needle, "\"id\":\"%s\"", id);
    const char *p = text, *stop = text + len;
    while ((p = memmem(p, (size_t)(stop - p), needle, (size_t)nl))) {
        const char *a = p, *b;
        while (a > text && a[-1] != '\n')
            a--;
        b = memchr(p, '\n', (size_t)(stop - p));
        if (!b)
            b = stop;
        /* the line's own id, not one inside its notes or extra */
        struct ar_jmember m[64];
        int n = ar_jtext_members(a, (size_t)(b - a), m, 64);
        int i = n > 0 && n <= 64 ? ar_jtext_find(a, m, n, "id") : -1;
        if (i >= 0 && a + m[i].key - 1 == p) {
            *start = (size_t)(a - text);
            *end = (size_t)(b - text);
            return 0;
        }
        p += nl;
    }
    return -1;
}

/* The view of the card of line with one more note. */
static int view_plus_note(const char *line, size_t len, jv note, struct ar_buf *out)
{
    jv view;
    if (ar_json_parse(line, len, "index line", &view) != 0)
        return -1;
    jv notes = ar_jv_get(view, "notes");
    if (jv_get_kind(notes) != JV_KIND_ARRAY) {
        jv_free(notes);
        jv_free(view);
        return ar_fail(AR_EFAIL, "index line: no notes");
    }
    /* the card back from its view: the status as it was (normalised, which
     * is all a view looks at) */
    jv card = jv_copy(view);
    ar_jv_set(&card, "status", ar_jv_get(view, "card_status"));
    card = jv_object_delete(card, jv_string("card_status"));
    card = jv_object_delete(card, jv_string("retracted"));
    card = jv_object_delete(card, jv_string("notes"));
    /* already there: a rebuild took the note in, and the fact the counts
     * miss is another one */
    const char *nid = ar_jv_str(note, "id");
    int there = 0;
    jv_array_foreach(notes, i, n) {
        const char *x = ar_jv_str(n, "id");
        there |= x && nid && strcmp(x, nid) == 0;
        jv_free(n);
    }
    if (there) {
        jv_free(card);
        jv_free(notes);
        jv_free(view);
        return ar_fail(AR_EFAIL, "index: note %s already there", nid);
    }
    notes = jv_array_append(notes, jv_copy(note));
    jv next = ar_card_view(card, notes);
    ar_json_dump_buf(out, next, AR_JSON_COMPACT);
    jv_free(next);
    jv_free(card);
    jv_free(notes);
    jv_free(view);
    return 0;
}

/* Rewrites the one line of the note's card, when the index was fresh
 * before the note and the note sorts after the card's other notes. */
static int patch_note(const struct ar_kb *kb, jv note, struct state *st)
{
    char path[PATH_MAX], *text;
    size_t len, start, end;
    const char *card = ar_jv_str(note, "card");
    if (!card || ar_read_file(ar_kb_path(kb, INDEX_FILE, path), (size_t)1 << 40, &text, &len) != 0)
        return -1;
    int rc = -1;
    if (ar_index_find_line(text, len, card, &start, &end) == 0 && end < len) {
        struct ar_buf b = {0};
        ar_buf_add(&b, text, start);
        rc = view_plus_note(text + start, end - start, note, &b);
        ar_buf_add(&b, text + end, len - end);
        if (rc == 0)
            rc = ar_write_atomic(path, b.data, b.len);
        if (rc == 0)
            rc = journal_change(kb, st, card);
        if (rc == 0) {
            st->notes++;
            st->bytes = (long long)b.len;
            rc = write_state(kb, st);
        }
        ar_buf_free(&b);
    }
    free(text);
    return rc;
}

int ar_index_add_note(const struct ar_kb *kb, jv note)
{
    int fd = lock_index(kb);
    if (fd < 0)
        return -1;
    struct state st;
    int rc = 0;
    if (read_state(kb, &st) != 0) {
        rc = rebuild_locked(kb);
    } else {
        long cards = count_facts(kb->cards), notes = count_facts(kb->notes);
        int sizes_ok = st.cards == cards && st.bytes == index_size(kb);
        if (sizes_ok && st.notes == notes)
            rc = 0;   /* a rebuild since the note landed already holds it */
        else if (!(sizes_ok && st.notes == notes - 1 && last_note_is(kb, note) && patch_note(kb, note, &st) == 0))
            rc = rebuild_locked(kb);
    }
    ar_unlock(fd);
    return rc;
}

int ar_index_check(const struct ar_kb *kb)
{
    struct ar_buf b = {0};
    struct state st;
    char path[PATH_MAX], *text = NULL;
    size_t len = 0;
    if (render(kb, &b, &st) != 0)
        return -1;
    ar_kb_path(kb, INDEX_FILE, path);
    int rc = 0;
    if (access(path, F_OK) != 0) {
        rc = ar_fail(AR_EFAIL, "%s: missing", path);
    } else if (ar_read_file(path, (size_t)1 << 40, &text, &len) != 0) {
        rc = -1;
    } else if (len != b.len || memcmp(text, b.data, len) != 0) {
        long lines = 0;
        for (size_t i = 0; i < len; i++)
            lines += text[i] == '\n';
        rc = ar_fail(AR_EFAIL, "%s: disagrees with the facts (%ld lines, %ld cards)", path, lines,
                     st.cards);
    }
    free(text);
    ar_buf_free(&b);
    return rc;
}

int ar_index_read(const struct ar_kb *kb, char **text, size_t *len)
{
    if (ar_index_ensure(kb) != 0)
        return -1;
    char path[PATH_MAX];
    if (ar_read_file(ar_kb_path(kb, INDEX_FILE, path), (size_t)1 << 40, text, len) != 0)
        return -1;
    /* an append may be under way: keep complete lines only */
    while (*len > 0 && (*text)[*len - 1] != '\n')
        (*len)--;
    (*text)[*len] = '\0';
    return 0;
}

int ar_index_foreach(const struct ar_kb *kb, ar_index_fn fn, void *ctx)
{
    char *text;
    size_t len;
    if (ar_index_read(kb, &text, &len) != 0)
        return -1;
    int rc = 0;
    for (char *p = text, *end = text + len; p < end && rc == 0;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        *nl = '\0';
        rc = fn(p, (size_t)(nl - p), ctx);
        p = nl + 1;
    }
    free(text);
    return rc;
}

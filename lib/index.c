#include "index.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "buf.h"
#include "card.h"
#include "err.h"
#include "id.h"
#include "json.h"
#include "lock.h"
#include "note.h"

#define INDEX_FILE "index.jsonl"
#define STATE_FILE "index.state"
#define LOCK_FILE "index.lock"
#define STATE_SCHEMA "ar.index/1"

struct state {
    long cards, notes;
    long long bytes;
    char last[AR_ID_LEN + 1];
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
    const char *last = ar_jv_str(v, "last");
    rc = schema && strcmp(schema, STATE_SCHEMA) == 0 ? 0 : -1;
    st->cards = (long)ar_jv_num(v, "cards", -1);
    st->notes = (long)ar_jv_num(v, "notes", -1);
    st->bytes = (long long)ar_jv_num(v, "bytes", -1);
    snprintf(st->last, sizeof st->last, "%s", last ? last : "");
    jv_free(v);
    return rc;
}

static int write_state(const struct ar_kb *kb, const struct state *st)
{
    char path[PATH_MAX], text[256];
    int n = snprintf(text, sizeof text,
                     "{\"bytes\":%lld,\"cards\":%ld,\"last\":\"%s\",\"notes\":%ld,\"schema\":\"%s\"}\n",
                     st->bytes, st->cards, st->last, st->notes, STATE_SCHEMA);
    return ar_write_atomic(ar_kb_path(kb, STATE_FILE, path), text, (size_t)n);
}

static long long index_size(const struct ar_kb *kb)
{
    char path[PATH_MAX];
    struct stat s;
    return stat(ar_kb_path(kb, INDEX_FILE, path), &s) == 0 ? (long long)s.st_size : -1;
}

/* 1 when the index matches the facts on disk now. */
static int is_fresh(const struct ar_kb *kb, const struct state *st)
{
    return st->cards == count_facts(kb->cards) && st->notes == count_facts(kb->notes) &&
           st->bytes == index_size(kb);
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
    /* notes grouped by card; note ids are sorted, so each array is in id order */
    jv by_card = jv_object();
    char path[PATH_MAX];
    for (size_t i = 0; i < nnotes; i++) {
        jv note;
        if (ar_note_read_file(ar_kb_note_path(kb, notes[i], path), &note) != 0) {
            ar_warn("index: skipping note: %s", ar_last_error());
            continue;
        }
        jv key = jv_string(ar_jv_str(note, "card"));
        jv list = jv_object_get(jv_copy(by_card), jv_copy(key));
        if (!jv_is_valid(list))
            list = jv_array();
        by_card = jv_object_set(by_card, key, jv_array_append(list, note));
    }
    memset(st, 0, sizeof *st);
    ar_buf_puts(b, "");
    for (size_t i = 0; i < ncards; i++) {
        jv card;
        if (ar_card_read_file(ar_kb_card_path(kb, cards[i], path), &card, AR_CARD_STORED) != 0) {
            ar_warn("index: skipping card: %s", ar_last_error());
            continue;
        }
        if (strcmp(ar_jv_str(card, "id"), cards[i]) != 0) {
            ar_warn("index: skipping card: %s: file name does not match its id", path);
            jv_free(card);
            continue;
        }
        jv list = jv_object_get(jv_copy(by_card), jv_string(cards[i]));
        if (!jv_is_valid(list))
            list = jv_array();
        jv view = ar_card_view(card, list);
        ar_json_dump_buf(b, view, AR_JSON_COMPACT);
        ar_buf_putc(b, '\n');
        snprintf(st->last, sizeof st->last, "%s", cards[i]);
        jv_free(view);
        jv_free(list);
        jv_free(card);
    }
    jv_free(by_card);
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
    /* the index before the state: a crash between the two leaves a stale
     * state, so the next reader rebuilds */
    int rc = ar_write_atomic(ar_kb_path(kb, INDEX_FILE, path), b.data, b.len);
    ar_buf_free(&b);
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

int ar_index_ensure(const struct ar_kb *kb)
{
    struct state st;
    if (read_state(kb, &st) == 0 && is_fresh(kb, &st))
        return 0;
    int fd = lock_index(kb);
    if (fd < 0)
        return -1;
    int rc = 0;
    if (read_state(kb, &st) != 0 || !is_fresh(kb, &st))
        rc = rebuild_locked(kb);
    ar_unlock(fd);
    return rc;
}

static int append_line(const struct ar_kb *kb, jv card, struct state *st)
{
    struct ar_buf b = {0};
    jv notes = jv_array();
    jv view = ar_card_view(card, notes);
    ar_json_dump_buf(&b, view, AR_JSON_COMPACT);
    ar_buf_putc(&b, '\n');
    jv_free(view);
    jv_free(notes);
    char path[PATH_MAX];
    int fd = open(ar_kb_path(kb, INDEX_FILE, path), O_WRONLY | O_APPEND | O_CLOEXEC);
    int rc = -1;
    if (fd >= 0) {
        ssize_t w = write(fd, b.data, b.len);
        rc = (w == (ssize_t)b.len && fsync(fd) == 0) ? 0 : -1;
        close(fd);
    }
    if (rc == 0) {
        st->cards++;
        st->bytes += (long long)b.len;
        snprintf(st->last, sizeof st->last, "%s", ar_jv_str(card, "id"));
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
        else if (sizes_ok && st.cards == cards - 1 && id && strcmp(id, st.last) > 0)
            rc = append_line(kb, card, &st) == 0 ? 0 : rebuild_locked(kb);
        else
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

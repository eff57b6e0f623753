#include "facts/quarantine.h"

#include <dirent.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "facts/card.h"
#include "base/err.h"
#include "facts/id.h"
#include "base/json.h"
#include "facts/note.h"
#include "facts/patch.h"
#include "base/sha256.h"

#define NOTE_MAX (64 * 1024)

enum ar_fact_kind ar_fact_kind(const char *path, char id[30])
{
    static const struct {
        const char *dir, *ext;
        enum ar_fact_kind kind;
    } kinds[] = {
        {"cards/", ".json", AR_FACT_CARD},
        {"notes/", ".json", AR_FACT_NOTE},
        {"patches/", ".patch", AR_FACT_PATCH},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t dl = strlen(kinds[i].dir), el = strlen(kinds[i].ext);
        if (strncmp(path, kinds[i].dir, dl) != 0)
            continue;
        const char *name = path + dl;
        size_t nl = strlen(name);
        if (nl != AR_ID_LEN + el || strcmp(name + AR_ID_LEN, kinds[i].ext) != 0)
            return AR_FACT_NONE;
        char buf[AR_ID_LEN + 1];
        memcpy(buf, name, AR_ID_LEN);
        buf[AR_ID_LEN] = '\0';
        if (!ar_id_valid(buf))
            return AR_FACT_NONE;
        if (id)
            memcpy(id, buf, AR_ID_LEN + 1);
        return kinds[i].kind;
    }
    return AR_FACT_NONE;
}

/* Why a path is not a fact's path, for the report. */
static int bad_path(const char *path)
{
    if (strncmp(path, "cards/", 6) == 0 || strncmp(path, "notes/", 6) == 0)
        return ar_fail(AR_EINPUT, "file name is not <id>.json with a valid id");
    if (strncmp(path, "patches/", 8) == 0)
        return ar_fail(AR_EINPUT, "file name is not <card id>.patch with a valid id");
    return ar_fail(AR_EINPUT, "not inside cards/, notes/ or patches/");
}

static int check_json_fact(enum ar_fact_kind kind, const char *id, const char *data, size_t len)
{
    size_t max = kind == AR_FACT_CARD ? AR_CARD_MAX_BYTES + 4096 : NOTE_MAX;
    if (len > max)
        return ar_fail(AR_EINPUT, "larger than %zu bytes", max);
    jv v;
    if (ar_json_parse(data, len, "content", &v) != 0)
        return -1;
    int rc = kind == AR_FACT_CARD ? ar_card_validate(v, AR_CARD_STORED) : ar_note_validate(v, 1);
    if (rc == 0 && strcmp(ar_jv_str(v, "id"), id) != 0)
        rc = ar_fail(AR_EINPUT, "file name does not match id %s", ar_jv_str(v, "id"));
    jv_free(v);
    return rc;
}

int ar_fact_check(const char *path, unsigned mode, const char *data, size_t len, jv card_of_patch)
{
    char id[AR_ID_LEN + 1];
    enum ar_fact_kind kind = ar_fact_kind(path, id);
    if (kind == AR_FACT_NONE)
        return bad_path(path);
    if (mode == 0120000)
        return ar_fail(AR_EINPUT, "not a regular file (a symbolic link)");
    if (mode != AR_MODE_FILE)
        return ar_fail(AR_EINPUT, "not a regular file (mode %o)", mode);
    if (kind != AR_FACT_PATCH)
        return check_json_fact(kind, id, data, len);
    if (len > AR_PATCH_MAX)
        return ar_fail(AR_EINPUT, "larger than %d bytes", AR_PATCH_MAX);
    if (!jv_is_valid(card_of_patch))
        return ar_fail(AR_EINPUT, "no card %s for this patch", id);
    return ar_patch_verify(card_of_patch, data, len);
}

static void quarantine_key(const char *path, const char *data, size_t len, char key[25], char sha[65])
{
    struct ar_sha256 s;
    uint8_t d[32];
    ar_sha256_init(&s);
    ar_sha256_update(&s, path, strlen(path) + 1);
    ar_sha256_update(&s, data, len);
    ar_sha256_final(&s, d);
    ar_hex(d, 12, key);
    key[24] = '\0';
    ar_sha256_hex(data, len, sha);
}

static char measured[PATH_MAX];
static long long held;

/* Bytes held under quarantine/ now: measured once per process, then kept
 * up to date by the adds of this process (another process adding at the
 * same time can only make the cap a little loose, never unbounded). */
static long long held_bytes(const char *dir)
{
    if (strcmp(measured, dir) == 0)
        return held;
    held = 0;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            char f[PATH_MAX + 260];
            struct stat st;
            snprintf(f, sizeof f, "%s/%s", dir, e->d_name);
            if (e->d_name[0] != '.' && lstat(f, &st) == 0 && S_ISREG(st.st_mode))
                held += st.st_size;
        }
        closedir(d);
    }
    snprintf(measured, sizeof measured, "%s", dir);
    return held;
}


long long ar_quarantine_cap(void)
{
    const char *e = getenv("AR_QUARANTINE_MAX_BYTES");
    char *end;
    long long v = e && *e ? strtoll(e, &end, 10) : -1;
    return e && *e && *end == '\0' && v >= 0 ? v : AR_QUARANTINE_CAP;
}

int ar_quarantine_add(const struct ar_kb *kb, const char *path, const char *data, size_t len,
                      const char *reason, const char *origin)
{
    char dir[PATH_MAX], file[PATH_MAX + 40], key[25], sha[65];
    ar_kb_path(kb, "quarantine", dir);
    quarantine_key(path, data, len, key, sha);
    snprintf(file, sizeof file, "%s/%s.json", dir, key);
    if (access(file, F_OK) == 0)
        return 1;
    if (ar_mkdir(dir) != 0)
        return -1;
    long long cap = ar_quarantine_cap(), now_held = held_bytes(dir);
    size_t keep = len < AR_QUARANTINE_KEEP ? len : AR_QUARANTINE_KEEP;
    char now[AR_CREATED_LEN + 1];
    ar_now_iso(now);
    jv rec = jv_object();
    ar_jv_set(&rec, "path", jv_string(path));
    ar_jv_set(&rec, "reason", jv_string(reason));
    ar_jv_set(&rec, "origin", jv_string(origin));
    ar_jv_set(&rec, "bytes", jv_number((double)len));
    ar_jv_set(&rec, "sha256", jv_string(sha));
    ar_jv_set(&rec, "created", jv_string(now));
    struct ar_buf b = {0};
    ar_json_dump_buf(&b, rec, AR_JSON_PRETTY);
    if (now_held + (long long)(b.len + 64 + keep) > cap)
        keep = 0;   /* over the cap: the record says what came, not its bytes */
    if (now_held + (long long)(b.len + 64) > cap) {
        ar_buf_free(&b);
        jv_free(rec);
        return 2;   /* not even the record fits: reported, not kept */
    }
    ar_jv_set(&rec, "kept", jv_number((double)keep));
    b.len = 0;
    ar_json_dump_buf(&b, rec, AR_JSON_PRETTY);
    ar_buf_putc(&b, '\n');
    jv_free(rec);
    /* the data first: a record always has its bytes (or their prefix) beside it */
    char data_path[PATH_MAX + 40];
    snprintf(data_path, sizeof data_path, "%s/%s.data", dir, key);
    int rc = ar_write_atomic(data_path, data, keep);
    if (rc == 0)
        rc = ar_write_atomic(file, b.data, b.len);
    if (rc == 0)
        held += (long long)(keep + b.len);
    ar_buf_free(&b);
    return rc < 0 ? -1 : 0;
}

long ar_quarantine_count(const struct ar_kb *kb)
{
    char dir[PATH_MAX];
    DIR *d = opendir(ar_kb_path(kb, "quarantine", dir));
    if (!d)
        return 0;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        n += e->d_name[0] != '.' && len > 5 && strcmp(e->d_name + len - 5, ".json") == 0;
    }
    closedir(d);
    return n;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int ar_quarantine_foreach(const struct ar_kb *kb, ar_quarantine_fn fn, void *ctx)
{
    char dir[PATH_MAX];
    DIR *d = opendir(ar_kb_path(kb, "quarantine", dir));
    if (!d)
        return 0;
    char **keys = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        if (n == cap)
            keys = ar_xrealloc(keys, (cap = cap ? 2 * cap : 16) * sizeof *keys);
        keys[n] = ar_xstrdup(e->d_name);
        keys[n++][len - 5] = '\0';
    }
    closedir(d);
    qsort(keys, n, sizeof *keys, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX + 300];
        char *text = NULL, *data = NULL;
        size_t tlen = 0, dlen = 0;
        jv rec = jv_invalid();
        snprintf(path, sizeof path, "%s/%s.json", dir, keys[i]);
        if (rc == 0 && ar_read_file(path, 1 << 20, &text, &tlen) == 0 &&
            ar_json_parse(text, tlen, path, &rec) == 0 && jv_get_kind(rec) == JV_KIND_OBJECT) {
            snprintf(path, sizeof path, "%s/%s.data", dir, keys[i]);
            if (ar_read_file(path, AR_QUARANTINE_KEEP, &data, &dlen) != 0) {
                data = NULL;
                dlen = 0;
            }
            rc = fn(keys[i], rec, data ? data : "", dlen, ctx);
        }
        jv_free(rec);
        free(text);
        free(data);
        free(keys[i]);
    }
    free(keys);
    return rc;
}

int ar_quarantine_remove(const struct ar_kb *kb, const char *key)
{
    char dir[PATH_MAX], path[PATH_MAX + 300];
    ar_kb_path(kb, "quarantine", dir);
    snprintf(path, sizeof path, "%s/%s.json", dir, key);
    if (unlink(path) != 0)
        return ar_fail(AR_EFAIL, "%s: cannot remove", path);
    snprintf(path, sizeof path, "%s/%s.data", dir, key);
    unlink(path);
    measured[0] = '\0';   /* measure the folder again */
    return 0;
}

int ar_fact_canonical(const char *data, size_t len, char **out, size_t *olen)
{
    jv v;
    *out = NULL;
    *olen = 0;
    if (ar_json_parse(data, len, "content", &v) != 0)
        return -1;
    struct ar_buf b = {0};
    ar_json_dump_buf(&b, v, AR_JSON_PRETTY);
    ar_buf_putc(&b, '\n');
    jv_free(v);
    *olen = b.len;
    int differs = b.len != len || memcmp(b.data, data, len) != 0;
    *out = ar_buf_take(&b);
    return differs;
}

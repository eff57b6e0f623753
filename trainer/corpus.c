#include "corpus.h"

#include <errno.h>
#include <jv.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/sha256.h"

void corpus_init(struct corpus *c)
{
    memset(c, 0, sizeof *c);
}

void corpus_free(struct corpus *c)
{
    free(c->data);
    free(c->off);
    memset(c, 0, sizeof *c);
}

int corpus_add(struct corpus *c, const void *text, size_t len)
{
    if (len == 0)
        return 0;
    if (c->n + 2 > c->cap_off) {
        size_t nc = c->cap_off ? c->cap_off * 2 : 1024;
        size_t *off = realloc(c->off, nc * sizeof *off);
        if (!off)
            return ar_fail(AR_EFAIL, "corpus: out of memory");
        c->off = off;
        c->cap_off = nc;
        if (c->n == 0)
            c->off[0] = 0;
    }
    if (c->len + len > c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 1 << 20;
        while (nc < c->len + len)
            nc *= 2;
        char *d = realloc(c->data, nc);
        if (!d)
            return ar_fail(AR_EFAIL, "corpus: out of memory");
        c->data = d;
        c->cap = nc;
    }
    memcpy(c->data + c->len, text, len);
    c->len += len;
    c->off[++c->n] = c->len;
    return 0;
}

int corpus_slurp(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ar_fail(errno == ENOENT || errno == EISDIR ? AR_EINPUT : AR_EFAIL, "%s: %s",
                       path, strerror(errno));
    char *b = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 1 >= cap) {
            cap = cap ? cap * 2 : 1 << 16;
            char *nb = realloc(b, cap);
            if (!nb) {
                free(b);
                fclose(f);
                return ar_fail(AR_EFAIL, "%s: out of memory", path);
            }
            b = nb;
        }
        size_t got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        return ar_fail(AR_EFAIL, "%s: read error", path);
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* readers */

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\f' && s[i] != '\v')
            return 0;
    return 1;
}

/* Line i of buf: [*start, *end) without its newline or a final '\r'. */
static size_t next_line(const char *buf, size_t len, size_t at, size_t *end)
{
    const char *nl = memchr(buf + at, '\n', len - at);
    size_t e = nl ? (size_t)(nl - buf) : len;
    *end = e > at && buf[e - 1] == '\r' ? e - 1 : e;
    return nl ? e + 1 : len;
}

static int read_txt(struct corpus *c, const char *buf, size_t len)
{
    int paragraphs = 0;
    for (size_t at = 0, end; at < len;) {
        size_t next = next_line(buf, len, at, &end);
        if (is_blank(buf + at, end - at))
            paragraphs = 1;
        at = next;
    }
    size_t para = SIZE_MAX, para_end = 0;
    for (size_t at = 0, end; at < len;) {
        size_t next = next_line(buf, len, at, &end);
        int blank = is_blank(buf + at, end - at);
        if (!paragraphs) {
            if (!blank && corpus_add(c, buf + at, end - at) < 0)
                return -1;
        } else if (blank) {
            if (para != SIZE_MAX && corpus_add(c, buf + para, para_end - para) < 0)
                return -1;
            para = SIZE_MAX;
        } else {
            if (para == SIZE_MAX)
                para = at;
            para_end = end;
        }
        at = next;
    }
    if (para != SIZE_MAX && corpus_add(c, buf + para, para_end - para) < 0)
        return -1;
    return 0;
}

/* A JSON string, or an object with a string "text" field, becomes one
 * document; where names it for the error. Consumes v. */
static int add_json_doc(struct corpus *c, jv v, const char *path, const char *what, size_t n)
{
    if (jv_get_kind(v) == JV_KIND_OBJECT)
        v = jv_object_get(v, jv_string("text"));
    if (jv_get_kind(v) != JV_KIND_STRING) {
        jv_free(v);
        return ar_fail(AR_EINPUT, "%s: %s %zu: not a string or an object with a string \"text\"",
                       path, what, n);
    }
    int rc = corpus_add(c, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)));
    jv_free(v);
    return rc;
}

static int parse_error(jv v, const char *path, const char *what, size_t n)
{
    jv msg = jv_invalid_get_msg(v);
    ar_fail(AR_EINPUT, "%s: %s %zu: invalid JSON (%s)", path, what, n,
            jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "empty");
    jv_free(msg);
    return -1;
}

static int read_jsonl(struct corpus *c, const char *path, const char *buf, size_t len)
{
    size_t line = 0;
    for (size_t at = 0, end; at < len;) {
        size_t next = next_line(buf, len, at, &end);
        line++;
        if (!is_blank(buf + at, end - at)) {
            if (end - at > INT_MAX)
                return ar_fail(AR_EINPUT, "%s: line %zu: too long", path, line);
            jv v = jv_parse_sized(buf + at, (int)(end - at));
            if (!jv_is_valid(v))
                return parse_error(v, path, "line", line);
            if (add_json_doc(c, v, path, "line", line) < 0)
                return -1;
        }
        at = next;
    }
    return 0;
}

static int read_json(struct corpus *c, const char *path, const char *buf, size_t len)
{
    if (len > INT_MAX)
        return ar_fail(AR_EINPUT, "%s: too large for a JSON file (use .jsonl)", path);
    jv v = jv_parse_sized(buf, (int)len);
    if (!jv_is_valid(v)) {
        jv msg = jv_invalid_get_msg(v);
        ar_fail(AR_EINPUT, "%s: invalid JSON (%s)", path,
                jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "empty");
        jv_free(msg);
        return -1;
    }
    if (jv_get_kind(v) != JV_KIND_ARRAY) {
        jv_free(v);
        return ar_fail(AR_EINPUT, "%s: not a JSON array of strings", path);
    }
    int n = jv_array_length(jv_copy(v));
    for (int i = 0; i < n; i++)
        if (add_json_doc(c, jv_array_get(jv_copy(v), i), path, "element", (size_t)i) < 0) {
            jv_free(v);
            return -1;
        }
    jv_free(v);
    return 0;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int corpus_read_file(struct corpus *c, const char *path)
{
    int kind = has_suffix(path, ".txt") ? 't' : has_suffix(path, ".jsonl") ? 'l'
             : has_suffix(path, ".json") ? 'j' : 0;
    if (!kind)
        return ar_fail(AR_EINPUT, "%s: unknown input type (want .txt, .jsonl or .json)", path);
    char *buf;
    size_t len;
    if (corpus_slurp(path, &buf, &len) < 0)
        return -1;
    int rc = kind == 't' ? read_txt(c, buf, len)
           : kind == 'l' ? read_jsonl(c, path, buf, len) : read_json(c, path, buf, len);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* split */

static uint64_t doc_hash(const struct corpus *c, size_t i)
{
    uint8_t d[32];
    ar_sha256(c->data + c->off[i], corpus_doc_len(c, i), d);
    uint64_t h = 0;
    for (int k = 0; k < 8; k++)
        h = h << 8 | d[k];
    return h;
}

int corpus_split(const struct corpus *all, double val_frac, struct corpus *train,
                 struct corpus *val)
{
    corpus_init(train);
    corpus_init(val);
    if (all->n < 2)
        return ar_fail(AR_EINPUT, "corpus has %zu document%s; need at least 2 (one for "
                       "validation)", all->n, all->n == 1 ? "" : "s");
    /* val_frac of 2^64, computed without overflow at 1.0 */
    uint64_t cut = val_frac >= 1.0 ? UINT64_MAX : (uint64_t)(val_frac * 18446744073709551616.0);
    size_t smallest = 0, n_val = 0;
    uint64_t min_h = UINT64_MAX;
    char *in_val = calloc(all->n, 1);
    if (!in_val)
        return ar_fail(AR_EFAIL, "corpus: out of memory");
    for (size_t i = 0; i < all->n; i++) {
        uint64_t h = doc_hash(all, i);
        if (h < cut) {
            in_val[i] = 1;
            n_val++;
        }
        if (h < min_h) {
            min_h = h;
            smallest = i;
        }
    }
    if (n_val == 0)
        in_val[smallest] = 1, n_val = 1;
    int rc = 0;
    if (n_val == all->n)
        rc = ar_fail(AR_EINPUT, "validation split takes every document; lower --val-frac");
    for (size_t i = 0; i < all->n && rc == 0; i++)
        rc = corpus_add(in_val[i] ? val : train, all->data + all->off[i], corpus_doc_len(all, i));
    free(in_val);
    if (rc < 0) {
        corpus_free(train);
        corpus_free(val);
    }
    return rc;
}

void corpus_digest_hex(const struct corpus *c, char hex[65])
{
    struct ar_sha256 s;
    uint8_t d[32];
    ar_sha256_init(&s);
    for (size_t i = 0; i < c->n; i++) {
        uint64_t n = corpus_doc_len(c, i);
        uint8_t le[8];
        for (int k = 0; k < 8; k++)
            le[k] = (uint8_t)(n >> (8 * k));
        ar_sha256_update(&s, le, 8);
        ar_sha256_update(&s, c->data + c->off[i], n);
    }
    ar_sha256_final(&s, d);
    ar_hex(d, 32, hex);
}

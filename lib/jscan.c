#include "jscan.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
        p++;
    return p;
}

/* p is at the opening quote; returns the position after the closing one,
 * or end when there is none. */
static const char *skip_string(const char *p, const char *end)
{
    /* most strings are short keys and values: a plain loop beats memchr */
    const char *stop = end - p > 24 ? p + 24 : end;
    for (p++; p < stop; p++) {
        if (*p == '"')
            return p + 1;
        if (*p == '\\')
            break;
    }
    for (; p < end;) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (!q)
            return end;
        size_t slashes = 0;
        while (q - slashes > p && q[-1 - (long)slashes] == '\\')
            slashes++;
        if (slashes % 2 == 0)
            return q + 1;
        p = q + 1;
    }
    return end;
}

static const char *skip_value(const char *p, const char *end)
{
    if (p >= end)
        return end;
    if (*p == '"')
        return skip_string(p, end);
    if (*p == '{' || *p == '[') {
        /* only quotes and brackets matter inside: skip the rest by table */
        static const unsigned char special[256] = {
            ['"'] = 1, ['{'] = 2, ['['] = 2, ['}'] = 3, [']'] = 3,
        };
        int depth = 0;
        while (p < end) {
            unsigned char k = special[(unsigned char)*p];
            if (k == 0) {
                p++;
            } else if (k == 1) {
                p = skip_string(p, end);
            } else {
                p++;
                if (k == 2)
                    depth++;
                else if (--depth == 0)
                    return p;
            }
        }
        return end;
    }
    while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' &&
           *p != '\t' && *p != '\r')
        p++;
    return p;
}

struct ar_jiter ar_jscan_iter(struct ar_jspan span)
{
    struct ar_jiter it = {span.p, span.p};
    const char *end = span.p + span.len;
    const char *p = skip_ws(span.p, end);
    if (p < end && (*p == '{' || *p == '[')) {
        it.p = p + 1;
        it.end = end;
    }
    return it;
}

/* Moves past a separating comma; 0 at the container's end. */
static int next_item(struct ar_jiter *it)
{
    const char *p = skip_ws(it->p, it->end);
    if (p < it->end && *p == ',')
        p = skip_ws(p + 1, it->end);
    it->p = p;
    if (p >= it->end || *p == '}' || *p == ']') {
        it->p = it->end;
        return 0;
    }
    return 1;
}

int ar_jscan_member(struct ar_jiter *it, struct ar_jspan *key, struct ar_jspan *val)
{
    if (!next_item(it) || *it->p != '"') {
        it->p = it->end;
        return 0;
    }
    const char *k = it->p, *kend = skip_string(k, it->end);
    const char *p = skip_ws(kend, it->end);
    if (kend >= it->end || p >= it->end || *p != ':') {
        it->p = it->end;
        return 0;
    }
    p = skip_ws(p + 1, it->end);
    const char *vend = skip_value(p, it->end);
    if (p >= it->end) {
        it->p = it->end;
        return 0;
    }
    key->p = k + 1;
    key->len = (size_t)(kend - k - 2);
    val->p = p;
    val->len = (size_t)(vend - p);
    it->p = vend;
    return 1;
}

int ar_jscan_element(struct ar_jiter *it, struct ar_jspan *val)
{
    if (!next_item(it))
        return 0;
    const char *vend = skip_value(it->p, it->end);
    val->p = it->p;
    val->len = (size_t)(vend - it->p);
    it->p = vend;
    return 1;
}

int ar_jscan_key_is(struct ar_jspan key, const char *s)
{
    size_t n = strlen(s);
    return key.len == n && memcmp(key.p, s, n) == 0;
}

int ar_jscan_get(struct ar_jspan obj, const char *key, struct ar_jspan *val)
{
    struct ar_jiter it = ar_jscan_iter(obj);
    struct ar_jspan k, v;
    while (ar_jscan_member(&it, &k, &v))
        if (ar_jscan_key_is(k, key)) {
            *val = v;
            return 1;
        }
    return 0;
}

int ar_jscan_num(struct ar_jspan v, double *out)
{
    char tmp[64];
    if (v.len == 0 || v.len >= sizeof tmp || !(v.p[0] == '-' || (v.p[0] >= '0' && v.p[0] <= '9')))
        return 0;
    memcpy(tmp, v.p, v.len);
    tmp[v.len] = '\0';
    char *e;
    double d = strtod(tmp, &e);
    if (*e != '\0')
        return 0;
    *out = d;
    return 1;
}

int ar_jscan_true(struct ar_jspan v)
{
    return v.len == 4 && memcmp(v.p, "true", 4) == 0;
}

int ar_jscan_is_null(struct ar_jspan v)
{
    return v.len == 4 && memcmp(v.p, "null", 4) == 0;
}

int ar_jscan_is_string(struct ar_jspan v)
{
    return v.len >= 2 && v.p[0] == '"' && v.p[v.len - 1] == '"';
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return 0;
    }
    *out = v;
    return 1;
}

static void put_utf8(struct ar_buf *b, unsigned cp)
{
    char u[4];
    if (cp < 0x80) {
        ar_buf_putc(b, (char)cp);
        return;
    }
    if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        ar_buf_add(b, u, 2);
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        ar_buf_add(b, u, 3);
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        ar_buf_add(b, u, 4);
    }
}

static void unescape(struct ar_jspan v, struct ar_buf *b)
{
    const char *p = v.p + 1, *end = v.p + v.len - 1;
    ar_buf_puts(b, "");
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        if (!bs) {
            ar_buf_add(b, p, (size_t)(end - p));
            return;
        }
        ar_buf_add(b, p, (size_t)(bs - p));
        if (bs + 1 >= end)
            return;
        char c = bs[1];
        p = bs + 2;
        switch (c) {
        case 'n': ar_buf_putc(b, '\n'); break;
        case 't': ar_buf_putc(b, '\t'); break;
        case 'r': ar_buf_putc(b, '\r'); break;
        case 'b': ar_buf_putc(b, '\b'); break;
        case 'f': ar_buf_putc(b, '\f'); break;
        case 'u': {
            unsigned cp, lo;
            if (end - p < 4 || !hex4(p, &cp))
                return;
            p += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                hex4(p + 2, &lo) && lo >= 0xdc00 && lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            }
            put_utf8(b, cp);
            break;
        }
        default: ar_buf_putc(b, c); break;   /* \" \\ \/ */
        }
    }
}

char *ar_jscan_strdup(struct ar_jspan v)
{
    if (!ar_jscan_is_string(v))
        return NULL;
    struct ar_buf b = {0};
    unescape(v, &b);
    return ar_buf_take(&b);
}

int ar_jscan_str(struct ar_jspan v, char *out, size_t cap)
{
    if (cap == 0 || !ar_jscan_is_string(v))
        return 0;
    /* the common case: no escapes, copied straight */
    if (!memchr(v.p + 1, '\\', v.len - 2)) {
        size_t n = v.len - 2;
        if (n >= cap) {
            n = cap - 1;
            while (n > 0 && ((unsigned char)v.p[1 + n] & 0xc0) == 0x80)
                n--;
        }
        memcpy(out, v.p + 1, n);
        out[n] = '\0';
        return 1;
    }
    struct ar_buf b = {0};
    unescape(v, &b);
    size_t n = b.len;
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)b.data[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(out, b.data, n);
    out[n] = '\0';
    ar_buf_free(&b);
    return 1;
}

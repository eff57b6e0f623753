#include "base/json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/sha256.h"

int ar_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + len;
    while (s < end) {
        unsigned c = *s;
        if (c < 0x80) { s++; continue; }
        int n;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
        else return 0;
        if (end - s <= n)
            return 0;
        for (int i = 1; i <= n; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        s += n + 1;
    }
    return 1;
}

/* 1 when every number in v is finite (no path kept: the common case);
 * adds the number of object members in v to *members. */
static int all_finite_fast(jv v, long *members)
{
    switch (jv_get_kind(v)) {
    case JV_KIND_NUMBER:
        return isfinite(jv_number_value(v));
    case JV_KIND_ARRAY: {
        int ok = 1;
        jv_array_foreach(v, i, e) {
            ok = all_finite_fast(e, members) && ok;
            jv_free(e);
        }
        return ok;
    }
    case JV_KIND_OBJECT: {
        int ok = 1;
        jv_object_foreach(v, k, e) {
            ok = all_finite_fast(e, members) && ok;
            ++*members;
            jv_free(k);
            jv_free(e);
        }
        return ok;
    }
    default:
        return 1;
    }
}

/* Finds the first non-finite number; writes its path into path. */
static int all_finite(jv v, struct ar_buf *path)
{
    switch (jv_get_kind(v)) {
    case JV_KIND_NUMBER:
        return isfinite(jv_number_value(v));
    case JV_KIND_ARRAY: {
        int n = jv_array_length(jv_copy(v));
        for (int i = 0; i < n; i++) {
            jv e = jv_array_get(jv_copy(v), i);
            size_t mark = path->len;
            ar_buf_printf(path, "[%d]", i);
            int ok = all_finite(e, path);
            jv_free(e);
            if (!ok)
                return 0;
            path->len = mark;
            path->data[mark] = '\0';
        }
        return 1;
    }
    case JV_KIND_OBJECT: {
        int ok = 1;
        jv_object_foreach(v, k, e) {
            if (ok) {
                size_t mark = path->len;
                ar_buf_printf(path, "%s%s", path->len ? "." : "", jv_string_value(k));
                ok = all_finite(e, path);
                if (ok) {
                    path->len = mark;
                    path->data[mark] = '\0';
                }
            }
            jv_free(k);
            jv_free(e);
        }
        return ok;
    }
    default:
        return 1;
    }
}

/* The object members written in valid JSON text: its colons outside
 * strings. More than the parsed value holds means a key was repeated (the
 * parser keeps the last one silently). */
static long text_members(const char *s, size_t len)
{
    long n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ':')
            n++;
        else if (s[i] == '"')
            for (i++; i < len && s[i] != '"'; i++)
                if (s[i] == '\\')
                    i++;
    }
    return n;
}

/* Names the first repeated key of valid JSON text in *key (its raw text,
 * at most keylen - 1 bytes); the path of the object holding it in path.
 * Only called once a repeat is known to exist. */
struct key_seen {
    const char *s;
    size_t n;
};
static void find_repeat(const char *s, size_t len, char *key, size_t keylen)
{
    enum { DEPTH = 64, KEYS = 4096 };
    size_t base[DEPTH], nseen = 0;
    int depth = -1, in_obj[DEPTH];
    snprintf(key, keylen, "(a key written twice)");
    struct key_seen *seen = malloc(KEYS * sizeof *seen);
    if (!seen)
        return;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '{' || c == '[') {
            if (++depth >= DEPTH)
                break;
            in_obj[depth] = c == '{';
            base[depth] = nseen;
        } else if (c == '}' || c == ']') {
            if (depth >= 0)
                nseen = base[depth--];
        } else if (c == '"') {
            size_t start = ++i;
            for (; i < len && s[i] != '"'; i++)
                if (s[i] == '\\')
                    i++;
            size_t j = i + 1;
            while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r'))
                j++;
            if (depth < 0 || !in_obj[depth] || j >= len || s[j] != ':')
                continue;
            size_t n = i - start;
            for (size_t k = base[depth]; k < nseen; k++)
                if (seen[k].n == n && memcmp(seen[k].s, s + start, n) == 0) {
                    snprintf(key, keylen, "%.*s", (int)(n < keylen ? n : keylen - 1), s + start);
                    free(seen);
                    return;
                }
            if (nseen < KEYS)
                seen[nseen++] = (struct key_seen){s + start, n};
        }
    }
    free(seen);
}

int ar_json_parse(const char *buf, size_t len, const char *what, jv *out)
{
    *out = jv_invalid();
    if (!ar_utf8_valid(buf, len))
        return ar_fail(AR_EINPUT, "%s: invalid UTF-8", what);
    jv v = jv_parse_sized(buf, (int)len);
    if (!jv_is_valid(v)) {
        jv msg = jv_invalid_get_msg(v);
        char text[256] = "malformed JSON";
        if (jv_get_kind(msg) == JV_KIND_STRING) {
            snprintf(text, sizeof text, "%s", jv_string_value(msg));
            char *cut = strstr(text, " (while parsing");
            if (cut)
                *cut = '\0';
        }
        jv_free(msg);
        return ar_fail(AR_EINPUT, "%s: malformed JSON: %s", what, text);
    }
    long members = 0;
    int finite = all_finite_fast(v, &members);
    if (text_members(buf, len) != members) {
        char key[128];
        find_repeat(buf, len, key, sizeof key);
        jv_free(v);
        return ar_fail(AR_EINPUT, "%s: duplicate key '%s'", what, key);
    }
    if (finite) {
        *out = v;
        return 0;
    }
    struct ar_buf path = {0};
    ar_buf_puts(&path, "");
    if (!all_finite(v, &path)) {
        ar_fail(AR_EINPUT, "%s: field '%s': NaN or Infinity is not allowed", what,
                path.len ? path.data : "(top)");
        ar_buf_free(&path);
        jv_free(v);
        return -1;
    }
    ar_buf_free(&path);
    *out = v;
    return 0;
}

/* Writes |m| (< 1e16) in decimal, k digits after the point, into s. */
static int put_decimal(char *s, double d, uint64_t m, int k)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + m % 10);
        m /= 10;
    } while (m);
    while (n <= k)   /* a leading zero before the point */
        digits[n++] = '0';
    int o = 0;
    if (d < 0)
        s[o++] = '-';
    for (int i = n - 1; i >= 0; i--) {
        s[o++] = digits[i];
        if (i == k && k > 0)
            s[o++] = '.';
    }
    s[o] = '\0';
    return o;
}

/* The fast path of dump_number: d as an integer or a decimal with at most
 * 15 significant digits that reads back to d exactly, which is what
 * "%.15g" prints for such numbers in [1e-3, 1e14). Returns 0 when d is not
 * of that kind and the slow path must decide. */
static int short_decimal(char *s, double d)
{
    static const double pow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
                                   1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    double a = fabs(d);
    if (a == floor(a) && a < 1e15)
        return put_decimal(s, d, (uint64_t)a, 0);
    if (!(a >= 1e-3 && a < 1e14))
        return 0;
    for (int k = 1; k <= 15; k++) {
        double m = nearbyint(a * pow10[k]);
        if (m >= 1e15)
            return 0;
        /* m / 10^k is correctly rounded, as strtod of the decimal is */
        if (m / pow10[k] == a)
            return put_decimal(s, d, (uint64_t)m, k);
    }
    return 0;
}

static void dump_number(struct ar_buf *b, double d)
{
    char s[40];
    if (d == 0) {
        ar_buf_putc(b, '0');
        return;
    }
    if (short_decimal(s, d)) {
        ar_buf_puts(b, s);
        return;
    }
    if (d == floor(d) && fabs(d) < 1e15) {
        snprintf(s, sizeof s, "%.0f", d);
    } else {
        /* the shortest of 15, 16, 17 significant digits that reads back */
        for (int p = 15; p <= 17; p++) {
            snprintf(s, sizeof s, "%.*g", p, d);
            if (strtod(s, NULL) == d)
                break;
        }
    }
    ar_buf_puts(b, s);
}

static void dump_string(struct ar_buf *b, const char *s, int len)
{
    ar_buf_putc(b, '"');
    int start = 0;
    for (int i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        ar_buf_add(b, s + start, (size_t)(i - start));
        start = i + 1;
        switch (c) {
        case '"': ar_buf_puts(b, "\\\""); break;
        case '\\': ar_buf_puts(b, "\\\\"); break;
        case '\n': ar_buf_puts(b, "\\n"); break;
        case '\t': ar_buf_puts(b, "\\t"); break;
        case '\r': ar_buf_puts(b, "\\r"); break;
        case '\b': ar_buf_puts(b, "\\b"); break;
        case '\f': ar_buf_puts(b, "\\f"); break;
        default: ar_buf_printf(b, "\\u%04x", c);
        }
    }
    ar_buf_add(b, s + start, (size_t)(len - start));
    ar_buf_putc(b, '"');
}

static void indent(struct ar_buf *b, int flags, int depth)
{
    if (!(flags & AR_JSON_PRETTY))
        return;
    ar_buf_putc(b, '\n');
    for (int i = 0; i < depth; i++)
        ar_buf_puts(b, "  ");
}

static void dump(struct ar_buf *b, jv v, int flags, int depth)
{
    switch (jv_get_kind(v)) {
    case JV_KIND_NULL: ar_buf_puts(b, "null"); break;
    case JV_KIND_TRUE: ar_buf_puts(b, "true"); break;
    case JV_KIND_FALSE: ar_buf_puts(b, "false"); break;
    case JV_KIND_NUMBER: dump_number(b, jv_number_value(v)); break;
    case JV_KIND_STRING:
        dump_string(b, jv_string_value(v), jv_string_length_bytes(jv_copy(v)));
        break;
    case JV_KIND_ARRAY: {
        int n = jv_array_length(jv_copy(v));
        ar_buf_putc(b, '[');
        for (int i = 0; i < n; i++) {
            if (i)
                ar_buf_putc(b, ',');
            indent(b, flags, depth + 1);
            jv e = jv_array_get(jv_copy(v), i);
            dump(b, e, flags, depth + 1);
            jv_free(e);
        }
        if (n)
            indent(b, flags, depth);
        ar_buf_putc(b, ']');
        break;
    }
    case JV_KIND_OBJECT: {
        jv keys = jv_keys(jv_copy(v));   /* sorted */
        int n = jv_array_length(jv_copy(keys));
        ar_buf_putc(b, '{');
        for (int i = 0; i < n; i++) {
            jv k = jv_array_get(jv_copy(keys), i);
            if (i)
                ar_buf_putc(b, ',');
            indent(b, flags, depth + 1);
            dump_string(b, jv_string_value(k), jv_string_length_bytes(jv_copy(k)));
            ar_buf_puts(b, (flags & AR_JSON_PRETTY) ? ": " : ":");
            jv e = jv_object_get(jv_copy(v), k);
            dump(b, e, flags, depth + 1);
            jv_free(e);
        }
        jv_free(keys);
        if (n)
            indent(b, flags, depth);
        ar_buf_putc(b, '}');
        break;
    }
    default:
        ar_buf_puts(b, "null");
    }
}

void ar_json_dump_buf(struct ar_buf *b, jv v, int flags) { dump(b, v, flags, 0); }

char *ar_json_dump(jv v, int flags)
{
    struct ar_buf b = {0};
    dump(&b, v, flags, 0);
    return ar_buf_take(&b);
}

void ar_json_hash(jv v, char hex[65])
{
    struct ar_buf b = {0};
    dump(&b, v, AR_JSON_COMPACT, 0);
    ar_sha256_hex(b.data, b.len, hex);
    ar_buf_free(&b);
}

jv ar_jv_get(jv obj, const char *key)
{
    if (jv_get_kind(obj) != JV_KIND_OBJECT)
        return jv_invalid();
    jv v = jv_object_get(jv_copy(obj), jv_string(key));
    return v;
}

const char *ar_jv_str(jv obj, const char *key)
{
    jv v = ar_jv_get(obj, key);
    const char *s = NULL;
    if (jv_get_kind(v) == JV_KIND_STRING)
        s = jv_string_value(v);   /* still referenced by obj */
    jv_free(v);
    return s;
}

double ar_jv_num(jv obj, const char *key, double def)
{
    jv v = ar_jv_get(obj, key);
    double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : def;
    jv_free(v);
    return d;
}

int ar_jv_has(jv obj, const char *key)
{
    jv v = ar_jv_get(obj, key);
    int has = jv_is_valid(v);
    jv_free(v);
    return has;
}

void ar_jv_set(jv *obj, const char *key, jv val)
{
    *obj = jv_object_set(*obj, jv_string(key), val);
}

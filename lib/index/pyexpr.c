/* Constant Python expressions by recursive descent, one function per level
 * of Python's grammar (a tuple of sums of terms of unary powers of atoms).
 * Every function returns a jv and leaves p->bad set on the first error;
 * values are JSON (numbers are doubles, tuples and lists arrays). */
#include "index/pyexpr.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

struct pyp {
    const char *s, *end;
    int flags;
    int bad;
    int depth;
};

static void skip_space(struct pyp *p)
{
    while (p->s < p->end) {
        char c = *p->s;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
            p->s++;
        } else if (c == '\\' && p->s + 1 < p->end && (p->s[1] == '\n' || p->s[1] == '\r')) {
            p->s += 2;
        } else if (c == '#') {
            while (p->s < p->end && *p->s != '\n')
                p->s++;
        } else {
            break;
        }
    }
}

/* consumes the operator op when it comes next (and is not the start of a
 * longer one that `longer` names) */
static int eat(struct pyp *p, const char *op, const char *longer)
{
    skip_space(p);
    size_t n = strlen(op);
    if ((size_t)(p->end - p->s) < n || memcmp(p->s, op, n) != 0)
        return 0;
    if (longer && (size_t)(p->end - p->s) >= strlen(longer) && memcmp(p->s, longer, strlen(longer)) == 0)
        return 0;
    p->s += n;
    return 1;
}

static jv fail(struct pyp *p, jv v)
{
    jv_free(v);
    p->bad = 1;
    return jv_invalid();
}

static jv tuple(struct pyp *p, char close);

/* digits with single underscores between them, in base `base` */
static int digits(struct pyp *p, int base, struct ar_buf *b)
{
    int n = 0;
    while (p->s < p->end) {
        char c = *p->s;
        int ok = base == 16 ? isxdigit((unsigned char)c) : (c >= '0' && c < '0' + (base < 10 ? base : 10));
        if (ok) {
            ar_buf_putc(b, c);
            n++;
            p->s++;
        } else if (c == '_' && n > 0 && p->s + 1 < p->end && p->s[1] != '_') {
            p->s++;
        } else {
            break;
        }
    }
    return n;
}

static jv number(struct pyp *p)
{
    struct ar_buf b = {0};
    double v;
    if (p->s + 1 < p->end && p->s[0] == '0' && strchr("xXoObB", p->s[1])) {
        int base = strchr("xX", p->s[1]) ? 16 : strchr("oO", p->s[1]) ? 8 : 2;
        p->s += 2;
        if (digits(p, base, &b) == 0) {
            ar_buf_free(&b);
            return fail(p, jv_invalid());
        }
        v = (double)strtoull(b.data, NULL, base);
    } else {
        int n = digits(p, 10, &b);
        if (p->s < p->end && *p->s == '.') {
            ar_buf_putc(&b, '.');
            p->s++;
            n += digits(p, 10, &b);
        }
        if (n == 0) {
            ar_buf_free(&b);
            return fail(p, jv_invalid());
        }
        if (p->s < p->end && (*p->s == 'e' || *p->s == 'E')) {
            const char *save = p->s;
            ar_buf_putc(&b, 'e');
            p->s++;
            if (p->s < p->end && (*p->s == '+' || *p->s == '-'))
                ar_buf_putc(&b, *p->s++);
            if (digits(p, 10, &b) == 0)
                p->s = save;   /* "1e" is not a number: leave "e" to fail */
        }
        v = strtod(b.data, NULL);
    }
    ar_buf_free(&b);
    /* a number runs into no letter: "2x", "1e" and "5K" are not Python */
    if (p->s < p->end && (isalnum((unsigned char)*p->s) || *p->s == '_'))
        return fail(p, jv_invalid());
    if (!isfinite(v))
        return fail(p, jv_invalid());
    return jv_number(v);
}

static jv string(struct pyp *p)
{
    struct ar_buf b = {0};
    ar_buf_puts(&b, "");
    /* adjacent literals are one string: "a" 'b' */
    while (p->s < p->end && (*p->s == '"' || *p->s == '\'')) {
        char q = *p->s++;
        int closed = 0;
        while (p->s < p->end && *p->s != '\n') {
            char c = *p->s++;
            if (c == q) {
                closed = 1;
                break;
            }
            if (c == '\\' && p->s < p->end) {
                char e = *p->s++;
                c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == '0' ? '\0' : e;
                if (c == '\0') {   /* no NUL inside a C string */
                    ar_buf_free(&b);
                    return fail(p, jv_invalid());
                }
            }
            ar_buf_putc(&b, c);
        }
        if (!closed) {
            ar_buf_free(&b);
            return fail(p, jv_invalid());
        }
        skip_space(p);
    }
    jv v = jv_string_sized(b.data, (int)b.len);
    ar_buf_free(&b);
    if (!jv_is_valid(v))
        return fail(p, v);
    return v;
}

static int word_is(struct pyp *p, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(p->end - p->s) < n || memcmp(p->s, w, n) != 0)
        return 0;
    if (p->s + n < p->end && (isalnum((unsigned char)p->s[n]) || p->s[n] == '_'))
        return 0;
    p->s += n;
    return 1;
}

static jv atom(struct pyp *p)
{
    skip_space(p);
    if (p->s >= p->end || p->bad)
        return fail(p, jv_invalid());
    char c = *p->s;
    if (isdigit((unsigned char)c) || (c == '.' && p->s + 1 < p->end && isdigit((unsigned char)p->s[1])))
        return number(p);
    if (c == '"' || c == '\'')
        return string(p);
    if (c == '(' || c == '[') {
        if (++p->depth > 64)
            return fail(p, jv_invalid());
        p->s++;
        jv v = tuple(p, c == '(' ? ')' : ']');
        p->depth--;
        return v;
    }
    if (word_is(p, "True"))
        return jv_true();
    if (word_is(p, "False"))
        return jv_false();
    if (word_is(p, "None"))
        return jv_null();
    return fail(p, jv_invalid());
}

static int is_num(jv v)
{
    return jv_get_kind(v) == JV_KIND_NUMBER;
}

static jv unary(struct pyp *p);

static jv power(struct pyp *p)
{
    jv a = atom(p);
    if (p->bad)
        return a;
    int pow_op = eat(p, "**", NULL) || ((p->flags & AR_PYEXPR_CARET_POW) && eat(p, "^", NULL));
    if (!pow_op)
        return a;
    jv b = unary(p);
    if (p->bad || !is_num(a) || !is_num(b)) {
        jv_free(b);
        return fail(p, a);
    }
    double x = jv_number_value(a), y = jv_number_value(b), r = pow(x, y);
    if (!isfinite(r) || (x == 0 && y < 0))
        return fail(p, jv_invalid());
    return jv_number(r);
}

static jv unary(struct pyp *p)
{
    if (eat(p, "-", NULL)) {
        jv v = unary(p);
        if (p->bad || !is_num(v))
            return fail(p, v);
        return jv_number(-jv_number_value(v));
    }
    if (eat(p, "+", NULL)) {
        jv v = unary(p);
        if (p->bad || !is_num(v))
            return fail(p, v);
        return v;
    }
    return power(p);
}

static jv term(struct pyp *p)
{
    jv a = unary(p);
    while (!p->bad) {
        int op;
        if (eat(p, "//", NULL)) op = 'f';
        else if (eat(p, "*", "**")) op = '*';
        else if (eat(p, "/", NULL)) op = '/';
        else if (eat(p, "%", NULL)) op = '%';
        else break;
        jv b = unary(p);
        if (p->bad || !is_num(a) || !is_num(b)) {
            jv_free(b);
            return fail(p, a);
        }
        double x = jv_number_value(a), y = jv_number_value(b), r;
        if (op != '*' && y == 0)
            return fail(p, jv_invalid());
        if (op == '*') r = x * y;
        else if (op == '/') r = x / y;
        else if (op == 'f') r = floor(x / y);
        else r = x - y * floor(x / y);   /* Python's %: the sign of y */
        if (!isfinite(r))
            return fail(p, jv_invalid());
        a = jv_number(r);
    }
    return a;
}

static jv sum(struct pyp *p)
{
    jv a = term(p);
    while (!p->bad) {
        int op;
        if (eat(p, "+", NULL)) op = '+';
        else if (eat(p, "-", NULL)) op = '-';
        else break;
        jv b = term(p);
        if (p->bad) {
            jv_free(b);
            return fail(p, a);
        }
        if (op == '+' && jv_get_kind(a) == JV_KIND_STRING && jv_get_kind(b) == JV_KIND_STRING) {
            a = jv_string_concat(a, b);
            continue;
        }
        if (!is_num(a) || !is_num(b)) {
            jv_free(b);
            return fail(p, a);
        }
        double r = op == '+' ? jv_number_value(a) + jv_number_value(b)
                             : jv_number_value(a) - jv_number_value(b);
        if (!isfinite(r))
            return fail(p, jv_invalid());
        a = jv_number(r);
    }
    return a;
}

/* the items up to close ('\0': the end of the text); a bare item in
 * parentheses is that item, any comma makes a tuple */
static jv tuple(struct pyp *p, char close)
{
    jv items = jv_array();
    int commas = 0, n = 0;
    for (;;) {
        skip_space(p);
        if (close ? (p->s < p->end && *p->s == close) : p->s >= p->end)
            break;
        if (n > commas)   /* two items with no comma between */
            return fail(p, items);
        jv v = sum(p);
        if (p->bad)
            return fail(p, items);
        items = jv_array_append(items, v);
        n++;
        if (eat(p, ",", NULL))
            commas++;
        else if (close == '\0')
            break;
    }
    if (close) {
        if (p->s >= p->end)
            return fail(p, items);
        p->s++;
    }
    if (close != '[' && n == 1 && commas == 0) {
        jv v = jv_array_get(jv_copy(items), 0);
        jv_free(items);
        return v;
    }
    if (close == '(' || close == '[' || commas > 0)
        return items;
    return fail(p, items);   /* nothing at all */
}

jv ar_pyexpr_eval(const char *text, size_t len, int flags)
{
    struct pyp p = { text, text + len, flags, 0, 0 };
    jv v = tuple(&p, '\0');
    skip_space(&p);
    if (p.bad || p.s != p.end) {
        jv_free(v);
        return jv_invalid();
    }
    return v;
}

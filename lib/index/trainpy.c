/* train.py's top-level statements: constants, and what else changed.
 *
 * The source is cut into top-level statements by one scan that knows
 * strings (triple-quoted ones too), brackets, backslash continuations and
 * comments: a statement starts at a line that begins in column 0 outside
 * all of them, and owns the indented lines after it (a def's body).
 * Comments and blank lines are dropped from the statements' text, so a
 * comment edit changes nothing. */
#include "index/trainpy.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "index/pyexpr.h"
#include "index/vocab.h"
#include "index/vocab_table.h"

struct stmt {
    char *text;     /* comments and blank lines dropped, lines right-trimmed */
};

struct stmts {
    struct stmt *v;
    int n, cap;
};

static void stmts_free(struct stmts *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->v[i].text);
    free(s->v);
}

static void stmts_push(struct stmts *s, struct ar_buf *b)
{
    /* right-trim the whole text */
    while (b->len && isspace((unsigned char)b->data[b->len - 1]))
        b->data[--b->len] = '\0';
    if (!b->len) {
        ar_buf_free(b);
        return;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->v = ar_xrealloc(s->v, (size_t)s->cap * sizeof *s->v);
    }
    s->v[s->n++].text = ar_buf_take(b);
}

/* ------------------------------------------------------------------------ */
/* the scan */

struct scan {
    char quote;    /* inside a string: its quote character */
    int triple;    /* ... a triple-quoted one */
    int depth;     /* open brackets */
    int cont;      /* the last line ended in a backslash */
};

/* appends line [s, e) without its comment to b, updating the state */
static void scan_line(struct scan *st, const char *s, const char *e, struct ar_buf *b)
{
    size_t start = b->len;
    for (const char *p = s; p < e; p++) {
        char c = *p;
        if (st->quote) {
            ar_buf_putc(b, c);
            if (c == '\\' && p + 1 < e) {
                ar_buf_putc(b, *++p);
            } else if (c == st->quote) {
                if (!st->triple) {
                    st->quote = 0;
                } else if (p + 2 < e && p[1] == c && p[2] == c) {
                    ar_buf_putc(b, c);
                    ar_buf_putc(b, c);
                    p += 2;
                    st->quote = 0;
                    st->triple = 0;
                }
            }
            continue;
        }
        if (c == '#')
            break;
        if (c == '"' || c == '\'') {
            st->quote = c;
            st->triple = p + 2 < e && p[1] == c && p[2] == c;
            ar_buf_putc(b, c);
            if (st->triple) {
                ar_buf_putc(b, c);
                ar_buf_putc(b, c);
                p += 2;
            }
            continue;
        }
        if (c == '(' || c == '[' || c == '{')
            st->depth++;
        else if ((c == ')' || c == ']' || c == '}') && st->depth > 0)
            st->depth--;
        ar_buf_putc(b, c);
    }
    /* a single-quoted string does not run past its line */
    if (st->quote && !st->triple)
        st->quote = 0;
    while (b->len > start && isspace((unsigned char)b->data[b->len - 1]))
        b->data[--b->len] = '\0';
    st->cont = !st->quote && b->len > start && b->data[b->len - 1] == '\\';
    if (b->len == start) {
        if (st->quote)   /* an empty line inside a docstring stays */
            ar_buf_putc(b, '\n');
        return;
    }
    ar_buf_putc(b, '\n');
}

static void split(const char *src, struct stmts *out)
{
    struct scan st = {0};
    struct ar_buf cur = {0}, deco = {0};
    const char *s = src;
    while (*s) {
        const char *e = strchr(s, '\n');
        if (!e)
            e = s + strlen(s);
        int starts = !st.quote && st.depth == 0 && !st.cont && s < e &&
                     !isspace((unsigned char)*s) && *s != '#';
        if (starts) {
            if (cur.len) {
                /* decorators belong to the def or class that follows */
                if (cur.data[0] == '@')
                    ar_buf_add(&deco, cur.data, cur.len);
                else {
                    if (deco.len) {
                        ar_buf_add(&deco, cur.data, cur.len);
                        ar_buf_free(&cur);
                        cur = deco;
                        memset(&deco, 0, sizeof deco);
                    }
                    stmts_push(out, &cur);
                }
                ar_buf_free(&cur);
            }
        }
        scan_line(&st, s, e, &cur);
        s = *e ? e + 1 : e;
    }
    if (deco.len) {
        ar_buf_add(&deco, cur.data ? cur.data : "", cur.len);
        ar_buf_free(&cur);
        cur = deco;
    }
    stmts_push(out, &cur);
}

/* ------------------------------------------------------------------------ */
/* statements */

/* NAME = expr or NAME: annotation = expr: the name's length and where the
 * expression starts; 0 when the statement is no such assignment */
static size_t assignment(const char *t, const char **expr)
{
    const char *p = t;
    if (!isalpha((unsigned char)*p) && *p != '_')
        return 0;
    while (isalnum((unsigned char)*p) || *p == '_')
        p++;
    size_t n = (size_t)(p - t);
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == ':') {   /* an annotation, up to the '=' outside brackets */
        int depth = 0;
        for (p++; *p && !(depth == 0 && *p == '='); p++) {
            if (*p == '[' || *p == '(') depth++;
            else if (*p == ']' || *p == ')') depth--;
            else if (*p == '\n') return 0;
        }
    }
    if (*p != '=' || p[1] == '=')
        return 0;
    *expr = p + 1;
    return n;
}

static int keyword(const char *t, const char *kw)
{
    size_t n = strlen(kw);
    return strncmp(t, kw, n) == 0 && (t[n] == ' ' || t[n] == '\t' || t[n] == '(' || t[n] == ':');
}

/* the first line of a statement after its decorators */
static const char *head(const char *t)
{
    while (*t == '@') {
        const char *nl = strchr(t, '\n');
        if (!nl)
            break;
        t = nl + 1;
    }
    return t;
}

/* what a statement that is no constant is called: "def NAME", "class
 * NAME", "NAME = ..." for assignments, else its first line */
static char *label(const char *t)
{
    const char *h = head(t);
    struct ar_buf b = {0};
    const char *expr;
    size_t n;
    if (keyword(h, "def") || keyword(h, "class") || keyword(h, "async def")) {
        const char *p = h + (h[0] == 'c' ? 5 : h[0] == 'a' ? 9 : 3);
        while (*p == ' ')
            p++;
        const char *q = p;
        while (isalnum((unsigned char)*q) || *q == '_')
            q++;
        ar_buf_printf(&b, "%s %.*s", h[0] == 'c' ? "class" : "def", (int)(q - p), p);
    } else if ((n = assignment(h, &expr)) > 0) {
        ar_buf_printf(&b, "%.*s = ...", (int)n, h);
    } else {
        size_t len = strcspn(h, "\n");
        if (len > 100)
            len = 100;
        ar_buf_add(&b, h, len);
    }
    return ar_buf_take(&b);
}

/* the constant a statement assigns: its name into name (n bytes) and its
 * value; jv_invalid() when it assigns none */
static jv constant(const char *t, char *name, size_t size)
{
    const char *expr;
    size_t n = assignment(t, &expr);
    if (n == 0 || n >= size)
        return jv_invalid();
    memcpy(name, t, n);
    name[n] = '\0';
    return ar_pyexpr_eval(expr, strlen(expr), 0);
}

jv ar_trainpy_constants(const char *source)
{
    struct stmts st = {0};
    split(source ? source : "", &st);
    jv out = jv_object();
    for (int i = 0; i < st.n; i++) {
        char name[128];
        jv v = constant(st.v[i].text, name, sizeof name);
        if (jv_is_valid(v))
            out = jv_object_set(out, jv_string(name), v);
        else
            jv_free(v);
    }
    stmts_free(&st);
    return out;
}

/* ------------------------------------------------------------------------ */
/* changes */

/* the names a version assigns as code (DEPTH = int(os.environ[...])) */
static jv code_names(const struct stmts *st)
{
    jv names = jv_object();
    for (int i = 0; i < st->n; i++) {
        char name[128];
        jv v = constant(st->v[i].text, name, sizeof name);
        const char *expr;
        if (!jv_is_valid(v) && assignment(st->v[i].text, &expr) > 0)
            names = jv_object_set(names, jv_string(name), jv_true());
        jv_free(v);
    }
    return names;
}

static void lower(const char *s, char *out, size_t n)
{
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = '\0';
}

static jv change(const char *key, jv from, jv to)
{
    jv c = jv_object();
    c = jv_object_set(c, jv_string("key"), jv_string(key));
    if (jv_is_valid(from))
        c = jv_object_set(c, jv_string("from"), from);
    else
        jv_free(from);
    if (jv_is_valid(to))
        c = jv_object_set(c, jv_string("to"), to);
    else
        jv_free(to);
    return c;
}

static int pair(jv v)
{
    return jv_get_kind(v) == JV_KIND_ARRAY && jv_array_length(jv_copy(v)) == 2;
}

static jv constant_changes(jv old_c, jv new_c, jv old_code, jv new_code)
{
    /* every name of either version, sorted */
    jv names = jv_keys(jv_copy(old_c));
    jv new_names = jv_keys(jv_copy(new_c));
    jv_array_foreach(new_names, i, k) {
        (void)i;
        if (!ar_jv_has(old_c, jv_string_value(k)))
            names = jv_array_append(names, jv_copy(k));
        jv_free(k);
    }
    jv_free(new_names);
    names = jv_sort(names, jv_copy(names));
    jv changes = jv_array();
    jv_array_foreach(names, i, nm) {
        (void)i;
        const char *name = jv_string_value(nm);
        jv a = ar_jv_get(old_c, name), b = ar_jv_get(new_c, name);
        int same = jv_is_valid(a) && jv_is_valid(b) && jv_equal(jv_copy(a), jv_copy(b));
        /* a constant that became code (or code that became one) is code */
        int coded = (!jv_is_valid(a) && ar_jv_has(old_code, name)) ||
                    (!jv_is_valid(b) && ar_jv_has(new_code, name));
        if (same || coded) {
            jv_free(a);
            jv_free(b);
            jv_free(nm);
            continue;
        }
        const char *key = ar_vocab_key(name);
        char low[128];
        if (!key) {
            lower(name, low, sizeof low);
            key = low;
        }
        const char *const *parts = ar_vocab_pair_keys(key);
        if (parts && (!jv_is_valid(a) || pair(a)) && (!jv_is_valid(b) || pair(b))) {
            for (int k = 0; k < 2; k++) {
                jv x = jv_is_valid(a) ? jv_array_get(jv_copy(a), k) : jv_invalid();
                jv y = jv_is_valid(b) ? jv_array_get(jv_copy(b), k) : jv_invalid();
                if (jv_is_valid(x) && jv_is_valid(y) && jv_equal(jv_copy(x), jv_copy(y))) {
                    jv_free(x);
                    jv_free(y);
                    continue;
                }
                changes = jv_array_append(changes, change(parts[k], x, y));
            }
            jv_free(a);
            jv_free(b);
        } else {
            changes = jv_array_append(changes, change(key, a, b));
        }
        jv_free(nm);
    }
    jv_free(names);
    /* ordered by key */
    jv keys = jv_array();
    jv_array_foreach(changes, i, c) {
        (void)i;
        keys = jv_array_append(keys, ar_jv_get(c, "key"));
        jv_free(c);
    }
    return jv_sort(changes, keys);
}

/* the statements that are no constants, as (label, text) pairs */
static jv code_statements(const struct stmts *st)
{
    jv out = jv_array();
    for (int i = 0; i < st->n; i++) {
        char name[128];
        jv v = constant(st->v[i].text, name, sizeof name);
        if (jv_is_valid(v)) {
            jv_free(v);
            continue;
        }
        jv_free(v);
        char *l = label(st->v[i].text);
        jv e = jv_array();
        e = jv_array_append(e, jv_string(l));
        e = jv_array_append(e, jv_string(st->v[i].text));
        out = jv_array_append(out, e);
        free(l);
    }
    return out;
}

/* statements matched by label, the k-th of a label with the k-th: the
 * labels of those that differ, are new, or are gone */
static jv code_changes(jv old_s, jv new_s)
{
    int no = jv_array_length(jv_copy(old_s)), nn = jv_array_length(jv_copy(new_s));
    char *used = calloc((size_t)no + 1, 1);
    jv out = jv_array();
    for (int i = 0; i < nn; i++) {
        jv e = jv_array_get(jv_copy(new_s), i);
        jv l = jv_array_get(jv_copy(e), 0), t = jv_array_get(jv_copy(e), 1);
        int match = -1;
        for (int j = 0; j < no && match < 0; j++) {
            if (used[j])
                continue;
            jv f = jv_array_get(jv_copy(old_s), j);
            jv fl = jv_array_get(jv_copy(f), 0);
            if (jv_equal(fl, jv_copy(l)))
                match = j;
            jv_free(f);
        }
        if (match < 0) {
            out = jv_array_append(out, jv_copy(l));
        } else {
            used[match] = 1;
            jv f = jv_array_get(jv_copy(old_s), match);
            jv ft = jv_array_get(f, 1);
            if (!jv_equal(ft, jv_copy(t)))
                out = jv_array_append(out, jv_copy(l));
        }
        jv_free(l);
        jv_free(t);
        jv_free(e);
    }
    for (int j = 0; j < no; j++) {
        if (used[j])
            continue;
        jv f = jv_array_get(jv_copy(old_s), j);
        jv fl = jv_array_get(f, 0);
        out = jv_array_append(out, jv_string_fmt("%s (removed)", jv_string_value(fl)));
        jv_free(fl);
    }
    free(used);
    return out;
}

jv ar_trainpy_changes(const char *old_source, const char *new_source)
{
    struct stmts so = {0}, sn = {0};
    split(old_source ? old_source : "", &so);
    split(new_source ? new_source : "", &sn);
    jv old_c = ar_trainpy_constants(old_source), new_c = ar_trainpy_constants(new_source);
    jv old_code = code_names(&so), new_code = code_names(&sn);
    jv changes = constant_changes(old_c, new_c, old_code, new_code);
    jv old_s = code_statements(&so), new_s = code_statements(&sn);
    jv code = code_changes(old_s, new_s);
    jv_free(old_c);
    jv_free(new_c);
    jv_free(old_code);
    jv_free(new_code);
    jv_free(old_s);
    jv_free(new_s);
    stmts_free(&so);
    stmts_free(&sn);
    jv out = jv_object();
    out = jv_object_set(out, jv_string("changes"), changes);
    return jv_object_set(out, jv_string("code"), code);
}

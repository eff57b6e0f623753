/* The summary columns of a card view (lib/index/cardrow.h) without building
 * a jv tree: a rebuild reads 100,000 views of 2 KiB each and a full parse of
 * every config snapshot and note costs seconds, so this scanner reads only
 * the members a row needs and skips the rest by bracket matching. It accepts
 * any valid JSON object (white space, escapes, member order). */
#include "index/cardrow.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "facts/card.h"

struct scan {
    const char *p, *end;
    struct ar_pool *pool;
    struct ar_buf tmp;   /* decoded strings with escapes */
    int bad;
};

static void ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\t' || *s->p == '\r'))
        s->p++;
}

static int eat(struct scan *s, char c)
{
    ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return 1;
    }
    return 0;
}

static int peek(struct scan *s)
{
    ws(s);
    return s->p < s->end ? (unsigned char)*s->p : -1;
}

static void put_utf8(struct ar_buf *b, unsigned cp)
{
    char u[4];
    int n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12);
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18);
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    ar_buf_add(b, u, (size_t)n);
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
            return -1;
    }
    *out = v;
    return 0;
}

/* A string at s->p; *len bytes at the returned pointer (not terminated:
 * either the input itself or s->tmp). NULL when malformed. */
static const char *string(struct scan *s, size_t *len)
{
    if (!eat(s, '"'))
        return NULL;
    const char *start = s->p;
    const char *q = memchr(start, '"', (size_t)(s->end - start));
    if (q && !memchr(start, '\\', (size_t)(q - start))) {
        *len = (size_t)(q - start);
        s->p = q + 1;
        return start;
    }
    while (s->p < s->end && *s->p != '"' && *s->p != '\\')
        s->p++;
    s->tmp.len = 0;
    ar_buf_add(&s->tmp, start, (size_t)(s->p - start));
    while (s->p < s->end && *s->p != '"') {
        if (*s->p != '\\') {
            ar_buf_putc(&s->tmp, *s->p++);
            continue;
        }
        if (++s->p >= s->end)
            return NULL;
        char c = *s->p++;
        switch (c) {
        case 'n': ar_buf_putc(&s->tmp, '\n'); break;
        case 't': ar_buf_putc(&s->tmp, '\t'); break;
        case 'r': ar_buf_putc(&s->tmp, '\r'); break;
        case 'b': ar_buf_putc(&s->tmp, '\b'); break;
        case 'f': ar_buf_putc(&s->tmp, '\f'); break;
        case 'u': {
            unsigned cp, lo;
            if (s->end - s->p < 4 || hex4(s->p, &cp))
                return NULL;
            s->p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && s->end - s->p >= 6 && s->p[0] == '\\' && s->p[1] == 'u' &&
                hex4(s->p + 2, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                s->p += 6;
            }
            put_utf8(&s->tmp, cp);
            break;
        }
        default: ar_buf_putc(&s->tmp, c); break;   /* " \ / */
        }
    }
    if (s->p >= s->end)
        return NULL;
    s->p++;
    *len = s->tmp.len;
    return s->tmp.data ? s->tmp.data : "";
}

/* Bytes that matter when skipping a container: quotes and brackets. */
static const unsigned char special[256] = {
    ['"'] = 1, ['{'] = 1, ['}'] = 1, ['['] = 1, [']'] = 1,
};

/* Skips one value of any kind; 0 or -1 when malformed. */
static int skip_value(struct scan *s)
{
    ws(s);
    if (s->p >= s->end)
        return -1;
    if (*s->p == '"') {
        size_t n;
        return string(s, &n) ? 0 : -1;
    }
    if (*s->p == '{' || *s->p == '[') {
        /* the hot loop: configs and notes are most of every line */
        int depth = 0;
        const char *p = s->p, *end = s->end;
        while (p < end) {
            char c = *p++;
            if (!special[(unsigned char)c])
                continue;
            if (c == '"') {
                for (;;) {
                    const char *q = memchr(p, '"', (size_t)(end - p));
                    if (!q)
                        return -1;
                    /* a quote preceded by an odd number of backslashes is escaped */
                    const char *b = q;
                    while (b > p && b[-1] == '\\')
                        b--;
                    p = q + 1;
                    if ((q - b) % 2 == 0)
                        break;
                }
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (--depth == 0) {
                s->p = p;
                return 0;
            }
        }
        return -1;
    }
    const char *start = s->p;
    while (s->p < s->end && !strchr(",}] \n\t\r", *s->p))
        s->p++;
    return s->p > start ? 0 : -1;
}

/* skip_value that marks the scan bad on malformed input */
static int skip(struct scan *s)
{
    if (skip_value(s) == 0)
        return 0;
    s->bad = 1;
    return -1;
}

static const char *dup_string(struct scan *s)
{
    size_t n;
    const char *v = string(s, &n);
    return v ? ar_pool_strndup(s->pool, v, n) : NULL;
}

/* A string, or NULL for null or another kind (skipped). */
static const char *opt_string(struct scan *s)
{
    if (peek(s) == '"')
        return dup_string(s);
    skip(s);
    return NULL;
}

/* A number: 1 and *out, or 0 for null or another kind (skipped). */
static int number(struct scan *s, double *out)
{
    int c = peek(s);
    if (c == '-' || (c >= '0' && c <= '9')) {
        char *e;
        *out = strtod(s->p, &e);
        if (e == s->p || e > s->end)
            return s->bad = 1, 0;
        s->p = e;
        return 1;
    }
    skip(s);
    return 0;
}

static int boolean(struct scan *s)
{
    int t = peek(s) == 't';
    skip(s);
    return t;
}

/* k (n bytes) is the literal name */
#define key_is(k, n, name) ((n) == sizeof(name) - 1 && memcmp((k), (name), (n)) == 0)

/* Calls fn(s, key, keylen, ctx) for each member of an object at s->p. */
typedef void (*member_fn)(struct scan *s, const char *k, size_t n, void *ctx);

static void object(struct scan *s, member_fn fn, void *ctx)
{
    if (!eat(s, '{')) {
        if (skip(s))
            s->bad = 1;
        return;
    }
    if (eat(s, '}'))
        return;
    do {
        size_t n;
        const char *k = string(s, &n);
        if (!k || !eat(s, ':')) {
            s->bad = 1;
            return;
        }
        /* the key may live in tmp, which the value can overwrite */
        char small[64];
        if (k == s->tmp.data && n < sizeof small) {
            memcpy(small, k, n);
            k = small;
        }
        fn(s, k, n, ctx);
        if (s->bad)
            return;
    } while (eat(s, ','));
    if (!eat(s, '}'))
        s->bad = 1;
}

/* Calls fn(s, i, ctx) for each element of an array at s->p; a value of
 * another kind is skipped. Returns the count. */
typedef void (*elem_fn)(struct scan *s, int i, void *ctx);

static int array(struct scan *s, elem_fn fn, void *ctx)
{
    if (!eat(s, '[')) {
        if (skip(s))
            s->bad = 1;
        return 0;
    }
    if (eat(s, ']'))
        return 0;
    int i = 0;
    do {
        fn(s, i++, ctx);
        if (s->bad)
            return i;
    } while (eat(s, ','));
    if (!eat(s, ']'))
        s->bad = 1;
    return i;
}

/* ------------------------------------------------------------ the members */

struct strs {
    const char **v;
    int n, cap;
};

static void str_elem(struct scan *s, int i, void *ctx)
{
    struct strs *l = ctx;
    (void)i;
    const char *v = opt_string(s);
    if (!v)
        return;
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 8;
        const char **nv = ar_pool_alloc(s->pool, (size_t)cap * sizeof *nv);
        if (l->n)
            memcpy(nv, l->v, (size_t)l->n * sizeof *nv);
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = v;
}

static const char **string_list(struct scan *s, int *n)
{
    struct strs l = {0};
    array(s, str_elem, &l);
    *n = l.n;
    return l.v;
}

/* The raw text of a value (canonical in a view). */
static const char *value_text(struct scan *s)
{
    ws(s);
    const char *start = s->p;
    if (skip(s))
        return NULL;
    return ar_pool_strndup(s->pool, start, (size_t)(s->p - start));
}

static void change_member(struct scan *s, const char *k, size_t n, void *ctx)
{
    struct ar_rowchange *ch = ctx;
    if (key_is(k, n, "key"))
        ch->key = opt_string(s);
    else if (key_is(k, n, "from"))
        ch->from = value_text(s);
    else if (key_is(k, n, "to"))
        ch->to = value_text(s);
    else
        skip(s);
}

struct changes_ctx {
    struct ar_rowchange *v;
    int n, cap;
};

static void change_elem(struct scan *s, int i, void *ctx)
{
    struct changes_ctx *l = ctx;
    struct ar_rowchange ch = {0};
    (void)i;
    object(s, change_member, &ch);
    if (!ch.key)
        return;
    if (!ch.from)
        ch.from = "null";
    if (!ch.to)
        ch.to = "null";
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 4;
        struct ar_rowchange *nv = ar_pool_alloc(s->pool, (size_t)cap * sizeof *nv);
        if (l->n)
            memcpy(nv, l->v, (size_t)l->n * sizeof *nv);
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = ch;
}

struct note_ctx {
    int lesson;
    const char *text;
    const char *out;   /* the last lesson */
};

static void note_member(struct scan *s, const char *k, size_t n, void *ctx)
{
    struct note_ctx *nc = ctx;
    if (key_is(k, n, "kind")) {
        size_t len;
        const char *v = peek(s) == '"' ? string(s, &len) : (skip(s), NULL);
        nc->lesson = v && len == 6 && memcmp(v, "lesson", 6) == 0;
    } else if (key_is(k, n, "text")) {
        nc->text = opt_string(s);
    } else {
        skip(s);
    }
}

static void note_elem(struct scan *s, int i, void *ctx)
{
    struct note_ctx *all = ctx, nc = {0};
    (void)i;
    object(s, note_member, &nc);
    if (nc.lesson && nc.text)
        all->out = nc.text;
}

static void platform_member(struct scan *s, const char *k, size_t n, void *ctx)
{
    struct ar_cardrow *c = ctx;
    if (key_is(k, n, "class"))
        c->platform = opt_string(s);
    else
        skip(s);
}

static void data_member(struct scan *s, const char *k, size_t n, void *ctx)
{
    struct ar_cardrow *c = ctx;
    if (key_is(k, n, "fingerprint"))
        c->fingerprint = opt_string(s);
    else
        skip(s);
}

static void metrics_member(struct scan *s, const char *k, size_t n, void *ctx)
{
    struct ar_cardrow *c = ctx;
    if (key_is(k, n, "val_bpb"))
        c->has_bpb = number(s, &c->val_bpb);
    else if (key_is(k, n, "training_seconds"))
        c->has_training = number(s, &c->training_seconds);
    else
        skip(s);
}

static void card_member(struct scan *s, const char *k, size_t n, void *ctx)
{
    struct ar_cardrow *c = ctx;
    switch (k[0]) {
    case 'a':
        if (key_is(k, n, "agent"))
            return (void)(c->agent = opt_string(s));
        break;
    case 'b':
        if (key_is(k, n, "baseline"))
            return (void)(c->baseline = opt_string(s));
        if (key_is(k, n, "budget_s"))
            return (void)(c->has_budget = number(s, &c->budget_s));
        break;
    case 'c':
        if (key_is(k, n, "category"))
            return (void)(c->category = opt_string(s));
        if (key_is(k, n, "commit"))
            return (void)(c->commit = opt_string(s));
        if (key_is(k, n, "created"))
            return (void)(c->created = opt_string(s));
        if (key_is(k, n, "config_hash"))
            return (void)(c->config_hash = opt_string(s));
        if (key_is(k, n, "card_status"))
            return (void)(c->card_status = opt_string(s));
        if (key_is(k, n, "changes")) {
            struct changes_ctx l = {0};
            array(s, change_elem, &l);
            c->changes = l.v;
            c->nchanges = l.n;
            return;
        }
        break;
    case 'd':
        if (key_is(k, n, "delta"))
            return (void)(c->has_delta = number(s, &c->delta));
        if (key_is(k, n, "data"))
            return object(s, data_member, c);
        break;
    case 'h':
        if (key_is(k, n, "hypothesis"))
            return (void)(c->hypothesis = opt_string(s));
        break;
    case 'i':
        if (key_is(k, n, "id"))
            return (void)(c->id = opt_string(s));
        break;
    case 'm':
        if (key_is(k, n, "metrics"))
            return object(s, metrics_member, c);
        break;
    case 'n':
        if (key_is(k, n, "notes")) {
            struct note_ctx nc = {0};
            array(s, note_elem, &nc);
            c->lesson = nc.out;
            return;
        }
        break;
    case 'p':
        if (key_is(k, n, "platform"))
            return object(s, platform_member, c);
        if (key_is(k, n, "prior_cards"))
            return (void)(c->prior = string_list(s, &c->nprior));
        break;
    case 'r':
        if (key_is(k, n, "retracted"))
            return (void)(c->retracted = boolean(s));
        break;
    case 's':
        if (key_is(k, n, "session"))
            return (void)(c->session = opt_string(s));
        if (key_is(k, n, "status"))
            return (void)(c->status = opt_string(s));
        if (key_is(k, n, "seed"))
            return (void)(c->has_seed = number(s, &c->seed));
        break;
    case 't':
        if (key_is(k, n, "tags"))
            return (void)(c->tags = string_list(s, &c->ntags));
        break;
    case 'v':
        if (key_is(k, n, "verifies"))
            return (void)(c->verifies = opt_string(s));
        break;
    }
    if (skip(s))
        s->bad = 1;
}

int ar_cardrow_parse(struct ar_pool *pool, const char *text, size_t len, struct ar_cardrow *c)
{
    struct scan s = {text, text + len, pool, {0}, 0};
    memset(c, 0, sizeof *c);
    object(&s, card_member, c);
    ws(&s);
    int bad = s.bad || s.p != s.end;
    ar_buf_free(&s.tmp);
    if (bad)
        return ar_fail(AR_EINPUT, "card view: malformed JSON");
    if (!c->id)
        return ar_fail(AR_EINPUT, "card view: no id");
    if (c->status) {
        const char *norm = ar_card_status_norm(c->status);
        if (strcmp(norm, c->status) != 0)
            c->status = norm;
    }
    return 0;
}

/* Changes from a one-line description ("halve batch 524K to 262K",
 * "MATRIX_LR 0.04 -> 0.05", "add WD 0.01 to lm_head").
 *
 * Only the first clause is read (what follows is remarks and results),
 * after one-word labels ("exp3:"). In it, three passes, each simple: the
 * text becomes tokens (words, numbers, window patterns, tuples, arrows;
 * remarks in parentheses dropped); the words are matched against the
 * vocabulary, longest phrase first, which cuts the tokens into one
 * segment per key (what comes before a key after a separator is its own,
 * and direction words belong to the key that follows them); each
 * segment's tokens are read as from/to/factor/direction. */
#include "index/vocab.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/json.h"
#include "facts/config_keys.h"
#include "index/vocab_table.h"

/* ------------------------------------------------------------------------ */
/* tokens */

enum tok_kind {
    T_WORD,      /* lower case, one part of a_b-c */
    T_NUM,       /* a number as written: 524K, 0.04, 2^19, 1/8, 5%, 0.7x */
    T_PATTERN,   /* SSSL: only S and L, upper case, 3 or more */
    T_TUPLE,     /* (0.8, 0.95) */
    T_FORMULA,   /* 1/sqrt: a number that is the start of an expression */
    T_TO,        /* "to", ->, =>, → */
    T_EQ,        /* = or : */
    T_SEP,       /* , ; + / & and the like */
    T_CONST,     /* AN_UNKNOWN_CONSTANT, lower-cased: a key of its own */
};

#define MAX_TOKS 128
#define TOK_LEN 48

struct tok {
    enum tok_kind kind;
    char text[TOK_LEN];
};

struct toks {
    struct tok t[MAX_TOKS];
    int n;
};

static void push(struct toks *ts, enum tok_kind kind, const char *s, size_t len)
{
    if (ts->n >= MAX_TOKS)
        return;
    struct tok *t = &ts->t[ts->n++];
    t->kind = kind;
    if (len >= TOK_LEN)
        len = TOK_LEN - 1;
    memcpy(t->text, s, len);
    t->text[len] = '\0';
}

/* the end of the bracket group that starts at s (s itself when unclosed) */
static const char *group_end(const char *s)
{
    char open = *s, close = open == '(' ? ')' : open == '[' ? ']' : '}';
    int depth = 0;
    for (const char *p = s; *p; p++) {
        if (*p == open)
            depth++;
        else if (*p == close && --depth == 0)
            return p + 1;
    }
    return s;
}

static int numbers_only(const char *s, const char *e)
{
    int digit = 0;
    for (const char *p = s; p < e; p++) {
        if (isdigit((unsigned char)*p))
            digit = 1;
        else if (!strchr(".,-+eE_ \t", *p))
            return 0;
    }
    return digit;
}

/* a number as people write it; returns its end, or s when none */
static const char *scan_number(const char *s, int *formula)
{
    const char *p = s;
    *formula = 0;
    if (*p == '~')
        p++;
    const char *d = p;
    while (isdigit((unsigned char)*p) || ((*p == '.' || *p == '_') && isdigit((unsigned char)p[1])))
        p++;
    if (p == d)
        return s;
    if ((*p == 'e' || *p == 'E') && (isdigit((unsigned char)p[1]) ||
                                     ((p[1] == '-' || p[1] == '+') && isdigit((unsigned char)p[2])))) {
        p += 2;
        while (isdigit((unsigned char)*p))
            p++;
    }
    /* 2^19, 2**19, 1/8 */
    const char *op = NULL;
    if (*p == '^')
        op = p + 1;
    else if (p[0] == '*' && p[1] == '*')
        op = p + 2;
    else if (*p == '/' || *p == '*')
        op = p + 1;
    if (op) {
        if (isdigit((unsigned char)*op)) {
            p = op;
            while (isdigit((unsigned char)*p) || *p == '.')
                p++;
        } else if (isalpha((unsigned char)*op)) {
            *formula = 1;
            while (isalnum((unsigned char)*p) || strchr("/*^_.", *p))
                p++;
            return p;
        }
    }
    if (strchr("kKmMgG", *p) && *p && !isalnum((unsigned char)p[1]))
        p++;
    else if ((*p == 'x' || *p == 'X') && !isalnum((unsigned char)p[1]))
        p++;
    else if (*p == '%')
        p++;
    return p;
}

static int is_pattern(const char *s, size_t len)
{
    if (len < 2)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] != 'S' && s[i] != 'L')
            return 0;
    return 1;
}

/* "2^18→2^16", "0.5 -> 0.7": numbers and arrows only */
static int arrowed(const char *s, const char *e)
{
    int digit = 0, arrow = 0;
    for (const char *p = s; p < e; p++) {
        unsigned char c = (unsigned char)*p;
        if (isdigit(c)) {
            digit = 1;
        } else if (c == 0xe2 && p + 2 < e && (unsigned char)p[1] == 0x86 && (unsigned char)p[2] == 0x92) {
            arrow = 1;
            p += 2;
        } else if ((c == '-' || c == '=') && p + 1 < e && p[1] == '>') {
            arrow = 1;
            p++;
        } else if (c == 't' && p + 1 < e && p[1] == 'o' && p > s && p[-1] == ' ') {
            arrow = 1;
            p++;
        } else if (!strchr(".^*/kKmMgGxX%~_ ,+-", c)) {
            return 0;
        }
    }
    return digit && arrow;
}

/* AUTOTUNE_MAX_MEMORY_FRACTION: a constant of someone's train.py that
 * the vocabulary does not know (upper case, an underscore, a letter) */
static int unknown_constant(const char *id)
{
    int under = 0, alpha = 0;
    for (const char *p = id; *p; p++) {
        if (*p == '_') under = 1;
        else if (isupper((unsigned char)*p)) alpha = 1;
        else if (!isdigit((unsigned char)*p)) return 0;
    }
    return under && alpha && isupper((unsigned char)id[0]) && !ar_vocab_key(id);
}

static void tokenize(const char *text, struct toks *ts)
{
    const char *s = text;
    ts->n = 0;
    while (*s) {
        unsigned char c = (unsigned char)*s;
        if (isspace(c)) {
            s++;
        } else if (c == '(' || c == '[' || c == '{') {
            const char *e = group_end(s);
            if (e == s) {
                s++;
                continue;
            }
            if (c != '{' && numbers_only(s + 1, e - 1)) {
                push(ts, T_TUPLE, s, (size_t)(e - s));
            } else if (c == '(' && arrowed(s + 1, e - 1)) {
                s++;   /* "(2^18→2^16)": the change itself, read inline */
                continue;
            }
            s = e;   /* a remark: "(more steps in 5 min)" */
        } else if ((s[0] == '-' || s[0] == '=') && s[1] == '>') {
            push(ts, T_TO, s, 2);
            s += 2;
        } else if (c == 0xe2 && (unsigned char)s[1] == 0x86 && (unsigned char)s[2] == 0x92) {
            push(ts, T_TO, "->", 2);   /* → */
            s += 3;
        } else if (isdigit(c) || ((c == '.' || c == '~') && isdigit((unsigned char)s[1]))) {
            int formula;
            const char *e = scan_number(s, &formula);
            if (e == s)
                e = s + 1;
            if (!formula && (isalpha((unsigned char)*e) || *e == '_')) {
                /* 3rd, 5min: a word that starts with digits */
                while (isalnum((unsigned char)*e))
                    e++;
                char w[TOK_LEN];
                size_t n = (size_t)(e - s) < sizeof w - 1 ? (size_t)(e - s) : sizeof w - 1;
                for (size_t i = 0; i < n; i++)
                    w[i] = (char)tolower((unsigned char)s[i]);
                push(ts, T_WORD, w, n);
            } else {
                push(ts, formula ? T_FORMULA : T_NUM, s, (size_t)(e - s));
            }
            s = e;
        } else if (isalpha(c) || c == '_') {
            char id[TOK_LEN];
            size_t n = 0;
            const char *e = s;
            while (isalnum((unsigned char)*e) || *e == '_' ||
                   (*e == '-' && isalpha((unsigned char)e[1]) && e > s) ||
                   ((unsigned char)e[0] == 0xc2 && (unsigned char)e[1] == 0xb2)) {
                char ch = *e;
                if ((unsigned char)e[0] == 0xc2) {   /* ReLU²: relu2 */
                    ch = '2';
                    e++;
                }
                if (n + 1 < sizeof id)
                    id[n++] = ch;
                e++;
            }
            id[n] = '\0';
            const struct tok *prev = ts->n > 0 ? &ts->t[ts->n - 1] : NULL;
            const struct tok *prev2 = ts->n > 1 ? &ts->t[ts->n - 2] : NULL;
            if (is_pattern(id, n) ||
                (n == 1 && (id[0] == 'S' || id[0] == 'L') && prev && prev2 &&
                 (prev->kind == T_TO || prev->kind == T_EQ) && prev2->kind == T_PATTERN)) {
                push(ts, T_PATTERN, id, n);
            } else if (unknown_constant(id)) {
                char lw[TOK_LEN];
                for (size_t i = 0; i <= n; i++)
                    lw[i] = (char)tolower((unsigned char)id[i]);
                push(ts, T_CONST, lw, n);
            } else {
                /* parts of a_b-c are words of their own */
                const char *w = id, *id_end = id + n;
                while (w < id_end) {
                    while (w < id_end && (*w == '_' || *w == '-'))
                        w++;
                    const char *we = w;
                    while (we < id_end && *we != '_' && *we != '-')
                        we++;
                    if (we > w) {
                        char lw[TOK_LEN];
                        size_t n = (size_t)(we - w) < sizeof lw - 1 ? (size_t)(we - w) : sizeof lw - 1;
                        for (size_t i = 0; i < n; i++)
                            lw[i] = (char)tolower((unsigned char)w[i]);
                        if (n == 2 && memcmp(lw, "to", 2) == 0)
                            push(ts, T_TO, lw, n);
                        else
                            push(ts, T_WORD, lw, n);
                    }
                    w = we;
                }
            }
            s = e;
        } else if (c == '=' || c == ':') {
            push(ts, T_EQ, s, 1);
            s++;
        } else if (c >= 0x80) {
            /* other UTF-8 (dashes, ×): a separator */
            s++;
            while (((unsigned char)*s & 0xc0) == 0x80)
                s++;
            push(ts, T_SEP, "-", 1);
        } else {
            push(ts, T_SEP, s, 1);
            s++;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* words that are no keys */

static int word_in(const char *w, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(w, list[i]) == 0)
            return 1;
    return 0;
}

static const char *const up_words[] = {
    "increase", "increased", "increasing", "raise", "raised", "raising", "higher",
    "larger", "bigger", "more", "grow", "longer", "wider", "deeper", "up", NULL,
};
static const char *const down_words[] = {
    "decrease", "decreased", "decreasing", "reduce", "reduced", "reducing", "lower",
    "lowered", "smaller", "less", "fewer", "shrink", "shorter", "narrower", "shallower",
    "down", NULL,
};
static const char *const on_words[] = {
    "add", "added", "adding", "enable", "enabled", "enabling", "use", "using",
    "introduce", NULL,
};
static const char *const off_words[] = {
    "remove", "removed", "removing", "disable", "disabled", "disabling", "drop",
    "dropped", "no", "without", NULL,
};
/* the shapes a schedule takes */
static const char *const shape_words[] = {
    "constant", "linear", "cosine", "sqrt", "exponential", "inverse", "step", "wsd", NULL,
};

static double factor_word(const char *w)
{
    if (!strcmp(w, "halve") || !strcmp(w, "halved") || !strcmp(w, "halving"))
        return 0.5;
    if (!strcmp(w, "double") || !strcmp(w, "doubled") || !strcmp(w, "doubling"))
        return 2;
    if (!strcmp(w, "triple") || !strcmp(w, "tripled"))
        return 3;
    if (!strcmp(w, "quadruple") || !strcmp(w, "quadrupled"))
        return 4;
    return 0;
}

/* the key whose schedule shape a word names: WD constant -> wd_schedule */
static const char *shape_key(const char *key)
{
    if (!strcmp(key, "muon_weight_decay"))
        return "wd_schedule";
    if (!strcmp(key, "warmdown_frac"))
        return "warmdown_shape";
    if (!strcmp(key, "matrix_lr"))
        return "lr_schedule";
    if (!strcmp(key, "wd_schedule") || !strcmp(key, "lr_schedule") || !strcmp(key, "warmdown_shape"))
        return key;
    return NULL;
}

/* "instead of", "replacing": the value named next is the old one */
static int from_word(const struct toks *ts, int i)
{
    const char *w = ts->t[i].text;
    if (!strcmp(w, "replacing") || !strcmp(w, "replaces") || !strcmp(w, "replace") ||
        !strcmp(w, "replaced") || !strcmp(w, "vs"))
        return 1;
    return i + 1 < ts->n && ts->t[i + 1].kind == T_WORD &&
           ((!strcmp(w, "instead") && !strcmp(ts->t[i + 1].text, "of")) ||
            (!strcmp(w, "rather") && !strcmp(ts->t[i + 1].text, "than")));
}

/* "WD ... to lm_head": which parameters a generic weight decay or lr is of */
struct group {
    const char *words;   /* normalised */
    const char *wd, *lr;
};
static const struct group groups[] = {
    { "lm head", "unembed_wd", "unembed_lr" },
    { "head", "unembed_wd", "unembed_lr" },
    { "unembedding", "unembed_wd", "unembed_lr" },
    { "embeddings", "embed_wd", "embed_lr" },
    { "embedding", "embed_wd", "embed_lr" },
    { "wte", "embed_wd", "embed_lr" },
    { "value embeddings", "ve_wd", "ve_lr" },
    { "value embedding", "ve_wd", "ve_lr" },
    { "ve", "ve_wd", "ve_lr" },
    { "ves", "ve_wd", "ve_lr" },
    { "muon", "muon_weight_decay", "matrix_lr" },
    { "matrices", "muon_weight_decay", "matrix_lr" },
    { NULL, NULL, NULL },
};

/* ------------------------------------------------------------------------ */
/* segments: one key and the tokens that speak of it */

struct seg {
    const char *key;
    const char *implied;     /* the phrase's value, or NULL */
    const char *implied_from; /* the value it replaces ("instead of SwiGLU") */
    int generic;             /* "wd", "lr": a group may follow */
    int first, end;          /* its tokens after the phrase: [first, end) */
    int pre_first, pre_end;  /* tokens before its key that may be its values */
    double factor;           /* from a word: halve, double */
    int dir;                 /* from words: +1 up, -1 down, 0 none */
    int onoff;               /* +1 on, -1 off, 0 none */
};

#define MAX_SEGS 16

/* the longest phrase of words starting at token i: its length, key */
static int match_phrase(const struct toks *ts, int i, const struct ar_vocab_phrase **phrase,
                        const char **key)
{
    for (int len = 6; len >= 1; len--) {
        if (i + len > ts->n)
            continue;
        char buf[160] = "";
        int ok = 1;
        for (int j = i; j < i + len; j++) {
            if (ts->t[j].kind != T_WORD) {
                ok = 0;
                break;
            }
            if (j > i)
                strcat(buf, " ");
            if (strlen(buf) + strlen(ts->t[j].text) + 2 > sizeof buf) {
                ok = 0;
                break;
            }
            strcat(buf, ts->t[j].text);
        }
        if (!ok)
            continue;
        const char *k = ar_vocab_key_normalised(buf);
        if (k) {
            *key = k;
            *phrase = ar_vocab_phrase_find(buf);
            return len;
        }
    }
    return 0;
}

/* a group's words at token i: their count, and the group */
static int match_group(const struct toks *ts, int i, const struct group **g)
{
    for (const struct group *gr = groups; gr->words; gr++) {
        char w[64];
        snprintf(w, sizeof w, "%s", gr->words);
        int n = 0, j = i, ok = 1;
        for (char *part = strtok(w, " "); part; part = strtok(NULL, " ")) {
            if (j >= ts->n || ts->t[j].kind != T_WORD || strcmp(ts->t[j].text, part)) {
                ok = 0;
                break;
            }
            j++;
            n++;
        }
        if (ok && n > 0) {
            *g = gr;
            return n;
        }
    }
    return 0;
}

static int is_generic(const struct ar_vocab_phrase *p)
{
    return p && (!strcmp(p->phrase, "wd") || !strcmp(p->phrase, "weight decay") ||
                 !strcmp(p->phrase, "lr") || !strcmp(p->phrase, "learning rate"));
}

static int segment(struct toks *ts, struct seg *segs)
{
    int nseg = 0;
    double pend_factor = 0;
    int pend_dir = 0, pend_onoff = 0, pend_from = 0;
    int last_sep = 0, last_key_end = 0;
    int i = 0;
    while (i < ts->n) {
        struct tok *t = &ts->t[i];
        const struct ar_vocab_phrase *phrase = NULL;
        const char *key = NULL;
        int len = t->kind == T_WORD ? match_phrase(ts, i, &phrase, &key) : 0;
        if (t->kind == T_CONST) {
            key = t->text;
            len = 1;
        }
        if (len == 0) {
            if (t->kind == T_SEP) {
                /* "a, b" and "a + b" are two changes: words do not cross */
                pend_factor = 0;
                pend_dir = pend_onoff = pend_from = 0;
                last_sep = i + 1;
            }
            if (t->kind == T_WORD) {
                double f = factor_word(t->text);
                if (f) pend_factor = f;
                else if (word_in(t->text, up_words)) pend_dir = 1;
                else if (word_in(t->text, down_words)) pend_dir = -1;
                else if (word_in(t->text, on_words)) pend_onoff = 1;
                else if (word_in(t->text, off_words)) pend_onoff = -1;
                else if (from_word(ts, i)) pend_from = 1;
            }
            /* "WD 0.01 to lm_head": the group turns a generic key specific */
            if (nseg > 0 && segs[nseg - 1].generic && t->kind == T_TO && i + 1 < ts->n) {
                const struct group *g;
                int n = match_group(ts, i + 1, &g);
                if (n) {
                    struct seg *sg = &segs[nseg - 1];
                    sg->key = strstr(sg->key, "lr") ? g->lr : g->wd;
                    sg->generic = 0;
                    sg->end = i;
                    /* the group's words are no tokens of anything */
                    for (int j = i; j < i + 1 + n; j++)
                        ts->t[j].kind = T_SEP;
                    i += 1 + n;
                    continue;
                }
            }
            if (nseg > 0)
                segs[nseg - 1].end = i + 1;
            i++;
            continue;
        }
        const char *implied = phrase ? phrase->implied : NULL;
        /* "ReLU² MLP instead of SwiGLU": the old value of the same key */
        if (pend_from && implied) {
            pend_from = 0;
            struct seg *prev = NULL;
            for (int j = nseg - 1; j >= 0 && !prev; j--)
                if (!strcmp(segs[j].key, key))
                    prev = &segs[j];
            if (prev) {
                prev->implied_from = implied;
                i += len;
                continue;
            }
            if (nseg == MAX_SEGS)
                break;
            struct seg *sg = &segs[nseg++];
            memset(sg, 0, sizeof *sg);
            sg->key = key;
            sg->implied_from = implied;
            sg->first = sg->end = i + len;
            i += len;
            continue;
        }
        /* the same key again at once ("gradient clipping max_norm=1.0") */
        if (nseg > 0 && !strcmp(segs[nseg - 1].key, key) && segs[nseg - 1].first == i) {
            segs[nseg - 1].end = i + len;
            segs[nseg - 1].first = i + len;
            if (!segs[nseg - 1].implied)
                segs[nseg - 1].implied = implied;
            i += len;
            continue;
        }
        if (nseg == MAX_SEGS)
            break;
        struct seg *sg = &segs[nseg];
        memset(sg, 0, sizeof *sg);
        sg->key = key;
        sg->implied = implied;
        sg->generic = is_generic(phrase);
        sg->first = sg->end = i + len;
        /* what comes before a key is its own at the start of the text or
         * after a separator ("... + wider 768→896 dim") */
        sg->pre_end = i;
        sg->pre_first = nseg == 0 ? last_sep : last_sep > last_key_end ? last_sep : i;
        last_key_end = i + len;
        sg->factor = pend_factor;
        sg->dir = pend_dir;
        sg->onoff = pend_onoff;
        pend_factor = 0;
        pend_dir = pend_onoff = pend_from = 0;
        nseg++;
        i += len;
    }
    /* direction words after the last key are that key's, unless it has some */
    if (nseg > 0) {
        struct seg *sg = &segs[nseg - 1];
        if (pend_factor && !sg->factor) sg->factor = pend_factor;
        if (pend_dir && !sg->dir) sg->dir = pend_dir;
        if (pend_onoff && !sg->onoff) sg->onoff = pend_onoff;
    }
    return nseg;
}

/* ------------------------------------------------------------------------ */
/* a segment's values */

static jv value_of(const char *key, const struct tok *t)
{
    switch (t->kind) {
    case T_NUM:
    case T_PATTERN:
    case T_TUPLE:
        return ar_vocab_value(key, t->text);
    case T_WORD: {
        /* booleans and words that are values of string keys */
        enum ar_vocab_kind k = ar_vocab_kind(key);
        if (k == VK_BOOL && (!strcmp(t->text, "true") || !strcmp(t->text, "false") ||
                             !strcmp(t->text, "on") || !strcmp(t->text, "off")))
            return ar_vocab_value(key, t->text);
        if (k == VK_STR && strcmp(key, "window_pattern") != 0 && word_in(t->text, shape_words))
            return jv_string(t->text);
        return jv_invalid();
    }
    default:
        return jv_invalid();
    }
}

/* a value of key, dropped when it is out of an ar key's range: a short
 * window of 1024 tokens is no fraction of the context */
static jv value_in_range(const char *key, const struct tok *t)
{
    jv v = value_of(key, t);
    const struct ar_config_key *ck = ar_config_key_find(key);
    if (jv_get_kind(v) == JV_KIND_NUMBER && ck && (ck->type == AR_KEY_INT || ck->type == AR_KEY_REAL)) {
        double x = jv_number_value(v);
        if (x < ck->lo || x > ck->hi || (ck->lo_open && x == ck->lo)) {
            jv_free(v);
            return jv_invalid();
        }
    }
    return v;
}

static int is_x(const struct tok *t)
{
    size_t n = strlen(t->text);
    return t->kind == T_NUM && n > 1 && (t->text[n - 1] == 'x' || t->text[n - 1] == 'X');
}

struct reading {
    jv from, to;
    double factor;
    int formula;       /* a value that is an expression: 1/sqrt(layer+1) */
    int to_marked;     /* "to V", "-> V", "= V": the value is the new one */
    const char *shape; /* a schedule word: constant, cosine */
};

/* reads tokens [a, b) of key: "V1 to V2", "from V1 to V2", "to V", "V",
 * "= V", "at V", "by Nx", "Nx" */
static void read_values(const struct toks *ts, int a, int b, const char *key, struct reading *r)
{
    int scale = 0;
    const struct ar_vocab_keyinfo *ki = ar_vocab_keyinfo(key);
    if (ki && (ki->flags & VF_SCALE))
        scale = 1;
    int by = 0, old = 0;
    for (int i = a; i < b; i++) {
        const struct tok *t = &ts->t[i];
        if (t->kind == T_FORMULA) {
            r->formula = 1;
            continue;
        }
        if (t->kind == T_WORD) {
            if (!strcmp(t->text, "by"))
                by = 1;
            if (from_word(ts, i))
                old = 1;   /* "cosine instead of linear": linear is the old shape */
            if (word_in(t->text, shape_words) && !r->shape && !old)
                r->shape = strcmp(t->text, "sqrt") == 0 ? "sqrt" : t->text;
        }
        if (jv_is_valid(r->to))
            continue;
        jv v = value_in_range(key, t);
        if (!jv_is_valid(v)) {
            jv_free(v);
            continue;
        }
        /* V1 to V2 */
        if (i + 2 < b && ts->t[i + 1].kind == T_TO) {
            jv w = value_in_range(key, &ts->t[i + 2]);
            if (jv_is_valid(w)) {
                jv_free(r->from);
                r->from = v;
                r->to = w;
                r->to_marked = 1;
                i += 2;
                continue;
            }
            jv_free(w);
        }
        /* Nx on a key that is no multiplier: a factor */
        if ((is_x(t) && !scale) || by) {
            if (jv_get_kind(v) == JV_KIND_NUMBER && r->factor == 0 && jv_number_value(v) > 0)
                r->factor = jv_number_value(v);
            jv_free(v);
            by = 0;
            continue;
        }
        jv_free(r->to);
        r->to = v;
        r->to_marked = i > a && (ts->t[i - 1].kind == T_TO || ts->t[i - 1].kind == T_EQ);
    }
}

static int is_number(jv v)
{
    return jv_get_kind(v) == JV_KIND_NUMBER;
}

/* 1 when a boolean key is on unless changed (value_embeds, cautious_wd) */
static int on_by_default(const char *key)
{
    const struct ar_config_key *ck = ar_config_key_find(key);
    if (ck)
        return ck->def && strcmp(ck->def, "true") == 0;
    const struct ar_vocab_keyinfo *ki = ar_vocab_keyinfo(key);
    return ki && (ki->flags & VF_ON);
}

/* 1 when 0 turns a numeric setting off (label_smoothing, z_loss, dropout) */
static int off_at_zero(const char *key)
{
    const struct ar_config_key *ck = ar_config_key_find(key);
    if (ck)
        return ck->def && (strcmp(ck->def, "0") == 0 || strcmp(ck->def, "0.0") == 0);
    const struct ar_vocab_keyinfo *ki = ar_vocab_keyinfo(key);
    return ki && (ki->flags & VF_OFF0);
}

/* one change per element of a pair key that differs: ADAM_BETAS
 * (0.8, 0.95) -> (0.9, 0.95) is adam_beta1 0.8 -> 0.9 */
static jv split_pair(jv c)
{
    const char *key = ar_jv_str(c, "key");
    const char *const *parts = key ? ar_vocab_pair_keys(key) : NULL;
    if (!parts)
        return jv_array_append(jv_array(), c);
    jv from = ar_jv_get(c, "from"), to = ar_jv_get(c, "to");
    jv out = jv_array();
    for (int i = 0; i < 2; i++) {
        jv f = jv_get_kind(from) == JV_KIND_ARRAY ? jv_array_get(jv_copy(from), i) : jv_invalid();
        jv t = jv_get_kind(to) == JV_KIND_ARRAY ? jv_array_get(jv_copy(to), i) : jv_invalid();
        if (!jv_is_valid(t) || (jv_is_valid(f) && jv_equal(jv_copy(f), jv_copy(t)))) {
            jv_free(f);
            jv_free(t);
            continue;
        }
        jv e = jv_object();
        e = jv_object_set(e, jv_string("key"), jv_string(parts[i]));
        if (jv_is_valid(f)) {
            double a = jv_number_value(f), b = jv_number_value(t);
            e = jv_object_set(e, jv_string("from"), f);
            e = jv_object_set(e, jv_string("to"), t);
            if (a != b)
                e = jv_object_set(e, jv_string("direction"), jv_string(b > a ? "up" : "down"));
        } else {
            jv_free(f);
            e = jv_object_set(e, jv_string("to"), t);
        }
        out = jv_array_append(out, e);
    }
    jv_free(from);
    jv_free(to);
    if (jv_array_length(jv_copy(out)) == 0) {
        jv_free(out);
        return jv_array_append(jv_array(), c);   /* a direction alone */
    }
    jv_free(c);
    return out;
}

/* the change object of a reading; jv_invalid() when it says nothing */
static jv change_of(const struct seg *sg, struct reading *r)
{
    enum ar_vocab_kind kind = ar_vocab_kind(sg->key);
    const struct ar_vocab_keyinfo *ki = ar_vocab_keyinfo(sg->key);
    int nominal = ki && (ki->flags & VF_NOMINAL);
    if (!jv_is_valid(r->to) && sg->implied) {
        jv_free(r->to);
        r->to = ar_vocab_value(sg->key, sg->implied);
    }
    if (!jv_is_valid(r->from) && sg->implied_from) {
        jv_free(r->from);
        r->from = ar_vocab_value(sg->key, sg->implied_from);
    }
    if (kind == VK_NONE) {
        jv_free(r->from);
        jv_free(r->to);
        r->from = r->to = jv_invalid();
        r->factor = 0;
    }
    double factor = r->factor ? r->factor : sg->factor;
    /* "halve batch 524K": the value is where the factor starts from;
     * "halve batch to 262K": where it ends */
    if (sg->factor && !r->factor && is_number(r->to) && !jv_is_valid(r->from)) {
        jv_free(r->from);
        if (r->to_marked) {
            r->from = jv_number(jv_number_value(r->to) / sg->factor);
        } else {
            r->from = r->to;
            r->to = jv_number(jv_number_value(r->from) * sg->factor);
        }
    }
    /* a feature named alone: on, when it is off unless asked for */
    if (kind == VK_BOOL && !jv_is_valid(r->to) && (sg->onoff || !on_by_default(sg->key))) {
        jv_free(r->to);
        r->to = jv_bool(sg->onoff >= 0);
    }
    if (jv_is_valid(r->from) && jv_is_valid(r->to))
        factor = 0;   /* both ends say more than a factor */
    if (jv_is_valid(r->from) && !jv_is_valid(r->to) && factor && is_number(r->from)) {
        jv_free(r->to);
        r->to = jv_number(jv_number_value(r->from) * factor);
    }

    const char *dir = NULL;
    if (is_number(r->from) && is_number(r->to)) {
        double f = jv_number_value(r->from), t = jv_number_value(r->to);
        dir = t > f ? "up" : t < f ? "down" : NULL;
    } else if (jv_get_kind(r->to) == JV_KIND_TRUE) {
        dir = "on";
    } else if (jv_get_kind(r->to) == JV_KIND_FALSE) {
        dir = "off";
    } else if (factor) {
        dir = factor > 1 ? "up" : factor < 1 ? "down" : NULL;
    } else if (sg->dir && (is_number(r->to) || !jv_is_valid(r->to))) {
        dir = sg->dir > 0 ? "up" : "down";
    } else if (sg->onoff && (is_number(r->to) || !jv_is_valid(r->to))) {
        dir = sg->onoff > 0 ? "on" : "off";
    }
    /* a setting that is off at 0, named alone: "label smoothing" */
    if (!dir && !jv_is_valid(r->to) && !factor && kind == VK_NUM && off_at_zero(sg->key))
        dir = "on";
    if (nominal && dir && (!strcmp(dir, "up") || !strcmp(dir, "down")))
        dir = NULL;   /* seed 42 to 137 is no direction */
    if (!dir && !jv_is_valid(r->to) && !factor &&
        (r->formula || kind == VK_NONE || jv_is_valid(r->from) || kind == VK_BOOL))
        dir = "change";

    if (!jv_is_valid(r->to) && !factor && !dir)
        return jv_invalid();
    jv c = jv_object();
    c = jv_object_set(c, jv_string("key"), jv_string(sg->key));
    if (jv_is_valid(r->from))
        c = jv_object_set(c, jv_string("from"), jv_copy(r->from));
    if (jv_is_valid(r->to))
        c = jv_object_set(c, jv_string("to"), jv_copy(r->to));
    if (factor && !(jv_is_valid(r->from) && jv_is_valid(r->to)))
        c = jv_object_set(c, jv_string("factor"), jv_number(factor));
    if (dir)
        c = jv_object_set(c, jv_string("direction"), jv_string(dir));
    return c;
}

static int has_key(jv changes, const char *key)
{
    int found = 0;
    jv_array_foreach(changes, i, c) {
        (void)i;
        const char *k = ar_jv_str(c, "key");
        if (k && !strcmp(k, key))
            found = 1;
        jv_free(c);
    }
    return found;
}

static jv category_of(jv changes)
{
    const char *best = NULL;
    int best_n = 0;
    int n = jv_array_length(jv_copy(changes));
    for (int i = 0; i < n; i++) {
        jv c = jv_array_get(jv_copy(changes), i);
        const char *cat = ar_vocab_category(ar_jv_str(c, "key"));
        jv_free(c);
        int count = 0;
        for (int j = 0; j < n; j++) {
            jv d = jv_array_get(jv_copy(changes), j);
            if (!strcmp(ar_vocab_category(ar_jv_str(d, "key")), cat))
                count++;
            jv_free(d);
        }
        if (count > best_n) {
            best = cat;
            best_n = count;
        }
    }
    return best ? jv_string(best) : jv_null();
}

static int starts_with_baseline(const char *s)
{
    while (isspace((unsigned char)*s) || *s == '[' || *s == '(')
        s++;
    return strncasecmp(s, "baseline", 8) == 0 && !isalnum((unsigned char)s[8]);
}

/* the length of the clause at s: up to ". ", "; ", ": " (not before a
 * number), " - ", " -- ", an em or en dash, or a new line */
static size_t clause_len(const char *s)
{
    int depth = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '(' || *p == '[')
            depth++;
        else if ((*p == ')' || *p == ']') && depth > 0)
            depth--;
        if (depth > 0)
            continue;
        if ((p[0] == '.' || p[0] == ';') && (p[1] == ' ' || p[1] == '\0'))
            return (size_t)(p - s);
        if (p[0] == ':' && p[1] == ' ' && !isdigit((unsigned char)p[2]))
            return (size_t)(p - s);
        if (p[0] == '\n' || (p[0] == ' ' && p[1] == '-' && (p[2] == ' ' || (p[2] == '-' && p[3] == ' '))))
            return (size_t)(p - s);
        if ((unsigned char)p[0] == 0xe2 && (unsigned char)p[1] == 0x80 &&
            ((unsigned char)p[2] == 0x93 || (unsigned char)p[2] == 0x94))
            return (size_t)(p - s);
    }
    return strlen(s);
}

static int word_count(const char *s, size_t n)
{
    int words = 0, in = 0;
    for (size_t i = 0; i < n; i++) {
        int w = !isspace((unsigned char)s[i]);
        words += w && !in;
        in = w;
    }
    return words;
}

/* the changes of one clause */
static jv clause_changes(const char *text)
{
    struct toks ts;
    struct seg segs[MAX_SEGS];
    tokenize(text, &ts);
    int nseg = segment(&ts, segs);

    jv changes = jv_array();
    jv valueless = jv_array();   /* keys named with nothing said of them */
    for (int s = 0; s < nseg; s++) {
        struct seg *sg = &segs[s];
        /* "MLP 6x->8x": the MLP's width, not its kind */
        if (!strcmp(sg->key, "mlp"))
            for (int i = sg->first; i < sg->end && i < sg->first + 2; i++)
                if (is_x(&ts.t[i]))
                    sg->key = "mlp_ratio";
        struct reading r = { jv_invalid(), jv_invalid(), 0, 0, 0, NULL };
        read_values(&ts, sg->first, sg->end, sg->key, &r);
        if (!jv_is_valid(r.to) && !r.factor && sg->pre_end > sg->pre_first)
            read_values(&ts, sg->pre_first, sg->pre_end, sg->key, &r);
        if (!r.shape && sg->pre_end > sg->pre_first) {
            struct reading p = { jv_invalid(), jv_invalid(), 0, 0, 0, NULL };
            read_values(&ts, sg->pre_first, sg->pre_end, sg->key, &p);
            r.shape = p.shape;
            jv_free(p.from);
            jv_free(p.to);
        }
        /* "batch=4": sequences, not tokens, per step */
        if (!strcmp(sg->key, "total_batch_tokens") &&
            ((is_number(r.to) && jv_number_value(r.to) < 1024) ||
             (is_number(r.from) && jv_number_value(r.from) < 1024)))
            sg->key = "device_batch";
        jv c = change_of(sg, &r);
        jv_free(r.from);
        jv_free(r.to);
        if (!has_key(changes, sg->key)) {
            if (jv_is_valid(c))
                changes = jv_array_concat(changes, split_pair(jv_copy(c)));
            else
                valueless = jv_array_append(valueless, jv_string(sg->key));
        }
        jv_free(c);
        /* "constant WD at 0.1": also the shape of its schedule */
        const char *shape = shape_key(sg->key);
        if (shape && r.shape && strcmp(shape, sg->key) != 0 && !has_key(changes, shape)) {
            jv sc = jv_object();
            sc = jv_object_set(sc, jv_string("key"), jv_string(shape));
            sc = jv_object_set(sc, jv_string("to"), jv_string(r.shape));
            changes = jv_array_append(changes, sc);
        }
    }
    /* a clause that only names keys ("selective MLP-only checkpointing")
     * changed them, in a way no value says */
    if (jv_array_length(jv_copy(changes)) == 0) {
        jv_array_foreach(valueless, i, k) {
            (void)i;
            if (!has_key(changes, jv_string_value(k))) {
                jv c = jv_object();
                c = jv_object_set(c, jv_string("key"), jv_copy(k));
                c = jv_object_set(c, jv_string("direction"), jv_string("change"));
                changes = jv_array_append(changes, c);
            }
            jv_free(k);
        }
    }
    jv_free(valueless);
    return changes;
}

jv ar_vocab_describe(const char *description)
{
    jv out = jv_object();
    const char *s = description ? description : "";
    /* the change is stated first; what follows is remarks and results.
     * Labels in front ("exp3:", "Hypothesis:") are skipped. */
    jv changes = jv_invalid();
    while (*s) {
        while (isspace((unsigned char)*s))
            s++;
        size_t n = clause_len(s);
        char *clause = ar_xmalloc(n + 1);
        memcpy(clause, s, n);
        clause[n] = '\0';
        if (starts_with_baseline(clause)) {
            free(clause);
            changes = jv_array();
            out = jv_object_set(out, jv_string("changes"), changes);
            return jv_object_set(out, jv_string("category"), jv_string("baseline"));
        }
        changes = clause_changes(clause);
        free(clause);
        int label = jv_array_length(jv_copy(changes)) == 0 && word_count(s, n) <= 1;
        s += n;
        if (!label || !*s)
            break;
        jv_free(changes);
        changes = jv_invalid();
        s++;
    }
    if (!jv_is_valid(changes)) {
        jv_free(changes);
        changes = jv_array();
    }
    out = jv_object_set(out, jv_string("category"), category_of(changes));
    return jv_object_set(out, jv_string("changes"), changes);
}

int ar_vocab_is_rerun(const char *description)
{
    static const char *const words[] = {
        "rerun", "re-run", "re run", "replicate", "replication", "repeat", "reproduce",
        "reproduction", NULL,
    };
    jv d = ar_vocab_describe(description);
    jv changes = ar_jv_get(d, "changes");
    int n = jv_array_length(jv_copy(changes)), seeds = 0;
    jv_array_foreach(changes, i, c) {
        (void)i;
        const char *k = ar_jv_str(c, "key");
        seeds += k && strcmp(k, "seed") == 0;
        jv_free(c);
    }
    jv_free(changes);
    jv_free(d);
    if (n > 0)
        return seeds == n;
    for (const char *p = description ? description : ""; *p; p++) {
        if (p > description && isalnum((unsigned char)p[-1]))
            continue;
        for (int i = 0; words[i]; i++)
            if (strncasecmp(p, words[i], strlen(words[i])) == 0)
                return 1;
    }
    return 0;
}

jv ar_vocab_card_change(jv change, jv from_value)
{
    const char *key = ar_jv_str(change, "key");
    if (!key) {
        jv_free(from_value);
        return jv_invalid();
    }
    jv from = ar_jv_get(change, "from");
    if (!jv_is_valid(from)) {
        jv_free(from);
        from = from_value;
    } else {
        jv_free(from_value);
    }
    jv to = ar_jv_get(change, "to");
    double factor = ar_jv_num(change, "factor", 0);
    if (!jv_is_valid(to) && factor && is_number(from)) {
        jv_free(to);
        to = jv_number(jv_number_value(from) * factor);
    }
    if (!jv_is_valid(to)) {
        jv_free(from);
        jv_free(to);
        return jv_invalid();
    }
    jv c = jv_object();
    c = jv_object_set(c, jv_string("key"), jv_string(key));
    c = jv_object_set(c, jv_string("from"), jv_is_valid(from) ? from : (jv_free(from), jv_null()));
    return jv_object_set(c, jv_string("to"), to);
}

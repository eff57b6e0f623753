/* Byte-level BPE: chunking, encoding, decoding and the file format. The
 * training half lives in tokenizer_train.c. */
#include "tokenizer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "hashmap.h"

#define HEADER_BYTES 32
#define CACHE_MAX_CHUNK 64          /* longer chunks are not cached */
#define CACHE_MAX_ENTRIES (1u << 20)
#define MAX_TOKEN_BYTES (1u << 24)

struct tokenizer {
    int vocab, n_merges, bos;
    uint32_t (*merges)[2];      /* merge i makes token 256 + i */
    uint32_t *lens;             /* byte length of each token */
    size_t *tok_off;            /* its bytes at bytes + tok_off[id] */
    uint8_t *bytes;
    struct u64map ranks;        /* (left << 32 | right) -> merge index */
    struct bmap cache;          /* chunk -> offset in cache_pool: count, ids */
    struct tokbuf cache_pool;
    uint32_t *s_tok, *s_next, *s_prev;   /* encode scratch, s_cap long */
    uint64_t *s_heap;                    /* 3 * s_cap */
    size_t s_cap;
};

int tokbuf_push(struct tokbuf *b, uint16_t id)
{
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 4096;
        uint16_t *ids = realloc(b->ids, nc * sizeof *ids);
        if (!ids)
            return ar_fail(AR_EFAIL, "tokenizer: out of memory");
        b->ids = ids;
        b->cap = nc;
    }
    b->ids[b->n++] = id;
    return 0;
}

void tokbuf_free(struct tokbuf *b)
{
    free(b->ids);
    memset(b, 0, sizeof *b);
}

/* ------------------------------------------------------------------------ */
/* chunking: GPT-4's split pattern with digit runs of 1-2, on bytes
 *   '(?i:[sdmt]|ll|ve|re) | [^\r\n\p{L}\p{N}]?+\p{L}+ | \p{N}{1,2}
 *   | ' '?[^\s\p{L}\p{N}]++[\r\n]* | \s*[\r\n] | \s+(?!\S) | \s+
 * where a letter is A-Z, a-z or any byte >= 0x80. */

static int is_letter(uint8_t c) { return (unsigned)((c | 32) - 'a') < 26u || c >= 0x80; }
static int is_digit(uint8_t c) { return (unsigned)(c - '0') < 10u; }
static int is_space(uint8_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static int is_other(uint8_t c) { return !is_letter(c) && !is_digit(c) && !is_space(c); }
static int is_newline(uint8_t c) { return c == '\n' || c == '\r'; }

static size_t letters_end(const uint8_t *s, size_t n, size_t j)
{
    while (j < n && is_letter(s[j]))
        j++;
    return j;
}

size_t tokenizer_chunk_end(const uint8_t *s, size_t n, size_t i)
{
    uint8_t c = s[i];
    if (c == '\'' && i + 1 < n) {
        uint8_t d = s[i + 1] | 32;
        if (d == 's' || d == 'd' || d == 'm' || d == 't')
            return i + 2;
        if (i + 2 < n) {
            uint8_t e = s[i + 2] | 32;
            if ((d == 'l' && e == 'l') || (d == 'v' && e == 'e') || (d == 'r' && e == 'e'))
                return i + 3;
        }
    }
    if (is_letter(c))
        return letters_end(s, n, i + 1);
    if (!is_newline(c) && !is_digit(c) && i + 1 < n && is_letter(s[i + 1]))
        return letters_end(s, n, i + 2);
    if (is_digit(c))
        return i + 1 < n && is_digit(s[i + 1]) ? i + 2 : i + 1;
    size_t k = 0;
    if (is_other(c))
        k = i + 1;
    else if (c == ' ' && i + 1 < n && is_other(s[i + 1]))
        k = i + 2;
    if (k) {
        while (k < n && is_other(s[k]))
            k++;
        while (k < n && is_newline(s[k]))
            k++;
        return k;
    }
    size_t j = i;                       /* c is whitespace */
    while (j < n && is_space(s[j]))
        j++;
    for (size_t m = j; m > i; m--)
        if (is_newline(s[m - 1]))
            return m;
    if (j == n || j - i == 1)
        return j;
    return j - 1;
}

/* ------------------------------------------------------------------------ */
/* construction */

static uint64_t pair_key(uint32_t a, uint32_t b) { return (uint64_t)a << 32 | b; }

struct tokenizer *tokenizer_from_merges(const uint32_t (*merges)[2], int n_merges)
{
    if (n_merges < 0 || 256 + n_merges + 1 > TOKENIZER_MAX_VOCAB) {
        ar_fail(AR_EINPUT, "tokenizer: %d merges is out of range", n_merges);
        return NULL;
    }
    struct tokenizer *t = calloc(1, sizeof *t);
    if (!t)
        goto oom;
    t->n_merges = n_merges;
    t->vocab = 256 + n_merges + 1;
    t->bos = t->vocab - 1;
    t->merges = malloc(((size_t)n_merges + 1) * sizeof *t->merges);
    t->lens = calloc(t->vocab, sizeof *t->lens);
    t->tok_off = calloc(t->vocab, sizeof *t->tok_off);
    if (!t->merges || !t->lens || !t->tok_off || u64map_init(&t->ranks, n_merges) < 0)
        goto oom;
    for (int i = 0; i < 256; i++)
        t->lens[i] = 1;
    size_t total = 256;
    for (int i = 0; i < n_merges; i++) {
        uint32_t a = merges[i][0], b = merges[i][1];
        if (a >= 256u + i || b >= 256u + i) {
            ar_fail(AR_EINPUT, "tokenizer: merge %d uses token %u not yet defined", i,
                    a >= 256u + i ? a : b);
            tokenizer_free(t);
            return NULL;
        }
        t->merges[i][0] = a;
        t->merges[i][1] = b;
        uint32_t *r = u64map_upsert(&t->ranks, pair_key(a, b), (uint32_t)i);
        if (!r)
            goto oom;
        if (*r != (uint32_t)i) {
            ar_fail(AR_EINPUT, "tokenizer: merge %d repeats merge %u", i, *r);
            tokenizer_free(t);
            return NULL;
        }
        if ((uint64_t)t->lens[a] + t->lens[b] > MAX_TOKEN_BYTES) {
            ar_fail(AR_EINPUT, "tokenizer: token %d would be longer than %u bytes", 256 + i,
                    MAX_TOKEN_BYTES);
            tokenizer_free(t);
            return NULL;
        }
        t->lens[256 + i] = t->lens[a] + t->lens[b];
        total += t->lens[256 + i];
    }
    t->bytes = malloc(total ? total : 1);
    if (!t->bytes)
        goto oom;
    size_t at = 0;
    for (int i = 0; i < t->vocab; i++) {
        t->tok_off[i] = at;
        if (i < 256)
            t->bytes[at] = (uint8_t)i;
        else if (i != t->bos) {
            uint32_t a = t->merges[i - 256][0], b = t->merges[i - 256][1];
            memcpy(t->bytes + at, t->bytes + t->tok_off[a], t->lens[a]);
            memcpy(t->bytes + at + t->lens[a], t->bytes + t->tok_off[b], t->lens[b]);
        }
        at += t->lens[i];
    }
    bmap_init(&t->cache);
    return t;
oom:
    tokenizer_free(t);
    ar_fail(AR_EFAIL, "tokenizer: out of memory");
    return NULL;
}

void tokenizer_free(struct tokenizer *t)
{
    if (!t)
        return;
    free(t->merges);
    free(t->lens);
    free(t->tok_off);
    free(t->bytes);
    u64map_free(&t->ranks);
    bmap_free(&t->cache);
    tokbuf_free(&t->cache_pool);
    free(t->s_tok);
    free(t->s_next);
    free(t->s_prev);
    free(t->s_heap);
    free(t);
}

int tokenizer_vocab_size(const struct tokenizer *t) { return t->vocab; }
int tokenizer_bos(const struct tokenizer *t) { return t->bos; }
int tokenizer_num_merges(const struct tokenizer *t) { return t->n_merges; }
const uint32_t *tokenizer_byte_lens(const struct tokenizer *t) { return t->lens; }

const uint8_t *tokenizer_token_bytes(const struct tokenizer *t, int id, size_t *len)
{
    *len = id >= 0 && id < t->vocab ? t->lens[id] : 0;
    return *len ? t->bytes + t->tok_off[id] : (const uint8_t *)"";
}

/* ------------------------------------------------------------------------ */
/* file format */

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int tokenizer_serialize(const struct tokenizer *t, uint8_t **buf, size_t *len)
{
    size_t n = HEADER_BYTES + (size_t)t->n_merges * 8 + (size_t)t->vocab * 4;
    uint8_t *p = calloc(1, n);
    if (!p)
        return ar_fail(AR_EFAIL, "tokenizer: out of memory");
    memcpy(p, TOKENIZER_MAGIC, 8);
    put32(p + 8, TOKENIZER_VERSION);
    put32(p + 12, (uint32_t)t->vocab);
    put32(p + 16, (uint32_t)t->n_merges);
    put32(p + 20, (uint32_t)t->bos);
    put32(p + 24, 1);
    uint8_t *q = p + HEADER_BYTES;
    for (int i = 0; i < t->n_merges; i++, q += 8) {
        put32(q, t->merges[i][0]);
        put32(q + 4, t->merges[i][1]);
    }
    for (int i = 0; i < t->vocab; i++, q += 4)
        put32(q, t->lens[i]);
    *buf = p;
    *len = n;
    return 0;
}

struct tokenizer *tokenizer_parse(const uint8_t *buf, size_t len, const char *name)
{
    if (len < HEADER_BYTES || memcmp(buf, TOKENIZER_MAGIC, 8) != 0) {
        ar_fail(AR_EINPUT, "%s: not a tokenizer file (bad magic)", name);
        return NULL;
    }
    uint32_t version = get32(buf + 8), vocab = get32(buf + 12), n_merges = get32(buf + 16);
    uint32_t bos = get32(buf + 20), split = get32(buf + 24);
    if (version != TOKENIZER_VERSION) {
        ar_fail(AR_EINPUT, "%s: tokenizer version %u, this build reads %d", name, version,
                TOKENIZER_VERSION);
        return NULL;
    }
    if (split != 1 || vocab > TOKENIZER_MAX_VOCAB || vocab != 256 + n_merges + 1 ||
        bos != vocab - 1) {
        ar_fail(AR_EINPUT, "%s: inconsistent tokenizer header", name);
        return NULL;
    }
    if (len != HEADER_BYTES + (size_t)n_merges * 8 + (size_t)vocab * 4) {
        ar_fail(AR_EINPUT, "%s: tokenizer file has %zu bytes, header implies %zu", name, len,
                HEADER_BYTES + (size_t)n_merges * 8 + (size_t)vocab * 4);
        return NULL;
    }
    uint32_t (*merges)[2] = malloc(((size_t)n_merges + 1) * sizeof *merges);
    if (!merges) {
        ar_fail(AR_EFAIL, "tokenizer: out of memory");
        return NULL;
    }
    const uint8_t *q = buf + HEADER_BYTES;
    for (uint32_t i = 0; i < n_merges; i++, q += 8) {
        merges[i][0] = get32(q);
        merges[i][1] = get32(q + 4);
    }
    struct tokenizer *t = tokenizer_from_merges((const uint32_t (*)[2])merges, (int)n_merges);
    free(merges);
    if (!t) {
        ar_fail_prefix("%s", name);
        return NULL;
    }
    for (uint32_t i = 0; i < vocab; i++, q += 4)
        if (get32(q) != t->lens[i]) {
            ar_fail(AR_EINPUT, "%s: byte length of token %u is %u, its merges make %u", name,
                    i, get32(q), t->lens[i]);
            tokenizer_free(t);
            return NULL;
        }
    return t;
}

struct tokenizer *tokenizer_load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        ar_fail(errno == ENOENT ? AR_EINPUT : AR_EFAIL, "%s: %s", path, strerror(errno));
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                ar_fail(AR_EFAIL, "%s: out of memory", path);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        ar_fail(AR_EFAIL, "%s: read error", path);
        return NULL;
    }
    struct tokenizer *t = tokenizer_parse(buf, len, path);
    free(buf);
    return t;
}

/* ------------------------------------------------------------------------ */
/* encoding */

static int grow_scratch(struct tokenizer *t, size_t n)
{
    if (n <= t->s_cap)
        return 0;
    size_t c = t->s_cap ? t->s_cap : 256;
    while (c < n)
        c *= 2;
    uint32_t *tok = realloc(t->s_tok, c * sizeof *tok);
    if (tok)
        t->s_tok = tok;
    uint32_t *next = realloc(t->s_next, c * sizeof *next);
    if (next)
        t->s_next = next;
    uint32_t *prev = realloc(t->s_prev, c * sizeof *prev);
    if (prev)
        t->s_prev = prev;
    uint64_t *heap = realloc(t->s_heap, 3 * c * sizeof *heap);
    if (heap)
        t->s_heap = heap;
    if (!tok || !next || !prev || !heap)
        return ar_fail(AR_EFAIL, "tokenizer: out of memory");
    t->s_cap = c;
    return 0;
}

/* A min-heap of (rank << 32 | position): lowest rank first, then leftmost,
 * which applies merges exactly in the order they were learned. */
static void heap_push(uint64_t *h, size_t *n, uint64_t v)
{
    size_t i = (*n)++;
    while (i > 0 && h[(i - 1) / 2] > v) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = v;
}

static uint64_t heap_pop(uint64_t *h, size_t *n)
{
    uint64_t top = h[0], v = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && h[c + 1] < h[c])
            c++;
        if (h[c] >= v)
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = v;
    return top;
}

/* Pushes the pair starting at i when it is a merge; the heap never holds
 * more than 3n entries since each merge pushes at most two. */
static void push_pair(const struct tokenizer *t, uint64_t *heap, size_t *nh, uint32_t i)
{
    uint32_t j = t->s_next[i];
    if (j == UINT32_MAX)
        return;
    const uint32_t *r = u64map_find(&t->ranks, pair_key(t->s_tok[i], t->s_tok[j]));
    if (r)
        heap_push(heap, nh, (uint64_t)*r << 32 | i);
}

static int encode_chunk(struct tokenizer *t, const uint8_t *s, size_t n, struct tokbuf *out)
{
    if (n == 1)
        return tokbuf_push(out, s[0]);
    if (n >= UINT32_MAX / 4)
        return ar_fail(AR_EINPUT, "tokenizer: chunk of %zu bytes is too long", n);
    if (grow_scratch(t, n) < 0)
        return -1;
    uint32_t *tok = t->s_tok, *next = t->s_next, *prev = t->s_prev;
    uint64_t *heap = t->s_heap;
    size_t nh = 0;
    for (size_t i = 0; i < n; i++) {
        tok[i] = s[i];
        next[i] = i + 1 < n ? (uint32_t)(i + 1) : UINT32_MAX;
        prev[i] = i > 0 ? (uint32_t)(i - 1) : UINT32_MAX;
    }
    for (size_t i = 0; i + 1 < n; i++)
        push_pair(t, heap, &nh, (uint32_t)i);
    while (nh > 0) {
        uint64_t top = heap_pop(heap, &nh);
        uint32_t rank = (uint32_t)(top >> 32), i = (uint32_t)top;
        uint32_t j = next[i];
        if (tok[i] == UINT32_MAX || j == UINT32_MAX || tok[i] != t->merges[rank][0] ||
            tok[j] != t->merges[rank][1])
            continue;                   /* stale: i was merged away or changed */
        tok[i] = 256 + rank;
        tok[j] = UINT32_MAX;
        next[i] = next[j];
        if (next[j] != UINT32_MAX)
            prev[next[j]] = i;
        if (prev[i] != UINT32_MAX)
            push_pair(t, heap, &nh, prev[i]);
        push_pair(t, heap, &nh, i);
    }
    for (uint32_t i = 0; i != UINT32_MAX; i = next[i])
        if (tokbuf_push(out, (uint16_t)tok[i]) < 0)
            return -1;
    return 0;
}

static int encode_cached(struct tokenizer *t, const uint8_t *s, size_t n, struct tokbuf *out)
{
    if (n == 1 || n > CACHE_MAX_CHUNK)
        return encode_chunk(t, s, n, out);
    struct bmap_entry *e = bmap_find(&t->cache, s, n);
    if (!e && t->cache.n < CACHE_MAX_ENTRIES) {
        size_t start = t->cache_pool.n;
        if (tokbuf_push(&t->cache_pool, 0) < 0 || encode_chunk(t, s, n, &t->cache_pool) < 0)
            return -1;
        t->cache_pool.ids[start] = (uint16_t)(t->cache_pool.n - start - 1);
        int added;
        e = bmap_upsert(&t->cache, s, n, &added);
        if (!e)
            return ar_fail(AR_EFAIL, "tokenizer: out of memory");
        e->value = (uint32_t)start;
    }
    if (!e)
        return encode_chunk(t, s, n, out);
    const uint16_t *ids = t->cache_pool.ids + e->value;
    for (uint16_t k = 0; k < ids[0]; k++)
        if (tokbuf_push(out, ids[1 + k]) < 0)
            return -1;
    return 0;
}

int tokenizer_encode(struct tokenizer *t, const void *text, size_t len, struct tokbuf *out)
{
    const uint8_t *s = text;
    for (size_t i = 0; i < len;) {
        size_t end = tokenizer_chunk_end(s, len, i);
        if (encode_cached(t, s + i, end - i, out) < 0)
            return -1;
        i = end;
    }
    return 0;
}

size_t tokenizer_decode(const struct tokenizer *t, const uint16_t *ids, size_t n, uint8_t *out)
{
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] >= t->vocab)
            continue;
        if (out)
            memcpy(out + at, t->bytes + t->tok_off[ids[i]], t->lens[ids[i]]);
        at += t->lens[ids[i]];
    }
    return at;
}

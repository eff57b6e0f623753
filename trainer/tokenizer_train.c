/* BPE training. Documents are cut into chunks (tokenizer_chunk_end) and
 * each distinct chunk becomes a "word" with a count. Pair counts live in a
 * hash map; a max-heap with lazy deletion picks the most frequent pair
 * (ties: the smaller pair key); each pair keeps the list of words it
 * occurs in, so a merge touches only those words. Only pairs that contain
 * the new token can grow, so only they are pushed after a merge. */
#include "tokenizer.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "hashmap.h"

/* Longer chunks (base64 blobs, long runs) are cut into pieces of this size
 * for training only; encoding handles chunks of any length. */
#define MAX_WORD 256

struct pair {
    uint64_t key;           /* left << 32 | right */
    int64_t count;
    uint32_t *words;        /* word ids it occurs (or occurred) in */
    uint32_t n_words, cap_words;
    int32_t stamp;          /* last merge that queued it */
};

struct heap_item {
    int64_t count;
    uint64_t key;
};

struct bpe {
    /* words: symbols sym[start[w] .. start[w] + len[w]) */
    uint32_t *sym;
    size_t *start;
    uint32_t *len;
    uint64_t *count;
    size_t n_words;
    /* pairs */
    struct u64map index;    /* key -> pair id */
    struct pair *pairs;
    size_t n_pairs, cap_pairs;
    struct heap_item *heap;
    size_t n_heap, cap_heap;
    uint32_t *fresh;        /* pairs created by the current merge */
    size_t n_fresh, cap_fresh;
};

static int heap_before(const struct heap_item *a, const struct heap_item *b)
{
    return a->count > b->count || (a->count == b->count && a->key < b->key);
}

static int heap_push(struct bpe *s, int64_t count, uint64_t key)
{
    if (s->n_heap == s->cap_heap) {
        size_t nc = s->cap_heap ? s->cap_heap * 2 : 65536;
        struct heap_item *h = realloc(s->heap, nc * sizeof *h);
        if (!h)
            return -1;
        s->heap = h;
        s->cap_heap = nc;
    }
    struct heap_item v = {count, key};
    size_t i = s->n_heap++;
    while (i > 0 && heap_before(&v, &s->heap[(i - 1) / 2])) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = v;
    return 0;
}

static struct heap_item heap_pop(struct bpe *s)
{
    struct heap_item top = s->heap[0], v = s->heap[--s->n_heap];
    size_t i = 0, n = s->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && heap_before(&s->heap[c + 1], &s->heap[c]))
            c++;
        if (!heap_before(&s->heap[c], &v))
            break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    s->heap[i] = v;
    return top;
}

/* The pair id of (a, b), created with count 0 when new; -1 on OOM. */
static int64_t pair_id(struct bpe *s, uint32_t a, uint32_t b)
{
    uint64_t key = (uint64_t)a << 32 | b;
    uint32_t *v = u64map_upsert(&s->index, key, (uint32_t)s->n_pairs);
    if (!v)
        return -1;
    if (*v == s->n_pairs) {
        if (s->n_pairs == s->cap_pairs) {
            size_t nc = s->cap_pairs ? s->cap_pairs * 2 : 65536;
            struct pair *p = realloc(s->pairs, nc * sizeof *p);
            if (!p)
                return -1;
            s->pairs = p;
            s->cap_pairs = nc;
        }
        struct pair *p = &s->pairs[s->n_pairs++];
        memset(p, 0, sizeof *p);
        p->key = key;
        p->stamp = -1;
    }
    return *v;
}

static int pair_add_word(struct pair *p, uint32_t w)
{
    if (p->n_words && p->words[p->n_words - 1] == w)
        return 0;
    if (p->n_words == p->cap_words) {
        uint32_t nc = p->cap_words ? p->cap_words * 2 : 4;
        uint32_t *ws = realloc(p->words, nc * sizeof *ws);
        if (!ws)
            return -1;
        p->words = ws;
        p->cap_words = nc;
    }
    p->words[p->n_words++] = w;
    return 0;
}

/* Adds sign * count(w) to every adjacent pair of word w; when adding,
 * records w in pairs that contain token `fresh_tok` and queues them. */
static int count_word(struct bpe *s, uint32_t w, int sign, uint32_t fresh_tok, int32_t merge)
{
    const uint32_t *sy = s->sym + s->start[w];
    for (uint32_t i = 0; i + 1 < s->len[w]; i++) {
        int64_t id = pair_id(s, sy[i], sy[i + 1]);
        if (id < 0)
            return -1;
        struct pair *p = &s->pairs[id];
        p->count += sign * (int64_t)s->count[w];
        if (sign > 0 && (sy[i] == fresh_tok || sy[i + 1] == fresh_tok)) {
            if (pair_add_word(p, w) < 0)
                return -1;
            if (p->stamp != merge) {
                p->stamp = merge;
                if (s->n_fresh == s->cap_fresh) {
                    size_t nc = s->cap_fresh ? s->cap_fresh * 2 : 1024;
                    uint32_t *f = realloc(s->fresh, nc * sizeof *f);
                    if (!f)
                        return -1;
                    s->fresh = f;
                    s->cap_fresh = nc;
                }
                s->fresh[s->n_fresh++] = (uint32_t)id;
            }
        }
    }
    return 0;
}

static int word_has(const struct bpe *s, uint32_t w, uint32_t a, uint32_t b)
{
    const uint32_t *sy = s->sym + s->start[w];
    for (uint32_t i = 0; i + 1 < s->len[w]; i++)
        if (sy[i] == a && sy[i + 1] == b)
            return 1;
    return 0;
}

static void word_merge(struct bpe *s, uint32_t w, uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t *sy = s->sym + s->start[w];
    uint32_t out = 0;
    for (uint32_t i = 0; i < s->len[w]; i++) {
        if (i + 1 < s->len[w] && sy[i] == a && sy[i + 1] == b) {
            sy[out++] = c;
            i++;
        } else {
            sy[out++] = sy[i];
        }
    }
    s->len[w] = out;
}

static int apply_merge(struct bpe *s, uint32_t pid, uint32_t c, int32_t merge)
{
    uint32_t a = (uint32_t)(s->pairs[pid].key >> 32), b = (uint32_t)s->pairs[pid].key;
    s->n_fresh = 0;
    /* s->pairs may move while we add pairs: index it afresh each time */
    for (uint32_t k = 0; k < s->pairs[pid].n_words; k++) {
        uint32_t w = s->pairs[pid].words[k];
        if (!word_has(s, w, a, b))
            continue;
        if (count_word(s, w, -1, UINT32_MAX, merge) < 0)
            return -1;
        word_merge(s, w, a, b, c);
        if (count_word(s, w, +1, c, merge) < 0)
            return -1;
    }
    struct pair *p = &s->pairs[pid];
    p->count = 0;
    free(p->words);
    p->words = NULL;
    p->n_words = p->cap_words = 0;
    for (size_t i = 0; i < s->n_fresh; i++) {
        struct pair *q = &s->pairs[s->fresh[i]];
        if (q->count > 0 && heap_push(s, q->count, q->key) < 0)
            return -1;
    }
    return 0;
}

/* Distinct chunks of all documents, with counts, become the words. */
static int collect_words(struct bpe *s, const char *data, const size_t *off, size_t n_docs)
{
    struct bmap chunks;
    bmap_init(&chunks);
    for (size_t d = 0; d < n_docs; d++) {
        const uint8_t *doc = (const uint8_t *)data + off[d];
        size_t n = off[d + 1] - off[d];
        for (size_t i = 0; i < n;) {
            size_t end = tokenizer_chunk_end(doc, n, i);
            if (end - i > MAX_WORD)     /* keeps merges cheap on odd inputs */
                end = i + MAX_WORD;
            int added;
            struct bmap_entry *e = bmap_upsert(&chunks, doc + i, end - i, &added);
            if (!e) {
                bmap_free(&chunks);
                return -1;
            }
            if (e->value < UINT32_MAX)
                e->value++;
            i = end;
        }
    }
    s->n_words = chunks.n;
    s->sym = malloc((chunks.pool_len + 1) * sizeof *s->sym);
    s->start = malloc((chunks.n + 1) * sizeof *s->start);
    s->len = malloc((chunks.n + 1) * sizeof *s->len);
    s->count = malloc((chunks.n + 1) * sizeof *s->count);
    if (!s->sym || !s->start || !s->len || !s->count) {
        bmap_free(&chunks);
        return -1;
    }
    size_t at = 0;
    for (size_t w = 0; w < chunks.n; w++) {
        const struct bmap_entry *e = &chunks.entries[w];
        const uint8_t *k = (const uint8_t *)bmap_key(&chunks, e);
        s->start[w] = at;
        s->len[w] = e->len;
        s->count[w] = e->value;
        for (uint32_t i = 0; i < e->len; i++)
            s->sym[at++] = k[i];
    }
    bmap_free(&chunks);
    return 0;
}

static void bpe_free(struct bpe *s)
{
    free(s->sym);
    free(s->start);
    free(s->len);
    free(s->count);
    for (size_t i = 0; i < s->n_pairs; i++)
        free(s->pairs[i].words);
    free(s->pairs);
    u64map_free(&s->index);
    free(s->heap);
    free(s->fresh);
}

struct tokenizer *tokenizer_train(const char *data, const size_t *off, size_t n_docs,
                                  int vocab_size)
{
    if (vocab_size < TOKENIZER_MIN_VOCAB || vocab_size > TOKENIZER_MAX_VOCAB) {
        ar_fail(AR_EINPUT, "vocab %d is out of range [%d, %d]", vocab_size,
                TOKENIZER_MIN_VOCAB, TOKENIZER_MAX_VOCAB);
        return NULL;
    }
    int want = vocab_size - 257, n_merges = 0;
    struct bpe s;
    memset(&s, 0, sizeof s);
    uint32_t (*merges)[2] = malloc(((size_t)want + 1) * sizeof *merges);
    if (!merges || u64map_init(&s.index, 1 << 16) < 0 || collect_words(&s, data, off, n_docs) < 0)
        goto oom;
    /* initial pair counts: every word lists its pairs */
    for (uint32_t w = 0; w < s.n_words; w++) {
        const uint32_t *sy = s.sym + s.start[w];
        for (uint32_t i = 0; i + 1 < s.len[w]; i++) {
            int64_t id = pair_id(&s, sy[i], sy[i + 1]);
            if (id < 0 || pair_add_word(&s.pairs[id], w) < 0)
                goto oom;
            s.pairs[id].count += (int64_t)s.count[w];
        }
    }
    for (size_t i = 0; i < s.n_pairs; i++)
        if (heap_push(&s, s.pairs[i].count, s.pairs[i].key) < 0)
            goto oom;
    while (n_merges < want && s.n_heap > 0) {
        struct heap_item top = heap_pop(&s);
        uint32_t pid = *u64map_find(&s.index, top.key);
        int64_t now = s.pairs[pid].count;
        if (now != top.count) {         /* stale: counts only fall */
            if (now > 0 && heap_push(&s, now, top.key) < 0)
                goto oom;
            continue;
        }
        if (now < 2)
            break;
        merges[n_merges][0] = (uint32_t)(top.key >> 32);
        merges[n_merges][1] = (uint32_t)top.key;
        if (apply_merge(&s, pid, 256 + (uint32_t)n_merges, n_merges) < 0)
            goto oom;
        n_merges++;
    }
    bpe_free(&s);
    struct tokenizer *t = tokenizer_from_merges((const uint32_t (*)[2])merges, n_merges);
    free(merges);
    return t;
oom:
    bpe_free(&s);
    free(merges);
    ar_fail(AR_EFAIL, "tokenizer training: out of memory");
    return NULL;
}

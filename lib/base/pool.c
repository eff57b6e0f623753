#include "base/pool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/bigmem.h"
#include "base/buf.h"

#define CHUNK_SIZE (256 * 1024)

struct ar_pool_chunk {
    struct ar_pool_chunk *next;
    size_t used, size;
    int big;              /* from ar_big_realloc, else malloc's */
    max_align_t data[];
};

/* A chunk of at least cap bytes: malloc's while the pool is small, then
 * (ar_big_realloc) as large as what the pool holds, up to 32 MiB. */
static struct ar_pool_chunk *new_chunk(struct ar_pool *p, size_t cap)
{
    struct ar_pool_chunk *c;
    int big = p->bytes >= AR_BIG_PAGE / 2;
    if (big) {
        size_t want = p->bytes < 16 * AR_BIG_PAGE ? p->bytes : 16 * AR_BIG_PAGE;
        c = ar_big_realloc(NULL, sizeof *c + (cap > want ? cap : want));
        cap = ar_big_room(c) - sizeof *c;
    } else {
        c = ar_xmalloc(sizeof *c + cap);
    }
    c->size = cap;
    c->used = 0;
    c->big = big;
    p->bytes += cap;
    return c;
}

/* size bytes of arena memory, not cleared */
static void *alloc_raw(struct ar_pool *p, size_t size)
{
    size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    struct ar_pool_chunk *c = p->chunks;
    if (!c || c->size - c->used < size) {
        c = new_chunk(p, size > CHUNK_SIZE ? size : CHUNK_SIZE);
        /* a big one-off block goes behind the current chunk, which keeps its
         * room (a huge-page chunk has room for more) */
        if (size > CHUNK_SIZE / 4 && !c->big && p->chunks) {
            c->next = p->chunks->next;
            p->chunks->next = c;
        } else {
            c->next = p->chunks;
            p->chunks = c;
        }
    }
    void *out = (char *)c->data + c->used;
    c->used += size;
    return out;
}

void *ar_pool_alloc_uncleared(struct ar_pool *p, size_t size)
{
    return alloc_raw(p, size);
}

void *ar_pool_alloc(struct ar_pool *p, size_t size)
{
    return memset(alloc_raw(p, size), 0, size);
}

const char *ar_pool_strndup(struct ar_pool *p, const char *s, size_t len)
{
    char *d = alloc_raw(p, len + 1);   /* every byte written below */
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

struct ar_pool_slot {
    const char *s;   /* NULL: empty */
    uint64_t hash;
    size_t len;
};

static uint64_t hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static void grow(struct ar_pool *p)
{
    size_t n = p->nslots ? p->nslots * 2 : 1024;
    struct ar_pool_slot *slots = memset(ar_big_realloc(NULL, n * sizeof *slots), 0, n * sizeof *slots);
    for (size_t i = 0; i < p->nslots; i++) {
        if (!p->slots[i].s)
            continue;
        size_t j = p->slots[i].hash & (n - 1);
        while (slots[j].s)
            j = (j + 1) & (n - 1);
        slots[j] = p->slots[i];
    }
    ar_big_free(p->slots);
    p->slots = slots;
    p->nslots = n;
}

const char *ar_pool_internn(struct ar_pool *p, const char *s, size_t len)
{
    if (2 * (p->used + 1) > p->nslots)
        grow(p);
    uint64_t h = hash(s, len);
    size_t j = h & (p->nslots - 1);
    while (p->slots[j].s) {
        if (p->slots[j].hash == h && p->slots[j].len == len && memcmp(p->slots[j].s, s, len) == 0)
            return p->slots[j].s;
        j = (j + 1) & (p->nslots - 1);
    }
    p->used++;
    p->slots[j] = (struct ar_pool_slot){ar_pool_strndup(p, s, len), h, len};
    return p->slots[j].s;
}

const char *ar_pool_intern(struct ar_pool *p, const char *s)
{
    return ar_pool_internn(p, s, strlen(s));
}

void ar_pool_absorb(struct ar_pool *p, struct ar_pool *from)
{
    if (from->chunks) {
        struct ar_pool_chunk *last = from->chunks;
        while (last->next)
            last = last->next;
        /* behind p's current chunk, which keeps handing out its room */
        if (p->chunks) {
            last->next = p->chunks->next;
            p->chunks->next = from->chunks;
        } else {
            p->chunks = from->chunks;
        }
        p->bytes += from->bytes;
    }
    ar_big_free(from->slots);
    memset(from, 0, sizeof *from);
}

void ar_pool_free(struct ar_pool *p)
{
    while (p->chunks) {
        struct ar_pool_chunk *next = p->chunks->next;
        if (p->chunks->big)
            ar_big_free(p->chunks);
        else
            free(p->chunks);
        p->chunks = next;
    }
    ar_big_free(p->slots);
    memset(p, 0, sizeof *p);
}

#include "hashmap.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

uint64_t hash_bytes(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
        p += 8;
        len -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, len);
    return mix64(h ^ w);
}

/* ------------------------------------------------------------------------ */
/* byte-string keys */

void bmap_init(struct bmap *m)
{
    memset(m, 0, sizeof *m);
}

void bmap_free(struct bmap *m)
{
    free(m->entries);
    free(m->slots);
    free(m->pool);
    memset(m, 0, sizeof *m);
}

static int bmap_grow_slots(struct bmap *m)
{
    size_t ns = m->nslots ? m->nslots * 2 : 1024;
    int32_t *slots = malloc(ns * sizeof *slots);
    if (!slots)
        return -1;
    memset(slots, 0xff, ns * sizeof *slots);
    for (size_t i = 0; i < m->n; i++) {
        size_t s = m->entries[i].hash & (ns - 1);
        while (slots[s] >= 0)
            s = (s + 1) & (ns - 1);
        slots[s] = (int32_t)i;
    }
    free(m->slots);
    m->slots = slots;
    m->nslots = ns;
    return 0;
}

static size_t bmap_slot(const struct bmap *m, const void *key, size_t len, uint64_t h)
{
    size_t s = h & (m->nslots - 1);
    for (;;) {
        int32_t i = m->slots[s];
        if (i < 0)
            return s;
        const struct bmap_entry *e = &m->entries[i];
        if (e->hash == h && e->len == len && memcmp(m->pool + e->off, key, len) == 0)
            return s;
        s = (s + 1) & (m->nslots - 1);
    }
}

struct bmap_entry *bmap_find(const struct bmap *m, const void *key, size_t len)
{
    if (!m->nslots)
        return NULL;
    size_t s = bmap_slot(m, key, len, hash_bytes(key, len));
    return m->slots[s] < 0 ? NULL : &m->entries[m->slots[s]];
}

struct bmap_entry *bmap_upsert(struct bmap *m, const void *key, size_t len, int *added)
{
    *added = 0;
    if ((m->n + 1) * 2 > m->nslots && bmap_grow_slots(m) < 0)
        return NULL;
    uint64_t h = hash_bytes(key, len);
    size_t s = bmap_slot(m, key, len, h);
    if (m->slots[s] >= 0)
        return &m->entries[m->slots[s]];
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 1024;
        struct bmap_entry *e = realloc(m->entries, nc * sizeof *e);
        if (!e)
            return NULL;
        m->entries = e;
        m->cap = nc;
    }
    if (m->pool_len + len > m->pool_cap) {
        size_t nc = m->pool_cap ? m->pool_cap * 2 : 65536;
        while (nc < m->pool_len + len)
            nc *= 2;
        char *p = realloc(m->pool, nc);
        if (!p)
            return NULL;
        m->pool = p;
        m->pool_cap = nc;
    }
    memcpy(m->pool + m->pool_len, key, len);
    struct bmap_entry *e = &m->entries[m->n];
    e->off = m->pool_len;
    e->len = (uint32_t)len;
    e->value = 0;
    e->hash = h;
    m->pool_len += len;
    m->slots[s] = (int32_t)m->n++;
    *added = 1;
    return e;
}

/* ------------------------------------------------------------------------ */
/* uint64 keys */

int u64map_init(struct u64map *m, size_t expected)
{
    size_t ns = 1024;
    while (ns < expected * 2)
        ns *= 2;
    m->keys = malloc(ns * sizeof *m->keys);
    m->values = malloc(ns * sizeof *m->values);
    m->used = calloc(ns, 1);
    m->n = 0;
    m->nslots = ns;
    if (!m->keys || !m->values || !m->used) {
        u64map_free(m);
        return -1;
    }
    return 0;
}

void u64map_free(struct u64map *m)
{
    free(m->keys);
    free(m->values);
    free(m->used);
    memset(m, 0, sizeof *m);
}

static size_t u64map_slot(const struct u64map *m, uint64_t key)
{
    size_t s = mix64(key) & (m->nslots - 1);
    while (m->used[s] && m->keys[s] != key)
        s = (s + 1) & (m->nslots - 1);
    return s;
}

uint32_t *u64map_find(const struct u64map *m, uint64_t key)
{
    if (!m->nslots)
        return NULL;
    size_t s = u64map_slot(m, key);
    return m->used[s] ? &m->values[s] : NULL;
}

static int u64map_grow(struct u64map *m)
{
    struct u64map bigger;
    if (u64map_init(&bigger, m->nslots) < 0)
        return -1;
    for (size_t i = 0; i < m->nslots; i++)
        if (m->used[i]) {
            size_t s = u64map_slot(&bigger, m->keys[i]);
            bigger.used[s] = 1;
            bigger.keys[s] = m->keys[i];
            bigger.values[s] = m->values[i];
            bigger.n++;
        }
    u64map_free(m);
    *m = bigger;
    return 0;
}

uint32_t *u64map_upsert(struct u64map *m, uint64_t key, uint32_t fresh)
{
    if ((m->n + 1) * 2 > m->nslots && u64map_grow(m) < 0)
        return NULL;
    size_t s = u64map_slot(m, key);
    if (!m->used[s]) {
        m->used[s] = 1;
        m->keys[s] = key;
        m->values[s] = fresh;
        m->n++;
    }
    return &m->values[s];
}

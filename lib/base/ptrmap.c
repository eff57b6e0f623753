#include "base/ptrmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/bigmem.h"

struct ar_ptrmap_slot {
    const void *a, *b;   /* a == NULL: empty */
    long v;
};

static size_t slot_of(const void *a, const void *b, size_t size)
{
    uint64_t h = ((uint64_t)(uintptr_t)a * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)(uintptr_t)b * 0xC2B2AE3D27D4EB4FULL);
    return (size_t)(h ^ (h >> 29)) & (size - 1);
}

static void grow(struct ar_ptrmap *m)
{
    size_t size = m->size ? m->size * 2 : 64;
    struct ar_ptrmap_slot *slots = memset(ar_big_realloc(NULL, size * sizeof *slots), 0, size * sizeof *slots);
    for (size_t i = 0; i < m->size; i++) {
        if (!m->slots[i].a)
            continue;
        size_t j = slot_of(m->slots[i].a, m->slots[i].b, size);
        while (slots[j].a)
            j = (j + 1) & (size - 1);
        slots[j] = m->slots[i];
    }
    ar_big_free(m->slots);
    m->slots = slots;
    m->size = size;
}

long *ar_ptrmap_at(struct ar_ptrmap *m, const void *a, const void *b)
{
    if (2 * (m->used + 1) > m->size)
        grow(m);
    size_t j = slot_of(a, b, m->size);
    while (m->slots[j].a) {
        if (m->slots[j].a == a && m->slots[j].b == b)
            return &m->slots[j].v;
        j = (j + 1) & (m->size - 1);
    }
    m->used++;
    m->slots[j] = (struct ar_ptrmap_slot){a, b, -1};
    return &m->slots[j].v;
}

long ar_ptrmap_get(const struct ar_ptrmap *m, const void *a, const void *b)
{
    if (!m->size)
        return -1;
    for (size_t j = slot_of(a, b, m->size); m->slots[j].a; j = (j + 1) & (m->size - 1))
        if (m->slots[j].a == a && m->slots[j].b == b)
            return m->slots[j].v;
    return -1;
}

void ar_ptrmap_free(struct ar_ptrmap *m)
{
    ar_big_free(m->slots);
    memset(m, 0, sizeof *m);
}

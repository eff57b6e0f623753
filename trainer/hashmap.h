/* Two small open-addressing hash maps used by the tokenizer: byte strings
 * to uint32 values (chunk counting, encode cache) and uint64 keys to
 * uint32 values (BPE pairs, merge ranks). Entries are kept in insertion
 * order, so iterating them is deterministic. No deletion. */
#ifndef AR_TRAINER_HASHMAP_H
#define AR_TRAINER_HASHMAP_H

#include <stddef.h>
#include <stdint.h>

struct bmap_entry {
    size_t off;        /* key bytes at pool + off */
    uint32_t len;
    uint32_t value;
    uint64_t hash;
};

struct bmap {
    struct bmap_entry *entries;
    size_t n, cap;         /* entries */
    int32_t *slots;        /* index into entries, -1 empty */
    size_t nslots;         /* power of two */
    char *pool;
    size_t pool_len, pool_cap;
};

void bmap_init(struct bmap *m);
void bmap_free(struct bmap *m);
/* Returns the entry for key, adding it with value 0 when absent (then
 * *added is 1). Returns NULL when memory runs out. The pointer is valid
 * until the next insertion. */
struct bmap_entry *bmap_upsert(struct bmap *m, const void *key, size_t len, int *added);
struct bmap_entry *bmap_find(const struct bmap *m, const void *key, size_t len);
static inline const char *bmap_key(const struct bmap *m, const struct bmap_entry *e)
{
    return m->pool + e->off;
}

struct u64map {
    uint64_t *keys;
    uint32_t *values;
    uint8_t *used;
    size_t n, nslots;
};

int u64map_init(struct u64map *m, size_t expected);
void u64map_free(struct u64map *m);
/* Pointer to the value of key, adding it with value `fresh` when absent;
 * NULL when memory runs out. Valid until the next insertion. */
uint32_t *u64map_upsert(struct u64map *m, uint64_t key, uint32_t fresh);
/* Pointer to the value of key, or NULL when absent. */
uint32_t *u64map_find(const struct u64map *m, uint64_t key);

uint64_t hash_bytes(const void *data, size_t len);

#endif

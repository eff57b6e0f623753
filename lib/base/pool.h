/* A string pool: an arena that hands out stable copies of strings, and
 * interns them so that equal strings share one pointer (platform classes,
 * sessions, agents and keys repeat across 100,000 cards). Everything is
 * freed at once with ar_pool_free. */
#ifndef AR_POOL_H
#define AR_POOL_H

#include <stddef.h>

struct ar_pool_slot;

struct ar_pool {
    struct ar_pool_chunk *chunks;
    struct ar_pool_slot *slots;   /* open-addressing table of interned strings */
    size_t nslots, used;
    size_t bytes;                 /* in its chunks */
};

/* A copy of len bytes at s, NUL-terminated, in the arena (not interned). */
const char *ar_pool_strndup(struct ar_pool *p, const char *s, size_t len);
/* The pool's one copy of s: equal strings give the same pointer. */
const char *ar_pool_intern(struct ar_pool *p, const char *s);
const char *ar_pool_internn(struct ar_pool *p, const char *s, size_t len);
/* size bytes of arena memory, zeroed, aligned for any type. */
void *ar_pool_alloc(struct ar_pool *p, size_t size);
/* The same, not cleared: for arrays filled in order before they are read. */
void *ar_pool_alloc_uncleared(struct ar_pool *p, size_t size);
/* Moves the memory of from into p (from is left empty): what was handed out
 * of from lives as long as p. Strings interned in from are no longer
 * interned (p's own copy of one, if any, is another pointer). */
void ar_pool_absorb(struct ar_pool *p, struct ar_pool *from);
void ar_pool_free(struct ar_pool *p);

#endif

/* A hash map from a pair of pointers to a long, for grouping by interned
 * strings (equal strings share one pointer in an ar_pool) without sorting:
 * cards by comparability key, replicates by (config_hash, key), claims by
 * name. Iteration order never depends on pointer values: callers keep their
 * own arrays in first-seen order and store indices here. */
#ifndef AR_PTRMAP_H
#define AR_PTRMAP_H

#include <stddef.h>

struct ar_ptrmap {
    struct ar_ptrmap_slot *slots;
    size_t size, used;
};

/* The value for (a, b); a must not be NULL. When absent, inserts it with
 * value -1 and returns a pointer to that, for the caller to fill. The
 * pointer is valid until the next call. */
long *ar_ptrmap_at(struct ar_ptrmap *m, const void *a, const void *b);
/* The value for (a, b), or -1. */
long ar_ptrmap_get(const struct ar_ptrmap *m, const void *a, const void *b);
void ar_ptrmap_free(struct ar_ptrmap *m);

#endif

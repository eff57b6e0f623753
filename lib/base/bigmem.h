/* Arrays that may grow to many megabytes (the summaries of 100,000 cards,
 * their hash maps, a pool's chunks), on transparent huge pages where the
 * kernel offers them (its madvise mode): a large array filled once then
 * costs a page fault per 2 MiB instead of one per 4 KiB. On a virtual
 * machine a fault costs microseconds: 35,000 of them were a quarter of the
 * CPU of a cold ar-brief at 100,000 cards. Small arrays stay malloc's. */
#ifndef AR_BIGMEM_H
#define AR_BIGMEM_H

#include <stddef.h>

#define AR_BIG_PAGE ((size_t)2 << 20)

/* As realloc: p is NULL or from ar_big_realloc; the first bytes keep
 * their values, the rest are not cleared. Aligned for any type. Aborts
 * when memory runs out, as ar_xrealloc does. */
void *ar_big_realloc(void *p, size_t n);
/* The bytes p can hold without moving (at least what it was asked for). */
size_t ar_big_room(const void *p);
void ar_big_free(void *p);

#endif

#include "base/bigmem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/err.h"

/* from 1 MiB on, a mapping of its own: malloc's small blocks share pages
 * anyway, and a half-used huge page is 2 MiB of memory */
#define BIG_MIN ((size_t)1 << 20)

/* before every block, keeping what follows aligned for any type */
struct head {
    size_t mapped;   /* the bytes of its mapping (from the head), 0 for malloc's */
    size_t room;     /* the bytes after the head */
};
_Static_assert(sizeof(struct head) % _Alignof(max_align_t) == 0, "head keeps the alignment");

static _Noreturn void out_of_memory(size_t n)
{
    ar_die(AR_EFAIL, "out of memory allocating %zu bytes", n);
}

/* A mapping of at least n bytes aligned to AR_BIG_PAGE: mapped one page
 * longer, then trimmed, as the kernel backs only aligned 2 MiB ranges with
 * huge pages. */
static struct head *map_block(size_t n)
{
    size_t size = (n + AR_BIG_PAGE - 1) / AR_BIG_PAGE * AR_BIG_PAGE;
    if (size < n || size + AR_BIG_PAGE < size)
        out_of_memory(n);
    char *raw = mmap(NULL, size + AR_BIG_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        out_of_memory(n);
    char *p = (char *)(((uintptr_t)raw + AR_BIG_PAGE - 1) & ~(uintptr_t)(AR_BIG_PAGE - 1));
    if (p > raw)
        munmap(raw, (size_t)(p - raw));
    if (raw + size + AR_BIG_PAGE > p + size)
        munmap(p + size, (size_t)(raw + size + AR_BIG_PAGE - (p + size)));
#ifdef MADV_HUGEPAGE
    madvise(p, size, MADV_HUGEPAGE);   /* a hint: refused, plain pages */
#endif
    struct head *h = (struct head *)p;
    h->mapped = size;
    h->room = size - sizeof *h;
    return h;
}

static struct head *head_of(const void *p)
{
    return (struct head *)p - 1;
}

void *ar_big_realloc(void *p, size_t n)
{
    struct head *h = p ? head_of(p) : NULL;
    if (h && n <= h->room && (h->mapped || n < BIG_MIN))
        return p;
    if (n > SIZE_MAX - sizeof *h)
        out_of_memory(n);
    struct head *to;
    if (n < BIG_MIN && (!h || !h->mapped)) {
        to = realloc(h, sizeof *h + n);
        if (!to)
            out_of_memory(n);
        to->mapped = 0;
        to->room = n;
        return to + 1;
    }
    to = map_block(sizeof *to + n);
    if (h) {
        memcpy(to + 1, p, h->room < n ? h->room : n);
        ar_big_free(p);
    }
    return to + 1;
}

size_t ar_big_room(const void *p)
{
    return p ? head_of(p)->room : 0;
}

void ar_big_free(void *p)
{
    if (!p)
        return;
    struct head *h = head_of(p);
    if (h->mapped)
        munmap(h, h->mapped);
    else
        free(h);
}

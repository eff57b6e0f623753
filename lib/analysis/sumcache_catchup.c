/* Bringing summaries read from the cache up to date: the index journal
 * names the cards whose lines changed since the cache's generation; only
 * those lines are found (binary search over the mapped index) and parsed.
 * A note rewrites its card's summary; a new card is merged in id order. */
#include "analysis/sumcache.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "index/index_journal.h"

static int cmp_id(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* Strings the cache holds take its pointer, so that equal strings still
 * share one (stats compare interned strings by pointer). */
static void share(const struct ar_kbstats *st, const char **s)
{
    const char *c = ar_sumcache_string(st, *s);
    if (c)
        *s = c;
}

static void share_all(const struct ar_kbstats *st, struct ar_cardsum *c)
{
#define S(f) share(st, &c->f);
    AR_CARDSUM_STRINGS(S)
#undef S
    for (int i = 0; i < c->ntags; i++)
        share(st, &c->tags[i]);
    for (int i = 0; i < c->nprior; i++)
        share(st, &c->prior[i]);
    for (int i = 0; i < c->nchanges; i++) {
        share(st, &c->changes[i].key);
        share(st, &c->changes[i].from);
        share(st, &c->changes[i].to);
    }
}

/* The index of the card with id in st's id-ordered cards, or -1. */
static long find_card(const struct ar_kbstats *st, const char *id)
{
    size_t lo = 0, hi = st->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->cards[mid].id, id);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Merges the id-ordered new cards into st's. */
static void merge_new(struct ar_kbstats *st, const struct ar_cardsum *add, size_t na)
{
    struct ar_cardsum *out = ar_xmalloc((st->n + na) * sizeof *out);
    size_t i = 0, j = 0, k = 0;
    while (i < st->n || j < na)
        out[k++] = j == na || (i < st->n && strcmp(st->cards[i].id, add[j].id) < 0) ? st->cards[i++] : add[j++];
    free(st->cards);
    st->cards = out;
    st->n = st->cap = k;
}

/* Parses the lines of ids (sorted, distinct) out of the mapped index. */
static int apply(struct ar_kbstats *st, const char *text, size_t len, const ar_card_id *ids, size_t n)
{
    struct ar_cardsum *add = ar_xmalloc((n ? n : 1) * sizeof *add);
    size_t na = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t s, e;
        struct ar_cardsum c;
        if (ar_index_find_sorted(text, len, ids[i], &s, &e) != 0 || ar_cardsum_parse(&st->pool, text + s, e - s, &c) != 0) {
            rc = -1;
            break;
        }
        share_all(st, &c);
        long at = find_card(st, c.id);
        if (at >= 0)
            st->cards[at] = c;
        else
            add[na++] = c;
    }
    if (rc == 0 && na)
        merge_new(st, add, na);
    free(add);
    return rc;
}

int ar_sumcache_catch_up(const struct ar_kb *kb, const struct ar_index_version *v, long gen, struct ar_kbstats *st)
{
    ar_card_id *ids;
    size_t n;
    if (ar_ijournal_read(kb, v->epoch, gen, v->gen, &ids, &n) != 0)
        return -1;
    qsort(ids, n, sizeof *ids, cmp_id);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || strcmp(ids[m - 1], ids[i]) != 0)
            memcpy(ids[m++], ids[i], sizeof *ids);
    char path[PATH_MAX];
    int fd = open(ar_kb_path(kb, "index.jsonl", path), O_RDONLY | O_CLOEXEC);
    struct stat sb;
    int rc = -1;
    if (fd >= 0 && fstat(fd, &sb) == 0 && sb.st_size == v->bytes && sb.st_size > 0) {
        size_t size = (size_t)sb.st_size;
        char *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map != MAP_FAILED) {
            rc = apply(st, map, size, ids, m);
            munmap(map, size);
        }
    }
    if (fd >= 0)
        close(fd);
    free(ids);
    return rc;
}

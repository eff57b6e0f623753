#include "analysis/sumcache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/ptrmap.h"
#include "base/sha256.h"

#define MAGIC "ARSUMv3"
#define NONE UINT32_MAX   /* a NULL string */

struct header {
    char magic[8];
    uint32_t byte_order;   /* 0x01020304 as written */
    uint32_t rec_size, change_size;
    uint32_t ncards, nchanges, nrefs;
    uint32_t nslots;       /* string table: a power of two */
    uint64_t blob;         /* bytes of strings */
    int64_t gen;           /* the index version the records hold */
    int64_t bytes;
    char root[24];         /* first 16 hex of the knowledge base's hash */
    char epoch[24];
};

/* strings are offsets into the blob */
struct rec {
#define F(f) uint32_t f;
    AR_CARDSUM_STRINGS(F)
#undef F
    uint32_t ntags, nprior, nchanges, first_ref, first_change;
    uint8_t has_bpb, has_delta, retracted, pad[5];
    double budget_s, val_bpb, delta, training_seconds;
    uint64_t idk[2];
};

struct crec {
    uint32_t key, from, to, numeric;
    double from_num, to_num;
};

/* The knowledge base's root, resolved, hashed: the cache's name and the
 * check that a cache belongs to it. */
static int root_hash(const struct ar_kb *kb, char hex[65])
{
    char real[PATH_MAX];
    if (!realpath(kb->root, real))
        return -1;
    ar_sha256_hex(real, strlen(real), hex);
    return 0;
}

static int cache_dir(char out[PATH_MAX])
{
    const char *dir = getenv("AR_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (dir && strcmp(dir, "off") == 0)
        return -1;
    if (dir && *dir)
        snprintf(out, PATH_MAX, "%s", dir);
    else if (xdg && *xdg)
        snprintf(out, PATH_MAX, "%s/ar", xdg);
    else if (home && *home)
        snprintf(out, PATH_MAX, "%s/.cache/ar", home);
    else
        return -1;
    return 0;
}

static int cache_path(const struct ar_kb *kb, char out[PATH_MAX])
{
    char dir[PATH_MAX], hex[65];
    if (cache_dir(dir) != 0 || root_hash(kb, hex) != 0)
        return -1;
    if ((size_t)snprintf(out, PATH_MAX, "%s/index-%.16s.sum", dir, hex) >= PATH_MAX)
        return -1;
    return 0;
}

/* FNV-1a: the string table's hash, the same when written and read */
static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* ------------------------------------------------------------ loading */

static const char *str_at(const char *blob, uint64_t size, uint32_t off, int *bad)
{
    if (off == NONE)
        return NULL;
    if (off >= size) {
        *bad = 1;
        return "";
    }
    return blob + off;
}

int ar_sumcache_load(const struct ar_kb *kb, const struct ar_index_version *v, struct ar_kbstats *st, long *gen)
{
    char path[PATH_MAX], hex[65];
    if (cache_path(kb, path) != 0 || root_hash(kb, hex) != 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || (size_t)sb.st_size < sizeof(struct header)) {
        close(fd);
        return -1;
    }
    size_t size = (size_t)sb.st_size;
    char *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return -1;
    const struct header *h = (const struct header *)map;
    size_t need = sizeof *h + (size_t)h->ncards * sizeof(struct rec) + (size_t)h->nchanges * sizeof(struct crec) +
                  ((size_t)h->nrefs + h->nslots) * sizeof(uint32_t);
    /* this epoch of this knowledge base's index, at its generation or an
     * older one the journal can bring up to date */
    int exact = h->gen == v->gen && h->bytes == v->bytes;
    if (memcmp(h->magic, MAGIC, 8) != 0 || h->byte_order != 0x01020304 || h->rec_size != sizeof(struct rec) ||
        h->change_size != sizeof(struct crec) || strncmp(h->root, hex, 16) != 0 || h->root[16] ||
        strncmp(h->epoch, v->epoch, sizeof h->epoch) != 0 || h->gen > v->gen || (h->gen == v->gen && !exact) ||
        need + h->blob != size || (h->blob && map[size - 1] != '\0') || (h->nslots & (h->nslots - 1))) {
        munmap(map, size);
        return -1;
    }
    const struct rec *recs = (const struct rec *)(map + sizeof *h);
    const struct crec *crecs = (const struct crec *)(recs + h->ncards);
    const uint32_t *refs = (const uint32_t *)(crecs + h->nchanges);
    const uint32_t *slots = refs + h->nrefs;
    const char *blob = (const char *)(slots + h->nslots);
    uint64_t bl = h->blob;
    int bad = 0;
    for (uint32_t i = 0; i < h->nslots && !bad; i++)
        bad = slots[i] != NONE && slots[i] >= bl;
    st->cap = h->ncards ? h->ncards : 1;
    st->cards = ar_xrealloc(st->cards, st->cap * sizeof *st->cards);
    st->n = 0;
    for (uint32_t i = 0; i < h->ncards && !bad; i++) {
        const struct rec *r = &recs[i];
        struct ar_cardsum *c = &st->cards[st->n++];
        memset(c, 0, sizeof *c);
#define S(f) c->f = str_at(blob, bl, r->f, &bad);
        AR_CARDSUM_STRINGS(S)
#undef S
        if (!c->id || !c->agent || !c->session || !c->category || !c->hypothesis || !c->status || !c->platform ||
            !c->fingerprint || !c->key || (uint64_t)r->first_ref + r->ntags + r->nprior > h->nrefs ||
            (uint64_t)r->first_change + r->nchanges > h->nchanges) {
            bad = 1;
            break;
        }
        c->idk[0] = r->idk[0];
        c->idk[1] = r->idk[1];
        c->budget_s = r->budget_s;
        c->val_bpb = r->val_bpb;
        c->delta = r->delta;
        c->training_seconds = r->training_seconds;
        c->has_bpb = r->has_bpb;
        c->has_delta = r->has_delta;
        c->retracted = r->retracted;
        c->group = -1;
        if (r->ntags + r->nprior) {
            const char **v = ar_pool_alloc(&st->pool, (r->ntags + r->nprior) * sizeof *v);
            for (uint32_t k = 0; k < r->ntags + r->nprior; k++)
                if (!(v[k] = str_at(blob, bl, refs[r->first_ref + k], &bad)))
                    bad = 1;
            c->tags = r->ntags ? v : NULL;
            c->ntags = (int)r->ntags;
            c->prior = r->nprior ? v + r->ntags : NULL;
            c->nprior = (int)r->nprior;
        }
        if (r->nchanges) {
            c->changes = ar_pool_alloc(&st->pool, r->nchanges * sizeof *c->changes);
            c->nchanges = (int)r->nchanges;
            for (uint32_t k = 0; k < r->nchanges; k++) {
                const struct crec *x = &crecs[r->first_change + k];
                struct ar_change *ch = &c->changes[k];
                ch->key = str_at(blob, bl, x->key, &bad);
                ch->from = str_at(blob, bl, x->from, &bad);
                ch->to = str_at(blob, bl, x->to, &bad);
                ch->numeric = (int)x->numeric;
                ch->from_num = x->from_num;
                ch->to_num = x->to_num;
                bad |= !ch->key || !ch->from || !ch->to;
            }
        }
    }
    if (bad) {
        st->n = 0;
        munmap(map, size);
        return -1;
    }
    st->map = map;
    st->maplen = size;
    *gen = (long)h->gen;
    return exact ? 0 : 1;
}

const char *ar_sumcache_string(const struct ar_kbstats *st, const char *s)
{
    if (!st->map || !s)
        return NULL;
    const struct header *h = st->map;
    const uint32_t *slots = (const uint32_t *)((const char *)st->map + sizeof *h +
                                               (size_t)h->ncards * sizeof(struct rec) +
                                               (size_t)h->nchanges * sizeof(struct crec)) + h->nrefs;
    const char *blob = (const char *)(slots + h->nslots);
    if (!h->nslots)
        return NULL;
    for (uint64_t j = str_hash(s) & (h->nslots - 1);; j = (j + 1) & (h->nslots - 1)) {
        if (slots[j] == NONE)
            return NULL;
        if (strcmp(blob + slots[j], s) == 0)
            return blob + slots[j];
    }
}

/* ------------------------------------------------------------ writing */

struct writer {
    struct ar_buf blob;
    struct ar_ptrmap by_ptr;    /* string pointer -> offset */
    struct ar_pool uniq;        /* content -> one pointer */
    struct ar_ptrmap by_uniq;   /* that pointer -> offset */
};

static uint32_t off_of(struct writer *w, const char *s)
{
    if (!s)
        return NONE;
    long *slot = ar_ptrmap_at(&w->by_ptr, s, NULL);
    if (*slot >= 0)
        return (uint32_t)*slot;
    const char *u = ar_pool_intern(&w->uniq, s);
    long *us = ar_ptrmap_at(&w->by_uniq, u, NULL);
    if (*us < 0) {
        *us = (long)w->blob.len;
        ar_buf_add(&w->blob, s, strlen(s) + 1);
    }
    /* the by_ptr slot may have moved when by_uniq grew: they are distinct maps */
    *ar_ptrmap_at(&w->by_ptr, s, NULL) = *us;
    return (uint32_t)*us;
}

/* The string table over the blob's strings (each there once). */
static void string_table(const struct ar_buf *blob, struct ar_buf *out, uint32_t *nslots)
{
    size_t nstr = 0;
    for (size_t i = 0; i < blob->len; i++)
        nstr += blob->data[i] == '\0';
    uint32_t n = 16;
    while (n < 2 * nstr)
        n *= 2;
    uint32_t *t = ar_xmalloc((size_t)n * sizeof *t);
    memset(t, 0xff, (size_t)n * sizeof *t);   /* NONE */
    for (size_t off = 0; off < blob->len; off += strlen(blob->data + off) + 1) {
        uint64_t j = str_hash(blob->data + off) & (n - 1);
        while (t[j] != NONE)
            j = (j + 1) & (n - 1);
        t[j] = (uint32_t)off;
    }
    ar_buf_add(out, t, (size_t)n * sizeof *t);
    free(t);
    *nslots = n;
}

int ar_sumcache_write(const struct ar_kb *kb, const struct ar_index_version *v, const struct ar_kbstats *st)
{
    const char *min = getenv("AR_CACHE_MIN_CARDS");
    char dir[PATH_MAX], path[PATH_MAX], hex[65];
    if (st->n < (size_t)(min && *min ? atol(min) : AR_SUMCACHE_MIN_CARDS) || cache_dir(dir) != 0 ||
        cache_path(kb, path) != 0 || root_hash(kb, hex) != 0)
        return 0;
    /* the cache directory and its parent (~/.cache) */
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        ar_mkdir(dir);
        *slash = '/';
    }
    if (ar_mkdir(dir) != 0)
        return -1;
    struct writer w = {0};
    struct ar_buf recs = {0}, crecs = {0}, refs = {0};
    uint32_t nchanges = 0, nrefs = 0;
    for (size_t i = 0; i < st->n; i++) {
        const struct ar_cardsum *c = &st->cards[i];
        struct rec r;
        memset(&r, 0, sizeof r);
#define S(f) r.f = off_of(&w, c->f);
        AR_CARDSUM_STRINGS(S)
#undef S
        r.ntags = (uint32_t)c->ntags;
        r.nprior = (uint32_t)c->nprior;
        r.nchanges = (uint32_t)c->nchanges;
        r.first_ref = nrefs;
        r.first_change = nchanges;
        r.has_bpb = (uint8_t)c->has_bpb;
        r.has_delta = (uint8_t)c->has_delta;
        r.retracted = (uint8_t)c->retracted;
        r.idk[0] = c->idk[0];
        r.idk[1] = c->idk[1];
        r.budget_s = c->budget_s;
        r.val_bpb = c->val_bpb;
        r.delta = c->delta;
        r.training_seconds = c->training_seconds;
        for (int k = 0; k < c->ntags; k++, nrefs++) {
            uint32_t o = off_of(&w, c->tags[k]);
            ar_buf_add(&refs, &o, sizeof o);
        }
        for (int k = 0; k < c->nprior; k++, nrefs++) {
            uint32_t o = off_of(&w, c->prior[k]);
            ar_buf_add(&refs, &o, sizeof o);
        }
        for (int k = 0; k < c->nchanges; k++, nchanges++) {
            const struct ar_change *ch = &c->changes[k];
            struct crec x = {off_of(&w, ch->key), off_of(&w, ch->from), off_of(&w, ch->to), (uint32_t)ch->numeric,
                             ch->from_num, ch->to_num};
            ar_buf_add(&crecs, &x, sizeof x);
        }
        ar_buf_add(&recs, &r, sizeof r);
    }
    int rc = 0;
    if (w.blob.len >= NONE) {
        rc = ar_fail(AR_EFAIL, "%s: more than 4 GiB of strings", path);
    } else {
        struct header h;
        memset(&h, 0, sizeof h);
        memcpy(h.magic, MAGIC, 8);
        h.byte_order = 0x01020304;
        h.rec_size = sizeof(struct rec);
        h.change_size = sizeof(struct crec);
        h.ncards = (uint32_t)st->n;
        h.nchanges = nchanges;
        h.nrefs = nrefs;
        h.blob = w.blob.len;
        h.gen = v->gen;
        h.bytes = v->bytes;
        memcpy(h.root, hex, 16);
        snprintf(h.epoch, sizeof h.epoch, "%s", v->epoch);
        struct ar_buf table = {0};
        string_table(&w.blob, &table, &h.nslots);
        struct ar_buf out = {0};
        ar_buf_add(&out, &h, sizeof h);
        const struct ar_buf *parts[] = {&recs, &crecs, &refs, &table, &w.blob};
        for (int i = 0; i < 5; i++)
            if (parts[i]->len)
                ar_buf_add(&out, parts[i]->data, parts[i]->len);
        rc = ar_write_atomic(path, out.data, out.len);
        ar_buf_free(&out);
        ar_buf_free(&table);
    }
    ar_buf_free(&recs);
    ar_buf_free(&crecs);
    ar_buf_free(&refs);
    ar_buf_free(&w.blob);
    ar_ptrmap_free(&w.by_ptr);
    ar_ptrmap_free(&w.by_uniq);
    ar_pool_free(&w.uniq);
    return rc;
}

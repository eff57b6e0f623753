#include "sumcache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "buf.h"
#include "err.h"
#include "ptrmap.h"
#include "sha256.h"

#define MAGIC "ARSUMv1"
#define NONE UINT32_MAX   /* a NULL string */

struct header {
    char magic[8];
    uint32_t byte_order;   /* 0x01020304 as written */
    uint32_t rec_size, change_size;
    uint32_t ncards, nchanges, nrefs;
    uint64_t blob;         /* bytes of strings */
    char stamp[192];
};

/* strings are offsets into the blob */
struct rec {
    uint32_t id, created, agent, session, commit, category, hypothesis, status, platform, fingerprint, key,
        config_hash, baseline, verifies, lesson;
    uint32_t ntags, nprior, nchanges, first_ref, first_change;
    uint8_t has_bpb, has_delta, retracted, pad[5];
    double budget_s, val_bpb, delta, training_seconds;
};

struct crec {
    uint32_t key, from, to, numeric;
    double from_num, to_num;
};

/* The knowledge base's root, resolved, hashed: the cache's name and the
 * first part of its stamp. */
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

int ar_sumcache_stamp(const struct ar_kb *kb, char out[AR_SUMCACHE_STAMP])
{
    char path[PATH_MAX], hex[65];
    struct stat sb;
    if (root_hash(kb, hex) != 0 || stat(ar_kb_path(kb, "index.jsonl", path), &sb) != 0)
        return -1;
    snprintf(out, AR_SUMCACHE_STAMP, "%s:%llu:%lld:%lld.%09ld:%lld.%09ld", hex, (unsigned long long)sb.st_ino,
             (long long)sb.st_size, (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec, (long long)sb.st_ctim.tv_sec,
             sb.st_ctim.tv_nsec);
    return 0;
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

int ar_sumcache_load(const struct ar_kb *kb, const char *stamp, struct ar_kbstats *st)
{
    char path[PATH_MAX];
    if (cache_path(kb, path) != 0)
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
                  (size_t)h->nrefs * sizeof(uint32_t);
    if (memcmp(h->magic, MAGIC, 8) != 0 || h->byte_order != 0x01020304 || h->rec_size != sizeof(struct rec) ||
        h->change_size != sizeof(struct crec) || strncmp(h->stamp, stamp, sizeof h->stamp) != 0 ||
        need + h->blob != size || (h->blob && map[size - 1] != '\0')) {
        munmap(map, size);
        return -1;
    }
    const struct rec *recs = (const struct rec *)(map + sizeof *h);
    const struct crec *crecs = (const struct crec *)(recs + h->ncards);
    const uint32_t *refs = (const uint32_t *)(crecs + h->nchanges);
    const char *blob = (const char *)(refs + h->nrefs);
    uint64_t bl = h->blob;
    int bad = 0;
    st->cap = h->ncards ? h->ncards : 1;
    st->cards = ar_xrealloc(st->cards, st->cap * sizeof *st->cards);
    st->n = 0;
    for (uint32_t i = 0; i < h->ncards && !bad; i++) {
        const struct rec *r = &recs[i];
        struct ar_cardsum *c = &st->cards[st->n++];
        memset(c, 0, sizeof *c);
#define S(f) c->f = str_at(blob, bl, r->f, &bad)
        S(id); S(created); S(agent); S(session); S(commit); S(category); S(hypothesis); S(status);
        S(platform); S(fingerprint); S(key); S(config_hash); S(baseline); S(verifies); S(lesson);
#undef S
        if (!c->id || !c->agent || !c->session || !c->category || !c->hypothesis || !c->status || !c->platform ||
            !c->fingerprint || !c->key || (uint64_t)r->first_ref + r->ntags + r->nprior > h->nrefs ||
            (uint64_t)r->first_change + r->nchanges > h->nchanges) {
            bad = 1;
            break;
        }
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
    return 0;
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

int ar_sumcache_write(const struct ar_kb *kb, const char *stamp, const struct ar_kbstats *st)
{
    const char *min = getenv("AR_CACHE_MIN_CARDS");
    char dir[PATH_MAX], path[PATH_MAX];
    if (st->n < (size_t)(min && *min ? atol(min) : AR_SUMCACHE_MIN_CARDS) || cache_dir(dir) != 0 ||
        cache_path(kb, path) != 0)
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
#define S(f) r.f = off_of(&w, c->f)
        S(id); S(created); S(agent); S(session); S(commit); S(category); S(hypothesis); S(status);
        S(platform); S(fingerprint); S(key); S(config_hash); S(baseline); S(verifies); S(lesson);
#undef S
        r.ntags = (uint32_t)c->ntags;
        r.nprior = (uint32_t)c->nprior;
        r.nchanges = (uint32_t)c->nchanges;
        r.first_ref = nrefs;
        r.first_change = nchanges;
        r.has_bpb = (uint8_t)c->has_bpb;
        r.has_delta = (uint8_t)c->has_delta;
        r.retracted = (uint8_t)c->retracted;
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
        snprintf(h.stamp, sizeof h.stamp, "%s", stamp);
        struct ar_buf out = {0};
        ar_buf_add(&out, &h, sizeof h);
        const struct ar_buf *parts[] = {&recs, &crecs, &refs, &w.blob};
        for (int i = 0; i < 4; i++)
            if (parts[i]->len)
                ar_buf_add(&out, parts[i]->data, parts[i]->len);
        rc = ar_write_atomic(path, out.data, out.len);
        ar_buf_free(&out);
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

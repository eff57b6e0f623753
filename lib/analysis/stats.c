#include "analysis/stats.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "facts/card.h"
#include "base/err.h"
#include "index/index.h"
#include "base/json.h"
#include "base/ptrmap.h"
#include "analysis/sumcache.h"

/* ------------------------------------------------------------ reading views */

const char *ar_stats_keyname(const char *fingerprint, double budget_s, const char *platform,
                             char *out, size_t size)
{
    snprintf(out, size, "%s|%g|%s", fingerprint && *fingerprint ? fingerprint : "-", budget_s,
             platform && *platform ? platform : "-");
    return out;
}

static struct ar_cardsum *next_slot(struct ar_kbstats *st)
{
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 256;
        st->cards = ar_xrealloc(st->cards, st->cap * sizeof *st->cards);
    }
    return &st->cards[st->n];
}

int ar_kbstats_add_text(struct ar_kbstats *st, const char *json, size_t len)
{
    /* the scanner reads numbers with strtod, which needs a terminator */
    char *copy = ar_xmalloc(len + 1);
    memcpy(copy, json, len);
    copy[len] = '\0';
    int rc = ar_cardsum_parse(&st->pool, copy, len, next_slot(st));
    free(copy);
    if (rc == 0)
        st->n++;
    return rc;
}

int ar_kbstats_add_view(struct ar_kbstats *st, jv view)
{
    char *text = ar_json_dump(view, AR_JSON_COMPACT);
    int rc = ar_cardsum_parse(&st->pool, text, strlen(text), next_slot(st));
    free(text);
    if (rc == 0)
        st->n++;
    return rc;
}

struct ar_kbstats *ar_kbstats_new(void)
{
    struct ar_kbstats *st = ar_xmalloc(sizeof *st);
    memset(st, 0, sizeof *st);
    return st;
}

void ar_kbstats_free(struct ar_kbstats *st)
{
    if (!st)
        return;
    free(st->cards);
    free(st->keys);
    free(st->noise);
    free(st->groups);
    free(st->idmap);
    ar_pool_free(&st->pool);
    if (st->map)
        munmap(st->map, st->maplen);
    ar_kbstats_free(st->owner);
    free(st);
}

/* ---------------------------------------------------------------- finishing */

static int cmp_card_id(const void *a, const void *b)
{
    return strcmp(((const struct ar_cardsum *)a)->id, ((const struct ar_cardsum *)b)->id);
}

void ar_stats_id_key(const char *s, uint64_t *hi, uint64_t *lo)
{
    uint64_t t = 0, h = 0;
    int ok = 1;
    for (int i = 0; i < 16 && ok; i++) {
        if (i == 8 || i == 15)
            ok = s[i] == (i == 8 ? 'T' : 'Z');
        else if ((ok = s[i] >= '0' && s[i] <= '9'))
            t = t * 10 + (uint64_t)(s[i] - '0');
    }
    ok = ok && s[16] == '-';
    for (int i = 17; i < AR_ID_LEN && ok; i++) {
        int c = s[i], d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        ok = d >= 0;
        h = h << 4 | (uint64_t)(d < 0 ? 0 : d);
    }
    if (ok && s[AR_ID_LEN] == '\0') {
        *hi = t;
        *lo = h;
        return;
    }
    uint64_t f = 1469598103934665603ULL;   /* FNV-1a */
    for (; *s; s++)
        f = (f ^ (unsigned char)*s) * 1099511628211ULL;
    *hi = f | (1ULL << 63);
    *lo = 0;
}

static size_t id_slot(uint64_t hi, uint64_t lo, size_t size)
{
    uint64_t x = (lo ^ hi * 0x9E3779B97F4A7C15ULL) * 0xff51afd7ed558ccdULL;
    return (size_t)(x >> 32 ^ x) & (size - 1);
}

/* ids are looked up for every baseline, prior card and verification: a hash
 * table whose slots hold the ids' numbers, so a lookup reads one slot
 * rather than the cards and strings of every probe */
static void build_idmap(struct ar_kbstats *st)
{
    free(st->idmap);
    size_t size = 16;
    while (size < 2 * st->n)
        size *= 2;
    st->idmap = ar_xmalloc(size * sizeof *st->idmap);
    st->idmap_size = size;
    for (size_t j = 0; j < size; j++)
        st->idmap[j].card = -1;
    for (size_t i = 0; i < st->n; i++) {
        uint64_t hi = st->cards[i].idk[0], lo = st->cards[i].idk[1];
        size_t j = id_slot(hi, lo, size);
        while (st->idmap[j].card >= 0)
            j = (j + 1) & (size - 1);
        st->idmap[j] = (struct ar_idslot){hi, lo, (long)i};
    }
}

long ar_stats_find(const struct ar_kbstats *st, const char *id)
{
    if (!st->idmap_size)
        return -1;
    uint64_t hi, lo;
    ar_stats_id_key(id, &hi, &lo);
    for (size_t j = id_slot(hi, lo, st->idmap_size);; j = (j + 1) & (st->idmap_size - 1)) {
        const struct ar_idslot *e = &st->idmap[j];
        if (e->card < 0)
            return -1;
        if (e->hi == hi && e->lo == lo && (!(hi >> 63) || strcmp(st->cards[e->card].id, id) == 0))
            return e->card;
    }
}

static void fill_deltas(struct ar_kbstats *st)
{
    for (size_t i = 0; i < st->n; i++) {
        struct ar_cardsum *c = &st->cards[i];
        if (c->has_delta || !c->counts || !c->baseline)
            continue;
        long b = ar_stats_find(st, c->baseline);
        if (b >= 0 && st->cards[b].counts && st->cards[b].key == c->key) {
            c->delta = c->val_bpb - st->cards[b].val_bpb;
            c->has_delta = 1;
        }
    }
}

static int cmp_keystat(const void *a, const void *b)
{
    return strcmp(((const struct ar_keystat *)a)->key, ((const struct ar_keystat *)b)->key);
}

/* Keys in first-seen order through a pointer map (keys are interned), then
 * sorted by name: no sort over the cards. */
static void build_keys(struct ar_kbstats *st, const size_t *idx, size_t m)
{
    struct ar_ptrmap map = {0};
    size_t cap = 16;
    st->keys = ar_xmalloc(cap * sizeof *st->keys);
    st->nkeys = 0;
    for (size_t j = 0; j < m; j++) {
        const struct ar_cardsum *c = &st->cards[idx[j]];
        long *slot = ar_ptrmap_at(&map, c->key, NULL);
        if (*slot < 0) {
            if (st->nkeys == cap)
                st->keys = ar_xrealloc(st->keys, (cap *= 2) * sizeof *st->keys);
            *slot = (long)st->nkeys;
            st->keys[st->nkeys++] = (struct ar_keystat){c->key, c->platform, c->fingerprint, c->budget_s, 0, -1, -1, 0, 0};
        }
        struct ar_keystat *k = &st->keys[*slot];
        k->runs++;
        /* id order: a later card with an equal val_bpb never replaces the best */
        if (k->best < 0 || c->val_bpb < st->cards[k->best].val_bpb)
            k->best = (int)idx[j];
        if (strcmp(c->status, "baseline") == 0) {
            if (k->baseline < 0)
                k->baseline = (int)idx[j];
            k->baselines++;
            k->baseline_mean += (c->val_bpb - k->baseline_mean) / k->baselines;
        }
    }
    ar_ptrmap_free(&map);
    qsort(st->keys, st->nkeys, sizeof *st->keys, cmp_keystat);
}

/* Replicate groups in the order of their first card (by id), so that every
 * machine sums them in the same order. */
static void build_groups(struct ar_kbstats *st, const size_t *idx, size_t m)
{
    struct ar_ptrmap map = {0};
    size_t cap = 16;
    st->groups = ar_xmalloc(cap * sizeof *st->groups);
    st->ngroups = 0;
    for (size_t j = 0; j < m; j++) {
        struct ar_cardsum *c = &st->cards[idx[j]];
        if (!c->config_hash)
            continue;
        long *slot = ar_ptrmap_at(&map, c->config_hash, c->key);   /* key: fingerprint, budget, class */
        if (*slot < 0) {
            if (st->ngroups == cap)
                st->groups = ar_xrealloc(st->groups, (cap *= 2) * sizeof *st->groups);
            *slot = (long)st->ngroups;
            st->groups[st->ngroups++] = (struct ar_group){c->platform, 0, 0, 0};
        }
        struct ar_group *gr = &st->groups[*slot];
        /* Welford: stable, and the same numbers for the same cards in id order */
        gr->runs++;
        double d = c->val_bpb - gr->mean;
        gr->mean += d / gr->runs;
        gr->m2 += d * (c->val_bpb - gr->mean);
        c->group = (int)*slot;
    }
    ar_ptrmap_free(&map);
}

static int cmp_noise(const void *a, const void *b)
{
    return strcmp(((const struct ar_noise *)a)->platform, ((const struct ar_noise *)b)->platform);
}

static void build_noise(struct ar_kbstats *st)
{
    st->noise = ar_xmalloc((st->nkeys ? st->nkeys : 1) * sizeof *st->noise);
    st->nnoise = 0;
    for (size_t k = 0; k < st->nkeys; k++) {   /* one entry per class */
        size_t j = 0;
        while (j < st->nnoise && st->noise[j].platform != st->keys[k].platform)
            j++;
        if (j == st->nnoise)
            st->noise[st->nnoise++] = (struct ar_noise){st->keys[k].platform, 0, 0, 0, 1};
    }
    qsort(st->noise, st->nnoise, sizeof *st->noise, cmp_noise);
    for (size_t j = 0; j < st->nnoise; j++) {
        struct ar_noise *nz = &st->noise[j];
        double ss = 0;
        int dof = 0;
        for (size_t g = 0; g < st->ngroups; g++) {
            const struct ar_group *gr = &st->groups[g];
            if (gr->platform != nz->platform || gr->runs < 2)
                continue;
            ss += gr->m2;
            dof += gr->runs - 1;
            nz->groups++;
            nz->runs += gr->runs;
        }
        if (dof > 0) {
            nz->sigma = sqrt(ss / dof);
            if (nz->sigma < AR_SIGMA_MIN)
                nz->sigma = AR_SIGMA_MIN;
            nz->is_default = 0;
        } else {
            nz->sigma = AR_SIGMA_DEFAULT;
        }
    }
}

void ar_kbstats_finish(struct ar_kbstats *st)
{
    int sorted = 1;
    for (size_t i = 1; i < st->n && sorted; i++)
        sorted = strcmp(st->cards[i - 1].id, st->cards[i].id) < 0;
    if (!sorted)
        qsort(st->cards, st->n, sizeof *st->cards, cmp_card_id);
    build_idmap(st);
    size_t m = 0, *idx = ar_xmalloc((st->n ? st->n : 1) * sizeof *idx);
    for (size_t i = 0; i < st->n; i++) {
        struct ar_cardsum *c = &st->cards[i];
        c->crash = strcmp(c->status, "crash") == 0;
        c->counts = !c->retracted && !c->crash && c->has_bpb;
        c->group = -1;
        if (c->counts)
            idx[m++] = i;
    }
    fill_deltas(st);
    build_keys(st, idx, m);
    build_groups(st, idx, m);
    build_noise(st);
    free(idx);
}

static struct ar_kbstats *subset_of(const struct ar_kbstats *st, const size_t *idx, size_t n, int parent_noise)
{
    struct ar_kbstats *sub = ar_kbstats_new();
    sub->cap = n ? n : 1;
    sub->cards = ar_xmalloc(sub->cap * sizeof *sub->cards);
    for (size_t i = 0; i < n; i++)
        sub->cards[sub->n++] = st->cards[idx[i]];
    ar_kbstats_finish(sub);
    for (size_t j = 0; parent_noise && j < sub->nnoise; j++) {
        const struct ar_noise *parent = ar_stats_noise(st, sub->noise[j].platform);
        if (parent)
            sub->noise[j] = *parent;
    }
    return sub;
}

struct ar_kbstats *ar_kbstats_subset(const struct ar_kbstats *st, const size_t *idx, size_t n)
{
    return subset_of(st, idx, n, 1);
}

/* ------------------------------------------------------------------ loading */

struct load_ctx {
    struct ar_kbstats *st;
    const struct ar_filter *f;
    const char *status;   /* the filter's status, normalised */
};

static int has_tag(const struct ar_cardsum *c, const char *tag)
{
    for (int i = 0; i < c->ntags; i++)
        if (strcmp(c->tags[i], tag) == 0)
            return 1;
    return 0;
}

/* ar_filter_match over a summary */
static int filter_match(const struct load_ctx *lc, const struct ar_cardsum *c)
{
    const struct ar_filter *f = lc->f;
    return !f || ((!f->status || strcmp(c->status, lc->status) == 0) &&
                  (!f->category || strcmp(c->category, f->category) == 0) &&
                  (!f->session || strcmp(c->session, f->session) == 0) &&
                  (!f->platform || strcmp(c->platform, f->platform) == 0) &&
                  (!f->since || (c->created && strcmp(c->created, f->since) >= 0)) &&
                  (!f->tag || has_tag(c, f->tag)));
}

static int load_line(const char *line, size_t len, void *ctx)
{
    struct load_ctx *lc = ctx;
    if (len == 0)
        return 0;
    struct ar_cardsum *c = next_slot(lc->st);
    if (ar_cardsum_parse(&lc->st->pool, line, len, c) != 0)
        return ar_fail(AR_EFAIL, "index.jsonl: %s (rebuild it with 'ar-card index')", ar_last_error());
    if (filter_match(lc, c))
        lc->st->n++;
    return 0;
}

/* Reads the fresh index through a read-only mapping: 100,000 views are
 * 230 MB, and copying them into a buffer the kernel first zeroes costs more
 * than parsing them. Writers replace the index by rename or append to it,
 * never truncate it in place, so the mapping stays valid; lines past the
 * last newline (an append under way) are left out. The scanner never reads
 * past a line's closing brace, so lines need no terminator. */
static int foreach_mapped(const struct ar_kb *kb, struct load_ctx *lc)
{
    char path[PATH_MAX];
    int fd = open(ar_kb_path(kb, "index.jsonl", path), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ar_fail(AR_EFAIL, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return ar_fail(AR_EFAIL, "%s: %s", path, strerror(errno));
    }
    size_t size = (size_t)sb.st_size;
    if (size == 0) {
        close(fd);
        return 0;
    }
    char *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return ar_fail(AR_EFAIL, "%s: cannot map: %s", path, strerror(errno));
    madvise(map, size, MADV_SEQUENTIAL);
    int rc = 0;
    for (char *p = map, *end = map + size; p < end && rc == 0;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        rc = load_line(p, (size_t)(nl - p), lc);
        p = nl + 1;
    }
    munmap(map, size);
    return rc;
}

static int same_version(const struct ar_index_version *a, const struct ar_index_version *b)
{
    return a->gen == b->gen && a->bytes == b->bytes && strcmp(a->epoch, b->epoch) == 0;
}

/* Summaries of every card of the fresh index: from the summary cache when
 * it holds this version, or an older generation brought up to date (and
 * written anew once many lines changed), else parsed from the index (and
 * cached). A cache is only kept when the index did not change meanwhile;
 * a knowledge base we may not write is read without one. */
static struct ar_kbstats *load_all(const struct ar_kb *kb)
{
    struct ar_index_version v, after;
    int versioned = ar_index_version(kb, &v) == 0;
    struct ar_kbstats *all = ar_kbstats_new();
    long gen = 0;
    int got = versioned ? ar_sumcache_load(kb, &v, all, &gen) : -1;
    if (got == 1 && (ar_sumcache_catch_up(kb, &v, gen, all) != 0 || ar_index_version(kb, &after) != 0 ||
                     !same_version(&v, &after))) {
        ar_kbstats_free(all);
        all = ar_kbstats_new();
        got = -1;
    }
    if (got < 0) {
        struct load_ctx lc = {all, NULL, NULL};
        if (foreach_mapped(kb, &lc) != 0) {
            ar_kbstats_free(all);
            return NULL;
        }
    }
    if ((got < 0 || (got == 1 && v.gen - gen >= AR_SUMCACHE_REWRITE)) && versioned &&
        ar_index_version(kb, &after) == 0 && same_version(&v, &after))
        (void)ar_sumcache_write(kb, &v, all);
    return all;
}

static int filter_active(const struct ar_filter *f)
{
    return f && (f->status || f->category || f->tag || f->session || f->platform || f->since);
}

int ar_kbstats_load(const struct ar_kb *kb, const struct ar_filter *f, struct ar_kbstats **out)
{
    if (f && ar_filter_check(f) != 0)
        return -1;
    if (ar_index_ensure(kb) != 0)
        return -1;
    struct ar_kbstats *all = load_all(kb);
    if (!all)
        return -1;
    ar_kbstats_finish(all);
    if (!filter_active(f)) {
        *out = all;
        return 0;
    }
    struct load_ctx lc = {all, f, f->status ? ar_card_status_norm(f->status) : NULL};
    size_t m = 0, *idx = ar_xmalloc((all->n ? all->n : 1) * sizeof *idx);
    for (size_t i = 0; i < all->n; i++)
        if (filter_match(&lc, &all->cards[i]))
            idx[m++] = i;
    struct ar_kbstats *sub = subset_of(all, idx, m, 0);
    free(idx);
    sub->owner = all;
    *out = sub;
    return 0;
}

/* ------------------------------------------------------------------ queries */

const struct ar_keystat *ar_stats_key(const struct ar_kbstats *st, const char *key)
{
    size_t lo = 0, hi = st->nkeys;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->keys[mid].key, key);
        if (c == 0)
            return &st->keys[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const struct ar_noise *ar_stats_noise(const struct ar_kbstats *st, const char *platform)
{
    for (size_t j = 0; j < st->nnoise; j++)
        if (strcmp(st->noise[j].platform, platform) == 0)
            return &st->noise[j];
    return NULL;
}

double ar_stats_sigma(const struct ar_kbstats *st, const char *platform)
{
    const struct ar_noise *nz = ar_stats_noise(st, platform);
    return nz ? nz->sigma : AR_SIGMA_DEFAULT;
}

double ar_stats_z(const struct ar_kbstats *st, const struct ar_cardsum *c)
{
    if (!c->has_delta)
        return 0;
    return -c->delta / ar_stats_sigma(st, c->platform);
}

int ar_stats_replicates(const struct ar_kbstats *st, size_t i)
{
    const struct ar_cardsum *c = &st->cards[i];
    if (!c->counts)
        return 0;
    return c->group >= 0 ? st->groups[c->group].runs : 1;
}

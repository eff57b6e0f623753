#include "analysis/stats.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include "base/bigmem.h"
#include "base/buf.h"
#include "facts/card.h"
#include "base/err.h"
#include "index/index.h"
#include "base/json.h"
#include "base/ptrmap.h"
#include "index/cardrow.h"

/* ------------------------------------------------------------ reading views */

int ar_stats_truncated(double training_seconds, double budget_s)
{
    return budget_s > 0 && training_seconds >= 0 && training_seconds < AR_FULL_BUDGET_FRAC * budget_s;
}

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
        st->cards = ar_big_realloc(st->cards, st->cap * sizeof *st->cards);
    }
    return &st->cards[st->n];
}

static const char *dup_opt(struct ar_pool *pool, const char *s)
{
    return s ? ar_pool_strndup(pool, s, strlen(s)) : NULL;
}

static int json_number(const char *text, double *out)
{
    if (!(*text == '-' || (*text >= '0' && *text <= '9')))
        return 0;
    char *e;
    *out = strtod(text, &e);
    return e != text;
}

/* The strings last interned for one member: most members take a few
 * values (classes, sessions, statuses, tags), and comparing with those is
 * cheaper than a lookup in a table of 100,000 strings. */
#define MEMO_WAYS 8

struct memo {
    const char *s[MEMO_WAYS];
    unsigned next;
};

static const char *intern_memo(struct ar_pool *pool, struct memo *m, const char *s, const char *dflt)
{
    if (!s)
        s = dflt;
    if (!m)
        return ar_pool_intern(pool, s);
    for (int i = 0; i < MEMO_WAYS && m->s[i]; i++)
        if (m->s[i][0] == s[0] && strcmp(m->s[i], s) == 0)
            return m->s[i];
    const char *v = ar_pool_intern(pool, s);
    m->s[m->next++ % MEMO_WAYS] = v;
    return v;
}

#define KEY_WAYS 64

struct row_memo {
    struct memo agent, session, category, status, platform, fingerprint, tag, change_key, prior;
    /* by the index's string numbers (lib/index/cardrow.h): each interned
     * once */
    const char **by_sid;
    size_t nsid;
    struct {   /* comparability keys by what they are made of (interned) */
        const char *fp, *plat, *key;
        double budget;
    } keys[KEY_WAYS];
};

static const char *key_memo(struct ar_pool *pool, struct row_memo *m, const char *fp, double budget,
                            const char *plat)
{
    size_t h = ((uintptr_t)fp * 31 + (uintptr_t)plat) * 0x9E3779B97F4A7C15ULL;
    uint64_t bits;
    memcpy(&bits, &budget, sizeof bits);
    h = (h ^ bits) * 0xff51afd7ed558ccdULL;
    size_t j = (h >> 40) % KEY_WAYS;
    if (m && m->keys[j].key && m->keys[j].fp == fp && m->keys[j].plat == plat && m->keys[j].budget == budget)
        return m->keys[j].key;
    char key[512];
    const char *k = ar_pool_intern(pool, ar_stats_keyname(fp, budget, plat, key, sizeof key));
    if (m) {
        m->keys[j].fp = fp;
        m->keys[j].plat = plat;
        m->keys[j].budget = budget;
        m->keys[j].key = k;
    }
    return k;
}

/* s interned, through its number sid when it has one. A string with a
 * number is converted once: equal ones share a pointer. Those that take
 * many values (config hashes and values, baselines) are copied rather than
 * interned, which spares the pool's table of every string (only strings
 * with numbers are compared by pointer with them: one load reads every
 * row from the index). */
#define SID_COPY 1

static const char *intern_sid_as(struct ar_pool *pool, struct row_memo *m, struct memo *fm, unsigned sid,
                                 const char *s, const char *dflt, int copy)
{
    if (!m || !sid || !s)
        return intern_memo(pool, fm, s, dflt);
    if (sid >= m->nsid) {
        size_t n = m->nsid ? m->nsid : 256;
        while (n <= sid)
            n *= 2;
        m->by_sid = ar_xrealloc(m->by_sid, n * sizeof *m->by_sid);
        memset(m->by_sid + m->nsid, 0, (n - m->nsid) * sizeof *m->by_sid);
        m->nsid = n;
    }
    if (!m->by_sid[sid])
        m->by_sid[sid] = copy ? ar_pool_strndup(pool, s, strlen(s)) : ar_pool_intern(pool, s);
    return m->by_sid[sid];
}

static const char *intern_sid(struct ar_pool *pool, struct row_memo *m, struct memo *fm, unsigned sid,
                              const char *s, const char *dflt)
{
    return intern_sid_as(pool, m, fm, sid, s, dflt, 0);
}

static const char **memo_list(struct ar_pool *pool, struct memo *m, const char **v, int n)
{
    if (n == 0)
        return NULL;
    const char **out = ar_pool_alloc(pool, (size_t)n * sizeof *out);
    for (int i = 0; i < n; i++)
        out[i] = intern_memo(pool, m, v[i], "");
    return out;
}

/* Copies of the strings of v; one equal to a string of the last few shares
 * its copy (cards build on the same few best cards: their lookups can be
 * memoised by pointer, ar_stats_find_memo), without a table of them all. */
static const char **dup_list(struct ar_pool *pool, struct memo *m, const char **v, int n)
{
    if (n == 0)
        return NULL;
    const char **out = ar_pool_alloc(pool, (size_t)n * sizeof *out);
    for (int i = 0; i < n; i++) {
        const char *s = v[i], *hit = NULL;
        for (int k = 0; m && k < MEMO_WAYS && m->s[k] && !hit; k++)
            if (m->s[k][0] == s[0] && strcmp(m->s[k], s) == 0)
                hit = m->s[k];
        out[i] = hit ? hit : ar_pool_strndup(pool, s, strlen(s));
        if (m && !hit)
            m->s[m->next++ % MEMO_WAYS] = out[i];
    }
    return out;
}

/* The summary of a card from its index row, strings in pool (interned
 * where they repeat across cards, so equal ones share a pointer). */
static void from_row(struct ar_pool *pool, const struct ar_cardrow *r, struct ar_cardsum *c, struct row_memo *m)
{
    memset(c, 0, sizeof *c);
    c->id = ar_pool_strndup(pool, r->id, strlen(r->id));
    c->created = dup_opt(pool, r->created);
    c->agent = intern_sid(pool, m, m ? &m->agent : NULL, r->sid[AR_SID_AGENT], r->agent, "");
    c->session = intern_sid(pool, m, m ? &m->session : NULL, r->sid[AR_SID_SESSION], r->session, "");
    c->commit = dup_opt(pool, r->commit);
    c->category = intern_sid(pool, m, m ? &m->category : NULL, r->sid[AR_SID_CATEGORY], r->category, "other");
    c->hypothesis = r->hypothesis ? dup_opt(pool, r->hypothesis) : "";
    const char *status = r->status ? ar_card_status_norm(r->status) : NULL;
    c->status = intern_sid(pool, m, m ? &m->status : NULL, status == r->status ? r->sid[AR_SID_STATUS] : 0, status, "");
    c->platform = intern_sid(pool, m, m ? &m->platform : NULL, r->sid[AR_SID_PLATFORM], r->platform, "");
    c->fingerprint = intern_sid(pool, m, m ? &m->fingerprint : NULL, r->sid[AR_SID_FINGERPRINT], r->fingerprint, "");
    c->config_hash = !r->config_hash ? NULL
                     : r->sid[AR_SID_CONFIG_HASH] && m
                         ? intern_sid_as(pool, m, NULL, r->sid[AR_SID_CONFIG_HASH], r->config_hash, "", SID_COPY)
                                                  : ar_pool_intern(pool, r->config_hash);
    c->baseline = !r->baseline ? NULL
                  : r->sid[AR_SID_BASELINE] && m
                      ? intern_sid_as(pool, m, NULL, r->sid[AR_SID_BASELINE], r->baseline, "", SID_COPY)
                                                 : dup_opt(pool, r->baseline);
    c->verifies = dup_opt(pool, r->verifies);
    c->lesson = dup_opt(pool, r->lesson);
    c->budget_s = r->has_budget ? r->budget_s : 0;
    c->has_bpb = r->has_bpb;
    c->val_bpb = r->has_bpb ? r->val_bpb : 0;
    c->has_delta = r->has_delta;
    c->delta = r->has_delta ? r->delta : 0;
    c->training_seconds = r->has_training ? r->training_seconds : 0;
    c->truncated = r->has_training && r->has_budget && ar_stats_truncated(r->training_seconds, r->budget_s);
    c->retracted = r->retracted;
    c->tags = memo_list(pool, m ? &m->tag : NULL, r->tags, r->ntags);
    c->ntags = r->ntags;
    c->prior = dup_list(pool, m ? &m->prior : NULL, r->prior, r->nprior);
    c->nprior = r->nprior;
    if (r->nchanges) {
        c->changes = ar_pool_alloc(pool, (size_t)r->nchanges * sizeof *c->changes);
        for (int i = 0; i < r->nchanges; i++) {
            struct ar_change *ch = &c->changes[i];
            ch->key = intern_sid(pool, m, m ? &m->change_key : NULL, r->changes[i].key_sid, r->changes[i].key, "");
            ch->from = intern_sid_as(pool, m, NULL, r->changes[i].from_sid, r->changes[i].from, "", SID_COPY);
            ch->to = intern_sid_as(pool, m, NULL, r->changes[i].to_sid, r->changes[i].to, "", SID_COPY);
            int a = json_number(ch->from, &ch->from_num), b = json_number(ch->to, &ch->to_num);
            ch->numeric = a && b;
        }
        c->nchanges = r->nchanges;
    }
    c->key = key_memo(pool, m, c->fingerprint, c->budget_s, c->platform);
    c->group = -1;
    ar_stats_id_key(c->id, &c->idk[0], &c->idk[1]);
}

int ar_cardsum_parse(struct ar_pool *pool, const char *text, size_t len, struct ar_cardsum *c)
{
    struct ar_pool tmp = {0};
    struct ar_cardrow r;
    int rc = ar_cardrow_parse(&tmp, text, len, &r);
    if (rc == 0)
        from_row(pool, &r, c, NULL);
    ar_pool_free(&tmp);
    return rc;
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
    ar_big_free(st->cards);
    free(st->keys);
    free(st->noise);
    free(st->groups);
    ar_big_free(st->idmap);
    ar_pool_free(&st->pool);
    ar_kbstats_free(st->owner);
    free(st);
}

/* ---------------------------------------------------------------- finishing */

/* Two ids in strcmp order. Ids of the id form (top bit of idk[0] clear)
 * have fixed-width digits, so their numbers order exactly as their text
 * does: compared as numbers, the strings need not be read. */
static int id_order(const struct ar_cardsum *x, const struct ar_cardsum *y)
{
    if (!((x->idk[0] | y->idk[0]) >> 63)) {
        if (x->idk[0] != y->idk[0])
            return x->idk[0] < y->idk[0] ? -1 : 1;
        return (x->idk[1] > y->idk[1]) - (x->idk[1] < y->idk[1]);
    }
    return strcmp(x->id, y->id);
}

static int cmp_card_id(const void *a, const void *b)
{
    return id_order(a, b);
}

/* the decimal digits s[0..n) onto t; 0 at the first that is not one (a
 * NUL included, so nothing past the string is read) */
static int id_digits(const char *s, int n, uint64_t *t)
{
    uint64_t v = *t;
    for (int i = 0; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9)
            return 0;
        v = v * 10 + d;
    }
    *t = v;
    return 1;
}

void ar_stats_id_key(const char *s, uint64_t *hi, uint64_t *lo)
{
    uint64_t t = 0, h = 0;
    /* YYYYMMDD 'T' HHMMSS 'Z' '-' then 12 hex digits, checked in order */
    int ok = id_digits(s, 8, &t) && s[8] == 'T' && id_digits(s + 9, 6, &t) && s[15] == 'Z' && s[16] == '-';
    for (int i = 17; i < AR_ID_LEN && ok; i++) {
        unsigned c = (unsigned char)s[i], d = c - '0', x = c - 'a';
        ok = d <= 9 || x <= 5;
        h = h << 4 | (uint64_t)(d <= 9 ? d : x + 10);
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
    ar_big_free(st->idmap);
    size_t size = 16;
    while (size < 2 * st->n)
        size *= 2;
    st->idmap = ar_big_realloc(NULL, size * sizeof *st->idmap);
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

long ar_stats_find_memo(const struct ar_kbstats *st, struct ar_find_memo *m, const char *id)
{
    size_t j = (size_t)(((uintptr_t)id >> 4) * 0x9E3779B97F4A7C15ULL >> 58) % AR_FIND_MEMO;
    if (m->id[j] == id)
        return m->at[j];
    long at = ar_stats_find(st, id);
    m->id[j] = id;
    m->at[j] = at;
    return at;
}

static void fill_delta(struct ar_kbstats *st, struct ar_find_memo *memo, struct ar_cardsum *c)
{
    if (c->has_delta || !c->counts || !c->baseline)
        return;
    long b = ar_stats_find_memo(st, memo, c->baseline);
    if (b >= 0 && st->cards[b].counts && st->cards[b].key == c->key) {
        c->delta = c->val_bpb - st->cards[b].val_bpb;
        c->has_delta = 1;
    }
}

static int cmp_keystat(const void *a, const void *b)
{
    return strcmp(((const struct ar_keystat *)a)->key, ((const struct ar_keystat *)b)->key);
}

/* Keys in first-seen order through a pointer map (keys are interned), then
 * sorted by name (keys_done): no sort over the cards. Counted cards are
 * added in id order. */
static void key_add(struct ar_kbstats *st, struct ar_ptrmap *map, size_t *cap, size_t i)
{
    const struct ar_cardsum *c = &st->cards[i];
    long *slot = ar_ptrmap_at(map, c->key, NULL);
    if (*slot < 0) {
        if (st->nkeys == *cap)
            st->keys = ar_xrealloc(st->keys, (*cap *= 2) * sizeof *st->keys);
        *slot = (long)st->nkeys;
        st->keys[st->nkeys++] = (struct ar_keystat){c->key, c->platform, c->fingerprint, c->budget_s, 0, -1, -1, 0, 0};
    }
    struct ar_keystat *k = &st->keys[*slot];
    k->runs++;
    /* id order: a later card with an equal val_bpb never replaces the best */
    if (k->best < 0 || c->val_bpb < st->cards[k->best].val_bpb)
        k->best = (int)i;
    if (strcmp(c->status, "baseline") == 0) {
        if (k->baseline < 0)
            k->baseline = (int)i;
        k->baselines++;
        k->baseline_mean += (c->val_bpb - k->baseline_mean) / k->baselines;
    }
}

/* Replicate groups in the order of their first card (by id), so that every
 * machine sums them in the same order. */
static void group_add(struct ar_kbstats *st, struct ar_ptrmap *map, size_t *cap, size_t i)
{
    struct ar_cardsum *c = &st->cards[i];
    if (!c->config_hash || c->truncated)   /* a truncated run measures another budget */
        return;
    long *slot = ar_ptrmap_at(map, c->config_hash, c->key);   /* key: fingerprint, budget, class */
    if (*slot < 0) {
        if (st->ngroups == *cap)
            st->groups = ar_xrealloc(st->groups, (*cap *= 2) * sizeof *st->groups);
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
            st->noise[st->nnoise++] = (struct ar_noise){.platform = st->keys[k].platform, .is_default = 1};
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
        nz->dof = dof;
        if (dof > 0) {
            nz->pooled = sqrt(ss / dof);
            double d0 = AR_SIGMA_PRIOR_DOF;
            nz->sigma = sqrt((d0 * AR_SIGMA_DEFAULT * AR_SIGMA_DEFAULT + ss) / (d0 + dof));
            if (nz->sigma < AR_SIGMA_MIN)
                nz->sigma = AR_SIGMA_MIN;
            nz->is_default = 0;
        } else {
            nz->sigma = AR_SIGMA_DEFAULT;
        }
    }
}

/* Two passes over the cards (each pass over 100,000 cards reads them from
 * memory again): the first checks the order and says which count, the
 * second fills deltas and prior cards and adds the counted ones to their
 * keys and replicate groups. */
static int first_pass(struct ar_kbstats *st)
{
    int sorted = 1;
    for (size_t i = 0; i < st->n; i++) {
        struct ar_cardsum *c = &st->cards[i];
        if (i && sorted)
            sorted = id_order(&st->cards[i - 1], c) < 0;
        c->crash = strcmp(c->status, "crash") == 0;
        c->counts = !c->retracted && !c->crash && c->has_bpb;
        c->group = -1;
    }
    return sorted;
}

/* The counted cards into their keys and replicate groups, in id order.
 * It needs no id lookups: on a large base it runs on a thread of its own
 * while the id table is built and the deltas and prior cards looked up
 * (each writes fields of the cards the other never reads). */
static void *keys_groups(void *arg)
{
    struct ar_kbstats *st = arg;
    struct ar_ptrmap keymap = {0}, groupmap = {0};
    size_t kcap = 16, gcap = 16;
    st->keys = ar_xmalloc(kcap * sizeof *st->keys);
    st->nkeys = 0;
    st->groups = ar_xmalloc(gcap * sizeof *st->groups);
    st->ngroups = 0;
    for (size_t i = 0; i < st->n; i++)
        if (st->cards[i].counts) {
            key_add(st, &keymap, &kcap, i);
            group_add(st, &groupmap, &gcap, i);
        }
    ar_ptrmap_free(&keymap);
    ar_ptrmap_free(&groupmap);
    qsort(st->keys, st->nkeys, sizeof *st->keys, cmp_keystat);
    return NULL;
}

void ar_kbstats_finish(struct ar_kbstats *st)
{
    if (!first_pass(st))
        qsort(st->cards, st->n, sizeof *st->cards, cmp_card_id);
    pthread_t th;
    int threaded = st->n >= 2000 && pthread_create(&th, NULL, keys_groups, st) == 0;
    build_idmap(st);
    /* the first prior card of each, in card order: its id, in the pool
     * beside the card's, is at hand now, not when a claim visits its
     * cards far apart (lib/analysis/findings.c) */
    struct ar_find_memo dmemo = {0}, pmemo = {0};
    for (size_t i = 0; i < st->n; i++) {
        struct ar_cardsum *c = &st->cards[i];
        fill_delta(st, &dmemo, c);
        c->prior_at = c->nprior ? ar_stats_find_memo(st, &pmemo, c->prior[0]) : -1;
    }
    if (threaded)
        pthread_join(th, NULL);
    else
        keys_groups(st);
    build_noise(st);
}

static struct ar_kbstats *subset_of(const struct ar_kbstats *st, const size_t *idx, size_t n, int parent_noise)
{
    struct ar_kbstats *sub = ar_kbstats_new();
    sub->cap = n ? n : 1;
    sub->cards = ar_big_realloc(NULL, sub->cap * sizeof *sub->cards);
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

struct load_rows {
    struct ar_kbstats *st;
    struct row_memo memo;
};

static int load_row(const struct ar_cardrow *r, void *ctx)
{
    struct load_rows *l = ctx;
    if (l->st->n == 0 && r->rows_hint > l->st->cap) {   /* one block, not doublings and copies */
        l->st->cap = r->rows_hint;
        l->st->cards = ar_big_realloc(l->st->cards, l->st->cap * sizeof *l->st->cards);
    }
    from_row(&l->st->pool, r, next_slot(l->st), &l->memo);
    l->st->n++;
    return 0;
}

/* Summaries of every card of the fresh index, from its rows. */
static struct ar_kbstats *load_all(const struct ar_kb *kb)
{
    struct ar_kbstats *all = ar_kbstats_new();
    struct load_rows l;
    memset(&l, 0, sizeof l);
    l.st = all;
    int rc = ar_index_rows(kb, load_row, &l);
    free(l.memo.by_sid);
    if (rc != 0) {
        ar_kbstats_free(all);
        return NULL;
    }
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

#include "analysis/findings.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bigmem.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/ptrmap.h"

/* --------------------------------------------------------------- the rule */

double ar_certainty_rate(double c)
{
    return 1.0 / (1.0 + exp(10.0 * (c - 0.5)));
}

double ar_certainty_update(double c, enum ar_outcome o, double weight)
{
    double r = AR_CERTAINTY_STEP * ar_certainty_rate(c) * weight;
    if (r > 1)
        r = 1;
    switch (o) {
    case AR_CONFIRM:
        return c + r * (1 - c);
    case AR_REFUTE:
        return c - r * c;
    case AR_NULL:
        return c - r * AR_NULL_PULL * c;
    }
    return c;
}

enum ar_outcome ar_outcome_of(double z)
{
    return z >= AR_Z_CONFIRM ? AR_CONFIRM : z <= -AR_Z_CONFIRM ? AR_REFUTE : AR_NULL;
}

static const char *verdict_of(const struct ar_tally *t)
{
    if (t->runs == 0)
        return t->crashes ? "crashed" : "untested";
    if (t->confirms == 0 && t->refutes == 0)
        return "null";
    if (t->certainty >= 0.5 && t->confirms > t->refutes)
        return "confirmed";
    if (t->certainty < AR_CERTAINTY_START && t->refutes > t->confirms)
        return "refuted";
    return "mixed";
}

/* ------------------------------------------------------------ claim names */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "KEY:up", "KEY:down", "KEY=VALUE" into b; 0 when the entry changes nothing */
static int part_name(struct ar_buf *b, const struct ar_change *ch)
{
    if (ch->numeric) {
        if (ch->to_num == ch->from_num)
            return 0;
        ar_buf_printf(b, "%s:%s", ch->key, ch->to_num > ch->from_num ? "up" : "down");
        return 1;
    }
    if (strcmp(ch->from, ch->to) == 0)
        return 0;
    ar_buf_printf(b, "%s=", ch->key);
    if (ch->to[0] == '"') {
        jv s = jv_parse(ch->to);
        if (jv_get_kind(s) == JV_KIND_STRING)
            ar_buf_puts(b, jv_string_value(s));
        jv_free(s);
    } else {
        ar_buf_puts(b, ch->to);
    }
    return 1;
}

const char *ar_claim_name(struct ar_pool *p, const struct ar_change *ch, int n)
{
    if (n == 1 && ch->numeric) {   /* the common case, without allocations */
        char name[256];
        if (ch->to_num == ch->from_num)
            return NULL;
        int len = snprintf(name, sizeof name, "%s:%s", ch->key, ch->to_num > ch->from_num ? "up" : "down");
        if (len > 0 && (size_t)len < sizeof name)
            return ar_pool_internn(p, name, (size_t)len);
    }
    char *parts_small[8], **parts = n <= 8 ? parts_small : ar_xmalloc((size_t)n * sizeof *parts);
    int m = 0;
    for (int i = 0; i < n; i++) {
        struct ar_buf b = {0};
        if (part_name(&b, &ch[i]))
            parts[m++] = ar_buf_take(&b);
        ar_buf_free(&b);
    }
    const char *out = NULL;
    if (m > 0) {
        qsort(parts, (size_t)m, sizeof *parts, cmp_str);
        struct ar_buf b = {0};
        for (int i = 0; i < m; i++) {
            if (i)
                ar_buf_putc(&b, '+');
            ar_buf_puts(&b, parts[i]);
        }
        out = ar_pool_internn(p, b.data, b.len);
        ar_buf_free(&b);
    }
    for (int i = 0; i < m; i++)
        free(parts[i]);
    if (parts != parts_small)
        free(parts);
    return out;
}

/* ------------------------------------------------------------ building */

struct entry {
    const char *claim;
    int card;
};

static int cmp_tally(const void *a, const void *b)
{
    return strcmp(((const struct ar_tally *)a)->platform, ((const struct ar_tally *)b)->platform);
}

static struct ar_tally *class_tally(struct ar_claim *cl, const char *platform)
{
    for (int i = 0; i < cl->nclasses; i++)
        if (cl->classes[i].platform == platform)
            return &cl->classes[i];
    struct ar_tally *t = &cl->classes[cl->nclasses++];
    memset(t, 0, sizeof *t);
    t->platform = platform;
    t->certainty = AR_CERTAINTY_START;
    return t;
}

double ar_evidence_strength(double z)
{
    double a = fabs(z);
    if (!(a > 4))
        return 1;
    double x = log2(a / 2);
    return x > AR_STRENGTH_MAX ? AR_STRENGTH_MAX : x;
}

static void range_add(struct ar_range *r, double a, double b)
{
    double lo = a < b ? a : b, hi = a < b ? b : a;
    if (!r->n || lo < r->lo)
        r->lo = lo;
    if (!r->n || hi > r->hi)
        r->hi = hi;
    r->n++;
}

static void tally_add(struct ar_tally *t, const struct ar_evidence *e, const struct ar_cardsum *c, double w,
                      int numeric)
{
    if (e->crash) {
        t->crashes++;
        t->certainty = ar_certainty_update(t->certainty, AR_REFUTE, w);
        if (numeric)
            range_add(&t->lost, c->changes[0].from_num, c->changes[0].to_num);
        return;
    }
    t->confirms += e->outcome == AR_CONFIRM;
    t->refutes += e->outcome == AR_REFUTE;
    t->nulls += e->outcome == AR_NULL;
    t->runs++;
    t->effect += (c->delta - t->effect) / t->runs;
    t->zsum += e->z;
    if (t->runs == 1 || e->z < t->zmin)
        t->zmin = e->z;
    if (t->runs == 1 || e->z > t->zmax)
        t->zmax = e->z;
    double ws = w * e->strength;
    t->certainty = ar_certainty_update(t->certainty, e->outcome, ws > AR_WEIGHT_MAX ? AR_WEIGHT_MAX : ws);
    if (numeric && e->outcome != AR_NULL)
        range_add(e->outcome == AR_CONFIRM ? &t->won : &t->lost, c->changes[0].from_num, c->changes[0].to_num);
}

double ar_claim_importance(const struct ar_claim *c)
{
    return c->all.zsum - 2.0 * c->all.crashes;
}

/* Which (agent, class) pairs have given evidence for a claim: an
 * open-addressing set of interned pointer pairs. */
struct pairset {
    const void **slots;   /* 2 per entry */
    size_t cap;
};

static int pairset_add(struct pairset *ps, const void *a, const void *b)
{
    size_t h = ((size_t)a * 31 + (size_t)b) * 0x9E3779B97F4A7C15ULL;
    for (size_t j = (h >> 17) & (ps->cap - 1);; j = (j + 1) & (ps->cap - 1)) {
        if (!ps->slots[2 * j]) {
            ps->slots[2 * j] = a;
            ps->slots[2 * j + 1] = b;
            return 0;
        }
        if (ps->slots[2 * j] == a && ps->slots[2 * j + 1] == b)
            return 1;
    }
}

/* The weights of evidence from card c given the claim's earlier evidence
 * (earlier: there is some): *w for the claim, *wc within the card's class
 * (whose tally is t). Records the card's (agent, class). */
static void weights(struct pairset *ps, int earlier, const struct ar_tally *t, const struct ar_cardsum *c,
                    double *w, double *wc)
{
    int rerun = pairset_add(ps, c->agent, c->platform);
    *wc = rerun ? AR_W_RERUN : 1;
    if (rerun)
        *w = AR_W_RERUN;
    else if (earlier && t->runs == 0)
        *w = AR_W_REPLICATION;
    else
        *w = 1;
}

static void add_link(struct ar_pool *pool, struct ar_claim *cl, int *cap, struct ar_link l)
{
    if (cl->nlinks == *cap) {
        int ncap = *cap ? *cap * 2 : 4;
        struct ar_link *nl = ar_pool_alloc_uncleared(pool, (size_t)ncap * sizeof *nl);   /* filled in order */
        if (cl->nlinks)
            memcpy(nl, cl->links, (size_t)cl->nlinks * sizeof *nl);
        cl->links = nl;
        *cap = ncap;
    }
    cl->links[cl->nlinks++] = l;
}

/* The outcome of card i when it is scoreable, else -1. */
static int card_outcome(const struct ar_kbstats *st, long i)
{
    if (i < 0)
        return -1;
    const struct ar_cardsum *c = &st->cards[i];
    if (!c->counts || !c->has_delta || strcmp(c->status, "baseline") == 0)
        return -1;
    return (int)ar_outcome_of(ar_stats_z(st, c));
}

/* Two ranges of tested values that do not meet: halving the batch from
 * 2^19 and halving it from 2^15 are not the same experiment. */
static int disjoint(const struct ar_range *x, const struct ar_range *y)
{
    return x->n && y->n && (x->hi < y->lo || y->hi < x->lo);
}

/* CONTRADICTS links; returns how many confirmed/refuted class pairs were
 * tested over ranges that do not meet (no contradiction, but a claim that
 * holds in one range and not in another). */
static int contradictions(struct ar_pool *pool, const struct ar_kbstats *st, struct ar_claim *cl, int *cap)
{
    int apart = 0;
    for (int a = 0; a < cl->nclasses; a++) {
        if (strcmp(cl->classes[a].verdict, "confirmed") != 0)
            continue;
        for (int b = 0; b < cl->nclasses; b++) {
            if (strcmp(cl->classes[b].verdict, "refuted") != 0)
                continue;
            if (cl->numeric && disjoint(&cl->classes[a].won, &cl->classes[b].lost)) {
                apart++;
                continue;
            }
            int best = -1, worst = -1;
            for (int i = 0; i < cl->nev; i++) {
                const struct ar_evidence *e = &cl->ev[i];
                const char *p = st->cards[e->card].platform;
                if (p == cl->classes[a].platform && e->outcome == AR_CONFIRM &&
                    (best < 0 || e->z > cl->ev[best].z))
                    best = i;
                if (p == cl->classes[b].platform && e->outcome == AR_REFUTE &&
                    (worst < 0 || e->z < cl->ev[worst].z))
                    worst = i;
            }
            if (best < 0 || worst < 0)
                continue;
            add_link(pool, cl, cap,
                     (struct ar_link){"CONTRADICTS", st->cards[cl->ev[best].card].id,
                                      st->cards[cl->ev[worst].card].id, cl->classes[a].platform,
                                      cl->classes[b].platform, NULL, 0, -1});
        }
    }
    return apart;
}

static const char *scope_of(const struct ar_claim *cl, int apart)
{
    int confirmed = 0, refuted = 0, with_runs = 0;
    for (int i = 0; i < cl->nclasses; i++) {
        confirmed += strcmp(cl->classes[i].verdict, "confirmed") == 0;
        refuted += strcmp(cl->classes[i].verdict, "refuted") == 0;
        with_runs += cl->classes[i].runs > 0;
    }
    if (confirmed && refuted) {
        for (int i = 0; i < cl->nlinks; i++)
            if (strcmp(cl->links[i].type, "CONTRADICTS") == 0)
                return "platform-specific";
        if (apart)
            return "range-dependent";
        return "platform-specific";
    }
    if (confirmed >= 2 && cl->all.refutes == 0)
        return "universal";
    if (refuted >= 2 && cl->all.confirms == 0)   /* a dead end everywhere it was tried */
        return "universal";
    if (with_runs == 1)
        return "single-platform";
    return "open";
}

/* BUILDS_ON from card c's prior_cards to other claims, one link per claim */
static void builds_on(struct ar_pool *pool, const struct ar_kbstats *st, struct ar_claim *cl, int *cap,
                      const struct ar_cardsum *c, const char *const *claim_of, struct ar_find_memo *memo,
                      struct ar_ptrmap *to_claim)
{
    for (int k = 0; k < c->nprior; k++) {
        long p = k == 0 ? c->prior_at : ar_stats_find_memo(st, memo, c->prior[k]);
        const char *other = p >= 0 ? claim_of[p] : NULL;
        if (!other || other == cl->name)
            continue;
        long *i = ar_ptrmap_at(to_claim, other, NULL);   /* its link, by the other claim's name */
        if (*i >= 0) {
            cl->links[*i].count++;
        } else {
            *i = cl->nlinks;
            add_link(pool, cl, cap, (struct ar_link){"BUILDS_ON", c->id, c->prior[k], NULL, NULL, other, 1, -1});
        }
    }
}

#define PREFETCH 8

static void prefetch_card(const struct ar_cardsum *c)
{
    for (size_t off = 0; off < sizeof *c; off += 64)
        __builtin_prefetch((const char *)c + off);
}

/* the id strings the card refers to, once the card itself is at hand */
static void prefetch_refs(const struct ar_cardsum *c)
{
    for (int k = 1; k < c->nprior; k++)
        __builtin_prefetch(c->prior[k]);
    if (c->verifies)
        __builtin_prefetch(c->verifies);
}

/* The canonical order in which a claim's evidence moves its certainty:
 * strongest first (|z| descending, a crash as |z| 0), confirmations before
 * refutations before nulls and crashes at equal strength, then agent,
 * class and id. It depends on the evidence, not on when cards were made,
 * imported or synced, so re-dating a session changes no certainty. */
static _Thread_local const struct ar_kbstats *order_st;   /* claims are built on two threads */

static int cmp_evidence(const void *a, const void *b)
{
    const struct ar_evidence *x = a, *y = b;
    double ax = x->crash ? 0 : fabs(x->z), ay = y->crash ? 0 : fabs(y->z);
    if (ax != ay)
        return ax > ay ? -1 : 1;
    int ox = x->crash ? 3 : (int)x->outcome, oy = y->crash ? 3 : (int)y->outcome;
    if (ox != oy)
        return ox < oy ? -1 : 1;
    const struct ar_cardsum *cx = &order_st->cards[x->card], *cy = &order_st->cards[y->card];
    int r = strcmp(cx->agent ? cx->agent : "", cy->agent ? cy->agent : "");
    if (!r)
        r = strcmp(cx->platform, cy->platform);
    if (!r)
        r = strcmp(cx->id, cy->id);
    return r;
}

static void build_claim(struct ar_pool *p, const struct ar_kbstats *st, struct ar_claim *cl,
                        const struct entry *en, int n, const char *const *claim_of)
{
    cl->name = en[0].claim;
    cl->category = st->cards[en[0].card].category;
    /* filled in order as ncards, nev and nclasses grow: not cleared */
    cl->cards = ar_pool_alloc_uncleared(p, (size_t)n * sizeof *cl->cards);
    cl->ev = ar_pool_alloc_uncleared(p, (size_t)n * sizeof *cl->ev);
    cl->all.certainty = AR_CERTAINTY_START;
    cl->classes = ar_pool_alloc_uncleared(p, (size_t)n * sizeof *cl->classes);
    const struct ar_cardsum *first = &st->cards[en[0].card];
    cl->numeric = first->nchanges == 1 && first->changes[0].numeric;
    size_t pcap = 16;
    while (pcap < 2 * (size_t)n)
        pcap *= 2;
    struct pairset ps = {ar_big_realloc(NULL, 2 * pcap * sizeof *ps.slots), pcap};
    memset(ps.slots, 0, 2 * pcap * sizeof *ps.slots);

    /* pass 1, in id order: the cards, links, and the evidence unscored */
    int lcap = 0;
    struct ar_find_memo memo = {0};
    struct ar_ptrmap to_claim = {0};
    for (int i = 0; i < n; i++) {
        int ci = en[i].card;
        const struct ar_cardsum *c = &st->cards[ci];
        /* a claim's cards lie far apart: ask for those a few steps ahead
         * while this one is looked at */
        if (i + PREFETCH < n)
            prefetch_card(&st->cards[en[i + PREFETCH].card]);
        if (i + PREFETCH / 2 < n)
            prefetch_refs(&st->cards[en[i + PREFETCH / 2].card]);
        cl->cards[cl->ncards++] = ci;
        class_tally(cl, c->platform);
        builds_on(p, st, cl, &lcap, c, claim_of, &memo, &to_claim);
        if (c->crash) {
            cl->ev[cl->nev++] = (struct ar_evidence){ci, AR_REFUTE, 0, 0, 0, 0, 1, 1};
            continue;
        }
        int o = card_outcome(st, ci);
        if (c->verifies) {
            int other = card_outcome(st, ar_stats_find(st, c->verifies));
            add_link(p, cl, &lcap,
                     (struct ar_link){"VERIFIES", c->id, c->verifies, NULL, NULL, NULL, 0,
                                      o < 0 || other < 0 ? -1 : o == other});
        }
        if (o < 0)
            continue;
        double z = ar_stats_z(st, c);
        cl->ev[cl->nev++] = (struct ar_evidence){ci, (enum ar_outcome)o, z, 0, 0, 0, ar_evidence_strength(z), 0};
    }
    ar_ptrmap_free(&to_claim);

    /* pass 2, in the canonical order: weights, tallies, certainty */
    order_st = st;
    qsort(cl->ev, (size_t)cl->nev, sizeof *cl->ev, cmp_evidence);
    int scored = 0;
    /* distinct agents: their names are interned, so a set of pointers */
    struct pairset as = {ar_big_realloc(NULL, 2 * pcap * sizeof *as.slots), pcap};
    memset(as.slots, 0, 2 * pcap * sizeof *as.slots);
    for (int i = 0; i < cl->nev; i++) {
        struct ar_evidence *e = &cl->ev[i];
        const struct ar_cardsum *c = &st->cards[e->card];
        struct ar_tally *t = class_tally(cl, c->platform);
        double w, wc;
        weights(&ps, scored > 0, t, c, &w, &wc);
        if (e->crash) {
            w *= AR_W_CRASH;
            wc *= AR_W_CRASH;
        } else if (!pairset_add(&as, c->agent, &as)) {
            cl->agents++;
        }
        e->weight = w;
        e->before = cl->all.certainty;
        tally_add(&cl->all, e, c, w, cl->numeric);
        tally_add(t, e, c, wc, cl->numeric);
        e->after = cl->all.certainty;
        scored++;
    }
    ar_big_free(as.slots);
    ar_big_free(ps.slots);
    qsort(cl->classes, (size_t)cl->nclasses, sizeof *cl->classes, cmp_tally);
    cl->all.verdict = verdict_of(&cl->all);
    for (int i = 0; i < cl->nclasses; i++)
        cl->classes[i].verdict = verdict_of(&cl->classes[i]);
    int apart = contradictions(p, st, cl, &lcap);
    cl->scope = scope_of(cl, apart);

    /* the keys: the part names up to ':' or '=' */
    int nk = 1;
    for (const char *s = cl->name; *s; s++)
        nk += *s == '+';
    cl->keys = ar_pool_alloc(p, (size_t)nk * sizeof *cl->keys);
    const char *s = cl->name;
    while (*s) {
        size_t len = strcspn(s, ":=");
        cl->keys[cl->nkeys++] = ar_pool_internn(p, s, len);
        s += strcspn(s, "+");
        if (*s == '+')
            s++;
    }
    qsort(cl->keys, (size_t)cl->nkeys, sizeof *cl->keys, cmp_str);
}

/* Claims from..to-1 of the build, into pool. */
struct claims_job {
    struct ar_pool *pool;
    const struct ar_kbstats *st;
    struct ar_claim *claims;
    const struct entry *en;
    const size_t *start;
    const int *counts;
    const char *const *claim_of;
    size_t from, to;
    struct ar_pool own;   /* the side thread's pool */
    pthread_t t;
};

static void *claims_run(void *arg)
{
    struct claims_job *j = arg;
    for (size_t k = j->from; k < j->to; k++)
        build_claim(j->pool, j->st, &j->claims[k], j->en + j->start[k], j->counts[k], j->claim_of);
    return NULL;
}

/* ---------------------------------------------------------------- sweeps */

/* Cards that change one key, grouped by key and class (their names are
 * interned: compared as pointers, the groups' own order is set later),
 * each group in id order (ids sort by creation time: the run order). The
 * sort key sits beside the index, so sorting touches no card. */
struct sweep_ref {
    const char *key, *platform;
    const char *from, *to;     /* JSON text */
    size_t card;
    int keep;
};

static int cmp_sweep_card(const void *a, const void *b)
{
    const struct sweep_ref *x = a, *y = b;
    if (x->key != y->key)
        return (uintptr_t)x->key < (uintptr_t)y->key ? -1 : 1;
    if (x->platform != y->platform)
        return (uintptr_t)x->platform < (uintptr_t)y->platform ? -1 : 1;
    return x->card < y->card ? -1 : x->card > y->card;
}

static int cmp_sweep(const void *a, const void *b)
{
    const struct ar_sweep *x = a, *y = b;
    int r = strcmp(x->key, y->key);
    return r ? r : strcmp(x->platform, y->platform);
}

struct distinct {
    const char *s;
    int n;
};

static int cmp_distinct(const void *a, const void *b)
{
    return strcmp(((const struct distinct *)a)->s, ((const struct distinct *)b)->s);
}

/* How many distinct strings v[0..n) holds; *most is the one that occurs
 * most often (the least such string on a tie). Values are interned by the
 * index's string numbers, so they are first counted by pointer, and only
 * the few distinct pointers sorted by strcmp (equal text under two
 * pointers still counts as one string). */
static int distinct_sorted(const char **v, int n, const char **most)
{
    *most = NULL;
    if (n == 0)
        return 0;
    struct ar_ptrmap map = {0};
    struct distinct *u = ar_xmalloc((size_t)n * sizeof *u);
    int nu = 0;
    for (int i = 0; i < n; i++) {
        long *slot = ar_ptrmap_at(&map, v[i], NULL);
        if (*slot < 0) {
            *slot = nu;
            u[nu++] = (struct distinct){v[i], 0};
        }
        u[*slot].n++;
    }
    ar_ptrmap_free(&map);
    qsort(u, (size_t)nu, sizeof *u, cmp_distinct);
    int nd = 0, best = 0;
    for (int i = 0; i < nu;) {
        int j = i + 1, count = u[i].n;
        while (j < nu && strcmp(u[j].s, u[i].s) == 0)
            count += u[j++].n;
        nd++;
        if (count > best) {
            best = count;
            *most = u[i].s;
        }
        i = j;
    }
    free(u);
    return nd;
}

/* A value's number: the JSON text of a number; 0 when it is not one. */
static int number_of(const char *text, double *out)
{
    char *end;
    if (!text || !*text || strchr("-0123456789", *text) == NULL)
        return 0;
    *out = strtod(text, &end);
    return *end == '\0';
}

/* One run of cards (same key and class, created order) into *w; 1 when it
 * is a bracketed sweep. A change from an unknown value (null: an import
 * that named only the new value) still sweeps when its new value is a
 * number. */
static int sweep_of(const struct sweep_ref *r, int n, struct ar_sweep *w)
{
    *w = (struct ar_sweep){r[0].key, r[0].platform, 0, 0, NULL, n, 0, 0, 0, 0};
    if (n < 3)
        return 0;
    /* each value's number, read once: [2i] from, [2i + 1] to */
    double *num = ar_xmalloc((size_t)(2 * n) * sizeof *num);
    char *isnum = ar_xmalloc((size_t)(2 * n));
    int numeric = 1;
    for (int i = 0; i < n && numeric; i++) {
        int fnull = strcmp(r[i].from, "null") == 0;
        isnum[2 * i] = !fnull && number_of(r[i].from, &num[2 * i]);
        isnum[2 * i + 1] = number_of(r[i].to, &num[2 * i + 1]);
        numeric = isnum[2 * i + 1] && (fnull || isnum[2 * i]);
    }
    w->numeric = numeric;
    const char **vals = ar_xmalloc((size_t)(2 * n) * sizeof *vals), **froms = vals + n;
    int nf = 0, kept = -1;
    for (int i = 0; i < n; i++) {
        if (strcmp(r[i].from, "null"))
            froms[nf++] = r[i].from;
        vals[i] = r[i].to;
        if (r[i].keep)
            kept = i;   /* the latest keep: cards are in id (creation) order */
    }
    const char *common_from, *unused;
    distinct_sorted(froms, nf, &common_from);
    /* froms lie right after the n tos: together, every value */
    w->values = distinct_sorted(vals, n + nf, &unused);
    if (kept >= 0)
        w->best_text = r[kept].to;
    else   /* the value most often started from */
        w->best_text = common_from;
    if (w->best_text)
        number_of(w->best_text, &w->best);
    if (w->best_text && numeric) {
        int above = 0, below = 0, seen = 0;
        for (int i = 0; i < n; i++) {
            double v[2];
            int nv2 = 0;
            if (isnum[2 * i])
                v[nv2++] = num[2 * i];
            if (isnum[2 * i + 1])
                v[nv2++] = num[2 * i + 1];
            for (int k = 0; k < nv2; k++) {
                if (!seen++)
                    w->lo = w->hi = v[k];
                w->lo = v[k] < w->lo ? v[k] : w->lo;
                w->hi = v[k] > w->hi ? v[k] : w->hi;
                above += v[k] > w->best;
                below += v[k] < w->best;
            }
        }
        w->bracketed = above && below;
    } else if (w->best_text) {
        w->bracketed = w->values >= 3;
    }
    free(vals);
    free(num);
    free(isnum);
    return w->bracketed;
}

/* The sweeps of st, sorted by key and class; they read only the cards,
 * so they are found on a thread of their own while the claims are built
 * (sweep_job), and named on the claims afterwards (link_sweeps). */
struct sweep_out {
    const struct ar_kbstats *st;
    struct ar_sweep *sweeps;
    size_t n;
};

static void find_sweeps(struct sweep_out *out)
{
    const struct ar_kbstats *st = out->st;
    struct sweep_ref *refs = ar_big_realloc(NULL, (st->n ? st->n : 1) * sizeof *refs);
    size_t m = 0;
    for (size_t i = 0; i < st->n; i++) {
        const struct ar_cardsum *c = &st->cards[i];
        if (!c->retracted && c->nchanges == 1 && strcmp(c->status, "baseline") && strcmp(c->changes[0].to, "null"))
            refs[m++] = (struct sweep_ref){c->changes[0].key, c->platform, c->changes[0].from, c->changes[0].to, i,
                                           !c->crash && strcmp(c->status, "keep") == 0};
    }
    qsort(refs, m, sizeof *refs, cmp_sweep_card);
    size_t cap = 0;
    out->sweeps = NULL;
    out->n = 0;
    for (size_t a = 0; a < m;) {
        size_t b = a + 1;
        while (b < m && refs[b].key == refs[a].key && refs[b].platform == refs[a].platform)
            b++;
        struct ar_sweep w;
        if (sweep_of(refs + a, (int)(b - a), &w)) {
            if (out->n == cap)
                out->sweeps = ar_xrealloc(out->sweeps, (cap = cap ? 2 * cap : 8) * sizeof *out->sweeps);
            out->sweeps[out->n++] = w;
        }
        a = b;
    }
    ar_big_free(refs);
    if (out->n)
        qsort(out->sweeps, out->n, sizeof *out->sweeps, cmp_sweep);
}

static void *sweep_job(void *arg)
{
    find_sweeps(arg);
    return NULL;
}

static void link_sweeps(struct ar_findings *f)
{
    /* a numeric claim on the key names the sweep with most tries */
    for (size_t i = 0; i < f->n; i++) {
        struct ar_claim *cl = &f->claims[i];
        if (!cl->numeric || cl->nkeys != 1)
            continue;
        for (size_t k = 0; k < f->nsweeps; k++) {
            const struct ar_sweep *w = &f->sweeps[k];
            if (w->numeric && strcmp(w->key, cl->keys[0]) == 0 && w->tries > cl->optimum_tries) {
                cl->optimum_tries = w->tries;
                cl->optimum = w->best;
                cl->optimum_class = w->platform;
            }
        }
    }
}

static int cmp_claim(const void *a, const void *b)
{
    return strcmp(((const struct ar_claim *)a)->name, ((const struct ar_claim *)b)->name);
}

/* The claim of a card; one non-numeric change is memoised on its (key, to)
 * text pointers, which the summaries intern. */
static const char *claim_of_card(struct ar_findings *f, struct ar_ptrmap *memo, const struct ar_cardsum *c)
{
    if (c->nchanges != 1 || c->changes[0].numeric)
        return ar_claim_name(&f->pool, c->changes, c->nchanges);
    const struct ar_change *ch = &c->changes[0];
    if (ch->from == ch->to)
        return NULL;
    long *slot = ar_ptrmap_at(memo, ch->key, ch->to);
    if (*slot < 0)
        *slot = (long)(intptr_t)ar_claim_name(&f->pool, ch, 1);
    return (const char *)(intptr_t)*slot;
}

struct ar_findings *ar_findings_build(const struct ar_kbstats *st)
{
    struct ar_findings *f = ar_xmalloc(sizeof *f);
    memset(f, 0, sizeof *f);
    struct sweep_out sw = {st, NULL, 0};
    pthread_t th;
    /* a small base is not worth a thread */
    int threaded = st->n >= 2000 && pthread_create(&th, NULL, sweep_job, &sw) == 0;
    size_t n = st->n ? st->n : 1;
    const char **claim_of = ar_xmalloc(n * sizeof *claim_of);
    long *which = ar_xmalloc(n * sizeof *which);
    struct ar_ptrmap memo = {0}, claims = {0};
    size_t nclaims = 0, cap = 16;
    int *counts = ar_xmalloc(cap * sizeof *counts);
    for (size_t i = 0; i < st->n; i++) {
        const struct ar_cardsum *c = &st->cards[i];
        claim_of[i] = NULL;
        which[i] = -1;
        if (c->retracted || c->nchanges == 0 || strcmp(c->status, "baseline") == 0)
            continue;
        const char *name = claim_of_card(f, &memo, c);
        if (!name)
            continue;
        claim_of[i] = name;
        long *slot = ar_ptrmap_at(&claims, name, NULL);
        if (*slot < 0) {
            if (nclaims == cap)
                counts = ar_xrealloc(counts, (cap *= 2) * sizeof *counts);
            counts[nclaims] = 0;
            *slot = (long)nclaims++;
        }
        which[i] = *slot;
        counts[*slot]++;
    }
    /* each claim's cards, in id order, in one array */
    size_t *start = ar_xmalloc((nclaims + 1) * sizeof *start), total = 0;
    for (size_t k = 0; k < nclaims; k++) {
        start[k] = total;
        total += (size_t)counts[k];
    }
    struct entry *en = ar_xmalloc((total ? total : 1) * sizeof *en);
    size_t *fill = ar_xmalloc((nclaims + 1) * sizeof *fill);
    memcpy(fill, start, nclaims * sizeof *fill);
    for (size_t i = 0; i < st->n; i++)
        if (which[i] >= 0)
            en[fill[which[i]]++] = (struct entry){claim_of[i], (int)i};
    f->claims = ar_xmalloc((nclaims ? nclaims : 1) * sizeof *f->claims);
    memset(f->claims, 0, (nclaims ? nclaims : 1) * sizeof *f->claims);
    /* the claims are independent: on a large base the last ones (about
     * half the cards) are built on a thread of their own, in a pool of
     * its own that f's takes over */
    struct claims_job side = {.st = st, .claims = f->claims, .en = en, .start = start, .counts = counts,
                              .claim_of = claim_of, .from = nclaims, .to = nclaims};
    int two = 0;
    if (total >= 20000) {
        size_t half = 0, k0 = 0;
        while (k0 < nclaims && 2 * half < total)
            half += (size_t)counts[k0++];
        side.from = k0;
        side.pool = &side.own;
        two = k0 < nclaims && pthread_create(&side.t, NULL, claims_run, &side) == 0;
        if (!two)
            side.from = nclaims;
    }
    struct claims_job mine = {.pool = &f->pool, .st = st, .claims = f->claims, .en = en, .start = start,
                              .counts = counts, .claim_of = claim_of, .from = 0, .to = side.from};
    claims_run(&mine);
    if (two) {
        pthread_join(side.t, NULL);
        ar_pool_absorb(&f->pool, &side.own);
    }
    f->n = nclaims;
    qsort(f->claims, f->n, sizeof *f->claims, cmp_claim);
    if (!threaded)
        find_sweeps(&sw);
    else
        pthread_join(th, NULL);
    f->sweeps = sw.sweeps;
    f->nsweeps = sw.n;
    link_sweeps(f);   /* after the sort: it looks claims up by key */
    free(en);
    free(fill);
    free(start);
    free(counts);
    free(which);
    free(claim_of);
    ar_ptrmap_free(&memo);
    ar_ptrmap_free(&claims);
    return f;
}

void ar_findings_free(struct ar_findings *f)
{
    if (!f)
        return;
    free(f->claims);
    free(f->sweeps);
    ar_pool_free(&f->pool);
    free(f);
}

const struct ar_claim *ar_findings_get(const struct ar_findings *f, const char *name)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(f->claims[mid].name, name);
        if (c == 0)
            return &f->claims[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ------------------------------------------------------------ rendering */

/* Six decimals: the same text on every machine even when exp() differs in
 * the last bit. */
static jv num6(double x)
{
    return jv_number(round(x * 1e6) / 1e6);
}

static jv tally_json(const struct ar_tally *t)
{
    jv o = jv_object();
    ar_jv_set(&o, "confirms", jv_number(t->confirms));
    ar_jv_set(&o, "refutes", jv_number(t->refutes));
    ar_jv_set(&o, "nulls", jv_number(t->nulls));
    ar_jv_set(&o, "crashes", jv_number(t->crashes));
    ar_jv_set(&o, "runs", jv_number(t->runs));
    ar_jv_set(&o, "effect", t->runs ? num6(t->effect) : jv_null());
    ar_jv_set(&o, "certainty", num6(t->certainty));
    ar_jv_set(&o, "verdict", jv_string(t->verdict));
    ar_jv_set(&o, "effect_sigma", t->runs ? num6(t->zsum / t->runs) : jv_null());
    ar_jv_set(&o, "strongest_sigma", t->runs ? num6(fabs(t->zmax) > fabs(t->zmin) ? t->zmax : t->zmin) : jv_null());
    ar_tally_ranges_json(&o, t);
    return o;
}

void ar_tally_ranges_json(jv *o, const struct ar_tally *t)
{
    if (t->won.n)
        ar_jv_set(o, "won_over", JV_ARRAY(jv_number(t->won.lo), jv_number(t->won.hi)));
    if (t->lost.n)
        ar_jv_set(o, "lost_over", JV_ARRAY(jv_number(t->lost.lo), jv_number(t->lost.hi)));
}

void ar_claim_optimum_json(jv *o, const struct ar_claim *c)
{
    if (!c->optimum_class)
        return;
    jv opt = jv_object();
    ar_jv_set(&opt, "class", jv_string(c->optimum_class));
    ar_jv_set(&opt, "value", jv_number(c->optimum));
    ar_jv_set(&opt, "tries", jv_number(c->optimum_tries));
    ar_jv_set(o, "optimum", opt);
}

jv ar_claim_json(const struct ar_claim *c, const struct ar_kbstats *st)
{
    jv o = tally_json(&c->all);
    ar_jv_set(&o, "claim", jv_string(c->name));
    ar_jv_set(&o, "category", jv_string(c->category));
    ar_jv_set(&o, "scope", jv_string(c->scope));
    ar_jv_set(&o, "importance", num6(ar_claim_importance(c)));
    ar_jv_set(&o, "agents", jv_number(c->agents));
    int platforms = 0;
    for (int i = 0; i < c->nclasses; i++)
        platforms += c->classes[i].runs > 0;
    ar_jv_set(&o, "platforms", jv_number(platforms));
    ar_claim_optimum_json(&o, c);
    jv keys = jv_array();
    for (int i = 0; i < c->nkeys; i++)
        keys = jv_array_append(keys, jv_string(c->keys[i]));
    ar_jv_set(&o, "keys", keys);
    jv classes = jv_object();
    for (int i = 0; i < c->nclasses; i++)
        ar_jv_set(&classes, c->classes[i].platform[0] ? c->classes[i].platform : "-",
                  tally_json(&c->classes[i]));
    ar_jv_set(&o, "classes", classes);
    jv links = jv_array();
    for (int i = 0; i < c->nlinks; i++) {
        const struct ar_link *l = &c->links[i];
        jv x = jv_object();
        ar_jv_set(&x, "type", jv_string(l->type));
        ar_jv_set(&x, "from", jv_string(l->from));
        ar_jv_set(&x, "to", jv_string(l->to));
        if (l->from_class) {
            ar_jv_set(&x, "from_class", jv_string(l->from_class));
            ar_jv_set(&x, "to_class", jv_string(l->to_class));
        }
        if (l->to_claim) {
            ar_jv_set(&x, "to_claim", jv_string(l->to_claim));
            ar_jv_set(&x, "count", jv_number(l->count));
        }
        if (strcmp(l->type, "VERIFIES") == 0)
            ar_jv_set(&x, "agrees", l->agrees < 0 ? jv_null() : jv_bool(l->agrees));
        links = jv_array_append(links, x);
    }
    ar_jv_set(&o, "links", links);
    jv cards = jv_array();
    for (int i = 0; i < c->ncards; i++)
        cards = jv_array_append(cards, jv_string(st->cards[c->cards[i]].id));
    ar_jv_set(&o, "cards", cards);
    return o;
}

jv ar_sweep_json(const struct ar_sweep *w)
{
    jv o = jv_object();
    ar_jv_set(&o, "key", jv_string(w->key));
    ar_jv_set(&o, "platform", jv_string(w->platform));
    jv best = jv_parse(w->best_text);
    ar_jv_set(&o, "best", jv_is_valid(best) ? best : jv_string(w->best_text));
    if (!jv_is_valid(best))
        jv_free(best);
    ar_jv_set(&o, "tries", jv_number(w->tries));
    ar_jv_set(&o, "values", jv_number(w->values));
    if (w->numeric)
        ar_jv_set(&o, "range", JV_ARRAY(jv_number(w->lo), jv_number(w->hi)));
    return o;
}

jv ar_findings_json(const struct ar_findings *f, const struct ar_kbstats *st)
{
    jv o = jv_object();
    ar_jv_set(&o, "schema", jv_string("ar.findings/1"));
    size_t counted = 0;
    for (size_t i = 0; i < st->n; i++)
        counted += st->cards[i].counts;
    ar_jv_set(&o, "cards", jv_number((double)st->n));
    ar_jv_set(&o, "counted", jv_number((double)counted));
    jv claims = jv_array();
    for (size_t i = 0; i < f->n; i++)
        claims = jv_array_append(claims, ar_claim_json(&f->claims[i], st));
    ar_jv_set(&o, "claims", claims);
    jv sw = jv_array();
    for (size_t i = 0; i < f->nsweeps; i++)
        sw = jv_array_append(sw, ar_sweep_json(&f->sweeps[i]));
    ar_jv_set(&o, "sweeps", sw);
    jv noise = jv_object();
    for (size_t i = 0; i < st->nnoise; i++) {
        const struct ar_noise *nz = &st->noise[i];
        jv x = jv_object();
        ar_jv_set(&x, "sigma", num6(nz->sigma));
        ar_jv_set(&x, "pooled", nz->is_default ? jv_null() : num6(nz->pooled));
        ar_jv_set(&x, "dof", jv_number(nz->dof));
        ar_jv_set(&x, "prior", jv_number(AR_SIGMA_DEFAULT));
        ar_jv_set(&x, "prior_dof", jv_number(AR_SIGMA_PRIOR_DOF));
        ar_jv_set(&x, "groups", jv_number(nz->groups));
        ar_jv_set(&x, "runs", jv_number(nz->runs));
        ar_jv_set(&x, "default", jv_bool(nz->is_default));
        ar_jv_set(&noise, nz->platform[0] ? nz->platform : "-", x);
    }
    ar_jv_set(&o, "noise", noise);
    jv rule = jv_object();
    ar_jv_set(&rule, "start", jv_number(AR_CERTAINTY_START));
    ar_jv_set(&rule, "z", jv_number(AR_Z_CONFIRM));
    ar_jv_set(&rule, "rate", jv_string("1/(1+exp(10*(c-0.5)))"));
    ar_jv_set(&rule, "step", jv_number(AR_CERTAINTY_STEP));
    ar_jv_set(&rule, "null_pull", jv_number(AR_NULL_PULL));
    ar_jv_set(&rule, "rerun_weight", jv_number(AR_W_RERUN));
    ar_jv_set(&rule, "replication_weight", jv_number(AR_W_REPLICATION));
    ar_jv_set(&o, "rule", rule);
    return o;
}

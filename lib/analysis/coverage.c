#include "analysis/coverage.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/bigmem.h"
#include "base/buf.h"
#include "facts/card.h"
#include "base/json.h"
#include "base/ptrmap.h"

static void row_add(struct ar_covrow *r, const struct ar_cardsum *c)
{
    int progress = 0;
    r->experiments++;
    r->crashes += c->crash;
    if (strcmp(c->status, "keep") == 0) {
        r->kept++;
        progress = 1;
    }
    if (c->counts && c->has_delta && strcmp(c->status, "baseline") != 0 &&
        (!r->has_best || c->delta < r->best_delta)) {
        r->has_best = 1;
        r->best_delta = c->delta;
        r->best_card = c->id;
        progress = 1;
    }
    r->stale = progress ? 0 : r->stale + 1;
}

static void row_state(struct ar_covrow *r)
{
    if (r->experiments < AR_COV_UNDER)
        r->state = "under-explored";
    else if (r->experiments >= AR_COV_SATURATED && r->stale >= AR_COV_STALE)
        r->state = "saturated";
    else
        r->state = "active";
}

struct kentry {
    const char *key, *to;
    size_t card;
};

/* One distinct key (interned: one pointer per name) and where its
 * entries start in the bucketed array. */
struct kbucket {
    const char *key;
    size_t n, at;
};

static int cmp_kbucket(const void *a, const void *b)
{
    const struct kbucket *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    /* equal names under two pointers never happen (keys are interned);
     * first-seen order keeps the sort total all the same */
    return c ? c : (x->at > y->at) - (x->at < y->at);
}

static int cmp_ptr(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    return (x > y) - (x < y);
}

static int cmp_row(const void *a, const void *b)
{
    return strcmp(((const struct ar_covrow *)a)->name, ((const struct ar_covrow *)b)->name);
}

static void build_keys(struct ar_coverage *cov, const struct ar_kbstats *st, const char *const *table)
{
    size_t m = 0, cap = 0;
    for (size_t i = 0; i < st->n; i++)
        if (!st->cards[i].retracted)
            cap += (size_t)st->cards[i].nchanges;
    /* entries by key name, each key's in card order: the few distinct
     * keys are sorted by name, and the entries dealt into their buckets in
     * card order (a counting sort), not every entry sorted by strcmp */
    struct ar_ptrmap map = {0};
    size_t nb = 0, bcap = 16;
    struct kbucket *bk = ar_xmalloc(bcap * sizeof *bk);
    int *kb = ar_big_realloc(NULL, (cap ? cap : 1) * sizeof *kb);   /* each entry's bucket, in card order */
    struct kentry *tmp = ar_big_realloc(NULL, (cap ? cap : 1) * sizeof *tmp);
    for (size_t i = 0; i < st->n; i++) {
        const struct ar_cardsum *c = &st->cards[i];
        if (c->retracted)
            continue;
        for (int k = 0; k < c->nchanges; k++) {
            /* a key listed twice in one card counts once */
            int dup = 0;
            for (int j = 0; j < k && !dup; j++)
                dup = c->changes[j].key == c->changes[k].key;
            if (dup)
                continue;
            long *slot = ar_ptrmap_at(&map, c->changes[k].key, NULL);
            if (*slot < 0) {
                if (nb == bcap)
                    bk = ar_xrealloc(bk, (bcap *= 2) * sizeof *bk);
                *slot = (long)nb;
                bk[nb++] = (struct kbucket){c->changes[k].key, 0, 0};
            }
            bk[*slot].n++;
            kb[m] = (int)*slot;
            tmp[m++] = (struct kentry){c->changes[k].key, c->changes[k].to, i};
        }
    }
    ar_ptrmap_free(&map);
    /* bucket b's rank after sorting by name */
    size_t *start = ar_xmalloc((nb ? nb : 1) * sizeof *start);
    for (size_t b = 0; b < nb; b++)
        bk[b].at = b;   /* first-seen order, the tie-break */
    size_t *orig_n = ar_xmalloc((nb ? nb : 1) * sizeof *orig_n);
    for (size_t b = 0; b < nb; b++)
        orig_n[b] = bk[b].n;
    qsort(bk, nb, sizeof *bk, cmp_kbucket);
    size_t pos = 0;
    for (size_t r = 0; r < nb; r++) {
        start[bk[r].at] = pos;
        pos += orig_n[bk[r].at];
    }
    free(orig_n);
    free(bk);
    struct kentry *en = ar_big_realloc(NULL, (cap ? cap : 1) * sizeof *en);
    for (size_t j = 0; j < m; j++)
        en[start[kb[j]]++] = tmp[j];
    free(start);
    ar_big_free(kb);
    ar_big_free(tmp);
    size_t ntable = 0;
    while (table && table[ntable])
        ntable++;
    cov->keys = ar_xmalloc((m + ntable + 1) * sizeof *cov->keys);
    const char **vals = ar_big_realloc(NULL, (m ? m : 1) * sizeof *vals);
    for (size_t j = 0; j < m;) {
        size_t k = j;
        struct ar_covrow *r = &cov->keys[cov->nkeys++];
        memset(r, 0, sizeof *r);
        r->name = en[j].key;
        for (; k < m && en[k].key == en[j].key; k++) {
            row_add(r, &st->cards[en[k].card]);
            vals[k - j] = en[k].to;
        }
        qsort(vals, k - j, sizeof *vals, cmp_ptr);
        for (size_t v = 0; v < k - j; v++)
            r->values += v == 0 || vals[v] != vals[v - 1];
        row_state(r);
        j = k;
    }
    ar_big_free(vals);
    ar_big_free(en);
    size_t found = cov->nkeys;
    for (size_t t = 0; t < ntable; t++) {
        struct ar_covrow probe = {.name = table[t]};
        if (found && bsearch(&probe, cov->keys, found, sizeof *cov->keys, cmp_row))
            continue;
        struct ar_covrow *r = &cov->keys[cov->nkeys++];
        memset(r, 0, sizeof *r);
        r->name = ar_pool_intern(&cov->pool, table[t]);
        row_state(r);
    }
    qsort(cov->keys, cov->nkeys, sizeof *cov->keys, cmp_row);
    /* a table key listed twice */
    size_t out = 0;
    for (size_t i = 0; i < cov->nkeys; i++)
        if (out == 0 || strcmp(cov->keys[out - 1].name, cov->keys[i].name) != 0)
            cov->keys[out++] = cov->keys[i];
    cov->nkeys = out;
}

struct ar_coverage *ar_coverage_build(const struct ar_kbstats *st, const char *const *keys)
{
    struct ar_coverage *cov = ar_xmalloc(sizeof *cov);
    memset(cov, 0, sizeof *cov);
    size_t ncat = 0;
    while (ar_card_categories[ncat])
        ncat++;
    cov->categories = ar_xmalloc(ncat * sizeof *cov->categories);
    cov->ncategories = ncat;
    for (size_t i = 0; i < ncat; i++) {
        memset(&cov->categories[i], 0, sizeof cov->categories[i]);
        cov->categories[i].name = ar_card_categories[i];
    }
    /* categories are interned: each pointer is matched by name once */
    struct ar_ptrmap catmap = {0};
    for (size_t i = 0; i < st->n; i++) {
        const struct ar_cardsum *c = &st->cards[i];
        if (c->retracted)
            continue;
        long *slot = ar_ptrmap_at(&catmap, c->category, NULL);
        if (*slot < 0) {
            size_t k = 0;
            while (k < ncat && strcmp(c->category, ar_card_categories[k]) != 0)
                k++;
            *slot = (long)k;
        }
        if ((size_t)*slot < ncat)
            row_add(&cov->categories[*slot], c);
    }
    ar_ptrmap_free(&catmap);
    for (size_t i = 0; i < ncat; i++)
        row_state(&cov->categories[i]);
    build_keys(cov, st, keys);
    return cov;
}

void ar_coverage_free(struct ar_coverage *cov)
{
    if (!cov)
        return;
    free(cov->categories);
    free(cov->keys);
    ar_pool_free(&cov->pool);
    free(cov);
}

const struct ar_covrow *ar_coverage_key(const struct ar_coverage *cov, const char *key)
{
    struct ar_covrow probe = {.name = key};
    return cov->nkeys ? bsearch(&probe, cov->keys, cov->nkeys, sizeof *cov->keys, cmp_row) : NULL;
}

const struct ar_covrow *ar_coverage_category(const struct ar_coverage *cov, const char *category)
{
    for (size_t i = 0; i < cov->ncategories; i++)
        if (strcmp(cov->categories[i].name, category) == 0)
            return &cov->categories[i];
    return NULL;
}

static jv row_json(const struct ar_covrow *r, int with_values)
{
    jv o = jv_object();
    ar_jv_set(&o, "experiments", jv_number(r->experiments));
    ar_jv_set(&o, "kept", jv_number(r->kept));
    ar_jv_set(&o, "crashes", jv_number(r->crashes));
    if (with_values)
        ar_jv_set(&o, "values", jv_number(r->values));
    ar_jv_set(&o, "best_delta", r->has_best ? jv_number(round(r->best_delta * 1e6) / 1e6) : jv_null());
    ar_jv_set(&o, "best_card", r->best_card ? jv_string(r->best_card) : jv_null());
    ar_jv_set(&o, "since_progress", jv_number(r->stale));
    ar_jv_set(&o, "state", jv_string(r->state));
    return o;
}

jv ar_coverage_json(const struct ar_coverage *cov)
{
    jv o = jv_object();
    ar_jv_set(&o, "schema", jv_string("ar.coverage/1"));
    jv th = jv_object();
    ar_jv_set(&th, "under_explored_below", jv_number(AR_COV_UNDER));
    ar_jv_set(&th, "saturated_from", jv_number(AR_COV_SATURATED));
    ar_jv_set(&th, "saturated_after_stale", jv_number(AR_COV_STALE));
    ar_jv_set(&o, "thresholds", th);
    jv cats = jv_object();
    for (size_t i = 0; i < cov->ncategories; i++)
        ar_jv_set(&cats, cov->categories[i].name, row_json(&cov->categories[i], 0));
    ar_jv_set(&o, "categories", cats);
    jv keys = jv_object();
    for (size_t i = 0; i < cov->nkeys; i++)
        ar_jv_set(&keys, cov->keys[i].name, row_json(&cov->keys[i], 1));
    ar_jv_set(&o, "keys", keys);
    return o;
}

static void print_row(FILE *out, const struct ar_covrow *r, int with_values)
{
    char best[32] = "-";
    if (r->has_best)
        snprintf(best, sizeof best, "%+.4f", r->best_delta);
    fprintf(out, "%-28s %11d %6d %7d", r->name, r->experiments, r->kept, r->crashes);
    if (with_values)
        fprintf(out, " %6d", r->values);
    fprintf(out, " %10s  %s\n", best, r->state);
}

void ar_coverage_print(const struct ar_coverage *cov, FILE *out)
{
    fprintf(out, "%-28s %11s %6s %7s %10s  %s\n", "category", "experiments", "kept", "crashes",
            "best delta", "state");
    for (size_t i = 0; i < cov->ncategories; i++)
        print_row(out, &cov->categories[i], 0);
    fprintf(out, "\n%-28s %11s %6s %7s %6s %10s  %s\n", "config key", "experiments", "kept", "crashes",
            "values", "best delta", "state");
    for (size_t i = 0; i < cov->nkeys; i++)
        print_row(out, &cov->keys[i], 1);
}

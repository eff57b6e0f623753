#include "stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "card.h"
#include "err.h"
#include "index.h"
#include "json.h"

/* ------------------------------------------------------------ reading views */

static const char *str_or(jv obj, const char *key, const char *def)
{
    const char *s = ar_jv_str(obj, key);
    return s ? s : def;
}

static const char *intern_or_null(struct ar_pool *p, jv obj, const char *key)
{
    const char *s = ar_jv_str(obj, key);
    return s ? ar_pool_intern(p, s) : NULL;
}

static const char *dup_or_null(struct ar_pool *p, jv obj, const char *key)
{
    const char *s = ar_jv_str(obj, key);
    return s ? ar_pool_strndup(p, s, strlen(s)) : NULL;
}

/* The strings of an array member, interned; *n of them. */
static const char **string_list(struct ar_pool *p, jv obj, const char *key, int *n)
{
    jv a = ar_jv_get(obj, key);
    *n = 0;
    const char **out = NULL;
    if (jv_get_kind(a) == JV_KIND_ARRAY && jv_array_length(jv_copy(a)) > 0) {
        out = ar_pool_alloc(p, (size_t)jv_array_length(jv_copy(a)) * sizeof *out);
        jv_array_foreach(a, i, x) {
            if (jv_get_kind(x) == JV_KIND_STRING)
                out[(*n)++] = ar_pool_intern(p, jv_string_value(x));
            jv_free(x);
        }
    }
    jv_free(a);
    return out;
}

static const char *value_text(struct ar_pool *p, jv v)
{
    if (!jv_is_valid(v))
        return ar_pool_intern(p, "null");
    char *s = ar_json_dump(v, AR_JSON_COMPACT);
    const char *out = ar_pool_intern(p, s);
    free(s);
    return out;
}

static void read_changes(struct ar_pool *p, jv view, struct ar_cardsum *c)
{
    jv a = ar_jv_get(view, "changes");
    if (jv_get_kind(a) == JV_KIND_ARRAY && jv_array_length(jv_copy(a)) > 0) {
        c->changes = ar_pool_alloc(p, (size_t)jv_array_length(jv_copy(a)) * sizeof *c->changes);
        jv_array_foreach(a, i, e) {
            const char *key = ar_jv_str(e, "key");
            if (key) {
                struct ar_change *ch = &c->changes[c->nchanges++];
                jv from = ar_jv_get(e, "from"), to = ar_jv_get(e, "to");
                ch->key = ar_pool_intern(p, key);
                ch->from = value_text(p, from);
                ch->to = value_text(p, to);
                ch->numeric = jv_get_kind(from) == JV_KIND_NUMBER && jv_get_kind(to) == JV_KIND_NUMBER;
                if (ch->numeric) {
                    ch->from_num = jv_number_value(from);
                    ch->to_num = jv_number_value(to);
                }
                jv_free(from);
                jv_free(to);
            }
            jv_free(e);
        }
    }
    jv_free(a);
}

static const char *last_lesson(struct ar_pool *p, jv view)
{
    jv notes = ar_jv_get(view, "notes");
    const char *out = NULL;
    if (jv_get_kind(notes) == JV_KIND_ARRAY) {
        jv_array_foreach(notes, i, n) {
            const char *kind = ar_jv_str(n, "kind"), *text = ar_jv_str(n, "text");
            if (kind && text && strcmp(kind, "lesson") == 0)
                out = ar_pool_strndup(p, text, strlen(text));
            jv_free(n);
        }
    }
    jv_free(notes);
    return out;
}

const char *ar_stats_keyname(const char *fingerprint, double budget_s, const char *platform,
                             char *out, size_t size)
{
    snprintf(out, size, "%s|%g|%s", fingerprint && *fingerprint ? fingerprint : "-", budget_s,
             platform && *platform ? platform : "-");
    return out;
}

int ar_kbstats_add_view(struct ar_kbstats *st, jv view)
{
    const char *id = ar_jv_str(view, "id");
    if (!id)
        return ar_fail(AR_EINPUT, "card view: no id");
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 256;
        st->cards = ar_xrealloc(st->cards, st->cap * sizeof *st->cards);
    }
    struct ar_pool *p = &st->pool;
    struct ar_cardsum *c = &st->cards[st->n++];
    memset(c, 0, sizeof *c);
    c->id = ar_pool_strndup(p, id, strlen(id));
    c->created = dup_or_null(p, view, "created");
    c->agent = ar_pool_intern(p, str_or(view, "agent", ""));
    c->session = ar_pool_intern(p, str_or(view, "session", ""));
    c->commit = dup_or_null(p, view, "commit");
    c->category = ar_pool_intern(p, str_or(view, "category", "other"));
    c->hypothesis = ar_pool_intern(p, str_or(view, "hypothesis", ""));
    c->status = ar_pool_intern(p, ar_card_status_norm(str_or(view, "status", "")));
    c->config_hash = intern_or_null(p, view, "config_hash");
    c->baseline = dup_or_null(p, view, "baseline");
    c->verifies = dup_or_null(p, view, "verifies");
    c->lesson = last_lesson(p, view);

    jv x = ar_jv_get(view, "platform");
    c->platform = ar_pool_intern(p, str_or(x, "class", ""));
    jv_free(x);
    x = ar_jv_get(view, "data");
    c->fingerprint = ar_pool_intern(p, str_or(x, "fingerprint", ""));
    jv_free(x);
    c->budget_s = ar_jv_num(view, "budget_s", 0);
    char key[512];
    c->key = ar_pool_intern(p, ar_stats_keyname(c->fingerprint, c->budget_s, c->platform, key, sizeof key));

    x = ar_jv_get(view, "metrics");
    c->has_bpb = ar_jv_has(x, "val_bpb");
    c->val_bpb = ar_jv_num(x, "val_bpb", 0);
    c->training_seconds = ar_jv_num(x, "training_seconds", 0);
    jv_free(x);
    x = ar_jv_get(view, "delta");
    c->has_delta = jv_get_kind(x) == JV_KIND_NUMBER;
    c->delta = c->has_delta ? jv_number_value(x) : 0;
    jv_free(x);
    x = ar_jv_get(view, "retracted");
    c->retracted = jv_get_kind(x) == JV_KIND_TRUE;
    jv_free(x);

    c->tags = string_list(p, view, "tags", &c->ntags);
    c->prior = string_list(p, view, "prior_cards", &c->nprior);
    read_changes(p, view, c);
    c->group = -1;
    return 0;
}

int ar_kbstats_add_text(struct ar_kbstats *st, const char *json, size_t len)
{
    jv v = jv_parse_sized(json, (int)len);
    if (!jv_is_valid(v)) {
        jv msg = jv_invalid_get_msg(v);
        int rc = ar_fail(AR_EINPUT, "card view: %s",
                         jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "malformed JSON");
        jv_free(msg);
        return rc;
    }
    int rc = ar_kbstats_add_view(st, v);
    jv_free(v);
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
    ar_pool_free(&st->pool);
    free(st);
}

/* ---------------------------------------------------------------- finishing */

static int cmp_card_id(const void *a, const void *b)
{
    return strcmp(((const struct ar_cardsum *)a)->id, ((const struct ar_cardsum *)b)->id);
}

long ar_stats_find(const struct ar_kbstats *st, const char *id)
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

/* qsort has no context argument: the comparators read this */
static const struct ar_kbstats *sort_st;

static int cmp_by_key(const void *a, const void *b)
{
    const struct ar_cardsum *x = &sort_st->cards[*(const size_t *)a];
    const struct ar_cardsum *y = &sort_st->cards[*(const size_t *)b];
    int c = x->key == y->key ? 0 : strcmp(x->key, y->key);
    if (c)
        return c;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static int cmp_by_group(const void *a, const void *b)
{
    const struct ar_cardsum *x = &sort_st->cards[*(const size_t *)a];
    const struct ar_cardsum *y = &sort_st->cards[*(const size_t *)b];
    int c = x->config_hash == y->config_hash ? 0 : strcmp(x->config_hash, y->config_hash);
    if (!c)
        c = x->key == y->key ? 0 : strcmp(x->key, y->key);   /* fingerprint, budget, class */
    if (c)
        return c;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static void build_keys(struct ar_kbstats *st, size_t *idx, size_t m)
{
    sort_st = st;
    qsort(idx, m, sizeof *idx, cmp_by_key);
    st->keys = ar_xmalloc((m ? m : 1) * sizeof *st->keys);
    st->nkeys = 0;
    struct ar_keystat *k = NULL;
    for (size_t j = 0; j < m; j++) {
        const struct ar_cardsum *c = &st->cards[idx[j]];
        if (!k || k->key != c->key) {
            k = &st->keys[st->nkeys++];
            *k = (struct ar_keystat){c->key, c->platform, c->fingerprint, c->budget_s, 0, -1, -1, 0, 0};
        }
        k->runs++;
        if (k->best < 0 || c->val_bpb < st->cards[k->best].val_bpb)
            k->best = (int)idx[j];
        if (strcmp(c->status, "baseline") == 0) {
            if (k->baseline < 0)
                k->baseline = (int)idx[j];
            k->baselines++;
            k->baseline_mean += (c->val_bpb - k->baseline_mean) / k->baselines;
        }
    }
}

static void build_groups(struct ar_kbstats *st, size_t *idx, size_t m)
{
    size_t g = 0;
    for (size_t j = 0; j < m; j++)
        if (st->cards[idx[j]].config_hash)
            idx[g++] = idx[j];
    sort_st = st;
    qsort(idx, g, sizeof *idx, cmp_by_group);
    st->groups = ar_xmalloc((g ? g : 1) * sizeof *st->groups);
    st->ngroups = 0;
    const struct ar_cardsum *prev = NULL;
    for (size_t j = 0; j < g; j++) {
        struct ar_cardsum *c = &st->cards[idx[j]];
        if (!prev || prev->config_hash != c->config_hash || prev->key != c->key)
            st->groups[st->ngroups++] = (struct ar_group){c->platform, 0, 0, 0};
        struct ar_group *gr = &st->groups[st->ngroups - 1];
        /* Welford: stable, and the same numbers for the same cards in id order */
        gr->runs++;
        double d = c->val_bpb - gr->mean;
        gr->mean += d / gr->runs;
        gr->m2 += d * (c->val_bpb - gr->mean);
        c->group = (int)(st->ngroups - 1);
        prev = c;
    }
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

/* ------------------------------------------------------------------ loading */

struct load_ctx {
    struct ar_kbstats *st;
    const struct ar_filter *f;
};

static int load_line(char *line, size_t len, void *ctx)
{
    struct load_ctx *lc = ctx;
    if (len == 0)
        return 0;
    jv v = jv_parse_sized(line, (int)len);
    if (!jv_is_valid(v)) {
        jv_free(v);
        return ar_fail(AR_EFAIL, "index.jsonl: malformed line (rebuild with 'ar-card index')");
    }
    int rc = 0;
    if (!lc->f || ar_filter_match(lc->f, v))
        rc = ar_kbstats_add_view(lc->st, v);
    jv_free(v);
    return rc;
}

int ar_kbstats_load(const struct ar_kb *kb, const struct ar_filter *f, struct ar_kbstats **out)
{
    struct ar_kbstats *st = ar_kbstats_new();
    struct load_ctx lc = {st, f};
    if (f && ar_filter_check(f) != 0) {
        ar_kbstats_free(st);
        return -1;
    }
    if (ar_index_foreach(kb, load_line, &lc) != 0) {
        ar_kbstats_free(st);
        return -1;
    }
    ar_kbstats_finish(st);
    *out = st;
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

#include "record.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "facts/card.h"
#include "index/store.h"
#include "base/err.h"
#include "index/index.h"
#include "base/json.h"

/* ------------------------------------------------------------------------ */
/* the best card of a session and comparability key */

struct best_search {
    const char *session, *fingerprint, *cls;
    double budget_s;
    jv best;
    double best_bpb;
    const char *ref_hash;   /* NULL, or the config hash of the reference */
    jv ref;                 /* the first card run with it */
};

static int str_eq(const char *a, const char *b)
{
    return a && b ? strcmp(a, b) == 0 : a == b;
}

static int consider(char *line, size_t len, void *ctx)
{
    struct best_search *s = ctx;
    jv v;
    if (ar_json_parse(line, len, "index.jsonl", &v) != 0)
        return 0;   /* the index is derived; a bad line is not this run's problem */
    const char *status = ar_jv_str(v, "status");
    jv retracted = ar_jv_get(v, "retracted");
    jv data = ar_jv_get(v, "data"), platform = ar_jv_get(v, "platform");
    jv metrics = ar_jv_get(v, "metrics");
    double bpb = ar_jv_num(metrics, "val_bpb", NAN);
    int same_key = jv_get_kind(retracted) != JV_KIND_TRUE && str_eq(ar_jv_str(v, "session"), s->session) &&
                   str_eq(ar_jv_str(data, "fingerprint"), s->fingerprint) &&
                   str_eq(ar_jv_str(platform, "class"), s->cls) &&
                   ar_jv_num(v, "budget_s", NAN) == s->budget_s && isfinite(bpb);
    int match = same_key && (str_eq(status, "keep") || str_eq(status, "baseline"));
    jv_free(retracted);
    jv_free(data);
    jv_free(platform);
    jv_free(metrics);
    /* lines come in id order: the first card with the reference config */
    if (same_key && s->ref_hash && !jv_is_valid(s->ref) && !str_eq(status, "crash") &&
        str_eq(ar_jv_str(v, "config_hash"), s->ref_hash))
        s->ref = jv_copy(v);
    if (match && (!jv_is_valid(s->best) || bpb < s->best_bpb)) {
        jv_free(s->best);
        s->best = v;
        s->best_bpb = bpb;
    } else {
        jv_free(v);
    }
    return 0;
}

/* The best card and, when ref_hash is given, the first card run with that
 * config (*ref, else jv_invalid()) of a session and comparability key. */
static int find_cards(const struct ar_kb *kb, const char *session, const char *fingerprint, double budget_s,
                      const char *platform_class, const char *ref_hash, jv *best, jv *ref)
{
    struct best_search s = { session, fingerprint, platform_class, budget_s, jv_invalid(), 0, ref_hash,
                             jv_invalid() };
    int rc = ar_index_foreach(kb, consider, &s);
    if (rc < 0) {
        jv_free(s.best);
        jv_free(s.ref);
        *best = *ref = jv_invalid();
        return -1;
    }
    *best = s.best;
    *ref = s.ref;
    return 0;
}

int record_find_best(const struct ar_kb *kb, const char *session, const char *fingerprint,
                     double budget_s, const char *platform_class, jv *best)
{
    jv ref;
    return find_cards(kb, session, fingerprint, budget_s, platform_class, NULL, best, &ref);
}

/* ------------------------------------------------------------------------ */
/* the card */

static jv metrics(const struct train_result *r, int crash)
{
    jv m = jv_object();
    if (!crash && isfinite(r->val_bpb) && r->val_bpb > 0)
        ar_jv_set(&m, "val_bpb", jv_number(r->val_bpb));
    ar_jv_set(&m, "training_seconds", jv_number(round(r->training_seconds * 10) / 10));
    ar_jv_set(&m, "total_seconds", jv_number(round(r->total_seconds * 10) / 10));
    ar_jv_set(&m, "peak_mem_mb", jv_number(round(r->peak_mem_mb * 10) / 10));
    ar_jv_set(&m, "mfu_percent", jv_number(round(r->mfu_percent * 100) / 100));
    ar_jv_set(&m, "total_tokens_M", jv_number(round(r->total_tokens_M * 1000) / 1000));
    ar_jv_set(&m, "num_steps", jv_number((double)r->num_steps));
    ar_jv_set(&m, "num_params_M", jv_number(round(r->num_params_M * 1000) / 1000));
    ar_jv_set(&m, "depth", jv_number(r->depth));
    ar_jv_set(&m, "flops_per_token", jv_number(round(r->flops_per_token)));
    return m;
}

int record_build(const struct ar_kb *kb, struct record *r, jv *card)
{
    *card = jv_invalid();
    const char *cls = ar_jv_str(r->platform, "class");
    const char *fp = ar_jv_str(r->data, "fingerprint");
    jv best = jv_invalid(), ref = jv_invalid();
    char base_hash[65];
    if (r->base)
        config_hash(r->base, base_hash);
    if (find_cards(kb, r->session, fp, r->budget_s, cls, r->base ? base_hash : NULL, &best, &ref) < 0)
        goto fail;
    jv c = jv_object();
    if (r->session)
        ar_jv_set(&c, "session", jv_string(r->session));
    if (r->git) {
        ar_jv_set(&c, "commit", jv_string(r->git->commit));
        if (r->git->parent[0])
            ar_jv_set(&c, "parent_commit", jv_string(r->git->parent));
    } else {
        ar_jv_set(&c, "commit", jv_string("0000000"));
    }
    const char *hyp = r->hypothesis ? r->hypothesis : r->git ? r->git->subject : NULL;
    ar_jv_set(&c, "hypothesis", jv_string(hyp && *hyp ? hyp : "(no hypothesis given)"));
    int have_best = jv_is_valid(best);
    ar_jv_set(&c, "category",
              jv_string(r->category ? r->category : have_best ? "other" : "baseline"));
    if (jv_is_valid(r->tags))
        ar_jv_set(&c, "tags", jv_copy(r->tags));
    jv config = config_to_json(r->cfg);
    if (r->base) {
        jv parent = config_to_json(r->base);
        ar_jv_set(&c, "changes", config_changes(parent, config));
        jv_free(parent);
    } else if (have_best) {
        jv parent = ar_jv_get(best, "config");
        ar_jv_set(&c, "changes", config_changes(parent, config));
        jv_free(parent);
    }
    ar_jv_set(&c, "config", config);

    const char *status = r->status;
    double bpb = r->res->val_bpb, best_bpb = NAN;
    if (have_best) {
        jv bm = ar_jv_get(best, "metrics");
        best_bpb = ar_jv_num(bm, "val_bpb", NAN);
        jv_free(bm);
    }
    if (r->res->crashed)   /* a crash is a crash, whatever --status said */
        status = "crash";
    if (!status)
        status = !isfinite(bpb) ? "crash"
                 : !have_best ? "baseline"
                 : bpb < best_bpb ? "keep"
                 : "discard";
    ar_jv_set(&c, "status", jv_string(status));
    int crash = strcmp(status, "crash") == 0;
    ar_jv_set(&c, "metrics", metrics(r->res, crash));
    /* the delta is against the card the changes are against: the base
     * config's first run for a queue entry, else the session's best */
    jv against = r->base ? ref : best;
    int have_against = jv_is_valid(against);
    if (have_against && !crash) {
        jv am = ar_jv_get(against, "metrics");
        ar_jv_set(&c, "delta", jv_number(bpb - ar_jv_num(am, "val_bpb", NAN)));
        jv_free(am);
    } else {
        ar_jv_set(&c, "delta", jv_null());
    }
    if (have_against) {
        ar_jv_set(&c, "baseline", jv_string(ar_jv_str(against, "id")));
        ar_jv_set(&c, "prior_cards", jv_array_append(jv_array(), jv_string(ar_jv_str(against, "id"))));
    } else {
        ar_jv_set(&c, "baseline", jv_null());
    }
    if (r->verifies)
        ar_jv_set(&c, "verifies", jv_string(r->verifies));
    ar_jv_set(&c, "seed", jv_number((double)r->seed));
    ar_jv_set(&c, "budget_s", jv_number(r->budget_s));
    ar_jv_set(&c, "platform", r->platform);
    ar_jv_set(&c, "data", r->data);
    if (jv_is_valid(r->extra))
        ar_jv_set(&c, "extra", r->extra);
    else
        jv_free(r->extra);
    r->platform = r->data = r->extra = jv_invalid();
    jv_free(best);
    jv_free(ref);
    *card = c;
    return 0;
fail:
    jv_free(best);
    jv_free(ref);
    return -1;
}

int record_card(const struct ar_kb *kb, struct record *r, char id[AR_ID_LEN + 1])
{
    jv card;
    if (record_build(kb, r, &card) < 0)
        return -1;
    if (ar_card_complete(&card) < 0) {
        jv_free(card);
        return ar_fail_prefix("card");
    }
    int rc = ar_store_card(kb, card, id);
    jv_free(card);
    return rc;
}

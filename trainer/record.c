#include "record.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "facts/card.h"
#include "index/store.h"
#include "base/err.h"
#include "index/index.h"
#include "base/json.h"
#include "analysis/verdict.h"

int record_find_best(const struct ar_kb *kb, const char *session, const char *fingerprint,
                     double budget_s, const char *platform_class, jv *best)
{
    jv ref;
    return ar_verdict_best(kb, session, fingerprint, budget_s, platform_class, NULL, NULL, best, &ref);
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
    if (ar_verdict_best(kb, r->session, fp, r->budget_s, cls, r->base ? base_hash : NULL, NULL, &best, &ref) < 0)
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

    /* the status is the keep rule's (lib/analysis/verdict.h), judged on
     * the finished card below, unless --status gave one; a crash is a
     * crash whatever --status said */
    double bpb = r->res->val_bpb;
    const char *status = r->res->crashed || !isfinite(bpb) ? "crash" : r->status;
    int crash = status && strcmp(status, "crash") == 0;
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
    jv extra = jv_is_valid(r->extra) ? r->extra : jv_object();
    r->platform = r->data = r->extra = jv_invalid();
    struct ar_verdict v;
    if (ar_verdict_of(kb, c, &v) < 0) {
        jv_free(extra);
        jv_free(c);
        goto fail;
    }
    if (!status)
        status = v.status;
    ar_jv_set(&c, "status", jv_string(status));
    ar_jv_set(&extra, "verdict", ar_verdict_extra(&v));
    ar_jv_set(&c, "extra", extra);
    if (r->verdict)
        *r->verdict = v;
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

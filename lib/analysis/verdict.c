#include "analysis/verdict.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/stats.h"
#include "base/err.h"
#include "base/json.h"
#include "index/index.h"

/* ------------------------------------------------------------------------ */
/* the best card of a session and comparability key, over the statistics
 * (the index's rows: no view is parsed to find it) */

static int str_eq(const char *a, const char *b)
{
    return a && b ? strcmp(a, b) == 0 : a == b;
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

struct found {
    long best, ref;   /* indices into st->cards, -1 when none */
};

/* Cards are in id order: the first of equal val_bpb stays the best, and the
 * first with the reference config is the reference. */
static struct found find(const struct ar_kbstats *st, const char *session, const char *key,
                         const char *ref_hash, const char *skip_id)
{
    struct found f = {-1, -1};
    for (size_t i = 0; i < st->n; i++) {
        const struct ar_cardsum *c = &st->cards[i];
        if (c->retracted || !c->has_bpb || strcmp(c->key, key) != 0 || strcmp(c->session, session) != 0 ||
            (skip_id && strcmp(c->id, skip_id) == 0))
            continue;
        if (ref_hash && f.ref < 0 && !c->crash && str_eq(c->config_hash, ref_hash))
            f.ref = (long)i;
        if ((str_eq(c->status, "keep") || str_eq(c->status, "baseline")) &&
            (f.best < 0 || c->val_bpb < st->cards[f.best].val_bpb))
            f.best = (long)i;
    }
    return f;
}

static const char *key_of(const char *fingerprint, double budget_s, const char *platform_class, char *out,
                          size_t size)
{
    return ar_stats_keyname(fingerprint, isfinite(budget_s) ? budget_s : 0, platform_class, out, size);
}

/* The view of card i, or jv_invalid() for -1. */
static int view_of(const struct ar_kb *kb, const struct ar_kbstats *st, long i, jv *out)
{
    *out = jv_invalid();
    if (i < 0)
        return 0;
    int rc = ar_index_view(kb, st->cards[i].id, out);
    return rc < 0 ? -1 : 0;   /* 1 (gone since the rows were read) reads as none */
}

int ar_verdict_best(const struct ar_kb *kb, const char *session, const char *fingerprint, double budget_s,
                    const char *platform_class, const char *ref_hash, const char *skip_id, jv *best,
                    jv *ref)
{
    *best = *ref = jv_invalid();
    struct ar_kbstats *st;
    if (ar_kbstats_load(kb, NULL, &st) != 0)
        return -1;
    char key[512];
    key_of(fingerprint, budget_s, platform_class, key, sizeof key);
    struct found f = find(st, or_empty(session), key, ref_hash, skip_id);
    int rc = view_of(kb, st, f.best, best) == 0 && view_of(kb, st, f.ref, ref) == 0 ? 0 : -1;
    ar_kbstats_free(st);
    if (rc < 0) {
        jv_free(*best);
        jv_free(*ref);
        *best = *ref = jv_invalid();
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* the noise floor */

static void noise_of(const struct ar_kbstats *st, const char *platform_class, double *sigma, char *from,
                     size_t size)
{
    const struct ar_noise *nz = ar_stats_noise(st, or_empty(platform_class));
    if (!nz || nz->is_default) {
        *sigma = AR_SIGMA_DEFAULT;
        snprintf(from, size, "prior");
    } else {
        *sigma = nz->sigma;
        snprintf(from, size, "%d replicates on %s", nz->runs, *nz->platform ? nz->platform : "(no class)");
    }
}

int ar_verdict_noise(const struct ar_kb *kb, const char *platform_class, double *sigma, char *from,
                     size_t size)
{
    struct ar_kbstats *st;
    if (ar_kbstats_load(kb, NULL, &st) != 0)
        return -1;
    noise_of(st, platform_class, sigma, from, size);
    ar_kbstats_free(st);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* the rule */

static void set_status(struct ar_verdict *v, const char *status)
{
    snprintf(v->status, sizeof v->status, "%s", status);
}

static void ordinary(const struct ar_verdict_in *in, struct ar_verdict *v)
{
    double two = 2 * in->sigma;
    if (!in->have_best) {
        set_status(v, "baseline");
        snprintf(v->advice, sizeof v->advice, "the first run of this session and key: the baseline to beat");
        return;
    }
    snprintf(v->best_id, sizeof v->best_id, "%s", in->best_id ? in->best_id : "");
    v->delta = in->val_bpb - in->best_bpb;
    if (v->delta < -two) {
        set_status(v, "keep");
        snprintf(v->advice, sizeof v->advice, "better than the best by %.4f (more than 2 sigma = %.4f): keep it",
                 -v->delta, two);
    } else if (v->delta > two) {
        set_status(v, "discard");
        snprintf(v->advice, sizeof v->advice, "worse than the best by %.4f (more than 2 sigma = %.4f): discard it",
                 v->delta, two);
    } else {
        set_status(v, "inconclusive");
        snprintf(v->advice, sizeof v->advice,
                 "%+.4f is within 2 sigma (%.4f) of the best: replicate before keeping "
                 "(ar-train --verify CARD)",
                 v->delta, two);
    }
}

static void verification(const struct ar_verdict_in *in, struct ar_verdict *v)
{
    double two = 2 * in->sigma;
    snprintf(v->verified_id, sizeof v->verified_id, "%s", in->verifies);
    if (!in->verified_found || !in->same_key || !isfinite(in->verified_bpb)) {
        snprintf(v->verify, sizeof v->verify, "incomparable");
        ordinary(in, v);
        char why[96];
        snprintf(why, sizeof why, "; card %.29s is %s", in->verifies,
                 !in->verified_found ? "not known here" : !isfinite(in->verified_bpb) ? "without val_bpb"
                                                                                : "on another key");
        size_t n = strlen(v->advice);
        snprintf(v->advice + n, sizeof v->advice - n, "%s", why);
        return;
    }
    v->verify_delta = in->val_bpb - in->verified_bpb;
    int agrees = fabs(v->verify_delta) <= two;
    snprintf(v->verify, sizeof v->verify, "%s", agrees ? "agrees" : "disagrees");
    if (!agrees) {
        set_status(v, "inconclusive");
        snprintf(v->advice, sizeof v->advice,
                 "disagrees with %.29s by %+.4f (more than 2 sigma = %.4f): it does not reproduce; "
                 "replicate once more or check the code (ar-card checkout)",
                 in->verifies, v->verify_delta, two);
        return;
    }
    if (!isfinite(in->verified_delta)) {   /* C is a baseline */
        set_status(v, "baseline");
        snprintf(v->advice, sizeof v->advice, "agrees with %.29s by %+.4f (within 2 sigma = %.4f): one more baseline run",
                 in->verifies, v->verify_delta, two);
        return;
    }
    double base = in->verified_bpb - in->verified_delta;
    snprintf(v->best_id, sizeof v->best_id, "%s", in->verified_baseline ? in->verified_baseline : "");
    v->delta = in->val_bpb - base;
    if (in->verified_delta < 0 && v->delta < 0) {
        set_status(v, "keep");
        snprintf(v->advice, sizeof v->advice,
                 "agrees with %.29s (%+.4f, within 2 sigma = %.4f) and both beat its baseline: keep it",
                 in->verifies, v->verify_delta, two);
    } else {
        set_status(v, "discard");
        snprintf(v->advice, sizeof v->advice,
                 "agrees with %.29s (%+.4f, within 2 sigma = %.4f) that it does not beat its baseline: discard it",
                 in->verifies, v->verify_delta, two);
    }
}

void ar_verdict_rule(const struct ar_verdict_in *in, struct ar_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->sigma = in->sigma > 0 ? in->sigma : AR_SIGMA_DEFAULT;
    snprintf(v->sigma_from, sizeof v->sigma_from, "%s", in->sigma_from ? in->sigma_from : "prior");
    v->delta = v->verify_delta = NAN;
    struct ar_verdict_in w = *in;
    w.sigma = v->sigma;
    if (!isfinite(in->val_bpb) || in->val_bpb <= 0) {
        set_status(v, "crash");
        snprintf(v->advice, sizeof v->advice, "no val_bpb: read the log's end, fix what is trivial or move on");
        if (in->verifies)
            snprintf(v->verified_id, sizeof v->verified_id, "%s", in->verifies);
        return;
    }
    if (in->verifies)
        verification(&w, v);
    else
        ordinary(&w, v);
    if (in->truncated) {
        size_t n = strlen(v->advice);
        snprintf(v->advice + n, sizeof v->advice - n, " (truncated run: short of its budget, never a replicate)");
    }
}

/* ------------------------------------------------------------------------ */
/* a card's verdict */

int ar_verdict_of(const struct ar_kb *kb, jv card, struct ar_verdict *v)
{
    struct ar_kbstats *st;
    if (ar_kbstats_load(kb, NULL, &st) != 0)
        return -1;
    jv data = ar_jv_get(card, "data"), platform = ar_jv_get(card, "platform");
    jv metrics = ar_jv_get(card, "metrics");
    const char *cls = ar_jv_str(platform, "class");
    double budget = ar_jv_num(card, "budget_s", NAN);
    char key[512];
    key_of(ar_jv_str(data, "fingerprint"), budget, cls, key, sizeof key);
    struct ar_verdict_in in = {0};
    in.val_bpb = ar_jv_num(metrics, "val_bpb", NAN);
    if (str_eq(ar_jv_str(card, "status"), "crash"))
        in.val_bpb = NAN;
    in.truncated = ar_jv_has(metrics, "training_seconds") &&
                   ar_stats_truncated(ar_jv_num(metrics, "training_seconds", 0), budget);
    char from[64];
    noise_of(st, cls, &in.sigma, from, sizeof from);
    in.sigma_from = from;
    struct found f = find(st, or_empty(ar_jv_str(card, "session")), key, NULL, ar_jv_str(card, "id"));
    in.have_best = f.best >= 0;
    if (in.have_best) {
        in.best_bpb = st->cards[f.best].val_bpb;
        in.best_id = st->cards[f.best].id;
    }
    in.verifies = ar_jv_str(card, "verifies");
    in.verified_bpb = in.verified_delta = NAN;
    long c = in.verifies ? ar_stats_find(st, in.verifies) : -1;
    if (c >= 0) {
        const struct ar_cardsum *vc = &st->cards[c];
        in.verified_found = 1;
        in.verified_bpb = vc->counts ? vc->val_bpb : NAN;
        in.verified_delta = vc->has_delta ? vc->delta : NAN;
        in.verified_baseline = vc->baseline;
        in.same_key = strcmp(vc->key, key) == 0;
    }
    ar_verdict_rule(&in, v);
    ar_kbstats_free(st);
    jv_free(data);
    jv_free(platform);
    jv_free(metrics);
    return 0;
}

jv ar_verdict_extra(const struct ar_verdict *v)
{
    jv o = jv_object();
    ar_jv_set(&o, "sigma", jv_number(v->sigma));
    ar_jv_set(&o, "sigma_from", jv_string(v->sigma_from));
    ar_jv_set(&o, "two_sigma", jv_number(2 * v->sigma));
    ar_jv_set(&o, "delta", isfinite(v->delta) ? jv_number(v->delta) : jv_null());
    ar_jv_set(&o, "against", v->best_id[0] ? jv_string(v->best_id) : jv_null());
    if (v->verify[0]) {
        jv w = jv_object();
        ar_jv_set(&w, "card", jv_string(v->verified_id));
        ar_jv_set(&w, "result", jv_string(v->verify));
        ar_jv_set(&w, "delta", isfinite(v->verify_delta) ? jv_number(v->verify_delta) : jv_null());
        ar_jv_set(&o, "verify", w);
    }
    return o;
}

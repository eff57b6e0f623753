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
/* the best card of a session and comparability key */

struct best_search {
    const char *session, *fingerprint, *cls, *skip;
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
    if (ar_json_parse(line, len, "index", &v) != 0)
        return 0;   /* the index is derived; a bad line is not this run's problem */
    if (s->skip && str_eq(ar_jv_str(v, "id"), s->skip)) {
        jv_free(v);
        return 0;
    }
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

int ar_verdict_best(const struct ar_kb *kb, const char *session, const char *fingerprint, double budget_s,
                    const char *platform_class, const char *ref_hash, const char *skip_id, jv *best,
                    jv *ref)
{
    struct best_search s = {session, fingerprint, platform_class, skip_id, budget_s, jv_invalid(), 0,
                            ref_hash, jv_invalid()};
    if (ar_index_foreach(kb, consider, &s) < 0) {
        jv_free(s.best);
        jv_free(s.ref);
        *best = *ref = jv_invalid();
        return -1;
    }
    *best = s.best;
    *ref = s.ref;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* the noise floor */

int ar_verdict_noise(const struct ar_kb *kb, const char *platform_class, double *sigma, char *from,
                     size_t size)
{
    struct ar_kbstats *st;
    if (ar_kbstats_load(kb, NULL, &st) != 0)
        return -1;
    const struct ar_noise *nz = ar_stats_noise(st, platform_class ? platform_class : "");
    if (!nz || nz->is_default) {
        *sigma = AR_SIGMA_DEFAULT;
        snprintf(from, size, "prior");
    } else {
        *sigma = nz->sigma;
        snprintf(from, size, "%d replicates on %s", nz->runs, *nz->platform ? nz->platform : "(no class)");
    }
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
    jv data = ar_jv_get(card, "data"), platform = ar_jv_get(card, "platform");
    jv metrics = ar_jv_get(card, "metrics");
    const char *fp = ar_jv_str(data, "fingerprint"), *cls = ar_jv_str(platform, "class");
    const char *session = ar_jv_str(card, "session"), *verifies = ar_jv_str(card, "verifies");
    double budget = ar_jv_num(card, "budget_s", NAN);
    struct ar_verdict_in in = {0};
    in.val_bpb = ar_jv_num(metrics, "val_bpb", NAN);
    if (str_eq(ar_jv_str(card, "status"), "crash"))
        in.val_bpb = NAN;
    in.truncated = ar_jv_has(metrics, "training_seconds") &&
                   ar_stats_truncated(ar_jv_num(metrics, "training_seconds", 0), budget);
    in.verifies = verifies;
    char from[64];
    jv best = jv_invalid(), ref = jv_invalid(), vc = jv_invalid();
    int rc = -1;
    if (ar_verdict_noise(kb, cls, &in.sigma, from, sizeof from) != 0)
        goto out;
    in.sigma_from = from;
    if (ar_verdict_best(kb, session, fp, budget, cls, NULL, ar_jv_str(card, "id"), &best, &ref) != 0)
        goto out;
    in.have_best = jv_is_valid(best);
    if (in.have_best) {
        jv bm = ar_jv_get(best, "metrics");
        in.best_bpb = ar_jv_num(bm, "val_bpb", NAN);
        in.best_id = ar_jv_str(best, "id");
        jv_free(bm);
    }
    in.verified_bpb = in.verified_delta = NAN;
    if (verifies) {
        int found = ar_index_view(kb, verifies, &vc);
        if (found < 0)
            goto out;
        in.verified_found = found == 0;
        if (in.verified_found) {
            jv vm = ar_jv_get(vc, "metrics"), vd = ar_jv_get(vc, "data"), vp = ar_jv_get(vc, "platform");
            jv retracted = ar_jv_get(vc, "retracted");
            int counts = !str_eq(ar_jv_str(vc, "status"), "crash") && jv_get_kind(retracted) != JV_KIND_TRUE;
            in.verified_bpb = counts ? ar_jv_num(vm, "val_bpb", NAN) : NAN;
            in.verified_delta = ar_jv_num(vc, "delta", NAN);
            in.verified_baseline = ar_jv_str(vc, "baseline");
            in.same_key = str_eq(ar_jv_str(vd, "fingerprint"), fp) && str_eq(ar_jv_str(vp, "class"), cls) &&
                          ar_jv_num(vc, "budget_s", NAN) == budget;
            jv_free(vm);
            jv_free(vd);
            jv_free(vp);
            jv_free(retracted);
        }
    }
    ar_verdict_rule(&in, v);
    rc = 0;
out:
    jv_free(best);
    jv_free(ref);
    jv_free(vc);
    jv_free(data);
    jv_free(platform);
    jv_free(metrics);
    return rc;
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

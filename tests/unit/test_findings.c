/* lib/findings: claims from changes and the certainty rule, rule by rule
 * (man/ar-synth.1): confirmation, refutation, null evidence, adaptive rate,
 * re-runs, replication on other hardware, contradiction across classes,
 * universal scope, links, exclusions and order independence. */
#include "unit.h"
#include "base/err.h"
#include "analysis/findings.h"
#include "base/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A card raising matrix_lr (claim "matrix_lr:up") with delta d, by agent
 * on class cls; more: extra members. Default noise floor 0.002. */
static void ev(struct ar_kbstats *st, const char *id, const char *agent, const char *cls, double d,
               const char *more)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"id\":\"%s\",\"status\":\"keep\",\"agent\":\"%s\",\"platform\":{\"class\":\"%s\"},"
             "\"changes\":[{\"key\":\"matrix_lr\",\"from\":0.04,\"to\":0.05}],"
             "\"delta\":%.17g,\"metrics\":{\"val_bpb\":1}%s%s}",
             id, agent, cls, d, more ? "," : "", more ? more : "");
    ck_assert_msg(ar_kbstats_add_text(st, text, strlen(text)) == 0, "%s", ar_last_error());
}

static struct ar_findings *build(struct ar_kbstats *st)
{
    ar_kbstats_finish(st);
    return ar_findings_build(st);
}

static const struct ar_claim *claim(const struct ar_findings *f, const char *name)
{
    const struct ar_claim *c = ar_findings_get(f, name);
    ck_assert_msg(c != NULL, "no claim %s", name);
    return c;
}

/* the rate as the update applies it: step times the adaptive rate */
#define ETA(c) (AR_CERTAINTY_STEP / (1.0 + exp(10.0 * ((c) - 0.5))))

START_TEST(rate_is_fast_while_uncertain_and_slow_once_established)
{
    ck_assert_double_eq_tol(ar_certainty_rate(0.5), 0.5, 1e-15);
    ck_assert_double_eq_tol(ar_certainty_rate(0.3), 1.0 / (1.0 + exp(-2.0)), 1e-15);
    ck_assert(ar_certainty_rate(0.1) > ar_certainty_rate(0.3));
    ck_assert(ar_certainty_rate(0.9) < 0.02);
    /* a weight never moves certainty past the target */
    ck_assert_double_eq(ar_certainty_update(0.0, AR_CONFIRM, 4.0), 1.0);
    ck_assert_double_eq(ar_certainty_update(1.0, AR_REFUTE, 3.0), 1.0 - ETA(1.0) * 3.0);
    /* one confirmation, however weighted, does not settle a new claim */
    ck_assert(ar_certainty_update(AR_CERTAINTY_START, AR_CONFIRM, AR_W_REPLICATION) < 0.75);
    ck_assert(ar_certainty_update(AR_CERTAINTY_START, AR_CONFIRM, 1) < 0.6);
}
END_TEST

START_TEST(z_of_two_confirms_and_minus_two_refutes)
{
    ck_assert_int_eq(ar_outcome_of(2.0), AR_CONFIRM);
    ck_assert_int_eq(ar_outcome_of(1.999), AR_NULL);
    ck_assert_int_eq(ar_outcome_of(-1.999), AR_NULL);
    ck_assert_int_eq(ar_outcome_of(-2.0), AR_REFUTE);
}
END_TEST

START_TEST(confirmation)
{
    struct ar_kbstats *st = ar_kbstats_new();
    ev(st, "c01", "a", "A", -0.004, NULL);   /* z = 2 exactly */
    struct ar_findings *f = build(st);
    ck_assert_int_eq((int)f->n, 1);
    const struct ar_claim *c = claim(f, "matrix_lr:up");
    ck_assert_int_eq(c->all.confirms, 1);
    ck_assert_double_eq_tol(c->all.certainty, 0.3 + ETA(0.3) * 0.7, 1e-12);
    ck_assert_str_eq(c->all.verdict, "confirmed");
    ck_assert_str_eq(c->scope, "single-platform");
    ck_assert_double_eq_tol(c->ev[0].z, 2.0, 1e-12);
    ck_assert_double_eq(c->ev[0].before, 0.3);
    ck_assert_double_eq_tol(c->all.effect, -0.004, 1e-15);
    ar_findings_free(f);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(refutation)
{
    struct ar_kbstats *st = ar_kbstats_new();
    ev(st, "c01", "a", "A", 0.006, NULL);
    struct ar_findings *f = build(st);
    const struct ar_claim *c = claim(f, "matrix_lr:up");
    ck_assert_int_eq(c->all.refutes, 1);
    ck_assert_double_eq_tol(c->all.certainty, 0.3 - ETA(0.3) * 0.3, 1e-12);
    ck_assert_str_eq(c->all.verdict, "refuted");
    ar_findings_free(f);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(null_evidence_pulls_gently_down)
{
    struct ar_kbstats *st = ar_kbstats_new();
    ev(st, "c01", "a", "A", -0.003, NULL);   /* z = 1.5 */
    ev(st, "c02", "b", "A", 0.001, NULL);
    struct ar_findings *f = build(st);
    const struct ar_claim *c = claim(f, "matrix_lr:up");
    ck_assert_int_eq(c->all.nulls, 2);
    double c1 = 0.3 - ETA(0.3) * AR_NULL_PULL * 0.3;
    ck_assert_double_eq_tol(c->ev[0].after, c1, 1e-12);
    ck_assert_double_eq_tol(c->all.certainty, c1 - ETA(c1) * AR_NULL_PULL * c1, 1e-12);
    ck_assert_str_eq(c->all.verdict, "null");
    ar_findings_free(f);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(adaptive_rate_slows_as_certainty_grows)
{
    struct ar_kbstats *st = ar_kbstats_new();
    ev(st, "c01", "a", "A", -0.006, NULL);
    ev(st, "c02", "b", "A", -0.006, NULL);
    ev(st, "c03", "c", "A", -0.006, NULL);
    struct ar_findings *f = build(st);
    const struct ar_claim *c = claim(f, "matrix_lr:up");
    double c1 = 0.3 + ETA(0.3) * 0.7, c2 = c1 + ETA(c1) * (1 - c1), c3 = c2 + ETA(c2) * (1 - c2);
    ck_assert_double_eq_tol(c->ev[1].after, c2, 1e-12);
    ck_assert_double_eq_tol(c->all.certainty, c3, 1e-12);
    ck_assert(c2 - c1 < c1 - 0.3);
    ck_assert(c3 - c2 < c2 - c1);
    /* an established claim moves slowly under one refutation */
    ck_assert_double_eq_tol(ar_certainty_update(c3, AR_REFUTE, 1), c3 - ETA(c3) * c3, 1e-12);
    ck_assert(ar_certainty_update(c3, AR_REFUTE, 1) > 0.5);
    ar_findings_free(f);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(same_agent_rerun_counts_half)
{
    struct ar_kbstats *st = ar_kbstats_new();
    ev(st, "c01", "a", "A", -0.006, NULL);
    ev(st, "c02", "a", "A", -0.006, NULL);   /* same agent, same class */
    ev(st, "c03", "b", "A", -0.006, NULL);   /* another agent, same class */
    struct ar_findings *f = build(st);
    const struct ar_claim *c = claim(f, "matrix_lr:up");
    ck_assert_double_eq(c->ev[0].weight, 1);
    ck_assert_double_eq(c->ev[1].weight, AR_W_RERUN);
    ck_assert_double_eq(c->ev[2].weight, 1);
    double c1 = c->ev[0].after;
    ck_assert_double_eq_tol(c->ev[1].after, c1 + ETA(c1) * AR_W_RERUN * (1 - c1), 1e-12);
    ar_findings_free(f);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(replication_on_other_hardware_counts_more)
{
    struct ar_kbstats *st = ar_kbstats_new();
    ev(st, "c01", "a", "A", -0.006, NULL);
    ev(st, "c02", "a", "B", -0.006, "\"verifies\":\"c01\"");   /* same agent, new class */
    ev(st, "c03", "b", "B", -0.006, NULL);                     /* class B seen already */
    struct ar_findings *f = build(st);
    const struct ar_claim *c = claim(f, "matrix_lr:up");
    ck_assert_double_eq(c->ev[1].weight, AR_W_REPLICATION);
    ck_assert_double_eq(c->ev[2].weight, 1);
    double c1 = c->ev[0].after;
    ck_assert_double_eq_tol(c->ev[1].after, c1 + ETA(c1) * AR_W_REPLICATION * (1 - c1), 1e-12);
    /* within class B the replication is its first evidence: weight 1 there */
    ck_assert_int_eq(c->nclasses, 2);
    ck_assert_str_eq(c->classes[1].platform, "B");
    double b1 = 0.3 + ETA(0.3) * 0.7;
    ck_assert_double_eq_tol(c->classes[1].certainty, b1 + ETA(b1) * (1 - b1), 1e-12);
    ck_assert_str_eq(c->scope, "universal");
    ar_findings_free(f);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(contradiction_across_classes_is_platform_specific)
{
    struct ar_kbstats *st = ar_kbstats_new();
    ev(st, "c01", "a", "cpu", -0.006, NULL);
    ev(st, "c02", "a", "cpu", -0.010, NULL);   /* the strongest confirmation */
    ev(st, "c03", "b", "h100", 0.008, NULL);
    ev(st, "c04", "c", "h100", 0.020, NULL);   /* the strongest refutation */
    struct ar_findings *f = build(st);
    const struct ar_claim *c = claim(f, "matrix_lr:up");
    ck_assert_str_eq(c->classes[0].verdict, "confirmed");
    ck_assert_str_eq(c->classes[1].verdict, "refuted");
    ck_assert_str_eq(c->scope, "platform-specific");
    ck_assert_int_eq(c->nlinks, 1);
    ck_assert_str_eq(c->links[0].type, "CONTRADICTS");
    ck_assert_str_eq(c->links[0].from, "c02");
    ck_assert_str_eq(c->links[0].to, "c04");
    ck_assert_str_eq(c->links[0].from_class, "cpu");
    ck_assert_str_eq(c->links[0].to_class, "h100");
    ar_findings_free(f);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(universal_needs_two_confirmed_classes_and_no_refutation)
{
    struct ar_kbstats *st = ar_kbstats_new();
    ev(st, "c01", "a", "A", -0.01, NULL);
    ev(st, "c02", "b", "B", -0.01, NULL);
    ev(st, "c03", "b", "C", 0.000, NULL);   /* null evidence elsewhere is allowed */
    struct ar_findings *f = build(st);
    ck_assert_str_eq(claim(f, "matrix_lr:up")->scope, "universal");
    ar_findings_free(f);
    ar_kbstats_free(st);

    st = ar_kbstats_new();
    ev(st, "c01", "a", "A", -0.01, NULL);
    ev(st, "c02", "b", "B", -0.01, NULL);
    ev(st, "c03", "c", "B", -0.01, NULL);
    ev(st, "c04", "d", "A", 0.01, NULL);    /* a refutation: not universal */
    f = build(st);
    const struct ar_claim *c = claim(f, "matrix_lr:up");
    ck_assert_int_eq(c->all.refutes, 1);
    ck_assert_str_ne(c->scope, "universal");
    ar_findings_free(f);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(noise_floor_of_the_class_scores_the_evidence)
{
    struct ar_kbstats *st = ar_kbstats_new();
    /* replicates on A: pooled 0.0141, sigma 0.0066 with the prior, so a
     * delta of -0.005 is null there */
    const char *rep = "\"config_hash\":\"h\",\"status\":\"baseline\",\"changes\":[]";
    char more[256];
    snprintf(more, sizeof more, "%s,\"metrics\":{\"val_bpb\":1.00}", rep);
    ev(st, "c01", "a", "A", 0, more);
    snprintf(more, sizeof more, "%s,\"metrics\":{\"val_bpb\":1.02}", rep);
    ev(st, "c02", "a", "A", 0, more);
    ev(st, "c03", "a", "A", -0.005, NULL);
    ev(st, "c04", "a", "B", -0.005, NULL);
    struct ar_findings *f = build(st);
    ck_assert_double_eq_tol(ar_stats_sigma(st, "A"), sqrt((4 * 0.002 * 0.002 + 0.0002) / 5), 1e-12);
    const struct ar_claim *c = claim(f, "matrix_lr:up");
    ck_assert_int_eq(c->all.runs, 2);
    /* strongest first: B's z = 2.5 confirms, A's z = 0.76 is null */
    ck_assert_str_eq(st->cards[c->ev[0].card].platform, "B");
    ck_assert_int_eq(c->ev[0].outcome, AR_CONFIRM);
    ck_assert_int_eq(c->ev[1].outcome, AR_NULL);
    ar_findings_free(f);
    ar_kbstats_free(st);
}
END_TEST

/* The same evidence with its dates swapped (cards of two sessions made,
 * imported or synced in another order) gives the same certainty: evidence
 * is taken strongest first, not in id (time) order. */
START_TEST(certainty_does_not_depend_on_dates)
{
    double cert[2], cls[2];
    for (int k = 0; k < 2; k++) {
        struct ar_kbstats *st = ar_kbstats_new();
        ev(st, k ? "c2" : "c1", "a", "A", -0.006, NULL);   /* z = 3 */
        ev(st, k ? "c1" : "c2", "b", "B", -0.010, NULL);   /* z = 5 */
        ev(st, k ? "c4" : "c3", "a", "A", 0.005, NULL);    /* z = -2.5 */
        struct ar_findings *f = build(st);
        const struct ar_claim *c = claim(f, "matrix_lr:up");
        cert[k] = c->all.certainty;
        cls[k] = c->classes[0].certainty;
        /* strongest first: B's z = 5, then A's 3, then A's refutation */
        ck_assert_str_eq(st->cards[c->ev[0].card].platform, "B");
        ck_assert_double_eq_tol(c->ev[0].z, 5, 1e-9);
        ar_findings_free(f);
        ar_kbstats_free(st);
    }
    ck_assert_double_eq(cert[0], cert[1]);
    ck_assert_double_eq(cls[0], cls[1]);
}
END_TEST

/* One 1000-sigma result moves certainty further than one 2-sigma result. */
START_TEST(strength_grows_with_z)
{
    ck_assert_double_eq(ar_evidence_strength(2.5), 1);
    ck_assert_double_eq(ar_evidence_strength(4), 1);
    ck_assert_double_eq_tol(ar_evidence_strength(8), 2, 1e-12);
    ck_assert_double_eq(ar_evidence_strength(-1244), AR_STRENGTH_MAX);
    struct ar_kbstats *st = ar_kbstats_new();
    ev(st, "c1", "a", "A", 2.0, NULL);     /* z = -1000 */
    struct ar_findings *f = build(st);
    double loud = claim(f, "matrix_lr:up")->all.certainty;
    ar_findings_free(f);
    ar_kbstats_free(st);
    st = ar_kbstats_new();
    ev(st, "c1", "a", "A", 0.005, NULL);   /* z = -2.5 */
    f = build(st);
    double weak = claim(f, "matrix_lr:up")->all.certainty;
    ck_assert(loud < weak);
    /* weight times strength is capped: no single run settles a claim */
    ck_assert_double_eq_tol(loud, 0.3 - ETA(0.3) * AR_WEIGHT_MAX * 0.3, 1e-12);
    ck_assert(loud > 0.05);
    ar_findings_free(f);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(claim_names_from_changes)
{
    struct ar_pool p = {0};
    struct ar_change up = {"matrix_lr", "0.04", "0.05", 0.04, 0.05, 1};
    struct ar_change down = {"warmup_frac", "0.1", "0", 0.1, 0, 1};
    struct ar_change same = {"depth", "8", "8", 8, 8, 1};
    struct ar_change str = {"mlp", "\"relu2\"", "\"swiglu\"", 0, 0, 0};
    struct ar_change flag = {"qk_norm", "true", "false", 0, 0, 0};
    ck_assert_str_eq(ar_claim_name(&p, &up, 1), "matrix_lr:up");
    ck_assert_str_eq(ar_claim_name(&p, &down, 1), "warmup_frac:down");
    ck_assert_str_eq(ar_claim_name(&p, &str, 1), "mlp=swiglu");
    ck_assert_str_eq(ar_claim_name(&p, &flag, 1), "qk_norm=false");
    ck_assert_ptr_null(ar_claim_name(&p, &same, 1));
    struct ar_change multi[] = {down, same, str, up};
    const char *m = ar_claim_name(&p, multi, 4);
    ck_assert_str_eq(m, "matrix_lr:up+mlp=swiglu+warmup_frac:down");
    struct ar_change again[] = {up, str, down};
    ck_assert_ptr_eq(ar_claim_name(&p, again, 3), m);   /* same claim, any order */
    ar_pool_free(&p);
}
END_TEST

START_TEST(multi_key_changes_make_a_combined_claim)
{
    struct ar_kbstats *st = ar_kbstats_new();
    const char *t = "{\"id\":\"c01\",\"status\":\"keep\",\"agent\":\"a\",\"platform\":{\"class\":\"A\"},"
                    "\"changes\":[{\"key\":\"mlp\",\"from\":\"relu2\",\"to\":\"swiglu\"},"
                    "{\"key\":\"depth\",\"from\":8,\"to\":10}],\"delta\":-0.01,\"metrics\":{\"val_bpb\":1}}";
    ck_assert_int_eq(ar_kbstats_add_text(st, t, strlen(t)), 0);
    struct ar_findings *f = build(st);
    ck_assert_int_eq((int)f->n, 1);
    const struct ar_claim *c = claim(f, "depth:up+mlp=swiglu");
    ck_assert_int_eq(c->nkeys, 2);
    ck_assert_str_eq(c->keys[0], "depth");
    ck_assert_str_eq(c->keys[1], "mlp");
    ar_findings_free(f);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(crash_retracted_and_baseline_cards)
{
    struct ar_kbstats *st = ar_kbstats_new();
    ev(st, "c01", "a", "A", -0.01, "\"retracted\":true");
    ev(st, "c02", "a", "A", 0, "\"status\":\"crash\",\"metrics\":{}");
    ev(st, "c03", "a", "A", -0.01, "\"status\":\"baseline\"");
    ev(st, "c04", "a", "A", 0.01, NULL);
    struct ar_findings *f = build(st);
    const struct ar_claim *c = claim(f, "matrix_lr:up");
    ck_assert_int_eq(c->all.crashes, 1);
    ck_assert_int_eq(c->all.runs, 1);
    ck_assert_int_eq(c->ncards, 2);   /* the crash and c04 */
    /* the refutation first (strongest), then the crash: evidence against
     * the change at weight AR_W_CRASH (and half again: the same agent) */
    ck_assert_int_eq(c->ev[1].crash, 1);
    double r1 = c->ev[0].after;
    ck_assert_double_eq_tol(c->ev[1].after, r1 - ETA(r1) * AR_W_RERUN * AR_W_CRASH * r1, 1e-12);
    ck_assert_str_eq(c->all.verdict, "refuted");
    ar_findings_free(f);
    ar_kbstats_free(st);

    st = ar_kbstats_new();
    ev(st, "c01", "a", "A", 0, "\"status\":\"crash\",\"metrics\":{}");
    f = build(st);
    ck_assert_str_eq(claim(f, "matrix_lr:up")->all.verdict, "crashed");
    ck_assert_double_eq_tol(claim(f, "matrix_lr:up")->all.certainty, 0.3 - ETA(0.3) * AR_W_CRASH * 0.3, 1e-12);
    ar_findings_free(f);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(builds_on_and_verifies_links)
{
    struct ar_kbstats *st = ar_kbstats_new();
    const char *t = "{\"id\":\"c00\",\"status\":\"keep\",\"platform\":{\"class\":\"A\"},"
                    "\"changes\":[{\"key\":\"depth\",\"from\":8,\"to\":10}],\"delta\":-0.01,"
                    "\"metrics\":{\"val_bpb\":1}}";
    ck_assert_int_eq(ar_kbstats_add_text(st, t, strlen(t)), 0);
    ev(st, "c01", "a", "A", -0.01, NULL);
    ev(st, "c02", "b", "B", -0.01, "\"verifies\":\"c01\",\"prior_cards\":[\"c00\",\"c01\"]");
    ev(st, "c03", "c", "B", 0.01, "\"verifies\":\"c01\",\"prior_cards\":[\"c00\"]");
    struct ar_findings *f = build(st);
    const struct ar_claim *c = claim(f, "matrix_lr:up");
    int builds = 0, agree = 0, disagree = 0;
    for (int i = 0; i < c->nlinks; i++) {
        const struct ar_link *l = &c->links[i];
        if (strcmp(l->type, "BUILDS_ON") == 0) {
            /* one link per other claim; c01 is in this claim: no link */
            builds++;
            ck_assert_str_eq(l->from, "c02");
            ck_assert_str_eq(l->to, "c00");
            ck_assert_str_eq(l->to_claim, "depth:up");
            ck_assert_int_eq(l->count, 2);
        } else if (strcmp(l->type, "VERIFIES") == 0) {
            ck_assert_str_eq(l->to, "c01");
            agree += l->agrees == 1;
            disagree += l->agrees == 0;
        }
    }
    ck_assert_int_eq(builds, 1);
    ck_assert_int_eq(agree, 1);
    ck_assert_int_eq(disagree, 1);
    ck_assert_int_eq(claim(f, "depth:up")->nlinks, 0);
    ar_findings_free(f);
    ar_kbstats_free(st);
}
END_TEST

static char *render(const int *order, int n)
{
    static const char *ids[] = {"c01", "c02", "c03", "c04", "c05"};
    static const char *agents[] = {"a", "b", "a", "c", "b"};
    static const char *cls[] = {"A", "B", "A", "B", "A"};
    static const double d[] = {-0.01, -0.005, 0.001, 0.02, -0.004};
    struct ar_kbstats *st = ar_kbstats_new();
    for (int i = 0; i < n; i++)
        ev(st, ids[order[i]], agents[order[i]], cls[order[i]], d[order[i]], NULL);
    struct ar_findings *f = build(st);
    jv j = ar_findings_json(f, st);
    char *s = ar_json_dump(j, AR_JSON_PRETTY);
    jv_free(j);
    ar_findings_free(f);
    ar_kbstats_free(st);
    return s;
}

START_TEST(same_cards_in_any_order_give_the_same_findings)
{
    int a[] = {0, 1, 2, 3, 4}, b[] = {3, 0, 4, 2, 1};
    char *x = render(a, 5), *y = render(b, 5);
    ck_assert_str_eq(x, y);
    ck_assert_ptr_nonnull(strstr(x, "\"claim\": \"matrix_lr:up\""));
    free(x);
    free(y);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("findings");
    TCase *t = tcase_create("findings");
    tcase_add_test(t, rate_is_fast_while_uncertain_and_slow_once_established);
    tcase_add_test(t, z_of_two_confirms_and_minus_two_refutes);
    tcase_add_test(t, confirmation);
    tcase_add_test(t, refutation);
    tcase_add_test(t, null_evidence_pulls_gently_down);
    tcase_add_test(t, adaptive_rate_slows_as_certainty_grows);
    tcase_add_test(t, same_agent_rerun_counts_half);
    tcase_add_test(t, replication_on_other_hardware_counts_more);
    tcase_add_test(t, contradiction_across_classes_is_platform_specific);
    tcase_add_test(t, universal_needs_two_confirmed_classes_and_no_refutation);
    tcase_add_test(t, noise_floor_of_the_class_scores_the_evidence);
    tcase_add_test(t, claim_names_from_changes);
    tcase_add_test(t, certainty_does_not_depend_on_dates);
    tcase_add_test(t, strength_grows_with_z);
    tcase_add_test(t, multi_key_changes_make_a_combined_claim);
    tcase_add_test(t, crash_retracted_and_baseline_cards);
    tcase_add_test(t, builds_on_and_verifies_links);
    tcase_add_test(t, same_cards_in_any_order_give_the_same_findings);
    suite_add_tcase(s, t);
    return s;
}

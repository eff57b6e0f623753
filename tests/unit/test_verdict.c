/* lib/analysis/verdict: the keep rule over numbers (keep and discard
 * beyond 2 sigma, inconclusive within, crash, baseline, verifications that
 * agree or disagree), then over a knowledge base: the session's best on the
 * card's key, sigma from replicates, truncated runs that are not
 * replicates, and a --verify card judged against the card it replicates. */
#include "unit.h"
#include "analysis/stats.h"
#include "analysis/verdict.h"
#include "base/err.h"
#include "base/json.h"
#include "facts/card.h"
#include "index/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct ar_verdict judge(double bpb, double best, double sigma)
{
    struct ar_verdict_in in = {0};
    in.val_bpb = bpb;
    in.have_best = !isnan(best);
    in.best_bpb = best;
    in.best_id = "B";
    in.sigma = sigma;
    in.sigma_from = "3 replicates on x";
    struct ar_verdict v;
    ar_verdict_rule(&in, &v);
    return v;
}

START_TEST(rule_two_sigma)
{
    struct ar_verdict v = judge(1.0, NAN, 0.002);
    ck_assert_str_eq(v.status, "baseline");
    ck_assert(isnan(v.delta));
    ck_assert_str_eq(v.best_id, "");
    v = judge(0.9950, 1.0, 0.002);   /* -0.005 < -2 sigma */
    ck_assert_str_eq(v.status, "keep");
    ck_assert_str_eq(v.best_id, "B");
    ck_assert(fabs(v.delta + 0.005) < 1e-12);
    v = judge(0.9970, 1.0, 0.002);   /* -0.003: within 2 sigma */
    ck_assert_str_eq(v.status, "inconclusive");
    ck_assert_msg(strstr(v.advice, "replicate"), "%s", v.advice);
    ck_assert_msg(strstr(v.advice, "--verify CARD"), "%s", v.advice);
    v = judge(1.0030, 1.0, 0.002);   /* +0.003: within 2 sigma, worse */
    ck_assert_str_eq(v.status, "inconclusive");
    v = judge(1.0050, 1.0, 0.002);
    ck_assert_str_eq(v.status, "discard");
    /* a wider noise floor turns the keep into an inconclusive */
    v = judge(0.9950, 1.0, 0.003);
    ck_assert_str_eq(v.status, "inconclusive");
    ck_assert_str_eq(v.sigma_from, "3 replicates on x");
    ck_assert(v.sigma == 0.003);
    v = judge(NAN, 1.0, 0.002);
    ck_assert_str_eq(v.status, "crash");
    v = judge(1.0, 1.0, 0);   /* no sigma given: the prior */
    ck_assert(v.sigma == AR_SIGMA_DEFAULT);
    ck_assert_str_eq(v.verify, "");
}
END_TEST

static struct ar_verdict verify(double bpb, double c_bpb, double c_delta, int found, int same_key)
{
    struct ar_verdict_in in = {0};
    in.val_bpb = bpb;
    in.have_best = 1;
    in.best_bpb = 0.99;
    in.best_id = "B";
    in.sigma = 0.002;
    in.verifies = "C";
    in.verified_found = found;
    in.same_key = same_key;
    in.verified_bpb = c_bpb;
    in.verified_delta = c_delta;
    in.verified_baseline = "BASE";
    struct ar_verdict v;
    ar_verdict_rule(&in, &v);
    return v;
}

START_TEST(rule_verification)
{
    /* C improved its baseline (1.000) by 0.003, within noise; a replication
     * within 2 sigma of C that also beats the baseline makes it a keep */
    struct ar_verdict v = verify(0.9985, 0.997, -0.003, 1, 1);
    ck_assert_str_eq(v.verify, "agrees");
    ck_assert_str_eq(v.verified_id, "C");
    ck_assert_str_eq(v.status, "keep");
    ck_assert_str_eq(v.best_id, "BASE");
    ck_assert(fabs(v.delta + 0.0015) < 1e-12);
    ck_assert(fabs(v.verify_delta - 0.0015) < 1e-12);
    /* agrees, but the replica does not beat the baseline: no gain */
    v = verify(1.0005, 0.997, -0.003, 1, 1);
    ck_assert_str_eq(v.verify, "agrees");
    ck_assert_str_eq(v.status, "discard");
    /* C was worse than its baseline and the replica agrees */
    v = verify(1.011, 1.010, 0.010, 1, 1);
    ck_assert_str_eq(v.status, "discard");
    /* more than 2 sigma from C: it does not reproduce */
    v = verify(1.003, 0.997, -0.003, 1, 1);
    ck_assert_str_eq(v.verify, "disagrees");
    ck_assert_str_eq(v.status, "inconclusive");
    ck_assert_msg(strstr(v.advice, "does not reproduce"), "%s", v.advice);
    /* C is a baseline (no delta): one more baseline run */
    v = verify(1.001, 1.000, NAN, 1, 1);
    ck_assert_str_eq(v.status, "baseline");
    ck_assert_str_eq(v.verify, "agrees");
    /* C on another key, or unknown: the ordinary rule against the best */
    v = verify(0.98, 0.5, -0.1, 1, 0);
    ck_assert_str_eq(v.verify, "incomparable");
    ck_assert_str_eq(v.status, "keep");   /* 0.98 vs best 0.99 */
    ck_assert(isnan(v.verify_delta));
    v = verify(0.989, 0, 0, 0, 0);
    ck_assert_str_eq(v.verify, "incomparable");
    ck_assert_str_eq(v.status, "inconclusive");
    ck_assert_msg(strstr(v.advice, "not known here"), "%s", v.advice);
    jv extra = ar_verdict_extra(&v);
    char *s = ar_json_dump(extra, AR_JSON_COMPACT);
    ck_assert_msg(strstr(s, "\"verify\":{\"card\":\"C\",\"delta\":null,\"result\":\"incomparable\"}"), "%s", s);
    ck_assert_msg(strstr(s, "\"against\":\"B\""), "%s", s);
    free(s);
    jv_free(extra);
}
END_TEST

/* ------------------------------------------------------------ over a knowledge base */

static char dir[64];
static struct ar_kb kb;

static void setup(void)
{
    unit_tmpdir(dir, sizeof dir, "verdict");
    setenv("AR_AGENT", "test-agent", 1);
    ck_assert_int_eq(ar_kb_open(&kb, dir, AR_KB_CREATE), 0);
}

static void teardown(void)
{
    unit_rmtree(dir);
}

static int seq;

/* A card of session s1 on key (fp, 300 s, cls): status, val_bpb (NAN:
 * none), config depth, training seconds, more members (JSON text). */
static jv card_of(const char *status, double bpb, int depth, double trained, const char *more)
{
    char text[2048], metrics[128] = "";
    if (!isnan(bpb))
        snprintf(metrics, sizeof metrics, "\"val_bpb\":%.17g,", bpb);
    snprintf(text, sizeof text,
             "{\"hypothesis\":\"run %d\",\"category\":\"other\",\"status\":\"%s\",\"commit\":\"abc1234\","
             "\"session\":\"s1\",\"created\":\"2026-11-23T10:00:%02d.000Z\",\"budget_s\":300,"
             "\"platform\":{\"class\":\"cpu-x\"},\"data\":{\"fingerprint\":\"fp\"},"
             "\"config\":{\"depth\":%d},\"metrics\":{%s\"training_seconds\":%g}%s%s}",
             seq, status, seq % 60, depth, metrics, trained, more ? "," : "", more ? more : "");
    seq++;
    jv c;
    ck_assert_msg(ar_json_parse(text, strlen(text), "card", &c) == 0, "%s", ar_last_error());
    return c;
}

static void store(jv c, char id[AR_ID_LEN + 1])
{
    ck_assert_msg(ar_card_complete(&c) == 0, "%s", ar_last_error());
    ck_assert_msg(ar_store_card(&kb, c, id) == 0, "%s", ar_last_error());
    jv_free(c);
}

static struct ar_verdict of(jv c)
{
    struct ar_verdict v;
    ck_assert_msg(ar_verdict_of(&kb, c, &v) == 0, "%s", ar_last_error());
    jv_free(c);
    return v;
}

START_TEST(of_a_card_in_the_knowledge_base)
{
    char base[AR_ID_LEN + 1], id[AR_ID_LEN + 1];
    struct ar_verdict v = of(card_of("keep", 1.0, 4, 300.2, NULL));
    ck_assert_str_eq(v.status, "baseline");
    ck_assert_str_eq(v.sigma_from, "prior");
    store(card_of("baseline", 1.0, 4, 300.2, NULL), base);
    /* the prior sigma 0.002: -0.003 is inconclusive, -0.005 a keep */
    v = of(card_of("keep", 0.997, 5, 300.1, NULL));
    ck_assert_str_eq(v.status, "inconclusive");
    ck_assert_str_eq(v.best_id, base);
    v = of(card_of("keep", 0.995, 5, 300.1, NULL));
    ck_assert_str_eq(v.status, "keep");
    /* a card's own id is never its best */
    jv same = card_of("baseline", 0.9, 7, 300, NULL);
    store(jv_copy(same), id);
    ar_jv_set(&same, "id", jv_string(id));
    v = of(same);
    ck_assert_str_eq(v.best_id, base);
    ck_assert_str_eq(v.status, "keep");
    /* other sessions and keys are not compared */
    jv other = card_of("keep", 1.5, 5, 300, NULL);
    ar_jv_set(&other, "session", jv_string("s2"));
    v = of(other);
    ck_assert_str_eq(v.status, "baseline");
    /* a crash */
    v = of(card_of("crash", NAN, 5, 12, NULL));
    ck_assert_str_eq(v.status, "crash");
}
END_TEST

START_TEST(sigma_from_full_budget_replicates_only)
{
    char id[AR_ID_LEN + 1];
    /* three full runs of one config: sigma from them */
    store(card_of("baseline", 1.000, 4, 300.4, NULL), id);
    store(card_of("baseline", 1.010, 4, 300.1, NULL), id);
    store(card_of("baseline", 1.005, 4, 301.0, NULL), id);
    double sigma;
    char from[64];
    ck_assert_int_eq(ar_verdict_noise(&kb, "cpu-x", &sigma, from, sizeof from), 0);
    ck_assert_str_eq(from, "3 replicates on cpu-x");
    ck_assert(fabs(sigma - sqrt((4 * 0.002 * 0.002 + 0.00005) / 6)) < 1e-9);   /* pooled 0.005, with the prior */
    /* a truncated run of the same config (--max-steps 1: 2 s of 300) is
     * far off, and must not move sigma */
    store(card_of("discard", 3.2, 4, 2.0, "\"extra\":{\"max_steps\":1}"), id);
    ck_assert_int_eq(ar_verdict_noise(&kb, "cpu-x", &sigma, from, sizeof from), 0);
    ck_assert_str_eq(from, "3 replicates on cpu-x");
    ck_assert(fabs(sigma - sqrt((4 * 0.002 * 0.002 + 0.00005) / 6)) < 1e-9);   /* pooled 0.005, with the prior */
    /* the same card trained in full would have counted */
    store(card_of("discard", 1.015, 4, 299.0, NULL), id);
    ck_assert_int_eq(ar_verdict_noise(&kb, "cpu-x", &sigma, from, sizeof from), 0);
    ck_assert_str_eq(from, "4 replicates on cpu-x");
    /* pooled 0.0065, sigma 0.0045 with the prior: a -0.008 gain is inside 2 sigma */
    struct ar_verdict v = of(card_of("keep", 0.992, 6, 300, NULL));
    ck_assert_str_eq(v.status, "inconclusive");
    ck_assert_msg(strstr(v.sigma_from, "4 replicates"), "%s", v.sigma_from);
    /* the run itself truncated: said in the advice */
    v = of(card_of("keep", 0.990, 6, 3, NULL));
    ck_assert_msg(strstr(v.advice, "truncated"), "%s", v.advice);
}
END_TEST

START_TEST(verification_against_its_card)
{
    char base[AR_ID_LEN + 1], c[AR_ID_LEN + 1], more[256];
    store(card_of("baseline", 1.000, 4, 300, NULL), base);
    snprintf(more, sizeof more, "\"baseline\":\"%s\",\"delta\":-0.003", base);
    store(card_of("inconclusive", 0.997, 5, 300, more), c);
    snprintf(more, sizeof more, "\"verifies\":\"%s\"", c);
    struct ar_verdict v = of(card_of("keep", 0.9975, 5, 300, more));
    ck_assert_str_eq(v.verify, "agrees");
    ck_assert_str_eq(v.verified_id, c);
    ck_assert_str_eq(v.status, "keep");
    ck_assert_str_eq(v.best_id, base);
    v = of(card_of("keep", 1.004, 5, 300, more));
    ck_assert_str_eq(v.verify, "disagrees");
    ck_assert_str_eq(v.status, "inconclusive");
    /* on another platform class: not comparable */
    jv x = card_of("keep", 0.9975, 5, 300, more);
    jv plat = jv_object();
    ar_jv_set(&plat, "class", jv_string("cpu-y"));
    ar_jv_set(&x, "platform", plat);
    v = of(x);
    ck_assert_str_eq(v.verify, "incomparable");
    ck_assert_str_eq(v.status, "baseline");   /* first on cpu-y */
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("verdict");
    TCase *rule = tcase_create("rule");
    tcase_add_test(rule, rule_two_sigma);
    tcase_add_test(rule, rule_verification);
    suite_add_tcase(s, rule);
    TCase *kbt = tcase_create("kb");
    tcase_add_checked_fixture(kbt, setup, teardown);
    tcase_add_test(kbt, of_a_card_in_the_knowledge_base);
    tcase_add_test(kbt, sigma_from_full_budget_replicates_only);
    tcase_add_test(kbt, verification_against_its_card);
    suite_add_tcase(s, kbt);
    return s;
}

/* lib/plan: each rule of the director's plan on hand-made card views. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "analysis/plan.h"
#include "unit.h"

static struct ar_kbstats *st;
static int finished;

/* A card on class cls changing key from -> to with delta d (NULL key: a
 * baseline); more: extra members. */
static void card(const char *id, const char *cls, const char *key, const char *from,
                 const char *to, double d, const char *more)
{
    char text[2048], changes[256] = "";
    if (key)
        snprintf(changes, sizeof changes,
                 ",\"changes\":[{\"key\":\"%s\",\"from\":%s,\"to\":%s}],\"delta\":%.17g,"
                 "\"status\":\"keep\"", key, from, to, d);
    else
        snprintf(changes, sizeof changes, ",\"status\":\"baseline\"");
    snprintf(text, sizeof text,
             "{\"id\":\"%s\",\"agent\":\"a\",\"platform\":{\"class\":\"%s\"},\"category\":\"optimizer\","
             "\"hypothesis\":\"h %s\",\"budget_s\":60,\"data\":{\"fingerprint\":\"fp\"},"
             "\"metrics\":{\"val_bpb\":1}%s%s%s}",
             id, cls, id, changes, more ? "," : "", more ? more : "");
    ck_assert_msg(ar_kbstats_add_text(st, text, strlen(text)) == 0, "%s", ar_last_error());
}

static jv config(void)
{
    jv c;
    const char *text = "{\"matrix_lr\":0.04,\"depth\":4,\"qk_norm\":true,\"z_loss\":0,"
                       "\"threads\":0,\"window_pattern\":\"SSSL\",\"init_scale\":1.5}";
    ck_assert_int_eq(ar_json_parse(text, strlen(text), "config", &c), 0);
    return c;
}

/* Runs the plan; the caller frees the result. queue may be NULL. */
static jv plan(const char *platform, const char *queue, int max)
{
    if (!finished)
        ar_kbstats_finish(st);
    finished = 1;
    struct ar_findings *f = ar_findings_build(st);
    static const char *const keys[] = { "matrix_lr", "depth", "qk_norm", "z_loss", "threads",
                                        "window_pattern", "init_scale", NULL };
    struct ar_coverage *cov = ar_coverage_build(st, keys);
    jv q, c = config();
    ck_assert_int_eq(ar_json_parse(queue ? queue : "[]", strlen(queue ? queue : "[]"), "queue", &q), 0);
    struct ar_plan_input in = { st, f, cov, platform, c, q, 1 };
    jv out = ar_plan_build(&in, max);
    jv_free(q);
    jv_free(c);
    ar_coverage_free(cov);
    ar_findings_free(f);
    return out;
}

/* The suggestions of one kind, as compact JSON lines (for strstr checks). */
static char *of_kind(jv p, const char *kind, int *n)
{
    struct ar_buf b = {0};
    ar_buf_puts(&b, "");
    *n = 0;
    jv_array_foreach(p, i, s) {
        (void)i;
        if (!strcmp(ar_jv_str(s, "kind"), kind)) {
            ar_json_dump_buf(&b, s, AR_JSON_COMPACT);
            ar_buf_putc(&b, '\n');
            (*n)++;
        }
        jv_free(s);
    }
    return ar_buf_take(&b);
}

#define ID(n) "20261123T10000" #n "Z-00000000000" #n

static void setup(void)
{
    st = ar_kbstats_new();
    finished = 0;
}

static void teardown(void)
{
    ar_kbstats_free(st);
}

START_TEST(noise_floor_replicates_the_baseline)
{
    card(ID(1), "cpu", NULL, NULL, NULL, 0, "\"config_hash\":\"aa\"");
    card(ID(2), "cpu", "matrix_lr", "0.04", "0.05", -0.001, NULL);
    jv p = plan("cpu", NULL, 0);
    int n;
    char *s = of_kind(p, "noise-floor", &n);
    ck_assert_int_eq(n, 2);
    ck_assert_ptr_nonnull(strstr(s, "\"replicate\":\"" ID(1) "\""));
    ck_assert_ptr_nonnull(strstr(s, "(run 2 of 2)"));
    jv first = jv_array_get(jv_copy(p), 0);
    ck_assert_int_eq((int)ar_jv_num(first, "priority", 0), 1);
    jv_free(first);
    free(s);
    jv_free(p);
    /* one queued replication leaves one to suggest */
    p = plan("cpu", "[{\"verifies\":\"" ID(1) "\",\"status\":\"pending\"}]", 0);
    free(of_kind(p, "noise-floor", &n));
    ck_assert_int_eq(n, 1);
    jv_free(p);
    /* a class without cards: a baseline run */
    p = plan("h100", NULL, 0);
    s = of_kind(p, "noise-floor", &n);
    ck_assert_int_eq(n, 1);
    ck_assert_ptr_nonnull(strstr(s, "\"hypothesis\":\"baseline on h100\""));
    free(s);
    jv_free(p);
}
END_TEST

START_TEST(no_noise_floor_suggestion_with_replicates)
{
    card(ID(1), "cpu", NULL, NULL, NULL, 0, "\"config_hash\":\"aa\",\"seed\":1");
    card(ID(2), "cpu", NULL, NULL, NULL, 0, "\"config_hash\":\"aa\",\"seed\":2,\"metrics\":{\"val_bpb\":1.001}");
    jv p = plan("cpu", NULL, 0);
    int n;
    free(of_kind(p, "noise-floor", &n));
    ck_assert_int_eq(n, 0);
    jv_free(p);
}
END_TEST

START_TEST(tentative_large_effects_are_replicated)
{
    card(ID(1), "cpu", "matrix_lr", "0.04", "0.08", -0.010, NULL);   /* z = 5 */
    card(ID(2), "cpu", "depth", "4", "6", -0.004, NULL);             /* z = 2: not large */
    jv p = plan("cpu", NULL, 0);
    int n;
    char *s = of_kind(p, "replicate", &n);
    ck_assert_int_eq(n, 1);
    ck_assert_ptr_nonnull(strstr(s, "\"replicate\":\"" ID(1) "\""));
    ck_assert_ptr_nonnull(strstr(s, "matrix_lr:up rests on one confirmation"));
    ck_assert_ptr_nonnull(strstr(s, "\"cards\":[\"" ID(1) "\"]"));
    free(s);
    jv_free(p);
    /* not again once a replication is queued */
    p = plan("cpu", "[{\"verifies\":\"" ID(1) "\",\"status\":\"claimed\"}]", 0);
    free(of_kind(p, "replicate", &n));
    ck_assert_int_eq(n, 0);
    jv_free(p);
}
END_TEST

START_TEST(a_run_replication_ends_the_suggestion)
{
    card(ID(1), "cpu", "matrix_lr", "0.04", "0.08", -0.010, NULL);
    card(ID(2), "cpu", "matrix_lr", "0.04", "0.08", -0.009, "\"verifies\":\"" ID(1) "\"");
    jv p = plan("cpu", NULL, 0);
    int n;
    free(of_kind(p, "replicate", &n));
    ck_assert_int_eq(n, 0);
    jv_free(p);
}
END_TEST

START_TEST(platform_claims_are_tested_here)
{
    card(ID(1), "h100", "depth", "4", "6", -0.005, NULL);
    card(ID(2), "h100", "depth", "4", "6", -0.006, NULL);
    jv p = plan("cpu", NULL, 0);
    int n;
    char *s = of_kind(p, "platform", &n);
    ck_assert_int_eq(n, 1);
    ck_assert_ptr_nonnull(strstr(s, "\"replicate\":\"" ID(2) "\""));   /* the strongest */
    ck_assert_ptr_nonnull(strstr(s, "single-platform (confirmed on h100); untested on cpu"));
    free(s);
    jv_free(p);
    /* evidence on this class already: nothing to test */
    p = plan("h100", NULL, 0);
    free(of_kind(p, "platform", &n));
    ck_assert_int_eq(n, 0);
    jv_free(p);
}
END_TEST

START_TEST(best_confirmed_changes_are_stacked)
{
    card(ID(1), "cpu", "matrix_lr", "0.04", "0.08", -0.010, NULL);
    card(ID(2), "cpu", "depth", "4", "6", -0.006, NULL);
    card(ID(3), "cpu", "qk_norm", "true", "false", 0.010, NULL);   /* refuted: not stacked */
    jv p = plan("cpu", NULL, 0);
    int n;
    char *s = of_kind(p, "stack", &n);
    ck_assert_int_eq(n, 1);
    ck_assert_ptr_nonnull(strstr(s, "\"overrides\":{\"depth\":6,\"matrix_lr\":0.08}"));
    ck_assert_ptr_nonnull(strstr(s, "matrix_lr=0.08 + depth=6"));   /* largest effect first */
    ck_assert_ptr_null(strstr(s, "qk_norm"));
    free(s);
    jv_free(p);
}
END_TEST

START_TEST(nothing_to_stack_from_one_claim)
{
    card(ID(1), "cpu", "matrix_lr", "0.04", "0.08", -0.010, NULL);
    jv p = plan("cpu", NULL, 0);
    int n;
    free(of_kind(p, "stack", &n));
    ck_assert_int_eq(n, 0);
    jv_free(p);
}
END_TEST

START_TEST(under_explored_keys_are_explored)
{
    jv p = plan("cpu", NULL, 0);
    int n;
    char *s = of_kind(p, "explore", &n);
    ck_assert_ptr_nonnull(strstr(s, "\"overrides\":{\"matrix_lr\":0.08}"));   /* doubled */
    ck_assert_ptr_nonnull(strstr(s, "\"alt_overrides\":{\"matrix_lr\":0.02}"));
    ck_assert_ptr_nonnull(strstr(s, "\"overrides\":{\"qk_norm\":false}"));    /* flipped */
    ck_assert_ptr_nonnull(strstr(s, "\"overrides\":{\"z_loss\":0.0001}"));    /* from zero */
    ck_assert_ptr_nonnull(strstr(s, "\"overrides\":{\"depth\":5}"));        /* a layer at a time */
    ck_assert_ptr_nonnull(strstr(s, "\"alt_overrides\":{\"depth\":3}"));
    ck_assert_ptr_nonnull(strstr(s, "\"category\":\"architecture\""));
    ck_assert_ptr_null(strstr(s, "threads"));          /* a run setting */
    ck_assert_ptr_null(strstr(s, "window_pattern"));   /* no value to try */
    free(s);
    ck_assert_str_eq(ar_plan_key_category("warmdown_frac"), "schedule");
    ck_assert_str_eq(ar_plan_key_category("nonsense"), "hyperparameter");
    jv_free(p);
}
END_TEST

/* Never the direction of a dead end, nor the opposite of a confirmed
 * finding. */
/* Keeps inside 2 sigma are replicated first, largest first; one that was
 * replicated already, or is queued for it, is not proposed again. */
START_TEST(noisy_keeps_first_unless_replicated)
{
    card("c1", "cpu", "matrix_lr", "0.04", "0.05", -0.003, NULL);   /* inside 2 sigma (0.004) */
    card("c2", "cpu", "depth", "4", "5", -0.001, NULL);             /* inside, smaller */
    card("c3", "cpu", "qk_norm", "true", "false", -0.0035, NULL);   /* inside, largest: replicated */
    card("c4", "cpu", "qk_norm", "true", "false", -0.0034, "\"verifies\":\"c3\"");
    jv p = plan("cpu", "[{\"id\":\"q1\",\"status\":\"pending\",\"verifies\":\"c2\"}]", 0);
    int n;
    char *s = of_kind(p, "noisy-keep", &n);
    ck_assert_msg(n == 1, "%d: %s", n, s);   /* c3 replicated by c4, c2 queued, c4 a replication */
    ck_assert_msg(strstr(s, "\"replicate\":\"c1\""), "%s", s);
    jv first = jv_array_get(jv_copy(p), 0);
    ck_assert_str_eq(ar_jv_str(first, "kind"), "noisy-keep");
    jv_free(first);
    free(s);
    jv_free(p);
}
END_TEST

START_TEST(explore_avoids_dead_ends_and_confirmed_opposites)
{
    card("c1", "cpu", "matrix_lr", "0.04", "0.08", 0.02, NULL);    /* up: refuted (z -10) */
    card("c2", "cpu", "depth", "4", "3", -0.02, NULL);             /* down: confirmed */
    jv p = plan("cpu", NULL, 0);
    int n;
    char *s = of_kind(p, "explore", &n);
    ck_assert_msg(strstr(s, "\"overrides\":{\"matrix_lr\":0.02}"), "%s", s);   /* halved instead */
    ck_assert_ptr_null(strstr(s, "\"matrix_lr\":0.08"));
    ck_assert_ptr_null(strstr(s, "\"depth\":5"));   /* deeper is the opposite of what won */
    free(s);
    jv_free(p);
}
END_TEST

START_TEST(sorted_by_priority_and_bounded)
{
    card(ID(1), "cpu", "matrix_lr", "0.04", "0.08", -0.010, NULL);
    jv p = plan("cpu", NULL, 0);
    double last = 0;
    int total = jv_array_length(jv_copy(p));
    jv_array_foreach(p, i, s) {
        (void)i;
        ck_assert(ar_jv_num(s, "priority", 0) >= last);
        last = ar_jv_num(s, "priority", 0);
        ck_assert_ptr_nonnull(ar_jv_str(s, "reason"));
        jv_free(s);
    }
    jv_free(p);
    ck_assert_int_gt(total, 3);
    p = plan("cpu", NULL, 3);
    ck_assert_int_eq(jv_array_length(p), 3);
}
END_TEST


/* An imported session's card (another trainer's results.tsv row): no
 * config, the change against the tip it was tried on. */
static void row(const char *id, const char *status, double bpb, const char *change)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"id\":\"%s\",\"agent\":\"a\",\"platform\":{\"class\":\"h100\"},\"category\":\"optimizer\","
             "\"hypothesis\":\"h %s\",\"budget_s\":300,\"data\":{\"fingerprint\":\"fp\"},"
             "\"session\":\"s1\",\"tags\":[\"imported\"],\"status\":\"%s\","
             "\"metrics\":{\"val_bpb\":%.17g}%s%s%s}",
             id, id, status, bpb, change ? ",\"changes\":[" : "", change ? change : "",
             change ? "]" : "");
    ck_assert_msg(ar_kbstats_add_text(st, text, strlen(text)) == 0, "%s", ar_last_error());
}

/* A plan for an imported class starts from its best card's chain, not
 * from ar's config, and says so; it is advice, not ar-train overrides. */
START_TEST(an_imported_class_starts_from_its_best_configuration)
{
    row(ID(1), "baseline", 1.0, NULL);
    row(ID(2), "keep", 0.99, "{\"key\":\"matrix_lr\",\"from\":0.04,\"to\":0.06}");
    row(ID(3), "discard", 0.995, "{\"key\":\"depth\",\"from\":8,\"to\":9}");
    row(ID(4), "keep", 0.98, "{\"key\":\"qk_norm\",\"from\":true,\"to\":false}");
    card(ID(5), "cpu", NULL, NULL, NULL, 0, "\"config_hash\":\"aa\"");   /* ar's own */
    jv p = plan("h100", NULL, 0);
    int n;
    char *s = of_kind(p, "explore", &n);
    /* matrix_lr from the kept 0.06 (ar's config has 0.04) */
    ck_assert_msg(strstr(s, "\"hypothesis\":\"explore matrix_lr: 0.06 -> 0.12\""), "%s", s);
    ck_assert_ptr_nonnull(strstr(s, "from the best h100 configuration, card " ID(4) ": matrix_lr 0.06 -> 0.12"));
    /* depth from the tip the discard was tried on (8), not ar's 4 */
    ck_assert_msg(strstr(s, "explore depth: 8 -> "), "%s", s);
    ck_assert_ptr_null(strstr(s, "explore depth: 4"));
    /* keys the chain says nothing about are not explored from ar's values */
    ck_assert_ptr_null(strstr(s, "z_loss"));
    ck_assert_ptr_null(strstr(s, "init_scale"));
    ck_assert_ptr_nonnull(strstr(s, "\"platform\":\"h100\""));
    ck_assert_ptr_nonnull(strstr(s, "\"base\":\"" ID(4) "\""));
    ck_assert_ptr_nonnull(strstr(s, "\"advice\":\"starts from the best h100 configuration"));
    free(s);
    /* the confirmed changes are the tip already: nothing to stack */
    free(of_kind(p, "stack", &n));
    ck_assert_int_eq(n, 0);
    jv_free(p);
    /* ar's own class still starts from ar's config */
    p = plan("cpu", NULL, 0);
    s = of_kind(p, "explore", &n);
    ck_assert_msg(strstr(s, "\"hypothesis\":\"explore matrix_lr: 0.04 -> 0.08\""), "%s", s);
    ck_assert_ptr_null(strstr(s, "\"advice\""));
    ck_assert_ptr_null(strstr(s, "from the best"));
    free(s);
    jv_free(p);
}
END_TEST


Suite *make_suite(void)
{
    Suite *s = suite_create("plan");
    TCase *tc = tcase_create("plan");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, noise_floor_replicates_the_baseline);
    tcase_add_test(tc, no_noise_floor_suggestion_with_replicates);
    tcase_add_test(tc, tentative_large_effects_are_replicated);
    tcase_add_test(tc, a_run_replication_ends_the_suggestion);
    tcase_add_test(tc, platform_claims_are_tested_here);
    tcase_add_test(tc, best_confirmed_changes_are_stacked);
    tcase_add_test(tc, nothing_to_stack_from_one_claim);
    tcase_add_test(tc, under_explored_keys_are_explored);
    tcase_add_test(tc, sorted_by_priority_and_bounded);
    tcase_add_test(tc, explore_avoids_dead_ends_and_confirmed_opposites);
    tcase_add_test(tc, noisy_keeps_first_unless_replicated);
    tcase_add_test(tc, an_imported_class_starts_from_its_best_configuration);
    suite_add_tcase(s, tc);
    return s;
}

/* lib/coverage: experiments, kept, crashes, values and best delta per
 * category and config key, and the documented thresholds: under-explored,
 * saturated, active. */
#include "unit.h"
#include "analysis/coverage.h"
#include "base/err.h"
#include "base/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A card in category cat changing key to value to, with status and delta. */
static void card(struct ar_kbstats *st, int n, const char *cat, const char *key, double to, const char *status,
                 double delta)
{
    char text[1024];
    int crash = strcmp(status, "crash") == 0;
    snprintf(text, sizeof text,
             "{\"id\":\"c%04d\",\"status\":\"%s\",\"category\":\"%s\",\"platform\":{\"class\":\"A\"},"
             "\"changes\":[{\"key\":\"%s\",\"from\":1,\"to\":%g}],\"delta\":%s,\"metrics\":{%s}}",
             n, status, cat, key, to, crash ? "null" : "DELTA", crash ? "" : "\"val_bpb\":1");
    char *d = strstr(text, "DELTA");
    if (d) {
        char num[32];
        snprintf(num, sizeof num, "%.6f", delta);
        char rest[1024];
        snprintf(rest, sizeof rest, "%s", d + 5);
        snprintf(d, sizeof text - (size_t)(d - text), "%s%s", num, rest);
    }
    ck_assert_msg(ar_kbstats_add_text(st, text, strlen(text)) == 0, "%s: %s", ar_last_error(), text);
}

START_TEST(counts_per_category_and_key)
{
    struct ar_kbstats *st = ar_kbstats_new();
    card(st, 1, "optimizer", "matrix_lr", 2, "keep", -0.01);
    card(st, 2, "optimizer", "matrix_lr", 3, "discard", 0.02);
    card(st, 3, "optimizer", "matrix_lr", 2, "crash", 0);
    card(st, 4, "architecture", "depth", 10, "keep", -0.03);
    ar_kbstats_finish(st);
    const char *table[] = {"matrix_lr", "depth", "warmup_frac", NULL};
    struct ar_coverage *cov = ar_coverage_build(st, table);
    const struct ar_covrow *r = ar_coverage_category(cov, "optimizer");
    ck_assert_int_eq(r->experiments, 3);
    ck_assert_int_eq(r->kept, 1);
    ck_assert_int_eq(r->crashes, 1);
    ck_assert_double_eq_tol(r->best_delta, -0.01, 1e-12);
    ck_assert_str_eq(r->best_card, "c0001");
    const struct ar_covrow *k = ar_coverage_key(cov, "matrix_lr");
    ck_assert_int_eq(k->experiments, 3);
    ck_assert_int_eq(k->values, 2);
    ck_assert_int_eq(ar_coverage_key(cov, "depth")->kept, 1);
    /* a table key nobody tried is listed, under-explored */
    const struct ar_covrow *w = ar_coverage_key(cov, "warmup_frac");
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(w->experiments, 0);
    ck_assert_str_eq(w->state, "under-explored");
    ck_assert_int_eq((int)cov->nkeys, 3);
    ck_assert_int_eq(ar_coverage_category(cov, "tokenizer")->experiments, 0);
    ar_coverage_free(cov);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(thresholds)
{
    struct ar_kbstats *st = ar_kbstats_new();
    int n = 0;
    /* 2 experiments: under-explored */
    card(st, ++n, "schedule", "warmup_frac", 0.1, "keep", -0.01);
    card(st, ++n, "schedule", "warmup_frac", 0.2, "discard", 0.01);
    /* 10 experiments, the last 5 neither kept nor better: saturated */
    for (int i = 0; i < 5; i++)
        card(st, ++n, "optimizer", "matrix_lr", 1 + i, i == 4 ? "keep" : "discard", -0.001 * i);
    for (int i = 0; i < 5; i++)
        card(st, ++n, "optimizer", "matrix_lr", 9, "discard", 0.001);
    /* 10 experiments, progress 4 experiments ago: active */
    for (int i = 0; i < 10; i++)
        card(st, ++n, "architecture", "depth", i, i == 6 ? "keep" : "discard", i == 6 ? -0.05 : 0.01);
    ar_kbstats_finish(st);
    struct ar_coverage *cov = ar_coverage_build(st, NULL);
    ck_assert_str_eq(ar_coverage_key(cov, "warmup_frac")->state, "under-explored");
    const struct ar_covrow *m = ar_coverage_key(cov, "matrix_lr");
    ck_assert_int_eq(m->stale, AR_COV_STALE);
    ck_assert_str_eq(m->state, "saturated");
    ck_assert_str_eq(ar_coverage_category(cov, "optimizer")->state, "saturated");
    const struct ar_covrow *d = ar_coverage_key(cov, "depth");
    ck_assert_int_eq(d->stale, 3);
    ck_assert_str_eq(d->state, "active");
    ck_assert_int_eq(d->values, 10);
    ar_coverage_free(cov);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(retracted_cards_are_not_experiments)
{
    struct ar_kbstats *st = ar_kbstats_new();
    const char *t = "{\"id\":\"c1\",\"status\":\"keep\",\"category\":\"data\",\"retracted\":true,"
                    "\"changes\":[{\"key\":\"seq_len\",\"from\":256,\"to\":512}],\"delta\":-1,"
                    "\"metrics\":{\"val_bpb\":1}}";
    ck_assert_int_eq(ar_kbstats_add_text(st, t, strlen(t)), 0);
    ar_kbstats_finish(st);
    struct ar_coverage *cov = ar_coverage_build(st, NULL);
    ck_assert_int_eq(ar_coverage_category(cov, "data")->experiments, 0);
    ck_assert_ptr_null(ar_coverage_key(cov, "seq_len"));
    jv j = ar_coverage_json(cov);
    char *s = ar_json_dump(j, AR_JSON_COMPACT);
    ck_assert_ptr_nonnull(strstr(s, "\"data\":{\"best_card\":null,\"best_delta\":null,"));
    free(s);
    jv_free(j);
    ar_coverage_free(cov);
    ar_kbstats_free(st);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("coverage");
    TCase *t = tcase_create("coverage");
    tcase_add_test(t, counts_per_category_and_key);
    tcase_add_test(t, thresholds);
    tcase_add_test(t, retracted_cards_are_not_experiments);
    suite_add_tcase(s, t);
    return s;
}

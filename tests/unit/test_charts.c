/* lib/charts: the progress chart's points, crash ticks and running best
 * from hand-made views (retracted cards left out, crashes never a value),
 * the x axes, and the findings chart's order and contradiction marks. */
#include "unit.h"
#include "plot/charts.h"
#include "base/err.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void add(struct ar_kbstats *st, const char *id, const char *status, const char *cls,
                const char *created, const char *more)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"id\":\"%s\",\"created\":\"%s\",\"status\":\"%s\",\"retracted\":false,\"agent\":\"a\","
             "\"session\":\"s-%s\",\"platform\":{\"class\":\"%s\"},\"budget_s\":300%s%s}",
             id, created, status, cls, cls, more && *more ? "," : "", more ? more : "");
    ck_assert_msg(ar_kbstats_add_text(st, text, strlen(text)) == 0, "%s", ar_last_error());
}

static const struct ar_plot_series *series(const struct ar_chart *c, const char *label_prefix)
{
    for (int i = 0; i < c->plot.nseries; i++)
        if (c->plot.series[i].label &&
            strncmp(c->plot.series[i].label, label_prefix, strlen(label_prefix)) == 0)
            return &c->plot.series[i];
    return NULL;
}

static struct ar_kbstats *sample(void)
{
    struct ar_kbstats *st = ar_kbstats_new();
    add(st, "c1", "baseline", "A", "2026-11-23T10:00:00.000Z",
        "\"metrics\":{\"val_bpb\":1.10,\"training_seconds\":1800}");
    add(st, "c2", "discard", "A", "2026-11-23T11:00:00.000Z", "\"metrics\":{\"val_bpb\":1.12}");
    add(st, "c3", "crash", "A", "2026-11-23T12:00:00.000Z", "\"metrics\":{\"training_seconds\":900}");
    add(st, "c4", "keep", "A", "2026-11-23T13:00:00.000Z",
        "\"metrics\":{\"val_bpb\":0.50},\"retracted\":true");
    add(st, "c5", "keep", "A", "2026-11-23T14:00:00.000Z", "\"metrics\":{\"val_bpb\":1.05}");
    add(st, "c6", "baseline", "B", "2026-11-23T15:00:00.000Z", "\"metrics\":{\"val_bpb\":2.00}");
    ar_kbstats_finish(st);
    return st;
}

START_TEST(progress_points_ticks_and_running_best)
{
    struct ar_kbstats *st = sample();
    struct ar_chart c;
    ar_chart_progress(st, AR_X_INDEX, AR_BY_KEY, NULL, &c);
    const struct ar_plot_series *keep = series(&c, "keep"), *crash = series(&c, "crash");
    const struct ar_plot_series *best = series(&c, "best: A");
    ck_assert_ptr_nonnull(keep);
    ck_assert_int_eq((int)keep->n, 1);             /* c4 is retracted */
    ck_assert(keep->y[0] == 1.05 && keep->x[0] == 4);   /* the 4th drawn card */
    ck_assert_ptr_nonnull(crash);
    ck_assert_int_eq((int)crash->n, 1);
    ck_assert(crash->x[0] == 3);
    ck_assert_ptr_nonnull(best);
    /* 1.10 at 1, 1.05 at 4; never the retracted 0.50 */
    ck_assert_int_eq((int)best->n, 2);
    ck_assert(best->x[0] == 1 && best->y[0] == 1.10);
    ck_assert(best->x[1] == 4 && best->y[1] == 1.05);
    ck_assert_ptr_nonnull(series(&c, "best: B"));
    ck_assert_ptr_nonnull(strstr(c.plot.subtitle, "5 experiments"));
    ck_assert_ptr_nonnull(strstr(c.plot.subtitle, "1 retracted not shown"));
    ck_assert_ptr_null(c.plot.note);
    ar_chart_free(&c);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(progress_x_in_hours_and_time)
{
    struct ar_kbstats *st = sample();
    struct ar_chart c;
    ar_chart_progress(st, AR_X_HOURS, AR_BY_SESSION, "session s-A", &c);
    /* c1 trained 1800 s; c2 has no training_seconds: its 300 s budget; the
     * crash's 900 s count too; the retracted card's do not */
    const struct ar_plot_series *crash = series(&c, "crash"), *keep = series(&c, "keep");
    ck_assert_double_eq_tol(crash->x[0], (1800 + 300 + 900) / 3600.0, 1e-12);
    ck_assert_double_eq_tol(keep->x[0], (1800 + 300 + 900 + 300) / 3600.0, 1e-12);
    ck_assert_ptr_nonnull(series(&c, "best: s-A"));
    ck_assert_ptr_nonnull(strstr(c.plot.subtitle, "(session s-A)"));
    ar_chart_free(&c);
    ar_chart_progress(st, AR_X_TIME, AR_BY_KEY, NULL, &c);
    keep = series(&c, "keep");
    ck_assert(keep->x[0] == ar_chart_time("2026-11-23T14:00:00.000Z"));
    ck_assert(c.plot.xaxis == AR_PLOT_X_TIME);
    ar_chart_free(&c);
    ar_kbstats_free(st);
    ck_assert(ar_chart_time("2026-11-23T00:00:01.500Z") == 1795392001.5);
    ck_assert(isnan(ar_chart_time("yesterday")));
}
END_TEST

START_TEST(empty_progress_has_a_note)
{
    struct ar_kbstats *st = ar_kbstats_new();
    ar_kbstats_finish(st);
    struct ar_chart c;
    ar_chart_progress(st, AR_X_INDEX, AR_BY_KEY, NULL, &c);
    ck_assert_ptr_nonnull(c.plot.note);
    ck_assert_ptr_nonnull(strstr(c.plot.note, "no experiments yet"));
    ar_chart_free(&c);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(findings_sorted_by_certainty_with_marks)
{
    struct ar_kbstats *st = ar_kbstats_new();
    const char *up = "\"changes\":[{\"key\":\"lr\",\"from\":1,\"to\":2}]";
    const char *deep = "\"changes\":[{\"key\":\"depth\",\"from\":4,\"to\":8}]";
    char more[512];
    add(st, "c1", "baseline", "A", "2026-11-23T10:00:00.000Z", "\"metrics\":{\"val_bpb\":1.1}");
    add(st, "c2", "baseline", "B", "2026-11-23T10:00:00.000Z", "\"metrics\":{\"val_bpb\":1.1}");
    snprintf(more, sizeof more, "%s,\"metrics\":{\"val_bpb\":1.08},\"delta\":-0.02", up);
    add(st, "c3", "keep", "A", "2026-11-23T11:00:00.000Z", more);
    snprintf(more, sizeof more, "%s,\"metrics\":{\"val_bpb\":1.12},\"delta\":0.02", up);
    add(st, "c4", "discard", "B", "2026-11-23T11:00:00.000Z", more);
    snprintf(more, sizeof more, "%s,\"metrics\":{\"val_bpb\":1.2},\"delta\":0.1", deep);
    add(st, "c5", "discard", "A", "2026-11-23T12:00:00.000Z", more);
    ar_kbstats_finish(st);
    struct ar_findings *f = ar_findings_build(st);
    struct ar_chart c;
    ar_chart_findings(f, 25, NULL, &c);
    ck_assert_int_eq(c.plot.nbars, 2);
    ck_assert(c.plot.bars[0].value >= c.plot.bars[1].value);
    for (int i = 0; i < 2; i++) {
        const struct ar_plot_bar *b = &c.plot.bars[i];
        int lr = strcmp(b->label, "lr:up") == 0;
        ck_assert_int_eq(b->marked, lr);   /* lr: confirmed on A, refuted on B */
        ck_assert_msg(strstr(b->annot, lr ? "+1 -1 0:0" : "+0 -1 0:0"), "%s: %s", b->label, b->annot);
    }
    ar_chart_free(&c);
    ar_chart_findings(f, 1, NULL, &c);
    ck_assert_int_eq(c.plot.nbars, 1);
    ck_assert_ptr_nonnull(strstr(c.plot.subtitle, "the 1 best studied"));
    ar_chart_free(&c);
    ar_findings_free(f);
    ar_kbstats_free(st);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("charts");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, progress_points_ticks_and_running_best);
    tcase_add_test(tc, progress_x_in_hours_and_time);
    tcase_add_test(tc, empty_progress_has_a_note);
    tcase_add_test(tc, findings_sorted_by_certainty_with_marks);
    suite_add_tcase(s, tc);
    return s;
}

#include "unit.h"
#include "base/buf.h"
#include "base/err.h"
#include "plot/plot.h"
#include "plot/ticks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/ar-test-plot.XXXXXX";

static int max_line_width(const char *s)
{
    int w = 0, cur = 0;
    for (; *s; s++) {
        if (*s == '\n') {
            w = cur > w ? cur : w;
            cur = 0;
        } else {
            cur++;
        }
    }
    return cur > w ? cur : w;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

START_TEST(numeric_ticks_are_round_and_cover_the_range)
{
    struct ar_plot_ticks t;
    ar_plot_ticks_num(0.9871, 1.0412, 8, 1, &t);
    ck_assert(t.lo <= 0.9871 && t.hi >= 1.0412);
    ck_assert_int_le(t.n, 8);
    ck_assert_int_ge(t.n, 3);
    ck_assert(fabs(t.step - 0.01) < 1e-12);
    ck_assert_str_eq(t.label[0], "0.98");
    ar_plot_ticks_num(0, 100000, 9, 1, &t);
    ck_assert_str_eq(t.label[t.n - 1], "100000");
    ar_plot_ticks_num(5, 5, 5, 1, &t);   /* a single value still gets an axis */
    ck_assert(t.lo < 5 && t.hi > 5);
    ar_plot_ticks_num(-3, 143, 9, 0, &t);   /* not expanded: ticks inside */
    ck_assert(t.lo == -3 && t.hi == 143);
    ck_assert_str_eq(t.label[0], "0");
    ck_assert(t.at[t.n - 1] <= 143);
}
END_TEST

START_TEST(time_ticks_have_date_labels)
{
    struct ar_plot_ticks t;
    double day = 1795392000;   /* 2026-11-23T00:00:00Z */
    ar_plot_ticks_time(day, day + 6 * 86400, 7, &t);
    ck_assert_str_eq(t.label[0], "2026-11-23");
    ar_plot_ticks_time(day + 3600, day + 5 * 3600, 5, &t);
    ck_assert_str_eq(t.label[0], "11-23 01:00");
}
END_TEST

static void sample(double *x, double *y, double *bx, double *by, int n)
{
    for (int i = 0; i < n; i++) {
        x[i] = i;
        y[i] = 1.0 - 0.001 * i + (i % 3) * 0.002;
        bx[i] = i;
        by[i] = i == 0 ? y[0] : fmin(by[i - 1], y[i]);
    }
}

START_TEST(text_chart_fits_the_terminal)
{
    double x[50], y[50], bx[50], by[50], cx[1] = {25};
    sample(x, y, bx, by, 50);
    struct ar_plot_series s[] = {
        {"best", AR_PLOT_STEPS, 0, '-', 50, bx, by},
        {"keep", AR_PLOT_POINTS, 0, 'o', 50, x, y},
        {"crash", AR_PLOT_TICKS, 0, 'x', 1, cx, NULL},
    };
    struct ar_plot p = {.kind = AR_PLOT_XY, .title = "progress", .xlabel = "experiment",
                        .ylabel = "val_bpb", .series = s, .nseries = 3};
    struct ar_buf b = {0};
    ar_plot_text(&p, 80, 24, &b);
    ck_assert_int_le(max_line_width(b.data), 80);
    ck_assert_int_le(count_lines(b.data), 24);
    ck_assert_ptr_nonnull(strstr(b.data, "o keep"));
    ck_assert_ptr_nonnull(strstr(b.data, "x crash"));
    ck_assert_ptr_nonnull(strchr(b.data, 'o'));
    ar_buf_free(&b);
}
END_TEST

START_TEST(empty_text_chart_shows_the_note)
{
    struct ar_plot p = {.kind = AR_PLOT_XY, .title = "progress", .note = "no experiments yet"};
    struct ar_buf b = {0};
    ar_plot_text(&p, 80, 20, &b);
    ck_assert_ptr_nonnull(strstr(b.data, "no experiments yet"));
    ck_assert_int_le(max_line_width(b.data), 80);
    ar_buf_free(&b);
}
END_TEST

START_TEST(bars_text_marks_and_limits_rows)
{
    struct ar_plot_bar bars[40];
    for (int i = 0; i < 40; i++)
        bars[i] = (struct ar_plot_bar){"a-rather-long-claim-name:up", 1.0 - i * 0.02, 0, '#',
                                       "+3 -1 0:2", i == 1};
    struct ar_plot_legend leg[] = {{"universal", 0, '#'}};
    struct ar_plot p = {.kind = AR_PLOT_BARS, .title = "findings", .xlabel = "certainty",
                        .bars = bars, .nbars = 40, .xmin = 0, .xmax = 1, .xref = NAN,
                        .mark_label = "contradicted", .legend = leg, .nlegend = 1};
    struct ar_buf b = {0};
    ar_plot_text(&p, 80, 20, &b);
    ck_assert_int_le(max_line_width(b.data), 80);
    ck_assert_int_le(count_lines(b.data), 20);
    ck_assert_ptr_nonnull(strstr(b.data, "! +3 -1 0:2"));
    ck_assert_ptr_nonnull(strstr(b.data, "! contradicted"));
    ar_buf_free(&b);
}
END_TEST

START_TEST(robust_ymax_clips_only_far_outliers)
{
    double x[100], y[100];
    for (int i = 0; i < 100; i++) {
        x[i] = i;
        y[i] = 1.0 + 0.001 * (i % 10);
    }
    struct ar_plot_series s = {"p", AR_PLOT_POINTS, 0, 'o', 100, x, y};
    struct ar_plot p = {.kind = AR_PLOT_XY, .series = &s, .nseries = 1};
    ck_assert(ar_plot_robust_ymax(&p) == 0);
    y[7] = 9.0;   /* a diverged run */
    double clip = ar_plot_robust_ymax(&p);
    ck_assert(clip > 1.009 && clip < 1.1);
}
END_TEST

static void check_magic(const char *path, const char *magic)
{
    char head[8] = {0};
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_gt((int)fread(head, 1, sizeof head - 1, f), 4);
    fclose(f);
    ck_assert(memcmp(head, magic, strlen(magic)) == 0);
}

START_TEST(png_and_svg_by_extension)
{
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    double x[3] = {1, 2, 3}, y[3] = {1.1, 1.0, 1.05};
    struct ar_plot_series s = {"keep", AR_PLOT_POINTS, 0x2ca02c, 'o', 3, x, y};
    struct ar_plot p = {.kind = AR_PLOT_XY, .title = "t", .series = &s, .nseries = 1};
    char png[64], svg[64], gif[64];
    snprintf(png, sizeof png, "%s/a.png", tmpdir);
    snprintf(svg, sizeof svg, "%s/a.svg", tmpdir);
    snprintf(gif, sizeof gif, "%s/a.gif", tmpdir);
    ck_assert_int_eq(ar_plot_write(&p, png, 640, 400), 0);
    check_magic(png, "\x89PNG");
    ck_assert_int_eq(ar_plot_write(&p, svg, 640, 400), 0);
    check_magic(svg, "<?xml");
    ck_assert_int_eq(ar_plot_write(&p, gif, 640, 400), -1);
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    ck_assert_int_ne(access(gif, F_OK), 0);
    unlink(png);
    unlink(svg);
    rmdir(tmpdir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("plot");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, numeric_ticks_are_round_and_cover_the_range);
    tcase_add_test(tc, time_ticks_have_date_labels);
    tcase_add_test(tc, text_chart_fits_the_terminal);
    tcase_add_test(tc, empty_text_chart_shows_the_note);
    tcase_add_test(tc, bars_text_marks_and_limits_rows);
    tcase_add_test(tc, robust_ymax_clips_only_far_outliers);
    tcase_add_test(tc, png_and_svg_by_extension);
    suite_add_tcase(s, tc);
    return s;
}

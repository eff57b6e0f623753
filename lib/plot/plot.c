/* Shared parts of the charts: output files, axis ticks, the robust y range.
 * Drawing is in plot_cairo.c (PNG, SVG) and plot_text.c (text). */
#include "plot/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "base/err.h"
#include "plot/plot_draw.h"

static const char *extension(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    return dot && (!slash || dot > slash) ? dot + 1 : "";
}

int ar_plot_format_ok(const char *path)
{
    const char *ext = extension(path);
    return strcmp(ext, "png") == 0 || strcmp(ext, "svg") == 0;
}

int ar_plot_write(const struct ar_plot *plot, const char *path, int width, int height)
{
    const char *ext = extension(path);
    int svg;
    if (strcmp(ext, "png") == 0)
        svg = 0;
    else if (strcmp(ext, "svg") == 0)
        svg = 1;
    else
        return ar_fail(AR_EINPUT, "%s: unknown image format (use .png or .svg)", path);
    if (width < 200 || height < 150 || width > 10000 || height > 10000)
        return ar_fail(AR_EINPUT, "image size %dx%d: out of range (200x150 to 10000x10000)", width,
                       height);
    struct ar_buf b = {0};
    if (ar_plot_draw(plot, svg, width, height, &b) != 0) {
        ar_buf_free(&b);
        return -1;
    }
    int rc = ar_write_atomic(path, b.data, b.len);
    ar_buf_free(&b);
    return rc;
}

/* ------------------------------------------------------------ ticks */

static double nice_step(double raw)
{
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
}

void ar_plot_ticks_num(double lo, double hi, int max_ticks, int expand, struct ar_plot_ticks *t)
{
    memset(t, 0, sizeof *t);
    if (!isfinite(lo) || !isfinite(hi) || lo > hi) {
        lo = 0;
        hi = 1;
    }
    if (hi - lo < 1e-12 * (fabs(lo) + 1)) {
        double pad = fabs(lo) > 0 ? fabs(lo) * 0.05 : 1;
        lo -= pad;
        hi += pad;
    }
    if (max_ticks < 2)
        max_ticks = 2;
    if (max_ticks > 31)
        max_ticks = 31;
    double step = nice_step((hi - lo) / (max_ticks - 1));
    while ((floor(hi / step) - ceil(lo / step)) + 1 > max_ticks)
        step = nice_step(step * 1.01);
    t->lo = expand ? floor(lo / step + 1e-9) * step : lo;
    t->hi = expand ? ceil(hi / step - 1e-9) * step : hi;
    t->step = step;
    int decimals = (int)fmax(0, -floor(log10(step) + 1e-9));
    if (fmod(step * pow(10, decimals), 1) > 1e-6)   /* 2.5-type steps need one more */
        decimals++;
    for (double v = ceil(t->lo / step - 1e-9) * step; v <= t->hi + step * 1e-6 && t->n < 32;
         v += step) {
        double at = fabs(v) < step * 1e-9 ? 0 : v;
        t->at[t->n] = at;
        snprintf(t->label[t->n], sizeof t->label[0], "%.*f", decimals, at);
        t->n++;
    }
}

void ar_plot_ticks_time(double lo, double hi, int max_ticks, struct ar_plot_ticks *t)
{
    static const double steps[] = {
        60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400,
        7 * 86400, 14 * 86400, 30 * 86400, 91 * 86400, 365 * 86400,
    };
    memset(t, 0, sizeof *t);
    if (!isfinite(lo) || !isfinite(hi) || lo > hi)
        lo = hi = 0;
    if (hi - lo < 60) {
        lo -= 1800;
        hi += 1800;
    }
    if (max_ticks < 2)
        max_ticks = 2;
    double step = steps[sizeof steps / sizeof steps[0] - 1];
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if ((hi - lo) / steps[i] <= max_ticks - 1) {
            step = steps[i];
            break;
        }
    while ((hi - lo) / step > 30)
        step *= 2;
    t->lo = lo;
    t->hi = hi;
    t->step = step;
    for (double v = ceil(lo / step) * step; v <= hi && t->n < 32; v += step) {
        time_t s = (time_t)v;
        struct tm tm;
        gmtime_r(&s, &tm);
        t->at[t->n] = v;
        strftime(t->label[t->n], sizeof t->label[0], step < 86400 ? "%m-%d %H:%M" : "%Y-%m-%d",
                 &tm);
        t->n++;
    }
}

/* ------------------------------------------------------------ y range */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double ar_plot_robust_ymax(const struct ar_plot *plot)
{
    size_t n = 0;
    for (int s = 0; s < plot->nseries; s++)
        if (plot->series[s].style == AR_PLOT_POINTS)
            n += plot->series[s].n;
    if (n < 20)
        return 0;
    double *y = ar_xmalloc(n * sizeof *y);
    size_t k = 0;
    for (int s = 0; s < plot->nseries; s++)
        if (plot->series[s].style == AR_PLOT_POINTS)
            for (size_t i = 0; i < plot->series[s].n; i++)
                y[k++] = plot->series[s].y[i];
    qsort(y, n, sizeof *y, cmp_double);
    double lo = y[0], p95 = y[(size_t)(0.95 * (double)(n - 1))], hi = y[n - 1];
    free(y);
    /* clip only when the top 5% would take most of the height */
    if (p95 > lo && hi - lo > 3 * (p95 - lo))
        return p95 + 0.5 * (p95 - lo);
    return 0;
}

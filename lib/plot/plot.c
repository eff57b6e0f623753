/* Shared parts of the charts: output files, the robust y range (axis ticks
 * are in ticks.c).
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

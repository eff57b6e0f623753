/* Axis ticks, shared by the cairo and text renderers: round steps over a
 * numeric range, calendar steps over a time range. */
#include "plot/ticks.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

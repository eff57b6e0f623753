#ifndef AR_PLOT_TICKS_H
#define AR_PLOT_TICKS_H

/* Axis ticks shared by both renderers (lib/plot/ticks.c; exposed for tests). */
struct ar_plot_ticks {
    double lo, hi, step;      /* the axis runs lo..hi; ticks at multiples of step */
    int n;
    double at[32];
    char label[32][32];
};
/* expand: widen lo..hi to whole steps; else keep them and tick inside. */
void ar_plot_ticks_num(double lo, double hi, int max_ticks, int expand, struct ar_plot_ticks *t);
void ar_plot_ticks_time(double lo, double hi, int max_ticks, struct ar_plot_ticks *t);

#endif

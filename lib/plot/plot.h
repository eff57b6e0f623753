/* Charts for people and agents: PNG and SVG through cairo, and text charts
 * that fit a terminal (or an agent's context). A chart is plain data filled
 * in by the caller; this module only draws it, so the same chart renders the
 * same way in every format.
 *
 * Two kinds:
 *   AR_PLOT_XY    series of points, step lines and ticks over a numeric or
 *                 time x axis (ar-plot progress)
 *   AR_PLOT_BARS  labelled horizontal bars with an annotation and an
 *                 optional mark each (ar-plot findings)
 *
 * Both have a title, a subtitle, axis labels and a legend; a chart with no
 * data draws its axes and `note` in the middle instead of failing. */
#ifndef AR_PLOT_H
#define AR_PLOT_H

#include <stddef.h>

struct ar_buf;

enum ar_plot_kind { AR_PLOT_XY, AR_PLOT_BARS };

enum ar_plot_style {
    AR_PLOT_POINTS,   /* a marker at each (x, y) */
    AR_PLOT_STEPS,    /* a running value: horizontal to the next x, then vertical */
    AR_PLOT_TICKS,    /* events at x without a y: marks along the top edge */
};

struct ar_plot_series {
    const char *label;        /* legend text; NULL leaves it out of the legend */
    enum ar_plot_style style;
    unsigned rgb;             /* 0xRRGGBB */
    char glyph;               /* the character in text charts */
    size_t n;
    const double *x, *y;      /* y is not read for ticks */
};

struct ar_plot_bar {
    const char *label;        /* left of the bar */
    double value;             /* bar length, in [xmin, xmax] */
    unsigned rgb;
    char glyph;               /* fills the bar in text charts */
    const char *annot;        /* right of the bar, e.g. "+5 -1 0:3"; may be NULL */
    int marked;               /* draws the chart's mark beside the bar */
};

struct ar_plot_legend {
    const char *label;
    unsigned rgb;
    char glyph;
};

enum ar_plot_xaxis { AR_PLOT_X_NUM, AR_PLOT_X_TIME /* x is Unix seconds, UTC labels */ };

struct ar_plot {
    enum ar_plot_kind kind;
    const char *title, *subtitle, *xlabel, *ylabel;
    const char *note;         /* shown in the plot area (e.g. why it is empty) */

    /* AR_PLOT_XY */
    enum ar_plot_xaxis xaxis;
    const struct ar_plot_series *series;
    int nseries;
    /* Points above ymax_clip (when > 0) are drawn as triangles on the top
     * edge; ar_plot_robust_ymax picks a value that keeps outliers from
     * squashing the rest. */
    double ymax_clip;

    /* AR_PLOT_BARS */
    const struct ar_plot_bar *bars;
    int nbars;
    double xmin, xmax;        /* value axis */
    double xref;              /* a dashed reference line (e.g. the prior); NaN for none */
    const char *xref_label;   /* its legend text */
    const char *mark_label;   /* legend text of the mark */
    const struct ar_plot_legend *legend;   /* colour key of the bars */
    int nlegend;
};

/* Renders to path as PNG or SVG, chosen by its extension (.png, .svg),
 * written atomically. width and height are pixels (PNG) or points (SVG).
 * An unknown extension is AR_EINPUT; a write that fails is AR_EFAIL. */
int ar_plot_write(const struct ar_plot *plot, const char *path, int width, int height);
/* 1 when path ends in .png or .svg. */
int ar_plot_format_ok(const char *path);

/* Appends a text chart of at most cols columns and rows lines (UTF-8 free:
 * plain ASCII, so it fits wherever it is pasted). */
void ar_plot_text(const struct ar_plot *plot, int cols, int rows, struct ar_buf *out);

/* A y maximum that keeps the bulk of the points readable: the largest y
 * unless it lies far above the 95th percentile; 0 when nothing needs
 * clipping. Reads the POINTS series only. */
double ar_plot_robust_ymax(const struct ar_plot *plot);

#endif

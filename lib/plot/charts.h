/* The knowledge base's charts: what to draw, built from the statistics
 * (lib/analysis/stats.h) and findings (lib/analysis/findings.h); lib/plot/plot.h draws them.
 *
 *     struct ar_chart ch;
 *     ar_chart_progress(st, AR_X_INDEX, AR_BY_KEY, "session nov23", &ch);
 *     ar_plot_write(&ch.plot, "progress.png", 1200, 700);
 *     ar_chart_free(&ch);
 *
 * Retracted cards are never drawn (the subtitle counts them); crash cards
 * are ticks along the top edge, never a val_bpb. */
#ifndef AR_CHARTS_H
#define AR_CHARTS_H

#include "analysis/findings.h"
#include "plot/plot.h"
#include "base/pool.h"
#include "analysis/stats.h"

/* What the x axis of the progress chart measures. */
enum ar_progress_x {
    AR_X_INDEX,   /* experiment number, in id (time) order */
    AR_X_TIME,    /* the card's created time */
    AR_X_HOURS,   /* accumulated training hours (training_seconds, else budget_s) */
};

/* Which cards share a running-best line. */
enum ar_progress_by {
    AR_BY_KEY,       /* comparability key (data + budget + platform class) */
    AR_BY_SESSION,
};

/* At most this many running-best lines get their own colour and legend
 * entry; the rest are drawn in grey under one entry. */
#define AR_CHART_LINES 8

struct ar_chart {
    struct ar_plot plot;
    struct ar_plot_series *series;
    struct ar_plot_bar *bars;
    struct ar_plot_legend *legend;
    struct ar_pool pool;       /* every array and string the plot points to */
};

/* val_bpb per experiment coloured by status, with the running best (lowest
 * counted val_bpb so far) of each group. scope describes the filters for
 * the subtitle (NULL: none). */
void ar_chart_progress(const struct ar_kbstats *st, enum ar_progress_x x, enum ar_progress_by by,
                       const char *scope, struct ar_chart *out);

/* The certainty landscape: the top claims by certainty (at most top), each
 * a bar coloured by scope with its confirm/refute/null counts; claims
 * contradicted across platform classes are marked. */
void ar_chart_findings(const struct ar_findings *f, int top, const char *scope,
                       struct ar_chart *out);

void ar_chart_free(struct ar_chart *c);

/* Seconds since the epoch of an ISO-8601 UTC time ("2026-11-23T13:15:00.594Z");
 * NAN when it does not parse. */
double ar_chart_time(const char *iso);

#endif

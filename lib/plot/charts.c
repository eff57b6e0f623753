#include "plot/charts.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"

/* status colours, and the glyphs of text charts */
static const struct {
    const char *status;
    unsigned rgb;
    char glyph;
} status_style[] = {
    {"discard", 0x9e9e9e, '.'},
    {"inconclusive", 0xff7f0e, '?'},
    {"baseline", 0x1f77b4, 'B'},
    {"keep", 0x2ca02c, 'o'},
};
#define NSTATUS (int)(sizeof status_style / sizeof status_style[0])

static const unsigned line_rgb[AR_CHART_LINES] = {
    0x111111, 0x9467bd, 0x8c564b, 0x17becf, 0xe377c2, 0xbcbd22, 0x393b79, 0x637939,
};
static const char line_glyph[AR_CHART_LINES] = {'-', '=', '~', '_', ':', '+', '*', '"'};

double ar_chart_time(const char *iso)
{
    struct tm tm;
    double sec;
    memset(&tm, 0, sizeof tm);
    if (!iso || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%lf", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                       &tm.tm_hour, &tm.tm_min, &sec) != 6)
        return NAN;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (double)timegm(&tm) + sec;
}

static const char *pool_printf(struct ar_pool *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static const char *pool_printf(struct ar_pool *p, const char *fmt, ...)
{
    char s[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s, sizeof s, fmt, ap);
    va_end(ap);
    return ar_pool_strndup(p, s, n < (int)sizeof s ? (size_t)n : sizeof s - 1);
}

static void *pool_array(struct ar_pool *p, size_t n, size_t size)
{
    return ar_pool_alloc(p, (n ? n : 1) * size);
}

/* ------------------------------------------------------------ progress */

/* one running-best line */
struct line {
    const char *group;   /* interned: key or session */
    const char *label;
    size_t n, points;
    double *x, *y;
    double best, last_x;
    size_t cards;
};

static int status_slot(const char *status)
{
    for (int s = 0; s < NSTATUS; s++)
        if (strcmp(status, status_style[s].status) == 0)
            return s;
    return 0;   /* anything else reads as discarded */
}

/* x of each drawn card, in id order; NAN for cards not drawn */
static void progress_x(const struct ar_kbstats *st, enum ar_progress_x mode, double *x)
{
    double n = 0, hours = 0;
    for (size_t i = 0; i < st->n; i++) {
        const struct ar_cardsum *c = &st->cards[i];
        if (c->retracted) {
            x[i] = NAN;
            continue;
        }
        double secs = c->training_seconds > 0 ? c->training_seconds : c->budget_s;
        hours += secs / 3600;
        x[i] = mode == AR_X_INDEX ? ++n : mode == AR_X_HOURS ? hours : ar_chart_time(c->created);
    }
}

static int cmp_line_cards(const void *a, const void *b)
{
    const struct line *x = a, *y = b;
    if (x->cards != y->cards)
        return x->cards < y->cards ? 1 : -1;
    return strcmp(x->group, y->group);
}

static int cmp_line_group(const void *a, const void *b)
{
    return strcmp(((const struct line *)a)->group, ((const struct line *)b)->group);
}

static struct line *find_line(struct line *lines, size_t n, const char *group)
{
    for (size_t i = 0; i < n; i++)
        if (lines[i].group == group)
            return &lines[i];
    return NULL;
}

/* The running best of each group: a step at every new best, and a last
 * point at the group's last card so that a line ends where its group does. */
static struct line *running_best(const struct ar_kbstats *st, const double *x,
                                 enum ar_progress_by by, struct ar_pool *pool, size_t *nlines)
{
    size_t cap = 16, n = 0;
    struct line *lines = ar_xmalloc(cap * sizeof *lines);
    for (size_t i = 0; i < st->n; i++) {
        const struct ar_cardsum *c = &st->cards[i];
        if (!c->counts || isnan(x[i]))
            continue;
        const char *group = by == AR_BY_SESSION ? c->session : c->key;
        struct line *l = find_line(lines, n, group);
        if (!l) {
            if (n == cap)
                lines = ar_xrealloc(lines, (cap *= 2) * sizeof *lines);
            l = &lines[n++];
            memset(l, 0, sizeof *l);
            l->group = group;
            l->best = INFINITY;
        }
        l->cards++;
    }
    for (size_t k = 0; k < n; k++) {
        lines[k].x = pool_array(pool, lines[k].cards + 1, sizeof(double));
        lines[k].y = pool_array(pool, lines[k].cards + 1, sizeof(double));
    }
    for (size_t i = 0; i < st->n; i++) {
        const struct ar_cardsum *c = &st->cards[i];
        if (!c->counts || isnan(x[i]))
            continue;
        struct line *l = find_line(lines, n, by == AR_BY_SESSION ? c->session : c->key);
        l->last_x = x[i];
        if (c->val_bpb < l->best) {
            l->best = c->val_bpb;
            l->x[l->n] = x[i];
            l->y[l->n++] = c->val_bpb;
        }
    }
    for (size_t k = 0; k < n; k++)
        if (lines[k].n > 0 && lines[k].last_x > lines[k].x[lines[k].n - 1]) {
            lines[k].x[lines[k].n] = lines[k].last_x;
            lines[k].y[lines[k].n] = lines[k].best;
            lines[k].n++;
        }
    *nlines = n;
    return lines;
}

/* Legend text of a key's line: its class, with budget and data only when
 * the class has several keys. */
static void label_lines(const struct ar_kbstats *st, struct line *lines, size_t n,
                        enum ar_progress_by by, struct ar_pool *pool)
{
    for (size_t k = 0; k < n; k++) {
        if (by == AR_BY_SESSION) {
            lines[k].label = pool_printf(pool, "best: %s", *lines[k].group ? lines[k].group : "(no session)");
            continue;
        }
        const struct ar_keystat *ks = ar_stats_key(st, lines[k].group);
        const char *cls = ks && *ks->platform ? ks->platform : "(no class)";
        int same = 0;
        for (size_t j = 0; j < n; j++) {
            const struct ar_keystat *o = ar_stats_key(st, lines[j].group);
            same += o && ks && strcmp(o->platform, ks->platform) == 0;
        }
        if (same > 1 && ks)
            lines[k].label = pool_printf(pool, "best: %s, %gs, data %.8s", cls, ks->budget_s,
                                         *ks->fingerprint ? ks->fingerprint : "-");
        else
            lines[k].label = pool_printf(pool, "best: %s", cls);
    }
}

void ar_chart_progress(const struct ar_kbstats *st, enum ar_progress_x xmode,
                       enum ar_progress_by by, const char *scope, struct ar_chart *out)
{
    memset(out, 0, sizeof *out);
    struct ar_pool *pool = &out->pool;
    double *x = ar_xmalloc((st->n ? st->n : 1) * sizeof *x);
    progress_x(st, xmode, x);

    /* points by status, crashes as ticks */
    size_t count[NSTATUS] = {0}, crashes = 0, retracted = 0, unmeasured = 0;
    for (size_t i = 0; i < st->n; i++) {
        const struct ar_cardsum *c = &st->cards[i];
        if (c->retracted)
            retracted++;
        else if (c->crash)
            crashes++;
        else if (!c->counts || isnan(x[i]))
            unmeasured++;
        else
            count[status_slot(c->status)]++;
    }
    size_t nlines;
    struct line *lines = running_best(st, x, by, pool, &nlines);
    /* the biggest groups get colours; the legend lists them by group name */
    qsort(lines, nlines, sizeof *lines, cmp_line_cards);
    size_t coloured = nlines < AR_CHART_LINES ? nlines : AR_CHART_LINES;
    qsort(lines, coloured, sizeof *lines, cmp_line_group);
    label_lines(st, lines, coloured, by, pool);

    out->series = pool_array(pool, (size_t)NSTATUS + 1 + nlines, sizeof *out->series);
    int ns = 0;
    for (int s = 0; s < NSTATUS; s++) {
        struct ar_plot_series *se = &out->series[ns++];
        double *sx = pool_array(pool, count[s], sizeof *sx), *sy = pool_array(pool, count[s], sizeof *sy);
        size_t k = 0;
        for (size_t i = 0; i < st->n; i++) {
            const struct ar_cardsum *c = &st->cards[i];
            if (c->counts && !isnan(x[i]) && status_slot(c->status) == s) {
                sx[k] = x[i];
                sy[k++] = c->val_bpb;
            }
        }
        *se = (struct ar_plot_series){pool_printf(pool, "%s (%zu)", status_style[s].status, count[s]),
                                      AR_PLOT_POINTS, status_style[s].rgb, status_style[s].glyph,
                                      k, sx, sy};
        if (k == 0)
            se->label = NULL;
    }
    double *cx = pool_array(pool, crashes, sizeof *cx);
    size_t k = 0;
    for (size_t i = 0; i < st->n; i++)
        if (!st->cards[i].retracted && st->cards[i].crash && !isnan(x[i]))
            cx[k++] = x[i];
    out->series[ns++] = (struct ar_plot_series){
        k ? pool_printf(pool, "crash (%zu)", crashes) : NULL, AR_PLOT_TICKS, 0xd62728, 'x', k, cx, NULL};
    for (size_t l = 0; l < nlines; l++) {
        int own = l < coloured;
        const char *label = own ? lines[l].label
                            : l == coloured ? pool_printf(pool, "best: %zu more %s", nlines - coloured,
                                                          by == AR_BY_SESSION ? "sessions" : "keys")
                                            : NULL;
        out->series[ns++] = (struct ar_plot_series){label, AR_PLOT_STEPS,
                                                    own ? line_rgb[l] : 0xc8c8c8,
                                                    own ? line_glyph[l] : '-', lines[l].n,
                                                    lines[l].x, lines[l].y};
    }
    free(lines);
    free(x);

    size_t drawn = 0;
    for (int s = 0; s < NSTATUS; s++)
        drawn += count[s];
    struct ar_plot *p = &out->plot;
    p->kind = AR_PLOT_XY;
    p->series = out->series;
    p->nseries = ns;
    p->xaxis = xmode == AR_X_TIME ? AR_PLOT_X_TIME : AR_PLOT_X_NUM;
    p->title = "Progress: val_bpb per experiment";
    p->xlabel = xmode == AR_X_INDEX   ? "experiment (in id order)"
                : xmode == AR_X_HOURS ? "accumulated training hours"
                                      : "time (UTC)";
    p->ylabel = "val_bpb (lower is better)";
    struct ar_buf sub = {0};
    ar_buf_printf(&sub, "%zu experiments", drawn + crashes);
    if (scope && *scope)
        ar_buf_printf(&sub, " (%s)", scope);
    ar_buf_printf(&sub, ", running best per %s", by == AR_BY_SESSION ? "session" : "platform class");
    if (retracted)
        ar_buf_printf(&sub, "; %zu retracted not shown", retracted);
    if (unmeasured)
        ar_buf_printf(&sub, "; %zu without val_bpb", unmeasured);
    p->subtitle = ar_pool_strndup(pool, sub.data, sub.len);
    ar_buf_free(&sub);
    if (drawn + crashes == 0)
        p->note = st->n == 0 ? "no experiments yet: ar-train records one"
                             : "no experiment to draw (all retracted)";
    p->ymax_clip = ar_plot_robust_ymax(p);
}

/* ------------------------------------------------------------ findings */

static const struct {
    const char *scope;
    unsigned rgb;
    char glyph;
} scope_style[] = {
    {"universal", 0x2ca02c, '#'},
    {"platform-specific", 0x9467bd, '%'},
    {"single-platform", 0x1f77b4, '='},
    {"open", 0x9e9e9e, '-'},
};
#define NSCOPE (int)(sizeof scope_style / sizeof scope_style[0])

static int scope_slot(const char *scope)
{
    for (int s = 0; s < NSCOPE; s++)
        if (scope && strcmp(scope, scope_style[s].scope) == 0)
            return s;
    return NSCOPE - 1;
}

static int contradicted(const struct ar_claim *c)
{
    for (int i = 0; i < c->nlinks; i++)
        if (strcmp(c->links[i].type, "CONTRADICTS") == 0)
            return 1;
    return 0;
}

static int cmp_evidence(const void *a, const void *b)
{
    const struct ar_claim *x = *(const struct ar_claim *const *)a, *y = *(const struct ar_claim *const *)b;
    if (x->all.runs != y->all.runs)
        return x->all.runs < y->all.runs ? 1 : -1;
    return strcmp(x->name, y->name);
}

static int cmp_certainty(const void *a, const void *b)
{
    const struct ar_claim *x = *(const struct ar_claim *const *)a, *y = *(const struct ar_claim *const *)b;
    if (x->all.certainty != y->all.certainty)
        return x->all.certainty < y->all.certainty ? 1 : -1;
    return strcmp(x->name, y->name);
}

void ar_chart_findings(const struct ar_findings *f, int top, const char *scope, struct ar_chart *out)
{
    memset(out, 0, sizeof *out);
    struct ar_pool *pool = &out->pool;
    /* the best-studied claims (most scored evidence), shown by certainty */
    const struct ar_claim **claims = ar_xmalloc((f->n ? f->n : 1) * sizeof *claims);
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++)
        if (f->claims[i].all.runs > 0)
            claims[n++] = &f->claims[i];
    qsort(claims, n, sizeof *claims, cmp_evidence);
    size_t shown = top > 0 && n > (size_t)top ? (size_t)top : n;
    qsort(claims, shown, sizeof *claims, cmp_certainty);

    out->bars = pool_array(pool, shown, sizeof *out->bars);
    for (size_t i = 0; i < shown; i++) {
        const struct ar_claim *c = claims[i];
        int s = scope_slot(c->scope), mark = contradicted(c);
        out->bars[i] = (struct ar_plot_bar){
            c->name, c->all.certainty, scope_style[s].rgb, scope_style[s].glyph,
            pool_printf(pool, "%.2f  +%d -%d 0:%d", c->all.certainty, c->all.confirms,
                        c->all.refutes, c->all.nulls),
            mark};
    }
    out->legend = pool_array(pool, NSCOPE, sizeof *out->legend);
    for (int s = 0; s < NSCOPE; s++)
        out->legend[s] = (struct ar_plot_legend){scope_style[s].scope, scope_style[s].rgb,
                                                 scope_style[s].glyph};
    free(claims);

    struct ar_plot *p = &out->plot;
    p->kind = AR_PLOT_BARS;
    p->title = "Findings: certainty of each claim";
    struct ar_buf sub = {0};
    ar_buf_printf(&sub, "%zu claims with evidence", n);
    if (shown < n)
        ar_buf_printf(&sub, ", the %zu best studied", shown);
    if (scope && *scope)
        ar_buf_printf(&sub, " (%s)", scope);
    ar_buf_puts(&sub, "; +confirm -refute 0:null");
    p->subtitle = ar_pool_strndup(pool, sub.data, sub.len);
    ar_buf_free(&sub);
    p->xlabel = "certainty";
    p->bars = out->bars;
    p->nbars = (int)shown;
    p->xmin = 0;
    p->xmax = 1;
    p->xref = AR_CERTAINTY_START;
    p->xref_label = pool_printf(pool, "prior certainty %.1f", AR_CERTAINTY_START);
    p->mark_label = "contradicted across classes";
    p->legend = out->legend;
    p->nlegend = NSCOPE;
    if (shown == 0)
        p->note = f->n == 0 ? "no claims yet: cards that change config keys make them"
                            : "no claim has scored evidence yet";
}

void ar_chart_free(struct ar_chart *c)
{
    ar_pool_free(&c->pool);
    memset(c, 0, sizeof *c);
}

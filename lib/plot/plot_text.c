/* Text charts: a character grid of at most cols x rows, plain ASCII, for a
 * terminal or an agent's context. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "plot/plot.h"
#include "plot/ticks.h"

#define MAX_COLS 400
#define MAX_ROWS 200

/* Appends s cut to at most width bytes, padded to width when pad is set. */
static void put_cut(struct ar_buf *out, const char *s, int width, int pad)
{
    int n = (int)strlen(s);
    if (n > width) {
        n = width;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    ar_buf_add(out, s, (size_t)n);
    for (int i = n; pad && i < width; i++)
        ar_buf_putc(out, ' ');
}

static void put_line(struct ar_buf *out, const char *s, int cols)
{
    put_cut(out, s, cols, 0);
    ar_buf_putc(out, '\n');
}

static void put_centered(struct ar_buf *out, const char *s, int cols)
{
    int n = (int)strlen(s);
    for (int i = 0; i < (cols - n) / 2; i++)
        ar_buf_putc(out, ' ');
    put_line(out, s, cols);
}

/* The legend as lines of "g label" items, wrapped to cols; returns the
 * number of lines it needs (and appends them when out is set). */
static int legend_lines(const char *const *labels, const char *glyphs, int n, int cols,
                        struct ar_buf *out)
{
    int lines = 0, used = 0;
    for (int i = 0; i < n; i++) {
        int w = (int)strlen(labels[i]) + 2;
        if (used > 0 && used + 2 + w > cols) {
            if (out)
                ar_buf_putc(out, '\n');
            lines++;
            used = 0;
        }
        if (out) {
            if (used > 0)
                ar_buf_puts(out, "  ");
            ar_buf_putc(out, glyphs[i]);
            ar_buf_putc(out, ' ');
            put_cut(out, labels[i], cols - 2, 0);
        }
        used += (used > 0 ? 2 : 0) + w;
    }
    if (used > 0) {
        if (out)
            ar_buf_putc(out, '\n');
        lines++;
    }
    return lines;
}

/* ------------------------------------------------------------ XY */

struct grid {
    char cell[MAX_ROWS][MAX_COLS + 1];
    int w, h;
    double xlo, xhi, ylo, yhi;
};

static int col_of(const struct grid *g, double x)
{
    int c = (int)lround((x - g->xlo) / (g->xhi - g->xlo) * (g->w - 1));
    return c < 0 ? 0 : c >= g->w ? g->w - 1 : c;
}

static int row_of(const struct grid *g, double y)
{
    int r = (int)lround((g->yhi - y) / (g->yhi - g->ylo) * (g->h - 1));
    return r < 0 ? 0 : r >= g->h ? g->h - 1 : r;
}

static void text_xy(const struct ar_plot *p, int cols, int rows, struct ar_buf *out)
{
    static struct grid g;
    double clip = p->ymax_clip > 0 ? p->ymax_clip : INFINITY;
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    size_t clipped = 0;
    for (int s = 0; s < p->nseries; s++)
        for (size_t i = 0; i < p->series[s].n; i++) {
            const struct ar_plot_series *se = &p->series[s];
            xlo = fmin(xlo, se->x[i]);
            xhi = fmax(xhi, se->x[i]);
            if (se->style == AR_PLOT_TICKS)
                continue;
            if (se->y[i] > clip) {
                clipped += se->style == AR_PLOT_POINTS;
                continue;
            }
            ylo = fmin(ylo, se->y[i]);
            yhi = fmax(yhi, se->y[i]);
        }
    if (clipped)
        yhi = fmax(yhi, clip);
    if (xlo > xhi)
        xlo = 0, xhi = p->xaxis == AR_PLOT_X_TIME ? 86400 : 1;
    if (ylo > yhi)
        ylo = 0, yhi = 1;

    /* legend */
    const char *labels[66];
    char glyphs[66], clipped_label[64];
    int nleg = 0;
    for (int s = 0; s < p->nseries && nleg < 64; s++)
        if (p->series[s].label) {
            labels[nleg] = p->series[s].label;
            glyphs[nleg++] = p->series[s].glyph;
        }
    if (clipped) {
        snprintf(clipped_label, sizeof clipped_label, "above the scale (%zu)", clipped);
        labels[nleg] = clipped_label;
        glyphs[nleg++] = '^';
    }
    int header = 1 + (p->subtitle != NULL) + (p->ylabel != NULL);
    int footer = 2 + (p->xlabel != NULL) + legend_lines(labels, glyphs, nleg, cols, NULL);
    g.h = rows - header - footer;
    if (g.h < 3)
        g.h = 3;
    if (g.h > MAX_ROWS)
        g.h = MAX_ROWS;

    struct ar_plot_ticks yt, xt;
    ar_plot_ticks_num(ylo, yhi, g.h / 3 + 1, 1, &yt);
    int yw = 0;
    for (int i = 0; i < yt.n; i++)
        yw = (int)fmax(yw, (double)strlen(yt.label[i]));
    g.w = cols - yw - 2;
    if (g.w < 10)
        g.w = 10;
    if (g.w > MAX_COLS)
        g.w = MAX_COLS;
    if (p->xaxis == AR_PLOT_X_TIME)
        ar_plot_ticks_time(xlo, xhi, g.w / 14 + 1, &xt);
    else
        ar_plot_ticks_num(xlo, xhi, g.w / 10 + 1, 0, &xt);
    g.xlo = xt.lo;
    g.xhi = xt.hi;
    g.ylo = yt.lo;
    g.yhi = yt.hi;
    for (int r = 0; r < g.h; r++) {
        memset(g.cell[r], ' ', (size_t)g.w);
        g.cell[r][g.w] = '\0';
    }

    /* lines first, so that points on them stay visible */
    for (int s = 0; s < p->nseries; s++) {
        const struct ar_plot_series *se = &p->series[s];
        if (se->style != AR_PLOT_STEPS || se->n == 0)
            continue;
        size_t i = 0;
        for (int c = col_of(&g, se->x[0]); c < g.w; c++) {
            double x = g.xlo + (g.xhi - g.xlo) * (c + 0.5) / (g.w - 1);
            while (i + 1 < se->n && se->x[i + 1] <= x)
                i++;
            g.cell[row_of(&g, fmin(se->y[i], clip))][c] = se->glyph;
        }
    }
    for (int s = 0; s < p->nseries; s++) {
        const struct ar_plot_series *se = &p->series[s];
        if (se->style != AR_PLOT_POINTS)
            continue;
        for (size_t i = 0; i < se->n; i++)
            g.cell[se->y[i] > clip ? 0 : row_of(&g, se->y[i])][col_of(&g, se->x[i])] =
                se->y[i] > clip ? '^' : se->glyph;
    }
    for (int s = 0; s < p->nseries; s++) {
        const struct ar_plot_series *se = &p->series[s];
        if (se->style == AR_PLOT_TICKS)
            for (size_t i = 0; i < se->n; i++)
                g.cell[0][col_of(&g, se->x[i])] = se->glyph;
    }
    if (p->note) {
        int n = (int)strlen(p->note);
        if (n > g.w - 2)
            n = g.w - 2;
        memcpy(g.cell[g.h / 2] + (g.w - n) / 2, p->note, (size_t)n);
    }

    put_centered(out, p->title ? p->title : "", cols);
    if (p->subtitle)
        put_centered(out, p->subtitle, cols);
    if (p->ylabel)
        put_line(out, p->ylabel, cols);
    char label_at[MAX_ROWS][32];
    memset(label_at, 0, sizeof label_at);
    for (int i = 0; i < yt.n; i++)
        snprintf(label_at[row_of(&g, yt.at[i])], sizeof label_at[0], "%s", yt.label[i]);
    for (int r = 0; r < g.h; r++) {
        ar_buf_printf(out, "%*s |", yw, label_at[r]);
        int end = g.w;
        while (end > 0 && g.cell[r][end - 1] == ' ')
            end--;
        ar_buf_add(out, g.cell[r], (size_t)end);
        ar_buf_putc(out, '\n');
    }
    /* x axis with tick marks, then labels that do not overlap */
    char axis[MAX_COLS + 1], labels_line[MAX_COLS + 64];
    memset(axis, '-', (size_t)g.w);
    axis[g.w] = '\0';
    memset(labels_line, ' ', sizeof labels_line);
    int last_end = -1;
    for (int i = 0; i < xt.n; i++) {
        int c = col_of(&g, xt.at[i]);
        axis[c] = '+';
        int n = (int)strlen(xt.label[i]);
        int start = c - n / 2;
        if (start < 0)
            start = 0;
        if (start + n > g.w)
            start = g.w - n;
        if (start < 0 || (last_end >= 0 && start <= last_end))
            continue;
        memcpy(labels_line + start, xt.label[i], (size_t)n);
        last_end = start + n;
    }
    int end = last_end < 0 ? 0 : last_end;
    labels_line[end] = '\0';
    ar_buf_printf(out, "%*s +%s\n", yw, "", axis);
    ar_buf_printf(out, "%*s  ", yw, "");
    put_line(out, labels_line, cols - yw - 2);
    if (p->xlabel)
        put_centered(out, p->xlabel, cols);
    legend_lines(labels, glyphs, nleg, cols, out);
}

/* ------------------------------------------------------------ bars */

static void text_bars(const struct ar_plot *p, int cols, int rows, struct ar_buf *out)
{
    int lw = 0, aw = 0, any_mark = 0;
    for (int i = 0; i < p->nbars; i++) {
        lw = (int)fmax(lw, p->bars[i].label ? (double)strlen(p->bars[i].label) : 0);
        aw = (int)fmax(aw, p->bars[i].annot ? (double)strlen(p->bars[i].annot) : 0);
        any_mark |= p->bars[i].marked;
    }
    if (lw > cols / 3)
        lw = cols / 3;
    if (lw < 6)
        lw = 6;
    int bw = cols - lw - 2 - 2 - (any_mark ? 2 : 0) - aw;
    if (bw < 10)
        bw = 10;

    const char *labels[66];
    char glyphs[66];
    int nleg = 0;
    for (int i = 0; i < p->nlegend && nleg < 64; i++) {
        labels[nleg] = p->legend[i].label;
        glyphs[nleg++] = p->legend[i].glyph;
    }
    if (any_mark && p->mark_label) {
        labels[nleg] = p->mark_label;
        glyphs[nleg++] = '!';
    }
    if (isfinite(p->xref) && p->xref_label) {
        labels[nleg] = p->xref_label;
        glyphs[nleg++] = ':';
    }
    int header = 1 + (p->subtitle != NULL);
    int footer = 2 + (p->xlabel != NULL) + legend_lines(labels, glyphs, nleg, cols, NULL);
    int nbars = p->nbars;
    if (nbars > rows - header - footer)
        nbars = rows - header - footer > 1 ? rows - header - footer : 1;

    struct ar_plot_ticks xt;
    ar_plot_ticks_num(p->xmin, p->xmax, bw / 10 + 1, 1, &xt);
    double span = xt.hi - xt.lo;

    put_centered(out, p->title ? p->title : "", cols);
    if (p->subtitle)
        put_centered(out, p->subtitle, cols);
    if (nbars == 0 || p->nbars == 0) {
        ar_buf_printf(out, "%*s |", lw, "");
        if (p->note) {
            int n = (int)strlen(p->note);
            ar_buf_printf(out, "%*s", n < bw ? (bw - n) / 2 : 0, "");
            put_cut(out, p->note, bw, 0);
        }
        ar_buf_putc(out, '\n');
    }
    int hidden = p->nbars - nbars;
    if (hidden > 0 && nbars > 1) {
        nbars--;   /* the last row says how many are left out */
        hidden++;
    }
    for (int i = 0; i < nbars && p->nbars > 0; i++) {
        const struct ar_plot_bar *b = &p->bars[i];
        put_cut(out, b->label ? b->label : "", lw, 1);
        ar_buf_puts(out, " |");
        int fill = (int)lround((fmin(fmax(b->value, xt.lo), xt.hi) - xt.lo) / span * bw);
        int ref = isfinite(p->xref) ? (int)lround((p->xref - xt.lo) / span * (bw - 1)) : -1;
        for (int c = 0; c < bw; c++)
            ar_buf_putc(out, c < fill ? b->glyph : c == ref ? ':' : ' ');
        ar_buf_puts(out, "| ");
        if (any_mark)
            ar_buf_puts(out, b->marked ? "! " : "  ");
        if (b->annot)
            ar_buf_puts(out, b->annot);
        /* trailing blanks help no one */
        while (out->len > 0 && out->data[out->len - 1] == ' ')
            out->data[--out->len] = '\0';
        ar_buf_putc(out, '\n');
    }
    if (hidden > 0)
        ar_buf_printf(out, "%*s | ... %d more (a taller chart shows them)\n", lw, "", hidden);
    char axis[MAX_COLS + 1], line[MAX_COLS + 64];
    if (bw > MAX_COLS)
        bw = MAX_COLS;
    memset(axis, '-', (size_t)bw);
    axis[bw] = '\0';
    memset(line, ' ', sizeof line);
    int last_end = -1;
    for (int i = 0; i < xt.n; i++) {
        int c = (int)lround((xt.at[i] - xt.lo) / span * (bw - 1));
        axis[c] = '+';
        int n = (int)strlen(xt.label[i]);
        int start = c - n / 2 < 0 ? 0 : c - n / 2;
        if (start + n > bw)
            start = bw - n;
        if (start < 0 || (last_end >= 0 && start <= last_end))
            continue;
        memcpy(line + start, xt.label[i], (size_t)n);
        last_end = start + n;
    }
    line[last_end < 0 ? 0 : last_end] = '\0';
    ar_buf_printf(out, "%*s +%s\n", lw, "", axis);
    ar_buf_printf(out, "%*s  ", lw, "");
    put_line(out, line, cols - lw - 2);
    if (p->xlabel)
        put_centered(out, p->xlabel, cols);
    legend_lines(labels, glyphs, nleg, cols, out);
}

void ar_plot_text(const struct ar_plot *plot, int cols, int rows, struct ar_buf *out)
{
    if (cols < 40)
        cols = 40;
    if (cols > MAX_COLS)
        cols = MAX_COLS;
    if (rows < 10)
        rows = 10;
    if (rows > MAX_ROWS)
        rows = MAX_ROWS;
    ar_buf_puts(out, "");
    if (plot->kind == AR_PLOT_BARS)
        text_bars(plot, cols, rows, out);
    else
        text_xy(plot, cols, rows, out);
}

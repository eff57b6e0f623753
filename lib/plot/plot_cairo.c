/* The cairo renderer: one drawing routine per chart kind onto any surface,
 * PNG or SVG written into a buffer (the caller writes the file atomically). */
#include <cairo.h>
#include <cairo-svg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "plot/plot.h"
#include "plot/ticks.h"
#include "plot/plot_draw.h"

#define FONT "DejaVu Sans"
#define GRID_RGB 0xe4e4e4
#define AXIS_RGB 0x444444
#define MUTED_RGB 0x777777
#define MARK_RGB 0xd62728

struct frame {
    cairo_t *cr;
    double w, h, fs;            /* surface size, base font size */
    double x0, y0, pw, ph;      /* plot area */
    double xlo, xhi, ylo, yhi;  /* data range shown */
};

static void set_rgb(cairo_t *cr, unsigned rgb, double alpha)
{
    cairo_set_source_rgba(cr, ((rgb >> 16) & 255) / 255.0, ((rgb >> 8) & 255) / 255.0,
                          (rgb & 255) / 255.0, alpha);
}

static void font(cairo_t *cr, double size, int bold, int italic)
{
    cairo_select_font_face(cr, FONT, italic ? CAIRO_FONT_SLANT_ITALIC : CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

static double text_width(cairo_t *cr, const char *s)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    return e.x_advance;
}

/* Draws s with its left, centre or right (ax = 0, 0.5, 1) at x and its
 * middle at y. */
static void text_at(cairo_t *cr, double x, double y, const char *s, double ax)
{
    cairo_font_extents_t fe;
    cairo_font_extents(cr, &fe);
    cairo_move_to(cr, x - ax * text_width(cr, s), y + (fe.ascent - fe.descent) / 2);
    cairo_show_text(cr, s);
}

/* Copies s into out, cut with "..." so that it is at most max wide. */
static void fit_text(cairo_t *cr, const char *s, double max, char *out, size_t cap)
{
    snprintf(out, cap, "%s", s);
    if (text_width(cr, out) <= max)
        return;
    size_t n = strlen(out);
    while (n > 0) {
        n--;
        while (n > 0 && ((unsigned char)out[n] & 0xc0) == 0x80)
            n--;
        if (n + 4 > cap)
            continue;
        memcpy(out + n, "...", 4);
        if (text_width(cr, out) <= max)
            return;
    }
}

static double map_x(const struct frame *f, double x)
{
    return f->x0 + (x - f->xlo) / (f->xhi - f->xlo) * f->pw;
}

static double map_y(const struct frame *f, double y)
{
    return f->y0 + f->ph - (y - f->ylo) / (f->yhi - f->ylo) * f->ph;
}

static void draw_header(struct frame *f, const struct ar_plot *p)
{
    cairo_t *cr = f->cr;
    char s[512];
    set_rgb(cr, 0x111111, 1);
    font(cr, f->fs * 1.35, 1, 0);
    fit_text(cr, p->title ? p->title : "", f->w - 20, s, sizeof s);
    text_at(cr, f->w / 2, f->fs * 1.6, s, 0.5);
    if (p->subtitle) {
        set_rgb(cr, MUTED_RGB, 1);
        font(cr, f->fs * 0.95, 0, 0);
        fit_text(cr, p->subtitle, f->w - 20, s, sizeof s);
        text_at(cr, f->w / 2, f->fs * 3.2, s, 0.5);
    }
}

static void draw_note(struct frame *f, const char *note)
{
    if (!note)
        return;
    char s[512];
    set_rgb(f->cr, MUTED_RGB, 1);
    font(f->cr, f->fs * 1.2, 0, 1);
    fit_text(f->cr, note, f->pw - 20, s, sizeof s);
    text_at(f->cr, f->x0 + f->pw / 2, f->y0 + f->ph / 2, s, 0.5);
}

static void draw_marker(cairo_t *cr, enum ar_plot_style style, double x, double y, double r)
{
    switch (style) {
    case AR_PLOT_POINTS:
        cairo_new_sub_path(cr);
        cairo_arc(cr, x, y, r, 0, 2 * M_PI);
        cairo_fill(cr);
        break;
    case AR_PLOT_STEPS:
        cairo_move_to(cr, x - 2.2 * r, y);
        cairo_line_to(cr, x + 2.2 * r, y);
        cairo_set_line_width(cr, 2.2);
        cairo_stroke(cr);
        break;
    case AR_PLOT_TICKS:
        cairo_move_to(cr, x - r, y - r);
        cairo_line_to(cr, x + r, y + r);
        cairo_move_to(cr, x - r, y + r);
        cairo_line_to(cr, x + r, y - r);
        cairo_set_line_width(cr, 1.6);
        cairo_stroke(cr);
        break;
    }
}

static void triangle(cairo_t *cr, double x, double y, double r)
{
    cairo_move_to(cr, x, y - r);
    cairo_line_to(cr, x + r, y + r * 0.8);
    cairo_line_to(cr, x - r, y + r * 0.8);
    cairo_close_path(cr);
}

static void diamond(cairo_t *cr, double x, double y, double r)
{
    cairo_move_to(cr, x, y - r);
    cairo_line_to(cr, x + r, y);
    cairo_line_to(cr, x, y + r);
    cairo_line_to(cr, x - r, y);
    cairo_close_path(cr);
}

/* ------------------------------------------------------------ XY */

struct legend_row {
    const char *label;
    enum ar_plot_style style;
    unsigned rgb;
    int triangle;
};

static void xy_ranges(const struct ar_plot *p, struct frame *f, size_t *clipped)
{
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    double clip = p->ymax_clip > 0 ? p->ymax_clip : INFINITY;
    *clipped = 0;
    for (int s = 0; s < p->nseries; s++) {
        const struct ar_plot_series *se = &p->series[s];
        for (size_t i = 0; i < se->n; i++) {
            xlo = fmin(xlo, se->x[i]);
            xhi = fmax(xhi, se->x[i]);
            if (se->style == AR_PLOT_TICKS)
                continue;
            if (se->y[i] > clip) {
                *clipped += se->style == AR_PLOT_POINTS;
                continue;
            }
            ylo = fmin(ylo, se->y[i]);
            yhi = fmax(yhi, se->y[i]);
        }
    }
    if (*clipped)
        yhi = fmax(yhi, clip);
    if (xlo > xhi)
        xlo = 0, xhi = p->xaxis == AR_PLOT_X_TIME ? 86400 : 1;
    if (ylo > yhi)
        ylo = 0, yhi = 1;
    f->xlo = xlo;
    f->xhi = xhi;
    f->ylo = ylo;
    f->yhi = yhi;
}

static void draw_xy(struct frame *f, const struct ar_plot *p)
{
    cairo_t *cr = f->cr;
    size_t clipped;
    xy_ranges(p, f, &clipped);
    struct ar_plot_ticks xt, yt;
    double ypad = (f->yhi - f->ylo) * 0.04;
    ar_plot_ticks_num(f->ylo - ypad, f->yhi + ypad, 8, 1, &yt);
    f->ylo = yt.lo;
    f->yhi = yt.hi;
    if (p->xaxis == AR_PLOT_X_TIME) {
        double pad = (f->xhi - f->xlo) * 0.02;
        ar_plot_ticks_time(f->xlo - pad, f->xhi + pad, 7, &xt);
    } else {
        double pad = (f->xhi - f->xlo) * 0.02;
        ar_plot_ticks_num(f->xlo - pad, f->xhi + pad, 9, 0, &xt);
    }
    f->xlo = xt.lo;
    f->xhi = xt.hi;

    /* legend rows */
    struct legend_row rows[64];
    int nrows = 0;
    for (int s = 0; s < p->nseries && nrows < 63; s++)
        if (p->series[s].label)
            rows[nrows++] = (struct legend_row){p->series[s].label, p->series[s].style,
                                                p->series[s].rgb, 0};
    char clipped_label[64];
    if (clipped) {
        snprintf(clipped_label, sizeof clipped_label, "above the scale: %zu", clipped);
        rows[nrows++] = (struct legend_row){clipped_label, AR_PLOT_POINTS, MUTED_RGB, 1};
    }

    /* margins from the text they hold */
    font(cr, f->fs, 0, 0);
    double ylab_w = 0, legend_w = 0;
    for (int i = 0; i < yt.n; i++)
        ylab_w = fmax(ylab_w, text_width(cr, yt.label[i]));
    for (int i = 0; i < nrows; i++)
        legend_w = fmax(legend_w, text_width(cr, rows[i].label));
    legend_w = nrows ? fmin(legend_w + f->fs * 3.5, f->w * 0.3) : f->fs;
    double ml = ylab_w + f->fs * (p->ylabel ? 3.2 : 1.5);
    double mt = f->fs * (p->subtitle ? 4.6 : 3.4);
    double mb = f->fs * (p->xlabel ? 4.4 : 2.8);
    f->x0 = ml;
    f->y0 = mt;
    f->pw = f->w - ml - legend_w - f->fs;
    f->ph = f->h - mt - mb;

    draw_header(f, p);

    /* grid, ticks and labels */
    cairo_set_line_width(cr, 1);
    font(cr, f->fs, 0, 0);
    for (int i = 0; i < yt.n; i++) {
        double y = round(map_y(f, yt.at[i])) + 0.5;
        set_rgb(cr, GRID_RGB, 1);
        cairo_move_to(cr, f->x0, y);
        cairo_line_to(cr, f->x0 + f->pw, y);
        cairo_stroke(cr);
        set_rgb(cr, AXIS_RGB, 1);
        text_at(cr, f->x0 - f->fs * 0.5, y, yt.label[i], 1);
    }
    for (int i = 0; i < xt.n; i++) {
        double x = round(map_x(f, xt.at[i])) + 0.5;
        set_rgb(cr, GRID_RGB, 1);
        cairo_move_to(cr, x, f->y0);
        cairo_line_to(cr, x, f->y0 + f->ph);
        cairo_stroke(cr);
        set_rgb(cr, AXIS_RGB, 1);
        text_at(cr, x, f->y0 + f->ph + f->fs * 1.1, xt.label[i], 0.5);
    }
    set_rgb(cr, AXIS_RGB, 1);
    cairo_rectangle(cr, f->x0 + 0.5, f->y0 + 0.5, f->pw, f->ph);
    cairo_stroke(cr);
    if (p->xlabel)
        text_at(cr, f->x0 + f->pw / 2, f->y0 + f->ph + f->fs * 2.9, p->xlabel, 0.5);
    if (p->ylabel) {
        cairo_save(cr);
        cairo_translate(cr, f->fs * 1.1, f->y0 + f->ph / 2);
        cairo_rotate(cr, -M_PI / 2);
        text_at(cr, 0, 0, p->ylabel, 0.5);
        cairo_restore(cr);
    }

    /* data, clipped to the plot area: points first, lines on top */
    cairo_save(cr);
    cairo_rectangle(cr, f->x0, f->y0, f->pw, f->ph);
    cairo_clip(cr);
    size_t npoints = 0;
    for (int s = 0; s < p->nseries; s++)
        if (p->series[s].style == AR_PLOT_POINTS)
            npoints += p->series[s].n;
    double r = npoints > 20000 ? 1.3 : npoints > 2000 ? 2.0 : npoints > 300 ? 3.0 : 4.0;
    double alpha = npoints > 2000 ? 0.55 : 0.9;
    double clip = p->ymax_clip > 0 ? p->ymax_clip : INFINITY;
    /* a marker per pixel and series: 100,000 points draw (and weigh, in
     * SVG) as much as the pixels they cover, not more */
    size_t cells = (size_t)(f->w + 1) * (size_t)(f->h + 1);
    unsigned char *seen = ar_xmalloc(cells);
    for (int s = 0; s < p->nseries; s++) {
        const struct ar_plot_series *se = &p->series[s];
        if (se->style != AR_PLOT_POINTS)
            continue;
        memset(seen, 0, cells);
        set_rgb(cr, se->rgb, alpha);
        for (size_t i = 0; i < se->n; i++) {
            double x = map_x(f, se->x[i]), y = se->y[i] > clip ? f->y0 : map_y(f, se->y[i]);
            long px = lround(x), py = lround(y);
            if (px >= 0 && py >= 0 && px <= (long)f->w && py <= (long)f->h) {
                size_t cell = (size_t)py * (size_t)(f->w + 1) + (size_t)px;
                if (seen[cell])
                    continue;
                seen[cell] = 1;
            }
            if (se->y[i] > clip) {
                triangle(cr, x, f->y0 + r + 3, r + 1.5);
                continue;
            }
            if (r < 2) {   /* a dot this small is a square anyway, and 5x smaller in SVG */
                cairo_rectangle(cr, x - r, y - r, 2 * r, 2 * r);
            } else {
                cairo_new_sub_path(cr);
                cairo_arc(cr, x, y, r, 0, 2 * M_PI);
            }
        }
        cairo_fill(cr);
    }
    free(seen);
    for (int s = 0; s < p->nseries; s++) {
        const struct ar_plot_series *se = &p->series[s];
        if (se->style == AR_PLOT_TICKS) {
            set_rgb(cr, se->rgb, 0.9);
            double y = f->y0 + f->fs * 0.8, k = se->n > 300 ? 2.5 : 3.5;
            long last = -1;
            for (size_t i = 0; i < se->n; i++) {
                double x = map_x(f, se->x[i]);
                if (lround(x) == last)   /* one cross per pixel column */
                    continue;
                last = lround(x);
                cairo_move_to(cr, x - k, y - k);
                cairo_line_to(cr, x + k, y + k);
                cairo_move_to(cr, x - k, y + k);
                cairo_line_to(cr, x + k, y - k);
            }
            cairo_set_line_width(cr, se->n > 300 ? 0.8 : 1.4);
            cairo_stroke(cr);
        } else if (se->style == AR_PLOT_STEPS && se->n > 0) {
            set_rgb(cr, se->rgb, 1);
            cairo_move_to(cr, map_x(f, se->x[0]), map_y(f, fmin(se->y[0], clip)));
            for (size_t i = 1; i < se->n; i++) {
                double x = map_x(f, se->x[i]);
                cairo_line_to(cr, x, map_y(f, fmin(se->y[i - 1], clip)));
                cairo_line_to(cr, x, map_y(f, fmin(se->y[i], clip)));
            }
            cairo_set_line_width(cr, 2.2);
            cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
            cairo_stroke(cr);
        }
    }
    cairo_restore(cr);

    /* legend */
    font(cr, f->fs, 0, 0);
    double lx = f->x0 + f->pw + f->fs * 1.2, ly = f->y0 + f->fs * 0.8;
    for (int i = 0; i < nrows; i++, ly += f->fs * 1.6) {
        set_rgb(cr, rows[i].rgb, 1);
        if (rows[i].triangle) {
            triangle(cr, lx + f->fs * 0.6, ly, 5);
            cairo_fill(cr);
        } else {
            draw_marker(cr, rows[i].style, lx + f->fs * 0.6, ly, 4);
        }
        set_rgb(cr, 0x222222, 1);
        char s[256];
        fit_text(cr, rows[i].label, legend_w - f->fs * 2.4, s, sizeof s);
        text_at(cr, lx + f->fs * 1.8, ly, s, 0);
    }
    draw_note(f, p->note);
}

/* ------------------------------------------------------------ bars */

static void draw_bars(struct frame *f, const struct ar_plot *p)
{
    cairo_t *cr = f->cr;
    font(cr, f->fs, 0, 0);
    double label_w = 0, annot_w = 0, legend_w = 0;
    for (int i = 0; i < p->nbars; i++) {
        label_w = fmax(label_w, text_width(cr, p->bars[i].label ? p->bars[i].label : ""));
        if (p->bars[i].annot)
            annot_w = fmax(annot_w, text_width(cr, p->bars[i].annot));
    }
    int any_mark = 0;
    for (int i = 0; i < p->nbars; i++)
        any_mark |= p->bars[i].marked;
    for (int i = 0; i < p->nlegend; i++)
        legend_w = fmax(legend_w, text_width(cr, p->legend[i].label));
    if (any_mark && p->mark_label)
        legend_w = fmax(legend_w, text_width(cr, p->mark_label));
    int has_ref = isfinite(p->xref) && p->xref_label;
    if (has_ref)
        legend_w = fmax(legend_w, text_width(cr, p->xref_label));
    legend_w = legend_w > 0 ? fmin(legend_w + f->fs * 3, f->w * 0.28) : f->fs;
    label_w = fmin(label_w, f->w * 0.32) + f->fs;
    annot_w += f->fs * (any_mark ? 2.8 : 1.2);

    double mt = f->fs * (p->subtitle ? 4.6 : 3.4);
    double mb = f->fs * (p->xlabel ? 4.4 : 2.8);
    f->x0 = label_w;
    f->y0 = mt;
    f->pw = f->w - label_w - annot_w - legend_w - f->fs;
    f->ph = f->h - mt - mb;
    struct ar_plot_ticks xt;
    ar_plot_ticks_num(p->xmin, p->xmax, 6, 1, &xt);
    f->xlo = xt.lo;
    f->xhi = xt.hi;

    draw_header(f, p);
    cairo_set_line_width(cr, 1);
    for (int i = 0; i < xt.n; i++) {
        double x = round(map_x(f, xt.at[i])) + 0.5;
        set_rgb(cr, GRID_RGB, 1);
        cairo_move_to(cr, x, f->y0);
        cairo_line_to(cr, x, f->y0 + f->ph);
        cairo_stroke(cr);
        set_rgb(cr, AXIS_RGB, 1);
        text_at(cr, x, f->y0 + f->ph + f->fs * 1.1, xt.label[i], 0.5);
    }
    if (isfinite(p->xref)) {
        double x = round(map_x(f, p->xref)) + 0.5;
        double dash[] = {4, 3};
        set_rgb(cr, MUTED_RGB, 1);
        cairo_set_dash(cr, dash, 2, 0);
        cairo_move_to(cr, x, f->y0);
        cairo_line_to(cr, x, f->y0 + f->ph);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    }
    set_rgb(cr, AXIS_RGB, 1);
    cairo_move_to(cr, f->x0 + 0.5, f->y0);
    cairo_line_to(cr, f->x0 + 0.5, f->y0 + f->ph + 0.5);
    cairo_line_to(cr, f->x0 + f->pw, f->y0 + f->ph + 0.5);
    cairo_stroke(cr);
    if (p->xlabel)
        text_at(cr, f->x0 + f->pw / 2, f->y0 + f->ph + f->fs * 2.9, p->xlabel, 0.5);

    if (p->nbars > 0) {
        double row = f->ph / p->nbars;
        double fs = fmin(f->fs, row * 0.8);
        font(cr, fs, 0, 0);
        for (int i = 0; i < p->nbars; i++) {
            const struct ar_plot_bar *b = &p->bars[i];
            double yc = f->y0 + row * (i + 0.5);
            double v = fmin(fmax(b->value, f->xlo), f->xhi);
            set_rgb(cr, b->rgb, 0.85);
            double thick = fmin(row * 0.68, f->fs * 1.8);
            cairo_rectangle(cr, f->x0 + 1, yc - thick / 2, map_x(f, v) - f->x0 - 1, thick);
            cairo_fill(cr);
            char s[256];
            set_rgb(cr, 0x222222, 1);
            fit_text(cr, b->label ? b->label : "", label_w - f->fs, s, sizeof s);
            text_at(cr, f->x0 - fs * 0.5, yc, s, 1);
            double ax = f->x0 + f->pw + f->fs * 0.6;
            if (b->marked) {
                set_rgb(cr, MARK_RGB, 1);
                diamond(cr, ax + fs * 0.5, yc, fmin(fs * 0.5, 6));
                cairo_fill(cr);
            }
            if (b->annot) {
                set_rgb(cr, 0x222222, 1);
                text_at(cr, ax + (any_mark ? f->fs * 1.5 : 0), yc, b->annot, 0);
            }
        }
    }

    font(cr, f->fs, 0, 0);
    double lx = f->w - legend_w, ly = f->y0 + f->fs * 0.8;
    for (int i = 0; i < p->nlegend; i++, ly += f->fs * 1.6) {
        set_rgb(cr, p->legend[i].rgb, 0.85);
        cairo_rectangle(cr, lx, ly - f->fs * 0.4, f->fs * 1.2, f->fs * 0.8);
        cairo_fill(cr);
        set_rgb(cr, 0x222222, 1);
        text_at(cr, lx + f->fs * 1.8, ly, p->legend[i].label, 0);
    }
    if (any_mark && p->mark_label) {
        set_rgb(cr, MARK_RGB, 1);
        diamond(cr, lx + f->fs * 0.6, ly, 6);
        cairo_fill(cr);
        set_rgb(cr, 0x222222, 1);
        text_at(cr, lx + f->fs * 1.8, ly, p->mark_label, 0);
        ly += f->fs * 1.6;
    }
    if (has_ref) {
        double dash[] = {4, 3};
        set_rgb(cr, MUTED_RGB, 1);
        cairo_set_dash(cr, dash, 2, 0);
        cairo_move_to(cr, lx, ly);
        cairo_line_to(cr, lx + f->fs * 1.2, ly);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        set_rgb(cr, 0x222222, 1);
        text_at(cr, lx + f->fs * 1.8, ly, p->xref_label, 0);
    }
    draw_note(f, p->note);
}

/* ------------------------------------------------------------ output */

static cairo_status_t to_buf(void *closure, const unsigned char *data, unsigned int len)
{
    ar_buf_add(closure, data, len);
    return CAIRO_STATUS_SUCCESS;
}

int ar_plot_draw(const struct ar_plot *plot, int svg, int width, int height, struct ar_buf *out)
{
    cairo_surface_t *surface =
        svg ? cairo_svg_surface_create_for_stream(to_buf, out, width, height)
            : cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    cairo_status_t created = cairo_surface_status(surface);
    if (created != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surface);
        return ar_fail(AR_EFAIL, "cairo: %s", cairo_status_to_string(created));
    }
    cairo_t *cr = cairo_create(surface);
    struct frame f = {.cr = cr, .w = width, .h = height};
    f.fs = fmin(fmax(fmin(width, height * 1.6) / 80.0, 9), 18);
    set_rgb(cr, 0xffffff, 1);
    cairo_paint(cr);
    if (plot->kind == AR_PLOT_BARS)
        draw_bars(&f, plot);
    else
        draw_xy(&f, plot);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    if (st == CAIRO_STATUS_SUCCESS) {
        if (svg)
            cairo_surface_finish(surface);
        else
            st = cairo_surface_write_to_png_stream(surface, to_buf, out);
    }
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    if (st != CAIRO_STATUS_SUCCESS)
        return ar_fail(AR_EFAIL, "cairo: %s", cairo_status_to_string(st));
    return 0;
}

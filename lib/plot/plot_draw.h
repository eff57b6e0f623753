/* Internal to the plot module: the cairo renderer behind ar_plot_write. */
#ifndef AR_PLOT_DRAW_H
#define AR_PLOT_DRAW_H

#include "plot/plot.h"

struct ar_buf;

/* Draws plot as SVG (svg != 0) or PNG into out. */
int ar_plot_draw(const struct ar_plot *plot, int svg, int width, int height, struct ar_buf *out);

#endif

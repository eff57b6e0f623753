/* ar-plot: charts of the knowledge base for people (PNG, SVG) and agents
 * (--term). A thin front end over lib/plot/charts.h and lib/plot/plot.h. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "plot/charts.h"
#include "base/cli.h"
#include "base/err.h"
#include "analysis/findings.h"
#include "facts/kb.h"
#include "host/platform.h"
#include "base/opt.h"
#include "plot/plot.h"
#include "analysis/scope.h"
#include "analysis/stats.h"

/* options every chart takes */
struct common {
    const char *kb_dir, *output;
    int term;
    long width, height;
    struct ar_filter filter;
};

#define COMMON_OPTS(c)                                                                        \
    AR_OPT_STR_SHORT('o', "output", &(c).output, "FILE", "write FILE.png or FILE.svg"),       \
    AR_OPT_BOOL("term", &(c).term, "print a text chart on stdout instead"),                   \
    AR_OPT_INT("width", &(c).width, "N", "pixels (default 1200), or columns with --term (80)"), \
    AR_OPT_INT("height", &(c).height, "N", "pixels (default 700), or lines with --term (24)"), \
    AR_OPT_STR("session", &(c).filter.session, "TAG", "only this session's cards"),          \
    AR_OPT_STR("platform", &(c).filter.platform, "CLASS", "only this platform class"),       \
    AR_OPT_STR("since", &(c).filter.since, "TIME", "only cards created at or after TIME"),    \
    AR_OPT_STR("kb", &(c).kb_dir, "DIR", "knowledge base (default $AR_KB or ./knowledge)")

static void check_common(const struct ar_opt *opts, struct common *c)
{
    int w = ar_opt_given(opts, &c->width), h = ar_opt_given(opts, &c->height);
    static char cls[80];   /* --platform H100 is class h100 */
    if (c->filter.platform && ar_platform_class_arg(c->filter.platform, "--platform", cls, sizeof cls) != 0)
        ar_die_last();
    if (c->filter.platform)
        c->filter.platform = cls;
    if (c->term && c->output)
        ar_die(AR_EINPUT, "options '--term' and '--output' exclude each other");
    if (c->output && !ar_plot_format_ok(c->output))
        ar_die(AR_EINPUT, "option '--output': '%s' must end in .png or .svg", c->output);
    if (c->term) {
        if (!w)
            c->width = 80;
        if (!h)
            c->height = 24;
        if (c->width < 40 || c->width > 400 || c->height < 10 || c->height > 200)
            ar_die(AR_EINPUT, "text chart size %ldx%ld: out of range (40x10 to 400x200)",
                   c->width, c->height);
    } else {
        if (!w)
            c->width = 1200;
        if (!h)
            c->height = 700;
        if (c->width < 200 || c->width > 10000 || c->height < 150 || c->height > 10000)
            ar_die(AR_EINPUT, "image size %ldx%ld: out of range (200x150 to 10000x10000)",
                   c->width, c->height);
    }
}

static struct ar_kbstats *load(const struct common *c, struct ar_kb *kb, char *scope, size_t size)
{
    struct ar_kbstats *st;
    if (ar_kb_open(kb, c->kb_dir, 0) != 0 || ar_scope_load(kb, &c->filter, &st) != 0)
        ar_die_last();
    ar_scope_describe(&c->filter, scope, size);
    return st;
}

/* --term: stdout; -o FILE: that file; else plots/NAME.png and .svg in the
 * knowledge base (paths printed only when stdout is a terminal) */
static int emit(const struct common *c, const struct ar_kb *kb, const struct ar_plot *plot,
                const char *name)
{
    if (c->term) {
        struct ar_buf b = {0};
        ar_plot_text(plot, (int)c->width, (int)c->height, &b);
        fputs(b.data, stdout);
        ar_buf_free(&b);
        return AR_OK;
    }
    if (c->output) {
        if (ar_plot_write(plot, c->output, (int)c->width, (int)c->height) != 0)
            ar_die_last();
        return AR_OK;
    }
    char dir[PATH_MAX], path[PATH_MAX + 16];
    if (ar_mkdir(ar_kb_path(kb, "plots", dir)) != 0)
        ar_die_last();
    for (int svg = 0; svg <= 1; svg++) {
        snprintf(path, sizeof path, "%s/%s.%s", dir, name, svg ? "svg" : "png");
        if (ar_plot_write(plot, path, (int)c->width, (int)c->height) != 0)
            ar_die_last();
        if (isatty(STDOUT_FILENO))
            printf("%s\n", path);
    }
    return AR_OK;
}

/* ------------------------------------------------------------ progress */

static const char usage_progress[] =
    "usage: ar-plot progress [-o FILE.png|FILE.svg | --term] [--x index|time|hours]\n"
    "                        [--by key|session] [--session TAG] [--platform CLASS] [--since TIME]\n"
    "\n"
    "val_bpb of every experiment, coloured by status, with the running best\n"
    "(lowest val_bpb so far) of each comparability key or session. Crashes are\n"
    "crosses along the top; retracted cards are left out. Without -o or --term\n"
    "writes plots/progress.png and plots/progress.svg in the knowledge base.\n";

static int cmd_progress(int argc, char **argv)
{
    struct common c = {0};
    const char *xname = "index", *byname = "key";
    struct ar_opt opts[] = {
        AR_OPT_STR("x", &xname, "AXIS", "index (default), time, or hours of training"),
        AR_OPT_STR("by", &byname, "GROUP", "running best per key (default) or session"),
        COMMON_OPTS(c),
        AR_OPT_END,
    };
    ar_opt_parse_none(opts, argc, argv, usage_progress, "progress");
    check_common(opts, &c);
    enum ar_progress_x x;
    if (strcmp(xname, "index") == 0)
        x = AR_X_INDEX;
    else if (strcmp(xname, "time") == 0)
        x = AR_X_TIME;
    else if (strcmp(xname, "hours") == 0)
        x = AR_X_HOURS;
    else
        ar_die(AR_EINPUT, "option '--x': '%s' is not index, time or hours", xname);
    enum ar_progress_by by;
    if (strcmp(byname, "key") == 0)
        by = AR_BY_KEY;
    else if (strcmp(byname, "session") == 0)
        by = AR_BY_SESSION;
    else
        ar_die(AR_EINPUT, "option '--by': '%s' is not key or session", byname);

    struct ar_kb kb;
    char scope[512];
    struct ar_kbstats *st = load(&c, &kb, scope, sizeof scope);
    struct ar_chart chart;
    ar_chart_progress(st, x, by, scope, &chart);
    int rc = emit(&c, &kb, &chart.plot, "progress");
    ar_chart_free(&chart);
    ar_kbstats_free(st);
    return rc;
}

/* ------------------------------------------------------------ findings */

static const char usage_findings[] =
    "usage: ar-plot findings [-o FILE.png|FILE.svg | --term] [--top N]\n"
    "                        [--session TAG] [--platform CLASS] [--since TIME]\n"
    "\n"
    "The certainty landscape: the best-studied claims (most scored evidence)\n"
    "sorted by certainty, coloured by scope (universal, platform-specific,\n"
    "single-platform, open), with their confirm/refute/null counts; claims\n"
    "contradicted across platform classes are marked. Without -o or --term\n"
    "writes plots/findings.png and plots/findings.svg in the knowledge base.\n";

static int cmd_findings(int argc, char **argv)
{
    struct common c = {0};
    long top = 25;
    struct ar_opt opts[] = {
        AR_OPT_INT("top", &top, "N", "claims shown (default 25)"),
        COMMON_OPTS(c),
        AR_OPT_END,
    };
    ar_opt_parse_none(opts, argc, argv, usage_findings, "findings");
    check_common(opts, &c);
    if (top < 1 || top > 500)
        ar_die(AR_EINPUT, "option '--top': %ld is out of range (1 to 500)", top);

    struct ar_kb kb;
    char scope[512];
    struct ar_kbstats *st = load(&c, &kb, scope, sizeof scope);
    struct ar_findings *f = ar_findings_build(st);
    struct ar_chart chart;
    ar_chart_findings(f, (int)top, scope, &chart);
    int rc = emit(&c, &kb, &chart.plot, "findings");
    ar_chart_free(&chart);
    ar_findings_free(f);
    ar_kbstats_free(st);
    return rc;
}

/* ------------------------------------------------------------ main */

static const struct ar_cmd commands[] = {
    {"progress", cmd_progress, "val_bpb per experiment with the running best"},
    {"findings", cmd_findings, "claims by certainty, contradictions marked"},
    {NULL, NULL, NULL},
};

static const char overview[] =
    "usage: ar-plot COMMAND [OPTIONS]\n"
    "\n"
    "Charts of the knowledge base (--kb DIR, $AR_KB, ./knowledge): PNG or SVG\n"
    "through cairo (-o FILE.png|FILE.svg; default plots/ in the knowledge base),\n"
    "or --term for a text chart that fits an 80-column terminal.\n";

int main(int argc, char **argv)
{
    ar_set_prog(argv[0]);
    return ar_cli_dispatch(commands, argc, argv, overview);
}

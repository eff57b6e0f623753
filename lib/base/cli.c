#include "base/cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/opt.h"

static void overview_help(const struct ar_cmd *cmds, const char *overview, FILE *f)
{
    fputs(overview, f);
    fputs("\nCommands:\n", f);
    for (const struct ar_cmd *c = cmds; c->name; c++)
        fprintf(f, "  %-10s %s\n", c->name, c->summary);
    fprintf(f, "\nRun '%s COMMAND --help' for a command's options.\n", ar_prog());
}

/* What both dispatchers do when argv[1] names no command. */
static int no_command(const struct ar_cmd *cmds, int argc, char **argv, const char *overview)
{
    if (argc < 2) {
        overview_help(cmds, overview, stderr);
        return AR_EINPUT;
    }
    const char *arg = argv[1];
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h") || !strcmp(arg, "help")) {
        overview_help(cmds, overview, stdout);
        return ar_finish_stdout(AR_OK);
    }
    ar_die(AR_EINPUT, "unknown command '%s' (see %s --help)", arg, ar_prog());
}

int ar_cli_dispatch(const struct ar_cmd *cmds, int argc, char **argv, const char *overview)
{
    for (const struct ar_cmd *c = cmds; argc >= 2 && c->name; c++)
        if (strcmp(c->name, argv[1]) == 0)
            return ar_finish_stdout(c->fn(argc - 1, argv + 1));
    return no_command(cmds, argc, argv, overview);
}

int ar_cli_run(const struct ar_subcmd *const *cmds, int argc, char **argv, const char *overview)
{
    size_t n = 0;
    while (cmds[n])
        n++;
    for (size_t i = 0; argc >= 2 && i < n; i++) {
        const struct ar_subcmd *c = cmds[i];
        if (strcmp(c->name, argv[1]) != 0)
            continue;
        if (c->fn)
            return ar_finish_stdout(c->fn(argc - 1, argv + 1));
        int npos = ar_opt_parse_n(c->opts, argc - 1, argv + 1, c->usage, c->name, c->min, c->max);
        return ar_finish_stdout(c->run(npos, argv + 1));
    }
    /* the overview lists them as ar_cli_dispatch does */
    struct ar_cmd *list = calloc(n + 1, sizeof *list);
    if (!list)
        ar_die(AR_EFAIL, "out of memory");
    for (size_t i = 0; i < n; i++)
        list[i] = (struct ar_cmd){cmds[i]->name, cmds[i]->fn, cmds[i]->summary};
    int rc = no_command(list, argc, argv, overview);
    free(list);
    return rc;
}

jv ar_split_commas(const char *s)
{
    jv out = jv_array();
    while (s && *s) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        while (n && (*s == ' ')) { s++; n--; }
        size_t m = n;
        while (m && s[m - 1] == ' ')
            m--;
        if (m)
            out = jv_array_append(out, jv_string_sized(s, (int)m));
        s = comma ? comma + 1 : s + n;
    }
    return out;
}

double ar_parse_num(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        ar_die(AR_EINPUT, "option '%s': '%s' is not a finite number", opt, s);
    return v;
}

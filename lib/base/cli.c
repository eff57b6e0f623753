#include "base/cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

static void overview_help(const struct ar_cmd *cmds, const char *overview, FILE *f)
{
    fputs(overview, f);
    fputs("\nCommands:\n", f);
    for (const struct ar_cmd *c = cmds; c->name; c++)
        fprintf(f, "  %-10s %s\n", c->name, c->summary);
    fprintf(f, "\nRun '%s COMMAND --help' for a command's options.\n", ar_prog());
}

int ar_cli_dispatch(const struct ar_cmd *cmds, int argc, char **argv, const char *overview)
{
    if (argc < 2) {
        overview_help(cmds, overview, stderr);
        return AR_EINPUT;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        overview_help(cmds, overview, stdout);
        return ar_finish_stdout(AR_OK);
    }
    for (const struct ar_cmd *c = cmds; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return ar_finish_stdout(c->fn(argc - 1, argv + 1));
    ar_die(AR_EINPUT, "unknown command '%s' (see %s --help)", name, ar_prog());
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

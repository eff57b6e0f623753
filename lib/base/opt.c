#include "base/opt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"

#define MAX_GIVEN 128
static const void *given[MAX_GIVEN];
static int ngiven;

int ar_opt_given(const struct ar_opt *opts, const void *target)
{
    (void)opts;
    for (int i = 0; i < ngiven; i++)
        if (given[i] == target)
            return 1;
    return 0;
}

void ar_opt_help(const struct ar_opt *opts, const char *usage, int to_stderr)
{
    FILE *f = to_stderr ? stderr : stdout;
    fputs(usage, f);
    if (opts[0].type == AR_OPT_T_END)
        return;
    fputs("\nOptions:\n", f);
    for (const struct ar_opt *o = opts; o->type != AR_OPT_T_END; o++) {
        char left[96];
        char letter[8] = "";
        if (o->letter)
            snprintf(letter, sizeof letter, "-%c, ", o->letter);
        snprintf(left, sizeof left, "%s--%s%s%s", letter, o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
        fprintf(f, "  %-26s %s%s\n", left, o->help,
                o->type == AR_OPT_T_LIST ? " (repeatable)" : "");
    }
    fprintf(f, "  %-26s %s\n", "-h, --help", "show this help");
}

static int set_value(const struct ar_opt *o, const char *val)
{
    char *end;
    if (!ar_utf8_valid(val, strlen(val)))
        ar_die(AR_EINPUT, "option '--%s': invalid UTF-8", o->name);
    switch (o->type) {
    case AR_OPT_T_STR:
        *(const char **)o->target = val;
        break;
    case AR_OPT_T_INT: {
        errno = 0;
        long v = strtol(val, &end, 10);
        if (errno || end == val || *end)
            ar_die(AR_EINPUT, "option '--%s': '%s' is not an integer", o->name, val);
        *(long *)o->target = v;
        break;
    }
    case AR_OPT_T_NUM: {
        errno = 0;
        double v = strtod(val, &end);
        if (errno || end == val || *end || !isfinite(v))
            ar_die(AR_EINPUT, "option '--%s': '%s' is not a finite number", o->name, val);
        *(double *)o->target = v;
        break;
    }
    case AR_OPT_T_LIST: {
        struct ar_strlist *l = o->target;
        l->v = ar_xrealloc(l->v, (size_t)(l->n + 1) * sizeof *l->v);
        l->v[l->n++] = val;
        break;
    }
    default:
        break;
    }
    if (ngiven < MAX_GIVEN)
        given[ngiven++] = o->target;
    return 0;
}

int ar_opt_parse(const struct ar_opt *opts, int argc, char **argv, const char *usage)
{
    int npos = 0;
    char **pos = ar_xmalloc((size_t)(argc + 1) * sizeof *pos);
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (++i < argc)
                pos[npos++] = argv[i];
            break;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            ar_opt_help(opts, usage, 0);
            exit(ar_finish_stdout(AR_OK));
        }
        if (a[0] != '-' || a[1] == '\0') {
            pos[npos++] = a;
            continue;
        }
        const struct ar_opt *o = opts;
        const char *eq = NULL;
        if (a[1] != '-') {
            while (o->type != AR_OPT_T_END && !(o->letter && o->letter == a[1] && a[2] == '\0'))
                o++;
            if (o->type == AR_OPT_T_END)
                ar_die(AR_EINPUT, "unknown option '%s' (see --help)", a);
        } else {
            const char *name = a + 2;
            eq = strchr(name, '=');
            size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
            while (o->type != AR_OPT_T_END &&
                   !(strlen(o->name) == nlen && strncmp(o->name, name, nlen) == 0))
                o++;
            if (o->type == AR_OPT_T_END)
                ar_die(AR_EINPUT, "unknown option '--%.*s' (see --help)", (int)nlen, name);
        }
        if (o->type == AR_OPT_T_BOOL) {
            if (eq)
                ar_die(AR_EINPUT, "option '--%s' takes no value", o->name);
            *(int *)o->target = 1;
            if (ngiven < MAX_GIVEN)
                given[ngiven++] = o->target;
            continue;
        }
        const char *val = eq ? eq + 1 : NULL;
        if (!val) {
            if (i + 1 >= argc)
                ar_die(AR_EINPUT, "option '--%s' needs a value %s", o->name, o->arg ? o->arg : "");
            val = argv[++i];
        }
        set_value(o, val);
    }
    for (int i = 0; i < npos; i++)
        argv[i] = pos[i];
    argv[npos] = NULL;
    free(pos);
    return npos;
}

void ar_strlist_free(struct ar_strlist *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

int ar_opt_parse_n(const struct ar_opt *opts, int argc, char **argv, const char *usage,
                   const char *what, int min, int max)
{
    int first = ngiven;
    int n = ar_opt_parse(opts, argc, argv, usage);
    if (max == 0 && n > 0)
        ar_die(AR_EINPUT, "%s%sunexpected argument '%s' (see --help)", what ? what : "",
               what ? ": " : "", argv[0]);
    int bad = n < min || (max != AR_OPT_ANY && n > max);
    for (const struct ar_opt *o = opts; !bad && o->type != AR_OPT_T_END; o++) {
        if (!o->required)
            continue;
        int seen = 0;
        for (int i = first; i < ngiven && !seen; i++)
            seen = given[i] == o->target;
        if (seen)
            continue;
        if (argc <= 1)
            bad = 1;
        else
            ar_die(AR_EINPUT, "%s%s--%s is required", what ? what : "", what ? ": " : "", o->name);
    }
    if (bad) {
        ar_opt_help(opts, usage, 1);
        exit(ar_finish_stdout(AR_EINPUT));
    }
    return n;
}

void ar_opt_parse_none(const struct ar_opt *opts, int argc, char **argv, const char *usage, const char *what)
{
    ar_opt_parse_n(opts, argc, argv, usage, what, 0, 0);
}

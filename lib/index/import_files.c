#define _GNU_SOURCE   /* strcasestr */
/* What `ar-card import` checks before it stores anything, and which
 * importer a path goes to (lib/index/import.h). */
#include "index/import.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/err.h"
#include "facts/card.h"
#include "facts/schema.h"

/* A string option against a schema check (category, session). */
static int check_field(const char *value, int (*check)(jv v))
{
    if (!value)
        return 0;
    jv v = jv_string(value);
    int rc = check(v);
    jv_free(v);
    return rc;
}

static int check_category(jv v) { return ar_check_enum(v, "category", ar_card_categories); }
static int check_session(jv v) { return ar_check_text(v, "session", 1, 128, 0); }

static int check_agent(jv v) { return ar_check_text(v, "agent", 1, 128, 0); }
static int check_data(jv v) { return ar_check_text(v, "data", 1, 128, 0); }

int ar_import_check(const struct ar_import_opts *o, char **paths, int n)
{
    char cls[65];
    if (o->format && strcmp(o->format, "tsv") && strcmp(o->format, "commons"))
        return ar_fail(AR_EINPUT, "option '--format': unknown value '%s' (one of: tsv, commons)", o->format);
    if (check_field(o->category, check_category) != 0 || check_field(o->session, check_session) != 0 ||
        check_field(o->agent, check_agent) != 0 || check_field(o->data, check_data) != 0)
        return -1;
    if (o->platform && ar_import_platform(o->platform, cls) != 0)
        return -1;
    if (o->budget_s < 0 || o->budget_s > 1e9)
        return ar_fail(AR_EINPUT, "option '--budget': %g is not a number of seconds", o->budget_s);
    if (o->repo && !ar_is_dir(o->repo))
        return ar_fail(AR_EINPUT, "option '--repo': %s: not a directory", o->repo);
    for (int i = 0; i < n; i++)
        if (access(paths[i], R_OK) != 0)
            return ar_fail(AR_EINPUT, "%s: cannot read: %s", paths[i], strerror(errno));
    return 0;
}

/* *.tsv, or a first line with a tab and a val_bpb column */
static int is_tsv(const char *path)
{
    size_t n = strlen(path);
    if (n > 4 && strcasecmp(path + n - 4, ".tsv") == 0)
        return 1;
    FILE *f = fopen(path, "r");
    char head[4096] = "";
    if (f) {
        if (!fgets(head, sizeof head, f))
            head[0] = '\0';
        fclose(f);
    }
    return strchr(head, '\t') && (strcasestr(head, "val_bpb") || strncasecmp(head, "commit\t", 7) == 0);
}

int ar_import_path(const struct ar_kb *kb, const char *path, const struct ar_import_opts *o,
                   struct ar_import_stats *st)
{
    int tsv = o->format ? strcmp(o->format, "tsv") == 0 : !ar_is_dir(path) && is_tsv(path);
    return tsv ? ar_import_tsv(kb, path, o, st) : ar_import_commons(kb, path, o, st);
}

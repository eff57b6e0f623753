/* What `ar-card import` checks before it stores anything, and which
 * importer a path goes to (lib/index/import.h). */
#include "index/import.h"

#include <errno.h>
#include <string.h>
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

int ar_import_check(const struct ar_import_opts *o, char **paths, int n)
{
    if (o->format && strcmp(o->format, "tsv") && strcmp(o->format, "commons"))
        return ar_fail(AR_EINPUT, "option '--format': unknown value '%s' (one of: tsv, commons)", o->format);
    if (check_field(o->category, check_category) != 0 || check_field(o->session, check_session) != 0)
        return -1;
    for (int i = 0; i < n; i++)
        if (access(paths[i], R_OK) != 0)
            return ar_fail(AR_EINPUT, "%s: cannot read: %s", paths[i], strerror(errno));
    return 0;
}

static int is_tsv(const char *path)
{
    size_t n = strlen(path);
    if (n > 4 && strcmp(path + n - 4, ".tsv") == 0)
        return 1;
    FILE *f = fopen(path, "r");
    char head[8] = "";
    if (f) {
        size_t got = fread(head, 1, 7, f);
        head[got] = '\0';
        fclose(f);
    }
    return strcmp(head, "commit\t") == 0;
}

int ar_import_path(const struct ar_kb *kb, const char *path, const struct ar_import_opts *o,
                   struct ar_import_stats *st)
{
    int tsv = o->format ? strcmp(o->format, "tsv") == 0 : !ar_is_dir(path) && is_tsv(path);
    return tsv ? ar_import_tsv(kb, path, o, st) : ar_import_commons(kb, path, o, st);
}

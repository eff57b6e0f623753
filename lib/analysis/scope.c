#include "analysis/scope.h"

#include <stdio.h>
#include <string.h>

#include "base/err.h"

static int known(const struct ar_kbstats *all, const char *session, const char *platform)
{
    for (size_t i = 0; i < all->n; i++)
        if ((session && strcmp(all->cards[i].session, session) == 0) ||
            (platform && strcmp(all->cards[i].platform, platform) == 0))
            return 1;
    return 0;
}

int ar_scope_load(const struct ar_kb *kb, const struct ar_filter *f, struct ar_kbstats **st)
{
    if (ar_filter_check(f) != 0)
        return -1;
    if (ar_kbstats_load(kb, f, st) != 0)
        return -1;
    if ((*st)->n > 0 || (!f->session && !f->platform))
        return 0;
    /* nothing matched: say so when a session or class is unknown (rare, so
     * loading everything again here costs nothing in the common case) */
    struct ar_kbstats *all;
    if (ar_kbstats_load(kb, NULL, &all) != 0)
        return -1;
    int rc = 0;
    if (f->session && !known(all, f->session, NULL))
        rc = ar_fail(AR_EINPUT, "session '%s': no card in %s has it", f->session, kb->root);
    else if (f->platform && !known(all, NULL, f->platform))
        rc = ar_fail(AR_EINPUT, "platform class '%s': no card in %s has it", f->platform, kb->root);
    ar_kbstats_free(all);
    if (rc) {
        ar_kbstats_free(*st);
        *st = NULL;
    }
    return rc;
}

void ar_scope_describe(const struct ar_filter *f, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
#define PART(name, v)                                                                  \
    if (v && n < size)                                                                 \
        n += (size_t)snprintf(out + n, size - n, "%s" name " %s", n ? ", " : "", v);
    PART("session", f->session);
    PART("platform", f->platform);
    PART("since", f->since);
#undef PART
}

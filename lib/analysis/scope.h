/* The part of the knowledge base a brief or chart looks at: the statistics
 * of the cards that pass --session, --platform and --since, with a session
 * or platform class that no card has reported as an error rather than an
 * empty answer. */
#ifndef AR_SCOPE_H
#define AR_SCOPE_H

#include <stddef.h>

#include "facts/kb.h"
#include "index/query.h"
#include "analysis/stats.h"

/* Loads the statistics of the cards passing f. A malformed --since, or a
 * session or class absent from the whole knowledge base, is AR_EINPUT
 * naming it. */
int ar_scope_load(const struct ar_kb *kb, const struct ar_filter *f, struct ar_kbstats **st);

/* "session S, platform P, since T" for the filters that are set; "" when
 * none. */
void ar_scope_describe(const struct ar_filter *f, char *out, size_t size);

#endif

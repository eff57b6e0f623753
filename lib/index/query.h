/* Reading cards back: a card's view by id, filtered listings, and jq
 * programs (libjq) over every view. All of them read the index. */
#ifndef AR_QUERY_H
#define AR_QUERY_H

#include <jv.h>
#include <stdio.h>

#include "facts/kb.h"

struct ar_filter {
    const char *status, *category, *tag, *session, *platform, *since;
};

/* Checks the filter's values (known status and category, time form). */
int ar_filter_check(const struct ar_filter *f);
/* 1 when the view passes every set filter. */
int ar_filter_match(const struct ar_filter *f, jv view);

/* The view of card id from the index. */
int ar_query_view(const struct ar_kb *kb, const char *id, jv *view);
/* Prints the views of the n cards of ids in turn (lib/index/query_show.c),
 * pretty JSON, or with json one compact line each; stops at the first that
 * is not there. */
int ar_query_show(const struct ar_kb *kb, char **ids, int n, int json, FILE *out);
/* Prints the matching views as a table, or as JSON lines. */
int ar_query_list(const struct ar_kb *kb, const struct ar_filter *f, int json, FILE *out);
/* Runs the jq program over every view, printing each result as a line. A
 * program that does not compile is AR_EINPUT naming the error. Stops,
 * returning 0, once out has an error (a closed pipe, a bounded stream
 * that is full: ar-mcp's cards_query). */
int ar_query_jq(const struct ar_kb *kb, const char *program, FILE *out);

#endif

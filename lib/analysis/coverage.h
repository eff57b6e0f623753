/* Coverage: what has been tried, per card category and per config key, and
 * where more experiments would tell the most.
 *
 * A row counts experiments (cards not retracted; crashes included), kept
 * cards (status keep), crashes, distinct values tried (keys only) and the
 * best delta (the lowest delta of a counted card). Its state:
 *   under-explored  fewer than AR_COV_UNDER experiments
 *   saturated       at least AR_COV_SATURATED experiments, and the last
 *                   AR_COV_STALE of them (id order) neither were kept nor
 *                   lowered the best delta
 *   active          otherwise */
#ifndef AR_COVERAGE_H
#define AR_COVERAGE_H

#include <jv.h>
#include <stdio.h>

#include "analysis/stats.h"

#define AR_COV_UNDER 3
#define AR_COV_SATURATED 10
#define AR_COV_STALE 5

struct ar_covrow {
    const char *name;
    int experiments, kept, crashes, values;
    int stale;               /* experiments since the last keep or new best delta */
    int has_best;
    double best_delta;
    const char *best_card;   /* the card with the best delta, NULL without one */
    const char *state;       /* under-explored, saturated, active */
};

struct ar_coverage {
    struct ar_covrow *categories;   /* every card category, table order */
    size_t ncategories;
    struct ar_covrow *keys;         /* sorted by key */
    size_t nkeys;
    struct ar_pool pool;
};

/* Builds coverage over st; keys (NULL-terminated, may be NULL) are config
 * keys to list even when no card changed them (the trainer's key table). */
struct ar_coverage *ar_coverage_build(const struct ar_kbstats *st, const char *const *keys);
void ar_coverage_free(struct ar_coverage *cov);
const struct ar_covrow *ar_coverage_key(const struct ar_coverage *cov, const char *key);
const struct ar_covrow *ar_coverage_category(const struct ar_coverage *cov, const char *category);

/* coverage.json: {"schema":"ar.coverage/1","thresholds":{...},
 * "categories":{name:row}, "keys":{name:row}} */
jv ar_coverage_json(const struct ar_coverage *cov);
/* The table for people: one line per category, then per key. */
void ar_coverage_print(const struct ar_coverage *cov, FILE *out);

#endif

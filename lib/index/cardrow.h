/* The summary of one card view: the members the statistics read, as the
 * index stores them in the columns of its cards table (man/ar-card.5,
 * "index.db"). Built by the index from a view's text; read back by
 * lib/analysis/stats.c. */
#ifndef AR_CARDROW_H
#define AR_CARDROW_H

#include <stddef.h>

#include "base/pool.h"

/* ar_index_rows numbers the strings that repeat across rows: each
 * distinct one has one number (from 1), the same for the whole call, so a
 * caller can convert each once. 0: not numbered (NULL, or a row from
 * ar_cardrow_parse). */
enum { AR_SID_AGENT, AR_SID_SESSION, AR_SID_CATEGORY, AR_SID_STATUS, AR_SID_PLATFORM, AR_SID_FINGERPRINT,
       AR_SID_CONFIG_HASH, AR_SID_BASELINE, AR_NSID };

/* One entry of changes: the config key, and the values as canonical JSON
 * text ("null" when absent). */
struct ar_rowchange {
    const char *key, *from, *to;
    unsigned key_sid, from_sid, to_sid;
};

/* Strings are NULL when the view lacks them. */
struct ar_cardrow {
    const char *id, *created, *agent, *session, *commit, *category, *hypothesis;
    const char *status;        /* effective (after status notes), normalised */
    const char *card_status;   /* the card's own */
    const char *platform;      /* platform.class */
    const char *fingerprint;   /* data.fingerprint */
    const char *config_hash, *baseline, *verifies;
    const char *lesson;        /* the text of the last lesson note */
    double budget_s, seed, val_bpb, delta, training_seconds;
    int has_budget, has_seed, has_bpb, has_delta, has_training;
    int retracted;
    const char **tags;
    int ntags;
    const char **prior;        /* prior_cards */
    int nprior;
    struct ar_rowchange *changes;
    int nchanges;
    unsigned sid[AR_NSID];     /* the numbers of agent ... baseline */
    size_t rows_hint;          /* ar_index_rows: at most this many rows come (0: not known) */
};

/* Reads the row of one view (JSON text of len bytes; a number must not end
 * the text), strings in pool. -1 (AR_EINPUT) for malformed JSON or a view
 * without id. */
int ar_cardrow_parse(struct ar_pool *pool, const char *text, size_t len, struct ar_cardrow *row);

#endif

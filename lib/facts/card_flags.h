/* The flags of `ar-card write` as card fields: which flag sets which field
 * and how its text becomes a value. The front end declares the options
 * with these members as targets; ar_card_set_flags puts what was given on
 * a card (flags win over the fields already there). */
#ifndef AR_CARD_FLAGS_H
#define AR_CARD_FLAGS_H

#include <jv.h>

#include "base/opt.h"
#include "facts/card.h"

/* The most a card's text may take where it is read whole (stdin, a line
 * of --jsonl, an @FILE value). */
#define AR_CARD_TEXT_MAX (AR_CARD_MAX_BYTES * 4)

struct ar_card_flags {
    /* strings, as given: the field of the same name (parent_commit from
     * --parent-commit) */
    const char *hypothesis, *category, *status, *commit, *parent_commit, *session, *agent,
        *baseline, *verifies, *created;
    const char *tags, *prior_cards;   /* "A,B": arrays of strings */
    /* JSON text, or @FILE for the JSON in a file */
    const char *config, *changes, *platform, *data, *extra;
    /* numbers: set where the has_ flag is (delta, seed, budget_s,
     * metrics.val_bpb) */
    double val_bpb, delta, seed, budget_s;
    int has_val_bpb, has_delta, has_seed, has_budget_s;
    struct ar_strlist metrics;   /* "KEY=VALUE": metrics.KEY, the value as JSON when it parses, else a string */
};

/* Sets the fields the flags give on *card (an object). Input errors
 * (AR_EINPUT): "option '--config': ..." for JSON that does not parse,
 * "option '--metric': 'x' is not KEY=VALUE", an @FILE that cannot be read. */
int ar_card_set_flags(jv *card, const struct ar_card_flags *f);

#endif

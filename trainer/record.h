/* The experiment card of an ar-train run (DESIGN.md, `ar.card/1`): built
 * from the config, the result, git, platform and data, compared with the
 * best card of the same session and comparability key (data fingerprint +
 * budget + platform class) to get delta, and judged by the keep rule
 * (lib/analysis/verdict.h) to get its status, then stored. */
#ifndef AR_TRAINER_RECORD_H
#define AR_TRAINER_RECORD_H

#include <jv.h>
#include <stdint.h>

#include "config.h"
#include "host/gitinfo.h"
#include "facts/id.h"
#include "facts/kb.h"
#include "train.h"
#include "analysis/verdict.h"

struct record {
    const char *session;        /* NULL: no session */
    const char *hypothesis;     /* NULL: the commit subject */
    const char *category;       /* NULL: "baseline" without a best card, else "other" */
    const char *status;         /* NULL: by comparison (crash when crashed) */
    const char *verifies;       /* NULL, or the card this run replicates */
    jv tags;                    /* array of strings, or jv_invalid() */
    const struct ar_gitinfo *git;   /* NULL outside a repository */
    uint64_t seed;
    double budget_s;
    const struct train_config *cfg;
    /* NULL, or (a queue entry's run) the config its overrides apply to:
     * changes are taken against it, and the delta against the session's
     * first card of this key run with it */
    const struct train_config *base;
    const struct train_result *res;
    jv platform;                /* these three are consumed */
    jv data;                    /* corpus, tokenizer_hash, vocab, val_tokens, fingerprint */
    jv extra;                   /* gets extra.verdict (ar_verdict_extra) */
    struct ar_verdict *verdict; /* NULL, or receives the verdict */
};

/* The best card (lowest val_bpb with status keep or baseline as it counts,
 * not retracted) with this session (NULL matches cards without one) and
 * comparability key: ar_verdict_best. *best is jv_invalid() when there is
 * none. */
int record_find_best(const struct ar_kb *kb, const char *session, const char *fingerprint,
                     double budget_s, const char *platform_class, jv *best);

/* Builds the card for r (without storing it); *card owns the result. */
int record_build(const struct ar_kb *kb, struct record *r, jv *card);

/* Builds, completes and stores the card; id receives its id. */
int record_card(const struct ar_kb *kb, struct record *r, char id[AR_ID_LEN + 1]);

#endif

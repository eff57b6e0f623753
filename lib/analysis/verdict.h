/* The keep rule: the status a finished run gets (man/ar-train.1, "STATUS").
 *
 * A run is compared with the best card (lowest val_bpb, status keep or
 * baseline as it counts, not retracted) of its session on its
 * comparability key (data fingerprint + budget + platform class), against
 * the noise floor σ of its platform class (lib/analysis/stats.h; the prior
 * AR_SIGMA_DEFAULT, labelled "prior", while the class has no replicates):
 *
 *   crash         no val_bpb
 *   baseline      no best card yet
 *   keep          better than the best by more than 2σ
 *   inconclusive  within 2σ of the best (|delta| <= 2σ): replicate it
 *   discard       worse than the best by more than 2σ
 *
 * A run that verifies card C (ar-train --verify C) is judged against C
 * instead: it agrees when |val_bpb - C's| <= 2σ on the same key, and then
 *
 *   keep          both runs beat C's baseline (C's val_bpb - C's delta):
 *                 the replication that agrees makes C's gain real
 *   baseline      C is a baseline (it has no delta): one more baseline run
 *   discard       otherwise: the two runs agree that it is no better
 *
 * A run that disagrees (by more than 2σ) is inconclusive: the result does
 * not reproduce. When C is unknown, crashed or on another key the
 * agreement is "incomparable" and the ordinary rule applies.
 *
 *     struct ar_verdict v;
 *     if (ar_verdict_of(&kb, card, &v) != 0) ar_die_last();
 *     printf("status: %s (%s)\n", v.status, v.advice); */
#ifndef AR_VERDICT_H
#define AR_VERDICT_H

#include <jv.h>
#include <stddef.h>

#include "facts/kb.h"

struct ar_verdict {
    char status[16];       /* crash, baseline, keep, inconclusive, discard */
    double sigma;          /* σ of the card's platform class */
    char sigma_from[64];   /* "12 replicates on cpu-avx2", or "prior" */
    double delta;          /* val_bpb minus the compared card's (best_id); NAN when none */
    char best_id[32];      /* the card compared with: the best, or for a
                              verification C's baseline; "" when none */
    char advice[256];      /* one line for the agent: what to do next */
    /* a card with verifies (all empty / NAN without) */
    char verify[16];       /* "agrees", "disagrees" or "incomparable" */
    char verified_id[32];  /* C */
    double verify_delta;   /* val_bpb minus C's; NAN when incomparable */
};

/* The verdict of a finished run's card (borrowed; it need not be stored
 * yet: its own id, when it has one, is never its best). Reads session,
 * data.fingerprint, budget_s, platform.class, metrics.val_bpb and
 * verifies. 0, or -1 with the error set when the index cannot be read. */
int ar_verdict_of(const struct ar_kb *kb, jv card, struct ar_verdict *v);

/* The best card of a session (NULL matches cards without one) and
 * comparability key, skipping card skip_id (may be NULL); and, when
 * ref_hash is not NULL, the first card of that key run with that config
 * hash that did not crash (*ref, else jv_invalid()). *best is jv_invalid()
 * when there is none. The callers own *best and *ref. */
int ar_verdict_best(const struct ar_kb *kb, const char *session, const char *fingerprint, double budget_s,
                    const char *platform_class, const char *ref_hash, const char *skip_id, jv *best,
                    jv *ref);

/* σ of a platform class over the knowledge base, and where it comes from
 * (ar_verdict.sigma_from). 0 or -1. */
int ar_verdict_noise(const struct ar_kb *kb, const char *platform_class, double *sigma, char *from,
                     size_t size);

/* The rule alone, over numbers (NAN for what is unknown): the run's
 * val_bpb; the best's (have_best) and its id; σ and its source; for a
 * verification the verified card's id, val_bpb, delta (NAN for a
 * baseline) and whether it is on the run's key (same_key). Fills v. */
struct ar_verdict_in {
    double val_bpb;
    int have_best;
    double best_bpb;
    const char *best_id;
    double sigma;
    const char *sigma_from;
    const char *verifies;       /* NULL: not a verification */
    int verified_found, same_key;
    double verified_bpb, verified_delta;
    const char *verified_baseline;   /* C's baseline id, may be NULL */
    int truncated;              /* trained well short of the budget (ar_stats_truncated) */
};
void ar_verdict_rule(const struct ar_verdict_in *in, struct ar_verdict *v);

/* What a card records of its verdict, extra.verdict: {sigma, sigma_from,
 * delta, against, two_sigma} and, for a verification, verify: {card,
 * result, delta}. A new object. */
jv ar_verdict_extra(const struct ar_verdict *v);

#endif

/* The director's plan (ar-queue plan): experiments worth queueing next,
 * derived from the findings, the coverage and the noise floors, each with
 * its reason and the cards behind it.
 *
 * Suggestions, in priority order (the queue priority they get):
 *   1 noisy-keep   a keep whose delta is inside 2σ of its class (it may be
 *                  seed noise that the loop built on): replicate it on its
 *                  class, the largest such wins first (at most
 *                  AR_PLAN_NOISY_MAX); "platform" names the class
 *   1 noise-floor  this platform class has no replicates, so every z-score
 *                  on it uses the default σ: replicate its baseline twice
 *                  (or run a baseline when the class has no card yet;
 *                  when other classes have cards and this one none, only
 *                  when the class was asked for: platform_asked)
 *   2 replicate    a tentative claim (one confirmation, no refutation)
 *                  with a large effect (z >= AR_PLAN_LARGE_Z): replicate
 *                  that card
 *   3 platform     a platform-specific, single-platform or open claim
 *                  confirmed on some class and with no evidence on this
 *                  class: replicate its strongest card here
 *   4 stack        the best confirmed single-key changes (2 or 3 distinct
 *                  keys, largest effect first) together in one run
 *   6 explore      under-explored categories, then config keys (coverage):
 *                  a run that changes one such key (numbers doubled, or
 *                  halved when doubling is out of range; booleans flipped)
 * Stack and explore start from the config snapshot (in->config), except
 * for a class whose best card is imported (another trainer's results.tsv,
 * no ar config): there they start from the values that card's session
 * chain reached (the "to" of its keeps up to it, the "from" of keys no
 * keep changed; only the config's keys), stack takes the claims confirmed
 * on that class whose value the tip does not have yet, and each such
 * suggestion carries "platform" (the class), "base" (the card) and
 * "advice" (why it is not ar-train overrides); the reason begins "from the
 * best CLASS configuration, card ID: KEY FROM -> TO".
 * A replication already queued (pending or claimed, verifying a card of
 * the claim) or already run (a card verifying the card) is not suggested
 * again. */
#ifndef AR_PLAN_H
#define AR_PLAN_H

#include <jv.h>

#include "analysis/coverage.h"
#include "analysis/findings.h"
#include "analysis/stats.h"

#define AR_PLAN_LARGE_Z 3.0
#define AR_PLAN_STACK_MAX 3
#define AR_PLAN_NOISY_MAX 5

struct ar_plan_input {
    const struct ar_kbstats *st;
    const struct ar_findings *findings;
    const struct ar_coverage *coverage;
    const char *platform;   /* this machine's platform class */
    jv config;              /* the current config snapshot (borrowed) */
    jv queue;               /* the queue's entries (borrowed array) */
    int platform_asked;     /* platform was named by the user, not detected */
};

/* The suggestions as an array of objects {kind, priority, hypothesis,
 * category, overrides, alt_overrides (explore only: the other direction),
 * replicate (a card id, for replications), reason, cards}, sorted by
 * priority, at most max of them (max <= 0: all). */
jv ar_plan_build(const struct ar_plan_input *in, int max);

/* The card category a config key belongs to ("hyperparameter" when none). */
const char *ar_plan_key_category(const char *key);

#endif

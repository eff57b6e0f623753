/* Authority over a card's status. A `status` or `retract` note changes
 * what the statistics use (the effective status, retraction) only when
 * its agent is the card's own agent or is in the local trust list; any
 * other such note is that agent's claim, kept visible in the view's
 * "claims" but counted nowhere. So a peer with push access cannot turn
 * someone else's baseline into a crash.
 *
 * The trust list is knowledge/trust: one agent per line, sorted, '#'
 * comments. It is local configuration, like the derived files: never
 * synced (ar-sync ignores it), edited with `ar-sync trust` or
 * `ar-sync --trust AGENT`. A status or retract note written here on
 * another agent's card adds its agent (this machine's judgement counts
 * here). The index records which list its views were built with and is
 * rebuilt when the list changes. */
#ifndef AR_TRUST_H
#define AR_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "facts/kb.h"

#define AR_TRUST_FILE "trust"

struct ar_trust {
    char **agents;   /* sorted, distinct */
    size_t n;
    uint64_t hash;   /* of the list: what the index records */
};

/* Reads knowledge/trust (an empty list when there is none). */
int ar_trust_load(const struct ar_kb *kb, struct ar_trust *t);
void ar_trust_free(struct ar_trust *t);
/* The list of kb, read again only when the file changed; never NULL (an
 * unreadable file warns and counts as empty). */
const struct ar_trust *ar_trust_of(const struct ar_kb *kb);
int ar_trust_has(const struct ar_trust *t, const char *agent);
/* 1 when a status or retract note by note_agent may change a card by
 * card_agent. */
int ar_trust_authority(const struct ar_trust *t, const char *card_agent, const char *note_agent);
/* Adds (remove = 0) or removes an agent, atomically under trust.lock.
 * Returns 1 when there was nothing to do, 0 when the list changed. */
int ar_trust_edit(const struct ar_kb *kb, const char *agent, int remove);

#endif

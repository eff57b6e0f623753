/* From the knowledge base to queue entries, without the queue: the plan's
 * pipeline (stats -> findings -> coverage -> plan), the fields that each
 * suggestion would be queued with, and the fields of a replication of a
 * card. The queue's entries come in as data (ar_queue_list's array), so
 * that analysis needs nothing of lib/queue; the tool adds the fields to
 * the queue itself (ar-queue plan --apply, add --replicate). */
#ifndef AR_ANALYSIS_SUGGEST_H
#define AR_ANALYSIS_SUGGEST_H

#include <stddef.h>
#include <jv.h>

#include "facts/kb.h"

/* The current config snapshot: the defaults, then file (trainer/config.yaml
 * when file is NULL and that file is there). */
int ar_suggest_config(const char *file, jv *config);

/* Every suggestion of ar_plan_build for this platform class, config
 * (borrowed) and queue entries (borrowed). */
int ar_suggest(const struct ar_kb *kb, const char *platform, jv config, jv entries, jv *plan);
/* The same; asked says that platform was named by the user (a plan for a
 * class with no cards while other classes have some is made only then). */
int ar_suggest_for(const struct ar_kb *kb, const char *platform, int asked, jv config, jv entries, jv *plan);

/* Fields of a replication of card_id: its full config (as the key table
 * reads it), a seed no run of it has used (its own, its verifiers', the
 * replications among entries), the hypothesis (default "replicate ID:
 * its hypothesis") and the category (default the card's). Invalid, with
 * the error recorded, when the card cannot be replicated. */
jv ar_replicate_fields(const struct ar_kb *kb, jv entries, const char *card_id, const char *hyp,
                       const char *cat);

/* Whether overrides (borrowed) on top of config (borrowed) give a config
 * that the key table and its relations accept. */
int ar_config_accepts(jv config, jv overrides);

/* Queue fields (hypothesis, category, overrides, priority) for suggestion
 * *s; when its overrides are not accepted but its alt_overrides are, *s is
 * changed to show those. Invalid, with why written to skip[n], when the
 * suggestion cannot be queued: it carries "advice" (it starts from another
 * platform's configuration), its card cannot be replicated, or the trainer
 * accepts neither overrides. */
jv ar_suggestion_fields(const struct ar_kb *kb, jv entries, jv config, jv *s, char *skip,
                        size_t n);

#endif

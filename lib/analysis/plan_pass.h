/* One pass over a plan's suggestions, as ar-queue plan and ar-mcp's plan
 * tool both make it: which are new (and queued with apply), which are in
 * the queue already, which are advice only (another platform class's,
 * another trainer's, values ar-train refuses), up to max new ones. The
 * queue comes in through struct ar_plan_queue, so that analysis needs
 * nothing of lib/queue. */
#ifndef AR_ANALYSIS_PLAN_PASS_H
#define AR_ANALYSIS_PLAN_PASS_H

#include <jv.h>

#include "facts/kb.h"

struct ar_plan_queue {
    /* ar_queue_duplicate_of */
    const char *(*duplicate_of)(jv entries, jv fields, char *id, size_t n);
    /* Queues fields (borrowed): *id the new entry's id (a jv string),
     * *entries (freed first) the entries after it. -1 with the error set. */
    int (*add)(void *ctx, jv fields, jv *id, jv *entries);
    void *ctx;
};

enum ar_plan_kind {
    AR_PLAN_NEW,         /* queueable here and not queued yet (member queued: its id when applied) */
    AR_PLAN_QUEUED,      /* in the queue already (member queued: that entry) */
    AR_PLAN_ADVICE,      /* worth reading, not queueable here (member skipped says why) */
    AR_PLAN_PASSED_OVER  /* for another platform class, after max new ones (member skipped) */
};

struct ar_plan_pass {
    jv items;                 /* the suggestions listed, in plan order */
    enum ar_plan_kind *kinds; /* one per item */
    int n;
    int fresh, added, queued, advice;
};

/* The pass over every suggestion of ar_suggest_for(kb, platform, asked,
 * config, *entries) (both borrowed; *entries is replaced as entries are
 * added): max (0: no bound) new ones, each queued when apply. -1 with the
 * error set (what was queued before stays queued). */
int ar_plan_pass_run(const struct ar_kb *kb, const char *platform, int asked, jv config, jv *entries,
                     long max, int apply, const struct ar_plan_queue *q, struct ar_plan_pass *out);
void ar_plan_pass_free(struct ar_plan_pass *p);

/* The platform class a plan is for: given (named by the user; what names
 * it in errors, "--platform" or "platform"; H100 is h100) read into cls,
 * else this machine's, detected (*detected holds it; free it after the
 * class is used). NULL with the error set when neither works. */
const char *ar_plan_platform(const char *given, const char *what, char *cls, size_t n, jv *detected);

#endif

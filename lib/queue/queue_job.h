/* A worker's side of the queue, for ar-train --queue: claim an entry, keep
 * the claim alive from a background thread while the work runs, and end it
 * with the card that records the run (done) or a reason (failed). A process
 * that exits without ending its job (ar_die after a bad config, missing
 * data) fails the entry with the last error, so it is not retried blindly;
 * SIGINT, SIGTERM or SIGHUP release the entry (back to pending, not counted
 * as an attempt) before the process dies of the signal; a process killed
 * with SIGKILL leaves a claim that goes stale and is retried. */
#ifndef AR_QUEUE_JOB_H
#define AR_QUEUE_JOB_H

#include <jv.h>

#include "facts/kb.h"

struct ar_queue_job;

/* Claims the best pending entry for worker (NULL: $AR_AGENT or user@host)
 * and starts heartbeating every interval_s seconds (<= 0:
 * $AR_QUEUE_HEARTBEAT, else 60). Returns 0
 * and the job, 1 when nothing is pending, -1 on failure. The entry is
 * borrowed from the job: ar_queue_job_entry. */
int ar_queue_job_start(const struct ar_kb *kb, const char *worker, double interval_s,
                       struct ar_queue_job **job);
jv ar_queue_job_entry(const struct ar_queue_job *job);

/* The entry's overrides as "key=value" strings for --set (malloc'd array of
 * malloc'd strings, *n of them). */
char **ar_queue_job_sets(const struct ar_queue_job *job, int *n);

/* Stops the heartbeat and ends the entry: done with card when reason is
 * NULL, else failed with reason (card, when given, is named in it). Frees
 * the job. */
int ar_queue_job_end(struct ar_queue_job *job, const char *card, const char *reason);

#endif

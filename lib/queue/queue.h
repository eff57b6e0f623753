/* The experiment queue (DESIGN.md "Queue"): entries that a director adds
 * and workers claim, shared by every process on the machine (or on a shared
 * file system) through an exclusive fcntl lock on queue.lock.
 *
 * An entry is a JSON object: {id, hypothesis, category, priority (1 runs
 * first, 9 last), overrides {config key: value}, status (pending, claimed,
 * done, failed, cancelled), created, created_by, claimed_by, claimed_at,
 * heartbeat_at, attempts, card, reason, finished_at} and, for a replication,
 * verifies (the card id) and seed. Unset fields are null.
 *
 * On disk the state is queue.json, a snapshot {"schema":"ar.queue/1",
 * "generation":G,"entries":[...]} replaced atomically, plus queue.log, a
 * journal of the entries changed since that snapshot: a header line
 * {"generation":G}, then one entry per line; a later line for an id replaces
 * the earlier state. Each operation appends its changed entries in one
 * write and fdatasyncs; when the journal has grown as large as the queue,
 * it is folded into a new snapshot (generation G+1) and a new journal. A
 * journal whose generation is not the snapshot's is already folded in and
 * is ignored. A final line without its newline is a write cut short by a
 * crash: it is ignored and cut off by the next writer. Anything else that
 * does not parse stops every operation with an error (AR_EFAIL) and the
 * files are left as they are.
 *
 * An open handle keeps the parsed state between operations and re-reads
 * only the journal lines that other processes appended since, so a
 * long-running worker pays for the queue's size once, not per operation.
 *
 * Every operation, reads included, first returns stale claims (no heartbeat
 * for the stale time) to pending, or fails them after AR_QUEUE_MAX_ATTEMPTS
 * claims. */
#ifndef AR_QUEUE_H
#define AR_QUEUE_H

#include <jv.h>
#include <stddef.h>

#include "facts/kb.h"

#define AR_QUEUE_SCHEMA "ar.queue/1"
#define AR_QUEUE_STALE_DEFAULT_S (15 * 60.0)
#define AR_QUEUE_MAX_ATTEMPTS 3
#define AR_QUEUE_PRIORITY_DEFAULT 5
#define AR_QUEUE_REASON_MAX 2000

extern const char *const ar_queue_statuses[];   /* NULL-terminated */

struct ar_queue;

/* A handle on kb's queue; touches no file. lock_timeout_s < 0 takes
 * ar_lock_timeout_default(), stale_s <= 0 the 15-minute default. */
struct ar_queue *ar_queue_open(const struct ar_kb *kb, double lock_timeout_s, double stale_s);
void ar_queue_close(struct ar_queue *q);

/* Adds n entries in one locked step (all or none). Each of fields[i]
 * (borrowed) gives hypothesis and category, and may give priority,
 * overrides (an object of already validated config values), verifies and
 * seed. Unless force is set, an entry whose normalised hypothesis and
 * overrides equal those of a pending, claimed or done entry (or of an
 * earlier one in the same call) is refused with AR_EINPUT naming that
 * entry. *ids gets a new array of the new ids. */
int ar_queue_add(struct ar_queue *q, const jv *fields, size_t n, int force, jv *ids);
/* ar_queue_add of one entry for a plan pass (struct ar_plan_queue's add;
 * ctx is the queue): *id its id, *entries (freed first) the entries after
 * it (an empty array when they cannot be read, with -1). */
int ar_queue_add_one(void *ctx, jv fields, jv *id, jv *entries);

/* Takes the best pending entry (lowest priority number, then oldest) for
 * worker: returns 0 and the claimed entry in *entry, 1 when nothing is
 * pending (nothing recorded as an error), -1 on failure. */
int ar_queue_claim(struct ar_queue *q, const char *worker, jv *entry);

/* The claim's owner says it is alive. worker NULL accepts any owner; a
 * claim that went stale and was taken by someone else is AR_EFAIL. */
int ar_queue_heartbeat(struct ar_queue *q, const char *id, const char *worker);
/* Marks a pending or claimed entry done with the card that ran it. */
int ar_queue_done(struct ar_queue *q, const char *id, const char *card);
/* Marks a pending or claimed entry failed, with a reason. */
int ar_queue_fail(struct ar_queue *q, const char *id, const char *reason);
/* Returns a claimed entry to pending; the claim does not count as an attempt. */
int ar_queue_release(struct ar_queue *q, const char *id);
/* Withdraws a pending or claimed entry; reason may be NULL. */
int ar_queue_cancel(struct ar_queue *q, const char *id, const char *reason);

/* The entry with that id (AR_EINPUT "entry ID: not found" when unknown). */
int ar_queue_get(struct ar_queue *q, const char *id, jv *entry);
/* Every entry, in id order. */
int ar_queue_list(struct ar_queue *q, jv *entries);

/* The normalised form of a hypothesis used to find duplicates: lower-case,
 * runs of white space as one space, no leading or trailing space or final
 * period. malloc'd. */
char *ar_queue_norm_hypothesis(const char *text);

/* What makes two entries duplicates: the normalised hypothesis and the
 * canonical overrides of fields (an entry or the fields of one). malloc'd. */
char *ar_queue_dupkey(jv fields);

/* The live entry (pending, claimed or done) among entries (ar_queue_list)
 * that fields would duplicate, which ar_queue_add refuses: its id, written
 * to id, or NULL when there is none. */
const char *ar_queue_duplicate_of(jv entries, jv fields, char *id, size_t n);

/* The entries of kb's queue (ar_queue_list), or jv_invalid() in *entries
 * when the knowledge base has no queue.json (nothing is created). */
int ar_queue_entries(const struct ar_kb *kb, jv *entries);

/* ar-queue status --json: {counts: {status: n} for every status, entries:
 * the pending and claimed entries (all of them with all), in id order}. */
int ar_queue_status(struct ar_queue *q, int all, jv *out);

#endif

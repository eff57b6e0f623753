/* index.journal: which cards' lines of index.jsonl changed, one entry per
 * incremental change (a card appended or inserted, a note patched into its
 * card's line), so a reader holding a summary of an older version of the
 * index re-reads those lines only (lib/analysis/sumcache.h).
 *
 * A version of the index is its epoch (16 hex digits, new at every
 * rebuild) and generation (0 after the rebuild, one more per change); both
 * are in index.state. The journal is fixed-width text, so entry g is found
 * by its offset:
 *
 *     ar.index.journal/1 <epoch>\n            (36 bytes)
 *     <generation, 12 digits> <card id>\n      (43 bytes each)
 *
 * It is derived, never fsync'd, and only trusted entry by entry: a reader
 * checks the epoch and that every entry it reads carries its generation. */
#ifndef AR_INDEX_JOURNAL_H
#define AR_INDEX_JOURNAL_H

#include "facts/id.h"
#include "facts/kb.h"

#define AR_EPOCH_LEN 16

typedef char ar_card_id[AR_ID_LEN + 1];

/* A fresh epoch (random) into out. */
void ar_ijournal_new_epoch(char out[AR_EPOCH_LEN + 1]);
/* Starts the journal of a new epoch: no entries (atomic replace). */
int ar_ijournal_reset(const struct ar_kb *kb, const char *epoch);
/* Records that change gen (1, 2, ...) of epoch touched card id's line. */
int ar_ijournal_put(const struct ar_kb *kb, const char *epoch, long gen, const char *id);
/* The ids of changes from+1 .. to of epoch (malloc'd, *n entries, in change
 * order, repeats possible); -1 when the journal cannot tell (another epoch,
 * an entry missing or torn), with nothing recorded as the error. */
int ar_ijournal_read(const struct ar_kb *kb, const char *epoch, long from, long to, ar_card_id **ids, size_t *n);

#endif

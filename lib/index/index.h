/* index.db: the derived index of a knowledge base, one SQLite database in
 * WAL mode (man/ar-card.5, "index.db"). It holds, for every card, its row
 * of summary columns (lib/index/cardrow.h) and its *view* (the card, its
 * notes in id order, the status as it counts after status notes, whether it
 * was retracted; canonical compact JSON), and every note. It is a pure
 * function of the facts and can be rebuilt at any time.
 *
 * Writers follow a write-ahead protocol (lib/index/store.c, lib/sync):
 * ar_index_intend records the ids of the facts about to be written, the
 * files are created, ar_index_add / ar_index_add_note (or a reader) index
 * them, ar_index_intent_end ends it. Every reader calls ar_index_ensure
 * (directly or through the functions below), which takes in the facts of
 * writers killed after their files, and rebuilds a missing, old or corrupt
 * database; it never lists the directories. Facts put in cards/ or notes/
 * by hand are taken in by ar_index_rebuild (ar-card index) and reported by
 * ar_index_check. */
#ifndef AR_INDEX_H
#define AR_INDEX_H

#include <jv.h>
#include <stddef.h>
#include <stdio.h>

#include "facts/kb.h"
#include "index/cardrow.h"

/* The view of card (borrowed) with notes (borrowed array, id order):
 * status and retract notes by the card's own agent or a trusted one
 * (facts/trust.h) set "status" and "retracted"; the others are listed in
 * "claims" ([{agent, kind, note, status?}], present only when there are
 * some) and change nothing. ar_card_view trusts no list. */
struct ar_trust;
jv ar_card_view(jv card, jv notes);
jv ar_card_view_trust(jv card, jv notes, const struct ar_trust *trust);

/* The intent of a writer, from ar_index_intend to ar_index_intent_end. */
struct ar_intent {
    int lock;   /* shared lock on index.pending.lock */
};
/* Records, in one durable transaction, that the facts ids[i] (notes where
 * is_note[i], else cards) are about to be written; takes the writers' lock
 * that ar_index_intent_end releases. On failure nothing is recorded or
 * held, and the facts must not be written. */
int ar_index_intend(const struct ar_kb *kb, const int *is_note, const char *const *ids, size_t n,
                    struct ar_intent *in);
void ar_index_intent_end(struct ar_intent *in);
/* Withdraws the intent of one fact whose file was not written. */
int ar_index_forget(const struct ar_kb *kb, int is_note, const char *id);

/* Brings the index up to the facts: rebuilds a missing, old or corrupt
 * database, takes in facts written without it. */
int ar_index_ensure(const struct ar_kb *kb);
/* Rebuilds from the facts (one transaction: readers see the old index or
 * the new one). */
int ar_index_rebuild(const struct ar_kb *kb);
/* Adds a just-stored card (one INSERT; nothing when it is there already)
 * and deletes its pending row. */
int ar_index_add(const struct ar_kb *kb, jv card);
/* Adds just-stored cards (borrowed array) in one write transaction, each
 * that the index does not have yet, and deletes their pending rows
 * (lib/index/index_batch.c). */
int ar_index_add_cards(const struct ar_kb *kb, jv cards);
/* Adds a just-stored note and rewrites its card's view and row. */
int ar_index_add_note(const struct ar_kb *kb, jv note);

/* What the fresh index holds, as text equal only for the same facts
 * (and the same index schema): the key of a saved result. */
#define AR_INDEX_VERSION_LEN 96
int ar_index_version(const struct ar_kb *kb, char out[AR_INDEX_VERSION_LEN]);

/* Takes in what pending rows explain (as a reader does), then compares:
 * 0 when index.db equals what the facts give; else -1 (AR_EFAIL) with a
 * message saying how it differs. */
int ar_index_check(const struct ar_kb *kb);

/* The view of card id: 0, or 1 when the index has no such card (*view
 * invalid), -1 on error. */
int ar_index_view(const struct ar_kb *kb, const char *id, jv *view);

/* Every view of the fresh index, one line each in id order,
 * NUL-terminated; freed with ar_big_free (base/bigmem.h). */
int ar_index_read(const struct ar_kb *kb, char **text, size_t *len);
/* Writes every view of the fresh index to out, one line each in id
 * order, as it reads them; stops at a write error, which ferror(out)
 * then tells. */
int ar_index_write(const struct ar_kb *kb, FILE *out);

/* Calls fn on each view (NUL-terminated, a copy fn may change) of the
 * fresh index in id order; stops early when fn returns non-zero and
 * returns that. */
typedef int (*ar_index_fn)(char *line, size_t len, void *ctx);
int ar_index_foreach(const struct ar_kb *kb, ar_index_fn fn, void *ctx);

/* Calls fn on the row of each card of the fresh index in id order (the
 * row and its strings are valid during the call only); stops early when
 * fn returns non-zero and returns that. */
typedef int (*ar_index_row_fn)(const struct ar_cardrow *row, void *ctx);
int ar_index_rows(const struct ar_kb *kb, ar_index_row_fn fn, void *ctx);

/* Sorted file ids (names without .json) in a facts directory; *n entries,
 * each malloc'd. Dot files (temps) are skipped. */
char **ar_list_ids(const char *dir, size_t *n);
void ar_free_ids(char **ids, size_t n);

#endif

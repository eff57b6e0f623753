/* index.db: the derived index of a knowledge base, one SQLite database in
 * WAL mode (man/ar-card.5, "index.db"). It holds, for every card, its row
 * of summary columns (lib/index/cardrow.h) and its *view* (the card, its
 * notes in id order, the status as it counts after status notes, whether it
 * was retracted; canonical compact JSON), and every note. It is a pure
 * function of the facts and can be rebuilt at any time.
 *
 * The database records which facts it holds (per directory the count and
 * an order-free hash of the ids), so a reader notices facts written without
 * it: every reader calls ar_index_ensure (directly or through the functions
 * below), which takes missing facts in, and rebuilds a missing, old or
 * corrupt database. Writers add one card or note in one transaction. */
#ifndef AR_INDEX_H
#define AR_INDEX_H

#include <jv.h>
#include <stddef.h>

#include "facts/kb.h"
#include "index/cardrow.h"

/* The view of card (borrowed) with notes (borrowed array, id order). */
jv ar_card_view(jv card, jv notes);

/* Brings the index up to the facts: rebuilds a missing, old or corrupt
 * database, takes in facts written without it. */
int ar_index_ensure(const struct ar_kb *kb);
/* Rebuilds from the facts (one transaction: readers see the old index or
 * the new one). */
int ar_index_rebuild(const struct ar_kb *kb);
/* Adds a just-stored card (one INSERT; nothing when it is there already). */
int ar_index_add(const struct ar_kb *kb, jv card);
/* Adds a just-stored note and rewrites its card's view and row. */
int ar_index_add_note(const struct ar_kb *kb, jv note);

/* What the fresh index holds, as text equal only for the same facts
 * (and the same index schema): the key of a saved result. */
#define AR_INDEX_VERSION_LEN 96
int ar_index_version(const struct ar_kb *kb, char out[AR_INDEX_VERSION_LEN]);

/* 0 when index.db equals what the facts give; else -1 (AR_EFAIL) with a
 * message saying how it differs. */
int ar_index_check(const struct ar_kb *kb);

/* The view of card id: 0, or 1 when the index has no such card (*view
 * invalid), -1 on error. */
int ar_index_view(const struct ar_kb *kb, const char *id, jv *view);

/* Every view of the fresh index, one line each in id order: malloc'd,
 * NUL-terminated. */
int ar_index_read(const struct ar_kb *kb, char **text, size_t *len);

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

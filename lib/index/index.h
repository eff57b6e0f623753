/* index.jsonl: derived, one line per card: the card's *view* (the card, its
 * notes in id order, the status as it counts after status notes, whether it
 * was retracted), canonical compact JSON, sorted by card id. It is a pure
 * function of the facts and can be rebuilt at any time.
 *
 * index.state records how many cards and notes the index was built from and
 * its size; facts are never deleted, so equal counts mean the same facts.
 * Every reader calls ar_index_ensure (directly or through ar_index_read),
 * which rebuilds a missing or stale index under index.lock. */
#ifndef AR_INDEX_H
#define AR_INDEX_H

#include <jv.h>
#include <stddef.h>

#include "index/index_journal.h"
#include "facts/kb.h"

/* The view of card (borrowed) with notes (borrowed array, id order). */
jv ar_card_view(jv card, jv notes);

/* Rebuilds when missing or stale. */
int ar_index_ensure(const struct ar_kb *kb);
/* Rebuilds unconditionally (under the lock). */
int ar_index_rebuild(const struct ar_kb *kb);
/* Adds a just-stored card: when the index was fresh before it, appends its
 * line (or inserts it in id order), else rebuilds. */
int ar_index_add(const struct ar_kb *kb, jv card);
/* Adds a just-stored note: rewrites its card's line when the index was
 * fresh before it, else rebuilds. */
int ar_index_add_note(const struct ar_kb *kb, jv note);
/* The version of the index (lib/index/index_journal.h) as index.state gives it:
 * its epoch, generation and size in bytes; -1 without a valid state. */
struct ar_index_version {
    char epoch[AR_EPOCH_LEN + 1];
    long gen;
    long long bytes;
};
int ar_index_version(const struct ar_kb *kb, struct ar_index_version *v);
/* The line of card id in index text (lines sorted by id) by binary search:
 * [*start, *end) without the newline. -1 when there is none. */
int ar_index_find_sorted(const char *text, size_t len, const char *id, size_t *start, size_t *end);
/* Finds the line of card id in index text: [*start, *end) without the
 * newline. -1 when there is none. */
int ar_index_find_line(const char *text, size_t len, const char *id, size_t *start, size_t *end);
/* 0 when index.jsonl equals what the facts give; else -1 (AR_EFAIL) with a
 * message saying how it differs. */
int ar_index_check(const struct ar_kb *kb);

/* The fresh index's text: complete lines only; malloc'd, NUL-terminated. */
int ar_index_read(const struct ar_kb *kb, char **text, size_t *len);

/* Calls fn on each line (without its newline, NUL-terminated in place) of
 * the fresh index; stops early when fn returns non-zero and returns that. */
typedef int (*ar_index_fn)(char *line, size_t len, void *ctx);
int ar_index_foreach(const struct ar_kb *kb, ar_index_fn fn, void *ctx);

/* Sorted file ids (names without .json) in a facts directory; *n entries,
 * each malloc'd. Dot files (temps) are skipped. */
char **ar_list_ids(const char *dir, size_t *n);
void ar_free_ids(char **ids, size_t n);

#endif

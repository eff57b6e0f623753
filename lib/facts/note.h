/* Annotations (`ar.note/1`): append-only notes on a card. A note is
 * {schema, id, created, card, agent, kind, text, status?}; kind is lesson,
 * status (overrides the card's status), retract (the card leaves all
 * statistics but stays visible) or comment. */
#ifndef AR_NOTE_H
#define AR_NOTE_H

#include <jv.h>

#include "facts/id.h"
#include "facts/kb.h"

#define AR_NOTE_SCHEMA "ar.note/1"
#define AR_NOTE_TEXT_MAX 4000

extern const char *const ar_note_kinds[];

int ar_note_validate(jv note, int stored);
/* Builds and stores (the fact only: lib/index/store.h also indexes) a note
 * on an existing card, created at the given time (imports: a re-import
 * gives the same note id, which is then stored once). status is NULL unless
 * kind is "status". *stored owns the note as written. Returns 1 when that
 * note was already there, 0 when new, -1 on error. */
int ar_note_write(const struct ar_kb *kb, const char *card_id, const char *kind, const char *text,
                  const char *status, const char *created, char id[AR_ID_LEN + 1], jv *stored);
/* The two steps of ar_note_write: the note built and checked (*note owns
 * it, its id in id), then its file created (1 when it was there already). */
int ar_note_build(const struct ar_kb *kb, const char *card_id, const char *kind, const char *text,
                  const char *status, const char *created, char id[AR_ID_LEN + 1], jv *note);
int ar_note_store(const struct ar_kb *kb, jv note);
int ar_note_read_file(const char *path, jv *note);
/* The note that `ar-card note` options ask for: lesson, status (comment is
 * then its reason) or comment, into *kind and *text. Returns 1 when none is
 * given; AR_EINPUT for more than one ("note: give one of --lesson,
 * --status, --comment") or an unknown status. */
int ar_note_kind_of(const char *lesson, const char *status, const char *comment, const char **kind,
                    const char **text);

#endif

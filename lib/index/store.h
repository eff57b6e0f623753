/* Storing facts and indexing them, in one step: what bin/, import and the
 * trainer call to record a card or a note. lib/facts writes the fact files;
 * this adds each to the derived index (lib/index/index.h). */
#ifndef AR_STORE_H
#define AR_STORE_H

#include <jv.h>

#include "facts/id.h"
#include "facts/kb.h"

/* Stores a complete card (lib/facts/card.h ar_card_store) and indexes it.
 * Borrows card. Idempotent for an identical card. */
int ar_store_card(const struct ar_kb *kb, jv card, char id[AR_ID_LEN + 1]);

/* Stores and indexes many complete cards (borrowed array) as one batch:
 * one write-ahead intent for all, the files created with one sync
 * (base/atomic.h ar_create_atomic_many), one index transaction. existed,
 * when not NULL, gets per card 1 when an identical card was stored
 * already. All or nothing: on failure none of the cards is stored. */
int ar_store_card_batch(const struct ar_kb *kb, jv cards, int *existed);

/* Builds, stores and indexes a note on an existing card, created now.
 * status is NULL unless kind is "status". */
int ar_store_note(const struct ar_kb *kb, const char *card_id, const char *kind, const char *text,
                  const char *status, char id[AR_ID_LEN + 1]);
/* The same with the note's created time given (imports: a re-import gives
 * the same note id, which is then stored once). Returns 1 when that note
 * was already there. */
int ar_store_note_at(const struct ar_kb *kb, const char *card_id, const char *kind, const char *text,
                     const char *status, const char *created, char id[AR_ID_LEN + 1]);

#endif

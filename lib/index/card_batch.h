/* Writing cards in a batch (`ar-card write`, one card or --jsonl): every
 * card is checked and completed before the first is stored, so a batch
 * with one bad card stores none. */
#ifndef AR_CARD_BATCH_H
#define AR_CARD_BATCH_H

#include <jv.h>
#include <stddef.h>
#include <stdio.h>

#include "facts/kb.h"

/* Fills the defaults of *card (facts/card_defaults.h) and completes it
 * (ar_card_complete); what, when not NULL, goes in front of a completion
 * error ("WHAT: field 'x': why"). */
int ar_card_check(jv *card, const char *what);

/* Reads text as JSON lines (blank lines skipped), one card object a line,
 * and checks each (ar_card_check). On success *cards is the array of completed cards;
 * on the first bad line, AR_EINPUT naming it ("WHAT:LINE: why") and
 * *cards is untouched. */
int ar_cards_check_jsonl(const char *text, size_t len, const char *what, jv *cards);

/* Stores and indexes each completed card of cards (consumed) in turn, adds
 * a lesson note on it when lesson is not NULL, and prints to out its id,
 * or with json the stored card as one compact line. Stops at the first
 * failure; what was printed was stored. Many cards without a lesson are
 * stored as one batch (ar_store_card_batch): all or none, printed after. */
int ar_store_cards(const struct ar_kb *kb, jv cards, const char *lesson, int json, FILE *out);

#endif

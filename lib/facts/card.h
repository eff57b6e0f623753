/* Experiment cards (`ar.card/1`, DESIGN.md): validation, completion and
 * storage. A card is a jv object; cards are facts, written once. */
#ifndef AR_CARD_H
#define AR_CARD_H

#include <jv.h>

#include "facts/id.h"
#include "facts/kb.h"

#define AR_CARD_SCHEMA "ar.card/1"
#define AR_CARD_MAX_BYTES 65536
#define AR_HYPOTHESIS_MAX 2000
#define AR_EXTRA_MAX 16384
#define AR_TAGS_MAX 32
/* The plausible range of val_bpb: below 0.1 bits per byte no language model
 * has come near; above 100 a run has diverged past meaning. */
#define AR_VAL_BPB_MIN 0.1
#define AR_VAL_BPB_MAX 100.0

extern const char *const ar_card_categories[];   /* NULL-terminated */
extern const char *const ar_card_statuses[];      /* including "revert" */

enum {
    AR_CARD_STORED = 1,   /* must carry schema, id, created, and the id must match */
};

/* Checks card against the schema; the first problem is recorded as
 * "field 'NAME': why" (AR_EINPUT). Without AR_CARD_STORED, the fields that
 * ar_card_complete fills may be missing. */
int ar_card_validate(jv card, int flags);
/* The same, leaving the card's canonical compact text in *text (emptied
 * first; partial or empty on failure). */
struct ar_buf;
int ar_card_validate_text(jv card, int flags, struct ar_buf *text);

/* Fills what the writer does not give: schema, created (now), agent
 * ($AR_AGENT or user@host), config_hash (from config), normalises status
 * "revert" to "discard", then sets the id. Platform is the caller's job
 * (lib/host/platform.h). Consumes *card and replaces it. Validates the result. */
int ar_card_complete(jv *card);

/* Stores a complete card as cards/<id>.json (pretty canonical JSON); the
 * fact only: lib/index/store.h stores and indexes. Idempotent for an
 * identical card. */
int ar_card_store(const struct ar_kb *kb, jv card, char id[AR_ID_LEN + 1]);

/* Reads and checks cards/<id>.json; *card owns the result. An id that is
 * not of the id form is AR_EINPUT; an unknown id is AR_EINPUT
 * "card ID: not found". */
int ar_card_load(const struct ar_kb *kb, const char *id, jv *card);

/* Reads, parses and validates a card file of any name (for validate,
 * import, sync). */
int ar_card_read_file(const char *path, jv *card, int flags);

/* The status as it counts: "revert" reads as "discard". */
const char *ar_card_status_norm(const char *status);

/* $AR_AGENT, else user@host. */
const char *ar_agent_name(void);

#endif

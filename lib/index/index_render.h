/* Reading facts for the index (lib/index/index.c), fast: a fact whose bytes
 * are the canonical form our writers produce (white space stripped gives
 * the canonical compact text, and the id, a content hash, is checked on
 * that text, which proves it canonical too) is taken as text, and a card's
 * view is spliced from texts without jv. Any other file takes the slow
 * path: parse, validate against the schema, dump. */
#ifndef AR_INDEX_RENDER_H
#define AR_INDEX_RENDER_H

#include <stddef.h>

#include "base/buf.h"
#include "base/jtext.h"
#include "facts/id.h"
#include "facts/kb.h"

struct ar_fact {
    char *text;                 /* canonical compact JSON, NULL when skipped */
    size_t len;
    char *warning;              /* why it was skipped */
    char card[AR_ID_LEN + 1];   /* notes: the card they annotate */
    char kind;                  /* notes: l(esson) s(tatus) r(etract) c(omment) */
    char status[16];            /* status notes: the status, normalised */
    char id[AR_ID_LEN + 1];     /* notes: the note's id */
    char agent[132];            /* notes: who wrote it */
};

/* A claim of a view (lib/index/index.h): a status or retract note that
 * changed nothing, as {agent, kind, note, status?}. */
jv ar_note_claim(const char *agent, const char *kind, const char *note_id, const char *status);

/* The string value of member key of compact text s (members m[0..n)),
 * when it needs no unescaping and fits max bytes; 0 on success. */
int ar_fact_str(const char *s, const struct ar_jmember *m, int n, const char *key, char *out, size_t max);
/* Reads the fact file path named id into *f; -1 with the error recorded. */
int ar_fact_read(const char *path, const char *id, int is_note, struct ar_fact *f);
/* Reads facts ids[0..n) of cards/ or notes/ into out[0..n), in parallel; a
 * fact that cannot be read gets its warning. */
void ar_facts_read(const struct ar_kb *kb, char **ids, size_t n, int is_note, struct ar_fact *out);
void ar_facts_free(struct ar_fact *f, size_t n);
/* The view of card from its text and notes[order[0..nn)] (id order):
 * byte for byte what ar_json_dump(ar_card_view(card, notes)) gives. */
struct ar_trust;
void ar_fact_splice_view(struct ar_buf *b, const struct ar_fact *card, const struct ar_fact *notes,
                         const size_t *order, size_t nn, const struct ar_trust *trust);

#endif

/* The fact is what matters: once it is stored, a failure to index it (a
 * full disk, a lock timeout) is a warning, and the next reader rebuilds the
 * index from the facts. So a write that reports failure stored nothing, and
 * one that stored its fact reports success. */
#include "index/store.h"

#include "base/err.h"

#include "facts/card.h"
#include "facts/note.h"
#include "index/index.h"

int ar_store_card(const struct ar_kb *kb, jv card, char id[AR_ID_LEN + 1])
{
    if (ar_card_store(kb, card, id) != 0)
        return -1;
    if (ar_index_add(kb, card) != 0)
        ar_warn("card %s stored, index not updated (%s): the next reader rebuilds it", id, ar_last_error());
    return 0;
}

int ar_store_note_at(const struct ar_kb *kb, const char *card_id, const char *kind, const char *text,
                     const char *status, const char *created, char id[AR_ID_LEN + 1])
{
    jv note;
    int rc = ar_note_write(kb, card_id, kind, text, status, created, id, &note);
    if (rc < 0)
        return -1;
    if (ar_index_add_note(kb, note) != 0)
        ar_warn("note %s stored, index not updated (%s): the next reader rebuilds it", id, ar_last_error());
    jv_free(note);
    return rc;
}

int ar_store_note(const struct ar_kb *kb, const char *card_id, const char *kind, const char *text,
                  const char *status, char id[AR_ID_LEN + 1])
{
    char now[AR_CREATED_LEN + 1];
    ar_now_iso(now);
    return ar_store_note_at(kb, card_id, kind, text, status, now, id) < 0 ? -1 : 0;
}

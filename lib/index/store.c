#include "index/store.h"

#include "facts/card.h"
#include "facts/note.h"
#include "index/index.h"

int ar_store_card(const struct ar_kb *kb, jv card, char id[AR_ID_LEN + 1])
{
    if (ar_card_store(kb, card, id) != 0)
        return -1;
    return ar_index_add(kb, card);
}

int ar_store_note_at(const struct ar_kb *kb, const char *card_id, const char *kind, const char *text,
                     const char *status, const char *created, char id[AR_ID_LEN + 1])
{
    jv note;
    int rc = ar_note_write(kb, card_id, kind, text, status, created, id, &note);
    if (rc < 0)
        return -1;
    int existed = rc;
    rc = ar_index_add_note(kb, note);
    jv_free(note);
    return rc < 0 ? -1 : existed;
}

int ar_store_note(const struct ar_kb *kb, const char *card_id, const char *kind, const char *text,
                  const char *status, char id[AR_ID_LEN + 1])
{
    char now[AR_CREATED_LEN + 1];
    ar_now_iso(now);
    return ar_store_note_at(kb, card_id, kind, text, status, now, id) < 0 ? -1 : 0;
}

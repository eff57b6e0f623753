/* The write-ahead protocol (lib/index/index.h): the intent recorded, the
 * file created, the fact indexed. A fact is not written when its intent
 * cannot be recorded (readers would not see it). Once it is stored, a
 * failure to index it (a full disk, a lock timeout) is a warning: its
 * pending row stays, and the next reader takes it in. So a write that
 * reports failure stored nothing, and one that stored its fact reports
 * success. */
#include "index/store.h"

#include <stdlib.h>
#include <string.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"

#include "facts/card.h"
#include "facts/note.h"
#include "index/index.h"

static int intend(const struct ar_kb *kb, int is_note, const char *id, struct ar_intent *in)
{
    const char *ids[1] = {id};
    return ar_index_intend(kb, &is_note, ids, 1, in);
}

int ar_store_card(const struct ar_kb *kb, jv card, char id[AR_ID_LEN + 1])
{
    struct ar_intent in;
    if (ar_card_validate(card, AR_CARD_STORED) != 0 || intend(kb, 0, ar_jv_str(card, "id"), &in) != 0)
        return -1;
    if (ar_card_store(kb, card, id) != 0) {
        ar_index_forget(kb, 0, ar_jv_str(card, "id"));
        ar_index_intent_end(&in);
        return -1;
    }
    if (ar_index_add(kb, card) != 0)
        ar_warn("card %s stored, index not updated (%s): the next reader takes it in", id, ar_last_error());
    ar_index_intent_end(&in);
    return 0;
}

int ar_store_card_batch(const struct ar_kb *kb, jv cards, int *existed)
{
    size_t n = (size_t)jv_array_length(jv_copy(cards));
    if (n == 0)
        return 0;
    jv *v = ar_xmalloc(n * sizeof *v);
    const char **ids = ar_xmalloc(n * sizeof *ids), **data = ar_xmalloc(n * sizeof *data);
    char **paths = ar_xmalloc(n * sizeof *paths);
    size_t *len = ar_xmalloc(n * sizeof *len);
    int *is_note = ar_xmalloc(n * sizeof *is_note), *there = ar_xmalloc(n * sizeof *there);
    struct ar_buf *text = ar_xmalloc(n * sizeof *text);
    memset(text, 0, n * sizeof *text);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        v[i] = jv_array_get(jv_copy(cards), (int)i);
        ids[i] = ar_jv_str(v[i], "id");
        is_note[i] = 0;
        paths[i] = NULL;
        if (rc == 0 && ar_card_validate(v[i], AR_CARD_STORED) != 0)
            rc = -1;
        if (rc == 0) {
            char path[PATH_MAX];
            paths[i] = ar_xstrdup(ar_kb_card_path(kb, ids[i], path));
            ar_json_dump_buf(&text[i], v[i], AR_JSON_PRETTY);
            ar_buf_putc(&text[i], '\n');
            data[i] = text[i].data;
            len[i] = text[i].len;
        }
    }
    struct ar_intent in;
    if (rc == 0 && ar_index_intend(kb, is_note, ids, n, &in) == 0) {
        if (ar_create_atomic_many(n, (const char *const *)paths, data, len, there) != 0) {
            rc = -1;
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", ar_last_error());
            for (size_t i = 0; i < n; i++)
                ar_index_forget(kb, 0, ids[i]);
            ar_fail(AR_EFAIL, "%s", msg);
        } else if (ar_index_add_cards(kb, cards) != 0) {
            ar_warn("%zu cards stored, index not updated (%s): the next reader takes them in", n,
                    ar_last_error());
        }
        ar_index_intent_end(&in);
    } else {
        rc = -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (existed)
            existed[i] = rc == 0 && there[i];
        free(paths[i]);
        ar_buf_free(&text[i]);
        jv_free(v[i]);
    }
    free(v), free(ids), free(data), free(paths), free(len), free(is_note), free(there), free(text);
    return rc;
}

int ar_store_note_at(const struct ar_kb *kb, const char *card_id, const char *kind, const char *text,
                     const char *status, const char *created, char id[AR_ID_LEN + 1])
{
    jv note;
    struct ar_intent in;
    if (ar_note_build(kb, card_id, kind, text, status, created, id, &note) != 0)
        return -1;
    if (intend(kb, 1, id, &in) != 0) {
        jv_free(note);
        return -1;
    }
    int rc = ar_note_store(kb, note);
    if (rc < 0) {
        ar_index_forget(kb, 1, id);
    } else if (ar_index_add_note(kb, note) != 0) {
        ar_warn("note %s stored, index not updated (%s): the next reader takes it in", id, ar_last_error());
    }
    ar_index_intent_end(&in);
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

#include "index/card_batch.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "facts/card.h"
#include "facts/card_defaults.h"
#include "facts/card_flags.h"
#include "facts/schema.h"
#include "index/store.h"

int ar_card_check(jv *card, const char *what)
{
    if (ar_card_fill_defaults(card) != 0)
        return -1;
    if (ar_card_complete(card) != 0)
        return what ? ar_fail_prefix("%s", what) : -1;
    return 0;
}

/* One line of the batch: a card object, its defaults filled and completed. */
static int check_line(const char *p, size_t n, const char *what, jv *card)
{
    if (n > AR_CARD_TEXT_MAX)
        return ar_fail(AR_EINPUT, "%s: larger than %d bytes", what, AR_CARD_TEXT_MAX);
    if (ar_json_parse(p, n, what, card) != 0)
        return -1;
    if (jv_get_kind(*card) != JV_KIND_OBJECT) {
        ar_fail(AR_EINPUT, "%s: must be a JSON object, not %s", what, ar_kind_name(*card));
        jv_free(*card);
        return -1;
    }
    if (ar_card_check(card, what) != 0) {
        jv_free(*card);
        return -1;
    }
    return 0;
}

int ar_cards_check_jsonl(const char *text, size_t len, const char *what, jv *cards)
{
    jv all = jv_array();
    int line = 0;
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        line++;
        if (n > 0) {
            char where[256];
            snprintf(where, sizeof where, "%s:%d", what, line);
            jv card;
            if (check_line(p, n, where, &card) != 0) {
                jv_free(all);
                return -1;
            }
            all = jv_array_append(all, card);
        }
        p += n + 1;
    }
    *cards = all;
    return 0;
}

/* Prints a stored card (borrowed): its id, or the card. */
static void print_card(jv card, const char *id, int json, FILE *out)
{
    char *s = json ? ar_json_dump(card, AR_JSON_COMPACT) : NULL;
    fprintf(out, "%s\n", s ? s : id);
    free(s);
}

int ar_store_cards(const struct ar_kb *kb, jv cards, const char *lesson, int json, FILE *out)
{
    if (!lesson && jv_array_length(jv_copy(cards)) > 1) {
        /* many cards, no notes: one batch (one sync, one index transaction) */
        int rc = ar_store_card_batch(kb, cards, NULL);
        if (rc == 0)
            jv_array_foreach(cards, i, card) {
                (void)i;
                print_card(card, ar_jv_str(card, "id"), json, out);
                jv_free(card);
            }
        jv_free(cards);
        return rc;
    }
    int rc = 0;
    jv_array_foreach(cards, i, card) {
        char id[AR_ID_LEN + 1], nid[AR_ID_LEN + 1];
        if (rc == 0 && (ar_store_card(kb, card, id) != 0 ||
                        (lesson && ar_store_note(kb, id, "lesson", lesson, NULL, nid) != 0)))
            rc = -1;
        if (rc == 0)
            print_card(card, id, json, out);
        jv_free(card);
    }
    jv_free(cards);
    return rc;
}

#include "index/index_render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/jtext.h"
#include "facts/card.h"
#include "facts/id.h"
#include "facts/kb.h"
#include "facts/note.h"
#include "facts/trust.h"

/* ---------------------------------------------------------------- render
 *
 * A fact is read on a fast path when its bytes are the canonical form our
 * writers produce: white space stripped gives the canonical compact text,
 * and the id (a content hash) is checked on that text, which proves it
 * canonical too; the view line is then spliced from text, without jv. Any
 * other file takes the slow path: parse, validate against the schema, dump.
 * Facts are validated where they enter the knowledge base (write, import,
 * sync); `ar-card validate` checks every fact against the whole schema.
 * Cards and notes are read in parallel (OpenMP); each thread has its own jv
 * values and error message. */

/* The string value of member key of compact text s, unescaped only if it
 * needs no escapes; 0 on success. */
int ar_fact_str(const char *s, const struct ar_jmember *m, int n, const char *key, char *out,
                    size_t max)
{
    int i = ar_jtext_find(s, m, n, key);
    if (i < 0 || m[i].vallen < 2 || s[m[i].val] != '"' || m[i].vallen - 2 >= max)
        return -1;
    size_t len = m[i].vallen - 2;
    if (memchr(s + m[i].val + 1, '\\', len))
        return -1;
    memcpy(out, s + m[i].val + 1, len);
    out[len] = '\0';
    return 0;
}

/* The agent of a fact's compact text (members m[0..n)): from the text when
 * it needs no unescaping, else parsed; "" when there is none. */
static void agent_of(const char *s, size_t len, const struct ar_jmember *m, int n, char out[132])
{
    if (ar_fact_str(s, m, n, "agent", out, 132) == 0)
        return;
    out[0] = '\0';
    jv v;
    if (ar_json_parse(s, len, "fact", &v) != 0)
        return;
    const char *a = ar_jv_str(v, "agent");
    if (a)
        snprintf(out, 132, "%s", a);
    jv_free(v);
}

jv ar_note_claim(const char *agent, const char *kind, const char *note_id, const char *status)
{
    jv c = jv_object();
    ar_jv_set(&c, "agent", jv_string(agent ? agent : ""));
    ar_jv_set(&c, "kind", jv_string(kind ? kind : ""));
    ar_jv_set(&c, "note", jv_string(note_id ? note_id : ""));
    if (status)
        ar_jv_set(&c, "status", jv_string(status));
    return c;
}

/* Reads a fact file; on the fast path its canonical text is the file's
 * bytes with white space removed. */
int ar_fact_read(const char *path, const char *id, int is_note, struct ar_fact *f)
{
    char *data;
    size_t len;
    if (ar_read_file(path, AR_CARD_MAX_BYTES + 4096, &data, &len) != 0)
        return -1;
    len = ar_jtext_compact(data, data, len);
    data[len] = '\0';
    struct ar_jmember m[64];
    int n = ar_jtext_members(data, len, m, 64);
    char fid[AR_ID_LEN + 1];
    int fast = n > 0 && n <= 64 && ar_fact_str(data, m, n, "id", fid, sizeof fid) == 0 &&
               strcmp(fid, id) == 0 && ar_utf8_valid(data, len) && ar_id_matches_text(data, len);
    if (!fast) {
        /* slow path: anything not in the canonical form */
        free(data);
        jv v;
        if ((is_note ? ar_note_read_file(path, &v) : ar_card_read_file(path, &v, AR_CARD_STORED)) != 0)
            return -1;
        if (strcmp(ar_jv_str(v, "id"), id) != 0) {
            jv_free(v);
            return ar_fail(AR_EINPUT, "%s: file name does not match its id", path);
        }
        struct ar_buf b = {0};
        ar_json_dump_buf(&b, v, AR_JSON_COMPACT);
        jv_free(v);
        len = b.len;
        data = ar_buf_take(&b);
        n = ar_jtext_members(data, len, m, 64);
    }
    if (is_note) {
        char kind[16];
        if (ar_fact_str(data, m, n, "card", f->card, sizeof f->card) != 0 || !ar_id_valid(f->card) ||
            ar_fact_str(data, m, n, "kind", kind, sizeof kind) != 0) {
            free(data);
            return ar_fail(AR_EINPUT, "%s: not a note", path);
        }
        f->kind = kind[0];
        f->status[0] = '\0';
        snprintf(f->id, sizeof f->id, "%s", id);
        agent_of(data, len, m, n, f->agent);
        char raw[16];
        if (strcmp(kind, "status") == 0 && ar_fact_str(data, m, n, "status", raw, sizeof raw) == 0)
            snprintf(f->status, sizeof f->status, "%s", ar_card_status_norm(raw));
    }
    f->text = data;
    f->len = len;
    return 0;
}

void ar_facts_read(const struct ar_kb *kb, char **ids, size_t n, int is_note, struct ar_fact *out)
{
#pragma omp parallel for schedule(dynamic, 32) if (n >= 256)
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        memset(&out[i], 0, sizeof out[i]);
        if (is_note)
            ar_kb_note_path(kb, ids[i], path);
        else
            ar_kb_card_path(kb, ids[i], path);
        if (ar_fact_read(path, ids[i], is_note, &out[i]) != 0)
            out[i].warning = ar_xstrdup(ar_last_error());
    }
}

/* Appends member "key":value to a view being spliced. */
static void put_member(struct ar_buf *b, int *first, const char *key, const char *val, size_t vlen)
{
    if (!*first)
        ar_buf_putc(b, ',');
    *first = 0;
    ar_buf_putc(b, '"');
    ar_buf_puts(b, key);
    ar_buf_puts(b, "\":");
    ar_buf_add(b, val, vlen);
}

/* The view line of a card from its canonical text and its notes (id order):
 * byte for byte what ar_json_dump(ar_card_view(card, notes)) gives. */
void ar_fact_splice_view(struct ar_buf *b, const struct ar_fact *card, const struct ar_fact *notes,
                        const size_t *order, size_t nn, const struct ar_trust *trust)
{
    struct ar_jmember m[64];
    int n = ar_jtext_members(card->text, card->len, m, 64);
    char raw[16] = "", status[16], owner[132];
    ar_fact_str(card->text, m, n, "status", raw, sizeof raw);
    snprintf(status, sizeof status, "%s", ar_card_status_norm(raw));
    agent_of(card->text, card->len, m, n, owner);
    const char *effective = status;
    int retracted = 0;
    struct ar_buf list = {0};
    jv claims = jv_array();
    int nclaims = 0;
    ar_buf_putc(&list, '[');
    for (size_t i = 0; i < nn; i++) {
        const struct ar_fact *f = &notes[order[i]];
        int is_status = f->kind == 's' && f->status[0], is_retract = f->kind == 'r';
        if ((is_status || is_retract) && !ar_trust_authority(trust, owner, f->agent)) {
            claims = jv_array_append(claims, ar_note_claim(f->agent, is_status ? "status" : "retract", f->id,
                                                           is_status ? f->status : NULL));
            nclaims++;
        } else if (is_status) {
            effective = f->status;
        } else if (is_retract) {
            retracted = 1;
        }
        if (i)
            ar_buf_putc(&list, ',');
        ar_buf_add(&list, f->text, f->len);
    }
    ar_buf_putc(&list, ']');
    char cs[24], es[24];
    int cslen = snprintf(cs, sizeof cs, "\"%s\"", status);
    int eslen = snprintf(es, sizeof es, "\"%s\"", effective);
    struct ar_buf ctext = {0};
    if (nclaims)
        ar_json_dump_buf(&ctext, claims, AR_JSON_COMPACT);
    jv_free(claims);
    /* the view's own members, in key order; status replaces the card's;
     * claims only when there are some */
    struct { const char *key; const char *val; size_t len; } add[5] = {
        {"card_status", cs, (size_t)cslen},
        {"claims", ctext.data, ctext.len},
        {"notes", list.data, list.len},
        {"retracted", retracted ? "true" : "false", retracted ? 4u : 5u},
        {"status", es, (size_t)eslen},
    };
    int na = 5, a = 0, first = 1;
    if (!nclaims) {
        memmove(&add[1], &add[2], 3 * sizeof add[0]);
        na = 4;
    }
    ar_buf_putc(b, '{');
    for (int i = 0; i < n && i < 64; i++) {
        const char *key = card->text + m[i].key;
        size_t kl = m[i].keylen;
        while (a < na) {
            size_t al = strlen(add[a].key);
            int c = memcmp(add[a].key, key, al < kl ? al : kl);
            if (c > 0 || (c == 0 && al >= kl))
                break;
            put_member(b, &first, add[a].key, add[a].val, add[a].len);
            a++;
        }
        if (a < na && kl == strlen(add[a].key) && memcmp(key, add[a].key, kl) == 0) {
            put_member(b, &first, add[a].key, add[a].val, add[a].len);
            a++;
            continue;
        }
        if (!first)
            ar_buf_putc(b, ',');
        first = 0;
        ar_buf_add(b, card->text + m[i].key - 1, m[i].val + m[i].vallen - (m[i].key - 1));
    }
    for (; a < na; a++)
        put_member(b, &first, add[a].key, add[a].val, add[a].len);
    ar_buf_putc(b, '}');
    ar_buf_free(&list);
    ar_buf_free(&ctext);
}

void ar_facts_free(struct ar_fact *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(f[i].text);
        free(f[i].warning);
    }
    free(f);
}


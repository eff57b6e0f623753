#include "facts/note.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "facts/card.h"
#include "base/err.h"
#include "base/json.h"
#include "facts/schema.h"

const char *const ar_note_kinds[] = {"lesson", "status", "retract", "comment", NULL};

int ar_note_validate(jv note, int stored)
{
    if (jv_get_kind(note) != JV_KIND_OBJECT)
        return ar_fail(AR_EINPUT, "note: must be a JSON object, not %s", ar_kind_name(note));
    static const char *const known[] = {"schema", "id", "created", "card", "agent",
                                        "kind", "text", "status", NULL};
    int rc = 0;
    jv_object_foreach(note, k, v) {
        int ok = 0;
        for (int i = 0; known[i]; i++)
            ok |= strcmp(known[i], jv_string_value(k)) == 0;
        if (!ok && rc == 0)
            rc = ar_fail(AR_EINPUT, "field '%.64s': unknown field", jv_string_value(k));
        jv_free(k);
        jv_free(v);
    }
    if (rc)
        return rc;
    const char *schema = ar_jv_str(note, "schema");
    if (!schema || strcmp(schema, AR_NOTE_SCHEMA) != 0)
        return ar_fail(AR_EINPUT, "field 'schema': must be \"%s\"", AR_NOTE_SCHEMA);
    jv v;
    const char *kind = ar_jv_str(note, "kind");
    v = ar_jv_get(note, "kind");
    rc = jv_is_valid(v) ? ar_check_enum(v, "kind", ar_note_kinds) : ar_fail(AR_EINPUT, "field 'kind': required");
    jv_free(v);
    if (rc)
        return rc;
    v = ar_jv_get(note, "card");
    rc = jv_is_valid(v) ? ar_check_id(v, "card") : ar_fail(AR_EINPUT, "field 'card': required");
    jv_free(v);
    if (rc)
        return rc;
    v = ar_jv_get(note, "text");
    int is_status = strcmp(kind, "status") == 0;
    rc = jv_is_valid(v) ? ar_check_text(v, "text", is_status ? 0 : 1, AR_NOTE_TEXT_MAX, AR_TEXT_MULTILINE)
                        : ar_fail(AR_EINPUT, "field 'text': required");
    jv_free(v);
    if (rc)
        return rc;
    v = ar_jv_get(note, "status");
    if (is_status && !jv_is_valid(v))
        rc = ar_fail(AR_EINPUT, "field 'status': required for a status note");
    else if (!is_status && jv_is_valid(v))
        rc = ar_fail(AR_EINPUT, "field 'status': only allowed on a status note");
    else if (jv_is_valid(v))
        rc = ar_check_enum(v, "status", ar_card_statuses);
    jv_free(v);
    if (rc)
        return rc;
    v = ar_jv_get(note, "agent");
    rc = jv_is_valid(v) ? ar_check_text(v, "agent", 1, 128, 0) : ar_fail(AR_EINPUT, "field 'agent': required");
    jv_free(v);
    if (rc)
        return rc;
    const char *created = ar_jv_str(note, "created");
    if (!ar_created_valid(created))
        return ar_fail(AR_EINPUT, "field 'created': must be ISO-8601 UTC with milliseconds");
    if (ar_created_plausible(created, "created") != 0)
        return -1;
    if (stored) {
        v = ar_jv_get(note, "id");
        rc = jv_is_valid(v) ? ar_check_id(v, "id") : ar_fail(AR_EINPUT, "field 'id': required");
        jv_free(v);
        if (rc == 0 && !ar_id_matches(note))
            rc = ar_fail(AR_EINPUT, "field 'id': does not match the note's content");
    }
    return rc;
}

int ar_note_build(const struct ar_kb *kb, const char *card_id, const char *kind, const char *text,
                  const char *status, const char *now, char id[AR_ID_LEN + 1], jv *note)
{
    *note = jv_invalid();
    jv card;
    if (ar_card_load(kb, card_id, &card) != 0)
        return -1;
    jv_free(card);
    jv n = jv_object();
    ar_jv_set(&n, "schema", jv_string(AR_NOTE_SCHEMA));
    ar_jv_set(&n, "created", jv_string(now));
    ar_jv_set(&n, "card", jv_string(card_id));
    ar_jv_set(&n, "agent", jv_string(ar_agent_name()));
    ar_jv_set(&n, "kind", jv_string(kind));
    ar_jv_set(&n, "text", jv_string(text ? text : ""));
    if (status)
        ar_jv_set(&n, "status", jv_string(ar_card_status_norm(status)));
    if (ar_note_validate(n, 0) != 0 || ar_id_compute(n, id) != 0) {
        jv_free(n);
        return -1;
    }
    ar_jv_set(&n, "id", jv_string(id));
    *note = n;
    return 0;
}

int ar_note_store(const struct ar_kb *kb, jv note)
{
    char path[PATH_MAX];
    ar_kb_note_path(kb, ar_jv_str(note, "id"), path);
    struct ar_buf b = {0};
    ar_json_dump_buf(&b, note, AR_JSON_PRETTY);
    ar_buf_putc(&b, '\n');
    int rc = ar_create_atomic(path, b.data, b.len);
    ar_buf_free(&b);
    return rc < 0 ? -1 : rc == 1;
}

int ar_note_write(const struct ar_kb *kb, const char *card_id, const char *kind, const char *text,
                  const char *status, const char *now, char id[AR_ID_LEN + 1], jv *stored)
{
    jv note;
    if (ar_note_build(kb, card_id, kind, text, status, now, id, &note) != 0) {
        *stored = jv_invalid();
        return -1;
    }
    int rc = ar_note_store(kb, note);
    if (rc < 0) {
        jv_free(note);
        note = jv_invalid();
    }
    *stored = note;
    return rc;
}

int ar_note_read_file(const char *path, jv *note)
{
    char *text;
    size_t len;
    *note = jv_invalid();
    if (ar_read_file(path, 64 * 1024, &text, &len) != 0)
        return -1;
    int rc = ar_json_parse(text, len, path, note);
    free(text);
    if (rc == 0 && ar_note_validate(*note, 1) != 0) {
        ar_fail_prefix("%s", path);
        jv_free(*note);
        *note = jv_invalid();
        return -1;
    }
    return rc;
}

int ar_note_kind_of(const char *lesson, const char *status, const char *comment, const char **kind,
                    const char **text)
{
    int kinds = !!lesson + !!status + (!!comment && !status);
    if (kinds > 1)
        return ar_fail(AR_EINPUT, "note: give one of --lesson, --status, --comment");
    if (kinds == 0)
        return 1;
    if (status) {
        jv s = jv_string(status);
        int rc = ar_check_enum(s, "status", ar_card_statuses);
        jv_free(s);
        if (rc)
            return -1;
    }
    *kind = lesson ? "lesson" : status ? "status" : "comment";
    *text = lesson ? lesson : comment ? comment : "";
    return 0;
}

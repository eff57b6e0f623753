#include "facts/card.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/jtext.h"
#include "facts/schema.h"
#include "base/sha256.h"

const char *const ar_card_categories[] = {
    "architecture", "optimizer", "hyperparameter", "schedule", "regularization", "initialization",
    "data", "tokenizer", "efficiency", "baseline", "other", NULL,
};
const char *const ar_card_statuses[] = {
    "keep", "discard", "crash", "inconclusive", "baseline", "revert", NULL,
};

const char *ar_card_status_norm(const char *status)
{
    return status && strcmp(status, "revert") == 0 ? "discard" : status;
}

const char *ar_agent_name(void)
{
    static char name[256];
    const char *env = getenv("AR_AGENT");
    if (env && *env)
        return env;
    if (!name[0]) {
        char host[128] = "localhost";
        gethostname(host, sizeof host - 1);
        struct passwd *pw = getpwuid(getuid());
        snprintf(name, sizeof name, "%s@%s", pw ? pw->pw_name : "user", host);
    }
    return name;
}

/* Checks one field's value v; size is the length of its canonical compact
 * text (taken from the one dump of the whole card). */
typedef int (*field_check)(jv v, const char *field, size_t size);

/* the size limit of an object field, from its canonical size */
static int check_object_sized(jv v, const char *f, size_t size, size_t max)
{
    if (jv_get_kind(v) != JV_KIND_OBJECT)
        return ar_fail(AR_EINPUT, "field '%s': must be an object, not %s", f, ar_kind_name(v));
    if (size > max)
        return ar_fail(AR_EINPUT, "field '%s': larger than %zu bytes", f, max);
    return ar_check_strings_deep(v, f);
}

static int check_string128(jv v, const char *f, size_t size) { (void)size; return ar_check_text(v, f, 1, 128, 0); }
static int check_hypothesis(jv v, const char *f, size_t size)
{
    (void)size;
    return ar_check_text(v, f, 1, AR_HYPOTHESIS_MAX, AR_TEXT_MULTILINE);
}
static int check_category(jv v, const char *f, size_t size) { (void)size; return ar_check_enum(v, f, ar_card_categories); }
static int check_status(jv v, const char *f, size_t size) { (void)size; return ar_check_enum(v, f, ar_card_statuses); }
static int check_commit(jv v, const char *f, size_t size) { (void)size; return ar_check_hex(v, f, 7, 40); }
static int check_hash(jv v, const char *f, size_t size) { (void)size; return ar_check_hex(v, f, 64, 64); }
static int check_created(jv v, const char *f, size_t size)
{
    (void)size;
    if (jv_get_kind(v) != JV_KIND_STRING || !ar_created_valid(jv_string_value(v)))
        return ar_fail(AR_EINPUT, "field '%s': must be ISO-8601 UTC with milliseconds", f);
    return ar_created_plausible(jv_string_value(v), f);
}
static int check_schema(jv v, const char *f, size_t size)
{
    (void)size;
    if (jv_get_kind(v) != JV_KIND_STRING || strcmp(jv_string_value(v), AR_CARD_SCHEMA) != 0)
        return ar_fail(AR_EINPUT, "field '%s': must be \"%s\"", f, AR_CARD_SCHEMA);
    return 0;
}
static int check_nullable_number(jv v, const char *f, size_t size)
{
    (void)size;
    if (jv_get_kind(v) == JV_KIND_NULL)
        return 0;
    return ar_check_number(v, f, -1e9, 1e9, 0);
}
static int check_nullable_id(jv v, const char *f, size_t size)
{
    (void)size;
    return jv_get_kind(v) == JV_KIND_NULL ? 0 : ar_check_id(v, f);
}
static int check_seed(jv v, const char *f, size_t size) { (void)size; return ar_check_number(v, f, 0, 18446744073709551615.0, 1); }
static int check_budget(jv v, const char *f, size_t size) { (void)size; return ar_check_number(v, f, 0, 1e9, 0); }
static int check_extra(jv v, const char *f, size_t size)
{
    return check_object_sized(v, f, size, AR_EXTRA_MAX);
}
static int check_object(jv v, const char *f, size_t size)
{
    return check_object_sized(v, f, size, AR_CARD_MAX_BYTES);
}
static int check_id(jv v, const char *f, size_t size)
{
    (void)size;
    return ar_check_id(v, f);
}

static int check_tags(jv v, const char *f, size_t size)
{
    (void)size;
    if (jv_get_kind(v) != JV_KIND_ARRAY)
        return ar_fail(AR_EINPUT, "field '%s': must be an array, not %s", f, ar_kind_name(v));
    int n = jv_array_length(jv_copy(v));
    if (n > AR_TAGS_MAX)
        return ar_fail(AR_EINPUT, "field '%s': more than %d tags", f, AR_TAGS_MAX);
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "tags[%d]", i);
        jv t = jv_array_get(jv_copy(v), i);
        int rc = ar_check_tag(t, name);
        for (int j = 0; rc == 0 && j < i; j++) {
            jv u = jv_array_get(jv_copy(v), j);
            if (jv_equal(jv_copy(t), u))
                rc = ar_fail(AR_EINPUT, "field '%s': duplicate tag '%s'", name, jv_string_value(t));
        }
        jv_free(t);
        if (rc)
            return rc;
    }
    return 0;
}

static int check_id_list(jv v, const char *f, size_t size)
{
    (void)size;
    if (jv_get_kind(v) != JV_KIND_ARRAY)
        return ar_fail(AR_EINPUT, "field '%s': must be an array, not %s", f, ar_kind_name(v));
    int rc = 0, i = 0;
    jv_array_foreach(v, j, e) {
        char name[48];
        snprintf(name, sizeof name, "%s[%d]", f, j);
        if (rc == 0 && j < 1000)
            rc = ar_check_id(e, name);
        jv_free(e);
        i++;
    }
    if (rc == 0 && i > 256)
        return ar_fail(AR_EINPUT, "field '%s': more than 256 ids", f);
    return rc;
}

static int check_changes(jv v, const char *f, size_t size)
{
    (void)size;
    if (jv_get_kind(v) != JV_KIND_ARRAY)
        return ar_fail(AR_EINPUT, "field '%s': must be an array, not %s", f, ar_kind_name(v));
    int rc = 0;
    jv_array_foreach(v, i, e) {
        char name[48];
        snprintf(name, sizeof name, "changes[%d]", i);
        if (rc == 0 && jv_get_kind(e) != JV_KIND_OBJECT)
            rc = ar_fail(AR_EINPUT, "field '%s': must be an object {key, from, to}", name);
        if (rc == 0) {
            jv k = ar_jv_get(e, "key");
            char kname[64];
            snprintf(kname, sizeof kname, "%s.key", name);
            rc = ar_check_text(k, kname, 1, 128, 0);
            jv_free(k);
        }
        if (rc == 0) {
            jv_object_foreach(e, k, x) {
                const char *ks = jv_string_value(k);
                if (rc == 0 && strcmp(ks, "key") && strcmp(ks, "from") && strcmp(ks, "to"))
                    rc = ar_fail(AR_EINPUT, "field '%s.%s': unknown field", name, ks);
                jv_free(k);
                jv_free(x);
            }
        }
        if (rc == 0)
            rc = ar_check_strings_deep(e, name);
        jv_free(e);
    }
    return rc;
}


static int check_metrics(jv v, const char *f, size_t size)
{
    if (check_object_sized(v, f, size, 8192))
        return -1;
    int rc = 0;
    jv_object_foreach(v, k, x) {
        char name[160];
        snprintf(name, sizeof name, "metrics.%s", jv_string_value(k));
        if (rc == 0) {
            if (strcmp(jv_string_value(k), "val_bpb") == 0) {
                rc = ar_check_number(x, name, -1e300, 1e300, 0);
                double b = rc == 0 ? jv_number_value(x) : 0;
                if (rc == 0 && (b < AR_VAL_BPB_MIN || b > AR_VAL_BPB_MAX))
                    rc = ar_fail(AR_EINPUT,
                                 "field '%s': %g bits per byte is not plausible (must be between %g and %g)",
                                 name, b, AR_VAL_BPB_MIN, AR_VAL_BPB_MAX);
            } else {
                rc = ar_check_number(x, name, -1e18, 1e18, 0);
            }
        }
        jv_free(k);
        jv_free(x);
    }
    return rc;
}

static int check_platform(jv v, const char *f, size_t size)
{
    if (check_object_sized(v, f, size, 8192))
        return -1;
    jv cls = ar_jv_get(v, "class");
    int rc = jv_is_valid(cls) ? ar_check_tag(cls, "platform.class")
                              : ar_fail(AR_EINPUT, "field 'platform.class': required");
    jv_free(cls);
    static const char *const texts[] = {"device", "name", "os", "compiler", NULL};
    for (int i = 0; rc == 0 && texts[i]; i++) {
        jv x = ar_jv_get(v, texts[i]);
        char name[64];
        snprintf(name, sizeof name, "platform.%s", texts[i]);
        if (jv_is_valid(x))
            rc = ar_check_text(x, name, 0, 256, 0);
        jv_free(x);
    }
    static const char *const nums[] = {"cores", "mem_gb", "gpu_mem_gb", NULL};
    for (int i = 0; rc == 0 && nums[i]; i++) {
        jv x = ar_jv_get(v, nums[i]);
        char name[64];
        snprintf(name, sizeof name, "platform.%s", nums[i]);
        if (jv_is_valid(x) && jv_get_kind(x) != JV_KIND_NULL)
            rc = ar_check_number(x, name, 0, 1e9, 0);
        jv_free(x);
    }
    return rc;
}

struct field {
    const char *name;
    field_check check;
    int required;   /* 1: always; 2: only on stored cards (filled on write) */
};

static const struct field fields[] = {
    {"schema", check_schema, 2},
    {"id", check_id, 2},
    {"created", check_created, 2},
    {"agent", check_string128, 2},
    {"session", check_string128, 0},
    {"commit", check_commit, 0},   /* ar-card write fills it; an import of a log without one has none */
    {"parent_commit", check_commit, 0},
    {"hypothesis", check_hypothesis, 1},
    {"category", check_category, 1},
    {"tags", check_tags, 0},
    {"changes", check_changes, 0},
    {"config", check_object, 0},
    {"config_hash", check_hash, 0},
    {"status", check_status, 1},
    {"metrics", check_metrics, 0},
    {"delta", check_nullable_number, 0},
    {"baseline", check_nullable_id, 0},
    {"prior_cards", check_id_list, 0},
    {"verifies", check_id, 0},
    {"seed", check_seed, 0},
    {"budget_s", check_budget, 0},
    {"platform", check_platform, 2},
    {"data", check_object, 0},
    {"extra", check_extra, 0},
};
#define NFIELDS (sizeof fields / sizeof fields[0])

int ar_card_validate(jv card, int flags)
{
    struct ar_buf text = {0};
    int rc = ar_card_validate_text(card, flags, &text);
    ar_buf_free(&text);
    return rc;
}

/* The canonical size of each field comes from one compact dump of the card:
 * dumping is what validation used to spend its time on. */
int ar_card_validate_text(jv card, int flags, struct ar_buf *text)
{
    text->len = 0;
    if (jv_get_kind(card) != JV_KIND_OBJECT)
        return ar_fail(AR_EINPUT, "card: must be a JSON object, not %s", ar_kind_name(card));
    int rc = 0;
    jv_object_foreach(card, k, v) {
        size_t i = 0;
        while (i < NFIELDS && strcmp(fields[i].name, jv_string_value(k)) != 0)
            i++;
        if (rc == 0 && i == NFIELDS) {
            char shown[80];
            snprintf(shown, sizeof shown, "%s", jv_string_value(k));
            for (char *p = shown; *p; p++)
                if ((unsigned char)*p < 0x20)
                    *p = '?';
            rc = ar_fail(AR_EINPUT, "field '%s': unknown field", shown);
        }
        jv_free(k);
        jv_free(v);
    }
    if (rc)
        return rc;
    ar_json_dump_buf(text, card, AR_JSON_COMPACT);
    struct ar_jmember m[NFIELDS];
    int nm = ar_jtext_members(text->data, text->len, m, (int)NFIELDS);
    if (nm < 0 || nm > (int)NFIELDS)
        return ar_fail(AR_EINPUT, "card: cannot read its canonical form");
    for (size_t i = 0; rc == 0 && i < NFIELDS; i++) {
        jv v = ar_jv_get(card, fields[i].name);
        if (!jv_is_valid(v)) {
            if (fields[i].required == 1 || (fields[i].required == 2 && (flags & AR_CARD_STORED)))
                rc = ar_fail(AR_EINPUT, "field '%s': required", fields[i].name);
        } else {
            int at = ar_jtext_find(text->data, m, nm, fields[i].name);
            rc = fields[i].check(v, fields[i].name, at >= 0 ? m[at].vallen : 0);
        }
        jv_free(v);
    }
    if (rc)
        return rc;

    const char *status = ar_card_status_norm(ar_jv_str(card, "status"));
    jv metrics = ar_jv_get(card, "metrics");
    int has_bpb = ar_jv_has(metrics, "val_bpb");
    jv_free(metrics);
    if (strcmp(status, "crash") == 0 && has_bpb)
        return ar_fail(AR_EINPUT, "field 'metrics.val_bpb': must be absent on a crash card");
    if (strcmp(status, "crash") != 0 && !has_bpb)
        return ar_fail(AR_EINPUT, "field 'metrics.val_bpb': required unless status is crash");

    int cfg = ar_jtext_find(text->data, m, nm, "config");
    const char *given = ar_jv_str(card, "config_hash");
    if (cfg >= 0 && given) {
        char hex[65];
        ar_sha256_hex(text->data + m[cfg].val, m[cfg].vallen, hex);
        if (strcmp(hex, given) != 0)
            return ar_fail(AR_EINPUT, "field 'config_hash': does not match config");
    }
    if (ar_jtext_pretty_len(text->data, text->len) > AR_CARD_MAX_BYTES)
        return ar_fail(AR_EINPUT, "card: larger than %d bytes", AR_CARD_MAX_BYTES);
    if ((flags & AR_CARD_STORED) && !ar_id_matches_text(text->data, text->len))
        return ar_fail(AR_EINPUT, "field 'id': does not match the card's content");
    return 0;
}

int ar_card_complete(jv *card)
{
    if (jv_get_kind(*card) != JV_KIND_OBJECT)
        return ar_fail(AR_EINPUT, "card: must be a JSON object, not %s", ar_kind_name(*card));
    *card = jv_object_delete(*card, jv_string("id"));
    if (!ar_jv_has(*card, "schema"))
        ar_jv_set(card, "schema", jv_string(AR_CARD_SCHEMA));
    if (!ar_jv_has(*card, "created")) {
        char now[AR_CREATED_LEN + 1];
        ar_now_iso(now);
        ar_jv_set(card, "created", jv_string(now));
    }
    if (!ar_jv_has(*card, "agent"))
        ar_jv_set(card, "agent", jv_string(ar_agent_name()));
    const char *status = ar_jv_str(*card, "status");
    if (status && strcmp(status, "revert") == 0)
        ar_jv_set(card, "status", jv_string("discard"));
    jv config = ar_jv_get(*card, "config");
    if (jv_get_kind(config) == JV_KIND_OBJECT && !ar_jv_has(*card, "config_hash")) {
        char hex[65];
        ar_json_hash(config, hex);
        ar_jv_set(card, "config_hash", jv_string(hex));
    }
    jv_free(config);
    if (ar_card_validate(*card, 0) != 0)
        return -1;
    char id[AR_ID_LEN + 1];
    if (ar_id_compute(*card, id) != 0)
        return ar_fail(AR_EINPUT, "field 'created': must be ISO-8601 UTC with milliseconds");
    ar_jv_set(card, "id", jv_string(id));
    return ar_card_validate(*card, AR_CARD_STORED);
}

int ar_card_store(const struct ar_kb *kb, jv card, char id[AR_ID_LEN + 1])
{
    if (ar_card_validate(card, AR_CARD_STORED) != 0)
        return -1;
    snprintf(id, AR_ID_LEN + 1, "%s", ar_jv_str(card, "id"));
    char path[PATH_MAX];
    ar_kb_card_path(kb, id, path);
    struct ar_buf text = {0};
    ar_json_dump_buf(&text, card, AR_JSON_PRETTY);
    ar_buf_putc(&text, '\n');
    int rc = ar_create_atomic(path, text.data, text.len);
    ar_buf_free(&text);
    return rc < 0 ? -1 : 0;
}

int ar_card_read_file(const char *path, jv *card, int flags)
{
    char *text;
    size_t len;
    *card = jv_invalid();
    if (ar_read_file(path, AR_CARD_MAX_BYTES + 4096, &text, &len) != 0)
        return -1;
    int rc = ar_json_parse(text, len, path, card);
    free(text);
    if (rc == 0 && ar_card_validate(*card, flags) != 0) {
        ar_fail_prefix("%s", path);
        jv_free(*card);
        *card = jv_invalid();
        return -1;
    }
    return rc;
}

int ar_card_load(const struct ar_kb *kb, const char *id, jv *card)
{
    *card = jv_invalid();
    if (!ar_id_valid(id))
        return ar_fail(AR_EINPUT, "card id '%.80s': not of the form YYYYMMDDTHHMMSSZ-<12 hex>", id);
    char path[PATH_MAX];
    ar_kb_card_path(kb, id, path);
    if (access(path, F_OK) != 0)
        return ar_fail(AR_EINPUT, "card %s: not found in %s", id, kb->root);
    return ar_card_read_file(path, card, AR_CARD_STORED);
}

#include "facts/schema.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "facts/id.h"
#include "base/json.h"

const char *ar_kind_name(jv v)
{
    switch (jv_get_kind(v)) {
    case JV_KIND_NULL: return "null";
    case JV_KIND_TRUE:
    case JV_KIND_FALSE: return "boolean";
    case JV_KIND_NUMBER: return "number";
    case JV_KIND_STRING: return "string";
    case JV_KIND_ARRAY: return "array";
    case JV_KIND_OBJECT: return "object";
    default: return "nothing";
    }
}

static int want_kind(jv v, const char *field, jv_kind kind, const char *name)
{
    if (jv_get_kind(v) == kind)
        return 0;
    return ar_fail(AR_EINPUT, "field '%s': must be %s, not %s", field, name, ar_kind_name(v));
}

static int bad_control(const char *s, size_t len, int multiline)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 || c == 0x7f) && !(multiline && (c == '\n' || c == '\t')))
            return 1;
    }
    return 0;
}

/* Invisible format characters: bidirectional embeddings, overrides and
 * isolates (U+202A-U+202E, U+2066-U+2069), zero-width characters and marks,
 * the byte-order mark, invisible operators, interlinear annotation and tag
 * characters (U+E0000-U+E007F). They let text read differently from what it
 * holds, so text that reaches agents refuses them. */
int ar_invisible_format(uint32_t c)
{
    return c == 0x00ad || c == 0x061c || c == 0x180e || (c >= 0x200b && c <= 0x200f) ||
           (c >= 0x202a && c <= 0x202e) || (c >= 0x2060 && c <= 0x206f) || c == 0xfeff ||
           (c >= 0xfff9 && c <= 0xfffb) || (c >= 0xe0000 && c <= 0xe007f);
}

uint32_t ar_text_invisible(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        uint32_t c = p[i];
        size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        if (n > 1 && i + n <= len) {
            c &= 0x3f >> (n - 1);
            for (size_t k = 1; k < n; k++)
                c = c << 6 | (p[i + k] & 0x3f);
        }
        if (n > 1 && ar_invisible_format(c))
            return c;
        i += n;
    }
    return 0;
}

static int bad_text(const char *s, size_t len, int multiline, const char *field)
{
    if (bad_control(s, len, multiline))
        return ar_fail(AR_EINPUT, "field '%s': control characters are not allowed", field);
    uint32_t c = ar_text_invisible(s, len);
    if (c)
        return ar_fail(AR_EINPUT, "field '%s': invisible format character U+%04X is not allowed", field,
                       (unsigned)c);
    return 0;
}

int ar_check_text(jv v, const char *field, size_t min, size_t max, int flags)
{
    if (want_kind(v, field, JV_KIND_STRING, "a string"))
        return -1;
    size_t len = (size_t)jv_string_length_bytes(jv_copy(v));
    const char *s = jv_string_value(v);
    if (len < min)
        return ar_fail(AR_EINPUT, "field '%s': %s", field, min == 1 ? "empty" : "too short");
    if (len > max)
        return ar_fail(AR_EINPUT, "field '%s': longer than %zu bytes", field, max);
    return bad_text(s, len, flags & AR_TEXT_MULTILINE, field);
}

int ar_check_enum(jv v, const char *field, const char *const *choices)
{
    if (want_kind(v, field, JV_KIND_STRING, "a string"))
        return -1;
    for (const char *const *c = choices; *c; c++)
        if (strcmp(jv_string_value(v), *c) == 0)
            return 0;
    char list[512] = "";
    for (const char *const *c = choices; *c; c++) {
        strncat(list, *c, sizeof list - strlen(list) - 3);
        if (c[1])
            strncat(list, ", ", sizeof list - strlen(list) - 1);
    }
    char shown[80];
    snprintf(shown, sizeof shown, "%s", jv_string_value(v));
    if (bad_control(shown, strlen(shown), 0))
        snprintf(shown, sizeof shown, "(with control characters)");
    return ar_fail(AR_EINPUT, "field '%s': unknown value '%s' (one of: %s)", field, shown, list);
}

int ar_check_tag(jv v, const char *field)
{
    if (want_kind(v, field, JV_KIND_STRING, "a string"))
        return -1;
    const char *s = jv_string_value(v);
    size_t n = (size_t)jv_string_length_bytes(jv_copy(v));
    int ok = n >= 1 && n <= 64;
    for (size_t i = 0; ok && i < n; i++) {
        char c = s[i];
        ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    }
    if (!ok)
        return ar_fail(AR_EINPUT, "field '%s': must match [a-z0-9_.-]{1,64}", field);
    return 0;
}

int ar_check_id(jv v, const char *field)
{
    if (want_kind(v, field, JV_KIND_STRING, "a string"))
        return -1;
    if (!ar_id_valid(jv_string_value(v)))
        return ar_fail(AR_EINPUT, "field '%s': not an id of the form YYYYMMDDTHHMMSSZ-<12 hex>", field);
    return 0;
}

int ar_check_hex(jv v, const char *field, size_t min, size_t max)
{
    if (want_kind(v, field, JV_KIND_STRING, "a string"))
        return -1;
    const char *s = jv_string_value(v);
    size_t n = strlen(s);
    int ok = n >= min && n <= max && (size_t)jv_string_length_bytes(jv_copy(v)) == n;
    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
    if (!ok)
        return ar_fail(AR_EINPUT, "field '%s': must be %zu to %zu lower-case hex digits", field, min, max);
    return 0;
}

int ar_check_number(jv v, const char *field, double lo, double hi, int integer)
{
    if (want_kind(v, field, JV_KIND_NUMBER, "a number"))
        return -1;
    double d = jv_number_value(v);
    if (!isfinite(d))
        return ar_fail(AR_EINPUT, "field '%s': must be finite", field);
    if (integer && d != floor(d))
        return ar_fail(AR_EINPUT, "field '%s': must be an integer", field);
    if (d < lo || d > hi)
        return ar_fail(AR_EINPUT, "field '%s': %g is out of range [%g, %g]", field, d, lo, hi);
    return 0;
}

int ar_check_strings_deep(jv v, const char *field)
{
    switch (jv_get_kind(v)) {
    case JV_KIND_STRING:
        return bad_text(jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)), 1, field);
    case JV_KIND_ARRAY: {
        int rc = 0;
        jv_array_foreach(v, i, e) {
            if (rc == 0)
                rc = ar_check_strings_deep(e, field);
            jv_free(e);
        }
        return rc;
    }
    case JV_KIND_OBJECT: {
        int rc = 0;
        jv_object_foreach(v, k, e) {
            if (rc == 0)
                rc = ar_check_strings_deep(k, field);
            if (rc == 0)
                rc = ar_check_strings_deep(e, field);
            jv_free(k);
            jv_free(e);
        }
        return rc;
    }
    default:
        return 0;
    }
}

int ar_check_object(jv v, const char *field, size_t max)
{
    if (want_kind(v, field, JV_KIND_OBJECT, "an object"))
        return -1;
    char *s = ar_json_dump(v, AR_JSON_COMPACT);
    size_t n = strlen(s);
    free(s);
    if (n > max)
        return ar_fail(AR_EINPUT, "field '%s': larger than %zu bytes", field, max);
    return ar_check_strings_deep(v, field);
}

/* Tool arguments checked against the tool's own input schema, so that what
 * tools/list shows and what a call accepts are one table (mcp_int.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "facts/schema.h"
#include "mcp/mcp_int.h"

static int kind_is(jv v, const char *type)
{
    jv_kind k = jv_get_kind(v);
    if (!strcmp(type, "string"))
        return k == JV_KIND_STRING;
    if (!strcmp(type, "number"))
        return k == JV_KIND_NUMBER;
    if (!strcmp(type, "integer"))
        return k == JV_KIND_NUMBER && jv_number_value(v) == floor(jv_number_value(v)) &&
               fabs(jv_number_value(v)) < 9007199254740992.0;
    if (!strcmp(type, "boolean"))
        return k == JV_KIND_TRUE || k == JV_KIND_FALSE;
    if (!strcmp(type, "object"))
        return k == JV_KIND_OBJECT;
    if (!strcmp(type, "array"))
        return k == JV_KIND_ARRAY;
    return k == JV_KIND_NULL && !strcmp(type, "null");
}

static const char *article(const char *type)
{
    return type[0] == 'a' || type[0] == 'i' || type[0] == 'o' ? "an" : "a";
}

static int check(jv schema, jv v, const char *name)
{
    const char *type = ar_jv_str(schema, "type");
    if (type && !kind_is(v, type))
        return ar_fail(AR_EINPUT, "argument '%s': must be %s %s, not %s", name, article(type), type,
                       ar_kind_name(v));
    jv en = ar_jv_get(schema, "enum");
    if (jv_is_valid(en)) {
        int found = 0;
        jv_array_foreach(en, i, c) {
            (void)i;
            found |= jv_equal(c, jv_copy(v));
        }
        jv_free(en);
        if (!found)
            return ar_fail(AR_EINPUT, "argument '%s': not one of the allowed values", name);
    }
    if (jv_get_kind(v) == JV_KIND_NUMBER) {
        double x = jv_number_value(v);
        if (ar_jv_has(schema, "minimum") && x < ar_jv_num(schema, "minimum", 0))
            return ar_fail(AR_EINPUT, "argument '%s': %g is below the minimum %g", name, x,
                           ar_jv_num(schema, "minimum", 0));
        if (ar_jv_has(schema, "maximum") && x > ar_jv_num(schema, "maximum", 0))
            return ar_fail(AR_EINPUT, "argument '%s': %g is above the maximum %g", name, x,
                           ar_jv_num(schema, "maximum", 0));
    }
    if (jv_get_kind(v) == JV_KIND_STRING) {
        /* the same characters a card's text may hold: no control characters
         * but tab and newline, no invisible format characters */
        if (ar_check_text(v, name, (size_t)ar_jv_num(schema, "minLength", 0),
                          (size_t)ar_jv_num(schema, "maxLength", 1 << 20), AR_TEXT_MULTILINE) != 0) {
            char why[512];
            const char *m = ar_last_error();
            snprintf(why, sizeof why, "%s", strncmp(m, "field ", 6) == 0 ? m + 6 : m);
            return ar_fail(AR_EINPUT, "argument %s", why);
        }
    }
    if (jv_get_kind(v) == JV_KIND_ARRAY) {
        int n = jv_array_length(jv_copy(v));
        if (ar_jv_has(schema, "minItems") && n < ar_jv_num(schema, "minItems", 0))
            return ar_fail(AR_EINPUT, "argument '%s': needs at least %g items", name, ar_jv_num(schema, "minItems", 0));
        if (ar_jv_has(schema, "maxItems") && n > ar_jv_num(schema, "maxItems", 0))
            return ar_fail(AR_EINPUT, "argument '%s': at most %g items", name, ar_jv_num(schema, "maxItems", 0));
        jv items = ar_jv_get(schema, "items");
        int rc = 0;
        if (jv_is_valid(items))
            for (int i = 0; i < n && rc == 0; i++) {
                char sub[160];
                snprintf(sub, sizeof sub, "%.120s[%d]", name, i);
                jv x = jv_array_get(jv_copy(v), i);
                rc = check(items, x, sub);
                jv_free(x);
            }
        jv_free(items);
        if (rc)
            return rc;
    }
    return 0;
}

int ar_mcp_check_args(jv schema, jv args)
{
    if (jv_get_kind(args) != JV_KIND_OBJECT)
        return ar_fail(AR_EINPUT, "arguments: must be an object, not %s", ar_kind_name(args));
    jv props = ar_jv_get(schema, "properties");
    int rc = 0;
    jv_object_foreach(args, k, v) {
        jv p = rc ? jv_invalid() : ar_jv_get(props, jv_string_value(k));
        if (rc == 0 && !jv_is_valid(p))
            rc = ar_fail(AR_EINPUT, "unknown argument '%.100s'", jv_string_value(k));
        else if (rc == 0)
            rc = check(p, v, jv_string_value(k));
        jv_free(p);
        jv_free(k);
        jv_free(v);
    }
    jv req = ar_jv_get(schema, "required");
    if (rc == 0 && jv_is_valid(req))
        jv_array_foreach(req, i, name) {
            (void)i;
            if (rc == 0 && !ar_jv_has(args, jv_string_value(name)))
                rc = ar_fail(AR_EINPUT, "argument '%s' is required", jv_string_value(name));
            jv_free(name);
        }
    jv_free(req);
    jv_free(props);
    return rc;
}

#include "queue/grid.h"

#include <stdlib.h>
#include <string.h>

#include "base/cli.h"
#include "base/err.h"
#include "base/json.h"
#include "facts/config_keys.h"

int ar_set_split(const char *s, char *key, size_t n, const char **value)
{
    const char *eq = strchr(s, '=');
    if (!eq || eq == s)
        return ar_fail(AR_EINPUT, "--set: '%s' is not of the form key=value", s);
    if ((size_t)(eq - s) >= n)
        return ar_fail(AR_EINPUT, "--set: unknown key '%.*s' (see ar-train --keys)", (int)(eq - s), s);
    memcpy(key, s, (size_t)(eq - s));
    key[eq - s] = '\0';
    *value = eq + 1;
    return 0;
}

int ar_set_overrides(const char *const *sets, int n, jv *out)
{
    jv ov = jv_object();
    for (int i = 0; i < n; i++) {
        char key[128];
        const char *value;
        jv v;
        if (ar_set_split(sets[i], key, sizeof key, &value) != 0)
            goto fail;
        if (ar_jv_has(ov, key)) {
            ar_fail(AR_EINPUT, "--set: key '%s' given twice", key);
            goto fail;
        }
        if (ar_config_parse(key, value, "--set", &v) != 0)
            goto fail;
        ar_jv_set(&ov, key, v);
    }
    *out = ov;
    return 0;
fail:
    jv_free(ov);
    return -1;
}

/* One axis "KEY=V1,V2,...": its key appended to *keys, its typed values
 * to *axes. */
static int axis(const char *set, jv *keys, jv *axes)
{
    char key[128];
    const char *list;
    if (ar_set_split(set, key, sizeof key, &list) != 0)
        return -1;
    jv_array_foreach(*keys, i, k) {
        (void)i;
        int same = strcmp(jv_string_value(k), key) == 0;
        jv_free(k);
        if (same)
            return ar_fail(AR_EINPUT, "--set: key '%s' given twice", key);
    }
    jv texts = ar_split_commas(list), vals = jv_array();
    int rc = 0;
    jv_array_foreach(texts, i, t) {
        (void)i;
        jv v;
        if (rc == 0 && (rc = ar_config_parse(key, jv_string_value(t), "--set", &v)) == 0)
            vals = jv_array_append(vals, v);
        jv_free(t);
    }
    jv_free(texts);
    if (rc == 0 && jv_array_length(jv_copy(vals)) == 0)
        rc = ar_fail(AR_EINPUT, "--set: '%s' has no values", set);
    if (rc != 0) {
        jv_free(vals);
        return -1;
    }
    *keys = jv_array_append(*keys, jv_string(key));
    *axes = jv_array_append(*axes, vals);
    return 0;
}

int ar_grid_entries(const char *const *sets, int n, jv base, jv *entries, jv *keys)
{
    jv k = jv_array(), axes = jv_array();
    double total = 1;
    for (int a = 0; a < n; a++) {
        if (axis(sets[a], &k, &axes) != 0) {
            jv_free(k);
            jv_free(axes);
            return -1;
        }
        jv last = jv_array_get(jv_copy(axes), a);
        total *= jv_array_length(last);
    }
    if (total > AR_GRID_MAX) {
        jv_free(k);
        jv_free(axes);
        return ar_fail(AR_EINPUT, "grid: %g entries is more than %d", total, AR_GRID_MAX);
    }
    jv out = jv_array();
    for (size_t i = 0; i < (size_t)total; i++) {
        jv ov = jv_object();
        size_t rest = i;
        for (int a = n - 1; a >= 0; a--) {   /* the first axis varies slowest */
            jv vals = jv_array_get(jv_copy(axes), a), key = jv_array_get(jv_copy(k), a);
            size_t len = (size_t)jv_array_length(jv_copy(vals));
            ar_jv_set(&ov, jv_string_value(key), jv_array_get(vals, (int)(rest % len)));
            jv_free(key);
            rest /= len;
        }
        jv e = jv_copy(base);
        ar_jv_set(&e, "overrides", ov);
        out = jv_array_append(out, e);
    }
    jv_free(axes);
    *entries = out;
    *keys = k;
    return 0;
}

/* lib/analysis/suggest.c: queue fields for plan suggestions. (The pipeline
 * and replications run in tests/cli/queue_plan.sh over a knowledge base.) */
#include <string.h>

#include "analysis/suggest.h"
#include "base/json.h"
#include "facts/config_keys.h"
#include "unit.h"

static jv one(const char *key, jv v)
{
    jv o = jv_object();
    ar_jv_set(&o, key, v);
    return o;
}

START_TEST(accepts_checks_values_and_relations)
{
    jv c = ar_config_defaults();
    jv ok = one("depth", jv_number(4)), range = one("depth", jv_number(99));
    jv rel = one("n_kv_head", jv_number(2)), unknown = one("colour", jv_string("red"));
    ck_assert(ar_config_accepts(c, ok));
    ck_assert(!ar_config_accepts(c, range));
    ck_assert(!ar_config_accepts(c, rel));
    ck_assert(!ar_config_accepts(c, unknown));
    ck_assert(ar_jv_num(c, "depth", 0) == 3);   /* config is borrowed */
    jv_free(ok); jv_free(range); jv_free(rel); jv_free(unknown);
    jv_free(c);
}
END_TEST

/* overrides the trainer refuses fall back on alt_overrides, shown in s */
START_TEST(fields_fall_back_on_alt_overrides)
{
    jv c = ar_config_defaults(), entries = jv_array();
    jv s = jv_object();
    ar_jv_set(&s, "kind", jv_string("explore"));
    ar_jv_set(&s, "hypothesis", jv_string("explore depth -> 99"));
    ar_jv_set(&s, "category", jv_string("architecture"));
    ar_jv_set(&s, "priority", jv_number(7));
    ar_jv_set(&s, "overrides", one("depth", jv_number(99)));
    ar_jv_set(&s, "alt_overrides", one("depth", jv_number(2)));
    char skip[256] = "";
    struct ar_kb *kb = NULL;
    jv f = ar_suggestion_fields(kb, entries, c, &s, skip, sizeof skip);
    ck_assert(jv_is_valid(f));
    ck_assert_str_eq(skip, "");
    ck_assert_str_eq(ar_jv_str(f, "hypothesis"), "explore depth -> 2");
    ck_assert_str_eq(ar_jv_str(s, "hypothesis"), "explore depth -> 2");
    ck_assert(ar_jv_num(f, "priority", 0) == 7);
    jv ov = ar_jv_get(f, "overrides");
    ck_assert(ar_jv_num(ov, "depth", 0) == 2);
    jv_free(ov);
    jv_free(f);
    ar_jv_set(&s, "alt_overrides", one("depth", jv_number(0)));
    ar_jv_set(&s, "overrides", one("depth", jv_number(99)));
    f = ar_suggestion_fields(kb, entries, c, &s, skip, sizeof skip);
    ck_assert(!jv_is_valid(f));
    ck_assert_str_eq(skip, "the trainer does not accept these values");
    jv_free(f);
    jv_free(s);
    jv_free(entries);
    jv_free(c);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("suggest");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, accepts_checks_values_and_relations);
    tcase_add_test(tc, fields_fall_back_on_alt_overrides);
    suite_add_tcase(s, tc);
    return s;
}

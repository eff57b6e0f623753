#include "unit.h"
#include "base/err.h"
#include "base/json.h"

#include <stdlib.h>
#include <string.h>

static char *canon(const char *text)
{
    jv v;
    ck_assert_int_eq(ar_json_parse(text, strlen(text), "test", &v), 0);
    char *s = ar_json_dump(v, AR_JSON_COMPACT);
    jv_free(v);
    return s;
}

START_TEST(canonical_sorts_keys_and_numbers)
{
    char *s = canon("{ \"b\": [1.0, 0.1, -0, 1e300, 12345678901234567], \"a\": \"x\\u0001\\\"\" }");
    ck_assert_str_eq(s, "{\"a\":\"x\\u0001\\\"\",\"b\":[1,0.1,0,1e+300,12345678901234568]}");
    free(s);
    s = canon("0.9979");
    ck_assert_str_eq(s, "0.9979");
    free(s);
    s = canon("0.30000000000000004");
    ck_assert_str_eq(s, "0.30000000000000004");
    free(s);
}
END_TEST

START_TEST(pretty_reparses_to_same_value)
{
    const char *text = "{\"z\":{\"y\":[1,{\"x\":null}],\"w\":true},\"a\":[]}";
    jv v, w;
    ck_assert_int_eq(ar_json_parse(text, strlen(text), "t", &v), 0);
    char *p = ar_json_dump(v, AR_JSON_PRETTY);
    ck_assert_ptr_nonnull(strchr(p, '\n'));
    ck_assert_int_eq(ar_json_parse(p, strlen(p), "t", &w), 0);
    ck_assert(jv_equal(v, w));
    free(p);
}
END_TEST

START_TEST(rejects_nan_infinity_and_garbage)
{
    jv v;
    ck_assert_int_eq(ar_json_parse("{\"a\":{\"b\":[1,nan]}}", 19, "in", &v), -1);
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "a.b[1]"));
    ck_assert_int_eq(ar_json_parse("1e999", 5, "in", &v), -1);
    ck_assert_int_eq(ar_json_parse("{\"a\":1} x", 9, "in", &v), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "malformed JSON"));
    ck_assert_ptr_null(strchr(ar_last_error(), '\n'));
    ck_assert_int_eq(ar_json_parse("\"\xff\"", 3, "in", &v), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "UTF-8"));
}
END_TEST

static const char *parse_error(const char *text)
{
    jv v;
    ck_assert_int_eq(ar_json_parse(text, strlen(text), "in", &v), -1);
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    return ar_last_error();
}

START_TEST(rejects_duplicate_keys)
{
    ck_assert_str_eq(parse_error("{\"status\":\"keep\",\"a\":1,\"status\":\"crash\"}"),
                     "in: duplicate key 'status'");
    ck_assert_str_eq(parse_error("{\"m\":{\"a\":1,\"l\":[{\"a\":2},{\"a\":3}],\"a\" : 4}}"),
                     "in: duplicate key 'a'");
    /* the same key in sibling objects, and colons or escaped quotes inside
     * strings, are not repeats */
    const char *ok = "[{\"a\":1},{\"a\":\"x: \\\"a\\\": y\"}, {\"b\":{\"a\":1},\"a\":2}]";
    jv v;
    ck_assert_int_eq(ar_json_parse(ok, strlen(ok), "in", &v), 0);
    jv_free(v);
    /* a repeat written with an escape is still caught, if not by name */
    ck_assert_ptr_nonnull(strstr(parse_error("{\"a\":1,\"\\u0061\":2}"), "duplicate key"));
}
END_TEST

START_TEST(utf8_validation)
{
    ck_assert(ar_utf8_valid("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15));
    ck_assert(!ar_utf8_valid("\xc0\xaf", 2));          /* overlong */
    ck_assert(!ar_utf8_valid("\xed\xa0\x80", 3));      /* surrogate */
    ck_assert(!ar_utf8_valid("\xf4\x90\x80\x80", 4));  /* > U+10FFFF */
    ck_assert(!ar_utf8_valid("\xe2\x82", 2));          /* truncated */
}
END_TEST

START_TEST(hash_ignores_key_order)
{
    jv a, b;
    ck_assert_int_eq(ar_json_parse("{\"x\":1,\"y\":2}", 13, "a", &a), 0);
    ck_assert_int_eq(ar_json_parse("{\"y\":2,\"x\":1.0}", 15, "b", &b), 0);
    char ha[65], hb[65];
    ar_json_hash(a, ha);
    ar_json_hash(b, hb);
    ck_assert_str_eq(ha, hb);
    jv_free(a);
    jv_free(b);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, canonical_sorts_keys_and_numbers);
    tcase_add_test(tc, pretty_reparses_to_same_value);
    tcase_add_test(tc, rejects_nan_infinity_and_garbage);
    tcase_add_test(tc, utf8_validation);
    tcase_add_test(tc, rejects_duplicate_keys);
    tcase_add_test(tc, hash_ignores_key_order);
    suite_add_tcase(s, tc);
    return s;
}

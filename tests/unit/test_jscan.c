#include "unit.h"
#include "jscan.h"

#include <stdlib.h>
#include <string.h>

static struct ar_jspan span(const char *s)
{
    return (struct ar_jspan){s, strlen(s)};
}

START_TEST(members_in_order_with_nested_values)
{
    const char *line = "{\"a\":{\"x\":[1,{\"y\":\"}\"}]},\"b\":\"q\\\"}\",\"c\":-1.5e2,\"d\":[],\"e\":null}";
    struct ar_jiter it = ar_jscan_iter(span(line));
    struct ar_jspan k, v;
    const char *keys[] = {"a", "b", "c", "d", "e"};
    const char *vals[] = {"{\"x\":[1,{\"y\":\"}\"}]}", "\"q\\\"}\"", "-1.5e2", "[]", "null"};
    int n = 0;
    while (ar_jscan_member(&it, &k, &v)) {
        ck_assert_int_lt(n, 5);
        ck_assert(ar_jscan_key_is(k, keys[n]));
        ck_assert_int_eq((int)v.len, (int)strlen(vals[n]));
        ck_assert(memcmp(v.p, vals[n], v.len) == 0);
        n++;
    }
    ck_assert_int_eq(n, 5);
    double d = 0;
    ck_assert(ar_jscan_get(span(line), "c", &v));
    ck_assert(ar_jscan_num(v, &d));
    ck_assert(d == -150);
    ck_assert(ar_jscan_get(span(line), "e", &v) && ar_jscan_is_null(v));
    ck_assert(!ar_jscan_get(span(line), "z", &v));
}
END_TEST

START_TEST(array_elements)
{
    struct ar_jiter it = ar_jscan_iter(span("[ \"a\" , [1,2], {\"k\":3}, true ]"));
    struct ar_jspan v;
    int n = 0;
    while (ar_jscan_element(&it, &v))
        n++;
    ck_assert_int_eq(n, 4);
    it = ar_jscan_iter(span("[]"));
    ck_assert(!ar_jscan_element(&it, &v));
    ck_assert(ar_jscan_true(span("true")));
    ck_assert(!ar_jscan_true(span("false")));
}
END_TEST

START_TEST(strings_are_unescaped)
{
    char *s = ar_jscan_strdup(span("\"tab\\there \\u00e9 \\ud83d\\ude00 \\\\ \\/\""));
    ck_assert_str_eq(s, "tab\there \xc3\xa9 \xf0\x9f\x98\x80 \\ /");
    free(s);
    ck_assert_ptr_null(ar_jscan_strdup(span("12")));
    char out[6];
    ck_assert(ar_jscan_str(span("\"abcdefgh\""), out, sizeof out));
    ck_assert_str_eq(out, "abcde");
    /* never cuts a UTF-8 character in half */
    ck_assert(ar_jscan_str(span("\"abcd\xc3\xa9\""), out, sizeof out));
    ck_assert_str_eq(out, "abcd");
}
END_TEST

START_TEST(malformed_text_ends_the_walk)
{
    const char *bad[] = {"{\"a\":", "{\"a\"", "{\"a\":\"open", "{\"a\":[1,2", "{\"a\" 1}", "nope", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ar_jiter it = ar_jscan_iter(span(bad[i]));
        struct ar_jspan k, v;
        int n = 0;
        while (ar_jscan_member(&it, &k, &v) && n < 10) {
            ck_assert(v.p + v.len <= bad[i] + strlen(bad[i]));
            n++;
        }
        ck_assert_int_le(n, 1);
    }
    double d = 7;
    ck_assert(!ar_jscan_num(span("\"1\""), &d));
    ck_assert(!ar_jscan_num(span("1x"), &d));
    ck_assert(d == 7);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("jscan");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, members_in_order_with_nested_values);
    tcase_add_test(tc, array_elements);
    tcase_add_test(tc, strings_are_unescaped);
    tcase_add_test(tc, malformed_text_ends_the_walk);
    suite_add_tcase(s, tc);
    return s;
}

/* lib/facts/id.c: ids are time + content hash, and safe as file names. */
#include "unit.h"
#include "facts/id.h"
#include "base/json.h"

#include <stdlib.h>
#include <string.h>

START_TEST(id_form)
{
    ck_assert(ar_id_valid("20261123T131500Z-3f9a2c1b7d4e"));
    ck_assert(!ar_id_valid("20261123T131500Z-3f9a2c1b7d4"));     /* short */
    ck_assert(!ar_id_valid("20261123T131500Z-3F9A2C1B7D4E"));    /* upper case */
    ck_assert(!ar_id_valid("../../etc/passwd"));
    ck_assert(!ar_id_valid("20261123T131500Z/3f9a2c1b7d4e"));
    ck_assert(!ar_id_valid("20261123T131500Z-3f9a2c1b7d4e.json"));
    ck_assert(!ar_id_valid(""));
    ck_assert(!ar_id_valid(NULL));
}
END_TEST

START_TEST(created_form)
{
    ck_assert(ar_created_valid("2026-11-23T13:15:00.123Z"));
    ck_assert(!ar_created_valid("2026-11-23T13:15:00Z"));
    ck_assert(!ar_created_valid("2026-13-23T13:15:00.123Z"));
    ck_assert(!ar_created_valid("2026-11-23 13:15:00.123Z"));
    setenv("AR_NOW", "2030-01-02T03:04:05.678Z", 1);
    char now[AR_CREATED_LEN + 1];
    ar_now_iso(now);
    ck_assert_str_eq(now, "2030-01-02T03:04:05.678Z");
    unsetenv("AR_NOW");
    ar_now_iso(now);
    ck_assert(ar_created_valid(now));
}
END_TEST

START_TEST(id_is_time_and_hash)
{
    const char *text = "{\"created\":\"2026-11-23T13:15:00.123Z\",\"b\":[1,2],\"a\":\"x\"}";
    jv rec;
    ck_assert_int_eq(ar_json_parse(text, strlen(text), "t", &rec), 0);
    char id[AR_ID_LEN + 1], hex[65];
    ck_assert_int_eq(ar_id_compute(rec, id), 0);
    ar_json_hash(rec, hex);
    ck_assert(strncmp(id, "20261123T131500Z-", 17) == 0);
    ck_assert(strncmp(id + 17, hex, 12) == 0);
    /* the id member is not part of the hash */
    rec = jv_object_set(rec, jv_string("id"), jv_string(id));
    char again[AR_ID_LEN + 1];
    ck_assert_int_eq(ar_id_compute(rec, again), 0);
    ck_assert_str_eq(id, again);
    ck_assert(ar_id_matches(rec));
    char *s = ar_json_dump(rec, 0);
    ck_assert(ar_id_matches_text(s, strlen(s)));
    free(s);
    rec = jv_object_set(rec, jv_string("a"), jv_string("y"));
    ck_assert(!ar_id_matches(rec));
    s = ar_json_dump(rec, 0);
    ck_assert(!ar_id_matches_text(s, strlen(s)));
    free(s);
    jv_free(rec);
    jv bad = jv_object();
    ck_assert_int_eq(ar_id_compute(bad, id), -1);   /* no created */
    jv_free(bad);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("id");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, id_form);
    tcase_add_test(tc, created_form);
    tcase_add_test(tc, id_is_time_and_hash);
    suite_add_tcase(s, tc);
    return s;
}

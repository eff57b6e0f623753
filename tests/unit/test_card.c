/* lib/facts/card.c and lib/facts/note.c: the ar.card/1 and ar.note/1 schemas. */
#include "unit.h"
#include "base/buf.h"
#include "facts/card.h"
#include "facts/schema.h"
#include "base/err.h"
#include "facts/id.h"
#include "base/json.h"
#include "facts/note.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Test cards are MINIMAL with fields written again after it to replace
 * them, so they are read with libjq's rule (the last one wins), not with
 * ar_json_parse, which refuses a key written twice. */
static jv parse(const char *text)
{
    jv v = jv_parse(text);
    ck_assert_msg(jv_is_valid(v), "test card does not parse: %s", text);
    return v;
}

#define MINIMAL "\"hypothesis\":\"h\",\"category\":\"optimizer\",\"status\":\"keep\"," \
                "\"commit\":\"abc1234\",\"metrics\":{\"val_bpb\":1.1},\"platform\":{\"class\":\"h100\"}"

/* The error ar_card_complete gives for {MINIMAL, extra}, or "" when valid. */
static const char *complete_error(const char *extra)
{
    static char msg[1024];
    struct ar_buf text = {0};
    ar_buf_printf(&text, "{" MINIMAL "%s", *extra ? "," : "");
    ar_buf_puts(&text, extra);
    ar_buf_putc(&text, '}');
    jv c = parse(text.data);
    ar_buf_free(&text);
    int rc = ar_card_complete(&c);
    jv_free(c);
    snprintf(msg, sizeof msg, "%s", rc == 0 ? "" : ar_last_error());
    if (rc)
        ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    return msg;
}

START_TEST(complete_fills_and_ids_match)
{
    setenv("AR_AGENT", "unit", 1);
    setenv("AR_NOW", "2026-11-23T13:15:00.123Z", 1);
    jv c = parse("{" MINIMAL ",\"status\":\"revert\",\"config\":{\"b\":2,\"a\":1}}");
    ck_assert_int_eq(ar_card_complete(&c), 0);
    ck_assert_str_eq(ar_jv_str(c, "schema"), "ar.card/1");
    ck_assert_str_eq(ar_jv_str(c, "agent"), "unit");
    ck_assert_str_eq(ar_jv_str(c, "created"), "2026-11-23T13:15:00.123Z");
    ck_assert_str_eq(ar_jv_str(c, "status"), "discard");
    char hex[65];
    jv cfg = ar_jv_get(c, "config");
    ar_json_hash(cfg, hex);
    jv_free(cfg);
    ck_assert_str_eq(ar_jv_str(c, "config_hash"), hex);
    const char *id = ar_jv_str(c, "id");
    ck_assert(ar_id_valid(id));
    ck_assert(strncmp(id, "20261123T131500Z-", 17) == 0);
    ck_assert(ar_id_matches(c));
    ck_assert_int_eq(ar_card_validate(c, AR_CARD_STORED), 0);
    /* any change to the content breaks the id */
    ar_jv_set(&c, "hypothesis", jv_string("H"));
    ck_assert_int_eq(ar_card_validate(c, AR_CARD_STORED), -1);
    ck_assert_str_eq(ar_last_error(), "field 'id': does not match the card's content");
    jv_free(c);
    unsetenv("AR_NOW");
}
END_TEST

START_TEST(rejects_each_bad_field)
{
    ck_assert_str_eq(complete_error(""), "");
    ck_assert_str_eq(complete_error("\"hypothesis\":\"\""), "field 'hypothesis': empty");
    ck_assert_str_eq(complete_error("\"colour\":1"), "field 'colour': unknown field");
    ck_assert_str_eq(complete_error("\"status\":\"good\""),
                     "field 'status': unknown value 'good' (one of: keep, discard, crash, inconclusive, baseline, revert)");
    ck_assert_str_eq(complete_error("\"tags\":[\"a\",\"B\"]"), "field 'tags[1]': must match [a-z0-9_.-]{1,64}");
    ck_assert_str_eq(complete_error("\"tags\":[\"a\",\"a\"]"), "field 'tags[1]': duplicate tag 'a'");
    ck_assert_str_eq(complete_error("\"commit\":\"ABC1234\""),
                     "field 'commit': must be 7 to 40 lower-case hex digits");
    ck_assert_str_eq(complete_error("\"metrics\":{\"val_bpb\":-1}"),
                     "field 'metrics.val_bpb': -1 bits per byte is not plausible (must be between 0.1 and 100)");
    ck_assert_str_eq(complete_error("\"metrics\":{}"),
                     "field 'metrics.val_bpb': required unless status is crash");
    ck_assert_str_eq(complete_error("\"status\":\"crash\""),
                     "field 'metrics.val_bpb': must be absent on a crash card");
    ck_assert_str_eq(complete_error("\"prior_cards\":[\"x/y\"]"),
                     "field 'prior_cards[0]': not an id of the form YYYYMMDDTHHMMSSZ-<12 hex>");
    ck_assert_str_eq(complete_error("\"changes\":[{\"key\":\"lr\",\"by\":2}]"),
                     "field 'changes[0].by': unknown field");
    ck_assert_str_eq(complete_error("\"config\":{\"a\":1},\"config_hash\":\"" "0000000000000000000000000000000000000000000000000000000000000000" "\""),
                     "field 'config_hash': does not match config");
    ck_assert_str_eq(complete_error("\"platform\":{\"name\":\"x\"}"), "field 'platform.class': required");
    ck_assert_str_eq(complete_error("\"seed\":1.5"), "field 'seed': must be an integer");
    ck_assert_str_eq(complete_error("\"created\":\"yesterday\""),
                     "field 'created': must be ISO-8601 UTC with milliseconds");
    ck_assert_str_eq(complete_error("\"delta\":null,\"baseline\":null"), "");
}
END_TEST

START_TEST(size_limits)
{
    struct ar_buf b = {0};
    ar_buf_puts(&b, "\"extra\":{\"x\":\"");
    for (int i = 0; i < 16400; i++)
        ar_buf_putc(&b, 'a');
    ar_buf_puts(&b, "\"}");
    ck_assert_str_eq(complete_error(b.data), "field 'extra': larger than 16384 bytes");
    /* a config small enough compact but not pretty: the whole card counts */
    b.len = 0;
    ar_buf_puts(&b, "\"config\":{");
    for (int i = 0; i < 3000; i++)
        ar_buf_printf(&b, "%s\"k%04d\":\"vvvvvvvv\"", i ? "," : "", i);
    ar_buf_puts(&b, "}");
    ck_assert_str_eq(complete_error(b.data), "card: larger than 65536 bytes");
    ar_buf_free(&b);
}
END_TEST

START_TEST(note_schema)
{
    setenv("AR_NOW", "2026-11-23T13:15:00.123Z", 1);
    jv n = parse("{\"schema\":\"ar.note/1\",\"created\":\"2026-11-23T13:15:00.123Z\",\"agent\":\"a\","
                 "\"card\":\"20261123T131500Z-0123456789ab\",\"kind\":\"status\",\"text\":\"\",\"status\":\"keep\"}");
    ck_assert_int_eq(ar_note_validate(n, 0), 0);
    char id[AR_ID_LEN + 1];
    ck_assert_int_eq(ar_id_compute(n, id), 0);
    ar_jv_set(&n, "id", jv_string(id));
    ck_assert_int_eq(ar_note_validate(n, 1), 0);
    jv m = jv_copy(n);
    m = jv_object_delete(m, jv_string("status"));
    ck_assert_int_eq(ar_note_validate(m, 0), -1);
    ck_assert_str_eq(ar_last_error(), "field 'status': required for a status note");
    jv_free(m);
    m = jv_copy(n);
    ar_jv_set(&m, "kind", jv_string("lesson"));
    ck_assert_int_eq(ar_note_validate(m, 0), -1);
    ck_assert_str_eq(ar_last_error(), "field 'text': empty");
    jv_free(m);
    m = jv_copy(n);
    ar_jv_set(&m, "kind", jv_string("praise"));
    ck_assert_int_eq(ar_note_validate(m, 0), -1);
    ck_assert(strstr(ar_last_error(), "field 'kind': unknown value 'praise'"));
    jv_free(m);
    ar_jv_set(&n, "text", jv_string("changed"));
    ck_assert_int_eq(ar_note_validate(n, 1), -1);
    ck_assert_str_eq(ar_last_error(), "field 'id': does not match the note's content");
    jv_free(n);
    unsetenv("AR_NOW");
}
END_TEST

START_TEST(status_norm)
{
    ck_assert_str_eq(ar_card_status_norm("revert"), "discard");
    ck_assert_str_eq(ar_card_status_norm("keep"), "keep");
}
END_TEST

START_TEST(invisible_format_characters)
{
    /* decoded from UTF-8 of every length, found anywhere in the text */
    ck_assert_uint_eq(ar_text_invisible("plain ascii", 11), 0);
    ck_assert_uint_eq(ar_text_invisible("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x99\x82", 14), 0);
    ck_assert_uint_eq(ar_text_invisible("a\xe2\x80\xae" "b", 5), 0x202e);       /* RLO */
    ck_assert_uint_eq(ar_text_invisible("\xe2\x81\xa6", 3), 0x2066);        /* LRI */
    ck_assert_uint_eq(ar_text_invisible("x\xef\xbb\xbf", 4), 0xfeff);       /* BOM */
    ck_assert_uint_eq(ar_text_invisible("\xc2\xad", 2), 0xad);              /* soft hyphen */
    ck_assert_uint_eq(ar_text_invisible("t" "\xf3\xa0\x81\x81", 5), 0xe0041); /* tag A */
    ck_assert_uint_eq(ar_text_invisible("\xe2\x80\x8b", 2), 0);             /* cut short: not read */
    ck_assert(!ar_invisible_format(0x2010) && !ar_invisible_format(0x2070) && !ar_invisible_format(0x202f));
    jv v = jv_string("ok" "\xe2\x80\x8b");
    ck_assert_int_eq(ar_check_text(v, "hypothesis", 1, 100, 0), -1);
    ck_assert_str_eq(ar_last_error(), "field 'hypothesis': invisible format character U+200B is not allowed");
    jv_free(v);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("card");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, complete_fills_and_ids_match);
    tcase_add_test(tc, rejects_each_bad_field);
    tcase_add_test(tc, size_limits);
    tcase_add_test(tc, note_schema);
    tcase_add_test(tc, status_norm);
    tcase_add_test(tc, invisible_format_characters);
    suite_add_tcase(s, tc);
    return s;
}

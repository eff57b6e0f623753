/* What `ar-card write` does, from lib/: the flags as card fields
 * (facts/card_flags.c), the defaults of this machine
 * (facts/card_defaults.c), and the batch that checks every card before it
 * stores the first (index/card_batch.c). */
#include "unit.h"
#include "base/err.h"
#include "base/json.h"
#include "facts/card.h"
#include "facts/card_defaults.h"
#include "facts/card_flags.h"
#include "facts/kb.h"
#include "index/card_batch.h"
#include "index/index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct ar_kb kb;
static char dir[256];

static void setup(void)
{
    unit_tmpdir(dir, sizeof dir, "card-write");
    setenv("AR_AGENT", "unit", 1);
    ck_assert_int_eq(ar_kb_open(&kb, dir, AR_KB_CREATE), 0);
}

static void teardown(void)
{
    unit_rmtree(dir);
}

/* the card as compact JSON (sorted keys), freed by the next call */
static const char *dump(jv card)
{
    static char *s;
    free(s);
    s = ar_json_dump(card, AR_JSON_COMPACT);
    return s;
}

static size_t count_cards(void)
{
    size_t n;
    char **ids = ar_list_ids(kb.cards, &n);
    ar_free_ids(ids, n);
    return n;
}

START_TEST(flags_set_their_fields)
{
    const char *metrics[] = {"train_s=300", "note=fast", "empty="};
    struct ar_card_flags f = {
        .hypothesis = "h", .category = "optimizer", .status = "keep", .commit = "abc1234",
        .parent_commit = "def5678", .session = "s1", .agent = "me", .baseline = "B", .verifies = "V",
        .created = "2026-11-23T10:00:00Z", .tags = "a, b,,c", .prior_cards = "P1,P2",
        .config = "{\"lr\":0.04}", .changes = "[]", .platform = "{\"class\":\"h100\"}",
        .data = "{\"corpus\":\"x\"}", .extra = "{\"k\":1}",
        .val_bpb = 1.25, .has_val_bpb = 1, .delta = -0.5, .has_delta = 1, .seed = 7, .has_seed = 1,
        .budget_s = 300, .has_budget_s = 0,
        .metrics = {metrics, 3},
    };
    jv card = jv_object();
    ck_assert_int_eq(ar_card_set_flags(&card, &f), 0);
    /* dump sorts the keys */
    ck_assert_str_eq(dump(card),
        "{\"agent\":\"me\",\"baseline\":\"B\",\"category\":\"optimizer\",\"changes\":[],"
        "\"commit\":\"abc1234\",\"config\":{\"lr\":0.04},\"created\":\"2026-11-23T10:00:00Z\","
        "\"data\":{\"corpus\":\"x\"},\"delta\":-0.5,\"extra\":{\"k\":1},\"hypothesis\":\"h\","
        "\"metrics\":{\"empty\":\"\",\"note\":\"fast\",\"train_s\":300,\"val_bpb\":1.25},"
        "\"parent_commit\":\"def5678\",\"platform\":{\"class\":\"h100\"},\"prior_cards\":[\"P1\",\"P2\"],"
        "\"seed\":7,\"session\":\"s1\",\"status\":\"keep\",\"tags\":[\"a\",\"b\",\"c\"],\"verifies\":\"V\"}");
    jv_free(card);
}
END_TEST

START_TEST(flags_win_over_the_card_and_keep_its_metrics)
{
    jv card;
    const char *text = "{\"hypothesis\":\"old\",\"metrics\":{\"val_bpb\":9,\"mem\":2},\"seed\":1}";
    ck_assert_int_eq(ar_json_parse(text, strlen(text), "t", &card), 0);
    struct ar_card_flags f = {.hypothesis = "new", .val_bpb = 1.5, .has_val_bpb = 1, .seed = 5};
    ck_assert_int_eq(ar_card_set_flags(&card, &f), 0);
    /* seed was not given (has_seed 0): the card's stays */
    ck_assert_str_eq(dump(card), "{\"hypothesis\":\"new\",\"metrics\":{\"mem\":2,\"val_bpb\":1.5},\"seed\":1}");
    jv_free(card);
}
END_TEST

START_TEST(flags_read_json_from_a_file)
{
    char path[300];
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("{\"lr\": 0.5}\n", fp);
    fclose(fp);
    char arg[310];
    snprintf(arg, sizeof arg, "@%s", path);
    struct ar_card_flags f = {.config = arg};
    jv card = jv_object();
    ck_assert_int_eq(ar_card_set_flags(&card, &f), 0);
    ck_assert_str_eq(dump(card), "{\"config\":{\"lr\":0.5}}");
    jv_free(card);
}
END_TEST

START_TEST(flags_refuse_bad_values)
{
    struct ar_card_flags f = {.config = "{bad"};
    jv card = jv_object();
    ck_assert_int_eq(ar_card_set_flags(&card, &f), -1);
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "option '--config'"));

    const char *bad[] = {"ok=1", "novalue"};
    struct ar_card_flags g = {.metrics = {bad, 2}};
    ck_assert_int_eq(ar_card_set_flags(&card, &g), -1);
    ck_assert_str_eq(ar_last_error(), "option '--metric': 'novalue' is not KEY=VALUE");
    const char *nokey[] = {"=1"};
    struct ar_card_flags h = {.metrics = {nokey, 1}};
    ck_assert_int_eq(ar_card_set_flags(&card, &h), -1);
    ck_assert_str_eq(ar_last_error(), "option '--metric': '=1' is not KEY=VALUE");

    struct ar_card_flags m = {.data = "@/nonexistent/data.json"};
    ck_assert_int_eq(ar_card_set_flags(&card, &m), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "/nonexistent/data.json"));
    jv_free(card);
}
END_TEST

START_TEST(defaults_fill_platform_and_keep_what_is_given)
{
    jv card;
    const char *text = "{\"commit\":\"abc1234\"}";
    ck_assert_int_eq(ar_json_parse(text, strlen(text), "t", &card), 0);
    ck_assert_int_eq(ar_card_fill_defaults(&card), 0);
    ck_assert(ar_jv_has(card, "platform"));
    ck_assert_str_eq(ar_jv_str(card, "commit"), "abc1234");
    ck_assert(!ar_jv_has(card, "parent_commit"));
    jv_free(card);

    text = "{\"commit\":\"abc1234\",\"platform\":{\"class\":\"h100\"}}";
    ck_assert_int_eq(ar_json_parse(text, strlen(text), "t", &card), 0);
    ck_assert_int_eq(ar_card_fill_defaults(&card), 0);
    ck_assert_str_eq(dump(card), text);
    jv_free(card);
}
END_TEST

START_TEST(defaults_need_a_commit_outside_git)
{
    char here[4096];
    ck_assert_ptr_nonnull(getcwd(here, sizeof here));
    ck_assert_int_eq(chdir(dir), 0);   /* under /tmp: in no git repository */
    jv card = jv_object();
    int rc = ar_card_fill_defaults(&card);
    ck_assert_int_eq(chdir(here), 0);
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    ck_assert_msg(strncmp(ar_last_error(), "field 'commit': not given, and ", 31) == 0, "%s", ar_last_error());
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "(use --commit HEX)"));
    jv_free(card);
}
END_TEST

#define CARD(h, cat) "{\"hypothesis\":\"" h "\",\"category\":\"" cat "\",\"status\":\"keep\"," \
                     "\"commit\":\"abc1234\",\"metrics\":{\"val_bpb\":1.1},\"platform\":{\"class\":\"h100\"}}"

START_TEST(jsonl_checks_every_line)
{
    const char *text = CARD("one", "optimizer") "\n\n" CARD("two", "schedule") "\n" CARD("three", "other");
    jv cards;
    ck_assert_int_eq(ar_cards_check_jsonl(text, strlen(text), "stdin", &cards), 0);
    ck_assert_int_eq(jv_array_length(jv_copy(cards)), 3);
    jv_array_foreach(cards, i, c) {
        (void)i;
        ck_assert_int_eq(ar_card_validate(c, 0), 0);
        ck_assert(ar_jv_has(c, "id"));
        ck_assert(ar_jv_has(c, "created"));
        jv_free(c);
    }
    jv_free(cards);

    ck_assert_int_eq(ar_cards_check_jsonl("", 0, "stdin", &cards), 0);
    ck_assert_int_eq(jv_array_length(cards), 0);
}
END_TEST

START_TEST(jsonl_names_the_bad_line)
{
    jv cards = jv_string("untouched");
    const char *bad_field = CARD("one", "optimizer") "\n\n" CARD("two", "nonsense") "\n";
    ck_assert_int_eq(ar_cards_check_jsonl(bad_field, strlen(bad_field), "stdin", &cards), -1);
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    ck_assert_msg(strncmp(ar_last_error(), "stdin:3: field 'category'", 25) == 0, "%s", ar_last_error());

    const char *array = CARD("one", "optimizer") "\n[1]\n";
    ck_assert_int_eq(ar_cards_check_jsonl(array, strlen(array), "in", &cards), -1);
    ck_assert_str_eq(ar_last_error(), "in:2: must be a JSON object, not array");

    const char *broken = "{\"hypothesis\":";
    ck_assert_int_eq(ar_cards_check_jsonl(broken, strlen(broken), "stdin", &cards), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "stdin:1"));
    ck_assert_str_eq(jv_string_value(cards), "untouched");
    jv_free(cards);
}
END_TEST

/* a batch with one bad card stores none: checking comes first */
START_TEST(jsonl_stores_all_or_none)
{
    const char *bad = CARD("one", "optimizer") "\n" CARD("two", "nonsense") "\n";
    jv cards;
    ck_assert_int_eq(ar_cards_check_jsonl(bad, strlen(bad), "stdin", &cards), -1);
    ck_assert_int_eq(count_cards(), 0);

    const char *good = CARD("one", "optimizer") "\n" CARD("two", "schedule") "\n";
    ck_assert_int_eq(ar_cards_check_jsonl(good, strlen(good), "stdin", &cards), 0);
    /* the ids were given when checked: one a line, in the order of the lines */
    char want[256];
    jv first = jv_array_get(jv_copy(cards), 0), second = jv_array_get(jv_copy(cards), 1);
    snprintf(want, sizeof want, "%s\n%s\n", ar_jv_str(first, "id"), ar_jv_str(second, "id"));
    ck_assert_str_eq(ar_jv_str(first, "hypothesis"), "one");
    jv_free(first);
    jv_free(second);
    char *out = NULL;
    size_t outlen = 0;
    FILE *fp = open_memstream(&out, &outlen);
    ck_assert_int_eq(ar_store_cards(&kb, cards, NULL, 0, fp), 0);
    fclose(fp);
    ck_assert_int_eq(count_cards(), 2);
    ck_assert_str_eq(out, want);
    free(out);
}
END_TEST

/* many cards are stored as one batch: when one of them cannot be stored
 * (its path holds a file of other content), none of them is */
START_TEST(a_batch_that_cannot_store_one_stores_none)
{
    const char *good = CARD("one", "optimizer") "\n" CARD("two", "schedule") "\n" CARD("three", "other") "\n";
    jv cards;
    ck_assert_int_eq(ar_cards_check_jsonl(good, strlen(good), "stdin", &cards), 0);
    jv third = jv_array_get(jv_copy(cards), 2);
    char path[PATH_MAX];
    FILE *f = fopen(ar_kb_card_path(&kb, ar_jv_str(third, "id"), path), "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"other\": true}\n", f);
    fclose(f);
    jv_free(third);
    char *out = NULL;
    size_t outlen = 0;
    FILE *fp = open_memstream(&out, &outlen);
    ck_assert_int_eq(ar_store_cards(&kb, cards, NULL, 0, fp), -1);
    fclose(fp);
    ck_assert_int_eq(count_cards(), 1);   /* the file that was there, only */
    ck_assert_str_eq(out, "");
    free(out);
}
END_TEST

START_TEST(store_adds_the_lesson_and_prints_json)
{
    jv card;
    const char *text = CARD("one", "optimizer");
    ck_assert_int_eq(ar_json_parse(text, strlen(text), "t", &card), 0);
    ck_assert_int_eq(ar_card_check(&card, NULL), 0);
    char *out = NULL;
    size_t outlen = 0;
    FILE *fp = open_memstream(&out, &outlen);
    ck_assert_int_eq(ar_store_cards(&kb, jv_array_append(jv_array(), jv_copy(card)), "learned", 1, fp), 0);
    fclose(fp);
    char *want = ar_json_dump(card, AR_JSON_COMPACT);
    ck_assert_int_eq(strlen(out), strlen(want) + 1);
    ck_assert(strncmp(out, want, strlen(want)) == 0);
    free(want);
    free(out);
    jv_free(card);
    size_t n;
    char **ids = ar_list_ids(kb.notes, &n);
    ar_free_ids(ids, n);
    ck_assert_int_eq(n, 1);
}
END_TEST

START_TEST(check_prefixes_only_when_asked)
{
    jv card;
    const char *text = CARD("one", "nonsense");
    ck_assert_int_eq(ar_json_parse(text, strlen(text), "t", &card), 0);
    ck_assert_int_eq(ar_card_check(&card, NULL), -1);
    ck_assert_msg(strncmp(ar_last_error(), "field 'category'", 16) == 0, "%s", ar_last_error());
    ck_assert_int_eq(ar_card_check(&card, "here"), -1);
    ck_assert_msg(strncmp(ar_last_error(), "here: field 'category'", 22) == 0, "%s", ar_last_error());
    jv_free(card);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("card_write");
    TCase *tc = tcase_create("card_write");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, flags_set_their_fields);
    tcase_add_test(tc, flags_win_over_the_card_and_keep_its_metrics);
    tcase_add_test(tc, flags_read_json_from_a_file);
    tcase_add_test(tc, flags_refuse_bad_values);
    tcase_add_test(tc, defaults_fill_platform_and_keep_what_is_given);
    tcase_add_test(tc, defaults_need_a_commit_outside_git);
    tcase_add_test(tc, jsonl_checks_every_line);
    tcase_add_test(tc, jsonl_names_the_bad_line);
    tcase_add_test(tc, jsonl_stores_all_or_none);
    tcase_add_test(tc, a_batch_that_cannot_store_one_stores_none);
    tcase_add_test(tc, store_adds_the_lesson_and_prints_json);
    tcase_add_test(tc, check_prefixes_only_when_asked);
    suite_add_tcase(s, tc);
    return s;
}

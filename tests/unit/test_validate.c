/* lib/index/validate.c: `ar-card validate` on files and on a knowledge base:
 * notes by their schema, cards otherwise, stored facts named by their id. */
#include "unit.h"
#include "base/err.h"
#include "base/json.h"
#include "facts/card.h"
#include "facts/kb.h"
#include "index/store.h"
#include "index/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ar_kb kb;
static char dir[256];

static void setup(void)
{
    unit_tmpdir(dir, sizeof dir, "validate");
    setenv("AR_AGENT", "unit", 1);
    ck_assert_int_eq(ar_kb_open(&kb, dir, AR_KB_CREATE), 0);
}

static void teardown(void)
{
    unit_rmtree(dir);
}

#define CARD "{\"hypothesis\":\"h\",\"category\":\"optimizer\",\"status\":\"keep\",\"commit\":\"abc1234\"," \
             "\"metrics\":{\"val_bpb\":1.1},\"platform\":{\"class\":\"h100\"}}"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* stores a card and a note on it; id gets the card's */
static void store_two(char id[AR_ID_LEN + 1])
{
    jv card;
    ck_assert_int_eq(ar_json_parse(CARD, strlen(CARD), "t", &card), 0);
    ck_assert_int_eq(ar_card_complete(&card), 0);
    ck_assert_int_eq(ar_store_card(&kb, card, id), 0);
    jv_free(card);
    char nid[AR_ID_LEN + 1];
    ck_assert_int_eq(ar_store_note(&kb, id, "lesson", "learned", NULL, nid), 0);
}

START_TEST(files_cards_and_notes)
{
    char draft[300], bad[300], broken[300];
    snprintf(draft, sizeof draft, "%s/draft.json", dir);
    write_file(draft, CARD);   /* not stored: id and created may be missing */
    ck_assert_int_eq(ar_validate_file(draft), 0);
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    write_file(bad, "{\"hypothesis\":\"h\",\"category\":\"nonsense\"}");
    ck_assert_int_eq(ar_validate_file(bad), -1);
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    char want[400];
    snprintf(want, sizeof want, "%s: ", bad);
    ck_assert_msg(strncmp(ar_last_error(), want, strlen(want)) == 0, "%s", ar_last_error());
    snprintf(broken, sizeof broken, "%s/broken.json", dir);
    write_file(broken, "{");
    ck_assert_int_eq(ar_validate_file(broken), -1);

    char *paths[] = {draft, bad, broken};
    char *out = NULL;
    size_t len = 0;
    FILE *report = open_memstream(&out, &len);
    int total = -1;
    ck_assert_int_eq(ar_validate_files(NULL, paths, 3, report, &total), 2);
    fclose(report);
    ck_assert_int_eq(total, 3);
    ck_assert_ptr_nonnull(strstr(out, bad));
    ck_assert_ptr_nonnull(strstr(out, broken));
    ck_assert_ptr_null(strstr(out, draft));
    free(out);
}
END_TEST

START_TEST(the_whole_knowledge_base)
{
    char id[AR_ID_LEN + 1];
    store_two(id);
    int total = -1;
    ck_assert_int_eq(ar_validate_files(&kb, NULL, 0, stderr, &total), 0);
    ck_assert_int_eq(total, 2);

    /* a stored card under cards/ must be named by its id */
    char from[4200], to[4200];
    snprintf(from, sizeof from, "%s/%s.json", kb.cards, id);
    snprintf(to, sizeof to, "%s/20200101T000000Z-000000000000.json", kb.cards);
    ck_assert_int_eq(rename(from, to), 0);
    ck_assert_int_eq(ar_validate_file(to), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "file name does not match id"));
    char *out = NULL;
    size_t len = 0;
    FILE *report = open_memstream(&out, &len);
    ck_assert_int_eq(ar_validate_files(&kb, NULL, 0, report, &total), 1);
    fclose(report);
    ck_assert_int_eq(total, 2);
    ck_assert_ptr_nonnull(strstr(out, "file name does not match id"));
    free(out);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("validate");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, files_cards_and_notes);
    tcase_add_test(tc, the_whole_knowledge_base);
    suite_add_tcase(s, tc);
    return s;
}

/* lib/index/index.c: the index is the card views, byte for byte what
 * ar_json_dump(ar_card_view(card, notes)) gives, whichever path read them. */
#include "unit.h"
#include "base/atomic.h"
#include "base/buf.h"
#include "facts/card.h"
#include "index/store.h"
#include "base/err.h"
#include "facts/id.h"
#include "index/index.h"
#include "index/index_journal.h"
#include "base/json.h"
#include "facts/kb.h"
#include "facts/note.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct ar_kb kb;
static char dir[256];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/ar-test-index.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("AR_AGENT", "unit", 1);
    ck_assert_int_eq(ar_kb_open(&kb, dir, AR_KB_CREATE), 0);
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static jv parse(const char *text)
{
    jv v;
    ck_assert_int_eq(ar_json_parse(text, strlen(text), "test", &v), 0);
    return v;
}

/* A complete card; created given so ids are predictable. */
static jv card(const char *created, const char *status, double bpb)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"created\":\"%s\",\"hypothesis\":\"h \\\"q\\\" \\u00e9\",\"category\":\"optimizer\","
             "\"status\":\"%s\",\"commit\":\"abc1234\",\"metrics\":{\"val_bpb\":%.17g},"
             "\"platform\":{\"class\":\"cpu-avx2\"},\"config\":{\"lr\":0.04,\"b\":[1,2.5e-7]},"
             "\"tags\":[\"a\",\"b\"]}",
             created, status, bpb);
    jv c = parse(text);
    ck_assert_int_eq(ar_card_complete(&c), 0);
    return c;
}

/* The index line for card c (borrowed) with notes (consumed). */
static char *expected_line(jv c, jv notes)
{
    jv view = ar_card_view(c, notes);
    char *s = ar_json_dump(view, AR_JSON_COMPACT);
    jv_free(view);
    jv_free(notes);
    return s;
}

START_TEST(rebuild_matches_views)
{
    jv a = card("2026-01-01T00:00:00.000Z", "keep", 1.5);
    jv b = card("2026-01-02T00:00:00.000Z", "discard", 1.25);
    char ida[AR_ID_LEN + 1], idb[AR_ID_LEN + 1], n1[AR_ID_LEN + 1], n2[AR_ID_LEN + 1];
    ck_assert_int_eq(ar_store_card(&kb, a, ida), 0);
    ck_assert_int_eq(ar_store_card(&kb, b, idb), 0);
    setenv("AR_NOW", "2026-01-03T00:00:00.000Z", 1);
    ck_assert_int_eq(ar_store_note(&kb, ida, "status", "", "revert", n1), 0);
    setenv("AR_NOW", "2026-01-04T00:00:00.000Z", 1);
    ck_assert_int_eq(ar_store_note(&kb, ida, "retract", "bad data", NULL, n2), 0);
    unsetenv("AR_NOW");

    /* a valid card stored by hand, not in canonical form, with "revert" */
    jv c = parse("{\"schema\":\"ar.card/1\",\"created\":\"2026-01-05T00:00:00.000Z\",\"agent\":\"x\","
                 "\"hypothesis\":\"hand\",\"category\":\"other\",\"status\":\"revert\","
                 "\"commit\":\"abcdef1\",\"metrics\":{\"val_bpb\":2.0},\"platform\":{\"class\":\"h100\"}}");
    char idc[AR_ID_LEN + 1], path[PATH_MAX];
    ck_assert_int_eq(ar_id_compute(c, idc), 0);
    ar_jv_set(&c, "id", jv_string(idc));
    jv shown = jv_dump_string(jv_copy(c), JV_PRINT_PRETTY);   /* jq's order, "2.0" */
    ar_kb_card_path(&kb, idc, path);
    FILE *f = fopen(path, "w");
    fputs(jv_string_value(shown), f);
    fclose(f);
    jv_free(shown);

    ck_assert_int_eq(ar_index_rebuild(&kb), 0);
    ck_assert_int_eq(ar_index_check(&kb), 0);
    char *text;
    size_t len;
    ck_assert_int_eq(ar_index_read(&kb, &text, &len), 0);

    jv notes_a = jv_array(), note;
    ar_kb_note_path(&kb, n1, path);
    ck_assert_int_eq(ar_note_read_file(path, &note), 0);
    notes_a = jv_array_append(notes_a, note);
    ar_kb_note_path(&kb, n2, path);
    ck_assert_int_eq(ar_note_read_file(path, &note), 0);
    notes_a = jv_array_append(notes_a, note);
    char *la = expected_line(a, notes_a), *lb = expected_line(b, jv_array()), *lc = expected_line(c, jv_array());
    struct ar_buf want = {0};
    ar_buf_printf(&want, "%s\n%s\n%s\n", la, lb, lc);
    ck_assert_str_eq(text, want.data);
    ck_assert_ptr_nonnull(strstr(la, "\"card_status\":\"keep\""));
    ck_assert_ptr_nonnull(strstr(la, "\"retracted\":true"));
    ck_assert_ptr_nonnull(strstr(la, "\"status\":\"discard\",\"tags\""));
    ck_assert_ptr_nonnull(strstr(lc, "\"status\":\"discard\""));
    free(la), free(lb), free(lc), free(text);
    ar_buf_free(&want);
    jv_free(a), jv_free(b), jv_free(c);
}
END_TEST

START_TEST(skips_bad_facts)
{
    jv a = card("2026-01-01T00:00:00.000Z", "keep", 1.5);
    char ida[AR_ID_LEN + 1], path[PATH_MAX];
    ck_assert_int_eq(ar_store_card(&kb, a, ida), 0);
    /* a file whose content does not hash to its name */
    char *s = ar_json_dump(a, AR_JSON_PRETTY);
    strstr(s, "1.5")[2] = '6';
    ar_kb_card_path(&kb, "20260101T000000Z-000000000000", path);
    ck_assert_int_eq(ar_write_atomic(path, "{\"torn\":", 8), 0);
    ar_kb_card_path(&kb, "20260101T000001Z-000000000000", path);
    ck_assert_int_eq(ar_write_atomic(path, s, strlen(s)), 0);
    free(s);
    ck_assert_int_eq(ar_index_rebuild(&kb), 0);
    char *text;
    size_t len;
    ck_assert_int_eq(ar_index_read(&kb, &text, &len), 0);
    char *line = expected_line(a, jv_array());
    ck_assert_int_eq(len, strlen(line) + 1);
    ck_assert(strncmp(text, line, len - 1) == 0);
    free(text), free(line);
    jv_free(a);
}
END_TEST

START_TEST(id_check_on_text)
{
    jv a = card("2026-01-01T00:00:00.000Z", "keep", 1.5);
    char *s = ar_json_dump(a, AR_JSON_COMPACT);
    ck_assert(ar_id_matches_text(s, strlen(s)));
    char *p = strstr(s, "1.5");
    p[2] = '6';
    ck_assert(!ar_id_matches_text(s, strlen(s)));
    free(s);
    jv_free(a);
}
END_TEST
/* The text of a file of the knowledge base (malloc'd). */
static char *slurp(const char *name)
{
    char path[PATH_MAX], *text;
    size_t len;
    ck_assert_int_eq(ar_read_file(ar_kb_path(&kb, name, path), 1 << 24, &text, &len), 0);
    return text;
}

START_TEST(journal_names_each_changed_line_in_order)
{
    jv a = card("2026-01-01T00:00:00.000Z", "keep", 1.5);
    jv b = card("2026-01-03T00:00:00.000Z", "keep", 1.4);
    jv c = card("2026-01-02T00:00:00.000Z", "keep", 1.3);   /* sorts before b: inserted */
    char ida[AR_ID_LEN + 1], idb[AR_ID_LEN + 1], idc[AR_ID_LEN + 1], n1[AR_ID_LEN + 1];
    ck_assert_int_eq(ar_store_card(&kb, a, ida), 0);   /* the first card builds the index */
    struct ar_index_version v0, v;
    ck_assert_int_eq(ar_index_version(&kb, &v0), 0);
    ck_assert_int_eq((int)strlen(v0.epoch), AR_EPOCH_LEN);
    ck_assert_int_eq(ar_store_card(&kb, b, idb), 0);   /* appended */
    ck_assert_int_eq(ar_store_card(&kb, c, idc), 0);   /* inserted */
    setenv("AR_NOW", "2026-01-04T00:00:00.000Z", 1);
    ck_assert_int_eq(ar_store_note(&kb, ida, "lesson", "noted", NULL, n1), 0);   /* a's line rewritten */
    unsetenv("AR_NOW");
    ck_assert_int_eq(ar_index_version(&kb, &v), 0);
    ck_assert_str_eq(v.epoch, v0.epoch);
    ck_assert_int_eq(v.gen, v0.gen + 3);
    ar_card_id *ids;
    size_t n;
    ck_assert_int_eq(ar_ijournal_read(&kb, v.epoch, v0.gen, v.gen, &ids, &n), 0);
    ck_assert_int_eq((int)n, 3);
    ck_assert_str_eq(ids[0], idb);
    ck_assert_str_eq(ids[1], idc);
    ck_assert_str_eq(ids[2], ida);
    free(ids);
    /* the journal only answers for its own epoch and the entries it has */
    ck_assert_int_eq(ar_ijournal_read(&kb, "0123456789abcdef", v0.gen, v.gen, &ids, &n), -1);
    ck_assert_int_eq(ar_ijournal_read(&kb, v.epoch, v0.gen, v.gen + 1, &ids, &n), -1);

    /* a torn entry is not trusted */
    char path[PATH_MAX];
    int fd = open(ar_kb_path(&kb, "index.journal", path), O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "00000000000X", 12, 36 + 43 * (v.gen - 1)), 12);
    close(fd);

    ck_assert_int_eq(ar_ijournal_read(&kb, v.epoch, v0.gen, v.gen, &ids, &n), -1);
    ck_assert_int_eq(ar_ijournal_read(&kb, v.epoch, v0.gen, v.gen - 1, &ids, &n), 0);
    free(ids);

    /* every line is found by binary search */
    char *text;
    size_t len, start, end;
    ck_assert_int_eq(ar_index_read(&kb, &text, &len), 0);
    const char *all[] = {ida, idc, idb};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(ar_index_find_sorted(text, len, all[i], &start, &end), 0);
        size_t s2, e2;
        ck_assert_int_eq(ar_index_find_line(text, len, all[i], &s2, &e2), 0);
        ck_assert_uint_eq(start, s2);
        ck_assert_uint_eq(end, e2);
    }
    ck_assert_int_eq(ar_index_find_sorted(text, len, "20260101T000000Z-000000000000", &start, &end), -1);
    ck_assert_int_eq(ar_index_find_sorted(text, len, "20270101T000000Z-000000000000", &start, &end), -1);
    free(text);

    /* a rebuild starts a new epoch with an empty journal */
    ck_assert_int_eq(ar_index_rebuild(&kb), 0);
    ck_assert_int_eq(ar_index_version(&kb, &v), 0);
    ck_assert_str_ne(v.epoch, v0.epoch);
    ck_assert_int_eq(v.gen, 0);
    char *j = slurp("index.journal");
    ck_assert_int_eq((int)strlen(j), 36);
    free(j);
    jv_free(a), jv_free(b), jv_free(c);
}
END_TEST

/* Sets the modification times of cards/ and notes/ back by s seconds. */
static void age_dirs(int s)
{
    const char *dirs[] = {kb.cards, kb.notes};
    for (int i = 0; i < 2; i++) {
        struct stat sb;
        ck_assert_int_eq(stat(dirs[i], &sb), 0);
        struct timespec t[2] = {sb.st_atim, sb.st_mtim};
        t[0].tv_sec -= s;
        t[1].tv_sec -= s;
        ck_assert_int_eq(utimensat(AT_FDCWD, dirs[i], t, 0), 0);
    }
}

START_TEST(settled_directories_spare_the_listing_but_not_a_new_fact)
{
    jv a = card("2026-01-01T00:00:00.000Z", "keep", 1.5);
    char ida[AR_ID_LEN + 1], path[PATH_MAX];
    ck_assert_int_eq(ar_store_card(&kb, a, ida), 0);
    char *st = slurp("index.state");
    ck_assert_ptr_nonnull(strstr(st, "\"dirs\":\"\""));   /* just changed: not settled */
    free(st);
    age_dirs(10);
    ck_assert_int_eq(ar_index_ensure(&kb), 0);
    st = slurp("index.state");
    ck_assert_ptr_null(strstr(st, "\"dirs\":\"\""));      /* a reader recorded the settled times */
    free(st);
    ck_assert_int_eq(ar_index_ensure(&kb), 0);

    /* a card that arrives without the index (as a copy or a sync would
     * leave it) changes cards/'s time, and the next reader takes it in */
    jv b = card("2026-01-02T00:00:00.000Z", "keep", 1.4);
    char idb[AR_ID_LEN + 1];
    ck_assert_int_eq(ar_id_compute(b, idb), 0);
    ar_jv_set(&b, "id", jv_string(idb));
    char *text = ar_json_dump(b, AR_JSON_PRETTY);
    ck_assert_int_eq(ar_write_atomic(ar_kb_card_path(&kb, idb, path), text, strlen(text)), 0);
    free(text);
    ck_assert_int_eq(ar_index_ensure(&kb), 0);
    size_t len;
    ck_assert_int_eq(ar_index_read(&kb, &text, &len), 0);
    ck_assert_ptr_nonnull(strstr(text, idb));
    free(text);
    ck_assert_int_eq(ar_index_check(&kb), 0);
    jv_free(a), jv_free(b);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("index");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, rebuild_matches_views);
    tcase_add_test(tc, skips_bad_facts);
    tcase_add_test(tc, id_check_on_text);
    tcase_add_test(tc, journal_names_each_changed_line_in_order);
    tcase_add_test(tc, settled_directories_spare_the_listing_but_not_a_new_fact);
    suite_add_tcase(s, tc);
    return s;
}

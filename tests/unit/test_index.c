/* lib/index/index_*.c: the index is the card views, byte for byte what
 * ar_json_dump(ar_card_view(card, notes)) gives, whichever path read them. */
#include "unit.h"
#include "base/atomic.h"
#include "base/bigmem.h"
#include "base/buf.h"
#include "facts/card.h"
#include "index/store.h"
#include "base/err.h"
#include "facts/id.h"
#include "index/index.h"
#include "base/json.h"
#include "facts/kb.h"
#include "facts/note.h"

#include <fcntl.h>
#include <sqlite3.h>
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
    free(la), free(lb), free(lc), ar_big_free(text);
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
    ar_big_free(text), free(line);
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
/* One value of index.db (the first column of the first row of sql). */
static char *db_value(const char *sql)
{
    char path[PATH_MAX];
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(ar_kb_path(&kb, "index.db", path), &db), SQLITE_OK);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    char *out = NULL;
    if (sqlite3_step(st) == SQLITE_ROW)
        out = strdup(sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

static void db_exec(const char *sql)
{
    char path[PATH_MAX];
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(ar_kb_path(&kb, "index.db", path), &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* Records the intent to write fact id, as a writer does first. */
static void intend(int is_note, const char *id)
{
    struct ar_intent in;
    const char *ids[1] = {id};
    ck_assert_int_eq(ar_index_intend(&kb, &is_note, ids, 1, &in), 0);
    ar_index_intent_end(&in);   /* then killed: its lock goes */
}

/* Writes card c (completed, borrowed) as a fact file without indexing it,
 * as a writer killed after its file and before its INSERT leaves it (its
 * intent recorded when intent is set, else as if put there by hand). */
static void drop_card_as(jv c, char id[AR_ID_LEN + 1], int intent)
{
    char path[PATH_MAX];
    jv x = jv_copy(c);
    ck_assert_int_eq(ar_id_compute(x, id), 0);
    ar_jv_set(&x, "id", jv_string(id));
    if (intent)
        intend(0, id);
    char *text = ar_json_dump(x, AR_JSON_PRETTY);
    ck_assert_int_eq(ar_write_atomic(ar_kb_card_path(&kb, id, path), text, strlen(text)), 0);
    free(text);
    jv_free(x);
}

static void drop_card(jv c, char id[AR_ID_LEN + 1])
{
    drop_card_as(c, id, 1);
}

static char *db_value(const char *sql);

/* Writes note (borrowed, with its id) as a killed writer leaves it. */
static void drop_note(jv note, const char *id)
{
    char path[PATH_MAX];
    intend(1, id);
    char *text = ar_json_dump(note, AR_JSON_PRETTY);
    ck_assert_int_eq(ar_write_atomic(ar_kb_note_path(&kb, id, path), text, strlen(text)), 0);
    free(text);
}

static int has_view(const char *id)
{
    jv v;
    int rc = ar_index_view(&kb, id, &v);
    jv_free(v);
    ck_assert_int_ge(rc, 0);
    return rc == 0;
}

START_TEST(incremental_adds_equal_a_rebuild)
{
    jv a = card("2026-01-01T00:00:00.000Z", "keep", 1.5);
    jv b = card("2026-01-03T00:00:00.000Z", "keep", 1.4);
    jv c = card("2026-01-02T00:00:00.000Z", "keep", 1.3);   /* sorts before b */
    char ida[AR_ID_LEN + 1], idb[AR_ID_LEN + 1], idc[AR_ID_LEN + 1], n1[AR_ID_LEN + 1];
    char v0[AR_INDEX_VERSION_LEN], v[AR_INDEX_VERSION_LEN], v2[AR_INDEX_VERSION_LEN];
    ck_assert_int_eq(ar_store_card(&kb, a, ida), 0);   /* the first card builds the index */
    ck_assert_int_eq(ar_index_version(&kb, v0), 0);
    ck_assert_int_eq(ar_store_card(&kb, b, idb), 0);
    ck_assert_int_eq(ar_index_check(&kb), 0);
    ck_assert_int_eq(ar_store_card(&kb, c, idc), 0);
    ck_assert_int_eq(ar_index_check(&kb), 0);
    setenv("AR_NOW", "2026-01-04T00:00:00.000Z", 1);
    ck_assert_int_eq(ar_store_note(&kb, ida, "lesson", "noted", NULL, n1), 0);
    setenv("AR_NOW", "2026-01-05T00:00:00.000Z", 1);
    ck_assert_int_eq(ar_store_note(&kb, ida, "status", "", "discard", n1), 0);
    unsetenv("AR_NOW");
    ck_assert_int_eq(ar_index_check(&kb), 0);
    ck_assert_int_eq(ar_index_version(&kb, v), 0);
    ck_assert_str_ne(v, v0);
    /* storing a fact the index holds changes nothing */
    ck_assert_int_eq(ar_index_add(&kb, b), 0);
    ck_assert_int_eq(ar_index_version(&kb, v2), 0);
    ck_assert_str_eq(v, v2);
    /* a rebuild of the same facts: the same version, the same rows */
    ck_assert_int_eq(ar_index_rebuild(&kb), 0);
    ck_assert_int_eq(ar_index_version(&kb, v2), 0);
    ck_assert_str_eq(v, v2);
    ck_assert_int_eq(ar_index_check(&kb), 0);
    char *st = db_value("SELECT status || ' ' || lesson || ' ' || card_status FROM cards WHERE id IN "
                        "(SELECT card FROM notes)");
    ck_assert_str_eq(st, "discard noted keep");
    free(st);
    st = db_value("PRAGMA user_version");
    ck_assert_str_eq(st, "4");
    free(st);
    st = db_value("PRAGMA journal_mode");
    ck_assert_str_eq(st, "wal");
    free(st);
    /* the check notices a row that disagrees */
    db_exec("UPDATE card_rows SET val_bpb = 9 WHERE val_bpb = 1.3");
    ck_assert_int_eq(ar_index_check(&kb), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "disagrees with the facts"));
    ck_assert_int_eq(ar_index_rebuild(&kb), 0);
    ck_assert_int_eq(ar_index_check(&kb), 0);
    jv_free(a), jv_free(b), jv_free(c);
}
END_TEST

START_TEST(facts_written_without_the_index_are_taken_in)
{
    jv a = card("2026-01-01T00:00:00.000Z", "keep", 1.5);
    char ida[AR_ID_LEN + 1], idb[AR_ID_LEN + 1], path[PATH_MAX];
    ck_assert_int_eq(ar_store_card(&kb, a, ida), 0);
    char *n = db_value("SELECT count(*) FROM pending");
    ck_assert_str_eq(n, "0");   /* the writer's intent went with its INSERT */
    free(n);

    /* a writer killed after its card's file and before its INSERT: the
     * next reader takes the card in */
    jv b = card("2026-01-02T00:00:00.000Z", "keep", 1.4);
    drop_card(b, idb);
    ck_assert(has_view(idb));
    n = db_value("SELECT count(*) FROM pending");
    ck_assert_str_eq(n, "0");
    free(n);
    ck_assert_int_eq(ar_index_check(&kb), 0);
    /* so is a note, into its card's view */
    char nid[AR_ID_LEN + 1];
    jv note = parse("{\"schema\":\"ar.note/1\",\"created\":\"2026-01-03T00:00:00.000Z\",\"agent\":\"unit\","
                    "\"kind\":\"status\",\"status\":\"discard\",\"text\":\"\"}");
    ar_jv_set(&note, "card", jv_string(ida));
    ck_assert_int_eq(ar_id_compute(note, nid), 0);
    ar_jv_set(&note, "id", jv_string(nid));
    drop_note(note, nid);
    jv view;
    ck_assert_int_eq(ar_index_view(&kb, ida, &view), 0);
    ck_assert_str_eq(ar_jv_str(view, "status"), "discard");
    jv_free(view);
    ck_assert_int_eq(ar_index_check(&kb), 0);
    /* a note whose card is not there yet, then the card: its view has it */
    jv c = card("2026-01-04T00:00:00.000Z", "keep", 1.3);
    char idc[AR_ID_LEN + 1];
    ck_assert_int_eq(ar_id_compute(c, idc), 0);
    ar_jv_set(&note, "card", jv_string(idc));
    ar_jv_set(&note, "created", jv_string("2026-01-05T00:00:00.000Z"));
    note = jv_object_delete(note, jv_string("id"));
    ck_assert_int_eq(ar_id_compute(note, nid), 0);
    ar_jv_set(&note, "id", jv_string(nid));
    drop_note(note, nid);
    ck_assert_int_eq(ar_index_ensure(&kb), 0);
    ck_assert(!has_view(idc));
    ck_assert_int_eq(ar_store_card(&kb, c, idc), 0);
    ck_assert_int_eq(ar_index_view(&kb, idc, &view), 0);
    ck_assert_str_eq(ar_jv_str(view, "status"), "discard");
    jv_free(view);
    ck_assert_int_eq(ar_index_check(&kb), 0);

    /* a writer killed between its intent and its file: its row stays (the
     * reader cannot tell it from a writer at work), harms no reader, and a
     * rebuild with no writer at work clears it */
    jv d = card("2026-01-06T00:00:00.000Z", "keep", 1.2);
    char idd[AR_ID_LEN + 1];
    ck_assert_int_eq(ar_id_compute(d, idd), 0);
    intend(0, idd);
    ck_assert(!has_view(idd));
    ck_assert_int_eq(ar_index_check(&kb), 0);
    /* a rebuild while a writer holds its intent keeps the row */
    struct ar_intent in;
    const char *ids[1] = {idd};
    int is_note = 0;
    ck_assert_int_eq(ar_index_intend(&kb, &is_note, ids, 1, &in), 0);
    ck_assert_int_eq(ar_index_rebuild(&kb), 0);
    n = db_value("SELECT count(*) FROM pending");
    ck_assert_str_eq(n, "1");
    free(n);
    ar_index_intent_end(&in);
    ck_assert_int_eq(ar_index_rebuild(&kb), 0);
    n = db_value("SELECT count(*) FROM pending");
    ck_assert_str_eq(n, "0");
    free(n);

    /* an invalid fact is skipped once, not read again by every reader */
    ar_kb_card_path(&kb, "20260101T000000Z-000000000000", path);
    intend(0, "20260101T000000Z-000000000000");
    ck_assert_int_eq(ar_write_atomic(path, "{\"torn\":", 8), 0);
    ck_assert_int_eq(ar_index_ensure(&kb), 0);
    n = db_value("SELECT count(*) FROM skipped");
    ck_assert_str_eq(n, "1");
    free(n);
    ck_assert_int_eq(ar_index_check(&kb), 0);

    /* a card put in cards/ by hand, through no ar tool: the check names
     * it, a rebuild takes it in */
    jv e = card("2026-01-07T00:00:00.000Z", "keep", 1.1);
    char ide[AR_ID_LEN + 1];
    drop_card_as(e, ide, 0);
    ck_assert_int_eq(ar_index_check(&kb), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "lacks 1 card"));
    ck_assert_ptr_nonnull(strstr(ar_last_error(), ide));
    ck_assert_int_eq(ar_index_rebuild(&kb), 0);
    ck_assert(has_view(ide));
    ck_assert_int_eq(ar_index_check(&kb), 0);
    /* a fact the index holds that is gone (moved aside by hand): the check
     * says so, a rebuild drops it */
    ar_kb_card_path(&kb, idb, path);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(ar_index_check(&kb), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "whose file is gone"));
    ck_assert_int_eq(ar_index_rebuild(&kb), 0);
    ck_assert(!has_view(idb));
    ck_assert_int_eq(ar_index_check(&kb), 0);
    jv_free(a), jv_free(b), jv_free(c), jv_free(d), jv_free(e), jv_free(note);
}
END_TEST

START_TEST(old_missing_or_corrupt_database_is_rebuilt)
{
    jv a = card("2026-01-01T00:00:00.000Z", "keep", 1.5);
    jv b = card("2026-01-02T00:00:00.000Z", "keep", 1.4);
    char ida[AR_ID_LEN + 1], idb[AR_ID_LEN + 1], path[PATH_MAX], side[PATH_MAX + 8];
    ck_assert_int_eq(ar_store_card(&kb, a, ida), 0);
    ck_assert_int_eq(ar_store_card(&kb, b, idb), 0);
    ar_kb_path(&kb, "index.db", path);
    /* an old schema */
    db_exec("PRAGMA user_version = 0; DROP TABLE card_rows;");
    ck_assert(has_view(ida));
    ck_assert_int_eq(ar_index_check(&kb), 0);
    /* missing */
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(side, sizeof side, "%s%s", path, sfx[i]);
        unlink(side);
    }
    ck_assert_int_eq(ar_index_check(&kb), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "missing"));
    ck_assert(has_view(idb));
    ck_assert_int_eq(ar_index_check(&kb), 0);
    /* not a database */
    for (int i = 0; i < 3; i++) {
        snprintf(side, sizeof side, "%s%s", path, sfx[i]);
        unlink(side);
    }
    ck_assert_int_eq(ar_write_atomic(path, "garbage, not a database, garbage, not a database!!", 50), 0);
    ck_assert_int_eq(ar_index_check(&kb), -1);
    ck_assert(has_view(ida));
    ck_assert_int_eq(ar_index_check(&kb), 0);
    /* its pages overwritten */
    char *n = db_value("PRAGMA wal_checkpoint(TRUNCATE)");
    free(n);
    int fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    char junk[4096];
    memset(junk, 0x5a, sizeof junk);
    for (off_t off = 4096; off < 4096 * 8; off += 4096)
        ck_assert_int_eq(pwrite(fd, junk, sizeof junk, off), (ssize_t)sizeof junk);
    close(fd);
    ck_assert_int_eq(ar_index_rebuild(&kb), 0);
    ck_assert(has_view(ida) && has_view(idb));
    ck_assert_int_eq(ar_index_check(&kb), 0);
    jv_free(a), jv_free(b);
}
END_TEST

static int count_row(const struct ar_cardrow *r, void *ctx)
{
    struct { int n, sessions_ok; } *c = ctx;
    /* each card's session and config hash were read with its row */
    char want[32];
    snprintf(want, sizeof want, "s%d", c->n / 100);
    c->sessions_ok += r->session && strcmp(r->session, want) == 0 && r->config_hash && strlen(r->config_hash) == 64;
    c->n++;
    return 0;
}

/* The rows' strings are read from the strings table as far as each batch
 * of rows needs: 3,000 cards (three batches), each with a config hash and
 * session of its own, all come with theirs; a string the rows need that
 * the table lacks makes the read fail, until a rebuild. */
START_TEST(rows_come_with_their_strings)
{
    jv all = jv_array();
    for (int i = 0; i < 3000; i++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "{\"created\":\"2026-01-01T%02d:%02d:%02d.000Z\",\"hypothesis\":\"h %d\",\"category\":\"optimizer\","
                 "\"status\":\"keep\",\"commit\":\"abc1234\",\"session\":\"s%d\",\"metrics\":{\"val_bpb\":1.5},"
                 "\"platform\":{\"class\":\"cpu-avx2\"},\"config\":{\"lr\":%d}}",
                 i / 3600, i / 60 % 60, i % 60, i, i / 100, i);
        jv c = parse(text);
        ck_assert_int_eq(ar_card_complete(&c), 0);
        all = jv_array_append(all, c);
    }
    ck_assert_int_eq(ar_store_card_batch(&kb, all, NULL), 0);
    jv_free(all);
    ck_assert_int_eq(ar_index_rebuild(&kb), 0);   /* strings numbered in card order */
    struct { int n, sessions_ok; } c = {0, 0};
    ck_assert_int_eq(ar_index_rows(&kb, count_row, &c), 0);
    ck_assert_int_eq(c.n, 3000);
    ck_assert_int_eq(c.sessions_ok, 3000);
    /* the last card's config hash gone from the table */
    db_exec("DELETE FROM strings WHERE id = (SELECT config_hash FROM card_rows ORDER BY id DESC LIMIT 1)");
    c.n = c.sessions_ok = 0;
    ck_assert_int_eq(ar_index_rows(&kb, count_row, &c), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "strings table lacks"));
    ck_assert_int_eq(ar_index_rebuild(&kb), 0);
    c.n = c.sessions_ok = 0;
    ck_assert_int_eq(ar_index_rows(&kb, count_row, &c), 0);
    ck_assert_int_eq(c.sessions_ok, 3000);
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
    tcase_add_test(tc, incremental_adds_equal_a_rebuild);
    tcase_add_test(tc, facts_written_without_the_index_are_taken_in);
    tcase_add_test(tc, old_missing_or_corrupt_database_is_rebuilt);
    tcase_add_test(tc, rows_come_with_their_strings);
    suite_add_tcase(s, tc);
    return s;
}

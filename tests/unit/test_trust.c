/* facts/trust.h and the views it shapes: a status or retract note counts
 * only from the card's own agent or a trusted one; the others are claims.
 * The rebuild (spliced text) and the incremental path (jv) give the same
 * bytes, claims included, and the index follows the trust list. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/atomic.h"
#include "base/err.h"
#include "base/json.h"
#include "facts/card.h"
#include "facts/id.h"
#include "facts/kb.h"
#include "facts/note.h"
#include "facts/trust.h"
#include "index/index.h"
#include "index/store.h"

static struct ar_kb kb;
static char dir[256];

static void setup(void)
{
    unit_tmpdir(dir, sizeof dir, "trust");
    setenv("AR_AGENT", "owner", 1);
    ck_assert_int_eq(ar_kb_open(&kb, dir, AR_KB_CREATE), 0);
}

static void teardown(void)
{
    unit_rmtree(dir);
}

static void put_file(const char *rel, const char *text)
{
    char path[PATH_MAX];
    ck_assert_int_eq(ar_write_atomic(ar_kb_path(&kb, rel, path), text, strlen(text)), 0);
}

START_TEST(list_is_sorted_distinct_and_commented)
{
    put_file("trust", "# who counts here\n  zed \nann\n\nann\n#bob\nbob@host\r\n");
    struct ar_trust t;
    ck_assert_int_eq(ar_trust_load(&kb, &t), 0);
    ck_assert_int_eq((int)t.n, 3);
    ck_assert_str_eq(t.agents[0], "ann");
    ck_assert_str_eq(t.agents[1], "bob@host");
    ck_assert_str_eq(t.agents[2], "zed");
    ck_assert(ar_trust_has(&t, "zed"));
    ck_assert(!ar_trust_has(&t, "#bob"));
    ck_assert(ar_trust_authority(&t, "x", "ann"));     /* trusted */
    ck_assert(ar_trust_authority(&t, "x", "x"));       /* the card's own agent */
    ck_assert(!ar_trust_authority(&t, "x", "mallory"));
    ck_assert(!ar_trust_authority(NULL, "x", "mallory"));
    ck_assert(!ar_trust_authority(&t, "x", NULL));
    uint64_t h = t.hash;
    ar_trust_free(&t);
    /* the same agents in another layout: the same list, the same hash */
    put_file("trust", "zed\nbob@host\nann\n");
    ck_assert_int_eq(ar_trust_load(&kb, &t), 0);
    ck_assert(t.hash == h);
    ar_trust_free(&t);
}
END_TEST

START_TEST(edit_adds_and_removes)
{
    ck_assert_int_eq(ar_trust_of(&kb)->n, 0);
    ck_assert_int_eq(ar_trust_edit(&kb, "mallory", 0), 0);
    ck_assert_int_eq(ar_trust_edit(&kb, "mallory", 0), 1);   /* nothing to do */
    ck_assert_int_eq(ar_trust_edit(&kb, "ann", 0), 0);
    const struct ar_trust *t = ar_trust_of(&kb);
    ck_assert_int_eq((int)t->n, 2);
    ck_assert_str_eq(t->agents[0], "ann");
    ck_assert_int_eq(ar_trust_edit(&kb, "mallory", 1), 0);
    ck_assert_int_eq(ar_trust_edit(&kb, "mallory", 1), 1);
    ck_assert_int_eq((int)ar_trust_of(&kb)->n, 1);
    ck_assert_int_eq(ar_trust_edit(&kb, "#x", 0), -1);
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    ck_assert_int_eq(ar_trust_edit(&kb, "a\nb", 0), -1);
}
END_TEST

/* A note by agent on card, written as a peer's sync leaves it. */
static void peer_note(const char *card, const char *agent, const char *kind, const char *status,
                      const char *created, char id[AR_ID_LEN + 1])
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"schema\":\"ar.note/1\",\"created\":\"%s\",\"card\":\"%s\",\"agent\":\"%s\",\"kind\":\"%s\","
             "\"text\":\"t\"%s%s%s}",
             created, card, agent, kind, status ? ",\"status\":\"" : "", status ? status : "", status ? "\"" : "");
    jv n;
    ck_assert_int_eq(ar_json_parse(text, strlen(text), "note", &n), 0);
    ck_assert_int_eq(ar_id_compute(n, id), 0);
    ar_jv_set(&n, "id", jv_string(id));
    ck_assert_int_eq(ar_note_validate(n, 1), 0);
    char rel[64];
    snprintf(rel, sizeof rel, "notes/%s.json", id);
    char *out = ar_json_dump(n, AR_JSON_PRETTY);
    put_file(rel, out);
    free(out);
    jv_free(n);
}

static jv view_of(const char *id)
{
    jv v;
    ck_assert_int_eq(ar_index_view(&kb, id, &v), 0);
    return v;
}

START_TEST(claims_change_nothing_until_trusted)
{
    jv c = jv_object();
    ar_jv_set(&c, "created", jv_string("2026-01-01T00:00:00.000Z"));
    ar_jv_set(&c, "hypothesis", jv_string("base"));
    ar_jv_set(&c, "category", jv_string("baseline"));
    ar_jv_set(&c, "status", jv_string("baseline"));
    ar_jv_set(&c, "commit", jv_string("abc1234"));
    jv m = jv_object();
    ar_jv_set(&m, "val_bpb", jv_number(1.0));
    ar_jv_set(&c, "metrics", m);
    jv plat = jv_object();
    ar_jv_set(&plat, "class", jv_string("cpu-test"));
    ar_jv_set(&c, "platform", plat);
    ck_assert_msg(ar_card_complete(&c) == 0, "%s", ar_last_error());
    char id[AR_ID_LEN + 1], n1[AR_ID_LEN + 1], n2[AR_ID_LEN + 1], n3[AR_ID_LEN + 1];
    ck_assert_int_eq(ar_store_card(&kb, c, id), 0);
    peer_note(id, "mal\\\"lory", "status", "crash", "2026-01-02T00:00:00.000Z", n1);   /* a name to escape */
    peer_note(id, "mallory", "retract", NULL, "2026-01-03T00:00:00.000Z", n2);
    peer_note(id, "owner", "status", "discard", "2026-01-04T00:00:00.000Z", n3);
    ck_assert_int_eq(ar_index_rebuild(&kb), 0);
    jv v = view_of(id);
    ck_assert_str_eq(ar_jv_str(v, "status"), "discard");   /* the owner's note counts */
    ck_assert(jv_get_kind(ar_jv_get(v, "retracted")) == JV_KIND_FALSE);
    char *s = ar_json_dump(ar_jv_get(v, "claims"), AR_JSON_COMPACT);
    char want[512];
    snprintf(want, sizeof want,
             "[{\"agent\":\"mal\\\"lory\",\"kind\":\"status\",\"note\":\"%s\",\"status\":\"crash\"},"
             "{\"agent\":\"mallory\",\"kind\":\"retract\",\"note\":\"%s\"}]",
             n1, n2);
    ck_assert_str_eq(s, want);
    free(s);
    /* the jv path gives the same bytes as the spliced rebuild */
    jv notes = ar_jv_get(v, "notes");
    jv again = ar_card_view_trust(c, notes, ar_trust_of(&kb));
    char *a = ar_json_dump(again, AR_JSON_COMPACT), *b = ar_json_dump(v, AR_JSON_COMPACT);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    jv_free(again);
    jv_free(v);
    ck_assert_int_eq(ar_index_check(&kb), 0);
    /* trusting mallory: her retraction counts, the next reader rebuilds */
    ck_assert_int_eq(ar_trust_edit(&kb, "mallory", 0), 0);
    v = view_of(id);
    ck_assert(jv_get_kind(ar_jv_get(v, "retracted")) == JV_KIND_TRUE);
    s = ar_json_dump(ar_jv_get(v, "claims"), AR_JSON_COMPACT);
    ck_assert_ptr_nonnull(strstr(s, "mal\\\"lory"));
    ck_assert_ptr_null(strstr(s, "retract"));
    free(s);
    jv again2 = ar_card_view_trust(c, notes, ar_trust_of(&kb));
    a = ar_json_dump(again2, AR_JSON_COMPACT);
    b = ar_json_dump(v, AR_JSON_COMPACT);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    jv_free(again2);
    jv_free(v);
    jv_free(notes);
    ck_assert_int_eq(ar_index_check(&kb), 0);
    /* a note written here on another's card trusts its writer here */
    setenv("AR_AGENT", "director", 1);
    char n4[AR_ID_LEN + 1];
    ck_assert_int_eq(ar_store_note(&kb, id, "status", "", "keep", n4), 0);
    ck_assert(ar_trust_has(ar_trust_of(&kb), "director"));
    v = view_of(id);
    ck_assert_str_eq(ar_jv_str(v, "status"), "keep");
    jv_free(v);
    ck_assert_int_eq(ar_index_check(&kb), 0);
    setenv("AR_AGENT", "owner", 1);
    jv_free(c);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("trust");
    TCase *tc = tcase_create("trust");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, list_is_sorted_distinct_and_commented);
    tcase_add_test(tc, edit_adds_and_removes);
    tcase_add_test(tc, claims_change_nothing_until_trusted);
    suite_add_tcase(s, tc);
    return s;
}

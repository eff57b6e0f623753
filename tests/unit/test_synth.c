/* lib/synth: session file names, write-only-when-changed, and what the
 * session report and meta-synthesis say about hand-made cards. */
#include "unit.h"
#include "base/err.h"
#include "base/json.h"
#include "analysis/synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

START_TEST(session_file_names)
{
    char f[256];
    ck_assert_str_eq(ar_synth_session_file("mar5-h100", f, sizeof f), "session-mar5-h100.md");
    ck_assert_str_eq(ar_synth_session_file("v1.2_x", f, sizeof f), "session-v1.2_x.md");
    /* altered tags carry a hash, so "a/b" and "a_b" differ */
    ar_synth_session_file("a/b", f, sizeof f);
    ck_assert_int_eq((int)strlen(f), (int)strlen("session-a_b-12345678.md"));
    ck_assert(strncmp(f, "session-a_b-", 12) == 0);
    ck_assert_str_ne(f, "session-a_b.md");
    ar_synth_session_file("../x", f, sizeof f);
    ck_assert(strncmp(f, "session-.._x-", 13) != 0);
    ck_assert_ptr_null(strchr(f, '/'));
    ck_assert(f[8] == '_');
}
END_TEST

START_TEST(write_only_when_changed)
{
    char dir[] = "/tmp/ar-test-synth-XXXXXX", path[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/meta.md", dir);
    int changed;
    ck_assert_int_eq(ar_synth_write(path, "abc\n", 4, &changed), 0);
    ck_assert_int_eq(changed, 1);
    struct stat a, b;
    ck_assert_int_eq(stat(path, &a), 0);
    ck_assert_int_eq(ar_synth_write(path, "abc\n", 4, &changed), 0);
    ck_assert_int_eq(changed, 0);
    ck_assert_int_eq(stat(path, &b), 0);
    ck_assert_int_eq((int)a.st_ino, (int)b.st_ino);
    ck_assert_int_eq(ar_synth_write(path, "abcd\n", 5, &changed), 0);
    ck_assert_int_eq(changed, 1);
    ck_assert_int_eq(ar_synth_write(path, "abc", 3, &changed), 0);   /* a prefix is a change */
    ck_assert_int_eq(changed, 1);
    unlink(path);
    rmdir(dir);
}
END_TEST

static void add(struct ar_kbstats *st, const char *json)
{
    ck_assert_msg(ar_kbstats_add_text(st, json, strlen(json)) == 0, "%s", ar_last_error());
}

static struct ar_kbstats *sample(void)
{
    struct ar_kbstats *st = ar_kbstats_new();
    add(st, "{\"id\":\"c1\",\"status\":\"baseline\",\"session\":\"s\",\"agent\":\"a\",\"platform\":{\"class\":\"cpu\"},"
            "\"metrics\":{\"val_bpb\":1.2},\"commit\":\"abc1234\"}");
    add(st, "{\"id\":\"c2\",\"status\":\"keep\",\"session\":\"s\",\"agent\":\"a\",\"platform\":{\"class\":\"cpu\"},"
            "\"metrics\":{\"val_bpb\":1.19},\"baseline\":\"c1\",\"commit\":\"abc1235\","
            "\"changes\":[{\"key\":\"matrix_lr\",\"from\":0.04,\"to\":0.05}]}");
    add(st, "{\"id\":\"c3\",\"status\":\"discard\",\"session\":\"s\",\"agent\":\"a\",\"platform\":{\"class\":\"cpu\"},"
            "\"metrics\":{\"val_bpb\":1.25},\"baseline\":\"c1\",\"changes\":[{\"key\":\"mlp\",\"from\":\"relu2\",\"to\":\"gelu\"}],"
            "\"notes\":[{\"kind\":\"lesson\",\"text\":\"gelu lost 0.05\\nstay with relu2\"}]}");
    add(st, "{\"id\":\"c4\",\"status\":\"crash\",\"session\":\"s\",\"agent\":\"a\",\"platform\":{\"class\":\"cpu\"},"
            "\"hypothesis\":\"deeper | wider\",\"changes\":[{\"key\":\"depth\",\"from\":8,\"to\":16}],"
            "\"notes\":[{\"kind\":\"lesson\",\"text\":\"out of memory\"}]}");
    ar_kbstats_finish(st);
    return st;
}

START_TEST(session_report_sections)
{
    struct ar_kbstats *st = sample();
    struct ar_findings *f = ar_findings_build(st);
    char *md = ar_synth_session_md(st, f, "s");
    ck_assert_ptr_nonnull(strstr(md, "# Session s\n"));
    ck_assert_ptr_nonnull(strstr(md, "- cards: 4 (keep 1, discard 1, crash 1, inconclusive 0, baseline 1); retracted 0\n"));
    ck_assert_ptr_nonnull(strstr(md, "- platform classes: cpu (4)\n"));
    ck_assert_ptr_nonnull(strstr(md, "| -|0|cpu | 1.200000 | 1.190000 | -0.010000 | 5.0 | 3 | c2 | abc1235 |"));
    ck_assert_ptr_nonnull(strstr(md, "## Confirmed findings\n\n- `matrix_lr:up`: confirmed"));
    ck_assert_ptr_nonnull(strstr(md, "## Dead ends\n\n- `mlp=gelu`: refuted"));
    ck_assert_ptr_nonnull(strstr(md, "- `depth:up`: crashed"));
    /* a pipe would break a markdown table or list */
    ck_assert_ptr_nonnull(strstr(md, "- c4: deeper / wider (lesson: out of memory)\n"));
    /* every card's lesson, not only the crashes', newest first */
    const char *l = strstr(md, "\n## Lessons\n\n- c4 (crash, a): out of memory\n- c3 (discard, a): gelu lost 0.05 stay with relu2\n");
    ck_assert_msg(l, "%s", md);
    free(md);
    ar_findings_free(f);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(meta_json_and_landscape)
{
    struct ar_kbstats *st = sample();
    struct ar_findings *f = ar_findings_build(st);
    const char *keys[] = {"matrix_lr", "warmup_frac", NULL};
    struct ar_coverage *cov = ar_coverage_build(st, keys);
    jv m = ar_synth_meta_json(st, f, cov);
    ck_assert_int_eq((int)ar_jv_num(m, "cards", 0), 4);
    ck_assert_int_eq((int)ar_jv_num(m, "crashes", 0), 1);
    jv land = ar_jv_get(m, "landscape");
    jv bins = ar_jv_get(land, "bins");
    ck_assert_int_eq(jv_array_length(jv_copy(bins)), 10);
    /* confirmed at 0.626 (z = 5: strength 1.32) -> bin 6; refuted at 0 (a
     * 30-sigma loss settles it) -> bin 0; crashed: 0.3 less the crash's
     * pull, 0.247 -> bin 2 */
    jv b9 = jv_array_get(jv_copy(bins), 6), b0 = jv_array_get(jv_copy(bins), 0), b3 = jv_array_get(jv_copy(bins), 2);
    ck_assert_int_eq((int)jv_number_value(b9), 1);
    ck_assert_int_eq((int)jv_number_value(b0), 1);
    ck_assert_int_eq((int)jv_number_value(b3), 1);
    jv_free(b9);
    jv_free(b0);
    jv_free(b3);
    jv_free(bins);
    jv_free(land);
    char *s = ar_json_dump(m, AR_JSON_COMPACT);
    ck_assert_ptr_nonnull(strstr(s, "\"key_findings\":[{\"certainty\":0.626018,"));
    ck_assert_ptr_nonnull(strstr(s, "\"under-explored\":{\"categories\":["));
    ck_assert_ptr_nonnull(strstr(s, "\"warmup_frac\""));
    ck_assert_ptr_nonnull(strstr(s, "rests on a single run"));
    free(s);
    char *md = ar_synth_meta_md(st, f, cov);
    ck_assert_ptr_nonnull(strstr(md, "## Certainty landscape"));
    ck_assert_ptr_nonnull(strstr(md, "| 0.6-0.7 | 1 |"));
    ck_assert_msg(strstr(md, "\n## Lessons\n\n- c4 (crash, a): out of memory\n- c3 (discard, a): gelu lost 0.05 stay with relu2\n"),
                  "%s", md);
    free(md);
    jv_free(m);
    ar_coverage_free(cov);
    ar_findings_free(f);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(empty_knowledge_base)
{
    struct ar_kbstats *st = ar_kbstats_new();
    ar_kbstats_finish(st);
    struct ar_findings *f = ar_findings_build(st);
    struct ar_coverage *cov = ar_coverage_build(st, NULL);
    char *md = ar_synth_meta_md(st, f, cov);
    ck_assert_ptr_nonnull(strstr(md, "- cards: 0 in 0 sessions"));
    free(md);
    jv m = ar_synth_meta_json(st, f, cov);
    ck_assert_int_eq((int)ar_jv_num(m, "cards", -1), 0);
    jv_free(m);
    ar_coverage_free(cov);
    ar_findings_free(f);
    ar_kbstats_free(st);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("synth");
    TCase *t = tcase_create("synth");
    tcase_add_test(t, session_file_names);
    tcase_add_test(t, write_only_when_changed);
    tcase_add_test(t, session_report_sections);
    tcase_add_test(t, meta_json_and_landscape);
    tcase_add_test(t, empty_knowledge_base);
    suite_add_tcase(s, t);
    return s;
}

/* lib/index/import_files.c: what `ar-card import` checks before it stores
 * anything, and which importer a path goes to. */
#include "unit.h"
#include "base/err.h"
#include "facts/kb.h"
#include "index/import.h"
#include "index/index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static struct ar_kb kb;
static char dir[256], tsv[300], odd[300];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void setup(void)
{
    unit_tmpdir(dir, sizeof dir, "import-check");
    setenv("AR_AGENT", "unit", 1);
    char kbdir[300];
    snprintf(kbdir, sizeof kbdir, "%s/kb", dir);
    ck_assert_int_eq(ar_kb_open(&kb, kbdir, AR_KB_CREATE), 0);
    /* results.tsv by its first line, not its name */
    snprintf(tsv, sizeof tsv, "%s/results.txt", dir);
    write_file(tsv, "commit\tval_bpb\tmemory_gb\tstatus\tdescription\n"
                    "abc1234\t1.100000\t10.0\tkeep\tbaseline\n"
                    "def5678\t1.050000\t10.0\tkeep\twider mlp\n");
    snprintf(odd, sizeof odd, "%s/odd.tsv", dir);
    write_file(odd, "not a header\n");
}

static void teardown(void)
{
    unit_rmtree(dir);
}

START_TEST(checks_options_and_paths)
{
    char *paths[] = {tsv, odd};
    struct ar_import_opts o = {.platform = "h100", .session = "s1", .category = "optimizer", .format = "tsv"};
    ck_assert_int_eq(ar_import_check(&o, paths, 2), 0);
    struct ar_import_opts none = {0};
    ck_assert_int_eq(ar_import_check(&none, paths, 2), 0);

    struct ar_import_opts fmt = {.format = "csv"};
    ck_assert_int_eq(ar_import_check(&fmt, paths, 2), -1);
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    ck_assert_str_eq(ar_last_error(), "option '--format': unknown value 'csv' (one of: tsv, commons)");

    struct ar_import_opts cat = {.category = "nonsense"};
    ck_assert_int_eq(ar_import_check(&cat, paths, 2), -1);
    ck_assert_msg(strncmp(ar_last_error(), "field 'category'", 16) == 0, "%s", ar_last_error());

    struct ar_import_opts ses = {.session = ""};
    ck_assert_int_eq(ar_import_check(&ses, paths, 2), -1);
    ck_assert_msg(strncmp(ar_last_error(), "field 'session'", 15) == 0, "%s", ar_last_error());

    char missing[320];
    snprintf(missing, sizeof missing, "%s/missing.tsv", dir);
    char *bad[] = {tsv, missing};
    ck_assert_int_eq(ar_import_check(&none, bad, 2), -1);
    char want[400];
    snprintf(want, sizeof want, "%s: cannot read: No such file or directory", missing);
    ck_assert_str_eq(ar_last_error(), want);
}
END_TEST

static size_t count_cards(void)
{
    size_t n;
    char **ids = ar_list_ids(kb.cards, &n);
    ar_free_ids(ids, n);
    return n;
}

START_TEST(platform_is_a_class_in_lower_case)
{
    char cls[65];
    ck_assert_int_eq(ar_import_platform("H100", cls), 0);
    ck_assert_str_eq(cls, "h100");
    ck_assert_int_eq(ar_import_platform("Apple-M2-Pro", cls), 0);
    ck_assert_str_eq(cls, "apple-m2-pro");
    ck_assert_int_eq(ar_import_platform("H 100", cls), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "--platform"));
    ck_assert_int_eq(ar_import_platform("", cls), -1);
}
END_TEST

START_TEST(path_goes_to_its_importer)
{
    struct ar_import_opts o = {.platform = "h100"};
    struct ar_import_stats st = {0};
    st.free_rows = st.files = jv_invalid();
    /* "commit<TAB>" first: results.tsv, whatever the name */
    ck_assert_int_eq(ar_import_path(&kb, tsv, &o, &st), 0);
    ck_assert_int_eq(st.imported, 2);
    ck_assert_int_eq(count_cards(), 2);
    /* without collect the stats hold no lists: a caller that never frees them leaks nothing */
    ck_assert(!jv_is_valid(st.files) && !jv_is_valid(st.free_rows));
    ck_assert_int_eq(st.structured + st.free_text, 2);
    /* named *.tsv: results.tsv, so a bad header is the tsv importer's error */
    ck_assert_int_eq(ar_import_path(&kb, odd, &o, &st), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "not a results.tsv header"));
    /* --format commons sends even a .tsv to the commons importer */
    struct ar_import_opts commons = {.platform = "h100", .format = "commons"};
    struct ar_import_stats st2 = {0};
    st2.free_rows = st2.files = jv_invalid();
    /* (which refuses it, naming it: a file given by name that is not a JSON
     * card is an error, not a skipped card and exit 0) */
    ck_assert_int_eq(ar_import_path(&kb, odd, &commons, &st2), -1);
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "not an autoresearch-commons card"));
    ck_assert_int_eq(count_cards(), 2);
    ar_import_stats_free(&st);
    ar_import_stats_free(&st2);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("import_check");
    TCase *tc = tcase_create("import_check");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, checks_options_and_paths);
    tcase_add_test(tc, path_goes_to_its_importer);
    tcase_add_test(tc, platform_is_a_class_in_lower_case);
    suite_add_tcase(s, tc);
    return s;
}

/* lib/base/opt.c and lib/base/cli.c: table-driven options. */
#include "unit.h"
#include "base/cli.h"
#include "base/opt.h"

#include <string.h>

static const char *name;
static long count;
static double rate;
static int flag;
static struct ar_strlist many;

static const struct ar_opt opts[] = {
    AR_OPT_STR("name", &name, "S", "a name"),
    AR_OPT_INT("count", &count, "N", "a count"),
    AR_OPT_NUM("rate", &rate, "X", "a rate"),
    AR_OPT_BOOL("flag", &flag, "a flag"),
    AR_OPT_LIST("many", &many, "V", "repeatable"),
    AR_OPT_END,
};

START_TEST(parses_and_permutes)
{
    char *argv[] = {"prog", "pos1", "--name", "x", "--count=3", "pos2", "--flag", "--rate", "0.5",
                    "--many", "a", "--many=b", "--", "--not-an-option", NULL};
    int n = ar_opt_parse(opts, 14, argv, "usage\n");
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(argv[0], "pos1");
    ck_assert_str_eq(argv[1], "pos2");
    ck_assert_str_eq(argv[2], "--not-an-option");
    ck_assert_str_eq(name, "x");
    ck_assert_int_eq(count, 3);
    ck_assert(rate == 0.5);
    ck_assert_int_eq(flag, 1);
    ck_assert_int_eq(many.n, 2);
    ck_assert_str_eq(many.v[1], "b");
    ck_assert(ar_opt_given(opts, &rate));
    ck_assert(ar_opt_given(opts, &count));
    ar_strlist_free(&many);
}
END_TEST

START_TEST(unknown_option_exits_2)
{
    char *argv[] = {"prog", "--nope", NULL};
    ar_opt_parse(opts, 2, argv, "usage\n");
}
END_TEST

START_TEST(bad_number_exits_2)
{
    char *argv[] = {"prog", "--rate", "inf", NULL};
    ar_opt_parse(opts, 3, argv, "usage\n");
}
END_TEST

START_TEST(missing_value_exits_2)
{
    char *argv[] = {"prog", "--name", NULL};
    ar_opt_parse(opts, 2, argv, "usage\n");
}
END_TEST

START_TEST(bool_with_value_exits_2)
{
    char *argv[] = {"prog", "--flag=1", NULL};
    ar_opt_parse(opts, 2, argv, "usage\n");
}
END_TEST

START_TEST(invalid_utf8_exits_2)
{
    char *argv[] = {"prog", "--name", "a\xff", NULL};
    ar_opt_parse(opts, 3, argv, "usage\n");
}
END_TEST

START_TEST(help_exits_0)
{
    char *argv[] = {"prog", "--help", NULL};
    ar_opt_parse(opts, 2, argv, "usage\n");
}
END_TEST

static const char *reason;
static int tsv;
static const struct ar_opt req_opts[] = {
    AR_OPT_STR_REQ("reason", &reason, "TEXT", "why (required)"),
    AR_OPT_BOOL("json", &flag, "a flag"),
    AR_OPT_END,
};
static const struct ar_opt req_bool[] = {
    AR_OPT_BOOL_REQ("tsv", &tsv, "the format (required)"),
    AR_OPT_STR("name", &name, "S", "a name"),
    AR_OPT_END,
};

START_TEST(parse_n_counts_and_requires)
{
    char *argv[] = {"retract", "--reason=r", "id1", NULL};
    ck_assert_int_eq(ar_opt_parse_n(req_opts, 3, argv, "usage\n", "retract", 1, 1), 1);
    ck_assert_str_eq(argv[0], "id1");
    ck_assert_str_eq(reason, "r");
    char *many_argv[] = {"show", "a", "b", "c", NULL};
    ck_assert_int_eq(ar_opt_parse_n(opts, 4, many_argv, "usage\n", "show", 1, AR_OPT_ANY), 3);
    char *b[] = {"export", "--tsv", NULL};
    ck_assert_int_eq(ar_opt_parse_n(req_bool, 2, b, "usage\n", "export", 0, 0), 0);
    ck_assert_int_eq(tsv, 1);
}
END_TEST

/* a required option seen in an earlier parse does not count */
START_TEST(parse_n_missing_required_exits_2)
{
    char *first[] = {"retract", "--reason", "r", "id", NULL};
    ar_opt_parse_n(req_opts, 4, first, "usage\n", "retract", 1, 1);
    char *argv[] = {"retract", "id", "--json", NULL};
    ar_opt_parse_n(req_opts, 3, argv, "usage\n", "retract", 1, 1);
}
END_TEST

START_TEST(parse_n_missing_bool_exits_2)
{
    char *argv[] = {"export", "--name", "x", NULL};
    ar_opt_parse_n(req_bool, 3, argv, "usage\n", "export", 0, 0);
}
END_TEST

START_TEST(parse_n_empty_command_exits_2)
{
    char *argv[] = {"retract", NULL};
    ar_opt_parse_n(req_opts, 1, argv, "usage\n", "retract", 1, 1);
}
END_TEST

START_TEST(parse_n_too_many_exits_2)
{
    char *argv[] = {"query", "a", "b", NULL};
    ar_opt_parse_n(opts, 3, argv, "usage\n", "query", 1, 1);
}
END_TEST

START_TEST(parse_n_too_few_exits_2)
{
    char *argv[] = {"show", "--flag", NULL};
    ar_opt_parse_n(opts, 2, argv, "usage\n", "show", 1, AR_OPT_ANY);
}
END_TEST

START_TEST(parse_none_unexpected_exits_2)
{
    char *argv[] = {"status", "extra", NULL};
    ar_opt_parse_none(opts, 2, argv, "usage\n", "status");
}
END_TEST

START_TEST(split_commas)
{
    jv a = ar_split_commas(" a, b ,,c ");
    ck_assert_int_eq(jv_array_length(jv_copy(a)), 3);
    jv x = jv_array_get(jv_copy(a), 1);
    ck_assert_str_eq(jv_string_value(x), "b");
    jv_free(x);
    jv_free(a);
}
END_TEST

/* ar_cli_run: one struct per subcommand */
static int ran_n;
static const char *ran_first;

static int run_recorded(int n, char **args)
{
    ran_n = n;
    ran_first = n ? args[0] : NULL;
    return 7;
}

static int own_parser(int argc, char **argv)
{
    (void)argv;
    return 40 + argc;
}

static const struct ar_subcmd sub_show = {"show", "show things", "usage: show ID...\n", opts, 1, AR_OPT_ANY,
                                          run_recorded, NULL};
static const struct ar_subcmd sub_own = {.name = "own", .summary = "parses itself", .fn = own_parser};
static const struct ar_subcmd *const subs[] = {&sub_show, &sub_own, NULL};

START_TEST(cli_run_parses_then_runs)
{
    char *argv[] = {"prog", "show", "--name", "n1", "a", "b", NULL};
    ck_assert_int_eq(ar_cli_run(subs, 6, argv, "overview\n"), 7);
    ck_assert_int_eq(ran_n, 2);
    ck_assert_str_eq(ran_first, "a");
    ck_assert_str_eq(name, "n1");
    char *own[] = {"prog", "own", "--anything", "x", NULL};
    ck_assert_int_eq(ar_cli_run(subs, 4, own, "overview\n"), 43);
    char *help[] = {"prog", "--help", NULL};
    ck_assert_int_eq(ar_cli_run(subs, 2, help, "overview\n"), 0);
}
END_TEST

START_TEST(cli_run_too_few_exits_2)
{
    char *argv[] = {"prog", "show", NULL};
    ar_cli_run(subs, 2, argv, "overview\n");
}
END_TEST

START_TEST(cli_run_unknown_exits_2)
{
    char *argv[] = {"prog", "nothing", NULL};
    ar_cli_run(subs, 2, argv, "overview\n");
}
END_TEST

START_TEST(cli_run_no_command_is_2)
{
    char *argv[] = {"prog", NULL};
    ck_assert_int_eq(ar_cli_run(subs, 1, argv, "overview\n"), 2);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("opt");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, parses_and_permutes);
    tcase_add_exit_test(tc, unknown_option_exits_2, 2);
    tcase_add_exit_test(tc, bad_number_exits_2, 2);
    tcase_add_exit_test(tc, missing_value_exits_2, 2);
    tcase_add_exit_test(tc, bool_with_value_exits_2, 2);
    tcase_add_exit_test(tc, invalid_utf8_exits_2, 2);
    tcase_add_exit_test(tc, help_exits_0, 0);
    tcase_add_test(tc, parse_n_counts_and_requires);
    tcase_add_exit_test(tc, parse_n_missing_required_exits_2, 2);
    tcase_add_exit_test(tc, parse_n_missing_bool_exits_2, 2);
    tcase_add_exit_test(tc, parse_n_empty_command_exits_2, 2);
    tcase_add_exit_test(tc, parse_n_too_many_exits_2, 2);
    tcase_add_exit_test(tc, parse_n_too_few_exits_2, 2);
    tcase_add_exit_test(tc, parse_none_unexpected_exits_2, 2);
    tcase_add_test(tc, split_commas);
    tcase_add_test(tc, cli_run_parses_then_runs);
    tcase_add_exit_test(tc, cli_run_too_few_exits_2, 2);
    tcase_add_exit_test(tc, cli_run_unknown_exits_2, 2);
    tcase_add_test(tc, cli_run_no_command_is_2);
    suite_add_tcase(s, tc);
    return s;
}

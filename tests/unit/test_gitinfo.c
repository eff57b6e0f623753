#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "host/gitinfo.h"
#include "unit.h"

static char dir[] = "/tmp/ar-test-git-XXXXXX";

static void sh(const char *fmt, const char *arg)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, fmt, dir, arg);
    ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

static void rev_parse(const char *rev, char out[41])
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "git -C %s rev-parse %s", dir, rev);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(fgets(out, 41, p));
    pclose(p);
}

START_TEST(head_parent_subject_and_dirty)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *g = "cd %s && git -c user.name=t -c user.email=t@t %s >/dev/null 2>&1";
    sh(g, "init -q -b autoresearch/nov23");
    sh("cd %s && echo one > a.txt && echo '%s' > .gitignore", "*.o");
    sh(g, "add -A");
    sh(g, "commit -q -m first");
    sh("cd %s && echo two > a.txt%s", "");
    sh(g, "commit -q -am 'second: try deeper\n\nbody text'");

    struct ar_gitinfo gi;
    char sub[512];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    sh("mkdir %s/sub%s", "");
    ck_assert_int_eq(ar_git_info(sub, &gi), 0);
    char head[41], parent[41];
    rev_parse("HEAD", head);
    rev_parse("HEAD^", parent);
    ck_assert_str_eq(gi.commit, head);
    ck_assert_str_eq(gi.parent, parent);
    ck_assert_str_eq(gi.subject, "second: try deeper");
    ck_assert_int_eq(gi.dirty, 0);
    ck_assert_str_eq(gi.branch, "autoresearch/nov23");

    sh("touch %s/x.o%s", "");              /* ignored: still clean */
    ck_assert_int_eq(ar_git_info(dir, &gi), 0);
    ck_assert_int_eq(gi.dirty, 0);
    sh("echo three > %s/a.txt%s", "");     /* tracked change */
    ck_assert_int_eq(ar_git_info(dir, &gi), 0);
    ck_assert_int_eq(gi.dirty, 1);
    sh("cd %s && git checkout -q a.txt && touch new.c%s", "");   /* untracked */
    ck_assert_int_eq(ar_git_info(dir, &gi), 0);
    ck_assert_int_eq(gi.dirty, 1);

    /* a file as each commit has it, and its diff between them */
    char *text;
    size_t len;
    ck_assert_int_eq(ar_git_file_at(sub, parent, "a.txt", &text, &len), 0);
    ck_assert_str_eq(text, "one\n");
    ck_assert_uint_eq(len, 4);
    free(text);
    ck_assert_int_eq(ar_git_file_at(dir, head, "a.txt", &text, &len), 0);
    ck_assert_str_eq(text, "two\n");
    free(text);
    ck_assert_int_eq(ar_git_file_at(dir, head, "missing.py", &text, &len), 1);
    ck_assert_ptr_null(text);
    ck_assert_int_eq(ar_git_file_at(dir, "0123456789abcdef0123456789abcdef01234567", "a.txt", &text, &len), -1);
    ck_assert_int_eq(ar_git_diff_file(dir, parent, head, "a.txt", &text, &len), 0);
    ck_assert_ptr_nonnull(strstr(text, "-one\n+two\n"));
    ck_assert_ptr_nonnull(strstr(text, "a/a.txt"));
    free(text);
    ck_assert_int_eq(ar_git_diff_file(dir, parent, head, ".gitignore", &text, &len), 0);
    ck_assert_str_eq(text, "");   /* not changed */
    ck_assert_uint_eq(len, 0);
    free(text);
    sh("rm -rf %s%s", "");
}
END_TEST

START_TEST(not_a_repository)
{
    struct ar_gitinfo gi;
    char d[] = "/tmp/ar-test-nogit-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(d));
    setenv("GIT_CEILING_DIRECTORIES", "/tmp", 1);
    ck_assert_int_eq(ar_git_info(d, &gi), -1);
    ck_assert(strstr(ar_last_error(), "not inside a git repository"));
    rmdir(d);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("gitinfo");
    TCase *t = tcase_create("gitinfo");
    tcase_add_test(t, head_parent_subject_and_dirty);
    tcase_add_test(t, not_a_repository);
    suite_add_tcase(s, t);
    return s;
}

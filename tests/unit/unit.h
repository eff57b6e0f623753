/* Shared scaffolding for Check unit tests: each test file defines
 * `Suite *make_suite(void)` and includes this header once; main runs it and
 * exits non-zero on any failure. */
#ifndef AR_TESTS_UNIT_H
#define AR_TESTS_UNIT_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

Suite *make_suite(void);

/* A fresh directory /tmp/ar-test-NAME.XXXXXX into dir (size bytes), and
 * its removal with all it holds: the fixture of tests that write files. */
static inline void unit_tmpdir(char *dir, size_t size, const char *name)
{
    snprintf(dir, size, "/tmp/ar-test-%s.XXXXXX", name);
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static inline void unit_rmtree(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

int main(void)
{
    SRunner *sr = srunner_create(make_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif

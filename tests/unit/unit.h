/* Shared scaffolding for Check unit tests: each test file defines
 * `Suite *make_suite(void)` and includes this header once; main runs it and
 * exits non-zero on any failure. */
#ifndef AR_TESTS_UNIT_H
#define AR_TESTS_UNIT_H

#include <check.h>
#include <stdlib.h>

Suite *make_suite(void);

int main(void)
{
    SRunner *sr = srunner_create(make_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif

#include <string.h>

#include "base/json.h"
#include "host/platform.h"
#include "unit.h"

START_TEST(cpu_platform_object)
{
    jv p = ar_platform_detect("openblas 0.3.21 SkylakeX");
    ck_assert_str_eq(ar_jv_str(p, "device"), "cpu");
    ck_assert_str_eq(ar_jv_str(p, "class"), ar_platform_cpu_class());
    ck_assert_str_eq(ar_jv_str(p, "blas"), "openblas 0.3.21 SkylakeX");
    ck_assert(strlen(ar_jv_str(p, "name")) > 0);
    ck_assert(strncmp(ar_jv_str(p, "os"), "Linux", 5) == 0);
    ck_assert_double_eq(ar_jv_num(p, "cores", 0), ar_platform_cores());
    ck_assert(ar_platform_cores() >= 1);
    ck_assert(ar_jv_num(p, "mem_gb", 0) > 0);
    jv_free(p);
}
END_TEST

START_TEST(class_follows_instruction_set)
{
    const char *c = ar_platform_cpu_class();
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        ck_assert_str_eq(c, "cpu-avx512");
    else if (__builtin_cpu_supports("avx2"))
        ck_assert_str_eq(c, "cpu-avx2");
    else
        ck_assert_str_eq(c, "cpu");
#else
    ck_assert(strncmp(c, "cpu", 3) == 0);
#endif
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("platform");
    TCase *t = tcase_create("platform");
    tcase_add_test(t, cpu_platform_object);
    tcase_add_test(t, class_follows_instruction_set);
    suite_add_tcase(s, t);
    return s;
}

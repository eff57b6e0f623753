#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
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

static const char *apple(const char *brand)
{
    static char out[64];
    return ar_platform_apple_class(brand, out, sizeof out) == 0 ? out : "(none)";
}

START_TEST(apple_brand_strings)
{
    ck_assert_str_eq(apple("Apple M1"), "apple-m1");
    ck_assert_str_eq(apple("Apple M2 Pro"), "apple-m2-pro");
    ck_assert_str_eq(apple("Apple M3 Max"), "apple-m3-max");
    ck_assert_str_eq(apple("Apple M1 Ultra"), "apple-m1-ultra");
    ck_assert_str_eq(apple("Apple M4"), "apple-m4");
    ck_assert_str_eq(apple("Apple M10 Pro (virtual)"), "apple-m10-pro");
    ck_assert_str_eq(apple("apple m2 PRO"), "apple-m2-pro");
    ck_assert_str_eq(apple("Intel(R) Core(TM) i9-9980HK CPU @ 2.40GHz"), "(none)");
    ck_assert_str_eq(apple("Apple"), "(none)");
    ck_assert_str_eq(apple("Apple Mx"), "(none)");
    ck_assert_str_eq(apple(""), "(none)");
    ck_assert_str_eq(apple(NULL), "(none)");
}
END_TEST

START_TEST(class_arguments_lower_case)
{
    char out[80];
    ck_assert_int_eq(ar_platform_class_arg("H100", "--platform", out, sizeof out), 0);
    ck_assert_str_eq(out, "h100");
    ck_assert_int_eq(ar_platform_class_arg("Apple-M2-Pro", "--platform", out, sizeof out), 0);
    ck_assert_str_eq(out, "apple-m2-pro");
    ck_assert_int_eq(ar_platform_class_arg("cpu-avx2", "--platform", out, sizeof out), 0);
    ck_assert_str_eq(out, "cpu-avx2");
    ck_assert_int_eq(ar_platform_class_arg("", "--platform", out, sizeof out), -1);
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    ck_assert_int_eq(ar_platform_class_arg("{\"class\":\"h100\"}", "--platform", out, sizeof out), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "--platform"));
    ck_assert_int_eq(ar_platform_class_arg("a b", "--platform", out, sizeof out), -1);
}
END_TEST

/* A GPU seen by nvidia-smi makes the platform of a run a cuda one. */
START_TEST(run_platform_from_nvidia_smi)
{
    char dir[256], path[1024];
    unit_tmpdir(dir, sizeof dir, "platform");
    char *old = strdup(getenv("PATH"));
    snprintf(path, sizeof path, "%s/nvidia-smi", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("#!/bin/sh\necho 'NVIDIA H100 80GB HBM3, 81559'\n", f);
    fclose(f);
    ck_assert_int_eq(chmod(path, 0755), 0);
    snprintf(path, sizeof path, "%s:/usr/bin:/bin", dir);
    setenv("PATH", path, 1);
    jv p = ar_platform_detect_run();
    ck_assert_str_eq(ar_jv_str(p, "device"), "cuda");
    ck_assert_str_eq(ar_jv_str(p, "class"), "h100");
    ck_assert_str_eq(ar_jv_str(p, "name"), "NVIDIA H100 80GB HBM3");
    ck_assert_double_eq_tol(ar_jv_num(p, "gpu_mem_gb", 0), 79.6, 1e-9);
    ck_assert(strlen(ar_jv_str(p, "cpu")) > 0);
    jv_free(p);

    setenv("PATH", dir, 1);   /* nvidia-smi fails: no GPU, the CPU's class */
    f = fopen(strcat(strcpy(path, dir), "/nvidia-smi"), "w");
    fputs("#!/bin/sh\nexit 9\n", f);
    fclose(f);
    p = ar_platform_detect_run();
    ck_assert_str_eq(ar_jv_str(p, "device"), "cpu");
    ck_assert_str_eq(ar_jv_str(p, "class"), ar_platform_cpu_class());
    ck_assert(!ar_jv_has(p, "gpu_mem_gb"));
    jv_free(p);
    setenv("PATH", old, 1);
    free(old);
    unit_rmtree(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("platform");
    TCase *t = tcase_create("platform");
    tcase_add_test(t, cpu_platform_object);
    tcase_add_test(t, class_follows_instruction_set);
    tcase_add_test(t, apple_brand_strings);
    tcase_add_test(t, class_arguments_lower_case);
    tcase_add_test(t, run_platform_from_nvidia_smi);
    suite_add_tcase(s, t);
    return s;
}

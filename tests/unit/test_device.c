/* The device layer without a GPU: kernels_select's answers, and the card's
 * platform object and MFU peak of a GPU run built from a GPU name (what
 * the CUDA runtime would report). */
#include "unit.h"
#include "device.h"
#include "kernels.h"
#include "base/err.h"
#include "host/gpu.h"

#include <string.h>

static const char *str(jv o, const char *key, char *buf, size_t n)
{
    jv v = jv_object_get(jv_copy(o), jv_string(key));
    snprintf(buf, n, "%s", jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : "(none)");
    jv_free(v);
    return buf;
}

static double num(jv o, const char *key)
{
    jv v = jv_object_get(jv_copy(o), jv_string(key));
    double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : -1;
    jv_free(v);
    return d;
}

START_TEST(gpu_platform_from_a_name)
{
    jv cpu = jv_object();
    cpu = jv_object_set(cpu, jv_string("device"), jv_string("cpu"));
    cpu = jv_object_set(cpu, jv_string("name"), jv_string("AMD EPYC 9B45"));
    cpu = jv_object_set(cpu, jv_string("class"), jv_string("cpu-avx512"));
    cpu = jv_object_set(cpu, jv_string("cores"), jv_number(26));
    cpu = jv_object_set(cpu, jv_string("gpu"), jv_string("NVIDIA H100 80GB HBM3"));
    jv p = train_platform_gpu(cpu, "NVIDIA H100 80GB HBM3", 85.03);
    char b[128];
    ck_assert_str_eq(str(p, "device", b, sizeof b), "cuda");
    ck_assert_str_eq(str(p, "class", b, sizeof b), "h100");
    ck_assert_str_eq(str(p, "name", b, sizeof b), "NVIDIA H100 80GB HBM3");
    ck_assert_str_eq(str(p, "cpu", b, sizeof b), "AMD EPYC 9B45");
    ck_assert_double_eq_tol(num(p, "gpu_mem_gb"), 85.0, 1e-9);
    ck_assert_double_eq(num(p, "cores"), 26);
    ck_assert_msg(!jv_object_has(jv_copy(p), jv_string("gpu")),
                  "the 'gpu seen beside a CPU run' field goes");
    jv_free(p);

    p = train_platform_gpu(jv_object(), "NVIDIA GB10", 0);   /* unified memory */
    ck_assert_str_eq(str(p, "class", b, sizeof b), "gb10");
    ck_assert_msg(!jv_object_has(jv_copy(p), jv_string("gpu_mem_gb")), "no memory: no field");
    jv_free(p);
}
END_TEST

START_TEST(mfu_peak_of_known_and_unknown_gpus)
{
    char cls[64];
    double h100 = train_gpu_peak_flops("NVIDIA H100 80GB HBM3", cls, sizeof cls);
    ck_assert_str_eq(cls, "h100");
    ck_assert_double_eq_tol(h100, ar_gpu_bf16_peak_tflops("h100") * 1e12, 1);
    ck_assert_msg(h100 > 5e14, "h100 peak %g", h100);
    double none = train_gpu_peak_flops("Frobnicator 9000", cls, sizeof cls);
    ck_assert_double_eq(none, 0);
    ck_assert_msg(strncmp(cls, "gpu-", 4) == 0, "unknown class %s", cls);
}
END_TEST

START_TEST(select_device)
{
    ck_assert_int_eq(kernels_select("tpu"), -1);
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    ck_assert_int_eq(kernels_select("cpu"), 0);
    ck_assert_int_eq(kernels_device(), K_DEVICE_CPU);
    ck_assert_str_eq(kernels_device_name(), "cpu");
    ck_assert_uint_eq(kernels_peak_bytes(), 0);
    char name[64];
    ck_assert_int_eq(kernels_gpu_info(name, sizeof name, NULL), -1);
    int cuda = kernels_select("cuda") == 0;
    if (!cuda) {
        ck_assert_int_eq(ar_last_code(), AR_EINPUT);
        ck_assert_msg(strncmp(ar_last_error(), "device cuda: ", 13) == 0, "%s", ar_last_error());
        if (!kernels_cuda_built())
            ck_assert_msg(strstr(ar_last_error(), "without CUDA"), "%s", ar_last_error());
        ck_assert_int_eq(kernels_device(), K_DEVICE_CPU);   /* a failed choice keeps the CPU */
    }
    ck_assert_int_eq(kernels_select("auto"), 0);   /* auto never fails */
    ck_assert_int_eq(kernels_device(), cuda ? K_DEVICE_CUDA : K_DEVICE_CPU);
    kernels_select("cpu");
    jv p = train_platform(NULL);
    char b[32];
    ck_assert_str_eq(str(p, "device", b, sizeof b), "cpu");
    jv_free(p);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("device");
    setenv("CK_FORK", "no", 1);   /* a CUDA context does not survive fork() */
    TCase *tc = tcase_create("device");
    tcase_add_test(tc, gpu_platform_from_a_name);
    tcase_add_test(tc, mfu_peak_of_known_and_unknown_gpus);
    tcase_add_test(tc, select_device);
    suite_add_tcase(s, tc);
    return s;
}

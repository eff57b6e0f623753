#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/gpu.h"
#include "unit.h"

static const char *cls(const char *name)
{
    static char out[64];
    ar_gpu_class(name, out, sizeof out);
    return out;
}

START_TEST(datacenter_names)
{
    ck_assert_str_eq(cls("NVIDIA H100 80GB HBM3"), "h100");
    ck_assert_str_eq(cls("NVIDIA H100 PCIe"), "h100-pcie");
    ck_assert_str_eq(cls("NVIDIA H100 NVL"), "h100-nvl");
    ck_assert_str_eq(cls("NVIDIA H200"), "h200");
    ck_assert_str_eq(cls("NVIDIA H20"), "h20");
    ck_assert_str_eq(cls("NVIDIA GH200 480GB"), "gh200");
    ck_assert_str_eq(cls("NVIDIA A100-SXM4-40GB"), "a100");
    ck_assert_str_eq(cls("NVIDIA A100 80GB PCIe"), "a100");
    ck_assert_str_eq(cls("NVIDIA A10"), "a10");
    ck_assert_str_eq(cls("NVIDIA A10G"), "a10g");
    ck_assert_str_eq(cls("NVIDIA L4"), "l4");
    ck_assert_str_eq(cls("NVIDIA L40S"), "l40s");
    ck_assert_str_eq(cls("Tesla V100-SXM2-16GB"), "v100");
    ck_assert_str_eq(cls("Tesla T4"), "t4");
    ck_assert_str_eq(cls("NVIDIA GB10"), "gb10");
    ck_assert_str_eq(cls("NVIDIA GB200"), "gb200");
    ck_assert_str_eq(cls("NVIDIA B200"), "b200");
    ck_assert_str_eq(cls("NVIDIA H800"), "h800");
    ck_assert_str_eq(cls("NVIDIA A800-SXM4-80GB"), "a800");
}
END_TEST

START_TEST(workstation_and_geforce_names)
{
    ck_assert_str_eq(cls("NVIDIA RTX A6000"), "a6000");
    ck_assert_str_eq(cls("NVIDIA RTX 6000 Ada Generation"), "rtx6000-ada");
    ck_assert_str_eq(cls("NVIDIA RTX PRO 6000 Blackwell Server Edition"), "rtx-pro-6000");
    ck_assert_str_eq(cls("NVIDIA GeForce RTX 3090"), "rtx3090");
    ck_assert_str_eq(cls("NVIDIA GeForce RTX 4090"), "rtx4090");
    ck_assert_str_eq(cls("NVIDIA GeForce RTX 4080"), "rtx4080");
    ck_assert_str_eq(cls("NVIDIA GeForce RTX 4070 Ti"), "rtx4070-ti");
    ck_assert_str_eq(cls("NVIDIA GeForce RTX 4070 Ti SUPER"), "rtx4070-ti-super");
    ck_assert_str_eq(cls("NVIDIA GeForce RTX 4090 Laptop GPU"), "rtx4090-laptop");
    ck_assert_str_eq(cls("NVIDIA GeForce RTX 5090"), "rtx5090");
    ck_assert_str_eq(cls("NVIDIA GeForce RTX 5080"), "rtx5080");
    ck_assert_str_eq(cls("NVIDIA GeForce RTX 5070"), "rtx5070");
    ck_assert_str_eq(cls("NVIDIA GeForce GTX 1080 Ti"), "gtx1080-ti");
}
END_TEST

START_TEST(unknown_names_are_slugs)
{
    ck_assert_str_eq(cls("Some Accelerator (rev 2)"), "gpu-some-accelerator-rev-2");
    ck_assert_str_eq(cls(""), "gpu-unknown");
    ck_assert_str_eq(cls(NULL), "gpu-unknown");
    ck_assert_str_eq(cls("NVIDIA"), "gpu-nvidia");
    /* a model-like word from an unknown vendor is not taken for an NVIDIA part */
    ck_assert_str_eq(cls("Intel Arc A770"), "gpu-intel-arc-a770");
    char small[8];
    ar_gpu_class("Some Accelerator", small, sizeof small);
    ck_assert_str_eq(small, "gpu-som");
    ar_gpu_class("A Very-Long Name", small, 5);
    ck_assert_str_eq(small, "gpu");   /* no trailing dash when cut */
    /* every class is [a-z0-9-] */
    const char *names[] = {"NVIDIA H100 80GB HBM3", "Ünïcode GPU ☃", "x/y\\z \"q\"", "NVIDIA GeForce RTX 4070 Ti"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        for (const char *p = cls(names[i]); *p; p++)
            ck_assert_msg((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-',
                          "%s: %s", names[i], cls(names[i]));
}
END_TEST

START_TEST(published_peaks)
{
    ck_assert_double_eq_tol(ar_gpu_bf16_peak_tflops("h100"), 989.4, 1e-9);
    ck_assert_double_eq_tol(ar_gpu_bf16_peak_tflops("h100-pcie"), 756.0, 1e-9);
    ck_assert_double_eq_tol(ar_gpu_bf16_peak_tflops("a100"), 312.0, 1e-9);
    ck_assert_double_eq_tol(ar_gpu_bf16_peak_tflops("rtx4090"), 165.2, 1e-9);
    ck_assert_double_eq_tol(ar_gpu_bf16_peak_tflops("b200"), 2250.0, 1e-9);
    ck_assert(ar_gpu_bf16_peak_tflops("h200") >= ar_gpu_bf16_peak_tflops("h100"));
    ck_assert(ar_gpu_bf16_peak_tflops("rtx5090") > ar_gpu_bf16_peak_tflops("rtx4090"));
    ck_assert_double_eq(ar_gpu_bf16_peak_tflops("v100"), 0);   /* no bf16 tensor cores */
    ck_assert_double_eq(ar_gpu_bf16_peak_tflops("gpu-foo"), 0);
    ck_assert_double_eq(ar_gpu_bf16_peak_tflops(NULL), 0);
    /* the class of every common name has a table entry */
    const char *names[] = {"NVIDIA H100 80GB HBM3", "NVIDIA H200", "NVIDIA A100-SXM4-40GB", "NVIDIA L4",
                           "NVIDIA L40S", "NVIDIA A10", "NVIDIA RTX A6000", "NVIDIA GeForce RTX 3090",
                           "NVIDIA GeForce RTX 4080", "NVIDIA GeForce RTX 5080", "NVIDIA GB200", "NVIDIA H20"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        ck_assert_msg(ar_gpu_bf16_peak_tflops(cls(names[i])) > 0, "%s", names[i]);
}
END_TEST

/* nvidia-smi is found on PATH: a fake one in a temp directory. */
static void fake_smi(const char *dir, const char *body)
{
    char path[512];
    snprintf(path, sizeof path, "%s/nvidia-smi", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    ck_assert_int_eq(chmod(path, 0755), 0);
}

START_TEST(detect_from_nvidia_smi)
{
    char dir[256], name[128], path[1024];
    double mem = -1;
    unit_tmpdir(dir, sizeof dir, "gpu");
    char *old = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    snprintf(path, sizeof path, "%s:/usr/bin:/bin", dir);
    setenv("PATH", path, 1);

    fake_smi(dir, "case \"$*\" in *--query-gpu=name,memory.total*) "
                  "printf 'NVIDIA H100 80GB HBM3, 81559\\nNVIDIA H100 80GB HBM3, 81559\\n';; *) exit 9;; esac");
    ck_assert_int_eq(ar_gpu_detect(name, sizeof name, &mem), 0);
    ck_assert_str_eq(name, "NVIDIA H100 80GB HBM3");
    ck_assert_double_eq_tol(mem, 79.6, 1e-9);

    fake_smi(dir, "echo 'NVIDIA GB10, [N/A]'");
    ck_assert_int_eq(ar_gpu_detect(name, sizeof name, &mem), 0);
    ck_assert_str_eq(name, "NVIDIA GB10");
    ck_assert_double_eq(mem, 0);

    /* a driver that fails, or lists nothing, is no GPU */
    fake_smi(dir, "echo 'NVIDIA-SMI has failed'; exit 9");
    ck_assert_int_eq(ar_gpu_detect(name, sizeof name, &mem), -1);
    fake_smi(dir, "exit 0");
    ck_assert_int_eq(ar_gpu_detect(name, sizeof name, &mem), -1);

    snprintf(path, sizeof path, "%s/nvidia-smi", dir);
    unlink(path);
    setenv("PATH", dir, 1);   /* no nvidia-smi at all */
    ck_assert_int_eq(ar_gpu_detect(name, sizeof name, &mem), -1);

    setenv("PATH", old, 1);
    free(old);
    unit_rmtree(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("gpu");
    TCase *t = tcase_create("gpu");
    tcase_add_test(t, datacenter_names);
    tcase_add_test(t, workstation_and_geforce_names);
    tcase_add_test(t, unknown_names_are_slugs);
    tcase_add_test(t, published_peaks);
    tcase_add_test(t, detect_from_nvidia_smi);
    suite_add_tcase(s, t);
    return s;
}

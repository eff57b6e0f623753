/* The card's platform object and the MFU peak of a run on a GPU; see
 * device.h. */
#include "device.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "host/gpu.h"
#include "host/platform.h"
#include "kernels.h"

jv train_platform_gpu(jv cpu, const char *gpu_name, double gpu_mem_gb)
{
    char cls[64];
    ar_gpu_class(gpu_name, cls, sizeof cls);
    jv cpu_name = jv_object_get(jv_copy(cpu), jv_string("name"));
    jv o = jv_object_delete(cpu, jv_string("gpu"));
    o = jv_object_set(o, jv_string("device"), jv_string("cuda"));
    o = jv_object_set(o, jv_string("name"), jv_string(gpu_name));
    o = jv_object_set(o, jv_string("class"), jv_string(cls));
    if (gpu_mem_gb > 0)
        o = jv_object_set(o, jv_string("gpu_mem_gb"), jv_number(round(gpu_mem_gb * 10) / 10));
    if (jv_get_kind(cpu_name) == JV_KIND_STRING)
        o = jv_object_set(o, jv_string("cpu"), cpu_name);
    else
        jv_free(cpu_name);
    return o;
}

jv train_platform(const char *blas)
{
    jv o = ar_platform_detect(blas);
    char name[256];
    double mem_gb = 0;
    if (kernels_device() == K_DEVICE_CUDA && kernels_gpu_info(name, sizeof name, &mem_gb) == 0)
        o = train_platform_gpu(o, name, mem_gb);
    return o;
}

double train_gpu_peak_flops(const char *gpu_name, char *cls, size_t n)
{
    ar_gpu_class(gpu_name, cls, n);
    return ar_gpu_bf16_peak_tflops(cls) * 1e12;
}

#define _GNU_SOURCE
#include "host/platform.h"

#include <ctype.h>
#include <dirent.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#ifdef __APPLE__
#include <sys/sysctl.h>
#include <sys/types.h>
#endif

#include "base/err.h"
#include "host/gpu.h"

const char *ar_platform_cpu_class(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return "cpu-avx512";
    if (__builtin_cpu_supports("avx2"))
        return "cpu-avx2";
    return "cpu";
#elif defined(__aarch64__)
    return "cpu-neon";
#else
    return "cpu";
#endif
}

/* The value of the first "key : value" line of a /proc-style file. */
static int proc_field(const char *path, const char *key, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[512];
    size_t klen = strlen(key);
    int found = -1;
    while (found < 0 && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) != 0)
            continue;
        char *p = line + klen;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != ':')
            continue;
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        p[strcspn(p, "\n")] = '\0';
        snprintf(buf, n, "%s", p);
        found = 0;
    }
    fclose(f);
    return found;
}

void ar_platform_cpu_name(char *buf, size_t n)
{
    if (proc_field("/proc/cpuinfo", "model name", buf, n) == 0 && buf[0])
        return;
    struct utsname u;
    snprintf(buf, n, "%s", uname(&u) == 0 ? u.machine : "unknown");
}

int ar_platform_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static double mem_gb(void)
{
    char v[64];
    double kb;
    if (proc_field("/proc/meminfo", "MemTotal", v, sizeof v) < 0 || sscanf(v, "%lf", &kb) != 1)
        return 0;
    return (double)(long)(kb / (1024.0 * 1024.0) * 10 + 0.5) / 10;
}

/* The first NVIDIA GPU's model from the driver's proc files, if any. */
static int gpu_name(char *buf, size_t n)
{
    DIR *d = opendir("/proc/driver/nvidia/gpus");
    if (!d)
        return -1;
    int rc = -1;
    struct dirent *e;
    while (rc < 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "/proc/driver/nvidia/gpus/%s/information", e->d_name);
        rc = proc_field(path, "Model", buf, n);
    }
    closedir(d);
    return rc;
}

jv ar_platform_detect(const char *blas)
{
    char name[256], os[300], gpu[256];
    struct utsname u;
    ar_platform_cpu_name(name, sizeof name);
    if (uname(&u) == 0)
        snprintf(os, sizeof os, "%s %s %s", u.sysname, u.release, u.machine);
    else
        snprintf(os, sizeof os, "unknown");
    jv o = jv_object();
    o = jv_object_set(o, jv_string("device"), jv_string("cpu"));
    o = jv_object_set(o, jv_string("name"), jv_string(name));
    o = jv_object_set(o, jv_string("class"), jv_string(ar_platform_cpu_class()));
    o = jv_object_set(o, jv_string("cores"), jv_number(ar_platform_cores()));
    o = jv_object_set(o, jv_string("mem_gb"), jv_number(mem_gb()));
    o = jv_object_set(o, jv_string("os"), jv_string(os));
#if defined(__clang__)
    o = jv_object_set(o, jv_string("compiler"), jv_string("clang " __clang_version__));
#elif defined(__GNUC__)
    o = jv_object_set(o, jv_string("compiler"), jv_string("gcc " __VERSION__));
#endif
    if (blas)
        o = jv_object_set(o, jv_string("blas"), jv_string(blas));
    if (gpu_name(gpu, sizeof gpu) == 0)
        o = jv_object_set(o, jv_string("gpu"), jv_string(gpu));
    return o;
}

int ar_platform_apple_class(const char *brand, char *out, size_t n)
{
    char words[4][16];
    int nw = 0;
    size_t len = 0;
    if (n > 0)
        out[0] = '\0';
    for (const char *p = brand ? brand : "";; p++) {
        int c = (unsigned char)*p;
        if (c && isalnum(c)) {
            if (nw < 4 && len + 1 < sizeof words[0])
                words[nw][len++] = (char)tolower(c);
            continue;
        }
        if (len > 0 && nw < 4)
            words[nw++][len] = '\0';
        len = 0;
        if (!c)
            break;
    }
    if (nw < 2 || strcmp(words[0], "apple") != 0 || words[1][0] != 'm' || !isdigit((unsigned char)words[1][1]))
        return -1;
    for (const char *q = words[1] + 1; *q; q++)
        if (!isdigit((unsigned char)*q))
            return -1;
    const char *tier = "";
    if (nw > 2 && (!strcmp(words[2], "pro") || !strcmp(words[2], "max") || !strcmp(words[2], "ultra")))
        tier = words[2];
    snprintf(out, n, "apple-%s%s%s", words[1], *tier ? "-" : "", tier);
    return 0;
}

/* The Apple Silicon brand string of this machine, if it is one. */
static int apple_brand(char *buf, size_t n, double *mem)
{
#ifdef __APPLE__
    size_t len = n;
    if (sysctlbyname("machdep.cpu.brand_string", buf, &len, NULL, 0) != 0)
        return -1;
    buf[n - 1] = '\0';
    uint64_t bytes = 0;
    len = sizeof bytes;
    if (sysctlbyname("hw.memsize", &bytes, &len, NULL, 0) == 0)
        *mem = (double)(long)((double)bytes / (1024.0 * 1024.0 * 1024.0) * 10 + 0.5) / 10;
    return 0;
#else
    (void)buf, (void)n, (void)mem;
    return -1;
#endif
}

jv ar_platform_detect_run(void)
{
    jv o = ar_platform_detect(NULL);
    char gpu[256], cls[65];   /* a class is at most 64 bytes */
    double gpu_mem = 0, mem = 0;
    if (ar_gpu_detect(gpu, sizeof gpu, &gpu_mem) == 0) {
        ar_gpu_class(gpu, cls, sizeof cls);
        o = jv_object_set(o, jv_string("cpu"), jv_object_get(jv_copy(o), jv_string("name")));
        o = jv_object_delete(o, jv_string("gpu"));
        o = jv_object_set(o, jv_string("device"), jv_string("cuda"));
        o = jv_object_set(o, jv_string("name"), jv_string(gpu));
        o = jv_object_set(o, jv_string("class"), jv_string(cls));
        if (gpu_mem > 0)
            o = jv_object_set(o, jv_string("gpu_mem_gb"), jv_number(gpu_mem));
    } else if (apple_brand(gpu, sizeof gpu, &mem) == 0 && ar_platform_apple_class(gpu, cls, sizeof cls) == 0) {
        o = jv_object_set(o, jv_string("device"), jv_string("mps"));
        o = jv_object_set(o, jv_string("name"), jv_string(gpu));
        o = jv_object_set(o, jv_string("class"), jv_string(cls));
        if (mem > 0)
            o = jv_object_set(o, jv_string("mem_gb"), jv_number(mem));
    }
    return o;
}

int ar_platform_class_arg(const char *text, const char *what, char *out, size_t n)
{
    size_t len = text ? strlen(text) : 0;
    if (len == 0)
        return ar_fail(AR_EINPUT, "%s: empty platform class", what);
    if (len > 64 || len + 1 > n)
        return ar_fail(AR_EINPUT, "%s: platform class longer than 64 bytes", what);
    for (size_t i = 0; i < len; i++) {
        int c = tolower((unsigned char)text[i]);
        if (!(islower(c) || isdigit(c) || c == '_' || c == '.' || c == '-'))
            return ar_fail(AR_EINPUT, "%s: '%s' is not a platform class (letters, digits, '_', '.', '-')",
                           what, text);
        out[i] = (char)c;
    }
    out[len] = '\0';
    return 0;
}

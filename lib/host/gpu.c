#include "host/gpu.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Published dense bf16 tensor peaks (TFLOP/s, FP32 accumulate, boost
 * clock, no 2:4 sparsity). Sources:
 * - h100, h100-nvl, h100-pcie, h200, gh200, h20: NVIDIA H100/H200/GH200
 *   datasheets (SXM 1,979 with sparsity -> 989.4 dense; PCIe 1,513 ->
 *   756; NVL 1,671 -> 835.5); H20: NVIDIA's H20 product brief (148);
 *   h800 and a800, the export parts, keep the H100 SXM's and A100's
 *   tensor rates (their datasheets list the same bf16 figures).
 * - a100 (SXM and PCIe), a10, a40, a6000: NVIDIA A100 datasheet (312),
 *   A10 datasheet (125), A40 datasheet (149.7), RTX A6000 datasheet (309.7
 *   with sparsity -> 154.8).
 * - l4, l40, l40s: NVIDIA L4 datasheet (242 with sparsity -> 121), L40
 *   datasheet (362.1 -> 181.05), L40S datasheet (733 -> 362.05).
 * - rtx6000-ada: RTX 6000 Ada datasheet lists only FP8 with sparsity
 *   (1,457); the L40 (same AD102, same SM count) has bf16 dense = FP8
 *   sparse / 8 in its datasheet, giving 182.1.
 * - rtx3080, rtx3090: NVIDIA Ampere GA102 whitepaper, "Peak BF16 Tensor
 *   TFLOPS with FP32 Accumulate" (59.5, 71.2).
 * - rtx4070 .. rtx4090: NVIDIA Ada Lovelace whitepaper, same row (4090
 *   165.2, 4080 97.5); the others are SMs x boost GHz x 512, the rate per
 *   SM per clock that those rows imply (4070 Ti 80.2, 4070 58.3).
 * - rtx5070 .. rtx5090: NVIDIA RTX Blackwell whitepaper, same row (5090
 *   209.5, 5080 112.6, 5070 Ti 87.9, 5070 61.7).
 * - b200, gb200, b100: NVIDIA Blackwell datasheets (HGX B200 2.25 PFLOPS
 *   dense per GPU, GB200 2.5, B100 1.75).
 * v100 and t4 have no bf16 tensor cores, and NVIDIA publishes no bf16
 * figure for gb10 (only 1 PFLOP of FP4 with sparsity): 0, unknown. */
static const struct {
    const char *cls;
    double tflops;
} peaks[] = {
    {"h100", 989.4}, {"h100-nvl", 835.5}, {"h100-pcie", 756.0}, {"h200", 989.4},
    {"gh200", 989.4}, {"h20", 148.0}, {"h800", 989.4}, {"a800", 312.0}, {"a100", 312.0}, {"a10", 125.0},
    {"a40", 149.7}, {"a6000", 154.8}, {"l4", 121.0}, {"l40", 181.05},
    {"l40s", 362.05}, {"rtx6000-ada", 182.1}, {"rtx3080", 59.5}, {"rtx3090", 71.2},
    {"rtx4070", 58.3}, {"rtx4070-ti", 80.2}, {"rtx4080", 97.5}, {"rtx4090", 165.2},
    {"rtx5070", 61.7}, {"rtx5070-ti", 87.9}, {"rtx5080", 112.6}, {"rtx5090", 209.5},
    {"b100", 1750.0}, {"b200", 2250.0}, {"gb200", 2500.0},
    {"v100", 0}, {"t4", 0}, {"gb10", 0},
};

double ar_gpu_bf16_peak_tflops(const char *cls)
{
    if (!cls)
        return 0;
    for (size_t i = 0; i < sizeof peaks / sizeof peaks[0]; i++)
        if (strcmp(peaks[i].cls, cls) == 0)
            return peaks[i].tflops;
    return 0;
}

static int known_class(const char *cls)
{
    for (size_t i = 0; i < sizeof peaks / sizeof peaks[0]; i++)
        if (strcmp(peaks[i].cls, cls) == 0)
            return 1;
    return 0;
}

/* The name in lower-case alphanumeric words. */
#define GPU_MAXTOK 16
struct words {
    char w[GPU_MAXTOK][32];
    int n;
};

static void split_words(const char *name, struct words *ws)
{
    ws->n = 0;
    size_t len = 0;
    for (const char *p = name;; p++) {
        int c = (unsigned char)*p;
        if (c && isalnum(c)) {
            if (ws->n < GPU_MAXTOK && len + 1 < sizeof ws->w[0])
                ws->w[ws->n][len++] = (char)tolower(c);
            continue;
        }
        if (len > 0 && ws->n < GPU_MAXTOK) {
            ws->w[ws->n][len] = '\0';
            ws->n++;
        }
        len = 0;
        if (!c)
            break;
    }
}

static int is_vendor_word(const char *w)
{
    return !strcmp(w, "nvidia") || !strcmp(w, "geforce") || !strcmp(w, "tesla") ||
           !strcmp(w, "quadro");
}

static int all_digits(const char *w)
{
    if (!*w)
        return 0;
    for (; *w; w++)
        if (!isdigit((unsigned char)*w))
            return 0;
    return 1;
}

/* A model word: one to three letters, digits, optional letters ("h100",
 * "l40s", "gb10", "a10g", "t4"). */
static int is_model_word(const char *w)
{
    size_t i = 0;
    while (isalpha((unsigned char)w[i]))
        i++;
    if (i < 1 || i > 3 || !isdigit((unsigned char)w[i]))
        return 0;
    while (isdigit((unsigned char)w[i]))
        i++;
    while (isalpha((unsigned char)w[i]))
        i++;
    return w[i] == '\0';
}

static int has_word(const struct words *ws, int from, const char *w)
{
    for (int i = from; i < ws->n; i++)
        if (!strcmp(ws->w[i], w))
            return 1;
    return 0;
}

static void put(char *out, size_t n, size_t *len, const char *s)
{
    for (; *s && *len + 1 < n; s++)
        out[(*len)++] = *s;
    out[*len] = '\0';
}

/* GeForce and workstation names: "rtx 4070 ti super", "rtx a6000",
 * "rtx 6000 ada generation", "rtx pro 6000 blackwell ...", "gtx 1080". */
static int rtx_class(const struct words *ws, int i, char *out, size_t n)
{
    size_t len = 0;
    if (i + 1 >= ws->n)
        return -1;
    const char *fam = ws->w[i], *num = ws->w[i + 1];
    if (!strcmp(fam, "rtx") && !strcmp(num, "pro") && i + 2 < ws->n && all_digits(ws->w[i + 2])) {
        put(out, n, &len, "rtx-pro-");
        put(out, n, &len, ws->w[i + 2]);
        return 0;
    }
    if (!strcmp(fam, "rtx") && is_model_word(num)) {
        put(out, n, &len, num);
        return 0;
    }
    if (!all_digits(num))
        return -1;
    put(out, n, &len, fam);
    put(out, n, &len, num);
    static const char *const suffixes[] = {"ti", "super", "ada", "laptop"};
    for (size_t s = 0; s < sizeof suffixes / sizeof suffixes[0]; s++)
        if (has_word(ws, i + 2, suffixes[s])) {
            put(out, n, &len, "-");
            put(out, n, &len, suffixes[s]);
        }
    return 0;
}

static void slug_class(const struct words *ws, char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    put(out, n, &len, "gpu");
    for (int i = 0; i < ws->n; i++) {
        put(out, n, &len, "-");
        put(out, n, &len, ws->w[i]);
    }
    if (ws->n == 0)
        put(out, n, &len, "-unknown");
    while (len > 0 && out[len - 1] == '-')
        out[--len] = '\0';
}

void ar_gpu_class(const char *name, char *out, size_t n)
{
    if (n == 0)
        return;
    struct words ws;
    split_words(name ? name : "", &ws);
    int vendor = 0, first = 0;
    while (first < ws.n && is_vendor_word(ws.w[first])) {
        vendor = 1;
        first++;
    }
    if (first < ws.n && (!strcmp(ws.w[first], "rtx") || !strcmp(ws.w[first], "gtx")) &&
        rtx_class(&ws, first, out, n) == 0)
        return;
    for (int i = first; i < ws.n; i++) {
        if (!is_model_word(ws.w[i]))
            continue;
        if (!vendor && !known_class(ws.w[i]))
            break;
        size_t len = 0;
        out[0] = '\0';
        put(out, n, &len, ws.w[i]);
        /* H100 PCIe and NVL run slower than the SXM part: other classes. */
        if (!strcmp(ws.w[i], "h100") && has_word(&ws, i + 1, "pcie"))
            put(out, n, &len, "-pcie");
        else if (!strcmp(ws.w[i], "h100") && has_word(&ws, i + 1, "nvl"))
            put(out, n, &len, "-nvl");
        return;
    }
    slug_class(&ws, out, n);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0';
    return s;
}

int ar_gpu_detect(char *name, size_t n, double *mem_gb)
{
    if (n > 0)
        name[0] = '\0';
    if (mem_gb)
        *mem_gb = 0;
    FILE *p = popen("nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits "
                    "2>/dev/null",
                    "r");
    if (!p)
        return -1;
    char line[512];
    int got = fgets(line, sizeof line, p) != NULL;
    char rest[256];
    while (fgets(rest, sizeof rest, p))
        ;
    int status = pclose(p);
    if (!got || status != 0)
        return -1;
    line[strcspn(line, "\n")] = '\0';
    char *comma = strrchr(line, ',');
    char *mem = NULL;
    if (comma) {
        *comma = '\0';
        mem = trim(comma + 1);
    }
    char *gpu = trim(line);
    if (!*gpu)
        return -1;
    snprintf(name, n, "%s", gpu);
    if (mem && mem_gb) {
        char *end;
        double mib = strtod(mem, &end);
        if (end != mem && *trim(end) == '\0' && mib > 0)
            *mem_gb = (double)(long)(mib / 1024.0 * 10 + 0.5) / 10;
    }
    return 0;
}

/* BLAS set-up and matrix products on the CPU.
 *
 * Core type. Debian's OpenBLAS 0.3.21 is built with DYNAMIC_ARCH: while it
 * loads, it picks a kernel for the CPU, or the one named by
 * OPENBLAS_CORETYPE. On CPUs newer than it knows it may fall back to a slow
 * kernel (Prescott, SSE3), and environments often pin OPENBLAS_CORETYPE to
 * something conservative (Haswell, AVX2) that runs at half the speed of
 * the AVX-512 kernel. kernels_init() therefore chooses from the CPU's own
 * features, and since OpenBLAS reads the variable only at load time,
 * re-executes the program once with OPENBLAS_CORETYPE set when the loaded
 * kernel is not the chosen one.
 *
 *   AR_BLAS_CORETYPE unset or "auto"  pick by CPU features: SkylakeX with
 *                                     AVX-512 (F, CD, BW, DQ, VL), Haswell
 *                                     with AVX2 + FMA, else OpenBLAS's own
 *   AR_BLAS_CORETYPE=env              keep whatever OPENBLAS_CORETYPE says
 *   AR_BLAS_CORETYPE=NAME             use OpenBLAS core type NAME
 *
 * Whatever is chosen, a small sgemm is checked against a double-precision
 * reference; a kernel that computes wrongly is replaced by the next safer
 * one (SkylakeX -> Haswell -> Prescott), again by re-executing.
 *
 * Threads. OpenBLAS runs single-threaded; the products are split across
 * OpenMP threads here, so one thread pool (OpenMP's) serves every kernel
 * and no two pools spin against each other on a small machine. */
#include "kcpu.h"
#include "base/err.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define REEXEC_VAR "AR_BLAS_REEXEC"   /* core types tried so far, comma-separated */

/* Idle OpenMP threads sleep instead of spinning, unless the user set
 * OMP_WAIT_POLICY or GOMP_SPINCOUNT: libgomp's default spin (about a
 * millisecond) lets a waiting thread steal a shared core from the one doing
 * the work whenever anything else runs on the machine (measured on 2 busy
 * cores: 36 GFLOP/s spinning, 49 sleeping). Our parallel regions last
 * milliseconds, so the wake-up latency costs well under 1%. */
#define WAIT_POLICY "passive"

static char blas_info[192];
static char blas_how[16] = "loaded";
static int n_threads;

static const char *const fallback_chain[] = {"SkylakeX", "Haswell", "Prescott", NULL};

/* ---------------------------------------------------------------------------
 * Choosing the core type */

static const char *coretype_for_cpu(void)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return "Haswell";
    return NULL;
}

/* The core type to run with, or NULL to accept what OpenBLAS loaded. */
static const char *wanted_coretype(void)
{
    const char *o = getenv("AR_BLAS_CORETYPE");
    if (o && *o && strcasecmp(o, "auto") != 0) {
        if (strcasecmp(o, "env") == 0) {
            snprintf(blas_how, sizeof blas_how, "env");
            return NULL;
        }
        snprintf(blas_how, sizeof blas_how, "override");
        return o;
    }
    snprintf(blas_how, sizeof blas_how, "auto");
    return coretype_for_cpu();
}

static const char *next_safer(const char *name)
{
    for (int i = 0; fallback_chain[i]; i++)
        if (strcasecmp(fallback_chain[i], name) == 0)
            return fallback_chain[i + 1];
    return fallback_chain[1];   /* unknown (e.g. Cooperlake): try Haswell */
}

static int already_tried(const char *tried, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = tried; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncasecmp(p, name, n) == 0)
            return 1;
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

/* Replaces this process by itself with OPENBLAS_CORETYPE=name (unchanged
 * when name is NULL), adding name and the broken core type (when not NULL)
 * to the list of those tried; returns only when exec fails. */
static void reexec_with(const char *name, const char *broken, char **argv)
{
    const char *tried = getenv(REEXEC_VAR);
    char list[256];
    snprintf(list, sizeof list, "%s", tried ? tried : "");
    const char *add[2] = {broken, name};
    for (int i = 0; i < 2; i++)
        if (add[i] && !already_tried(list, add[i]) && strlen(list) + strlen(add[i]) + 2 < sizeof list)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", *list ? "," : "",
                     add[i]);
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || !argv || !argv[0])
        return;
    self[n] = '\0';
    if (name)
        setenv("OPENBLAS_CORETYPE", name, 1);
    setenv(REEXEC_VAR, list, 1);
    fflush(NULL);
    execv(self, argv);
}

const char *kernels_blas_decide(const char *want, const char *loaded, const char *tried,
                                int works)
{
    if (!(tried && *tried) && want && strcasecmp(want, loaded) != 0)
        return want;
    if (works)
        return NULL;
    const char *next = next_safer(loaded);
    while (next && already_tried(tried, next))
        next = next_safer(next);
    return next;
}

/* ---------------------------------------------------------------------------
 * Checking that sgemm computes correctly */

static int check_one(int ta, int tb, int M, int N, int K)
{
    float *a = malloc(sizeof(float) * M * K), *b = malloc(sizeof(float) * K * N);
    float *c = malloc(sizeof(float) * M * N);
    int ok = a && b && c;
    uint32_t s = 12345u + M * 7 + N * 3 + K + ta * 2 + tb;
    for (int i = 0; ok && i < M * K; i++) {
        s = s * 1664525u + 1013904223u;
        a[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    for (int i = 0; ok && i < K * N; i++) {
        s = s * 1664525u + 1013904223u;
        b[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    if (ok) {
        for (int i = 0; i < M * N; i++)
            c[i] = 0.5f;
        int lda = ta ? M : K, ldb = tb ? K : N;
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    M, N, K, 0.75f, a, lda, b, ldb, 0.5f, c, N);
        for (int i = 0; ok && i < M; i++)
            for (int j = 0; ok && j < N; j++) {
                double sum = 0, mag = 0;
                for (int k = 0; k < K; k++) {
                    double x = ta ? a[k * lda + i] : a[i * lda + k];
                    double y = tb ? b[j * ldb + k] : b[k * ldb + j];
                    sum += x * y;
                    mag += fabs(x * y);
                }
                double want = 0.75 * sum + 0.25;
                if (!(fabs(c[i * N + j] - want) <= 1e-5 * (mag + 1)))
                    ok = 0;
            }
    }
    free(a);
    free(b);
    free(c);
    return ok;
}

/* Exposed through kernels_blas_selftest for tests; odd sizes exercise the
 * kernels' edge handling, larger ones their main loops. */
int kernels_blas_selftest(void)
{
    static const int sizes[][3] = {{37, 53, 29}, {128, 96, 80}, {1, 67, 130}, {250, 3, 64}};
    /* tests: pretend these (comma-separated) core types compute wrongly */
    const char *bad = getenv("AR_BLAS_TEST_BAD");
    if (bad && already_tried(bad, kernels_blas_coretype()))
        return 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (int t = 0; t < 4; t++)
            if (!check_one(t & 1, t >> 1, sizes[i][0], sizes[i][1], sizes[i][2]))
                return 0;
    return 1;
}

static void describe(void)
{
    char name[32] = "OpenBLAS", version[32] = "";
    const char *cfg = openblas_get_config();   /* "OpenBLAS 0.3.21 NO_LAPACKE ..." */
    if (cfg)
        sscanf(cfg, "%31s %31s", name, version);
    snprintf(blas_info, sizeof blas_info, "%s %s %s (%s)", name, version,
             kernels_blas_coretype(), blas_how);
}

int kernels_init(char **argv)
{
    const char *tried = getenv(REEXEC_VAR);
    int first = !(tried && *tried);
    const char *want = wanted_coretype();
    const char *loaded = kernels_blas_coretype();
    int works = kernels_blas_selftest();
    const char *next = kernels_blas_decide(want, loaded, tried, works);
    /* libgomp, too, reads its settings only while it loads */
    int set_spin = first && !getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT");
    if (set_spin)
        setenv("OMP_WAIT_POLICY", WAIT_POLICY, 1);
    int switching = first && want && strcasecmp(want, loaded) != 0;
    if (!works && next && !switching)
        fprintf(stderr, "%s: warning: blas: sgemm of core type %s computes wrong results, "
                "trying %s\n", ar_prog(), loaded, next);
    if (next || set_spin)
        reexec_with(next, works ? NULL : loaded, argv);
    if (!works)
        return ar_fail(AR_EFAIL, "blas: sgemm of OpenBLAS core type %s computes wrong results; "
                       "set AR_BLAS_CORETYPE to another core type", loaded);
    if (want && strcasecmp(want, loaded) != 0 && already_tried(tried, loaded))
        snprintf(blas_how, sizeof blas_how, "fallback");
    else if (want && strcasecmp(want, loaded) != 0)
        fprintf(stderr, "%s: warning: blas: cannot select OpenBLAS core type %s, using %s\n",
                ar_prog(), want, loaded);
    unsetenv(REEXEC_VAR);
    kernels_set_threads(0);
    describe();
    return 0;
}

const char *kernels_blas_coretype(void)
{
    const char *c = openblas_get_corename();
    return c ? c : "unknown";
}

const char *kernels_blas_info(void)
{
    if (!blas_info[0])
        describe();
    return blas_info;
}

/* ---------------------------------------------------------------------------
 * Threads */

void kernels_set_threads(int n)
{
    static int all;   /* OMP_NUM_THREADS if set, else the cores we may use */
    if (!all)
        all = omp_get_max_threads();
    openblas_set_num_threads(1);
    n_threads = n > 0 ? n : all;
    omp_set_num_threads(n_threads);
}

int kernels_threads(void)
{
    if (!n_threads)
        kernels_set_threads(0);
    return n_threads;
}

/* ---------------------------------------------------------------------------
 * Products: the larger output dimension is cut into one slab per thread,
 * each computed by single-threaded sgemm. Slabs are multiples of 16 rows so
 * the kernels' edge paths stay short; the split depends only on the shape
 * and thread count, so results are reproducible. */

void k_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
            int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    int nt = kernels_threads();
    if (M <= 0 || N <= 0)
        return;
    double flops = 2.0 * M * N * K;
    if (nt > 1 && flops < 2e5)
        nt = 1;
    int split_m = M >= N;
    int len = split_m ? M : N;
    int chunk = ((len + nt - 1) / nt + 15) / 16 * 16;
    int parts = (len + chunk - 1) / chunk;
    enum CBLAS_TRANSPOSE opa = trans_a ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE opb = trans_b ? CblasTrans : CblasNoTrans;
    #pragma omp parallel for num_threads(parts) schedule(static, 1) if (parts > 1)
    for (int p = 0; p < parts; p++) {
        int lo = p * chunk, n = len - lo < chunk ? len - lo : chunk;
        if (split_m) {
            const float *a = trans_a ? A + lo : A + (size_t)lo * lda;
            cblas_sgemm(CblasRowMajor, opa, opb, n, N, K, alpha, a, lda, B, ldb, beta,
                        C + (size_t)lo * ldc, ldc);
        } else {
            const float *b = trans_b ? B + (size_t)lo * ldb : B + lo;
            cblas_sgemm(CblasRowMajor, opa, opb, M, n, K, alpha, A, lda, b, ldb, beta, C + lo,
                        ldc);
        }
    }
}

void k_matmul_forward(float *out, const float *inp, const float *w, int M, int K, int N,
                      int accumulate)
{
    k_gemm(0, 1, M, N, K, 1.0f, inp, K, w, K, accumulate ? 1.0f : 0.0f, out, N);
}

void k_matmul_backward(float *dinp, float *dw, const float *dout, const float *inp,
                       const float *w, int M, int K, int N)
{
    if (dinp)
        k_gemm(0, 0, M, K, N, 1.0f, dout, N, w, K, 1.0f, dinp, K);
    if (dw)
        k_gemm(1, 0, N, K, M, 1.0f, dout, N, inp, K, 1.0f, dw, K);
}

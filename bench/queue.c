/* Queue throughput: W worker processes each doing C cycles of
 * add -> claim -> done on a queue pre-filled with N pending entries, every
 * operation through lib/queue/queue.h with the lock and the journal's fdatasync.
 * Prints cycles per second and claim latency percentiles.
 *
 *     bench/queue DIR [--workers 8] [--cycles 250] [--entries 1000]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/json.h"
#include "facts/kb.h"
#include "queue/queue.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static jv entry(const char *who, int i)
{
    char h[96];
    snprintf(h, sizeof h, "bench %s %d", who, i);
    jv f = jv_object();
    ar_jv_set(&f, "hypothesis", jv_string(h));
    ar_jv_set(&f, "category", jv_string("hyperparameter"));
    ar_jv_set(&f, "priority", jv_number(1 + i % 9));
    jv ov = jv_object();
    ar_jv_set(&ov, "matrix_lr", jv_number(0.001 * (i % 50 + 1)));
    ar_jv_set(&f, "overrides", ov);
    return f;
}

static void worker(struct ar_kb *kb, int w, int cycles, FILE *out)
{
    char name[32];
    snprintf(name, sizeof name, "w%d", w);
    struct ar_queue *q = ar_queue_open(kb, 30, 0);
    for (int i = 0; i < cycles; i++) {
        jv f = entry(name, i), ids, e;
        if (ar_queue_add(q, &f, 1, 0, &ids) != 0)
            ar_die_last();
        jv_free(f);
        jv_free(ids);
        double t0 = now_s();
        int rc = ar_queue_claim(q, name, &e);
        double t1 = now_s();
        if (rc != 0)
            ar_die(1, "claim: %s", rc > 0 ? "nothing pending" : ar_last_error());
        if (ar_queue_done(q, ar_jv_str(e, "id"), "20261123T100000Z-0123456789ab") != 0)
            ar_die_last();
        jv_free(e);
        fprintf(out, "%.9f\n", t1 - t0);
    }
    ar_queue_close(q);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    ar_set_prog(argv[0]);
    int workers = 8, cycles = 250, entries = 1000;
    if (argc < 2)
        ar_die(2, "usage: bench/queue DIR [--workers N] [--cycles N] [--entries N]");
    for (int i = 2; i + 1 < argc; i += 2) {
        int v = atoi(argv[i + 1]);
        if (!strcmp(argv[i], "--workers")) workers = v;
        else if (!strcmp(argv[i], "--cycles")) cycles = v;
        else if (!strcmp(argv[i], "--entries")) entries = v;
        else ar_die(2, "unknown option '%s'", argv[i]);
    }
    struct ar_kb kb;
    if (ar_kb_open(&kb, argv[1], AR_KB_CREATE) != 0)
        ar_die_last();
    struct ar_queue *q = ar_queue_open(&kb, 30, 0);
    jv *f = malloc((size_t)entries * sizeof *f), ids;
    for (int i = 0; i < entries; i++)
        f[i] = entry("prefill", i);
    if (ar_queue_add(q, f, (size_t)entries, 0, &ids) != 0)
        ar_die_last();
    for (int i = 0; i < entries; i++)
        jv_free(f[i]);
    free(f);
    jv_free(ids);
    ar_queue_close(q);

    char lat[4096];
    double t0 = now_s();
    for (int w = 0; w < workers; w++) {
        pid_t pid = fork();
        if (pid == 0) {
            snprintf(lat, sizeof lat, "%s/latencies.%d", argv[1], w);
            FILE *out = fopen(lat, "w");
            if (!out)
                ar_die(1, "%s: cannot write", lat);
            worker(&kb, w, cycles, out);
            _exit(fclose(out) == 0 ? 0 : 1);
        }
    }
    int bad = 0;
    for (int w = 0; w < workers; w++) {
        int st;
        wait(&st);
        bad |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    }
    double wall = now_s() - t0;
    if (bad)
        ar_die(1, "a worker failed");
    size_t n = (size_t)workers * (size_t)cycles, got = 0;
    double *v = malloc(n * sizeof *v);
    for (int w = 0; w < workers; w++) {
        snprintf(lat, sizeof lat, "%s/latencies.%d", argv[1], w);
        FILE *in = fopen(lat, "r");
        while (in && got < n && fscanf(in, "%lf", &v[got]) == 1)
            got++;
        if (in)
            fclose(in);
    }
    qsort(v, got, sizeof *v, cmp_double);
    printf("workers %d  cycles %zu  queue %d+  wall %.2f s  cycles/s %.0f  "
           "claim p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
           workers, got, entries, wall, (double)got / wall, 1e3 * v[got / 2],
           1e3 * v[(size_t)floor(0.99 * (double)(got - 1))], 1e3 * v[got - 1]);
    free(v);
    return 0;
}

#include "queue/queue_job.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "facts/card.h"
#include "facts/config_keys.h"
#include "base/err.h"
#include "base/json.h"
#include "queue/queue.h"

struct ar_queue_job {
    struct ar_kb kb;
    char id[64], worker[256];
    jv entry;
    double interval;
    pthread_t thread;
    sem_t wake;               /* posted to stop, and by the signal handler */
    volatile int stop;
    int running;
    struct sigaction old[3];
};

/* the job an exit without ar_queue_job_end fails */
static struct ar_queue_job *pending_job;

/* SIGINT, SIGTERM, SIGHUP: the heartbeat thread releases the entry (so it
 * is not held until it goes stale) and the process dies of the signal. */
static const int signals[3] = { SIGINT, SIGTERM, SIGHUP };
static volatile sig_atomic_t got_signal;
static sem_t *volatile wake_on_signal;

static void on_signal(int sig)
{
    got_signal = sig;
    if (wake_on_signal)
        sem_post(wake_on_signal);   /* async-signal-safe */
}

static void release_and_die(struct ar_queue_job *job, struct ar_queue *q)
{
    int sig = got_signal;
    if (ar_queue_release(q, job->id) == 0)
        fprintf(stderr, "%s: %s: queue entry %s released\n", ar_prog(), strsignal(sig), job->id);
    pending_job = NULL;
    signal(sig, SIG_DFL);
    raise(sig);
    _exit(128 + sig);
}

static void *heartbeat_loop(void *arg)
{
    struct ar_queue_job *job = arg;
    struct ar_queue *q = ar_queue_open(&job->kb, -1, 0);
    while (!job->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        double whole = (double)(long)job->interval, frac = job->interval - whole;
        until.tv_sec += (time_t)whole;
        until.tv_nsec += (long)(frac * 1e9);
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        int rc;
        while ((rc = sem_timedwait(&job->wake, &until)) != 0 && errno == EINTR && !got_signal)
            ;
        if (got_signal)
            release_and_die(job, q);
        if (job->stop)
            break;
        if (rc != 0 && ar_queue_heartbeat(q, job->id, job->worker) != 0)
            ar_warn("queue entry %s: heartbeat: %s", job->id, ar_last_error());
    }
    ar_queue_close(q);
    return NULL;
}

static void stop_heartbeat(struct ar_queue_job *job)
{
    if (!job->running)
        return;
    wake_on_signal = NULL;
    for (int i = 0; i < 3; i++)
        sigaction(signals[i], &job->old[i], NULL);
    job->stop = 1;
    sem_post(&job->wake);
    pthread_join(job->thread, NULL);
    job->running = 0;
}

static void free_job(struct ar_queue_job *job)
{
    jv_free(job->entry);
    sem_destroy(&job->wake);
    free(job);
}

static void fail_on_exit(void)
{
    struct ar_queue_job *job = pending_job;
    if (!job)
        return;
    pending_job = NULL;
    char reason[1200];
    snprintf(reason, sizeof reason, "%s: %s", ar_prog(), ar_last_error());
    stop_heartbeat(job);
    struct ar_queue *q = ar_queue_open(&job->kb, -1, 0);
    if (ar_queue_fail(q, job->id, reason) == 0)
        fprintf(stderr, "%s: queue entry %s failed\n", ar_prog(), job->id);
    ar_queue_close(q);
    free_job(job);
}

int ar_queue_job_start(const struct ar_kb *kb, const char *worker, double interval_s,
                       struct ar_queue_job **out)
{
    struct ar_queue_job *job = ar_xmalloc(sizeof *job);
    memset(job, 0, sizeof *job);
    job->kb = *kb;
    snprintf(job->worker, sizeof job->worker, "%s", worker && *worker ? worker : ar_agent_name());
    const char *env = getenv("AR_QUEUE_HEARTBEAT");   /* seconds; for tests */
    if (interval_s <= 0 && env && atof(env) > 0)
        interval_s = atof(env);
    job->interval = interval_s > 0 ? interval_s : 60;
    sem_init(&job->wake, 0, 0);
    struct ar_queue *q = ar_queue_open(kb, -1, 0);
    int rc = ar_queue_claim(q, job->worker, &job->entry);
    ar_queue_close(q);
    if (rc != 0) {
        job->entry = jv_invalid();
        free_job(job);
        return rc;
    }
    snprintf(job->id, sizeof job->id, "%s", ar_jv_str(job->entry, "id"));
    if (pthread_create(&job->thread, NULL, heartbeat_loop, job) == 0) {
        job->running = 1;
        wake_on_signal = &job->wake;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        for (int i = 0; i < 3; i++)
            sigaction(signals[i], &sa, &job->old[i]);
    } else {
        ar_warn("queue entry %s: no heartbeat thread", job->id);
    }
    static int registered;
    if (!registered && atexit(fail_on_exit) == 0)
        registered = 1;
    pending_job = job;
    *out = job;
    return 0;
}

jv ar_queue_job_entry(const struct ar_queue_job *job)
{
    return job->entry;
}

char **ar_queue_job_sets(const struct ar_queue_job *job, int *n)
{
    jv ov = ar_jv_get(job->entry, "overrides");
    int len = jv_get_kind(ov) == JV_KIND_OBJECT ? jv_object_length(jv_copy(ov)) : 0;
    char **sets = ar_xmalloc((size_t)(len + 1) * sizeof *sets);
    *n = 0;
    if (len > 0) {
        jv_object_foreach(ov, k, v) {
            char text[256];
            if (ar_config_value_text(v, text, sizeof text) == 0) {
                struct ar_buf b = {0};
                ar_buf_printf(&b, "%s=%s", jv_string_value(k), text);
                sets[(*n)++] = ar_buf_take(&b);
            }
            jv_free(k);
            jv_free(v);
        }
    }
    jv_free(ov);
    return sets;
}

int ar_queue_job_end(struct ar_queue_job *job, const char *card, const char *reason)
{
    if (pending_job == job)
        pending_job = NULL;
    stop_heartbeat(job);
    struct ar_queue *q = ar_queue_open(&job->kb, -1, 0);
    int rc;
    if (!reason) {
        rc = ar_queue_done(q, job->id, card);
    } else {
        char why[1200];
        snprintf(why, sizeof why, "%s%s%s", reason, card ? "; card " : "", card ? card : "");
        rc = ar_queue_fail(q, job->id, why);
    }
    ar_queue_close(q);
    free_job(job);
    return rc;
}

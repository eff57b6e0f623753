/* ar_brief_load: the brief, computed or from the saved one. Moved out of
 * bin/ar-brief.c so that ar-mcp gives the same brief. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/brief_load.h"
#include "analysis/coverage.h"
#include "analysis/findings.h"
#include "analysis/scope.h"
#include "analysis/stats.h"
#include "base/atomic.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "facts/card.h"
#include "facts/config_keys.h"
#include "index/index.h"

char **ar_trainer_keys(void)
{
    jv cfg = ar_config_defaults();
    jv names = jv_keys(cfg);
    int n = jv_array_length(jv_copy(names));
    char **keys = ar_xmalloc(((size_t)n + 1) * sizeof *keys);
    jv_array_foreach(names, i, k) {
        keys[i] = ar_xstrdup(jv_string_value(k));
        jv_free(k);
    }
    keys[n] = NULL;
    jv_free(names);
    return keys;
}

void ar_trainer_keys_free(char **keys)
{
    if (!keys)
        return;
    for (char **k = keys; *k; k++)
        free(*k);
    free(keys);
}

/* ------------------------------------------------------------ the saved brief
 *
 * synthesis/brief-cache.json holds the last brief computed, under a key: the
 * index's version (ar_index_version: equal only for the same facts), the
 * filters and the number of recent experiments. While the key matches, the
 * brief is read from it instead of recomputing every statistic. */

#define CACHE_FILE "synthesis/brief-cache.json"
#define CACHE_MAX (16 << 20)

static int cache_key(const struct ar_kb *kb, const char *scope, int recent, jv *key)
{
    char v[AR_INDEX_VERSION_LEN];
    if (ar_index_version(kb, v) != 0)
        return -1;
    *key = jv_object();
    ar_jv_set(key, "index", jv_string(v));
    ar_jv_set(key, "scope", jv_string(scope));
    ar_jv_set(key, "recent", jv_number((double)recent));
    /* whose text is quoted depends on who reads it */
    ar_jv_set(key, "agent", jv_string(ar_agent_name()));
    /* and what it says on the rules of the program that computed it: a
     * rebuilt tool (new rules) never prints a brief an old one saved */
    struct stat sb;
    char build[64] = "";
    if (stat("/proc/self/exe", &sb) == 0)
        snprintf(build, sizeof build, "%lld.%09ld/%lld", (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec,
                 (long long)sb.st_size);
    ar_jv_set(key, "build", jv_string(build));
    return 0;
}

static struct ar_brief *cache_read(const struct ar_kb *kb, jv key)
{
    char path[PATH_MAX], *text;
    size_t len;
    if (access(ar_kb_path(kb, CACHE_FILE, path), F_OK) != 0)
        return NULL;
    if (ar_read_file(path, CACHE_MAX, &text, &len) != 0)
        return NULL;
    jv saved;
    int rc = ar_json_parse(text, len, path, &saved);
    free(text);
    if (rc != 0)
        return NULL;
    struct ar_brief *b = NULL;
    jv k = ar_jv_get(saved, "key");
    if (jv_equal(k, jv_copy(key))) {
        jv brief = ar_jv_get(saved, "brief");
        b = ar_brief_restore(brief);
        jv_free(brief);
    }
    jv_free(saved);
    return b;
}

/* Best effort: a knowledge base we may not write to still gets its brief. */
static void cache_write(const struct ar_kb *kb, jv key, const struct ar_brief *b)
{
    char dir[PATH_MAX], path[PATH_MAX];
    if (ar_mkdir(ar_kb_path(kb, "synthesis", dir)) != 0)
        return;
    jv o = jv_object();
    ar_jv_set(&o, "key", jv_copy(key));
    ar_jv_set(&o, "brief", ar_brief_save(b));
    char *text = ar_json_dump(o, AR_JSON_COMPACT);
    ar_write_atomic(ar_kb_path(kb, CACHE_FILE, path), text, strlen(text));
    free(text);
    jv_free(o);
}

struct cov_job {
    const struct ar_kbstats *st;
    const char *const *keys;
    struct ar_coverage *cov;
};

static void *cov_job_run(void *arg)
{
    struct cov_job *j = arg;
    j->cov = ar_coverage_build(j->st, j->keys);
    return NULL;
}

static int compute(const struct ar_kb *kb, const struct ar_filter *filter, const char *scope, int recent,
                   struct ar_brief **out)
{
    struct ar_kbstats *st;
    if (ar_scope_load(kb, filter, &st) != 0)
        return -1;
    char **keys = ar_trainer_keys();
    /* coverage and findings read st and nothing else: the coverage is
     * built on a second thread while the findings are */
    struct cov_job cj = {st, (const char *const *)keys, NULL};
    pthread_t th;
    int threaded = st->n >= 2000 && pthread_create(&th, NULL, cov_job_run, &cj) == 0;
    struct ar_findings *f = ar_findings_build(st);
    if (threaded)
        pthread_join(th, NULL);
    else
        cov_job_run(&cj);
    struct ar_coverage *cov = cj.cov;
    struct ar_brief_in in = {kb, st, f, cov, jv_invalid(), scope, recent};
    *out = ar_brief_build(&in);
    ar_trainer_keys_free(keys);
    ar_coverage_free(cov);
    ar_findings_free(f);
    ar_kbstats_free(st);
    return 0;
}

int ar_brief_load(const struct ar_kb *kb, const struct ar_filter *filter, int recent, int cache,
                  struct ar_brief **out)
{
    if (ar_filter_check(filter) != 0)
        return -1;
    char scope[512];
    ar_scope_describe(filter, scope, sizeof scope);
    jv key = jv_invalid();
    if ((cache & (AR_BRIEF_CACHE_READ | AR_BRIEF_CACHE_WRITE)) && cache_key(kb, scope, recent, &key) != 0)
        return -1;
    struct ar_brief *b = (cache & AR_BRIEF_CACHE_READ) ? cache_read(kb, key) : NULL;
    if (!b) {
        if (compute(kb, filter, scope, recent, &b) != 0) {
            jv_free(key);
            return -1;
        }
        if (cache & AR_BRIEF_CACHE_WRITE)
            cache_write(kb, key, b);
    }
    jv_free(key);
    *out = b;
    return 0;
}

/* ar-brief: what an agent reads before planning its next experiment. A thin
 * front end over lib/analysis/brief.h: load the (filtered) statistics, findings and
 * coverage, then print the brief within --max-bytes. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/atomic.h"
#include "analysis/brief.h"
#include "facts/card.h"
#include "facts/config_keys.h"
#include "analysis/coverage.h"
#include "base/err.h"
#include "analysis/findings.h"
#include "index/index.h"
#include "base/json.h"
#include "facts/kb.h"
#include "base/opt.h"
#include "queue/queue.h"
#include "analysis/scope.h"
#include "analysis/stats.h"

static const char usage[] =
    "usage: ar-brief [--max-bytes N] [--json] [--recent N]\n"
    "                [--session TAG] [--platform CLASS] [--since TIME] [--kb DIR]\n"
    "\n"
    "Prints what is known before planning the next experiment: best so far per\n"
    "comparability key and how it differs from the baseline, the noise floor and\n"
    "warnings, top findings, contradictions across platform classes, dead ends,\n"
    "recent experiments, the queue, under-explored areas and open questions, in\n"
    "at most --max-bytes of plain text (or one JSON object). Sections that are\n"
    "empty are left out; when space runs short the least important give way.\n"
    "The best and recent cards come with their lessons. Text written by other\n"
    "agents than this one ($AR_AGENT, else user@host) is quoted as data:\n"
    "[AGENT wrote] \"...\", escaped and cut to a bound.\n";

/* the trainer's config keys, so that keys nobody has changed count as
 * under-explored (NULL-terminated, malloc'd) */
static char **trainer_keys(void)
{
    jv cfg = ar_config_defaults();
    jv names = jv_keys(cfg);
    int n = jv_array_length(jv_copy(names));
    char **keys = calloc((size_t)n + 1, sizeof *keys);
    if (!keys)
        ar_die(AR_EFAIL, "out of memory");
    jv_array_foreach(names, i, k) {
        keys[i] = strdup(jv_string_value(k));
        jv_free(k);
    }
    jv_free(names);
    return keys;
}

/* The queue's entries, or jv_invalid() when the knowledge base has no
 * queue (the brief then has no queue section and creates nothing). */
static jv queue_entries(const struct ar_kb *kb)
{
    char path[PATH_MAX];
    if (access(ar_kb_path(kb, "queue.json", path), F_OK) != 0)
        return jv_invalid();
    struct ar_queue *q = ar_queue_open(kb, -1, 0);
    jv entries;
    if (ar_queue_list(q, &entries) != 0)
        ar_die_last();
    ar_queue_close(q);
    return entries;
}

/* ------------------------------------------------------------ the saved brief
 *
 * synthesis/brief-cache.json holds the last brief computed, under a key: the
 * index's version (ar_index_version: equal only for the same facts), the
 * filters, --recent and the local agent (whose text is not quoted). While
 * the key matches, ar-brief prints from it instead of recomputing every
 * statistic; the queue section is always read afresh. */

#define CACHE_FILE "synthesis/brief-cache.json"
#define CACHE_MAX (16 << 20)

static jv cache_key(const struct ar_kb *kb, const char *scope, long recent)
{
    char v[AR_INDEX_VERSION_LEN];
    if (ar_index_version(kb, v) != 0)
        ar_die_last();
    jv key = jv_object();
    ar_jv_set(&key, "index", jv_string(v));
    ar_jv_set(&key, "scope", jv_string(scope));
    ar_jv_set(&key, "recent", jv_number((double)recent));
    /* whose text is quoted depends on who reads it */
    ar_jv_set(&key, "agent", jv_string(ar_agent_name()));
    /* and what it says on the rules of this build: this file is compiled
     * again whenever lib/ changes (the Makefile builds each tool from its
     * source and the libraries in one step), so a new rule never prints
     * an old brief */
    ar_jv_set(&key, "build", jv_string(__DATE__ " " __TIME__));
    return key;
}

static struct ar_brief *cache_read(const struct ar_kb *kb, jv key)
{
    char path[PATH_MAX], *text;
    size_t len;
    if (!jv_is_valid(key) || access(ar_kb_path(kb, CACHE_FILE, path), F_OK) != 0)
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
    if (!jv_is_valid(key) || ar_mkdir(ar_kb_path(kb, "synthesis", dir)) != 0)
        return;
    jv o = jv_object();
    ar_jv_set(&o, "key", jv_copy(key));
    ar_jv_set(&o, "brief", ar_brief_save(b));
    char *text = ar_json_dump(o, AR_JSON_COMPACT);
    ar_write_atomic(ar_kb_path(kb, CACHE_FILE, path), text, strlen(text));
    free(text);
    jv_free(o);
}

static struct ar_brief *compute(const struct ar_kb *kb, const struct ar_filter *filter,
                                const char *scope, long recent)
{
    struct ar_kbstats *st;
    if (ar_scope_load(kb, filter, &st) != 0)
        ar_die_last();
    struct ar_findings *f = ar_findings_build(st);
    char **keys = trainer_keys();
    struct ar_coverage *cov = ar_coverage_build(st, (const char *const *)keys);
    struct ar_brief_in in = {kb, st, f, cov, jv_invalid(), scope, (int)recent, NULL};
    struct ar_brief *b = ar_brief_build(&in);
    for (char **k = keys; *k; k++)
        free(*k);
    free(keys);
    ar_coverage_free(cov);
    ar_findings_free(f);
    ar_kbstats_free(st);
    return b;
}

int main(int argc, char **argv)
{
    ar_set_prog(argv[0]);
    const char *kb_dir = NULL;
    long max_bytes = AR_BRIEF_MAX_BYTES, recent = AR_BRIEF_RECENT;
    int json = 0, no_cache = 0;
    struct ar_filter filter = {0};
    struct ar_opt opts[] = {
        AR_OPT_INT("max-bytes", &max_bytes, "N", "size of the brief (default 4096)"),
        AR_OPT_BOOL("json", &json, "print one JSON object instead of text"),
        AR_OPT_INT("recent", &recent, "N", "recent experiments listed (default 5)"),
        AR_OPT_STR("session", &filter.session, "TAG", "only this session's cards"),
        AR_OPT_STR("platform", &filter.platform, "CLASS", "only this platform class"),
        AR_OPT_STR("since", &filter.since, "TIME", "only cards created at or after TIME"),
        AR_OPT_BOOL("no-cache", &no_cache, "recompute, ignoring and keeping no saved brief"),
        AR_OPT_STR("kb", &kb_dir, "DIR", "knowledge base (default $AR_KB or ./knowledge)"),
        AR_OPT_END,
    };
    ar_opt_parse_none(opts, argc, argv, usage, NULL);
    if (max_bytes < AR_BRIEF_MIN_BYTES || max_bytes > (1L << 24))
        ar_die(AR_EINPUT, "option '--max-bytes': %ld is out of range (%d to %ld)", max_bytes,
               AR_BRIEF_MIN_BYTES, 1L << 24);
    if (recent < 0 || recent > 50)
        ar_die(AR_EINPUT, "option '--recent': %ld is out of range (0 to 50)", recent);

    struct ar_kb kb;
    if (ar_kb_open(&kb, kb_dir, 0) != 0 || ar_filter_check(&filter) != 0)
        ar_die_last();
    char scope[512];
    ar_scope_describe(&filter, scope, sizeof scope);
    jv key = no_cache ? jv_invalid() : cache_key(&kb, scope, recent);
    struct ar_brief *b = cache_read(&kb, key);
    if (!b) {
        b = compute(&kb, &filter, scope, recent);
        cache_write(&kb, key, b);
    }
    jv_free(key);
    jv queue = queue_entries(&kb);
    ar_brief_set_queue(b, queue);
    if (json) {
        jv o = ar_brief_json(b, (size_t)max_bytes);
        char *text = ar_json_dump(o, AR_JSON_COMPACT);
        printf("%s\n", text);
        free(text);
        jv_free(o);
    } else {
        char *text = ar_brief_text(b, (size_t)max_bytes);
        fputs(text, stdout);
        free(text);
    }
    ar_brief_free(b);
    jv_free(queue);
    return ar_finish_stdout(AR_OK);
}

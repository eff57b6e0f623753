/* ar-synth: regenerate the derived knowledge under synthesis/ (session
 * reports, meta-synthesis, coverage, findings) from the index. Cron-friendly:
 * quiet on success, one writer at a time (synthesis.lock), atomic writes,
 * files rewritten only when their content changes. A thin front end over
 * lib/stats, lib/findings, lib/coverage and lib/synth. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "base/cli.h"
#include "facts/config_keys.h"
#include "analysis/coverage.h"
#include "base/err.h"
#include "analysis/findings.h"
#include "base/json.h"
#include "facts/kb.h"
#include "base/lock.h"
#include "base/opt.h"
#include "analysis/stats.h"
#include "index/index.h"
#include "analysis/synth.h"

enum { DO_SESSION = 1, DO_META = 2, DO_COVERAGE = 4, DO_FINDINGS = 8, DO_SESSIONS = 16 };

static const char *kb_dir;   /* --kb */

#define OPT_KB AR_OPT_STR("kb", &kb_dir, "DIR", "knowledge base (default $AR_KB or ./knowledge)")

struct job {
    int what;
    const char *tag;   /* DO_SESSION */
    int table, json;   /* coverage on stdout */
    int print;         /* the reports meta and session wrote, on stdout */
};

/* The reports written, when the job prints them. */
static struct ar_buf *printed;

/* ------------------------------------------------------------ the work */

struct state {
    struct ar_kb kb;
    struct ar_kbstats *st;
    struct ar_findings *f;
    struct ar_coverage *cov;
    const char **keys;   /* the trainer's config keys, NULL-terminated */
    jv keyobj;
};

static void load(struct state *s)
{
    if (ar_kbstats_load(&s->kb, NULL, &s->st) != 0)
        ar_die_last();
}

/* The facts the index held when loaded (lib/index/index.h). */
static void index_stamp(const struct ar_kb *kb, char out[AR_INDEX_VERSION_LEN])
{
    if (ar_index_version(kb, out) != 0)
        snprintf(out, AR_INDEX_VERSION_LEN, "-");
}

static void trainer_keys(struct state *s)
{
    s->keyobj = ar_config_defaults();
    jv names = jv_keys(jv_copy(s->keyobj));
    int n = jv_array_length(jv_copy(names));
    s->keys = ar_xmalloc((size_t)(n + 1) * sizeof *s->keys);
    for (int i = 0; i < n; i++) {
        jv k = jv_array_get(jv_copy(names), i);
        s->keys[i] = ar_xstrdup(jv_string_value(k));
        jv_free(k);
    }
    s->keys[n] = NULL;
    jv_free(names);
}

static void put(const struct ar_kb *kb, const char *name, const char *data, size_t len)
{
    char path[PATH_MAX];
    if (ar_synth_write(ar_kb_path(kb, name, path), data, len, NULL) != 0)
        ar_die_last();
}

static void put_json(const struct ar_kb *kb, const char *name, jv v)
{
    struct ar_buf b = {0};
    ar_json_dump_buf(&b, v, AR_JSON_PRETTY);
    ar_buf_putc(&b, '\n');
    put(kb, name, b.data, b.len);
    ar_buf_free(&b);
    jv_free(v);
}

static const struct ar_kbstats *sort_st;   /* for cmp_session */

static int cmp_session(const void *a, const void *b)
{
    const struct ar_kbstats *st = sort_st;
    const struct ar_cardsum *x = &st->cards[*(const size_t *)a], *y = &st->cards[*(const size_t *)b];
    int c = x->session == y->session ? 0 : strcmp(x->session, y->session);
    return c ? c : (*(const size_t *)a > *(const size_t *)b) - (*(const size_t *)a < *(const size_t *)b);
}

static void write_session(const struct state *s, const size_t *idx, size_t n, const char *tag)
{
    struct ar_kbstats *sub = ar_kbstats_subset(s->st, idx, n);
    struct ar_findings *f = ar_findings_build(sub);
    char *md = ar_synth_session_md(sub, f, tag);
    char name[PATH_MAX - 32], file[PATH_MAX];
    snprintf(file, sizeof file, "synthesis/%s", ar_synth_session_file(tag, name, sizeof name));
    put(&s->kb, file, md, strlen(md));
    if (printed)
        ar_buf_puts(printed, md);
    free(md);
    ar_findings_free(f);
    ar_kbstats_free(sub);
}

/* One report per session tag (tag NULL), or the one for tag. Returns the
 * number of cards the session has (0: unknown). */
static size_t sessions(const struct state *s, const char *tag, int write)
{
    const struct ar_kbstats *st = s->st;
    size_t m = 0, found = 0;
    size_t *idx = ar_xmalloc((st->n ? st->n : 1) * sizeof *idx);
    for (size_t i = 0; i < st->n; i++)
        if (st->cards[i].session[0] && (!tag || strcmp(st->cards[i].session, tag) == 0))
            idx[m++] = i;
    sort_st = st;
    qsort(idx, m, sizeof *idx, cmp_session);
    for (size_t j = 0; j < m;) {
        size_t k = j;
        while (k < m && st->cards[idx[k]].session == st->cards[idx[j]].session)
            k++;
        found += k - j;
        if (write)
            write_session(s, idx + j, k - j, st->cards[idx[j]].session);
        j = k;
    }
    free(idx);
    return found;
}

/* Whether stdout goes nowhere (>/dev/null), where printing is wasted. */
static int stdout_is_null(void)
{
    struct stat out, null;
    return fstat(1, &out) == 0 && stat("/dev/null", &null) == 0 && S_ISCHR(out.st_mode) &&
           out.st_rdev == null.st_rdev;
}

static int run(const struct job *job)
{
    struct state s = {0};
    struct ar_buf reports = {0};
    printed = job->print ? &reports : NULL;
    if (ar_kb_open(&s.kb, kb_dir, 0) != 0)
        ar_die_last();
    load(&s);
    if ((job->what & DO_SESSION) && sessions(&s, job->tag, 0) == 0)
        ar_die(AR_EINPUT, "session '%s': no cards", job->tag);
    char stamp[AR_INDEX_VERSION_LEN], again[AR_INDEX_VERSION_LEN];
    index_stamp(&s.kb, stamp);

    char dir[PATH_MAX], lockpath[PATH_MAX];
    if (ar_mkdir(ar_kb_path(&s.kb, "synthesis", dir)) != 0)
        ar_die_last();
    int lock = ar_lock(ar_kb_path(&s.kb, "synthesis.lock", lockpath), ar_lock_timeout_default(), 1);
    if (lock < 0)
        ar_die_last();
    /* another writer may have added cards while we waited: never write older facts over newer */
    index_stamp(&s.kb, again);
    if (strcmp(stamp, again) != 0) {
        ar_kbstats_free(s.st);
        load(&s);
    }
    ar_clean_temps(dir);

    if (job->what & (DO_FINDINGS | DO_META))
        s.f = ar_findings_build(s.st);
    if (job->what & (DO_COVERAGE | DO_META)) {
        trainer_keys(&s);
        s.cov = ar_coverage_build(s.st, s.keys);
    }
    if (job->what & DO_FINDINGS)
        put_json(&s.kb, "synthesis/findings.json", ar_findings_json(s.f, s.st));
    if (job->what & DO_COVERAGE)
        put_json(&s.kb, "synthesis/coverage.json", ar_coverage_json(s.cov));
    if (job->what & DO_META) {
        put_json(&s.kb, "synthesis/meta.json", ar_synth_meta_json(s.st, s.f, s.cov));
        char *md = ar_synth_meta_md(s.st, s.f, s.cov);
        put(&s.kb, "synthesis/meta.md", md, strlen(md));
        if (printed)
            ar_buf_puts(printed, md);
        free(md);
    }
    if (job->what & DO_SESSION)
        sessions(&s, job->tag, 1);
    if (job->what & DO_SESSIONS)
        sessions(&s, NULL, 1);
    ar_unlock(lock);

    if (printed && reports.len)
        fwrite(reports.data, 1, reports.len, stdout);
    ar_buf_free(&reports);
    printed = NULL;
    if (job->table)
        ar_coverage_print(s.cov, stdout);
    if (job->json) {
        jv j = ar_coverage_json(s.cov);
        char *text = ar_json_dump(j, AR_JSON_COMPACT);
        printf("%s\n", text);
        free(text);
        jv_free(j);
    }
    ar_coverage_free(s.cov);
    ar_findings_free(s.f);
    ar_kbstats_free(s.st);
    if (s.keys) {
        for (int i = 0; s.keys[i]; i++)
            free((char *)s.keys[i]);
        free(s.keys);
        jv_free(s.keyobj);
    }
    return AR_OK;
}

/* ------------------------------------------------------------ commands */

static const char usage_session[] =
    "usage: ar-synth session TAG [--kb DIR] [--print]\n"
    "\n"
    "Writes synthesis/session-TAG.md from that session's cards only: platform,\n"
    "counts, baseline and best, confirmed findings, dead ends, crashes, open\n"
    "questions, and prints it unless stdout is /dev/null (--print: always).\n"
    "An unknown session is an error (exit 2) and writes nothing.\n";

static int print_opt;   /* --print of meta and session */

#define OPT_PRINT AR_OPT_BOOL("print", &print_opt, "print the report even when stdout is /dev/null")

static int cmd_session(int argc, char **argv)
{
    struct ar_opt opts[] = {OPT_KB, OPT_PRINT, AR_OPT_END};
    ar_opt_parse_n(opts, argc, argv, usage_session, "session", 1, 1);
    if (!argv[0][0])
        ar_die(AR_EINPUT, "session: empty tag");
    struct job job = {DO_SESSION, argv[0], 0, 0, print_opt || !stdout_is_null()};
    return run(&job);
}

static const char usage_meta[] =
    "usage: ar-synth meta [--kb DIR] [--print]\n"
    "\n"
    "Writes synthesis/meta.md and synthesis/meta.json, the rolling synthesis\n"
    "of all sessions: key findings, platform-specific findings, noise floor,\n"
    "best per comparability key, coverage map, open questions, certainty\n"
    "landscape; prints meta.md unless stdout is /dev/null (--print: always).\n";

static const char usage_findings[] =
    "usage: ar-synth findings [--kb DIR]\n"
    "\n"
    "Writes synthesis/findings.json: every claim with its per-platform-class\n"
    "tallies, effect, certainty, scope and links. The rule is in ar-synth(1).\n";

static const char usage_all[] =
    "usage: ar-synth all [--kb DIR]\n"
    "\n"
    "Runs findings, coverage, meta and session for every session. Prints\n"
    "nothing on success.\n";

static int simple(int argc, char **argv, const char *usage, int what)
{
    struct ar_opt opts[] = {OPT_KB, AR_OPT_END};
    ar_opt_parse_none(opts, argc, argv, usage, argv[0]);
    struct job job = {what, NULL, 0, 0, 0};
    return run(&job);
}

static int cmd_meta(int argc, char **argv)
{
    struct ar_opt opts[] = {OPT_KB, OPT_PRINT, AR_OPT_END};
    ar_opt_parse_none(opts, argc, argv, usage_meta, argv[0]);
    struct job job = {DO_META, NULL, 0, 0, print_opt || !stdout_is_null()};
    return run(&job);
}

static int cmd_findings(int argc, char **argv)
{
    return simple(argc, argv, usage_findings, DO_FINDINGS);
}

static int cmd_all(int argc, char **argv)
{
    return simple(argc, argv, usage_all, DO_FINDINGS | DO_COVERAGE | DO_META | DO_SESSIONS);
}

static const char usage_coverage[] =
    "usage: ar-synth coverage [--kb DIR] [--quiet | --json]\n"
    "\n"
    "Writes synthesis/coverage.json and prints a table: per category and per\n"
    "config key, experiments, kept, crashes, values tried, best delta, and\n"
    "whether it is under-explored (fewer than 3 experiments), saturated (10\n"
    "or more, and the last 5 neither kept nor a new best delta) or active.\n";

static int cmd_coverage(int argc, char **argv)
{
    int quiet = 0, json = 0;
    struct ar_opt opts[] = {
        AR_OPT_BOOL("quiet", &quiet, "print nothing"),
        AR_OPT_BOOL("json", &json, "print coverage.json (one line) instead of the table"),
        OPT_KB,
        AR_OPT_END,
    };
    ar_opt_parse_none(opts, argc, argv, usage_coverage, "coverage");
    if (quiet && json)
        ar_die(AR_EINPUT, "coverage: --quiet and --json exclude each other");
    struct job job = {DO_COVERAGE, NULL, !quiet && !json, json, 0};
    return run(&job);
}

static const struct ar_cmd commands[] = {
    {"session", cmd_session, "write synthesis/session-TAG.md for one session"},
    {"meta", cmd_meta, "write synthesis/meta.md and meta.json over all sessions"},
    {"coverage", cmd_coverage, "write synthesis/coverage.json and print the coverage table"},
    {"findings", cmd_findings, "write synthesis/findings.json (claims and certainty)"},
    {"all", cmd_all, "all of the above, and a report for every session"},
    {NULL, NULL, NULL},
};

static const char overview[] =
    "usage: ar-synth COMMAND [--kb DIR]\n"
    "\n"
    "Turns experiment cards into knowledge under synthesis/: findings with\n"
    "certainty, coverage, and syntheses for people and agents. Quiet on\n"
    "success, safe to run from cron: one writer at a time, atomic writes, and\n"
    "the same facts always give the same bytes.\n";

int main(int argc, char **argv)
{
    ar_set_prog(argv[0]);
    return ar_cli_dispatch(commands, argc, argv, overview);
}

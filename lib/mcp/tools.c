/* The tools: each a row of ar_mcp_tools (name, schemas, whether it writes)
 * and a run function that calls the lib/ functions the CLI tool of the same
 * job calls (named beside each). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analysis/brief.h"
#include "analysis/brief_load.h"
#include "analysis/findings.h"
#include "analysis/plan_pass.h"
#include "analysis/record.h"
#include "analysis/stats.h"
#include "analysis/suggest.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "facts/card.h"
#include "facts/id.h"
#include "facts/note.h"
#include "facts/schema.h"
#include "host/platform.h"
#include "index/card_batch.h"
#include "index/query.h"
#include "index/store.h"
#include "mcp/mcp_int.h"
#include "queue/grid.h"
#include "queue/queue.h"
#include "sync/sync.h"

/* ------------------------------------------------------------ helpers */

static int check_card_id(const char *id, const char *field)
{
    jv v = jv_string(id);
    int rc = ar_check_id(v, field);
    jv_free(v);
    return rc;
}

static long arg_int(jv args, const char *name, long def)
{
    return (long)ar_jv_num(args, name, (double)def);
}

static int arg_bool(jv args, const char *name)
{
    jv v = ar_jv_get(args, name);
    int t = jv_get_kind(v) == JV_KIND_TRUE;
    jv_free(v);
    return t;
}

/* An entry's id and its state after an operation on it. */
static int entry_out(struct ar_mcp *s, const char *id, struct ar_tool_out *out)
{
    jv entry;
    if (ar_queue_get(ar_mcp_queue(s), id, &entry) != 0)
        return -1;
    out->structured = jv_object();
    ar_jv_set(&out->structured, "id", jv_string(id));
    ar_jv_set(&out->structured, "entry", entry);
    return 0;
}

/* ------------------------------------------------------------ brief (ar-brief) */

static int run_brief(struct ar_mcp *s, jv args, struct ar_tool_out *out)
{
    return ar_mcp_brief(s, args, &out->text, &out->structured);
}

/* ------------------------------------------------------------ findings (ar-synth findings) */

static int run_findings(struct ar_mcp *s, jv args, struct ar_tool_out *out)
{
    jv all;
    const char *cls = ar_jv_str(args, "class");
    char norm[80];   /* H100 is class h100 */
    if (cls && ar_platform_class_arg(cls, "class", norm, sizeof norm) != 0)
        return -1;
    if (ar_mcp_findings(s, ar_jv_str(args, "key"), cls ? norm : NULL,
                        ar_jv_num(args, "min_certainty", -1), &all) != 0)
        return -1;
    long max = arg_int(args, "max_claims", 50);
    jv claims = ar_jv_get(all, "claims");
    int n = jv_array_length(jv_copy(claims));
    ar_jv_set(&all, "total", jv_number(n));
    ar_jv_set(&all, "truncated", jv_bool(n > max));
    if (n > max)
        ar_jv_set(&all, "claims", jv_array_slice(claims, 0, (int)max));
    else
        jv_free(claims);
    out->structured = all;
    return 0;
}

/* ------------------------------------------------------------ cards (ar-card) */

/* A stream that takes up to max bytes; a write past that fails, which stops
 * ar_query_jq. Only whole lines (results) are read back from it. */
struct bounded {
    struct ar_buf b;
    size_t max;
    int full;
};

static ssize_t bounded_write(void *cookie, const char *data, size_t n)
{
    struct bounded *bd = cookie;
    if (bd->b.len + n > bd->max) {
        bd->full = 1;
        return -1;
    }
    ar_buf_add(&bd->b, data, n);
    return (ssize_t)n;
}

/* What the query's process reports back. */
struct query_report {
    int rc, code, full;
    size_t len;
    char msg[1024];
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* Runs the jq program in a process of its own, so that a program that
 * runs too long is stopped (timeout_s) and one that crashes libjq kills
 * only that process, and with no environment: jq's env and $ENV would hand
 * the server's (tokens, keys) to the agent. Output: at most max bytes in
 * *b, *full when the bound stopped it. */
static int query_isolated(const struct ar_kb *kb, const char *program, size_t max, double timeout_s,
                          struct ar_buf *b, int *full)
{
    struct query_report *rep = mmap(NULL, sizeof *rep, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (rep == MAP_FAILED)
        return ar_fail(AR_EFAIL, "query: %s", strerror(errno));
    memset(rep, 0, sizeof *rep);
    FILE *tmp = tmpfile();
    pid_t pid = tmp ? fork() : -1;
    if (pid < 0) {
        if (tmp)
            fclose(tmp);
        munmap(rep, sizeof *rep);
        return ar_fail(AR_EFAIL, "query: cannot start its process: %s", strerror(errno));
    }
    if (pid == 0) {
        static char *no_env[] = {NULL};
        setpgid(0, 0);
        environ = no_env;
        struct bounded bd = {{0}, max, 0};
        cookie_io_functions_t io = {.write = bounded_write};
        FILE *f = fopencookie(&bd, "w", io);
        if (!f)
            _exit(1);
        setvbuf(f, NULL, _IONBF, 0);
        rep->rc = ar_query_jq(kb, program, f);
        fclose(f);
        rep->code = ar_last_code();
        snprintf(rep->msg, sizeof rep->msg, "%s", rep->rc ? ar_last_error() : "");
        rep->full = bd.full;
        rep->len = bd.b.len;
        if (bd.b.len && fwrite(bd.b.data, 1, bd.b.len, tmp) != bd.b.len)
            _exit(1);
        _exit(fflush(tmp) == 0 ? 0 : 1);
    }
    setpgid(pid, pid);   /* either of the two calls wins the race */
    int status = 0, rc = 0;
    double start = now_s();
    long nap_us = 500;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR))
            break;
        if (now_s() - start > timeout_s) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            rc = ar_fail(AR_EINPUT, "query: stopped after %g s (timeout_s)", timeout_s);
            break;
        }
        usleep((useconds_t)nap_us);
        nap_us = nap_us < 20000 ? nap_us * 2 : 20000;
    }
    if (rc == 0 && WIFSIGNALED(status))
        rc = ar_fail(AR_EFAIL, "query: the jq program crashed its process (signal %d)", WTERMSIG(status));
    else if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
        rc = ar_fail(AR_EFAIL, "query: its process failed");
    else if (rc == 0 && rep->rc != 0)
        rc = ar_fail(rep->code, "%s", rep->msg);
    if (rc == 0) {
        char *data = ar_xmalloc(rep->len + 1);
        if (pread(fileno(tmp), data, rep->len, 0) != (ssize_t)rep->len)
            rc = ar_fail(AR_EFAIL, "query: cannot read its output back");
        else
            ar_buf_add(b, data, rep->len);
        free(data);
        *full = rep->full;
    }
    fclose(tmp);
    munmap(rep, sizeof *rep);
    return rc;
}

static int run_cards_query(struct ar_mcp *s, jv args, struct ar_tool_out *out)
{
    struct ar_buf b = {0};
    int full = 0;
    if (query_isolated(&s->kb, ar_jv_str(args, "filter"), (size_t)arg_int(args, "max_bytes", 65536),
                       ar_jv_num(args, "timeout_s", 10), &b, &full) != 0) {
        ar_buf_free(&b);
        return -1;
    }
    jv results = jv_array();
    const char *p = b.data, *end = b.data + b.len;
    size_t whole = 0;   /* a result cut by the bound is left out */
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        whole = (size_t)(nl + 1 - b.data);
        jv r;
        if (ar_json_parse(p, (size_t)(nl - p), "query result", &r) == 0)
            results = jv_array_append(results, r);
        p = nl + 1;
    }
    out->structured = jv_object();
    ar_jv_set(&out->structured, "count", jv_number(jv_array_length(jv_copy(results))));
    ar_jv_set(&out->structured, "results", results);
    ar_jv_set(&out->structured, "truncated", jv_bool(full));
    ar_jv_set(&out->structured, "bytes", jv_number((double)whole));
    ar_buf_free(&b);
    return 0;
}

static int run_card_show(struct ar_mcp *s, jv args, struct ar_tool_out *out)
{
    return ar_mcp_card_view(s, ar_jv_str(args, "id"), &out->structured);
}

static int run_card_write(struct ar_mcp *s, jv args, struct ar_tool_out *out)
{
    jv card = ar_jv_get(args, "card");
    /* every check before touching the disk, as ar-card write */
    if (ar_card_check(&card, NULL) != 0) {
        jv_free(card);
        return -1;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        jv_free(card);
        return ar_fail(AR_EFAIL, "write: cannot open an output stream");
    }
    int rc = ar_store_cards(&s->kb, jv_array_append(jv_array(), card), ar_jv_str(args, "lesson"), 1, f);
    fclose(f);
    jv stored = jv_invalid();
    if (rc == 0 && ar_json_parse(text, len, "stored card", &stored) != 0)
        rc = -1;
    free(text);
    if (rc != 0)
        return -1;
    out->structured = jv_object();
    ar_jv_set(&out->structured, "id", jv_string(ar_jv_str(stored, "id")));
    ar_jv_set(&out->structured, "card", stored);
    return 0;
}

/* ar-card record: one finished run's log (its text, or a path) -> a card */
static int run_card_record(struct ar_mcp *s, jv args, struct ar_tool_out *out)
{
    struct ar_record_opts o = {0};
    o.log_text = ar_jv_str(args, "log_text");
    o.log_len = o.log_text ? strlen(o.log_text) : 0;
    o.log = ar_jv_str(args, "log");
    if (!o.log_text && !o.log)
        return ar_fail(AR_EINPUT, "record: give log (a path) or log_text");
    if (!o.log_text && !strcmp(o.log, "-"))   /* stdin is the protocol's */
        return ar_fail(AR_EINPUT, "record: log '-' (stdin) is not available here; give log_text");
    char cls[80];
    o.platform = ar_jv_str(args, "platform");
    if (o.platform && ar_platform_class_arg(o.platform, "platform", cls, sizeof cls) != 0)
        return -1;
    if (o.platform)
        o.platform = cls;
    o.repo = ar_jv_str(args, "repo");
    o.session = ar_jv_str(args, "session");
    o.agent = ar_jv_str(args, "agent");
    o.data = ar_jv_str(args, "data");
    o.budget_s = ar_jv_num(args, "budget_s", 0);
    o.hypothesis = ar_jv_str(args, "hypothesis");
    o.tsv = ar_jv_str(args, "tsv");
    jv card;
    int rc = ar_record_log(&s->kb, &o, &card);
    if (rc < 0)
        return -1;
    out->structured = jv_object();
    ar_jv_set(&out->structured, "id", jv_string(ar_jv_str(card, "id")));
    ar_jv_set(&out->structured, "recorded", jv_bool(rc == 0));   /* false: ar-train had recorded it */
    ar_jv_set(&out->structured, "card", card);
    return 0;
}

static int note_out(struct ar_mcp *s, const char *card, const char *kind, const char *text, const char *status,
                    struct ar_tool_out *out)
{
    char id[AR_ID_LEN + 1];
    if (ar_store_note(&s->kb, card, kind, text, status, id) != 0)   /* checks the id's form first */
        return -1;
    out->structured = jv_object();
    ar_jv_set(&out->structured, "note", jv_string(id));
    ar_jv_set(&out->structured, "card", jv_string(card));
    ar_jv_set(&out->structured, "kind", jv_string(kind));
    return 0;
}

static int run_card_note(struct ar_mcp *s, jv args, struct ar_tool_out *out)
{
    const char *status = ar_jv_str(args, "status"), *kind, *text;
    int rc = ar_note_kind_of(ar_jv_str(args, "lesson"), status, ar_jv_str(args, "comment"), &kind, &text);
    if (rc == 1)
        return ar_fail(AR_EINPUT, "note: give one of lesson, status, comment");
    if (rc != 0)
        return -1;
    return note_out(s, ar_jv_str(args, "id"), kind, text, status, out);
}

static int run_card_retract(struct ar_mcp *s, jv args, struct ar_tool_out *out)
{
    return note_out(s, ar_jv_str(args, "id"), "retract", ar_jv_str(args, "reason"), NULL, out);
}

/* ------------------------------------------------------------ queue (ar-queue) */

static int run_queue_status(struct ar_mcp *s, jv args, struct ar_tool_out *out)
{
    return ar_queue_status(ar_mcp_queue(s), arg_bool(args, "all"), &out->structured);
}

/* ar-queue add: an entry from hypothesis, category and KEY=VALUE overrides,
 * or a replication of a card */
static int run_queue_add(struct ar_mcp *s, jv args, struct ar_tool_out *out)
{
    const char *hyp = ar_jv_str(args, "hypothesis"), *cat = ar_jv_str(args, "category");
    const char *replicate = ar_jv_str(args, "replicate");
    jv sets = ar_jv_get(args, "set");
    int nsets = jv_is_valid(sets) ? jv_array_length(jv_copy(sets)) : 0;
    if (!replicate && !(hyp && cat)) {
        jv_free(sets);
        return ar_fail(AR_EINPUT, "add: hypothesis and category are required");
    }
    if (replicate && nsets) {
        jv_free(sets);
        return ar_fail(AR_EINPUT, "add: set does not go with replicate (a replication runs the card's config)");
    }
    struct ar_queue *q = ar_mcp_queue(s);
    jv fields;
    if (replicate) {
        jv_free(sets);
        jv entries;
        if (check_card_id(replicate, "replicate") != 0 || ar_queue_list(q, &entries) != 0)
            return -1;
        fields = ar_replicate_fields(&s->kb, entries, replicate, hyp, cat);
        jv_free(entries);
        if (!jv_is_valid(fields))
            return -1;
    } else {
        const char **v = ar_xmalloc(((size_t)nsets + 1) * sizeof *v);
        for (int i = 0; i < nsets; i++) {
            jv x = jv_array_get(jv_copy(sets), i);
            v[i] = jv_string_value(x);   /* sets holds it */
            jv_free(x);
        }
        jv ov;
        int rc = ar_set_overrides(v, nsets, &ov);
        free(v);
        jv_free(sets);
        if (rc != 0)
            return -1;
        fields = jv_object();
        ar_jv_set(&fields, "hypothesis", jv_string(hyp));
        ar_jv_set(&fields, "category", jv_string(cat));
        ar_jv_set(&fields, "overrides", ov);
    }
    ar_jv_set(&fields, "priority", jv_number((double)arg_int(args, "priority", AR_QUEUE_PRIORITY_DEFAULT)));
    jv ids;
    int rc = ar_queue_add(q, &fields, 1, arg_bool(args, "force"), &ids);
    jv_free(fields);
    if (rc != 0)
        return -1;
    jv id = jv_array_get(ids, 0);
    rc = entry_out(s, jv_string_value(id), out);
    jv_free(id);
    return rc;
}

static int run_queue_claim(struct ar_mcp *s, jv args, struct ar_tool_out *out)
{
    jv entry;
    int rc = ar_queue_claim(ar_mcp_queue(s), ar_jv_str(args, "worker"), &entry);
    if (rc < 0)
        return -1;
    out->structured = jv_object();
    ar_jv_set(&out->structured, "entry", rc == 1 ? jv_null() : entry);
    if (rc == 1)
        out->text = ar_xstrdup("no pending entry");
    return 0;
}

static int run_queue_heartbeat(struct ar_mcp *s, jv args, struct ar_tool_out *out)
{
    const char *id = ar_jv_str(args, "id");
    if (ar_queue_heartbeat(ar_mcp_queue(s), id, ar_jv_str(args, "worker")) != 0)
        return -1;
    return entry_out(s, id, out);
}

static int run_queue_done(struct ar_mcp *s, jv args, struct ar_tool_out *out)
{
    const char *id = ar_jv_str(args, "id"), *card = ar_jv_str(args, "card");
    char path[PATH_MAX];
    if (check_card_id(card, "card") != 0)
        return -1;
    if (access(ar_kb_card_path(&s->kb, card, path), F_OK) != 0)
        return ar_fail(AR_EINPUT, "card %s: not found", card);
    if (ar_queue_done(ar_mcp_queue(s), id, card) != 0)
        return -1;
    return entry_out(s, id, out);
}

static int run_queue_fail(struct ar_mcp *s, jv args, struct ar_tool_out *out)
{
    const char *id = ar_jv_str(args, "id");
    if (ar_queue_fail(ar_mcp_queue(s), id, ar_jv_str(args, "reason")) != 0)
        return -1;
    return entry_out(s, id, out);
}

/* ar-queue plan [--apply] --json: every suggestion, each new one (up to max)
 * with the fields it would be queued with; apply queues them. */
static int run_plan(struct ar_mcp *s, jv args, struct ar_tool_out *out)
{
    int apply = arg_bool(args, "apply");
    long max = arg_int(args, "max", 10);
    if (apply && s->read_only)
        return ar_fail(AR_EINPUT, "plan: apply writes to the queue (this server is read-only)");
    jv config, detected;
    if (ar_suggest_config(NULL, &config) != 0)
        return -1;
    const char *platform = ar_jv_str(args, "platform");
    int asked = platform != NULL;
    char cls[80];   /* H100 is class h100, as in ar-queue plan */
    if (!(platform = ar_plan_platform(platform, "platform", cls, sizeof cls, &detected))) {
        jv_free(config);
        jv_free(detected);
        return -1;
    }
    struct ar_queue *q = ar_mcp_queue(s);
    jv entries;
    struct ar_plan_pass pass;
    int rc = ar_queue_list(q, &entries);
    if (rc == 0) {
        struct ar_plan_queue pq = {ar_queue_duplicate_of, ar_queue_add_one, q};
        rc = ar_plan_pass_run(&s->kb, platform, asked, config, &entries, max, apply, &pq, &pass);
        jv_free(entries);
    }
    jv_free(config);
    jv_free(detected);
    if (rc != 0)
        return -1;
    jv shown_list = jv_copy(pass.items);
    int shown = pass.fresh, added = pass.added, already = pass.queued, skipped = pass.advice;
    ar_plan_pass_free(&pass);
    out->structured = jv_object();
    ar_jv_set(&out->structured, "suggestions", shown_list);
    ar_jv_set(&out->structured, "new", jv_number(shown));
    ar_jv_set(&out->structured, "added", jv_number(added));
    ar_jv_set(&out->structured, "already_queued", jv_number(already));
    ar_jv_set(&out->structured, "not_accepted", jv_number(skipped));
    ar_jv_set(&out->structured, "applied", jv_bool(apply));
    return 0;
}

/* ------------------------------------------------------------ sync (ar-sync) */

static int run_sync(struct ar_mcp *s, jv args, struct ar_tool_out *out)
{
    int local = arg_bool(args, "local");
    const char *remote = ar_jv_str(args, "remote");
    struct ar_sync_status st;
    if (ar_sync_status(&s->kb, remote, 0, &st) != 0)
        return -1;
    if (!st.url[0] && !local)
        return ar_fail(AR_EINPUT, "sync: the knowledge base has no remote (set one with ar-sync init --remote URL)");
    struct ar_sync_opts o = {.remote = remote, .retries = (int)arg_int(args, "retries", AR_SYNC_RETRIES),
                             .local_only = local};
    struct ar_sync_report r;
    int rc = ar_sync_run(&s->kb, &o, &r);
    ar_sync_rebuild_derived(&s->kb, &r);
    out->structured = ar_sync_report_json(&r, rc == 0);
    jv_free(r.quarantined);
    if (rc != 0) {
        jv_free(out->structured);
        out->structured = jv_invalid();
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ the table */

#define S_ID "{\"type\":\"string\",\"maxLength\":64,\"description\":\"a card id\"}"
#define S_ENTRY "{\"type\":\"string\",\"maxLength\":64,\"description\":\"a queue entry id\"}"
#define S_TEXT(what) "{\"type\":\"string\",\"minLength\":1,\"maxLength\":4000,\"description\":\"" what "\"}"
#define OUT_OBJECT "{\"type\":\"object\"}"
#define OUT_ENTRY "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"},\"entry\":{\"type\":\"object\"}},\"required\":[\"id\",\"entry\"]}"
#define OUT_NOTE "{\"type\":\"object\",\"properties\":{\"note\":{\"type\":\"string\"},\"card\":{\"type\":\"string\"},\"kind\":{\"type\":\"string\"}},\"required\":[\"note\",\"card\",\"kind\"]}"
#define FILTER_PROPS \
    "\"session\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"only this session's cards\"}," \
    "\"platform\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"only this platform class\"}," \
    "\"since\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"only cards created at or after this time (2026-11-23[T10:00])\"}"

const struct ar_mcp_tool ar_mcp_tools[] = {
    {"brief", "Brief",
     "What is known before planning the next experiment (as ar-brief): best so far per comparability "
     "key, noise floor, warnings, findings, contradictions, dead ends, recent runs, the queue, "
     "under-explored areas and open questions. The text and the JSON each fit in max_bytes.",
     "{\"type\":\"object\",\"properties\":{"
     "\"max_bytes\":{\"type\":\"integer\",\"minimum\":256,\"maximum\":16777216,\"description\":\"size of the brief (default 4096)\"},"
     "\"recent\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":50,\"description\":\"recent experiments listed (default 5)\"},"
     FILTER_PROPS "},\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"schema\":{\"type\":\"string\"},\"summary\":{\"type\":\"object\"}},\"required\":[\"schema\"]}",
     0, run_brief},
    {"findings", "Findings",
     "Claims about config changes with evidence, certainty and scope (synthesis/findings.json, as "
     "ar-synth findings computes it), filtered by config key, platform class and least certainty.",
     "{\"type\":\"object\",\"properties\":{"
     "\"key\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"only claims about this config key\"},"
     "\"class\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"only claims with evidence on this platform class (certainty is then that class's)\"},"
     "\"min_certainty\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"only claims at least this certain\"},"
     "\"max_claims\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10000,\"description\":\"at most this many claims (default 50)\"}"
     "},\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"schema\":{\"type\":\"string\"},\"claims\":{\"type\":\"array\"},\"total\":{\"type\":\"integer\"},\"truncated\":{\"type\":\"boolean\"}},\"required\":[\"schema\",\"claims\",\"total\",\"truncated\"]}",
     0, run_findings},
    {"cards_query", "Query cards",
     "Runs a jq filter over every card view (as ar-card query) and returns the outputs, stopping "
     "before max_bytes of output or after timeout_s seconds; the program sees no environment and loads no modules. Example: select(.status==\"keep\") | {id, val_bpb: .metrics.val_bpb}",
     "{\"type\":\"object\",\"properties\":{"
     "\"filter\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":65536,\"description\":\"a jq program run on each card view\"},"
     "\"max_bytes\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1048576,\"description\":\"most bytes of output, as compact JSON lines (default 65536)\"},"
     "\"timeout_s\":{\"type\":\"number\",\"minimum\":0.1,\"maximum\":600,\"description\":\"stop the program after this many seconds (default 10)\"}"
     "},\"required\":[\"filter\"],\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"results\":{\"type\":\"array\"},\"count\":{\"type\":\"integer\"},\"truncated\":{\"type\":\"boolean\"},\"bytes\":{\"type\":\"integer\"}},\"required\":[\"results\",\"count\",\"truncated\"]}",
     0, run_cards_query},
    {"card_show", "Show a card",
     "A card's view (as ar-card show --json): the card, its notes in id order, the status as it "
     "counts after status notes, and whether it was retracted.",
     "{\"type\":\"object\",\"properties\":{\"id\":" S_ID "},\"required\":[\"id\"],\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"}},\"required\":[\"id\"]}",
     0, run_card_show},
    {"card_record", "Record a run",
     "Records the card of a finished run from its log, as ar-card record: the summary block (train.py's "
     "or ar-train's), commit, parent and subject from git, changes from the commit's diff of the trainer, "
     "the platform, and the status by the 2-sigma keep rule. Give the log's text (log_text) or its path (log).",
     "{\"type\":\"object\",\"properties\":{"
     "\"log_text\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1000000,\"description\":\"the run's log\"},"
     "\"log\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":4096,\"description\":\"the path of the run's log (run.log)\"},"
     "\"repo\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"the trainer's git repository (default: around the server's directory)\"},"
     "\"platform\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"platform class (h100, apple-m2-pro; default: detected)\"},"
     "\"session\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"session ($AR_SESSION, else TAG of branch autoresearch/TAG)\"},"
     "\"agent\":{\"type\":\"string\",\"maxLength\":128,\"description\":\"who ran it (default $AR_AGENT or user@host)\"},"
     "\"data\":{\"type\":\"string\",\"maxLength\":128,\"description\":\"the data set (part of the comparability key)\"},"
     "\"budget_s\":{\"type\":\"number\",\"minimum\":1,\"maximum\":1000000,\"description\":\"training budget in seconds (default: the log's, else 300)\"},"
     "\"hypothesis\":" S_TEXT("what the run tested (default: the commit's subject)") ","
     "\"tsv\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"also append the run's row to this results.tsv\"}"
     "},\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"},\"recorded\":{\"type\":\"boolean\"},\"card\":{\"type\":\"object\"}},\"required\":[\"id\",\"recorded\",\"card\"]}",
     1, run_card_record},
    {"card_write", "Write a card",
     "Validates a card, fills id, created, agent, schema, platform and commit as ar-card write does, "
     "stores it and indexes it; with lesson, also a lesson note on it.",
     "{\"type\":\"object\",\"properties\":{"
     "\"card\":{\"type\":\"object\",\"description\":\"the card: hypothesis, category, status, metrics {val_bpb}, changes [{key, from, to}], ... (see ar-card(1))\"},"
     "\"lesson\":" S_TEXT("also record this lesson on the new card")
     "},\"required\":[\"card\"],\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"},\"card\":{\"type\":\"object\"}},\"required\":[\"id\",\"card\"]}",
     1, run_card_write},
    {"card_note", "Annotate a card",
     "Appends a note to a card (as ar-card note): a lesson, a status override (comment is then its "
     "reason) or a comment. Give exactly one of lesson, status, comment (or status with comment).",
     "{\"type\":\"object\",\"properties\":{\"id\":" S_ID ","
     "\"lesson\":" S_TEXT("the lesson learned") ","
     "\"status\":{\"type\":\"string\",\"description\":\"override the card's status: keep, discard, crash, inconclusive, baseline, revert\"},"
     "\"comment\":" S_TEXT("a comment (with status: the reason)")
     "},\"required\":[\"id\"],\"additionalProperties\":false}",
     OUT_NOTE, 1, run_card_note},
    {"card_retract", "Retract a card",
     "Retracts a card (as ar-card retract): it leaves all statistics but stays visible.",
     "{\"type\":\"object\",\"properties\":{\"id\":" S_ID ",\"reason\":" S_TEXT("why the card is retracted")
     "},\"required\":[\"id\",\"reason\"],\"additionalProperties\":false}",
     OUT_NOTE, 1, run_card_retract},
    {"queue_status", "Queue status",
     "The count of queue entries in each status and the pending and claimed entries (all of them "
     "with all), as ar-queue status --json.",
     "{\"type\":\"object\",\"properties\":{\"all\":{\"type\":\"boolean\",\"description\":\"list entries in every status\"}},\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"counts\":{\"type\":\"object\"},\"entries\":{\"type\":\"array\"}},\"required\":[\"counts\",\"entries\"]}",
     0, run_queue_status},
    {"queue_add", "Add to the queue",
     "Adds a queue entry (as ar-queue add): hypothesis and category with config overrides, or a "
     "replication of a card (replicate) with a new seed. A duplicate of a live entry is refused "
     "unless force.",
     "{\"type\":\"object\",\"properties\":{"
     "\"hypothesis\":" S_TEXT("what the experiment tests") ","
     "\"category\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"architecture, optimizer, hyperparameter, schedule, ...\"},"
     "\"priority\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":9,\"description\":\"1 runs first, 9 last (default 5)\"},"
     "\"set\":{\"type\":\"array\",\"maxItems\":64,\"items\":{\"type\":\"string\",\"maxLength\":256},\"description\":\"config overrides as KEY=VALUE (see ar-train --keys)\"},"
     "\"replicate\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"re-run this card's config with a new seed\"},"
     "\"force\":{\"type\":\"boolean\",\"description\":\"add even when it duplicates an entry\"}"
     "},\"additionalProperties\":false}",
     OUT_ENTRY, 1, run_queue_add},
    {"queue_claim", "Claim from the queue",
     "Takes the best pending entry (lowest priority number, then oldest) for worker, as ar-queue "
     "claim; entry is null when nothing is pending.",
     "{\"type\":\"object\",\"properties\":{\"worker\":{\"type\":\"string\",\"maxLength\":128,\"description\":\"who claims (default $AR_AGENT or user@host)\"}},\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"entry\":{\"type\":[\"object\",\"null\"]}},\"required\":[\"entry\"]}",
     1, run_queue_claim},
    {"queue_heartbeat", "Heartbeat a claim",
     "Tells the queue that a claim's owner is alive (as ar-queue heartbeat).",
     "{\"type\":\"object\",\"properties\":{\"id\":" S_ENTRY ",\"worker\":{\"type\":\"string\",\"maxLength\":128,\"description\":\"fail unless this worker holds the claim\"}},\"required\":[\"id\"],\"additionalProperties\":false}",
     OUT_ENTRY, 1, run_queue_heartbeat},
    {"queue_done", "Finish a queue entry",
     "Marks a pending or claimed entry done with the card of its run (as ar-queue done).",
     "{\"type\":\"object\",\"properties\":{\"id\":" S_ENTRY ",\"card\":" S_ID "},\"required\":[\"id\",\"card\"],\"additionalProperties\":false}",
     OUT_ENTRY, 1, run_queue_done},
    {"queue_fail", "Fail a queue entry",
     "Marks a pending or claimed entry failed, with a reason (as ar-queue fail).",
     "{\"type\":\"object\",\"properties\":{\"id\":" S_ENTRY ",\"reason\":" S_TEXT("why it failed") "},\"required\":[\"id\",\"reason\"],\"additionalProperties\":false}",
     OUT_ENTRY, 1, run_queue_fail},
    {"plan", "Plan experiments",
     "Suggests experiments from the findings, coverage and noise floors (as ar-queue plan --json), "
     "each with its reason and cards; apply adds the new ones to the queue.",
     "{\"type\":\"object\",\"properties\":{"
     "\"apply\":{\"type\":\"boolean\",\"description\":\"add the new suggestions to the queue\"},"
     "\"max\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":1000,\"description\":\"at most this many new suggestions (default 10; 0: all)\"},"
     "\"platform\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"this platform class (default: detected)\"}"
     "},\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"suggestions\":{\"type\":\"array\"},\"added\":{\"type\":\"integer\"}},\"required\":[\"suggestions\",\"added\"]}",
     0, run_plan},
    {"sync", "Sync with peers",
     "Exchanges facts with peers through the knowledge base's git remote (as ar-sync run --json): "
     "commits new facts, fetches, merges, pushes and rebuilds the derived files. An error when the "
     "knowledge base has no remote (unless local).",
     "{\"type\":\"object\",\"properties\":{"
     "\"local\":{\"type\":\"boolean\",\"description\":\"only commit new facts and rebuild; no fetch or push\"},"
     "\"remote\":{\"type\":\"string\",\"maxLength\":128,\"description\":\"remote to sync with (default origin)\"},"
     "\"retries\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"description\":\"push attempts before giving up (default 8)\"}"
     "},\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"ok\":{\"type\":\"boolean\"},\"remote\":{\"type\":\"boolean\"},\"pushed\":{\"type\":\"boolean\"}},\"required\":[\"ok\"]}",
     1, run_sync},
    {NULL, NULL, NULL, NULL, NULL, 0, NULL},
};

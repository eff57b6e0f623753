/* The server's state and what tools and resources both show: the brief,
 * the findings, a card's view, the meta-synthesis (mcp_int.h). */
#include <stdlib.h>
#include <string.h>

#include "analysis/brief.h"
#include "analysis/brief_load.h"
#include "analysis/coverage.h"
#include "analysis/findings.h"
#include "analysis/stats.h"
#include "analysis/synth.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "host/platform.h"
#include "index/query.h"
#include "mcp/mcp_int.h"
#include "mcp/server.h"

struct ar_mcp *ar_mcp_new(const struct ar_kb *kb, int read_only)
{
    struct ar_mcp *s = ar_xmalloc(sizeof *s);
    memset(s, 0, sizeof *s);
    s->kb = *kb;
    s->read_only = read_only;
    return s;
}

void ar_mcp_free(struct ar_mcp *s)
{
    if (!s)
        return;
    if (s->queue)
        ar_queue_close(s->queue);
    free(s);
}

struct ar_queue *ar_mcp_queue(struct ar_mcp *s)
{
    if (!s->queue)
        s->queue = ar_queue_open(&s->kb, -1, 0);
    return s->queue;
}

static long arg_int(jv args, const char *name, long def)
{
    return (long)ar_jv_num(args, name, (double)def);
}

static struct ar_filter filter_of(jv args)
{
    struct ar_filter f = {0};
    f.session = ar_jv_str(args, "session");
    f.platform = ar_jv_str(args, "platform");
    f.since = ar_jv_str(args, "since");
    return f;
}

/* ------------------------------------------------------------ brief (ar-brief) */

int ar_mcp_brief(struct ar_mcp *s, jv args, char **text, jv *json)
{
    struct ar_filter f = filter_of(args);
    char cls[80];   /* H100 is class h100, as in ar-brief --platform */
    if (f.platform && ar_platform_class_arg(f.platform, "platform", cls, sizeof cls) != 0)
        return -1;
    if (f.platform)
        f.platform = cls;
    long max = arg_int(args, "max_bytes", AR_BRIEF_MAX_BYTES);
    int cache = AR_BRIEF_CACHE_READ | (s->read_only ? 0 : AR_BRIEF_CACHE_WRITE);
    struct ar_brief *b;
    jv queue;
    if (ar_brief_load(&s->kb, &f, (int)arg_int(args, "recent", AR_BRIEF_RECENT), cache, &b) != 0)
        return -1;
    if (ar_queue_entries(&s->kb, &queue) != 0) {
        ar_brief_free(b);
        return -1;
    }
    ar_brief_set_queue(b, queue);
    jv_free(queue);
    if (text)
        *text = ar_brief_text(b, (size_t)max);
    if (json)
        *json = ar_brief_json(b, (size_t)max);
    ar_brief_free(b);
    return 0;
}

static int has_string(jv arr, const char *s)
{
    int found = 0;
    jv_array_foreach(arr, i, x) {
        (void)i;
        found |= jv_get_kind(x) == JV_KIND_STRING && strcmp(jv_string_value(x), s) == 0;
        jv_free(x);
    }
    return found;
}

int ar_mcp_findings(struct ar_mcp *s, const char *key, const char *cls, double min_certainty, jv *out)
{
    struct ar_kbstats *st;
    if (ar_kbstats_load(&s->kb, NULL, &st) != 0)
        return -1;
    struct ar_findings *f = ar_findings_build(st);
    jv all = ar_findings_json(f, st);
    ar_findings_free(f);
    ar_kbstats_free(st);
    jv claims = ar_jv_get(all, "claims"), kept = jv_array();
    jv_array_foreach(claims, i, c) {
        (void)i;
        int keep = 1;
        double certainty = ar_jv_num(c, "certainty", 0);
        if (key) {
            jv keys = ar_jv_get(c, "keys");
            keep &= has_string(keys, key);
            jv_free(keys);
        }
        if (cls) {
            jv classes = ar_jv_get(c, "classes");
            jv t = ar_jv_get(classes, cls);
            keep &= jv_is_valid(t);
            certainty = ar_jv_num(t, "certainty", 0);
            jv_free(t);
            jv_free(classes);
        }
        if (min_certainty >= 0)
            keep &= certainty >= min_certainty;
        kept = keep ? jv_array_append(kept, c) : (jv_free(c), kept);
    }
    jv_free(claims);
    ar_jv_set(&all, "claims", kept);
    *out = all;
    return 0;
}

int ar_mcp_card_view(struct ar_mcp *s, const char *id, jv *view)
{
    return ar_query_view(&s->kb, id, view);   /* checks the id's form before any path is made */
}

int ar_mcp_meta(struct ar_mcp *s, jv *out)
{
    struct ar_kbstats *st;
    if (ar_kbstats_load(&s->kb, NULL, &st) != 0)
        return -1;
    struct ar_findings *f = ar_findings_build(st);
    char **keys = ar_trainer_keys();
    struct ar_coverage *cov = ar_coverage_build(st, (const char *const *)keys);
    *out = ar_synth_meta_json(st, f, cov);
    ar_coverage_free(cov);
    ar_trainer_keys_free(keys);
    ar_findings_free(f);
    ar_kbstats_free(st);
    return 0;
}


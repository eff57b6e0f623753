/* The plan's suggestions sorted into new, queued and advice
 * (lib/analysis/plan_pass.h). */
#include "analysis/plan_pass.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/buf.h"
#include "base/json.h"
#include "analysis/suggest.h"
#include "facts/id.h"
#include "host/platform.h"

static void list(struct ar_plan_pass *p, jv s, enum ar_plan_kind kind)
{
    p->items = jv_array_append(p->items, s);
    p->kinds = ar_xrealloc(p->kinds, (size_t)(p->n + 1) * sizeof *p->kinds);
    p->kinds[p->n++] = kind;
}

int ar_plan_pass_run(const struct ar_kb *kb, const char *platform, int asked, jv config, jv *entries,
                     long max, int apply, const struct ar_plan_queue *q, struct ar_plan_pass *out)
{
    memset(out, 0, sizeof *out);
    out->items = jv_array();
    jv plan;
    if (ar_suggest_for(kb, platform, asked, config, *entries, &plan) != 0)
        return -1;
    int rc = 0;
    jv_array_foreach(plan, idx, s) {
        (void)idx;
        char skip[512] = "", dupid[AR_ID_LEN + 1];
        const char *dup = NULL;
        jv fields = jv_invalid();
        int room = max == 0 || out->fresh < max;
        const char *for_class = ar_jv_str(s, "platform");
        if (for_class && strcmp(for_class, platform) != 0)
            snprintf(skip, sizeof skip, "for platform class %s, not this machine's (%s)", for_class, platform);
        else if (room && rc == 0)
            fields = ar_suggestion_fields(kb, *entries, config, &s, skip, sizeof skip);
        if (jv_is_valid(fields) && (dup = q->duplicate_of(*entries, fields, dupid, sizeof dupid)))
            ar_jv_set(&s, "queued", jv_string(dup));
        if (skip[0])
            ar_jv_set(&s, "skipped", jv_string(skip));
        if (jv_is_valid(fields) && !dup) {
            out->fresh++;
            if (apply && rc == 0) {
                jv id;
                if ((rc = q->add(q->ctx, fields, &id, entries)) == 0) {
                    ar_jv_set(&s, "queued", id);
                    out->added++;
                }
            }
            list(out, s, AR_PLAN_NEW);
        } else if (dup) {
            out->queued++;
            list(out, s, AR_PLAN_QUEUED);
        } else if (skip[0] && room) {
            /* a suggestion that cannot be queued here as ar-train overrides
             * is still advice worth reading */
            out->advice++;
            list(out, s, AR_PLAN_ADVICE);
        } else if (skip[0]) {
            list(out, s, AR_PLAN_PASSED_OVER);
        } else {
            jv_free(s);
        }
        jv_free(fields);
    }
    jv_free(plan);
    if (rc != 0)
        ar_plan_pass_free(out);
    return rc;
}

void ar_plan_pass_free(struct ar_plan_pass *p)
{
    jv_free(p->items);
    free(p->kinds);
    memset(p, 0, sizeof *p);
    p->items = jv_invalid();
}

const char *ar_plan_platform(const char *given, const char *what, char *cls, size_t n, jv *detected)
{
    *detected = jv_invalid();
    if (given)
        return ar_platform_class_arg(given, what, cls, n) == 0 ? cls : NULL;
    *detected = ar_platform_detect(NULL);
    const char *c = ar_jv_str(*detected, "class");
    if (!c)
        ar_fail(AR_EFAIL, "platform: cannot tell this machine's class (use %s)", what);
    return c;
}

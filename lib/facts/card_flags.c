#include "facts/card_flags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/atomic.h"
#include "base/cli.h"
#include "base/err.h"
#include "base/json.h"

/* JSON text, or @FILE: the JSON in FILE */
static int parse_json_arg(const char *opt, const char *text, jv *out)
{
    if (text[0] == '@') {
        char *buf;
        size_t len;
        if (ar_read_file(text + 1, AR_CARD_TEXT_MAX, &buf, &len) != 0)
            return -1;
        int rc = ar_json_parse(buf, len, text + 1, out);
        free(buf);
        return rc;
    }
    char what[64];
    snprintf(what, sizeof what, "option '--%s'", opt);
    return ar_json_parse(text, strlen(text), what, out);
}

/* "key=value" into m, the value as JSON when it parses, else as a string */
static int set_assign(jv *m, const char *opt, const char *s)
{
    const char *eq = strchr(s, '=');
    if (!eq || eq == s)
        return ar_fail(AR_EINPUT, "option '--%s': '%s' is not KEY=VALUE", opt, s);
    const char *text = eq + 1;
    jv v;
    if (!*text || ar_json_parse(text, strlen(text), opt, &v) != 0)
        v = jv_string(text);
    *m = jv_object_set(*m, jv_string_sized(s, (int)(eq - s)), v);
    return 0;
}

int ar_card_set_flags(jv *card, const struct ar_card_flags *f)
{
    const struct { const char *field, *value; } strings[] = {
        {"hypothesis", f->hypothesis}, {"category", f->category}, {"status", f->status},
        {"commit", f->commit},         {"parent_commit", f->parent_commit},
        {"session", f->session},       {"agent", f->agent},       {"baseline", f->baseline},
        {"verifies", f->verifies},     {"created", f->created},
    };
    for (size_t i = 0; i < sizeof strings / sizeof *strings; i++)
        if (strings[i].value)
            ar_jv_set(card, strings[i].field, jv_string(strings[i].value));
    if (f->tags)
        ar_jv_set(card, "tags", ar_split_commas(f->tags));
    if (f->prior_cards)
        ar_jv_set(card, "prior_cards", ar_split_commas(f->prior_cards));
    const struct { const char *field; int has; double value; } numbers[] = {
        {"delta", f->has_delta, f->delta},
        {"seed", f->has_seed, f->seed},
        {"budget_s", f->has_budget_s, f->budget_s},
    };
    for (size_t i = 0; i < sizeof numbers / sizeof *numbers; i++)
        if (numbers[i].has)
            ar_jv_set(card, numbers[i].field, jv_number(numbers[i].value));
    const struct { const char *field, *value; } objects[] = {
        {"config", f->config}, {"changes", f->changes}, {"platform", f->platform},
        {"data", f->data},     {"extra", f->extra},
    };
    for (size_t i = 0; i < sizeof objects / sizeof *objects; i++) {
        jv v;
        if (!objects[i].value)
            continue;
        if (parse_json_arg(objects[i].field, objects[i].value, &v) != 0)
            return -1;
        ar_jv_set(card, objects[i].field, v);
    }
    if (!f->has_val_bpb && f->metrics.n == 0)
        return 0;
    jv m = ar_jv_get(*card, "metrics");
    if (jv_get_kind(m) != JV_KIND_OBJECT) {
        jv_free(m);
        m = jv_object();
    }
    if (f->has_val_bpb)
        m = jv_object_set(m, jv_string("val_bpb"), jv_number(f->val_bpb));
    int rc = 0;
    for (int i = 0; i < f->metrics.n && rc == 0; i++)
        rc = set_assign(&m, "metric", f->metrics.v[i]);
    if (rc) {
        jv_free(m);
        return -1;
    }
    ar_jv_set(card, "metrics", m);
    return 0;
}

#include "analysis/suggest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/coverage.h"
#include "analysis/findings.h"
#include "analysis/plan.h"
#include "analysis/stats.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "facts/card.h"
#include "facts/config_keys.h"
#include "index/index.h"

int ar_suggest_config(const char *file, jv *config)
{
    *config = ar_config_defaults();
    if (!file && access("trainer/config.yaml", R_OK) == 0)
        file = "trainer/config.yaml";
    if (file && ar_config_load_yaml(config, file) != 0) {
        jv_free(*config);
        *config = jv_invalid();
        return -1;
    }
    return 0;
}

int ar_suggest(const struct ar_kb *kb, const char *platform, jv config, jv entries, jv *plan)
{
    return ar_suggest_for(kb, platform, 1, config, entries, plan);
}

int ar_suggest_for(const struct ar_kb *kb, const char *platform, int asked, jv config, jv entries, jv *plan)
{
    struct ar_kbstats *st;
    if (ar_kbstats_load(kb, NULL, &st) != 0)
        return -1;
    struct ar_findings *f = ar_findings_build(st);
    int nkeys = jv_object_length(jv_copy(config)), k = 0;
    const char **keys = ar_xmalloc((size_t)(nkeys + 1) * sizeof *keys);
    jv names = jv_keys(jv_copy(config));
    jv_array_foreach(names, i, name) {
        (void)i;
        keys[k++] = jv_string_value(name);   /* names keeps them alive */
        jv_free(name);
    }
    keys[k] = NULL;
    struct ar_coverage *cov = ar_coverage_build(st, keys);
    struct ar_plan_input in = { st, f, cov, platform, config, entries, asked };
    *plan = ar_plan_build(&in, 0);
    jv_free(names);
    free(keys);
    ar_coverage_free(cov);
    ar_findings_free(f);
    ar_kbstats_free(st);
    return 0;
}

/* ------------------------------------------------------------ replicate */

struct seed_scan {
    const char *card;
    double max;
};

static int seed_of_verifier(char *line, size_t len, void *ctx)
{
    struct seed_scan *s = ctx;
    jv v;
    if (ar_json_parse(line, len, "index", &v) != 0)
        return 0;
    const char *ver = ar_jv_str(v, "verifies");
    if (ver && strcmp(ver, s->card) == 0)
        s->max = fmax(s->max, ar_jv_num(v, "seed", 0));
    jv_free(v);
    return 0;
}

/* The card's config as the key table reads it; invalid (recorded) when a
 * key is unknown or a value not valid for it. */
static jv typed_config(const char *card_id, jv config)
{
    char origin[128];
    snprintf(origin, sizeof origin, "card %s config", card_id);
    jv ov = jv_object();
    int bad = 0;
    jv_object_foreach(config, k, v) {
        char text[256];
        jv typed;
        if (bad) {
        } else if (ar_config_value_text(v, text, sizeof text) != 0) {
            ar_fail(AR_EINPUT, "card %s: config key '%s' is not a number, boolean or string",
                    card_id, jv_string_value(k));
            bad = 1;
        } else if (ar_config_parse(jv_string_value(k), text, origin, &typed) != 0) {
            bad = 1;
        } else {
            ar_jv_set(&ov, jv_string_value(k), typed);
        }
        jv_free(k);
        jv_free(v);
    }
    if (bad) {
        jv_free(ov);
        return jv_invalid();
    }
    return ov;
}

jv ar_replicate_fields(const struct ar_kb *kb, jv entries, const char *card_id, const char *hyp,
                       const char *cat)
{
    jv card;
    if (ar_card_load(kb, card_id, &card) != 0)
        return jv_invalid();
    jv config = ar_jv_get(card, "config");
    if (jv_get_kind(config) != JV_KIND_OBJECT) {
        jv_free(config);
        jv_free(card);
        ar_fail(AR_EINPUT, "card %s: has no config to replicate", card_id);
        return jv_invalid();
    }
    jv ov = typed_config(card_id, config);
    jv_free(config);
    struct seed_scan scan = { card_id, ar_jv_num(card, "seed", 0) };
    if (!jv_is_valid(ov) || ar_index_foreach(kb, seed_of_verifier, &scan) < 0) {
        jv_free(ov);
        jv_free(card);
        return jv_invalid();
    }
    jv_array_foreach(entries, i, e) {
        (void)i;
        const char *ver = ar_jv_str(e, "verifies");
        if (ver && strcmp(ver, card_id) == 0)
            scan.max = fmax(scan.max, ar_jv_num(e, "seed", 0));
        jv_free(e);
    }
    jv f = jv_object();
    if (hyp) {
        ar_jv_set(&f, "hypothesis", jv_string(hyp));
    } else {
        const char *orig = ar_jv_str(card, "hypothesis");
        char text[AR_HYPOTHESIS_MAX + 1];
        snprintf(text, sizeof text, "replicate %s: %s", card_id, orig ? orig : "");
        ar_jv_set(&f, "hypothesis", jv_string(text));
    }
    const char *card_cat = ar_jv_str(card, "category");
    ar_jv_set(&f, "category", jv_string(cat ? cat : card_cat ? card_cat : "other"));
    ar_jv_set(&f, "overrides", ov);
    ar_jv_set(&f, "verifies", jv_string(card_id));
    ar_jv_set(&f, "seed", jv_number(floor(scan.max) + 1));
    jv_free(card);
    return f;
}

/* ---------------------------------------------------------- suggestions */

int ar_config_accepts(jv config, jv overrides)
{
    jv c = jv_copy(config);
    int ok = 1;
    jv_object_foreach(overrides, k, v) {
        char text[256];
        if (ok && (ar_config_value_text(v, text, sizeof text) != 0 ||
                   ar_config_set(&c, jv_string_value(k), text, "plan") != 0))
            ok = 0;
        jv_free(k);
        jv_free(v);
    }
    ok = ok && ar_config_check(c) == 0;
    jv_free(c);
    return ok;
}

/* Shows alternative overrides ov (one key) in *s: its overrides, and its
 * hypothesis "... -> VALUE". */
static void show_alt(jv *s, jv ov)
{
    ar_jv_set(s, "overrides", jv_copy(ov));
    char hyp[512], text[256];
    jv_object_foreach(ov, k, v) {
        ar_config_value_text(v, text, sizeof text);
        const char *old = ar_jv_str(*s, "hypothesis"), *arrow = strstr(old, " -> ");
        snprintf(hyp, sizeof hyp, "%.*s -> %s", arrow ? (int)(arrow - old) : (int)strlen(old),
                 old, text);
        jv_free(k);
        jv_free(v);
    }
    ar_jv_set(s, "hypothesis", jv_string(hyp));
}

jv ar_suggestion_fields(const struct ar_kb *kb, jv entries, jv config, jv *s, char *skip,
                        size_t n)
{
    const char *card = ar_jv_str(*s, "replicate"), *advice = ar_jv_str(*s, "advice");
    jv f;
    if (advice) {   /* the plan knows it is no ar-train run (another base) */
        snprintf(skip, n, "%s", advice);
        return jv_invalid();
    }
    if (card) {
        f = ar_replicate_fields(kb, entries, card, ar_jv_str(*s, "hypothesis"),
                                ar_jv_str(*s, "category"));
        if (!jv_is_valid(f)) {
            snprintf(skip, n, "%s", ar_last_error());
            return f;
        }
    } else {
        jv ov = ar_jv_get(*s, "overrides");
        if (!ar_config_accepts(config, ov)) {
            jv_free(ov);
            ov = ar_jv_get(*s, "alt_overrides");
            if (!jv_is_valid(ov) || !ar_config_accepts(config, ov)) {
                jv_free(ov);
                snprintf(skip, n, "the trainer does not accept these values");
                return jv_invalid();
            }
            show_alt(s, ov);
        }
        f = jv_object();
        ar_jv_set(&f, "hypothesis", jv_string(ar_jv_str(*s, "hypothesis")));
        ar_jv_set(&f, "category", jv_string(ar_jv_str(*s, "category")));
        ar_jv_set(&f, "overrides", ov);
    }
    if (ar_jv_has(*s, "priority"))
        ar_jv_set(&f, "priority", jv_number(ar_jv_num(*s, "priority", 0)));
    return f;
}

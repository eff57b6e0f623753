#include "analysis/plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "analysis/synth.h"

/* ------------------------------------------------------------ key table */

static const struct {
    const char *category;
    const char *keys[16];
} key_map[] = {
    { "architecture", { "depth", "aspect_ratio", "mlp", "mlp_ratio", "window_pattern",
                        "short_window_frac", "n_kv_head", "head_dim", "qk_norm", "value_embeds",
                        "logit_softcap", "tie_embeddings", "rope_base", "seq_len",
                        "ve_gate_channels", NULL } },
    { "optimizer", { "matrix_lr", "embed_lr", "unembed_lr", "muon_momentum_end", "adam_beta2",
                     "adam_beta1", "ve_lr", "muon_ns_steps", "muon_momentum_start",
                     "muon_momentum_warmup_steps", "resid_lambda_lr", "x0_lambda_lr", "adam_eps",
                     NULL } },
    { "schedule", { "warmdown_frac", "warmup_frac", "final_lr_frac", NULL } },
    { "regularization", { "muon_weight_decay", "label_smoothing", "z_loss", "grad_clip",
                          "embed_wd", "unembed_wd", "ve_wd", NULL } },
    { "initialization", { "init_scale", "resid_lambda_init", "x0_lambda_init", NULL } },
    { "hyperparameter", { "total_batch_tokens", "device_batch", NULL } },
};
#define NMAP (sizeof key_map / sizeof key_map[0])

/* run settings: changing them says nothing about the model */
static const char *const not_explored[] = { "threads", "eval_tokens", "warmup_steps_uncounted",
                                            "device", "precision", NULL };

/* a first value to try for keys whose current value is 0 (off) */
static const struct {
    const char *key;
    double value;
} from_zero[] = {
    { "label_smoothing", 0.1 }, { "z_loss", 1e-4 }, { "grad_clip", 1.0 }, { "logit_softcap", 15 },
};

const char *ar_plan_key_category(const char *key)
{
    for (size_t i = 0; i < NMAP; i++)
        for (int j = 0; key_map[i].keys[j]; j++)
            if (strcmp(key_map[i].keys[j], key) == 0)
                return key_map[i].category;
    return "hyperparameter";
}

/* ------------------------------------------------------------ helpers */

static jv suggestion(const char *kind, int priority, const char *hypothesis, const char *category,
                     const char *reason)
{
    jv s = jv_object();
    ar_jv_set(&s, "kind", jv_string(kind));
    ar_jv_set(&s, "priority", jv_number(priority));
    ar_jv_set(&s, "hypothesis", jv_string(hypothesis));
    ar_jv_set(&s, "category", jv_string(category));
    ar_jv_set(&s, "overrides", jv_object());
    ar_jv_set(&s, "reason", jv_string(reason));
    ar_jv_set(&s, "cards", jv_array());
    return s;
}

static void add_card(jv *s, const char *id)
{
    jv cards = ar_jv_get(*s, "cards");
    ar_jv_set(s, "cards", jv_array_append(cards, jv_string(id)));
}

/* Live or finished queue entries verifying card (pending, claimed, done). */
static int queued_replications(jv queue, const char *card)
{
    int n = 0;
    jv_array_foreach(queue, i, e) {
        (void)i;
        const char *v = ar_jv_str(e, "verifies"), *st = ar_jv_str(e, "status");
        if (v && st && strcmp(v, card) == 0 &&
            (!strcmp(st, "pending") || !strcmp(st, "claimed") || !strcmp(st, "done")))
            n++;
        jv_free(e);
    }
    return n;
}

/* Cards that replicate card. */
static int card_replications(const struct ar_kbstats *st, const char *card)
{
    int n = 0;
    for (size_t i = 0; i < st->n; i++)
        n += st->cards[i].verifies && strcmp(st->cards[i].verifies, card) == 0;
    return n;
}

/* Whether any card of the claim is being or was replicated. */
static int claim_replicated(const struct ar_plan_input *in, const struct ar_claim *c)
{
    for (int i = 0; i < c->ncards; i++) {
        const char *id = in->st->cards[c->cards[i]].id;
        if (queued_replications(in->queue, id) || card_replications(in->st, id))
            return 1;
        if (in->st->cards[c->cards[i]].verifies)
            return 1;   /* the claim already has a replication among its cards */
    }
    return 0;
}

/* The confirmation with the largest z, or NULL. */
static const struct ar_evidence *strongest(const struct ar_claim *c)
{
    const struct ar_evidence *best = NULL;
    for (int i = 0; i < c->nev; i++)
        if (c->ev[i].outcome == AR_CONFIRM && (!best || c->ev[i].z > best->z))
            best = &c->ev[i];
    return best;
}

static const char *class_of(const struct ar_kbstats *st, int card)
{
    const char *p = st->cards[card].platform;
    return p && *p ? p : "-";
}

static jv replicate(const struct ar_plan_input *in, const char *kind, int priority,
                    const struct ar_claim *c, const struct ar_evidence *ev, const char *reason)
{
    const struct ar_cardsum *card = &in->st->cards[ev->card];
    char hyp[2200];
    snprintf(hyp, sizeof hyp, "replicate %s (%s): %.1900s", card->id, c->name,
             card->hypothesis ? card->hypothesis : "");
    jv s = suggestion(kind, priority, hyp, c->category ? c->category : "other", reason);
    ar_jv_set(&s, "replicate", jv_string(card->id));
    add_card(&s, card->id);
    return s;
}

/* ------------------------------------------------------- platform base */

/* Where the plan starts: ar's config, or for a class whose cards come
 * from another trainer (no ar config) the configuration its best card's
 * session chain reached. */
struct base {
    jv config;                 /* owned copy */
    const char *card;          /* the best card (platform base), NULL: ar's config */
    const char *platform;
};
static struct base base;

/* The best counted card of the class: the best of its busiest
 * comparability key; -1 when the class has none. */
static int class_best(const struct ar_kbstats *st, const char *platform)
{
    const struct ar_keystat *key = NULL;
    for (size_t i = 0; i < st->nkeys; i++)
        if (st->keys[i].platform && strcmp(st->keys[i].platform, platform) == 0 &&
            st->keys[i].best >= 0 && (!key || st->keys[i].runs > key->runs))
            key = &st->keys[i];
    return key ? key->best : -1;
}

static void set_parsed(jv *cfg, const char *key, const char *text)
{
    jv v;
    if (!text || strcmp(text, "null") == 0 || ar_json_parse(text, strlen(text), "change", &v) != 0)
        return;
    ar_jv_set(cfg, key, v);
}

/* The configuration the session of card best reached at best: in run (id)
 * order up to best, a key's first "from" is its value on the tip until a
 * keep (or best itself) sets it to its "to". Only keys that ar's config
 * names (the vocabulary's keys). */
static jv chain_config(const struct ar_kbstats *st, int best, jv arcfg)
{
    const struct ar_cardsum *b = &st->cards[best];
    jv cfg = jv_object();
    for (int i = 0; i <= best; i++) {
        const struct ar_cardsum *c = &st->cards[i];
        if (!c->session || !b->session || strcmp(c->session, b->session) ||
            strcmp(c->platform, b->platform))
            continue;
        int kept = i == best || (c->counts && strcmp(c->status, "keep") == 0);
        for (int k = 0; k < c->nchanges; k++) {
            const struct ar_change *ch = &c->changes[k];
            if (!ar_jv_has(arcfg, ch->key))
                continue;
            if (kept)
                set_parsed(&cfg, ch->key, ch->to);
            else if (!ar_jv_has(cfg, ch->key))
                set_parsed(&cfg, ch->key, ch->from);
        }
    }
    return cfg;
}

/* A card of another trainer: imported (ar-card import tags it so), with
 * no ar config of its own. */
static int imported(const struct ar_cardsum *c)
{
    for (int i = 0; i < c->ntags; i++)
        if (strcmp(c->tags[i], "imported") == 0)
            return 1;
    return 0;
}

static void base_init(const struct ar_plan_input *in)
{
    base.card = NULL;
    base.platform = in->platform;
    base.config = jv_copy(in->config);
    int best = in->platform ? class_best(in->st, in->platform) : -1;
    if (best < 0 || !imported(&in->st->cards[best]))
        return;   /* no card here, or ar's own: ar's config */
    jv_free(base.config);
    base.config = chain_config(in->st, best, in->config);
    base.card = in->st->cards[best].id;
}

/* The reason's start for a suggestion from the platform base: "from the
 * best h100 configuration, card ID: " (empty for ar's config). */
static void base_prefix(char *dst, size_t n)
{
    if (base.card)
        snprintf(dst, n, "from the best %s configuration, card %s: ", base.platform, base.card);
    else
        dst[0] = 0;
}

/* Marks a suggestion from the platform base: its class, and why it is
 * advice rather than ar-train overrides. */
static void base_mark(jv *s)
{
    if (!base.card)
        return;
    char why[256];
    snprintf(why, sizeof why, "starts from the best %s configuration (card %s), not ar-train's config",
             base.platform, base.card);
    ar_jv_set(s, "platform", jv_string(base.platform));
    ar_jv_set(s, "base", jv_string(base.card));
    ar_jv_set(s, "advice", jv_string(why));
}

/* The confirmation with the largest z on class platform, or NULL. */
static const struct ar_evidence *strongest_on(const struct ar_kbstats *st, const struct ar_claim *c,
                                              const char *platform)
{
    const struct ar_evidence *best = NULL;
    for (int i = 0; i < c->nev; i++)
        if (c->ev[i].outcome == AR_CONFIRM && strcmp(class_of(st, c->ev[i].card), platform) == 0 &&
            (!best || c->ev[i].z > best->z))
            best = &c->ev[i];
    return best;
}

static int confirmed_on(const struct ar_claim *c, const char *platform)
{
    for (int k = 0; k < c->nclasses; k++)
        if (!strcmp(c->classes[k].platform, platform) && !strcmp(c->classes[k].verdict, "confirmed"))
            return 1;
    return 0;
}

/* ------------------------------------------------------------ the rules */

static const struct ar_kbstats *noisy_st;

static int by_abs_delta(const void *a, const void *b)
{
    const struct ar_cardsum *x = &noisy_st->cards[*(const size_t *)a], *y = &noisy_st->cards[*(const size_t *)b];
    if (fabs(x->delta) != fabs(y->delta))
        return fabs(x->delta) > fabs(y->delta) ? -1 : 1;
    return strcmp(x->id, y->id);
}

static void noisy_keeps(const struct ar_plan_input *in, jv *out)
{
    const struct ar_kbstats *st = in->st;
    size_t *ix = ar_xmalloc((st->n ? st->n : 1) * sizeof *ix), n = 0;
    for (size_t i = 0; i < st->n; i++) {
        const struct ar_cardsum *c = &st->cards[i];
        if (c->counts && c->has_delta && strcmp(c->status, "keep") == 0 &&
            fabs(c->delta) <= 2 * ar_stats_sigma(st, c->platform) && !c->verifies)
            ix[n++] = i;
    }
    noisy_st = st;
    qsort(ix, n, sizeof *ix, by_abs_delta);
    /* the largest first; whether one is replicated already (a scan of the
     * queue and the cards) is asked only of those that would be proposed */
    for (size_t k = 0, proposed = 0; k < n && proposed < AR_PLAN_NOISY_MAX; k++) {
        const struct ar_cardsum *c = &st->cards[ix[k]];
        if (queued_replications(in->queue, c->id) || card_replications(st, c->id))
            continue;
        proposed++;
        double sigma = ar_stats_sigma(st, c->platform);
        char reason[512], hyp[2200];
        snprintf(reason, sizeof reason,
                 "kept with delta %+.4f, inside 2 sigma (%.4f) on %s: it may be seed noise that later runs "
                 "built on; replicate it before trusting it",
                 c->delta, 2 * sigma, *c->platform ? c->platform : "-");
        snprintf(hyp, sizeof hyp, "replicate %s: %.1900s", c->id, c->hypothesis ? c->hypothesis : "");
        jv s = suggestion("noisy-keep", 1, hyp, c->category ? c->category : "other", reason);
        ar_jv_set(&s, "replicate", jv_string(c->id));
        ar_jv_set(&s, "platform", jv_string(c->platform));
        add_card(&s, c->id);
        *out = jv_array_append(*out, s);
    }
    free(ix);
}

static void noise_floor(const struct ar_plan_input *in, jv *out)
{
    const struct ar_kbstats *st = in->st;
    const struct ar_noise *nz = ar_stats_noise(st, in->platform);
    if (nz && !nz->is_default)
        return;
    /* the key of this class with the most runs, and its baseline (or best) */
    const struct ar_keystat *key = NULL;
    for (size_t i = 0; i < st->nkeys; i++)
        if (st->keys[i].platform && strcmp(st->keys[i].platform, in->platform) == 0 &&
            (!key || st->keys[i].runs > key->runs))
            key = &st->keys[i];
    char reason[512], hyp[512];
    if (!key && !in->platform_asked) {
        /* cards elsewhere and none here: a plan for this class only when asked */
        for (size_t i = 0; i < st->n; i++)
            if (st->cards[i].counts)
                return;
    }
    if (!key || (key->baseline < 0 && key->best < 0)) {
        snprintf(reason, sizeof reason,
                 "no card on %s yet: a baseline gives the other runs something to compare with",
                 in->platform);
        snprintf(hyp, sizeof hyp, "baseline on %s", in->platform);
        jv s = suggestion("noise-floor", 1, hyp, "baseline", reason);
        jv_array_foreach(in->queue, i, e) {
            (void)i;
            const char *h = ar_jv_str(e, "hypothesis"), *stt = ar_jv_str(e, "status");
            if (h && strcmp(h, hyp) == 0 && stt && strcmp(stt, "cancelled") && strcmp(stt, "failed")) {
                jv_free(s);
                s = jv_invalid();
            }
            jv_free(e);
        }
        if (jv_is_valid(s))
            *out = jv_array_append(*out, s);
        return;
    }
    int idx = key->baseline >= 0 ? key->baseline : key->best;
    const char *card = st->cards[idx].id;
    int have = queued_replications(in->queue, card) + card_replications(st, card);
    for (int r = have; r < 2; r++) {
        snprintf(reason, sizeof reason,
                 "no replicates on %s: every z there uses the default noise floor %g; "
                 "replicate the %s of its busiest comparability key (%d runs)",
                 in->platform, AR_SIGMA_DEFAULT, key->baseline >= 0 ? "baseline" : "best card",
                 key->runs);
        snprintf(hyp, sizeof hyp, "noise floor on %s: replicate %s (run %d of 2)", in->platform,
                 card, r + 1);
        jv s = suggestion("noise-floor", 1, hyp, "baseline", reason);
        ar_jv_set(&s, "replicate", jv_string(card));
        add_card(&s, card);
        *out = jv_array_append(*out, s);
    }
}

static void tentative(const struct ar_plan_input *in, jv *out, jv *used)
{
    for (size_t i = 0; i < in->findings->n; i++) {
        const struct ar_claim *c = &in->findings->claims[i];
        const struct ar_evidence *ev = strongest(c);
        if (!ev || c->all.refutes || c->all.confirms > 1 || ev->z < AR_PLAN_LARGE_Z ||
            claim_replicated(in, c))
            continue;
        char reason[512];
        snprintf(reason, sizeof reason,
                 "claim %s rests on one confirmation (certainty %.2f) with a large effect: "
                 "z %.1f (delta %+.4f on %s); replicate before building on it",
                 c->name, c->all.certainty,
                 ev->z, in->st->cards[ev->card].delta, class_of(in->st, ev->card));
        *out = jv_array_append(*out, replicate(in, "replicate", 2, c, ev, reason));
        ar_jv_set(used, c->name, jv_true());
    }
}

static void platform_specific(const struct ar_plan_input *in, jv *out, jv *used)
{
    for (size_t i = 0; i < in->findings->n; i++) {
        const struct ar_claim *c = &in->findings->claims[i];
        /* universal claims need no test on one more class; an open one
         * (confirmed on one class, mixed on another) does */
        if (strcmp(c->scope, "platform-specific") && strcmp(c->scope, "single-platform") &&
            strcmp(c->scope, "open"))
            continue;
        if (ar_jv_has(*used, c->name) || claim_replicated(in, c))
            continue;
        int here = 0;
        char confirmed[256] = "", refuted[256] = "";
        for (int k = 0; k < c->nclasses; k++) {
            const struct ar_tally *t = &c->classes[k];
            here |= strcmp(t->platform, in->platform) == 0;
            char *dst = !strcmp(t->verdict, "confirmed") ? confirmed
                        : !strcmp(t->verdict, "refuted") || !strcmp(t->verdict, "mixed") ? refuted
                        : NULL;
            if (dst && strlen(dst) + strlen(t->platform) + 3 < 256)
                snprintf(dst + strlen(dst), 256 - strlen(dst), "%s%s", *dst ? ", " : "", t->platform);
        }
        /* the strongest confirmation on a class where the claim holds */
        const struct ar_evidence *ev = NULL;
        for (int k = 0; k < c->nclasses; k++) {
            const struct ar_evidence *e = !strcmp(c->classes[k].verdict, "confirmed")
                                              ? strongest_on(in->st, c, c->classes[k].platform)
                                              : NULL;
            if (e && (!ev || e->z > ev->z))
                ev = e;
        }
        if (here || !ev || !confirmed[0])
            continue;
        char reason[768];
        snprintf(reason, sizeof reason, "claim %s is %s (confirmed on %s%s%s); untested on %s",
                 c->name, c->scope, confirmed, refuted[0] ? ", refuted or mixed on " : "", refuted,
                 in->platform);
        *out = jv_array_append(*out, replicate(in, "platform", 3, c, ev, reason));
        ar_jv_set(used, c->name, jv_true());
    }
}

static int by_effect(const void *a, const void *b)
{
    const struct ar_claim *x = *(const struct ar_claim *const *)a;
    const struct ar_claim *y = *(const struct ar_claim *const *)b;
    if (x->all.effect != y->all.effect)
        return x->all.effect < y->all.effect ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* The value a card's change set the key to, or invalid. */
static jv change_to(const struct ar_cardsum *card, const char *key)
{
    for (int i = 0; i < card->nchanges; i++) {
        if (strcmp(card->changes[i].key, key) != 0)
            continue;
        jv v;
        const char *to = card->changes[i].to;
        if (to && ar_json_parse(to, strlen(to), "change", &v) == 0)
            return v;
    }
    return jv_invalid();
}

static void stack(const struct ar_plan_input *in, jv *out)
{
    const struct ar_findings *f = in->findings;
    const struct ar_claim **pick = malloc((f->n + 1) * sizeof *pick);
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++) {
        const struct ar_claim *c = &f->claims[i];
        if (c->nkeys != 1 || c->all.effect >= 0)
            continue;
        if (base.card ? confirmed_on(c, base.platform) && strongest_on(in->st, c, base.platform)
                      : !strcmp(c->all.verdict, "confirmed") && strongest(c))
            pick[n++] = c;
    }
    qsort(pick, n, sizeof *pick, by_effect);
    jv ov = jv_object(), cards = jv_array();
    struct ar_buf hyp = {0}, why = {0};
    ar_buf_puts(&hyp, "stack the best confirmed changes:");
    char prefix[256];
    base_prefix(prefix, sizeof prefix);
    ar_buf_puts(&why, prefix);
    ar_buf_puts(&why, base.card ? "one-key claims confirmed there, largest effect first:"
                                : "confirmed one-key claims, largest effect first:");
    int taken = 0;
    for (size_t i = 0; i < n && taken < AR_PLAN_STACK_MAX; i++) {
        const char *key = pick[i]->keys[0];
        if (ar_jv_has(ov, key))
            continue;
        const struct ar_evidence *ev = base.card ? strongest_on(in->st, pick[i], base.platform)
                                                 : strongest(pick[i]);
        jv to = change_to(&in->st->cards[ev->card], key);
        if (!jv_is_valid(to))
            continue;
        jv cur = ar_jv_get(base.config, key);
        if (base.card && (!jv_is_valid(cur) || jv_equal(jv_copy(cur), jv_copy(to)))) {
            jv_free(cur);   /* unknown there, or the tip has it already */
            jv_free(to);
            continue;
        }
        char *text = ar_json_dump(to, AR_JSON_COMPACT);
        ar_buf_printf(&hyp, "%s %s=%s", taken ? " +" : "", key,
                      jv_get_kind(to) == JV_KIND_STRING ? jv_string_value(to) : text);
        if (base.card) {
            char *from = ar_json_dump(cur, AR_JSON_COMPACT);
            ar_buf_printf(&why, "%s %s %s -> %s (claim %s, effect %+.4f, certainty %.2f)",
                          taken ? ";" : "", key, from, text, pick[i]->name, pick[i]->all.effect,
                          pick[i]->all.certainty);
            free(from);
        } else {
            ar_buf_printf(&why, "%s %s (effect %+.4f, certainty %.2f)", taken ? ";" : "",
                          pick[i]->name, pick[i]->all.effect, pick[i]->all.certainty);
        }
        jv_free(cur);
        free(text);
        ar_jv_set(&ov, key, to);
        cards = jv_array_append(cards, jv_string(in->st->cards[ev->card].id));
        taken++;
    }
    if (taken >= 2) {
        jv s = suggestion("stack", 4, hyp.data, "hyperparameter", why.data);
        ar_jv_set(&s, "overrides", ov);
        ar_jv_set(&s, "cards", cards);
        base_mark(&s);
        *out = jv_array_append(*out, s);
    } else {
        jv_free(ov);
        jv_free(cards);
    }
    ar_buf_free(&hyp);
    ar_buf_free(&why);
    free(pick);
}

/* A value to try for key and the other direction, from its current value. */
static int explore_values(const char *key, jv cur, jv *up, jv *down)
{
    *up = *down = jv_invalid();
    switch (jv_get_kind(cur)) {
    case JV_KIND_TRUE:
    case JV_KIND_FALSE:
        *up = jv_bool(jv_get_kind(cur) == JV_KIND_FALSE);
        return 0;
    case JV_KIND_NUMBER: {
        double v = jv_number_value(cur);
        if (v == 0) {
            for (size_t i = 0; i < sizeof from_zero / sizeof from_zero[0]; i++)
                if (!strcmp(from_zero[i].key, key))
                    *up = jv_number(from_zero[i].value);
            return jv_is_valid(*up) ? 0 : -1;
        }
        if (!strcmp(key, "depth") || !strcmp(key, "n_kv_head")) {   /* a layer or head at a time */
            *up = jv_number(v + 1);
            if (v > 1)
                *down = jv_number(v - 1);
            return 0;
        }
        if ((strstr(key, "beta") || strstr(key, "momentum")) && v > 0 && v < 1) {
            /* towards 1 by halving the distance, away by doubling it */
            *up = jv_number(1 - (1 - v) / 2);
            if (1 - (1 - v) * 2 > 0)
                *down = jv_number(1 - (1 - v) * 2);
            return 0;
        }
        int integral = v == floor(v) && fabs(v) >= 1;   /* rates and sizes: multiplicative */
        *up = jv_number(v * 2);
        double half = integral ? floor(v / 2) : v / 2;
        if (half != v && half != 0)
            *down = jv_number(half);
        return 0;
    }
    case JV_KIND_STRING:
        if (!strcmp(key, "mlp")) {
            *up = jv_string(strcmp(jv_string_value(cur), "swiglu") ? "swiglu" : "relu2");
            return 0;
        }
        return -1;
    default:
        return -1;
    }
}

static int skip_key(const char *key, jv config)
{
    for (int i = 0; not_explored[i]; i++)
        if (!strcmp(not_explored[i], key))
            return 1;
    return !ar_jv_has(config, key);
}

/* Whether the findings forbid setting key from cur to v: the claim that
 * change makes is a dead end, or its opposite is confirmed (a larger batch
 * on a class where smaller won). */
static int forbidden(const struct ar_plan_input *in, const char *key, jv cur, jv v)
{
    char name[300];
    const struct ar_claim *c;
    if (jv_get_kind(cur) == JV_KIND_NUMBER && jv_get_kind(v) == JV_KIND_NUMBER) {
        int up = jv_number_value(v) > jv_number_value(cur);
        snprintf(name, sizeof name, "%s:%s", key, up ? "up" : "down");
        if ((c = ar_findings_get(in->findings, name)) && ar_synth_dead_end(c))
            return 1;
        snprintf(name, sizeof name, "%s:%s", key, up ? "down" : "up");
        if ((c = ar_findings_get(in->findings, name)) && strcmp(c->all.verdict, "confirmed") == 0)
            return 1;
    }
    char *text = ar_json_dump(v, AR_JSON_COMPACT);
    const char *t = text;
    char unq[256];
    if (jv_get_kind(v) == JV_KIND_STRING) {
        snprintf(unq, sizeof unq, "%s", jv_string_value(v));
        t = unq;
    }
    snprintf(name, sizeof name, "%s=%s", key, t);
    free(text);
    return (c = ar_findings_get(in->findings, name)) && ar_synth_dead_end(c);
}

static void explore_key(const struct ar_plan_input *in, jv *out, jv *used, const char *key,
                        const char *why_prefix, const char *category)
{
    if (ar_jv_has(*used, key) || skip_key(key, base.config))
        return;
    jv cur = ar_jv_get(base.config, key), up, down;
    int rc = explore_values(key, cur, &up, &down);
    if (rc != 0) {
        jv_free(cur);
        return;
    }
    if (jv_is_valid(down) && forbidden(in, key, cur, down)) {
        jv_free(down);
        down = jv_invalid();
    }
    if (forbidden(in, key, cur, up)) {   /* the other direction, or nothing */
        jv_free(up);
        up = down;
        down = jv_invalid();
        if (!jv_is_valid(up)) {
            jv_free(cur);
            return;
        }
    }
    const struct ar_covrow *row = ar_coverage_key(in->coverage, key);
    char *from = ar_json_dump(cur, AR_JSON_COMPACT), *to = ar_json_dump(up, AR_JSON_COMPACT);
    char hyp[256], reason[768], prefix[256];
    base_prefix(prefix, sizeof prefix);
    snprintf(hyp, sizeof hyp, "explore %s: %s -> %s", key, from, to);
    if (base.card)
        snprintf(prefix + strlen(prefix), sizeof prefix - strlen(prefix), "%s %s -> %s; ", key,
                 from, to);
    snprintf(reason, sizeof reason, "%s%s%s has %d experiment%s (under-explored below %d)",
             prefix, why_prefix, key, row ? row->experiments : 0, row && row->experiments == 1 ? "" : "s",
             AR_COV_UNDER);
    jv s = suggestion("explore", 6, hyp, category ? category : ar_plan_key_category(key), reason);
    jv ov = jv_object();
    ar_jv_set(&ov, key, up);
    ar_jv_set(&s, "overrides", ov);
    if (jv_is_valid(down)) {
        jv alt = jv_object();
        ar_jv_set(&alt, key, down);
        ar_jv_set(&s, "alt_overrides", alt);
    }
    if (base.card)
        add_card(&s, base.card);
    if (row && row->best_card && !(base.card && !strcmp(row->best_card, base.card)))
        add_card(&s, row->best_card);
    base_mark(&s);
    *out = jv_array_append(*out, s);
    ar_jv_set(used, key, jv_true());
    free(from);
    free(to);
    jv_free(cur);
}

static int key_rows_by_experiments(const void *a, const void *b)
{
    const struct ar_covrow *x = *(const struct ar_covrow *const *)a;
    const struct ar_covrow *y = *(const struct ar_covrow *const *)b;
    if (x->experiments != y->experiments)
        return x->experiments - y->experiments;
    return strcmp(x->name, y->name);
}

static void explore(const struct ar_plan_input *in, jv *out)
{
    const struct ar_coverage *cov = in->coverage;
    jv used = jv_object();
    /* categories first: the least explored key the category maps to */
    for (size_t i = 0; i < cov->ncategories; i++) {
        const struct ar_covrow *cat = &cov->categories[i];
        if (strcmp(cat->state, "under-explored") != 0)
            continue;
        for (size_t m = 0; m < NMAP; m++) {
            if (strcmp(key_map[m].category, cat->name) != 0)
                continue;
            const char *best = NULL;
            int fewest = 1 << 30;
            for (int k = 0; key_map[m].keys[k]; k++) {
                const char *key = key_map[m].keys[k];
                const struct ar_covrow *row = ar_coverage_key(cov, key);
                int n = row ? row->experiments : 0;
                jv cur = ar_jv_get(base.config, key), up, down;
                int ok = !skip_key(key, base.config) && !ar_jv_has(used, key) &&
                         explore_values(key, cur, &up, &down) == 0;
                if (ok) {
                    jv_free(up);
                    jv_free(down);
                }
                jv_free(cur);
                if (ok && n < fewest) {
                    fewest = n;
                    best = key;
                }
            }
            if (best) {
                char prefix[256];
                snprintf(prefix, sizeof prefix, "category %s has %d experiment%s; its key ",
                         cat->name, cat->experiments, cat->experiments == 1 ? "" : "s");
                explore_key(in, out, &used, best, prefix, cat->name);
            }
        }
    }
    /* then keys, least explored first */
    const struct ar_covrow **rows = malloc((cov->nkeys + 1) * sizeof *rows);
    size_t n = 0;
    for (size_t i = 0; i < cov->nkeys; i++)
        if (!strcmp(cov->keys[i].state, "under-explored"))
            rows[n++] = &cov->keys[i];
    qsort(rows, n, sizeof *rows, key_rows_by_experiments);
    for (size_t i = 0; i < n; i++)
        explore_key(in, out, &used, rows[i]->name, "config key ", NULL);
    free(rows);
    jv_free(used);
}

/* ------------------------------------------------------------ the plan */

static int by_priority(const void *a, const void *b)
{
    const jv *x = a, *y = b;
    double px = ar_jv_num(*x, "priority", 9), py = ar_jv_num(*y, "priority", 9);
    if (px != py)
        return px < py ? -1 : 1;
    return (int)(ar_jv_num(*x, "order", 0) - ar_jv_num(*y, "order", 0));
}

jv ar_plan_build(const struct ar_plan_input *in, int max)
{
    jv all = jv_array(), used = jv_object();
    base_init(in);
    noisy_keeps(in, &all);
    noise_floor(in, &all);
    tentative(in, &all, &used);
    platform_specific(in, &all, &used);
    stack(in, &all);
    explore(in, &all);
    jv_free(used);
    jv_free(base.config);
    base.config = jv_invalid();
    base.card = NULL;
    /* a stable sort by priority, keeping each rule's own order */
    int n = jv_array_length(jv_copy(all));
    jv *v = malloc((size_t)(n + 1) * sizeof *v);
    for (int i = 0; i < n; i++) {
        v[i] = jv_array_get(jv_copy(all), i);
        ar_jv_set(&v[i], "order", jv_number(i));
    }
    jv_free(all);
    qsort(v, (size_t)n, sizeof *v, by_priority);
    jv out = jv_array();
    for (int i = 0; i < n; i++) {
        jv s = jv_object_delete(v[i], jv_string("order"));
        if (max <= 0 || i < max)
            out = jv_array_append(out, s);
        else
            jv_free(s);
    }
    free(v);
    return out;
}

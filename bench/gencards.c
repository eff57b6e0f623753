/* gencards: a fast generator of synthetic, valid knowledge bases for
 * benchmarks. It writes card and note files directly (canonical content,
 * correct ids, no fsync) and then builds the index, so 100,000 cards take
 * seconds instead of the hours 100,000 `ar-card write` calls would.
 *
 * The cards look like autoresearch sessions: each session runs on one
 * platform class, starts with a baseline card, then tries single-key config
 * changes against its current best config (kept changes accumulate). Every
 * (key, value, class) has a hidden true effect on val_bpb, mostly the same
 * sign on every class, sometimes platform-specific; a card's delta is that
 * effect plus noise. Some cards replicate an earlier card's config (same
 * config_hash, `verifies`), some crash, some get lesson, comment, status
 * and retract notes. The same options and seed give the same files.
 *
 *     bench/build.sh && bench/gencards --kb /tmp/kb --cards 100000 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "facts/card.h"
#include "config.h"
#include "base/err.h"
#include "facts/id.h"
#include "index/index.h"
#include "base/json.h"
#include "facts/kb.h"
#include "facts/note.h"
#include "base/opt.h"

/* ------------------------------------------------------------------ random */

static uint64_t rng_state;

static uint64_t rng_next(void)   /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double rng_unit(void) { return (double)(rng_next() >> 11) / 9007199254740992.0; }
static int rng_below(int n) { return (int)(rng_next() % (uint64_t)n); }

static double rng_normal(void)
{
    double u = rng_unit(), v = rng_unit();
    return sqrt(-2.0 * log(u > 0 ? u : 1e-300)) * cos(2 * M_PI * v);
}

static void rng_hex(char *out, int n)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < n; i++)
        out[i] = digits[rng_next() & 15];
    out[n] = '\0';
}

/* --------------------------------------------------------------- platforms */

struct platform {
    const char *cls, *device, *name;
    double base_bpb, sigma, gpu_mem_gb, step_s;
    int cores;
};

static const struct platform known_platforms[] = {
    {"h100", "cuda", "NVIDIA H100 80GB HBM3", 0.998, 0.0015, 80, 0.31, 26},
    {"cpu-avx512", "cpu", "AMD EPYC 9B45", 1.92, 0.0025, 0, 1.2, 2},
    {"a100", "cuda", "NVIDIA A100-SXM4-40GB", 1.035, 0.0018, 40, 0.52, 12},
    {"cpu-avx2", "cpu", "Intel Xeon Platinum 8273CL", 1.97, 0.0025, 0, 1.5, 4},
    {"cpu-neon", "cpu", "Apple M2 Pro", 1.95, 0.0022, 0, 1.1, 10},
};
#define NKNOWN (int)(sizeof known_platforms / sizeof known_platforms[0])

static jv platform_json(int p)
{
    const struct platform *k = &known_platforms[p % NKNOWN];
    jv o = jv_object();
    char cls[32];
    if (p < NKNOWN)
        snprintf(cls, sizeof cls, "%s", k->cls);
    else
        snprintf(cls, sizeof cls, "%s-%d", k->cls, p / NKNOWN);
    ar_jv_set(&o, "class", jv_string(cls));
    ar_jv_set(&o, "device", jv_string(k->device));
    ar_jv_set(&o, "name", jv_string(k->name));
    ar_jv_set(&o, "cores", jv_number(k->cores));
    ar_jv_set(&o, "mem_gb", jv_number(strcmp(k->device, "cuda") ? 16 : 512));
    if (k->gpu_mem_gb > 0)
        ar_jv_set(&o, "gpu_mem_gb", jv_number(k->gpu_mem_gb));
    ar_jv_set(&o, "os", jv_string("Linux 6.1.0 x86_64"));
    ar_jv_set(&o, "compiler", jv_string("gcc 12.2.0"));
    return o;
}

/* -------------------------------------------------------------------- keys */

/* A varied config key, its candidate values, and each value's true effect
 * on val_bpb per platform class. */
#define MAX_ALTS 4
struct key {
    char name[64];
    jv alts[MAX_ALTS];
    int nalts;
    double *effect;   /* [alt * nplatforms + p] */
};

static const char *category_of(const char *key)
{
    static const struct { const char *part, *cat; } map[] = {
        {"warm", "schedule"}, {"final_lr", "schedule"}, {"lr", "optimizer"},
        {"momentum", "optimizer"}, {"beta", "optimizer"}, {"adam", "optimizer"},
        {"muon", "optimizer"}, {"clip", "optimizer"}, {"wd", "regularization"},
        {"decay", "regularization"}, {"smoothing", "regularization"}, {"z_loss", "regularization"},
        {"init", "initialization"}, {"batch", "hyperparameter"}, {"eval", "efficiency"},
        {"threads", "efficiency"}, {"seq_len", "data"}, {NULL, NULL},
    };
    for (int i = 0; map[i].part; i++)
        if (strstr(key, map[i].part))
            return map[i].cat;
    return "architecture";
}

static int value_ok(const char *name, jv v);

/* Candidate values for a key whose default is v: a few steps away. */
static int alternatives(const char *name, jv v, jv out[MAX_ALTS])
{
    int n = 0;
    switch (jv_get_kind(v)) {
    case JV_KIND_TRUE:
    case JV_KIND_FALSE:
        out[n++] = jv_bool(jv_get_kind(v) == JV_KIND_FALSE);
        break;
    case JV_KIND_STRING: {
        static const char *const patterns[] = {"SSSL", "SSLL", "SL", "L", NULL};
        static const char *const mlps[] = {"relu2", "gelu", "swiglu", NULL};
        const char *const *pool = strcmp(name, "mlp") == 0 ? mlps : patterns;
        for (int i = 0; pool[i] && n < MAX_ALTS; i++)
            if (strcmp(pool[i], jv_string_value(v)) != 0)
                out[n++] = jv_string(pool[i]);
        break;
    }
    case JV_KIND_NUMBER: {
        double d = jv_number_value(v);
        /* an integer key is one that refuses a fractional value */
        int integral = d == floor(d) && !value_ok(name, jv_number(d + 0.5)) && !value_ok(name, jv_number(0.5));
        double cands[4];
        int m = 0;
        if (d == 0) {
            cands[m++] = integral ? 1 : 0.01;
            cands[m++] = integral ? 2 : 0.1;
        } else if (integral) {
            cands[m++] = d * 2;
            cands[m++] = floor(d / 2) > 0 ? floor(d / 2) : d + 1;
        } else {
            cands[m++] = d * 1.25;
            cands[m++] = d * 0.8;
            if (d < 1 && d > 0.5)   /* momenta and betas: move toward 1 gently */
                cands[0] = d + (1 - d) / 2;
        }
        for (int i = 0; i < m; i++)
            if (cands[i] != d)
                out[n++] = jv_number(cands[i]);
        break;
    }
    default:
        break;
    }
    return n;
}

/* The text form config_set_key reads, to check a value is in range. */
static int value_ok(const char *name, jv v)
{
    char text[64];
    switch (jv_get_kind(v)) {
    case JV_KIND_NUMBER: snprintf(text, sizeof text, "%.17g", jv_number_value(v)); break;
    case JV_KIND_TRUE: strcpy(text, "true"); break;
    case JV_KIND_FALSE: strcpy(text, "false"); break;
    case JV_KIND_STRING: snprintf(text, sizeof text, "%s", jv_string_value(v)); break;
    default: return 0;
    }
    struct train_config c;
    config_defaults(&c);
    return config_set_key(&c, name, text, "gencards") == 0;
}

static struct key *make_keys(jv base, int want, int nplat, int *nkeys)
{
    jv names = jv_keys(jv_copy(base));
    int have = jv_array_length(jv_copy(names));
    struct key *keys = ar_xmalloc((size_t)(want > 0 ? want : 1) * sizeof *keys);
    int n = 0;
    for (int i = 0; i < have && n < want; i++) {
        jv name = jv_array_get(jv_copy(names), i);
        struct key *k = &keys[n];
        snprintf(k->name, sizeof k->name, "%s", jv_string_value(name));
        jv v = jv_object_get(jv_copy(base), name);
        jv cands[MAX_ALTS];
        int m = alternatives(k->name, v, cands);
        k->nalts = 0;
        for (int j = 0; j < m; j++) {
            if (value_ok(k->name, cands[j]))
                k->alts[k->nalts++] = cands[j];
            else
                jv_free(cands[j]);
        }
        jv_free(v);
        if (k->nalts > 0)
            n++;
    }
    jv_free(names);
    /* more keys than the trainer has: synthetic numeric ones */
    for (int i = 0; n < want; i++, n++) {
        struct key *k = &keys[n];
        snprintf(k->name, sizeof k->name, "synthetic_key_%02d", i);
        k->alts[0] = jv_number(1.25);
        k->alts[1] = jv_number(0.8);
        k->nalts = 2;
    }
    for (int i = 0; i < n; i++) {
        struct key *k = &keys[i];
        k->effect = ar_xmalloc((size_t)(k->nalts * nplat) * sizeof *k->effect);
        for (int a = 0; a < k->nalts; a++) {
            /* most changes do little; a few matter; one in ten differs by class */
            double e = rng_normal() * (rng_unit() < 0.2 ? 0.006 : 0.0015);
            int flip = rng_unit() < 0.1 ? rng_below(nplat) : -1;
            for (int p = 0; p < nplat; p++)
                k->effect[a * nplat + p] = (p == flip ? -e : e) + rng_normal() * 0.0003;
        }
    }
    *nkeys = n;
    return keys;
}

/* ---------------------------------------------------------------- sessions */

#define RECENT 16
struct session {
    char tag[64], agent[32];
    int platform, ncards;
    jv config;            /* the current best config */
    double bpb;           /* its val_bpb */
    char baseline[AR_ID_LEN + 1], best[AR_ID_LEN + 1], commit[41];
    jv recent[RECENT];    /* recent non-crash cards, for replicates */
    int nrecent;
};

struct gen {
    struct ar_kb kb;
    long cards, notes_written;
    int nplat, nkeys, nsessions;
    double replicate_frac, note_frac, retract_frac, crash_frac;
    struct key *keys;
    struct session *sessions;
    jv platforms;         /* array of platform objects */
    jv data;
    long long t0;         /* seconds since the epoch of the first card */
    struct ar_buf text;
};

static void iso_time(long long t, int ms, char out[AR_CREATED_LEN + 1])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    char buf[80];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    memcpy(out, buf, AR_CREATED_LEN);
    out[AR_CREATED_LEN] = '\0';
}

static void write_fact(struct gen *g, const char *path, jv rec)
{
    g->text.len = 0;
    ar_json_dump_buf(&g->text, rec, AR_JSON_PRETTY);
    ar_buf_putc(&g->text, '\n');
    FILE *f = fopen(path, "wx");
    if (!f || fwrite(g->text.data, 1, g->text.len, f) != g->text.len || fclose(f) != 0)
        ar_die(AR_EFAIL, "%s: cannot write", path);
}

/* Sets rec's id from its content and writes it; returns the id in id. */
static void store(struct gen *g, jv *rec, int is_note, char id[AR_ID_LEN + 1], int check)
{
    if (ar_id_compute(*rec, id) != 0)
        ar_die(AR_EFAIL, "gencards: bad created time");
    ar_jv_set(rec, "id", jv_string(id));
    if (check && (is_note ? ar_note_validate(*rec, 1) : ar_card_validate(*rec, AR_CARD_STORED)) != 0)
        ar_die(AR_EFAIL, "gencards: generated an invalid %s: %s", is_note ? "note" : "card",
               ar_last_error());
    char path[PATH_MAX];
    write_fact(g, is_note ? ar_kb_note_path(&g->kb, id, path) : ar_kb_card_path(&g->kb, id, path), *rec);
}

static void add_note(struct gen *g, const char *card, long long t, const char *kind, const char *text,
                     const char *status, int check)
{
    char created[AR_CREATED_LEN + 1], id[AR_ID_LEN + 1];
    iso_time(t, rng_below(1000), created);
    jv n = jv_object();
    ar_jv_set(&n, "schema", jv_string(AR_NOTE_SCHEMA));
    ar_jv_set(&n, "created", jv_string(created));
    ar_jv_set(&n, "card", jv_string(card));
    ar_jv_set(&n, "agent", jv_string("reviewer"));
    ar_jv_set(&n, "kind", jv_string(kind));
    ar_jv_set(&n, "text", jv_string(text));
    if (status)
        ar_jv_set(&n, "status", jv_string(status));
    store(g, &n, 1, id, check);
    jv_free(n);
    g->notes_written++;
}

static jv metrics(const struct platform *p, jv config, double bpb, int crashed)
{
    jv m = jv_object();
    double depth = ar_jv_num(config, "depth", 4);
    double steps = floor(300.0 / p->step_s * (0.9 + 0.2 * rng_unit()));
    ar_jv_set(&m, "training_seconds", jv_number(crashed ? floor(rng_unit() * 3000) / 10 : 300.1));
    ar_jv_set(&m, "total_seconds", jv_number(floor(3200 + rng_unit() * 400) / 10));
    ar_jv_set(&m, "depth", jv_number(depth));
    if (crashed)
        return m;
    ar_jv_set(&m, "val_bpb", jv_number(round(bpb * 1e6) / 1e6));
    ar_jv_set(&m, "num_steps", jv_number(steps));
    ar_jv_set(&m, "total_tokens_M", jv_number(round(steps * 0.524288 * 10) / 10));
    ar_jv_set(&m, "num_params_M", jv_number(round(depth * 6.29 * 10) / 10));
    ar_jv_set(&m, "peak_mem_mb", jv_number(round((2000 + depth * 5000) * (0.9 + 0.2 * rng_unit()))));
    ar_jv_set(&m, "mfu_percent", jv_number(round((30 + 15 * rng_unit()) * 100) / 100));
    return m;
}

static jv value_text(jv v)
{
    if (jv_get_kind(v) == JV_KIND_STRING)
        return jv_copy(v);
    char *s = ar_json_dump(v, AR_JSON_COMPACT);
    jv out = jv_string(s);
    free(s);
    return out;
}

/* One card of session s at time t; check validates it before writing. */
static void make_card(struct gen *g, struct session *s, long long t, int check)
{
    const struct platform *p = &known_platforms[s->platform % NKNOWN];
    int np = g->nplat;
    char created[AR_CREATED_LEN + 1], id[AR_ID_LEN + 1], commit[41], hex[65];
    iso_time(t, rng_below(1000), created);
    rng_hex(commit, 40);

    jv card = jv_object();
    ar_jv_set(&card, "schema", jv_string(AR_CARD_SCHEMA));
    ar_jv_set(&card, "created", jv_string(created));
    ar_jv_set(&card, "agent", jv_string(s->agent));
    ar_jv_set(&card, "session", jv_string(s->tag));
    ar_jv_set(&card, "commit", jv_string(commit));
    ar_jv_set(&card, "seed", jv_number(rng_below(1 << 30)));
    ar_jv_set(&card, "budget_s", jv_number(300));
    ar_jv_set(&card, "platform", jv_array_get(jv_copy(g->platforms), s->platform));
    ar_jv_set(&card, "data", jv_copy(g->data));

    jv config, changes = jv_array();
    const char *status, *category;
    double bpb = s->bpb, delta = 0;
    int crashed = 0, replicate = -1;
    jv hyp, tags = jv_array();
    if (s->ncards == 0) {
        /* the session's baseline: the base config, replicated across sessions */
        config = jv_copy(s->config);
        status = "baseline";
        category = "baseline";
        bpb = p->base_bpb + rng_normal() * p->sigma;
        hyp = jv_string("baseline: the default config.yaml, unchanged");
        tags = jv_array_append(tags, jv_string("baseline"));
    } else {
        ar_jv_set(&card, "parent_commit", jv_string(s->commit));
        ar_jv_set(&card, "baseline", jv_string(s->baseline));
        ar_jv_set(&card, "prior_cards", jv_array_append(jv_array(), jv_string(s->best)));
        if (s->nrecent > 0 && rng_unit() < g->replicate_frac)
            replicate = rng_below(s->nrecent);
        int k, a;
        jv from, to;
        if (replicate >= 0) {
            jv old = s->recent[replicate];
            config = ar_jv_get(old, "config");
            jv_free(changes);
            changes = ar_jv_get(old, "changes");
            ar_jv_set(&card, "verifies", jv_string(ar_jv_str(old, "id")));
            jv c0 = jv_array_get(jv_copy(changes), 0);
            const char *kname = ar_jv_str(c0, "key");
            for (k = 0; k < g->nkeys && strcmp(g->keys[k].name, kname) != 0; k++)
                ;
            to = ar_jv_get(c0, "to");
            from = ar_jv_get(c0, "from");
            for (a = 0; a < g->keys[k].nalts && !jv_equal(jv_copy(g->keys[k].alts[a]), jv_copy(to)); a++)
                ;
            jv_free(c0);
        } else {
            do {
                k = rng_below(g->nkeys);
                a = rng_below(g->keys[k].nalts);
                from = ar_jv_get(s->config, g->keys[k].name);
                to = jv_copy(g->keys[k].alts[a]);
                if (!jv_equal(jv_copy(from), jv_copy(to)))
                    break;
                jv_free(from);
                jv_free(to);
            } while (1);
            config = jv_copy(s->config);
            ar_jv_set(&config, g->keys[k].name, jv_copy(to));
            jv c = jv_object();
            ar_jv_set(&c, "key", jv_string(g->keys[k].name));
            ar_jv_set(&c, "from", jv_copy(from));
            ar_jv_set(&c, "to", jv_copy(to));
            changes = jv_array_append(changes, c);
        }
        struct key *key = &g->keys[k];
        double effect = a < key->nalts ? key->effect[a * np + s->platform % np] : 0;
        delta = effect + rng_normal() * p->sigma;
        bpb = s->bpb + delta;
        if (bpb < p->base_bpb * 0.5)   /* a floor: gains run out */
            bpb = p->base_bpb * 0.5 + fabs(rng_normal() * p->sigma);
        crashed = rng_unit() < g->crash_frac;
        category = category_of(key->name);
        if (crashed)
            status = "crash";
        else if (fabs(delta) < p->sigma * 0.1)
            status = "inconclusive";
        else
            status = delta < 0 ? "keep" : "discard";
        int numeric = jv_get_kind(to) == JV_KIND_NUMBER && jv_get_kind(from) == JV_KIND_NUMBER;
        int up = numeric && jv_number_value(to) > jv_number_value(from);
        jv ft = value_text(from), tt = value_text(to);
        hyp = jv_string_fmt("%s%s %s from %s to %s", replicate >= 0 ? "replicate: " : "",
                            numeric ? (up ? "raise" : "lower") : "set", key->name,
                            jv_string_value(ft), jv_string_value(tt));
        jv_free(ft);
        jv_free(tt);
        tags = jv_array_append(tags, jv_string(key->name));
        if (numeric)
            tags = jv_array_append(tags, jv_string(up ? "up" : "down"));
        if (replicate >= 0)
            tags = jv_array_append(tags, jv_string("replicate"));
        jv_free(from);
        jv_free(to);
    }
    ar_json_hash(config, hex);
    ar_jv_set(&card, "hypothesis", hyp);
    ar_jv_set(&card, "category", jv_string(category));
    ar_jv_set(&card, "status", jv_string(status));
    ar_jv_set(&card, "tags", tags);
    ar_jv_set(&card, "changes", changes);
    ar_jv_set(&card, "config_hash", jv_string(hex));
    ar_jv_set(&card, "metrics", metrics(p, config, bpb, crashed));
    ar_jv_set(&card, "delta", crashed || s->ncards == 0 ? jv_null() : jv_number(round(delta * 1e6) / 1e6));
    ar_jv_set(&card, "config", config);
    store(g, &card, 0, id, check);

    /* the session moves on from its best card */
    if (s->ncards == 0) {
        memcpy(s->baseline, id, sizeof id);
        memcpy(s->best, id, sizeof id);
        s->bpb = bpb;
    } else if (strcmp(status, "keep") == 0 && replicate < 0) {
        jv_free(s->config);
        s->config = ar_jv_get(card, "config");
        s->bpb = bpb;
        memcpy(s->best, id, sizeof id);
    }
    if (!crashed && s->ncards > 0) {
        if (s->nrecent < RECENT) {
            s->recent[s->nrecent++] = jv_copy(card);
        } else {
            int slot = rng_below(RECENT);
            jv_free(s->recent[slot]);
            s->recent[slot] = jv_copy(card);
        }
    }
    memcpy(s->commit, commit, sizeof commit);
    s->ncards++;
    g->cards++;

    /* annotations */
    double u = rng_unit();
    if (u < g->retract_frac) {
        add_note(g, id, t + 60, "retract", "the run used a stale data split", NULL, check);
    } else if (u < g->retract_frac * 2 && !crashed) {
        add_note(g, id, t + 90, "status", "did not hold up on a re-run",
                 strcmp(status, "keep") == 0 ? "discard" : "keep", check);
    }
    if (rng_unit() < g->note_frac) {
        char text[200];
        snprintf(text, sizeof text, "%s: val_bpb %+.6f (%s)", ar_jv_str(card, "hypothesis"),
                 crashed ? 0.0 : delta, status);
        add_note(g, id, t + 120, rng_unit() < 0.8 ? "lesson" : "comment", text, NULL, check);
    }
    jv_free(card);
}

/* -------------------------------------------------------------------- main */

static const char usage[] =
    "usage: gencards --kb DIR [--cards N] [--platforms P] [--keys K] [--sessions S] ...\n"
    "\n"
    "Writes N synthetic valid cards (and notes) into the knowledge base DIR,\n"
    "which must not hold cards yet, then builds its index. The same options\n"
    "and seed give byte-identical files.\n";

int main(int argc, char **argv)
{
    ar_set_prog(argv[0]);
    const char *kbdir = NULL;
    long ncards = 1000, nplat = 5, nkeys = 50, nsessions = 0, seed = 1;
    double replicate = 0.1, notes = 0.3, retract = 0.01, crash = 0.03;
    int check = 0, no_index = 0;
    struct ar_opt opts[] = {
        AR_OPT_STR("kb", &kbdir, "DIR", "knowledge base to fill (default $AR_KB)"),
        AR_OPT_INT("cards", &ncards, "N", "number of cards (default 1000)"),
        AR_OPT_INT("platforms", &nplat, "P", "platform classes (default 5)"),
        AR_OPT_INT("keys", &nkeys, "K", "config keys that experiments vary (default 50)"),
        AR_OPT_INT("sessions", &nsessions, "S", "sessions (default: one per 500 cards, at least P)"),
        AR_OPT_NUM("replicates", &replicate, "F", "fraction of cards replicating an earlier config (0.1)"),
        AR_OPT_NUM("notes", &notes, "F", "fraction of cards with a lesson or comment note (0.3)"),
        AR_OPT_NUM("retracted", &retract, "F", "fraction of cards retracted (0.01; as many status notes)"),
        AR_OPT_NUM("crashes", &crash, "F", "fraction of crashed runs (0.03)"),
        AR_OPT_INT("seed", &seed, "N", "random seed (default 1)"),
        AR_OPT_BOOL("check", &check, "validate every card and note before writing it"),
        AR_OPT_BOOL("no-index", &no_index, "do not build the index"),
        AR_OPT_END,
    };
    if (ar_opt_parse(opts, argc, argv, usage) != 0)
        ar_die(AR_EINPUT, "unexpected argument '%s' (see --help)", argv[0]);
    if (ncards < 0 || nplat < 1 || nplat > 1000 || nkeys < 1 || nkeys > 10000 || nsessions < 0)
        ar_die(AR_EINPUT, "--cards, --platforms, --keys and --sessions must be positive");
    if (nsessions == 0)
        nsessions = ncards / 500 > nplat ? ncards / 500 : nplat;

    struct gen g = {0};
    if (ar_kb_open(&g.kb, kbdir, AR_KB_CREATE) != 0)
        ar_die_last();
    size_t existing;
    char **ids = ar_list_ids(g.kb.cards, &existing);
    ar_free_ids(ids, existing);
    if (existing)
        ar_die(AR_EINPUT, "%s: already holds %zu cards", g.kb.cards, existing);

    rng_state = (uint64_t)seed;
    g.nplat = (int)nplat;
    g.nsessions = (int)nsessions;
    g.replicate_frac = replicate;
    g.note_frac = notes;
    g.retract_frac = retract;
    g.crash_frac = crash;
    struct train_config defaults;
    config_defaults(&defaults);
    jv base = config_to_json(&defaults);
    int got;
    g.keys = make_keys(base, (int)nkeys, g.nplat, &got);
    g.nkeys = got;
    for (int k = 0; k < g.nkeys; k++)   /* synthetic keys join the config */
        if (!ar_jv_has(base, g.keys[k].name))
            ar_jv_set(&base, g.keys[k].name, jv_number(1));
    g.platforms = jv_array();
    for (int p = 0; p < g.nplat; p++)
        g.platforms = jv_array_append(g.platforms, platform_json(p));
    g.data = jv_object();
    ar_jv_set(&g.data, "corpus", jv_string("nlp-corpus"));
    ar_jv_set(&g.data, "tokenizer_hash",
              jv_string("5d1c0a3e9b7f24c68e1a0b9d3c7f5e2a4b6c8d0e1f2a3b4c5d6e7f8091a2b3c4"));
    ar_jv_set(&g.data, "vocab", jv_number(8192));
    ar_jv_set(&g.data, "val_tokens", jv_number(1048576));
    ar_jv_set(&g.data, "fingerprint", jv_string("7e3f09c2d4a1b856"));

    g.sessions = ar_xmalloc((size_t)nsessions * sizeof *g.sessions);
    for (int i = 0; i < g.nsessions; i++) {
        struct session *s = &g.sessions[i];
        memset(s, 0, sizeof *s);
        s->platform = i % g.nplat;
        jv cls = ar_jv_get(jv_array_get(jv_copy(g.platforms), s->platform), "class");
        snprintf(s->tag, sizeof s->tag, "%s-run%03d", jv_string_value(cls), i / g.nplat);
        jv_free(cls);
        snprintf(s->agent, sizeof s->agent, "agent-%02d", i % 37);
        s->config = jv_copy(base);
    }
    /* sessions run side by side: cards interleave in time */
    g.t0 = 1767225600;   /* 2026-01-01T00:00:00Z */
    for (long i = 0; i < ncards; i++)
        make_card(&g, &g.sessions[i % g.nsessions], g.t0 + i * 29, check);

    if (!no_index && ar_index_rebuild(&g.kb) != 0)
        ar_die_last();
    fprintf(stderr, "gencards: %ld cards, %ld notes, %d sessions, %d platform classes, %d keys in %s\n",
            g.cards, g.notes_written, g.nsessions, g.nplat, g.nkeys, g.kb.root);

    for (int i = 0; i < g.nsessions; i++) {
        jv_free(g.sessions[i].config);
        for (int r = 0; r < g.sessions[i].nrecent; r++)
            jv_free(g.sessions[i].recent[r]);
    }
    for (int k = 0; k < g.nkeys; k++) {
        for (int a = 0; a < g.keys[k].nalts; a++)
            jv_free(g.keys[k].alts[a]);
        free(g.keys[k].effect);
    }
    free(g.keys);
    free(g.sessions);
    jv_free(base);
    jv_free(g.platforms);
    jv_free(g.data);
    ar_buf_free(&g.text);
    return AR_OK;
}

#include "analysis/synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "facts/card.h"
#include "base/err.h"
#include "base/json.h"
#include "base/sha256.h"

/* ------------------------------------------------------------ helpers */

const char *ar_synth_session_file(const char *tag, char *out, size_t size)
{
    struct ar_buf b = {0};
    int altered = 0;
    ar_buf_puts(&b, "session-");
    for (const char *p = tag; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                 c == '-' || (c == '.' && p != tag);
        ar_buf_putc(&b, ok ? c : '_');
        altered |= !ok;
    }
    if (altered) {   /* "a/b" and "a_b" must not share a file */
        char hex[65];
        ar_sha256_hex(tag, strlen(tag), hex);
        ar_buf_printf(&b, "-%.8s", hex);
    }
    ar_buf_puts(&b, ".md");
    snprintf(out, size, "%s", b.data);
    ar_buf_free(&b);
    return out;
}

int ar_synth_write(const char *path, const char *data, size_t len, int *changed)
{
    char *old;
    size_t oldlen;
    if (changed)
        *changed = 0;
    if (access(path, F_OK) == 0 && ar_read_file(path, len + 1, &old, &oldlen) == 0) {
        int same = oldlen == len && memcmp(old, data, len) == 0;
        free(old);
        if (same)
            return 0;
    }
    if (ar_write_atomic(path, data, len) != 0)
        return -1;
    if (changed)
        *changed = 1;
    return 0;
}

static int cmp_importance(const void *a, const void *b)
{
    const struct ar_claim *x = *(const struct ar_claim *const *)a, *y = *(const struct ar_claim *const *)b;
    double ix = fabs(ar_claim_importance(x)), iy = fabs(ar_claim_importance(y));
    if (ix != iy)
        return ix > iy ? -1 : 1;
    if (x->all.certainty != y->all.certainty)
        return x->all.certainty > y->all.certainty ? -1 : 1;
    return strcmp(x->name, y->name);
}

const struct ar_claim **ar_synth_by_importance(const struct ar_findings *f)
{
    const struct ar_claim **v = ar_xmalloc((f->n ? f->n : 1) * sizeof *v);
    for (size_t i = 0; i < f->n; i++)
        v[i] = &f->claims[i];
    qsort(v, f->n, sizeof *v, cmp_importance);
    return v;
}

static int is(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

/* Markdown table cells and list items: one line, no pipes. */
static void put_text(struct ar_buf *b, const char *s, size_t max)
{
    size_t n = 0;
    for (; *s && n < max; s++, n++)
        ar_buf_putc(b, *s == '\n' || *s == '\t' ? ' ' : *s == '|' ? '/' : *s);
    if (*s)
        ar_buf_puts(b, "...");
}

static void classes_with(struct ar_buf *b, const struct ar_claim *c, const char *verdict)
{
    int n = 0;
    for (int i = 0; i < c->nclasses; i++)
        if (is(c->classes[i].verdict, verdict))
            ar_buf_printf(b, "%s%s", n++ ? ", " : "", c->classes[i].platform[0] ? c->classes[i].platform : "-");
    if (!n)
        ar_buf_puts(b, "-");
}

static void claim_line(struct ar_buf *b, const struct ar_claim *c)
{
    ar_buf_printf(b, "- `%s`: %s, certainty %.2f", c->name, c->all.verdict, c->all.certainty);
    if (c->all.runs)
        ar_buf_printf(b, ", effect %+.4f", c->all.effect);
    ar_buf_printf(b, " (%d run%s: %d confirm, %d refute, %d null", c->all.runs, c->all.runs == 1 ? "" : "s",
                  c->all.confirms, c->all.refutes, c->all.nulls);
    if (c->all.crashes)
        ar_buf_printf(b, "; %d crash%s", c->all.crashes, c->all.crashes == 1 ? "" : "es");
    ar_buf_printf(b, "); %s", c->scope);
    if (c->all.confirms) {
        ar_buf_puts(b, ", confirmed on ");
        classes_with(b, c, "confirmed");
    }
    ar_buf_puts(b, "\n");
}

static void more_line(struct ar_buf *b, int shown, int total)
{
    if (total > shown)
        ar_buf_printf(b, "- ... and %d more\n", total - shown);
}

/* Refuted, only crashed, or tried until certainty fell below
 * AR_SYNTH_DEAD_NULL without a single significant result. */
static int is_dead_end(const struct ar_claim *c)
{
    return is(c->all.verdict, "refuted") || is(c->all.verdict, "crashed") ||
           (is(c->all.verdict, "null") && c->all.certainty < AR_SYNTH_DEAD_NULL);
}

static int is_open(const struct ar_claim *c)
{
    return is(c->all.verdict, "mixed") || (is(c->all.verdict, "null") && !is_dead_end(c)) ||
           is(c->all.verdict, "untested") ||
           (is(c->all.verdict, "confirmed") && is(c->scope, "single-platform"));
}

static int is_confirmed(const struct ar_claim *c) { return is(c->all.verdict, "confirmed"); }

/* A "## heading" section listing the claims that pass keep, in certainty
 * order (reversed: lowest first), at most AR_SYNTH_LIST_MAX of them; nothing
 * when none passes. */
static void claim_section(struct ar_buf *b, const struct ar_claim **by, size_t n,
                          int (*keep)(const struct ar_claim *), const char *heading, int reversed)
{
    int total = 0, shown = 0;
    for (size_t k = 0; k < n; k++) {
        const struct ar_claim *c = by[reversed ? n - 1 - k : k];
        if (!keep(c))
            continue;
        if (!total++)
            ar_buf_printf(b, "\n## %s\n\n", heading);
        if (shown < AR_SYNTH_LIST_MAX && ++shown)
            claim_line(b, c);
    }
    more_line(b, shown, total);
}

/* The best and baseline table, one row per comparability key. */
static void best_table(struct ar_buf *b, const struct ar_kbstats *st)
{
    ar_buf_puts(b, "| comparability key | baseline | best | improvement | z | runs | best card | commit |\n"
                   "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |\n");
    for (size_t k = 0; k < st->nkeys; k++) {
        const struct ar_keystat *ks = &st->keys[k];
        const struct ar_cardsum *best = &st->cards[ks->best];
        ar_buf_printf(b, "| %s | ", ks->key);
        if (ks->baseline >= 0)
            ar_buf_printf(b, "%.6f | %.6f | %+.6f | %.1f", st->cards[ks->baseline].val_bpb, best->val_bpb,
                          best->val_bpb - st->cards[ks->baseline].val_bpb,
                          -(best->val_bpb - st->cards[ks->baseline].val_bpb) / ar_stats_sigma(st, ks->platform));
        else
            ar_buf_printf(b, "- | %.6f | - | -", best->val_bpb);
        ar_buf_printf(b, " | %d | %s | %.12s |\n", ks->runs, best->id, best->commit ? best->commit : "-");
    }
}

static void noise_lines(struct ar_buf *b, const struct ar_kbstats *st)
{
    for (size_t i = 0; i < st->nnoise; i++) {
        const struct ar_noise *nz = &st->noise[i];
        if (nz->is_default)
            ar_buf_printf(b, "- noise floor %s: σ = %.4f (the literature prior: no replicates yet)\n",
                          nz->platform, nz->sigma);
        else
            ar_buf_printf(b, "- noise floor %s: σ = %.4f (%d replicate groups, %d runs, pooled %.4f, shrunk towards %.3f)\n",
                          nz->platform, nz->sigma, nz->groups, nz->runs, nz->pooled, AR_SIGMA_DEFAULT);
    }
}


/* "## Lessons": the lesson of every card that has one (the last lesson
 * note of each, as the index keeps it), newest card first, none left out;
 * retracted cards' lessons too, marked, since what went wrong is a lesson. */
static void lessons_section(struct ar_buf *b, const struct ar_kbstats *st)
{
    int n = 0;
    for (size_t i = st->n; i-- > 0;) {
        const struct ar_cardsum *c = &st->cards[i];
        if (!c->lesson)
            continue;
        if (!n++)
            ar_buf_puts(b, "\n## Lessons\n\n");
        ar_buf_printf(b, "- %s (%s%s, ", c->id, c->status, c->retracted ? ", retracted" : "");
        put_text(b, c->agent[0] ? c->agent : "-", 64);
        ar_buf_puts(b, "): ");
        put_text(b, c->lesson, AR_SYNTH_LESSON_MAX);
        ar_buf_puts(b, "\n");
    }
}

/* ------------------------------------------------------------ session */

char *ar_synth_session_md(const struct ar_kbstats *st, const struct ar_findings *f, const char *tag)
{
    struct ar_buf b = {0};
    ar_buf_puts(&b, "# Session ");
    put_text(&b, tag, 128);
    ar_buf_puts(&b, "\n\n");

    int retracted = 0, nstatus[8] = {0};
    static const char *const statuses[] = {"keep", "discard", "crash", "inconclusive", "baseline"};
    const char *first = NULL, *last = NULL;
    for (size_t i = 0; i < st->n; i++) {
        const struct ar_cardsum *c = &st->cards[i];
        if (c->retracted) {
            retracted++;
            continue;
        }
        for (int s = 0; s < 5; s++)
            nstatus[s] += is(c->status, statuses[s]);
        if (c->created && (!first || strcmp(c->created, first) < 0))
            first = c->created;
        if (c->created && (!last || strcmp(c->created, last) > 0))
            last = c->created;
    }
    ar_buf_printf(&b, "- cards: %zu (keep %d, discard %d, crash %d, inconclusive %d, baseline %d); retracted %d\n",
                  st->n, nstatus[0], nstatus[1], nstatus[2], nstatus[3], nstatus[4], retracted);
    /* platform classes and agents, in name order */
    for (int pass = 0; pass < 2; pass++) {
        const char **seen = ar_xmalloc((st->n ? st->n : 1) * sizeof *seen);
        int *count = ar_xmalloc((st->n ? st->n : 1) * sizeof *count);
        size_t ns = 0;
        for (size_t i = 0; i < st->n; i++) {
            const char *v = pass ? st->cards[i].agent : st->cards[i].platform;
            size_t j = 0;
            while (j < ns && seen[j] != v)
                j++;
            if (j == ns) {
                seen[ns] = v;
                count[ns++] = 0;
            }
            count[j]++;
        }
        for (size_t a = 1; a < ns; a++)   /* insertion sort by name: few */
            for (size_t j = a; j > 0 && strcmp(seen[j - 1], seen[j]) > 0; j--) {
                const char *t = seen[j];
                seen[j] = seen[j - 1];
                seen[j - 1] = t;
                int c = count[j];
                count[j] = count[j - 1];
                count[j - 1] = c;
            }
        ar_buf_puts(&b, pass ? "- agents: " : "- platform classes: ");
        for (size_t j = 0; j < ns; j++)
            ar_buf_printf(&b, "%s%s (%d)", j ? ", " : "", seen[j][0] ? seen[j] : "-", count[j]);
        ar_buf_puts(&b, "\n");
        free(seen);
        free(count);
    }
    if (first)
        ar_buf_printf(&b, "- from %s to %s\n", first, last);
    noise_lines(&b, st);

    if (st->nkeys) {
        ar_buf_puts(&b, "\n## Baseline and best\n\n");
        best_table(&b, st);
    }

    const struct ar_claim **by = ar_synth_by_importance(f);
    claim_section(&b, by, f->n, is_confirmed, "Confirmed findings", 0);
    claim_section(&b, by, f->n, is_dead_end, "Dead ends", 0);   /* loudest first */
    int n = 0, shown = 0;
    for (size_t i = 0; i < st->n; i++) {
        const struct ar_cardsum *c = &st->cards[i];
        if (!c->crash || c->retracted)
            continue;
        if (!n++)
            ar_buf_puts(&b, "\n## Crashes\n\n");
        if (shown < AR_SYNTH_LIST_MAX && ++shown) {
            ar_buf_printf(&b, "- %s: ", c->id);
            put_text(&b, c->hypothesis, 160);
            if (c->lesson) {
                ar_buf_puts(&b, " (lesson: ");
                put_text(&b, c->lesson, 160);
                ar_buf_puts(&b, ")");
            }
            ar_buf_puts(&b, "\n");
        }
    }
    more_line(&b, shown, n);
    claim_section(&b, by, f->n, is_open, "Open questions", 0);
    lessons_section(&b, st);
    free(by);
    return ar_buf_take(&b);
}

/* ------------------------------------------------------------ meta */

struct landscape {
    int bins[10];
    int confirmed, refuted, mixed, null, crashed, untested;
    int universal, platform_specific, single_platform, open;
};

static void landscape_of(const struct ar_findings *f, struct landscape *l)
{
    memset(l, 0, sizeof *l);
    for (size_t i = 0; i < f->n; i++) {
        const struct ar_claim *c = &f->claims[i];
        int bin = (int)floor(c->all.certainty * 10);
        l->bins[bin < 0 ? 0 : bin > 9 ? 9 : bin]++;
        const char *v = c->all.verdict;
        l->confirmed += is(v, "confirmed");
        l->refuted += is(v, "refuted");
        l->mixed += is(v, "mixed");
        l->null += is(v, "null");
        l->crashed += is(v, "crashed");
        l->untested += is(v, "untested");
        l->universal += is(c->scope, "universal");
        l->platform_specific += is(c->scope, "platform-specific");
        l->single_platform += is(c->scope, "single-platform");
        l->open += is(c->scope, "open");
    }
}

struct totals {
    size_t counted, crashes, retracted, sessions;
};

static void totals_of(const struct ar_kbstats *st, struct totals *t)
{
    memset(t, 0, sizeof *t);
    const char **seen = ar_xmalloc((st->n ? st->n : 1) * sizeof *seen);
    for (size_t i = 0; i < st->n; i++) {
        const struct ar_cardsum *c = &st->cards[i];
        t->counted += (size_t)c->counts;
        t->crashes += (size_t)(c->crash && !c->retracted);
        t->retracted += (size_t)c->retracted;
        seen[i] = c->session;
    }
    /* distinct interned pointers */
    for (size_t i = 0; i < st->n; i++) {
        size_t j = 0;
        for (; j < t->sessions && seen[j] != seen[i]; j++)
            ;
        if (j == t->sessions)
            seen[t->sessions++] = seen[i];
    }
    free(seen);
}

/* Open questions, as sentences, in a fixed order. */
static jv open_questions(const struct ar_kbstats *st, const struct ar_findings *f, const struct ar_coverage *cov)
{
    jv q = jv_array();
    char line[512];
    for (size_t i = 0; i < cov->ncategories; i++) {
        const struct ar_covrow *r = &cov->categories[i];
        if (is(r->state, "under-explored") && !is(r->name, "baseline")) {
            snprintf(line, sizeof line, "category %s is under-explored (%d experiments)", r->name, r->experiments);
            q = jv_array_append(q, jv_string(line));
        }
    }
    for (size_t k = 0; k < st->nkeys; k++) {
        const struct ar_keystat *ks = &st->keys[k];
        if (ks->baseline < 0 || ks->best == ks->baseline)
            continue;
        double gain = st->cards[ks->baseline].val_bpb - st->cards[ks->best].val_bpb;
        double sigma = ar_stats_sigma(st, ks->platform);
        int reps = ar_stats_replicates(st, (size_t)ks->best);
        if (gain <= 2 * sigma || reps < 2) {
            snprintf(line, sizeof line, "best on %s (%s) %s", ks->key, st->cards[ks->best].id,
                     gain <= 2 * sigma ? "is within 2σ of the baseline" : "rests on a single run: replicate it");
            q = jv_array_append(q, jv_string(line));
        }
    }
    const struct ar_claim **by = ar_synth_by_importance(f);
    int n = 0;
    for (size_t i = 0; i < f->n && n < AR_SYNTH_LIST_MAX; i++) {
        const struct ar_claim *c = by[i];
        if (is(c->all.verdict, "confirmed") && is(c->scope, "single-platform")) {
            snprintf(line, sizeof line, "%.300s is confirmed on one platform class only: replicate elsewhere",
                     c->name);
            q = jv_array_append(q, jv_string(line));
            n++;
        }
    }
    n = 0;
    for (size_t i = 0; i < f->n && n < AR_SYNTH_LIST_MAX; i++) {
        const struct ar_claim *c = by[i];
        if (is(c->all.verdict, "mixed")) {
            snprintf(line, sizeof line, "%.300s has mixed evidence (%d confirm, %d refute, %d null)", c->name,
                     c->all.confirms, c->all.refutes, c->all.nulls);
            q = jv_array_append(q, jv_string(line));
            n++;
        }
    }
    free(by);
    return q;
}

static jv claim_summary(const struct ar_claim *c)
{
    jv o = jv_object();
    ar_jv_set(&o, "claim", jv_string(c->name));
    ar_jv_set(&o, "certainty", jv_number(round(c->all.certainty * 1e6) / 1e6));
    ar_jv_set(&o, "effect", c->all.runs ? jv_number(round(c->all.effect * 1e6) / 1e6) : jv_null());
    ar_jv_set(&o, "confirms", jv_number(c->all.confirms));
    ar_jv_set(&o, "refutes", jv_number(c->all.refutes));
    ar_jv_set(&o, "nulls", jv_number(c->all.nulls));
    ar_jv_set(&o, "verdict", jv_string(c->all.verdict));
    ar_jv_set(&o, "scope", jv_string(c->scope));
    jv conf = jv_array(), ref = jv_array();
    for (int i = 0; i < c->nclasses; i++) {
        if (is(c->classes[i].verdict, "confirmed"))
            conf = jv_array_append(conf, jv_string(c->classes[i].platform));
        if (is(c->classes[i].verdict, "refuted"))
            ref = jv_array_append(ref, jv_string(c->classes[i].platform));
    }
    ar_jv_set(&o, "confirmed_on", conf);
    ar_jv_set(&o, "refuted_on", ref);
    return o;
}

jv ar_synth_meta_json(const struct ar_kbstats *st, const struct ar_findings *f, const struct ar_coverage *cov)
{
    struct totals t;
    totals_of(st, &t);
    jv o = jv_object();
    ar_jv_set(&o, "schema", jv_string("ar.meta/1"));
    ar_jv_set(&o, "cards", jv_number((double)st->n));
    ar_jv_set(&o, "counted", jv_number((double)t.counted));
    ar_jv_set(&o, "crashes", jv_number((double)t.crashes));
    ar_jv_set(&o, "retracted", jv_number((double)t.retracted));
    ar_jv_set(&o, "sessions", jv_number((double)t.sessions));

    jv plats = jv_object();
    for (size_t i = 0; i < st->nnoise; i++) {
        const struct ar_noise *nz = &st->noise[i];
        jv p = jv_object();
        ar_jv_set(&p, "sigma", jv_number(round(nz->sigma * 1e6) / 1e6));
        ar_jv_set(&p, "replicate_groups", jv_number(nz->groups));
        ar_jv_set(&p, "default", jv_bool(nz->is_default));
        ar_jv_set(&plats, nz->platform[0] ? nz->platform : "-", p);
    }
    ar_jv_set(&o, "platforms", plats);

    jv best = jv_array();
    for (size_t k = 0; k < st->nkeys; k++) {
        const struct ar_keystat *ks = &st->keys[k];
        const struct ar_cardsum *c = &st->cards[ks->best];
        jv x = jv_object();
        ar_jv_set(&x, "key", jv_string(ks->key));
        ar_jv_set(&x, "platform", jv_string(ks->platform));
        ar_jv_set(&x, "runs", jv_number(ks->runs));
        ar_jv_set(&x, "card", jv_string(c->id));
        ar_jv_set(&x, "val_bpb", jv_number(c->val_bpb));
        ar_jv_set(&x, "commit", c->commit ? jv_string(c->commit) : jv_null());
        ar_jv_set(&x, "replicates", jv_number(ar_stats_replicates(st, (size_t)ks->best)));
        if (ks->baseline >= 0) {
            double d = c->val_bpb - st->cards[ks->baseline].val_bpb;
            ar_jv_set(&x, "baseline", jv_string(st->cards[ks->baseline].id));
            ar_jv_set(&x, "baseline_val_bpb", jv_number(st->cards[ks->baseline].val_bpb));
            ar_jv_set(&x, "improvement", jv_number(round(d * 1e6) / 1e6));
            ar_jv_set(&x, "z", jv_number(round(-d / ar_stats_sigma(st, ks->platform) * 1e3) / 1e3));
        } else {
            ar_jv_set(&x, "baseline", jv_null());
        }
        best = jv_array_append(best, x);
    }
    ar_jv_set(&o, "best", best);

    const struct ar_claim **by = ar_synth_by_importance(f);
    jv key = jv_array(), specific = jv_array();
    int n = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (is(by[i]->all.verdict, "confirmed") && n++ < AR_SYNTH_LIST_MAX)
            key = jv_array_append(key, claim_summary(by[i]));
        if (is(by[i]->scope, "platform-specific"))
            specific = jv_array_append(specific, claim_summary(by[i]));
    }
    free(by);
    ar_jv_set(&o, "key_findings", key);
    ar_jv_set(&o, "platform_specific", specific);

    jv covj = jv_object();
    static const char *const states[] = {"under-explored", "saturated"};
    for (int s = 0; s < 2; s++) {
        jv x = jv_object(), cats = jv_array(), keys = jv_array();
        for (size_t i = 0; i < cov->ncategories; i++)
            if (is(cov->categories[i].state, states[s]))
                cats = jv_array_append(cats, jv_string(cov->categories[i].name));
        for (size_t i = 0; i < cov->nkeys; i++)
            if (is(cov->keys[i].state, states[s]))
                keys = jv_array_append(keys, jv_string(cov->keys[i].name));
        ar_jv_set(&x, "categories", cats);
        ar_jv_set(&x, "keys", keys);
        ar_jv_set(&covj, states[s], x);
    }
    ar_jv_set(&o, "coverage", covj);
    ar_jv_set(&o, "open_questions", open_questions(st, f, cov));

    struct landscape l;
    landscape_of(f, &l);
    jv land = jv_object(), bins = jv_array();
    for (int i = 0; i < 10; i++)
        bins = jv_array_append(bins, jv_number(l.bins[i]));
    ar_jv_set(&land, "claims", jv_number((double)f->n));
    ar_jv_set(&land, "bins", bins);
    jv v = jv_object();
    ar_jv_set(&v, "confirmed", jv_number(l.confirmed));
    ar_jv_set(&v, "refuted", jv_number(l.refuted));
    ar_jv_set(&v, "mixed", jv_number(l.mixed));
    ar_jv_set(&v, "null", jv_number(l.null));
    ar_jv_set(&v, "crashed", jv_number(l.crashed));
    ar_jv_set(&v, "untested", jv_number(l.untested));
    ar_jv_set(&land, "verdicts", v);
    jv sc = jv_object();
    ar_jv_set(&sc, "universal", jv_number(l.universal));
    ar_jv_set(&sc, "platform-specific", jv_number(l.platform_specific));
    ar_jv_set(&sc, "single-platform", jv_number(l.single_platform));
    ar_jv_set(&sc, "open", jv_number(l.open));
    ar_jv_set(&land, "scopes", sc);
    ar_jv_set(&o, "landscape", land);
    return o;
}

char *ar_synth_meta_md(const struct ar_kbstats *st, const struct ar_findings *f, const struct ar_coverage *cov)
{
    struct ar_buf b = {0};
    struct totals t;
    totals_of(st, &t);
    struct landscape l;
    landscape_of(f, &l);
    ar_buf_puts(&b, "# Meta-synthesis\n\n");
    ar_buf_printf(&b, "- cards: %zu in %zu sessions on %zu platform classes; counted %zu, crashes %zu, retracted %zu\n",
                  st->n, t.sessions, st->nnoise, t.counted, t.crashes, t.retracted);
    ar_buf_printf(&b, "- claims: %zu (confirmed %d, refuted %d, mixed %d, null %d, crashed %d); "
                      "universal %d, platform-specific %d\n",
                  f->n, l.confirmed, l.refuted, l.mixed, l.null, l.crashed, l.universal, l.platform_specific);
    noise_lines(&b, st);

    if (st->nkeys) {
        ar_buf_puts(&b, "\n## Best per comparability key\n\n");
        best_table(&b, st);
    }

    const struct ar_claim **by = ar_synth_by_importance(f);
    claim_section(&b, by, f->n, is_confirmed, "Key findings", 0);
    int n = 0, shown = 0;
    for (size_t i = 0; i < f->n; i++) {
        const struct ar_claim *c = by[i];
        if (!is(c->scope, "platform-specific"))
            continue;
        if (!n++)
            ar_buf_puts(&b, "\n## Platform-specific findings\n\n");
        if (shown >= AR_SYNTH_LIST_MAX || !++shown)
            continue;
        ar_buf_printf(&b, "- `%s`: confirmed on ", c->name);
        classes_with(&b, c, "confirmed");
        ar_buf_puts(&b, "; refuted on ");
        classes_with(&b, c, "refuted");
        for (int k = 0; k < c->nlinks; k++)
            if (is(c->links[k].type, "CONTRADICTS")) {
                ar_buf_printf(&b, " (CONTRADICTS %s -> %s)", c->links[k].from, c->links[k].to);
                break;
            }
        ar_buf_puts(&b, "\n");
    }
    more_line(&b, shown, n);
    claim_section(&b, by, f->n, is_dead_end, "Dead ends", 0);   /* loudest first */
    free(by);
    lessons_section(&b, st);

    ar_buf_puts(&b, "\n## Coverage\n\n| category | experiments | kept | crashes | best delta | state |\n"
                    "| --- | ---: | ---: | ---: | ---: | --- |\n");
    for (size_t i = 0; i < cov->ncategories; i++) {
        const struct ar_covrow *r = &cov->categories[i];
        char best[32] = "-";
        if (r->has_best)
            snprintf(best, sizeof best, "%+.4f", r->best_delta);
        ar_buf_printf(&b, "| %s | %d | %d | %d | %s | %s |\n", r->name, r->experiments, r->kept, r->crashes, best,
                      r->state);
    }
    static const char *const states[] = {"under-explored", "saturated"};
    for (int s = 0; s < 2; s++) {
        int m = 0;
        for (size_t i = 0; i < cov->nkeys; i++)
            if (is(cov->keys[i].state, states[s]))
                ar_buf_printf(&b, "%s%s", m++ ? ", " : s ? "\nSaturated config keys: " : "\nUnder-explored config keys: ",
                              cov->keys[i].name);
        if (m)
            ar_buf_puts(&b, "\n");
    }

    jv q = open_questions(st, f, cov);
    if (jv_array_length(jv_copy(q)) > 0) {
        ar_buf_puts(&b, "\n## Open questions\n\n");
        jv_array_foreach(q, i, s) {
            ar_buf_printf(&b, "- %s\n", jv_string_value(s));
            jv_free(s);
        }
    }
    jv_free(q);

    ar_buf_puts(&b, "\n## Certainty landscape\n\n| certainty | claims |\n| --- | ---: |\n");
    for (int i = 9; i >= 0; i--)
        ar_buf_printf(&b, "| %.1f-%.1f | %d |\n", i / 10.0, (i + 1) / 10.0, l.bins[i]);
    return ar_buf_take(&b);
}

int ar_synth_dead_end(const struct ar_claim *c)
{
    return is_dead_end(c);
}

jv ar_synth_open_questions(const struct ar_kbstats *st, const struct ar_findings *f,
                           const struct ar_coverage *cov)
{
    return open_questions(st, f, cov);
}

/* lib/stats: card summaries, comparability keys, noise floor from
 * replicates, best per key, baselines, z-scores, exclusion of retracted and
 * crash cards, on hand-made card views. */
#include "unit.h"
#include "base/err.h"
#include "analysis/stats.h"
#include "facts/card.h"
#include "index/store.h"
#include "facts/kb.h"
#include "index/index.h"
#include "facts/id.h"
#include "facts/note.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Adds a view: id, status, class, then more members as JSON text. */
static void add(struct ar_kbstats *st, const char *id, const char *status, const char *cls, const char *more)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"id\":\"%s\",\"status\":\"%s\",\"retracted\":false,\"agent\":\"a\","
             "\"platform\":{\"class\":\"%s\"},\"data\":{\"fingerprint\":\"fp\"},\"budget_s\":300%s%s}",
             id, status, cls, more && *more ? "," : "", more ? more : "");
    ck_assert_msg(ar_kbstats_add_text(st, text, strlen(text)) == 0, "%s", ar_last_error());
}

static void run(struct ar_kbstats *st, const char *id, const char *cls, const char *hash, double bpb)
{
    char more[256];
    snprintf(more, sizeof more, "\"config_hash\":\"%s\",\"metrics\":{\"val_bpb\":%.17g}", hash, bpb);
    add(st, id, "keep", cls, more);
}

START_TEST(noise_floor_is_pooled_sd_of_replicates)
{
    struct ar_kbstats *st = ar_kbstats_new();
    run(st, "c01", "A", "h1", 1.00);
    run(st, "c02", "A", "h1", 1.02);
    run(st, "c03", "A", "h2", 1.10);
    run(st, "c04", "A", "h2", 1.11);
    run(st, "c05", "A", "h2", 1.12);
    run(st, "c06", "A", "h3", 1.50);   /* alone: no replicate */
    run(st, "c07", "B", "h1", 1.00);
    ar_kbstats_finish(st);
    /* squared deviations: 0.0002 (h1) + 0.0002 (h2); degrees of freedom 1 + 2 */
    const struct ar_noise *a = ar_stats_noise(st, "A");
    ck_assert_ptr_nonnull(a);
    ck_assert_double_eq_tol(a->pooled, sqrt(0.0004 / 3), 1e-12);
    /* shrunk towards the prior 0.002 with the weight of 4 degrees of freedom */
    ck_assert_double_eq_tol(a->sigma, sqrt((4 * 0.002 * 0.002 + 0.0004) / (4 + 3)), 1e-12);
    ck_assert_int_eq(a->dof, 3);
    ck_assert_int_eq(a->groups, 2);
    ck_assert_int_eq(a->runs, 5);
    ck_assert_int_eq(a->is_default, 0);
    ck_assert_int_eq(ar_stats_replicates(st, 2), 3);
    ck_assert_int_eq(ar_stats_replicates(st, 5), 1);
    ar_kbstats_free(st);
}
END_TEST


/* The case: a --max-steps 1 run of the baseline config moved sigma
 * from 0.126 to 0.485. It trained 2 s of a 300 s budget: not a replicate. */
START_TEST(truncated_runs_are_not_replicates)
{
    struct ar_kbstats *st = ar_kbstats_new();
    add(st, "c01", "baseline", "A", "\"config_hash\":\"h1\",\"metrics\":{\"val_bpb\":1.00,\"training_seconds\":300.2}");
    add(st, "c02", "keep", "A", "\"config_hash\":\"h1\",\"metrics\":{\"val_bpb\":1.02,\"training_seconds\":300.0}");
    add(st, "c03", "discard", "A",
        "\"config_hash\":\"h1\",\"metrics\":{\"val_bpb\":3.40,\"training_seconds\":2.1},\"extra\":{\"max_steps\":1}");
    /* no training_seconds (an imported row): taken as a full run */
    add(st, "c04", "keep", "A", "\"config_hash\":\"h1\",\"metrics\":{\"val_bpb\":1.01}");
    ar_kbstats_finish(st);
    ck_assert_int_eq(st->cards[2].truncated, 1);
    ck_assert_int_eq(st->cards[0].truncated, 0);
    ck_assert_int_eq(st->cards[3].truncated, 0);
    const struct ar_noise *a = ar_stats_noise(st, "A");
    ck_assert_int_eq(a->runs, 3);
    ck_assert_double_eq_tol(a->pooled, 0.01, 1e-12);   /* sd of 1.00, 1.02, 1.01 */
    ck_assert_double_eq_tol(a->sigma, sqrt((4 * 0.002 * 0.002 + 0.0002) / (4 + 2)), 1e-12);
    ck_assert_int_eq(ar_stats_replicates(st, 0), 3);
    ck_assert_int_eq(ar_stats_replicates(st, 2), 1);   /* counts, alone */
    ck_assert_int_eq(st->cards[2].counts, 1);          /* still a val_bpb */
    ck_assert_int_eq(ar_stats_truncated(269, 300), 1);
    ck_assert_int_eq(ar_stats_truncated(271, 300), 0);
    ck_assert_int_eq(ar_stats_truncated(5, 0), 0);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(noise_floor_defaults_without_replicates)
{
    struct ar_kbstats *st = ar_kbstats_new();
    run(st, "c01", "B", "h1", 1.00);
    /* same config but another budget: not a replicate */
    add(st, "c02", "keep", "B", "\"config_hash\":\"h1\",\"budget_s\":60,\"metrics\":{\"val_bpb\":1.3}");
    ar_kbstats_finish(st);
    const struct ar_noise *b = ar_stats_noise(st, "B");
    ck_assert_int_eq(b->is_default, 1);
    ck_assert_double_eq(b->sigma, AR_SIGMA_DEFAULT);
    ck_assert_double_eq(ar_stats_sigma(st, "unknown-class"), AR_SIGMA_DEFAULT);
    ck_assert_int_eq((int)st->nkeys, 2);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(identical_replicates_shrink_towards_the_prior)
{
    struct ar_kbstats *st = ar_kbstats_new();
    run(st, "c01", "A", "h1", 1.00);
    run(st, "c02", "A", "h1", 1.00);
    ar_kbstats_finish(st);
    /* one pair that happens to agree exactly does not make sigma vanish */
    ck_assert_double_eq(ar_stats_noise(st, "A")->pooled, 0);
    ck_assert_double_eq_tol(ar_stats_sigma(st, "A"), sqrt(4 * 0.002 * 0.002 / 5), 1e-12);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(retracted_and_crash_cards_never_count)
{
    struct ar_kbstats *st = ar_kbstats_new();
    run(st, "c01", "A", "h1", 1.00);
    run(st, "c02", "A", "h1", 1.01);
    add(st, "c03", "keep", "A", "\"retracted\":true,\"config_hash\":\"h1\",\"metrics\":{\"val_bpb\":0.5}");
    add(st, "c04", "crash", "A", "\"config_hash\":\"h1\"");
    /* a status note made this one a crash; its val_bpb must not count */
    add(st, "c05", "crash", "A", "\"card_status\":\"keep\",\"config_hash\":\"h1\",\"metrics\":{\"val_bpb\":0.4}");
    ar_kbstats_finish(st);
    ck_assert_int_eq(st->cards[2].counts, 0);
    ck_assert_int_eq(st->cards[3].counts, 0);
    ck_assert_int_eq(st->cards[3].crash, 1);
    ck_assert_int_eq(st->cards[4].counts, 0);
    ck_assert_double_eq_tol(ar_stats_sigma(st, "A"), sqrt((4 * 0.002 * 0.002 + 0.00005) / 5), 1e-12);
    const struct ar_keystat *k = ar_stats_key(st, "fp|300|A");
    ck_assert_ptr_nonnull(k);
    ck_assert_int_eq(k->runs, 2);
    ck_assert_str_eq(st->cards[k->best].id, "c01");
    ck_assert_int_eq(ar_stats_replicates(st, 2), 0);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(best_and_baseline_per_comparability_key)
{
    struct ar_kbstats *st = ar_kbstats_new();
    add(st, "c01", "baseline", "A", "\"metrics\":{\"val_bpb\":1.20}");
    add(st, "c02", "keep", "A", "\"metrics\":{\"val_bpb\":1.10}");
    add(st, "c03", "discard", "A", "\"metrics\":{\"val_bpb\":1.10}");   /* tie: c02 stays best */
    add(st, "c04", "baseline", "A", "\"metrics\":{\"val_bpb\":1.22}");
    add(st, "c05", "keep", "B", "\"metrics\":{\"val_bpb\":0.90}");
    add(st, "c06", "keep", "A", "\"data\":{\"fingerprint\":\"other\"},\"metrics\":{\"val_bpb\":0.5}");
    ar_kbstats_finish(st);
    ck_assert_int_eq((int)st->nkeys, 3);
    const struct ar_keystat *a = ar_stats_key(st, "fp|300|A");
    ck_assert_str_eq(st->cards[a->best].id, "c02");
    ck_assert_str_eq(st->cards[a->baseline].id, "c01");
    ck_assert_int_eq(a->baselines, 2);
    ck_assert_double_eq_tol(a->baseline_mean, 1.21, 1e-12);
    ck_assert_int_eq(a->runs, 4);
    const struct ar_keystat *b = ar_stats_key(st, "fp|300|B");
    ck_assert_str_eq(st->cards[b->best].id, "c05");
    ck_assert_int_eq(b->baseline, -1);
    ck_assert_ptr_null(ar_stats_key(st, "fp|300|C"));
    ar_kbstats_free(st);
}
END_TEST

START_TEST(z_scores_against_the_class_noise_floor)
{
    struct ar_kbstats *st = ar_kbstats_new();
    add(st, "c01", "baseline", "A", "\"metrics\":{\"val_bpb\":1.20}");
    add(st, "c02", "keep", "A", "\"delta\":-0.004,\"metrics\":{\"val_bpb\":1.196}");
    /* no delta given: computed from its baseline card in the same key */
    add(st, "c03", "keep", "A", "\"baseline\":\"c01\",\"metrics\":{\"val_bpb\":1.19}");
    /* baseline in another key: absolute val_bpb does not travel */
    add(st, "c04", "keep", "B", "\"baseline\":\"c01\",\"metrics\":{\"val_bpb\":1.0}");
    add(st, "c05", "keep", "A", "\"delta\":null,\"metrics\":{\"val_bpb\":1.3}");
    ar_kbstats_finish(st);
    ck_assert_double_eq_tol(ar_stats_z(st, &st->cards[1]), 2.0, 1e-12);
    ck_assert_int_eq(st->cards[2].has_delta, 1);
    ck_assert_double_eq_tol(st->cards[2].delta, -0.01, 1e-12);
    ck_assert_double_eq_tol(ar_stats_z(st, &st->cards[2]), 5.0, 1e-9);
    ck_assert_int_eq(st->cards[3].has_delta, 0);
    ck_assert_double_eq(ar_stats_z(st, &st->cards[3]), 0);
    ck_assert_int_eq(st->cards[4].has_delta, 0);
    ar_kbstats_free(st);
}
END_TEST

/* finish orders cards by id as strcmp does, comparing id-form ids by
 * their numbers: ids that differ only in a late hex digit, in the time,
 * and ids not of the id form mixed in */
START_TEST(cards_sort_by_id_as_strcmp_does)
{
    static const char *ids[] = {
        "20260102T030405Z-00000000000b", "20260102T030405Z-00000000000a", "x-not-an-id",
        "20251231T235959Z-ffffffffffff", "20260102T030405Z-00000000000", "20260102T030406Z-000000000000",
        "20260102T030405Z-A0000000000a", "20260102T030405Z-f00000000000", "1",
    };
    size_t n = sizeof ids / sizeof *ids;
    struct ar_kbstats *st = ar_kbstats_new();
    for (size_t i = 0; i < n; i++)
        add(st, ids[i], "keep", "A", "\"metrics\":{\"val_bpb\":1}");
    ar_kbstats_finish(st);
    ck_assert_uint_eq(st->n, n);
    for (size_t i = 1; i < n; i++)
        ck_assert_msg(strcmp(st->cards[i - 1].id, st->cards[i].id) < 0, "%s before %s", st->cards[i - 1].id,
                      st->cards[i].id);
    for (size_t i = 0; i < n; i++) {
        long at = ar_stats_find(st, ids[i]);
        ck_assert_int_ge(at, 0);
        ck_assert_str_eq(st->cards[at].id, ids[i]);
    }
    ck_assert_int_eq((int)ar_stats_find(st, "20260102T030405Z-00000000000c"), -1);
    uint64_t hi, lo;
    ar_stats_id_key("20260102T030405Z-00000000000a", &hi, &lo);
    ck_assert_uint_eq(hi, 20260102030405ULL);
    ck_assert_uint_eq(lo, 10);
    ar_stats_id_key("20260102T030405Z-A0000000000a", &hi, &lo);
    ck_assert(hi >> 63);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(views_are_summarised_in_id_order)
{
    struct ar_kbstats *st = ar_kbstats_new();
    add(st, "c02", "revert", "A",
        "\"session\":\"s1\",\"category\":\"optimizer\",\"tags\":[\"lr\",\"muon\"],\"prior_cards\":[\"c01\"],"
        "\"changes\":[{\"key\":\"matrix_lr\",\"from\":0.04,\"to\":0.05},{\"key\":\"mlp\",\"from\":\"relu2\"}],"
        "\"notes\":[{\"kind\":\"lesson\",\"text\":\"old\"},{\"kind\":\"comment\",\"text\":\"x\"},"
        "{\"kind\":\"lesson\",\"text\":\"new\"}],\"metrics\":{\"val_bpb\":1,\"training_seconds\":300.5}");
    add(st, "c01", "keep", "A", "\"session\":\"s1\",\"metrics\":{\"val_bpb\":1}");
    ar_kbstats_finish(st);
    ck_assert_str_eq(st->cards[0].id, "c01");
    const struct ar_cardsum *c = &st->cards[1];
    ck_assert_str_eq(c->status, "discard");
    ck_assert_str_eq(c->category, "optimizer");
    ck_assert_ptr_eq(c->session, st->cards[0].session);   /* interned */
    ck_assert_int_eq(c->ntags, 2);
    ck_assert_str_eq(c->tags[1], "muon");
    ck_assert_int_eq(c->nprior, 1);
    ck_assert_str_eq(c->lesson, "new");
    ck_assert_double_eq(c->training_seconds, 300.5);
    ck_assert_int_eq(c->nchanges, 2);
    ck_assert_int_eq(c->changes[0].numeric, 1);
    ck_assert_double_eq(c->changes[0].to_num, 0.05);
    ck_assert_str_eq(c->changes[1].from, "\"relu2\"");
    ck_assert_str_eq(c->changes[1].to, "null");
    ck_assert_int_eq(c->changes[1].numeric, 0);
    ck_assert_int_eq((int)ar_stats_find(st, "c02"), 1);
    ck_assert_int_eq((int)ar_stats_find(st, "c00"), -1);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(keyname_marks_absent_parts)
{
    char k[128];
    ck_assert_str_eq(ar_stats_keyname("abc", 300, "h100", k, sizeof k), "abc|300|h100");
    ck_assert_str_eq(ar_stats_keyname("", 0, NULL, k, sizeof k), "-|0|-");
    ck_assert_str_eq(ar_stats_keyname("f", 12.5, "cpu", k, sizeof k), "f|12.5|cpu");
}
END_TEST

START_TEST(a_view_without_id_is_rejected)
{
    struct ar_kbstats *st = ar_kbstats_new();
    ck_assert_int_eq(ar_kbstats_add_text(st, "{\"status\":\"keep\"}", 17), -1);
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    ck_assert_int_eq(ar_kbstats_add_text(st, "{nope", 5), -1);
    ar_kbstats_finish(st);
    ck_assert_int_eq((int)st->n, 0);
    ck_assert_int_eq((int)st->nkeys, 0);
    ar_kbstats_free(st);
}
END_TEST

START_TEST(scanner_reads_any_valid_json)
{
    struct ar_pool p = {0};
    struct ar_cardsum c;
    /* white space, member order, escapes, surrogate pairs, brackets and
     * quotes inside skipped strings, nested skipped values */
    const char *t =
        "{ \"config\" : {\"a\":[1,{\"b\":\"}]\\\"[{\"}],\"c\":\"x\\\\\"},\n"
        "  \"hypothesis\": \"raise \\\"lr\\\"\\n\\u00e9\\ud83d\\ude00\",\n"
        "  \"metrics\": {\"val_bpb\": 1.5e-1, \"training_seconds\": 300},\n"
        "  \"platform\": {\"name\": \"x\", \"class\": \"h100\"},\n"
        "  \"changes\": [{\"to\": {\"k\": [1, 2]}, \"key\": \"mlp\", \"from\": \"relu2\"}],\n"
        "  \"extra\": {\"deep\": [[[{\"x\": \"]]]\"}]]]},\n"
        "  \"notes\": [{\"kind\": \"lesson\", \"text\": \"t1\"}, {\"text\": \"t2\", \"kind\": \"lesson\"}],\n"
        "  \"retracted\": true, \"delta\": -2E-3, \"baseline\": null, \"id\": \"c1\" }";
    ck_assert_msg(ar_cardsum_parse(&p, t, strlen(t), &c) == 0, "%s", ar_last_error());
    ck_assert_str_eq(c.id, "c1");
    ck_assert_str_eq(c.hypothesis, "raise \"lr\"\n\xc3\xa9\xf0\x9f\x98\x80");
    ck_assert_double_eq(c.val_bpb, 0.15);
    ck_assert_str_eq(c.platform, "h100");
    ck_assert_int_eq(c.nchanges, 1);
    ck_assert_str_eq(c.changes[0].key, "mlp");
    ck_assert_str_eq(c.changes[0].from, "\"relu2\"");
    ck_assert_str_eq(c.changes[0].to, "{\"k\": [1, 2]}");   /* the text as written */
    ck_assert_str_eq(c.lesson, "t2");
    ck_assert_int_eq(c.retracted, 1);
    ck_assert_int_eq(c.has_delta, 1);
    ck_assert_double_eq(c.delta, -0.002);
    ck_assert_ptr_null(c.baseline);
    ck_assert_str_eq(c.status, "");
    ck_assert_str_eq(c.key, "-|0|h100");
    const char *bad[] = {"{\"id\":\"x\"", "{\"id\":\"x\",}", "[1]", "{\"id\":\"x\"} 1",
                         "{\"config\":{\"a\":\"}}", "{\"id\":\"x\",\"metrics\":{\"val_bpb\":}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(ar_cardsum_parse(&p, bad[i], strlen(bad[i]), &c) == -1, "accepted %s", bad[i]);
    ar_pool_free(&p);
}
END_TEST

static void store(const struct ar_kb *kb, const char *created, const char *session, const char *cls,
                  const char *status, const char *tag)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"created\":\"%s\",\"agent\":\"a\",\"session\":\"%s\",\"commit\":\"abc1234\","
             "\"hypothesis\":\"h\",\"category\":\"other\",\"status\":\"%s\",\"tags\":[\"%s\"],"
             "\"platform\":{\"class\":\"%s\"}%s}",
             created, session, status, tag, cls, strcmp(status, "crash") ? ",\"metrics\":{\"val_bpb\":1}" : "");
    jv card = jv_parse(text);
    ck_assert_msg(ar_card_complete(&card) == 0, "%s", ar_last_error());
    char id[AR_ID_LEN + 1];
    ck_assert_msg(ar_store_card(kb, card, id) == 0, "%s", ar_last_error());
    jv_free(card);
}

static size_t count(const struct ar_kb *kb, struct ar_filter f)
{
    struct ar_kbstats *st;
    ck_assert_msg(ar_kbstats_load(kb, &f, &st) == 0, "%s", ar_last_error());
    size_t n = st->n;
    ar_kbstats_free(st);
    return n;
}

START_TEST(load_reads_the_index_with_filters)
{
    char dir[] = "/tmp/ar-test-stats-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    struct ar_kb kb;
    ck_assert_int_eq(ar_kb_open(&kb, dir, AR_KB_CREATE), 0);
    store(&kb, "2026-11-20T10:00:00.000Z", "s1", "cpu", "keep", "lr");
    store(&kb, "2026-11-21T10:00:00.000Z", "s1", "h100", "revert", "lr");
    store(&kb, "2026-11-22T10:00:00.000Z", "s2", "h100", "crash", "depth");
    struct ar_kbstats *st;
    ck_assert_int_eq(ar_kbstats_load(&kb, NULL, &st), 0);
    ck_assert_int_eq((int)st->n, 3);
    ck_assert_int_eq((int)st->nkeys, 2);
    ar_kbstats_free(st);
    ck_assert_int_eq(count(&kb, (struct ar_filter){.session = "s1"}), 2);
    ck_assert_int_eq(count(&kb, (struct ar_filter){.platform = "h100"}), 2);
    ck_assert_int_eq(count(&kb, (struct ar_filter){.status = "revert"}), 1);
    ck_assert_int_eq(count(&kb, (struct ar_filter){.status = "discard"}), 1);
    ck_assert_int_eq(count(&kb, (struct ar_filter){.since = "2026-11-21"}), 2);
    ck_assert_int_eq(count(&kb, (struct ar_filter){.tag = "lr", .platform = "cpu"}), 1);
    ck_assert_int_eq(count(&kb, (struct ar_filter){.category = "other"}), 3);
    struct ar_filter bad = {.since = "yesterday"};
    ck_assert_int_eq(ar_kbstats_load(&kb, &bad, &st), -1);
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static int add_line(char *line, size_t len, void *ctx)
{
    return ar_kbstats_add_text(ctx, line, len);
}

static void opt_str_eq(const char *a, const char *b)
{
    ck_assert_int_eq(a == NULL, b == NULL);
    if (a)
        ck_assert_str_eq(a, b);
}

/* The summaries ar_kbstats_load reads from the index's rows equal those
 * parsed from its views, member by member. */
static void rows_match_views(const struct ar_kb *kb)
{
    struct ar_kbstats *a, *b = ar_kbstats_new();
    ck_assert_msg(ar_kbstats_load(kb, NULL, &a) == 0, "%s", ar_last_error());
    ck_assert_int_eq(ar_index_foreach(kb, add_line, b), 0);
    ar_kbstats_finish(b);
    ck_assert_int_eq((int)a->n, (int)b->n);
    for (size_t i = 0; i < a->n; i++) {
        const struct ar_cardsum *x = &a->cards[i], *y = &b->cards[i];
        ck_assert_str_eq(x->id, y->id);
        opt_str_eq(x->created, y->created);
        ck_assert_str_eq(x->agent, y->agent);
        ck_assert_str_eq(x->session, y->session);
        opt_str_eq(x->commit, y->commit);
        ck_assert_str_eq(x->category, y->category);
        ck_assert_str_eq(x->hypothesis, y->hypothesis);
        ck_assert_str_eq(x->status, y->status);
        ck_assert_str_eq(x->platform, y->platform);
        ck_assert_str_eq(x->fingerprint, y->fingerprint);
        ck_assert_str_eq(x->key, y->key);
        opt_str_eq(x->config_hash, y->config_hash);
        opt_str_eq(x->baseline, y->baseline);
        opt_str_eq(x->verifies, y->verifies);
        opt_str_eq(x->lesson, y->lesson);
        ck_assert(x->budget_s == y->budget_s && x->val_bpb == y->val_bpb && x->delta == y->delta);
        ck_assert(x->training_seconds == y->training_seconds);
        ck_assert_int_eq(x->has_bpb, y->has_bpb);
        ck_assert_int_eq(x->has_delta, y->has_delta);
        ck_assert_int_eq(x->retracted, y->retracted);
        ck_assert_int_eq(x->counts, y->counts);
        ck_assert_int_eq(x->ntags, y->ntags);
        for (int j = 0; j < x->ntags; j++)
            ck_assert_str_eq(x->tags[j], y->tags[j]);
        ck_assert_int_eq(x->nprior, y->nprior);
        for (int j = 0; j < x->nprior; j++)
            ck_assert_str_eq(x->prior[j], y->prior[j]);
        ck_assert_int_eq(x->nchanges, y->nchanges);
        for (int j = 0; j < x->nchanges; j++) {
            ck_assert_str_eq(x->changes[j].key, y->changes[j].key);
            ck_assert_str_eq(x->changes[j].from, y->changes[j].from);
            ck_assert_str_eq(x->changes[j].to, y->changes[j].to);
            ck_assert_int_eq(x->changes[j].numeric, y->changes[j].numeric);
            ck_assert(x->changes[j].from_num == y->changes[j].from_num);
            ck_assert(x->changes[j].to_num == y->changes[j].to_num);
        }
    }
    ck_assert_int_eq((int)a->nkeys, (int)b->nkeys);
    ck_assert_int_eq((int)a->ngroups, (int)b->ngroups);
    /* equal strings share a pointer, as interned ones do */
    for (size_t i = 1; i < a->n; i++)
        if (strcmp(a->cards[i].key, a->cards[0].key) == 0)
            ck_assert_ptr_eq(a->cards[i].key, a->cards[0].key);
    ar_kbstats_free(a);
    ar_kbstats_free(b);
}

START_TEST(summaries_from_index_rows_equal_parsed_views)
{
    char dir[] = "/tmp/ar-test-sum-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    struct ar_kb kb;
    ck_assert_int_eq(ar_kb_open(&kb, dir, AR_KB_CREATE), 0);
    store(&kb, "2026-11-20T10:00:00.000Z", "s1", "cpu", "keep", "lr");
    store(&kb, "2026-11-21T10:00:00.000Z", "s1", "h100", "crash", "lr");
    /* a card with every member a summary reads */
    jv full = jv_parse("{\"created\":\"2026-11-21T11:00:00.000Z\",\"agent\":\"b\",\"session\":\"s2\","
                       "\"commit\":\"abc1234\",\"hypothesis\":\"h \\\"quoted\\\" \\u00e9\",\"category\":\"optimizer\","
                       "\"status\":\"revert\",\"tags\":[\"x\",\"y.z\"],\"platform\":{\"class\":\"cpu\"},"
                       "\"data\":{\"fingerprint\":\"fp1\"},\"budget_s\":300,\"seed\":7,"
                       "\"metrics\":{\"val_bpb\":1.25,\"training_seconds\":299.5},\"delta\":-0.01,"
                       "\"config\":{\"lr\":0.04,\"opt\":{\"name\":\"adam\"}},"
                       "\"changes\":[{\"key\":\"lr\",\"from\":0.02,\"to\":0.04},"
                       "{\"key\":\"opt\",\"from\":null,\"to\":{\"name\":\"adam\"}}]}");
    ck_assert_msg(ar_card_complete(&full) == 0, "%s", ar_last_error());
    char fid[AR_ID_LEN + 1], note[AR_ID_LEN + 1];
    ck_assert_msg(ar_store_card(&kb, full, fid) == 0, "%s", ar_last_error());
    jv_free(full);
    rows_match_views(&kb);
    /* a card inserted before others, notes: rows rewritten */
    store(&kb, "2026-11-20T12:00:00.000Z", "s3", "tpu", "discard", "y");
    ck_assert_int_eq(ar_store_note(&kb, fid, "status", "", "keep", note), 0);
    setenv("AR_NOW", "2026-11-22T10:00:00.000Z", 1);   /* ids in this order */
    ck_assert_int_eq(ar_store_note(&kb, fid, "lesson", "lesson one", NULL, note), 0);
    setenv("AR_NOW", "2026-11-23T10:00:00.000Z", 1);
    ck_assert_int_eq(ar_store_note(&kb, fid, "lesson", "lesson two", NULL, note), 0);
    unsetenv("AR_NOW");
    rows_match_views(&kb);
    struct ar_kbstats *st;
    ck_assert_int_eq(ar_kbstats_load(&kb, NULL, &st), 0);
    long i = ar_stats_find(st, fid);
    ck_assert_int_ge(i, 0);
    ck_assert_str_eq(st->cards[i].status, "keep");
    ck_assert_str_eq(st->cards[i].lesson, "lesson two");
    ck_assert_str_eq(st->cards[i].fingerprint, "fp1");
    ck_assert_int_eq(st->cards[i].nchanges, 2);
    ck_assert_str_eq(st->cards[i].changes[1].to, "{\"name\":\"adam\"}");
    ck_assert_int_eq(st->cards[i].changes[0].numeric, 1);
    ck_assert_int_eq(st->cards[i].changes[1].numeric, 0);
    ar_kbstats_free(st);
    ck_assert_int_eq(ar_store_note(&kb, fid, "retract", "wrong", NULL, note), 0);
    rows_match_views(&kb);
    ck_assert_int_eq(ar_index_rebuild(&kb), 0);
    rows_match_views(&kb);
    ck_assert_int_eq(count(&kb, (struct ar_filter){.session = "s3"}), 1);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("stats");
    TCase *t = tcase_create("stats");
    tcase_add_test(t, noise_floor_is_pooled_sd_of_replicates);
    tcase_add_test(t, noise_floor_defaults_without_replicates);
    tcase_add_test(t, truncated_runs_are_not_replicates);
    tcase_add_test(t, identical_replicates_shrink_towards_the_prior);
    tcase_add_test(t, retracted_and_crash_cards_never_count);
    tcase_add_test(t, best_and_baseline_per_comparability_key);
    tcase_add_test(t, z_scores_against_the_class_noise_floor);
    tcase_add_test(t, views_are_summarised_in_id_order);
    tcase_add_test(t, keyname_marks_absent_parts);
    tcase_add_test(t, a_view_without_id_is_rejected);
    tcase_add_test(t, scanner_reads_any_valid_json);
    tcase_add_test(t, load_reads_the_index_with_filters);
    tcase_add_test(t, summaries_from_index_rows_equal_parsed_views);
    tcase_add_test(t, cards_sort_by_id_as_strcmp_does);
    suite_add_tcase(s, t);
    return s;
}

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
    ck_assert_double_eq_tol(a->sigma, sqrt(0.0004 / 3), 1e-12);
    ck_assert_int_eq(a->groups, 2);
    ck_assert_int_eq(a->runs, 5);
    ck_assert_int_eq(a->is_default, 0);
    ck_assert_int_eq(ar_stats_replicates(st, 2), 3);
    ck_assert_int_eq(ar_stats_replicates(st, 5), 1);
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

START_TEST(identical_replicates_give_the_minimum_sigma)
{
    struct ar_kbstats *st = ar_kbstats_new();
    run(st, "c01", "A", "h1", 1.00);
    run(st, "c02", "A", "h1", 1.00);
    ar_kbstats_finish(st);
    ck_assert_double_eq(ar_stats_sigma(st, "A"), AR_SIGMA_MIN);
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
    ck_assert_double_eq_tol(ar_stats_sigma(st, "A"), sqrt(0.00005), 1e-12);
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

START_TEST(summary_cache_is_used_while_fresh)
{
    char dir[] = "/tmp/ar-test-sum-XXXXXX", path[512], cache[300];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(cache, sizeof cache, "%s/cache", dir);
    setenv("AR_CACHE_DIR", cache, 1);
    setenv("AR_CACHE_MIN_CARDS", "0", 1);
    struct ar_kb kb;
    ck_assert_int_eq(ar_kb_open(&kb, dir, AR_KB_CREATE), 0);
    store(&kb, "2026-11-20T10:00:00.000Z", "s1", "cpu", "keep", "lr");
    store(&kb, "2026-11-21T10:00:00.000Z", "s1", "h100", "crash", "lr");
    struct ar_kbstats *a, *b;
    ck_assert_int_eq(ar_kbstats_load(&kb, NULL, &a), 0);   /* parses and writes the cache */
    ck_assert_ptr_null(a->map);
    char cmdl[600];
    snprintf(cmdl, sizeof cmdl, "ls %s/index-*.sum", cache);
    FILE *ls = popen(cmdl, "r");
    ck_assert_ptr_nonnull(fgets(path, sizeof path, ls));
    pclose(ls);
    path[strcspn(path, "\n")] = '\0';
    ck_assert_int_eq(access(path, F_OK), 0);
    /* the knowledge base itself is unchanged by reading */
    snprintf(cmdl, sizeof cmdl, "test ! -e %s/index.sum", dir);
    ck_assert_int_eq(system(cmdl), 0);
    ck_assert_int_eq(ar_kbstats_load(&kb, NULL, &b), 0);   /* maps it */
    ck_assert_ptr_nonnull(b->map);
    ck_assert_int_eq((int)b->n, 2);
    for (size_t i = 0; i < a->n; i++) {
        ck_assert_str_eq(a->cards[i].id, b->cards[i].id);
        ck_assert_str_eq(a->cards[i].key, b->cards[i].key);
        ck_assert_str_eq(a->cards[i].tags[0], b->cards[i].tags[0]);
        ck_assert_int_eq(a->cards[i].counts, b->cards[i].counts);
        ck_assert(a->cards[i].val_bpb == b->cards[i].val_bpb);
    }
    /* equal strings share a pointer, as interned ones do */
    ck_assert_ptr_eq(b->cards[0].session, b->cards[1].session);
    ar_kbstats_free(a);

    /* a new card, a card inserted before others and a note: the cache
     * stays, the lines the journal names are read again, and the result is
     * what a full parse gives */
    store(&kb, "2026-11-22T10:00:00.000Z", "s1", "cpu", "keep", "x");
    store(&kb, "2026-11-20T12:00:00.000Z", "s3", "tpu", "discard", "y");
    char first[AR_ID_LEN + 1], note[AR_ID_LEN + 1];
    snprintf(first, sizeof first, "%s", b->cards[0].id);
    ck_assert_int_eq(ar_store_note(&kb, first, "status", "", "discard", note), 0);
    ck_assert_int_eq(ar_kbstats_load(&kb, NULL, &a), 0);
    ck_assert_ptr_nonnull(a->map);
    ck_assert_int_eq((int)a->n, 4);
    setenv("AR_CACHE_DIR", "off", 1);
    struct ar_kbstats *full;
    ck_assert_int_eq(ar_kbstats_load(&kb, NULL, &full), 0);
    setenv("AR_CACHE_DIR", cache, 1);
    ck_assert_ptr_null(full->map);
    ck_assert_int_eq((int)full->n, 4);
    for (size_t i = 0; i < full->n; i++) {
        ck_assert_str_eq(a->cards[i].id, full->cards[i].id);
        ck_assert_str_eq(a->cards[i].status, full->cards[i].status);
        ck_assert_str_eq(a->cards[i].session, full->cards[i].session);
        ck_assert_str_eq(a->cards[i].key, full->cards[i].key);
        ck_assert_int_eq(a->cards[i].counts, full->cards[i].counts);
    }
    ck_assert_str_eq(a->cards[0].status, "discard");
    ck_assert_str_eq(a->cards[1].session, "s3");
    /* a string read again shares the cached one's pointer */
    ck_assert_ptr_eq(a->cards[0].session, a->cards[3].session);
    ck_assert_ptr_eq(a->cards[0].key, a->cards[3].key);
    ck_assert_int_eq((int)a->nkeys, (int)full->nkeys);
    ar_kbstats_free(full);
    ar_kbstats_free(b);
    ar_kbstats_free(a);
    ck_assert_int_eq(count(&kb, (struct ar_filter){.session = "s3"}), 1);   /* filtered, from the cache */
    /* a journal that cannot say what changed: the whole index is parsed */
    store(&kb, "2026-11-23T10:00:00.000Z", "s4", "cpu", "keep", "z");
    char jpath[PATH_MAX];
    FILE *jf = fopen(ar_kb_path(&kb, "index.journal", jpath), "r+");
    ck_assert_ptr_nonnull(jf);
    fseek(jf, -3, SEEK_END);
    fputs("?", jf);
    fclose(jf);
    ck_assert_int_eq(ar_kbstats_load(&kb, NULL, &a), 0);
    ck_assert_ptr_null(a->map);
    ck_assert_int_eq((int)a->n, 5);
    ar_kbstats_free(a);
    /* a rebuild starts another epoch: the cache is rebuilt from the index */
    ck_assert_int_eq(ar_index_rebuild(&kb), 0);
    ck_assert_int_eq(ar_kbstats_load(&kb, NULL, &a), 0);
    ck_assert_ptr_null(a->map);
    ck_assert_int_eq((int)a->n, 5);
    ar_kbstats_free(a);
    ck_assert_int_eq(ar_kbstats_load(&kb, NULL, &a), 0);
    ck_assert_ptr_nonnull(a->map);
    ar_kbstats_free(a);

    /* a damaged cache is ignored and rebuilt */
    FILE *fp = fopen(path, "r+");
    ck_assert_ptr_nonnull(fp);
    fseek(fp, 300, SEEK_SET);   /* inside the first record */
    fputs("\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f", fp);   /* string offsets past the blob */
    fclose(fp);
    ck_assert_int_eq(ar_kbstats_load(&kb, NULL, &a), 0);
    ck_assert_int_eq((int)a->n, 5);
    ck_assert_ptr_null(a->map);
    ar_kbstats_free(a);
    truncate(path, 100);
    ck_assert_int_eq(ar_kbstats_load(&kb, NULL, &a), 0);
    ck_assert_int_eq((int)a->n, 5);
    ar_kbstats_free(a);
    /* small knowledge bases get no cache */
    unlink(path);
    setenv("AR_CACHE_MIN_CARDS", "10", 1);
    ck_assert_int_eq(ar_kbstats_load(&kb, NULL, &a), 0);
    ar_kbstats_free(a);
    ck_assert_int_ne(access(path, F_OK), 0);
    unsetenv("AR_CACHE_MIN_CARDS");
    unsetenv("AR_CACHE_DIR");
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
    tcase_add_test(t, identical_replicates_give_the_minimum_sigma);
    tcase_add_test(t, retracted_and_crash_cards_never_count);
    tcase_add_test(t, best_and_baseline_per_comparability_key);
    tcase_add_test(t, z_scores_against_the_class_noise_floor);
    tcase_add_test(t, views_are_summarised_in_id_order);
    tcase_add_test(t, keyname_marks_absent_parts);
    tcase_add_test(t, a_view_without_id_is_rejected);
    tcase_add_test(t, scanner_reads_any_valid_json);
    tcase_add_test(t, load_reads_the_index_with_filters);
    tcase_add_test(t, summary_cache_is_used_while_fresh);
    suite_add_tcase(s, t);
    return s;
}

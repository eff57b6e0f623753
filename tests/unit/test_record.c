#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "facts/card.h"
#include "base/err.h"
#include "base/json.h"
#include "facts/kb.h"
#include "record.h"
#include "unit.h"

static char dir[] = "/tmp/ar-test-record-XXXXXX";
static struct ar_kb kb;
static struct ar_gitinfo git = {
    .commit = "0123456789abcdef0123456789abcdef01234567",
    .parent = "1111111111111111111111111111111111111111",
    .subject = "try a deeper model",
};

static void setup(void)
{
    strcpy(dir, "/tmp/ar-test-record-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("AR_AGENT", "test-agent", 1);
    ck_assert_int_eq(ar_kb_open(&kb, dir, AR_KB_CREATE), 0);
}

static void teardown(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Records a card for a run with this val_bpb (NaN: crashed) and returns it. */
static jv run(const struct train_config *cfg, const char *session, double bpb, const char *cls,
              const char *status)
{
    struct train_result r = { 0 };
    r.crashed = isnan(bpb);
    if (r.crashed)
        snprintf(r.crash_reason, sizeof r.crash_reason, "loss nan at step 3");
    r.val_bpb = bpb;
    r.training_seconds = 5.04;
    r.total_seconds = 6.3;
    r.num_steps = 12;
    r.depth = cfg->depth;
    r.num_params_M = 1.25;
    jv platform = jv_object();
    ar_jv_set(&platform, "device", jv_string("cpu"));
    ar_jv_set(&platform, "class", jv_string(cls));
    jv data = jv_object();
    ar_jv_set(&data, "fingerprint", jv_string("abc123"));
    ar_jv_set(&data, "vocab", jv_number(512));
    struct record rec = {
        .session = session, .status = status, .tags = jv_invalid(), .git = &git, .seed = 7,
        .budget_s = 5, .cfg = cfg, .res = &r, .platform = platform, .data = data,
        .extra = jv_invalid(),
    };
    char id[AR_ID_LEN + 1];
    ck_assert_msg(record_card(&kb, &rec, id) == 0, "%s", ar_last_error());
    jv card;
    ck_assert_int_eq(ar_card_load(&kb, id, &card), 0);
    usleep(2000);   /* distinct creation times */
    return card;
}

START_TEST(baseline_keep_discard)
{
    struct train_config cfg;
    config_defaults(&cfg);
    jv a = run(&cfg, "s1", 2.0, "cpu-avx512", NULL);
    ck_assert_str_eq(ar_jv_str(a, "status"), "baseline");
    ck_assert_str_eq(ar_jv_str(a, "category"), "baseline");
    ck_assert_str_eq(ar_jv_str(a, "hypothesis"), "try a deeper model");
    ck_assert_str_eq(ar_jv_str(a, "commit"), git.commit);
    ck_assert_str_eq(ar_jv_str(a, "parent_commit"), git.parent);
    ck_assert_str_eq(ar_jv_str(a, "session"), "s1");
    ck_assert_int_eq(ar_jv_has(a, "changes"), 0);
    jv d = ar_jv_get(a, "delta");
    ck_assert_int_eq(jv_get_kind(d), JV_KIND_NULL);
    jv_free(d);
    char hex[65];
    config_hash(&cfg, hex);
    ck_assert_str_eq(ar_jv_str(a, "config_hash"), hex);

    cfg.depth = 6;
    jv b = run(&cfg, "s1", 1.9, "cpu-avx512", NULL);
    ck_assert_str_eq(ar_jv_str(b, "status"), "keep");
    ck_assert_str_eq(ar_jv_str(b, "category"), "other");
    ck_assert_str_eq(ar_jv_str(b, "baseline"), ar_jv_str(a, "id"));
    ck_assert(fabs(ar_jv_num(b, "delta", 0) - (-0.1)) < 1e-12);
    jv ch = ar_jv_get(b, "changes");
    char *text = ar_json_dump(ch, AR_JSON_COMPACT);
    ck_assert_str_eq(text, "[{\"from\":3,\"key\":\"depth\",\"to\":6}]");
    free(text);
    jv_free(ch);

    cfg.depth = 8;   /* compared with b, the best so far */
    jv c = run(&cfg, "s1", 1.95, "cpu-avx512", NULL);
    ck_assert_str_eq(ar_jv_str(c, "status"), "discard");
    ck_assert_str_eq(ar_jv_str(c, "baseline"), ar_jv_str(b, "id"));
    ck_assert(fabs(ar_jv_num(c, "delta", 0) - 0.05) < 1e-12);
    jv_free(a);
    jv_free(b);
    jv_free(c);
}
END_TEST

START_TEST(sessions_and_keys_are_separate)
{
    struct train_config cfg;
    config_defaults(&cfg);
    /* configs differ: runs of one config on one key are replicates, and
     * these would make the noise floor huge */
    jv a = run(&cfg, "s1", 2.0, "cpu-avx512", NULL);
    cfg.depth = 4;
    jv b = run(&cfg, "s2", 2.5, "cpu-avx512", NULL);     /* other session */
    jv c = run(&cfg, "s1", 2.5, "cpu-avx2", NULL);       /* other platform class */
    ck_assert_str_eq(ar_jv_str(b, "status"), "baseline");
    ck_assert_str_eq(ar_jv_str(c, "status"), "baseline");
    cfg.depth = 5;
    jv d = run(&cfg, "s1", 1.0, "cpu-avx512", "inconclusive");   /* --status */
    ck_assert_str_eq(ar_jv_str(d, "status"), "inconclusive");
    cfg.depth = 6;
    jv e = run(&cfg, "s1", 1.5, "cpu-avx512", NULL);   /* d is not keep: a is best */
    ck_assert_str_eq(ar_jv_str(e, "status"), "keep");
    ck_assert_str_eq(ar_jv_str(e, "baseline"), ar_jv_str(a, "id"));
    jv_free(a);
    jv_free(b);
    jv_free(c);
    jv_free(d);
    jv_free(e);
}
END_TEST


/* The keep rule: a delta inside 2 sigma (the prior 0.002 here) is
 * inconclusive, and the card records what it was judged with. */
START_TEST(inconclusive_within_two_sigma)
{
    struct train_config cfg;
    config_defaults(&cfg);
    jv a = run(&cfg, "s1", 2.0, "cpu-avx512", NULL);
    cfg.depth = 5;
    jv b = run(&cfg, "s1", 1.997, "cpu-avx512", NULL);
    ck_assert_str_eq(ar_jv_str(b, "status"), "inconclusive");
    ck_assert(fabs(ar_jv_num(b, "delta", 0) + 0.003) < 1e-12);
    jv extra = ar_jv_get(b, "extra"), v = ar_jv_get(extra, "verdict");
    ck_assert_str_eq(ar_jv_str(v, "sigma_from"), "prior");
    ck_assert(ar_jv_num(v, "sigma", 0) == 0.002);
    ck_assert_str_eq(ar_jv_str(v, "against"), ar_jv_str(a, "id"));
    jv_free(v);
    jv_free(extra);
    /* an inconclusive card is no best: the next run is against a */
    cfg.depth = 7;
    jv c = run(&cfg, "s1", 1.99, "cpu-avx512", NULL);
    ck_assert_str_eq(ar_jv_str(c, "status"), "keep");
    ck_assert_str_eq(ar_jv_str(c, "baseline"), ar_jv_str(a, "id"));
    jv_free(a);
    jv_free(b);
    jv_free(c);
}
END_TEST

START_TEST(crash_card)
{
    struct train_config cfg;
    config_defaults(&cfg);
    jv a = run(&cfg, NULL, 2.0, "cpu-avx512", NULL);
    jv b = run(&cfg, NULL, NAN, "cpu-avx512", NULL);
    ck_assert_str_eq(ar_jv_str(b, "status"), "crash");
    jv m = ar_jv_get(b, "metrics");
    ck_assert_int_eq(ar_jv_has(m, "val_bpb"), 0);
    ck_assert_double_eq(ar_jv_num(m, "num_steps", 0), 12);
    jv_free(m);
    jv dl = ar_jv_get(b, "delta");
    ck_assert_int_eq(jv_get_kind(dl), JV_KIND_NULL);
    jv_free(dl);
    ck_assert_int_eq(ar_jv_has(b, "session"), 0);
    /* --status cannot hide a crash; --status crash drops val_bpb */
    jv c = run(&cfg, NULL, NAN, "cpu-avx512", "keep");
    ck_assert_str_eq(ar_jv_str(c, "status"), "crash");
    jv d = run(&cfg, NULL, 1.5, "cpu-avx512", "crash");
    ck_assert_str_eq(ar_jv_str(d, "status"), "crash");
    m = ar_jv_get(d, "metrics");
    ck_assert_int_eq(ar_jv_has(m, "val_bpb"), 0);
    jv_free(m);
    jv_free(a);
    jv_free(b);
    jv_free(c);
    jv_free(d);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("record");
    TCase *t = tcase_create("record");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, baseline_keep_discard);
    tcase_add_test(t, sessions_and_keys_are_separate);
    tcase_add_test(t, crash_card);
    tcase_add_test(t, inconclusive_within_two_sigma);
    suite_add_tcase(s, t);
    return s;
}

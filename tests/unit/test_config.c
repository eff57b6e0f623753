#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "base/err.h"
#include "unit.h"

static char path[] = "/tmp/ar-test-config-XXXXXX";

static const char *write_yaml(const char *text)
{
    strcpy(path, "/tmp/ar-test-config-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    return path;
}

/* Loads text as YAML over the defaults; expects failure with a message
 * containing want. Checks that the config did not change. */
static void expect_yaml_error(const char *text, const char *want)
{
    struct train_config c, before;
    config_defaults(&c);
    before = c;
    write_yaml(text);
    ck_assert_int_eq(config_load_yaml(&c, path), -1);
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    ck_assert_msg(strstr(ar_last_error(), want), "'%s' lacks '%s'", ar_last_error(), want);
    ck_assert(memcmp(&c, &before, sizeof c) == 0);
    unlink(path);
}

START_TEST(defaults_match_shipped_yaml)
{
    struct train_config d, y;
    config_defaults(&d);
    config_defaults(&y);
    y.depth = 99;
    ck_assert_int_eq(config_load_yaml(&y, "trainer/config.yaml"), 0);
    char hd[65], hy[65];
    config_hash(&d, hd);
    config_hash(&y, hy);
    ck_assert_str_eq(hd, hy);
    ck_assert_int_eq(config_check(&d), 0);
    ck_assert_int_eq(d.depth, 3);
    ck_assert_int_eq(d.seq_len, 128);

    /* every key is written out in the shipped file, where agents look */
    FILE *f = fopen("trainer/config.yaml", "r");
    ck_assert_ptr_nonnull(f);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    jv keys = jv_keys(config_to_json(&d));
    jv_array_foreach(keys, i, k) {
        char want[80];
        snprintf(want, sizeof want, "\n%s: ", jv_string_value(k));
        ck_assert_msg(strstr(text, want), "trainer/config.yaml lacks %s", jv_string_value(k));
        jv_free(k);
    }
    jv_free(keys);
    ck_assert_str_eq(d.window_pattern, "SSSL");
    ck_assert_int_eq(d.mlp, MLP_RELU2);
}
END_TEST

START_TEST(yaml_sets_keys)
{
    struct train_config c;
    config_defaults(&c);
    write_yaml("# comment\ndepth: 6\nmlp: swiglu\nqk_norm: false\nwindow_pattern: SL\n"
               "matrix_lr: 2e-2\n");
    ck_assert_int_eq(config_load_yaml(&c, path), 0);
    unlink(path);
    ck_assert_int_eq(c.depth, 6);
    ck_assert_int_eq(c.mlp, MLP_SWIGLU);
    ck_assert_int_eq(c.qk_norm, 0);
    ck_assert_str_eq(c.window_pattern, "SL");
    ck_assert_double_eq(c.matrix_lr, 0.02);
}
END_TEST

START_TEST(yaml_errors_name_key_and_line)
{
    expect_yaml_error("depth: 4\ndpth: 5\n", ":2: unknown key 'dpth'");
    expect_yaml_error("depth: 4\n\nhead_dim: sixty\n", ":3: head_dim: 'sixty' is not an integer");
    expect_yaml_error("depth: 0\n", ":1: depth: '0' is out of range [1, 64]");
    expect_yaml_error("depth: 4.5\n", "depth: '4.5' is not an integer");
    expect_yaml_error("matrix_lr: fast\n", ":1: matrix_lr: 'fast' is not a number");
    expect_yaml_error("rope_base: .nan\n", "rope_base");
    expect_yaml_error("adam_eps: 0\n", "adam_eps: '0' is out of range (0, 1]");
    expect_yaml_error("qk_norm: maybe\n", "qk_norm: 'maybe' is not a boolean");
    expect_yaml_error("mlp: tanh\n", "mlp: 'tanh' is not one of relu2, gelu, swiglu");
    expect_yaml_error("window_pattern: SXL\n", "window_pattern: 'SXL'");
    expect_yaml_error("depth: 4\ndepth: 5\n", ":2: depth: duplicate key (first on line 1)");
    expect_yaml_error("depth: [4, 5]\n", ":1: depth: expected a single value");
    expect_yaml_error("- depth\n", ":1: expected a mapping");
    expect_yaml_error("depth: 4\nseq_len: 64: 2\n", ":2: mapping values are not allowed");
    /* an error after valid keys still leaves everything unchanged */
    expect_yaml_error("depth: 8\nseq_len: 1\n", ":2: seq_len");
}
END_TEST

START_TEST(yaml_missing_file)
{
    struct train_config c;
    config_defaults(&c);
    ck_assert_int_eq(config_load_yaml(&c, "/nonexistent/config.yaml"), -1);
    ck_assert(strstr(ar_last_error(), "/nonexistent/config.yaml"));
}
END_TEST

START_TEST(set_overrides)
{
    struct train_config c;
    config_defaults(&c);
    ck_assert_int_eq(config_set(&c, "seq_len=128"), 0);
    ck_assert_int_eq(c.seq_len, 128);
    ck_assert_int_eq(config_set(&c, "tie_embeddings=true"), 0);
    ck_assert_int_eq(c.tie_embeddings, 1);
    ck_assert_int_eq(config_set(&c, "seq_len"), -1);
    ck_assert(strstr(ar_last_error(), "key=value"));
    ck_assert_int_eq(config_set(&c, "nope=1"), -1);
    ck_assert(strstr(ar_last_error(), "--set: unknown key 'nope'"));
    ck_assert_int_eq(config_set(&c, "seq_len= 12"), -1);
    ck_assert_int_eq(config_set(&c, "seq_len="), -1);
    ck_assert_int_eq(c.seq_len, 128);
}
END_TEST

START_TEST(check_relations)
{
    struct train_config c;
    config_defaults(&c);
    c.total_batch_tokens = c.device_batch * c.seq_len * 3 + 1;
    ck_assert_int_eq(config_check(&c), -1);
    ck_assert(strstr(ar_last_error(), "total_batch_tokens"));
    config_defaults(&c);
    c.n_kv_head = 2;   /* 3 heads */
    ck_assert_int_eq(config_check(&c), -1);
    ck_assert(strstr(ar_last_error(), "n_kv_head"));
    config_defaults(&c);
    c.warmup_frac = 0.6;
    ck_assert_int_eq(config_check(&c), -1);
    config_defaults(&c);
    c.head_dim = 33;
    ck_assert_int_eq(config_check(&c), -1);
    ck_assert(strstr(ar_last_error(), "head_dim"));
}
END_TEST

START_TEST(derived_sizes)
{
    struct train_config c;
    config_defaults(&c);
    c.depth = 5;
    c.aspect_ratio = 50;   /* 250 -> 256 */
    c.head_dim = 64;
    ck_assert_int_eq(config_width(&c), 256);
    ck_assert_int_eq(config_heads(&c), 4);
    ck_assert_int_eq(config_kv_heads(&c), 4);
    c.seq_len = 100;
    c.short_window_frac = 0.25;
    strcpy(c.window_pattern, "SSL");
    int want[] = { 25, 25, 100, 25, 100 };   /* the last layer is always long */
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(config_window(&c, i), want[i]);
    c.device_batch = 4;
    c.total_batch_tokens = 1200;
    ck_assert_int_eq(config_grad_accum(&c), 3);
}
END_TEST

START_TEST(json_round_trip_and_hash)
{
    struct train_config a, b;
    config_defaults(&a);
    a.rope_base = 123456.789;
    a.matrix_lr = 0.1 + 0.2;
    a.mlp = MLP_GELU;
    strcpy(a.window_pattern, "SSSSL");
    config_defaults(&b);
    ck_assert_int_eq(config_from_json(&b, config_to_json(&a)), 0);
    char ha[65], hb[65];
    config_hash(&a, ha);
    config_hash(&b, hb);
    ck_assert_str_eq(ha, hb);
    ck_assert_double_eq(b.matrix_lr, a.matrix_lr);
    b.depth++;
    config_hash(&b, hb);
    ck_assert_str_ne(ha, hb);

    jv bad = jv_object_set(config_to_json(&a), jv_string("bogus"), jv_number(1));
    ck_assert_int_eq(config_from_json(&b, bad), -1);
    ck_assert(strstr(ar_last_error(), "bogus"));
    bad = jv_object_set(config_to_json(&a), jv_string("qk_norm"), jv_number(1));
    ck_assert_int_eq(config_from_json(&b, bad), -1);
}
END_TEST

/* Muon's keys: train.py's by default; a snapshot from before them (a card
 * without the keys) reads as the Muon it ran, the fixed quintic without
 * NorMuon; one that has them keeps them. */
START_TEST(muon_keys_and_old_snapshots)
{
    struct train_config a, b;
    config_defaults(&a);
    ck_assert_int_eq(a.muon_ns, MUON_NS_POLAR_EXPRESS);
    ck_assert_int_eq(a.muon_normuon, 1);
    ck_assert_double_eq(a.muon_beta2, 0.95);
    ck_assert_int_eq(config_set(&a, "muon_ns=quintic"), 0);
    ck_assert_int_eq(a.muon_ns, MUON_NS_QUINTIC);
    ck_assert_int_eq(config_set(&a, "muon_ns=cubic"), -1);
    ck_assert_msg(strstr(ar_last_error(), "muon_ns: 'cubic' is not one of polar_express, quintic"),
                  "%s", ar_last_error());
    ck_assert_int_eq(config_set(&a, "muon_beta2=1"), -1);
    ck_assert(strstr(ar_last_error(), "muon_beta2"));

    config_defaults(&a);
    jv old = config_to_json(&a);
    old = jv_object_delete(old, jv_string("muon_ns"));
    old = jv_object_delete(old, jv_string("muon_normuon"));
    config_defaults(&b);
    ck_assert_int_eq(config_from_json(&b, old), 0);
    ck_assert_int_eq(b.muon_ns, MUON_NS_QUINTIC);
    ck_assert_int_eq(b.muon_normuon, 0);
    config_defaults(&b);
    ck_assert_int_eq(config_from_json(&b, config_to_json(&a)), 0);
    ck_assert_int_eq(b.muon_ns, MUON_NS_POLAR_EXPRESS);
    ck_assert_int_eq(b.muon_normuon, 1);
}
END_TEST

START_TEST(changes_list_differences)
{
    struct train_config a, b;
    config_defaults(&a);
    b = a;
    b.depth = 6;
    b.mlp = MLP_SWIGLU;
    jv ja = config_to_json(&a), jb = config_to_json(&b);
    jv ch = config_changes(ja, jb);
    ck_assert_int_eq(jv_array_length(jv_copy(ch)), 2);
    jv s = jv_dump_string(ch, 0);
    ck_assert_str_eq(jv_string_value(s),
                     "[{\"key\":\"depth\",\"from\":3,\"to\":6},"
                     "{\"key\":\"mlp\",\"from\":\"relu2\",\"to\":\"swiglu\"}]");
    jv_free(s);
    jv none = config_changes(ja, ja);
    ck_assert_int_eq(jv_array_length(none), 0);
    jv from_null = config_changes(jv_null(), jb);
    ck_assert_int_gt(jv_array_length(from_null), 40);
    jv_free(ja);
    jv_free(jb);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("config");
    TCase *t = tcase_create("config");
    tcase_add_test(t, defaults_match_shipped_yaml);
    tcase_add_test(t, yaml_sets_keys);
    tcase_add_test(t, yaml_errors_name_key_and_line);
    tcase_add_test(t, yaml_missing_file);
    tcase_add_test(t, set_overrides);
    tcase_add_test(t, check_relations);
    tcase_add_test(t, derived_sizes);
    tcase_add_test(t, json_round_trip_and_hash);
    tcase_add_test(t, muon_keys_and_old_snapshots);
    tcase_add_test(t, changes_list_differences);
    suite_add_tcase(s, t);
    return s;
}

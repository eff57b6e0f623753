/* lib/facts/config_keys.c: the one config key table, on snapshots; and
 * trainer/config.c bound to it. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/json.h"
#include "config.h"
#include "facts/config_keys.h"
#include "unit.h"

START_TEST(parses_typed_values)
{
    jv v;
    ck_assert_int_eq(ar_config_parse("matrix_lr", "0.040", "--set", &v), 0);
    ck_assert(jv_number_value(v) == 0.04);
    jv_free(v);
    ck_assert_int_eq(ar_config_parse("qk_norm", "off", "--set", &v), 0);
    ck_assert_int_eq(jv_get_kind(v), JV_KIND_FALSE);
    jv_free(v);
    ck_assert_int_eq(ar_config_parse("mlp", "swiglu", NULL, &v), 0);
    ck_assert_str_eq(jv_string_value(v), "swiglu");
    jv_free(v);
    ck_assert_int_eq(ar_config_typed("depth", jv_number(4), "card x config", &v), 0);
    ck_assert(jv_number_value(v) == 4);
    jv_free(v);
}
END_TEST

START_TEST(rejects_with_origin_and_key)
{
    jv v;
    ck_assert_int_eq(ar_config_parse("nope", "1", "--set", &v), -1);
    ck_assert_str_eq(ar_last_error(), "--set: unknown key 'nope' (see ar-train --keys)");
    ck_assert_int_eq(ar_config_parse("depth", "0", "--set", &v), -1);
    ck_assert_str_eq(ar_last_error(), "--set: depth: '0' is out of range [1, 64]");
    ck_assert_int_eq(ar_config_parse("adam_eps", "0", "f:3", &v), -1);
    ck_assert_str_eq(ar_last_error(), "f:3: adam_eps: '0' is out of range (0, 1]");
    ck_assert_int_eq(ar_config_parse("depth", "2.5", NULL, &v), -1);
    ck_assert_str_eq(ar_last_error(), "depth: '2.5' is not an integer");
    ck_assert_int_eq(ar_config_parse("window_pattern", "SXL", NULL, &v), -1);
    ck_assert_int_eq(ar_config_parse("mlp", "tanh", NULL, &v), -1);
    ck_assert_int_eq(ar_config_typed("depth", jv_null(), "plan", &v), -1);
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
}
END_TEST

/* the trainer's struct and the table agree, key by key */
START_TEST(trainer_binds_every_key)
{
    struct train_config c;
    config_defaults(&c);
    jv snap = config_to_json(&c), defaults = ar_config_defaults();
    ck_assert(jv_equal(jv_copy(snap), jv_copy(defaults)));
    int n = 0;
    for (const struct ar_config_key *k = ar_config_keys; k->name; k++, n++)
        ck_assert(ar_jv_has(snap, k->name));
    ck_assert_int_eq(jv_object_length(jv_copy(snap)), n);
    ck_assert_int_eq(ar_config_check(defaults), 0);
    jv_free(snap);
    jv_free(defaults);
}
END_TEST

START_TEST(yaml_over_a_snapshot)
{
    char path[] = "/tmp/ar-test-ckeys-XXXXXX";
    int fd = mkstemp(path);
    const char *text = "depth: 4\nmlp: gelu\n";
    ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    jv c = ar_config_defaults();
    ck_assert_int_eq(ar_config_load_yaml(&c, path), 0);
    ck_assert(ar_jv_num(c, "depth", 0) == 4);
    ck_assert_str_eq(ar_jv_str(c, "mlp"), "gelu");
    fd = open(path, O_WRONLY | O_TRUNC);
    text = "depth: 5\ndepth: 6\n";
    ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    ck_assert_int_eq(ar_config_load_yaml(&c, path), -1);
    ck_assert(strstr(ar_last_error(), ":2: depth: duplicate key (first on line 1)"));
    ck_assert(ar_jv_num(c, "depth", 0) == 4);   /* unchanged */
    jv_free(c);
    unlink(path);
}
END_TEST

START_TEST(check_relations)
{
    jv c = ar_config_defaults();
    ck_assert_int_eq(ar_config_set(&c, "total_batch_tokens", "1000", "--set"), 0);
    ck_assert_int_eq(ar_config_check(c), -1);
    ck_assert(strstr(ar_last_error(), "total_batch_tokens: 1000 is not a multiple"));
    jv_free(c);
    c = ar_config_defaults();
    ck_assert_int_eq(ar_config_set(&c, "n_kv_head", "2", NULL), 0);
    ck_assert_int_eq(ar_config_check(c), -1);
    ck_assert_str_eq(ar_last_error(), "n_kv_head: 2 does not divide the 3 heads");
    jv_free(c);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("config_keys");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, parses_typed_values);
    tcase_add_test(tc, rejects_with_origin_and_key);
    tcase_add_test(tc, trainer_binds_every_key);
    tcase_add_test(tc, yaml_over_a_snapshot);
    tcase_add_test(tc, check_relations);
    suite_add_tcase(s, tc);
    return s;
}

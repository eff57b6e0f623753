/* lib/queue/grid.c: --set overrides and grids, checked against the key table. */
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "queue/grid.h"
#include "unit.h"

START_TEST(overrides_are_typed)
{
    const char *sets[] = {"matrix_lr=0.040", "qk_norm=false", "mlp=gelu"};
    jv ov;
    ck_assert_int_eq(ar_set_overrides(sets, 3, &ov), 0);
    ck_assert(ar_jv_num(ov, "matrix_lr", 0) == 0.04);
    jv q = ar_jv_get(ov, "qk_norm");
    ck_assert_int_eq(jv_get_kind(q), JV_KIND_FALSE);
    jv_free(q);
    ck_assert_str_eq(ar_jv_str(ov, "mlp"), "gelu");
    jv_free(ov);
}
END_TEST

START_TEST(overrides_reject)
{
    jv ov;
    const char *twice[] = {"depth=2", "depth=3"};
    ck_assert_int_eq(ar_set_overrides(twice, 2, &ov), -1);
    ck_assert_str_eq(ar_last_error(), "--set: key 'depth' given twice");
    const char *noeq[] = {"depth"};
    ck_assert_int_eq(ar_set_overrides(noeq, 1, &ov), -1);
    ck_assert_str_eq(ar_last_error(), "--set: 'depth' is not of the form key=value");
    const char *range[] = {"depth=0"};
    ck_assert_int_eq(ar_set_overrides(range, 1, &ov), -1);
    ck_assert_str_eq(ar_last_error(), "--set: depth: '0' is out of range [1, 64]");
    const char *unknown[] = {"colour=red"};
    ck_assert_int_eq(ar_set_overrides(unknown, 1, &ov), -1);
    ck_assert_str_eq(ar_last_error(), "--set: unknown key 'colour' (see ar-train --keys)");
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
}
END_TEST

/* the product, the first axis varying slowest, each a copy of base */
START_TEST(grid_product_order)
{
    const char *sets[] = {"depth=2,4", "matrix_lr=0.01,0.02,0.04"};
    jv base = jv_object(), entries, keys;
    ar_jv_set(&base, "hypothesis", jv_string("sweep"));
    ck_assert_int_eq(ar_grid_entries(sets, 2, base, &entries, &keys), 0);
    ck_assert_int_eq(jv_array_length(jv_copy(entries)), 6);
    ck_assert_int_eq(jv_array_length(jv_copy(keys)), 2);
    double want[6][2] = {{2, 0.01}, {2, 0.02}, {2, 0.04}, {4, 0.01}, {4, 0.02}, {4, 0.04}};
    for (int i = 0; i < 6; i++) {
        jv e = jv_array_get(jv_copy(entries), i);
        jv ov = ar_jv_get(e, "overrides");
        ck_assert_str_eq(ar_jv_str(e, "hypothesis"), "sweep");
        ck_assert(ar_jv_num(ov, "depth", 0) == want[i][0]);
        ck_assert(ar_jv_num(ov, "matrix_lr", 0) == want[i][1]);
        jv_free(ov);
        jv_free(e);
    }
    jv_free(entries);
    jv_free(keys);
    jv_free(base);
}
END_TEST

START_TEST(grid_rejects)
{
    jv base = jv_object(), entries, keys;
    const char *twice[] = {"depth=2", "depth=3,4"};
    ck_assert_int_eq(ar_grid_entries(twice, 2, base, &entries, &keys), -1);
    ck_assert_str_eq(ar_last_error(), "--set: key 'depth' given twice");
    const char *empty[] = {"depth=,"};
    ck_assert_int_eq(ar_grid_entries(empty, 1, base, &entries, &keys), -1);
    ck_assert_str_eq(ar_last_error(), "--set: 'depth=,' has no values");
    const char *bad[] = {"depth=2,99"};
    ck_assert_int_eq(ar_grid_entries(bad, 1, base, &entries, &keys), -1);
    ck_assert_str_eq(ar_last_error(), "--set: depth: '99' is out of range [1, 64]");
    /* 24 * 21 * 21 = 10584 > AR_GRID_MAX */
    const char *big[] = {"depth=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24",
                         "seq_len=2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22",
                         "head_dim=2,4,6,8,10,12,14,16,18,20,22,24,26,28,30,32,34,36,38,40,42"};
    ck_assert_int_eq(ar_grid_entries(big, 3, base, &entries, &keys), -1);
    ck_assert_str_eq(ar_last_error(), "grid: 10584 entries is more than 10000");
    jv_free(base);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("grid");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, overrides_are_typed);
    tcase_add_test(tc, overrides_reject);
    tcase_add_test(tc, grid_product_order);
    tcase_add_test(tc, grid_rejects);
    suite_add_tcase(s, tc);
    return s;
}

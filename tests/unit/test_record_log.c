#include <math.h>
#include <string.h>

#include "analysis/record.h"
#include "base/err.h"
#include "base/json.h"
#include "unit.h"

static jv parse(const char *text)
{
    jv m;
    ck_assert_int_eq(ar_record_parse_metrics(text, strlen(text), "run.log", &m), 0);
    return m;
}

START_TEST(train_py_summary)
{
    jv m = parse("Vocab size: 8,192\n"
                 "step 00000 (0.0%) | loss: 9.0\rstep 00952 (100.0%) | loss: 3.1\r\n"
                 "---\n"
                 "val_bpb:          0.997900\n"
                 "training_seconds: 300.1\n"
                 "peak_vram_mb:     45060.2\n"
                 "mfu_percent:      39.80\n"
                 "num_steps:        953\n"
                 "depth:            8\n");
    ck_assert_double_eq_tol(ar_jv_num(m, "val_bpb", 0), 0.9979, 1e-12);
    ck_assert_double_eq_tol(ar_jv_num(m, "peak_mem_mb", 0), 45060.2, 1e-9);   /* train.py's name */
    ck_assert(!ar_jv_has(m, "peak_vram_mb"));
    ck_assert_double_eq(ar_jv_num(m, "num_steps", 0), 953);
    ck_assert_double_eq(ar_jv_num(m, "depth", 0), 8);
    jv_free(m);
}
END_TEST

START_TEST(last_separator_wins)
{
    /* a "---" printed earlier by the program is not the summary */
    jv m = parse("---\nval_bpb: 2.0\n---\nval_bpb: 1.5\nnoise that is no key\n  num_steps : 7\n");
    ck_assert_double_eq(ar_jv_num(m, "val_bpb", 0), 1.5);
    ck_assert_double_eq(ar_jv_num(m, "num_steps", 0), 7);
    jv_free(m);
    /* a "---" after the summary (a wrapper's) does not hide it */
    m = parse("---\nval_bpb: 1.5\nnum_steps: 7\n---\nuv: done\n");
    ck_assert_double_eq(ar_jv_num(m, "val_bpb", 0), 1.5);
    jv_free(m);
    /* a later summary wins over an earlier one */
    m = parse("---\nval_bpb: 2.0\n---\nnot a key\n---\nval_bpb: 1.25\n---\n");
    ck_assert_double_eq(ar_jv_num(m, "val_bpb", 0), 1.25);
    jv_free(m);
    /* CRLF logs, and a summary with unknown keys */
    m = parse("---\r\nval_bpb: 1.25\r\nsomething_else: hello\r\n");
    ck_assert_double_eq(ar_jv_num(m, "val_bpb", 0), 1.25);
    ck_assert_int_eq(jv_object_length(jv_copy(m)), 1);
    jv_free(m);
}
END_TEST

START_TEST(no_summary_no_val_bpb)
{
    jv m = parse("Traceback (most recent call last):\ntorch.OutOfMemoryError: CUDA out of memory\n");
    ck_assert_int_eq(jv_object_length(jv_copy(m)), 0);
    jv_free(m);
    m = parse("---\nval_bpb: nan\n");   /* diverged: no val_bpb, a crash */
    ck_assert(!ar_jv_has(m, "val_bpb"));
    jv_free(m);
}
END_TEST

START_TEST(bad_values_are_named_with_their_line)
{
    jv m;
    const char *bad = "Vocab size: 8,192\n---\nval_bpb: 0.99\nnum_steps: many\n";
    ck_assert_int_eq(ar_record_parse_metrics(bad, strlen(bad), "run.log", &m), -1);
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    ck_assert_str_eq(ar_last_error(), "run.log:4: num_steps: 'many' is not a number");
    ck_assert(!jv_is_valid(m));
    ck_assert_int_eq(ar_record_parse_metrics("", 0, "run.log", &m), -1);
    ck_assert_str_eq(ar_last_error(), "run.log: the log is empty");
    ck_assert_int_eq(ar_record_parse_metrics("---\n\0x", 6, "run.log", &m), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "not a text log"));
    const char *inf = "---\nval_bpb: 1.0\nmfu_percent: inf\n";
    ck_assert_int_eq(ar_record_parse_metrics(inf, strlen(inf), "run.log", &m), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "run.log:3: mfu_percent"));
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("record_log");
    TCase *t = tcase_create("record_log");
    tcase_add_test(t, train_py_summary);
    tcase_add_test(t, last_separator_wins);
    tcase_add_test(t, no_summary_no_val_bpb);
    tcase_add_test(t, bad_values_are_named_with_their_line);
    suite_add_tcase(s, t);
    return s;
}

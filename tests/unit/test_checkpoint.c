#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "base/err.h"
#include "gpt.h"
#include "unit.h"

static char path[] = "/tmp/ar-test-ckpt-XXXXXX";

static void tiny(struct train_config *c)
{
    config_defaults(c);
    c->depth = 2;
    c->aspect_ratio = 16;
    c->head_dim = 16;
    c->seq_len = 16;
    c->device_batch = 2;
    c->total_batch_tokens = 32;
    c->ve_gate_channels = 8;
}

static void setup(void)
{
    strcpy(path, "/tmp/ar-test-ckpt-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
}

static void teardown(void) { unlink(path); }

START_TEST(round_trip)
{
    struct train_config c, back;
    tiny(&c);
    c.rope_base = 12345.5;
    struct gpt *a = gpt_create(&c, 50, 1), *b = gpt_create(&c, 50, 2);
    size_t n = gpt_num_params(a);
    ck_assert(memcmp(gpt_params(a), gpt_params(b), n * sizeof(float)) != 0);
    ck_assert_int_eq(checkpoint_save(path, a, &c, 50), 0);
    int vocab = 0;
    ck_assert_int_eq(checkpoint_read_config(path, &back, &vocab), 0);
    ck_assert_int_eq(vocab, 50);
    char h1[65], h2[65];
    config_hash(&c, h1);
    config_hash(&back, h2);
    ck_assert_str_eq(h1, h2);
    ck_assert_int_eq(checkpoint_load(path, b), 0);
    ck_assert(memcmp(gpt_params(a), gpt_params(b), n * sizeof(float)) == 0);

    /* the documented layout: magic, version, vocab, config, tensor table */
    FILE *f = fopen(path, "rb");
    char magic[8];
    uint32_t hdr[3];
    ck_assert_int_eq(fread(magic, 1, 8, f), 8);
    ck_assert_int_eq(fread(hdr, 4, 3, f), 3);
    ck_assert(memcmp(magic, "ARGPTCKP", 8) == 0);
    ck_assert_int_eq(hdr[0], 1);
    ck_assert_int_eq(hdr[1], 50);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    ck_assert(size > (long)(n * sizeof(float)) + 20 + (long)hdr[2]);
    gpt_free(a);
    gpt_free(b);
}
END_TEST

START_TEST(mismatch_and_corruption)
{
    struct train_config c, d;
    tiny(&c);
    struct gpt *a = gpt_create(&c, 50, 1);
    ck_assert_int_eq(checkpoint_save(path, a, &c, 50), 0);
    d = c;
    d.depth = 3;
    struct gpt *b = gpt_create(&d, 50, 1);
    ck_assert_int_eq(checkpoint_load(path, b), -1);
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    ck_assert(strstr(ar_last_error(), path));
    gpt_free(b);
    b = gpt_create(&c, 60, 1);   /* another vocabulary */
    ck_assert_int_eq(checkpoint_load(path, b), -1);
    gpt_free(b);

    /* truncated */
    ck_assert_int_eq(truncate(path, 100), 0);
    ck_assert_int_eq(checkpoint_load(path, a), -1);
    ck_assert(strstr(ar_last_error(), "truncated"));
    /* not a checkpoint */
    FILE *f = fopen(path, "wb");
    fputs("hello, this is not a checkpoint", f);
    fclose(f);
    ck_assert_int_eq(checkpoint_read_config(path, &d, NULL), -1);
    ck_assert(strstr(ar_last_error(), "bad magic"));
    ck_assert_int_eq(checkpoint_read_config("/nonexistent/w.bin", &d, NULL), -1);
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    gpt_free(a);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *t = tcase_create("checkpoint");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, round_trip);
    tcase_add_test(t, mismatch_and_corruption);
    suite_add_tcase(s, t);
    return s;
}

#include "unit.h"
#include "base/err.h"
#include "loader.h"
#include "base/lock.h"
#include "prepare.h"
#include "tokenizer.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define N_DOCS 300
#define B 4
#define T 32

static char dir[64];
static char *docs[N_DOCS];
static struct tokenizer *tok;

/* Documents of 1 to ~60 words, some longer than a row. */
static void make_dataset(void)
{
    strcpy(dir, "/tmp/ar-test-loader.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[512];
    snprintf(path, sizeof path, "%s/docs.jsonl", dir);
    FILE *f = fopen(path, "w");
    static const char *words[] = {"alpha", "beta", "gamma", "delta", "the", "of", "river", "stone"};
    for (int i = 0; i < N_DOCS; i++) {
        char buf[2048];
        int at = snprintf(buf, sizeof buf, "doc %d", i);
        int n = 1 + (i * 37) % 60;
        for (int w = 0; w < n; w++)
            at += snprintf(buf + at, sizeof buf - at, " %s", words[(i + w * w) % 8]);
        free(docs[i]);
        docs[i] = strdup(buf);
        fprintf(f, "{\"text\": \"%s\"}\n", buf);
    }
    fclose(f);
    char data[512];
    snprintf(data, sizeof data, "%s/data", dir);
    const char *inputs[] = {path};
    struct prepare_options o = {.inputs = inputs, .n_inputs = 1, .vocab = 300, .val_frac = 0.2,
                                .data_dir = data};   /* no report, no progress */
    ck_assert_msg(prepare_run(&o) == 0, "%s", ar_last_error());
    char tpath[600];
    snprintf(tpath, sizeof tpath, "%s/tokenizer.bin", data);
    tok = tokenizer_load(tpath);
    ck_assert_ptr_nonnull(tok);
}

static struct loader *open_loader(uint64_t seed)
{
    char data[512];
    snprintf(data, sizeof data, "%s/data", dir);
    struct loader *l = loader_open(data, B, T, seed);
    ck_assert_msg(l != NULL, "%s", ar_last_error());
    return l;
}

static void cleanup(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    tokenizer_free(tok);
    tok = NULL;
}

static int is_doc(const uint8_t *s, size_t n, int prefix_ok)
{
    for (int i = 0; i < N_DOCS; i++) {
        size_t m = strlen(docs[i]);
        if ((m == n || (prefix_ok && n < m)) && memcmp(docs[i], s, n) == 0)
            return 1;
    }
    return 0;
}

START_TEST(rows_are_whole_documents_from_bos_with_one_cropped_at_the_end)
{
    make_dataset();
    struct loader *l = open_loader(1);
    int bos = loader_bos(l);
    ck_assert_int_eq(bos, loader_vocab_size(l) - 1);
    uint16_t in[B * T], tg[B * T], row[T + 1];
    uint8_t text[T * 64];
    for (int step = 0; step < 50; step++) {
        loader_next_batch(l, in, tg);
        for (int b = 0; b < B; b++) {
            memcpy(row, in + b * T, T * 2);
            row[T] = tg[b * T + T - 1];
            ck_assert_uint_eq(row[0], bos);
            for (int t = 0; t + 1 < T; t++)
                ck_assert_uint_eq(tg[b * T + t], in[b * T + t + 1]);
            /* segments between BOS: whole documents, the last maybe cropped */
            int start = 1;
            for (int t = 1; t <= T + 1; t++) {
                if (t == T + 1 || row[t] == bos) {
                    size_t n = tokenizer_decode(tok, row + start, t - start, text);
                    ck_assert_msg(is_doc(text, n, t == T + 1), "row segment is not a document");
                    start = t + 1;
                }
            }
        }
    }
    loader_free(l);
    cleanup();
}
END_TEST

START_TEST(same_seed_same_batches_other_seed_other_batches)
{
    make_dataset();
    struct loader *a = open_loader(7), *b = open_loader(7), *c = open_loader(8);
    uint16_t ia[B * T], ta[B * T], ib[B * T], tb[B * T], ic[B * T], tc[B * T];
    int differ = 0;
    for (int step = 0; step < 40; step++) {
        loader_next_batch(a, ia, ta);
        loader_next_batch(b, ib, tb);
        loader_next_batch(c, ic, tc);
        ck_assert(memcmp(ia, ib, sizeof ia) == 0 && memcmp(ta, tb, sizeof ta) == 0);
        differ |= memcmp(ia, ic, sizeof ia) != 0;
    }
    ck_assert(differ);
    ck_assert(loader_epoch(a) > 1.0);      /* 40 batches pass the ~240 train docs */
    loader_free(a);
    loader_free(b);
    loader_free(c);
    cleanup();
}
END_TEST

START_TEST(validation_batches_are_fixed_and_padded_with_bos)
{
    make_dataset();
    struct loader *a = open_loader(1), *b = open_loader(99);
    uint16_t ia[B * T], ta[B * T], ib[B * T], tb[B * T];
    ck_assert_int_eq(loader_val_batches(a, 3 * B * T), 3);
    ck_assert_int_eq(loader_val_batches(a, 1), 1);
    loader_next_batch(a, ia, ta);          /* training does not move validation */
    int nb = loader_val_batches(a, 1L << 30);
    ck_assert_int_eq(nb, loader_val_batches(b, 1L << 30));
    ck_assert_int_gt(nb, 2);
    size_t val_targets = 0;
    for (int i = 0; i < nb; i++) {
        loader_val_batch(a, i, ia, ta);
        loader_val_batch(b, i, ib, tb);
        ck_assert(memcmp(ia, ib, sizeof ia) == 0 && memcmp(ta, tb, sizeof ta) == 0);
        ck_assert_uint_eq(ia[0], loader_bos(a));
        for (int k = 0; k < B * T; k++)
            val_targets += ta[k] != loader_bos(a);
    }
    /* rows hold whole validation documents: nearly all its tokens */
    ck_assert_uint_le(val_targets, loader_val_tokens(a));
    ck_assert_uint_gt(val_targets, loader_val_tokens(a) / 2);
    /* past the packed rows, inputs and targets are BOS (0 bytes) */
    loader_val_batch(a, nb - 1, ia, ta);
    ck_assert_uint_eq(ta[B * T - 1], loader_bos(a));
    loader_free(a);
    loader_free(b);
    cleanup();
}
END_TEST

START_TEST(a_validation_set_shorter_than_a_row_is_used_whole)
{
    make_dataset();
    char data[512];
    snprintf(data, sizeof data, "%s/data", dir);
    enum { BIG_T = 8192 };
    struct loader *l = loader_open(data, 1, BIG_T, 1);
    ck_assert_ptr_nonnull(l);
    ck_assert_uint_lt(loader_val_tokens(l), BIG_T);
    ck_assert_int_eq(loader_val_batches(l, 1L << 20), 1);
    static uint16_t in[BIG_T], tg[BIG_T];
    static double nats[BIG_T];
    loader_val_batch(l, 0, in, tg);
    double sn = 0, sb = 0;
    for (int i = 0; i < BIG_T; i++)
        nats[i] = 1.0;
    loader_bpb_add(l, tg, nats, BIG_T, &sn, &sb);
    jv m = loader_manifest(l);
    jv val = jv_object_get(m, jv_string("val"));
    double bytes = jv_number_value(jv_object_get(jv_copy(val), jv_string("bytes")));
    double docs = jv_number_value(jv_object_get(val, jv_string("docs")));
    ck_assert_double_eq(sb, bytes);     /* every byte of every document */
    /* and every token but the documents' BOS is a target */
    ck_assert_double_eq(sn, (double)loader_val_tokens(l) - docs);
    loader_free(l);
    cleanup();
}
END_TEST

START_TEST(bpb_sums_skip_zero_byte_targets)
{
    make_dataset();
    struct loader *l = open_loader(1);
    const uint32_t *lens = loader_byte_lens(l);
    ck_assert_uint_eq(lens[loader_bos(l)], 0);
    ck_assert_uint_eq(lens['a'], 1);
    /* 'a' (1 byte), BOS (0 bytes), and a merged token */
    int merged = 256;
    uint16_t targets[3] = {'a', (uint16_t)loader_bos(l), (uint16_t)merged};
    double nats[3] = {0.5, 9.0, 1.5}, sn = 0, sb = 0;
    loader_bpb_add(l, targets, nats, 3, &sn, &sb);
    ck_assert_double_eq_tol(sn, 2.0, 1e-12);
    ck_assert_double_eq_tol(sb, 1.0 + lens[merged], 1e-12);
    double bpb = sn / (log(2) * sb);
    ck_assert_double_eq_tol(bpb, 2.0 / (log(2) * (1 + lens[merged])), 1e-12);
    jv d = loader_card_data(l);
    ck_assert_int_eq(jv_object_length(jv_copy(d)), 5);
    ck_assert_int_eq((int)jv_number_value(jv_object_get(jv_copy(d), jv_string("vocab"))),
                     loader_vocab_size(l));
    jv_free(d);
    loader_free(l);
    cleanup();
}
END_TEST

static void *release_later(void *fd)
{
    usleep(300 * 1000);
    ar_unlock((int)(intptr_t)fd);
    return NULL;
}

START_TEST(opening_waits_for_a_prepare_that_is_writing)
{
    make_dataset();
    char lockpath[600];
    snprintf(lockpath, sizeof lockpath, "%s/data/prepare.lock", dir);
    int fd = ar_lock(lockpath, 1, 1);
    ck_assert_int_ge(fd, 0);
    pthread_t th;
    pthread_create(&th, NULL, release_later, (void *)(intptr_t)fd);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    struct loader *l = open_loader(1);
    clock_gettime(CLOCK_MONOTONIC, &b);
    pthread_join(th, NULL);
    ck_assert_double_ge((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9, 0.25);
    loader_free(l);
    cleanup();
}
END_TEST

START_TEST(missing_or_changed_data_says_to_prepare)
{
    ck_assert_ptr_null(loader_open("/nonexistent/ar-data", B, T, 1));
    ck_assert(strstr(ar_last_error(), "ar-train prepare") != NULL);
    make_dataset();
    char path[600];
    snprintf(path, sizeof path, "%s/data/train.bin", dir);
    FILE *f = fopen(path, "r+b");
    fseek(f, 100, SEEK_SET);
    fputc(7, f);
    fclose(f);
    char data[512];
    snprintf(data, sizeof data, "%s/data", dir);
    ck_assert_ptr_null(loader_open(data, B, T, 1));
    ck_assert_msg(strstr(ar_last_error(), "does not match") != NULL, "%s", ar_last_error());
    ck_assert(strstr(ar_last_error(), "ar-train prepare") != NULL);
    cleanup();
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, rows_are_whole_documents_from_bos_with_one_cropped_at_the_end);
    tcase_add_test(tc, same_seed_same_batches_other_seed_other_batches);
    tcase_add_test(tc, validation_batches_are_fixed_and_padded_with_bos);
    tcase_add_test(tc, a_validation_set_shorter_than_a_row_is_used_whole);
    tcase_add_test(tc, bpb_sums_skip_zero_byte_targets);
    tcase_add_test(tc, opening_waits_for_a_prepare_that_is_writing);
    tcase_add_test(tc, missing_or_changed_data_says_to_prepare);
    suite_add_tcase(s, tc);
    return s;
}

#include "unit.h"
#include "tokenizer.h"
#include "base/err.h"

#include <stdio.h>
#include <string.h>

/* Chunks of s joined by '|'. */
static void chunks(const char *s, char *out)
{
    size_t n = strlen(s), at = 0;
    for (size_t i = 0; i < n;) {
        size_t e = tokenizer_chunk_end((const uint8_t *)s, n, i);
        if (i)
            out[at++] = '|';
        memcpy(out + at, s + i, e - i);
        at += e - i;
        i = e;
    }
    out[at] = '\0';
}

START_TEST(chunking_follows_the_gpt4_pattern)
{
    char out[256];
    chunks("Hello world's end", out);
    ck_assert_str_eq(out, "Hello| world|'s| end");
    chunks("I'LL pay 12345 now", out);
    ck_assert_str_eq(out, "I|'LL| pay| |12|34|5| now");
    chunks("wait...  (yes)\n\n  next", out);
    ck_assert_str_eq(out, "wait|...| | (|yes|)\n\n| | next");
    chunks("a  b   ", out);
    ck_assert_str_eq(out, "a| | b|   ");
    chunks("caf\xc3\xa9 na\xc3\xafve", out);     /* bytes >= 0x80 are letters */
    ck_assert_str_eq(out, "caf\xc3\xa9| na\xc3\xafve");
}
END_TEST

static struct tokenizer *train_on(const char *text, int vocab)
{
    size_t off[2] = {0, strlen(text)};
    return tokenizer_train(text, off, 1, vocab);
}

START_TEST(training_merges_the_most_frequent_pair_first)
{
    /* "ababab": ab x3 beats ba x2, then (ab,ab) x2; then only (abab,ab)
     * once, so training stops early at 2 merges */
    struct tokenizer *t = train_on("ababab", 1000);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(tokenizer_num_merges(t), 2);
    ck_assert_int_eq(tokenizer_vocab_size(t), 259);
    ck_assert_int_eq(tokenizer_bos(t), 258);
    size_t len;
    const uint8_t *b = tokenizer_token_bytes(t, 256, &len);
    ck_assert_uint_eq(len, 2);
    ck_assert_mem_eq(b, "ab", 2);
    b = tokenizer_token_bytes(t, 257, &len);
    ck_assert_uint_eq(len, 4);
    ck_assert_mem_eq(b, "abab", 4);
    ck_assert_uint_eq(tokenizer_byte_lens(t)[258], 0);
    struct tokbuf out = {0};
    ck_assert_int_eq(tokenizer_encode(t, "ababab", 6, &out), 0);
    ck_assert_uint_eq(out.n, 2);
    ck_assert_uint_eq(out.ids[0], 257);
    ck_assert_uint_eq(out.ids[1], 256);
    tokbuf_free(&out);
    tokenizer_free(t);
}
END_TEST

static const char *sample =
    "The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs "
    "on and on, over 12 hills and 345 rivers. Isn't it the best? They'll see, "
    "they've seen, we're there.\n\nAnother paragraph: na\xc3\xafve caf\xc3\xa9s, "
    "\xe2\x80\x94 dashes \xe2\x80\x94 and emoji \xf0\x9f\x98\x80\xf0\x9f\x98\x80 twice. "
    "aaaaaaaaaaaaaaaa bbbbbbbb the the the then there these those.";

static uint64_t rng_state = 42;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}

START_TEST(random_bytes_round_trip)
{
    struct tokenizer *t = train_on(sample, 400);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_gt(tokenizer_num_merges(t), 30);
    static uint8_t text[20000], back[20000];
    for (int trial = 0; trial < 60; trial++) {
        size_t n = rnd() % sizeof text;
        for (size_t i = 0; i < n; i++) {
            /* mix random bytes (invalid UTF-8) with pieces of the sample */
            uint32_t r = rnd();
            text[i] = r % 3 ? (uint8_t)sample[r % strlen(sample)] : (uint8_t)(r >> 8);
        }
        struct tokbuf out = {0};
        ck_assert_int_eq(tokenizer_encode(t, text, n, &out), 0);
        size_t sum = 0;
        for (size_t i = 0; i < out.n; i++)
            sum += tokenizer_byte_lens(t)[out.ids[i]];
        ck_assert_uint_eq(sum, n);
        ck_assert_uint_eq(tokenizer_decode(t, out.ids, out.n, NULL), n);
        ck_assert_uint_eq(tokenizer_decode(t, out.ids, out.n, back), n);
        ck_assert(memcmp(text, back, n) == 0);
        tokbuf_free(&out);
    }
    tokenizer_free(t);
}
END_TEST

/* The slow, obvious BPE: apply each merge in order, left to right. */
static size_t naive_encode(const struct tokenizer *t, const uint8_t *s, size_t n, uint32_t *out)
{
    uint8_t *file;
    size_t flen;
    ck_assert_int_eq(tokenizer_serialize(t, &file, &flen), 0);
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        size_t e = tokenizer_chunk_end(s, n, i), k = e - i;
        uint32_t *w = out + m;
        for (size_t j = 0; j < k; j++)
            w[j] = s[i + j];
        for (int r = 0; r < tokenizer_num_merges(t); r++) {
            uint32_t a, b;
            memcpy(&a, file + 32 + 8 * r, 4);
            memcpy(&b, file + 36 + 8 * r, 4);
            size_t o = 0;
            for (size_t j = 0; j < k; j++) {
                if (j + 1 < k && w[j] == a && w[j + 1] == b) {
                    w[o++] = 256 + (uint32_t)r;
                    j++;
                } else {
                    w[o++] = w[j];
                }
            }
            k = o;
        }
        m += k;
        i = e;
    }
    free(file);
    return m;
}

START_TEST(encoding_equals_applying_merges_in_order)
{
    struct tokenizer *t = train_on(sample, 420);
    static uint8_t text[3000];
    static uint32_t want[3000];
    for (int trial = 0; trial < 40; trial++) {
        size_t n = rnd() % sizeof text;
        for (size_t i = 0; i < n; i++) {
            uint32_t r = rnd();
            text[i] = r % 5 ? (uint8_t)sample[r % strlen(sample)] : (uint8_t)"a b\n"[r % 4];
        }
        size_t m = naive_encode(t, text, n, want);
        struct tokbuf out = {0};
        ck_assert_int_eq(tokenizer_encode(t, text, n, &out), 0);
        ck_assert_uint_eq(out.n, m);
        for (size_t i = 0; i < m; i++)
            ck_assert_uint_eq(out.ids[i], want[i]);
        tokbuf_free(&out);
    }
    tokenizer_free(t);
}
END_TEST

START_TEST(training_is_deterministic_and_file_round_trips)
{
    struct tokenizer *a = train_on(sample, 350), *b = train_on(sample, 350);
    uint8_t *fa, *fb;
    size_t la, lb;
    ck_assert_int_eq(tokenizer_serialize(a, &fa, &la), 0);
    ck_assert_int_eq(tokenizer_serialize(b, &fb, &lb), 0);
    ck_assert_uint_eq(la, lb);
    ck_assert(memcmp(fa, fb, la) == 0);
    ck_assert_mem_eq(fa, "ARBPETOK", 8);
    struct tokenizer *c = tokenizer_parse(fa, la, "mem");
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(tokenizer_vocab_size(c), tokenizer_vocab_size(a));
    struct tokbuf x = {0}, y = {0};
    tokenizer_encode(a, sample, strlen(sample), &x);
    tokenizer_encode(c, sample, strlen(sample), &y);
    ck_assert_uint_eq(x.n, y.n);
    ck_assert(memcmp(x.ids, y.ids, x.n * 2) == 0);
    tokbuf_free(&x);
    tokbuf_free(&y);
    tokenizer_free(c);
    free(fb);
    tokenizer_free(b);
    tokenizer_free(a);

    /* a wrong byte length, a bad magic and a short file are refused */
    uint8_t *bad = malloc(la);
    memcpy(bad, fa, la);
    bad[la - 8] ^= 1;
    ck_assert_ptr_null(tokenizer_parse(bad, la, "bad"));
    ck_assert(strstr(ar_last_error(), "byte length") != NULL);
    memcpy(bad, fa, la);
    bad[0] = 'X';
    ck_assert_ptr_null(tokenizer_parse(bad, la, "bad"));
    ck_assert(strstr(ar_last_error(), "magic") != NULL);
    ck_assert_ptr_null(tokenizer_parse(fa, la - 4, "short"));
    free(bad);
    free(fa);
}
END_TEST

START_TEST(vocab_out_of_range_is_refused)
{
    size_t off[2] = {0, 3};
    ck_assert_ptr_null(tokenizer_train("abc", off, 1, 256));
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    ck_assert_ptr_null(tokenizer_train("abc", off, 1, 65537));
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("tokenizer");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, chunking_follows_the_gpt4_pattern);
    tcase_add_test(tc, training_merges_the_most_frequent_pair_first);
    tcase_add_test(tc, random_bytes_round_trip);
    tcase_add_test(tc, encoding_equals_applying_merges_in_order);
    tcase_add_test(tc, training_is_deterministic_and_file_round_trips);
    tcase_add_test(tc, vocab_out_of_range_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

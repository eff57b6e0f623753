#include "unit.h"
#include "base/sha256.h"

#include <stdio.h>
#include <string.h>

START_TEST(known_vectors)
{
    char hex[65];
    ar_sha256_hex("", 0, hex);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ar_sha256_hex("abc", 3, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ar_sha256_hex(two, strlen(two), hex);
    ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

START_TEST(streaming_equals_one_shot)
{
    static char data[1000];
    for (int i = 0; i < 1000; i++)
        data[i] = (char)(i * 7);
    uint8_t a[32], b[32];
    ar_sha256(data, sizeof data, a);
    struct ar_sha256 s;
    ar_sha256_init(&s);
    for (size_t off = 0, step = 1; off < sizeof data; off += step, step = step * 3 % 71 + 1)
        ar_sha256_update(&s, data + off, off + step > sizeof data ? sizeof data - off : step);
    ar_sha256_final(&s, b);
    ck_assert_mem_eq(a, b, 32);
}
END_TEST

START_TEST(million_a)
{
    static char block[1000];
    memset(block, 'a', sizeof block);
    struct ar_sha256 s;
    uint8_t d[32];
    char hex[65];
    ar_sha256_init(&s);
    for (int i = 0; i < 1000; i++)
        ar_sha256_update(&s, block, sizeof block);
    ar_sha256_final(&s, d);
    ar_hex(d, 32, hex);
    ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

/* The CPU's SHA instructions and the portable code agree on every length
 * from 0 to 300 bytes (every padding case, one to five blocks) and on
 * a large input fed in odd pieces. Where the CPU has no SHA instructions
 * both sides are the portable code and this says so. */
START_TEST(hardware_equals_portable)
{
    static unsigned char data[70000];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof data; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        data[i] = (unsigned char)x;
    }
    int hw = ar_sha256_hardware(1);
    if (!hw)
        fprintf(stderr, "sha256: this CPU has no SHA instructions; only the portable code is checked\n");
    for (size_t len = 0; len <= 300; len++) {
        uint8_t a[32], b[32];
        ar_sha256_hardware(1);
        ar_sha256(data + len, len, a);
        ck_assert_int_eq(ar_sha256_hardware(0), 0);
        ar_sha256(data + len, len, b);
        ck_assert_msg(memcmp(a, b, 32) == 0, "length %zu: the two digests differ", len);
    }
    uint8_t a[32], b[32];
    for (int pass = 0; pass < 2; pass++) {
        ar_sha256_hardware(pass == 0);
        struct ar_sha256 s;
        ar_sha256_init(&s);
        for (size_t off = 0, step = 1; off < sizeof data; off += step, step = step * 5 % 4099 + 1)
            ar_sha256_update(&s, data + off, off + step > sizeof data ? sizeof data - off : step);
        ar_sha256_final(&s, pass == 0 ? a : b);
    }
    ck_assert_mem_eq(a, b, 32);
    ck_assert_int_eq(ar_sha256_hardware(1), hw);
}
END_TEST

/* The known vectors through the portable code too (the default is the
 * hardware where the CPU has it). */
START_TEST(known_vectors_portable)
{
    ar_sha256_hardware(0);
    char hex[65];
    ar_sha256_hex("abc", 3, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ar_sha256_hex(two, strlen(two), hex);
    ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    ar_sha256_hardware(1);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("sha256");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, known_vectors);
    tcase_add_test(tc, known_vectors_portable);
    tcase_add_test(tc, streaming_equals_one_shot);
    tcase_add_test(tc, million_a);
    tcase_add_test(tc, hardware_equals_portable);
    suite_add_tcase(s, tc);
    return s;
}

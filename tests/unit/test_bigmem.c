#include "unit.h"
#include "base/bigmem.h"
#include "base/pool.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Growing from malloc's sizes past 1 MiB into a mapping of its own keeps
 * every byte, and room never says less than was asked. */
START_TEST(realloc_keeps_contents_across_sizes)
{
    unsigned char *p = NULL;
    size_t n = 0;
    for (size_t want = 100; want < ((size_t)40 << 20); want = want * 3 + 7) {
        p = ar_big_realloc(p, want);
        ck_assert_uint_ge(ar_big_room(p), want);
        ck_assert_uint_eq((uintptr_t)p % _Alignof(max_align_t), 0);
        for (size_t i = 0; i < n; i++)
            if (p[i] != (unsigned char)(i * 31 + 7))
                ck_abort_msg("byte %zu lost growing to %zu", i, want);
        for (size_t i = n; i < want; i++)
            p[i] = (unsigned char)(i * 31 + 7);
        n = want;
    }
    /* asking for less keeps the block */
    void *q = ar_big_realloc(p, 10);
    ck_assert_ptr_eq(q, p);
    ar_big_free(q);
    ar_big_free(NULL);
    ck_assert_uint_eq(ar_big_room(NULL), 0);
}
END_TEST

/* The mapping that holds p, as /proc/self/smaps describes it: whether the
 * kernel may back it with huge pages (THPeligible), -1 when not found. */
static int thp_eligible(const void *p)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return -1;
    char line[512];
    int in = 0, out = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
            continue;
        }
        int v;
        if (in && sscanf(line, "THPeligible: %d", &v) == 1) {
            out = v;
            break;
        }
    }
    fclose(f);
    return out;
}

/* What the module is for: a large block lies in a mapping the kernel may
 * back with huge pages, where the kernel offers them at all. */
START_TEST(large_blocks_may_have_huge_pages)
{
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    char mode[128] = "";
    if (f) {
        if (!fgets(mode, sizeof mode, f))
            mode[0] = '\0';
        fclose(f);
    }
    char *p = ar_big_realloc(NULL, (size_t)8 << 20);
    memset(p, 1, (size_t)8 << 20);
    int e = thp_eligible(p);
    if (!f || strstr(mode, "[never]") || e < 0)
        fprintf(stderr, "test_bigmem: no transparent huge pages here, eligibility not checked\n");
    else
        ck_assert_int_eq(e, 1);
    ar_big_free(p);
    char *small = ar_big_realloc(NULL, 1000);
    memset(small, 2, 1000);
    ar_big_free(small);
}
END_TEST

/* A pool that grows past a few megabytes (its chunks then come from
 * ar_big_realloc) still hands out whole copies, zeroed blocks and one
 * pointer per interned string. */
START_TEST(large_pool_keeps_its_strings)
{
    struct ar_pool pool = {0};
    enum { N = 200000 };
    static const char *copy[N];
    char s[64];
    for (int i = 0; i < N; i++) {
        int len = snprintf(s, sizeof s, "string number %d of the pool, padded", i);
        copy[i] = ar_pool_strndup(&pool, s, (size_t)len);
        if (i % 1000 == 0) {
            int *z = ar_pool_alloc(&pool, 4096 * sizeof *z);
            for (int k = 0; k < 4096; k++)
                ck_assert_int_eq(z[k], 0);
            memset(z, 0xff, 4096 * sizeof *z);   /* the next zeroed block must not see this */
        }
    }
    ck_assert_uint_gt(pool.bytes, (size_t)8 << 20);
    for (int i = 0; i < N; i++) {
        snprintf(s, sizeof s, "string number %d of the pool, padded", i);
        ck_assert_str_eq(copy[i], s);
    }
    const char *a = ar_pool_intern(&pool, "h100"), *b = ar_pool_intern(&pool, "h100");
    ck_assert_ptr_eq(a, b);
    char *big = ar_pool_alloc_uncleared(&pool, (size_t)5 << 20);   /* larger than any chunk so far */
    memset(big, 3, (size_t)5 << 20);
    ck_assert_str_eq(copy[N - 1], "string number 199999 of the pool, padded");
    ar_pool_free(&pool);
    ck_assert_ptr_null(pool.chunks);
}
END_TEST

/* What a pool took over from another stays valid as long as it does, and
 * both keep handing out memory. */
START_TEST(absorbed_pool_lives_on)
{
    struct ar_pool a = {0}, b = {0};
    const char *sa = ar_pool_strndup(&a, "in a", 4);
    static const char *sb[5000];
    for (int i = 0; i < 5000; i++) {
        char s[32];
        int n = snprintf(s, sizeof s, "in b %d", i);
        sb[i] = ar_pool_strndup(&b, s, (size_t)n);
    }
    size_t bytes = a.bytes + b.bytes;
    ar_pool_absorb(&a, &b);
    ck_assert_ptr_null(b.chunks);
    ck_assert_uint_eq(a.bytes, bytes);
    for (int i = 0; i < 1000; i++)
        ar_pool_strndup(&a, "more after the merge", 20);
    ck_assert_str_eq(sa, "in a");
    ck_assert_str_eq(sb[0], "in b 0");
    ck_assert_str_eq(sb[4999], "in b 4999");
    ar_pool_absorb(&b, &a);   /* into an empty pool */
    ck_assert_str_eq(sb[17], "in b 17");
    ar_pool_free(&b);
    ar_pool_free(&a);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("bigmem");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, realloc_keeps_contents_across_sizes);
    tcase_add_test(tc, large_blocks_may_have_huge_pages);
    tcase_add_test(tc, large_pool_keeps_its_strings);
    tcase_add_test(tc, absorbed_pool_lives_on);
    suite_add_tcase(s, tc);
    return s;
}

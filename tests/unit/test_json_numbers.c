/* The canonical number form of lib/base/json.c: its fast path must print exactly
 * what the "%.15g, %.16g, %.17g, shortest that reads back" rule prints. */
#include "unit.h"
#include "base/buf.h"
#include "base/json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reference(char *s, size_t n, double d)
{
    if (d == 0) {
        snprintf(s, n, "0");
    } else if (d == floor(d) && fabs(d) < 1e15) {
        snprintf(s, n, "%.0f", d);
    } else {
        for (int p = 15; p <= 17; p++) {
            snprintf(s, n, "%.*g", p, d);
            if (strtod(s, NULL) == d)
                break;
        }
    }
}

static void check_number(double d)
{
    char want[64];
    reference(want, sizeof want, d);
    char *got = ar_json_dump(jv_number(d), AR_JSON_COMPACT);
    ck_assert_msg(strcmp(got, want) == 0, "%.17g: got %s, want %s", d, got, want);
    free(got);
}

START_TEST(fast_path_matches_the_rule)
{
    static const double fixed[] = {0.04, 1.779693, 0.1, 0.3, 0.30000000000000004, 1e-3, 9.99e-4,
                                   1e-5, 123456789012345.6, 99999999999999.9, 1e14, 1e15, 1e16,
                                   -0.0005, -2.5, 0.95, 0.9999, 8.000000000000001e-11, 300.1,
                                   0.16000000000000003, 1.25, 12345.678901234, 2.0 / 3.0};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        check_number(fixed[i]);
        check_number(-fixed[i]);
    }
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double d;
        switch (i % 4) {
        case 0:   /* short decimals, as people write them */
            d = (double)(int64_t)(x % 2000000001) / pow(10, (double)((x >> 40) % 12));
            break;
        case 1:   /* results of arithmetic */
            d = (double)(x % 1000003) / 997.0 * ((x >> 33) % 2 ? 1.25 : 0.8);
            break;
        case 2: { /* any finite bit pattern */
            memcpy(&d, &x, sizeof d);
            if (!isfinite(d))
                d = 1.5;
            break;
        }
        default:  /* near the fast path's edges */
            d = ldexp((double)(x % 1000000007), (int)((x >> 50) % 80) - 60);
        }
        check_number(d);
    }
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("json_numbers");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, fast_path_matches_the_rule);
    suite_add_tcase(s, tc);
    return s;
}

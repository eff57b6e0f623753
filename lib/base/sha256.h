/* SHA-256 (FIPS 180-4), streaming and one-shot, plus hex output. */
#ifndef AR_SHA256_H
#define AR_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct ar_sha256 {
    uint32_t h[8];
    uint64_t bytes;
    uint8_t buf[64];
    size_t used;
};

void ar_sha256_init(struct ar_sha256 *s);
void ar_sha256_update(struct ar_sha256 *s, const void *data, size_t len);
void ar_sha256_final(struct ar_sha256 *s, uint8_t digest[32]);

void ar_sha256(const void *data, size_t len, uint8_t digest[32]);
/* Lower-case hex of the digest of data: 64 characters and a NUL. */
void ar_sha256_hex(const void *data, size_t len, char hex[65]);
/* Whether the CPU's SHA instructions are used (chosen when the process
 * starts): want 0 makes every later digest portable code's, want 1 the
 * instructions' where the CPU has them. Returns whether they are now in
 * use. For tests and benchmarks; not thread-safe against running digests. */
int ar_sha256_hardware(int want);
void ar_hex(const uint8_t *bytes, size_t n, char *out);

#endif

/* JSON through libjq's jv: strict parsing, canonical output, and helpers.
 *
 * Canonical form: object keys sorted bytewise, no insignificant white space,
 * numbers in the shortest form that reads back to the same double, strings
 * with only the escapes JSON requires. Hashes (ids, config_hash) are taken
 * over the canonical compact form, so equal values hash equally anywhere. */
#ifndef AR_JSON_H
#define AR_JSON_H

#include <jv.h>
#include <stddef.h>

enum {
    AR_JSON_COMPACT = 0,
    AR_JSON_PRETTY = 1,   /* two-space indent, one member per line */
};

/* Parses exactly one JSON value from buf. Rejects invalid UTF-8, NaN,
 * Infinity (and numbers that overflow to it), and trailing garbage. `what`
 * names the input in errors ("stdin", a path). On success *out owns the
 * value; on failure returns -1 with AR_EINPUT recorded. */
int ar_json_parse(const char *buf, size_t len, const char *what, jv *out);

/* Canonical text of v (borrowed, not freed); malloc'd, NUL-terminated. */
char *ar_json_dump(jv v, int flags);
/* Appends the canonical text of v to a growing buffer. */
struct ar_buf;
void ar_json_dump_buf(struct ar_buf *b, jv v, int flags);

/* SHA-256 hex of the canonical compact form of v (borrowed). */
void ar_json_hash(jv v, char hex[65]);

/* 1 when len bytes at s are valid UTF-8 (no overlongs, no surrogates). */
int ar_utf8_valid(const char *s, size_t len);

/* Borrowing getters on an object (obj is not consumed). ar_jv_get returns a
 * new reference, or jv_invalid() when obj is not an object or lacks key. */
jv ar_jv_get(jv obj, const char *key);
/* The string value of key, or NULL when absent or not a string; the
 * pointer lives as long as obj does. */
const char *ar_jv_str(jv obj, const char *key);
/* The number at key, or def when absent or not a number. */
double ar_jv_num(jv obj, const char *key, double def);
int ar_jv_has(jv obj, const char *key);
/* Sets obj[key] = val, consuming val; obj is replaced in place. */
void ar_jv_set(jv *obj, const char *key, jv val);

#endif

/* Fast, zero-copy reading of JSON text that is already known to be valid,
 * such as the lines of index.jsonl (canonical compact JSON written by libar).
 *
 * Parsing a whole card view into jv costs about 25 us; a tool that needs six
 * fields of 100,000 cards cannot afford that. These functions walk the text
 * in place: a span is a pointer and a length into the caller's buffer, a
 * member iterator yields each key and the span of its value, and values are
 * converted only when asked for. Malformed text never reads out of bounds;
 * it just ends the walk early (the iterator returns 0).
 *
 *     struct ar_jspan line = {text, len}, key, val;
 *     struct ar_jiter it = ar_jscan_iter(line);
 *     while (ar_jscan_member(&it, &key, &val))
 *         if (ar_jscan_key_is(key, "created")) ...
 */
#ifndef AR_JSCAN_H
#define AR_JSCAN_H

#include <stddef.h>

struct ar_jspan {
    const char *p;
    size_t len;
};

/* Walks the members of an object or the elements of an array. */
struct ar_jiter {
    const char *p, *end;
};

/* Starts a walk over the object or array in span (empty when it is neither). */
struct ar_jiter ar_jscan_iter(struct ar_jspan span);
/* Next object member: *key is the key's raw text without quotes, *val the
 * value's text. Returns 0 at the end. */
int ar_jscan_member(struct ar_jiter *it, struct ar_jspan *key, struct ar_jspan *val);
/* Next array element. Returns 0 at the end. */
int ar_jscan_element(struct ar_jiter *it, struct ar_jspan *val);

/* The value at key in an object (one walk); 0 when absent. */
int ar_jscan_get(struct ar_jspan obj, const char *key, struct ar_jspan *val);

/* 1 when a raw key equals s (keys with escapes never match). */
int ar_jscan_key_is(struct ar_jspan key, const char *s);

/* The number in span; 0 (and *out untouched) when span is not a number. */
int ar_jscan_num(struct ar_jspan v, double *out);
/* 1 for true, 0 for anything else. */
int ar_jscan_true(struct ar_jspan v);
int ar_jscan_is_null(struct ar_jspan v);
int ar_jscan_is_string(struct ar_jspan v);
/* The string in span, unescaped (\uXXXX as UTF-8), as a malloc'd
 * NUL-terminated copy; NULL when span is not a string. */
char *ar_jscan_strdup(struct ar_jspan v);
/* The same into out (truncated to cap-1 bytes on a character boundary);
 * returns 0 when span is not a string. */
int ar_jscan_str(struct ar_jspan v, char *out, size_t cap);

#endif

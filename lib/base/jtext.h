/* Scanning JSON text that lib/base/json.c wrote in canonical form, without
 * parsing it into jv values: the members of a top-level object, the length
 * of the pretty form, and pretty -> compact. The index uses these to check
 * ids and splice card views at the speed of memcpy. Input must be valid
 * JSON (it came from ar_json_dump or was parsed before). */
#ifndef AR_JTEXT_H
#define AR_JTEXT_H

#include <stddef.h>

/* One member of an object: its key (without quotes, as escaped in the
 * text), its value, and the whole member "key":value. Offsets into text. */
struct ar_jmember {
    size_t key, keylen;
    size_t val, vallen;
};

/* Fills up to max members of the top-level object in compact text s[0..len);
 * returns how many there are (may exceed max), or -1 when s is not an
 * object. */
int ar_jtext_members(const char *s, size_t len, struct ar_jmember *out, int max);

/* The index of the member whose key is exactly key, or -1. */
int ar_jtext_find(const char *s, const struct ar_jmember *m, int n, const char *key);

/* Bytes of the pretty form (AR_JSON_PRETTY) of compact canonical text. */
size_t ar_jtext_pretty_len(const char *s, size_t len);

/* Removes white space outside strings: pretty canonical -> compact
 * canonical. dst may equal src. Returns the new length. */
size_t ar_jtext_compact(char *dst, const char *src, size_t len);

/* End of the string that starts at s[i] == '"': the index after its
 * closing quote. */
size_t ar_jtext_string_end(const char *s, size_t len, size_t i);

/* End of the value that starts at s[i] in compact text. */
size_t ar_jtext_value_end(const char *s, size_t len, size_t i);

#endif

/* Field checks shared by the card and note schemas. Each returns 0 or -1
 * with an AR_EINPUT message "field 'NAME': why". */
#ifndef AR_SCHEMA_H
#define AR_SCHEMA_H

#include <jv.h>
#include <stddef.h>
#include <stdint.h>

enum { AR_TEXT_MULTILINE = 1 };

/* A string with no control characters (tab and newline allowed with
 * AR_TEXT_MULTILINE) and no invisible format characters (bidirectional
 * overrides, zero-width characters, tag characters: ar_invisible_format),
 * between min and max bytes. */
int ar_check_text(jv v, const char *field, size_t min, size_t max, int flags);
/* A string that is one of the NULL-terminated choices. */
int ar_check_enum(jv v, const char *field, const char *const *choices);
/* A string of [a-z0-9_.-]{1,64}. */
int ar_check_tag(jv v, const char *field);
/* An id of the id form. */
int ar_check_id(jv v, const char *field);
/* Lower-case hex of min..max digits. */
int ar_check_hex(jv v, const char *field, size_t min, size_t max);
/* A number in [lo, hi]; integral when integer is set. */
int ar_check_number(jv v, const char *field, double lo, double hi, int integer);
/* Any string anywhere in v has no control characters but tab/newline and
 * no invisible format characters. */
int ar_check_strings_deep(jv v, const char *field);
/* An object whose canonical size is at most max bytes. */
int ar_check_object(jv v, const char *field, size_t max);
/* Whether code point c is an invisible format character; the first such
 * character in the UTF-8 text s[0..len), or 0. */
int ar_invisible_format(uint32_t c);
uint32_t ar_text_invisible(const char *s, size_t len);
/* The kind name of v for messages ("string", "array", ...). */
const char *ar_kind_name(jv v);

#endif

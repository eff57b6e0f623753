/* Record ids: "YYYYMMDDTHHMMSSZ-<12 hex>", the UTC time of the record's
 * `created` field, then the first 12 hex digits of the SHA-256 of the
 * record's canonical JSON without its `id`. A file's name is its id. */
#ifndef AR_ID_H
#define AR_ID_H

#include <jv.h>

#define AR_ID_LEN 29            /* 16 time + '-' + 12 hex */
#define AR_CREATED_LEN 24       /* 2026-11-23T13:15:00.123Z */

/* Now as ISO-8601 UTC with milliseconds. AR_NOW (same form) overrides the
 * clock, for reproducible tests. */
void ar_now_iso(char out[AR_CREATED_LEN + 1]);
/* 1 when s has the created form. */
int ar_created_valid(const char *s);
/* A created time that can be true: not before AR_CREATED_EARLIEST and not
 * more than AR_CREATED_AHEAD_S past the clock. 0, or -1 (AR_EINPUT)
 * naming field. */
#define AR_CREATED_EARLIEST "2020-01-01T00:00:00.000Z"
#define AR_CREATED_AHEAD_S 86400
int ar_created_plausible(const char *s, const char *field);

/* Computes the id of rec (borrowed; any `id` member is ignored) from its
 * `created` field. Returns -1 when created is missing or malformed. */
int ar_id_compute(jv rec, char id[AR_ID_LEN + 1]);
/* 1 when s has the id form (and so is safe as a file name). */
int ar_id_valid(const char *s);
/* 1 when rec's `id` is exactly the id its content gives. */
int ar_id_matches(jv rec);

/* The id of a record created at `created` whose canonical JSON without id
 * has the SHA-256 hex digest hex. */
void ar_id_format(const char *created, const char *hex, char id[AR_ID_LEN + 1]);
/* ar_id_matches for a record given as its canonical compact text (what
 * ar_json_dump writes), without parsing or dumping it again. */
#include <stddef.h>
int ar_id_matches_text(const char *compact, size_t len);

#endif

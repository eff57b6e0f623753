#include "facts/id.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "base/err.h"
#include "base/json.h"
#include "base/jtext.h"
#include "base/sha256.h"

int ar_created_valid(const char *s)
{
    /* YYYY-MM-DDTHH:MM:SS.mmmZ */
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (!s || strlen(s) != AR_CREATED_LEN)
        return 0;
    for (int i = 0; i < AR_CREATED_LEN; i++)
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
            return 0;
    int mon = atoi(s + 5), day = atoi(s + 8), h = atoi(s + 11), m = atoi(s + 14), sec = atoi(s + 17);
    return mon >= 1 && mon <= 12 && day >= 1 && day <= 31 && h < 24 && m < 60 && sec < 61;
}

int ar_created_plausible(const char *s, const char *field)
{
    if (strcmp(s, AR_CREATED_EARLIEST) < 0)
        return ar_fail(AR_EINPUT, "field '%s': %s is before %.10s, earlier than any experiment", field, s,
                       AR_CREATED_EARLIEST);
    time_t t = time(NULL) + AR_CREATED_AHEAD_S;
    struct tm tm;
    gmtime_r(&t, &tm);
    char limit[64];
    snprintf(limit, sizeof limit, "%04d-%02d-%02dT%02d:%02d:%02d.999Z", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (strcmp(s, limit) > 0)
        return ar_fail(AR_EINPUT, "field '%s': %s is more than a day in the future (clock wrong?)", field, s);
    return 0;
}

void ar_now_iso(char out[AR_CREATED_LEN + 1])
{
    const char *fixed = getenv("AR_NOW");
    if (fixed && ar_created_valid(fixed)) {
        memcpy(out, fixed, AR_CREATED_LEN + 1);
        return;
    }
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char buf[64];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000));
    memcpy(out, buf, AR_CREATED_LEN);
    out[AR_CREATED_LEN] = '\0';
}

int ar_id_compute(jv rec, char id[AR_ID_LEN + 1])
{
    const char *c = ar_jv_str(rec, "created");
    if (!ar_created_valid(c))
        return -1;
    jv body = jv_object_delete(jv_copy(rec), jv_string("id"));
    char hex[65];
    ar_json_hash(body, hex);
    jv_free(body);
    ar_id_format(c, hex, id);
    return 0;
}

void ar_id_format(const char *c, const char *hex, char id[AR_ID_LEN + 1])
{
    snprintf(id, AR_ID_LEN + 1, "%.4s%.2s%.2sT%.2s%.2s%.2sZ-%.12s", c, c + 5, c + 8, c + 11, c + 14,
             c + 17, hex);
}

int ar_id_matches_text(const char *s, size_t len)
{
    struct ar_jmember m[64];
    int n = ar_jtext_members(s, len, m, 64);
    if (n < 0 || n > 64)
        return 0;
    int i = ar_jtext_find(s, m, n, "id"), c = ar_jtext_find(s, m, n, "created");
    if (i < 0 || c < 0 || m[i].vallen != AR_ID_LEN + 2 || m[c].vallen != AR_CREATED_LEN + 2)
        return 0;
    char created[AR_CREATED_LEN + 1], id[AR_ID_LEN + 1], want[AR_ID_LEN + 1], hex[65];
    memcpy(created, s + m[c].val + 1, AR_CREATED_LEN);
    created[AR_CREATED_LEN] = '\0';
    memcpy(id, s + m[i].val + 1, AR_ID_LEN);
    id[AR_ID_LEN] = '\0';
    if (!ar_created_valid(created))
        return 0;
    /* the text without the id member (and the comma that joined it) */
    size_t start = m[i].key - 1, end = m[i].val + m[i].vallen;
    if (start > 1)
        start--;           /* ,"id":"..." */
    else if (end < len && s[end] == ',')
        end++;             /* {"id":"...", */
    struct ar_sha256 h;
    ar_sha256_init(&h);
    ar_sha256_update(&h, s, start);
    ar_sha256_update(&h, s + end, len - end);
    uint8_t digest[32];
    ar_sha256_final(&h, digest);
    ar_hex(digest, 32, hex);
    hex[64] = '\0';
    ar_id_format(created, hex, want);
    return strcmp(id, want) == 0;
}

int ar_id_valid(const char *s)
{
    static const char shape[] = "ddddddddTddddddZ-hhhhhhhhhhhh";
    if (!s || strlen(s) != AR_ID_LEN)
        return 0;
    for (int i = 0; i < AR_ID_LEN; i++) {
        char c = s[i];
        if (shape[i] == 'd' ? !isdigit((unsigned char)c)
            : shape[i] == 'h' ? !(isdigit((unsigned char)c) || (c >= 'a' && c <= 'f'))
            : c != shape[i])
            return 0;
    }
    return 1;
}

int ar_id_matches(jv rec)
{
    const char *id = ar_jv_str(rec, "id");
    char want[AR_ID_LEN + 1];
    return id && ar_id_compute(rec, want) == 0 && strcmp(id, want) == 0;
}

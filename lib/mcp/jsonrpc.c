/* JSON-RPC 2.0 framing and message shapes (see jsonrpc.h). */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "mcp/jsonrpc.h"

void ar_rpc_reader_init(struct ar_rpc_reader *r, size_t max)
{
    memset(r, 0, sizeof *r);
    r->max = max ? max : AR_RPC_MAX_MESSAGE;
}

void ar_rpc_reader_free(struct ar_rpc_reader *r)
{
    free(r->buf);
    memset(r, 0, sizeof *r);
}

/* Drops what was handed back, so the buffer holds only unread bytes. */
static void compact(struct ar_rpc_reader *r)
{
    if (r->start == 0)
        return;
    memmove(r->buf, r->buf + r->start, r->len - r->start);
    r->len -= r->start;
    r->start = 0;
}

static void append(struct ar_rpc_reader *r, const char *data, size_t n)
{
    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + n)
            cap *= 2;
        r->buf = realloc(r->buf, cap);
        if (!r->buf)
            ar_die(AR_EFAIL, "out of memory");
        r->cap = cap;
    }
    memcpy(r->buf + r->len, data, n);
    r->len += n;
}

/* A line is kept up to max + 1 bytes, enough for next() to know it is too
 * long; the rest of it is dropped as it comes. */
void ar_rpc_feed(struct ar_rpc_reader *r, const char *data, size_t n)
{
    compact(r);
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t seg = nl ? (size_t)(nl - data) + 1 : n;   /* through the newline */
        size_t body = nl ? seg - 1 : seg;
        if (!r->dropping) {
            size_t room = r->max + 1 - r->open;
            if (body > room) {
                append(r, data, room);
                r->open += room;
                r->dropping = 1;
            } else {
                append(r, data, body);
                r->open += body;
            }
        }
        if (nl) {
            append(r, "\n", 1);
            r->open = 0;
            r->dropping = 0;
        }
        data += seg;
        n -= seg;
    }
}

static int hand_back(struct ar_rpc_reader *r, size_t end, size_t next, const char **line, size_t *len)
{
    const char *p = r->buf + r->start;
    size_t n = end - r->start;
    r->start = next;
    if (n > 0 && p[n - 1] == '\r')
        n--;
    if (n > r->max)
        return AR_RPC_TOO_LARGE;
    *line = p;
    *len = n;
    return AR_RPC_LINE;
}

static int blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return 0;
    return 1;
}

int ar_rpc_next(struct ar_rpc_reader *r, const char **line, size_t *len)
{
    for (;;) {
        size_t avail = r->len - r->start;
        const char *p = r->buf + r->start;
        const char *nl = avail ? memchr(p, '\n', avail) : NULL;
        if (!nl)
            return AR_RPC_NONE;
        size_t end = (size_t)(nl - r->buf);
        if (blank(p, (size_t)(nl - p))) {
            r->start = end + 1;
            continue;
        }
        return hand_back(r, end, end + 1, line, len);
    }
}

int ar_rpc_finish(struct ar_rpc_reader *r, const char **line, size_t *len)
{
    int rc = ar_rpc_next(r, line, len);
    if (rc != AR_RPC_NONE)
        return rc;
    r->dropping = 0;
    r->open = 0;
    if (r->len == r->start || blank(r->buf + r->start, r->len - r->start)) {
        r->start = r->len;
        return AR_RPC_NONE;
    }
    return hand_back(r, r->len, r->len, line, len);
}

/* ------------------------------------------------------------ messages */

jv ar_rpc_result(jv id, jv result)
{
    jv o = jv_object();
    ar_jv_set(&o, "jsonrpc", jv_string("2.0"));
    ar_jv_set(&o, "id", id);
    ar_jv_set(&o, "result", result);
    return o;
}

jv ar_rpc_error(jv id, int code, const char *message)
{
    jv e = jv_object();
    ar_jv_set(&e, "code", jv_number(code));
    ar_jv_set(&e, "message", jv_string(message));
    jv o = jv_object();
    ar_jv_set(&o, "jsonrpc", jv_string("2.0"));
    ar_jv_set(&o, "id", id);
    ar_jv_set(&o, "error", e);
    return o;
}

static int valid_id(jv id)
{
    jv_kind k = jv_get_kind(id);
    return k == JV_KIND_STRING || k == JV_KIND_NUMBER;
}

enum ar_rpc_kind ar_rpc_decode(const char *line, size_t len, jv *msg, jv *reply)
{
    jv v;
    if (ar_json_parse(line, len, "message", &v) != 0) {
        *reply = ar_rpc_error(jv_null(), AR_RPC_PARSE_ERROR, ar_last_error());
        return AR_RPC_INVALID;
    }
    if (jv_get_kind(v) != JV_KIND_OBJECT) {
        const char *why = jv_get_kind(v) == JV_KIND_ARRAY ? "invalid request: batches are not supported"
                                                          : "invalid request: not a JSON object";
        jv_free(v);
        *reply = ar_rpc_error(jv_null(), AR_RPC_INVALID_REQUEST, why);
        return AR_RPC_INVALID;
    }
    jv id = ar_jv_get(v, "id");
    int has_id = ar_jv_has(v, "id");
    const char *why = NULL;
    const char *version = ar_jv_str(v, "jsonrpc");
    if (!version || strcmp(version, "2.0") != 0)
        why = "invalid request: 'jsonrpc' must be \"2.0\"";
    else if (has_id && !valid_id(id))
        why = "invalid request: 'id' must be a string or a number";
    else if (!ar_jv_has(v, "method")) {
        if (has_id && (ar_jv_has(v, "result") || ar_jv_has(v, "error"))) {
            jv_free(id);
            jv_free(v);
            return AR_RPC_RESPONSE;
        }
        why = "invalid request: no 'method'";
    } else if (!ar_jv_str(v, "method"))
        why = "invalid request: 'method' must be a string";
    else if (ar_jv_has(v, "params")) {
        jv p = ar_jv_get(v, "params");
        jv_kind k = jv_get_kind(p);
        jv_free(p);
        if (k != JV_KIND_OBJECT && k != JV_KIND_ARRAY)
            why = "invalid request: 'params' must be an object or an array";
    }
    if (why) {
        jv_free(v);
        *reply = ar_rpc_error(has_id && valid_id(id) ? id : (jv_free(id), jv_null()), AR_RPC_INVALID_REQUEST,
                              why);
        return AR_RPC_INVALID;
    }
    jv_free(id);
    *msg = v;
    return has_id ? AR_RPC_REQUEST : AR_RPC_NOTIFICATION;
}

int ar_rpc_write(FILE *out, jv v)
{
    struct ar_buf b = {0};
    ar_json_dump_buf(&b, v, AR_JSON_COMPACT);
    ar_buf_putc(&b, '\n');
    jv_free(v);
    size_t n = fwrite(b.data, 1, b.len, out);
    int rc = n == b.len && fflush(out) == 0 ? 0 : -1;
    ar_buf_free(&b);
    return rc;
}

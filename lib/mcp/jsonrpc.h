/* JSON-RPC 2.0 over a byte stream, as MCP's stdio transport frames it: one
 * message per line (UTF-8 JSON without embedded newlines), in and out.
 *
 * The reader takes whatever read() returned (part of a line, several lines)
 * and hands back whole lines. A line longer than its maximum is not kept:
 * its bytes are dropped as they come, up to its newline, and the reader
 * reports it once, so one huge message costs no memory and the stream stays
 * in step. Blank lines (and a CR before the newline) are skipped. */
#ifndef AR_MCP_JSONRPC_H
#define AR_MCP_JSONRPC_H
#include <jv.h>
#include <stddef.h>
#include <stdio.h>

#define AR_RPC_MAX_MESSAGE ((size_t)1 << 20)   /* bytes of one message, newline not counted */

/* JSON-RPC 2.0 error codes */
enum {
    AR_RPC_PARSE_ERROR = -32700,
    AR_RPC_INVALID_REQUEST = -32600,
    AR_RPC_METHOD_NOT_FOUND = -32601,
    AR_RPC_INVALID_PARAMS = -32602,
    AR_RPC_INTERNAL_ERROR = -32603,
    AR_RPC_RESOURCE_NOT_FOUND = -32002,   /* MCP: resources/read of an unknown uri */
    AR_RPC_NOT_INITIALIZED = -32000,      /* a request before initialize (server error range) */
};

struct ar_rpc_reader {
    char *buf;
    size_t len, cap, start;   /* unread bytes are buf[start..len) */
    size_t max;
    size_t open;              /* bytes kept of the line not ended yet */
    int dropping;             /* that line is over max: the rest of it is dropped */
};

void ar_rpc_reader_init(struct ar_rpc_reader *r, size_t max);
void ar_rpc_reader_free(struct ar_rpc_reader *r);
/* Takes n more bytes of the stream. */
void ar_rpc_feed(struct ar_rpc_reader *r, const char *data, size_t n);

enum { AR_RPC_NONE = 0, AR_RPC_LINE = 1, AR_RPC_TOO_LARGE = 2 };
/* The next whole line: AR_RPC_LINE with *line and *len set (valid until the
 * next call to feed or next; not NUL-terminated), AR_RPC_TOO_LARGE once for
 * a line over the maximum (when its newline has come), AR_RPC_NONE when no
 * whole line is buffered. At the end of the stream, ar_rpc_finish does the
 * same, taking a last line without its newline as whole. */
int ar_rpc_next(struct ar_rpc_reader *r, const char **line, size_t *len);
int ar_rpc_finish(struct ar_rpc_reader *r, const char **line, size_t *len);

/* What a line is. */
enum ar_rpc_kind {
    AR_RPC_REQUEST,        /* method and id */
    AR_RPC_NOTIFICATION,   /* method, no id */
    AR_RPC_RESPONSE,       /* result or error with an id: a reply to us, ignored */
    AR_RPC_INVALID,        /* *reply is the error response to send */
};
/* Parses and checks one line. REQUEST and NOTIFICATION: *msg holds the
 * message (params, when present, is an object or an array). INVALID:
 * *reply owns the error response (-32700 for JSON that does not parse,
 * invalid UTF-8 included; -32600 for anything that is not a request,
 * a batch included, which MCP does not use). */
enum ar_rpc_kind ar_rpc_decode(const char *line, size_t len, jv *msg, jv *reply);

/* Responses (id consumed; jv_null() when the request's id is unknown). */
jv ar_rpc_result(jv id, jv result);
jv ar_rpc_error(jv id, int code, const char *message);
/* Writes v (consumed) as one line and flushes; -1 when the write fails. */
int ar_rpc_write(FILE *out, jv v);
#endif

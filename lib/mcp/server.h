/* ar-mcp: the knowledge base and the queue as a Model Context Protocol
 * server (revision 2025-11-25; 2025-06-18, 2025-03-26 and 2024-11-05 are
 * accepted as well) over JSON-RPC on stdio (mcp/jsonrpc.h).
 *
 * Methods: initialize, ping, tools/list, tools/call, resources/list,
 * resources/templates/list, resources/read; notifications
 * (notifications/initialized, notifications/cancelled, ...) are taken and
 * answered with nothing. A tool whose arguments are wrong, or whose lib/
 * call fails, answers a result with isError true and the one-line message
 * the CLI prints (ar_last_error()); an unknown tool or method, or params of
 * the wrong shape, is a JSON-RPC error. */
#ifndef AR_MCP_SERVER_H
#define AR_MCP_SERVER_H
#include <jv.h>
#include <stdio.h>

#include "facts/kb.h"

#define AR_MCP_PROTOCOL "2025-11-25"

struct ar_mcp;

/* A server on kb (copied). read_only: only the tools that read are listed
 * and callable, and nothing is written (not even the saved brief). */
struct ar_mcp *ar_mcp_new(const struct ar_kb *kb, int read_only);
void ar_mcp_free(struct ar_mcp *s);

/* The response to one line of input, or jv_invalid() when it needs none (a
 * notification, a response). */
jv ar_mcp_handle_line(struct ar_mcp *s, const char *line, size_t len);

/* Reads messages from the file descriptor in until its end, answering each
 * on out. Returns 0 at the end of input, -1 (recorded) when reading or
 * writing fails. */
int ar_mcp_serve(struct ar_mcp *s, int in, FILE *out);
#endif

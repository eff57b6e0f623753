/* The MCP protocol: lifecycle, dispatch and the stdio loop (server.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "mcp/jsonrpc.h"
#include "mcp/mcp_int.h"
#include "mcp/server.h"

#define AR_MCP_VERSION "0.1.0"

static const char *const protocols[] = {AR_MCP_PROTOCOL, "2025-06-18", "2025-03-26", "2024-11-05", NULL};

/* ------------------------------------------------------------ methods */

/* An error while handling a request: a JSON-RPC error, not a tool error. */
struct rpc_err {
    int code;
    char msg[512];
};

static int rpc_fail(struct rpc_err *e, int code, const char *msg)
{
    e->code = code;
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    return -1;
}

static int initialize(jv params, jv *result, struct rpc_err *e)
{
    const char *asked = ar_jv_str(params, "protocolVersion");
    if (!asked)
        return rpc_fail(e, AR_RPC_INVALID_PARAMS, "initialize: 'protocolVersion' must be a string");
    /* the client's revision when we speak it, else our latest (the client
     * then decides whether to go on) */
    const char *version = AR_MCP_PROTOCOL;
    for (int i = 0; protocols[i]; i++)
        if (strcmp(asked, protocols[i]) == 0)
            version = protocols[i];
    jv caps = jv_object(), tools = jv_object(), res = jv_object();
    ar_jv_set(&tools, "listChanged", jv_false());
    ar_jv_set(&res, "listChanged", jv_false());
    ar_jv_set(&res, "subscribe", jv_false());
    ar_jv_set(&caps, "tools", tools);
    ar_jv_set(&caps, "resources", res);
    jv info = jv_object();
    ar_jv_set(&info, "name", jv_string("ar-mcp"));
    ar_jv_set(&info, "title", jv_string("ar knowledge base and queue"));
    ar_jv_set(&info, "version", jv_string(AR_MCP_VERSION));
    *result = jv_object();
    ar_jv_set(result, "protocolVersion", jv_string(version));
    ar_jv_set(result, "capabilities", caps);
    ar_jv_set(result, "serverInfo", info);
    ar_jv_set(result, "instructions",
              jv_string("ar is the knowledge layer of autoresearch. Read the brief (tool brief or "
                        "resource ar://brief) before planning an experiment; record each run as a "
                        "card; take work from the queue with queue_claim and finish it with "
                        "queue_done or queue_fail."));
    return 0;
}

static const struct ar_mcp_tool *find_tool(const struct ar_mcp *s, const char *name)
{
    for (const struct ar_mcp_tool *t = ar_mcp_tools; t->name; t++)
        if (strcmp(t->name, name) == 0)
            return t->writes && s->read_only ? NULL : t;
    return NULL;
}

/* A schema of the tool table, parsed (they are literals: a failure is a bug). */
static jv schema_of(const char *text, const char *tool)
{
    jv v = jv_parse(text);
    if (!jv_is_valid(v))
        ar_die(AR_EFAIL, "tool %s: its schema does not parse", tool);
    return v;
}

static jv tools_list(const struct ar_mcp *s)
{
    jv list = jv_array();
    for (const struct ar_mcp_tool *t = ar_mcp_tools; t->name; t++) {
        if (t->writes && s->read_only)
            continue;
        jv o = jv_object(), ann = jv_object();
        ar_jv_set(&o, "name", jv_string(t->name));
        ar_jv_set(&o, "title", jv_string(t->title));
        ar_jv_set(&o, "description", jv_string(t->description));
        ar_jv_set(&o, "inputSchema", schema_of(t->input_schema, t->name));
        ar_jv_set(&o, "outputSchema", schema_of(t->output_schema, t->name));
        ar_jv_set(&ann, "readOnlyHint", jv_bool(!t->writes));
        ar_jv_set(&ann, "destructiveHint", jv_false());
        ar_jv_set(&ann, "openWorldHint", jv_bool(strcmp(t->name, "sync") == 0));
        ar_jv_set(&o, "annotations", ann);
        list = jv_array_append(list, o);
    }
    jv r = jv_object();
    ar_jv_set(&r, "tools", list);
    return r;
}

static jv text_content(const char *text)
{
    jv c = jv_object();
    ar_jv_set(&c, "type", jv_string("text"));
    ar_jv_set(&c, "text", jv_string(text));
    return c;
}

static jv tool_error(const char *msg)
{
    jv r = jv_object();
    ar_jv_set(&r, "content", jv_array_append(jv_array(), text_content(msg)));
    ar_jv_set(&r, "isError", jv_true());
    return r;
}

static int tools_call(struct ar_mcp *s, jv params, jv *result, struct rpc_err *e)
{
    const char *name = ar_jv_str(params, "name");
    if (!name)
        return rpc_fail(e, AR_RPC_INVALID_PARAMS, "tools/call: 'name' must be a string");
    const struct ar_mcp_tool *t = find_tool(s, name);
    if (!t) {
        char msg[300];
        snprintf(msg, sizeof msg, "unknown tool: %.200s", name);
        return rpc_fail(e, AR_RPC_INVALID_PARAMS, msg);
    }
    jv args = ar_jv_has(params, "arguments") ? ar_jv_get(params, "arguments") : jv_object();
    if (jv_get_kind(args) == JV_KIND_NULL) {
        jv_free(args);
        args = jv_object();
    }
    if (jv_get_kind(args) != JV_KIND_OBJECT) {   /* not a CallToolRequest: a protocol error */
        jv_free(args);
        return rpc_fail(e, AR_RPC_INVALID_PARAMS, "tools/call: 'arguments' must be an object");
    }
    jv schema = schema_of(t->input_schema, t->name);
    int rc = ar_mcp_check_args(schema, args);
    jv_free(schema);
    struct ar_tool_out out = {jv_invalid(), NULL};
    if (rc == 0)
        rc = t->run(s, args, &out);
    jv_free(args);
    if (rc != 0) {
        jv_free(out.structured);
        free(out.text);
        *result = tool_error(ar_last_error());
        return 0;
    }
    char *text = out.text ? out.text : ar_json_dump(out.structured, AR_JSON_COMPACT);
    *result = jv_object();
    ar_jv_set(result, "content", jv_array_append(jv_array(), text_content(text)));
    ar_jv_set(result, "structuredContent", out.structured);
    ar_jv_set(result, "isError", jv_false());
    free(text);
    return 0;
}

static int resources_read(struct ar_mcp *s, jv params, jv *result, struct rpc_err *e)
{
    const char *uri = ar_jv_str(params, "uri");
    if (!uri)
        return rpc_fail(e, AR_RPC_INVALID_PARAMS, "resources/read: 'uri' must be a string");
    jv contents;
    if (ar_mcp_resource_read(s, uri, &contents) != 0)
        return rpc_fail(e, ar_last_code() == AR_EINPUT ? AR_RPC_RESOURCE_NOT_FOUND : AR_RPC_INTERNAL_ERROR,
                        ar_last_error());
    *result = jv_object();
    ar_jv_set(result, "contents", jv_array_append(jv_array(), contents));
    return 0;
}

static jv wrap(const char *key, jv list)
{
    jv r = jv_object();
    ar_jv_set(&r, key, list);
    return r;
}

/* The result of a request, or -1 with e set. */
static int dispatch(struct ar_mcp *s, const char *method, jv params, jv *result, struct rpc_err *e)
{
    if (!strcmp(method, "initialize")) {
        int rc = initialize(params, result, e);
        s->initialized |= rc == 0;
        return rc;
    }
    if (!strcmp(method, "ping")) {
        *result = jv_object();
        return 0;
    }
    /* the lifecycle: nothing but ping before the client's initialize */
    if (!s->initialized)
        return rpc_fail(e, AR_RPC_NOT_INITIALIZED, "server not initialized: send initialize first");
    if (!strcmp(method, "tools/list")) {
        *result = tools_list(s);
        return 0;
    }
    if (!strcmp(method, "tools/call"))
        return tools_call(s, params, result, e);
    if (!strcmp(method, "resources/list")) {
        *result = wrap("resources", ar_mcp_resources());
        return 0;
    }
    if (!strcmp(method, "resources/templates/list")) {
        *result = wrap("resourceTemplates", ar_mcp_resource_templates());
        return 0;
    }
    if (!strcmp(method, "resources/read"))
        return resources_read(s, params, result, e);
    char msg[300];
    snprintf(msg, sizeof msg, "method not found: %.200s", method);
    return rpc_fail(e, AR_RPC_METHOD_NOT_FOUND, msg);
}

jv ar_mcp_handle_line(struct ar_mcp *s, const char *line, size_t len)
{
    jv msg, reply;
    switch (ar_rpc_decode(line, len, &msg, &reply)) {
    case AR_RPC_INVALID:
        return reply;
    case AR_RPC_RESPONSE:
        return jv_invalid();
    case AR_RPC_NOTIFICATION:   /* initialized, cancelled, ...: nothing to answer */
        jv_free(msg);
        return jv_invalid();
    case AR_RPC_REQUEST:
        break;
    }
    jv id = ar_jv_get(msg, "id");
    jv params = ar_jv_has(msg, "params") ? ar_jv_get(msg, "params") : jv_object();
    struct rpc_err e = {0, ""};
    jv result = jv_invalid();
    int rc;
    if (jv_get_kind(params) != JV_KIND_OBJECT)
        rc = rpc_fail(&e, AR_RPC_INVALID_PARAMS, "invalid params: must be an object");
    else
        rc = dispatch(s, ar_jv_str(msg, "method"), params, &result, &e);
    jv_free(params);
    jv_free(msg);
    return rc == 0 ? ar_rpc_result(id, result) : ar_rpc_error(id, e.code, e.msg);
}

int ar_mcp_serve(struct ar_mcp *s, int in, FILE *out)
{
    struct ar_rpc_reader r;
    ar_rpc_reader_init(&r, AR_RPC_MAX_MESSAGE);
    char buf[65536];
    int rc = 0, eof = 0;
    while (rc == 0 && !eof) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = ar_fail(AR_EFAIL, "stdin: %s", strerror(errno));
            break;
        }
        eof = n == 0;
        ar_rpc_feed(&r, buf, (size_t)n);
        const char *line;
        size_t len;
        int k;
        while (rc == 0 && (k = eof ? ar_rpc_finish(&r, &line, &len) : ar_rpc_next(&r, &line, &len)) != AR_RPC_NONE) {
            jv reply;
            if (k == AR_RPC_TOO_LARGE) {
                char msg[128];
                snprintf(msg, sizeof msg, "invalid request: message larger than %zu bytes", r.max);
                reply = ar_rpc_error(jv_null(), AR_RPC_INVALID_REQUEST, msg);
            } else {
                reply = ar_mcp_handle_line(s, line, len);
            }
            if (jv_is_valid(reply) && ar_rpc_write(out, reply) != 0)
                rc = ar_fail(AR_EFAIL, "stdout: write failed");
        }
    }
    ar_rpc_reader_free(&r);
    return rc;
}

/* lib/mcp/jsonrpc.h: the stdio framing (partial lines, several messages in
 * one read, CR and blank lines, oversized lines in one read or many) and
 * the message checks; lib/mcp/server.h: the protocol's error codes and the
 * serve loop over a real pipe with a message over 1 MiB. */
#include "unit.h"

#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/json.h"
#include "facts/kb.h"
#include "mcp/jsonrpc.h"
#include "mcp/server.h"

static const char PING[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";

/* The next line as a NUL-terminated copy in buf, or NULL; kind in *k. */
static const char *next(struct ar_rpc_reader *r, int *k, char *buf, size_t n)
{
    const char *line;
    size_t len;
    *k = ar_rpc_next(r, &line, &len);
    if (*k != AR_RPC_LINE)
        return NULL;
    ck_assert_uint_lt(len, n);
    memcpy(buf, line, len);
    buf[len] = '\0';
    return buf;
}

START_TEST(partial_lines_wait_for_their_newline)
{
    struct ar_rpc_reader r;
    ar_rpc_reader_init(&r, 0);
    char buf[256];
    int k;
    for (size_t i = 0; i < strlen(PING); i++) {
        ar_rpc_feed(&r, PING + i, 1);
        ck_assert_ptr_null(next(&r, &k, buf, sizeof buf));
        ck_assert_int_eq(k, AR_RPC_NONE);
    }
    ar_rpc_feed(&r, "\n", 1);
    ck_assert_str_eq(next(&r, &k, buf, sizeof buf), PING);
    ck_assert_ptr_null(next(&r, &k, buf, sizeof buf));
    ck_assert_int_eq(k, AR_RPC_NONE);
    ar_rpc_reader_free(&r);
}
END_TEST

START_TEST(two_messages_in_one_read)
{
    struct ar_rpc_reader r;
    ar_rpc_reader_init(&r, 0);
    char buf[256];
    int k;
    const char *two = "{\"a\":1}\n{\"b\":2}\n{\"c\":";
    ar_rpc_feed(&r, two, strlen(two));
    ck_assert_str_eq(next(&r, &k, buf, sizeof buf), "{\"a\":1}");
    ck_assert_str_eq(next(&r, &k, buf, sizeof buf), "{\"b\":2}");
    ck_assert_ptr_null(next(&r, &k, buf, sizeof buf));
    ar_rpc_feed(&r, "3}\n", 3);   /* the third completes in the next read */
    ck_assert_str_eq(next(&r, &k, buf, sizeof buf), "{\"c\":3}");
    ar_rpc_reader_free(&r);
}
END_TEST

START_TEST(crlf_and_blank_lines)
{
    struct ar_rpc_reader r;
    ar_rpc_reader_init(&r, 0);
    char buf[256];
    int k;
    const char *in = "\r\n\n  \n{\"a\":1}\r\n";
    ar_rpc_feed(&r, in, strlen(in));
    ck_assert_str_eq(next(&r, &k, buf, sizeof buf), "{\"a\":1}");
    ck_assert_ptr_null(next(&r, &k, buf, sizeof buf));
    ar_rpc_reader_free(&r);
}
END_TEST

START_TEST(last_line_without_newline_at_the_end)
{
    struct ar_rpc_reader r;
    ar_rpc_reader_init(&r, 0);
    const char *line;
    size_t len;
    ar_rpc_feed(&r, "{\"a\":1}", 7);
    ck_assert_int_eq(ar_rpc_next(&r, &line, &len), AR_RPC_NONE);
    ck_assert_int_eq(ar_rpc_finish(&r, &line, &len), AR_RPC_LINE);
    ck_assert_uint_eq(len, 7);
    ck_assert_int_eq(ar_rpc_finish(&r, &line, &len), AR_RPC_NONE);
    ar_rpc_reader_free(&r);
}
END_TEST

START_TEST(oversized_line_in_one_read)
{
    struct ar_rpc_reader r;
    ar_rpc_reader_init(&r, 64);
    char big[200], buf[256];
    int k;
    memset(big, 'x', sizeof big);
    ar_rpc_feed(&r, big, 100);
    ar_rpc_feed(&r, "\n{\"a\":1}\n", 9);
    ck_assert_ptr_null(next(&r, &k, buf, sizeof buf));
    ck_assert_int_eq(k, AR_RPC_TOO_LARGE);
    ck_assert_str_eq(next(&r, &k, buf, sizeof buf), "{\"a\":1}");
    /* exactly the maximum is fine */
    ar_rpc_feed(&r, big, 64);
    ar_rpc_feed(&r, "\n", 1);
    ck_assert_ptr_nonnull(next(&r, &k, buf, sizeof buf));
    ck_assert_uint_eq(strlen(buf), 64);
    ar_rpc_reader_free(&r);
}
END_TEST

START_TEST(oversized_line_over_many_reads_keeps_no_memory)
{
    struct ar_rpc_reader r;
    ar_rpc_reader_init(&r, 64);
    char chunk[7], buf[256];
    int k;
    memset(chunk, 'y', sizeof chunk);
    for (int i = 0; i < 10000; i++) {
        ar_rpc_feed(&r, chunk, sizeof chunk);
        ck_assert_uint_le(r.len, 65);   /* never more than max + 1 bytes kept */
        ck_assert_ptr_null(next(&r, &k, buf, sizeof buf));
        ck_assert_int_eq(k, AR_RPC_NONE);
    }
    ar_rpc_feed(&r, "yy\n{\"b\":2}\n", 11);
    ck_assert_ptr_null(next(&r, &k, buf, sizeof buf));
    ck_assert_int_eq(k, AR_RPC_TOO_LARGE);   /* reported once */
    ck_assert_str_eq(next(&r, &k, buf, sizeof buf), "{\"b\":2}");
    ck_assert_ptr_null(next(&r, &k, buf, sizeof buf));
    ck_assert_int_eq(k, AR_RPC_NONE);
    ar_rpc_reader_free(&r);
}
END_TEST

/* The error code of the reply to line, or 0 when it decodes as kind. */
static int decode_code(const char *line, enum ar_rpc_kind want, jv *id)
{
    jv msg, reply;
    enum ar_rpc_kind k = ar_rpc_decode(line, strlen(line), &msg, &reply);
    if (k == AR_RPC_INVALID) {
        jv err = ar_jv_get(reply, "error");
        int code = (int)ar_jv_num(err, "code", 0);
        if (id)
            *id = ar_jv_get(reply, "id");
        jv_free(err);
        jv_free(reply);
        return code;
    }
    ck_assert_int_eq(k, want);
    if (k == AR_RPC_REQUEST || k == AR_RPC_NOTIFICATION)
        jv_free(msg);
    return 0;
}

START_TEST(invalid_utf8_is_a_parse_error)
{
    jv id;
    ck_assert_int_eq(decode_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"p\xff\"}", AR_RPC_INVALID, &id),
                     AR_RPC_PARSE_ERROR);
    ck_assert_int_eq(jv_get_kind(id), JV_KIND_NULL);
    jv_free(id);
    ck_assert_int_eq(decode_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xc0\xaf\"}", AR_RPC_INVALID, NULL),
                     AR_RPC_PARSE_ERROR);   /* an overlong form */
    ck_assert_int_eq(decode_code("{\"jsonrpc\":", AR_RPC_INVALID, NULL), AR_RPC_PARSE_ERROR);
}
END_TEST

START_TEST(message_shapes)
{
    jv id;
    ck_assert_int_eq(decode_code(PING, AR_RPC_REQUEST, NULL), 0);
    ck_assert_int_eq(decode_code("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
                                 AR_RPC_NOTIFICATION, NULL), 0);
    ck_assert_int_eq(decode_code("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{}}", AR_RPC_RESPONSE, NULL), 0);
    ck_assert_int_eq(decode_code("{\"id\":7,\"method\":\"ping\"}", AR_RPC_INVALID, &id), AR_RPC_INVALID_REQUEST);
    ck_assert_int_eq((int)jv_number_value(id), 7);   /* the id is kept when it is one */
    jv_free(id);
    ck_assert_int_eq(decode_code("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", AR_RPC_INVALID, NULL),
                     AR_RPC_INVALID_REQUEST);
    ck_assert_int_eq(decode_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":3}", AR_RPC_INVALID, NULL),
                     AR_RPC_INVALID_REQUEST);
    ck_assert_int_eq(decode_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":\"x\"}",
                                 AR_RPC_INVALID, NULL), AR_RPC_INVALID_REQUEST);
    ck_assert_int_eq(decode_code("[" "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}" "]", AR_RPC_INVALID, NULL),
                     AR_RPC_INVALID_REQUEST);
    ck_assert_int_eq(decode_code("42", AR_RPC_INVALID, NULL), AR_RPC_INVALID_REQUEST);
}
END_TEST

/* --------------------------------------------------------------- server */

static char dir[256];
static struct ar_kb kb;

static void setup(void)
{
    unit_tmpdir(dir, sizeof dir, "jsonrpc");
    char path[300];
    snprintf(path, sizeof path, "%s/kb", dir);
    ck_assert_int_eq(ar_kb_open(&kb, path, AR_KB_CREATE), 0);
}

static void teardown(void)
{
    unit_rmtree(dir);
}

/* The reply to line: its error code, or 0 for a result (*result then owns it). */
static int call(struct ar_mcp *s, const char *line, jv *result)
{
    jv reply = ar_mcp_handle_line(s, line, strlen(line));
    ck_assert(jv_is_valid(reply));
    int code = 0;
    if (ar_jv_has(reply, "error")) {
        jv e = ar_jv_get(reply, "error");
        code = (int)ar_jv_num(e, "code", 0);
        jv_free(e);
    } else if (result) {
        *result = ar_jv_get(reply, "result");
    }
    jv_free(reply);
    return code;
}

#define INIT "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{" \
             "\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}"

/* a server past initialize */
static struct ar_mcp *ready(int read_only)
{
    struct ar_mcp *s = ar_mcp_new(&kb, read_only);
    ck_assert_int_eq(call(s, INIT, NULL), 0);
    return s;
}

/* before initialize only ping is answered; a failed initialize changes nothing */
START_TEST(nothing_but_ping_before_initialize)
{
    struct ar_mcp *s = ar_mcp_new(&kb, 0);
    ck_assert_int_eq(call(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}", NULL), AR_RPC_NOT_INITIALIZED);
    ck_assert_int_eq(call(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"brief\"}}", NULL),
                     AR_RPC_NOT_INITIALIZED);
    ck_assert_int_eq(call(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", NULL), 0);
    ck_assert_int_eq(call(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}", NULL),
                     AR_RPC_INVALID_PARAMS);
    ck_assert_int_eq(call(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/list\"}", NULL), AR_RPC_NOT_INITIALIZED);
    jv r;
    ck_assert_int_eq(call(s, INIT, NULL), 0);
    ck_assert_int_eq(call(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}", &r), 0);
    jv_free(r);
    ar_mcp_free(s);
}
END_TEST

START_TEST(protocol_errors_and_tool_errors)
{
    struct ar_mcp *s = ready(0);
    jv r;
    ck_assert_int_eq(call(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nope\"}", NULL), AR_RPC_METHOD_NOT_FOUND);
    ck_assert_int_eq(call(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\"}}", NULL),
                     AR_RPC_INVALID_PARAMS);
    ck_assert_int_eq(call(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"brief\",\"arguments\":[1]}}", NULL),
                     AR_RPC_INVALID_PARAMS);
    ck_assert_int_eq(call(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}", NULL),
                     AR_RPC_INVALID_PARAMS);
    ck_assert_int_eq(call(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/read\",\"params\":{\"uri\":\"ar://nope\"}}", NULL),
                     AR_RPC_RESOURCE_NOT_FOUND);
    /* a bad argument is a tool result with isError and the lib's message */
    ck_assert_int_eq(call(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"card_show\","
                             "\"arguments\":{\"id\":\"../../etc/passwd\"}}}", &r), 0);
    ck_assert_int_eq(jv_get_kind(ar_jv_get(r, "isError")), JV_KIND_TRUE);
    jv content = ar_jv_get(r, "content"), first = jv_array_get(content, 0);
    ck_assert_str_eq(ar_jv_str(first, "text"), "card id '../../etc/passwd': not of the form YYYYMMDDTHHMMSSZ-<12 hex>");
    jv_free(first);
    jv_free(r);
    /* notifications get no reply */
    const char *note = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}";
    ck_assert(!jv_is_valid(ar_mcp_handle_line(s, note, strlen(note))));
    ar_mcp_free(s);
}
END_TEST

START_TEST(initialize_negotiates_the_version)
{
    struct ar_mcp *s = ar_mcp_new(&kb, 0);
    jv r;
    ck_assert_int_eq(call(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
                             "\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}", &r), 0);
    ck_assert_str_eq(ar_jv_str(r, "protocolVersion"), "2025-06-18");   /* one we speak: the same */
    jv_free(r);
    ck_assert_int_eq(call(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
                             "\"protocolVersion\":\"1999-01-01\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}", &r), 0);
    ck_assert_str_eq(ar_jv_str(r, "protocolVersion"), AR_MCP_PROTOCOL);   /* else our latest */
    jv_free(r);
    ar_mcp_free(s);
}
END_TEST

START_TEST(read_only_hides_writers)
{
    struct ar_mcp *s = ready(1);
    ck_assert_int_eq(call(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"card_write\","
                             "\"arguments\":{\"card\":{}}}}", NULL), AR_RPC_INVALID_PARAMS);
    jv r;
    ck_assert_int_eq(call(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}", &r), 0);
    jv tools = ar_jv_get(r, "tools");
    jv_array_foreach(tools, i, t) {
        (void)i;
        ck_assert_str_ne(ar_jv_str(t, "name"), "card_write");
        ck_assert_str_ne(ar_jv_str(t, "name"), "queue_claim");
        jv_free(t);
    }
    jv_free(tools);
    jv_free(r);
    ar_mcp_free(s);
}
END_TEST

START_TEST(serve_refuses_a_message_over_1_mib_and_goes_on)
{
    struct ar_mcp *s = ar_mcp_new(&kb, 0);
    char in_path[300], out_path[300];
    snprintf(in_path, sizeof in_path, "%s/in", dir);
    snprintf(out_path, sizeof out_path, "%s/out", dir);
    FILE *in = fopen(in_path, "w");
    ck_assert_ptr_nonnull(in);
    fputs("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"pad\":\"", in);
    for (size_t i = 0; i < AR_RPC_MAX_MESSAGE; i++)
        fputc('z', in);
    fputs("\"}}\n", in);
    fputs(PING, in);   /* the last line without its newline */
    fclose(in);
    FILE *inf = fopen(in_path, "r"), *out = fopen(out_path, "w+");
    ck_assert_int_eq(ar_mcp_serve(s, fileno(inf), out), 0);
    rewind(out);
    char line[4096];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, out));
    jv v;
    ck_assert_int_eq(ar_json_parse(line, strlen(line) - 1, "reply", &v), 0);
    jv e = ar_jv_get(v, "error");
    ck_assert_int_eq((int)ar_jv_num(e, "code", 0), AR_RPC_INVALID_REQUEST);
    ck_assert_ptr_nonnull(strstr(ar_jv_str(e, "message"), "larger than 1048576 bytes"));
    jv_free(e);
    jv_free(v);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, out));
    ck_assert_str_eq(line, "{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":{}}\n");
    ck_assert_ptr_null(fgets(line, sizeof line, out));
    fclose(inf);
    fclose(out);
    ar_mcp_free(s);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("jsonrpc");
    TCase *tc = tcase_create("framing");
    tcase_add_test(tc, partial_lines_wait_for_their_newline);
    tcase_add_test(tc, two_messages_in_one_read);
    tcase_add_test(tc, crlf_and_blank_lines);
    tcase_add_test(tc, last_line_without_newline_at_the_end);
    tcase_add_test(tc, oversized_line_in_one_read);
    tcase_add_test(tc, oversized_line_over_many_reads_keeps_no_memory);
    tcase_add_test(tc, invalid_utf8_is_a_parse_error);
    tcase_add_test(tc, message_shapes);
    suite_add_tcase(s, tc);
    TCase *sv = tcase_create("server");
    tcase_add_checked_fixture(sv, setup, teardown);
    tcase_add_test(sv, nothing_but_ping_before_initialize);
    tcase_add_test(sv, protocol_errors_and_tool_errors);
    tcase_add_test(sv, initialize_negotiates_the_version);
    tcase_add_test(sv, read_only_hides_writers);
    tcase_add_test(sv, serve_refuses_a_message_over_1_mib_and_goes_on);
    suite_add_tcase(s, sv);
    return s;
}

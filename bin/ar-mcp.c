/* ar-mcp: the knowledge base and the queue as an MCP server on stdio, for
 * coding agents (Claude Code, Codex, Cursor, ...). A thin front end over
 * lib/mcp/server.h: parse the options, open the knowledge base, serve. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/err.h"
#include "base/opt.h"
#include "facts/kb.h"
#include "mcp/server.h"

static const char usage[] =
    "usage: ar-mcp [--kb DIR] [--read-only]\n"
    "\n"
    "Serves the knowledge base and the queue over the Model Context Protocol\n"
    "(JSON-RPC 2.0, one message per line on stdin and stdout; revision\n"
    AR_MCP_PROTOCOL "). Tools: brief, findings, cards_query, card_show,\n"
    "card_record, card_write, card_note, card_retract, queue_status, queue_add,\n"
    "queue_claim, queue_heartbeat, queue_done, queue_fail, plan, sync.\n"
    "Resources: ar://brief, ar://findings, ar://synthesis/meta, ar://queue,\n"
    "ar://cards/{id}. With --read-only only the tools that read are offered.\n"
    "Register it with a coding agent: claude mcp add ar -- ar-mcp --kb DIR\n";

int main(int argc, char **argv)
{
    ar_set_prog(argv[0]);
    const char *kb_dir = NULL;
    int read_only = 0;
    struct ar_opt opts[] = {
        AR_OPT_STR("kb", &kb_dir, "DIR", "knowledge base (default $AR_KB or ./knowledge)"),
        AR_OPT_BOOL("read-only", &read_only, "offer only the tools that read; write nothing"),
        AR_OPT_END,
    };
    ar_opt_parse_none(opts, argc, argv, usage, NULL);
    struct ar_kb kb;
    if (ar_kb_open(&kb, kb_dir, read_only ? 0 : AR_KB_CREATE) != 0)
        ar_die_last();
    /* stdout carries only protocol messages: they go to a descriptor of
     * their own, and anything else printed to stdout ends up on stderr */
    int fd = dup(1);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!out || dup2(2, 1) < 0)
        ar_die(AR_EFAIL, "stdout: cannot set up the protocol stream");
    struct ar_mcp *s = ar_mcp_new(&kb, read_only);
    int rc = ar_mcp_serve(s, 0, out);
    ar_mcp_free(s);
    if (fclose(out) != 0 && rc == 0)
        rc = ar_fail(AR_EFAIL, "stdout: write failed");
    if (rc != 0)
        ar_die_last();
    return AR_OK;
}

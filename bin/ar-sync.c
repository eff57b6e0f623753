/* ar-sync: exchange facts with peers through a git remote. A thin front end
 * over lib/sync/sync.h. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "facts/card.h"
#include "base/cli.h"
#include "base/err.h"
#include "base/json.h"
#include "facts/kb.h"
#include "base/opt.h"
#include "sync/sync.h"

static const char *kb_dir;   /* --kb */

#define OPT_KB AR_OPT_STR("kb", &kb_dir, "DIR", "knowledge base (default $AR_KB or ./knowledge)")

static void open_kb(struct ar_kb *kb, int flags)
{
    if (ar_kb_open(kb, kb_dir, flags) != 0)
        ar_die_last();
}

static void print_counts(const char *verb, const int n[3])
{
    printf("%s %d card%s, %d note%s, %d patch%s\n", verb, n[0], n[0] == 1 ? "" : "s", n[1],
           n[1] == 1 ? "" : "s", n[2], n[2] == 1 ? "" : "es");
}

/* -------------------------------------------------------------------- run */

static const char usage_run[] =
    "usage: ar-sync [run] [--json] [--retries N] [--local] [--remote NAME]\n"
    "\n"
    "Commits new facts (cards, notes, patches), fetches the remote, merges\n"
    "what peers wrote, pushes, and rebuilds the derived files (the index;\n"
    "synthesis/ and plots/ through ar-synth and ar-plot when they exist);\n"
    "when a peer pushed first it fetches and tries again, with back-off.\n"
    "Incoming files that are not valid facts are moved to quarantine/ and reported.\n";

static int cmd_run(int argc, char **argv)
{
    int json_out = 0, local = 0;
    long retries = AR_SYNC_RETRIES;
    const char *remote = NULL;
    struct ar_opt opts[] = {
        AR_OPT_BOOL("json", &json_out, "print the report as one JSON object"),
        AR_OPT_INT("retries", &retries, "N", "push attempts before giving up (default 8)"),
        AR_OPT_BOOL("local", &local, "only commit new facts and rebuild; no fetch or push"),
        AR_OPT_STR("remote", &remote, "NAME", "remote to sync with (default origin)"),
        OPT_KB,
        AR_OPT_END,
    };
    ar_opt_parse_none(opts, argc, argv, usage_run, NULL);
    if (retries < 1 || retries > 100)
        ar_die(AR_EINPUT, "option '--retries': must be between 1 and 100");
    struct ar_kb kb;
    open_kb(&kb, 0);
    struct ar_sync_opts o = {.remote = remote, .retries = (int)retries, .local_only = local};
    struct ar_sync_report r;
    int rc = ar_sync_run(&kb, &o, &r);
    ar_sync_rebuild_derived(&kb, &r);
    jv_array_foreach(r.quarantined, i, q) {
        ar_warn("quarantined %s (%s): %s", ar_jv_str(q, "path"), ar_jv_str(q, "origin"),
                ar_jv_str(q, "reason"));
        jv_free(q);
    }
    if (json_out) {
        jv o = ar_sync_report_json(&r, rc == 0);
        char *s = ar_json_dump(o, AR_JSON_COMPACT);
        puts(s);
        free(s);
        jv_free(o);
    } else {
        print_counts("committed", r.committed);
        if (r.has_remote) {
            print_counts("received", r.received);
            if (r.pushed)
                printf("in sync with the remote at %.12s (%d round%s)\n", r.head, r.attempts,
                       r.attempts == 1 ? "" : "s");
        } else if (!local) {
            printf("no remote: set one with ar-sync init --remote URL\n");
        }
        if (jv_array_length(jv_copy(r.quarantined)) > 0)
            printf("quarantined %d file%s (see quarantine/)\n", jv_array_length(jv_copy(r.quarantined)),
                   jv_array_length(jv_copy(r.quarantined)) == 1 ? "" : "s");
    }
    jv_free(r.quarantined);
    if (rc != 0)
        ar_die_last();
    return AR_OK;
}

/* ------------------------------------------------------------------- init */

static const char usage_init[] =
    "usage: ar-sync init [--remote URL]\n"
    "\n"
    "Makes the knowledge base its own git repository (creating it if needed),\n"
    "sets the remote 'origin' to URL (a bare repository path, file://, ssh or\n"
    "https), adds the knowledge base to the enclosing project's .gitignore and\n"
    "commits the facts already there. Safe to run again, e.g. to change URL.\n";

static int cmd_init(int argc, char **argv)
{
    const char *url = NULL;
    struct ar_opt opts[] = {
        AR_OPT_STR("remote", &url, "URL", "the shared remote (origin)"),
        OPT_KB,
        AR_OPT_END,
    };
    ar_opt_parse_none(opts, argc, argv, usage_init, "init");
    if (url && !*url)
        ar_die(AR_EINPUT, "option '--remote': empty url");
    struct ar_kb kb;
    open_kb(&kb, AR_KB_CREATE);
    int created;
    if (ar_sync_init(&kb, url, &created) != 0)
        ar_die_last();
    printf("%s %s%s%s\n", created ? "initialised" : "already initialised:", kb.root,
           url ? " with remote " : "", url ? url : "");
    return AR_OK;
}

/* ----------------------------------------------------------------- status */

static const char usage_status[] =
    "usage: ar-sync status [--fetch] [--json]\n"
    "\n"
    "Shows the remote, commits ahead of and behind it (as last fetched, or\n"
    "now with --fetch), facts not committed yet, files in quarantine, and the\n"
    "peers seen: each agent with its cards and platform classes.\n";

static int cmd_status(int argc, char **argv)
{
    int json_out = 0, fetch = 0;
    const char *remote = NULL;
    struct ar_opt opts[] = {
        AR_OPT_BOOL("fetch", &fetch, "fetch the remote first"),
        AR_OPT_BOOL("json", &json_out, "print one JSON object"),
        AR_OPT_STR("remote", &remote, "NAME", "remote (default origin)"),
        OPT_KB,
        AR_OPT_END,
    };
    ar_opt_parse_none(opts, argc, argv, usage_status, "status");
    struct ar_kb kb;
    open_kb(&kb, 0);
    struct ar_sync_status st;
    jv peers;
    if (ar_sync_status(&kb, remote, fetch, &st) != 0 || ar_sync_peers(&kb, &peers) != 0)
        ar_die_last();
    const char *me = ar_agent_name();
    if (json_out) {
        jv o = jv_object();
        ar_jv_set(&o, "remote", jv_string(st.url));
        ar_jv_set(&o, "head", jv_string(st.head));
        ar_jv_set(&o, "remote_head", jv_string(st.remote_head));
        ar_jv_set(&o, "ahead", jv_number((double)st.ahead));
        ar_jv_set(&o, "behind", jv_number((double)st.behind));
        ar_jv_set(&o, "uncommitted", jv_number((double)st.uncommitted));
        ar_jv_set(&o, "quarantined", jv_number((double)st.quarantined));
        ar_jv_set(&o, "peers", jv_copy(peers));
        char *s = ar_json_dump(o, AR_JSON_COMPACT);
        puts(s);
        free(s);
        jv_free(o);
    } else {
        printf("remote:      %s\n", *st.url ? st.url : "(none: ar-sync init --remote URL)");
        printf("head:        %.12s\n", *st.head ? st.head : "(no commit)");
        printf("ahead:       %zu\n", st.ahead);
        printf("behind:      %zu%s\n", st.behind, fetch ? "" : " (as last fetched)");
        printf("uncommitted: %ld\n", st.uncommitted);
        printf("quarantined: %ld\n", st.quarantined);
        printf("peers:       %d\n", jv_array_length(jv_copy(peers)));
        jv_array_foreach(peers, i, p) {
            struct ar_buf classes = {0};
            jv pl = ar_jv_get(p, "platforms");
            jv_array_foreach(pl, j, c) {
                ar_buf_printf(&classes, "%s%s", j ? "," : "", jv_string_value(c));
                jv_free(c);
            }
            jv_free(pl);
            const char *agent = ar_jv_str(p, "agent");
            printf("  %-24s %4d cards  %-20s last %s%s\n", agent, (int)ar_jv_num(p, "cards", 0),
                   classes.data ? classes.data : "-", ar_jv_str(p, "last"),
                   me && strcmp(me, agent) == 0 ? "  (you)" : "");
            ar_buf_free(&classes);
            jv_free(p);
        }
    }
    jv_free(peers);
    return AR_OK;
}

/* ------------------------------------------------------------------- main */

static const struct ar_cmd commands[] = {
    {"run", cmd_run, "commit, fetch, merge, rebuild, push (the default)"},
    {"init", cmd_init, "make the knowledge base a git repository; set the remote"},
    {"status", cmd_status, "ahead/behind, uncommitted facts, quarantine, peers seen"},
    {NULL, NULL, NULL},
};

static const char overview[] =
    "usage: ar-sync [COMMAND] [OPTIONS]\n"
    "\n"
    "Shares the knowledge base with peers through a git remote: every\n"
    "machine's cards and notes reach every other. Without a command, runs\n"
    "'ar-sync run'.\n";

int main(int argc, char **argv)
{
    ar_set_prog(argv[0]);
    char *run_argv[argc + 2];
    int is_help = argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
    if (argc < 2 || (argv[1][0] == '-' && !is_help)) {
        run_argv[0] = argv[0];
        run_argv[1] = "run";
        for (int i = 1; i < argc; i++)
            run_argv[i + 1] = argv[i];
        run_argv[argc + 1] = NULL;
        return ar_cli_dispatch(commands, argc + 1, run_argv, overview);
    }
    return ar_cli_dispatch(commands, argc, argv, overview);
}

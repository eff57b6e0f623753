/* What ar-sync does around a sync: the report as JSON, and the derived
 * files that belong to other tools rebuilt by running them. Moved out of
 * bin/ar-sync.c so that ar-mcp's sync tool does the same. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/err.h"
#include "base/json.h"
#include "sync/sync.h"

static jv counts_json(const int n[3])
{
    jv o = jv_object();
    ar_jv_set(&o, "cards", jv_number(n[0]));
    ar_jv_set(&o, "notes", jv_number(n[1]));
    ar_jv_set(&o, "patches", jv_number(n[2]));
    return o;
}


/* Runs a sibling tool (beside this executable, else on PATH) with its
 * stdout discarded; warns when it fails. */
static void run_tool(const char *tool, const char *const args[])
{
    char self[PATH_MAX], path[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    snprintf(path, sizeof path, "%s", tool);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            snprintf(path, sizeof path, "%s/%s", self, tool);
            if (access(path, X_OK) != 0)
                snprintf(path, sizeof path, "%s", tool);
        }
    }
    char *argv[16];
    int argc = 0;
    argv[argc++] = (char *)tool;
    for (int i = 0; args[i] && argc < 15; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 1);
        execvp(path, argv);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        ar_warn("%s %s failed (exit %d): derived files may be stale", tool, args[0],
                pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* The index is rebuilt by the sync itself; the synthesis and the plots
 * belong to ar-synth and ar-plot, which rebuild them here when this
 * knowledge base has them and its facts changed, so peers with the same
 * facts hold the same bytes. */
void ar_sync_rebuild_derived(const struct ar_kb *kb, const struct ar_sync_report *r)
{
    int changed = 0;
    for (int i = 0; i < 3; i++)
        changed += r->committed[i] + r->received[i];
    char dir[PATH_MAX];
    if (!changed)
        return;
    if (ar_is_dir(ar_kb_path(kb, "synthesis", dir))) {
        const char *args[] = {"all", "--kb", kb->root, NULL};
        run_tool("ar-synth", args);
    }
    if (ar_is_dir(ar_kb_path(kb, "plots", dir))) {
        const char *progress[] = {"progress", "--kb", kb->root, NULL};
        const char *findings[] = {"findings", "--kb", kb->root, NULL};
        run_tool("ar-plot", progress);
        run_tool("ar-plot", findings);
    }
}

jv ar_sync_report_json(const struct ar_sync_report *r, int ok)
{
    jv o = jv_object();
    ar_jv_set(&o, "committed", counts_json(r->committed));
    ar_jv_set(&o, "received", counts_json(r->received));
    ar_jv_set(&o, "quarantined", jv_copy(r->quarantined));
    ar_jv_set(&o, "remote", jv_bool(r->has_remote));
    ar_jv_set(&o, "pushed", jv_bool(r->pushed));
    ar_jv_set(&o, "attempts", jv_number(r->attempts));
    ar_jv_set(&o, "head", jv_string(r->head));
    ar_jv_set(&o, "ok", jv_bool(ok));
    return o;
}

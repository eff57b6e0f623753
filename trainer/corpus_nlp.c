/* The default corpus: the npm package nlp-corpus, fetched once with
 * `npm pack` into the data directory, unpacked with tar, and read from its
 * builds/doc-N.json files. Fetch and unpack go through temporary
 * directories renamed into place, so a failure or a concurrent prepare
 * never leaves a half-written package. */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include "corpus.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"


int corpus_data_dir(char *buf, size_t size)
{
    const char *env = getenv("AR_DATA");
    int n;
    if (env && *env) {
        n = snprintf(buf, size, "%s", env);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home)
            return ar_fail(AR_EINPUT, "data directory: neither AR_DATA nor HOME is set");
        n = snprintf(buf, size, "%s/.cache/ar", home);
    }
    if (n < 0 || (size_t)n >= size)
        return ar_fail(AR_EINPUT, "data directory: path too long");
    return 0;
}

/* snprintf for paths: fails (AR_EINPUT) instead of truncating. */
static int pathf(char *buf, size_t size, const char *fmt, ...) AR_PRINTF(3, 4);
static int pathf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size)
        return ar_fail(AR_EINPUT, "path too long: %.60s...", buf);
    return 0;
}

int corpus_mkdirs(const char *path)
{
    char tmp[PATH_MAX];
    if (pathf(tmp, sizeof tmp, "%s", path) < 0)
        return -1;
    for (char *p = tmp + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char keep = *p;
            *p = '\0';
            if (mkdir(tmp, 0777) < 0 && errno != EEXIST)
                return ar_fail(AR_EFAIL, "%s: cannot create directory: %s", tmp, strerror(errno));
            *p = keep;
            if (!keep)
                break;
        }
    }
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Runs argv in cwd with stdout and stderr to log; returns the exit status,
 * 127 when the program cannot be run. */
static int run_logged(const char *cwd, char *const argv[], const char *log)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return ar_fail(AR_EFAIL, "fork: %s", strerror(errno));
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (in < 0 || out < 0 || chdir(cwd) < 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return ar_fail(AR_EFAIL, "waitpid: %s", strerror(errno));
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The first error line npm wrote, for a one-line message. */
static void npm_reason(const char *log, int status, char *out, size_t size)
{
    snprintf(out, size, "npm exited with status %d", status);
    if (status == 127) {
        snprintf(out, size, "npm not found");
        return;
    }
    FILE *f = fopen(log, "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "npm ERR!", 8) == 0 || strncmp(line, "npm error", 9) == 0) {
            line[strcspn(line, "\r\n")] = '\0';
            snprintf(out, size, "%s", line);
            break;
        }
    }
    fclose(f);
}

static int path_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static int fetch_tgz(const char *data_dir, const char *version, const char *tgz)
{
    char tmp[PATH_MAX], log[PATH_MAX], got[PATH_MAX], spec[128];
    if (pathf(tmp, sizeof tmp, "%s/.fetch-XXXXXX", data_dir) < 0)
        return -1;
    if (!mkdtemp(tmp))
        return ar_fail(AR_EFAIL, "%s: cannot create a temporary directory: %s", data_dir,
                       strerror(errno));
    if (pathf(log, sizeof log, "%s/npm.log", tmp) < 0 ||
        pathf(got, sizeof got, "%s/nlp-corpus-%s.tgz", tmp, version) < 0 ||
        pathf(spec, sizeof spec, "nlp-corpus@%s", version) < 0) {
        remove_tree(tmp);
        return -1;
    }
    char *argv[] = {"npm", "pack", spec, NULL};
    int status = run_logged(tmp, argv, log);
    if (status != 0 || !path_exists(got)) {
        char why[400];
        if (status < 0)
            snprintf(why, sizeof why, "%s", ar_last_error());
        else
            npm_reason(log, status, why, sizeof why);
        remove_tree(tmp);
        return ar_fail(AR_EFAIL, "cannot fetch %s with npm (%s); use --input FILE to prepare "
                       "local text", spec, why);
    }
    int rc = rename(got, tgz);
    int err = errno;
    remove_tree(tmp);
    if (rc < 0)
        return ar_fail(AR_EFAIL, "%s: %s", tgz, strerror(err));
    return 0;
}

static int unpack_tgz(const char *data_dir, const char *tgz, const char *pkg)
{
    char tmp[PATH_MAX], log[PATH_MAX], builds[PATH_MAX];
    if (pathf(tmp, sizeof tmp, "%s/.unpack-XXXXXX", data_dir) < 0)
        return -1;
    if (!mkdtemp(tmp))
        return ar_fail(AR_EFAIL, "%s: cannot create a temporary directory: %s", data_dir,
                       strerror(errno));
    if (pathf(log, sizeof log, "%s.log", tmp) < 0 ||
        pathf(builds, sizeof builds, "%s/package/builds", tmp) < 0) {
        remove_tree(tmp);
        return -1;
    }
    char *argv[] = {"tar", "-xzf", (char *)tgz, "-C", tmp, NULL};
    int status = run_logged(data_dir, argv, log);
    remove(log);
    if (status != 0 || !path_exists(builds)) {
        remove_tree(tmp);
        return ar_fail(AR_EFAIL, "%s: cannot unpack (tar status %d); delete it to fetch again",
                       tgz, status);
    }
    if (rename(tmp, pkg) < 0) {
        int err = errno;
        remove_tree(tmp);
        if (path_exists(pkg))       /* another prepare unpacked it first */
            return 0;
        return ar_fail(AR_EFAIL, "%s: %s", pkg, strerror(err));
    }
    return 0;
}

int corpus_read_nlp(struct corpus *c, const char *data_dir, const char *version)
{
    char tgz[PATH_MAX], pkg[PATH_MAX];
    if (pathf(pkg, sizeof pkg, "%s/nlp-corpus-%s", data_dir, version) < 0 ||
        pathf(tgz, sizeof tgz, "%s.tgz", pkg) < 0)
        return -1;
    if (!path_exists(pkg)) {
        if (corpus_mkdirs(data_dir) < 0)
            return -1;
        if (!path_exists(tgz) && fetch_tgz(data_dir, version, tgz) < 0)
            return -1;
        if (unpack_tgz(data_dir, tgz, pkg) < 0)
            return -1;
    }
    /* builds/doc-0.json, doc-1.json, ... in numeric order */
    int n = 0;
    for (;; n++) {
        char path[PATH_MAX];
        if (pathf(path, sizeof path, "%s/package/builds/doc-%d.json", pkg, n) < 0)
            return -1;
        if (!path_exists(path))
            break;
        if (corpus_read_file(c, path) < 0)
            return -1;
    }
    if (n == 0)
        return ar_fail(AR_EFAIL, "%s: no builds/doc-0.json; delete it to fetch again", pkg);
    return 0;
}

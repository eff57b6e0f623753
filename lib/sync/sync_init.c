/* Creating the knowledge base's repository atomically (lib/sync/sync_git.h).
 *
 * A .git that libgit2 half-made on a full disk (objects/ there, HEAD or
 * config missing) breaks every later sync until someone deletes it by hand.
 * So the repository is made aside, in ROOT/.git.tmp.PID/.git, and renamed
 * to ROOT/.git in one step: the knowledge base has a whole repository or
 * none. ar_sync_init removes a .git it created when a later step (the
 * first commit) fails, the same way round: renamed aside, then deleted.
 * What a killed init left aside (its process gone) is deleted by the next.
 * The names match the knowledge base's ignore pattern ".*.tmp.*". */
#define _GNU_SOURCE   /* nftw's FTW_DEPTH, FTW_PHYS */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "base/atomic.h"
#include "base/err.h"
#include "sync/sync_git.h"

#define ASIDE ".git.tmp."
#define DEAD ".git.dead.tmp."

/* libgit2's last error as "what: message" (as ar_git_fail of sync.c says
 * it; not called from here, so that this file and sync.c do not use each
 * other) */
static int git_fail(const char *what)
{
    const git_error *e = git_error_last();
    return ar_fail(AR_EFAIL, "%s: %s", what, e && e->message ? e->message : "failed");
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)ftw;
    return (type == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0 : -1;
}

/* Deletes the tree at path (not following links); 0 when it is gone. */
static int remove_tree(const char *path)
{
    if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
        return -1;
    return 0;
}

static int fsync_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)ftw;
    if (type != FTW_F && type != FTW_DP)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Deletes what inits that died left aside in root (.git.tmp.PID,
 * .git.dead.tmp.PID of processes that are gone). */
static void clean_aside(const char *root)
{
    DIR *d = opendir(root);
    if (!d)
        return;
    struct dirent *e;
    char path[PATH_MAX + 256];
    while ((e = readdir(d))) {
        const char *pid = NULL;
        if (strncmp(e->d_name, ASIDE, strlen(ASIDE)) == 0)
            pid = e->d_name + strlen(ASIDE);
        else if (strncmp(e->d_name, DEAD, strlen(DEAD)) == 0)
            pid = e->d_name + strlen(DEAD);
        if (!pid)
            continue;
        char *end;
        long p = strtol(pid, &end, 10);
        if (end == pid || *end || p <= 0 || (kill((pid_t)p, 0) != 0 && errno == ESRCH) || p == (long)getpid()) {
            snprintf(path, sizeof path, "%s/%s", root, e->d_name);
            remove_tree(path);
        }
    }
    closedir(d);
}

int ar_sync_git_create(const struct ar_kb *kb, git_repository **repo)
{
    char aside[PATH_MAX + 32], inner[PATH_MAX + 40], dotgit[PATH_MAX];
    *repo = NULL;
    clean_aside(kb->root);
    if (mkdir(kb->root, 0755) != 0 && errno != EEXIST)
        return ar_fail(AR_EFAIL, "%s: cannot create: %s", kb->root, strerror(errno));
    snprintf(aside, sizeof aside, "%s/" ASIDE "%ld", kb->root, (long)getpid());
    snprintf(inner, sizeof inner, "%s/.git", aside);
    ar_kb_path(kb, ".git", dotgit);
    git_repository_init_options io;
    git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
    io.flags = GIT_REPOSITORY_INIT_NO_REINIT | GIT_REPOSITORY_INIT_MKPATH;
    io.initial_head = "main";
    git_repository *made = NULL;
    int rc = git_repository_init_ext(&made, aside, &io) < 0 ? git_fail(kb->root) : 0;
    git_repository_free(made);
    /* every file of it on disk before it gets its name */
    if (rc == 0 && nftw(inner, fsync_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        rc = ar_fail(AR_EFAIL, "%s: cannot create: %s", dotgit, strerror(errno));
    if (rc == 0 && rename(inner, dotgit) != 0)
        rc = ar_fail(AR_EFAIL, "%s: cannot create: %s", dotgit, strerror(errno));
    if (rc == 0 && ar_fsync_dir(kb->root) != 0)
        rc = -1;
    remove_tree(aside);
    if (rc != 0)
        return -1;
    if (git_repository_open_ext(repo, kb->root, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
        rc = git_fail(kb->root);
        ar_sync_git_remove(kb);
        return rc;
    }
    return 0;
}

int ar_sync_git_remove(const struct ar_kb *kb)
{
    char dotgit[PATH_MAX], dead[PATH_MAX + 40];
    ar_kb_path(kb, ".git", dotgit);
    snprintf(dead, sizeof dead, "%s/" DEAD "%ld", kb->root, (long)getpid());
    if (rename(dotgit, dead) != 0)
        return errno == ENOENT ? 0 : ar_fail(AR_EFAIL, "%s: cannot remove: %s", dotgit, strerror(errno));
    remove_tree(dead);   /* what stays is removed by the next init */
    return 0;
}

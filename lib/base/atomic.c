#define _GNU_SOURCE   /* syncfs */
#include "base/atomic.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"

static atomic_uint temp_counter;

static void split_path(const char *path, char *dir, size_t dirsz, const char **base)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, dirsz, ".");
        *base = path;
    } else if (slash == path) {
        snprintf(dir, dirsz, "/");
        *base = slash + 1;
    } else {
        snprintf(dir, dirsz, "%.*s", (int)(slash - path), path);
        *base = slash + 1;
    }
}

int ar_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return ar_fail(AR_EFAIL, "%s: %s", dir, strerror(errno));
    int rc = fsync(fd);
    close(fd);
    if (rc != 0 && errno != EINVAL)
        return ar_fail(AR_EFAIL, "%s: fsync: %s", dir, strerror(errno));
    return 0;
}

/* Writes data to a new temp file beside path; its name goes to tmp. */
static int write_temp_sync(const char *path, const void *data, size_t len, char *tmp, size_t tmpsz,
                           char *dir, size_t dirsz, int sync)
{
    const char *base;
    split_path(path, dir, dirsz, &base);
    unsigned n = atomic_fetch_add(&temp_counter, 1);
    snprintf(tmp, tmpsz, "%s/.%s.tmp.%ld.%u", dir, base, (long)getpid(), n);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return ar_fail(AR_EFAIL, "%s: cannot write: %s", path, strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return ar_fail(AR_EFAIL, "%s: write: %s", path, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if ((sync && fsync(fd) != 0) || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return ar_fail(AR_EFAIL, "%s: fsync: %s", path, strerror(e));
    }
    return 0;
}

static int write_temp(const char *path, const void *data, size_t len, char *tmp, size_t tmpsz,
                      char *dir, size_t dirsz)
{
    return write_temp_sync(path, data, len, tmp, tmpsz, dir, dirsz, 1);
}

int ar_write_atomic(const char *path, const void *data, size_t len)
{
    char tmp[4096 + 64], dir[4096];
    if (write_temp(path, data, len, tmp, sizeof tmp, dir, sizeof dir) != 0)
        return -1;
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return ar_fail(AR_EFAIL, "%s: rename: %s", path, strerror(e));
    }
    return ar_fsync_dir(dir);
}

static int same_content(const char *path, const void *data, size_t len)
{
    char *old;
    size_t oldlen;
    if (ar_read_file(path, len + 1, &old, &oldlen) != 0)
        return 0;
    int same = oldlen == len && memcmp(old, data, len) == 0;
    free(old);
    return same;
}

int ar_create_atomic(const char *path, const void *data, size_t len)
{
    char tmp[4096 + 64], dir[4096];
    if (write_temp(path, data, len, tmp, sizeof tmp, dir, sizeof dir) != 0)
        return -1;
    /* link() fails when path exists: a fact is never replaced */
    int rc = link(tmp, path);
    int e = errno;
    unlink(tmp);
    if (rc != 0) {
        if (e == EEXIST)
            return same_content(path, data, len) ? 1
                   : ar_fail(AR_EFAIL, "%s: already exists with other content", path);
        return ar_fail(AR_EFAIL, "%s: cannot create: %s", path, strerror(e));
    }
    /* the name is ours (link made it): when it cannot be made durable, take
     * it back, so a failed write leaves nothing */
    if (ar_fsync_dir(dir) != 0) {
        unlink(path);
        return -1;
    }
    return 0;
}

/* ar_create_atomic of many files: every temp written, one syncfs of
 * their file system (not one fsync each), each linked into place, each
 * directory fsync'd once. On failure every file this call created is
 * removed again. */
int ar_create_atomic_many(size_t n, const char *const *paths, const char *const *data, const size_t *len,
                          int *existed)
{
    char **tmp = ar_xmalloc((n ? n : 1) * sizeof *tmp);
    char *made = ar_xmalloc(n ? n : 1);
    char dir[4096], lastdir[4096] = "", one[4096 + 64];
    int rc = 0;
    size_t written = 0;
    memset(made, 0, n ? n : 1);
    for (; written < n && rc == 0; written++) {
        rc = write_temp_sync(paths[written], data[written], len[written], one, sizeof one, dir, sizeof dir, 0);
        tmp[written] = rc == 0 ? ar_xstrdup(one) : NULL;
    }
    if (rc != 0)
        written--;   /* the one that failed left no temp */
    /* durable before any name points at it */
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *base;
        split_path(paths[i], dir, sizeof dir, &base);
        if (strcmp(dir, lastdir) == 0)
            continue;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || syncfs(fd) != 0)
            rc = ar_fail(AR_EFAIL, "%s: sync: %s", dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        snprintf(lastdir, sizeof lastdir, "%s", dir);
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        existed[i] = 0;
        if (link(tmp[i], paths[i]) == 0) {
            made[i] = 1;
        } else if (errno == EEXIST && same_content(paths[i], data[i], len[i])) {
            existed[i] = 1;
        } else if (errno == EEXIST) {
            rc = ar_fail(AR_EFAIL, "%s: already exists with other content", paths[i]);
        } else {
            rc = ar_fail(AR_EFAIL, "%s: cannot create: %s", paths[i], strerror(errno));
        }
    }
    for (size_t i = 0; i < written; i++) {
        unlink(tmp[i]);
        free(tmp[i]);
    }
    lastdir[0] = '\0';
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *base;
        split_path(paths[i], dir, sizeof dir, &base);
        if (strcmp(dir, lastdir) != 0 && ar_fsync_dir(dir) != 0)
            rc = -1;
        snprintf(lastdir, sizeof lastdir, "%s", dir);
    }
    if (rc != 0)
        for (size_t i = 0; i < n; i++)
            if (made[i])
                unlink(paths[i]);
    free(tmp);
    free(made);
    return rc;
}

int ar_read_stream(int fd, const char *what, size_t max, char **data, size_t *len)
{
    struct ar_buf b = {0};
    char chunk[65536];
    ar_buf_puts(&b, "");
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            ar_buf_free(&b);
            return ar_fail(AR_EFAIL, "%s: read: %s", what, strerror(errno));
        }
        if (r == 0)
            break;
        if (b.len + (size_t)r > max) {
            ar_buf_free(&b);
            return ar_fail(AR_EINPUT, "%s: larger than %zu bytes", what, max);
        }
        ar_buf_add(&b, chunk, (size_t)r);
    }
    *len = b.len;
    *data = ar_buf_take(&b);
    return 0;
}

int ar_read_file(const char *path, size_t max, char **data, size_t *len)
{
    /* O_NONBLOCK: a FIFO named like a fact must not hang the reader (it is
     * refused below as not a regular file; regular files ignore the flag) */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return ar_fail(AR_EINPUT, "%s: no such file", path);
        return ar_fail(AR_EFAIL, "%s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ar_fail(AR_EINPUT, "%s: not a regular file", path);
    }
    if ((size_t)st.st_size > max) {
        close(fd);
        return ar_fail(AR_EINPUT, "%s: larger than %zu bytes", path, max);
    }
    char *buf = ar_xmalloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    *data = buf;
    *len = got;
    return 0;
}

int ar_mkdir(const char *path)
{
    if (mkdir(path, 0755) == 0 || (errno == EEXIST && ar_is_dir(path)))
        return 0;
    return ar_fail(AR_EFAIL, "%s: cannot create directory: %s", path, strerror(errno));
}

int ar_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void ar_clean_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    time_t now = time(NULL);
    while ((e = readdir(d))) {
        const char *t = e->d_name[0] == '.' ? strstr(e->d_name, ".tmp.") : NULL;
        if (!t)
            continue;
        long pid = strtol(t + 5, NULL, 10);
        char path[4096 + 256];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        int dead = pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
        if (dead || now - st.st_mtime > 3600)
            unlink(path);
    }
    closedir(d);
}

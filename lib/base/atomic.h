/* Crash-safe files: a reader sees either the old or the new content, never
 * a torn one. Writes go to a temp file in the same directory (".NAME.tmp.PID.N"),
 * are fsync'd, renamed over the target (or linked, for facts that must
 * never be replaced), and the directory is fsync'd. */
#ifndef AR_ATOMIC_H
#define AR_ATOMIC_H

#include <stddef.h>

/* Replaces path with data. */
int ar_write_atomic(const char *path, const void *data, size_t len);
/* Creates path with data; fails with EEXIST semantics (AR_EFAIL, "exists")
 * when path is already there, so facts are never overwritten. Returns 1
 * when an identical file already exists (an idempotent re-write). */
int ar_create_atomic(const char *path, const void *data, size_t len);
/* Creates the n files paths[i] with data[i] (len[i] bytes) as
 * ar_create_atomic does, with one sync of the file system for all of them
 * (a batch: thousands of facts a second). existed[i] is set to 1 where an
 * identical file was there already. On failure (a file there with other
 * content, a full disk) none of the files this call created remains. */
int ar_create_atomic_many(size_t n, const char *const *paths, const char *const *data, const size_t *len,
                          int *existed);

/* Reads a whole regular file of at most max bytes into a NUL-terminated
 * malloc'd buffer. Missing file: AR_EINPUT "PATH: no such file"; larger than
 * max: AR_EINPUT "PATH: larger than N bytes". */
int ar_read_file(const char *path, size_t max, char **data, size_t *len);
/* Reads all of a stream (stdin), at most max bytes. */
int ar_read_stream(int fd, const char *what, size_t max, char **data, size_t *len);

int ar_fsync_dir(const char *dir);
/* mkdir that accepts an existing directory. */
int ar_mkdir(const char *path);

/* Removes temp files left in dir by writers that died (their process is
 * gone, or the file is older than an hour). */
void ar_clean_temps(const char *dir);

/* 1 when path names an existing directory. */
int ar_is_dir(const char *path);

#endif

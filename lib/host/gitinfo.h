/* The experiment's code version through libgit2: the HEAD commit of the
 * repository around a path, its first parent, whether the work tree has
 * changes not committed (tracked changes or untracked files that are not
 * ignored), the commit message's subject line and the branch. */
#ifndef AR_GITINFO_H
#define AR_GITINFO_H

#include <stddef.h>

struct ar_gitinfo {
    char commit[41];     /* HEAD, 40 hex */
    char parent[41];     /* HEAD's first parent; "" for a root commit */
    int dirty;
    char subject[2001];  /* first line of the message, truncated */
    char branch[256];    /* checked-out branch ("autoresearch/mar5"); "" when detached */
};

/* Describes the repository containing path (searched upwards). Fails with
 * AR_EFAIL when there is none or HEAD has no commit. */
int ar_git_info(const char *path, struct ar_gitinfo *out);

/* The text of file (a path from the top of the work tree, "train.py") as
 * commit (hex) has it, in the repository around path; *text is malloc'd
 * and NUL-terminated. 0, 1 when that commit has no such file (*text NULL),
 * -1 (AR_EFAIL) when the repository or commit cannot be read. */
int ar_git_file_at(const char *path, const char *commit, const char *file, char **text, size_t *len);

/* The diff (git's patch format) of file from commit `from` to commit `to`
 * in the repository around path; *text malloc'd, "" when the file did not
 * change. 0 or -1. */
int ar_git_diff_file(const char *path, const char *from, const char *to, const char *file, char **text,
                     size_t *len);

#endif

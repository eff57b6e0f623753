/* The experiment's code version through libgit2: the HEAD commit of the
 * repository around a path, its first parent, whether the work tree has
 * changes not committed (tracked changes or untracked files that are not
 * ignored), the commit message's subject line and the branch. */
#ifndef AR_GITINFO_H
#define AR_GITINFO_H

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

#endif

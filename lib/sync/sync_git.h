/* Internal to lib/sync*.c: the knowledge repository through libgit2. */
#ifndef AR_SYNC_GIT_H
#define AR_SYNC_GIT_H

#include <git2.h>

#include "facts/kb.h"

/* Records libgit2's last error as "what: message" (AR_EFAIL); returns -1. */
int ar_git_fail(const char *what);
/* Opens the knowledge base's own repository (never one around it). */
int ar_sync_open(const struct ar_kb *kb, git_repository **repo);
/* Creates the knowledge base's repository (branch main) atomically: made
 * aside and renamed to ROOT/.git, so that a failure leaves none
 * (lib/sync/sync_init.c). *repo is opened on it. */
int ar_sync_git_create(const struct ar_kb *kb, git_repository **repo);
/* Removes ROOT/.git (renamed aside first, so that none half-removed stays). */
int ar_sync_git_remove(const struct ar_kb *kb);
/* HEAD's commit; 1 when the branch has no commit yet. */
int ar_sync_head(git_repository *repo, git_oid *oid);
/* refs/remotes/REMOTE/main; 1 when there is none. */
int ar_sync_tracking(git_repository *repo, const char *remote, git_oid *oid);

/* A tree whose fact directories (cards/, notes/, patches/) are looked up
 * once: git_tree_entry_bypath reads and inflates the subtree again on every
 * call, which made a sync of n facts cost n subtree reads. */
struct ar_treeidx {
    git_repository *repo;
    git_tree *root;      /* borrowed; NULL for an empty tree */
    git_tree *sub[3];    /* owned */
};
void ar_treeidx_init(struct ar_treeidx *t, git_repository *repo, git_tree *root);
void ar_treeidx_free(struct ar_treeidx *t);
/* 0 and an entry the caller frees, or GIT_ENOTFOUND. */
int ar_treeidx_get(struct ar_treeidx *t, const char *path, git_tree_entry **out);

#endif

/* Path lookups in the knowledge repository's trees (see sync_git.h). */
#include <string.h>

#include "sync/sync_git.h"

static const char *const dirs[3] = {"cards/", "notes/", "patches/"};

void ar_treeidx_init(struct ar_treeidx *t, git_repository *repo, git_tree *root)
{
    memset(t, 0, sizeof *t);
    t->repo = repo;
    t->root = root;
    for (int i = 0; root && i < 3; i++) {
        char name[16];
        size_t n = strlen(dirs[i]) - 1;
        memcpy(name, dirs[i], n);
        name[n] = '\0';
        const git_tree_entry *e = git_tree_entry_byname(root, name);
        if (e && git_tree_entry_type(e) == GIT_OBJECT_TREE)
            git_tree_lookup(&t->sub[i], repo, git_tree_entry_id(e));
    }
}

void ar_treeidx_free(struct ar_treeidx *t)
{
    for (int i = 0; i < 3; i++)
        git_tree_free(t->sub[i]);
    memset(t, 0, sizeof *t);
}

int ar_treeidx_get(struct ar_treeidx *t, const char *path, git_tree_entry **out)
{
    *out = NULL;
    if (!t->root)
        return GIT_ENOTFOUND;
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(dirs[i]);
        if (strncmp(path, dirs[i], n) != 0 || strchr(path + n, '/'))
            continue;
        const git_tree_entry *e = t->sub[i] ? git_tree_entry_byname(t->sub[i], path + n) : NULL;
        if (!e)
            return GIT_ENOTFOUND;
        return git_tree_entry_dup(out, e) < 0 ? GIT_ENOTFOUND : 0;
    }
    return git_tree_entry_bypath(out, t->root, path) == 0 ? 0 : GIT_ENOTFOUND;
}

/* `ar-card import --repo DIR` (lib/index/import_int.h): what the fork's git
 * repository knows of a row's commit, through libgit2: the commit's time,
 * its full id, and the constants its diff of train.py against its first
 * parent changed (ar_trainpy_changes), which is exact where a description
 * is not. */
#include "index/import_int.h"

#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "base/buf.h"
#include "base/err.h"
#include "index/trainpy.h"

struct ix_repo {
    git_repository *repo;
    char name[256];
};

int ix_repo_open(const char *dir, struct ix_repo **out)
{
    git_libgit2_init();
    struct ix_repo *r = ar_xmalloc(sizeof *r);
    memset(r, 0, sizeof *r);
    if (git_repository_open_ext(&r->repo, dir, 0, NULL) < 0) {
        const git_error *e = git_error_last();
        char why[512];
        snprintf(why, sizeof why, "%s", e && e->message ? e->message : "cannot open");
        free(r);
        git_libgit2_shutdown();
        return ar_fail(AR_EINPUT, "option '--repo': %s: not a git repository (%s)", dir, why);
    }
    git_reference *head = NULL;
    if (git_repository_head(&head, r->repo) == 0 && git_reference_is_branch(head))
        snprintf(r->name, sizeof r->name, "%s", git_reference_shorthand(head));
    git_reference_free(head);
    *out = r;
    return 0;
}

void ix_repo_close(struct ix_repo *r)
{
    if (!r)
        return;
    git_repository_free(r->repo);
    free(r);
    git_libgit2_shutdown();
}

const char *ix_repo_name(const struct ix_repo *r)
{
    return r->name;
}

/* train.py of commit c, malloc'd and NUL-terminated, or NULL when it has
 * none. */
static char *trainpy_of(git_commit *c)
{
    git_tree *tree = NULL;
    git_tree_entry *e = NULL;
    git_blob *blob = NULL;
    char *text = NULL;
    if (git_commit_tree(&tree, c) == 0 && git_tree_entry_bypath(&e, tree, "train.py") == 0 &&
        git_tree_entry_type(e) == GIT_OBJECT_BLOB &&
        git_blob_lookup(&blob, git_commit_owner(c), git_tree_entry_id(e)) == 0) {
        size_t n = (size_t)git_blob_rawsize(blob);
        text = ar_xmalloc(n + 1);
        memcpy(text, git_blob_rawcontent(blob), n);
        text[n] = '\0';
    }
    git_blob_free(blob);
    git_tree_entry_free(e);
    git_tree_free(tree);
    return text;
}

int ix_repo_commit(struct ix_repo *r, const char *commit, long long *time_s, char full[41], jv *diff)
{
    *diff = jv_invalid();
    git_oid oid;
    git_commit *c = NULL, *parent = NULL;
    size_t n = strlen(commit);
    if (n < 7 || n > 40 || git_oid_fromstrn(&oid, commit, n) != 0 ||
        git_commit_lookup_prefix(&c, r->repo, &oid, n) != 0)
        return 1;
    *time_s = (long long)git_commit_time(c);
    git_oid_tostr(full, 41, git_commit_id(c));
    char *now = trainpy_of(c), *before = NULL;
    if (git_commit_parentcount(c) > 0 && git_commit_parent(&parent, c, 0) == 0)
        before = trainpy_of(parent);
    if (now || before)
        *diff = ar_trainpy_changes(before ? before : "", now ? now : "");
    free(now);
    free(before);
    git_commit_free(parent);
    git_commit_free(c);
    return 0;
}

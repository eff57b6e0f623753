#include "host/gitinfo.h"

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

static int git_failed(const char *what, const char *path)
{
    const git_error *e = git_error_last();
    return ar_fail(AR_EFAIL, "%s: %s: %s", path, what, e && e->message ? e->message : "failed");
}

static int count_status(const char *p, unsigned int flags, void *payload)
{
    (void)p;
    if (flags != GIT_STATUS_CURRENT && !(flags & GIT_STATUS_IGNORED))
        (*(int *)payload)++;
    return 0;
}

int ar_git_info(const char *path, struct ar_gitinfo *out)
{
    memset(out, 0, sizeof *out);
    git_libgit2_init();
    git_repository *repo = NULL;
    git_commit *head = NULL;
    git_oid oid;
    int rc = 0;
    if (git_repository_open_ext(&repo, path, 0, NULL) < 0) {
        rc = ar_fail(AR_EFAIL, "%s: not inside a git repository", path);
        goto done;
    }
    if (git_reference_name_to_id(&oid, repo, "HEAD") < 0 ||
        git_commit_lookup(&head, repo, &oid) < 0) {
        rc = git_failed("no commit at HEAD", path);
        goto done;
    }
    git_oid_tostr(out->commit, sizeof out->commit, &oid);
    if (git_commit_parentcount(head) > 0)
        git_oid_tostr(out->parent, sizeof out->parent, git_commit_parent_id(head, 0));
    git_reference *ref = NULL;
    if (!git_repository_head_detached(repo) && git_repository_head(&ref, repo) == 0) {
        snprintf(out->branch, sizeof out->branch, "%s", git_reference_shorthand(ref));
        git_reference_free(ref);
    }
    const char *summary = git_commit_summary(head);
    snprintf(out->subject, sizeof out->subject, "%s", summary ? summary : "");
    if (!git_repository_is_bare(repo)) {
        git_status_options opts;
        git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
        opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
        opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
        int changed = 0;
        if (git_status_foreach_ext(repo, &opts, count_status, &changed) < 0) {
            rc = git_failed("cannot read the status", path);
            goto done;
        }
        out->dirty = changed > 0;
    }
done:
    git_commit_free(head);
    git_repository_free(repo);
    git_libgit2_shutdown();
    return rc;
}

static int open_commit(const char *path, const char *hex, git_repository **repo, git_commit **c)
{
    git_oid oid;
    if (!*repo && git_repository_open_ext(repo, path, 0, NULL) < 0)
        return ar_fail(AR_EFAIL, "%s: not inside a git repository", path);
    if (git_oid_fromstrp(&oid, hex) < 0 || git_commit_lookup(c, *repo, &oid) < 0)
        return ar_fail(AR_EFAIL, "%s: commit %s: %s", path, hex,
                       git_error_last() && git_error_last()->message ? git_error_last()->message
                                                                     : "not found");
    return 0;
}

static char *copy_text(const char *p, size_t n)
{
    char *t = malloc(n + 1);
    if (!t)
        return NULL;
    memcpy(t, p, n);
    t[n] = '\0';
    return t;
}

int ar_git_file_at(const char *path, const char *commit, const char *file, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    git_libgit2_init();
    git_repository *repo = NULL;
    git_commit *c = NULL;
    git_tree *tree = NULL;
    git_tree_entry *e = NULL;
    git_blob *blob = NULL;
    int rc = open_commit(path, commit, &repo, &c);
    if (rc == 0 && git_commit_tree(&tree, c) < 0)
        rc = git_failed("cannot read the tree", path);
    if (rc == 0 && git_tree_entry_bypath(&e, tree, file) < 0)
        rc = 1;
    if (rc == 0 && (git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
                    git_blob_lookup(&blob, repo, git_tree_entry_id(e)) < 0))
        rc = 1;
    if (rc == 0) {
        *len = (size_t)git_blob_rawsize(blob);
        if (!(*text = copy_text(git_blob_rawcontent(blob), *len)))
            rc = ar_fail(AR_EFAIL, "%s: out of memory", file);
    }
    git_blob_free(blob);
    git_tree_entry_free(e);
    git_tree_free(tree);
    git_commit_free(c);
    git_repository_free(repo);
    git_libgit2_shutdown();
    return rc;
}

int ar_git_diff_file(const char *path, const char *from, const char *to, const char *file, char **text,
                     size_t *len)
{
    *text = NULL;
    *len = 0;
    git_libgit2_init();
    git_repository *repo = NULL;
    git_commit *a = NULL, *b = NULL;
    git_tree *ta = NULL, *tb = NULL;
    git_diff *diff = NULL;
    git_buf buf = GIT_BUF_INIT;
    int rc = open_commit(path, from, &repo, &a);
    if (rc == 0)
        rc = open_commit(path, to, &repo, &b);
    if (rc == 0 && (git_commit_tree(&ta, a) < 0 || git_commit_tree(&tb, b) < 0))
        rc = git_failed("cannot read the tree", path);
    if (rc == 0) {
        git_diff_options o;
        git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
        char *spec[] = {(char *)file};
        o.pathspec.strings = spec;
        o.pathspec.count = 1;
        o.flags |= GIT_DIFF_DISABLE_PATHSPEC_MATCH;
        if (git_diff_tree_to_tree(&diff, repo, ta, tb, &o) < 0 ||
            git_diff_to_buf(&buf, diff, GIT_DIFF_FORMAT_PATCH) < 0)
            rc = git_failed("cannot diff", path);
    }
    if (rc == 0) {
        *len = buf.size;
        if (!(*text = copy_text(buf.ptr ? buf.ptr : "", buf.size)))
            rc = ar_fail(AR_EFAIL, "%s: out of memory", file);
    }
    git_buf_dispose(&buf);
    git_diff_free(diff);
    git_tree_free(ta);
    git_tree_free(tb);
    git_commit_free(a);
    git_commit_free(b);
    git_repository_free(repo);
    git_libgit2_shutdown();
    return rc;
}

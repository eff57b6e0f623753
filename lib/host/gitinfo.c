#include "host/gitinfo.h"

#include <git2.h>
#include <stdio.h>
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

#include "facts/patch.h"

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "facts/card.h"
#include "base/err.h"
#include "base/json.h"
#include "base/sha256.h"

static char *scope[] = {"trainer", "kernels"};

static int git_failed(const char *what)
{
    const git_error *e = git_error_last();
    return ar_fail(AR_EFAIL, "%s: %s", what, e && e->message ? e->message : "failed");
}

/* The upstream commit: merge base of HEAD and $AR_UPSTREAM or the first
 * upstream branch that exists. */
static int find_upstream(git_repository *repo, git_oid *out)
{
    static const char *const names[] = {"refs/remotes/origin/main", "refs/remotes/origin/master",
                                        "refs/heads/main", "refs/heads/master", NULL};
    git_oid head, up;
    if (git_reference_name_to_id(&head, repo, "HEAD") < 0)
        return git_failed("HEAD");
    const char *env = getenv("AR_UPSTREAM");
    if (env && *env) {
        git_object *obj = NULL;
        if (git_revparse_single(&obj, repo, env) < 0)
            return ar_fail(AR_EINPUT, "AR_UPSTREAM '%s': no such commit", env);
        git_object *c = NULL;
        int rc = git_object_peel(&c, obj, GIT_OBJECT_COMMIT);
        git_object_free(obj);
        if (rc < 0)
            return ar_fail(AR_EINPUT, "AR_UPSTREAM '%s': not a commit", env);
        git_oid_cpy(&up, git_object_id(c));
        git_object_free(c);
    } else {
        int found = 0;
        for (int i = 0; names[i] && !found; i++)
            found = git_reference_name_to_id(&up, repo, names[i]) == 0;
        if (!found)
            return ar_fail(AR_EFAIL, "no upstream branch (origin/main, main, master): set AR_UPSTREAM");
    }
    if (git_merge_base(out, repo, &head, &up) < 0)
        return ar_fail(AR_EFAIL, "HEAD and the upstream commit have no common ancestor");
    return 0;
}

int ar_patch_make(const char *project, struct ar_patch *p)
{
    memset(p, 0, sizeof *p);
    git_libgit2_init();
    git_repository *repo = NULL;
    git_commit *c = NULL;
    git_tree *tree = NULL;
    git_diff *diff = NULL;
    git_buf buf = {0};
    git_oid up;
    int rc = 0;
    if (git_repository_open_ext(&repo, project, 0, NULL) < 0)
        rc = ar_fail(AR_EFAIL, "%s: not inside a git repository", project);
    if (rc == 0)
        rc = find_upstream(repo, &up);
    if (rc == 0 && (git_commit_lookup(&c, repo, &up) < 0 || git_commit_tree(&tree, c) < 0))
        rc = git_failed("upstream commit");
    if (rc == 0) {
        git_diff_options o;
        git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
        o.flags = GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS |
                  GIT_DIFF_SHOW_UNTRACKED_CONTENT | GIT_DIFF_SHOW_BINARY;
        o.pathspec.strings = scope;
        o.pathspec.count = 2;
        if (git_diff_tree_to_workdir_with_index(&diff, repo, tree, &o) < 0 ||
            git_diff_to_buf(&buf, diff, GIT_DIFF_FORMAT_PATCH) < 0)
            rc = git_failed("diff against the upstream commit");
    }
    if (rc == 0) {
        git_oid_tostr(p->upstream, sizeof p->upstream, &up);
        p->len = buf.size;
        ar_sha256_hex(buf.ptr ? buf.ptr : "", buf.size, p->sha256);
        if (buf.size > AR_PATCH_MAX) {
            p->too_large = 1;
        } else if (ar_patch_scope_check(buf.ptr ? buf.ptr : "", buf.size) != 0) {
            /* what sync and checkout would refuse is never recorded */
            char why[512];
            snprintf(why, sizeof why, "%s", ar_last_error());
            rc = ar_fail(AR_EFAIL, "the diff of trainer/ and kernels/: %s", why);
        } else {
            p->text = ar_xmalloc(buf.size + 1);
            memcpy(p->text, buf.ptr ? buf.ptr : "", buf.size);
            p->text[buf.size] = '\0';
        }
    }
    git_buf_dispose(&buf);
    git_diff_free(diff);
    git_tree_free(tree);
    git_commit_free(c);
    git_repository_free(repo);
    git_libgit2_shutdown();
    return rc;
}

void ar_patch_free(struct ar_patch *p)
{
    free(p->text);
    p->text = NULL;
}

jv ar_patch_info(const struct ar_patch *p)
{
    jv info = jv_object();
    ar_jv_set(&info, "upstream", jv_string(p->upstream));
    ar_jv_set(&info, "bytes", jv_number((double)p->len));
    if (p->too_large) {
        char why[64];
        snprintf(why, sizeof why, "larger than %d bytes", AR_PATCH_MAX);
        ar_jv_set(&info, "omitted", jv_string(why));
    } else {
        ar_jv_set(&info, "sha256", jv_string(p->sha256));
    }
    return info;
}

int ar_patch_store(const struct ar_kb *kb, const char *card_id, const struct ar_patch *p)
{
    if (p->too_large || !p->text)
        return 0;
    char dir[PATH_MAX], path[PATH_MAX + 64];
    if (ar_mkdir(ar_kb_path(kb, "patches", dir)) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s.patch", dir, card_id);
    return ar_create_atomic(path, p->text, p->len) < 0 ? -1 : 0;
}

/* A path a patch may touch: below trainer/ or kernels/, with no empty,
 * "." or ".." component and no backslash. */
static int in_scope(const char *path)
{
    if (!path)
        return 1;   /* /dev/null: the side of an added or deleted file */
    if (strncmp(path, "trainer/", 8) != 0 && strncmp(path, "kernels/", 8) != 0)
        return 0;
    if (strchr(path, '\\'))
        return 0;
    for (const char *c = path + 8;;) {
        const char *e = strchr(c, '/');
        size_t n = e ? (size_t)(e - c) : strlen(c);
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return 0;
        if (!e)
            return 1;
        c = e + 1;
    }
}

static int mode_ok(uint16_t mode)
{
    return mode == 0 || mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE;
}

int ar_patch_scope_check(const char *text, size_t len)
{
    if (len == 0)
        return 0;
    git_libgit2_init();
    git_diff *diff = NULL;
    int rc = 0;
    if (git_diff_from_buffer(&diff, text, len) < 0) {
        const git_error *e = git_error_last();
        rc = ar_fail(AR_EINPUT, "not a patch git can read (%s)", e && e->message ? e->message : "parse error");
    }
    size_t n = rc == 0 ? git_diff_num_deltas(diff) : 0;
    if (rc == 0 && n == 0)
        rc = ar_fail(AR_EINPUT, "not a patch git can read (no file in it)");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const git_diff_delta *d = git_diff_get_delta(diff, i);
        const char *old = d->status == GIT_DELTA_ADDED ? NULL : d->old_file.path;
        const char *new = d->status == GIT_DELTA_DELETED ? NULL : d->new_file.path;
        const char *bad = !in_scope(old) ? old : !in_scope(new) ? new : NULL;
        if (bad)
            rc = ar_fail(AR_EINPUT, "touches %.200s: a patch may change only trainer/ and kernels/", bad);
        else if (!mode_ok(d->new_file.mode) || !mode_ok(d->old_file.mode))
            rc = ar_fail(AR_EINPUT, "%.200s: a patch may hold only regular files (mode %o)",
                         new ? new : old, !mode_ok(d->new_file.mode) ? d->new_file.mode : d->old_file.mode);
    }
    git_diff_free(diff);
    git_libgit2_shutdown();
    return rc;
}

int ar_patch_verify(jv card, const char *data, size_t len)
{
    jv extra = ar_jv_get(card, "extra");
    jv info = ar_jv_get(extra, "patch");
    const char *want = ar_jv_str(info, "sha256");
    char have[65];
    int rc = 0;
    ar_sha256_hex(data, len, have);
    if (!want)
        rc = ar_fail(AR_EINPUT, "card %s records no patch", ar_jv_str(card, "id"));
    else if (strcmp(want, have) != 0 || ar_jv_num(info, "bytes", -1) != (double)len)
        rc = ar_fail(AR_EINPUT, "does not match the hash card %s records", ar_jv_str(card, "id"));
    else
        rc = ar_patch_scope_check(data, len);
    jv_free(info);
    jv_free(extra);
    return rc;
}

/* ---------------------------------------------------------------- consent */

char *ar_patch_diffstat(const char *text, size_t len)
{
    struct ar_buf b = {0};
    git_libgit2_init();
    git_diff *diff = NULL;
    git_diff_stats *st = NULL;
    git_buf out = {0};
    if (len == 0)
        ar_buf_puts(&b, " (an empty patch: the upstream code as it is)\n");
    else if (git_diff_from_buffer(&diff, text, len) == 0 && git_diff_get_stats(&st, diff) == 0 &&
             git_diff_stats_to_buf(&out, st, GIT_DIFF_STATS_FULL | GIT_DIFF_STATS_INCLUDE_SUMMARY, 72) == 0)
        ar_buf_add(&b, out.ptr, out.size);
    else
        ar_buf_puts(&b, " (no diff stat: git cannot read the patch)\n");
    git_buf_dispose(&out);
    git_diff_stats_free(st);
    git_diff_free(diff);
    git_libgit2_shutdown();
    ar_buf_putc(&b, '\0');
    return ar_buf_take(&b);
}

int ar_patch_trusted(jv card)
{
    const char *env = getenv("AR_TRUST_PATCHES");
    const char *agent = ar_jv_str(card, "agent");
    return (env && strcmp(env, "1") == 0) || (agent && strcmp(agent, ar_agent_name()) == 0);
}

int ar_patch_consent(jv card, const char *text, size_t len, int yes, const char *what)
{
    if (ar_patch_trusted(card) && !yes)
        return 0;
    const char *id = ar_jv_str(card, "id"), *agent = ar_jv_str(card, "agent");
    char *stat = ar_patch_diffstat(text, len);
    int local = agent && strcmp(agent, ar_agent_name()) == 0;
    if (local)
        fprintf(stderr, "%s: card %s: %s your own code:\n%s", ar_prog(), id, what, stat);
    else
        fprintf(stderr,
                "%s: card %s is from agent '%s', not from you ('%s'): %s code from a peer,\n"
                "%s: which make and ar-train then run as you. Read it first (patches/%s.patch in the knowledge base):\n%s",
                ar_prog(), id, agent ? agent : "?", ar_agent_name(), what, ar_prog(), id, stat);
    free(stat);
    if (!yes && !ar_patch_trusted(card))
        return ar_fail(AR_EINPUT, "card %s: a peer's code runs only with --yes (or AR_TRUST_PATCHES=1)", id);
    return 0;
}

/* ------------------------------------------------------------- checkout */

/* The subject of the commit ar_patch_checkout makes: "reproduce ID: ...". */
static void checkout_subject(char *out, size_t n, const char *card_id)
{
    snprintf(out, n, "reproduce %s: ", card_id);
}

int ar_patch_checked_out(const char *project, const char *card_id)
{
    git_libgit2_init();
    git_repository *repo = NULL;
    git_commit *c = NULL;
    git_oid oid;
    int rc = 0;
    if (git_repository_open_ext(&repo, project, 0, NULL) < 0)
        rc = ar_fail(AR_EFAIL, "%s: not inside a git repository", project);
    else if (git_reference_name_to_id(&oid, repo, "HEAD") == 0 && git_commit_lookup(&c, repo, &oid) == 0) {
        char want[64];
        checkout_subject(want, sizeof want, card_id);
        const char *msg = git_commit_message(c);
        rc = msg && strncmp(msg, want, strlen(want)) == 0;
    }
    git_commit_free(c);
    git_repository_free(repo);
    git_libgit2_shutdown();
    return rc;
}

static int count_change(const char *p, unsigned int flags, void *payload)
{
    (void)p;
    if (flags != GIT_STATUS_CURRENT && !(flags & GIT_STATUS_IGNORED))
        (*(int *)payload)++;
    return 0;
}

static int scope_clean(git_repository *repo)
{
    git_status_options o;
    git_status_options_init(&o, GIT_STATUS_OPTIONS_VERSION);
    o.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
    o.pathspec.strings = scope;
    o.pathspec.count = 2;
    int changed = 0;
    if (git_status_foreach_ext(repo, &o, count_change, &changed) < 0)
        return git_failed("status");
    if (changed)
        return ar_fail(AR_EFAIL, "work tree has changes under trainer/ or kernels/: commit or stash them first");
    return 0;
}

int ar_patch_load(const struct ar_kb *kb, const char *id, jv *card, char **text, size_t *len)
{
    char path[PATH_MAX + 64];
    *text = NULL;
    *len = 0;
    if (ar_card_load(kb, id, card) != 0)
        return -1;
    jv extra = ar_jv_get(*card, "extra");
    jv info = ar_jv_get(extra, "patch");
    int has = jv_get_kind(info) == JV_KIND_OBJECT;
    const char *omitted = ar_jv_str(info, "omitted");
    int rc = 0;
    if (!has)
        rc = ar_fail(AR_EINPUT, "card %s: records no patch (not reproducible from the knowledge base)", id);
    else if (omitted)
        rc = ar_fail(AR_EINPUT, "card %s: its patch was not stored (%s)", id, omitted);
    jv_free(info);
    jv_free(extra);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "%s/patches/%s.patch", kb->root, id);
    if (ar_read_file(path, AR_PATCH_MAX, text, len) != 0)
        return ar_fail(AR_EINPUT, "card %s: patch %s is missing (run ar-sync)", id, path);
    if (ar_patch_verify(*card, *text, *len) != 0)
        return ar_fail_prefix("%s", path);
    return 0;
}

static int commit_applied(git_repository *repo, const git_oid *base, const char *msg)
{
    git_index *idx = NULL;
    git_tree *tree = NULL;
    git_commit *parent = NULL;
    git_signature *sig = NULL;
    git_oid tree_oid, out;
    int rc = 0;
    if (git_repository_index(&idx, repo) < 0 || git_index_write_tree(&tree_oid, idx) < 0 ||
        git_tree_lookup(&tree, repo, &tree_oid) < 0 || git_commit_lookup(&parent, repo, base) < 0)
        rc = git_failed("commit");
    if (rc == 0 && git_signature_default(&sig, repo) < 0 &&
        git_signature_now(&sig, ar_agent_name(), "ar@localhost") < 0)
        git_signature_now(&sig, "ar", "ar@localhost");
    if (rc == 0 && !git_oid_equal(&tree_oid, git_commit_tree_id(parent))) {
        const git_commit *parents[] = {parent};
        if (git_commit_create(&out, repo, "HEAD", sig, sig, NULL, msg, tree, 1, parents) < 0)
            rc = git_failed("commit");
    }
    git_signature_free(sig);
    git_commit_free(parent);
    git_tree_free(tree);
    git_index_free(idx);
    return rc;
}

int ar_patch_checkout(const char *project, const struct ar_kb *kb, const char *card_id,
                      const char *branch, char branch_out[256])
{
    jv card = jv_invalid();
    char *text = NULL;
    size_t len = 0;
    int rc = ar_patch_load(kb, card_id, &card, &text, &len);
    if (rc) {
        jv_free(card);
        free(text);
        return rc;
    }
    if (branch)
        snprintf(branch_out, 256, "%s", branch);
    else
        snprintf(branch_out, 256, "reproduce/%s", card_id);
    git_libgit2_init();
    git_repository *repo = NULL;
    git_commit *base = NULL;
    git_reference *ref = NULL;
    git_diff *diff = NULL;
    git_oid oid;
    if (git_repository_open_ext(&repo, project, 0, NULL) < 0)
        rc = ar_fail(AR_EFAIL, "%s: not inside a git repository", project);
    if (rc == 0)
        rc = scope_clean(repo);
    if (rc == 0) {
        jv extra = ar_jv_get(card, "extra");
        jv info = ar_jv_get(extra, "patch");
        const char *up = ar_jv_str(info, "upstream");
        if (!up || git_oid_fromstr(&oid, up) < 0 || git_commit_lookup(&base, repo, &oid) < 0) {
            ar_warn("upstream commit %.12s of card %s is not in this repository: applying on HEAD",
                    up ? up : "?", card_id);
            if (git_reference_name_to_id(&oid, repo, "HEAD") < 0 || git_commit_lookup(&base, repo, &oid) < 0)
                rc = git_failed("HEAD");
        }
        jv_free(info);
        jv_free(extra);
    }
    char refname[300];
    snprintf(refname, sizeof refname, "refs/heads/%s", branch_out);
    if (rc == 0) {
        int e = git_branch_create(&ref, repo, branch_out, base, 0);
        if (e == GIT_EEXISTS)
            rc = ar_fail(AR_EINPUT, "branch %s: already exists", branch_out);
        else if (e < 0)
            rc = git_failed(branch_out);
    }
    if (rc == 0) {
        git_checkout_options co;
        git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
        co.checkout_strategy = GIT_CHECKOUT_SAFE;
        if (git_checkout_tree(repo, (git_object *)base, &co) < 0 || git_repository_set_head(repo, refname) < 0)
            rc = git_failed("checkout");
    }
    if (rc == 0 && len > 0 &&
        (git_diff_from_buffer(&diff, text, len) < 0 || git_apply(repo, diff, GIT_APPLY_LOCATION_BOTH, NULL) < 0))
        rc = git_failed("apply the patch");
    if (rc == 0) {
        char msg[2200], subject[64];
        checkout_subject(subject, sizeof subject, card_id);
        snprintf(msg, sizeof msg, "%s%s\n", subject, ar_jv_str(card, "hypothesis"));
        rc = commit_applied(repo, git_commit_id(base), msg);
    }
    git_diff_free(diff);
    git_reference_free(ref);
    git_commit_free(base);
    git_repository_free(repo);
    git_libgit2_shutdown();
    free(text);
    jv_free(card);
    return rc;
}

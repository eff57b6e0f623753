/* ar-sync status: where the knowledge repository stands against its
 * remote, and which peers its cards come from. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "index/index.h"
#include "base/json.h"
#include "facts/quarantine.h"
#include "sync/sync.h"
#include "sync/sync_git.h"

/* Facts in the work tree that HEAD does not hold yet. */
static long count_uncommitted(const struct ar_kb *kb, git_tree *tree)
{
    static const char *const dirs[] = {"cards", "notes", "patches"};
    struct ar_treeidx ti;
    long n = 0;
    ar_treeidx_init(&ti, NULL, NULL);
    if (tree)
        ar_treeidx_init(&ti, git_tree_owner(tree), tree);
    for (size_t i = 0; i < 3; i++) {
        char full[PATH_MAX];
        DIR *d = opendir(ar_kb_path(kb, dirs[i], full));
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char rel[PATH_MAX];
            git_tree_entry *te = NULL;
            snprintf(rel, sizeof rel, "%s/%s", dirs[i], e->d_name);
            if (ar_treeidx_get(&ti, rel, &te) != 0)
                n++;
            git_tree_entry_free(te);
        }
        closedir(d);
    }
    ar_treeidx_free(&ti);
    return n;
}

static int fetch_remote(git_remote *remote, const char *name)
{
    char spec[300];
    snprintf(spec, sizeof spec, "+refs/heads/main:refs/remotes/%s/main", name);
    char *specs[] = {spec};
    git_strarray refspecs = {specs, 1};
    git_fetch_options fo;
    git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
    fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
    if (git_remote_fetch(remote, &refspecs, &fo, "ar-sync: fetch") < 0)
        return ar_git_fail(git_remote_url(remote));
    return 0;
}

int ar_sync_status(const struct ar_kb *kb, const char *name, int fetch, struct ar_sync_status *st)
{
    memset(st, 0, sizeof *st);
    if (!name)
        name = "origin";
    git_libgit2_init();
    git_repository *repo = NULL;
    git_remote *remote = NULL;
    git_commit *c = NULL;
    git_tree *tree = NULL;
    git_oid head, theirs;
    int rc = ar_sync_open(kb, &repo);
    if (rc == 0 && git_remote_lookup(&remote, repo, name) == 0) {
        snprintf(st->url, sizeof st->url, "%s", git_remote_url(remote));
        if (fetch)
            rc = fetch_remote(remote, name);
    }
    int unborn = rc == 0 ? ar_sync_head(repo, &head) : -1;
    int none = rc == 0 ? ar_sync_tracking(repo, name, &theirs) : -1;
    if (unborn < 0 || none < 0)
        rc = -1;
    if (rc == 0 && !unborn) {
        git_oid_tostr(st->head, sizeof st->head, &head);
        if (git_commit_lookup(&c, repo, &head) < 0 || git_commit_tree(&tree, c) < 0)
            rc = ar_git_fail("HEAD");
    }
    if (rc == 0 && !none)
        git_oid_tostr(st->remote_head, sizeof st->remote_head, &theirs);
    if (rc == 0 && !unborn && !none &&
        git_graph_ahead_behind(&st->ahead, &st->behind, repo, &head, &theirs) < 0)
        rc = ar_git_fail("ahead/behind");
    if (rc == 0 && !unborn && none) {
        /* never pushed: everything is ahead */
        git_revwalk *w = NULL;
        git_oid o;
        if (git_revwalk_new(&w, repo) == 0 && git_revwalk_push(w, &head) == 0)
            while (git_revwalk_next(&o, w) == 0)
                st->ahead++;
        git_revwalk_free(w);
    }
    if (rc == 0) {
        st->uncommitted = count_uncommitted(kb, tree);
        st->quarantined = ar_quarantine_count(kb);
    }
    git_tree_free(tree);
    git_commit_free(c);
    git_remote_free(remote);
    git_repository_free(repo);
    git_libgit2_shutdown();
    return rc;
}

struct peers {
    jv by_agent;   /* agent -> {agent, cards, platforms {class: true}, last} */
};

static int peer_line(char *line, size_t len, void *ctx)
{
    struct peers *p = ctx;
    jv view;
    if (ar_json_parse(line, len, "index.db view", &view) != 0)
        return 0;
    const char *agent = ar_jv_str(view, "agent");
    if (agent) {
        jv cur = jv_object_get(jv_copy(p->by_agent), jv_string(agent));
        if (!jv_is_valid(cur)) {
            cur = jv_object();
            ar_jv_set(&cur, "agent", jv_string(agent));
            ar_jv_set(&cur, "cards", jv_number(0));
            ar_jv_set(&cur, "platforms", jv_object());
        }
        ar_jv_set(&cur, "cards", jv_number(ar_jv_num(cur, "cards", 0) + 1));
        jv plat = ar_jv_get(view, "platform");
        const char *cls = ar_jv_str(plat, "class");
        if (cls) {
            jv set = ar_jv_get(cur, "platforms");
            ar_jv_set(&cur, "platforms", jv_object_set(set, jv_string(cls), jv_true()));
        }
        jv_free(plat);
        /* index lines are in id order: the latest card comes last */
        ar_jv_set(&cur, "last", jv_string(ar_jv_str(view, "id")));
        p->by_agent = jv_object_set(p->by_agent, jv_string(agent), cur);
    }
    jv_free(view);
    return 0;
}

int ar_sync_peers(const struct ar_kb *kb, jv *out)
{
    struct peers p = {jv_object()};
    *out = jv_array();
    if (ar_index_foreach(kb, peer_line, &p) != 0) {
        jv_free(p.by_agent);
        return -1;
    }
    jv keys = jv_keys(jv_copy(p.by_agent));   /* sorted */
    jv_array_foreach(keys, i, k) {
        jv peer = jv_object_get(jv_copy(p.by_agent), k);
        ar_jv_set(&peer, "platforms", jv_keys(ar_jv_get(peer, "platforms")));
        *out = jv_array_append(*out, peer);
    }
    jv_free(keys);
    jv_free(p.by_agent);
    return 0;
}

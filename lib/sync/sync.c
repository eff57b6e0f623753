#define _GNU_SOURCE   /* syncfs */
#include "sync/sync.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "facts/card.h"
#include "base/err.h"
#include "index/index.h"
#include "base/json.h"
#include "base/lock.h"
#include "facts/patch.h"
#include "facts/quarantine.h"
#include "sync/sync_git.h"


#define TEMP_REF_PREFIX "refs/ar-sync/incoming-"

static const char gitignore_text[] =
    "# Derived files and local state: rebuilt from the facts or private to\n"
    "# this machine, never synced (ar-sync tracks cards/, notes/, patches/).\n"
    "/index.db\n"
    "/index.db-wal\n"
    "/index.db-shm\n"
    "/index.db-journal\n"
    "/index.jsonl\n"
    "/index.state\n"
    "/index.journal\n"
    "/*.lock\n"
    "/queue.json\n"
    "/synthesis/\n"
    "/plots/\n"
    "/quarantine/\n"
    "/trust\n"
    ".*.tmp.*\n";

static const char *const fact_dirs[] = {"cards", "notes", "patches"};

struct sync {
    const struct ar_kb *kb;
    git_repository *repo;
    struct ar_sync_report *r;
    const char *remote;
    struct ar_buf released;   /* NUL-separated quarantine keys of notes let in */
};

/* ------------------------------------------------------------ helpers */

int ar_git_fail(const char *what)
{
    const git_error *e = git_error_last();
    return ar_fail(AR_EFAIL, "%s: %s", what, e && e->message ? e->message : "failed");
}

int ar_sync_open(const struct ar_kb *kb, git_repository **repo)
{
    char dotgit[PATH_MAX];
    *repo = NULL;
    if (!ar_is_dir(ar_kb_path(kb, ".git", dotgit)))
        return ar_fail(AR_EFAIL, "knowledge base %s: not a git repository (run ar-sync init)", kb->root);
    if (git_repository_open_ext(repo, kb->root, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
        return ar_git_fail(kb->root);
    return 0;
}

/* HEAD's commit id; 1 when there is none yet (unborn branch). */
int ar_sync_head(git_repository *repo, git_oid *oid)
{
    int rc = git_reference_name_to_id(oid, repo, "HEAD");
    if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH)
        return 1;
    return rc < 0 ? ar_git_fail("HEAD") : 0;
}

/* The tracking ref of the remote's main; 1 when there is none. */
int ar_sync_tracking(git_repository *repo, const char *remote, git_oid *oid)
{
    char name[300];
    snprintf(name, sizeof name, "refs/remotes/%s/main", remote);
    int rc = git_reference_name_to_id(oid, repo, name);
    if (rc == GIT_ENOTFOUND)
        return 1;
    return rc < 0 ? ar_git_fail(name) : 0;
}

static int head_tree(git_repository *repo, git_tree **tree)
{
    git_oid oid;
    git_commit *c = NULL;
    *tree = NULL;
    int rc = ar_sync_head(repo, &oid);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (git_commit_lookup(&c, repo, &oid) < 0 || git_commit_tree(tree, c) < 0)
        rc = ar_git_fail("HEAD tree");
    git_commit_free(c);
    return rc;
}

static git_signature *signature(void)
{
    git_signature *sig = NULL;
    const char *name = ar_agent_name();
    if (!name || !*name || strpbrk(name, "<>\n") || git_signature_now(&sig, name, "ar-sync@localhost") < 0)
        git_signature_now(&sig, "ar-sync", "ar-sync@localhost");
    return sig;
}

static int kind_slot(const char *path)
{
    switch (ar_fact_kind(path, NULL)) {
    case AR_FACT_CARD: return 0;
    case AR_FACT_NOTE: return 1;
    default: return 2;
    }
}

static void report_quarantine(struct sync *s, const char *path, const char *data, size_t len,
                              const char *reason, const char *origin)
{
    int rc = ar_quarantine_add(s->kb, path, data, len, reason, origin);
    if (rc < 0) {
        ar_warn("%s: cannot quarantine: %s", path, ar_last_error());
        return;
    }
    if (rc == 1)
        return;   /* the same file was reported by an earlier sync */
    jv q = jv_object();
    ar_jv_set(&q, "path", jv_string(path));
    ar_jv_set(&q, "reason", jv_string(reason));
    ar_jv_set(&q, "origin", jv_string(origin));
    s->r->quarantined = jv_array_append(s->r->quarantined, q);
}

static int make_commit(struct sync *s, git_oid *out, const git_oid *tree_oid, const char *msg,
                       const git_oid *parents, size_t nparents)
{
    git_tree *tree = NULL;
    const git_commit *pc[2] = {NULL, NULL};
    git_commit *owned[2] = {NULL, NULL};
    git_signature *sig = signature();
    int rc = 0;
    if (!sig || git_tree_lookup(&tree, s->repo, tree_oid) < 0)
        rc = ar_git_fail("commit");
    for (size_t i = 0; rc == 0 && i < nparents; i++) {
        if (git_commit_lookup(&owned[i], s->repo, &parents[i]) < 0)
            rc = ar_git_fail("commit parent");
        pc[i] = owned[i];
    }
    if (rc == 0 && git_commit_create(out, s->repo, "HEAD", sig, sig, NULL, msg, tree, nparents, pc) < 0)
        rc = ar_git_fail("commit");
    for (int i = 0; i < 2; i++)
        git_commit_free(owned[i]);
    git_tree_free(tree);
    git_signature_free(sig);
    return rc;
}

static int write_accepted(struct sync *s, git_index *idx, const struct ar_buf *paths);

/* ------------------------------------------------------ trust checks */

/* 1 when cards/<id>.json is in the index being built. */
static int have_card(git_index *idx, const char *id)
{
    char rel[64];
    snprintf(rel, sizeof rel, "cards/%.30s.json", id);
    return id && git_index_get_bypath(idx, rel, 0) != NULL;
}

/* The card a note (valid JSON) annotates, into card; 0 when found. */
static int note_card(const char *data, size_t len, char card[AR_ID_LEN + 1])
{
    jv v;
    card[0] = '\0';
    if (ar_json_parse(data, len, "note", &v) != 0)
        return -1;
    const char *c = ar_jv_str(v, "card");
    if (c)
        snprintf(card, AR_ID_LEN + 1, "%s", c);
    jv_free(v);
    return c ? 0 : -1;
}

/* Checks a JSON fact that passed ar_fact_check against the index being
 * built: a note whose card is not there is an orphan (-1, reason
 * recorded). On 0, *canon holds its canonical bytes when they differ from
 * data (malloc'd; NULL when data is canonical). */
static int trust_check(git_index *idx, const char *rel, const char *data, size_t len, char **canon,
                       size_t *clen)
{
    *canon = NULL;
    *clen = 0;
    enum ar_fact_kind kind = ar_fact_kind(rel, NULL);
    if (kind != AR_FACT_CARD && kind != AR_FACT_NOTE)
        return 0;
    char card[AR_ID_LEN + 1];
    if (kind == AR_FACT_NOTE && (note_card(data, len, card) != 0 || !have_card(idx, card)))
        return ar_fail(AR_EINPUT, AR_ORPHAN_REASON "%s here (the note enters when its card arrives)", card);
    int d = ar_fact_canonical(data, len, canon, clen);
    if (d <= 0) {
        free(*canon);
        *canon = NULL;
    }
    return d < 0 ? -1 : 0;
}

/* Notes waiting in quarantine for their card: those whose card is in the
 * index now enter it (blob, index entry; their path is appended to
 * accepted, for write_accepted to put in the work tree), counted in n[1];
 * their keys are kept in s->released, removed from quarantine once the
 * commit is made. */
struct release {
    struct sync *s;
    git_index *idx;
    struct ar_buf *accepted;
    int *n;
    int rc;
};

static int release_one(const char *key, jv rec, const char *data, size_t len, void *ctx)
{
    struct release *rl = ctx;
    const char *reason = ar_jv_str(rec, "reason"), *rel = ar_jv_str(rec, "path");
    if (!reason || !rel || strncmp(reason, AR_ORPHAN_REASON, strlen(AR_ORPHAN_REASON)) != 0 ||
        ar_fact_kind(rel, NULL) != AR_FACT_NOTE || ar_jv_num(rec, "bytes", -1) != (double)len)
        return 0;
    if (git_index_get_bypath(rl->idx, rel, 0)) {
        /* the note came back some other way: its record goes */
        ar_buf_add(&rl->s->released, key, strlen(key) + 1);
        return 0;
    }
    char *canon;
    size_t clen;
    if (ar_fact_check(rel, AR_MODE_FILE, data, len, jv_invalid()) != 0 ||
        trust_check(rl->idx, rel, data, len, &canon, &clen) != 0)
        return 0;   /* still an orphan (or no longer valid): it waits */
    const char *bytes = canon ? canon : data;
    size_t blen = canon ? clen : len;
    git_index_entry entry;
    memset(&entry, 0, sizeof entry);
    entry.path = rel;
    entry.mode = AR_MODE_FILE;
    int rc = 0;
    if (git_index_add_from_buffer(rl->idx, &entry, bytes, blen) < 0)
        rc = ar_git_fail(rel);
    else
        ar_buf_add(rl->accepted, rel, strlen(rel) + 1);
    free(canon);
    if (rc == 0) {
        rl->n[1]++;
        rl->s->r->released++;
        ar_buf_add(&rl->s->released, key, strlen(key) + 1);
    }
    rl->rc = rc;
    return rc;
}

static int release_orphans(struct sync *s, git_index *idx, struct ar_buf *accepted, int *n)
{
    struct release rl = {.s = s, .idx = idx, .accepted = accepted, .n = n};
    char dir[PATH_MAX];
    if (!ar_is_dir(ar_kb_path(s->kb, "quarantine", dir)))
        return 0;
    ar_quarantine_foreach(s->kb, release_one, &rl);
    return rl.rc;
}

/* After the commit that holds them: the released notes leave quarantine. */
static void forget_released(struct sync *s)
{
    for (size_t off = 0; off < s->released.len; off += strlen(s->released.data + off) + 1)
        if (ar_quarantine_remove(s->kb, s->released.data + off) != 0)
            ar_warn("%s", ar_last_error());
    s->released.len = 0;
}

/* ------------------------------------------------------- local facts */

/* A local card, for checking a local patch: the working file, if valid. */
static jv local_card(const struct ar_kb *kb, const char *id)
{
    char path[PATH_MAX];
    jv card;
    if (ar_card_read_file(ar_kb_card_path(kb, id, path), &card, AR_CARD_STORED) != 0)
        return jv_invalid();
    return card;
}

static int read_local(const char *full, unsigned *mode, char **data, size_t *len)
{
    struct stat st;
    *data = NULL;
    *len = 0;
    if (lstat(full, &st) != 0)
        return ar_fail(AR_EFAIL, "%s: %s", full, strerror(errno));
    if (S_ISLNK(st.st_mode)) {
        *mode = 0120000;
        *data = ar_xstrdup("");
        return 0;
    }
    if (!S_ISREG(st.st_mode)) {
        *mode = 040000;
        *data = ar_xstrdup("");
        return 0;
    }
    *mode = AR_MODE_FILE;
    /* one byte over the largest fact: enough to reject it as too large */
    if (ar_read_file(full, AR_PATCH_MAX + 1, data, len) != 0) {
        *data = ar_xmalloc(1);
        (*data)[0] = '\0';
        *len = (size_t)AR_PATCH_MAX + 1;
    }
    return 0;
}

/* A committed fact edited in place: keep the edit aside, restore the fact. */
static void restore_fact(struct sync *s, const char *rel, const char *full, const char *data,
                         size_t len, const git_tree_entry *e)
{
    git_blob *blob = NULL;
    report_quarantine(s, rel, data, len, "local copy differs from the committed fact (restored)", "local");
    if (git_blob_lookup(&blob, s->repo, git_tree_entry_id(e)) < 0) {
        ar_warn("%s: cannot restore: %s", rel, git_error_last() ? git_error_last()->message : "");
        return;
    }
    unlink(full);
    if (ar_write_atomic(full, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob)) != 0)
        ar_warn("%s", ar_last_error());
    git_blob_free(blob);
}

static int stage_one(struct sync *s, git_index *idx, struct ar_treeidx *ti, const char *rel, int *added)
{
    char full[PATH_MAX];
    unsigned mode = 0;
    char *data;
    size_t len;
    ar_kb_path(s->kb, rel, full);
    if (read_local(full, &mode, &data, &len) != 0)
        return -1;
    git_tree_entry *e = NULL;
    if (ar_treeidx_get(ti, rel, &e) == 0) {
        git_oid oid;
        if (mode != AR_MODE_FILE || git_odb_hash(&oid, data, len, GIT_OBJECT_BLOB) < 0 ||
            !git_oid_equal(&oid, git_tree_entry_id(e)))
            restore_fact(s, rel, full, data, len, e);
        git_tree_entry_free(e);
        free(data);
        return 0;
    }
    char id[AR_ID_LEN + 1];
    jv card = jv_invalid();
    if (ar_fact_kind(rel, id) == AR_FACT_PATCH)
        card = local_card(s->kb, id);
    int rc = 0;
    char *canon = NULL;
    size_t clen = 0;
    if (ar_fact_check(rel, mode, data, len, card) != 0 || trust_check(idx, rel, data, len, &canon, &clen) != 0) {
        report_quarantine(s, rel, data, len, ar_last_error(), "local");
        if (unlink(full) != 0 && rmdir(full) != 0)
            ar_warn("%s: cannot move aside: %s", full, strerror(errno));
    } else {
        git_index_entry entry;
        memset(&entry, 0, sizeof entry);
        entry.path = rel;
        entry.mode = AR_MODE_FILE;
        /* a fact written by hand in another layout: committed (and kept
         * here) as ar writes it, the same id */
        if (canon && ar_write_atomic(full, canon, clen) == 0)
            s->r->canonical++;
        else if (canon)
            rc = -1;
        if (rc == 0 && git_index_add_from_buffer(idx, &entry, canon ? canon : data, canon ? clen : len) < 0)
            rc = ar_git_fail(rel);
        else if (rc == 0)
            added[kind_slot(rel)]++;
    }
    free(canon);
    jv_free(card);
    free(data);
    return rc;
}

static int stage_dir(struct sync *s, git_index *idx, struct ar_treeidx *ti, const char *dir, int *added)
{
    char full[PATH_MAX];
    DIR *d = opendir(ar_kb_path(s->kb, dir, full));
    if (!d)
        return 0;
    size_t n;
    char **names = NULL;
    size_t cap = 0;
    struct dirent *de;
    n = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;   /* ., .., and writers' temp files */
        if (n == cap)
            names = ar_xrealloc(names, (cap = cap ? 2 * cap : 64) * sizeof *names);
        names[n++] = ar_xstrdup(de->d_name);
    }
    closedir(d);
    int rc = 0;
    /* cards before patches matters only across dirs; within one, any order */
    for (size_t i = 0; i < n; i++) {
        char rel[PATH_MAX];
        if (rc == 0) {
            snprintf(rel, sizeof rel, "%s/%s", dir, names[i]);
            rc = stage_one(s, idx, ti, rel, added);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

/* Creates a fact file from a blob: temp file, then link (never replacing;
 * an identical file already there is fine). No fsync per file: a sync
 * writes thousands, and the caller flushes them all at once (syncfs). A
 * file lost to a crash is still in the repository and comes back by
 * restore_missing on the next sync. */
static int put_fact(struct sync *s, const char *rel, const git_oid *oid)
{
    git_blob *blob = NULL;
    if (git_blob_lookup(&blob, s->repo, oid) < 0)
        return ar_git_fail(rel);
    const char *data = git_blob_rawcontent(blob);
    size_t len = (size_t)git_blob_rawsize(blob);
    char full[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX + 64];
    ar_kb_path(s->kb, rel, full);
    snprintf(dir, sizeof dir, "%s", full);
    *strrchr(dir, '/') = '\0';
    snprintf(tmp, sizeof tmp, "%s/.sync.tmp.%ld", dir, (long)getpid());
    int rc = ar_mkdir(dir);
    int fd = rc == 0 ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
    if (rc == 0 && fd < 0)
        rc = ar_fail(AR_EFAIL, "%s: %s", tmp, strerror(errno));
    if (fd >= 0) {
        ssize_t w = write(fd, data, len);
        if (close(fd) != 0 || w != (ssize_t)len)
            rc = ar_fail(AR_EFAIL, "%s: write failed", tmp);
        if (rc == 0 && link(tmp, full) != 0) {
            char *old = NULL;
            size_t olen = 0;
            int same = errno == EEXIST && ar_read_file(full, len + 1, &old, &olen) == 0 && olen == len &&
                       memcmp(old, data, len) == 0;
            free(old);
            if (!same)
                rc = ar_fail(AR_EFAIL, "%s: exists with other content", full);
        }
        unlink(tmp);
    }
    git_blob_free(blob);
    return rc;
}

/* Flushes the files written by put_fact (one syncfs for all of them). */
static void flush_facts(const struct ar_kb *kb)
{
    int fd = open(kb->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        syncfs(fd);
        close(fd);
    }
}

/* Writes facts (paths relative to the root, their blobs) by the index's
 * write-ahead protocol (lib/index/index.h): the ids of the cards and notes
 * among them recorded as pending in one transaction, the files written and
 * flushed, then taken into the index by a reader's catch-up. A fact whose
 * intent cannot be recorded is not written. */
static int put_facts(struct sync *s, const struct ar_buf *rels, const git_oid *oids, size_t n)
{
    char (*idv)[32] = ar_xmalloc((n ? n : 1) * sizeof *idv);
    const char **ids = ar_xmalloc((n ? n : 1) * sizeof *ids);
    int *is_note = ar_xmalloc((n ? n : 1) * sizeof *is_note);
    size_t k = 0, off = 0;
    for (size_t i = 0; i < n; i++, off += strlen(rels->data + off) + 1) {
        enum ar_fact_kind kind = ar_fact_kind(rels->data + off, idv[k]);
        if (kind != AR_FACT_CARD && kind != AR_FACT_NOTE)
            continue;
        ids[k] = idv[k];
        is_note[k++] = kind == AR_FACT_NOTE;
    }
    struct ar_intent in = {-1};
    int rc = k ? ar_index_intend(s->kb, is_note, ids, k, &in) : 0;
    off = 0;
    for (size_t i = 0; i < n && rc == 0; i++, off += strlen(rels->data + off) + 1)
        rc = put_fact(s, rels->data + off, &oids[i]);
    if (n)
        flush_facts(s->kb);
    if (k && in.lock >= 0) {
        if (ar_index_ensure(s->kb) != 0)
            ar_warn("%s", ar_last_error());   /* the next reader takes them in */
        ar_index_intent_end(&in);
    }
    free(idv);
    free(ids);
    free(is_note);
    return rc;
}

/* Facts HEAD holds that the work tree lost (a crash between a merge and
 * writing its files, or a hand deletion): written back. */
static int restore_missing(struct sync *s, git_tree *tree)
{
    if (!tree)
        return 0;
    struct ar_buf rels = {0};
    git_oid *oids = NULL;
    size_t restored = 0, cap = 0;
    for (size_t d = 0; d < sizeof fact_dirs / sizeof fact_dirs[0]; d++) {
        const git_tree_entry *de = git_tree_entry_byname(tree, fact_dirs[d]);
        git_tree *sub = NULL;
        if (!de || git_tree_entry_type(de) != GIT_OBJECT_TREE || git_tree_lookup(&sub, s->repo, git_tree_entry_id(de)) < 0)
            continue;
        size_t n = git_tree_entrycount(sub);
        for (size_t i = 0; i < n; i++) {
            const git_tree_entry *e = git_tree_entry_byindex(sub, i);
            char rel[PATH_MAX], full[PATH_MAX];
            struct stat st;
            snprintf(rel, sizeof rel, "%s/%s", fact_dirs[d], git_tree_entry_name(e));
            if (lstat(ar_kb_path(s->kb, rel, full), &st) == 0 || errno != ENOENT)
                continue;
            if (restored == cap)
                oids = ar_xrealloc(oids, (cap = cap ? 2 * cap : 64) * sizeof *oids);
            git_oid_cpy(&oids[restored++], git_tree_entry_id(e));
            ar_buf_add(&rels, rel, strlen(rel) + 1);
        }
        git_tree_free(sub);
    }
    int rc = restored ? put_facts(s, &rels, oids, restored) : 0;
    if (restored)
        ar_warn("restored %zu committed fact%s missing from %s", restored, restored == 1 ? "" : "s",
                s->kb->root);
    ar_buf_free(&rels);
    free(oids);
    return rc;
}

static int commit_local(struct sync *s)
{
    git_index *idx = NULL;
    git_tree *tree = NULL;
    git_oid tree_oid, head, commit;
    int rc = 0;
    if (git_repository_index(&idx, s->repo) < 0)
        return ar_git_fail("index");
    if (head_tree(s->repo, &tree) != 0) {
        git_index_free(idx);
        return -1;
    }
    if (tree ? git_index_read_tree(idx, tree) < 0 : git_index_clear(idx) < 0)
        rc = ar_git_fail("index");
    if (rc == 0)
        rc = restore_missing(s, tree);
    struct ar_treeidx ti;
    ar_treeidx_init(&ti, s->repo, tree);
    for (size_t i = 0; rc == 0 && i < sizeof fact_dirs / sizeof fact_dirs[0]; i++)
        rc = stage_dir(s, idx, &ti, fact_dirs[i], s->r->committed);
    ar_treeidx_free(&ti);
    struct ar_buf released = {0};
    if (rc == 0)
        rc = release_orphans(s, idx, &released, s->r->committed);
    git_tree_entry *e = NULL;
    if (rc == 0 && (!tree || git_tree_entry_bypath(&e, tree, ".gitignore") != 0)) {
        git_index_entry entry;
        memset(&entry, 0, sizeof entry);
        entry.path = ".gitignore";
        entry.mode = AR_MODE_FILE;
        if (git_index_add_from_buffer(idx, &entry, gitignore_text, strlen(gitignore_text)) < 0)
            rc = ar_git_fail(".gitignore");
    }
    git_tree_entry_free(e);
    if (rc == 0 && git_index_write_tree(&tree_oid, idx) < 0)
        rc = ar_git_fail("write tree");
    if (rc == 0 && (!tree || !git_oid_equal(&tree_oid, git_tree_id(tree)))) {
        int *c = s->r->committed;
        char msg[256];
        if (c[0] + c[1] + c[2] == 0)
            snprintf(msg, sizeof msg, "ar-sync: start the knowledge base of %s\n", ar_agent_name());
        else
            snprintf(msg, sizeof msg, "ar-sync: %d cards, %d notes, %d patches from %s\n", c[0], c[1],
                     c[2], ar_agent_name());
        int have_head = ar_sync_head(s->repo, &head) == 0;
        rc = make_commit(s, &commit, &tree_oid, msg, &head, have_head ? 1 : 0);
    }
    if (rc == 0 && git_index_write(idx) < 0)
        rc = ar_git_fail("index");
    if (rc == 0 && released.len)
        rc = write_accepted(s, idx, &released);
    if (rc == 0)
        forget_released(s);
    s->released.len = 0;
    ar_buf_free(&released);
    git_tree_free(tree);
    git_index_free(idx);
    return rc;
}

/* ------------------------------------------------------------- merge */

struct incoming {
    git_repository *repo;
    git_tree *ours;
    struct ar_treeidx ti;   /* ours, for lookups */
    struct sync *s;
    git_index *idx;
    int pass;            /* 0: cards, 1: notes, 2: patches, 3: everything else */
    struct ar_buf accepted;   /* NUL-separated paths to write to the work tree */
    jv per_agent;        /* {agent: cards accepted from the remote in this sync} */
    int rc;
};

/* Cards from one agent in one sync above which the sync says so: valid
 * cards are taken, but a peer that pushes thousands at once is flooding
 * (or importing) and the people who read the brief should know. */
#define FLOOD_CARDS 1000

static long flood_limit(void)
{
    const char *e = getenv("AR_SYNC_FLOOD");
    char *end;
    long v = e && *e ? strtol(e, &end, 10) : 0;
    return e && *e && *end == '\0' && v > 0 ? v : FLOOD_CARDS;
}

static void count_agent(struct incoming *in, const char *data, size_t len)
{
    jv card;
    if (ar_json_parse(data, len, "card", &card) != 0)
        return;
    const char *agent = ar_jv_str(card, "agent");
    if (agent) {
        jv n = jv_object_get(jv_copy(in->per_agent), jv_string(agent));
        double c = jv_get_kind(n) == JV_KIND_NUMBER ? jv_number_value(n) : 0;
        jv_free(n);
        in->per_agent = jv_object_set(in->per_agent, jv_string(agent), jv_number(c + 1));
    }
    jv_free(card);
}

static void report_floods(struct incoming *in)
{
    long limit = flood_limit();
    jv_object_foreach(in->per_agent, k, n) {
        if (jv_number_value(n) > limit)
            ar_warn("agent '%.128s' sent %.0f cards in one sync (more than %ld): a flood or a bulk import",
                    jv_string_value(k), jv_number_value(n), limit);
        jv_free(k);
        jv_free(n);
    }
}

/* The accepted card a patch belongs to: in the merged index. */
static jv merged_card(struct incoming *in, const char *id)
{
    char rel[64];
    snprintf(rel, sizeof rel, "cards/%s.json", id);
    const git_index_entry *e = git_index_get_bypath(in->idx, rel, 0);
    git_blob *blob = NULL;
    jv card = jv_invalid();
    if (e && git_blob_lookup(&blob, in->repo, &e->id) == 0) {
        if (ar_json_parse(git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob), rel, &card) != 0)
            card = jv_invalid();
        git_blob_free(blob);
    }
    return card;
}

static int take_one(struct incoming *in, const char *path, const git_tree_entry *te)
{
    git_filemode_t mode = git_tree_entry_filemode_raw(te);
    git_tree_entry *mine = NULL;
    if (ar_treeidx_get(&in->ti, path, &mine) == 0) {
        int same = git_oid_equal(git_tree_entry_id(mine), git_tree_entry_id(te));
        git_oid mine_id;
        git_oid_cpy(&mine_id, git_tree_entry_id(mine));
        git_tree_entry_free(mine);
        if (same || strcmp(path, ".gitignore") == 0)
            return 0;
        git_blob *b = NULL;
        const char *data = "";
        size_t len = 0;
        if (mode != GIT_FILEMODE_COMMIT && git_blob_lookup(&b, in->repo, git_tree_entry_id(te)) == 0) {
            data = git_blob_rawcontent(b);
            len = (size_t)git_blob_rawsize(b);
        }
        /* the same fact in another layout (a peer that has not stored it
         * canonically yet) is the fact here: nothing to report */
        char *canon = NULL;
        size_t clen = 0;
        git_oid coid;
        int same_fact = mode == GIT_FILEMODE_BLOB && ar_fact_kind(path, NULL) != AR_FACT_PATCH &&
                        ar_fact_kind(path, NULL) != AR_FACT_NONE && ar_fact_canonical(data, len, &canon, &clen) == 1 &&
                        git_odb_hash(&coid, canon, clen, GIT_OBJECT_BLOB) == 0 && git_oid_equal(&coid, &mine_id);
        free(canon);
        if (!same_fact)
            report_quarantine(in->s, path, data, len, "differs from the fact already here (edited)", "remote");
        git_blob_free(b);
        return 0;
    }
    if (strcmp(path, ".gitignore") == 0)
        return 0;   /* configuration, not a fact: each peer keeps its own */
    git_blob *b = NULL;
    const char *data = "";
    size_t len = 0;
    if (mode != GIT_FILEMODE_COMMIT && git_blob_lookup(&b, in->repo, git_tree_entry_id(te)) == 0) {
        data = git_blob_rawcontent(b);
        len = (size_t)git_blob_rawsize(b);
    }
    char id[AR_ID_LEN + 1];
    jv card = jv_invalid();
    if (ar_fact_kind(path, id) == AR_FACT_PATCH)
        card = merged_card(in, id);
    char *canon = NULL;
    size_t clen = 0;
    if (ar_fact_check(path, (unsigned)mode, data, len, card) != 0 ||
        trust_check(in->idx, path, data, len, &canon, &clen) != 0) {
        report_quarantine(in->s, path, data, len, ar_last_error(), "remote");
    } else {
        git_index_entry entry;
        memset(&entry, 0, sizeof entry);
        entry.path = path;
        entry.mode = AR_MODE_FILE;
        git_oid_cpy(&entry.id, git_tree_entry_id(te));
        entry.file_size = (uint32_t)len;
        int bad = 0;
        if (canon) {
            /* the same fact in another layout: stored as ar writes it */
            bad = git_blob_create_from_buffer(&entry.id, in->repo, canon, clen) < 0;
            entry.file_size = (uint32_t)clen;
            in->s->r->canonical++;
        }
        free(canon);
        if (bad || git_index_add(in->idx, &entry) < 0) {
            jv_free(card);
            git_blob_free(b);
            return ar_git_fail(path);
        }
        ar_buf_add(&in->accepted, path, strlen(path) + 1);
        in->s->r->received[kind_slot(path)]++;
        if (ar_fact_kind(path, NULL) == AR_FACT_CARD)
            count_agent(in, data, len);
    }
    jv_free(card);
    git_blob_free(b);
    return 0;
}

static int walk_cb(const char *root, const git_tree_entry *te, void *payload)
{
    struct incoming *in = payload;
    if (git_tree_entry_type(te) == GIT_OBJECT_TREE)
        return 0;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s%s", root, git_tree_entry_name(te));
    enum ar_fact_kind kind = ar_fact_kind(path, NULL);
    int pass = kind == AR_FACT_CARD ? 0 : kind == AR_FACT_NOTE ? 1 : kind == AR_FACT_PATCH ? 2 : 3;
    if (pass != in->pass)
        return 0;
    if (take_one(in, path, te) != 0) {
        in->rc = -1;
        return -1;
    }
    return 0;
}

/* Writes the accepted files into the work tree. */
static int write_accepted(struct sync *s, git_index *idx, const struct ar_buf *paths)
{
    size_t n = 0, cap = 0;
    git_oid *oids = NULL;
    for (size_t off = 0; off < paths->len; off += strlen(paths->data + off) + 1) {
        const char *rel = paths->data + off;
        const git_index_entry *e = git_index_get_bypath(idx, rel, 0);
        if (!e) {
            free(oids);
            return ar_git_fail(rel);
        }
        if (n == cap)
            oids = ar_xrealloc(oids, (cap = cap ? 2 * cap : 64) * sizeof *oids);
        git_oid_cpy(&oids[n++], &e->id);
    }
    int rc = put_facts(s, paths, oids, n);
    free(oids);
    return rc;
}

static int merge_remote(struct sync *s, const git_oid *theirs)
{
    git_oid ours;
    int unborn = ar_sync_head(s->repo, &ours);
    if (unborn < 0)
        return -1;
    if (!unborn && (git_oid_equal(&ours, theirs) || git_graph_descendant_of(s->repo, &ours, theirs) == 1))
        return 0;   /* nothing new there */
    git_commit *tc = NULL;
    git_tree *their_tree = NULL;
    struct incoming in = {.repo = s->repo, .s = s, .per_agent = jv_object()};
    int rc = 0;
    if (git_commit_lookup(&tc, s->repo, theirs) < 0 || git_commit_tree(&their_tree, tc) < 0)
        rc = ar_git_fail("remote commit");
    if (rc == 0 && head_tree(s->repo, &in.ours) != 0)
        rc = -1;
    if (rc == 0 && git_repository_index(&in.idx, s->repo) < 0)
        rc = ar_git_fail("index");
    if (rc == 0 && (in.ours ? git_index_read_tree(in.idx, in.ours) : git_index_clear(in.idx)) < 0)
        rc = ar_git_fail("index");
    ar_treeidx_init(&in.ti, s->repo, in.ours);
    /* cards first, so a note or a patch is checked against an accepted card */
    for (in.pass = 0; rc == 0 && in.pass < 4; in.pass++)
        if (git_tree_walk(their_tree, GIT_TREEWALK_PRE, walk_cb, &in) < 0)
            rc = in.rc ? -1 : ar_git_fail("remote tree");
    /* notes that waited for a card that came now */
    if (rc == 0)
        rc = release_orphans(s, in.idx, &in.accepted, s->r->received);
    git_oid tree_oid, commit;
    if (rc == 0 && git_index_write_tree(&tree_oid, in.idx) < 0)
        rc = ar_git_fail("write tree");
    if (rc == 0 && git_oid_equal(&tree_oid, git_tree_id(their_tree)) &&
        (unborn || git_graph_descendant_of(s->repo, theirs, &ours) == 1)) {
        /* fast-forward: their tree is ours plus valid facts */
        git_reference *ref = NULL;
        if (git_reference_create(&ref, s->repo, "refs/heads/main", theirs, 1, "ar-sync: fast-forward") < 0 ||
            git_repository_set_head(s->repo, "refs/heads/main") < 0)
            rc = ar_git_fail("fast-forward");
        git_reference_free(ref);
    } else if (rc == 0) {
        git_oid parents[2];
        size_t np = 0;
        if (!unborn)
            parents[np++] = ours;
        parents[np++] = *theirs;
        int *n = s->r->received;
        char msg[256];
        snprintf(msg, sizeof msg, "ar-sync: merge %d cards, %d notes, %d patches from %s\n", n[0], n[1],
                 n[2], s->remote);
        rc = make_commit(s, &commit, &tree_oid, msg, parents, np);
    }
    if (rc == 0)
        rc = write_accepted(s, in.idx, &in.accepted);
    if (rc == 0)
        report_floods(&in);
    jv_free(in.per_agent);
    if (rc == 0 && git_index_write(in.idx) < 0)
        rc = ar_git_fail("index");
    if (rc == 0)
        forget_released(s);
    s->released.len = 0;
    ar_buf_free(&in.accepted);
    ar_treeidx_free(&in.ti);
    git_index_free(in.idx);
    git_tree_free(in.ours);
    git_tree_free(their_tree);
    git_commit_free(tc);
    return rc;
}

/* ------------------------------------------------------ fetch and push */

/* The payload of every remote callback. */
struct cb_state {
    int tries;        /* credential attempts */
    int rejected;     /* the remote refused the push */
    char why[256];
};

static int credentials(git_credential **out, const char *url, const char *user, unsigned int allowed,
                       void *payload)
{
    struct cb_state *cs = payload;
    (void)url;
    if (cs->tries++ > 2)
        return GIT_PASSTHROUGH;
    if (allowed & GIT_CREDENTIAL_SSH_KEY)
        return git_credential_ssh_key_from_agent(out, user ? user : "git");
    const char *token = getenv("AR_SYNC_TOKEN");
    if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && token) {
        const char *name = getenv("AR_SYNC_USER");
        return git_credential_userpass_plaintext_new(out, name ? name : user ? user : "git", token);
    }
    return GIT_PASSTHROUGH;
}

static int fetch(struct sync *s, git_remote *remote)
{
    char spec[300];
    snprintf(spec, sizeof spec, "+refs/heads/main:refs/remotes/%s/main", s->remote);
    char *specs[] = {spec};
    git_strarray refspecs = {specs, 1};
    git_fetch_options fo;
    struct cb_state cs = {0};
    git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
    fo.callbacks.credentials = credentials;
    fo.callbacks.payload = &cs;
    fo.prune = GIT_FETCH_PRUNE;
    fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
    if (git_remote_fetch(remote, &refspecs, &fo, "ar-sync: fetch") < 0)
        return ar_git_fail(git_remote_url(remote));
    /* the refspec given here does not prune: a remote without main leaves
     * a stale tracking ref, which would make every push look rejected */
    git_oid oid;
    int have = 0;
    const git_remote_head **heads;
    size_t n;
    if (git_remote_ls(&heads, &n, remote) == 0)
        for (size_t i = 0; i < n; i++)
            have |= strcmp(heads[i]->name, "refs/heads/main") == 0;
    if (!have && ar_sync_tracking(s->repo, s->remote, &oid) == 0) {
        char name[300];
        git_reference *ref = NULL;
        snprintf(name, sizeof name, "refs/remotes/%s/main", s->remote);
        if (git_reference_lookup(&ref, s->repo, name) == 0)
            git_reference_delete(ref);
        git_reference_free(ref);
    }
    return 0;
}

/* A path for URLs the local transport serves (a path or file://), else NULL. */
static const char *local_path(const char *url)
{
    if (strncmp(url, "file://", 7) == 0)
        return url + 7;
    if (url[0] == '/' || url[0] == '.' || !strchr(url, ':'))
        return url;
    return NULL;
}

static int push_ref_cb(const char *ref, const char *status, void *payload)
{
    struct cb_state *ps = payload;
    (void)ref;
    if (status) {
        ps->rejected = 1;
        snprintf(ps->why, sizeof ps->why, "%s", status);
    }
    return 0;
}

static int push_refspec(git_remote *remote, const char *spec, struct cb_state *ps)
{
    char *specs[] = {(char *)spec};
    git_strarray refspecs = {specs, 1};
    git_push_options po;
    git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
    po.callbacks.credentials = credentials;
    po.callbacks.push_update_reference = push_ref_cb;
    po.callbacks.payload = ps;
    int rc = git_remote_push(remote, &refspecs, &po);
    if (rc == GIT_ENONFASTFORWARD) {
        ps->rejected = 1;
        return 0;
    }
    return rc < 0 ? ar_git_fail(git_remote_url(remote)) : 0;
}

/* libgit2's local transport moves the ref without checking its old value,
 * so two peers pushing at once could drop a commit. For a local remote the
 * objects go to a private ref first; then main moves only if it still is
 * what we merged (compare-and-swap under the remote's ref lock). */
static int push_local(git_remote *remote, const char *path, const git_oid *head,
                      const git_oid *expected, struct cb_state *ps)
{
    char tmp[128], spec[200];
    snprintf(tmp, sizeof tmp, TEMP_REF_PREFIX "%ld-%ld", (long)getpid(), (long)time(NULL));
    snprintf(spec, sizeof spec, "+refs/heads/main:%s", tmp);
    if (push_refspec(remote, spec, ps) != 0)
        return -1;
    git_repository *rr = NULL;
    git_reference *ref = NULL;
    int rc = 0;
    if (git_repository_open_ext(&rr, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
        return ar_git_fail(path);
    int e = expected ? git_reference_create_matching(&ref, rr, "refs/heads/main", head, 1, expected, "ar-sync: push")
                     : git_reference_create(&ref, rr, "refs/heads/main", head, 0, "ar-sync: push");
    if (e == GIT_EMODIFIED || e == GIT_EEXISTS || e == GIT_ELOCKED) {
        ps->rejected = 1;
        snprintf(ps->why, sizeof ps->why, "a peer pushed first");
    } else if (e < 0) {
        rc = ar_git_fail(path);
    }
    git_reference_free(ref);
    if (git_reference_lookup(&ref, rr, tmp) == 0)
        git_reference_delete(ref);
    git_reference_free(ref);
    git_repository_free(rr);
    return rc;
}

static int push(struct sync *s, git_remote *remote, const git_oid *head, const git_oid *expected,
                struct cb_state *ps)
{
    const char *path = local_path(git_remote_url(remote));
    int rc = path ? push_local(remote, path, head, expected, ps)
                  : push_refspec(remote, "refs/heads/main:refs/heads/main", ps);
    if (rc == 0 && !ps->rejected) {
        char name[300];
        git_reference *ref = NULL;
        snprintf(name, sizeof name, "refs/remotes/%s/main", s->remote);
        if (git_reference_create(&ref, s->repo, name, head, 1, "ar-sync: push") < 0)
            rc = ar_git_fail(name);
        git_reference_free(ref);
    }
    return rc;
}

static void back_off(int attempt)
{
    double base = 0.05 * (double)(1 << (attempt < 6 ? attempt : 6));
    if (base > 2.0)
        base = 2.0;
    double jitter = 0.5 + (double)(rand() % 1000) / 1000.0;
    struct timespec ts;
    double d = base * jitter;
    ts.tv_sec = (time_t)d;
    ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);
}

static int exchange(struct sync *s, int retries)
{
    git_remote *remote = NULL;
    int rc = git_remote_lookup(&remote, s->repo, s->remote);
    if (rc == GIT_ENOTFOUND)
        return 0;
    if (rc < 0)
        return ar_git_fail(s->remote);
    s->r->has_remote = 1;
    srand((unsigned)getpid() ^ (unsigned)time(NULL));
    for (;;) {
        git_oid theirs, head;
        s->r->attempts++;
        if ((rc = fetch(s, remote)) != 0)
            break;
        int none = ar_sync_tracking(s->repo, s->remote, &theirs);
        if (none < 0 || (!none && merge_remote(s, &theirs) != 0)) {
            rc = -1;
            break;
        }
        int unborn = ar_sync_head(s->repo, &head);
        if (unborn) {
            rc = unborn < 0 ? -1 : 0;
            break;
        }
        if (!none && git_oid_equal(&head, &theirs)) {
            s->r->pushed = 1;
            break;
        }
        const char *pause = getenv("AR_SYNC_PAUSE");
        if (pause && *pause)   /* widens the race window, for tests */
            nanosleep(&(struct timespec){.tv_sec = atoi(pause)}, NULL);
        struct cb_state ps = {0};
        if ((rc = push(s, remote, &head, none ? NULL : &theirs, &ps)) != 0)
            break;
        if (!ps.rejected) {
            s->r->pushed = 1;
            break;
        }
        if (s->r->attempts >= retries) {
            rc = ar_fail(AR_EFAIL, "push to %s: rejected %d times (%s); run ar-sync again",
                         git_remote_url(remote), s->r->attempts, ps.why);
            break;
        }
        back_off(s->r->attempts);
    }
    git_remote_free(remote);
    return rc;
}

/* ---------------------------------------------------------------- run */

int ar_sync_run(const struct ar_kb *kb, const struct ar_sync_opts *o, struct ar_sync_report *r)
{
    memset(r, 0, sizeof *r);
    r->quarantined = jv_array();
    struct sync s = {.kb = kb, .r = r, .remote = o->remote ? o->remote : "origin"};
    char lock_path[PATH_MAX];
    int lock = ar_lock(ar_kb_path(kb, "sync.lock", lock_path), ar_lock_timeout_default(), 1);
    if (lock < 0)
        return -1;
    git_libgit2_init();
    int rc = ar_sync_open(kb, &s.repo);
    if (rc == 0)
        rc = commit_local(&s);
    if (rc == 0 && !o->local_only)
        rc = exchange(&s, o->retries > 0 ? o->retries : AR_SYNC_RETRIES);
    /* derived files follow the facts, whatever happened to the push; the
     * first failure is the one reported */
    if (s.repo) {
        char first[1024];
        int code = ar_last_code();
        snprintf(first, sizeof first, "%s", rc ? ar_last_error() : "");
        if (ar_index_ensure(kb) != 0 && rc == 0)   /* takes in what arrived */
            rc = -1;
        else if (rc != 0)
            ar_fail(code, "%s", first);
    }
    git_oid head;
    if (s.repo && ar_sync_head(s.repo, &head) == 0)
        git_oid_tostr(r->head, sizeof r->head, &head);
    git_repository_free(s.repo);
    ar_buf_free(&s.released);
    git_libgit2_shutdown();
    ar_unlock(lock);
    return rc;
}

/* ---------------------------------------------------------------- init */

/* Adds the knowledge base to the .gitignore of the project around it. */
static int ignore_in_project(const struct ar_kb *kb)
{
    char parent[PATH_MAX], root[PATH_MAX];
    if (!realpath(kb->root, root))
        return ar_fail(AR_EFAIL, "%s: %s", kb->root, strerror(errno));
    snprintf(parent, sizeof parent, "%s", root);
    char *slash = strrchr(parent, '/');
    if (!slash || slash == parent)
        return 0;
    *slash = '\0';
    git_repository *proj = NULL;
    if (git_repository_open_ext(&proj, parent, 0, NULL) < 0 || git_repository_is_bare(proj)) {
        git_repository_free(proj);
        return 0;   /* not inside a project: nothing to ignore */
    }
    char work[PATH_MAX];
    int rc = 0;
    if (!realpath(git_repository_workdir(proj), work)) {
        git_repository_free(proj);
        return 0;
    }
    size_t wl = strlen(work);
    const char *rel = root + wl + 1;
    if (strncmp(root, work, wl) != 0 || root[wl] != '/') {
        git_repository_free(proj);
        return 0;
    }
    char probe[PATH_MAX];
    snprintf(probe, sizeof probe, "%s/", rel);
    int ignored = 0;
    if (git_ignore_path_is_ignored(&ignored, proj, probe) < 0)
        rc = ar_git_fail(work);
    if (rc == 0 && !ignored) {
        char path[PATH_MAX + 16], *old = NULL;
        size_t len = 0;
        snprintf(path, sizeof path, "%s/.gitignore", work);
        struct ar_buf b = {0};
        if (access(path, F_OK) == 0) {
            if (ar_read_file(path, 1 << 20, &old, &len) != 0)
                rc = -1;
            else
                ar_buf_add(&b, old, len);
        }
        if (rc == 0) {
            if (b.len && b.data[b.len - 1] != '\n')
                ar_buf_putc(&b, '\n');
            ar_buf_printf(&b, "/%s/\n", rel);
            rc = ar_write_atomic(path, b.data, b.len);
        }
        free(old);
        ar_buf_free(&b);
    }
    git_repository_free(proj);
    return rc;
}

static int set_remote(git_repository *repo, const char *url)
{
    git_remote *remote = NULL;
    int rc = git_remote_lookup(&remote, repo, "origin");
    if (rc == 0) {
        if (strcmp(git_remote_url(remote), url) != 0 && git_remote_set_url(repo, "origin", url) < 0)
            rc = ar_git_fail("remote origin");
    } else if (git_remote_create(&remote, repo, "origin", url) < 0) {
        rc = ar_git_fail(url);
    } else {
        rc = 0;
    }
    git_remote_free(remote);
    return rc;
}

int ar_sync_init(const struct ar_kb *kb, const char *url, int *created)
{
    char dotgit[PATH_MAX], ignore[PATH_MAX];
    git_repository *repo = NULL;
    int rc = 0;
    *created = 0;
    if (url && !*url)
        return ar_fail(AR_EINPUT, "option '--remote': empty url");
    git_libgit2_init();
    if (!ar_is_dir(ar_kb_path(kb, ".git", dotgit))) {
        rc = ar_sync_git_create(kb, &repo);   /* atomic: lib/sync/sync_init.c */
        *created = rc == 0;
    } else {
        rc = ar_sync_open(kb, &repo);
    }
    if (rc == 0)
        rc = ar_write_atomic(ar_kb_path(kb, ".gitignore", ignore), gitignore_text, strlen(gitignore_text));
    if (rc == 0 && url)
        rc = set_remote(repo, url);
    git_repository_free(repo);
    if (rc == 0)
        rc = ignore_in_project(kb);
    if (rc == 0) {
        struct ar_sync_opts o = {.local_only = 1};
        struct ar_sync_report r;
        rc = ar_sync_run(kb, &o, &r);
        jv_array_foreach(r.quarantined, i, q) {
            ar_warn("quarantined %s: %s", ar_jv_str(q, "path"), ar_jv_str(q, "reason"));
            jv_free(q);
        }
        jv_free(r.quarantined);
    }
    if (rc != 0 && *created) {
        ar_sync_git_remove(kb);   /* no half-made repository stays (full disk) */
        *created = 0;
    }
    git_libgit2_shutdown();
    return rc;
}

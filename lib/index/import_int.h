/* What the files of lib/index/import.h's implementation share (internal):
 *
 *   import.c          the commits already known, storing a file's cards as
 *                     one batch, stats, export
 *   import_tsv.c      results.tsv: header by name, rows to cards, deltas
 *                     against the branch tip, baselines and replicates
 *   import_git.c      --repo: a commit's time and its diff of train.py
 *   import_commons.c  autoresearch-commons cards
 *   import_files.c    the checks before an import, which importer a path
 *                     goes to */
#ifndef AR_IMPORT_INT_H
#define AR_IMPORT_INT_H

#include <jv.h>
#include <stddef.h>

#include "facts/id.h"
#include "facts/kb.h"
#include "index/import.h"

/* ------------------------------------------------------------- import.c */

/* The commits of the cards already in the knowledge base (their first 7
 * hex digits, sorted) and the ids of those cards. */
struct ix_known {
    char commit[8];
    char id[AR_ID_LEN + 1];
};
struct ix_commits {
    struct ix_known *v;
    size_t n, cap;
};
int ix_commits_load(const struct ar_kb *kb, struct ix_commits *c);
/* The id of a card of commit (7 to 40 hex), or NULL. */
const char *ix_commits_find(const struct ix_commits *c, const char *commit);
void ix_commits_free(struct ix_commits *c);

/* {"class": cls} */
jv ix_platform_of_class(const char *cls);
/* Stores the completed cards (consumed) as one batch and counts them in
 * st (imported or existing). */
int ix_store_batch(const struct ar_kb *kb, jv cards, struct ar_import_stats *st);
/* Appends a free-text row to st. */
void ix_free_row(struct ar_import_stats *st, const char *file, int line, const char *description);

/* --------------------------------------------------------- import_git.c */

struct ix_repo;
/* Opens the git repository at dir: AR_EINPUT naming --repo when it is none. */
int ix_repo_open(const char *dir, struct ix_repo **out);
void ix_repo_close(struct ix_repo *r);
/* The branch checked out in the repository ("" when detached). */
const char *ix_repo_name(const struct ix_repo *r);
/* What the repository knows of commit (7 to 40 hex): 0 and its time (Unix
 * seconds), full id and the changes of its diff of train.py against its
 * first parent (*diff: ar_trainpy_changes' {changes, code}, or invalid
 * when train.py is in neither); 1 when the repository has no such commit. */
int ix_repo_commit(struct ix_repo *r, const char *commit, long long *time_s, char full[41], jv *diff);

#endif

/* Sync: the knowledge base is its own git repository, exchanged with peers
 * through a git remote (DESIGN.md, "Sync"). Facts are distinct files named
 * by their content hash, so the merge is a union of files and never
 * conflicts; derived files (index, synthesis, plots) are not tracked at all
 * and are rebuilt after every merge. Incoming files are untrusted and pass
 * through lib/facts/quarantine.h before they enter the tree.
 *
 * Everything happens on the branch "main" of the knowledge repository and
 * of the remote. One sync at a time per knowledge base (sync.lock). */
#ifndef AR_SYNC_H
#define AR_SYNC_H

#include <jv.h>
#include <stddef.h>

#include "facts/kb.h"

#define AR_SYNC_RETRIES 8

/* Makes kb's root a git repository (when it is not one yet) with a
 * .gitignore for derived files, sets the remote "origin" to url when given,
 * adds the knowledge base to the enclosing project's .gitignore, and
 * commits the facts already there. *created is 1 when the repository was
 * created now. */
int ar_sync_init(const struct ar_kb *kb, const char *url, int *created);

struct ar_sync_opts {
    const char *remote;   /* remote name; NULL: "origin" */
    int retries;          /* push attempts; 0: AR_SYNC_RETRIES */
    int local_only;       /* commit new facts and rebuild; no fetch, no push */
};

struct ar_sync_report {
    int committed[3];     /* new local facts committed: cards, notes, patches */
    int received[3];      /* facts merged from the remote: cards, notes, patches */
    jv quarantined;       /* [{path, reason, origin}] kept aside by this run */
    int has_remote;       /* a remote is configured */
    int attempts;         /* fetch-merge-push rounds */
    int pushed;           /* the remote now holds this HEAD */
    char head[41];
};

/* Commits new facts, fetches, merges, pushes (retrying with back-off when a
 * peer pushed first) and rebuilds the derived files. r->quarantined must be
 * freed by the caller (jv_free) whatever the result. */
int ar_sync_run(const struct ar_kb *kb, const struct ar_sync_opts *o, struct ar_sync_report *r);

struct ar_sync_status {
    char url[1024];          /* "" without a remote */
    char head[41];           /* "" before the first commit */
    char remote_head[41];    /* last fetched remote main; "" when unknown */
    size_t ahead, behind;    /* commits only here / only there */
    long uncommitted;        /* facts not committed yet */
    long quarantined;        /* files in quarantine/ */
};

/* Reads the state; with fetch, fetches the remote first. */
int ar_sync_status(const struct ar_kb *kb, const char *remote, int fetch, struct ar_sync_status *st);

/* The peers seen in the knowledge base's cards: [{agent, cards, platforms,
 * last}] sorted by agent; platforms is the sorted list of platform classes. */
int ar_sync_peers(const struct ar_kb *kb, jv *peers);

/* After ar_sync_run: when facts were committed or received, rebuilds the
 * synthesis and the plots through ar-synth and ar-plot (beside this
 * executable, else on PATH; their stdout discarded) where the knowledge
 * base has them, so peers with the same facts hold the same bytes; warns
 * when one fails. */
void ar_sync_rebuild_derived(const struct ar_kb *kb, const struct ar_sync_report *r);

/* The report as ar-sync --json prints it: {committed, received (each
 * {cards, notes, patches}), quarantined, remote, pushed, attempts, head, ok}. */
jv ar_sync_report_json(const struct ar_sync_report *r, int ok);
#endif

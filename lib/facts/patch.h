/* Reproducible cards: the diff of trainer/ and kernels/ against the
 * project's upstream commit, stored beside the card as
 * knowledge/patches/<card id>.patch, so a peer without the author's
 * repository can rebuild the exact code that ran. The card records the
 * patch in extra.patch = {upstream, sha256, bytes}; the card id covers
 * that object, so a patch cannot be swapped without breaking the id.
 *
 * The upstream commit is the merge base of HEAD with $AR_UPSTREAM (a ref or
 * commit) or, when that is unset, the first of origin/main, origin/master,
 * main, master that exists. */
#ifndef AR_PATCH_H
#define AR_PATCH_H

#include <jv.h>
#include <stddef.h>

#include "facts/kb.h"

#define AR_PATCH_MAX (256 * 1024)

struct ar_patch {
    char upstream[41];   /* 40 hex */
    char sha256[65];
    char *text;          /* the diff (git format); may be empty */
    size_t len;
    int too_large;       /* the diff exceeded AR_PATCH_MAX: text is NULL */
};

/* Diffs trainer/ and kernels/ of the working tree (what runs, committed or
 * not) of the repository around project against the upstream commit. */
int ar_patch_make(const char *project, struct ar_patch *p);
void ar_patch_free(struct ar_patch *p);

/* The object to record as the card's extra.patch. */
jv ar_patch_info(const struct ar_patch *p);

/* Stores patches/<card id>.patch (never replacing one). Does nothing for a
 * patch that was too large. */
int ar_patch_store(const struct ar_kb *kb, const char *card_id, const struct ar_patch *p);

/* 0 when data is the patch that card (borrowed) records and stays in its
 * scope (ar_patch_scope_check); else -1 with the reason (AR_EINPUT). */
int ar_patch_verify(jv card, const char *data, size_t len);

/* 0 when every file the patch touches (as git parses it, the parse that
 * git_apply uses) is a regular file below trainer/ or kernels/, with no
 * "..", "." or empty component; else -1 (AR_EINPUT) naming the path. A
 * patch that edits the Makefile, a script or a file through a link would
 * run code outside what a card may change. The empty patch is in scope. */
int ar_patch_scope_check(const char *text, size_t len);

/* The card (loaded) and its patch (read, verified): *card and *text owned
 * by the caller, also on failure. */
int ar_patch_load(const struct ar_kb *kb, const char *card_id, jv *card, char **text, size_t *len);

/* The patch's diff stat, git's format with a summary; malloc'd. */
char *ar_patch_diffstat(const char *text, size_t len);

/* 1 when running card's patch needs no consent: it is the local agent's
 * own card (ar_agent_name()), or AR_TRUST_PATCHES=1. */
int ar_patch_trusted(jv card);

/* Replaying a peer's patch is running its code: says so on stderr with the
 * diff stat ("what": "checkout applies", "this run trains") and returns
 * 0 when yes is set or the card is trusted; else -1 (AR_EINPUT) with the
 * refusal. For a trusted card without yes it says nothing. */
int ar_patch_consent(jv card, const char *text, size_t len, int yes, const char *what);

/* 1 when HEAD of the repository around project is the commit that
 * ar_patch_checkout made for card_id (the code here came from that card's
 * patch), 0 when not, -1 on error. */
int ar_patch_checked_out(const char *project, const char *card_id);

/* Creates branch (default "reproduce/<first 16 chars of id>") at the card's
 * upstream commit when this repository has it (else at HEAD, with a
 * warning), applies the card's patch to the work tree and index and commits
 * it with the card's hypothesis. The work tree must be clean under trainer/
 * and kernels/. Prints nothing; *branch_out gets the branch name. */
int ar_patch_checkout(const char *project, const struct ar_kb *kb, const char *card_id,
                      const char *branch, char branch_out[256]);

#endif

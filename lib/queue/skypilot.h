/* SkyPilot task YAML for a queue entry (ar-queue export --skypilot), written
 * with libyaml's emitter: a task that builds ar, prepares the data when it
 * is missing, gets the knowledge base from its git remote (knowledge/ is
 * gitignored, so SkyPilot does not upload it; env AR_KB_REMOTE), syncs it
 * (so a replication finds its card), runs ar-train with the entry's
 * overrides, hypothesis and category (or, for a replication, --verify CARD
 * --seed N), and pushes the card back through the remote with ar-sync. */
#ifndef AR_SKYPILOT_H
#define AR_SKYPILOT_H

#include <jv.h>

struct ar_buf;

/* 1 when gpu has the form NAME[:COUNT] (H100:1, A10G, L4:2). */
int ar_skypilot_gpu_valid(const char *gpu);

/* The task's name for an entry id: "ar-" and the id in lower case. */
void ar_skypilot_name(const char *id, char *out, size_t n);

/* Appends the task YAML for entry (borrowed) to out; gpu may be NULL (a
 * CPU task). Returns -1 (AR_EFAIL) when the emitter fails. */
int ar_skypilot_task(jv entry, const char *gpu, struct ar_buf *out);
/* The same with the knowledge base's remote URL (AR_KB_REMOTE of the task;
 * NULL or "": none, and the task stops before training unless its workdir
 * has knowledge/.git). */
int ar_skypilot_task_remote(jv entry, const char *gpu, const char *remote, struct ar_buf *out);

#endif

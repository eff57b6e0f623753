/* SkyPilot task YAML for a queue entry (ar-queue export --skypilot), written
 * with libyaml's emitter: a task that builds ar, prepares the data when it
 * is missing, syncs the knowledge base when it is a git repository (so a
 * replication finds its card and the new card reaches the peers), and runs
 * ar-train with the entry's overrides, hypothesis and category (or, for a
 * replication, --verify CARD --seed N). */
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

#endif

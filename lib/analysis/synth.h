/* Syntheses for people and agents (ar-synth): a session's report, and the
 * rolling meta-synthesis over all sessions, rendered from the statistics,
 * findings and coverage. Every output is a pure function of the facts:
 * no clocks, no host names, lists in a fixed order. */
#ifndef AR_SYNTH_H
#define AR_SYNTH_H

#include <jv.h>
#include <stddef.h>

#include "analysis/coverage.h"
#include "analysis/findings.h"
#include "analysis/stats.h"

#define AR_SYNTH_LIST_MAX 20   /* items per list in the markdown */
#define AR_SYNTH_DEAD_NULL 0.1 /* null-evidence claims below this certainty are dead ends */
#define AR_SYNTH_LESSON_MAX 4000 /* bytes of a lesson in the markdown (a note's whole text) */

/* synthesis/session-TAG.md for the cards of one session (st holds only
 * them): platform, counts, baseline and best, confirmed findings, dead
 * ends, crashes, open questions, and every card's lesson. malloc'd. */
char *ar_synth_session_md(const struct ar_kbstats *st, const struct ar_findings *f, const char *tag);

/* meta.md (malloc'd) and meta.json: key findings, platform-specific
 * findings, noise floor, best per key, coverage map, open questions,
 * certainty landscape; meta.md lists every card's lesson. */
char *ar_synth_meta_md(const struct ar_kbstats *st, const struct ar_findings *f, const struct ar_coverage *cov);
jv ar_synth_meta_json(const struct ar_kbstats *st, const struct ar_findings *f, const struct ar_coverage *cov);

/* The file name for a session's report: "session-TAG.md"; when TAG has a
 * byte outside [A-Za-z0-9_.-] (or starts with '.'), each such byte is
 * written as '_' and the first 8 hex digits of SHA-256(TAG) are appended,
 * "session-autoresearch_mar5-1a2b3c4d.md", so distinct tags never share a
 * file. */
const char *ar_synth_session_file(const char *tag, char *out, size_t size);

/* Writes data to path atomically unless path already holds exactly that
 * (idempotent runs touch nothing). *changed (may be NULL) says whether it
 * wrote. */
int ar_synth_write(const char *path, const char *data, size_t len, int *changed);

/* The claims by importance (|ar_claim_importance|, the strongest evidence
 * first: the 6-sigma win before the 2-sigma one, the 1000-sigma dead end
 * before a weak refutation), then certainty, then name; malloc'd. */
const struct ar_claim **ar_synth_by_importance(const struct ar_findings *f);

/* The rules the syntheses list claims by, for other readers (ar-brief):
 * a dead end is refuted, only crashed, or null below AR_SYNTH_DEAD_NULL;
 * the open questions are the sentences of meta.json's open_questions. */
int ar_synth_dead_end(const struct ar_claim *c);
jv ar_synth_open_questions(const struct ar_kbstats *st, const struct ar_findings *f,
                           const struct ar_coverage *cov);

#endif

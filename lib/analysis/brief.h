/* The brief: what an agent reads before planning its next experiment, in at
 * most a given number of bytes, as plain text or JSON (ar-brief).
 *
 * Sections, in order, each left out when empty:
 *   best            best so far per comparability key, its baseline, and how
 *                   its config differs from the baseline's
 *   noise           the noise floor σ per platform class
 *   warnings        a best within 2σ of its baseline, or resting on one run
 *   findings        the surest claims with evidence for them
 *   contradictions  claims confirmed on one class and refuted on another
 *   dead_ends       refuted or crashed changes (the syntheses' rule)
 *   recent          the last experiments
 *   queue           pending and claimed queue entries
 *   under_explored  categories and config keys with few experiments
 *   open_questions  the syntheses' open questions
 *
 * Fitting the budget: sections lose items from the end, lowest priority
 * first (open questions, then under-explored, recent, queue, ...), down to
 * one item each, then whole sections go; a section that lost items says
 * how many ("... 12 more"), and a last line names dropped sections. The
 * best section goes last. Retracted cards never count; crash cards are
 * never a val_bpb (lib/analysis/stats.h).
 *
 * Lessons: the best and recent items carry the lesson notes of their card
 * (the newest AR_BRIEF_LESSONS in the text, every one in --json), so they
 * come and go with the card's item within --max-bytes.
 *
 * Text from other agents (hypotheses, lessons, queue entries whose author
 * is not the local agent, ar_agent_name(): $AR_AGENT, else user@host) is
 * quoted data: [AGENT wrote] "..." with JSON
 * escapes (quotes, line breaks, controls, bidirectional and other
 * invisible format characters), cut with "(cut at N of M bytes)", and a
 * line under the summary saying it is data, not instructions; in --json
 * such fields are cut to AR_BRIEF_QUOTE_MAX bytes (FIELD_cut: {at, of})
 * beside "agent" and "quoted": true. */
#ifndef AR_BRIEF_H
#define AR_BRIEF_H

#include <jv.h>
#include <stddef.h>

#include "analysis/coverage.h"
#include "analysis/findings.h"
#include "facts/kb.h"
#include "analysis/stats.h"

#define AR_BRIEF_MAX_BYTES 4096
#define AR_BRIEF_MIN_BYTES 256
#define AR_BRIEF_RECENT 5
#define AR_BRIEF_HYPOTHESIS_MAX 90   /* bytes of a hypothesis in the text */
#define AR_BRIEF_LESSON_MAX 240      /* bytes of a lesson in the text */
#define AR_BRIEF_LESSONS 3           /* lessons per card in the text (the newest) */
#define AR_BRIEF_QUOTE_MAX 300       /* bytes of another agent's text in --json */

struct ar_brief_in {
    const struct ar_kb *kb;          /* reads the best and baseline cards' configs; may be NULL */
    const struct ar_kbstats *st;
    const struct ar_findings *f;
    const struct ar_coverage *cov;
    jv queue;                        /* queue entries (borrowed), or jv_invalid() for none */
    const char *scope;               /* the filters, for the summary line; may be NULL */
    int recent;                      /* experiments in the recent section */
};

struct ar_brief;

struct ar_brief *ar_brief_build(const struct ar_brief_in *in);
void ar_brief_free(struct ar_brief *b);

/* The queue section alone, replaced from entries (borrowed; jv_invalid()
 * for none): a saved brief is reused while the cards are unchanged, but
 * the queue moves on its own. */
void ar_brief_set_queue(struct ar_brief *b, jv queue);

/* The whole brief as JSON, every item kept, and back: ar-brief keeps the
 * last one under the index's state so that asking again without new facts
 * costs a file read. ar_brief_restore returns NULL for a value it did not
 * write, and for one built for another local agent (whose text it quoted
 * differently). */
jv ar_brief_save(const struct ar_brief *b);
struct ar_brief *ar_brief_restore(jv saved);

/* Plain text of at most max_bytes (malloc'd). */
char *ar_brief_text(struct ar_brief *b, size_t max_bytes);
/* {"schema":"ar.brief/1","summary":{...},"best":[...],...,"omitted":{...}}
 * whose compact form is at most max_bytes. */
jv ar_brief_json(struct ar_brief *b, size_t max_bytes);

#endif

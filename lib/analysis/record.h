/* `ar-card record`: one finished run's log -> a stored card. The log's
 * summary block (after its last `---` line that a metric follows: train.py's val_bpb,
 * training_seconds, total_seconds, peak_vram_mb, mfu_percent,
 * total_tokens_M, num_steps, num_params_M, depth, or ar-train's), the
 * commit, parent and subject from git, `changes` from the commit's diff of
 * the trainer (train.py's module-level constants through the key
 * vocabulary, or ar's trainer/config.yaml), the platform detected (GPU
 * class from nvidia-smi, Apple Silicon, else the CPU), and the status from
 * the keep rule (analysis/verdict.h) against the session's best on the
 * same comparability key. A log without val_bpb is a crash card whose
 * reason is the log's last lines. Code changes that are not constants are
 * kept as the card's patch (facts/patch.h) and named in extra.code.
 * Everything is checked before anything is stored. */
#ifndef AR_ANALYSIS_RECORD_H
#define AR_ANALYSIS_RECORD_H

#include <jv.h>
#include <stddef.h>

#include "facts/kb.h"

struct ar_record_opts {
    const char *log;          /* path of the log; NULL or "-": stdin */
    const char *log_text;     /* or the log itself (log_len bytes), which wins */
    size_t log_len;
    const char *repo;         /* a path inside the fork's git repository; NULL: "." */
    const char *platform;     /* a plain class, any case ("H100"); NULL: detected */
    const char *session;      /* NULL: $AR_SESSION, else TAG of branch autoresearch/TAG */
    const char *agent;        /* NULL: $AR_AGENT, else user@host */
    const char *data;         /* the data set's name (comparability key); NULL: none */
    double budget_s;          /* > 0: the budget; 0: the log's ("Time budget: 300s"), else 300 */
    const char *hypothesis;   /* NULL: the commit's subject */
    const char *tsv;          /* NULL, or a results.tsv to append the run's row to */
};

#define AR_RECORD_EXISTS 1

/* Records the run of o's log into kb (its directories are created, with
 * their parents, once the log and the commit are known good). 0: stored, *card_out the stored card;
 * AR_RECORD_EXISTS: the log is ar-train's and names the card ar-train
 * recorded (nothing stored; *card_out that card); -1: failed, nothing
 * stored (AR_EINPUT for a bad log or option, naming it; AR_EFAIL for I/O),
 * *card_out jv_invalid(). */
int ar_record_log(const struct ar_kb *kb, const struct ar_record_opts *o, jv *card_out);

/* The summary block of a log as the card's metrics: {val_bpb, ...} with
 * peak_vram_mb read as peak_mem_mb. Exposed for tests. 0, or -1
 * (AR_EINPUT "what:LINE: ...") for a value that is not a number. */
int ar_record_parse_metrics(const char *text, size_t len, const char *what, jv *metrics);

#endif

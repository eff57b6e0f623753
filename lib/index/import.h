/* Importing results from the Python autoresearch world, and exporting them
 * back:
 *
 * - results.tsv of autoresearch (lib/index/import_tsv.c): a header line of
 *   tab-separated column names and one row per experiment. Columns are
 *   matched by name (commit, val_bpb, memory_gb, status, description, and
 *   extras such as timestamp, peak_vram_mb, mfu, steps, which become
 *   metrics); the metric must be val_bpb.
 * - cards of autoresearch-commons (knowledge/cards/NAME.json,
 *   lib/index/import_commons.c): {id, timestamp, platform {gpu, ram_gb,
 *   framework}, parent_commit, hypothesis, config_diff, results {val_bpb,
 *   delta, ...}, status, lesson, tags, prior_knowledge_used,
 *   retraction_reason?}.
 *
 * Every row or card is converted and validated before anything is stored,
 * and a file's cards are stored as one batch (lib/index/store.h
 * ar_store_card_batch). A row or card that does not convert is reported
 * ("FILE:LINE: why" on stderr) and skipped, never guessed; a file whose
 * every row is rejected is AR_EINPUT. Re-importing is harmless: a commit
 * already in the knowledge base (results.tsv) or an identical card is
 * skipped. */
#ifndef AR_IMPORT_H
#define AR_IMPORT_H

#include <jv.h>
#include <stdio.h>

#include "facts/kb.h"
#include "index/query.h"

struct ar_import_opts {
    const char *platform;   /* platform class (any case); required for results.tsv */
    const char *session;    /* session tag; NULL: from the file name, or the repository */
    const char *category;   /* category when the source gives none (default other) */
    const char *format;     /* "tsv" or "commons"; NULL: from each file (ar_import_path) */
    const char *agent;      /* agent of the cards; NULL: $AR_AGENT or user@host */
    const char *data;       /* data set name: data.fingerprint, part of the comparability key */
    const char *repo;       /* the fork's git repository: commit times, train.py diffs */
    double budget_s;        /* time budget of the runs; 0: 300 (autoresearch's) */
};

struct ar_import_stats {
    int imported, existing, skipped, notes;
    int structured, free_text;   /* rows whose meaning became changes, and the others */
    int collect;                 /* set by the caller: keep the two lists below */
    jv free_rows;                /* [{file, line, description}] of the free-text rows, or invalid */
    jv files;                    /* [{file, rows, session, baseline, best, best_delta}] per results.tsv,
                                  * or invalid */
};

/* Frees what st holds (free_rows, files, when st->collect was set); a
 * zeroed struct without collect holds nothing. */
void ar_import_stats_free(struct ar_import_stats *st);

/* The results.tsv budget when o->budget_s is 0. */
#define AR_IMPORT_BUDGET_S 300

/* Imports one results.tsv. A file that is not a results.tsv at all (no
 * header, a metric other than val_bpb) is AR_EINPUT and imports nothing. */
int ar_import_tsv(const struct ar_kb *kb, const char *path, const struct ar_import_opts *o,
                  struct ar_import_stats *st);

/* Imports autoresearch-commons cards: a file, or every *.json in a
 * directory. Lessons become lesson notes and retractions retract notes. A
 * file given by name that is not a JSON object (a CSV, a results.tsv
 * without its header) is AR_EINPUT. */
int ar_import_commons(const struct ar_kb *kb, const char *path, const struct ar_import_opts *o,
                      struct ar_import_stats *st);

/* The checks before an import stores anything (lib/index/import_files.c):
 * the format is tsv or commons, the category one of the card categories,
 * the session a valid session tag, the platform a class, the budget
 * positive, the repository a directory, and every path readable. AR_EINPUT
 * naming the option or path otherwise. */
int ar_import_check(const struct ar_import_opts *o, char **paths, int n);

/* The platform class of o->platform in lower case into out (64 bytes):
 * 0, or AR_EINPUT naming --platform when it is not a class. */
int ar_import_platform(const char *given, char out[65]);

/* Imports one path as o->format says, or when that is NULL as results.tsv
 * when it is a file named *.tsv or whose first line has a tab and a
 * val_bpb-like column, else as autoresearch-commons cards. */
int ar_import_path(const struct ar_kb *kb, const char *path, const struct ar_import_opts *o,
                   struct ar_import_stats *st);

/* Writes the cards that pass f (retracted ones left out) as results.tsv,
 * in id order: commit (7 hex), val_bpb (%.6f, 0 on crash), memory_gb,
 * status (keep, discard or crash) and the hypothesis' first line. */
int ar_export_tsv(const struct ar_kb *kb, const struct ar_filter *f, FILE *out);

#endif
